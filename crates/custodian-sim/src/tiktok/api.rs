//! Ad account and campaign endpoints: `advertiser/info/`, `campaign/get/`, `campaign/status/update/` and
//! `campaign/update/`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::data::{CampaignStatus, SimCampaign, datetime};
use super::envelope::{
    ApiError, ApiResult, body_str, ok, page_info, parse_body, query_int, query_list, respond, with_code,
};
use super::{CampaignEdit, SCOPE_CAMPAIGN, SCOPE_READ_AD_ACCOUNT, SCOPE_READ_CAMPAIGNS, TikTokSim, data};

type Params = Query<HashMap<String, String>>;

/// The largest `page_size` (report_integrated_get.yml, smart_plus_campaign_get.yml: maximum 1000).
pub(super) const MAX_PAGE_SIZE: u64 = 1000;
const MAX_PAGE: u64 = 1_000_000_000;

/// Fields `advertiser/info/` can return.
const ADVERTISER_FIELDS: [&str; 9] = [
    "advertiser_id",
    "name",
    "currency",
    "timezone",
    "display_timezone",
    "status",
    "company",
    "country",
    "role",
];

/// Fields `campaign/get/` can return.
const CAMPAIGN_FIELDS: [&str; 13] = [
    "advertiser_id",
    "campaign_id",
    "campaign_name",
    "campaign_type",
    "objective_type",
    "budget",
    "budget_mode",
    "operation_status",
    "secondary_status",
    "create_time",
    "modify_time",
    "is_new_structure",
    "is_smart_performance_campaign",
];

/// Checks a `fields` list against what the endpoint knows (40002 otherwise).
fn check_fields(fields: Option<&Vec<String>>, known: &[&str]) -> ApiResult<()> {
    if let Some(unknown) = fields.into_iter().flatten().find(|f| !known.contains(&f.as_str())) {
        return Err(ApiError::param(format!("fields: {unknown} is not a valid field.")));
    }
    Ok(())
}

/// Keeps only the requested fields (all when none were requested).
fn select(all: Map<String, Value>, fields: Option<&Vec<String>>) -> Value {
    match fields {
        None => Value::Object(all),
        Some(fields) => Value::Object(all.into_iter().filter(|(k, _)| fields.contains(k)).collect()),
    }
}

fn money(micros: i64) -> Value {
    json!(micros as f64 / 1_000_000.0)
}

pub(super) fn campaign_json(c: &SimCampaign, fields: Option<&Vec<String>>) -> Value {
    let mut all = Map::new();
    all.insert("advertiser_id".into(), json!(c.advertiser_id));
    all.insert("campaign_id".into(), json!(c.id.to_string()));
    all.insert("campaign_name".into(), json!(c.name));
    all.insert("campaign_type".into(), json!("REGULAR_CAMPAIGN"));
    all.insert("objective_type".into(), json!(c.objective_type));
    all.insert("budget".into(), money(c.budget_micros));
    all.insert("budget_mode".into(), json!(c.budget_mode));
    all.insert("operation_status".into(), json!(c.status.operation_status()));
    all.insert("secondary_status".into(), json!(c.status.secondary_status()));
    all.insert("create_time".into(), json!(datetime(c.create_time)));
    all.insert("modify_time".into(), json!(datetime(c.modify_time)));
    all.insert("is_new_structure".into(), json!(true));
    all.insert("is_smart_performance_campaign".into(), json!(false));
    select(all, fields)
}

