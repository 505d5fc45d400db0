//! The Notification API side: the simulated signing key and `getPublicKey`, the Marketplace Account Deletion
//! endpoint challenge, and signed `MARKETPLACE_ACCOUNT_DELETION` / `AUTHORIZATION_REVOCATION` notifications.

use std::fmt;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use p256::ecdsa::signature::hazmat::PrehashSigner as _;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::EncodePublicKey as _;
use serde::Serialize;
use sha1::Sha1;
use sha2::{Digest as _, Sha256};

use super::envelope::{self, ApiError, iso_ms};
use super::{EbaySeller, EbaySim, SCOPE_API};
use crate::seed;

/// The simulated notification signing key, derived from the seed.
pub(super) struct Keys {
    kid: String,
    signing: SigningKey,
    /// The public key as `getPublicKey` returns it: PEM markers and base64 DER on one line.
    public: String,
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keys").field("kid", &self.kid).finish_non_exhaustive()
    }
}

/// A UUID-shaped text from 16 bytes.
fn uuid(bytes: &[u8]) -> String {
    let hex = data_encoding::HEXLOWER.encode(bytes.get(..16).unwrap_or(bytes));
    let part = |r: std::ops::Range<usize>| hex.get(r).unwrap_or("");
    format!("{}-{}-{}-{}-{}", part(0..8), part(8..12), part(12..16), part(16..20), part(20..32))
}

impl Keys {
    pub(super) fn from_seed(seed: u64) -> Self {
        let mut counter = 0u32;
        let signing = loop {
            let digest = Sha256::new()
                .chain_update(b"custodian-sim/ebay/notification-key")
                .chain_update(seed.to_be_bytes())
                .chain_update(counter.to_be_bytes())
                .finalize();
            // A digest that is zero or not below the group order (probability ~2^-32) takes the next counter.
            if let Ok(key) = SigningKey::from_slice(&digest) {
                break key;
            }
            counter = counter.wrapping_add(1);
        };
        let kid = uuid(
            &Sha256::new()
                .chain_update(b"custodian-sim/ebay/kid")
                .chain_update(seed.to_be_bytes())
                .finalize(),
        );
        let der =
            signing.verifying_key().to_public_key_der().map(|d| d.as_bytes().to_vec()).unwrap_or_default();
        let public = format!(
            "-----BEGIN PUBLIC KEY-----{}-----END PUBLIC KEY-----",
            data_encoding::BASE64.encode(&der)
        );
        Self { kid, signing, public }
    }

    /// The `X-EBAY-SIGNATURE` value for `body`: base64 of `{"alg":"ecdsa","kid","signature","digest":"SHA1"}`
    /// with the base64 DER ECDSA signature over SHA-1 of the body.
    pub(super) fn signature_header(&self, body: &[u8]) -> String {
        let digest = Sha1::digest(body);
        let der = self
            .signing
            .sign_prehash(&digest)
            .map(|s: Signature| s.to_der().as_bytes().to_vec())
            .unwrap_or_default();
        let header = serde_json::json!({
            "alg": "ecdsa",
            "kid": self.kid,
            "signature": data_encoding::BASE64.encode(&der),
            "digest": "SHA1",
        });
        data_encoding::BASE64.encode(header.to_string().as_bytes())
    }
}

#[derive(Serialize)]
struct PublicKey<'a> {
    algorithm: &'static str,
    digest: &'static str,
    key: &'a str,
}

/// `GET /commerce/notification/v1/public_key/{public_key_id}` (application token).
pub(super) async fn get_public_key(
    State(sim): State<Arc<EbaySim>>,
    Path(public_key_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = sim.authorize(&headers, &[SCOPE_API]) {
        return refused;
    }
    if let Err(throttled) = sim.throttle("notification", sim.config.limits.notification) {
        return throttled;
    }
    if public_key_id != sim.keys.kid {
        return envelope::errors(
            StatusCode::NOT_FOUND,
            &[ApiError::new(195001, "API_NOTIFICATION", "REQUEST", "The specified key id is invalid.")],
        );
    }
    envelope::json(StatusCode::OK, &PublicKey { algorithm: "ECDSA", digest: "SHA1", key: &sim.keys.public })
}

/// Why the AUTHORIZATION_REVOCATION notification was sent (`revokeReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeReason {
    RevokedByApp,
    RevokedByUser,
    RevokedByEbay,
    PasswordChange,
}

