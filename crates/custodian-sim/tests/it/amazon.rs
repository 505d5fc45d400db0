//! The simulated Amazon SP-API over real HTTP on loopback: LWA grants and their errors, the consent
//! redirect, Orders v0 and 2026-01-01 paging, the two-minute rule, Restricted Data Tokens, Listings PATCH
//! `merge`, FBA inventory paging, rate limits (`x-amzn-RateLimit-Limit`, 429 `QuotaExceeded`), revocation
//! and injected faults, each asserted against the envelopes of `commerce-apis.md` §2 and the models.

use custodian_http::{HttpClient, HttpConfig, Request, Response, Url};
use custodian_sim::amazon::{
    self, AmazonConfig, AmazonSim, CLIENT_ID, CLIENT_SECRET, MARKETPLACE_CA, MARKETPLACE_US, REDIRECT_URI,
    SELLER_1, SELLER_2,
};
use custodian_sim::{Fault, FaultKind, RunningSim, Sim, SimConfig, SimPlatform};
use serde_json::{Value, json};

type TestResult = Result<(), Box<dyn std::error::Error>>;

struct Harness {
    running: RunningSim,
    http: HttpClient,
}

impl Harness {
    async fn start(config: AmazonConfig) -> Result<Self, Box<dyn std::error::Error>> {
        let running = Sim::new(SimConfig { seed: 7, amazon: config, ..SimConfig::default() })
            .start("127.0.0.1:0".parse()?)
            .await?;
        let http = HttpClient::new(HttpConfig { allow_plain_loopback: true, ..HttpConfig::default() })?;
        Ok(Self { running, http })
    }

    /// A generous usage plan, for tests that are not about rate limits.
    async fn unthrottled() -> Result<Self, Box<dyn std::error::Error>> {
        Self::start(AmazonConfig::default().scale_usage_plans(1000.0)).await
    }

    fn sim(&self) -> &AmazonSim {
        &self.running.sim.amazon
    }

    fn url(&self, path: &str) -> Result<Url, Box<dyn std::error::Error>> {
        Ok(Url::parse(&format!("{}/amazon{path}", self.running.base_url()))?)
    }

    fn sp(&self, path: &str) -> Result<Url, Box<dyn std::error::Error>> {
        self.url(&format!("/sp-api{path}"))
    }

    async fn send(&self, request: Request) -> Result<Response, Box<dyn std::error::Error>> {
        Ok(self.http.send(request).await?)
    }

    async fn lwa(&self, form: &[(&str, &str)]) -> Result<Response, Box<dyn std::error::Error>> {
        self.send(Request::post(self.url("/lwa/auth/o2/token")?).form(form)).await
    }

    /// Exchanges a fresh code of `seller`: (access token, refresh token).
    async fn tokens(&self, seller: &str) -> Result<(String, String), Box<dyn std::error::Error>> {
        let code = self.sim().issue_code(seller, Some(REDIRECT_URI)).ok_or("unknown seller")?;
        let response = self
            .lwa(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT_URI),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
            ])
            .await?;
        assert_eq!(response.status, 200);
        let body: Value = response.json()?;
        Ok((str_at(&body, "/access_token").to_owned(), str_at(&body, "/refresh_token").to_owned()))
    }

    async fn get(
        &self,
        path: &str,
        query: &[(&str, &str)],
        token: &str,
    ) -> Result<Response, Box<dyn std::error::Error>> {
        self.send(Request::get(self.sp(path)?).query(query).header("x-amz-access-token", token)).await
    }
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

fn first_error(body: &Value) -> (&str, &str, Option<&str>) {
    (
        str_at(body, "/errors/0/code"),
        str_at(body, "/errors/0/message"),
        body.pointer("/errors/0/details").and_then(Value::as_str),
    )
}

const EPOCH: &str = "2025-01-01T00:00:00Z";

