//! The simulated eBay Sell APIs over real HTTP on loopback: OAuth, getOrders filters and paging, inventory
//! paging and bulk updates, the error envelope, published limits, the endpoint challenge and signed
//! notifications (reference §3).

// Test-only code (clippy's test allowances apply to cfg(test) modules).
#![cfg(test)]

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use custodian_http::{HttpClient, HttpConfig, Request, Response};
use custodian_sim::ebay::{
    self, CLIENT_ID, CLIENT_SECRET, EbayConfig, EbayLimits, EbaySeller, RU_NAME, RevokeReason, SCOPE_API,
    SCOPE_FULFILLMENT_READONLY, SCOPE_INVENTORY,
};
use custodian_sim::rate::Limit;
use custodian_sim::{Fault, FaultKind, RunningSim, Sim, SimConfig, SimError, SimPlatform};
use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey as _;
use serde_json::Value;
use sha1::{Digest as _, Sha1};

const SELLER: &str = "ma8vp1jySJC";

fn client() -> HttpClient {
    HttpClient::new(HttpConfig { allow_plain_loopback: true, ..HttpConfig::default() }).unwrap()
}

async fn start(config: EbayConfig) -> RunningSim {
    Sim::new(SimConfig { seed: 7, ebay: config, ..SimConfig::default() })
        .start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn url(sim: &RunningSim, path: &str) -> custodian_http::Url {
    custodian_http::Url::parse(&format!("{}/ebay{path}", sim.base_url())).unwrap()
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", data_encoding::BASE64.encode(format!("{id}:{secret}").as_bytes()))
}

async fn token_call(sim: &RunningSim, auth: &str, form: &[(&str, &str)]) -> Response {
    let request =
        Request::post(url(sim, "/api/identity/v1/oauth2/token")).form(form).header("authorization", auth);
    client().send(request).await.unwrap()
}

fn json(response: &Response) -> Value {
    serde_json::from_slice(&response.body).unwrap()
}

/// Exchanges a fresh code for `scopes`: (access token, refresh token).
async fn user_tokens(sim: &RunningSim, scopes: &[&str]) -> (String, String) {
    let code = sim.sim.ebay.issue_code(SELLER, scopes).unwrap();
    let response = token_call(
        sim,
        &basic(CLIENT_ID, CLIENT_SECRET),
        &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", RU_NAME)],
    )
    .await;
    assert_eq!(response.status, 200, "{}", String::from_utf8_lossy(&response.body));
    let body = json(&response);
    (body["access_token"].as_str().unwrap().to_owned(), body["refresh_token"].as_str().unwrap().to_owned())
}

async fn app_token(sim: &RunningSim) -> String {
    let response = token_call(
        sim,
        &basic(CLIENT_ID, CLIENT_SECRET),
        &[("grant_type", "client_credentials"), ("scope", SCOPE_API)],
    )
    .await;
    assert_eq!(response.status, 200);
    let body = json(&response);
    assert_eq!(body["token_type"], "Application Access Token");
    body["access_token"].as_str().unwrap().to_owned()
}

async fn get_raw(sim: &RunningSim, path_and_query: &str, token: Option<&str>) -> Response {
    let mut request = Request::get(url(sim, path_and_query));
    if let Some(token) = token {
        request = request.header("authorization", &format!("Bearer {token}"));
    }
    client().send(request).await.unwrap()
}

#[track_caller]
fn assert_error(response: &Response, status: u16, error_id: i64) {
    assert_eq!(response.status, status, "{}", String::from_utf8_lossy(&response.body));
    let body = json(response);
    let first = &body["errors"][0];
    assert_eq!(first["errorId"], error_id, "{body}");
    for field in ["domain", "category", "message"] {
        assert!(first[field].is_string(), "`{field}` missing in {body}");
    }
}

#[tokio::test]
async fn refuses_non_loopback_addresses() {
    let result = Sim::new(SimConfig::default()).start("0.0.0.0:0".parse().unwrap()).await;
    assert!(matches!(result, Err(SimError::NotLoopback(_))), "{result:?}");
}

#[tokio::test]
async fn serves_on_loopback_and_stops() {
    let running = Sim::new(SimConfig::default()).start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = running.addr();
    assert!(addr.ip().is_loopback());
    assert_eq!(running.base_url(), format!("http://{addr}"));
    assert_eq!(running.sim.ctx.base_url(), running.base_url());
    assert!(tokio::net::TcpStream::connect(addr).await.is_ok());
    running.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "the listener is closed after shutdown");
}

