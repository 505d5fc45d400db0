//! Every custodian-testkit store contract suite passes, in memory and on a file, twice on the same
//! backend (so the suites also run on a shared, non-empty store).

use custodian_testkit::contract::{self, Setup};

use crate::support::{FileStore, memory};

#[tokio::test]
async fn every_store_suite_passes_in_memory() {
    let (s, _clock) = memory().await;
    for run in ["run-1", "run-2"] {
        contract::tenant_store(&s, &s, run).await.unwrap();
        contract::grant_store(&s, &s, &s, run).await.unwrap();
        contract::dataset_store(&s, &s, Setup::of(&s), run).await.unwrap();
        contract::audit_log(&s, run).await.unwrap();
        contract::personnel_store(&s, &s, run).await.unwrap();
        contract::case_store(&s, &s, Setup::of(&s), run).await.unwrap();
        contract::job_queue(&s, run).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_store_suite_passes_on_a_file() {
    let f = FileStore::new().await;
    contract::all_stores(&f.store, "file-1").await.unwrap();
    contract::all_stores(&f.store, "file-2").await.unwrap();
}
