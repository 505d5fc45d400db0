//! Every store contract suite of custodian-testkit passes against the Postgres store, twice on the same
//! database (the suites run on a shared, non-empty backend).

use custodian_testkit::contract::{self, Setup};

use crate::{TestDb, run_id};

#[tokio::test]
async fn tenant_store_contract() {
    let db = TestDb::new().await;
    let s = &db.store;
    for _ in 0..2 {
        contract::tenant_store(s, s, &run_id("tenants")).await.unwrap();
    }
}

#[tokio::test]
async fn grant_store_contract() {
    let db = TestDb::new().await;
    let s = &db.store;
    for _ in 0..2 {
        contract::grant_store(s, s, s, &run_id("grants")).await.unwrap();
    }
}

#[tokio::test]
async fn dataset_store_contract() {
    let db = TestDb::new().await;
    let s = &db.store;
    for _ in 0..2 {
        contract::dataset_store(s, s, Setup::of(s), &run_id("dataset")).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_log_contract() {
    let db = TestDb::new().await;
    let s = &db.store;
    for _ in 0..2 {
        contract::audit_log(s, &run_id("audit")).await.unwrap();
    }
}

#[tokio::test]
async fn personnel_store_contract() {
    let db = TestDb::new().await;
    let s = &db.store;
    for _ in 0..2 {
        contract::personnel_store(s, s, &run_id("personnel")).await.unwrap();
    }
}

#[tokio::test]
async fn case_store_contract() {
    let db = TestDb::new().await;
    let s = &db.store;
    for _ in 0..2 {
        contract::case_store(s, s, Setup::of(s), &run_id("cases")).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_queue_contract() {
    let db = TestDb::new().await;
    let s = &db.store;
    for _ in 0..2 {
        contract::job_queue(s, &run_id("jobs")).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_stores_contract() {
    let db = TestDb::new().await;
    contract::all_stores(&db.store, &run_id("all")).await.unwrap();
}
