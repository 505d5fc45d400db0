//! The simulated platform `tiktok_shop`: its routes answer as the real API does (reference
//! `commerce-apis.md` §1): token endpoints judged by `code`, every Open API request's signature, timestamp,
//! token, package and shop cipher checked, page tokens, PII fields, inventory updates, the rate limit,
//! signed webhooks and faults in the platform's envelope.

// Marks the helpers below as test code for clippy (`allow-unwrap-in-tests`).
#![cfg(test)]

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::HeaderMap;
use custodian_http::{HttpClient, HttpConfig, Method, Request, Url};
use custodian_sim::rate::Limit;
use custodian_sim::tiktok_shop::{
    self, APP_KEY, APP_SECRET, NotificationKind, SHOP_CIPHER, SHOP_CIPHER_2, SHOP_ID, TikTokShopConfig,
    sign_request,
};
use custodian_sim::{Fault, FaultKind, RunningSim, Sim, SimConfig, SimPlatform};
use serde_json::Value;

async fn start(config: TikTokShopConfig) -> RunningSim {
    Sim::new(SimConfig { seed: 7, tiktok_shop: config, ..SimConfig::default() })
        .start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn http() -> HttpClient {
    HttpClient::new(HttpConfig { allow_plain_loopback: true, ..HttpConfig::default() }).unwrap()
}

/// A minimal signed client of the simulated Open API, independent of any adapter.
struct Api<'a> {
    sim: &'a RunningSim,
    http: HttpClient,
    key: String,
    secret: String,
}

impl<'a> Api<'a> {
    fn new(sim: &'a RunningSim) -> Self {
        let config = sim.sim.tiktok_shop.config();
        Self { sim, http: http(), key: config.app_key.clone(), secret: config.app_secret.clone() }
    }

    fn now(&self) -> i64 {
        self.sim.sim.ctx.clock.now_unix()
    }

    /// Sends a signed request (`app_key`, `timestamp`, `sign` added) and returns the status and body.
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&str>,
        token: &str,
    ) -> (u16, Value) {
        let timestamp = self.now().to_string();
        let mut pairs: Vec<(String, String)> =
            query.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        pairs.push(("app_key".to_owned(), self.key.clone()));
        pairs.push(("timestamp".to_owned(), timestamp));
        let bytes = body.unwrap_or("").as_bytes();
        let content_type = body.map(|_| "application/json");
        let sign = sign_request(&self.secret, path, &pairs, bytes, content_type);
        pairs.push(("sign".to_owned(), sign));
        self.raw(method, path, &pairs, body, token).await
    }

    async fn raw(
        &self,
        method: Method,
        path: &str,
        pairs: &[(String, String)],
        body: Option<&str>,
        token: &str,
    ) -> (u16, Value) {
        let url = Url::parse(&format!("{}/tiktok-shop/open-api{path}", self.sim.base_url())).unwrap();
        let query: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let mut request = Request::new(method, url).query(&query).header("x-tts-access-token", token);
        if let Some(body) = body {
            request = request.body(body.as_bytes().to_vec(), "application/json");
        }
        let response = self.http.send(request).await.unwrap();
        let value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        (response.status, value)
    }
}

async fn auth_get(sim: &RunningSim, path: &str, query: &[(&str, &str)]) -> Value {
    let url = Url::parse(&format!("{}/tiktok-shop/auth{path}", sim.base_url())).unwrap();
    let response = http().send(Request::get(url).query(query)).await.unwrap();
    assert_eq!(response.status, 200, "the auth host answers 200 and puts its verdict in `code`");
    serde_json::from_slice(&response.body).unwrap()
}

async fn exchange(sim: &RunningSim, code: &str) -> Value {
    auth_get(
        sim,
        "/api/v2/token/get",
        &[
            ("app_key", APP_KEY),
            ("app_secret", APP_SECRET),
            ("auth_code", code),
            ("grant_type", "authorized_code"),
        ],
    )
    .await
}

