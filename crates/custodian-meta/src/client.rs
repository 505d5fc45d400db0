//! [`Graph`]: the Graph API client. Every call goes through [`Graph::call_with`], which
//!
//! - waits for the ad account's (or the app's) slot in the shared [`RateLimiter`] and afterwards sets that
//!   slot's rate from Meta's usage headers ([`Pacing`]: slower as usage nears 100%, paused for Meta's
//!   time to regain access);
//! - sends the user token in an `Authorization: Bearer` header (never in a URL) with `appsecret_proof` =
//!   lowercase hex HMAC-SHA256(app secret, token) on every call (§1.6; the app token `{app-id}|{app-secret}`
//!   gets its proof too);
//! - retries idempotent reads on transport failures, 5xx and transient codes, and any call on throttles
//!   (honouring the wait Meta gives), never auth or validation errors ([`custodian_http::with_retry`]);
//! - turns Meta's error envelope into [`MetaError::Api`] with the evidence (status, code, subcode, message,
//!   `fbtrace_id`).

use std::fmt;
use std::sync::Arc;

use custodian_http::{
    Evidence, Failure, HttpClient, Method, Rate, RateKey, RateLimiter, Request, Response, Url, with_retry,
};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret as _, SecretString};
use sha2::Sha256;

use crate::config::{MetaConfig, Pacing};
use crate::error::MetaError;
use crate::wire::ErrorEnvelope;

/// `appsecret_proof` of `token`: lowercase hex HMAC-SHA256(key = app secret, message = token) (§1.6, §4.1).
pub fn appsecret_proof(app_secret: &SecretString, token: &SecretString) -> String {
    match Hmac::<Sha256>::new_from_slice(app_secret.expose_secret().as_bytes()) {
        Ok(mut mac) => {
            mac.update(token.expose_secret().as_bytes());
            data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes())
        }
        // HMAC takes keys of any length; this arm does not run.
        Err(_) => String::new(),
    }
}

/// Which token a call carries.
#[derive(Clone, Copy)]
pub(crate) enum Auth<'a> {
    /// A user (or system user) access token.
    User(&'a SecretString),
    /// The app token `{app-id}|{app-secret}` (`debug_token`).
    App,
    /// No token (`oauth/access_token` carries `client_secret` instead).
    None,
}

/// One Graph call.
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    /// Relative to the version: `act_1/insights`, `debug_token`, `oauth/access_token`.
    pub(crate) path: String,
    /// Query parameters (GET) or form fields (POST).
    pub(crate) params: Vec<(&'static str, String)>,
    /// Secret parameters (`client_secret`, `code`, `fb_exchange_token`, `input_token`): exposed only while
    /// the request is built.
    pub(crate) secret_params: Vec<(&'static str, &'a SecretString)>,
    pub(crate) auth: Auth<'a>,
    /// The numeric ad account whose quota the call uses (`None`: the app's).
    pub(crate) account: Option<String>,
    /// Whether sending the call twice is harmless.
    pub(crate) idempotent: bool,
}

impl<'a> Call<'a> {
    pub(crate) fn get(path: impl Into<String>, auth: Auth<'a>) -> Self {
        Self {
            method: Method::GET,
            path: path.into(),
            params: Vec::new(),
            secret_params: Vec::new(),
            auth,
            account: None,
            idempotent: true,
        }
    }

    pub(crate) fn post(path: impl Into<String>, auth: Auth<'a>) -> Self {
        Self { method: Method::POST, idempotent: false, ..Self::get(path, auth) }
    }

    pub(crate) fn param(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.params.push((name, value.into()));
        self
    }

    pub(crate) fn secret(mut self, name: &'static str, value: &'a SecretString) -> Self {
        self.secret_params.push((name, value));
        self
    }

    pub(crate) fn account(mut self, numeric: &str) -> Self {
        self.account = Some(numeric.to_owned());
        self
    }

    pub(crate) fn idempotent(mut self, yes: bool) -> Self {
        self.idempotent = yes;
        self
    }
}

/// The Graph API client shared by all clones of the adapter.
#[derive(Clone)]
pub(crate) struct Graph {
    inner: Arc<Inner>,
}

struct Inner {
    http: HttpClient,
    graph: Url,
    version: String,
    app_id: String,
    app_secret: SecretString,
    app_token: SecretString,
    retry: custodian_http::RetryPolicy,
    limiter: RateLimiter,
    pacing: Pacing,
}

impl fmt::Debug for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Graph")
            .field("graph", &self.inner.graph.as_str())
            .field("version", &self.inner.version)
            .field("app_id", &self.inner.app_id)
            .finish_non_exhaustive()
    }
}

