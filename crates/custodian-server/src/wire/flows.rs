//! Wire formats of grants, syncs, datasets and platform webhooks: request bodies and query strings (serde,
//! unknown fields refused) and response views built from core's domain types (which derive no serde).
//!
//! Nothing secret leaves here: grants show their evidence (owner, accounts, scopes, expiries) but never
//! tokens; buyer PII is shown only in an [`OrderView`] core opened for a permitted reader (MIN-2).

use custodian_core::data::{BuyerPii, Campaign, ReportLevel, ReportRow, StockLevel};
use custodian_core::grant::{Grant, RevocationCause};
use custodian_core::ports::SyncCheckpoint;
use custodian_core::retention::{DeletionCause, DeletionReceipt};
use custodian_core::service::{OrderView, SyncReport};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::ts;

// ---- requests ----

/// `POST /v1/tenants/{id}/grants`: start connecting a platform (AUTH-4: consent asks only for the scopes
/// of `tasks`). `pii` switches buyer PII on for the grant (MIN-2; commerce platforms only) and adds the
/// `read_buyer_pii` task.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConnectBody {
    pub(crate) platform: String,
    pub(crate) tasks: Vec<String>,
    #[serde(default)]
    pub(crate) pii: bool,
}

/// `PUT /v1/tenants/{id}/grants/{grant}/pii`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PiiBody {
    pub(crate) enabled: bool,
}

/// `POST /v1/tenants/{id}/grants/{grant}/syncs`. Every field is optional: `account` defaults to every
/// account of the grant's evidence, `kinds` to what the platform offers (`reporting` on ad platforms,
/// `orders` and `stock` on commerce platforms), the report window to the last 28 days at `campaign`
/// level, the order window to "since the last run (or 30 days) until now" (before the platform's data delay).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SyncBody {
    #[serde(default)]
    pub(crate) account: Option<String>,
    #[serde(default)]
    pub(crate) kinds: Vec<String>,
    /// `account`, `campaign`, `ad_group` or `ad`.
    #[serde(default)]
    pub(crate) level: Option<String>,
    /// `YYYY-MM-DD`, inclusive.
    #[serde(default)]
    pub(crate) from: Option<String>,
    /// `YYYY-MM-DD`, inclusive.
    #[serde(default)]
    pub(crate) to: Option<String>,
    /// RFC 3339.
    #[serde(default)]
    pub(crate) updated_after: Option<String>,
    /// RFC 3339.
    #[serde(default)]
    pub(crate) updated_before: Option<String>,
}

/// The query of `GET /v1/tenants/{id}/report-rows|campaigns|orders|stock`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DatasetParams {
    #[serde(default)]
    pub(crate) grant: Option<String>,
    /// An account key as the responses show it, e.g. `meta:act_1`.
    #[serde(default)]
    pub(crate) account: Option<String>,
    /// `YYYY-MM-DD`, inclusive.
    #[serde(default)]
    pub(crate) from: Option<String>,
    /// `YYYY-MM-DD`, inclusive.
    #[serde(default)]
    pub(crate) to: Option<String>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    pub(crate) cursor: Option<String>,
    #[serde(default)]
    pub(crate) limit: Option<u32>,
    /// Orders only: open buyer PII (needs `pii_read`, and is audited on its own, MIN-2, AUD-1).
    #[serde(default)]
    pub(crate) with_pii: Option<bool>,
}

/// The query of `GET /v1/oauth/{platform}/callback` as the platforms send it. Documentation only: the
/// handler reads the query as pairs and ignores parameters it does not know. `state` is the one the
/// connect answered; the code comes as `code`, `auth_code` (TikTok ads) or `spapi_oauth_code` (Amazon,
/// with `selling_partner_id`); a declined consent comes as `error`.
#[derive(Debug, JsonSchema)]
#[expect(dead_code, reason = "describes the callback's query for `GET /v1/openapi.json`; never built")]
pub(crate) struct CallbackParams {
    /// The anti-forgery state of a pending connect (one use, an hour).
    pub(crate) state: String,
    pub(crate) code: Option<String>,
    /// TikTok ads' name for the code.
    pub(crate) auth_code: Option<String>,
    /// Amazon's name for the code.
    pub(crate) spapi_oauth_code: Option<String>,
    /// Amazon only: whose authorization it is.
    pub(crate) selling_partner_id: Option<String>,
    /// The platform's answer when consent was not given.
    pub(crate) error: Option<String>,
}

// ---- responses ----

pub(crate) fn report_level(level: ReportLevel) -> &'static str {
    match level {
        ReportLevel::Account => "account",
        ReportLevel::Campaign => "campaign",
        ReportLevel::AdGroup => "ad_group",
        ReportLevel::Ad => "ad",
    }
}