#[tokio::test]
async fn consent_page_redirects_with_code_and_state() {
    let sim =
        start(EbayConfig { accept_url: "http://127.0.0.1:9/accepted".into(), ..EbayConfig::default() }).await;
    let scope = format!("{SCOPE_FULFILLMENT_READONLY} {SCOPE_INVENTORY}");
    let consent = Request::get(url(&sim, "/auth/oauth2/authorize")).query(&[
        ("client_id", CLIENT_ID),
        ("redirect_uri", RU_NAME),
        ("response_type", "code"),
        ("scope", &scope),
        ("state", "s-123"),
        ("prompt", "login"),
    ]);
    let response = client().send(consent.clone()).await.unwrap();
    assert_eq!(response.status, 302);
    let location = custodian_http::Url::parse(response.header("location").unwrap()).unwrap();
    assert!(location.as_str().starts_with("http://127.0.0.1:9/accepted?"));
    let pairs: std::collections::HashMap<String, String> = location.query_pairs().into_owned().collect();
    assert_eq!(pairs["state"], "s-123");
    assert_eq!(pairs["expires_in"], "299");
    assert!(pairs["code"].starts_with("v^1.1#"), "eBay-shaped code");
    // The code from the redirect exchanges (once).
    let form =
        [("grant_type", "authorization_code"), ("code", pairs["code"].as_str()), ("redirect_uri", RU_NAME)];
    assert_eq!(token_call(&sim, &basic(CLIENT_ID, CLIENT_SECRET), &form).await.status, 200);

    let unknown_scope = Request::get(url(&sim, "/auth/oauth2/authorize")).query(&[
        ("client_id", CLIENT_ID),
        ("redirect_uri", RU_NAME),
        ("response_type", "code"),
        ("scope", "https://api.ebay.com/oauth/api_scope/sell.finances"),
        ("state", "s"),
    ]);
    let response = client().send(unknown_scope).await.unwrap();
    assert_eq!(response.status, 302);
    assert!(response.header("location").unwrap().contains("error=invalid_scope"));

    let wrong_app = Request::get(url(&sim, "/auth/oauth2/authorize")).query(&[
        ("client_id", "someone-else"),
        ("redirect_uri", RU_NAME),
        ("response_type", "code"),
        ("scope", &scope),
    ]);
    assert_eq!(client().send(wrong_app).await.unwrap().status, 400);
}

