//! Login with Amazon and the Seller Central consent page: authorization codes, access and refresh tokens,
//! Restricted Data Tokens, authorizations and their revocation.
//!
//! - `GET /sellercentral/apps/authorize/consent?application_id=…&state=…[&redirect_uri=…][&version=beta]`
//!   redirects (302) to the redirect URI with `state`, `selling_partner_id` and `spapi_oauth_code`, as if
//!   the logged-in seller had confirmed (commerce-apis.md §2.1).
//! - `POST /lwa/auth/o2/token` (form): `grant_type=authorization_code` (`code`, `redirect_uri`,
//!   `client_id`, `client_secret`) and `grant_type=refresh_token` (`refresh_token`, `client_id`,
//!   `client_secret`); success `{"access_token","refresh_token","token_type":"bearer","expires_in":3600}`;
//!   OAuth 2.0 errors `{"error_description","error"}`: `invalid_request`, `invalid_client` (401),
//!   `invalid_grant`, `unsupported_grant_type`.

use std::collections::HashMap;

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use serde::Serialize;
use std::sync::Arc;

use super::envelope::reply;
use super::{AmazonConfig, AmazonSim};
use crate::seed::{Stream, text};

/// More live entries than this in a token map triggers a sweep of the expired ones.
const SWEEP_AT: usize = 4096;

/// A resource a Restricted Data Token was issued for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RdtResource {
    pub method: String,
    /// A real API path; segments in braces (`{orderId}`) match any one segment.
    pub path: String,
    pub data_elements: Vec<String>,
}

impl RdtResource {
    /// Whether this resource names the call `method path`.
    pub(crate) fn covers(&self, method: &str, path: &str) -> bool {
        if !self.method.eq_ignore_ascii_case(method) {
            return false;
        }
        let mut pattern = self.path.trim_end_matches('/').split('/');
        let mut actual = path.trim_end_matches('/').split('/');
        loop {
            match (pattern.next(), actual.next()) {
                (None, None) => return true,
                (Some(p), Some(a)) if p == a || (p.starts_with('{') && p.ends_with('}') && !a.is_empty()) => {
                }
                _ => return false,
            }
        }
    }
}

/// What a presented token gives access to.
#[derive(Debug, Clone)]
pub(crate) enum Access {
    Lwa { seller: usize },
    Rdt { seller: usize, resources: Vec<RdtResource> },
}

#[derive(Debug)]
struct Code {
    seller: usize,
    redirect_uri: Option<String>,
    expires: i64,
    used: bool,
}

#[derive(Debug)]
struct Authorization {
    seller: usize,
    revoked: bool,
}

#[derive(Debug)]
struct Live {
    auth: usize,
    expires: i64,
}

#[derive(Debug)]
struct RdtGrant {
    auth: usize,
    expires: i64,
    resources: Vec<RdtResource>,
}

/// Codes, tokens and authorizations.
#[derive(Debug, Default)]
pub(crate) struct AuthState {
    codes: HashMap<String, Code>,
    refresh: HashMap<String, usize>,
    access: HashMap<String, Live>,
    rdts: HashMap<String, RdtGrant>,
    auths: Vec<Authorization>,
    counter: u64,
    /// Who is logged in to Seller Central when the consent page opens.
    pub consenting_seller: usize,
}

impl AuthState {
    fn token(&mut self, seed: u64, kind: &str, len: usize) -> String {
        self.counter += 1;
        Stream::new(seed, &[text("amazon-token"), text(kind), self.counter]).token(len)
    }

    pub(crate) fn issue_code(
        &mut self,
        seed: u64,
        seller: usize,
        redirect_uri: Option<String>,
        now: i64,
        config: &AmazonConfig,
    ) -> String {
        let code = format!("ANDM{}", self.token(seed, "code", 16).to_ascii_uppercase());
        self.codes.insert(
            code.clone(),
            Code { seller, redirect_uri, expires: now + config.code_ttl_secs, used: false },
        );
        code
    }

    /// A new authorization of `seller` with its first refresh token.
    fn authorize(&mut self, seed: u64, seller: usize) -> (usize, String) {
        self.auths.push(Authorization { seller, revoked: false });
        let auth = self.auths.len() - 1;
        let refresh = format!("Atzr|IwEB{}", self.token(seed, "refresh", 96));
        self.refresh.insert(refresh.clone(), auth);
        (auth, refresh)
    }

    fn issue_access(&mut self, seed: u64, auth: usize, now: i64, ttl: i64) -> String {
        if self.access.len() > SWEEP_AT {
            self.access.retain(|_, live| live.expires > now);
        }
        let token = format!("Atza|IwEB{}", self.token(seed, "access", 96));
        self.access.insert(token.clone(), Live { auth, expires: now + ttl });
        token
    }

