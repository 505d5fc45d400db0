//! Facebook Login (ads-apis.md §1.2) and token inspection (§1.4): the dialog, `oauth/access_token` (code
//! exchange, long-lived exchange, app token) and `debug_token`.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use serde_json::{Value, json};

use super::error::GraphError;
use super::params::{Params, proof_matches};
use super::state::Token;
use super::{MetaGrant, MetaSim, Revocation};

/// Scopes whose grants name ad accounts in `granular_scopes[].target_ids`.
const ACCOUNT_SCOPES: [&str; 2] = ["ads_read", "ads_management"];

/// `GET /www/{version}/dialog/oauth`: the user consents (or cancels) and is sent back to `redirect_uri`.
pub(super) async fn dialog(
    State(sim): State<Arc<MetaSim>>,
    Path(version): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.as_deref(), &HeaderMap::new(), &[]);
    let page = |text: &str| (StatusCode::BAD_REQUEST, text.to_owned()).into_response();
    if !sim.config.versions.contains(&version) {
        return page("This version of the login dialog is not supported.");
    }
    if params.get("client_id") != Some(sim.config.app_id.as_str()) {
        return page("Invalid App ID: the provided app ID does not look like a valid app ID.");
    }
    let Some(redirect) =
        params.get("redirect_uri").filter(|r| sim.config.redirect_uris.iter().any(|u| u == r))
    else {
        return page(
            "URL blocked: This redirect failed because the redirect URI is not whitelisted in the app's Client \
             OAuth Settings.",
        );
    };
    let Ok(mut location) = url::Url::parse(redirect) else {
        return page("URL blocked: the redirect URI is not a valid URL.");
    };
    let state = params.get("state").unwrap_or("");
    if sim.config.deny_dialog {
        location
            .query_pairs_mut()
            .append_pair("error", "access_denied")
            .append_pair("error_code", "200")
            .append_pair("error_description", "Permissions error")
            .append_pair("error_reason", "user_denied")
            .append_pair("state", state);
    } else {
        let mut scopes: Vec<String> = params
            .get("scope")
            .unwrap_or("")
            .split([',', ' '])
            .filter(|s| !s.is_empty() && !sim.config.declined_scopes.iter().any(|d| d == s))
            .map(str::to_owned)
            .collect();
        if !scopes.iter().any(|s| s == "public_profile") {
            scopes.push("public_profile".to_owned());
        }
        let grant = MetaGrant {
            user_id: sim.config.user_id.clone(),
            scopes,
            accounts: sim.config.accounts.iter().map(|a| a.id.clone()).collect(),
        };
        let code = sim.issue_code_for(grant, redirect);
        location.query_pairs_mut().append_pair("code", &code).append_pair("state", state);
    }
    location.set_fragment(Some("_=_"));
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(value) = HeaderValue::from_str(location.as_str()) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

impl MetaSim {
    fn check_client(&self, params: &Params, secret: bool) -> Result<(), GraphError> {
        if params.get("client_id") != Some(self.config.app_id.as_str()) {
            return Err(GraphError::new(101, None, "Error validating application. Invalid application ID."));
        }
        if secret && params.get("client_secret") != Some(self.config.app_secret.as_str()) {
            // Code 1, but a client error: HTTP 400, not transient.
            let mut error = GraphError::new(1, None, "Error validating client secret.");
            error.status = StatusCode::BAD_REQUEST;
            return Err(error);
        }
        Ok(())
    }

    /// Why a user token does not work (190 and its subcode), if it does not.
    pub(super) fn token_problem(&self, token: &Token, now: i64) -> Option<GraphError> {
        let state = self.state();
        let auth = state.auths.get(token.auth)?;
        if let Some(why) = auth.revoked {
            let message = match why {
                Revocation::AppRemoved => {
                    format!("Error validating access token: The user has not authorized application {}.", self.config.app_id)
                }
                Revocation::PasswordChanged => "Error validating access token: The session has been invalidated \
                                                because the user changed their password or Facebook has changed the \
                                                session for security reasons."
                    .to_owned(),
            };
            return Some(GraphError::new(190, Some(why.subcode()), &message));
        }
        if token.expires_at.is_some_and(|at| at <= now) {
            return Some(GraphError::new(
                190,
                Some(463),
                "Error validating access token: Session has expired. The current time is later than the expiry time.",
            ));
        }
        None
    }

