//! SEC-1: a full exchange, validation, sync, change and refused call with every log level on leaves no
//! token, app secret or auth code in the logs (the simulator's logs included).

use std::io::Write;
use std::sync::{Arc, Mutex};

use custodian_core::approval::{ChangeDiff, ChangeField, ChangeValue, FieldChange};
use custodian_core::data::{CampaignId, CampaignStatus, ReportLevel};
use custodian_core::ports::{Authorizer, CampaignControl, ReportQuery, ReportingSource};
use custodian_sim::tiktok::{ADVERTISER_1, APP_SECRET, REDIRECT_URI};
use secrecy::{ExposeSecret as _, SecretString};
use time::OffsetDateTime;
use tracing_subscriber::fmt::MakeWriter;

use crate::env::{Env, days_ago, target};

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

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn no_secret_reaches_the_logs() {
    let _ = tracing_log::LogTracer::init();
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // Other tests of this binary may have registered the same callsites concurrently, with no subscriber
    // interested yet: ask every callsite again now that this one exists.
    tracing::callsite::rebuild_interest_cache();

    let env = Env::unlimited().await;
    let adapter = env.adapter();
    let code = env.sim().issue_auth_code();
    let credentials = adapter.exchange(&SecretString::from(code.clone()), REDIRECT_URI).await.unwrap();
    let token = credentials.access_token.expose_secret().to_owned();
    adapter.validate(&credentials, OffsetDateTime::now_utc()).await.unwrap();
    let target = target(ADVERTISER_1);
    adapter.campaigns(&target, &credentials, None).await.unwrap();
    let query = ReportQuery { level: ReportLevel::Ad, from: days_ago(3), to: days_ago(1) };
    adapter.report_rows(&target, &credentials, &query, None).await.unwrap();
    let campaign = CampaignId::new(env.sim().campaign_id(ADVERTISER_1, 0).unwrap()).unwrap();
    let change = FieldChange::new(ChangeField::DailyBudget, None, ChangeValue::Micros(61_000_000)).unwrap();
    let status =
        FieldChange::new(ChangeField::Status, None, ChangeValue::Status(CampaignStatus::Paused)).unwrap();
    let diff = ChangeDiff::new(target.account.clone(), campaign.clone(), vec![status, change]).unwrap();
    adapter.apply(&target, &credentials, &diff).await.unwrap();
    adapter.read_back(&target, &credentials, &campaign).await.unwrap();
    assert!(env.sim().revoke_token(&token));
    let refused = adapter.campaigns(&target, &credentials, None).await;
    let message = refused.unwrap_err().to_string();

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("tiktok"), "the calls were logged: {logs}");
    assert!(
        logs.contains("oauth2/advertiser/get/?app_id=") && logs.contains("REDACTED"),
        "the validation URL, which carries the app secret, was logged redacted: {logs}"
    );
    for (name, secret) in
        [("token", token.as_str()), ("app secret", APP_SECRET), ("auth code", code.as_str())]
    {
        assert!(!logs.contains(secret), "the {name} is in the logs");
        assert!(!message.contains(secret), "the {name} is in the error");
        assert!(!format!("{credentials:?}").contains(secret), "the {name} is in the credentials' Debug");
    }
}
