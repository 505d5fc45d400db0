//! The effect ports `custodian-core` only declares: the system [`Clock`], the OS [`Rng`], and the
//! [`Notifier`] (structured log, plus an optional outgoing webhook through `custodian-http`).

use std::fmt;

use async_trait::async_trait;
use custodian_core::ports::{Clock, Notification, Notifier, NotifyError, Rng};
use custodian_http::{HttpClient, HttpConfig, Request, Url, redact_url};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::RuntimeError;

/// UTC now from the operating system.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// The operating system's cryptographically secure generator (`getrandom`).
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRng;

impl Rng for OsRng {
    fn fill(&self, buf: &mut [u8]) {
        if let Err(error) = getrandom::getrandom(buf) {
            // The port's contract: never hand out predictable bytes. Without OS randomness no token, key or
            // nonce can be made safely, so the process stops here.
            tracing::error!(error = %error, "the operating system random generator failed: aborting");
            std::process::abort();
        }
    }
}

/// Alerts and incident notifications: always a structured `warn` event, and a JSON `POST` to the
/// configured webhook when there is one (MON-1, INC-1).
pub struct SystemNotifier {
    webhook: Option<Webhook>,
}

struct Webhook {
    client: HttpClient,
    url: Url,
}

impl fmt::Debug for SystemNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The webhook URL may carry a token in its query: only its redacted form is shown.
        f.debug_struct("SystemNotifier")
            .field("webhook", &self.webhook.as_ref().map(|w| redact_url(&w.url)))
            .finish()
    }
}

impl SystemNotifier {
    /// Log only.
    pub fn log_only() -> Self {
        Self { webhook: None }
    }

    /// Log, and post to `url` (TLS-1: https, or plain http to loopback when `allow_plain_loopback`).
    pub fn with_webhook(url: &str, allow_plain_loopback: bool) -> Result<Self, RuntimeError> {
        let client = HttpClient::new(HttpConfig { allow_plain_loopback, ..HttpConfig::default() })
            .map_err(|e| RuntimeError::component("notifier", e))?;
        let url = client.check_url(url).map_err(|e| RuntimeError::component("notifier", e))?;
        Ok(Self { webhook: Some(Webhook { client, url }) })
    }
}

/// The JSON a webhook receives. Notifications carry no secrets and no record contents by construction.
fn payload(notification: &Notification) -> Value {
    let ts = |at: OffsetDateTime| at.format(&Rfc3339).unwrap_or_default();
    match notification {
        Notification::Alert(alert) => json!({
            "type": "alert",
            "kind": alert.kind.to_string(),
            "severity": alert.severity.to_string(),
            "subject": alert.subject,
            "detail": alert.detail,
            "at": ts(alert.at),
        }),
        Notification::Incident { incident, recipient, due_at, summary } => json!({
            "type": "incident",
            "incident": incident.to_string(),
            "recipient": recipient.to_string(),
            "due_at": ts(*due_at),
            "summary": summary,
        }),
    }
}

#[async_trait]
impl Notifier for SystemNotifier {
    async fn notify(&self, notification: &Notification) -> Result<(), NotifyError> {
        match notification {
            Notification::Alert(alert) => tracing::warn!(
                kind = %alert.kind,
                severity = %alert.severity,
                subject = %alert.subject,
                detail = %alert.detail,
                "alert"
            ),
            Notification::Incident { incident, recipient, due_at, .. } => tracing::warn!(
                incident = %incident,
                recipient = %recipient,
                due_at = %due_at,
                "incident notification due"
            ),
        }
        let Some(webhook) = &self.webhook else { return Ok(()) };
        let request = Request::post(webhook.url.clone()).json(&payload(notification)).idempotent(false);
        let response =
            webhook.client.send(request).await.map_err(|e| NotifyError::Unavailable(Box::new(e)))?;
        match response.status {
            200..=299 => Ok(()),
            status @ (408 | 429 | 500..=599) => Err(NotifyError::Unavailable(Box::new(
                std::io::Error::other(format!("webhook answered {status}")),
            ))),
            status => Err(NotifyError::Rejected(format!("webhook answered {status}"))),
        }
    }
}
