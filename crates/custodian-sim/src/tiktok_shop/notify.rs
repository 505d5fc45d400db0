//! Webhook notifications (reference §1.3): the documented JSON, signed with the `Authorization` header
//! (lowercase hex HMAC-SHA256, key: app secret, over app key + raw body), POSTed to the configured URL.

use std::sync::atomic::Ordering;

use custodian_http::{HttpClient, HttpConfig, HttpError, Request};
use serde::Serialize;

use super::TikTokShopSim;
use super::sign::sign_webhook;
use crate::seed;

/// The notification types the simulator sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationKind {
    /// Type 6: the seller deauthorized the app.
    SellerDeauthorization,
    /// Type 7: the authorization expires in `days` days.
    UpcomingAuthorizationExpiration { days: u32 },
}

impl NotificationKind {
    /// The numeric `type` of the envelope.
    pub fn type_code(self) -> u32 {
        match self {
            Self::SellerDeauthorization => 6,
            Self::UpcomingAuthorizationExpiration { .. } => 7,
        }
    }
}

/// A notification as it goes on the wire: the raw body and its `Authorization` header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNotification {
    pub body: Vec<u8>,
    pub authorization: String,
    /// The `tts_notification_id` inside the body.
    pub id: String,
}

/// Why a notification was not delivered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    #[error("no webhook url is configured")]
    NoWebhookUrl,
    #[error("unknown shop `{0}`")]
    UnknownShop(String),
    #[error("the webhook could not be delivered")]
    Http(#[source] HttpError),
}

#[derive(Serialize)]
struct Notification<'a, D: Serialize> {
    #[serde(rename = "type")]
    kind: u32,
    tts_notification_id: &'a str,
    shop_id: &'a str,
    timestamp: i64,
    data: D,
}

#[derive(Serialize)]
struct Deauthorized {
    message: String,
}

#[derive(Serialize)]
struct Expiring {
    message: String,
    expiration_time: i64,
}

impl TikTokShopSim {
    /// The signed notification of `kind` about `shop_id`, stamped with the simulator's clock; `None` for an
    /// unknown shop.
    pub fn notification(&self, kind: NotificationKind, shop_id: &str) -> Option<SignedNotification> {
        self.config.shop_by_id(shop_id)?;
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        let id = (7_327_000_000_000_000_000
            + seed::value(self.ctx.seed, &[seed::text("tts-notification"), n]) % 1_000_000_000_000_000)
            .to_string();
        let now = self.ctx.clock.now_unix();
        let body = match kind {
            NotificationKind::SellerDeauthorization => serde_json::to_vec(&Notification {
                kind: kind.type_code(),
                tts_notification_id: &id,
                shop_id,
                timestamp: now,
                data: Deauthorized { message: format!("Shop_id {shop_id} is deauthorized from your APP by merchant.") },
            }),
            NotificationKind::UpcomingAuthorizationExpiration { days } => serde_json::to_vec(&Notification {
                kind: kind.type_code(),
                tts_notification_id: &id,
                shop_id,
                timestamp: now,
                data: Expiring {
                    message: format!(
                        "Authorization of shop_id {shop_id} is expiring in {days} days, please re-authorize in time."
                    ),
                    expiration_time: now + i64::from(days) * 86_400,
                },
            }),
        }
        .ok()?;
        let authorization = sign_webhook(&self.config.app_key, &self.config.app_secret, &body);
        Some(SignedNotification { body, authorization, id })
    }

    /// POSTs the notification of `kind` about `shop_id` to the configured webhook URL and returns the
    /// receiver's HTTP status.
    pub async fn send_notification(&self, kind: NotificationKind, shop_id: &str) -> Result<u16, NotifyError> {
        let url = self.config.webhook_url.as_deref().ok_or(NotifyError::NoWebhookUrl)?;
        let notification =
            self.notification(kind, shop_id).ok_or_else(|| NotifyError::UnknownShop(shop_id.to_owned()))?;
        let client = HttpClient::new(HttpConfig { allow_plain_loopback: true, ..HttpConfig::default() })
            .map_err(NotifyError::Http)?;
        let url = client.check_url(url).map_err(NotifyError::Http)?;
        let request = Request::post(url)
            .body(notification.body, "application/json")
            .header("authorization", &notification.authorization);
        let response = client.send(request).await.map_err(NotifyError::Http)?;
        Ok(response.status)
    }
}
