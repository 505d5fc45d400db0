//! FBA Inventory API v1: `GET /fba/inventory/v1/summaries` (2/s, burst 2) at marketplace granularity with
//! `details=true` and `nextToken`.

use custodian_http::Url;
use secrecy::SecretString;

use crate::client::Client;
use crate::error::AmazonError;
use crate::rate::Operation;
use crate::wire::GetInventorySummariesResponse;

pub(crate) async fn inventory_summaries(
    client: &Client,
    base: &Url,
    seller: &str,
    token: &SecretString,
    marketplace: &str,
    next_token: Option<&str>,
) -> Result<GetInventorySummariesResponse, AmazonError> {
    let url = super::endpoint(base, &["fba", "inventory", "v1", "summaries"]);
    let mut query = vec![
        ("details", "true"),
        ("granularityType", "Marketplace"),
        ("granularityId", marketplace),
        ("marketplaceIds", marketplace),
    ];
    if let Some(next) = next_token {
        query.push(("nextToken", next));
    }
    client.sp(Operation::GetInventorySummaries, seller, super::get(url, token).query(&query)).await
}
