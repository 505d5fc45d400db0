//! The TikTok Shop client: signed Open API calls and the auth host's token calls, each through the shared
//! rate limiter and the retry loop of `custodian-http`, answers read from the `{code, message, request_id,
//! data}` envelope.

use std::fmt;
use std::time::SystemTime;

use custodian_http::{
    DecodeError, Evidence, Failure, HttpClient, HttpError, Method, RateKey, RateLimiter, Request, Response,
    failure_from_status, with_retry,
};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::config::TikTokShopConfig;
use crate::error::{TikTokShopError, kind_of};
use crate::sign::{SignInput, sign};
use crate::wire::{Envelope, Head, TokenData};

const JSON: &str = "application/json";
/// The platform name in rate keys.
const PLATFORM: &str = "tiktok-shop";

/// The shop a call is scoped to: its id (the rate key) and cipher (the `shop_cipher` parameter).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ShopScope<'a> {
    pub(crate) id: &'a str,
    pub(crate) cipher: &'a str,
}

/// One Open API call, without the common parameters (`app_key`, `timestamp`, `shop_cipher`, `sign`).
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    /// The API path, e.g. `/order/202309/orders/search`; also what is signed.
    pub(crate) path: &'a str,
    pub(crate) query: Vec<(&'static str, String)>,
    /// JSON body bytes, signed and sent as they are.
    pub(crate) body: Option<Vec<u8>>,
    pub(crate) shop: Option<ShopScope<'a>>,
    /// Whether sending the call twice is harmless (reads, absolute quantity updates).
    pub(crate) idempotent: bool,
}