#[tokio::test]
async fn token_endpoint_grants_and_documented_errors() {
    let sim = start(EbayConfig::default()).await;
    let good = basic(CLIENT_ID, CLIENT_SECRET);
    // Wrong client secret: 401 invalid_client.
    let code = sim.sim.ebay.issue_code(SELLER, &[SCOPE_FULFILLMENT_READONLY]).unwrap();
    let form = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", RU_NAME)];
    let response = token_call(&sim, &basic(CLIENT_ID, "wrong"), &form).await;
    assert_eq!(response.status, 401);
    assert_eq!(json(&response)["error"], "invalid_client");
    // Another RuName: invalid_grant, and the code is not spent.
    let other =
        [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", "Other-RuName")];
    assert_eq!(json(&token_call(&sim, &good, &other).await)["error"], "invalid_grant");
    // The code works once.
    let response = token_call(&sim, &good, &form).await;
    assert_eq!(response.status, 200);
    let body = json(&response);
    assert_eq!(body["expires_in"], 7200);
    assert_eq!(body["refresh_token_expires_in"], 47_304_000);
    assert_eq!(body["token_type"], "User Access Token");
    assert!(body.get("scope").is_none(), "eBay reports no scopes");
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    let again = token_call(&sim, &good, &form).await;
    assert_eq!(again.status, 400);
    assert_eq!(json(&again)["error"], "invalid_grant");

    // Refresh: the same scopes work; a wider set is invalid_scope; no scope is invalid_request.
    let same = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("scope", SCOPE_FULFILLMENT_READONLY),
    ];
    let response = token_call(&sim, &good, &same).await;
    assert_eq!(response.status, 200);
    assert!(json(&response).get("refresh_token").is_none(), "a refresh keeps the refresh token");
    let wider_scope = format!("{SCOPE_FULFILLMENT_READONLY} {SCOPE_INVENTORY}");
    let wider = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("scope", wider_scope.as_str()),
    ];
    assert_eq!(json(&token_call(&sim, &good, &wider).await)["error"], "invalid_scope");
    let bare = [("grant_type", "refresh_token"), ("refresh_token", refresh.as_str())];
    assert_eq!(json(&token_call(&sim, &good, &bare).await)["error"], "invalid_request");
    // Revoked: invalid_grant.
    assert!(sim.sim.ebay.revoke_user(SELLER));
    assert_eq!(json(&token_call(&sim, &good, &same).await)["error"], "invalid_grant");

    assert_eq!(
        json(&token_call(&sim, &good, &[("grant_type", "password")]).await)["error"],
        "unsupported_grant_type"
    );
    let user_scope = [("grant_type", "client_credentials"), ("scope", SCOPE_INVENTORY)];
    assert_eq!(json(&token_call(&sim, &good, &user_scope).await)["error"], "invalid_scope");
    app_token(&sim).await;
}

#[tokio::test]
async fn get_orders_pages_a_lastmodifieddate_window() {
    let sim = start(EbayConfig::default()).await;
    let (token, _) = user_tokens(&sim, &[SCOPE_FULFILLMENT_READONLY]).await;
    let (start_ms, end_ms) = sim.sim.ebay.orders_window();
    let from = iso(start_ms);
    let to = iso(end_ms - 1);
    let expected = sim.sim.ebay.orders_modified_between(SELLER, start_ms, end_ms - 1);
    assert_eq!(expected, 120, "the default seller's orders all fall in the window");
    let filter = format!("lastmodifieddate:%5B{from}..{to}%5D");
    let mut offset = 0;
    let mut seen = std::collections::HashSet::new();
    loop {
        let path = format!("/api/sell/fulfillment/v1/order?filter={filter}&limit=50&offset={offset}");
        let response = get_raw(&sim, &path, Some(&token)).await;
        assert_eq!(response.status, 200, "{}", String::from_utf8_lossy(&response.body));
        let body = json(&response);
        assert_eq!(body["total"], expected);
        assert_eq!(body["limit"], 50);
        assert_eq!(body["offset"], offset);
        assert!(body["href"].as_str().unwrap().contains(&format!("offset={offset}")));
        assert_eq!(body.get("prev").is_some(), offset > 0);
        for order in body["orders"].as_array().unwrap() {
            assert!(seen.insert(order["orderId"].as_str().unwrap().to_owned()), "an order came twice");
            assert_eq!(order["sellerId"], SELLER);
            let modified = order["lastModifiedDate"].as_str().unwrap();
            assert!(from.as_str() <= modified && modified <= to.as_str(), "{modified} outside the window");
            // Buyer and ship-to PII as the real payload has it.
            assert!(order["buyer"]["username"].is_string());
            assert!(order["buyer"]["buyerRegistrationAddress"]["email"].as_str().unwrap().contains('@'));
            let ship_to = &order["fulfillmentStartInstructions"][0]["shippingStep"]["shipTo"];
            assert!(ship_to["fullName"].is_string() && ship_to["contactAddress"]["postalCode"].is_string());
            assert!(ship_to["primaryPhone"]["phoneNumber"].is_string());
            assert!(order["lineItems"][0]["sku"].as_str().unwrap().starts_with("SKU-"));
            assert!(order["pricingSummary"]["total"]["value"].is_string());
        }
        match body.get("next") {
            Some(next) => {
                assert!(next.as_str().unwrap().contains(&format!("offset={}", offset + 50)));
                offset += 50;
            }
            None => break,
        }
    }
    assert_eq!(seen.len() as u64, expected);

    // Deterministic: the same page twice is the same bytes.
    let path = format!("/api/sell/fulfillment/v1/order?filter={filter}&limit=10&offset=20");
    assert_eq!(get_raw(&sim, &path, Some(&token)).await.body, get_raw(&sim, &path, Some(&token)).await.body);
}