#[tokio::test]
async fn lwa_grants_codes_once_refreshes_and_answers_invalid_grant_after_revocation() -> TestResult {
    let h = Harness::unthrottled().await?;
    let code = h.sim().issue_code(SELLER_1, Some(REDIRECT_URI)).ok_or("code")?;
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
    ];
    let first = h.lwa(&exchange).await?;
    assert_eq!(first.status, 200);
    let tokens: Value = first.json()?;
    assert!(str_at(&tokens, "/access_token").starts_with("Atza|"));
    assert!(str_at(&tokens, "/refresh_token").starts_with("Atzr|"));
    assert_eq!(str_at(&tokens, "/token_type"), "bearer");
    assert_eq!(tokens.pointer("/expires_in"), Some(&json!(3600)));

    let reused = h.lwa(&exchange).await?;
    assert_eq!(reused.status, 400, "a code is single-use");
    assert_eq!(str_at(&reused.json::<Value>()?, "/error"), "invalid_grant");

    let wrong_secret = h
        .lwa(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", str_at(&tokens, "/refresh_token")),
            ("client_id", CLIENT_ID),
            ("client_secret", "not-the-secret"),
        ])
        .await?;
    assert_eq!(wrong_secret.status, 401);
    assert_eq!(str_at(&wrong_secret.json::<Value>()?, "/error"), "invalid_client");

    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", str_at(&tokens, "/refresh_token")),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
    ];
    let refreshed = h.lwa(&refresh).await?;
    assert_eq!(refreshed.status, 200);
    let fresh: Value = refreshed.json()?;
    assert_ne!(str_at(&fresh, "/access_token"), str_at(&tokens, "/access_token"));

    let unsupported = h
        .lwa(&[("grant_type", "password"), ("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)])
        .await?;
    assert_eq!(str_at(&unsupported.json::<Value>()?, "/error"), "unsupported_grant_type");

    assert!(h.sim().revoke_authorization(SELLER_1));
    let after = h.lwa(&refresh).await?;
    assert_eq!(after.status, 400);
    assert_eq!(
        after.json::<Value>()?,
        json!({
            "error_description": "The request has an invalid grant parameter : refresh_token. User may have revoked or didn't grant the permission.",
            "error": "invalid_grant"
        }),
        "the documented body (commerce-apis.md §2.3)"
    );
    let call = h.get("/sellers/v1/marketplaceParticipations", &[], str_at(&fresh, "/access_token")).await?;
    assert_eq!(call.status, 403);
    assert_eq!(
        call.json::<Value>()?,
        json!({"errors": [{
            "code": "Unauthorized",
            "message": "Access to requested resource is denied.",
            "details": "The access token you provided is revoked, malformed or invalid."
        }]})
    );
    assert!(call.header("x-amzn-RequestId").is_some());
    assert!(call.header("x-amzn-RateLimit-Limit").is_none(), "not with 403, as the model says");
    Ok(())
}

#[tokio::test]
async fn the_consent_page_redirects_with_state_seller_and_code() -> TestResult {
    let h = Harness::unthrottled().await?;
    assert!(h.sim().set_consenting_seller(SELLER_2));
    let consent = h
        .send(Request::get(h.url("/sellercentral/apps/authorize/consent")?).query(&[
            ("application_id", amazon::APPLICATION_ID),
            ("state", "st-123 x"),
            ("redirect_uri", REDIRECT_URI),
        ]))
        .await?;
    assert_eq!(consent.status, 302);
    let location = Url::parse(consent.header("location").ok_or("no location")?)?;
    assert!(location.as_str().starts_with(REDIRECT_URI));
    let pairs: Vec<(String, String)> = location.query_pairs().into_owned().collect();
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    assert_eq!(get("state"), "st-123 x");
    assert_eq!(get("selling_partner_id"), SELLER_2);
    let code = get("spapi_oauth_code");
    assert!(!code.is_empty());

    let mismatch = h
        .lwa(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://elsewhere.example/cb"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .await?;
    assert_eq!(str_at(&mismatch.json::<Value>()?, "/error"), "invalid_grant");

    let unregistered = h
        .send(Request::get(h.url("/sellercentral/apps/authorize/consent")?).query(&[
            ("application_id", amazon::APPLICATION_ID),
            ("redirect_uri", "https://evil.example/cb"),
        ]))
        .await?;
    assert_eq!(unregistered.status, 400);
    let unknown_app = h
        .send(
            Request::get(h.url("/sellercentral/apps/authorize/consent")?)
                .query(&[("application_id", "amzn1.sp.solution.x")]),
        )
        .await?;
    assert_eq!(unknown_app.status, 400);
    Ok(())
}

#[tokio::test]
async fn draft_apps_need_version_beta() -> TestResult {
    let h = Harness::start(AmazonConfig { draft: true, ..AmazonConfig::default() }).await?;
    let url = h.url("/sellercentral/apps/authorize/consent")?;
    let without =
        h.send(Request::get(url.clone()).query(&[("application_id", amazon::APPLICATION_ID)])).await?;
    assert_eq!(without.status, 400);
    let with = h
        .send(Request::get(url).query(&[("application_id", amazon::APPLICATION_ID), ("version", "beta")]))
        .await?;
    assert_eq!(with.status, 302);
    Ok(())
}

#[tokio::test]
async fn orders_v0_page_with_next_token_to_the_end_without_restricted_data() -> TestResult {
    let h = Harness::unthrottled().await?;
    let (access, _) = h.tokens(SELLER_1).await?;
    let mut ids = Vec::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut query = vec![("MarketplaceIds", MARKETPLACE_US), ("LastUpdatedAfter", EPOCH)];
        if let Some(token) = next.as_deref() {
            query.push(("NextToken", token));
        }
        let response = h.get("/orders/v0/orders", &query, &access).await?;
        assert_eq!(response.status, 200);
        assert!(response.header("x-amzn-RequestId").is_some());
        let limit = h.sim().config().usage_plans.get("ordersV0.getOrders").map(|l| l.per_second);
        assert_eq!(response.header("x-amzn-RateLimit-Limit").and_then(|v| v.parse::<f64>().ok()), limit);
        let body: Value = response.json()?;
        let orders = body.pointer("/payload/Orders").and_then(Value::as_array).ok_or("no orders")?;
        assert!(orders.len() <= 100);
        for order in orders {
            ids.push(str_at(order, "/AmazonOrderId").to_owned());
            assert!(order.pointer("/BuyerInfo/BuyerName").is_none(), "BuyerName needs an RDT");
            assert!(order.pointer("/ShippingAddress/Name").is_none(), "the name needs an RDT");
            assert!(order.pointer("/ShippingAddress/AddressLine1").is_none());
            assert!(order.pointer("/ShippingAddress/Phone").is_none());
        }
        assert!(!str_at(&body, "/payload/LastUpdatedBefore").is_empty());
        pages += 1;
        match body.pointer("/payload/NextToken").and_then(Value::as_str) {
            Some(token) => next = Some(token.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(ids.len(), 250);
    let distinct: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), 250);

    let forged = h
        .get(
            "/orders/v0/orders",
            &[("MarketplaceIds", MARKETPLACE_US), ("LastUpdatedAfter", EPOCH), ("NextToken", "1.2.3")],
            &access,
        )
        .await?;
    assert_eq!(forged.status, 400);
    assert_eq!(first_error(&forged.json()?).0, "InvalidInput");
    Ok(())
}

#[tokio::test]
async fn order_searches_refuse_a_before_less_than_two_minutes_ago() -> TestResult {
    let h = Harness::unthrottled().await?;
    let (access, _) = h.tokens(SELLER_1).await?;
    let now = h.running.sim.ctx.clock.now_unix();
    let recent = format_unix(now - 60);
    let response = h
        .get(
            "/orders/v0/orders",
            &[
                ("MarketplaceIds", MARKETPLACE_US),
                ("LastUpdatedAfter", EPOCH),
                ("LastUpdatedBefore", &recent),
            ],
            &access,
        )
        .await?;
    assert_eq!(response.status, 400);
    assert!(response.header("x-amzn-RateLimit-Limit").is_some(), "400 answers carry the rate header");
    let body: Value = response.json()?;
    let (code, message, _) = first_error(&body);
    assert_eq!(code, "InvalidInput");
    assert!(message.contains("at least 2 minutes before current time"), "{message}");

    let ok = format_unix(now - 121);
    let response = h
        .get("/orders/2026-01-01/orders", &[("lastUpdatedAfter", EPOCH), ("lastUpdatedBefore", &ok)], &access)
        .await?;
    assert_eq!(response.status, 200);
    let recent_2026 = h
        .get(
            "/orders/2026-01-01/orders",
            &[("lastUpdatedAfter", EPOCH), ("lastUpdatedBefore", &recent)],
            &access,
        )
        .await?;
    assert_eq!(recent_2026.status, 400);

    let both = h
        .get("/orders/2026-01-01/orders", &[("lastUpdatedAfter", EPOCH), ("createdAfter", EPOCH)], &access)
        .await?;
    assert_eq!(both.status, 400, "exactly one of createdAfter and lastUpdatedAfter");
    let neither = h.get("/orders/v0/orders", &[("MarketplaceIds", MARKETPLACE_US)], &access).await?;
    assert_eq!(neither.status, 400);
    let non_utc = h
        .get(
            "/orders/v0/orders",
            &[("MarketplaceIds", MARKETPLACE_US), ("LastUpdatedAfter", "2025-01-01T00:00:00+09:00")],
            &access,
        )
        .await?;
    assert_eq!(non_utc.status, 400);
    Ok(())
}

fn format_unix(unix: i64) -> String {
    // The simulator's own formatter is private; rebuild the ISO form from whole days.
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs / 60 % 60, secs % 60)
}

#[tokio::test]
async fn restricted_data_tokens_unlock_pii_only_for_the_resources_they_name() -> TestResult {
    let h = Harness::unthrottled().await?;
    let (access, _) = h.tokens(SELLER_1).await?;
    let rdt_url = h.sp("/tokens/2021-03-01/restrictedDataToken")?;
    let create =
        |body: Value| Request::post(rdt_url.clone()).header("x-amz-access-token", &access).json(&body);
    let issued = h
        .send(create(json!({"restrictedResources": [
            {"method": "GET", "path": "/orders/v0/orders", "dataElements": ["buyerInfo", "shippingAddress"]}
        ]})))
        .await?;
    assert_eq!(issued.status, 200);
    assert!(issued.header("x-amzn-RateLimit-Limit").is_some());
    let body: Value = issued.json()?;
    let rdt = str_at(&body, "/restrictedDataToken").to_owned();
    assert!(rdt.starts_with("Atz.sprdt|"));
    assert_eq!(body.pointer("/expiresIn"), Some(&json!(3600)));

    let orders = h
        .get("/orders/v0/orders", &[("MarketplaceIds", MARKETPLACE_US), ("LastUpdatedAfter", EPOCH)], &rdt)
        .await?;
    assert_eq!(orders.status, 200);
    let list: Value = orders.json()?;
    let all = list.pointer("/payload/Orders").and_then(Value::as_array).ok_or("orders")?;
    assert!(all.iter().all(|o| o.pointer("/BuyerInfo/BuyerName").is_some()));
    assert!(all.iter().any(
        |o| o.pointer("/ShippingAddress/Name").is_some() && o.pointer("/ShippingAddress/Phone").is_some()
    ));

    let elsewhere = h
        .get(
            "/fba/inventory/v1/summaries",
            &[
                ("granularityType", "Marketplace"),
                ("granularityId", MARKETPLACE_US),
                ("marketplaceIds", MARKETPLACE_US),
            ],
            &rdt,
        )
        .await?;
    assert_eq!(elsewhere.status, 403, "an RDT works only for the resources it names");

    let sandbox_400 = h
        .send(create(json!({
            "targetApplication": amazon::APPLICATION_ID,
            "restrictedResources": [{"method": "", "path": "/orders/v1/orders/902-1845936-5435065/address"}]
        })))
        .await?;
    assert_eq!(sandbox_400.status, 400);
    assert_eq!(
        sandbox_400.json::<Value>()?,
        json!({"errors": [{"code": "InvalidRequest", "message": "Request is missing or has invalid parameters", "details": "Resource not provided."}]}),
        "the model's sandbox 400"
    );
    let no_elements = h
        .send(create(json!({"restrictedResources": [{"method": "GET", "path": "/orders/v0/orders"}]})))
        .await?;
    assert_eq!(no_elements.status, 400, "getOrders needs dataElements");
    let address_only = h
        .send(create(json!({"restrictedResources": [{"method": "GET", "path": "/orders/v0/orders/{orderId}/address"}]})))
        .await?;
    assert_eq!(address_only.status, 200, "the model's sandbox 200 request");
    Ok(())
}

#[tokio::test]
async fn apps_without_the_restricted_role_get_no_pii() -> TestResult {
    let config = AmazonConfig {
        app_roles: vec![amazon::ROLE_ORDERS.to_owned(), amazon::ROLE_LISTINGS.to_owned()],
        ..AmazonConfig::default()
    };
    let h = Harness::start(config.scale_usage_plans(1000.0)).await?;
    let (access, _) = h.tokens(SELLER_1).await?;
    let rdt = h
        .send(Request::post(h.sp("/tokens/2021-03-01/restrictedDataToken")?).header("x-amz-access-token", &access).json(
            &json!({"restrictedResources": [{"method": "GET", "path": "/orders/v0/orders", "dataElements": ["buyerInfo"]}]}),
        ))
        .await?;
    assert_eq!(rdt.status, 403);
    let search = h
        .get("/orders/2026-01-01/orders", &[("lastUpdatedAfter", EPOCH), ("includedData", "BUYER")], &access)
        .await?;
    assert_eq!(search.status, 403);
    let plain = h.get("/orders/2026-01-01/orders", &[("lastUpdatedAfter", EPOCH)], &access).await?;
    assert_eq!(plain.status, 200);
    Ok(())
}

#[tokio::test]
async fn orders_2026_include_buyer_and_recipient_only_when_asked() -> TestResult {
    let h = Harness::unthrottled().await?;
    let (access, _) = h.tokens(SELLER_2).await?;
    let base = [("lastUpdatedAfter", EPOCH), ("maxResultsPerPage", "15")];
    let plain = h.get("/orders/2026-01-01/orders", &base, &access).await?;
    assert_eq!(plain.status, 200);
    let body: Value = plain.json()?;
    let orders = body.pointer("/orders").and_then(Value::as_array).ok_or("orders")?;
    assert_eq!(orders.len(), 15);
    for order in orders {
        for absent in ["/buyer", "/recipient", "/fulfillment", "/proceeds"] {
            assert!(order.pointer(absent).is_none(), "{absent} without includedData");
        }
        assert!(order.pointer("/orderItems/0/product/sellerSku").is_some());
    }
    let markets: std::collections::HashSet<&str> =
        orders.iter().map(|o| str_at(o, "/salesChannel/marketplaceId")).collect();
    assert_eq!(markets, [MARKETPLACE_US, MARKETPLACE_CA].into_iter().collect());

    let mut all = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut query = base.to_vec();
        query.push(("includedData", "BUYER,RECIPIENT,FULFILLMENT,PROCEEDS"));
        if let Some(t) = token.as_deref() {
            query.push(("paginationToken", t));
        }
        let body: Value = h.get("/orders/2026-01-01/orders", &query, &access).await?.json()?;
        for order in body.pointer("/orders").and_then(Value::as_array).ok_or("orders")? {
            assert!(order.pointer("/buyer/buyerName").is_some());
            assert!(order.pointer("/fulfillment/fulfillmentStatus").is_some());
            all.push(order.clone());
        }
        match body.pointer("/pagination/nextToken").and_then(Value::as_str) {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(all.len(), 40);
    assert!(all.iter().any(|o| o.pointer("/recipient/deliveryAddress/phone").is_some()));
    assert!(all.iter().any(|o| o.pointer("/proceeds/grandTotal/amount").is_some()));

    let one = str_at(&all[0], "/orderId").to_owned();
    let single = h
        .get(&format!("/orders/2026-01-01/orders/{one}"), &[("includedData", "FULFILLMENT")], &access)
        .await?;
    assert_eq!(single.status, 200);
    let single: Value = single.json()?;
    assert_eq!(str_at(&single, "/order/orderId"), one);
    assert!(single.pointer("/order/buyer").is_none());
    let missing = h.get("/orders/2026-01-01/orders/999-0000000-0000000", &[], &access).await?;
    assert_eq!(missing.status, 404);
    let bad = h
        .get(
            "/orders/2026-01-01/orders",
            &[("lastUpdatedAfter", EPOCH), ("includedData", "EVERYTHING")],
            &access,
        )
        .await?;
    assert_eq!(bad.status, 400);
    Ok(())
}

#[tokio::test]
async fn listings_patch_merges_the_merchant_quantity() -> TestResult {
    let h = Harness::unthrottled().await?;
    let (access, _) = h.tokens(SELLER_1).await?;
    let patch = |seller: &str, sku: &str, body: Value| -> Result<Request, Box<dyn std::error::Error>> {
        Ok(Request::patch(h.sp(&format!("/listings/2021-08-01/items/{seller}/{sku}"))?)
            .query(&[("marketplaceIds", MARKETPLACE_US)])
            .header("x-amz-access-token", &access)
            .json(&body))
    };
    let merge = |quantity: Value| {
        json!({"productType": "PRODUCT", "patches": [{
            "op": "merge", "path": "/attributes/fulfillment_availability",
            "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}]
        }]})
    };
    let accepted = h.send(patch(SELLER_1, "SKU-000003", merge(json!(7)))?).await?;
    assert_eq!(accepted.status, 200);
    assert_eq!(accepted.header("x-amzn-RateLimit-Limit").and_then(|v| v.parse::<f64>().ok()), Some(5000.0));
    let body: Value = accepted.json()?;
    assert_eq!(str_at(&body, "/sku"), "SKU-000003");
    assert_eq!(str_at(&body, "/status"), "ACCEPTED");
    assert!(!str_at(&body, "/submissionId").is_empty());
    assert_eq!(body.pointer("/issues"), Some(&json!([])));
    assert_eq!(h.sim().mfn_quantity(SELLER_1, "SKU-000003"), Some(7));

    let invalid = h.send(patch(SELLER_1, "SKU-000003", merge(json!(-1)))?).await?;
    let body: Value = invalid.json()?;
    assert_eq!(str_at(&body, "/status"), "INVALID");
    assert_eq!(str_at(&body, "/issues/0/severity"), "ERROR");
    assert_eq!(
        h.sim().mfn_quantity(SELLER_1, "SKU-000003"),
        Some(7),
        "an invalid submission changes nothing"
    );

    let unknown = h.send(patch(SELLER_1, "SKU-999999", merge(json!(1)))?).await?;
    assert_eq!(unknown.status, 400);
    assert_eq!(
        unknown.json::<Value>()?,
        json!({"errors": [{"code": "BAD_REQUEST", "message": "Invalid input", "details": "Invalid input"}]}),
        "the model's sandbox 400"
    );
    let other_seller = h.send(patch(SELLER_2, "SKU-000003", merge(json!(1)))?).await?;
    assert_eq!(other_seller.status, 403);
    Ok(())
}

#[tokio::test]
async fn fba_inventory_summaries_page_with_next_token() -> TestResult {
    let h = Harness::unthrottled().await?;
    let (access, _) = h.tokens(SELLER_1).await?;
    let mut skus = Vec::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut query = vec![
            ("granularityType", "Marketplace"),
            ("granularityId", MARKETPLACE_US),
            ("marketplaceIds", MARKETPLACE_US),
            ("details", "true"),
        ];
        if let Some(t) = next.as_deref() {
            query.push(("nextToken", t));
        }
        let response = h.get("/fba/inventory/v1/summaries", &query, &access).await?;
        assert_eq!(response.status, 200);
        let body: Value = response.json()?;
        assert_eq!(str_at(&body, "/payload/granularity/granularityId"), MARKETPLACE_US);
        for summary in
            body.pointer("/payload/inventorySummaries").and_then(Value::as_array).ok_or("summaries")?
        {
            assert!(summary.pointer("/inventoryDetails/fulfillableQuantity").is_some());
            skus.push(str_at(summary, "/sellerSku").to_owned());
        }
        pages += 1;
        match body.pointer("/pagination/nextToken").and_then(Value::as_str) {
            Some(t) => next = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!((pages, skus.len()), (3, 120));
    Ok(())
}

async fn first_page_token(h: &Harness, access: &str) -> Result<String, Box<dyn std::error::Error>> {
    let body: Value = h
        .get(
            "/fba/inventory/v1/summaries",
            &[
                ("granularityType", "Marketplace"),
                ("granularityId", MARKETPLACE_US),
                ("marketplaceIds", MARKETPLACE_US),
            ],
            access,
        )
        .await?
        .json()?;
    Ok(str_at(&body, "/pagination/nextToken").to_owned())
}

#[tokio::test]
async fn fba_next_tokens_expire_after_thirty_seconds() -> TestResult {
    let h = Harness::unthrottled().await?;
    let (access, _) = h.tokens(SELLER_1).await?;
    let token = first_page_token(&h, &access).await?;
    h.running.sim.ctx.clock.advance(31);
    let expired = h
        .get(
            "/fba/inventory/v1/summaries",
            &[
                ("granularityType", "Marketplace"),
                ("granularityId", MARKETPLACE_US),
                ("marketplaceIds", MARKETPLACE_US),
                ("nextToken", &token),
            ],
            &access,
        )
        .await?;
    assert_eq!(expired.status, 400);
    Ok(())
}

#[tokio::test]
async fn official_usage_plans_throttle_with_quota_exceeded() -> TestResult {
    let h = Harness::start(AmazonConfig::default()).await?;
    let (access, _) = h.tokens(SELLER_1).await?;
    let query = [
        ("granularityType", "Marketplace"),
        ("granularityId", MARKETPLACE_US),
        ("marketplaceIds", MARKETPLACE_US),
    ];
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let response = h.get("/fba/inventory/v1/summaries", &query, &access).await?;
        statuses.push(response.status);
        if response.status == 429 {
            assert!(response.header("x-amzn-RateLimit-Limit").is_none());
            assert!(response.header("x-amzn-RequestId").is_some());
            assert_eq!(
                response.json::<Value>()?,
                json!({"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource.", "details": ""}]})
            );
        } else {
            assert_eq!(response.header("x-amzn-RateLimit-Limit"), Some("2.0"));
        }
    }
    assert_eq!(statuses, [200, 200, 429], "burst 2 (fbaInventory.json)");
    assert_eq!(h.running.sim.ctx.faults.stats(SimPlatform::Amazon).throttled, 1);
    let other_op = h.get("/sellers/v1/marketplaceParticipations", &[], &access).await?;
    assert_eq!(other_op.status, 200, "buckets are per operation");
    assert_eq!(other_op.header("x-amzn-RateLimit-Limit"), Some("0.016"));
    Ok(())
}

#[tokio::test]
async fn tokens_are_checked_on_every_call() -> TestResult {
    let h = Harness::unthrottled().await?;
    let missing = h.send(Request::get(h.sp("/sellers/v1/marketplaceParticipations")?)).await?;
    assert_eq!(missing.status, 403);
    assert_eq!(first_error(&missing.json()?).0, "MissingAuthenticationToken");
    let garbage = h.get("/sellers/v1/marketplaceParticipations", &[], "Atza|not-a-token").await?;
    assert_eq!(garbage.status, 403);
    assert_eq!(first_error(&garbage.json()?).0, "Unauthorized");

    let (access, _) = h.tokens(SELLER_2).await?;
    let ok = h.get("/sellers/v1/marketplaceParticipations", &[], &access).await?;
    assert_eq!(ok.status, 200);
    let body: Value = ok.json()?;
    let ids: Vec<&str> = body
        .pointer("/payload")
        .and_then(Value::as_array)
        .ok_or("payload")?
        .iter()
        .map(|p| str_at(p, "/marketplace/id"))
        .collect();
    assert_eq!(ids, [MARKETPLACE_US, MARKETPLACE_CA]);
    assert_eq!(body.pointer("/payload/0/participation/isParticipating"), Some(&json!(true)));

    h.running.sim.ctx.clock.advance(3601);
    let expired = h.get("/sellers/v1/marketplaceParticipations", &[], &access).await?;
    assert_eq!(expired.status, 403, "access tokens last one hour");
    Ok(())
}

#[tokio::test]
async fn injected_faults_answer_in_the_sp_api_envelope() -> TestResult {
    let h = Harness::unthrottled().await?;
    let (access, _) = h.tokens(SELLER_1).await?;
    let faults = &h.running.sim.ctx.faults;
    faults.push(Fault::once(SimPlatform::Amazon, FaultKind::RateLimited { retry_after: None }));
    let throttled = h.get("/sellers/v1/marketplaceParticipations", &[], &access).await?;
    assert_eq!(throttled.status, 429);
    assert_eq!(first_error(&throttled.json()?).0, "QuotaExceeded");
    faults.push(Fault::once(SimPlatform::Amazon, FaultKind::ServerError(503)));
    let unavailable = h.get("/sellers/v1/marketplaceParticipations", &[], &access).await?;
    assert_eq!(unavailable.status, 503);
    assert!(!first_error(&unavailable.json()?).0.is_empty());
    faults.push(Fault::once(SimPlatform::Amazon, FaultKind::RevokeTokens));
    let revoked = h.get("/sellers/v1/marketplaceParticipations", &[], &access).await?;
    assert_eq!(revoked.status, 403);
    Ok(())
}

#[tokio::test]
async fn orders_v0_detail_operations() -> TestResult {
    let h = Harness::unthrottled().await?;
    let (access, _) = h.tokens(SELLER_1).await?;
    let list: Value = h
        .get(
            "/orders/v0/orders",
            &[("MarketplaceIds", MARKETPLACE_US), ("LastUpdatedAfter", EPOCH), ("OrderStatuses", "Shipped")],
            &access,
        )
        .await?
        .json()?;
    let orders = list.pointer("/payload/Orders").and_then(Value::as_array).ok_or("orders")?;
    assert!(!orders.is_empty());
    assert!(orders.iter().all(|o| str_at(o, "/OrderStatus") == "Shipped"));
    let id = str_at(&orders[0], "/AmazonOrderId").to_owned();

    let items: Value = h.get(&format!("/orders/v0/orders/{id}/orderItems"), &[], &access).await?.json()?;
    assert_eq!(str_at(&items, "/payload/AmazonOrderId"), id);
    let first = items.pointer("/payload/OrderItems/0").ok_or("no item")?;
    assert!(str_at(first, "/SellerSKU").starts_with("SKU-"));
    assert!(first.pointer("/ItemPrice/Amount").is_some());

    let address: Value = h.get(&format!("/orders/v0/orders/{id}/address"), &[], &access).await?.json()?;
    assert!(address.pointer("/payload/ShippingAddress/City").is_some());
    assert!(address.pointer("/payload/ShippingAddress/Name").is_none(), "the name needs an RDT");
    let order: Value = h.get(&format!("/orders/v0/orders/{id}"), &[], &access).await?.json()?;
    assert_eq!(str_at(&order, "/payload/AmazonOrderId"), id);
    let missing = h.get("/orders/v0/orders/100-0000000-9999999", &[], &access).await?;
    assert_eq!(missing.status, 404);
    Ok(())
}