    pub(crate) fn issue_rdt(
        &mut self,
        seed: u64,
        seller_token: &str,
        resources: Vec<RdtResource>,
        now: i64,
        ttl: i64,
    ) -> Option<String> {
        let auth = self.access.get(seller_token)?.auth;
        if self.rdts.len() > SWEEP_AT {
            self.rdts.retain(|_, rdt| rdt.expires > now);
        }
        let token = format!("Atz.sprdt|IQEB{}", self.token(seed, "rdt", 64));
        self.rdts.insert(token.clone(), RdtGrant { auth, expires: now + ttl, resources });
        Some(token)
    }

    fn live_auth(&self, auth: usize) -> Option<usize> {
        self.auths.get(auth).filter(|a| !a.revoked).map(|a| a.seller)
    }

    /// What `token` gives access to at `now`: nothing when unknown, expired or revoked.
    pub(crate) fn check(&self, token: &str, now: i64) -> Option<Access> {
        if let Some(live) = self.access.get(token) {
            if live.expires <= now {
                return None;
            }
            return self.live_auth(live.auth).map(|seller| Access::Lwa { seller });
        }
        let rdt = self.rdts.get(token)?;
        if rdt.expires <= now {
            return None;
        }
        self.live_auth(rdt.auth).map(|seller| Access::Rdt { seller, resources: rdt.resources.clone() })
    }

    pub(crate) fn revoke_seller(&mut self, seller: usize) {
        for auth in self.auths.iter_mut().filter(|a| a.seller == seller) {
            auth.revoked = true;
        }
    }

    pub(crate) fn revoke_all(&mut self) {
        for auth in &mut self.auths {
            auth.revoked = true;
        }
    }

    pub(crate) fn live_tokens(&self, now: i64) -> usize {
        let lwa =
            self.access.values().filter(|l| l.expires > now && self.live_auth(l.auth).is_some()).count();
        let rdt = self.rdts.values().filter(|r| r.expires > now && self.live_auth(r.auth).is_some()).count();
        lwa + rdt
    }
}

/// LWA's token answer.
#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: &'a str,
    refresh_token: &'a str,
    token_type: &'static str,
    expires_in: i64,
}

/// LWA's error answer (OAuth 2.0, RFC 6749 §5.2), with the field order Amazon uses.
#[derive(Serialize)]
struct OAuthError {
    error_description: String,
    error: &'static str,
}

fn oauth_error(sim: &AmazonSim, status: StatusCode, error: &'static str, description: String) -> Response {
    reply(sim, status, None, &OAuthError { error_description: description, error })
}

fn invalid_grant(sim: &AmazonSim, parameter: &str) -> Response {
    let description = if parameter == "refresh_token" {
        "The request has an invalid grant parameter : refresh_token. User may have revoked or didn't grant the permission."
            .to_owned()
    } else {
        format!("The request has an invalid grant parameter : {parameter}")
    };
    oauth_error(sim, StatusCode::BAD_REQUEST, "invalid_grant", description)
}

fn missing(sim: &AmazonSim, parameter: &str) -> Response {
    oauth_error(
        sim,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        format!("The request is missing a required parameter : {parameter}"),
    )
}

/// `POST /lwa/auth/o2/token`.
pub(super) async fn token(
    State(sim): State<Arc<AmazonSim>>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let Ok(Form(pairs)) = form else {
        return oauth_error(
            &sim,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request has an invalid parameter : Content-Type".to_owned(),
        );
    };
    let param = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let Some(grant_type) = param("grant_type") else { return missing(&sim, "grant_type") };
    let (Some(client_id), Some(client_secret)) = (param("client_id"), param("client_secret")) else {
        return missing(&sim, if param("client_id").is_none() { "client_id" } else { "client_secret" });
    };
    if client_id != sim.config.client_id || client_secret != sim.config.client_secret {
        return oauth_error(
            &sim,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed".to_owned(),
        );
    }
    let now = sim.ctx.clock.now_unix();
    let seed = sim.ctx.seed;
    let ttl = sim.config.access_token_ttl_secs;
    match grant_type {
        "authorization_code" => {
            let Some(code) = param("code") else { return missing(&sim, "code") };
            let mut state = sim.auth();
            let seller = match state.codes.get_mut(code) {
                Some(c) if !c.used && c.expires > now => {
                    if let (Some(expected), Some(given)) = (c.redirect_uri.as_deref(), param("redirect_uri"))
                        && expected != given
                    {
                        drop(state);
                        return invalid_grant(&sim, "redirect_uri");
                    }
                    c.used = true;
                    c.seller
                }
                _ => {
                    drop(state);
                    return invalid_grant(&sim, "code");
                }
            };
            let (auth, refresh) = state.authorize(seed, seller);
            let access = state.issue_access(seed, auth, now, ttl);
            drop(state);
            let body = TokenResponse {
                access_token: &access,
                refresh_token: &refresh,
                token_type: "bearer",
                expires_in: ttl,
            };
            reply(&sim, StatusCode::OK, None, &body)
        }
        "refresh_token" => {
            let Some(refresh) = param("refresh_token") else { return missing(&sim, "refresh_token") };
            let mut state = sim.auth();
            let auth = match state.refresh.get(refresh).copied() {
                Some(auth) if state.live_auth(auth).is_some() => auth,
                _ => {
                    drop(state);
                    return invalid_grant(&sim, "refresh_token");
                }
            };
            let access = state.issue_access(seed, auth, now, ttl);
            drop(state);
            let body = TokenResponse {
                access_token: &access,
                refresh_token: refresh,
                token_type: "bearer",
                expires_in: ttl,
            };
            reply(&sim, StatusCode::OK, None, &body)
        }
        _ => oauth_error(
            &sim,
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server".to_owned(),
        ),
    }
}