/// `GET advertiser/info/?advertiser_ids=[..]&fields=[..]` → `data.list[]` (scope 100).
pub(super) async fn advertiser_info(
    State(sim): State<Arc<TikTokSim>>,
    headers: HeaderMap,
    Query(params): Params,
) -> Response {
    let result = (|| {
        let grant = sim.gate(&headers, SCOPE_READ_AD_ACCOUNT)?;
        let ids = query_list(params.get("advertiser_ids"), "advertiser_ids")?
            .filter(|ids| !ids.is_empty())
            .ok_or_else(|| ApiError::missing("advertiser_ids"))?;
        let fields = query_list(params.get("fields"), "fields")?;
        check_fields(fields.as_ref(), &ADVERTISER_FIELDS)?;
        let mut list = Vec::with_capacity(ids.len());
        for id in &ids {
            let index = sim.advertiser(&grant, Some(id))?;
            let Some(adv) = sim.config.advertisers.get(index) else { continue };
            let mut all = Map::new();
            all.insert("advertiser_id".into(), json!(adv.id));
            all.insert("name".into(), json!(adv.name));
            all.insert("currency".into(), json!(adv.currency));
            all.insert("timezone".into(), json!(adv.timezone));
            all.insert("display_timezone".into(), json!(adv.timezone));
            all.insert("status".into(), json!("STATUS_ENABLE"));
            all.insert("company".into(), json!(format!("{} Ltd", adv.name)));
            all.insert("country".into(), json!("US"));
            all.insert("role".into(), json!("ROLE_ADVERTISER"));
            list.push(select(all, fields.as_ref()));
        }
        Ok(ok(&sim, &json!({ "list": list })))
    })();
    respond(&sim, result)
}

/// What `filtering` of `campaign/get/` asks for.
#[derive(Debug, Default)]
struct CampaignFilter {
    ids: Option<Vec<u64>>,
    name: Option<String>,
    objective: Option<String>,
    /// `secondary_status` or `primary_status`; default: not deleted.
    status: Option<String>,
}

impl CampaignFilter {
    fn parse(raw: Option<&String>) -> ApiResult<Self> {
        let Some(raw) = raw else { return Ok(Self::default()) };
        let bad = || ApiError::param("filtering: Not a valid JSON object.");
        let value: Value = serde_json::from_str(raw).map_err(|_| bad())?;
        let object = value.as_object().ok_or_else(bad)?;
        let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::to_owned);
        let ids = match object.get("campaign_ids") {
            None => None,
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|v| match v {
                        Value::String(s) => s.parse().ok(),
                        Value::Number(n) => n.as_u64(),
                        _ => None,
                    })
                    .collect::<Option<Vec<u64>>>()
                    .ok_or_else(|| ApiError::param("filtering.campaign_ids: Not a valid list of ids."))?,
            ),
            Some(_) => return Err(ApiError::param("filtering.campaign_ids: Not a valid list.")),
        };
        Ok(Self {
            ids,
            name: text("campaign_name"),
            objective: text("objective_type"),
            status: text("secondary_status").or_else(|| text("primary_status")),
        })
    }

    fn matches(&self, c: &SimCampaign) -> bool {
        let deleted = c.status == CampaignStatus::Delete;
        let status_ok = match self.status.as_deref() {
            None | Some("CAMPAIGN_STATUS_NOT_DELETE" | "STATUS_NOT_DELETE") => !deleted,
            Some("CAMPAIGN_STATUS_ALL" | "STATUS_ALL") => true,
            Some("CAMPAIGN_STATUS_DELETE" | "STATUS_DELETE") => deleted,
            Some("CAMPAIGN_STATUS_ENABLE" | "STATUS_DELIVERY_OK") => c.status == CampaignStatus::Enable,
            Some("CAMPAIGN_STATUS_DISABLE" | "STATUS_DISABLE" | "STATUS_NOT_DELIVERY") => {
                c.status == CampaignStatus::Disable
            }
            Some(_) => false,
        };
        status_ok
            && self.name.as_deref().is_none_or(|n| c.name.contains(n))
            && self.objective.as_deref().is_none_or(|o| c.objective_type == o)
    }
}

