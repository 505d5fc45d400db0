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
    level.as_str()
}

/// Why a grant was revoked; `kind` says which.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", rename = "Revocation")]
pub(crate) enum RevocationView<'a> {
    /// The platform said the authorization is gone (AUTH-6).
    PlatformSignal {
        platform: &'static str,
        /// `deauthorized` or `deletion_requested`.
        signal: &'a str,
    },
    /// The platform refused the grant's credentials.
    CredentialsRejected { detail: &'a str },
    /// A person revoked it (for an API key: the person accountable for the key).
    Requested { by: &'a str },
    /// The tenant was offboarded (RGT-3).
    Offboarding,
}

fn revocation_view(cause: &RevocationCause) -> RevocationView<'_> {
    match cause {
        RevocationCause::PlatformSignal { platform, signal } => {
            RevocationView::PlatformSignal { platform: platform.as_str(), signal }
        }
        RevocationCause::CredentialsRejected { detail } => RevocationView::CredentialsRejected { detail },
        RevocationCause::Requested { by } => RevocationView::Requested { by: by.as_str() },
        RevocationCause::Offboarding => RevocationView::Offboarding,
    }
}

/// What the last live validation of a grant found (AUTH-2).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "GrantEvidence")]
pub(crate) struct EvidenceView<'a> {
    /// The owner identity the platform reported.
    owner: &'a str,
    /// The accounts reachable under the grant (AUTH-3), as account keys, e.g. `meta:act_1`.
    accounts: Vec<String>,
    /// The scopes the platform reported as granted (AUTH-4).
    scopes: Vec<&'a str>,
    /// When the authorization ends, if the platform says (RFC 3339).
    expires_at: Option<String>,
    /// Meta's data access expiry (RFC 3339): no data may be read after it.
    data_access_expires_at: Option<String>,
    /// When this validation ran (RFC 3339).
    validated_at: String,
}

/// A grant: state, tasks, PII switch, the last validation's evidence and review reasons. No tokens: they
/// live only in the secret store (SEC-1).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "Grant")]
pub(crate) struct GrantView<'a> {
    /// The grant's id.
    id: &'a str,
    /// The tenant the grant belongs to.
    tenant: &'a str,
    /// The platform, e.g. `meta`, `shopify`.
    platform: &'static str,
    /// `pending`, `active`, `needs_review`, `expired` or `revoked`.
    state: &'static str,
    /// The enabled tasks, e.g. `read_reporting`.
    tasks: Vec<&'static str>,
    /// Whether buyer PII may be read under the grant (MIN-2).
    pii_enabled: bool,
    /// `null` until the grant was validated.
    evidence: Option<EvidenceView<'a>>,
    /// What changed since approval, while the grant needs a review (AUTH-5).
    review: Vec<String>,
    /// Why the grant was revoked; `null` unless it was.
    revocation: Option<RevocationView<'a>>,
    /// RFC 3339.
    created_at: String,
    /// RFC 3339.
    updated_at: String,
}

pub(crate) fn grant_view(grant: &Grant) -> GrantView<'_> {
    GrantView {
        id: grant.id.as_str(),
        tenant: grant.tenant.as_str(),
        platform: grant.platform.as_str(),
        state: grant.state().as_str(),
        tasks: grant.tasks.iter().map(|t| t.as_str()).collect(),
        pii_enabled: grant.pii_enabled,
        evidence: grant.evidence().map(|e| EvidenceView {
            owner: e.owner.as_str(),
            accounts: e.accounts.iter().map(|a| a.key()).collect(),
            scopes: e.scopes.iter().map(|s| s.as_str()).collect(),
            expires_at: e.expires_at.map(ts),
            data_access_expires_at: e.data_access_expires_at.map(ts),
            validated_at: ts(e.validated_at),
        }),
        review: grant.review_reasons().iter().map(ToString::to_string).collect(),
        revocation: grant.revocation().map(revocation_view),
        created_at: ts(grant.created_at),
        updated_at: ts(grant.updated_at()),
    }
}

/// One grant.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct GrantAnswer<'a> {
    pub(crate) grant: GrantView<'a>,
}

/// `GET /v1/tenants/{id}/grants`: newest first.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct GrantList<'a> {
    /// The tenant's grants, newest first.
    pub(crate) grants: Vec<GrantView<'a>>,
}

