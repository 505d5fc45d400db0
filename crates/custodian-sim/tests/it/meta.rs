//! The simulated platform `meta`: its routes answer as the real API does (ads-apis.md §1 and the vectors of
//! §4), driven over real HTTP on loopback.

// `cfg(test)` marks the helpers below as test code for clippy (`allow-unwrap-in-tests`).
#![cfg(test)]

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use custodian_http::{HttpClient, HttpConfig, Method, Request, Response};
use custodian_sim::meta::{
    ACCOUNTS, API_VERSION, APP_ID, APP_SECRET, AccessTier, MetaAccount, MetaConfig, MetaGrant, MetaLimits,
    REDIRECT_URI, Revocation, USER_ID, appsecret_proof,
};
use custodian_sim::{Fault, FaultKind, RunningSim, Sim, SimConfig, SimPlatform};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

struct Meta {
    running: RunningSim,
    http: HttpClient,
}

impl Meta {
    async fn start(config: MetaConfig) -> Self {
        let sim = Sim::new(SimConfig { seed: 7, meta: config, ..SimConfig::default() });
        let running = sim.start("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let http =
            HttpClient::new(HttpConfig { allow_plain_loopback: true, ..HttpConfig::default() }).unwrap();
        Self { running, http }
    }

    async fn default() -> Self {
        Self::start(MetaConfig::default()).await
    }

    fn sim(&self) -> &custodian_sim::meta::MetaSim {
        &self.running.sim.meta
    }

    fn url(&self, path: &str) -> custodian_http::Url {
        self.http.check_url(&format!("{}/meta{path}", self.running.base_url())).unwrap()
    }

    async fn send(&self, request: Request) -> Response {
        self.http.send(request).await.unwrap()
    }

    /// A Graph GET with the token as `access_token` and its proof.
    async fn get(&self, path: &str, token: &str, params: &[(&str, &str)]) -> (Response, Value) {
        let proof = appsecret_proof(APP_SECRET, token);
        let mut pairs = vec![("access_token", token), ("appsecret_proof", proof.as_str())];
        pairs.extend_from_slice(params);
        let response =
            self.send(Request::get(self.url(&format!("/graph/{API_VERSION}/{path}"))).query(&pairs)).await;
        let body = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        (response, body)
    }

    /// A Graph POST with form parameters, the token in a Bearer header and its proof.
    async fn post(&self, path: &str, token: &str, params: &[(&str, &str)]) -> (Response, Value) {
        let proof = appsecret_proof(APP_SECRET, token);
        let mut pairs = vec![("appsecret_proof", proof.as_str())];
        pairs.extend_from_slice(params);
        let request = Request::post(self.url(&format!("/graph/{API_VERSION}/{path}")))
            .header("authorization", &format!("Bearer {token}"))
            .form(&pairs);
        let response = self.send(request).await;
        let body = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        (response, body)
    }

    fn token(&self) -> String {
        self.sim().issue_token(&["ads_read", "public_profile"])
    }
}

#[track_caller]
fn check_error(response: &Response, body: &Value, status: u16, code: i64, subcode: Option<i64>) {
    assert_eq!(response.status, status, "{body}");
    let error = &body["error"];
    assert_eq!(error["code"], code, "{body}");
    assert_eq!(error["error_subcode"].as_i64(), subcode, "{body}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(error["type"].as_str().is_some_and(|t| t.ends_with("Exception")), "{body}");
    assert!(error["fbtrace_id"].as_str().is_some_and(|t| !t.is_empty()), "{body}");
}

fn header_json(response: &Response, name: &str) -> Value {
    serde_json::from_str(response.header(name).unwrap_or_else(|| panic!("no {name} header"))).unwrap()
}

fn query_of(location: &str) -> Vec<(String, String)> {
    let url = custodian_http::Url::parse(location).unwrap();
    url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

async fn consent(meta: &Meta, scope: &str, redirect: &str) -> Response {
    let request = Request::get(meta.url(&format!("/www/{API_VERSION}/dialog/oauth"))).query(&[
        ("client_id", APP_ID),
        ("redirect_uri", redirect),
        ("state", "st-42"),
        ("scope", scope),
        ("response_type", "code"),
    ]);
    meta.send(request).await
}

async fn exchange(meta: &Meta, pairs: &[(&str, &str)]) -> (Response, Value) {
    let response = meta
        .send(Request::get(meta.url(&format!("/graph/{API_VERSION}/oauth/access_token"))).query(pairs))
        .await;
    let body = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    (response, body)
}

#[tokio::test]
async fn the_dialog_redirects_with_a_code_that_exchanges_once_for_a_short_then_a_long_lived_token() {
    let meta = Meta::default().await;
    let response = consent(&meta, "ads_read,ads_management", REDIRECT_URI).await;
    assert_eq!(response.status, 302);
    let location = response.header("location").unwrap();
    assert!(location.starts_with(REDIRECT_URI), "{location}");
    assert!(location.ends_with("#_=_"), "{location}");
    let pairs = query_of(location);
    assert_eq!(param(&pairs, "state"), Some("st-42"));
    let code = param(&pairs, "code").unwrap().to_owned();

    let exchange_pairs = [
        ("client_id", APP_ID),
        ("redirect_uri", REDIRECT_URI),
        ("client_secret", APP_SECRET),
        ("code", code.as_str()),
    ];
    let (response, body) = exchange(&meta, &exchange_pairs).await;
    assert_eq!(response.status, 200, "{body}");
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 7200);
    let short = body["access_token"].as_str().unwrap().to_owned();

    let (response, body) = exchange(&meta, &exchange_pairs).await;
    check_error(&response, &body, 400, 100, Some(36_009));

    let (response, body) = exchange(
        &meta,
        &[
            ("grant_type", "fb_exchange_token"),
            ("client_id", APP_ID),
            ("client_secret", APP_SECRET),
            ("fb_exchange_token", short.as_str()),
        ],
    )
    .await;
    assert_eq!(response.status, 200, "{body}");
    // M11: the long-lived answer.
    assert_eq!(body["expires_in"], 5_183_944);
    assert_ne!(body["access_token"].as_str().unwrap(), short);
}

#[tokio::test]
async fn the_dialog_refuses_unregistered_redirects_and_reports_a_cancel() {
    let meta = Meta::default().await;
    let response = consent(&meta, "ads_read", "https://evil.example/callback").await;
    assert_eq!(response.status, 400);
    assert!(response.header("location").is_none());

    let meta = Meta::start(MetaConfig { deny_dialog: true, ..MetaConfig::default() }).await;
    let response = consent(&meta, "ads_read", REDIRECT_URI).await;
    assert_eq!(response.status, 302);
    let pairs = query_of(response.header("location").unwrap());
    assert_eq!(param(&pairs, "error"), Some("access_denied"));
    assert_eq!(param(&pairs, "error_reason"), Some("user_denied"));
    assert_eq!(param(&pairs, "state"), Some("st-42"));
    assert_eq!(param(&pairs, "code"), None);
}

#[tokio::test]
async fn code_exchange_errors_are_meta_s() {
    let meta = Meta::default().await;
    let code = meta.sim().issue_code(&["ads_read"], REDIRECT_URI);
    let (response, body) = exchange(
        &meta,
        &[
            ("client_id", APP_ID),
            ("redirect_uri", "http://127.0.0.1:1/other"),
            ("client_secret", APP_SECRET),
            ("code", &code),
        ],
    )
    .await;
    check_error(&response, &body, 400, 100, Some(36_008));
    let (response, body) = exchange(
        &meta,
        &[("client_id", APP_ID), ("redirect_uri", REDIRECT_URI), ("client_secret", "wrong"), ("code", &code)],
    )
    .await;
    check_error(&response, &body, 400, 1, None);
    let (response, body) = exchange(
        &meta,
        &[
            ("client_id", APP_ID),
            ("redirect_uri", REDIRECT_URI),
            ("client_secret", APP_SECRET),
            ("code", "AQnope"),
        ],
    )
    .await;
    check_error(&response, &body, 400, 100, None);
    meta.running.sim.ctx.clock.advance(601);
    let (response, body) = exchange(
        &meta,
        &[
            ("client_id", APP_ID),
            ("redirect_uri", REDIRECT_URI),
            ("client_secret", APP_SECRET),
            ("code", &code),
        ],
    )
    .await;
    check_error(&response, &body, 400, 100, Some(36_007));
}

async fn debug(meta: &Meta, input: &str) -> (Response, Value) {
    let app_token = format!("{APP_ID}|{APP_SECRET}");
    let proof = appsecret_proof(APP_SECRET, &app_token);
    let request = Request::get(meta.url("/graph/debug_token")).query(&[
        ("input_token", input),
        ("access_token", &app_token),
        ("appsecret_proof", &proof),
    ]);
    let response = meta.send(request).await;
    let body = serde_json::from_slice(&response.body).unwrap();
    (response, body)
}

#[tokio::test]
async fn debug_token_answers_like_the_official_sample() {
    let meta = Meta::default().await;
    let now = meta.running.sim.ctx.clock.now_unix();
    let token = meta.sim().issue_token(&["ads_read", "public_profile"]);
    let (response, body) = debug(&meta, &token).await;
    assert_eq!(response.status, 200, "{body}");
    let data = &body["data"];
    assert_eq!(data["is_valid"], true);
    assert_eq!(data["app_id"], APP_ID);
    assert_eq!(data["type"], "USER");
    assert_eq!(data["user_id"], USER_ID);
    assert_eq!(data["scopes"], serde_json::json!(["ads_read", "public_profile"]));
    assert_eq!(data["granular_scopes"], serde_json::json!([{ "scope": "ads_read", "target_ids": ACCOUNTS }]));
    let expires = data["expires_at"].as_i64().unwrap();
    assert!((now + 5_183_944 - 2..=now + 5_183_944 + 2).contains(&expires), "{data}");
    let data_access = data["data_access_expires_at"].as_i64().unwrap();
    assert!(data_access > now + 89 * 86_400, "{data}");
    assert!(data["issued_at"].as_i64().is_some(), "long-lived tokens carry issued_at");

    let (response, body) = debug(&meta, "EAATnot-a-token").await;
    assert_eq!(response.status, 200);
    assert_eq!(body["data"]["is_valid"], false);
    assert_eq!(body["data"]["error"]["code"], 190);

    meta.sim().revoke_token(&token, Revocation::AppRemoved);
    let (_, body) = debug(&meta, &token).await;
    assert_eq!(body["data"]["is_valid"], false);
    assert_eq!(body["data"]["error"]["subcode"], 458);
    assert_eq!(body["data"]["scopes"], serde_json::json!([]));
}

#[tokio::test]
async fn debug_token_needs_the_app_token() {
    let meta = Meta::default().await;
    let token = meta.token();
    let response =
        meta.send(Request::get(meta.url("/graph/v25.0/debug_token")).query(&[("input_token", &token)])).await;
    let body: Value = serde_json::from_slice(&response.body).unwrap();
    check_error(&response, &body, 400, 104, None);
    let response = meta
        .send(
            Request::get(meta.url("/graph/v25.0/debug_token"))
                .query(&[("input_token", token.as_str()), ("access_token", &format!("{APP_ID}|wrong"))]),
        )
        .await;
    let body: Value = serde_json::from_slice(&response.body).unwrap();
    check_error(&response, &body, 400, 190, None);
}

#[tokio::test]
async fn every_user_token_call_needs_its_appsecret_proof() {
    let meta = Meta::default().await;
    let token = meta.token();
    let url = meta.url(&format!("/graph/{API_VERSION}/act_{}", ACCOUNTS[0]));
    let response = meta.send(Request::get(url.clone()).query(&[("access_token", &token)])).await;
    let body: Value = serde_json::from_slice(&response.body).unwrap();
    check_error(&response, &body, 400, 100, None);
    assert_eq!(body["error"]["type"], "GraphMethodException");
    let wrong = appsecret_proof("another secret", &token);
    let response = meta
        .send(Request::get(url).query(&[("access_token", token.as_str()), ("appsecret_proof", &wrong)]))
        .await;
    let body: Value = serde_json::from_slice(&response.body).unwrap();
    check_error(&response, &body, 400, 100, None);
    let (response, body) =
        meta.get(&format!("act_{}", ACCOUNTS[0]), &token, &[("fields", "id,currency")]).await;
    assert_eq!(response.status, 200, "{body}");
    assert_eq!(body, serde_json::json!({ "id": format!("act_{}", ACCOUNTS[0]), "currency": "USD" }));
}

#[tokio::test]
async fn campaigns_page_with_graph_cursors_until_next_disappears() {
    let meta = Meta::default().await;
    let token = meta.token();
    let path = format!("act_{}/campaigns", ACCOUNTS[0]);
    let mut seen = HashSet::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut params =
            vec![("fields", "id,name,status,objective,daily_budget,updated_time"), ("limit", "5")];
        if let Some(after) = &after {
            params.push(("after", after.as_str()));
        }
        let (response, body) = meta.get(&path, &token, &params).await;
        assert_eq!(response.status, 200, "{body}");
        pages += 1;
        for campaign in body["data"].as_array().unwrap() {
            assert!(seen.insert(campaign["id"].as_str().unwrap().to_owned()));
            assert!(["ACTIVE", "PAUSED"].contains(&campaign["status"].as_str().unwrap()));
            assert!(campaign["daily_budget"].as_str().unwrap().parse::<i64>().unwrap() > 0);
            assert!(campaign["updated_time"].as_str().unwrap().ends_with("+0000"));
        }
        let cursors = &body["paging"]["cursors"];
        assert!(cursors["before"].is_string() && cursors["after"].is_string(), "{body}");
        match body["paging"]["next"].as_str() {
            Some(next) => {
                assert!(next.contains("after="), "{next}");
                after = Some(cursors["after"].as_str().unwrap().to_owned());
            }
            None => break,
        }
    }
    assert_eq!((seen.len(), pages), (12, 3));

    let (_, body) = meta.get(&path, &token, &[]).await;
    let first = &body["data"][0];
    assert_eq!(first.as_object().unwrap().keys().collect::<Vec<_>>(), ["id"], "only `id` by default");
    let (response, body) = meta.get(&path, &token, &[("fields", "id,secret_field")]).await;
    check_error(&response, &body, 400, 100, None);
}

#[tokio::test]
async fn sync_insights_cover_every_object_and_day_and_page_to_the_end() {
    let meta = Meta::default().await;
    let token = meta.token();
    let path = format!("act_{}/insights", ACCOUNTS[0]);
    let ads = meta.sim().objects_at_level(ACCOUNTS[0], "ad").unwrap();
    assert_eq!(ads, 12 * 2 * 3);
    let range = r#"{"since":"2025-01-01","until":"2025-01-10"}"#;
    let fields = "ad_id,campaign_id,date_start,date_stop,account_currency,spend,impressions,clicks,actions,action_values";
    let mut rows = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut params = vec![
            ("level", "ad"),
            ("fields", fields),
            ("time_range", range),
            ("time_increment", "1"),
            ("limit", "100"),
        ];
        if let Some(after) = &after {
            params.push(("after", after.as_str()));
        }
        let (response, body) = meta.get(&path, &token, &params).await;
        assert_eq!(response.status, 200, "{body}");
        let usage = header_json(&response, "x-business-use-case-usage");
        assert_eq!(usage[ACCOUNTS[0]][0]["type"], "ads_insights");
        rows.extend(body["data"].as_array().unwrap().iter().cloned());
        match body["paging"]["next"].as_str() {
            Some(_) => after = Some(body["paging"]["cursors"]["after"].as_str().unwrap().to_owned()),
            None => break,
        }
    }
    assert_eq!(rows.len() as u64, ads * 10);
    let keys: HashSet<(String, String)> = rows
        .iter()
        .map(|r| (r["ad_id"].as_str().unwrap().to_owned(), r["date_start"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(keys.len(), rows.len(), "no row twice");
    let row = &rows[0];
    assert_eq!(row["date_start"], row["date_stop"]);
    assert_eq!(row["account_currency"], "USD");
    assert!(row["spend"].as_str().unwrap().contains('.'));
    assert!(row["impressions"].as_str().unwrap().parse::<u64>().is_ok());
    assert_eq!(row["actions"][2]["action_type"], "purchase");
    assert_eq!(row["action_values"][0]["action_type"], "purchase");

    // The same query again gives the same rows (deterministic generation).
    let (_, again) = meta
        .get(
            &path,
            &token,
            &[
                ("level", "ad"),
                ("fields", fields),
                ("time_range", range),
                ("time_increment", "1"),
                ("limit", "100"),
            ],
        )
        .await;
    assert_eq!(again["data"][0], rows[0]);
}

#[tokio::test]
async fn insights_refuse_unknown_fields_big_pages_and_old_ranges() {
    let meta = Meta::default().await;
    let token = meta.token();
    let path = format!("act_{}/insights", ACCOUNTS[0]);
    let (response, body) = meta.get(&path, &token, &[("fields", "spend,user_email")]).await;
    check_error(&response, &body, 400, 100, None);
    assert!(body["error"]["message"].as_str().unwrap().contains("user_email"));
    let (response, body) = meta.get(&path, &token, &[("limit", "5001")]).await;
    check_error(&response, &body, 400, 100, Some(1_487_534));
    let (response, body) =
        meta.get(&path, &token, &[("time_range", r#"{"since":"2019-01-01","until":"2019-01-02"}"#)]).await;
    check_error(&response, &body, 400, 3018, None);
    let (response, body) = meta.get(&path, &token, &[("level", "keyword")]).await;
    check_error(&response, &body, 400, 100, None);
}

#[tokio::test]
async fn async_report_runs_complete_after_running_at_100_percent_and_page_their_results() {
    let meta = Meta::default().await;
    let token = meta.token();
    let path = format!("act_{}/insights", ACCOUNTS[0]);
    let query = [
        ("level", "campaign"),
        ("fields", "campaign_id,date_start,spend,impressions"),
        ("time_range", r#"{"since":"2025-02-01","until":"2025-02-28"}"#),
        ("time_increment", "1"),
    ];
    let (response, body) = meta.post(&path, &token, &query).await;
    assert_eq!(response.status, 200, "{body}");
    // M5: the id comes as a string.
    let run = body["report_run_id"].as_str().unwrap().to_owned();

    let (response, body) = meta.get(&format!("{run}/insights"), &token, &[]).await;
    check_error(&response, &body, 400, 100, None);

    let mut statuses = Vec::new();
    loop {
        let (response, body) = meta.get(&run, &token, &[]).await;
        assert_eq!(response.status, 200, "{body}");
        assert_eq!(body["id"], run.as_str());
        assert_eq!(body["account_id"], ACCOUNTS[0]);
        let status = body["async_status"].as_str().unwrap().to_owned();
        statuses.push((status.clone(), body["async_percent_completion"].as_i64().unwrap()));
        if status == "Job Completed" {
            assert!(body["time_completed"].as_i64().is_some());
            break;
        }
    }
    assert_eq!(
        statuses,
        [
            ("Job Not Started".to_owned(), 0),
            ("Job Running".to_owned(), 50),
            ("Job Running".to_owned(), 100),
            ("Job Completed".to_owned(), 100),
        ]
    );

    let (_, sync) = meta.get(&path, &token, &[&query[..], &[("limit", "500")]].concat()).await;
    let mut rows = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut params = vec![("limit", "100")];
        if let Some(after) = &after {
            params.push(("after", after.as_str()));
        }
        let (response, body) = meta.get(&format!("{run}/insights"), &token, &params).await;
        assert_eq!(response.status, 200, "{body}");
        rows.extend(body["data"].as_array().unwrap().iter().cloned());
        match body["paging"]["next"].as_str() {
            Some(_) => after = Some(body["paging"]["cursors"]["after"].as_str().unwrap().to_owned()),
            None => break,
        }
    }
    assert_eq!(rows.len(), 12 * 28);
    assert_eq!(&rows, sync["data"].as_array().unwrap(), "async results equal the sync ones");

    meta.sim().fail_report_runs(1);
    let (_, body) = meta.post(&path, &token, &query).await;
    let failing = body["report_run_id"].as_str().unwrap().to_owned();
    let mut last = String::new();
    for _ in 0..4 {
        let (_, body) = meta.get(&failing, &token, &[]).await;
        last = body["async_status"].as_str().unwrap().to_owned();
    }
    assert_eq!(last, "Job Failed");
}

#[tokio::test]
async fn campaign_changes_need_ads_management_and_read_back() {
    let meta = Meta::default().await;
    let reader = meta.token();
    let manager = meta.sim().issue_token(&["ads_management"]);
    let (_, list) = meta.get(&format!("act_{}/campaigns", ACCOUNTS[0]), &reader, &[]).await;
    let id = list["data"][0]["id"].as_str().unwrap().to_owned();

    let (response, body) = meta.post(&id, &reader, &[("status", "PAUSED")]).await;
    check_error(&response, &body, 400, 294, None);

    let (response, body) = meta.post(&id, &manager, &[("status", "PAUSED"), ("daily_budget", "12345")]).await;
    assert_eq!(response.status, 200, "{body}");
    assert_eq!(body, serde_json::json!({ "success": true }));
    let (_, campaign) = meta.get(&id, &reader, &[("fields", "id,account_id,status,daily_budget")]).await;
    assert_eq!(campaign["status"], "PAUSED");
    assert_eq!(campaign["daily_budget"], "12345");
    assert_eq!(campaign["account_id"], ACCOUNTS[0]);
    assert_eq!(meta.sim().campaign(&id).unwrap().daily_budget, Some(12_345));

    let (response, body) = meta.post(&id, &manager, &[("status", "SLEEPING")]).await;
    check_error(&response, &body, 400, 100, None);
    let (response, body) = meta.post(&id, &manager, &[("lifetime_budget", "1000")]).await;
    check_error(&response, &body, 400, 100, None);

    let (response, body) = meta.post(&id, &manager, &[("status", "ARCHIVED")]).await;
    assert_eq!(response.status, 200, "{body}");
    let (_, list) = meta.get(&format!("act_{}/campaigns", ACCOUNTS[0]), &reader, &[("limit", "50")]).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 11, "archived campaigns are not listed by default");

    let (response, body) = meta.get("120200000000999999", &reader, &[]).await;
    check_error(&response, &body, 400, 100, Some(33));
}

#[tokio::test]
async fn token_errors_carry_meta_s_190_subcodes() {
    let meta = Meta::default().await;
    let account = format!("act_{}", ACCOUNTS[0]);
    let (response, body) = meta.get(&account, "EAATgarbage", &[]).await;
    check_error(&response, &body, 400, 190, None);
    assert!(response.header("www-authenticate").is_some());

    let removed = meta.token();
    meta.sim().revoke_token(&removed, Revocation::AppRemoved);
    let (response, body) = meta.get(&account, &removed, &[]).await;
    check_error(&response, &body, 400, 190, Some(458));

    let changed = meta.token();
    meta.sim().revoke_token(&changed, Revocation::PasswordChanged);
    let (response, body) = meta.get(&account, &changed, &[]).await;
    check_error(&response, &body, 400, 190, Some(460));

    let expiring = meta.token();
    meta.running.sim.ctx.clock.advance(5_183_944 + 1);
    let (response, body) = meta.get(&account, &expiring, &[]).await;
    check_error(&response, &body, 400, 190, Some(463));
}

#[tokio::test]
async fn accounts_outside_the_grant_are_permission_errors() {
    let meta = Meta::default().await;
    let token = meta.sim().issue_token_for(MetaGrant {
        user_id: USER_ID.to_owned(),
        scopes: vec!["ads_read".to_owned()],
        accounts: vec![ACCOUNTS[0].to_owned()],
    });
    let (response, body) = meta.get(&format!("act_{}/campaigns", ACCOUNTS[1]), &token, &[]).await;
    check_error(&response, &body, 400, 200, None);
    let (response, body) = meta.get("act_999", &token, &[]).await;
    check_error(&response, &body, 400, 100, Some(33));
    let profile_only = meta.sim().issue_token(&["public_profile"]);
    let (response, body) = meta.get(&format!("act_{}/insights", ACCOUNTS[0]), &profile_only, &[]).await;
    check_error(&response, &body, 400, 200, None);
    let (_, body) = meta.get("me/adaccounts", &token, &[("fields", "account_id")]).await;
    assert_eq!(body["data"], serde_json::json!([{ "account_id": ACCOUNTS[0] }]));
}

#[tokio::test]
async fn unsupported_versions_are_refused() {
    let meta = Meta::default().await;
    let token = meta.token();
    let proof = appsecret_proof(APP_SECRET, &token);
    let response = meta
        .send(
            Request::get(meta.url(&format!("/graph/v2.0/act_{}", ACCOUNTS[0])))
                .query(&[("access_token", token.as_str()), ("appsecret_proof", &proof)]),
        )
        .await;
    let body: Value = serde_json::from_slice(&response.body).unwrap();
    check_error(&response, &body, 400, 2635, None);
}

#[tokio::test]
async fn usage_headers_reflect_load_and_the_published_limits_are_enforced() {
    // Development tier scaled 100×: the ad account score is 60 points decaying over 3 s.
    let config = MetaConfig {
        limits: MetaLimits::tier(AccessTier::Development).scaled(100.0),
        // No ads: the insights quota is the tier's base, 600 calls per (scaled) hour.
        accounts: vec![MetaAccount { ads_per_adset: 0, ..MetaAccount::new(ACCOUNTS[0], 2) }],
        ..MetaConfig::default()
    };
    let meta = Meta::start(config).await;
    let token = meta.token();
    let account = format!("act_{}", ACCOUNTS[0]);
    let (response, _) = meta.get(&account, &token, &[]).await;
    let usage = header_json(&response, "x-ad-account-usage");
    assert_eq!(usage["ads_api_access_tier"], "development_access");
    let first = usage["acc_id_util_pct"].as_f64().unwrap();
    assert!(first > 0.0, "{usage}");
    let app = header_json(&response, "x-app-usage");
    assert!(app["call_count"].is_u64());
    let buc = header_json(&response, "x-business-use-case-usage");
    assert_eq!(buc[ACCOUNTS[0]][0]["type"], "ads_management");

    let mut throttled = None;
    for _ in 0..80 {
        let (response, body) = meta.get(&account, &token, &[]).await;
        if response.status != 200 {
            throttled = Some((response, body));
            break;
        }
    }
    let (response, body) = throttled.expect("the score limit is enforced");
    check_error(&response, &body, 400, 17, Some(2_446_079));
    let usage = header_json(&response, "x-ad-account-usage");
    assert!(usage["acc_id_util_pct"].as_f64().unwrap() >= 100.0, "{usage}");
    assert!(usage["reset_time_duration"].as_u64().unwrap() >= 1, "{usage}");
    assert!(meta.running.sim.ctx.faults.stats(SimPlatform::Meta).throttled >= 1);

    // The insights business use case: 600 calls per scaled hour (36 s) without active ads; exhausting it
    // gives 80000 with the time to regain access.
    assert_eq!(meta.sim().active_ads(ACCOUNTS[0]), Some(0));
    let quota = MetaLimits::tier(AccessTier::Development).insights_calls(0);
    assert_eq!(quota, 600.0);
    let insights = format!("{account}/insights");
    let mut last = None;
    for _ in 0..(3 * quota as usize) {
        let (response, body) = meta.get(&insights, &token, &[("date_preset", "yesterday")]).await;
        if response.status != 200 {
            last = Some((response, body));
            break;
        }
    }
    let (response, body) = last.expect("the ads_insights quota is enforced");
    check_error(&response, &body, 400, 80_000, Some(2_446_079));
    let buc = header_json(&response, "x-business-use-case-usage");
    assert!(buc[ACCOUNTS[0]][0]["estimated_time_to_regain_access"].as_u64().unwrap() >= 1, "{buc}");
    assert!(buc[ACCOUNTS[0]][0]["call_count"].as_u64().unwrap() >= 100, "{buc}");
}

#[tokio::test]
async fn injected_faults_answer_in_meta_s_envelopes() {
    let meta = Meta::default().await;
    let token = meta.token();
    let account = format!("act_{}", ACCOUNTS[0]);
    let faults = &meta.running.sim.ctx.faults;

    faults.push(Fault::once(
        SimPlatform::Meta,
        FaultKind::RateLimited { retry_after: Some(Duration::from_secs(3)) },
    ));
    let (response, body) = meta.get(&account, &token, &[]).await;
    check_error(&response, &body, 400, 17, Some(2_446_079));
    let usage = header_json(&response, "x-ad-account-usage");
    assert_eq!(usage["acc_id_util_pct"], 100);
    assert_eq!(usage["reset_time_duration"], 3);

    faults.push(Fault::once(SimPlatform::Meta, FaultKind::ServerError(503)));
    let (response, body) = meta.get(&account, &token, &[]).await;
    check_error(&response, &body, 503, 2, None);
    assert_eq!(body["error"]["is_transient"], true);

    faults.push(Fault::once(SimPlatform::Meta, FaultKind::RevokeTokens));
    let (response, body) = meta.get(&account, &token, &[]).await;
    check_error(&response, &body, 400, 190, Some(458));

    let token = meta.token();
    meta.sim().fail_next(613, Some(1_487_742), 1);
    let (response, body) = meta.get(&account, &token, &[]).await;
    check_error(&response, &body, 400, 613, Some(1_487_742));
    meta.sim().fail_next(32, None, 1);
    let (response, body) = meta.get(&account, &token, &[]).await;
    check_error(&response, &body, 400, 32, None);
    let (response, _) = meta.get(&account, &token, &[]).await;
    assert_eq!(response.status, 200);
}

/// A loopback receiver recording the form bodies posted to it and answering `answer`.
async fn receiver(answer: &'static str) -> (String, Arc<Mutex<Vec<String>>>) {
    use axum::routing::post;
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/callback",
        post(move |body: String| {
            let record = record.clone();
            async move {
                record.lock().unwrap().push(body);
                ([("content-type", "application/json")], answer)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/callback", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

/// Verifies a `signed_request` form body as Meta's reference parser does (§1.5) and returns the payload.
fn verify_signed(body: &str) -> Value {
    let pairs: Vec<(String, String)> = custodian_http::Url::parse(&format!("http://x/?{body}"))
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let signed = param(&pairs, "signed_request").unwrap();
    let (signature, payload) = signed.split_once('.').unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(APP_SECRET.as_bytes()).unwrap();
    mac.update(payload.as_bytes());
    let signature = data_encoding::BASE64URL_NOPAD.decode(signature.as_bytes()).unwrap();
    mac.verify_slice(&signature).unwrap();
    serde_json::from_slice(&data_encoding::BASE64URL_NOPAD.decode(payload.as_bytes()).unwrap()).unwrap()
}

#[tokio::test]
async fn deauthorize_and_data_deletion_callbacks_post_signed_requests() {
    let (deauth_url, deauth_seen) = receiver("").await;
    let (deletion_url, deletion_seen) =
        receiver(r#"{"url":"https://example.com/deletion?id=abc123","confirmation_code":"abc123"}"#).await;
    let meta = Meta::start(MetaConfig {
        deauthorize_url: Some(deauth_url),
        data_deletion_url: Some(deletion_url),
        ..MetaConfig::default()
    })
    .await;
    let token = meta.token();

    assert_eq!(meta.sim().send_deauthorize(USER_ID).await.unwrap(), 200);
    let body = deauth_seen.lock().unwrap().first().cloned().unwrap();
    assert!(body.starts_with("signed_request="), "{body}");
    let payload = verify_signed(&body);
    assert_eq!(payload["user_id"], USER_ID);
    assert_eq!(payload["algorithm"], "HMAC-SHA256");
    assert!(payload["issued_at"].is_i64());
    let (response, body) = meta.get(&format!("act_{}", ACCOUNTS[0]), &token, &[]).await;
    check_error(&response, &body, 400, 190, Some(458));

    let answer = meta.sim().send_data_deletion(USER_ID).await.unwrap();
    assert_eq!(answer.confirmation_code, "abc123");
    assert_eq!(answer.url, "https://example.com/deletion?id=abc123");
    assert_eq!(meta.sim().deletion_answers(), vec![answer]);
    let payload = verify_signed(&deletion_seen.lock().unwrap()[0]);
    assert_eq!(payload["expires"].as_i64().unwrap(), payload["issued_at"].as_i64().unwrap() + 3600);
}

#[tokio::test]
async fn a_deletion_callback_without_the_documented_answer_is_reported() {
    let (url, _) = receiver(r#"{"status":"ok"}"#).await;
    let meta = Meta::start(MetaConfig { data_deletion_url: Some(url), ..MetaConfig::default() }).await;
    let result = meta.sim().send_data_deletion(USER_ID).await;
    assert!(
        matches!(result, Err(custodian_sim::meta::CallbackError::BadAnswer { status: 200 })),
        "{result:?}"
    );
    assert!(meta.sim().deletion_answers().is_empty());
    let unconfigured = Meta::default().await;
    assert!(unconfigured.sim().send_deauthorize(USER_ID).await.is_err());
}

#[tokio::test]
async fn graph_accepts_bearer_tokens_and_post_bodies() {
    let meta = Meta::default().await;
    let token = meta.token();
    let proof = appsecret_proof(APP_SECRET, &token);
    let request = Request::new(Method::GET, meta.url(&format!("/graph/{API_VERSION}/me")))
        .header("authorization", &format!("OAuth {token}"))
        .query(&[("appsecret_proof", &proof)]);
    let response = meta.send(request).await;
    let body: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(body["id"], USER_ID, "{body}");
}
