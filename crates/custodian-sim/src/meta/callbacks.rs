//! The deauthorize and data-deletion callbacks (ads-apis.md §1.5): Meta POSTs the form field
//! `signed_request=<signature>.<payload>` to the URLs configured in the App Dashboard, where the payload is
//! base64url JSON `{"user_id","algorithm":"HMAC-SHA256","issued_at"[,"expires"]}` and the signature is the
//! base64url HMAC-SHA256 of the payload segment under the app secret. The data-deletion callback must answer
//! `{"url": "…", "confirmation_code": "…"}`; the simulator records what it got.

use custodian_http::{HttpClient, HttpConfig, Request};
use serde_json::{Value, json};

use super::params::hmac_sha256;
use super::{MetaSim, Revocation};

/// A `signed_request` value: `base64url(HMAC-SHA256(app_secret, payload_segment)) . payload_segment`, with
/// `payload_segment = base64url(payload_json)`, unpadded as Meta sends it, or with `=` padding (seen in the
/// wild, §4.3).
pub fn signed_request(app_secret: &str, payload_json: &str, padded: bool) -> String {
    let encoding = if padded { &data_encoding::BASE64URL } else { &data_encoding::BASE64URL_NOPAD };
    let payload = encoding.encode(payload_json.as_bytes());
    let signature = encoding.encode(&hmac_sha256(app_secret.as_bytes(), payload.as_bytes()));
    format!("{signature}.{payload}")
}

/// What the app answered to a data-deletion callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletionAnswer {
    pub user_id: String,
    pub status: u16,
    pub url: String,
    pub confirmation_code: String,
}

/// Why a callback could not be delivered or was answered wrongly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    #[error("no {0} callback url is configured")]
    NotConfigured(&'static str),
    #[error("the callback could not be delivered")]
    Http(#[source] custodian_http::HttpError),
    #[error("the callback answered http {status}")]
    Refused { status: u16 },
    #[error("the data deletion callback did not answer with `url` and `confirmation_code`")]
    BadAnswer { status: u16 },
}

impl MetaSim {
    /// The `signed_request` Meta would send about `user_id`: a deauthorize payload, or a data-deletion
    /// payload (with `expires` an hour after `issued_at`).
    pub fn signed_request_for(&self, user_id: &str, deletion: bool) -> String {
        let issued_at = self.ctx.clock.now_unix();
        let mut payload = json!({ "user_id": user_id, "algorithm": "HMAC-SHA256", "issued_at": issued_at });
        if deletion {
            payload["expires"] = json!(issued_at + 3600);
        }
        signed_request(&self.config.app_secret, &payload.to_string(), false)
    }

    async fn post_signed(&self, url: &str, signed: &str) -> Result<custodian_http::Response, CallbackError> {
        let client = HttpClient::new(HttpConfig { allow_plain_loopback: true, ..HttpConfig::default() })
            .map_err(CallbackError::Http)?;
        let url = client.check_url(url).map_err(CallbackError::Http)?;
        let request = Request::post(url).form(&[("signed_request", signed)]);
        client.send(request).await.map_err(CallbackError::Http)
    }

    /// The user removed the app: every authorization of `user_id` is revoked (190/458) and Meta POSTs the
    /// signed request to the Deauthorize Callback URL. Returns the HTTP status the app answered.
    pub async fn send_deauthorize(&self, user_id: &str) -> Result<u16, CallbackError> {
        let url = self.config.deauthorize_url.clone().ok_or(CallbackError::NotConfigured("deauthorize"))?;
        self.revoke_user(user_id, Revocation::AppRemoved);
        let signed = self.signed_request_for(user_id, false);
        let response = self.post_signed(&url, &signed).await?;
        if !response.is_success() {
            return Err(CallbackError::Refused { status: response.status });
        }
        Ok(response.status)
    }

    /// The user asked for deletion: their authorizations are revoked and Meta POSTs the signed request to
    /// the Data Deletion Request Callback URL, expecting `{"url", "confirmation_code"}` (recorded in
    /// [`MetaSim::deletion_answers`]).
    pub async fn send_data_deletion(&self, user_id: &str) -> Result<DeletionAnswer, CallbackError> {
        let url =
            self.config.data_deletion_url.clone().ok_or(CallbackError::NotConfigured("data deletion"))?;
        self.revoke_user(user_id, Revocation::AppRemoved);
        let signed = self.signed_request_for(user_id, true);
        let response = self.post_signed(&url, &signed).await?;
        let status = response.status;
        if !response.is_success() {
            return Err(CallbackError::Refused { status });
        }
        let body: Value =
            serde_json::from_slice(&response.body).map_err(|_| CallbackError::BadAnswer { status })?;
        let text =
            |name: &str| body.get(name).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
        let (Some(url), Some(confirmation_code)) = (text("url"), text("confirmation_code")) else {
            return Err(CallbackError::BadAnswer { status });
        };
        let answer = DeletionAnswer { user_id: user_id.to_owned(), status, url, confirmation_code };
        self.state().deletions.push(answer.clone());
        Ok(answer)
    }

    /// Every data-deletion answer received so far.
    pub fn deletion_answers(&self) -> Vec<DeletionAnswer> {
        self.state().deletions.clone()
    }
}