fn revocation_json(cause: &RevocationCause) -> Value {
    match cause {
        RevocationCause::PlatformSignal { platform, signal } => {
            json!({"kind": "platform_signal", "platform": platform.as_str(), "signal": signal})
        }
        RevocationCause::CredentialsRejected { detail } => {
            json!({"kind": "credentials_rejected", "detail": detail})
        }
        RevocationCause::Requested { by } => json!({"kind": "requested", "by": by.as_str()}),
        RevocationCause::Offboarding => json!({"kind": "offboarding"}),
    }
}

/// A grant: state, tasks, PII switch, the last validation's evidence and review reasons. No tokens: they
/// live only in the secret store (SEC-1).
pub(crate) fn grant_json(grant: &Grant) -> Value {
    let evidence = grant.evidence().map(|e| {
        json!({
            "owner": e.owner.as_str(),
            "accounts": e.accounts.iter().map(|a| a.key()).collect::<Vec<_>>(),
            "scopes": e.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            "expires_at": e.expires_at.map(ts),
            "data_access_expires_at": e.data_access_expires_at.map(ts),
            "validated_at": ts(e.validated_at),
        })
    });
    json!({
        "id": grant.id.as_str(),
        "tenant": grant.tenant.as_str(),
        "platform": grant.platform.as_str(),
        "state": grant.state().as_str(),
        "tasks": grant.tasks.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        "pii_enabled": grant.pii_enabled,
        "evidence": evidence,
        "review": grant.review_reasons().iter().map(ToString::to_string).collect::<Vec<_>>(),
        "revocation": grant.revocation().map(revocation_json),
        "created_at": ts(grant.created_at),
        "updated_at": ts(grant.updated_at()),
    })
}

fn deletion_cause(cause: &DeletionCause) -> String {
    match cause {
        DeletionCause::Revocation => "revocation".to_owned(),
        DeletionCause::ClientRequest(id) => format!("client_request:{id}"),
        DeletionCause::Offboarding => "offboarding".to_owned(),
        DeletionCause::Retention => "retention".to_owned(),
    }
}

/// A deletion receipt (RET-6): what was deleted per store and what the re-check still found.
pub(crate) fn receipt_json(receipt: &DeletionReceipt) -> Value {
    json!({
        "id": receipt.id().as_str(),
        "grant": receipt.grant().map(|g| g.as_str()),
        "cause": deletion_cause(receipt.cause()),
        "started_at": ts(receipt.started_at()),
        "completed_at": ts(receipt.completed_at()),
        "total_deleted": receipt.total_deleted(),
        "clean": receipt.is_clean(),
        "deleted": receipt.items().iter().map(|i| json!({
            "store": i.store.as_str(), "what": i.what, "count": i.deleted,
        })).collect::<Vec<_>>(),
        "recheck": receipt.recheck().iter().map(|r| json!({
            "store": r.store.as_str(), "what": r.what, "remaining": r.remaining,
        })).collect::<Vec<_>>(),
    })
}

/// One sync run of one kind on one account.
pub(crate) fn sync_report_json(kind: &str, account: &str, report: &SyncReport) -> Value {
    json!({
        "kind": kind,
        "account": account,
        "pages": report.pages,
        "records": report.records,
        "inserted": report.upserted.inserted,
        "updated": report.upserted.updated,
        "unchanged": report.upserted.unchanged,
    })
}

/// Where a sync stands (the checkpoint committed with its last page).
pub(crate) fn checkpoint_json(kind: &str, checkpoint: &SyncCheckpoint) -> Value {
    json!({
        "kind": kind,
        "task": checkpoint.task.as_str(),
        "account": checkpoint.account.key(),
        "finished": checkpoint.cursor.is_none(),
        "watermark": checkpoint.watermark.map(ts),
        "updated_at": ts(checkpoint.updated_at),
    })
}

/// A page of a dataset endpoint: its records and, when the page is full, the next page's cursor. The
/// same types are serialized into the response and described in the OpenAPI document.
macro_rules! dataset_page {
    ($(#[$doc:meta])* $name:ident, $field:ident, $item:ident) => {
        $(#[$doc])*
        #[derive(Debug, Serialize, JsonSchema)]
        pub(crate) struct $name<'a> {
            pub(crate) $field: Vec<$item<'a>>,
            /// Pass as `cursor` for the next page; `null` when this page is the last.
            pub(crate) next_cursor: Option<String>,
        }
    };
}

dataset_page!(
    /// `GET /v1/tenants/{id}/report-rows`.
    ReportRowsPage, report_rows, ReportRowView
);
dataset_page!(
    /// `GET /v1/tenants/{id}/campaigns`.
    CampaignsPage, campaigns, CampaignView
);
dataset_page!(
    /// `GET /v1/tenants/{id}/orders`.
    OrdersPage, orders, OrderWire
);
dataset_page!(
    /// `GET /v1/tenants/{id}/stock`.
    StockPage, stock, StockView
);

/// A report row as the dataset endpoints answer it. Typed views (not `json!`) are serialized straight
/// into the response body: building a `serde_json::Value` per row first was a tenth of a page read's CPU.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "ReportRow")]
pub(crate) struct ReportRowView<'a> {
    grant: &'a str,
    /// The account key, e.g. `meta:act_1`.
    account: String,
    /// `account`, `campaign`, `ad_group` or `ad`.
    level: &'static str,
    object: &'a str,
    /// `YYYY-MM-DD`.
    date: String,
    currency: &'a str,
    spend_micros: i64,
    impressions: u64,
    clicks: u64,
    conversions: u64,
    conversion_value_micros: i64,
}

