//! Request parameters as Graph reads them: query string and form body together (a POST may carry them in
//! either), the access token from `access_token` or an `Authorization: Bearer|OAuth` header, and
//! `appsecret_proof` (§1.6).

use axum::http::{HeaderMap, header};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The parameters of one request, query first, then the form body.
#[derive(Debug, Clone, Default)]
pub(super) struct Params {
    pairs: Vec<(String, String)>,
    /// The query string's pairs only (for `paging.next`).
    query_len: usize,
}

impl Params {
    /// Parses the query string and, when the body is a form, the body.
    pub(super) fn parse(query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Self {
        let mut pairs: Vec<(String, String)> = query
            .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let query_len = pairs.len();
        let is_form = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if is_form || (!body.is_empty() && headers.get(header::CONTENT_TYPE).is_none()) {
            pairs.extend(url::form_urlencoded::parse(body).into_owned());
        }
        Self { pairs, query_len }
    }

    /// The first value of `name`.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The query string's pairs except those named in `skip`.
    pub(super) fn query_pairs_except<'a>(
        &'a self,
        skip: &'a [&str],
    ) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.pairs
            .iter()
            .take(self.query_len)
            .filter(move |(k, _)| !skip.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The access token: the `access_token` parameter, else the `Authorization` header's token.
    pub(super) fn access_token(&self, headers: &HeaderMap) -> Option<String> {
        if let Some(token) = self.get("access_token").filter(|t| !t.is_empty()) {
            return Some(token.to_owned());
        }
        let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
        let (scheme, token) = value.split_once(' ')?;
        (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth"))
            .then(|| token.trim().to_owned())
            .filter(|t| !t.is_empty())
    }
}

/// HMAC-SHA256 of `message` under `key` (HMAC takes keys of any length, so the error arm never runs).
pub(super) fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(message);
            mac.finalize().into_bytes().into()
        }
        Err(_) => [0; 32],
    }
}

/// `appsecret_proof` for `token`: lowercase hex HMAC-SHA256(key = app secret, message = token).
pub fn appsecret_proof(app_secret: &str, token: &str) -> String {
    data_encoding::HEXLOWER.encode(&hmac_sha256(app_secret.as_bytes(), token.as_bytes()))
}

/// Whether `proof` is the right proof for `token` (compared in constant time).
pub(super) fn proof_matches(app_secret: &str, token: &str, proof: &str) -> bool {
    let Ok(given) = data_encoding::HEXLOWER_PERMISSIVE.decode(proof.as_bytes()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()) else {
        return false;
    };
    mac.update(token.as_bytes());
    mac.verify_slice(&given).is_ok()
}
