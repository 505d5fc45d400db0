//! No secret reaches logs, errors or Debug output: a subscriber captures every tracing event (TRACE level)
//! while the contract suites and a few more calls run, and the capture is searched for every secret used.

use std::io;
use std::sync::{Arc, Mutex};

use custodian_core::ports::{KeyManager, KeyScope, SecretStore};
use custodian_keystore::{KeystoreOptions, MasterKey};
use custodian_testkit::contract;
use custodian_testkit::fixtures;
use futures::executor::block_on;
use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::support::{self, MASTER, MASTER_B64, PASSPHRASE, TempDir};

/// Where the captured log lines go.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

const ACCESS: &str = "access-token-that-must-never-be-logged";
const REFRESH: &str = "refresh-token-that-must-never-be-logged";

#[test]
fn no_secret_appears_in_the_logs_of_a_whole_run() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);

    let dir = TempDir::new("redaction");
    let (ks, _) = support::create(&dir.file());
    block_on(contract::secret_store(&ks, "logs")).unwrap();
    block_on(contract::key_manager(&ks, "logs")).unwrap();
    let tenant = "tenant-logs".parse().unwrap();
    let grant = "grant-logs".parse().unwrap();
    let creds = fixtures::credentials(ACCESS, REFRESH);
    block_on(ks.put(&tenant, &grant, &creds, None)).unwrap();
    let (read, _) = block_on(ks.get(&tenant, &grant)).unwrap();
    let key = block_on(ks.current_key(&KeyScope::grant(&tenant, &grant))).unwrap();
    let master = MasterKey::from_base64(&SecretString::from(MASTER_B64)).unwrap();
    tracing::info!(?ks, ?read, ?key, ?master, "debug output of every secret-holding type");
    drop(ks);
    let wrong = support::open_with(&dir.file(), support::passphrase()).unwrap_err();
    tracing::warn!(error = %wrong, "an error");
    let wrong = support::open_with(&dir.file(), MasterKey::from_bytes(Zeroizing::new([1; 32]))).unwrap_err();
    tracing::warn!(error = %wrong, "an error");
    let dir = TempDir::new("redaction-passphrase");
    let ks = support::create_with(&dir.file(), support::passphrase(), Default::default());
    block_on(ks.put(&tenant, &grant, &creds, None)).unwrap();
    drop(guard);

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("keystore written") && logs.contains("key scope crypto-shredded"), "{logs}");
    let master_text = String::from_utf8(MASTER.to_vec()).unwrap();
    for secret in [ACCESS, REFRESH, MASTER_B64, &master_text, PASSPHRASE, "-access", "-refresh", "-rotated"] {
        assert!(!logs.contains(secret), "`{secret}` appears in the logs");
    }
}

#[test]
fn debug_output_redacts_every_secret() {
    let from_bytes = MasterKey::from_bytes(Zeroizing::new(MASTER));
    let from_passphrase = MasterKey::from_passphrase(SecretString::from(PASSPHRASE)).unwrap();
    let dir = TempDir::new("debug");
    let (ks, _) = support::create(&dir.file());
    block_on(ks.put(
        &"t-1".parse().unwrap(),
        &"g-1".parse().unwrap(),
        &fixtures::credentials(ACCESS, REFRESH),
        None,
    ))
    .unwrap();
    let text = format!("{from_bytes:?} {from_passphrase:?} {ks:?} {:?}", KeystoreOptions::default());
    let master_text = String::from_utf8(MASTER.to_vec()).unwrap();
    for secret in [&master_text, PASSPHRASE, ACCESS, REFRESH] {
        assert!(!text.contains(secret), "`{secret}` in {text}");
    }
    assert!(text.contains("MasterKey { kind: \"key\", .. }"), "{text}");
}