/// `GET campaign/get/?advertiser_id=&fields=&filtering=&page=&page_size=` → `data.list[]` and
/// `data.page_info` (scope 200). Deleted campaigns are left out unless the filter asks for them.
pub(super) async fn campaign_get(
    State(sim): State<Arc<TikTokSim>>,
    headers: HeaderMap,
    Query(params): Params,
) -> Response {
    let result = (|| {
        let grant = sim.gate(&headers, SCOPE_READ_CAMPAIGNS)?;
        let adv = sim.advertiser(&grant, params.get("advertiser_id").map(String::as_str))?;
        let page = query_int(params.get("page"), "page", 1, 1, MAX_PAGE)?;
        let page_size = query_int(params.get("page_size"), "page_size", 10, 1, MAX_PAGE_SIZE)?;
        let fields = query_list(params.get("fields"), "fields")?;
        check_fields(fields.as_ref(), &CAMPAIGN_FIELDS)?;
        let filter = CampaignFilter::parse(params.get("filtering"))?;
        let count = sim.config.advertisers.get(adv).map_or(0, |a| a.campaigns);
        let mut indexes: Vec<u32> = match &filter.ids {
            None => (0..count).collect(),
            Some(ids) => ids
                .iter()
                .filter_map(|id| data::split_campaign_id(*id))
                .filter(|(a, i)| *a == adv && *i < count)
                .map(|(_, i)| i)
                .collect(),
        };
        indexes.sort_unstable();
        indexes.dedup();
        let matching: Vec<SimCampaign> = {
            let state = sim.state();
            indexes
                .into_iter()
                .map(|i| {
                    let edit = state.campaigns.get(&data::campaign_id(adv, i)).cloned().unwrap_or_default();
                    sim.campaign_with(adv, i, &edit)
                })
                .filter(|c| filter.matches(c))
                .collect()
        };
        let total = matching.len() as u64;
        let skip = usize::try_from((page - 1).saturating_mul(page_size)).unwrap_or(usize::MAX);
        let take = usize::try_from(page_size).unwrap_or(usize::MAX);
        let list: Vec<Value> =
            matching.iter().skip(skip).take(take).map(|c| campaign_json(c, fields.as_ref())).collect();
        Ok(ok(&sim, &json!({ "list": list, "page_info": page_info(page, page_size, total) })))
    })();
    respond(&sim, result)
}

/// `POST campaign/status/update/` with `{advertiser_id, campaign_ids (1–20), operation_status}` → `data
/// {campaign_list[], error_list[]}` (scope 20). Unknown or deleted campaigns land in `error_list`; the code
/// is 0 when all succeed, 20001 (partial success) when some do and 40002 when none does.
pub(super) async fn campaign_status_update(
    State(sim): State<Arc<TikTokSim>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = (|| {
        let grant = sim.gate(&headers, SCOPE_CAMPAIGN)?;
        let body = parse_body(&body)?;
        let adv = sim.advertiser(&grant, body_str(&body, "advertiser_id").as_deref())?;
        let ids: Vec<String> = match body.get("campaign_ids") {
            None => return Err(ApiError::missing("campaign_ids")),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect::<Option<_>>()
                .ok_or_else(|| ApiError::param("campaign_ids: Not a valid list."))?,
            Some(_) => return Err(ApiError::param("campaign_ids: Not a valid list.")),
        };
        if ids.is_empty() || ids.len() > 20 {
            return Err(ApiError::param("campaign_ids: Length must be between 1 and 20."));
        }
        let status = match body_str(&body, "operation_status").as_deref() {
            None => return Err(ApiError::missing("operation_status")),
            Some("ENABLE") => CampaignStatus::Enable,
            Some("DISABLE") => CampaignStatus::Disable,
            Some("DELETE") => CampaignStatus::Delete,
            Some(_) => {
                return Err(ApiError::param("operation_status: Must be one of: ENABLE, DISABLE, DELETE."));
            }
        };
        let count = sim.config.advertisers.get(adv).map_or(0, |a| a.campaigns);
        let now = sim.ctx.clock.now_unix();
        let (mut done, mut failed) = (Vec::new(), Vec::new());
        {
            let mut state = sim.state();
            for raw in &ids {
                let located = raw
                    .parse::<u64>()
                    .ok()
                    .and_then(data::split_campaign_id)
                    .filter(|(a, i)| *a == adv && *i < count);
                let Some((_, index)) = located else {
                    failed.push(json!({"campaign_id": raw, "error_message": "Campaign does not exist."}));
                    continue;
                };
                let id = data::campaign_id(adv, index);
                let current = state.campaigns.get(&id).and_then(|e| e.status);
                let generated = data::generate_campaign(sim.ctx.seed, adv, "", index).status;
                if current.unwrap_or(generated) == CampaignStatus::Delete {
                    failed.push(json!({"campaign_id": raw, "error_message": "Campaign has been deleted."}));
                    continue;
                }
                let edit = state.campaigns.entry(id).or_insert_with(CampaignEdit::default);
                edit.status = Some(status);
                edit.modify_time = Some(now);
                let shown = match status {
                    CampaignStatus::Delete => "DELETE",
                    other => other.operation_status(),
                };
                done.push(json!({"campaign_id": id.to_string(), "status": shown}));
            }
        }
        let (code, message) = match (done.is_empty(), failed.is_empty()) {
            (_, true) => (0, "OK"),
            (false, false) => (20_001, "Partial success"),
            (true, false) => (40_002, "No campaign was updated."),
        };
        Ok(with_code(&sim, code, message, &json!({"campaign_list": done, "error_list": failed})))
    })();
    respond(&sim, result)
}

