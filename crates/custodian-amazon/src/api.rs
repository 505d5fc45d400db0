//! Typed request builders and calls, one module per SP-API resource (style rule 18), plus Login with
//! Amazon. Each function builds exactly the request the model documents (MIN-4: only the fields the call
//! needs) and returns the decoded wire type.

pub(crate) mod fba_inventory;
pub(crate) mod listings;
pub(crate) mod lwa;
pub(crate) mod orders_2026;
pub(crate) mod orders_v0;
pub(crate) mod sellers;
pub(crate) mod tokens;

use custodian_http::{Request, Url};
use secrecy::SecretString;

/// The header every SP-API call carries: an LWA access token or a Restricted Data Token.
pub(crate) const ACCESS_TOKEN_HEADER: &str = "x-amz-access-token";

/// `base` with `segments` appended, each percent-encoded (SKUs may hold `/`, spaces, …).
pub(crate) fn endpoint(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty();
        path.extend(segments);
    }
    url
}

/// A GET with the access token (marked sensitive).
pub(crate) fn get(url: Url, token: &SecretString) -> Request {
    Request::get(url).secret_header(ACCESS_TOKEN_HEADER, token).header("accept", "application/json")
}
