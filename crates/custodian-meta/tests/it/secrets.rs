//! SEC-1: no token, app secret, code, proof or signature reaches `Debug` output or logs.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use custodian_core::data::ReportLevel;
use custodian_core::ports::{
    Authorizer as _, RawSignal, ReportQuery, ReportingSource as _, SignalVerifier as _,
};
use custodian_meta::{MetaConfig, appsecret_proof};
use custodian_sim::meta::{APP_SECRET, REDIRECT_URI, USER_ID};
use secrecy::{ExposeSecret as _, SecretString};
use time::macros::date;

use crate::common::{Env, adapter_config, target};

#[tokio::test]
async fn debug_output_redacts_the_app_secret() {
    let env = Env::default().await;
    let config: MetaConfig = adapter_config(&env.running);
    for text in [format!("{config:?}"), format!("{:?}", env.adapter)] {
        assert!(!text.contains(APP_SECRET), "{text}");
        assert!(text.contains("REDACTED"), "{text}");
    }
}

/// A `MakeWriter` collecting everything logged.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// The process-wide capture: a global subscriber at TRACE (a scoped one would miss callsites that other
/// tests, running in parallel, hit first). It sees every test's logs, which only strengthens the check.
fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = Capture::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(capture.clone())
            .with_ansi(false)
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        capture
    })
}

#[tokio::test]
async fn sec_1_logs_of_a_full_exchange_and_sync_hold_no_secret() {
    let capture = capture();

    let env = Env::default().await;
    let code = env.sim().issue_code(&["ads_read"], REDIRECT_URI);
    let credentials = env.adapter.exchange(&SecretString::from(code.clone()), REDIRECT_URI).await.unwrap();
    env.adapter.validate(&credentials, env.now()).await.unwrap();
    env.adapter.campaigns(&target(0), &credentials, None).await.unwrap();
    let query =
        ReportQuery { level: ReportLevel::Ad, from: date!(2025 - 01 - 01), to: date!(2025 - 01 - 02) };
    let page = env.adapter.report_rows(&target(0), &credentials, &query, None).await.unwrap();
    env.adapter.report_rows(&target(0), &credentials, &query, page.next).await.unwrap();
    let revoked = env.credentials(&["ads_read"]);
    env.sim().revoke_token(revoked.access_token.expose_secret(), custodian_sim::meta::Revocation::AppRemoved);
    assert!(env.adapter.validate(&revoked, env.now()).await.is_err());
    let signed = env.sim().signed_request_for(USER_ID, true);
    let raw = RawSignal {
        method: "POST".to_owned(),
        path: "/signals/meta/data-deletion".to_owned(),
        query: Vec::new(),
        headers: Vec::new(),
        body: format!("signed_request={signed}x").into_bytes(),
        received_at: env.now(),
    };
    assert!(env.adapter.verify(&raw).await.is_err(), "a tampered request is rejected and logged");

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("http request"), "the capture works: {logs}");
    assert!(logs.contains("signal rejected"), "{logs}");
    let token = credentials.access_token.expose_secret();
    let secrets = [
        APP_SECRET.to_owned(),
        token.to_owned(),
        revoked.access_token.expose_secret().to_owned(),
        code,
        appsecret_proof(&SecretString::from(APP_SECRET), &credentials.access_token),
        signed.split_once('.').unwrap().0.to_owned(),
    ];
    for secret in secrets {
        assert!(!logs.contains(&secret), "a secret value appears in the logs");
    }
}
