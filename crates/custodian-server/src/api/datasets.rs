//! Handlers for stored datasets: report rows, campaigns, orders and stock, filtered by grant, account and
//! day range, paged with an opaque cursor.
//!
//! Core's `read_*` use cases decide `dataset_read` for the data class (ACC-1, SEG-1) and audit the
//! decision (AUTH-7); reads of Confidential data (orders and stock are order detail) are also counted in a
//! `data_read` event before anything is returned (AUD-1). Buyer PII is opened only with `with_pii=true`,
//! which core decides separately (`pii_read`, MIN-2) and counts on its own; without it orders say only
//! whether sealed PII is stored.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse as _, Response};
use custodian_core::data::{Campaign, RecordKind, ReportRow, StockLevel};
use custodian_core::grant::GrantId;
use custodian_core::platform::AccountRef;
use custodian_core::ports::DatasetQuery;
use data_encoding::BASE64URL_NOPAD;
use serde::Serialize;

use super::grants::service_error;
use super::syncs::parse_date;
use crate::authn::Authenticated;
use crate::error::AppError;
use crate::extract::{AppPath, AppQuery};
use crate::state::AppState;
use crate::usecase::tenants::tenant_from_path;
use crate::wire::flows::{
    CampaignsPage, DatasetParams, OrdersPage, ReportRowsPage, StockPage, campaign_view, order_view,
    report_row_view, stock_view,
};

/// Records per page unless `limit` says otherwise.
const DEFAULT_LIMIT: u32 = 100;
/// The largest page.
const MAX_LIMIT: u32 = 1_000;

/// The store query of `params` for tenant `id`: bad filters are 422, a bad cursor 400.
fn query(id: &str, params: &DatasetParams, kind: RecordKind) -> Result<DatasetQuery, AppError> {
    let tenant = tenant_from_path(id)?;
    let grant = params
        .grant
        .as_deref()
        .map(|raw| GrantId::new(raw).map_err(|e| AppError::invalid(format!("`grant`: {e}"))))
        .transpose()?;
    let account = params
        .account
        .as_deref()
        .map(|raw| AccountRef::parse_key(raw).map_err(|e| AppError::invalid(format!("`account`: {e}"))))
        .transpose()?;
    let from = params.from.as_deref().map(|raw| parse_date("from", raw)).transpose()?;
    let to = params.to.as_deref().map(|raw| parse_date("to", raw)).transpose()?;
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        return Err(AppError::invalid("`to` is before `from`"));
    }
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::invalid(format!("`limit` must be 1 to {MAX_LIMIT}")));
    }
    let (after, offset) = match params.cursor.as_deref() {
        None => (None, 0),
        Some(raw) => parse_cursor(raw, kind)
            .ok_or_else(|| AppError::bad_request("`cursor` is not a cursor this server issued"))?,
    };
    Ok(DatasetQuery { tenant, grant, account, from, to, after, offset, limit })
}

/// A cursor this server issued for a dataset of `kind`: `k` and the last record's natural key in unpadded
/// base64url (the page after it, found by key however far into the dataset), or `o` and an offset (the form
/// issued before keyed cursors, still honoured for a walk that began with one).
fn parse_cursor(raw: &str, kind: RecordKind) -> Option<(Option<String>, u64)> {
    if let Some(key) = raw.strip_prefix('k') {
        let bytes = BASE64URL_NOPAD.decode(key.as_bytes()).ok()?;
        let key = String::from_utf8(bytes).ok().filter(|k| kind.key_parts(k).is_some())?;
        return Some((Some(key), 0));
    }
    raw.strip_prefix('o').and_then(|n| n.parse::<u64>().ok()).map(|offset| (None, offset))
}

/// The cursor of the page after `query`'s, if this one (`len` records, the last with natural key
/// `last_key`) is full. A walk that began with an offset cursor goes on by offset.
fn next_cursor(len: usize, last_key: Option<String>, query: &DatasetQuery) -> Option<String> {
    if len != query.limit as usize {
        return None;
    }
    match last_key {
        Some(key) if query.offset == 0 => Some(format!("k{}", BASE64URL_NOPAD.encode(key.as_bytes()))),
        _ => Some(format!("o{}", query.offset.saturating_add(u64::from(query.limit)))),
    }
}

