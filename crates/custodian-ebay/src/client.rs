//! The eBay HTTP client: URLs under the configured hosts (TLS-1 checked by custodian-http), the Basic
//! client authentication of the token endpoint, Bearer tokens, the per-application rate limiter, retries
//! and the mapping of answers to [`PlatformError`].

use std::fmt;
use std::time::{Duration, SystemTime};

use custodian_core::ports::PlatformError;
use custodian_http::{
    Evidence, Failure, HttpClient, RateKey, RateLimiter, Request, Response, Url, retry_after, with_retry,
};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use time::OffsetDateTime;
use tokio::sync::Mutex;

use crate::config::EbayConfig;
use crate::error::{self, EbayError, Grant, Verdict};
use crate::wire;

/// Headers that carry eBay's request id.
const REQUEST_ID_HEADERS: &[&str] = &["x-ebay-c-request-id", "x-ebay-request-id", "rlogid"];
/// The application-token scope (`getPublicKey`).
pub(crate) const SCOPE_API: &str = "https://api.ebay.com/oauth/api_scope";

/// Which published limit a call counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bucket {
    Fulfillment,
    Inventory,
    Notification,
}

impl Bucket {
    fn name(self) -> &'static str {
        match self {
            Bucket::Fulfillment => "fulfillment",
            Bucket::Inventory => "inventory",
            Bucket::Notification => "notification",
        }
    }
}

/// Decodes JSON, reporting the path of a failure (never the values: they may be PII or secrets). The
/// fast path decodes directly; only a failing body is decoded again with path tracking.
pub(crate) fn decode<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, PlatformError> {
    // One UTF-8 check of the whole body is cheaper than serde_json's check of every string (issue 6).
    if let Ok(text) = std::str::from_utf8(body)
        && let Ok(value) = serde_json::from_str(text)
    {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let category = match e.inner().classify() {
            serde_json::error::Category::Io => "io",
            serde_json::error::Category::Syntax => "syntax",
            serde_json::error::Category::Data => "data",
            serde_json::error::Category::Eof => "eof",
        };
        EbayError::Decode { path: e.path().to_string(), category }.unavailable()
    })?;
    de.end().map_err(|_| EbayError::Decode { path: ".".into(), category: "syntax" }.unavailable())?;
    Ok(value)
}

/// The first `errorId` of an error envelope, if the body is one.
fn first_error_id(body: &[u8]) -> Option<i64> {
    serde_json::from_slice::<wire::ErrorEnvelope>(body).ok()?.errors.first()?.error_id
}

/// The token endpoint's client authentication: `Basic base64(client_id:client_secret)` (reference §3.1).
pub(crate) fn basic_auth(client_id: &str, client_secret: &SecretString) -> SecretString {
    let credentials = zeroize::Zeroizing::new(format!("{client_id}:{}", client_secret.expose_secret()));
    SecretString::from(format!("Basic {}", data_encoding::BASE64.encode(credentials.as_bytes())))
}

/// A cached application token.
struct AppToken {
    token: SecretString,
    expires_at: OffsetDateTime,
}

pub(crate) struct Client {
    pub http: HttpClient,
    pub config: EbayConfig,
    limiter: RateLimiter,
    /// `Basic base64(client_id:client_secret)`.
    basic: SecretString,
    app_token: Mutex<Option<AppToken>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("config", &self.config).finish_non_exhaustive()
    }
}

impl Client {
    pub(crate) fn new(config: EbayConfig) -> Result<Self, PlatformError> {
        let http = HttpClient::new(config.http.clone()).map_err(|e| EbayError::Http(e).unavailable())?;
        // Fail early on a base URL that TLS-1 forbids.
        http.check_url(&config.api_base).map_err(|e| EbayError::Http(e).unavailable())?;
        http.check_url(&config.auth_base).map_err(|e| EbayError::Http(e).unavailable())?;
        let limiter = RateLimiter::new(config.rates.inventory);
        for (bucket, rate) in [
            (Bucket::Fulfillment, config.rates.fulfillment),
            (Bucket::Inventory, config.rates.inventory),
            (Bucket::Notification, config.rates.notification),
        ] {
            limiter.configure(&RateKey::new("ebay", config.client_id.as_str(), "", bucket.name()), rate);
        }
        let basic = basic_auth(&config.client_id, &config.client_secret);
        Ok(Self { http, config, limiter, basic, app_token: Mutex::new(None) })
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        self.config.clock.now()
    }

    fn system_now(&self) -> SystemTime {
        let now = self.now();
        let nanos = u64::try_from(now.unix_timestamp_nanos()).unwrap_or(0);
        SystemTime::UNIX_EPOCH + Duration::from_nanos(nanos)
    }

    fn join(&self, base: &str, path: &str) -> Result<Url, PlatformError> {
        let url = format!("{}{path}", base.trim_end_matches('/'));
        self.http.check_url(&url).map_err(|e| EbayError::Http(e).unavailable())
    }

    /// `api_base` + `path`.
    pub(crate) fn api_url(&self, path: &str) -> Result<Url, PlatformError> {
        self.join(&self.config.api_base, path)
    }