/// `POST campaign/update/` with `{advertiser_id, campaign_id, campaign_name?, budget?}` → the campaign
/// (scope 20). 40007 for an unknown campaign; 40002 for a deleted one, a budget that is not positive, or a
/// budget on an unlimited (`BUDGET_MODE_INFINITE`) campaign.
pub(super) async fn campaign_update(
    State(sim): State<Arc<TikTokSim>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = (|| {
        let grant = sim.gate(&headers, SCOPE_CAMPAIGN)?;
        let body = parse_body(&body)?;
        let adv = sim.advertiser(&grant, body_str(&body, "advertiser_id").as_deref())?;
        let raw = body_str(&body, "campaign_id").ok_or_else(|| ApiError::missing("campaign_id"))?;
        let count = sim.config.advertisers.get(adv).map_or(0, |a| a.campaigns);
        let (_, index) = raw
            .parse::<u64>()
            .ok()
            .and_then(data::split_campaign_id)
            .filter(|(a, i)| *a == adv && *i < count)
            .ok_or_else(|| ApiError::new(40_007, "Campaign does not exist."))?;
        let budget = match body.get("budget") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.parse::<f64>().ok(),
            Some(_) => return Err(ApiError::param("budget: Not a valid number.")),
        };
        if body.get("budget").is_some_and(|v| !v.is_null()) && budget.is_none() {
            return Err(ApiError::param("budget: Not a valid number."));
        }
        let name = match body.get("campaign_name") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= 512 => Some(s.clone()),
            Some(_) => return Err(ApiError::param("campaign_name: Length must be between 1 and 512.")),
        };
        let now = sim.ctx.clock.now_unix();
        let id = data::campaign_id(adv, index);
        let updated = {
            let mut state = sim.state();
            let mut edit = state.campaigns.get(&id).cloned().unwrap_or_default();
            let current = sim.campaign_with(adv, index, &edit);
            if current.status == CampaignStatus::Delete {
                return Err(ApiError::param("The campaign has been deleted and cannot be modified."));
            }
            if let Some(budget) = budget {
                if current.budget_mode == "BUDGET_MODE_INFINITE" {
                    return Err(ApiError::param(
                        "budget: The budget cannot be set when budget_mode is BUDGET_MODE_INFINITE.",
                    ));
                }
                if !budget.is_finite() || budget <= 0.0 || budget > 1e12 {
                    return Err(ApiError::param("budget: Must be greater than 0."));
                }
                edit.budget_micros = Some((budget * 1_000_000.0).round() as i64);
            }
            if let Some(name) = name {
                edit.name = Some(name);
            }
            edit.modify_time = Some(now);
            let updated = sim.campaign_with(adv, index, &edit);
            state.campaigns.insert(id, edit);
            updated
        };
        Ok(ok(&sim, &campaign_json(&updated, None)))
    })();
    respond(&sim, result)
}