async fn refresh(sim: &RunningSim, refresh_token: &str) -> Value {
    auth_get(
        sim,
        "/api/v2/token/refresh",
        &[
            ("app_key", APP_KEY),
            ("app_secret", APP_SECRET),
            ("refresh_token", refresh_token),
            ("grant_type", "refresh_token"),
        ],
    )
    .await
}

/// Exchanges a fresh code of the default seller: (access token, refresh token).
async fn tokens(sim: &RunningSim) -> (String, String) {
    let code = sim.sim.tiktok_shop.issue_code(0).unwrap();
    let body = exchange(sim, &code).await;
    assert_eq!(body["code"], 0, "{body}");
    let data = &body["data"];
    (data["access_token"].as_str().unwrap().to_owned(), data["refresh_token"].as_str().unwrap().to_owned())
}

#[track_caller]
fn assert_code(actual: &(u16, Value), status: u16, code: i64) {
    assert_eq!((actual.0, actual.1["code"].as_i64()), (status, Some(code)), "{}", actual.1);
    assert!(actual.1["request_id"].as_str().is_some_and(|id| id.len() == 32), "request_id: {}", actual.1);
    assert!(actual.1["message"].is_string());
}

#[tokio::test]
async fn the_documented_signing_example_is_accepted_and_a_wrong_sign_is_106001() {
    // The request of "Sign your API request": app_key 29a39d, app_secret e59af819cc, timestamp 1623812664.
    let config = TikTokShopConfig {
        app_key: "29a39d".to_owned(),
        app_secret: "e59af819cc".to_owned(),
        ..TikTokShopConfig::default()
    };
    let sim = start(config).await;
    let shift = 1_623_812_664 - sim.sim.ctx.clock.now_unix();
    sim.sim.ctx.clock.advance(shift);
    let code = sim.sim.tiktok_shop.issue_code(0).unwrap();
    let body = auth_get(
        &sim,
        "/api/v2/token/get",
        &[
            ("app_key", "29a39d"),
            ("app_secret", "e59af819cc"),
            ("auth_code", &code),
            ("grant_type", "authorized_code"),
        ],
    )
    .await;
    let token = body["data"]["access_token"].as_str().unwrap().to_owned();
    let api = Api::new(&sim);
    let documented = |sign: &str| {
        vec![
            ("app_key".to_owned(), "29a39d".to_owned()),
            ("sign".to_owned(), sign.to_owned()),
            ("timestamp".to_owned(), "1623812664".to_owned()),
        ]
    };
    let ok = api
        .raw(
            Method::GET,
            "/authorization/202309/shops",
            &documented("b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8"),
            None,
            &token,
        )
        .await;
    assert_eq!((ok.0, ok.1["code"].as_i64()), (200, Some(0)), "{}", ok.1);

    let wrong = api
        .raw(
            Method::GET,
            "/authorization/202309/shops",
            &documented("a596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8"),
            None,
            &token,
        )
        .await;
    assert_code(&wrong, 401, 106_001);
    let missing = api
        .raw(
            Method::GET,
            "/authorization/202309/shops",
            &[("app_key".to_owned(), "29a39d".to_owned()), ("timestamp".to_owned(), "1623812664".to_owned())],
            None,
            &token,
        )
        .await;
    assert_code(&missing, 401, 106_001);
}

