//! The Graph API surface: version check, authentication (token, `appsecret_proof`), metering and usage
//! headers, permissions, and the nodes and edges the Marketing API sync uses (ad accounts, campaigns,
//! insights, async report runs, `me`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use serde_json::{Map, Value, json};

use super::data::{self, Kind};
use super::error::GraphError;
use super::insights::{self, InsightsQuery, NextLink, PageRequest};
use super::limits::{self, Quota, Reading};
use super::oauth::{no_token, unknown_token};
use super::params::Params;
use super::state::Run;
use super::{MetaGrant, MetaSim, SimCampaign, dates, index_key};
use crate::faults::SimPlatform;

/// Campaign fields the simulator can return.
const CAMPAIGN_FIELDS: [&str; 14] = [
    "id",
    "account_id",
    "name",
    "objective",
    "status",
    "effective_status",
    "configured_status",
    "buying_type",
    "daily_budget",
    "lifetime_budget",
    "start_time",
    "stop_time",
    "created_time",
    "updated_time",
];
/// Campaign statuses a change may set.
const CAMPAIGN_STATUSES: [&str; 4] = ["ACTIVE", "PAUSED", "DELETED", "ARCHIVED"];
/// Async report runs expire after 30 days (§1.7).
const RUN_LIFETIME_SECS: i64 = 30 * 86_400;

/// One Graph request.
struct Call {
    version: Option<String>,
    node: String,
    edge: Option<String>,
    method: Method,
    headers: HeaderMap,
    params: Params,
}

/// `/graph/{node}`: only `debug_token` answers without a version.
pub(super) async fn unversioned(
    State(sim): State<Arc<MetaSim>>,
    Path(node): Path<String>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let params = Params::parse(query.as_deref(), &headers, &body);
    sim.handle(Call { version: None, node, edge: None, method, headers, params })
}