impl RevokeReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RevokedByApp => "REVOKED_BY_APP",
            Self::RevokedByUser => "REVOKED_BY_USER",
            Self::RevokedByEbay => "REVOKED_BY_EBAY",
            Self::PasswordChange => "PASSWORD_CHANGE",
        }
    }
}

/// A notification as eBay would POST it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNotification {
    pub notification_id: String,
    /// The compact JSON body.
    pub body: Vec<u8>,
    /// The `X-EBAY-SIGNATURE` header value.
    pub signature: String,
}

/// What the destination answered to a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub notification_id: String,
    /// 204 (or any 2xx) is accepted; the SDKs answer 412 to a signature mismatch.
    pub status: u16,
}

/// The result of the endpoint check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeOutcome {
    pub status: u16,
    pub challenge_code: String,
    /// `hex(SHA-256(challengeCode ‖ verificationToken ‖ endpoint))`.
    pub expected: String,
    /// The `challengeResponse` the endpoint returned, if its body had one.
    pub received: Option<String>,
    /// 200, `application/json`, and the expected value.
    pub verified: bool,
}

/// Why a notification or challenge could not be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    #[error("no notification endpoint is configured")]
    NoEndpoint,
    #[error("unknown user `{0}`")]
    UnknownUser(String),
    #[error("cannot build the http client: {0}")]
    Client(String),
    #[error("cannot reach the notification endpoint: {0}")]
    Send(String),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Message<'a, D: Serialize> {
    metadata: Metadata<'a>,
    notification: Notification<'a, D>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Metadata<'a> {
    topic: &'a str,
    schema_version: &'a str,
    deprecated: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Notification<'a, D: Serialize> {
    notification_id: &'a str,
    event_date: &'a str,
    publish_date: &'a str,
    publish_attempt_count: u32,
    data: D,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeletionData<'a> {
    username: &'a str,
    user_id: &'a str,
    eias_token: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RevocationData<'a> {
    username: &'a str,
    user_id: &'a str,
    eias_token: &'a str,
    revoke_reason: &'a str,
    revocation_date: &'a str,
}

impl EbaySim {
    /// The key id (`kid`) notifications are signed with.
    pub fn public_key_id(&self) -> &str {
        &self.keys.kid
    }

    /// The public key as `getPublicKey` returns it.
    pub fn public_key(&self) -> &str {
        &self.keys.public
    }

    /// A fresh UUID-shaped id, deterministic from the seed and a counter.
    fn next_uuid(&self, what: &str) -> String {
        let mut state = self.state();
        state.counter += 1;
        let n = state.counter;
        drop(state);
        let a = seed::value(self.ctx.seed, &[seed::text(what), n]);
        let b = seed::value(self.ctx.seed, &[seed::text(what), n, 1]);
        uuid(&[a.to_be_bytes(), b.to_be_bytes()].concat())
    }

    fn eias_token(&self, user: &EbaySeller) -> String {
        let bytes = Sha256::new().chain_update(b"eias").chain_update(user.user_id.as_bytes()).finalize();
        data_encoding::BASE64.encode(bytes.get(..30).unwrap_or(&[]))
    }

    fn seller(&self, user_id: &str) -> Result<&EbaySeller, NotifyError> {
        self.config
            .sellers
            .iter()
            .find(|s| s.user_id == user_id)
            .ok_or_else(|| NotifyError::UnknownUser(user_id.to_owned()))
    }

    fn sign<D: Serialize>(&self, topic: &str, data: D) -> SignedNotification {
        let notification_id =
            format!("{}_{}", self.next_uuid("ebay-notification"), self.next_uuid("ebay-notification"));
        let now = iso_ms(self.now_ms());
        let message = Message {
            metadata: Metadata { topic, schema_version: "1.0", deprecated: false },
            notification: Notification {
                notification_id: &notification_id,
                event_date: &now,
                publish_date: &now,
                publish_attempt_count: 1,
                data,
            },
        };
        let body = serde_json::to_vec(&message).unwrap_or_default();
        let signature = self.keys.signature_header(&body);
        SignedNotification { notification_id, body, signature }
    }