/// `POST /v1/tenants/{id}/grants`: the pending grant and where to send the client for consent.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ConnectStarted<'a> {
    pub(crate) grant: GrantView<'a>,
    /// The platform's consent page, asking only for the enabled tasks' scopes (AUTH-4).
    pub(crate) consent_url: &'a str,
    /// The anti-forgery state the callback must carry (one use).
    pub(crate) state: &'a str,
    /// Where the platform sends the client's browser after consent.
    pub(crate) redirect_uri: &'a str,
    /// When the pending consent expires (RFC 3339).
    pub(crate) expires_at: String,
}

/// What a live validation concluded.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", rename = "ValidationOutcome")]
pub(crate) enum ValidationName {
    /// Validated; nothing that needs review changed.
    Active,
    /// The owner, accounts or scopes changed: processing stops until a review (AUTH-5).
    NeedsReview,
    /// The platform authorization lapsed.
    Expired,
}

/// `POST /v1/tenants/{id}/grants/{grant}/validate`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct GrantValidated<'a> {
    pub(crate) outcome: ValidationName,
    pub(crate) grant: GrantView<'a>,
}

fn deletion_cause(cause: &DeletionCause) -> String {
    match cause {
        DeletionCause::Revocation => "revocation".to_owned(),
        DeletionCause::ClientRequest(id) => format!("client_request:{id}"),
        DeletionCause::Offboarding => "offboarding".to_owned(),
        DeletionCause::Retention => "retention".to_owned(),
    }
}

/// What was deleted in one store.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "DeletedItem")]
pub(crate) struct DeletedItemView<'a> {
    /// The store: `dataset`, `contacts`, `secrets`, `keys` or `audit`.
    store: &'static str,
    /// What was deleted there: a record kind, `credentials`, `data key v3`.
    what: &'a str,
    /// How many were deleted.
    count: u64,
}

/// What the re-check after a deletion still found in one store: zero when the deletion is complete.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "RecheckItem")]
pub(crate) struct RecheckItemView<'a> {
    /// The store re-checked.
    store: &'static str,
    /// What was looked for there.
    what: &'a str,
    /// How many are still there (0 when the deletion is complete).
    remaining: u64,
}

/// A deletion receipt (RET-6): what was deleted per store and what the re-check still found.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "DeletionReceipt")]
pub(crate) struct ReceiptView<'a> {
    /// The receipt's id.
    id: &'a str,
    /// The grant purged; `null` for a whole tenant.
    grant: Option<&'a str>,
    /// `revocation`, `client_request:<rights request id>`, `offboarding` or `retention`.
    cause: String,
    /// RFC 3339.
    started_at: String,
    /// RFC 3339.
    completed_at: String,
    /// Everything deleted, over all stores.
    total_deleted: u64,
    /// Whether the re-check found nothing left.
    clean: bool,
    /// What was deleted, per store.
    deleted: Vec<DeletedItemView<'a>>,
    /// What the re-check after the deletion found, per store.
    recheck: Vec<RecheckItemView<'a>>,
}

pub(crate) fn receipt_view(receipt: &DeletionReceipt) -> ReceiptView<'_> {
    ReceiptView {
        id: receipt.id().as_str(),
        grant: receipt.grant().map(|g| g.as_str()),
        cause: deletion_cause(receipt.cause()),
        started_at: ts(receipt.started_at()),
        completed_at: ts(receipt.completed_at()),
        total_deleted: receipt.total_deleted(),
        clean: receipt.is_clean(),
        deleted: receipt
            .items()
            .iter()
            .map(|i| DeletedItemView { store: i.store.as_str(), what: &i.what, count: i.deleted })
            .collect(),
        recheck: receipt
            .recheck()
            .iter()
            .map(|r| RecheckItemView { store: r.store.as_str(), what: &r.what, remaining: r.remaining })
            .collect(),
    }
}

/// A deletion receipt: a revoked grant's purge (RET-3) or a client's data deleted (RGT-1).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ReceiptAnswer<'a> {
    pub(crate) receipt: ReceiptView<'a>,
}

/// One sync run of one kind on one account.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "SyncRun")]
pub(crate) struct SyncRunView {
    /// `reporting`, `orders` or `stock`.
    pub(crate) kind: &'static str,
    /// The account key, e.g. `meta:act_1`.
    pub(crate) account: String,
    /// Pages fetched from the platform.
    pub(crate) pages: u32,
    /// Records received.
    pub(crate) records: u64,
    /// Records stored that were new.
    pub(crate) inserted: u64,
    /// Records stored that changed.
    pub(crate) updated: u64,
    /// Records received that were already stored as they are.
    pub(crate) unchanged: u64,
}