    /// `oauth/access_token`: code exchange, `fb_exchange_token` and `client_credentials`.
    pub(super) fn access_token(&self, params: &Params) -> Result<Value, GraphError> {
        let now = self.ctx.clock.now_unix();
        match params.get("grant_type") {
            Some("client_credentials") => {
                self.check_client(params, true)?;
                Ok(json!({
                    "access_token": format!("{}|{}", self.config.app_id, self.config.app_secret),
                    "token_type": "bearer",
                }))
            }
            Some("fb_exchange_token") => {
                self.check_client(params, true)?;
                let short = params.get("fb_exchange_token").unwrap_or("");
                let token = self.state().tokens.get(short).cloned().ok_or_else(unknown_token)?;
                if let Some(problem) = self.token_problem(&token, now) {
                    return Err(problem);
                }
                let expires_at = now + self.config.long_lived_secs;
                let long = self.state().issue_token(self.ctx.seed, token.auth, now, Some(expires_at), true);
                Ok(
                    json!({ "access_token": long, "token_type": "bearer", "expires_in": self.config.long_lived_secs }),
                )
            }
            Some(_) => Err(GraphError::invalid("Unsupported grant_type")),
            None => {
                self.check_client(params, true)?;
                let code = params.get("code").unwrap_or("");
                let redirect = params.get("redirect_uri").unwrap_or("");
                let mut state = self.state();
                let entry = state
                    .codes
                    .get_mut(code)
                    .ok_or_else(|| GraphError::new(100, None, "Invalid verification code format."))?;
                if entry.used {
                    return Err(GraphError::new(100, Some(36_009), "This authorization code has been used."));
                }
                if entry.expires_at <= now {
                    return Err(GraphError::new(100, Some(36_007), "This authorization code has expired."));
                }
                if entry.redirect_uri != redirect {
                    return Err(GraphError::new(
                        100,
                        Some(36_008),
                        "Error validating verification code. Please make sure your redirect_uri is identical to the \
                         one you used in the OAuth dialog request",
                    ));
                }
                entry.used = true;
                let grant = entry.grant.clone();
                let auth = state.authorize(grant, now + self.config.data_access_secs);
                let expires_at = now + self.config.short_lived_secs;
                let token = state.issue_token(self.ctx.seed, auth, now, Some(expires_at), false);
                Ok(
                    json!({ "access_token": token, "token_type": "bearer", "expires_in": self.config.short_lived_secs }),
                )
            }
        }
    }

    /// Whether `token` is this app's access token `{app-id}|{app-secret}`.
    pub(super) fn is_app_token(&self, token: &str) -> bool {
        token
            .split_once('|')
            .is_some_and(|(id, secret)| id == self.config.app_id && secret == self.config.app_secret)
    }

    /// `debug_token`: authenticates the caller (an app token, or a valid user token of the app) and
    /// describes `input_token`.
    pub(super) fn debug_token(&self, params: &Params, headers: &HeaderMap) -> Result<Value, GraphError> {
        let now = self.ctx.clock.now_unix();
        let caller = params.access_token(headers).ok_or_else(no_token)?;
        let user_caller = if self.is_app_token(&caller) {
            false
        } else if caller.contains('|') {
            return Err(GraphError::new(190, None, "Invalid OAuth access token signature."));
        } else {
            let token = self.state().tokens.get(&caller).cloned().ok_or_else(unknown_token)?;
            if let Some(problem) = self.token_problem(&token, now) {
                return Err(problem);
            }
            true
        };
        self.check_proof(params, &caller, user_caller)?;
        let input = params
            .get("input_token")
            .filter(|t| !t.is_empty())
            .ok_or_else(|| GraphError::invalid("The parameter input_token is required"))?;
        if self.is_app_token(input) {
            return Ok(json!({ "data": {
                "app_id": self.config.app_id, "type": "APP", "application": self.config.app_name, "is_valid": true,
            }}));
        }
        let (token, auth) = {
            let state = self.state();
            match state.tokens.get(input) {
                None => {
                    return Ok(json!({ "data": {
                        "error": { "code": 190, "message": "Invalid OAuth access token." },
                        "is_valid": false,
                        "scopes": [],
                    }}));
                }
                Some(token) => (token.clone(), state.auths.get(token.auth).cloned()),
            }
        };
        let Some(auth) = auth else {
            return Err(GraphError::new(
                2,
                None,
                "An unexpected error has occurred. Please retry your request later.",
            ));
        };
        let mut data = json!({
            "app_id": self.config.app_id,
            "type": "USER",
            "application": self.config.app_name,
            "data_access_expires_at": auth.data_access_expires_at,
            "expires_at": token.expires_at.unwrap_or(0),
            "is_valid": true,
            "scopes": auth.grant.scopes,
            "user_id": auth.grant.user_id,
        });
        if token.long_lived {
            data["issued_at"] = json!(token.issued_at);
        }
        let granular: Vec<Value> = auth
            .grant
            .scopes
            .iter()
            .filter(|s| ACCOUNT_SCOPES.contains(&s.as_str()))
            .map(|scope| {
                if self.config.granular_target_ids {
                    json!({ "scope": scope, "target_ids": auth.grant.accounts })
                } else {
                    json!({ "scope": scope })
                }
            })
            .collect();
        data["granular_scopes"] = Value::Array(granular);
        if let Some(problem) = self.token_problem(&token, now) {
            data["is_valid"] = json!(false);
            data["scopes"] = json!([]);
            data["granular_scopes"] = json!([]);
            let mut error = json!({ "code": problem.code, "message": problem.message });
            if let Some(subcode) = problem.subcode {
                error["subcode"] = json!(subcode);
            }
            data["error"] = error;
        }
        Ok(json!({ "data": data }))
    }

    /// Checks `appsecret_proof`: required for user tokens when the app requires it; checked whenever given.
    pub(super) fn check_proof(
        &self,
        params: &Params,
        token: &str,
        user_token: bool,
    ) -> Result<(), GraphError> {
        match params.get("appsecret_proof") {
            Some(proof) if proof_matches(&self.config.app_secret, token, proof) => Ok(()),
            Some(_) => {
                Err(GraphError::method(100, None, "Invalid appsecret_proof provided in the API argument"))
            }
            None if user_token && self.config.require_appsecret_proof => Err(GraphError::method(
                100,
                None,
                "API calls from the server require an appsecret_proof argument",
            )),
            None => Ok(()),
        }
    }
}

/// 190 for a token the platform never issued.
pub(super) fn unknown_token() -> GraphError {
    GraphError::new(190, None, "Invalid OAuth access token - Cannot parse access token")
}

/// 104 for a call without a token.
pub(super) fn no_token() -> GraphError {
    GraphError::new(104, None, "An access token is required to request this resource.")
}