#[tokio::test]
async fn the_body_is_signed_byte_exact() {
    let sim = start(TikTokShopConfig::default()).await;
    let (token, _) = tokens(&sim).await;
    let api = Api::new(&sim);
    let path = "/order/202309/orders/search";
    let timestamp = api.now().to_string();
    let mut pairs = vec![
        ("app_key".to_owned(), APP_KEY.to_owned()),
        ("page_size".to_owned(), "5".to_owned()),
        ("shop_cipher".to_owned(), SHOP_CIPHER.to_owned()),
        ("timestamp".to_owned(), timestamp),
    ];
    let signed_body = r#"{"update_time_ge":0}"#;
    let sign = sign_request(APP_SECRET, path, &pairs, signed_body.as_bytes(), Some("application/json"));
    pairs.push(("sign".to_owned(), sign));
    let ok = api.raw(Method::POST, path, &pairs, Some(signed_body), &token).await;
    assert_eq!(ok.1["code"], 0, "{}", ok.1);
    // The same JSON value with other whitespace is other bytes: the signature no longer matches.
    let reformatted = api.raw(Method::POST, path, &pairs, Some(r#"{"update_time_ge": 0}"#), &token).await;
    assert_code(&reformatted, 401, 106_001);
}

#[tokio::test]
async fn tokens_are_exchanged_once_refreshed_and_end_with_the_authorization() {
    let sim = start(TikTokShopConfig::default()).await;
    let now = sim.sim.ctx.clock.now_unix();
    let code = sim.sim.tiktok_shop.issue_code(0).unwrap();
    let body = exchange(&sim, &code).await;
    assert_eq!((body["code"].as_i64(), body["message"].as_str()), (Some(0), Some("Success")));
    let data = &body["data"];
    for field in ["access_token", "refresh_token", "open_id", "seller_name", "seller_base_region"] {
        assert!(data[field].as_str().is_some_and(|v| !v.is_empty()), "{field} in {data}");
    }
    assert_eq!(data["open_id"], tiktok_shop::SELLER_OPEN_ID);
    assert_eq!(data["user_type"], 0);
    // Expiries are absolute Unix times, not durations (the clock may tick between `now` and the answer).
    let access_expiry = data["access_token_expire_in"].as_i64().unwrap();
    let refresh_expiry = data["refresh_token_expire_in"].as_i64().unwrap();
    assert!((0..=1).contains(&(access_expiry - now - 7 * 86_400)), "{access_expiry}");
    assert!((0..=1).contains(&(refresh_expiry - now - 365 * 86_400)), "{refresh_expiry}");
    let scopes: Vec<&str> =
        data["granted_scopes"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(scopes.contains(&"seller.order.info") && scopes.contains(&"seller.authorization.info"));

    let reused = exchange(&sim, &code).await;
    assert_eq!(
        (reused["code"].as_i64(), reused["message"].as_str()),
        (Some(36_004_004), Some("invalid auth code"))
    );
    assert_eq!(exchange(&sim, "ROW_unknown").await["code"], 36_004_004);
    let wrong_secret = auth_get(
        &sim,
        "/api/v2/token/get",
        &[
            ("app_key", APP_KEY),
            ("app_secret", "nope"),
            ("auth_code", &code),
            ("grant_type", "authorized_code"),
        ],
    )
    .await;
    assert_ne!(wrong_secret["code"], 0);

    let old_access = data["access_token"].as_str().unwrap().to_owned();
    let refresh_token = data["refresh_token"].as_str().unwrap().to_owned();
    let refreshed = refresh(&sim, &refresh_token).await;
    assert_eq!(refreshed["code"], 0, "{refreshed}");
    assert_eq!(refreshed["data"]["refresh_token"], refresh_token.as_str(), "the refresh token is kept");
    let new_access = refreshed["data"]["access_token"].as_str().unwrap().to_owned();
    assert_ne!(new_access, old_access);
    let api = Api::new(&sim);
    for token in [&old_access, &new_access] {
        let shops = api.call(Method::GET, "/authorization/202309/shops", &[], None, token).await;
        assert_eq!(shops.1["code"], 0, "earlier access tokens stay valid until their expiry");
    }

    // The seller deauthorizes: tokens are invalid (105001) and refreshing finds no auth record.
    assert!(sim.sim.tiktok_shop.deauthorize(SHOP_ID));
    let revoked = api.call(Method::GET, "/authorization/202309/shops", &[], None, &new_access).await;
    assert_code(&revoked, 401, 105_001);
    let gone = refresh(&sim, &refresh_token).await;
    assert_eq!(
        (gone["code"].as_i64(), gone["message"].as_str()),
        (Some(36_004_005), Some("can not find related auth record"))
    );

    // A new consent is a new authorization.
    let (token, refresh_token) = tokens(&sim).await;
    assert_eq!(api.call(Method::GET, "/authorization/202309/shops", &[], None, &token).await.1["code"], 0);
    sim.sim.ctx.clock.advance(366 * 86_400);
    let expired = refresh(&sim, &refresh_token).await;
    assert_eq!(
        (expired["code"].as_i64(), expired["message"].as_str()),
        (Some(36_004_001), Some("rt has expired"))
    );
}

#[tokio::test]
async fn access_tokens_expire_and_packages_are_enforced() {
    let sim = start(TikTokShopConfig::default()).await;
    let (token, _) = tokens(&sim).await;
    let api = Api::new(&sim);
    sim.sim.tiktok_shop.set_granted_scopes(0, &["seller.authorization.info"]);
    let shops = api.call(Method::GET, "/authorization/202309/shops", &[], None, &token).await;
    assert_eq!(shops.1["code"], 0);
    let orders = api
        .call(
            Method::POST,
            "/order/202309/orders/search",
            &[("page_size", "1"), ("shop_cipher", SHOP_CIPHER)],
            Some("{}"),
            &token,
        )
        .await;
    assert_code(&orders, 403, 105_005);
    assert_eq!(orders.1["message"], "you should apply auth pkg for this api");
    let garbage = api.call(Method::GET, "/authorization/202309/shops", &[], None, "TTP_garbage").await;
    assert_code(&garbage, 401, 105_001);
    sim.sim.ctx.clock.advance(7 * 86_400 + 1);
    let expired = api.call(Method::GET, "/authorization/202309/shops", &[], None, &token).await;
    assert_code(&expired, 401, 105_002);
    assert_eq!(expired.1["message"], "access token is expired, please refresh it");
}

#[tokio::test]
async fn stale_timestamps_missing_ciphers_and_unknown_paths_are_refused() {
    let sim = start(TikTokShopConfig::default()).await;
    let (token, _) = tokens(&sim).await;
    let api = Api::new(&sim);
    let path = "/authorization/202309/shops";
    let stale = (api.now() - 301).to_string();
    let mut pairs = vec![("app_key".to_owned(), APP_KEY.to_owned()), ("timestamp".to_owned(), stale)];
    let sign = sign_request(APP_SECRET, path, &pairs, b"", None);
    pairs.push(("sign".to_owned(), sign));
    assert_code(&api.raw(Method::GET, path, &pairs, None, &token).await, 400, 36_009_004);

    let no_cipher = api
        .call(Method::POST, "/order/202309/orders/search", &[("page_size", "1")], Some("{}"), &token)
        .await;
    assert_code(&no_cipher, 400, 36_009_004);
    let one_order = api
        .call(
            Method::GET,
            "/order/202309/orders/576460000000000001",
            &[("shop_cipher", SHOP_CIPHER)],
            None,
            &token,
        )
        .await;
    assert_code(&one_order, 404, 36_009_009);
    assert_eq!(one_order.1["message"], "Invalid path");
    let page = api
        .call(
            Method::POST,
            "/order/202309/orders/search",
            &[("page_size", "101"), ("shop_cipher", SHOP_CIPHER)],
            Some("{}"),
            &token,
        )
        .await;
    assert_code(&page, 400, 36_009_004);
}

#[tokio::test]
async fn authorized_shops_carry_their_ciphers() {
    let sim = start(TikTokShopConfig::default()).await;
    let (token, _) = tokens(&sim).await;
    let (status, body) =
        Api::new(&sim).call(Method::GET, "/authorization/202309/shops", &[], None, &token).await;
    assert_eq!((status, body["code"].as_i64(), body["message"].as_str()), (200, Some(0), Some("Success")));
    let shops = body["data"]["shops"].as_array().unwrap();
    let ciphers: Vec<&str> = shops.iter().filter_map(|s| s["cipher"].as_str()).collect();
    assert_eq!(ciphers, [SHOP_CIPHER, SHOP_CIPHER_2]);
    for shop in shops {
        for field in ["id", "name", "region", "seller_type", "code"] {
            assert!(shop[field].is_string(), "{field} in {shop}");
        }
    }
}

/// Every order of a search, following page tokens: (orders, pages, total_count).
async fn all_orders(
    api: &Api<'_>,
    token: &str,
    extra: &[(&str, &str)],
    body: &str,
) -> (Vec<Value>, usize, u64) {
    let mut orders = Vec::new();
    let mut page_token = String::new();
    let mut pages = 0;
    loop {
        let mut query = vec![("page_size", "7"), ("shop_cipher", SHOP_CIPHER)];
        query.extend_from_slice(extra);
        if !page_token.is_empty() {
            query.push(("page_token", page_token.as_str()));
        }
        let (status, page) =
            api.call(Method::POST, "/order/202309/orders/search", &query, Some(body), token).await;
        assert_eq!((status, page["code"].as_i64()), (200, Some(0)), "{page}");
        pages += 1;
        let data = &page["data"];
        orders.extend(data["orders"].as_array().unwrap().iter().cloned());
        let total = data["total_count"].as_u64().unwrap();
        page_token = data["next_page_token"].as_str().unwrap().to_owned();
        if page_token.is_empty() {
            return (orders, pages, total);
        }
        assert!(pages < 1_000, "the pages loop");
    }
}

#[tokio::test]
async fn order_search_pages_through_the_update_window_in_either_order() {
    let sim = start(TikTokShopConfig::default()).await;
    let (token, _) = tokens(&sim).await;
    let api = Api::new(&sim);
    let from = tiktok_shop::ORDERS_START + 20 * tiktok_shop::ORDER_INTERVAL + 300;
    let to = tiktok_shop::ORDERS_START + 120 * tiktok_shop::ORDER_INTERVAL;
    let body = format!(r#"{{"update_time_ge":{from},"update_time_lt":{to}}}"#);
    let (desc, pages, total) = all_orders(&api, &token, &[("sort_field", "update_time")], &body).await;
    assert!((98..=101).contains(&desc.len()), "{} orders", desc.len());
    assert_eq!(desc.len() as u64, total);
    assert_eq!(pages, desc.len().div_ceil(7));
    let updates: Vec<i64> = desc.iter().map(|o| o["update_time"].as_i64().unwrap()).collect();
    assert!(updates.iter().all(|t| (from..to).contains(t)), "every order is in the window");
    assert!(updates.windows(2).all(|w| w[0] > w[1]), "DESC by default");
    let (asc, _, _) =
        all_orders(&api, &token, &[("sort_field", "update_time"), ("sort_order", "ASC")], &body).await;
    let mut ids: Vec<&str> = asc.iter().map(|o| o["id"].as_str().unwrap()).collect();
    let mut desc_ids: Vec<&str> = desc.iter().map(|o| o["id"].as_str().unwrap()).collect();
    desc_ids.reverse();
    assert_eq!(ids, desc_ids, "ASC is DESC reversed");
    ids.dedup();
    assert_eq!(ids.len(), asc.len(), "no order twice");

    // PII as the real API returns it; recipient_address absent under UNPAID and ON_HOLD.
    for order in &asc {
        assert!(order["buyer_email"].as_str().unwrap().ends_with("@scs2.tiktok.com"));
        assert!(order["user_id"].is_string());
        let status = order["status"].as_str().unwrap();
        let address = &order["recipient_address"];
        if matches!(status, "UNPAID" | "ON_HOLD") {
            assert!(address.is_null(), "{order}");
        } else {
            for field in
                ["name", "phone_number", "address_line1", "postal_code", "region_code", "full_address"]
            {
                assert!(address[field].is_string(), "{field} in {address}");
            }
            assert!(address["district_info"].as_array().is_some_and(|d| !d.is_empty()));
        }
        let lines = order["line_items"].as_array().unwrap();
        assert!(
            !lines.is_empty() && lines.iter().all(|l| l["sku_id"].is_string() && l["sale_price"].is_string())
        );
        assert!(order["payment"]["total_amount"].is_string() && order["payment"]["currency"] == "GBP");
    }

    // A page token belongs to its query.
    let first = api
        .call(
            Method::POST,
            "/order/202309/orders/search",
            &[("page_size", "7"), ("shop_cipher", SHOP_CIPHER)],
            Some(&body),
            &token,
        )
        .await;
    let next = first.1["data"]["next_page_token"].as_str().unwrap().to_owned();
    let other = api
        .call(
            Method::POST,
            "/order/202309/orders/search",
            &[("page_size", "7"), ("shop_cipher", SHOP_CIPHER), ("page_token", &next)],
            Some(r#"{"update_time_ge":0}"#),
            &token,
        )
        .await;
    assert_code(&other, 400, 36_009_004);
}

#[tokio::test]
async fn status_filters_and_order_detail() {
    let sim = start(TikTokShopConfig::default()).await;
    let (token, _) = tokens(&sim).await;
    let api = Api::new(&sim);
    let (completed, _, total) = all_orders(&api, &token, &[], r#"{"order_status":"COMPLETED"}"#).await;
    assert!(!completed.is_empty() && completed.len() as u64 == total);
    assert!(completed.iter().all(|o| o["status"] == "COMPLETED"));

    let ids: Vec<&str> = completed.iter().take(3).map(|o| o["id"].as_str().unwrap()).collect();
    let joined = format!("{},576460000000099999", ids.join(","));
    let (status, detail) = api
        .call(
            Method::GET,
            "/order/202309/orders",
            &[("ids", &joined), ("shop_cipher", SHOP_CIPHER)],
            None,
            &token,
        )
        .await;
    assert_eq!((status, detail["code"].as_i64()), (200, Some(0)));
    let got: Vec<&str> =
        detail["data"]["orders"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(got, ids, "unknown ids are left out");
    assert_eq!(detail["data"]["orders"][0], completed[0], "detail and search agree");
    let too_many = vec!["576460000000000001"; 51].join(",");
    let refused = api
        .call(
            Method::GET,
            "/order/202309/orders",
            &[("ids", &too_many), ("shop_cipher", SHOP_CIPHER)],
            None,
            &token,
        )
        .await;
    assert_code(&refused, 400, 36_009_004);
}

#[tokio::test]
async fn inventory_updates_set_absolute_quantities_per_warehouse() {
    let sim = start(TikTokShopConfig::default()).await;
    let (token, _) = tokens(&sim).await;
    let api = Api::new(&sim);
    let (_, products) = api
        .call(
            Method::POST,
            "/product/202309/products/search",
            &[("page_size", "100"), ("shop_cipher", SHOP_CIPHER)],
            Some(r#"{"status":"ALL"}"#),
            &token,
        )
        .await;
    let data = &products["data"];
    assert_eq!((data["total_count"].as_u64(), data["next_page_token"].as_str()), (Some(20), Some("")));
    let product = &data["products"][0];
    let product_id = product["id"].as_str().unwrap();
    let sku = &product["skus"][0];
    let sku_id = sku["id"].as_str().unwrap();
    let warehouses: Vec<&str> =
        sku["inventory"].as_array().unwrap().iter().map(|i| i["warehouse_id"].as_str().unwrap()).collect();
    assert_eq!(warehouses.len(), 2);

    let path = format!("/product/202309/products/{product_id}/inventory/update");
    let body = format!(
        r#"{{"skus":[{{"id":"{sku_id}","inventory":[{{"warehouse_id":"{}","quantity":17}},{{"warehouse_id":"{}","quantity":0}}]}},{{"id":"1","inventory":[{{"quantity":3}}]}}]}}"#,
        warehouses[0], warehouses[1]
    );
    let (status, updated) =
        api.call(Method::POST, &path, &[("shop_cipher", SHOP_CIPHER)], Some(&body), &token).await;
    assert_eq!((status, updated["code"].as_i64()), (200, Some(0)), "{updated}");
    let results = updated["data"]["skus"].as_array().unwrap();
    assert_eq!(results[0]["id"], sku_id);
    assert_eq!((results[0]["success"].as_bool(), results[1]["success"].as_bool()), (Some(true), Some(false)));
    assert_eq!(sim.sim.tiktok_shop.stock_quantity(SHOP_ID, sku_id, warehouses[0]), Some(17));
    assert_eq!(sim.sim.tiktok_shop.stock_quantity(SHOP_ID, sku_id, warehouses[1]), Some(0));

    let search = format!(r#"{{"sku_ids":["{sku_id}"]}}"#);
    let (_, inventory) = api
        .call(
            Method::POST,
            "/product/202309/inventory/search",
            &[("shop_cipher", SHOP_CIPHER)],
            Some(&search),
            &token,
        )
        .await;
    let found = &inventory["data"]["inventory"][0];
    assert_eq!(found["product_id"], product_id);
    assert_eq!(found["skus"][0]["total_available_quantity"], 17);

    let bad_warehouse =
        format!(r#"{{"skus":[{{"id":"{sku_id}","inventory":[{{"warehouse_id":"1","quantity":1}}]}}]}}"#);
    let refused =
        api.call(Method::POST, &path, &[("shop_cipher", SHOP_CIPHER)], Some(&bad_warehouse), &token).await;
    assert_eq!((refused.0, refused.1["code"].as_i64()), (200, Some(12_052_097)));
    let unknown_product = api
        .call(
            Method::POST,
            "/product/202309/products/1/inventory/update",
            &[("shop_cipher", SHOP_CIPHER)],
            Some(&body),
            &token,
        )
        .await;
    assert_eq!(unknown_product.1["code"], 12_052_032);
    assert_eq!(
        sim.sim.tiktok_shop.stock_quantity(SHOP_ID, sku_id, warehouses[0]),
        Some(17),
        "refused updates change nothing"
    );
}

#[tokio::test]
async fn the_rate_limit_answers_429_36009002_and_is_counted() {
    let config = TikTokShopConfig { rate_limit: Limit::new(0.5, 3.0), ..TikTokShopConfig::default() };
    let sim = start(config).await;
    let (token, _) = tokens(&sim).await;
    let api = Api::new(&sim);
    let query = [("page_size", "1"), ("shop_cipher", SHOP_CIPHER)];
    for _ in 0..3 {
        assert_eq!(
            api.call(Method::POST, "/product/202309/products/search", &query, Some("{}"), &token).await.1["code"],
            0
        );
    }
    let throttled =
        api.call(Method::POST, "/product/202309/products/search", &query, Some("{}"), &token).await;
    assert_code(&throttled, 429, 36_009_002);
    // Another shop has its own bucket.
    let other = api
        .call(
            Method::POST,
            "/product/202309/products/search",
            &[("page_size", "1"), ("shop_cipher", SHOP_CIPHER_2)],
            Some("{}"),
            &token,
        )
        .await;
    assert_eq!(other.1["code"], 0);
    assert_eq!(sim.sim.ctx.faults.stats(SimPlatform::TikTokShop).throttled, 1);
}

#[tokio::test]
async fn faults_render_in_the_envelope() {
    let sim = start(TikTokShopConfig::default()).await;
    let (token, _) = tokens(&sim).await;
    let api = Api::new(&sim);
    sim.sim
        .ctx
        .faults
        .push(Fault::once(SimPlatform::TikTokShop, FaultKind::RateLimited { retry_after: None }));
    let throttled = api.call(Method::GET, "/authorization/202309/shops", &[], None, &token).await;
    assert_code(&throttled, 429, 36_009_002);
    sim.sim.ctx.faults.push(Fault::once(SimPlatform::TikTokShop, FaultKind::ServerError(503)));
    let unavailable = api.call(Method::GET, "/authorization/202309/shops", &[], None, &token).await;
    assert_code(&unavailable, 503, 36_009_003);
    sim.sim.ctx.faults.push(Fault::once(SimPlatform::TikTokShop, FaultKind::RevokeTokens));
    let revoked = api.call(Method::GET, "/authorization/202309/shops", &[], None, &token).await;
    assert_code(&revoked, 401, 105_001);
}

#[tokio::test]
async fn consent_pages_redirect_with_code_and_state() {
    let sim = start(TikTokShopConfig::default()).await;
    for (path, query) in [
        ("/services/open/authorize", [("service_id", tiktok_shop::SERVICE_ID), ("state", "st ate/1")]),
        ("/auth/oauth/authorize", [("app_key", APP_KEY), ("state", "st ate/1")]),
    ] {
        let url = Url::parse(&format!("{}/tiktok-shop{path}", sim.base_url())).unwrap();
        let response = http().send(Request::get(url).query(&query)).await.unwrap();
        assert_eq!(response.status, 302);
        let location = Url::parse(response.header("location").unwrap()).unwrap();
        assert!(location.as_str().starts_with(tiktok_shop::REDIRECT_URI));
        let pairs: Vec<(String, String)> = location.query_pairs().into_owned().collect();
        assert_eq!(pairs[1], ("state".to_owned(), "st ate/1".to_owned()));
        let code = &pairs[0].1;
        assert_eq!(exchange(&sim, code).await["code"], 0, "the redirect's code exchanges");
    }
}

type Received = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

#[tokio::test]
async fn notifications_are_posted_signed_with_app_key_and_body() {
    let received: Received = Arc::default();
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/webhooks/tiktok-shop",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push((headers, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/tiktok-shop", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let sim = start(TikTokShopConfig { webhook_url: Some(url), ..TikTokShopConfig::default() }).await;
    let shop = &sim.sim.tiktok_shop;
    assert_eq!(shop.send_notification(NotificationKind::SellerDeauthorization, SHOP_ID).await.unwrap(), 200);
    assert_eq!(
        shop.send_notification(NotificationKind::UpcomingAuthorizationExpiration { days: 30 }, SHOP_ID)
            .await
            .unwrap(),
        200
    );
    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 2);
    for ((headers, body), kind) in received.iter().zip([6, 7]) {
        // Independently computed: hex HMAC-SHA256(app_secret, app_key + raw body).
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(APP_SECRET.as_bytes()).unwrap();
        mac.update(APP_KEY.as_bytes());
        mac.update(body);
        let expected = data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes());
        assert_eq!(headers["authorization"].to_str().unwrap(), expected);
        let json: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(json["type"], kind);
        assert_eq!(json["shop_id"], SHOP_ID);
        assert!(json["tts_notification_id"].as_str().is_some_and(|id| id.len() == 19));
        assert!(json["timestamp"].is_i64() && json["data"]["message"].is_string());
        let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 5);
    }
    let expiring: Value = serde_json::from_slice(&received[1].1).unwrap();
    assert_eq!(
        expiring["data"]["expiration_time"].as_i64().unwrap() - expiring["timestamp"].as_i64().unwrap(),
        30 * 86_400
    );
    assert!(shop.notification(NotificationKind::SellerDeauthorization, "1").is_none(), "unknown shop");
}
