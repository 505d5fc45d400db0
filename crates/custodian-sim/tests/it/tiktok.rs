//! The simulated TikTok API for Business over real HTTP on loopback: the authorization page, token
//! exchange, `oauth2/advertiser/get/`, campaigns, synchronous reports, campaign updates, the `{code,
//! message, request_id, data}` envelope with its documented codes (ads-apis.md §2.6–2.8,
//! return-codes.md), the app rate limit, and injected faults.

// `cfg(test)` marks the helpers below as test code for clippy (`allow-unwrap-in-tests`).
#![cfg(test)]

use std::time::Duration;

use custodian_http::{HttpClient, HttpConfig, Request, Response, Url};
use custodian_sim::tiktok::{
    ADVERTISER_1, ADVERTISER_2, APP_ID, APP_SECRET, AdvertiserConfig, CampaignStatus, DataLevel,
    REDIRECT_URI, RateTier, TikTokConfig,
};
use custodian_sim::{Fault, FaultKind, RunningSim, Sim, SimConfig, SimPlatform};
use serde_json::{Value, json};

struct Env {
    running: RunningSim,
    http: HttpClient,
}

impl Env {
    async fn start(tiktok: TikTokConfig) -> Self {
        let running = Sim::new(SimConfig { seed: 7, tiktok, ..SimConfig::default() })
            .start("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let http =
            HttpClient::new(HttpConfig { allow_plain_loopback: true, ..HttpConfig::default() }).unwrap();
        Self { running, http }
    }

    /// The default app without its rate limit (tests that check limits set one).
    async fn default() -> Self {
        Self::start(TikTokConfig { rate_limit: None, ..TikTokConfig::default() }).await
    }

    fn url(&self, path: &str) -> Url {
        Url::parse(&format!("{}/tiktok{path}", self.running.base_url())).unwrap()
    }

    fn api(&self, path: &str) -> Url {
        self.url(&format!("/open_api/v1.3/{path}"))
    }

    fn sim(&self) -> &custodian_sim::tiktok::TikTokSim {
        &self.running.sim.tiktok
    }

    async fn send(&self, request: Request) -> Response {
        self.http.send(request).await.unwrap()
    }

    /// A GET with the `Access-Token` header; the HTTP status and the parsed body.
    async fn get(&self, path: &str, token: &str, query: &[(&str, &str)]) -> (u16, Value) {
        let response =
            self.send(Request::get(self.api(path)).query(query).header("Access-Token", token)).await;
        (response.status, serde_json::from_slice(&response.body).unwrap())
    }

    async fn post(&self, path: &str, token: &str, body: &Value) -> (u16, Value) {
        let response =
            self.send(Request::post(self.api(path)).header("Access-Token", token).json(body)).await;
        (response.status, serde_json::from_slice(&response.body).unwrap())
    }
}

/// The envelope's return code, after checking the envelope's shape (HTTP 200 even for errors, §0).
#[track_caller]
fn rc(status: u16, body: &Value) -> i64 {
    assert_eq!(status, 200, "TikTok answers API errors with HTTP 200: {body}");
    assert!(body["message"].is_string(), "{body}");
    let request_id = body["request_id"].as_str().unwrap();
    assert_eq!(request_id.len(), 32, "{body}");
    assert!(body.get("data").is_some(), "{body}");
    body["code"].as_i64().unwrap()
}

fn list(body: &Value) -> &Vec<Value> {
    body["data"]["list"].as_array().unwrap()
}

fn days_ago(days: i64) -> String {
    let date = time::OffsetDateTime::now_utc().date() - time::Duration::days(days);
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

#[tokio::test]
async fn authorization_page_redirects_with_auth_code_and_state() {
    let env = Env::default().await;
    let page = |app: &str, redirect: &str| {
        Request::get(env.url("/portal/auth")).query(&[
            ("app_id", app),
            ("state", "s t&1"),
            ("redirect_uri", redirect),
        ])
    };
    let response = env.send(page(APP_ID, REDIRECT_URI)).await;
    assert_eq!(response.status, 302);
    let location = Url::parse(response.header("location").unwrap()).unwrap();
    assert!(location.as_str().starts_with(REDIRECT_URI), "{location}");
    let pairs: Vec<(String, String)> = location.query_pairs().into_owned().collect();
    assert_eq!(pairs.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["auth_code", "state"]);
    assert_eq!(pairs[1].1, "s t&1", "the state comes back unchanged");

    let code = pairs[0].1.clone();
    let exchange = json!({"app_id": APP_ID, "secret": APP_SECRET, "auth_code": code});
    let (status, body) = env.post("oauth2/access_token/", "", &exchange).await;
    assert_eq!(rc(status, &body), 0);
    assert_eq!(body["data"]["advertiser_ids"], json!([ADVERTISER_1, ADVERTISER_2]));
    assert_eq!(body["data"]["scope"], json!([4, 20, 100, 200]), "the app's scopes, not the URL's");

    for (app, redirect) in [("1", REDIRECT_URI), (APP_ID, "https://evil.example/cb")] {
        let response = env.send(page(app, redirect)).await;
        assert_eq!(response.status, 400, "{app} {redirect}");
        assert!(response.header("location").is_none());
    }
}

#[tokio::test]
async fn auth_codes_work_once_within_an_hour() {
    let env = Env::default().await;
    let exchange = |code: &str, secret: &str| json!({"app_id": APP_ID, "secret": secret, "auth_code": code});
    let code = env.sim().issue_auth_code();
    let (status, body) = env.post("oauth2/access_token/", "", &exchange(&code, APP_SECRET)).await;
    assert_eq!(rc(status, &body), 0);
    let token = body["data"]["access_token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 40);

    let (status, body) = env.post("oauth2/access_token/", "", &exchange(&code, APP_SECRET)).await;
    assert_eq!(rc(status, &body), 40110, "a used code: {body}");
    let (status, body) = env.post("oauth2/access_token/", "", &exchange("nope", APP_SECRET)).await;
    assert_eq!(rc(status, &body), 40110, "an unknown code");
    let fresh = env.sim().issue_auth_code();
    let (status, body) = env.post("oauth2/access_token/", "", &exchange(&fresh, "wrong")).await;
    assert_eq!(rc(status, &body), 40101, "a wrong secret");
    let (status, body) =
        env.post("oauth2/access_token/", "", &json!({"app_id": APP_ID, "secret": APP_SECRET})).await;
    assert_eq!(rc(status, &body), 40002);
    assert_eq!(body["message"], "auth_code: Missing data for required field.");
    let narrow = env.sim().issue_auth_code_for(&[ADVERTISER_2], &[4]);
    let (status, body) = env.post("oauth2/access_token/", "", &exchange(&narrow, APP_SECRET)).await;
    assert_eq!(rc(status, &body), 0);
    assert_eq!(
        (&body["data"]["advertiser_ids"], &body["data"]["scope"]),
        (&json!([ADVERTISER_2]), &json!([4]))
    );
    env.sim().ctx().clock.advance(3601);
    let (status, body) = env.post("oauth2/access_token/", "", &exchange(&fresh, APP_SECRET)).await;
    assert_eq!(rc(status, &body), 40110, "an expired code");
}

#[tokio::test]
async fn advertiser_get_lists_what_the_token_covers() {
    let env = Env::default().await;
    let token = env.sim().issue_token(&[ADVERTISER_2], &[100]);
    let app = [("app_id", APP_ID), ("secret", APP_SECRET)];
    let (status, body) = env.get("oauth2/advertiser/get/", &token, &app).await;
    assert_eq!(rc(status, &body), 0);
    assert_eq!(
        body["data"]["list"],
        json!([{"advertiser_id": ADVERTISER_2, "advertiser_name": "Globex Retail"}])
    );

    let (status, body) = env.get("oauth2/advertiser/get/", "", &app).await;
    assert_eq!(rc(status, &body), 40104);
    assert_eq!(
        body["message"], "Access token is null, you should set it in http header with key Access-Token.",
        "§2.6 T5 verbatim"
    );
    let (status, body) = env.get("oauth2/advertiser/get/", "garbage", &app).await;
    assert_eq!(rc(status, &body), 40105);
    let (status, body) =
        env.get("oauth2/advertiser/get/", &token, &[("app_id", APP_ID), ("secret", "wrong")]).await;
    assert_eq!(rc(status, &body), 40101);
    let no_scope = env.sim().issue_token(&[ADVERTISER_2], &[4]);
    let (status, body) = env.get("oauth2/advertiser/get/", &no_scope, &app).await;
    assert_eq!(rc(status, &body), 40001, "scope 100 is needed");
}

#[tokio::test]
async fn revoked_and_deauthorized_tokens_are_invalid_and_refresh_is_refused() {
    let env = Env::default().await;
    let app = [("app_id", APP_ID), ("secret", APP_SECRET)];
    let token = env.sim().issue_app_token();
    let revoke = json!({"app_id": APP_ID, "secret": APP_SECRET, "access_token": token});
    let (status, body) = env.post("oauth2/revoke_token/", "", &revoke).await;
    assert_eq!(rc(status, &body), 0);
    let (status, body) = env.get("oauth2/advertiser/get/", &token, &app).await;
    assert_eq!(rc(status, &body), 40105);

    let other = env.sim().issue_token(&[ADVERTISER_1], &[100]);
    env.sim().deauthorize_advertiser(ADVERTISER_1);
    let (status, body) = env.get("oauth2/advertiser/get/", &other, &app).await;
    assert_eq!(rc(status, &body), 40105, "the advertiser cancelled the authorization");

    let refresh =
        json!({"app_id": APP_ID, "secret": APP_SECRET, "refresh_token": "x", "grant_type": "refresh_token"});
    let (status, body) = env.post("oauth2/refresh_token/", "", &refresh).await;
    assert_eq!(rc(status, &body), 40107, "long-term advertiser tokens have no refresh token");
}

#[tokio::test]
async fn campaigns_page_with_page_info_fields_and_filters() {
    let env = Env::default().await;
    let token = env.sim().issue_app_token();
    let mut seen = Vec::new();
    for page in 1..=4 {
        let page = page.to_string();
        let (status, body) = env
            .get(
                "campaign/get/",
                &token,
                &[("advertiser_id", ADVERTISER_1), ("page", &page), ("page_size", "2")],
            )
            .await;
        assert_eq!(rc(status, &body), 0);
        let info = &body["data"]["page_info"];
        assert_eq!((info["total_number"].as_u64(), info["total_page"].as_u64()), (Some(5), Some(3)));
        assert_eq!(info["page"].as_u64(), page.parse().ok());
        seen.extend(list(&body).iter().map(|c| c["campaign_id"].as_str().unwrap().to_owned()));
    }
    let expected: Vec<String> = (0..5).map(|i| env.sim().campaign_id(ADVERTISER_1, i).unwrap()).collect();
    assert_eq!(seen, expected, "every campaign once, page 4 empty");

    let first = &expected[0];
    let filtering = json!({"campaign_ids": [first]}).to_string();
    let (status, body) = env
        .get(
            "campaign/get/",
            &token,
            &[
                ("advertiser_id", ADVERTISER_1),
                ("fields", r#"["campaign_id","budget","operation_status"]"#),
                ("filtering", &filtering),
            ],
        )
        .await;
    assert_eq!(rc(status, &body), 0);
    let only = list(&body);
    assert_eq!(only.len(), 1);
    let keys: Vec<&str> = only[0].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["budget", "campaign_id", "operation_status"], "only the requested fields");

    for (query, expected_code) in [
        (vec![("advertiser_id", ADVERTISER_1), ("page_size", "1001")], 40002),
        (vec![("advertiser_id", ADVERTISER_1), ("page", "0")], 40002),
        (vec![("advertiser_id", ADVERTISER_1), ("fields", r#"["secret_sauce"]"#)], 40002),
        (vec![], 40002),
        (vec![("advertiser_id", "7999")], 40001),
    ] {
        let (status, body) = env.get("campaign/get/", &token, &query).await;
        assert_eq!(rc(status, &body), expected_code, "{query:?}: {body}");
    }
    let response =
        env.send(Request::get(env.url("/open_api/v1.3/campaign/get")).header("Access-Token", &token)).await;
    assert_eq!(response.status, 404, "the trailing slash matters (§2.1)");
}

#[tokio::test]
async fn daily_reports_page_deterministically_over_every_object_and_day() {
    let env = Env::default().await;
    let token = env.sim().issue_app_token();
    let (start, end) = (days_ago(5), days_ago(3));
    let query = |page: &'static str| {
        vec![
            ("advertiser_id", ADVERTISER_1),
            ("report_type", "BASIC"),
            ("data_level", "AUCTION_CAMPAIGN"),
            ("dimensions", r#"["campaign_id","stat_time_day"]"#),
            ("metrics", r#"["spend","impressions","clicks","ctr","conversion","campaign_name"]"#),
            ("page", page),
            ("page_size", "10"),
        ]
    };
    let mut rows = Vec::new();
    for page in ["1", "2"] {
        let mut q = query(page);
        q.extend([("start_date", start.as_str()), ("end_date", end.as_str())]);
        let (status, body) = env.get("report/integrated/get/", &token, &q).await;
        assert_eq!(rc(status, &body), 0, "{body}");
        let info = &body["data"]["page_info"];
        assert_eq!(
            info,
            &json!({"page": page.parse::<u64>().unwrap(), "page_size": 10, "total_number": 15, "total_page": 2})
        );
        rows.extend(list(&body).iter().cloned());
    }
    assert_eq!(rows.len(), 15, "5 campaigns × 3 days");
    let row = &rows[0];
    assert_eq!(row["dimensions"]["stat_time_day"], format!("{start} 00:00:00"));
    assert_eq!(row["dimensions"]["campaign_id"], env.sim().campaign_id(ADVERTISER_1, 0).unwrap());
    for metric in ["spend", "impressions", "clicks", "conversion", "campaign_name"] {
        assert!(row["metrics"][metric].is_string(), "metrics are strings (§2.6 T2): {row}");
    }
    assert!(row["metrics"]["spend"].as_str().unwrap().split_once('.').unwrap().1.len() == 2);

    let mut q = query("1");
    q.extend([("start_date", start.as_str()), ("end_date", end.as_str())]);
    let (_, again) = env.get("report/integrated/get/", &token, &q).await;
    assert_eq!(list(&again)[..], rows[..10], "the same page twice is the same data");

    let tomorrow = days_ago(-1);
    let mut q = query("1");
    q.extend([("start_date", end.as_str()), ("end_date", tomorrow.as_str())]);
    let (_, future) = env.get("report/integrated/get/", &token, &q).await;
    assert_eq!(future["data"]["page_info"]["total_number"], 5 * 4, "days after today have no rows");
    assert_eq!(env.sim().report_objects(ADVERTISER_1, DataLevel::Ad), Some(20));
}

#[tokio::test]
async fn report_parameters_are_checked_as_documented() {
    let env = Env::default().await;
    let token = env.sim().issue_app_token();
    let (start, end) = (days_ago(3), days_ago(1));
    let base = vec![
        ("advertiser_id", ADVERTISER_1),
        ("report_type", "BASIC"),
        ("data_level", "AUCTION_AD"),
        ("dimensions", r#"["ad_id","stat_time_day"]"#),
        ("metrics", r#"["spend","adgroup_id","campaign_id"]"#),
        ("start_date", start.as_str()),
        ("end_date", end.as_str()),
    ];
    let (status, body) = env.get("report/integrated/get/", &token, &base).await;
    assert_eq!(rc(status, &body), 0, "{body}");
    assert_eq!(body["data"]["page_info"]["total_number"], 20 * 3);

    let with = |key: &'static str, value: &'static str| {
        let mut q: Vec<(&str, &str)> = base.iter().filter(|(k, _)| *k != key).cloned().collect();
        q.push((key, value));
        q
    };
    let without = |key: &str| base.iter().filter(|(k, _)| *k != key).cloned().collect::<Vec<_>>();
    let far = days_ago(40);
    let mut too_long = without("start_date");
    too_long.push(("start_date", far.as_str()));
    for (query, expected, why) in [
        (with("metrics", r#"["spend","user_email"]"#), 40002, "unknown metric"),
        (with("metrics", r#"["spend"#), 40002, "metrics not a JSON list"),
        (with("dimensions", r#"["campaign_id","stat_time_day"]"#), 40002, "id dimension of another level"),
        (with("dimensions", r#"["ad_id","gender"]"#), 40002, "an audience dimension in a BASIC report"),
        (with("page_size", "1001"), 40002, "page size over 1000"),
        (with("report_type", "AUDIENCE"), 40002, "not simulated"),
        (without("report_type"), 40002, "report_type is required"),
        (without("start_date"), 40002, "dates are required"),
        (too_long, 40002, "at most 30 days with stat_time_day"),
        (with("advertiser_id", "7000000000000000009"), 40001, "advertiser not covered"),
    ] {
        let (status, body) = env.get("report/integrated/get/", &token, &query).await;
        assert_eq!(rc(status, &body), expected, "{why}: {body}");
    }
    let (_, body) =
        env.get("report/integrated/get/", &token, &with("metrics", r#"["spend","user_email"]"#)).await;
    assert!(body["message"].as_str().unwrap().contains("user_email"), "{body}");
    let reporting_only = env.sim().issue_token(&[ADVERTISER_1], &[200]);
    let (status, body) = env.get("report/integrated/get/", &reporting_only, &base).await;
    assert_eq!(rc(status, &body), 40001, "scope 4 is needed");
}

#[tokio::test]
async fn status_updates_read_back_and_deleted_campaigns_stay_deleted() {
    let env = Env::default().await;
    let token = env.sim().issue_app_token();
    let ids: Vec<String> = (0..3).map(|i| env.sim().campaign_id(ADVERTISER_1, i).unwrap()).collect();
    let update = |ids: &[&str], status: &str| json!({"advertiser_id": ADVERTISER_1, "campaign_ids": ids, "operation_status": status});

    let (status, body) = env.post("campaign/status/update/", &token, &update(&[&ids[0]], "DISABLE")).await;
    assert_eq!(rc(status, &body), 0);
    assert_eq!(body["data"]["campaign_list"], json!([{"campaign_id": ids[0], "status": "DISABLE"}]));
    let filtering = json!({"campaign_ids": [ids[0]]}).to_string();
    let (_, read) =
        env.get("campaign/get/", &token, &[("advertiser_id", ADVERTISER_1), ("filtering", &filtering)]).await;
    assert_eq!(list(&read)[0]["operation_status"], "DISABLE");
    assert_eq!(list(&read)[0]["secondary_status"], "CAMPAIGN_STATUS_DISABLE");

    let (status, body) = env.post("campaign/status/update/", &token, &update(&[&ids[1]], "DELETE")).await;
    assert_eq!(rc(status, &body), 0);
    let (_, listed) = env.get("campaign/get/", &token, &[("advertiser_id", ADVERTISER_1)]).await;
    assert_eq!(listed["data"]["page_info"]["total_number"], 4, "deleted campaigns are hidden by default");
    let all = json!({"campaign_ids": [ids[1]], "secondary_status": "CAMPAIGN_STATUS_ALL"}).to_string();
    let (_, read) =
        env.get("campaign/get/", &token, &[("advertiser_id", ADVERTISER_1), ("filtering", &all)]).await;
    assert_eq!(list(&read)[0]["secondary_status"], "CAMPAIGN_STATUS_DELETE");

    let (status, body) =
        env.post("campaign/status/update/", &token, &update(&[&ids[1], &ids[2]], "ENABLE")).await;
    assert_eq!(rc(status, &body), 20001, "partial success: {body}");
    assert_eq!(body["data"]["error_list"][0]["campaign_id"], ids[1]);
    let (status, body) = env.post("campaign/status/update/", &token, &update(&["123"], "ENABLE")).await;
    assert_eq!(rc(status, &body), 40002);
    assert_eq!(body["data"]["error_list"][0]["error_message"], "Campaign does not exist.");
    let (status, body) = env.post("campaign/status/update/", &token, &update(&[&ids[2]], "PAUSE")).await;
    assert_eq!(rc(status, &body), 40002);
    let read_only = env.sim().issue_token(&[ADVERTISER_1], &[200]);
    assert!(env.sim().set_campaign_status(&ids[2], CampaignStatus::Disable));
    let (status, body) = env.post("campaign/status/update/", &read_only, &update(&[&ids[2]], "ENABLE")).await;
    assert_eq!(rc(status, &body), 40001, "scope 20 is needed to change campaigns");
    assert_eq!(env.sim().campaign(&ids[2]).unwrap().status, CampaignStatus::Disable, "unchanged");
}

#[tokio::test]
async fn budget_updates_apply_to_budgeted_campaigns_only() {
    let env = Env::default().await;
    let token = env.sim().issue_app_token();
    let daily = env.sim().campaign_id(ADVERTISER_1, 0).unwrap();
    let unlimited = env.sim().campaign_id(ADVERTISER_1, 2).unwrap();
    assert_eq!(env.sim().campaign(&daily).unwrap().budget_mode, "BUDGET_MODE_DAY");
    let body = json!({"advertiser_id": ADVERTISER_1, "campaign_id": daily, "budget": 123.45});
    let (status, answer) = env.post("campaign/update/", &token, &body).await;
    assert_eq!(rc(status, &answer), 0);
    assert_eq!(answer["data"]["budget"], 123.45);
    assert_eq!(env.sim().campaign(&daily).unwrap().budget_micros, 123_450_000);

    for (body, expected) in [
        (json!({"advertiser_id": ADVERTISER_1, "campaign_id": unlimited, "budget": 50}), 40002),
        (json!({"advertiser_id": ADVERTISER_1, "campaign_id": daily, "budget": -1}), 40002),
        (json!({"advertiser_id": ADVERTISER_1, "campaign_id": "1800000000000000999", "budget": 60}), 40007),
        (json!({"advertiser_id": ADVERTISER_1}), 40002),
    ] {
        let (status, answer) = env.post("campaign/update/", &token, &body).await;
        assert_eq!(rc(status, &answer), expected, "{body}: {answer}");
    }
}

#[tokio::test]
async fn advertiser_info_returns_only_the_requested_fields() {
    let env = Env::default().await;
    let token = env.sim().issue_app_token();
    let ids = format!(r#"["{ADVERTISER_2}"]"#);
    let (status, body) = env
        .get(
            "advertiser/info/",
            &token,
            &[("advertiser_ids", &ids), ("fields", r#"["advertiser_id","currency"]"#)],
        )
        .await;
    assert_eq!(rc(status, &body), 0);
    assert_eq!(body["data"]["list"], json!([{"advertiser_id": ADVERTISER_2, "currency": "EUR"}]));
}

#[tokio::test]
async fn the_app_rate_limit_answers_40100_with_http_200() {
    // One request a second, burst 1: the second of five quick requests is already over the limit.
    let config = TikTokConfig {
        rate_limit: Some(RateTier { qps: 1, qpm: 600, qpd: 864_000 }),
        ..TikTokConfig::default()
    };
    let env = Env::start(config).await;
    let token = env.sim().issue_app_token();
    let app = [("app_id", APP_ID), ("secret", APP_SECRET)];
    let started = std::time::Instant::now();
    let mut codes = Vec::new();
    for _ in 0..5 {
        let (status, body) = env.get("oauth2/advertiser/get/", &token, &app).await;
        codes.push((rc(status, &body), body));
    }
    if started.elapsed() < Duration::from_millis(900) {
        let only: Vec<i64> = codes.iter().map(|(c, _)| *c).collect();
        assert_eq!(only, [0, 40100, 40100, 40100, 40100]);
        assert_eq!(env.running.sim.ctx.faults.stats(SimPlatform::TikTok).throttled, 4);
    }
    let (_, throttled) = codes.iter().find(|(c, _)| *c == 40100).unwrap();
    assert!(
        throttled["message"].as_str().unwrap().starts_with("Due to too many requests"),
        "§2.6 T6: {throttled}"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, body) = env.get("oauth2/advertiser/get/", &token, &app).await;
    assert_eq!(rc(status, &body), 0, "a token is back after a second");
    assert_eq!(env.sim().api_answers(), 6, "every answer, throttles included, has a request id");
}

#[tokio::test]
async fn the_basic_tier_allows_ten_requests_a_second() {
    let env = Env::start(TikTokConfig {
        advertisers: vec![AdvertiserConfig::new(ADVERTISER_1, "A", "USD", 1)],
        ..TikTokConfig::default()
    })
    .await;
    assert_eq!(env.sim().config().rate_limit, Some(RateTier::BASIC), "the default tier");
    let token = env.sim().issue_app_token();
    let url = env.api("oauth2/advertiser/get/");
    let started = std::time::Instant::now();
    let tasks: Vec<_> = (0..15)
        .map(|_| {
            let (http, url, token) = (env.http.clone(), url.clone(), token.clone());
            tokio::spawn(async move {
                let request = Request::get(url)
                    .query(&[("app_id", APP_ID), ("secret", APP_SECRET)])
                    .header("Access-Token", &token);
                let response = http.send(request).await.unwrap();
                let body: Value = serde_json::from_slice(&response.body).unwrap();
                rc(response.status, &body)
            })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        ok += u32::from(task.await.unwrap() == 0);
    }
    let refill = (started.elapsed().as_secs_f64() * 10.0).ceil() as u32;
    assert!(ok >= 10, "the burst of 10 is allowed, got {ok}");
    assert!(ok <= 10 + refill, "then 10 a second: {ok} in {:?}", started.elapsed());
    assert_eq!(env.running.sim.ctx.faults.stats(SimPlatform::TikTok).throttled, u64::from(15 - ok));
}

#[tokio::test]
async fn faults_render_in_the_tiktok_envelope() {
    let env = Env::default().await;
    let token = env.sim().issue_app_token();
    let app = [("app_id", APP_ID), ("secret", APP_SECRET)];
    let faults = &env.running.sim.ctx.faults;

    faults.push(Fault::once(
        SimPlatform::TikTok,
        FaultKind::RateLimited { retry_after: Some(Duration::from_secs(3)) },
    ));
    let response = env
        .send(Request::get(env.api("oauth2/advertiser/get/")).query(&app).header("Access-Token", &token))
        .await;
    let body: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(rc(response.status, &body), 40100);
    assert!(response.header("retry-after").is_none(), "TikTok sends no rate-limit headers (§2.8)");

    faults.push(Fault::once(SimPlatform::TikTok, FaultKind::ServerError(503)));
    let response = env
        .send(Request::get(env.api("oauth2/advertiser/get/")).query(&app).header("Access-Token", &token))
        .await;
    assert_eq!(response.status, 503);
    let body: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(body["code"], 50000);

    faults.push(Fault::once(SimPlatform::TikTok, FaultKind::TruncateBody));
    let response = env
        .send(Request::get(env.api("oauth2/advertiser/get/")).query(&app).header("Access-Token", &token))
        .await;
    assert!(serde_json::from_slice::<Value>(&response.body).is_err(), "a truncated body does not parse");

    faults.push(Fault::once(SimPlatform::TikTok, FaultKind::RevokeTokens).on_path("campaign/get"));
    let (status, body) = env.get("campaign/get/", &token, &[("advertiser_id", ADVERTISER_1)]).await;
    assert_eq!(rc(status, &body), 40105, "revoked mid-sync");
    let (status, body) = env.get("oauth2/advertiser/get/", &token, &app).await;
    assert_eq!(rc(status, &body), 40105);
}