/// `/graph/{version}/{node}`.
pub(super) async fn node(
    State(sim): State<Arc<MetaSim>>,
    Path((version, node)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let params = Params::parse(query.as_deref(), &headers, &body);
    sim.handle(Call { version: Some(version), node, edge: None, method, headers, params })
}

/// `/graph/{version}/{node}/{edge}`.
pub(super) async fn edge(
    State(sim): State<Arc<MetaSim>>,
    Path((version, node, edge)): Path<(String, String, String)>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let params = Params::parse(query.as_deref(), &headers, &body);
    sim.handle(Call { version: Some(version), node, edge: Some(edge), method, headers, params })
}

/// What a call is about.
#[derive(Debug, Clone)]
enum Target {
    Me,
    Account(usize),
    Campaign(usize, u64),
    Object(usize, Kind, u64),
    Run(Run),
}

/// Who is calling.
struct Caller {
    grant: MetaGrant,
}

fn json_response(body: String, mut headers: HeaderMap, trace: &str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=UTF-8"));
    if let Ok(value) = HeaderValue::from_str(trace) {
        headers.insert("x-fb-trace-id", value);
    }
    response.headers_mut().extend(headers);
    response
}

fn has_scope(grant: &MetaGrant, scope: &str) -> bool {
    grant.scopes.iter().any(|s| s == scope)
}

impl MetaSim {
    fn today(&self) -> i64 {
        self.ctx.clock.now_unix().div_euclid(86_400)
    }

    fn handle(&self, call: Call) -> Response {
        let mut usage = HeaderMap::new();
        let result = self.dispatch(&call, &mut usage);
        let trace = self.state().trace_id(self.ctx.seed);
        match result {
            Ok(body) => json_response(body, usage, &trace),
            Err(error) => {
                let mut response = error.render(&trace);
                response.headers_mut().extend(usage);
                response
            }
        }
    }

    fn throttled(&self, error: GraphError) -> GraphError {
        self.ctx.faults.record_throttled(SimPlatform::Meta);
        error
    }

    fn dispatch(&self, call: &Call, usage: &mut HeaderMap) -> Result<String, GraphError> {
        let version_ok = match &call.version {
            Some(v) => self.config.versions.contains(v),
            None => call.node == "debug_token",
        };
        if !version_ok {
            let latest = self.config.versions.last().map_or("", String::as_str);
            return Err(GraphError::new(
                2635,
                None,
                &format!(
                    "(#2635) You are calling a deprecated version of the Ads API. Please update to the latest version: {latest}."
                ),
            ));
        }
        let limits = self.config.limits;
        let app = self.meters.take(Quota::App, usize::MAX, limits.app_meter(), 1.0);
        limits::app_usage(usage, app);
        if app.blocked_secs.is_some() {
            return Err(self.throttled(GraphError::new(
                4,
                Some(1_504_022),
                "(#4) Application request limit reached",
            )));
        }
        match (call.node.as_str(), call.edge.as_deref()) {
            ("oauth", Some("access_token")) => return self.access_token(&call.params).map(|v| v.to_string()),
            ("debug_token", None) => {
                return self.debug_token(&call.params, &call.headers).map(|v| v.to_string());
            }
            _ => {}
        }
        self.state().graph_calls += 1;
        let caller = self.authenticate(call)?;
        let injected = self.state().take_injected();
        if let Some((code, subcode)) = injected {
            let error = GraphError::documented(code, subcode);
            if error.is_throttle() {
                limits::throttled_headers(usage, limits.tier, 60);
                return Err(self.throttled(error));
            }
            return Err(error);
        }
        let target = self.resolve(call)?;
        // Creating an async insights run is a read (it needs `ads_read`, and counts as an insights call).
        let write = (call.method == Method::POST && call.edge.as_deref() != Some("insights"))
            || call.method == Method::DELETE;
        self.meter(&target, call, write, usage)?;
        self.permit(&target, &caller, write)?;
        self.run(call, &target, &caller)
    }

    fn authenticate(&self, call: &Call) -> Result<Caller, GraphError> {
        let now = self.ctx.clock.now_unix();
        let token = call.params.access_token(&call.headers).ok_or_else(no_token)?;
        if self.is_app_token(&token) {
            self.check_proof(&call.params, &token, false)?;
            return Err(GraphError::new(200, None, "(#200) This call requires a user access token"));
        }
        let record = self.state().tokens.get(&token).cloned().ok_or_else(unknown_token)?;
        if let Some(problem) = self.token_problem(&record, now) {
            return Err(problem);
        }
        self.check_proof(&call.params, &token, true)?;
        let auth = self.state().auths.get(record.auth).cloned().ok_or_else(unknown_token)?;
        if auth.data_access_expires_at <= now {
            return Err(GraphError::new(
                190,
                None,
                "Error validating access token: The user's data access for this app has expired.",
            ));
        }
        Ok(Caller { grant: auth.grant })
    }

    fn resolve(&self, call: &Call) -> Result<Target, GraphError> {
        let node = call.node.as_str();
        if node == "me" {
            return Ok(Target::Me);
        }
        if let Some(numeric) = node.strip_prefix("act_") {
            return self
                .account_index(numeric)
                .map(Target::Account)
                .ok_or_else(|| GraphError::missing_object(node));
        }
        if let Some((account, kind, index)) = data::parse_object_id(node) {
            let config = self.config.accounts.get(account).ok_or_else(|| GraphError::missing_object(node))?;
            let count = match kind {
                Kind::Campaign => u64::from(config.campaigns),
                Kind::AdSet => config.adsets(),
                Kind::Ad => config.ads(),
            };
            if index >= count {
                return Err(GraphError::missing_object(node));
            }
            return Ok(match kind {
                Kind::Campaign => Target::Campaign(account, index),
                _ => Target::Object(account, kind, index),
            });
        }
        let now = self.ctx.clock.now_unix();
        let run = self.state().runs.get(node).cloned();
        match run {
            Some(run) if run.created_at + RUN_LIFETIME_SECS > now => Ok(Target::Run(run)),
            _ => Err(GraphError::missing_object(node)),
        }
    }

    /// Takes from the quotas the call counts against and writes the usage headers.
    fn meter(
        &self,
        target: &Target,
        call: &Call,
        write: bool,
        usage: &mut HeaderMap,
    ) -> Result<(), GraphError> {
        let limits = self.config.limits;
        let tier = limits.tier;
        let (account, insights) = match target {
            Target::Me => return Ok(()),
            Target::Account(a) => (*a, call.edge.as_deref() == Some("insights")),
            Target::Campaign(a, _) | Target::Object(a, _, _) => (*a, false),
            Target::Run(run) => (run.account, true),
        };
        let active = self.active_ads.get(account).copied().unwrap_or(0);
        let id = self.config.accounts.get(account).map_or("", |a| a.id.as_str());
        let score_meter = limits.score_meter();
        if insights {
            let buc = self.meters.take(Quota::Insights, account, limits.insights_meter(active), 1.0);
            limits::business_usage(usage, id, "ads_insights", buc, tier);
            let score = self.meters.peek(Quota::Score, account, score_meter);
            limits::account_usage(usage, score, tier);
            let app = self.meters.peek(Quota::App, usize::MAX, limits.app_meter());
            limits::insights_throttle(usage, app, buc, tier);
            if buc.blocked_secs.is_some() {
                return Err(self.throttled(GraphError::documented(80_000, Some(2_446_079))));
            }
            return Ok(());
        }
        let buc = self.meters.take(Quota::Management, account, limits.management_meter(active), 1.0);
        limits::business_usage(usage, id, "ads_management", buc, tier);
        if buc.blocked_secs.is_some() {
            let score = self.meters.peek(Quota::Score, account, score_meter);
            limits::account_usage(usage, score, tier);
            return Err(self.throttled(GraphError::documented(80_004, Some(2_446_079))));
        }
        let score: Reading =
            self.meters.take(Quota::Score, account, score_meter, if write { 3.0 } else { 1.0 });
        limits::account_usage(usage, score, tier);
        if score.blocked_secs.is_some() {
            return Err(self.throttled(GraphError::new(
                17,
                Some(2_446_079),
                "(#17) User request limit reached",
            )));
        }
        Ok(())
    }

    /// The token must cover the account, with `ads_read` or `ads_management` to read and `ads_management`
    /// to write.
    fn permit(&self, target: &Target, caller: &Caller, write: bool) -> Result<(), GraphError> {
        let account = match target {
            Target::Me => return Ok(()),
            Target::Account(a) | Target::Campaign(a, _) | Target::Object(a, _, _) => *a,
            Target::Run(run) => run.account,
        };
        let id = self.config.accounts.get(account).map_or("", |a| a.id.as_str());
        if !caller.grant.accounts.iter().any(|a| a == id) {
            return Err(GraphError::not_granted());
        }
        let manage = has_scope(&caller.grant, "ads_management");
        if write && !manage {
            return Err(GraphError::documented(294, None));
        }
        if !manage && !has_scope(&caller.grant, "ads_read") {
            return Err(GraphError::not_granted());
        }
        Ok(())
    }

    fn run(&self, call: &Call, target: &Target, caller: &Caller) -> Result<String, GraphError> {
        let edge = call.edge.as_deref();
        let unsupported = || {
            let what = if call.method == Method::GET { "get" } else { "post" };
            match edge {
                Some(edge) => GraphError::new(2500, None, &format!("Unknown path components: /{edge}")),
                None => GraphError::method(
                    100,
                    None,
                    &format!(
                        "Unsupported {what} request. Object with ID '{}' does not support this operation.",
                        call.node
                    ),
                ),
            }
        };
        match (target, edge, &call.method) {
            (Target::Me, None, &Method::GET) => {
                Ok(json!({ "id": caller.grant.user_id, "name": "Simulated User" }).to_string())
            }
            (Target::Me, Some("adaccounts"), &Method::GET) => self.my_accounts(call, caller),
            (Target::Me, Some("permissions"), &Method::GET) => {
                let data: Vec<Value> = caller
                    .grant
                    .scopes
                    .iter()
                    .map(|s| json!({ "permission": s, "status": "granted" }))
                    .collect();
                Ok(json!({ "data": data }).to_string())
            }
            (Target::Me, Some("permissions"), &Method::DELETE) => {
                self.revoke_user(&caller.grant.user_id, super::Revocation::AppRemoved);
                Ok(json!({ "success": true }).to_string())
            }
            (Target::Account(a), None, &Method::GET) => self.account_node(call, *a),
            (Target::Account(a), Some("campaigns"), &Method::GET) => self.campaigns(call, *a),
            (Target::Account(a), Some("insights"), &Method::GET) => self.sync_insights(call, *a),
            (Target::Account(a), Some("insights"), &Method::POST) => self.create_run(call, *a),
            (Target::Campaign(a, i), None, &Method::GET) => self.campaign_node(call, *a, *i),
            (Target::Campaign(a, i), None, &Method::POST) => self.change_campaign(call, *a, *i),
            (Target::Object(a, kind, i), None, &Method::GET) => Ok(json!({
                "id": data::object_id(*a, *kind, *i).to_string(),
                "name": data::object_name(*kind, *i),
            })
            .to_string()),
            (Target::Run(run), None, &Method::GET) => self.poll_run(&run.id),
            (Target::Run(run), Some("insights"), &Method::GET) => self.run_results(call, &run.id),
            _ => Err(unsupported()),
        }
    }

    fn next_link(&self, call: &Call) -> NextLink {
        let mut url = format!(
            "{}/meta/graph/{}/{}",
            self.ctx.base_url(),
            call.version.as_deref().unwrap_or(""),
            call.node
        );
        if let Some(edge) = &call.edge {
            url.push('/');
            url.push_str(edge);
        }
        let pairs = call
            .params
            .query_pairs_except(&["after", "before", "limit"])
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        NextLink { url, pairs }
    }

    fn my_accounts(&self, call: &Call, caller: &Caller) -> Result<String, GraphError> {
        let fields = requested(&call.params, &["id", "account_id", "name", "currency"], "AdAccount")?;
        let items: Vec<Value> = caller
            .grant
            .accounts
            .iter()
            .filter_map(|id| self.account_index(id))
            .map(|a| self.account_json(a, &fields))
            .collect();
        let page = insights::page_request(&call.params, self.config.max_page_rows)?;
        Ok(paged(items, page, &self.next_link(call)))
    }

    fn account_json(&self, account: usize, fields: &[&str]) -> Value {
        let mut out = Map::new();
        let Some(config) = self.config.accounts.get(account) else {
            return Value::Object(out);
        };
        for field in fields {
            let value = match *field {
                "id" => json!(format!("act_{}", config.id)),
                "account_id" => json!(config.id),
                "name" => json!(config.name),
                "currency" => json!(config.currency),
                "timezone_name" => json!(config.timezone),
                "account_status" => json!(1),
                _ => continue,
            };
            out.insert((*field).to_owned(), value);
        }
        Value::Object(out)
    }

    fn account_node(&self, call: &Call, account: usize) -> Result<String, GraphError> {
        let fields = requested(
            &call.params,
            &["id", "account_id", "name", "currency", "timezone_name", "account_status"],
            "AdAccount",
        )?;
        Ok(self.account_json(account, &fields).to_string())
    }

    fn campaign_at(&self, account: usize, index: u64) -> Option<SimCampaign> {
        let config = self.config.accounts.get(account)?;
        let state = self.state();
        Some(data::campaign(
            self.ctx.seed,
            account,
            config,
            index,
            state.campaigns.get(&index_key(account, index)),
        ))
    }

    fn campaign_json(&self, campaign: &SimCampaign, fields: &[&str]) -> Value {
        let mut out = Map::new();
        for field in fields {
            let value = match *field {
                "id" => json!(campaign.id),
                "account_id" => json!(campaign.account_id),
                "name" => json!(campaign.name),
                "objective" => json!(campaign.objective),
                "status" | "effective_status" | "configured_status" => json!(campaign.status),
                "buying_type" => json!("AUCTION"),
                "daily_budget" => match campaign.daily_budget {
                    Some(b) => json!(b.to_string()),
                    None => continue,
                },
                "lifetime_budget" => match campaign.lifetime_budget {
                    Some(b) => json!(b.to_string()),
                    None => continue,
                },
                "start_time" => match campaign.start_time {
                    Some(t) => json!(dates::datetime_string(t)),
                    None => continue,
                },
                "stop_time" => match campaign.stop_time {
                    Some(t) => json!(dates::datetime_string(t)),
                    None => continue,
                },
                "created_time" => json!(dates::datetime_string(campaign.created_time)),
                "updated_time" => json!(dates::datetime_string(campaign.updated_time)),
                _ => continue,
            };
            out.insert((*field).to_owned(), value);
        }
        Value::Object(out)
    }

    fn campaigns(&self, call: &Call, account: usize) -> Result<String, GraphError> {
        let fields = requested(&call.params, &CAMPAIGN_FIELDS, "Campaign")?;
        let statuses: Vec<String> = match call.params.get("effective_status") {
            None => vec!["ACTIVE".to_owned(), "PAUSED".to_owned()],
            Some(raw) => serde_json::from_str(raw)
                .map_err(|_| GraphError::invalid("param effective_status must be an array of statuses"))?,
        };
        let page = insights::page_request(&call.params, self.config.max_page_rows)?;
        let count = self.config.accounts.get(account).map_or(0, |a| u64::from(a.campaigns));
        let items: Vec<Value> = (0..count)
            .filter_map(|i| self.campaign_at(account, i))
            .filter(|c| statuses.contains(&c.status))
            .map(|c| self.campaign_json(&c, &fields))
            .collect();
        Ok(paged(items, page, &self.next_link(call)))
    }

    fn campaign_node(&self, call: &Call, account: usize, index: u64) -> Result<String, GraphError> {
        let fields = requested(&call.params, &CAMPAIGN_FIELDS, "Campaign")?;
        let campaign =
            self.campaign_at(account, index).ok_or_else(|| GraphError::missing_object(&call.node))?;
        Ok(self.campaign_json(&campaign, &fields).to_string())
    }

    fn change_campaign(&self, call: &Call, account: usize, index: u64) -> Result<String, GraphError> {
        let mut campaign =
            self.campaign_at(account, index).ok_or_else(|| GraphError::missing_object(&call.node))?;
        let params = &call.params;
        if let Some(status) = params.get("status") {
            if !CAMPAIGN_STATUSES.contains(&status) {
                return Err(GraphError::invalid(
                    "Param status must be one of {ACTIVE, PAUSED, DELETED, ARCHIVED}",
                ));
            }
            campaign.status = status.to_owned();
        }
        let budget = |name: &str| -> Result<Option<i64>, GraphError> {
            match params.get(name) {
                None => Ok(None),
                Some(raw) => match raw.parse::<i64>() {
                    Ok(v) if v > 0 => Ok(Some(v)),
                    _ => Err(GraphError::invalid(&format!("Param {name} must be a positive integer"))),
                },
            }
        };
        if let Some(daily) = budget("daily_budget")? {
            campaign.daily_budget = Some(daily);
        }
        if let Some(lifetime) = budget("lifetime_budget")? {
            campaign.lifetime_budget = Some(lifetime);
        }
        if campaign.daily_budget.is_some() && campaign.lifetime_budget.is_some() {
            return Err(GraphError::invalid("Only one of daily_budget and lifetime_budget can be set"));
        }
        for (name, slot) in [("start_time", &mut campaign.start_time), ("stop_time", &mut campaign.stop_time)]
        {
            if let Some(raw) = params.get(name) {
                let time = dates::parse_datetime(raw)
                    .ok_or_else(|| GraphError::invalid(&format!("Param {name} must be a valid date-time")))?;
                *slot = Some(time);
            }
        }
        if let (Some(start), Some(stop)) = (campaign.start_time, campaign.stop_time)
            && stop <= start
        {
            return Err(GraphError::invalid("The stop_time must be after the start_time"));
        }
        campaign.updated_time = self.ctx.clock.now_unix();
        self.state().campaigns.insert(index_key(account, index), campaign);
        Ok(json!({ "success": true }).to_string())
    }

    fn sync_insights(&self, call: &Call, account: usize) -> Result<String, GraphError> {
        let config =
            self.config.accounts.get(account).ok_or_else(|| GraphError::missing_object(&call.node))?;
        let query = InsightsQuery::parse(&call.params, self.today())?;
        if query.total_rows(config) > self.config.sync_max_rows {
            return Err(GraphError::too_much_data());
        }
        let page = insights::page_request(&call.params, self.config.max_page_rows)?;
        insights::write_page(self.ctx.seed, account, config, &query, page, &self.next_link(call))
    }

    fn create_run(&self, call: &Call, account: usize) -> Result<String, GraphError> {
        let query = InsightsQuery::parse(&call.params, self.today())?;
        let now = self.ctx.clock.now_unix();
        let mut state = self.state();
        let fails = state.failing_runs > 0;
        state.failing_runs = state.failing_runs.saturating_sub(1);
        let id = state.run_id(self.ctx.seed);
        state.runs.insert(
            id.clone(),
            Run { id: id.clone(), account, query, created_at: now, polls: 0, completed_at: None, fails },
        );
        Ok(json!({ "report_run_id": id }).to_string())
    }

    fn poll_run(&self, id: &str) -> Result<String, GraphError> {
        let now = self.ctx.clock.now_unix();
        let needed = self.config.report_run_polls.max(1);
        let mut state = self.state();
        let run = state.runs.get_mut(id).ok_or_else(|| GraphError::missing_object(id))?;
        run.polls = run.polls.saturating_add(1);
        let (status, percent) = if run.polls >= needed {
            if run.fails {
                ("Job Failed", 0)
            } else {
                run.completed_at.get_or_insert(now);
                ("Job Completed", 100)
            }
        } else if run.polls + 1 == needed {
            // Meta sometimes shows 100% while the job is still running (§1.7).
            ("Job Running", 100)
        } else if run.polls == 1 {
            ("Job Not Started", 0)
        } else {
            ("Job Running", (run.polls - 1) * 100 / needed.saturating_sub(2).max(1))
        };
        let account_id = self.config.accounts.get(run.account).map_or("", |a| a.id.as_str());
        let mut out = json!({
            "id": run.id,
            "account_id": account_id,
            "time_ref": run.created_at,
            "async_status": status,
            "async_percent_completion": percent,
            "date_start": dates::day_string(run.query.since),
            "date_stop": dates::day_string(run.query.until),
        });
        if let Some(done) = run.completed_at {
            out["time_completed"] = json!(done);
        }
        Ok(out.to_string())
    }

    fn run_results(&self, call: &Call, id: &str) -> Result<String, GraphError> {
        let run = self.state().runs.get(id).cloned().ok_or_else(|| GraphError::missing_object(id))?;
        if run.completed_at.is_none() {
            return Err(GraphError::invalid("The report run has not completed: check its async_status"));
        }
        let config = self.config.accounts.get(run.account).ok_or_else(|| GraphError::missing_object(id))?;
        let page = insights::page_request(&call.params, self.config.max_page_rows)?;
        insights::write_page(self.ctx.seed, run.account, config, &run.query, page, &self.next_link(call))
    }
}

/// The `fields` parameter checked against `known` (default: `id`).
fn requested<'a>(params: &'a Params, known: &[&'a str], node_type: &str) -> Result<Vec<&'a str>, GraphError> {
    let Some(raw) = params.get("fields") else {
        return Ok(vec!["id"]);
    };
    let mut fields = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if !known.contains(&name) {
            return Err(GraphError::invalid(&format!(
                "Tried accessing nonexisting field ({name}) on node type ({node_type})"
            )));
        }
        fields.push(name);
    }
    Ok(fields)
}

/// A cursor-paged list: `{"data":[…],"paging":{"cursors":{…},"next":…}}`.
fn paged(items: Vec<Value>, page: PageRequest, next: &NextLink) -> String {
    let total = items.len() as u64;
    let start = page.offset.min(total);
    let end = total.min(start.saturating_add(page.limit));
    let data: Vec<Value> = items
        .into_iter()
        .skip(usize::try_from(start).unwrap_or(usize::MAX))
        .take(usize::try_from(end - start).unwrap_or(0))
        .collect();
    let mut out = json!({ "data": data });
    if end > start {
        let after = insights::encode_cursor(end - 1);
        let mut paging = json!({
            "cursors": { "before": insights::encode_cursor(start), "after": after },
        });
        if end < total {
            let mut link = String::new();
            next.write_to(&mut link, page.limit, &after);
            paging["next"] = json!(link);
        }
        out["paging"] = paging;
    }
    out.to_string()
}
