//! The TikTok client: the one [`HttpClient`] (TLS-1), the API base URL, the app's shared rate limiter, and
//! [`Client::call`], which paces, sends, retries and reads the `{code, message, request_id, data}`
//! envelope, treating a non-zero `code` as an error whatever the HTTP status.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use custodian_core::ports::Clock;
use custodian_http::{
    Evidence, Failure, HttpClient, RateKey, RateLimiter, Request, Response, RetryPolicy, Url,
    failure_from_status, with_retry,
};
use secrecy::SecretString;
use serde::de::DeserializeOwned;

use crate::config::{MAX_PAGE_SIZE, TikTokConfig};
use crate::error::{THROTTLE_PAUSE, TikTokError, failure_of};
use crate::wire::{Envelope, EnvelopeHead};

/// The API version path under the host (§2.1: the trailing slash matters).
const API_PATH: &str = "open_api/v1.3/";

/// A successful answer: its code (0, or 20001 partial success) and its data.
#[derive(Debug)]
pub(crate) struct Reply<T> {
    pub code: i64,
    pub data: T,
}

/// What every call needs. Shared (`Arc`) by the adapter's clones.
pub(crate) struct Client {
    http: HttpClient,
    api: Url,
    pub(crate) auth_url: Url,
    pub(crate) app_id: String,
    secret: SecretString,
    limiter: RateLimiter,
    key: RateKey,
    retry: RetryPolicy,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) page_size: u32,
}

impl Client {
    /// Builds the HTTP client and checks both URLs against TLS-1.
    pub(crate) fn new(config: TikTokConfig) -> Result<Self, TikTokError> {
        if config.page_size == 0 || config.page_size > MAX_PAGE_SIZE {
            return Err(TikTokError::Config("page size must be between 1 and 1000"));
        }
        if config.app_id.is_empty() {
            return Err(TikTokError::Config("app id is empty"));
        }
        let http = HttpClient::new(config.http)?;
        let mut base = http.check_url(&config.base_url)?;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let api =
            base.join(API_PATH).map_err(|_| TikTokError::Config("base url cannot hold the api path"))?;
        let auth_url = http.check_url(&config.auth_url)?;
        let limiter = RateLimiter::new(config.rate);
        let key = RateKey::new("tiktok", config.app_id.clone(), "", "");
        Ok(Self {
            http,
            api,
            auth_url,
            app_id: config.app_id,
            secret: config.secret,
            limiter,
            key,
            retry: config.retry,
            clock: config.clock,
            page_size: config.page_size,
        })
    }

    /// Uses `limiter` instead of this client's own, so several adapters of one app share its budget.
    pub(crate) fn share_limiter(&mut self, limiter: RateLimiter) {
        self.limiter = limiter;
    }

    pub(crate) fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }

    /// The URL of an API path such as `report/integrated/get/`.
    pub(crate) fn endpoint(&self, path: &str) -> Result<Url, TikTokError> {
        self.api.join(path).map_err(|_| TikTokError::Config("endpoint path is invalid"))
    }

    pub(crate) fn secret(&self) -> &SecretString {
        &self.secret
    }

    /// Sends `request` with pacing and retries (throttles always; transport and server failures when the
    /// request is idempotent; never authorization or validation errors) and reads its envelope.
    pub(crate) async fn call<T: DeserializeOwned>(&self, request: Request) -> Result<Reply<T>, TikTokError> {
        let idempotent = request.is_idempotent();
        let request = &request;
        with_retry(&self.retry, idempotent, |_attempt| async move {
            self.limiter.acquire(&self.key).await;
            let response = self.http.send(request.clone()).await.map_err(|error| {
                let failure = if error.is_transient() { Failure::Transport } else { Failure::Invalid };
                (TikTokError::Http(error), failure)
            })?;
            self.read(&response)
        })
        .await
    }

    fn now(&self) -> SystemTime {
        let secs = u64::try_from(self.clock.now().unix_timestamp()).unwrap_or(0);
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    /// Reads one response: HTTP status, then the envelope, then `code`.
    fn read<T: DeserializeOwned>(&self, response: &Response) -> Result<Reply<T>, (TikTokError, Failure)> {
        if !response.is_success() {
            let evidence = Evidence::from_response(response, &[]);
            let failure = failure_from_status(response.status, &response.headers, self.now())
                .unwrap_or(Failure::Invalid);
            tracing::debug!(status = response.status, code = ?evidence.code, "tiktok error status");
            return Err((TikTokError::Status { evidence: Box::new(evidence) }, failure));
        }
        // The fast decode first (UTF-8 checked once for the whole body); only a failure is decoded again,
        // with path tracking, to find its JSON path.
        let fast = std::str::from_utf8(&response.body).ok().and_then(|text| serde_json::from_str(text).ok());
        let decoded = fast.map_or_else(|| response.json::<Envelope<T>>(), Ok);
        let code = match decoded {
            Ok(envelope) => match failure_of(envelope.code) {
                None => return Ok(Reply { code: envelope.code, data: envelope.data }),
                Some(_) => envelope.code,
            },
            Err(error) => match response.json::<EnvelopeHead>() {
                Ok(head) if failure_of(head.code).is_some() => head.code,
                _ => {
                    let evidence = Evidence::from_response(response, &[]);
                    tracing::debug!(path = %error.path, "tiktok response does not decode");
                    return Err((
                        TikTokError::Decode { evidence: Box::new(evidence), error: Box::new(error) },
                        Failure::Transport,
                    ));
                }
            },
        };
        let evidence = Evidence::from_response(response, &[]);
        let failure = failure_of(code).unwrap_or(Failure::Invalid);
        if matches!(failure, Failure::Throttled { .. }) {
            self.limiter.pause(&self.key, THROTTLE_PAUSE);
        }
        tracing::debug!(code, request_id = ?evidence.request_id, "tiktok refused the call");
        Err((TikTokError::Api { code, evidence: Box::new(evidence) }, failure))
    }
}

#[cfg(test)]
mod tests;
