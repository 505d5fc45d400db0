//! The auth host (`auth.tiktok-shops.com`) and the consent pages: authorization codes, token exchange and
//! refresh, and the per-seller authorization that revocation ends.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use serde::Serialize;

use super::TikTokShopSim;
use super::codes::{self, Code};
use crate::seed::{self, Stream};

/// One seller's authorization of the app.
#[derive(Debug, Default, Clone)]
struct SellerAuth {
    /// Bumped by each new consent after a revocation: tokens of older generations are dead.
    generation: u32,
    revoked: bool,
    /// Granted API packages when overridden by a test; `None`: the app's packages.
    scopes: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy)]
struct CodeRecord {
    seller: usize,
    expires_at: i64,
    used: bool,
}

#[derive(Debug, Clone, Copy)]
struct TokenRecord {
    seller: usize,
    generation: u32,
    expires_at: i64,
}

/// What an access token is worth right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum AccessCheck {
    Valid {
        seller: usize,
        scopes: Option<Vec<String>>,
    },
    /// `105001`.
    Invalid,
    /// `105002`.
    Expired,
}

/// Codes, tokens and authorizations.
#[derive(Debug)]
pub(super) struct AuthState {
    counter: u64,
    sellers: Vec<SellerAuth>,
    codes: HashMap<String, CodeRecord>,
    access: HashMap<String, TokenRecord>,
    refresh: HashMap<String, TokenRecord>,
}

impl AuthState {
    pub(super) fn new(sellers: usize) -> Self {
        Self {
            counter: 0,
            sellers: vec![SellerAuth::default(); sellers],
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
        }
    }

    /// A fresh random-looking value with the platform's region prefix, deterministic from the seed and a
    /// counter.
    fn fresh(&mut self, seed: u64, kind: &str, len: usize) -> String {
        self.counter += 1;
        let mut stream = Stream::new(seed, &[seed::text(kind), self.counter]);
        format!("ROW_{}", stream.token(len))
    }

    pub(super) fn issue_code(&mut self, seed: u64, seller: usize, expires_at: i64) -> String {
        let code = self.fresh(seed, "tts-auth-code", 40);
        self.codes.insert(code.clone(), CodeRecord { seller, expires_at, used: false });
        code
    }

    pub(super) fn revoke(&mut self, seller: usize) {
        if let Some(auth) = self.sellers.get_mut(seller) {
            auth.revoked = true;
        }
    }

    pub(super) fn revoke_all(&mut self) {
        for auth in &mut self.sellers {
            auth.revoked = true;
        }
    }

    pub(super) fn set_scopes(&mut self, seller: usize, scopes: Vec<String>) {
        if let Some(auth) = self.sellers.get_mut(seller) {
            auth.scopes = Some(scopes);
        }
    }

    fn live(&self, token: &TokenRecord) -> bool {
        self.sellers.get(token.seller).is_some_and(|a| !a.revoked && a.generation == token.generation)
    }

    pub(super) fn check_access(&self, token: &str, now: i64) -> AccessCheck {
        match self.access.get(token) {
            Some(record) if self.live(record) => {
                if now >= record.expires_at {
                    AccessCheck::Expired
                } else {
                    let scopes = self.sellers.get(record.seller).and_then(|a| a.scopes.clone());
                    AccessCheck::Valid { seller: record.seller, scopes }
                }
            }
            _ => AccessCheck::Invalid,
        }
    }
}

fn param<'a>(query: &'a [(String, String)], key: &str) -> Option<&'a str> {
    query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

#[derive(Serialize)]
struct TokenData<'a> {
    access_token: &'a str,
    access_token_expire_in: i64,
    refresh_token: &'a str,
    refresh_token_expire_in: i64,
    open_id: &'a str,
    seller_name: &'a str,
    seller_base_region: &'a str,
    user_type: u8,
    granted_scopes: &'a [String],
}

impl TikTokShopSim {
    fn auth_error(&self, code: Code) -> Response {
        code.response(&self.request_id(), None)
    }

    fn app_ok(&self, query: &[(String, String)]) -> bool {
        let key_ok = param(query, "app_key") == Some(self.config.app_key.as_str());
        let secret_ok = param(query, "app_secret")
            .is_some_and(|s| super::sign::constant_time_eq(s.as_bytes(), self.config.app_secret.as_bytes()));
        key_ok && secret_ok
    }

    fn token_response(
        &self,
        seller: usize,
        access: &str,
        refresh: &TokenRecord,
        refresh_token: &str,
    ) -> Response {
        let now = self.ctx.clock.now_unix();
        let Some(config) = self.config.sellers.get(seller) else {
            return self.auth_error(codes::AUTH_RECORD_NOT_FOUND);
        };
        let granted = self
            .auth_state()
            .sellers
            .get(seller)
            .and_then(|a| a.scopes.clone())
            .unwrap_or_else(|| self.config.scopes.clone());
        let data = TokenData {
            access_token: access,
            access_token_expire_in: now + self.config.access_token_ttl_secs,
            refresh_token,
            refresh_token_expire_in: refresh.expires_at,
            open_id: &config.open_id,
            seller_name: &config.seller_name,
            seller_base_region: &config.base_region,
            user_type: 0,
            granted_scopes: &granted,
        };
        codes::success(&self.request_id(), &data)
    }