impl Graph {
    /// Builds the HTTP client and checks the base URL (TLS-1).
    pub(crate) fn new(config: &MetaConfig) -> Result<Self, MetaError> {
        let http = HttpClient::new(config.http.clone()).map_err(MetaError::Http)?;
        let graph = http.check_url(config.graph_url.trim_end_matches('/')).map_err(MetaError::Http)?;
        let limiter = config
            .limiter
            .clone()
            .unwrap_or_else(|| RateLimiter::new(Rate::new(config.pacing.max_per_second, 1)));
        let app_token =
            SecretString::from(format!("{}|{}", config.app_id, config.app_secret.expose_secret()));
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                graph,
                version: config.api_version.clone(),
                app_id: config.app_id.clone(),
                app_secret: config.app_secret.clone(),
                app_token,
                retry: config.retry.clone(),
                limiter,
                pacing: config.pacing,
            }),
        })
    }

    pub(crate) fn http(&self) -> &HttpClient {
        &self.inner.http
    }

    pub(crate) fn app_id(&self) -> &str {
        &self.inner.app_id
    }

    fn key(&self, account: Option<&str>) -> RateKey {
        RateKey::new("meta", self.inner.app_id.clone(), account.unwrap_or(""), "")
    }

    fn url(&self, path: &str) -> Result<Url, MetaError> {
        let raw =
            format!("{}/{}/{}", self.inner.graph.as_str().trim_end_matches('/'), self.inner.version, path);
        self.inner.http.check_url(&raw).map_err(MetaError::Http)
    }

    /// Sends `call` (with retries) and turns the successful answer into `T` with `read`. A body that does
    /// not decode ([`MetaError::Decode`], e.g. truncated) counts as a transport failure and is retried when
    /// the call is idempotent; any other error of `read` is final.
    pub(crate) async fn call_with<T>(
        &self,
        call: &Call<'_>,
        read: impl Fn(&Response) -> Result<T, MetaError>,
    ) -> Result<T, MetaError> {
        let key = self.key(call.account.as_deref());
        let url = self.url(&call.path)?;
        let read = &read;
        with_retry(&self.inner.retry, call.idempotent, |_attempt| {
            let key = &key;
            let url = url.clone();
            async move {
                let response = self.attempt(call, key, url).await?;
                read(&response).map_err(|error| {
                    let failure = if matches!(error, MetaError::Decode(_)) {
                        Failure::Transport
                    } else {
                        Failure::Invalid
                    };
                    (error, failure)
                })
            }
        })
        .await
    }

    /// Sends `call` and decodes the answer as `T` (owned).
    pub(crate) async fn call_json<T: serde::de::DeserializeOwned>(
        &self,
        call: &Call<'_>,
    ) -> Result<T, MetaError> {
        self.call_with(call, |response| crate::wire::decode_owned(&response.body).map_err(MetaError::Decode))
            .await
    }

    fn request(&self, call: &Call<'_>, url: Url) -> Request {
        let token = match call.auth {
            Auth::User(token) => Some(token),
            Auth::App => Some(&self.inner.app_token),
            Auth::None => None,
        };
        let proof = token.map(|t| appsecret_proof(&self.inner.app_secret, t));
        let mut pairs: Vec<(&str, &str)> = call.params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if let Some(proof) = &proof {
            pairs.push(("appsecret_proof", proof));
        }
        for (name, value) in &call.secret_params {
            pairs.push((name, value.expose_secret()));
        }
        let request = if call.method == Method::GET {
            Request::get(url).query(&pairs)
        } else {
            Request::new(call.method.clone(), url).form(&pairs)
        };
        let request = match token {
            Some(token) => request.secret_header(
                "authorization",
                &SecretString::from(format!("Bearer {}", token.expose_secret())),
            ),
            None => request,
        };
        request.idempotent(call.idempotent)
    }

    async fn attempt(
        &self,
        call: &Call<'_>,
        key: &RateKey,
        url: Url,
    ) -> Result<Response, (MetaError, Failure)> {
        self.inner.limiter.acquire(key).await;
        let response = match self.inner.http.send(self.request(call, url)).await {
            Ok(response) => response,
            Err(error) => {
                let failure = if error.is_transient() { Failure::Transport } else { Failure::Invalid };
                return Err((MetaError::Http(error), failure));
            }
        };
        self.pace(key, &response);
        if response.is_success() {
            return Ok(response);
        }
        let envelope: Option<ErrorEnvelope> = serde_json::from_slice(&response.body).ok();
        let body = envelope.and_then(|e| e.error);
        let (code, subcode) =
            (body.as_ref().and_then(|b| b.code), body.as_ref().and_then(|b| b.error_subcode));
        let failure = custodian_http::meta::failure(response.status, code, subcode, &response.headers);
        let wait = match &failure {
            Failure::Throttled { wait } => *wait,
            _ => None,
        };
        if let Some(wait) = wait {
            self.inner.limiter.pause(key, wait);
        }
        let evidence = Evidence::from_response(&response, &["x-fb-trace-id"]);
        tracing::debug!(status = response.status, code, subcode, "meta error answer");
        Err((MetaError::Api { evidence: Box::new(evidence), code, subcode, wait }, failure))
    }

    /// Sets the key's rate from the usage headers, and pauses it while Meta says access is blocked.
    fn pace(&self, key: &RateKey, response: &Response) {
        let Some(usage) = custodian_http::meta::usage(&response.headers) else {
            return;
        };
        if let Some(regain) = usage.regain_access {
            self.inner.limiter.pause(key, regain);
        }
        self.inner.limiter.set_rate(key, self.inner.pacing.rate(usage.max_percent));
    }
}

#[cfg(test)]
mod tests;
