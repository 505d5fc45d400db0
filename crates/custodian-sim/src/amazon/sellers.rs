//! Sellers API v1 (`sellers.json`): getMarketplaceParticipations, the cheap authorized call that tells which
//! marketplaces the token's selling partner participates in.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;

use super::AmazonSim;
use super::data::marketplace;
use super::envelope::{Operation, admit, reply};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Marketplace<'a> {
    id: &'a str,
    name: &'static str,
    country_code: &'static str,
    default_currency_code: &'static str,
    default_language_code: &'static str,
    domain_name: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Participation {
    is_participating: bool,
    has_suspended_listings: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MarketplaceParticipation<'a> {
    marketplace: Marketplace<'a>,
    store_name: &'a str,
    participation: Participation,
}

#[derive(Serialize)]
struct GetMarketplaceParticipationsResponse<'a> {
    payload: Vec<MarketplaceParticipation<'a>>,
}

/// `GET /sellers/v1/marketplaceParticipations`.
pub(super) async fn get_marketplace_participations(
    State(sim): State<Arc<AmazonSim>>,
    headers: HeaderMap,
) -> Response {
    let op = Operation::GetMarketplaceParticipations;
    let caller = match admit(&sim, &headers, op, "GET", "/sellers/v1/marketplaceParticipations") {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let payload = sim
        .config
        .sellers
        .get(caller.seller)
        .map(|seller| {
            seller
                .marketplaces
                .iter()
                .map(|id| {
                    let info = marketplace(id);
                    MarketplaceParticipation {
                        marketplace: Marketplace {
                            id,
                            name: info.name,
                            country_code: info.country,
                            default_currency_code: info.currency,
                            default_language_code: info.language,
                            domain_name: info.domain,
                        },
                        store_name: &seller.store_name,
                        participation: Participation {
                            is_participating: true,
                            has_suspended_listings: false,
                        },
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    reply(&sim, StatusCode::OK, Some(op), &GetMarketplaceParticipationsResponse { payload })
}
