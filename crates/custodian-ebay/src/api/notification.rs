//! Notification `getPublicKey` (`GET /commerce/notification/v1/public_key/{public_key_id}`).

use custodian_core::ports::PlatformError;
use custodian_http::Request;

use crate::client::Client;

/// Whether `kid` looks like an eBay key id (a UUID-like token): anything else is never sent to eBay.
pub(crate) fn plausible_kid(kid: &str) -> bool {
    (1..=64).contains(&kid.len()) && kid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

pub(crate) fn get_public_key(client: &Client, kid: &str) -> Result<Request, PlatformError> {
    let url = client.api_url(&format!("/commerce/notification/v1/public_key/{kid}"))?;
    Ok(Request::get(url))
}