    fn exchange(&self, query: &[(String, String)]) -> Response {
        if !self.app_ok(query) {
            return self.auth_error(codes::INVALID_APP_CREDENTIALS);
        }
        if param(query, "grant_type") != Some("authorized_code") {
            return codes::INVALID_PARAM.response(&self.request_id(), Some("grant_type"));
        }
        let now = self.ctx.clock.now_unix();
        let seed = self.ctx.seed;
        let issued = {
            let mut state = self.auth_state();
            let record = param(query, "auth_code").and_then(|code| state.codes.get_mut(code));
            match record {
                Some(record) if !record.used && now < record.expires_at => {
                    record.used = true;
                    let seller = record.seller;
                    if let Some(auth) = state.sellers.get_mut(seller)
                        && auth.revoked
                    {
                        auth.revoked = false;
                        auth.generation += 1;
                    }
                    let generation = state.sellers.get(seller).map_or(0, |a| a.generation);
                    let access = state.fresh(seed, "tts-access-token", 64);
                    let refresh = state.fresh(seed, "tts-refresh-token", 64);
                    let access_record = TokenRecord {
                        seller,
                        generation,
                        expires_at: now + self.config.access_token_ttl_secs,
                    };
                    let refresh_record = TokenRecord {
                        seller,
                        generation,
                        expires_at: now + self.config.refresh_token_ttl_secs,
                    };
                    state.access.insert(access.clone(), access_record);
                    state.refresh.insert(refresh.clone(), refresh_record);
                    Some((seller, access, refresh, refresh_record))
                }
                _ => None,
            }
        };
        match issued {
            Some((seller, access, refresh, record)) => {
                self.token_response(seller, &access, &record, &refresh)
            }
            None => self.auth_error(codes::INVALID_AUTH_CODE),
        }
    }

    fn refresh(&self, query: &[(String, String)]) -> Response {
        if !self.app_ok(query) {
            return self.auth_error(codes::INVALID_APP_CREDENTIALS);
        }
        if param(query, "grant_type") != Some("refresh_token") {
            return codes::INVALID_PARAM.response(&self.request_id(), Some("grant_type"));
        }
        let now = self.ctx.clock.now_unix();
        let seed = self.ctx.seed;
        let Some(refresh_token) = param(query, "refresh_token") else {
            return self.auth_error(codes::AUTH_RECORD_NOT_FOUND);
        };
        let outcome = {
            let mut state = self.auth_state();
            match state.refresh.get(refresh_token).copied() {
                Some(record) if state.live(&record) => {
                    if now >= record.expires_at {
                        Err(codes::REFRESH_TOKEN_EXPIRED)
                    } else {
                        let access = state.fresh(seed, "tts-access-token", 64);
                        let access_record =
                            TokenRecord { expires_at: now + self.config.access_token_ttl_secs, ..record };
                        state.access.insert(access.clone(), access_record);
                        Ok((record, access))
                    }
                }
                _ => Err(codes::AUTH_RECORD_NOT_FOUND),
            }
        };
        match outcome {
            Ok((record, access)) => self.token_response(record.seller, &access, &record, refresh_token),
            Err(code) => self.auth_error(code),
        }
    }

    /// The consent page: the default seller approves at once; back to the redirect URI with the code.
    fn consent(&self, state: Option<&str>) -> Response {
        let Some(code) = self.issue_code(0) else {
            return (StatusCode::BAD_REQUEST, "no seller can authorize this app").into_response();
        };
        let mut location = format!("{}?code={}", self.config.redirect_uri, percent_encode(&code));
        if let Some(state) = state {
            location.push_str("&state=");
            location.push_str(&percent_encode(state));
        }
        (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `GET /api/v2/token/get?app_key&app_secret&auth_code&grant_type=authorized_code`.
pub(super) async fn token_get(
    State(sim): State<Arc<TikTokShopSim>>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    sim.exchange(&query)
}

/// `GET /api/v2/token/refresh?app_key&app_secret&refresh_token&grant_type=refresh_token`.
pub(super) async fn token_refresh(
    State(sim): State<Arc<TikTokShopSim>>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    sim.refresh(&query)
}

/// `GET services.tiktokshop.com/open/authorize?service_id=…&state=…`.
pub(super) async fn authorize(
    State(sim): State<Arc<TikTokShopSim>>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    if param(&query, "service_id") != Some(sim.config.service_id.as_str()) {
        return (StatusCode::BAD_REQUEST, "unknown service_id").into_response();
    }
    sim.consent(param(&query, "state"))
}

/// `GET auth.tiktok-shops.com/oauth/authorize?app_key=…&state=…` (the legacy link).
pub(super) async fn legacy_authorize(
    State(sim): State<Arc<TikTokShopSim>>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    if param(&query, "app_key") != Some(sim.config.app_key.as_str()) {
        return (StatusCode::BAD_REQUEST, "unknown app_key").into_response();
    }
    sim.consent(param(&query, "state"))
}
