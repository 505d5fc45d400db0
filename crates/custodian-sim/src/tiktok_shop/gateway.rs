//! The Open API host (`open-api.tiktokglobalshop.com`): the checks every request passes (path, app key,
//! signature, timestamp, access token, API package, shop cipher, rate limit) and the dispatch to the
//! endpoints.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::Response;
use serde::Serialize;

use super::auth::AccessCheck;
use super::codes::{self, Code};
use super::sign::{same_signature, sign_request};
use super::{ShopRef, TikTokShopSim};
use crate::faults::SimPlatform;

/// The endpoints served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint<'a> {
    /// `GET /authorization/202309/shops`.
    Shops,
    /// `POST /order/202309/orders/search`.
    OrderSearch,
    /// `GET /order/202309/orders?ids=…`.
    OrderDetail,
    /// `POST /product/202309/products/search`.
    ProductSearch,
    /// `POST /product/202309/inventory/search`.
    InventorySearch,
    /// `POST /product/202309/products/{product_id}/inventory/update`.
    InventoryUpdate(&'a str),
}

impl<'a> Endpoint<'a> {
    fn parse(method: &Method, path: &'a str) -> Option<Self> {
        let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
        let endpoint = match segments.as_slice() {
            ["authorization", "202309", "shops"] => Self::Shops,
            ["order", "202309", "orders", "search"] => Self::OrderSearch,
            ["order", "202309", "orders"] => Self::OrderDetail,
            ["product", "202309", "products", "search"] => Self::ProductSearch,
            ["product", "202309", "inventory", "search"] => Self::InventorySearch,
            ["product", "202309", "products", id, "inventory", "update"] if !id.is_empty() => {
                Self::InventoryUpdate(id)
            }
            _ => return None,
        };
        let expected = match endpoint {
            Self::Shops | Self::OrderDetail => Method::GET,
            _ => Method::POST,
        };
        (method == expected).then_some(endpoint)
    }

    /// The API packages of which the token must hold one.
    fn packages(self) -> &'static [&'static str] {
        match self {
            Self::Shops => &["seller.authorization.info"],
            Self::OrderSearch | Self::OrderDetail => &["seller.order.info"],
            Self::ProductSearch | Self::InventorySearch => &["seller.product.basic", "seller.product.write"],
            Self::InventoryUpdate(_) => &["seller.product.write"],
        }
    }

    fn shop_scoped(self) -> bool {
        self != Self::Shops
    }
}

/// The query value of `key` (its first occurrence).
pub(super) fn param<'a>(query: &'a [(String, String)], key: &str) -> Option<&'a str> {
    query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

#[derive(Serialize)]
struct ShopJson<'a> {
    cipher: &'a str,
    code: &'a str,
    id: &'a str,
    name: &'a str,
    region: &'a str,
    seller_type: &'a str,
}

#[derive(Serialize)]
struct ShopsData<'a> {
    shops: Vec<ShopJson<'a>>,
}

/// Every request under `/open-api`.
pub(super) async fn open_api(
    State(sim): State<Arc<TikTokShopSim>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    sim.gateway(&method, &uri, &headers, &body)
}

impl TikTokShopSim {
    fn fail(&self, code: Code, detail: Option<&str>) -> Response {
        code.response(&self.request_id(), detail)
    }