/// About how many bytes of JSON one record of each dataset takes (a report row about 250, an order with
/// three lines about 500), so that a page is serialized into one buffer of about its size. A generic JSON
/// answer starts at 128 bytes and doubles, so a page of 50 orders was reallocated and copied about eight
/// times on its way out.
const REPORT_ROW_BYTES: usize = 320;
const CAMPAIGN_BYTES: usize = 320;
const ORDER_BYTES: usize = 640;
const STOCK_BYTES: usize = 256;

/// A page answer of `records` records of about `record_bytes` each, serialized straight from its typed
/// view.
fn page(page: impl Serialize, records: usize, record_bytes: usize) -> PageReply {
    let mut body = Vec::with_capacity(records.saturating_mul(record_bytes).saturating_add(64));
    serde_json::to_writer(&mut body, &page)
        .map_err(|e| AppError::internal(format!("a dataset page cannot be serialized: {e}")))?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response())
}

type PageReply = Result<Response, AppError>;

fn no_pii(params: &DatasetParams) -> Result<(), AppError> {
    if params.with_pii.is_some() {
        return Err(AppError::invalid("`with_pii` applies only to orders"));
    }
    Ok(())
}

/// `GET /v1/tenants/{id}/report-rows` (`dataset_read`, reporting dataset).
pub(super) async fn report_rows(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
    AppQuery(params): AppQuery<DatasetParams>,
) -> PageReply {
    no_pii(&params)?;
    let query = query(&id, &params, RecordKind::ReportRow)?;
    let rows = state.services().read_report_rows(&auth.actor, &query).await.map_err(service_error)?;
    let next_cursor = next_cursor(rows.len(), rows.last().map(ReportRow::natural_key), &query);
    page(
        ReportRowsPage { report_rows: rows.iter().map(report_row_view).collect(), next_cursor },
        rows.len(),
        REPORT_ROW_BYTES,
    )
}

/// `GET /v1/tenants/{id}/campaigns` (`dataset_read`, campaign metadata).
pub(super) async fn campaigns(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
    AppQuery(params): AppQuery<DatasetParams>,
) -> PageReply {
    no_pii(&params)?;
    let query = query(&id, &params, RecordKind::Campaign)?;
    let rows = state.services().read_campaigns(&auth.actor, &query).await.map_err(service_error)?;
    let next_cursor = next_cursor(rows.len(), rows.last().map(Campaign::natural_key), &query);
    page(
        CampaignsPage { campaigns: rows.iter().map(campaign_view).collect(), next_cursor },
        rows.len(),
        CAMPAIGN_BYTES,
    )
}

/// `GET /v1/tenants/{id}/orders` (`dataset_read`, order detail, counted; with `with_pii=true` also
/// `pii_read`, counted on its own).
pub(super) async fn orders(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
    AppQuery(params): AppQuery<DatasetParams>,
) -> PageReply {
    let with_pii = params.with_pii.unwrap_or(false);
    let query = query(&id, &params, RecordKind::Order)?;
    let orders = state.services().read_orders(&auth.actor, &query, with_pii).await.map_err(service_error)?;
    let next_cursor = next_cursor(orders.len(), orders.last().map(|o| o.order.natural_key()), &query);
    page(
        OrdersPage { orders: orders.iter().map(|o| order_view(o, with_pii)).collect(), next_cursor },
        orders.len(),
        ORDER_BYTES,
    )
}

/// `GET /v1/tenants/{id}/stock` (`dataset_read`, order detail, counted).
pub(super) async fn stock(
    State(state): State<AppState>,
    auth: Authenticated,
    AppPath(id): AppPath<String>,
    AppQuery(params): AppQuery<DatasetParams>,
) -> PageReply {
    no_pii(&params)?;
    let query = query(&id, &params, RecordKind::StockLevel)?;
    let rows = state.services().read_stock(&auth.actor, &query).await.map_err(service_error)?;
    let next_cursor = next_cursor(rows.len(), rows.last().map(StockLevel::natural_key), &query);
    page(StockPage { stock: rows.iter().map(stock_view).collect(), next_cursor }, rows.len(), STOCK_BYTES)
}