pub(crate) fn report_row_view(row: &ReportRow) -> ReportRowView<'_> {
    ReportRowView {
        grant: row.grant.as_str(),
        account: row.account.key(),
        level: report_level(row.level),
        object: row.object.as_str(),
        date: row.date.to_string(),
        currency: row.currency.as_str(),
        spend_micros: row.metrics.spend_micros,
        impressions: row.metrics.impressions,
        clicks: row.metrics.clicks,
        conversions: row.metrics.conversions,
        conversion_value_micros: row.metrics.conversion_value_micros,
    }
}

/// A campaign as the dataset endpoints answer it.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "Campaign")]
pub(crate) struct CampaignView<'a> {
    grant: &'a str,
    account: String,
    id: &'a str,
    name: &'a str,
    status: &'a str,
    objective: Option<&'a str>,
    daily_budget_micros: Option<i64>,
    lifetime_budget_micros: Option<i64>,
    /// RFC 3339.
    updated_at: String,
}

pub(crate) fn campaign_view(campaign: &Campaign) -> CampaignView<'_> {
    CampaignView {
        grant: campaign.grant.as_str(),
        account: campaign.account.key(),
        id: campaign.id.as_str(),
        name: campaign.name.as_str(),
        status: campaign.status.as_str(),
        objective: campaign.objective.as_ref().map(|o| o.as_str()),
        daily_budget_micros: campaign.daily_budget_micros,
        lifetime_budget_micros: campaign.lifetime_budget_micros,
        updated_at: ts(campaign.updated_at),
    }
}

fn buyer_json(buyer: &BuyerPii) -> Value {
    json!({
        "name": buyer.name,
        "email": buyer.email,
        "phone": buyer.phone,
        "address": buyer.address.as_ref().map(|a| json!({
            "lines": a.lines, "city": a.city, "region": a.region, "postal_code": a.postal_code,
            "country": a.country,
        })),
    })
}

/// An order line.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "OrderLine")]
pub(crate) struct OrderLineView<'a> {
    id: &'a str,
    sku: &'a str,
    quantity: u32,
    unit_price_micros: i64,
}

/// An order. `buyer` is present only when the reader asked for buyer PII (`with_pii=true`), which core
/// opened for a reader allowed to see it (`null` if none is stored); otherwise `has_buyer_pii` says
/// whether sealed PII is stored, without showing it (MIN-2).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "Order")]
pub(crate) struct OrderWire<'a> {
    grant: &'a str,
    account: String,
    id: &'a str,
    status: &'a str,
    /// RFC 3339.
    created_at: String,
    /// RFC 3339.
    updated_at: String,
    currency: &'a str,
    total_micros: i64,
    lines: Vec<OrderLineView<'a>>,
    has_buyer_pii: bool,
    /// The buyer's name, email, phone and postal address (`lines`, `city`, `region`, `postal_code`,
    /// `country`); only with `with_pii=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    buyer: Option<Value>,
}

pub(crate) fn order_view(view: &OrderView, with_pii: bool) -> OrderWire<'_> {
    let order = &view.order;
    OrderWire {
        grant: order.grant.as_str(),
        account: order.account.key(),
        id: order.id.as_str(),
        status: order.status.as_str(),
        created_at: ts(order.created_at),
        updated_at: ts(order.updated_at),
        currency: order.currency.as_str(),
        total_micros: order.total_micros,
        lines: order
            .lines
            .iter()
            .map(|l| OrderLineView {
                id: l.id.as_str(),
                sku: l.sku.as_str(),
                quantity: l.quantity,
                unit_price_micros: l.unit_price_micros,
            })
            .collect(),
        has_buyer_pii: order.buyer.is_some(),
        buyer: with_pii.then(|| view.buyer.as_ref().map_or(Value::Null, buyer_json)),
    }
}

/// A stock level.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "StockLevel")]
pub(crate) struct StockView<'a> {
    grant: &'a str,
    account: String,
    sku: &'a str,
    location: Option<&'a str>,
    quantity: i64,
    /// RFC 3339.
    observed_at: String,
}

pub(crate) fn stock_view(level: &StockLevel) -> StockView<'_> {
    StockView {
        grant: level.grant.as_str(),
        account: level.account.key(),
        sku: level.sku.as_str(),
        location: level.location.as_ref().map(|l| l.as_str()),
        quantity: level.quantity,
        observed_at: ts(level.observed_at),
    }
}
