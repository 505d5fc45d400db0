//! The `SecretStore` and `KeyManager` contract suites, on a fresh keystore, again on the same keystore, and
//! after reopening it from disk; sealed with a key and with a passphrase.

use custodian_core::data::{SealContext, open, seal};
use custodian_core::ports::{KeyManager, KeyScope, SecretStore};
use custodian_testkit::contract;
use custodian_testkit::fakes::SeededRng;
use custodian_testkit::fixtures;
use futures::executor::block_on;

use crate::support::{self, TempDir};

#[test]
fn contract_suites_pass_and_survive_a_reopen() {
    let dir = TempDir::new("contract");
    let (ks, _) = support::create(&dir.file());
    for run in ["run-1", "run-2"] {
        block_on(contract::secret_store(&ks, run)).unwrap();
        block_on(contract::key_manager(&ks, run)).unwrap();
    }
    drop(ks);
    let ks = support::open_with(&dir.file(), support::master()).unwrap();
    block_on(contract::secret_store(&ks, "run-3")).unwrap();
    block_on(contract::key_manager(&ks, "run-3")).unwrap();
}

#[test]
fn contract_suites_pass_on_a_passphrase_sealed_keystore() {
    let dir = TempDir::new("contract-passphrase");
    let ks = support::create_with(&dir.file(), support::passphrase(), Default::default());
    block_on(contract::secret_store(&ks, "run-1")).unwrap();
    block_on(contract::key_manager(&ks, "run-1")).unwrap();
    drop(ks);
    let ks = support::open_with(&dir.file(), support::passphrase()).unwrap();
    block_on(contract::key_manager(&ks, "run-2")).unwrap();
}

#[test]
fn credentials_and_keys_survive_a_reopen() {
    let dir = TempDir::new("reopen");
    let (ks, _) = support::create(&dir.file());
    let tenant = "tenant-1".parse().unwrap();
    let grant = "grant-1".parse().unwrap();
    let scope = KeyScope::grant(&tenant, &grant);
    let creds = fixtures::credentials("access-reopen", "refresh-reopen");
    let version = block_on(ks.put(&tenant, &grant, &creds, None)).unwrap();
    let key = block_on(ks.current_key(&scope)).unwrap();
    let ctx = SealContext::new(&tenant, "order", "o-1");
    let sealed = seal(&key, &ctx, &fixtures::buyer_pii(1), &SeededRng::new(3)).unwrap();
    drop(ks);

    let ks = support::open_with(&dir.file(), support::master()).unwrap();
    let (read, read_version) = block_on(ks.get(&tenant, &grant)).unwrap();
    assert!(read.same_tokens(&creds) && read_version == version);
    let key = block_on(ks.current_key(&scope)).unwrap();
    assert!(open(&key, &ctx, &sealed).unwrap() == fixtures::buyer_pii(1));
}