    fn gateway(&self, method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Response {
        let path = uri.path().strip_prefix("/open-api").unwrap_or(uri.path());
        let Some(endpoint) = Endpoint::parse(method, path) else {
            return self.fail(codes::INVALID_PATH, None);
        };
        let Ok(Query(query)) = Query::<Vec<(String, String)>>::try_from_uri(uri) else {
            return self.fail(codes::INVALID_PARAM, Some("the query string is malformed"));
        };

        if param(&query, "app_key") != Some(self.config.app_key.as_str()) {
            return self.fail(codes::INVALID_SIGN, None);
        }
        let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let expected = sign_request(&self.config.app_secret, path, &query, body, content_type);
        if !param(&query, "sign").is_some_and(|given| same_signature(&expected, given)) {
            return self.fail(codes::INVALID_SIGN, None);
        }
        let now = self.ctx.clock.now_unix();
        let fresh = param(&query, "timestamp")
            .filter(|t| t.len() == 10 && t.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|t| t.parse::<i64>().ok())
            .is_some_and(|t| (now - t).abs() <= self.config.timestamp_tolerance_secs);
        if !fresh {
            return self.fail(codes::INVALID_PARAM, Some("timestamp is invalid or expired"));
        }

        let token = headers.get("x-tts-access-token").and_then(|v| v.to_str().ok()).unwrap_or("");
        let check = self.auth_state().check_access(token, now);
        let (seller, scopes) = match check {
            AccessCheck::Valid { seller, scopes } => (seller, scopes),
            AccessCheck::Invalid => return self.fail(codes::INVALID_ACCESS_TOKEN, None),
            AccessCheck::Expired => return self.fail(codes::EXPIRED_ACCESS_TOKEN, None),
        };
        let granted = scopes.as_ref().unwrap_or(&self.config.scopes);
        if !endpoint.packages().iter().any(|p| granted.iter().any(|g| g == p)) {
            return self.fail(codes::MISSING_SCOPE, None);
        }

        let shop = if endpoint.shop_scoped() {
            let shop = param(&query, "shop_cipher").and_then(|c| self.config.shop_by_cipher(c));
            match shop {
                Some(shop) if shop.seller == seller => Some(shop),
                Some(_) => return self.fail(codes::INVALID_PARAM, Some("shop_cipher is invalid")),
                None => return self.fail(codes::INVALID_PARAM, Some("shop_cipher is missing or invalid")),
            }
        } else {
            None
        };
        let bucket = format!("{}/{}", self.config.app_key, shop.map_or("", |s| s.shop.cipher.as_str()));
        if self.limiter.check(&bucket, self.config.rate_limit).is_err() {
            self.ctx.faults.record_throttled(SimPlatform::TikTokShop);
            return self.fail(codes::TOO_MANY_REQUESTS, None);
        }

        match (endpoint, shop) {
            (Endpoint::Shops, _) => self.shops(seller),
            (Endpoint::OrderSearch, Some(shop)) => self.order_search(shop, &query, body),
            (Endpoint::OrderDetail, Some(shop)) => self.order_detail(shop, &query),
            (Endpoint::ProductSearch, Some(shop)) => self.product_search(shop, &query, body),
            (Endpoint::InventorySearch, Some(shop)) => self.inventory_search(shop, body),
            (Endpoint::InventoryUpdate(product), Some(shop)) => self.inventory_update(shop, product, body),
            (_, None) => self.fail(codes::INVALID_PARAM, Some("shop_cipher is missing or invalid")),
        }
    }

    fn shops(&self, seller: usize) -> Response {
        let shops = self
            .config
            .shops()
            .filter(|s: &ShopRef<'_>| s.seller == seller)
            .map(|s| ShopJson {
                cipher: &s.shop.cipher,
                code: &s.shop.code,
                id: &s.shop.id,
                name: &s.shop.name,
                region: &s.shop.region,
                seller_type: &s.shop.seller_type,
            })
            .collect();
        codes::success(&self.request_id(), &ShopsData { shops })
    }

    /// A request body as JSON (an empty body is the default value); `None` if it does not parse.
    pub(super) fn json_body<T: serde::de::DeserializeOwned + Default>(&self, body: &[u8]) -> Option<T> {
        if body.is_empty() {
            return Some(T::default());
        }
        serde_json::from_slice(body).ok()
    }

    pub(super) fn invalid(&self, detail: &str) -> Response {
        self.fail(codes::INVALID_PARAM, Some(detail))
    }
}