    /// A signed `MARKETPLACE_ACCOUNT_DELETION` notification about `user_id` (not sent).
    pub fn account_deletion_notification(&self, user_id: &str) -> Result<SignedNotification, NotifyError> {
        let user = self.seller(user_id)?;
        let eias = self.eias_token(user);
        Ok(self.sign(
            "MARKETPLACE_ACCOUNT_DELETION",
            DeletionData { username: &user.username, user_id: &user.user_id, eias_token: &eias },
        ))
    }

    /// A signed `AUTHORIZATION_REVOCATION` notification about `user_id` (not sent, nothing revoked).
    pub fn authorization_revocation_notification(
        &self,
        user_id: &str,
        reason: RevokeReason,
    ) -> Result<SignedNotification, NotifyError> {
        let user = self.seller(user_id)?;
        let eias = self.eias_token(user);
        let when = iso_ms(self.now_ms());
        Ok(self.sign(
            "AUTHORIZATION_REVOCATION",
            RevocationData {
                username: &user.username,
                user_id: &user.user_id,
                eias_token: &eias,
                revoke_reason: reason.as_str(),
                revocation_date: &when,
            },
        ))
    }

    async fn deliver(&self, notification: SignedNotification) -> Result<Delivery, NotifyError> {
        let endpoint = self.config.notification_endpoint.as_deref().ok_or(NotifyError::NoEndpoint)?;
        let http = self.http()?;
        let url = http.check_url(endpoint).map_err(|e| NotifyError::Send(e.to_string()))?;
        let request = custodian_http::Request::post(url)
            .body(notification.body, "application/json")
            .header("x-ebay-signature", &notification.signature);
        let response = http.send(request).await.map_err(|e| NotifyError::Send(e.to_string()))?;
        Ok(Delivery { notification_id: notification.notification_id, status: response.status })
    }

    /// POSTs a signed `MARKETPLACE_ACCOUNT_DELETION` notification about `user_id` to the endpoint.
    pub async fn send_account_deletion(&self, user_id: &str) -> Result<Delivery, NotifyError> {
        let notification = self.account_deletion_notification(user_id)?;
        self.deliver(notification).await
    }

    /// Revokes every token of `user_id` and POSTs the signed `AUTHORIZATION_REVOCATION` notification.
    pub async fn send_authorization_revocation(
        &self,
        user_id: &str,
        reason: RevokeReason,
    ) -> Result<Delivery, NotifyError> {
        let notification = self.authorization_revocation_notification(user_id, reason)?;
        self.revoke_user(user_id);
        self.deliver(notification).await
    }

    /// `hex(SHA-256(challenge_code ‖ verification token ‖ endpoint))`, the answer the endpoint must give.
    pub fn challenge_response(&self, challenge_code: &str) -> Result<String, NotifyError> {
        let endpoint = self.config.notification_endpoint.as_deref().ok_or(NotifyError::NoEndpoint)?;
        let digest = Sha256::new()
            .chain_update(challenge_code.as_bytes())
            .chain_update(self.config.verification_token.as_bytes())
            .chain_update(endpoint.as_bytes())
            .finalize();
        Ok(data_encoding::HEXLOWER.encode(&digest))
    }

    /// The endpoint check eBay runs when a destination is saved: `GET <endpoint>?challenge_code=<code>`,
    /// expecting 200, `application/json` and `{"challengeResponse": <hex>}`.
    pub async fn challenge_endpoint(&self) -> Result<ChallengeOutcome, NotifyError> {
        let endpoint = self.config.notification_endpoint.as_deref().ok_or(NotifyError::NoEndpoint)?;
        let challenge_code = self.next_uuid("ebay-challenge");
        let expected = self.challenge_response(&challenge_code)?;
        let http = self.http()?;
        let url = http.check_url(endpoint).map_err(|e| NotifyError::Send(e.to_string()))?;
        let request = custodian_http::Request::get(url).query(&[("challenge_code", &challenge_code)]);
        let response = http.send(request).await.map_err(|e| NotifyError::Send(e.to_string()))?;
        let is_json = response.header("content-type").is_some_and(|v| v.starts_with("application/json"));
        let received = serde_json::from_slice::<serde_json::Value>(&response.body)
            .ok()
            .and_then(|v| v.get("challengeResponse").and_then(|c| c.as_str()).map(str::to_owned));
        let verified = response.status == 200 && is_json && received.as_deref() == Some(expected.as_str());
        Ok(ChallengeOutcome { status: response.status, challenge_code, expected, received, verified })
    }
}