fn consent_error(text: &'static str) -> Response {
    (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

/// `GET /sellercentral/apps/authorize/consent`: the seller confirms at once.
pub(super) async fn consent(
    State(sim): State<Arc<AmazonSim>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let param = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if param("application_id") != Some(sim.config.application_id.as_str()) {
        return consent_error("the application_id is not a registered application");
    }
    if sim.config.draft && param("version") != Some("beta") {
        return consent_error("the application is in draft state: add version=beta to authorize it");
    }
    let redirect_uri = match param("redirect_uri") {
        Some(uri) if sim.config.redirect_uris.iter().any(|r| r == uri) => uri.to_owned(),
        Some(_) => return consent_error("the redirect_uri is not registered for this application"),
        None => match sim.config.redirect_uris.first() {
            Some(uri) => uri.clone(),
            None => return consent_error("the application has no registered redirect_uri"),
        },
    };
    let now = sim.ctx.clock.now_unix();
    let seed = sim.ctx.seed;
    let (code, seller) = {
        let mut state = sim.auth();
        let seller = state.consenting_seller;
        let named = param("redirect_uri").map(|_| redirect_uri.clone());
        (state.issue_code(seed, seller, named, now, &sim.config), seller)
    };
    let Some(seller_id) = sim.config.sellers.get(seller).map(|s| s.id.as_str()) else {
        return consent_error("no seller is logged in");
    };
    let mut location = redirect_uri;
    location.push(if location.contains('?') { '&' } else { '?' });
    if let Some(state) = param("state") {
        location.push_str("state=");
        location.push_str(&percent_encode(state));
        location.push('&');
    }
    location.push_str("selling_partner_id=");
    location.push_str(&percent_encode(seller_id));
    location.push_str("&spapi_oauth_code=");
    location.push_str(&percent_encode(&code));
    match HeaderValue::from_str(&location) {
        Ok(value) => (StatusCode::FOUND, [(header::LOCATION, value)]).into_response(),
        Err(_) => consent_error("the redirect_uri cannot be used"),
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(super) fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(path: &str) -> RdtResource {
        RdtResource { method: "GET".into(), path: path.into(), data_elements: vec![] }
    }

    #[test]
    fn rdt_resources_match_paths_and_placeholders() {
        assert!(resource("/orders/v0/orders").covers("GET", "/orders/v0/orders"));
        assert!(!resource("/orders/v0/orders").covers("POST", "/orders/v0/orders"));
        assert!(!resource("/orders/v0/orders").covers("GET", "/orders/v0/orders/1/address"));
        assert!(
            resource("/orders/v0/orders/{orderId}/address").covers("GET", "/orders/v0/orders/1-2-3/address")
        );
        assert!(resource("/orders/v0/orders/1-2-3").covers("GET", "/orders/v0/orders/1-2-3"));
        assert!(!resource("/orders/v0/orders/1-2-3").covers("GET", "/orders/v0/orders/1-2-4"));
    }

    #[test]
    fn codes_are_single_use_and_revocation_kills_every_token() {
        let config = AmazonConfig::default();
        let mut state = AuthState::default();
        let code = state.issue_code(1, 0, None, 100, &config);
        assert!(code.starts_with("ANDM"));
        let (auth, refresh) = state.authorize(1, 0);
        let access = state.issue_access(1, auth, 100, 3600);
        assert!(matches!(state.check(&access, 200), Some(Access::Lwa { seller: 0 })));
        assert!(state.check(&access, 3700).is_none(), "expired");
        let rdt = state.issue_rdt(1, &access, vec![resource("/orders/v0/orders")], 100, 3600);
        let rdt = rdt.unwrap_or_default();
        assert!(matches!(state.check(&rdt, 200), Some(Access::Rdt { seller: 0, .. })));
        state.revoke_seller(0);
        assert!(state.check(&access, 200).is_none());
        assert!(state.check(&rdt, 200).is_none());
        assert!(state.refresh.get(&refresh).and_then(|a| state.live_auth(*a)).is_none());
    }

    #[test]
    fn percent_encoding_keeps_unreserved_characters() {
        assert_eq!(percent_encode("a b&c=d|é~"), "a%20b%26c%3Dd%7C%C3%A9~");
    }
}