pub(crate) fn sync_run_view(kind: &'static str, account: String, report: &SyncReport) -> SyncRunView {
    SyncRunView {
        kind,
        account,
        pages: report.pages,
        records: report.records,
        inserted: report.upserted.inserted,
        updated: report.upserted.updated,
        unchanged: report.upserted.unchanged,
    }
}

/// `POST /v1/tenants/{id}/grants/{grant}/syncs`: the grant after the runs, and what each run stored.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SyncRuns<'a> {
    pub(crate) grant: GrantView<'a>,
    /// One run per account and kind, in the order they ran.
    pub(crate) runs: Vec<SyncRunView>,
}

/// Where a sync stands (the checkpoint committed with its last page).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "SyncCheckpoint")]
pub(crate) struct CheckpointView {
    /// `campaigns`, `report_rows`, `orders` or `stock`.
    kind: &'static str,
    /// The task the checkpoint is saved under, e.g. `read_orders`.
    task: &'static str,
    /// The account key.
    account: String,
    /// Whether the last run finished (no resume cursor left).
    finished: bool,
    /// The high-water mark reached (RFC 3339), if the kind has one.
    watermark: Option<String>,
    /// RFC 3339.
    updated_at: String,
}

pub(crate) fn checkpoint_view(kind: &'static str, checkpoint: &SyncCheckpoint) -> CheckpointView {
    CheckpointView {
        kind,
        task: checkpoint.task.as_str(),
        account: checkpoint.account.key(),
        finished: checkpoint.cursor.is_none(),
        watermark: checkpoint.watermark.map(ts),
        updated_at: ts(checkpoint.updated_at),
    }
}

/// `GET /v1/tenants/{id}/grants/{grant}/syncs`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SyncStatus<'a> {
    pub(crate) grant: GrantView<'a>,
    /// One per account and kind that has run.
    pub(crate) checkpoints: Vec<CheckpointView>,
}

/// What a verified platform notification did.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SignalStatus {
    /// Every matching grant was revoked and its data purged (RET-3).
    Revoked,
    /// An expiry warning was raised as an alert.
    Alerted,
    /// Verified, but no grant matched (already revoked, or unknown).
    Received,
}

/// `POST|GET /v1/webhooks/{platform}[/{topic}]`: the answer in the form the platform expects (eBay's
/// verified notifications get 204 and no body instead).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub(crate) enum SignalAnswer {
    /// An endpoint challenge (eBay): the response the platform checks.
    Challenge {
        #[serde(rename = "challengeResponse")]
        challenge_response: String,
    },
    /// Meta's data-deletion callback: where the deletion's status can be seen, and its confirmation code
    /// (the deletion receipt's id when grants were purged).
    DataDeletion { url: String, confirmation_code: String },
    /// Any other verified notification: what it did.
    Handled {
        status: SignalStatus,
        /// How many grants were revoked and purged.
        grants_revoked: usize,
    },
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

/// A buyer's postal address.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "PostalAddress")]
pub(crate) struct AddressView<'a> {
    /// The street lines.
    lines: &'a [String],
    /// The city.
    city: &'a str,
    /// The state or region, if any.
    region: Option<&'a str>,
    /// The postal code, if any.
    postal_code: Option<&'a str>,
    /// As stored from the platform (usually ISO 3166-1 alpha-2).
    country: &'a str,
}

/// A buyer's PII, opened for a reader allowed to see it (MIN-2).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "Buyer")]
pub(crate) struct BuyerView<'a> {
    /// The buyer's name, if stored.
    name: Option<&'a str>,
    /// The buyer's email, if stored.
    email: Option<&'a str>,
    /// The buyer's phone number, if stored.
    phone: Option<&'a str>,
    /// The buyer's postal address, if stored.
    address: Option<AddressView<'a>>,
}

fn buyer_view(buyer: &BuyerPii) -> BuyerView<'_> {
    BuyerView {
        name: buyer.name.as_deref(),
        email: buyer.email.as_deref(),
        phone: buyer.phone.as_deref(),
        address: buyer.address.as_ref().map(|a| AddressView {
            lines: &a.lines,
            city: &a.city,
            region: a.region.as_deref(),
            postal_code: a.postal_code.as_deref(),
            country: &a.country,
        }),
    }
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
    /// The buyer's name, email, phone and postal address; present only with `with_pii=true`, and then
    /// `null` if no buyer PII is stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    buyer: Option<Option<BuyerView<'a>>>,
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
        buyer: with_pii.then(|| view.buyer.as_ref().map(buyer_view)),
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