/// How the token endpoint is asked.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TokenGrant<'a> {
    /// `grant_type=authorized_code`.
    Code(&'a SecretString),
    /// `grant_type=refresh_token`.
    Refresh(&'a SecretString),
}

/// One attempt's outcome: the value, or the error with its retry class.
pub(crate) type Attempt<T> = Result<T, (TikTokShopError, Failure)>;

/// The HTTP side of the adapter. Clones share the connection pool and the rate limiter.
#[derive(Clone)]
pub(crate) struct Client {
    http: HttpClient,
    config: TikTokShopConfig,
    limiter: RateLimiter,
    api_base: String,
    auth_base: String,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("api_base", &self.api_base)
            .field("auth_base", &self.auth_base)
            .field("limiter", &self.limiter)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Builds the HTTP client and checks every configured URL against TLS-1.
    pub(crate) fn new(config: &TikTokShopConfig) -> Result<Self, TikTokShopError> {
        let http = HttpClient::new(config.http.clone())?;
        for url in [&config.api_base, &config.auth_base, &config.authorize_url] {
            http.check_url(url)?;
        }
        Ok(Self {
            http,
            limiter: RateLimiter::new(config.rate),
            api_base: config.api_base.trim_end_matches('/').to_owned(),
            auth_base: config.auth_base.trim_end_matches('/').to_owned(),
            config: config.clone(),
        })
    }

    pub(crate) fn config(&self) -> &TikTokShopConfig {
        &self.config
    }

    fn now(&self) -> SystemTime {
        SystemTime::from(self.config.clock.now())
    }

    /// Sends a signed Open API call (waiting for the shop's rate slot, retrying as the policy allows) and
    /// returns its `data` (the default value when TikTok Shop sends none).
    pub(crate) async fn open_api<D: DeserializeOwned + Default>(
        &self,
        call: &Call<'_>,
        token: &SecretString,
    ) -> Result<D, TikTokShopError> {
        self.open_api_with(call, token, |client, response| {
            client.decode::<D>(response).map(Option::unwrap_or_default)
        })
        .await
    }

    /// Like [`Client::open_api`], with the answer read by `read` while the body is at hand (so wire types can
    /// borrow from it and be converted in place).
    pub(crate) async fn open_api_with<T>(
        &self,
        call: &Call<'_>,
        token: &SecretString,
        read: impl Fn(&Client, &Response) -> Attempt<T>,
    ) -> Result<T, TikTokShopError> {
        let key = RateKey::new(PLATFORM, self.config.app_key.as_str(), call.shop.map_or("", |s| s.id), "");
        let (key, read) = (&key, &read);
        with_retry(&self.config.retry, call.idempotent, move |_attempt| async move {
            self.limiter.acquire(key).await;
            let request = self.signed(call, token).map_err(|e| (e, Failure::Invalid))?;
            let response = self.http.send(request).await.map_err(transport)?;
            read(self, &response)
        })
        .await
    }

    /// Builds the request: common parameters, signature, token header, body.
    fn signed(&self, call: &Call<'_>, token: &SecretString) -> Result<Request, TikTokShopError> {
        let timestamp = self.config.clock.now().unix_timestamp().to_string();
        let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(call.query.len() + 4);
        pairs.push(("app_key", &self.config.app_key));
        pairs.push(("timestamp", &timestamp));
        if let Some(shop) = &call.shop {
            pairs.push(("shop_cipher", shop.cipher));
        }
        pairs.extend(call.query.iter().map(|(k, v)| (*k, v.as_str())));
        let body = call.body.as_deref().unwrap_or_default();
        let signature = sign(
            &self.config.app_secret,
            &SignInput { path: call.path, query: &pairs, body, content_type: Some(JSON) },
        );
        pairs.push(("sign", &signature));
        let url = self.http.check_url(&format!("{}{}", self.api_base, call.path))?;
        let request = Request::new(call.method.clone(), url)
            .query(&pairs)
            .secret_header("x-tts-access-token", token)
            .idempotent(call.idempotent);
        Ok(match &call.body {
            Some(body) => request.body(body.clone(), JSON),
            None => request.header("content-type", JSON),
        })
    }

    /// Exchanges a code or refreshes on the auth host: `GET /api/v2/token/get` or `/api/v2/token/refresh`
    /// with the app key and secret in the query. A code exchange is not retried (a code works once).
    pub(crate) async fn token(&self, grant: TokenGrant<'_>) -> Result<TokenData, TikTokShopError> {
        let (path, idempotent) = match grant {
            TokenGrant::Code(_) => ("/api/v2/token/get", false),
            TokenGrant::Refresh(_) => ("/api/v2/token/refresh", true),
        };
        let key = RateKey::new(PLATFORM, self.config.app_key.as_str(), "", "auth");
        let key = &key;
        let url = self.http.check_url(&format!("{}{path}", self.auth_base))?;
        let url = &url;
        let data = with_retry(&self.config.retry, idempotent, move |_attempt| async move {
            self.limiter.acquire(key).await;
            let request = match grant {
                TokenGrant::Code(code) => Request::get(url.clone()).query(&[
                    ("app_key", &self.config.app_key),
                    ("app_secret", self.config.app_secret.expose_secret()),
                    ("auth_code", code.expose_secret()),
                    ("grant_type", "authorized_code"),
                ]),
                TokenGrant::Refresh(refresh) => Request::get(url.clone()).query(&[
                    ("app_key", &self.config.app_key),
                    ("app_secret", self.config.app_secret.expose_secret()),
                    ("refresh_token", refresh.expose_secret()),
                    ("grant_type", "refresh_token"),
                ]),
            };
            let response = self.http.send(request.idempotent(idempotent)).await.map_err(transport)?;
            self.decode::<TokenData>(&response)
        })
        .await?;
        data.ok_or_else(|| TikTokShopError::Data("the token answer has no data".to_owned()))
    }

    /// Reads an answer: `code == 0` gives the data; a non-zero code is the platform's refusal with its
    /// evidence; an HTTP error status without the envelope is classified by status; a body that does not
    /// decode (e.g. cut short) is a decode error naming the JSON path, retried like a transport failure.
    pub(crate) fn decode<'a, D: Deserialize<'a>>(&self, response: &'a Response) -> Attempt<Option<D>> {
        // One UTF-8 check of the whole body is cheaper than serde_json's check of every string (issue 6);
        // a body that is not UTF-8 goes the slow way, which reports where it breaks.
        let parsed = match std::str::from_utf8(&response.body) {
            Ok(text) => serde_json::from_str::<Envelope<D>>(text),
            Err(_) => serde_json::from_slice::<Envelope<D>>(&response.body),
        };
        match parsed {
            Ok(envelope) if envelope.code == 0 && response.is_success() => Ok(envelope.data),
            Ok(envelope) => Err(refusal(response, envelope.code)),
            Err(_) => {
                if let Ok(head) = serde_json::from_slice::<Head>(&response.body)
                    && head.code != 0
                {
                    return Err(refusal(response, head.code));
                }
                if let Some(failure) = failure_from_status(response.status, &response.headers, self.now()) {
                    return Err((TikTokShopError::Status { status: response.status }, failure));
                }
                Err((
                    TikTokShopError::Decode(decode_error::<Envelope<D>>(&response.body)),
                    Failure::Transport,
                ))
            }
        }
    }
}

/// The refusal of a non-zero `code`, with the evidence of the answer.
fn refusal(response: &Response, code: i64) -> (TikTokShopError, Failure) {
    let evidence = Evidence::from_response(response, &[]);
    let kind = kind_of(code).unwrap_or(crate::error::ErrorKind::Invalid);
    tracing::debug!(status = response.status, %evidence, "tiktok shop refused a request");
    (TikTokShopError::Api { kind, evidence: Box::new(evidence) }, kind.failure(response.status))
}

/// A transport failure: timeouts and resets are retried when idempotent, anything else is not.
fn transport(error: HttpError) -> (TikTokShopError, Failure) {
    let failure = if error.is_transient() { Failure::Transport } else { Failure::Invalid };
    (TikTokShopError::Http(error), failure)
}

/// The decode error of `body` as `T`, naming the JSON path and never a value.
fn decode_error<'a, T: Deserialize<'a>>(body: &'a [u8]) -> DecodeError {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let result: Result<T, _> = serde_path_to_error::deserialize(&mut deserializer);
    match result {
        Ok(_) => DecodeError { path: ".".to_owned(), category: "syntax", line: 0, column: 0 },
        Err(error) => {
            let inner = error.inner();
            let category = match inner.classify() {
                serde_json::error::Category::Io => "io",
                serde_json::error::Category::Syntax => "syntax",
                serde_json::error::Category::Data => "data",
                serde_json::error::Category::Eof => "eof",
            };
            DecodeError {
                path: error.path().to_string(),
                category,
                line: inner.line(),
                column: inner.column(),
            }
        }
    }
}