    /// `auth_base` + `path`.
    pub(crate) fn auth_url(&self, path: &str) -> Result<Url, PlatformError> {
        self.join(&self.config.auth_base, path)
    }

    fn rate_key(&self, bucket: Bucket) -> RateKey {
        RateKey::new("ebay", self.config.client_id.as_str(), "", bucket.name())
    }

    /// Sends a REST call built by `build` with `token` as Bearer: waits for the bucket's rate, retries per
    /// the policy (throttles always; transport and 5xx failures only when `idempotent`), and returns a 2xx
    /// answer (207 included) or the mapped error.
    pub(crate) async fn call(
        &self,
        bucket: Bucket,
        token: &SecretString,
        idempotent: bool,
        build: impl Fn() -> Result<Request, PlatformError>,
    ) -> Result<Response, PlatformError> {
        let key = self.rate_key(bucket);
        let bearer = SecretString::from(format!("Bearer {}", token.expose_secret()));
        with_retry(&self.config.retry, idempotent, |_attempt| {
            let key = &key;
            let bearer = &bearer;
            let request = build();
            async move {
                let request = request.map_err(|e| (e, Failure::Invalid))?;
                self.limiter.acquire(key).await;
                let response = self.http.send(request.secret_header("authorization", bearer)).await.map_err(|e| {
                    let failure = if e.is_transient() { Failure::Transport } else { Failure::Invalid };
                    (EbayError::Http(e).unavailable(), failure)
                })?;
                if response.is_success() {
                    return Ok(response);
                }
                let verdict = error::verdict(response.status, first_error_id(&response.body));
                let wait = retry_after(&response.headers, self.system_now());
                if verdict == Verdict::Throttled
                    && let Some(wait) = wait
                {
                    self.limiter.pause(key, wait);
                }
                let failure = match verdict {
                    Verdict::Throttled => Failure::Throttled { wait },
                    Verdict::Server => Failure::Server { status: response.status },
                    Verdict::Unauthorized | Verdict::Forbidden => Failure::Auth,
                    Verdict::NotFound | Verdict::Invalid => Failure::Invalid,
                };
                let evidence = Evidence::from_response(&response, REQUEST_ID_HEADERS);
                tracing::debug!(platform = "ebay", status = response.status, code = ?evidence.code, "ebay call failed");
                Err((error::api_error(verdict, evidence, wait), failure))
            }
        })
        .await
    }

    /// A token request (`grant_type` and the rest in `form`) with the app's Basic authentication. Only
    /// throttles are retried: a code must not be spent twice.
    pub(crate) async fn token(
        &self,
        grant: Grant,
        form: &[(&str, &str)],
    ) -> Result<wire::TokenResponse, PlatformError> {
        let url = self.api_url("/identity/v1/oauth2/token")?;
        let response = with_retry(&self.config.retry, false, |_attempt| {
            let request = Request::post(url.clone()).form(form).secret_header("authorization", &self.basic);
            async move {
                let response = self.http.send(request).await.map_err(|e| {
                    let failure = if e.is_transient() { Failure::Transport } else { Failure::Invalid };
                    (EbayError::Http(e).unavailable(), failure)
                })?;
                if response.is_success() {
                    return Ok(response);
                }
                let evidence = Evidence::from_response(&response, REQUEST_ID_HEADERS);
                if response.status == 429 {
                    let wait = retry_after(&response.headers, self.system_now());
                    let error = error::api_error(Verdict::Throttled, evidence, wait);
                    return Err((error, Failure::Throttled { wait }));
                }
                let error = match serde_json::from_slice::<wire::OAuthErrorBody>(&response.body) {
                    Ok(body) => error::oauth_error(grant, &body.error, evidence),
                    Err(_) if response.status >= 500 => EbayError::OAuth(evidence).unavailable(),
                    Err(_) => PlatformError::Invalid { detail: evidence.to_string() },
                };
                let failure = if response.status >= 500 {
                    Failure::Server { status: response.status }
                } else {
                    Failure::Invalid
                };
                tracing::debug!(platform = "ebay", status = response.status, "ebay token request refused");
                Err((error, failure))
            }
        })
        .await?;
        decode::<wire::TokenResponse>(&response.body)
    }

    /// An application token (client credentials, scope `api_scope`), cached until a minute before it
    /// expires.
    pub(crate) async fn app_token(&self) -> Result<SecretString, PlatformError> {
        let mut cached = self.app_token.lock().await;
        let now = self.now();
        if let Some(token) = cached.as_ref().filter(|t| t.expires_at > now) {
            return Ok(token.token.clone());
        }
        let answer = self
            .token(Grant::ClientCredentials, &[("grant_type", "client_credentials"), ("scope", SCOPE_API)])
            .await?;
        let lifetime = time::Duration::seconds(answer.expires_in.unwrap_or(7200).saturating_sub(60).max(0));
        let token = SecretString::from(answer.access_token);
        *cached = Some(AppToken { token: token.clone(), expires_at: now + lifetime });
        Ok(token)
    }
}

#[cfg(test)]
mod tests;
