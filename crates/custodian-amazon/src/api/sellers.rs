//! Sellers API v1: `GET /sellers/v1/marketplaceParticipations` (0.016/s, burst 15), the cheap authorized
//! call behind validation and the token-health check.

use custodian_http::Url;
use secrecy::SecretString;

use crate::client::Client;
use crate::error::AmazonError;
use crate::rate::Operation;
use crate::wire::GetMarketplaceParticipationsResponse;

pub(crate) async fn marketplace_participations(
    client: &Client,
    base: &Url,
    seller: &str,
    token: &SecretString,
) -> Result<GetMarketplaceParticipationsResponse, AmazonError> {
    let url = super::endpoint(base, &["sellers", "v1", "marketplaceParticipations"]);
    client.sp(Operation::GetMarketplaceParticipations, seller, super::get(url, token)).await
}