fn iso(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

#[tokio::test]
async fn get_orders_documented_errors() {
    let sim = start(EbayConfig::default()).await;
    let (token, _) = user_tokens(&sim, &[SCOPE_FULFILLMENT_READONLY]).await;
    let order = "/api/sell/fulfillment/v1/order";
    assert_error(&get_raw(&sim, order, None).await, 401, 1001);
    assert_error(&get_raw(&sim, order, Some("v^1.1#not-a-token")).await, 401, 1001);
    let app = app_token(&sim).await;
    assert_error(&get_raw(&sim, order, Some(&app)).await, 403, 1100);
    let (inventory_only, _) = user_tokens(&sim, &[SCOPE_INVENTORY]).await;
    assert_error(&get_raw(&sim, order, Some(&inventory_only)).await, 403, 1100);

    let cases = [
        ("?limit=201", 31100),
        ("?limit=0", 31100),
        ("?offset=-1", 31000),
        ("?filter=lastmodifieddate:[2026-01-01T00:00:00.000Z..]", 30800),
        ("?filter=modifieddate:%5B2026-01-01T00:00:00.000Z..%5D", 30700),
        ("?filter=lastmodifieddate:%5B2026-01-01..%5D", 30810),
        ("?filter=lastmodifieddate:%5B..2026-01-01T00:00:00.000Z%5D", 30820),
        ("?filter=lastmodifieddate:%5B2026-01-02T00:00:00.000Z..2026-01-01T00:00:00.000Z%5D", 30840),
        ("?filter=lastmodifieddate:%5B2999-01-01T00:00:00.000Z..%5D", 30850),
        ("?filter=lastmodifieddate:%5B2020-01-01T00:00:00.000Z..2026-01-01T00:00:00.000Z%5D", 30830),
        ("?filter=orderfulfillmentstatus:%7BFULFILLED%7CNOT_STARTED%7D", 30800),
        ("?fieldGroups=EVERYTHING", 32800),
    ];
    for (query, error_id) in cases {
        assert_error(&get_raw(&sim, &format!("{order}{query}"), Some(&token)).await, 400, error_id);
    }
    let ids: Vec<String> = (0..51).map(|i| format!("00-00000-{i:05}")).collect();
    assert_error(
        &get_raw(&sim, &format!("{order}?orderIds={}", ids.join(",")), Some(&token)).await,
        400,
        30900,
    );
}

#[tokio::test]
async fn with_both_dates_only_creationdate_counts() {
    let sim = start(EbayConfig::default()).await;
    let (token, _) = user_tokens(&sim, &[SCOPE_FULFILLMENT_READONLY]).await;
    let (start_ms, end_ms) = sim.sim.ebay.orders_window();
    let order = "/api/sell/fulfillment/v1/order";
    // A lastmodifieddate window holding nothing, combined with a creationdate window holding everything.
    let empty = format!("lastmodifieddate:%5B{}..{}%5D", iso(start_ms - 100_000), iso(start_ms - 50_000));
    let all = format!("creationdate:%5B{}..{}%5D", iso(start_ms - 4 * 86_400_000), iso(end_ms));
    let alone = json(&get_raw(&sim, &format!("{order}?filter={empty}"), Some(&token)).await);
    assert_eq!(alone["total"], 0);
    let both = json(&get_raw(&sim, &format!("{order}?filter={all},{empty}"), Some(&token)).await);
    assert_eq!(both["total"], 120, "eBay ignores lastmodifieddate when creationdate is present");
    // orderIds override the filter.
    let by_id = json(
        &get_raw(
            &sim,
            &format!("{order}?orderIds=00-00000-00003,00-00000-00004&filter={empty}"),
            Some(&token),
        )
        .await,
    );
    assert_eq!(by_id["orders"].as_array().unwrap().len(), 2);
    assert_eq!(by_id["orders"][0]["orderId"], "00-00000-00003");
    // The fulfillment status filter narrows.
    let open = format!("orderfulfillmentstatus:%7BNOT_STARTED%7CIN_PROGRESS%7D,{all}");
    let open = json(&get_raw(&sim, &format!("{order}?filter={open}&limit=200"), Some(&token)).await);
    let statuses: Vec<&str> = open["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["orderFulfillmentStatus"].as_str().unwrap())
        .collect();
    assert!(!statuses.is_empty() && statuses.len() < 120);
    assert!(statuses.iter().all(|s| *s == "NOT_STARTED" || *s == "IN_PROGRESS"));
}

#[tokio::test]
async fn inventory_pages_by_page_number_and_bulk_updates_answer_per_item() {
    let sim = start(EbayConfig::default()).await;
    let (token, _) = user_tokens(&sim, &[SCOPE_INVENTORY]).await;
    let mut skus = Vec::new();
    let mut page = 0;
    loop {
        let body = json(
            &get_raw(
                &sim,
                &format!("/api/sell/inventory/v1/inventory_item?limit=15&offset={page}"),
                Some(&token),
            )
            .await,
        );
        assert_eq!(body["total"], 40);
        assert_eq!(body["size"], 3, "three pages of 15");
        for item in body["inventoryItems"].as_array().unwrap() {
            skus.push(item["sku"].as_str().unwrap().to_owned());
            assert!(item["availability"]["shipToLocationAvailability"]["quantity"].is_i64());
        }
        if body.get("next").is_none() {
            break;
        }
        page += 1;
    }
    assert_eq!(skus.len(), 40);
    assert_error(
        &get_raw(&sim, "/api/sell/inventory/v1/inventory_item?limit=500", Some(&token)).await,
        400,
        25706,
    );

    let bulk = |body: Value| {
        let token = token.clone();
        let sim = &sim;
        async move {
            let request = Request::post(url(sim, "/api/sell/inventory/v1/bulk_update_price_quantity"))
                .json(&body)
                .header("authorization", &format!("Bearer {token}"));
            client().send(request).await.unwrap()
        }
    };
    let ok = bulk(serde_json::json!({"requests": [
        {"sku": "SKU-000001", "shipToLocationAvailability": {"quantity": 7}},
        {"sku": "SKU-000002", "shipToLocationAvailability": {"quantity": 0}}
    ]}))
    .await;
    assert_eq!(ok.status, 200);
    assert_eq!(json(&ok)["responses"][0], serde_json::json!({"sku": "SKU-000001", "statusCode": 200}));
    assert_eq!(sim.sim.ebay.stock_quantity(SELLER, "SKU-000001"), Some(7));
    let mixed = bulk(serde_json::json!({"requests": [
        {"sku": "SKU-000003", "shipToLocationAvailability": {"quantity": 5}},
        {"sku": "NO-SUCH-SKU", "shipToLocationAvailability": {"quantity": 5}},
        {"sku": "SKU-000004", "shipToLocationAvailability": {"quantity": -1}}
    ]}))
    .await;
    assert_eq!(mixed.status, 207, "Multi-Status");
    let responses = json(&mixed)["responses"].clone();
    assert_eq!(responses[0]["statusCode"], 200);
    assert_eq!(responses[1]["statusCode"], 404);
    assert_eq!(responses[1]["errors"][0]["errorId"], 25710);
    assert_eq!(responses[2]["statusCode"], 400);
    assert_eq!(responses[2]["errors"][0]["errorId"], 25709);
    assert_eq!(sim.sim.ebay.stock_quantity(SELLER, "SKU-000003"), Some(5));
    let too_many: Vec<Value> =
        (0..26).map(|i| serde_json::json!({"sku": format!("SKU-{i:06}"), "shipToLocationAvailability": {"quantity": 1}})).collect();
    assert_error(&bulk(serde_json::json!({ "requests": too_many })).await, 400, 25709);
    // The read-only scope cannot write.
    let (readonly, _) = user_tokens(&sim, &[ebay::SCOPE_INVENTORY_READONLY]).await;
    let request = Request::post(url(&sim, "/api/sell/inventory/v1/bulk_update_price_quantity"))
        .json(&serde_json::json!({"requests": [{"sku": "SKU-000001", "shipToLocationAvailability": {"quantity": 1}}]}))
        .header("authorization", &format!("Bearer {readonly}"));
    assert_error(&client().send(request).await.unwrap(), 403, 1100);
}

#[tokio::test]
async fn published_limits_answer_429_with_error_2001() {
    let limits = EbayLimits { fulfillment: Limit::new(0.001, 3.0), ..EbayLimits::published() };
    let sim = start(EbayConfig { limits, ..EbayConfig::default() }).await;
    let (token, _) = user_tokens(&sim, &[SCOPE_FULFILLMENT_READONLY]).await;
    for _ in 0..3 {
        assert_eq!(get_raw(&sim, "/api/sell/fulfillment/v1/order?limit=1", Some(&token)).await.status, 200);
    }
    let throttled = get_raw(&sim, "/api/sell/fulfillment/v1/order?limit=1", Some(&token)).await;
    assert_error(&throttled, 429, 2001);
    assert_eq!(json(&throttled)["errors"][0]["message"], "Too many requests.");
    assert_eq!(sim.sim.ctx.faults.stats(SimPlatform::Ebay).throttled, 1);
    assert_eq!(EbayLimits::published().inventory, Limit::new(2_000_000.0 / 86_400.0, 2_000_000.0));
}

#[tokio::test]
async fn injected_faults_use_the_ebay_envelope() {
    let sim = start(EbayConfig::default()).await;
    let (token, _) = user_tokens(&sim, &[SCOPE_FULFILLMENT_READONLY]).await;
    let faults = &sim.sim.ctx.faults;
    faults.push(Fault::once(
        SimPlatform::Ebay,
        FaultKind::RateLimited { retry_after: Some(std::time::Duration::from_secs(2)) },
    ));
    let throttled = get_raw(&sim, "/api/sell/fulfillment/v1/order", Some(&token)).await;
    assert_error(&throttled, 429, 2001);
    assert_eq!(throttled.header("retry-after"), Some("2"));
    faults.push(Fault::once(SimPlatform::Ebay, FaultKind::ServerError(503)));
    assert_error(&get_raw(&sim, "/api/sell/fulfillment/v1/order", Some(&token)).await, 503, 2003);
    faults.push(Fault::once(SimPlatform::Ebay, FaultKind::RevokeTokens));
    assert_error(&get_raw(&sim, "/api/sell/fulfillment/v1/order", Some(&token)).await, 401, 1001);
}

/// What the test destination received.
#[derive(Default)]
struct Inbox {
    notifications: Vec<(Option<String>, Vec<u8>)>,
}

/// A destination that answers challenges with `token` (right or wrong) and records notifications.
async fn destination(
    token: &'static str,
    endpoint_override: Option<&'static str>,
) -> (String, Arc<Mutex<Inbox>>) {
    let inbox = Arc::new(Mutex::new(Inbox::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/ebay/deletion", listener.local_addr().unwrap());
    let for_hash = endpoint_override.map_or_else(|| endpoint.clone(), str::to_owned);
    let app = Router::new()
        .route(
            "/ebay/deletion",
            get(move |Query(q): Query<std::collections::HashMap<String, String>>| {
                let for_hash = for_hash.clone();
                async move {
                    let code = q.get("challenge_code").cloned().unwrap_or_default();
                    let digest = sha2::Sha256::new()
                        .chain_update(code.as_bytes())
                        .chain_update(token.as_bytes())
                        .chain_update(for_hash.as_bytes())
                        .finalize();
                    axum::Json(serde_json::json!({ "challengeResponse": data_encoding::HEXLOWER.encode(&digest) }))
                }
            })
            .post(|State(inbox): State<Arc<Mutex<Inbox>>>, headers: HeaderMap, body: axum::body::Bytes| async move {
                let signature = headers.get("x-ebay-signature").and_then(|v| v.to_str().ok()).map(str::to_owned);
                inbox.lock().unwrap().notifications.push((signature, body.to_vec()));
                StatusCode::NO_CONTENT
            }),
        )
        .with_state(inbox.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (endpoint, inbox)
}

#[tokio::test]
async fn endpoint_challenge_expects_the_sha256_answer() {
    let (endpoint, _) = destination(ebay::VERIFICATION_TOKEN, None).await;
    let sim =
        start(EbayConfig { notification_endpoint: Some(endpoint.clone()), ..EbayConfig::default() }).await;
    let outcome = sim.sim.ebay.challenge_endpoint().await.unwrap();
    assert!(outcome.verified, "{outcome:?}");
    assert_eq!(outcome.status, 200);
    assert_eq!(outcome.received.as_deref(), Some(outcome.expected.as_str()));

    // A receiver hashing another token or another endpoint spelling fails the check.
    let (wrong_token, _) = destination("another-verification-token-0123456789", None).await;
    let sim = start(EbayConfig { notification_endpoint: Some(wrong_token), ..EbayConfig::default() }).await;
    assert!(!sim.sim.ebay.challenge_endpoint().await.unwrap().verified);
    let (wrong_endpoint, _) =
        destination(ebay::VERIFICATION_TOKEN, Some("https://example.invalid/other")).await;
    let sim =
        start(EbayConfig { notification_endpoint: Some(wrong_endpoint), ..EbayConfig::default() }).await;
    assert!(!sim.sim.ebay.challenge_endpoint().await.unwrap().verified);
}

#[test]
fn challenge_matches_the_reference_vector() {
    // Reference §7 vector 3, through the simulator's own hashing.
    let ctx = custodian_sim::SimContext::new(1);
    let sim = ebay::EbaySim::new(
        ctx,
        EbayConfig {
            notification_endpoint: Some("http://www.testendpoint.com/webhook".into()),
            verification_token: "71745723-d031-455c-bfa5-f90d11b4f20a".into(),
            ..EbayConfig::default()
        },
    );
    assert_eq!(
        sim.challenge_response("a8628072-3d33-45ee-9004-bee86830a22d").unwrap(),
        "ca527df75caa230092d7e90484071e8f05d63068f1317973d6a3a42593734bbb"
    );
}

#[tokio::test]
async fn notifications_are_signed_with_the_served_public_key() {
    let (endpoint, inbox) = destination(ebay::VERIFICATION_TOKEN, None).await;
    let sim = start(EbayConfig { notification_endpoint: Some(endpoint), ..EbayConfig::default() }).await;
    let (user_token, _) = user_tokens(&sim, &[SCOPE_FULFILLMENT_READONLY]).await;
    let deletion = sim.sim.ebay.send_account_deletion(SELLER).await.unwrap();
    assert_eq!(deletion.status, 204);
    let revocation =
        sim.sim.ebay.send_authorization_revocation(SELLER, RevokeReason::RevokedByUser).await.unwrap();
    assert_eq!(revocation.status, 204);
    // The revocation revoked the user's tokens.
    assert_error(&get_raw(&sim, "/api/sell/fulfillment/v1/order", Some(&user_token)).await, 401, 1001);

    let app = app_token(&sim).await;
    let kid = sim.sim.ebay.public_key_id().to_owned();
    let key =
        json(&get_raw(&sim, &format!("/api/commerce/notification/v1/public_key/{kid}"), Some(&app)).await);
    assert_eq!(key["algorithm"], "ECDSA");
    assert_eq!(key["digest"], "SHA1");
    let pem = key["key"].as_str().unwrap();
    assert!(!pem.contains('\n'), "eBay serves the key on one line");
    let der =
        pem.trim_start_matches("-----BEGIN PUBLIC KEY-----").trim_end_matches("-----END PUBLIC KEY-----");
    let verifying =
        VerifyingKey::from_public_key_der(&data_encoding::BASE64.decode(der.as_bytes()).unwrap()).unwrap();
    assert_error(
        &get_raw(
            &sim,
            "/api/commerce/notification/v1/public_key/00000000-0000-0000-0000-000000000000",
            Some(&app),
        )
        .await,
        404,
        195001,
    );
    assert_error(
        &get_raw(&sim, &format!("/api/commerce/notification/v1/public_key/{kid}"), None).await,
        401,
        1001,
    );

    let received = std::mem::take(&mut inbox.lock().unwrap().notifications);
    assert_eq!(received.len(), 2);
    for ((signature, body), (topic, id)) in received.iter().zip([
        ("MARKETPLACE_ACCOUNT_DELETION", &deletion.notification_id),
        ("AUTHORIZATION_REVOCATION", &revocation.notification_id),
    ]) {
        let header: Value = serde_json::from_slice(
            &data_encoding::BASE64.decode(signature.as_ref().unwrap().as_bytes()).unwrap(),
        )
        .unwrap();
        assert_eq!(header["alg"], "ecdsa");
        assert_eq!(header["digest"], "SHA1");
        assert_eq!(header["kid"], kid.as_str());
        let der = data_encoding::BASE64.decode(header["signature"].as_str().unwrap().as_bytes()).unwrap();
        let signature = Signature::from_der(&der).unwrap();
        verifying.verify_prehash(&Sha1::digest(body), &signature).unwrap();
        let mut tampered = body.clone();
        tampered[10] ^= 1;
        assert!(verifying.verify_prehash(&Sha1::digest(&tampered), &signature).is_err());
        let message: Value = serde_json::from_slice(body).unwrap();
        let text = String::from_utf8(body.clone()).unwrap();
        assert!(
            !text.contains('\n') && !text.contains("\": ") && !text.contains(", \""),
            "the body is compact JSON"
        );
        assert!(text.starts_with(r#"{"metadata":{"topic":"#), "members in the SDK's order: {text}");
        assert_eq!(message["metadata"]["topic"], topic);
        assert_eq!(message["metadata"]["schemaVersion"], "1.0");
        assert_eq!(message["notification"]["notificationId"], id.as_str());
        assert_eq!(message["notification"]["publishAttemptCount"], 1);
        assert_eq!(message["notification"]["data"]["userId"], SELLER);
        assert!(message["notification"]["data"]["eiasToken"].is_string());
    }
    let revocation: Value = serde_json::from_slice(&received[1].1).unwrap();
    assert_eq!(revocation["notification"]["data"]["revokeReason"], "REVOKED_BY_USER");
    assert!(revocation["notification"]["data"]["revocationDate"].is_string());
}

#[tokio::test]
async fn more_sellers_and_volumes_come_from_the_config() {
    let config = EbayConfig {
        sellers: vec![EbaySeller::new("bigSeller01", "big", 1_000_000, 5)],
        ..EbayConfig::default()
    };
    let sim = start(config).await;
    let code = sim.sim.ebay.issue_code("bigSeller01", &[SCOPE_FULFILLMENT_READONLY]).unwrap();
    let response = token_call(
        &sim,
        &basic(CLIENT_ID, CLIENT_SECRET),
        &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", RU_NAME)],
    )
    .await;
    let token = json(&response)["access_token"].as_str().unwrap().to_owned();
    let (start_ms, end_ms) = sim.sim.ebay.orders_window();
    let filter = format!("lastmodifieddate:%5B{}..{}%5D", iso(start_ms), iso(end_ms - 1));
    let body = json(
        &get_raw(
            &sim,
            &format!("/api/sell/fulfillment/v1/order?filter={filter}&limit=200&offset=999900"),
            Some(&token),
        )
        .await,
    );
    assert_eq!(body["total"], 1_000_000);
    assert_eq!(body["orders"].as_array().unwrap().len(), 100);
    assert!(body.get("next").is_none());
    assert_eq!(body["orders"][99]["orderId"], "00-00009-99999");
}
