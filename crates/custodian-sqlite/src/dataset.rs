//! `DatasetStore`: idempotent bulk upserts (one transaction per batch, with its checkpoint and audit),
//! reads ordered by natural key, retention queries, anonymization and bounded purges.
//!
//! Report rows, campaigns and stock levels are upserted with multi-row
//! `INSERT … ON CONFLICT DO UPDATE … WHERE <the row differs>`: a row equal to the stored one is not
//! written (its `stored_at` stays). Exact counts come from two numbers of the same transaction: how many
//! of the batch's distinct keys existed before (`inserted = distinct − existing`) and how many rows the
//! upserts changed (`updated = changed − inserted`); the rest is unchanged. A page of new rows (the usual
//! first ingest: no key twice, none of a sample of its keys stored) is written with plain multi-row
//! `INSERT`s instead, which skip the existence count and the conflict handling; if a key exists after all,
//! its unique key refuses the row, the inserts are rolled back to a savepoint and the upsert runs. Orders,
//! whose lines are a JSON column of their row (migration 0005), are compared with the stored order and
//! written one by one.
//!
//! A record's key for retention ([`RecordMeta::key`]) is its natural key joined by spaces (no identifier
//! contains one): `<account> <level> <object> <day>`, `<account> <campaign>`, `<account> <order>`,
//! `<account> <sku> <location or empty>`.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use custodian_core::audit::NewAuditEvent;
use custodian_core::data::{
    Campaign, CampaignStatus, Currency, DataClass, Metrics, Order, OrderLine, OrderStatus, RecordKind,
    ReportLevel, ReportRow, Sealed, StockLevel, Text,
};
use custodian_core::grant::GrantId;
use custodian_core::platform::{AccountRef, Task};
use custodian_core::ports::{
    Cursor, DatasetQuery, DatasetStore, IngestBatch, StoreError, SyncCheckpoint, UpsertCounts,
};
use custodian_core::retention::RecordMeta;
use custodian_core::tenant::TenantId;
use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Row, Sqlite, SqliteConnection};
use time::{Date, OffsetDateTime};

use self::page::{PageQuery, PageRow};
use crate::SqliteStore;
use crate::codec::{
    MAX_TEXT_BYTES, Named, account, at, check_text, day, int, invalid, named, nanos, opt_at, opt_nanos,
    parse_day, parse_id, uint,
};
use crate::error::{corrupt, db};
use crate::read::Arg;

/// Most records in one batch, and most keys in one delete or anonymization.
pub(crate) const MAX_BATCH: usize = 100_000;
/// Bind parameters per statement (SQLite 3.46 allows 32,766): a page of 2,000 report rows is one statement.
const MAX_PARAMS: usize = 24_000;
/// One key in this many (and the last) is looked up before a page is inserted as new rows.
const SAMPLE_EVERY: usize = 64;

/// A column value to bind. Ordered like SQLite orders a column of one type (text bytewise, integers by
/// value).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Value<'a> {
    Text(Cow<'a, str>),
    Int(i64),
    OptText(Option<Cow<'a, str>>),
    OptInt(Option<i64>),
    OptBlob(Option<Vec<u8>>),
}

type SqliteQuery<'q> = Query<'q, Sqlite, SqliteArguments<'q>>;

/// Binds a [`Value`] to any sqlx query type (they share `bind` but no trait).
macro_rules! bind_value {
    ($query:expr, $value:expr) => {
        match $value {
            Value::Text(s) => $query.bind(s.as_ref()),
            Value::Int(i) => $query.bind(*i),
            Value::OptText(s) => $query.bind(s.as_deref()),
            Value::OptInt(i) => $query.bind(*i),
            Value::OptBlob(b) => $query.bind(b.as_deref()),
        }
    };
}

fn bind<'q>(query: SqliteQuery<'q>, value: &'q Value<'_>) -> SqliteQuery<'q> {
    bind_value!(query, value)
}

type SqliteScalar<'q> = sqlx::query::QueryScalar<'q, Sqlite, i64, SqliteArguments<'q>>;

fn bind_scalar<'q>(query: SqliteScalar<'q>, value: &'q Value<'_>) -> SqliteScalar<'q> {
    bind_value!(query, value)
}

/// A record reduced to its columns: the natural key (after `tenant_id`) and the rest (before `stored_at`).
struct Encoded<'a> {
    key: Vec<Value<'a>>,
    data: Vec<Value<'a>>,
}

/// What the store needs to know about a record kind.
trait Record: Sized + Send + Sync + 'static {
    const TABLE: &'static str;
    const KIND: RecordKind;
    /// Natural key columns after `tenant_id`, in key order.
    const KEY: &'static [&'static str];
    /// Every other column but `stored_at`.
    const DATA: &'static [&'static str];
    /// The column [`DatasetQuery::from`] and [`DatasetQuery::to`] filter on, and whether it is a day.
    const DAY: (&'static str, bool);
    fn tenant(&self) -> &TenantId;
    fn encode(&self) -> Result<Encoded<'_>, StoreError>;
    fn decode(tenant: &TenantId, row: &PageRow<'_>) -> Result<Self, StoreError>;
}

fn text(s: &str) -> Value<'_> {
    Value::Text(Cow::Borrowed(s))
}

fn owned(s: String) -> Value<'static> {
    Value::Text(Cow::Owned(s))
}

fn level_name(level: ReportLevel) -> &'static str {
    level.name()
}

fn get_text(row: &SqliteRow, name: &str) -> Result<String, StoreError> {
    row.try_get(name).map_err(db)
}

fn get_int(row: &SqliteRow, name: &str) -> Result<i64, StoreError> {
    row.try_get(name).map_err(db)
}

fn currency(raw: &str) -> Result<Currency, StoreError> {
    Currency::new(raw).map_err(|e| corrupt("currency", e))
}

impl Record for ReportRow {
    const TABLE: &'static str = "report_rows";
    const KIND: RecordKind = RecordKind::ReportRow;
    const KEY: &'static [&'static str] = &["account_key", "level", "object_id", "day"];
    const DATA: &'static [&'static str] = &[
        "grant_id",
        "currency",
        "spend_micros",
        "impressions",
        "clicks",
        "conversions",
        "conversion_value_micros",
    ];
    const DAY: (&'static str, bool) = ("day", true);

    fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    fn encode(&self) -> Result<Encoded<'_>, StoreError> {
        let account = self.account.key();
        let level = level_name(self.level);
        let day = day(self.date)?;
        Ok(Encoded {
            key: vec![owned(account), text(level), text(self.object.as_str()), owned(day)],
            data: vec![
                text(self.grant.as_str()),
                text(self.currency.as_str()),
                Value::Int(self.metrics.spend_micros),
                Value::Int(int("impressions", self.metrics.impressions)?),
                Value::Int(int("clicks", self.metrics.clicks)?),
                Value::Int(int("conversions", self.metrics.conversions)?),
                Value::Int(self.metrics.conversion_value_micros),
            ],
        })
    }

    fn decode(tenant: &TenantId, row: &PageRow<'_>) -> Result<Self, StoreError> {
        Ok(ReportRow {
            tenant: tenant.clone(),
            grant: parse_id("grant id", row.text("grant_id")?)?,
            account: account(row.text("account_key")?)?,
            level: named(row.text("level")?)?,
            object: parse_id("object id", row.text("object_id")?)?,
            date: parse_day(row.text("day")?)?,
            currency: currency(row.text("currency")?)?,
            metrics: Metrics {
                spend_micros: row.int("spend_micros")?,
                impressions: uint("impressions", row.int("impressions")?)?,
                clicks: uint("clicks", row.int("clicks")?)?,
                conversions: uint("conversions", row.int("conversions")?)?,
                conversion_value_micros: row.int("conversion_value_micros")?,
            },
        })
    }
}

impl Record for Campaign {
    const TABLE: &'static str = "campaigns";
    const KIND: RecordKind = RecordKind::Campaign;
    const KEY: &'static [&'static str] = &["account_key", "campaign_id"];
    const DATA: &'static [&'static str] = &[
        "grant_id",
        "name",
        "status",
        "objective",
        "daily_budget_micros",
        "lifetime_budget_micros",
        "updated_at",
    ];
    const DAY: (&'static str, bool) = ("updated_at", false);

    fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    fn encode(&self) -> Result<Encoded<'_>, StoreError> {
        let account = self.account.key();
        Ok(Encoded {
            key: vec![owned(account), text(self.id.as_str())],
            data: vec![
                text(self.grant.as_str()),
                text(self.name.as_str()),
                text(self.status.name()),
                Value::OptText(self.objective.as_ref().map(|o| Cow::Borrowed(o.as_str()))),
                Value::OptInt(self.daily_budget_micros),
                Value::OptInt(self.lifetime_budget_micros),
                Value::Int(nanos(self.updated_at)?),
            ],
        })
    }

    fn decode(tenant: &TenantId, row: &PageRow<'_>) -> Result<Self, StoreError> {
        Ok(Campaign {
            tenant: tenant.clone(),
            grant: parse_id("grant id", row.text("grant_id")?)?,
            account: account(row.text("account_key")?)?,
            id: parse_id("campaign id", row.text("campaign_id")?)?,
            name: Text::new(row.text("name")?.to_owned()).map_err(|e| corrupt("campaign name", e))?,
            status: named::<CampaignStatus>(row.text("status")?)?,
            objective: row
                .opt_text("objective")?
                .map(|o| Text::new(o.to_owned()).map_err(|e| corrupt("campaign objective", e)))
                .transpose()?,
            daily_budget_micros: row.opt_int("daily_budget_micros")?,
            lifetime_budget_micros: row.opt_int("lifetime_budget_micros")?,
            updated_at: at(row.int("updated_at")?)?,
        })
    }
}

impl Record for StockLevel {
    const TABLE: &'static str = "stock_levels";
    const KIND: RecordKind = RecordKind::StockLevel;
    const KEY: &'static [&'static str] = &["account_key", "sku", "location"];
    const DATA: &'static [&'static str] = &["grant_id", "quantity", "observed_at"];
    const DAY: (&'static str, bool) = ("observed_at", false);

    fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    fn encode(&self) -> Result<Encoded<'_>, StoreError> {
        let account = self.account.key();
        let location = self.location.as_ref().map_or("", |l| l.as_str());
        Ok(Encoded {
            key: vec![owned(account), text(self.sku.as_str()), text(location)],
            data: vec![
                text(self.grant.as_str()),
                Value::Int(self.quantity),
                Value::Int(nanos(self.observed_at)?),
            ],
        })
    }

    fn decode(tenant: &TenantId, row: &PageRow<'_>) -> Result<Self, StoreError> {
        let location = row.text("location")?;
        Ok(StockLevel {
            tenant: tenant.clone(),
            grant: parse_id("grant id", row.text("grant_id")?)?,
            account: account(row.text("account_key")?)?,
            sku: parse_id("sku", row.text("sku")?)?,
            location: if location.is_empty() { None } else { Some(parse_id("location id", location)?) },
            quantity: row.int("quantity")?,
            observed_at: at(row.int("observed_at")?)?,
        })
    }
}

/// Order columns other than the key and `stored_at`.
const ORDER_DATA: &[&str] = &[
    "grant_id",
    "status",
    "created_at",
    "updated_at",
    "currency",
    "total_micros",
    "buyer",
    "buyer_key_version",
    "lines",
];

/// An order line as its order's `lines` column holds it (migration 0005; the column is one JSON array of
/// these, in the order's line order): `[line_id, sku, quantity, unit_price_micros]`. Its texts borrow from
/// the column unless they hold JSON escapes (ids and SKUs seldom do), so a page of orders does not copy
/// every line's id and SKU twice on the way to its records.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct StoredLine<'a>(#[serde(borrow)] Cow<'a, str>, #[serde(borrow)] Cow<'a, str>, i64, i64);

/// An order's `lines` column: `[line_id, sku, quantity, unit_price_micros]` for each line, in order.
fn encode_lines(lines: &[OrderLine]) -> Result<String, StoreError> {
    let lines: Vec<(&str, &str, u32, i64)> =
        lines.iter().map(|l| (l.id.as_str(), l.sku.as_str(), l.quantity, l.unit_price_micros)).collect();
    serde_json::to_string(&lines).map_err(|e| invalid(format!("order lines cannot be stored: {e}")))
}

/// A stored `lines` column, parsed.
fn stored_lines(text: &str) -> Result<Vec<StoredLine<'_>>, StoreError> {
    serde_json::from_str(text).map_err(|e| corrupt("order lines", e))
}

/// An order reduced to comparable column values ([`ORDER_DATA`]): its key (account key, order id, both
/// joined as the natural key) and its columns.
fn encode_order(order: &Order) -> Result<(String, String, String, Vec<Value<'_>>), StoreError> {
    let account = order.account.key();
    let natural = format!("{account} {}", order.id);
    let mut seen = HashSet::new();
    for line in &order.lines {
        if !seen.insert(line.id.as_str()) {
            return Err(invalid(format!("order `{}` has line `{}` twice", order.id, line.id)));
        }
    }
    let columns = vec![
        text(order.grant.as_str()),
        text(order.status.name()),
        Value::Int(nanos(order.created_at)?),
        Value::Int(nanos(order.updated_at)?),
        text(order.currency.as_str()),
        Value::Int(order.total_micros),
        Value::OptBlob(order.buyer.as_ref().map(Sealed::to_bytes)),
        Value::OptInt(order.buyer.as_ref().map(|b| i64::from(b.key_version().0))),
        owned(encode_lines(&order.lines)?),
    ];
    Ok((account, order.id.as_str().to_owned(), natural, columns))
}

/// A stored order's [`ORDER_DATA`] columns as [`encode_order`] gives them. Its lines are parsed and
/// written again, so lines stored as other JSON text of the same values (by migration 0005) compare
/// equal.
fn order_columns(row: &SqliteRow) -> Result<Vec<Value<'static>>, StoreError> {
    let text = get_text(row, "lines")?;
    let lines = serde_json::to_string(&stored_lines(&text)?).map_err(|e| corrupt("order lines", e))?;
    Ok(vec![
        owned(get_text(row, "grant_id")?),
        owned(get_text(row, "status")?),
        Value::Int(get_int(row, "created_at")?),
        Value::Int(get_int(row, "updated_at")?),
        owned(get_text(row, "currency")?),
        Value::Int(get_int(row, "total_micros")?),
        Value::OptBlob(row.try_get("buyer").map_err(db)?),
        Value::OptInt(row.try_get("buyer_key_version").map_err(db)?),
        owned(lines),
    ])
}

/// An order page's columns: the key, then [`ORDER_DATA`].
fn order_page_columns() -> Vec<&'static str> {
    ["account_key", "order_id"].into_iter().chain(ORDER_DATA.iter().copied()).collect()
}

/// How to read a page of orders that `filter` selects, lines included (they are a column).
fn order_page(filter: &str) -> PageQuery {
    const ORDER: &str = "account_key, order_id";
    let names = order_page_columns();
    let window =
        format!("SELECT {} FROM orders WHERE {filter} ORDER BY {ORDER} LIMIT ? OFFSET ?", names.join(", "));
    PageQuery::new(window, &names, &["buyer"], ORDER)
}

fn decode_order(tenant: &TenantId, row: &PageRow<'_>) -> Result<Order, StoreError> {
    let lines = stored_lines(row.text("lines")?)?
        .into_iter()
        .map(|StoredLine(id, sku, quantity, unit_price_micros)| {
            Ok(OrderLine {
                id: parse_id("order line id", &id)?,
                sku: parse_id("sku", &sku)?,
                quantity: uint("line quantity", quantity)?,
                unit_price_micros,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Order {
        tenant: tenant.clone(),
        grant: parse_id("grant id", row.text("grant_id")?)?,
        account: account(row.text("account_key")?)?,
        id: parse_id("order id", row.text("order_id")?)?,
        status: named::<OrderStatus>(row.text("status")?)?,
        created_at: at(row.int("created_at")?)?,
        updated_at: at(row.int("updated_at")?)?,
        currency: currency(row.text("currency")?)?,
        total_micros: row.int("total_micros")?,
        lines,
        buyer: row
            .opt_blob("buyer")?
            .map(|b| Sealed::from_bytes(b).map_err(|e| corrupt("buyer pii", e)))
            .transpose()?,
    })
}

/// A checkpoint's columns.
struct CheckpointColumns {
    grant: String,
    task: &'static str,
    account: String,
    cursor: Option<String>,
    watermark: Option<i64>,
    updated_at: i64,
}

fn encode_checkpoint(cp: &SyncCheckpoint) -> Result<CheckpointColumns, StoreError> {
    if let Some(cursor) = &cp.cursor {
        check_text("cursor", &cursor.0, MAX_TEXT_BYTES)?;
    }
    Ok(CheckpointColumns {
        grant: cp.grant.as_str().to_owned(),
        task: cp.task.name(),
        account: cp.account.key(),
        cursor: cp.cursor.as_ref().map(|c| c.0.clone()),
        watermark: opt_nanos(cp.watermark)?,
        updated_at: nanos(cp.updated_at)?,
    })
}

/// Checks what every batch must satisfy: size, one tenant, the checkpoint's tenant.
fn check_batch<'a>(
    tenant: &TenantId,
    tenants: impl Iterator<Item = &'a TenantId>,
    len: usize,
    checkpoint: Option<&SyncCheckpoint>,
) -> Result<(), StoreError> {
    if len > MAX_BATCH {
        return Err(invalid(format!("a batch holds at most {MAX_BATCH} records")));
    }
    for other in tenants {
        if other != tenant {
            return Err(invalid(format!("a record of tenant `{other}` is in a batch of tenant `{tenant}`")));
        }
    }
    if let Some(cp) = checkpoint.filter(|cp| &cp.tenant != tenant) {
        return Err(invalid(format!(
            "the checkpoint of tenant `{}` is in a batch of tenant `{tenant}`",
            cp.tenant
        )));
    }
    Ok(())
}

async fn save_checkpoint(
    conn: &mut SqliteConnection,
    tenant: &TenantId,
    cp: &CheckpointColumns,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sync_checkpoints (tenant_id, grant_id, task, account_key, cursor, watermark, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, grant_id, task, account_key) DO UPDATE SET \
         cursor = excluded.cursor, watermark = excluded.watermark, updated_at = excluded.updated_at",
    )
    .bind(tenant.as_str())
    .bind(&cp.grant)
    .bind(cp.task)
    .bind(&cp.account)
    .bind(&cp.cursor)
    .bind(cp.watermark)
    .bind(cp.updated_at)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(())
}

/// `(?, ?, …)` with `n` placeholders.
fn group(n: usize) -> String {
    let mut s = String::with_capacity(n * 3 + 2);
    s.push('(');
    for i in 0..n {
        if i > 0 {
            s.push_str(", ");
        }
        s.push('?');
    }
    s.push(')');
    s
}

/// `group` repeated `rows` times, comma separated.
fn groups(n: usize, rows: usize) -> String {
    let one = group(n);
    let mut s = String::with_capacity((one.len() + 2) * rows);
    for i in 0..rows {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&one);
    }
    s
}

/// How many of `keys` exist in the tenant's table. Driven by the `VALUES` list (`CROSS JOIN` keeps that
/// order): one primary-key lookup per key, never a scan of the tenant's rows.
async fn count_existing<T: Record>(
    conn: &mut SqliteConnection,
    tenant: &TenantId,
    keys: &[&Encoded<'_>],
) -> Result<u64, StoreError> {
    let per_row = T::KEY.len();
    let on: Vec<String> =
        T::KEY.iter().enumerate().map(|(i, c)| format!("r.{c} = v.column{}", i + 1)).collect();
    let mut existing = 0u64;
    for chunk in keys.chunks(MAX_PARAMS / per_row) {
        let sql = format!(
            "SELECT count(*) FROM (VALUES {}) AS v CROSS JOIN {} AS r ON r.tenant_id = ? AND {}",
            groups(per_row, chunk.len()),
            T::TABLE,
            on.join(" AND ")
        );
        let mut query = sqlx::query_scalar::<_, i64>(&sql);
        for record in chunk {
            for value in &record.key {
                query = bind_scalar(query, value);
            }
        }
        let n = query.bind(tenant.as_str()).fetch_one(&mut *conn).await.map_err(db)?;
        existing += uint::<u64>("count", n)?;
    }
    Ok(existing)
}

/// Upserts `records` and returns how many rows were inserted or changed (SQLite counts an upsert's row
/// once, whether inserted or updated; rows whose `WHERE` is false are not counted).
async fn upsert_rows<T: Record>(
    conn: &mut SqliteConnection,
    tenant: &TenantId,
    records: &[Encoded<'_>],
    now: i64,
) -> Result<u64, StoreError> {
    // The tenant and the batch time are bound once per statement (the first two `?`); each row binds its own
    // columns in `VALUES`.
    let per_row = T::KEY.len() + T::DATA.len();
    let columns = format!("tenant_id, {}, {}, stored_at", T::KEY.join(", "), T::DATA.join(", "));
    let select: Vec<String> = (1..=per_row).map(|i| format!("v.column{i}")).collect();
    let set: Vec<String> =
        T::DATA.iter().chain(["stored_at"].iter()).map(|c| format!("{c} = excluded.{c}")).collect();
    let differs: Vec<String> =
        T::DATA.iter().map(|c| format!("{0}.{c} IS NOT excluded.{c}", T::TABLE)).collect();
    let mut changed = 0u64;
    for chunk in records.chunks(MAX_PARAMS / per_row) {
        let sql = format!(
            "INSERT INTO {table} ({columns}) SELECT ?, {select}, ? FROM (VALUES {values}) AS v WHERE true \
             ON CONFLICT (tenant_id, {key}) DO UPDATE SET {set} WHERE {differs}",
            table = T::TABLE,
            select = select.join(", "),
            values = groups(per_row, chunk.len()),
            key = T::KEY.join(", "),
            set = set.join(", "),
            differs = differs.join(" OR "),
        );
        let mut query = sqlx::query(&sql).bind(tenant.as_str()).bind(now);
        for record in chunk {
            for value in record.key.iter().chain(&record.data) {
                query = bind(query, value);
            }
        }
        changed += query.execute(&mut *conn).await.map_err(db)?.rows_affected();
    }
    Ok(changed)
}

/// Inserts `records` (distinct keys, none known to exist) as new rows with plain multi-row `INSERT`s, under a
/// savepoint: a plain insert skips the upsert's conflict handling. Returns `false`, with nothing written,
/// when one of the keys exists after all (its unique key refuses the row).
async fn insert_new<T: Record>(
    conn: &mut SqliteConnection,
    tenant: &TenantId,
    records: &[&Encoded<'_>],
    now: i64,
) -> Result<bool, StoreError> {
    let per_row = T::KEY.len() + T::DATA.len();
    let columns = format!("tenant_id, {}, {}, stored_at", T::KEY.join(", "), T::DATA.join(", "));
    let select: Vec<String> = (1..=per_row).map(|i| format!("v.column{i}")).collect();
    sqlx::query("SAVEPOINT custodian_insert_new").execute(&mut *conn).await.map_err(db)?;
    for chunk in records.chunks(MAX_PARAMS / per_row) {
        let sql = format!(
            "INSERT INTO {table} ({columns}) SELECT ?, {select}, ? FROM (VALUES {values}) AS v",
            table = T::TABLE,
            select = select.join(", "),
            values = groups(per_row, chunk.len()),
        );
        let mut query = sqlx::query(&sql).bind(tenant.as_str()).bind(now);
        for record in chunk {
            for value in record.key.iter().chain(&record.data) {
                query = bind(query, value);
            }
        }
        match query.execute(&mut *conn).await {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.kind() == sqlx::error::ErrorKind::UniqueViolation => {
                sqlx::query("ROLLBACK TO custodian_insert_new").execute(&mut *conn).await.map_err(db)?;
                sqlx::query("RELEASE custodian_insert_new").execute(&mut *conn).await.map_err(db)?;
                return Ok(false);
            }
            Err(e) => return Err(db(e)),
        }
    }
    sqlx::query("RELEASE custodian_insert_new").execute(&mut *conn).await.map_err(db)?;
    Ok(true)
}

/// The stored orders among `keys`, by natural key: their [`ORDER_DATA`] columns.
async fn stored_orders(
    conn: &mut SqliteConnection,
    tenant: &TenantId,
    keys: &[(&str, &str)],
) -> Result<HashMap<String, Vec<Value<'static>>>, StoreError> {
    let mut stored = HashMap::new();
    for chunk in keys.chunks(MAX_PARAMS / 2) {
        let values = groups(2, chunk.len());
        let sql = format!(
            "SELECT o.account_key, o.order_id, {} FROM (VALUES {values}) AS v CROSS JOIN orders AS o \
             ON o.tenant_id = ? AND o.account_key = v.column1 AND o.order_id = v.column2",
            ORDER_DATA.iter().map(|c| format!("o.{c}")).collect::<Vec<_>>().join(", ")
        );
        let mut query = sqlx::query(&sql);
        for (account, id) in chunk {
            query = query.bind(*account).bind(*id);
        }
        let query = query.bind(tenant.as_str());
        for row in query.fetch_all(&mut *conn).await.map_err(db)? {
            let natural = format!("{} {}", get_text(&row, "account_key")?, get_text(&row, "order_id")?);
            stored.insert(natural, order_columns(&row)?);
        }
    }
    Ok(stored)
}

/// The `WHERE` of a dataset read (fixed fragments only) and its values.
fn query_filter<'a>(
    query: &'a DatasetQuery,
    day: (&str, bool),
    kind: RecordKind,
    key: &[&str],
) -> Result<(String, Vec<Value<'a>>), StoreError> {
    let mut sql = String::from("tenant_id = ?");
    let mut values = vec![text(query.tenant.as_str())];
    if let Some(after) = &query.after {
        // Keyset paging: the row value of the key columns after the last key read, which the primary key
        // index seeks to (`SEARCH … USING INDEX … (tenant_id=? AND (…)>(…))`).
        let parts = parse_key(kind, after)
            .ok_or_else(|| invalid(format!("`after` is not a {} key", kind.as_str())))?;
        let marks = vec!["?"; parts.len()].join(", ");
        sql.push_str(&format!(" AND ({}) > ({marks})", key.join(", ")));
        values.extend(parts.into_iter().map(|part| Value::Text(Cow::Owned(part))));
    }
    if let Some(account) = &query.account {
        sql.push_str(" AND account_key = ?");
        values.push(owned(account.key()));
    }
    if let Some(grant) = &query.grant {
        sql.push_str(" AND grant_id = ?");
        values.push(text(grant.as_str()));
    }
    let (column, is_day) = day;
    if let Some(from) = query.from {
        sql.push_str(&format!(" AND {column} >= ?"));
        values.push(if is_day { owned(day_bound(from)) } else { Value::Int(midnight(Some(from))) });
    }
    if let Some(to) = query.to {
        if is_day {
            sql.push_str(&format!(" AND {column} <= ?"));
            values.push(owned(day_bound(to)));
        } else {
            sql.push_str(&format!(" AND {column} < ?"));
            values.push(Value::Int(midnight(to.next_day())));
        }
    }
    Ok((sql, values))
}

/// A day filter bound as stored text (years outside 0 to 9999 clamp: no stored day is outside them).
fn day_bound(date: Date) -> String {
    day(date).unwrap_or_else(|_| if date.year() < 0 { "0000".to_owned() } else { "9999-99".to_owned() })
}

/// The first nanosecond of `date` in UTC (`None`: after every storable instant), clamped to the storable
/// range.
fn midnight(date: Option<Date>) -> i64 {
    match date {
        None => i64::MAX,
        Some(date) => {
            let n = date.midnight().assume_utc().unix_timestamp_nanos();
            i64::try_from(n).unwrap_or(if n < 0 { i64::MIN } else { i64::MAX })
        }
    }
}

/// A dataset read ordered by natural key.
async fn read<T: Record>(store: &SqliteStore, query: &DatasetQuery) -> Result<Vec<T>, StoreError> {
    let (filter, values) = query_filter(query, T::DAY, T::KIND, T::KEY)?;
    let names: Vec<&str> = T::KEY.iter().chain(T::DATA).copied().collect();
    let columns = names.join(", ");
    let order = T::KEY.join(", ");
    let window = format!(
        "SELECT {columns} FROM {table} WHERE {filter} ORDER BY {order} LIMIT ? OFFSET ?",
        table = T::TABLE
    );
    let page = PageQuery::new(window, &names, &[], &order);
    let rows = store.read_page(&page, page_args(&values, query), query.limit).await?;
    page::rows(&names, &rows)?.iter().map(|row| T::decode(&query.tenant, row)).collect()
}

/// The arguments of a page read: the filter's values, then `LIMIT` and `OFFSET`.
fn page_args(values: &[Value<'_>], query: &DatasetQuery) -> Vec<Arg> {
    let mut args: Vec<Arg> = values
        .iter()
        .map(|value| match value {
            Value::Text(s) | Value::OptText(Some(s)) => Arg::Text(s.as_ref().to_owned()),
            Value::Int(n) | Value::OptInt(Some(n)) => Arg::Int(*n),
            Value::OptBlob(Some(b)) => Arg::Blob(b.clone()),
            Value::OptText(None) | Value::OptInt(None) | Value::OptBlob(None) => Arg::Null,
        })
        .collect();
    args.push(Arg::Int(i64::from(query.limit)));
    args.push(Arg::Int(i64::try_from(query.offset).unwrap_or(i64::MAX)));
    args
}

/// Parses a retention key of `kind` into its key column values; `None` if it is not one
/// ([`RecordKind::key_parts`]).
fn parse_key(kind: RecordKind, key: &str) -> Option<Vec<String>> {
    kind.key_parts(key).map(|parts| parts.into_iter().map(str::to_owned).collect())
}

fn key_columns(kind: RecordKind) -> (&'static str, &'static [&'static str]) {
    match kind {
        RecordKind::ReportRow => (ReportRow::TABLE, ReportRow::KEY),
        RecordKind::Campaign => (Campaign::TABLE, Campaign::KEY),
        RecordKind::Order => ("orders", &["account_key", "order_id"]),
        RecordKind::StockLevel => (StockLevel::TABLE, StockLevel::KEY),
    }
}

fn check_keys(keys: &[String]) -> Result<(), StoreError> {
    if keys.len() > MAX_BATCH {
        return Err(invalid(format!("at most {MAX_BATCH} keys at once")));
    }
    for key in keys {
        check_text("record key", key, 1024)?;
    }
    Ok(())
}

impl SqliteStore {
    async fn upsert<T: Record>(&self, batch: IngestBatch<T>) -> Result<UpsertCounts, StoreError> {
        let IngestBatch { tenant, records, checkpoint, audit } = batch;
        check_batch(&tenant, records.iter().map(T::tenant), records.len(), checkpoint.as_ref())?;
        let mut encoded = records.iter().map(T::encode).collect::<Result<Vec<_>, _>>()?;
        let checkpoint = checkpoint.as_ref().map(encode_checkpoint).transpose()?;
        // In key order, so that the writes walk each B-tree forward; the sort is stable, so a key's later
        // duplicates stay later and win, as in the page.
        encoded.sort_by(|a, b| a.key.cmp(&b.key));
        let mut distinct: Vec<&Encoded<'_>> = Vec::with_capacity(encoded.len());
        for e in &encoded {
            if distinct.last().is_none_or(|last| last.key != e.key) {
                distinct.push(e);
            }
        }

        let mut tx = self.begin().await?;
        let now = nanos(self.now())?;
        // A page of new rows (no duplicates, none of a sample of its keys stored) is inserted as such; the
        // upsert runs otherwise, or when a key turns out to exist after all.
        let sample: Vec<&Encoded<'_>> = distinct
            .iter()
            .enumerate()
            .filter(|(i, _)| i % SAMPLE_EVERY == 0 || i + 1 == distinct.len())
            .map(|(_, e)| *e)
            .collect();
        let new_only = distinct.len() == encoded.len()
            && count_existing::<T>(&mut tx, &tenant, &sample).await? == 0
            && insert_new::<T>(&mut tx, &tenant, &distinct, now).await?;
        let (existing, changed) = if new_only {
            (0, distinct.len() as u64)
        } else {
            let existing = count_existing::<T>(&mut tx, &tenant, &distinct).await?;
            (existing, upsert_rows::<T>(&mut tx, &tenant, &encoded, now).await?)
        };
        if let Some(cp) = &checkpoint {
            save_checkpoint(&mut tx, &tenant, cp).await?;
        }
        self.append_in(&mut tx, &tenant, audit).await?;
        // Every distinct key that did not exist was inserted once; every other change was an update.
        let inserted = (distinct.len() as u64).saturating_sub(existing);
        let updated =
            changed.checked_sub(inserted).ok_or_else(|| corrupt("upsert", "fewer changes than inserts"))?;
        let counts =
            UpsertCounts { inserted, updated, unchanged: (encoded.len() as u64).saturating_sub(changed) };
        tx.commit().await.map_err(db)?;
        Ok(counts)
    }

    async fn upsert_order_batch(&self, batch: IngestBatch<Order>) -> Result<UpsertCounts, StoreError> {
        let IngestBatch { tenant, records, checkpoint, audit } = batch;
        check_batch(&tenant, records.iter().map(|o| &o.tenant), records.len(), checkpoint.as_ref())?;
        let encoded = records.iter().map(encode_order).collect::<Result<Vec<_>, _>>()?;
        let checkpoint = checkpoint.as_ref().map(encode_checkpoint).transpose()?;
        let keys: Vec<(&str, &str)> = encoded.iter().map(|(a, o, _, _)| (a.as_str(), o.as_str())).collect();

        let mut tx = self.begin().await?;
        let now = nanos(self.now())?;
        let mut stored = stored_orders(&mut tx, &tenant, &keys).await?;
        let mut counts = UpsertCounts::default();
        let columns = format!("tenant_id, account_key, order_id, {}, stored_at", ORDER_DATA.join(", "));
        let set: Vec<String> = ORDER_DATA.iter().map(|c| format!("{c} = ?")).collect();
        for (account, order, natural, columns_new) in &encoded {
            match stored.get(natural) {
                Some(current) if current == columns_new => counts.unchanged += 1,
                Some(_) => {
                    let sql = format!(
                        "UPDATE orders SET {}, stored_at = ? WHERE tenant_id = ? AND account_key = ? AND order_id = ?",
                        set.join(", ")
                    );
                    let mut q = sqlx::query(&sql);
                    for value in columns_new {
                        q = bind(q, value);
                    }
                    q.bind(now)
                        .bind(tenant.as_str())
                        .bind(account.as_str())
                        .bind(order.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    counts.updated += 1;
                }
                None => {
                    let sql =
                        format!("INSERT INTO orders ({columns}) VALUES {}", group(3 + ORDER_DATA.len() + 1));
                    let mut q =
                        sqlx::query(&sql).bind(tenant.as_str()).bind(account.as_str()).bind(order.as_str());
                    for value in columns_new {
                        q = bind(q, value);
                    }
                    q.bind(now).execute(&mut *tx).await.map_err(db)?;
                    counts.inserted += 1;
                }
            }
            stored.insert(natural.clone(), columns_new.clone());
        }
        if let Some(cp) = &checkpoint {
            save_checkpoint(&mut tx, &tenant, cp).await?;
        }
        self.append_in(&mut tx, &tenant, audit).await?;
        tx.commit().await.map_err(db)?;
        Ok(counts)
    }
}

#[async_trait]
impl DatasetStore for SqliteStore {
    async fn upsert_report_rows(&self, batch: IngestBatch<ReportRow>) -> Result<UpsertCounts, StoreError> {
        self.upsert(batch).await
    }

    async fn upsert_campaigns(&self, batch: IngestBatch<Campaign>) -> Result<UpsertCounts, StoreError> {
        self.upsert(batch).await
    }

    async fn upsert_orders(&self, batch: IngestBatch<Order>) -> Result<UpsertCounts, StoreError> {
        self.upsert_order_batch(batch).await
    }

    async fn upsert_stock(&self, batch: IngestBatch<StockLevel>) -> Result<UpsertCounts, StoreError> {
        self.upsert(batch).await
    }

    async fn checkpoint(
        &self,
        tenant: &TenantId,
        grant: &GrantId,
        task: Task,
        account: &AccountRef,
    ) -> Result<Option<SyncCheckpoint>, StoreError> {
        let row = sqlx::query(
            "SELECT cursor, watermark, updated_at FROM sync_checkpoints \
             WHERE tenant_id = ? AND grant_id = ? AND task = ? AND account_key = ?",
        )
        .bind(tenant.as_str())
        .bind(grant.as_str())
        .bind(task.name())
        .bind(account.key())
        .fetch_optional(self.reader())
        .await
        .map_err(db)?;
        let Some(row) = row else { return Ok(None) };
        let cursor: Option<String> = row.try_get("cursor").map_err(db)?;
        Ok(Some(SyncCheckpoint {
            tenant: tenant.clone(),
            grant: grant.clone(),
            task,
            account: account.clone(),
            cursor: cursor.map(Cursor),
            watermark: opt_at(row.try_get("watermark").map_err(db)?)?,
            updated_at: at(get_int(&row, "updated_at")?)?,
        }))
    }

    async fn report_rows(&self, query: &DatasetQuery) -> Result<Vec<ReportRow>, StoreError> {
        read(self, query).await
    }

    async fn campaigns(&self, query: &DatasetQuery) -> Result<Vec<Campaign>, StoreError> {
        read(self, query).await
    }

    async fn orders(&self, query: &DatasetQuery) -> Result<Vec<Order>, StoreError> {
        let (filter, values) =
            query_filter(query, ("created_at", false), RecordKind::Order, &["account_key", "order_id"])?;
        let page = order_page(&filter);
        let rows = self.read_page(&page, page_args(&values, query), query.limit).await?;
        let names = order_page_columns();
        page::rows(&names, &rows)?.iter().map(|row| decode_order(&query.tenant, row)).collect()
    }

    async fn stock(&self, query: &DatasetQuery) -> Result<Vec<StockLevel>, StoreError> {
        read(self, query).await
    }

    async fn expired(
        &self,
        tenant: &TenantId,
        kind: RecordKind,
        class: DataClass,
        stored_before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<RecordMeta>, StoreError> {
        let pii = kind == RecordKind::Order && class == DataClass::BuyerPii;
        if class != kind.class() && !pii {
            return Ok(Vec::new());
        }
        let before = i64::try_from(stored_before.unix_timestamp_nanos())
            .unwrap_or(if stored_before.year() < 1970 { i64::MIN } else { i64::MAX });
        let (table, key) = key_columns(kind);
        let key = key.join(", ");
        let sql = format!(
            "SELECT {key}, grant_id, stored_at FROM {table} WHERE tenant_id = ? AND stored_at < ? {pii} \
             ORDER BY stored_at, {key} LIMIT ?",
            pii = if pii { "AND buyer IS NOT NULL" } else { "" },
        );
        let rows = sqlx::query(&sql)
            .bind(tenant.as_str())
            .bind(before)
            .bind(i64::from(limit))
            .fetch_all(self.reader())
            .await
            .map_err(db)?;
        let (_, columns) = key_columns(kind);
        rows.iter()
            .map(|row| {
                let parts =
                    columns.iter().map(|c| get_text(row, c)).collect::<Result<Vec<_>, StoreError>>()?;
                Ok(RecordMeta {
                    tenant: tenant.clone(),
                    grant: Some(parse_id("grant id", &get_text(row, "grant_id")?)?),
                    class,
                    key: parts.join(" "),
                    stored_at: at(get_int(row, "stored_at")?)?,
                })
            })
            .collect()
    }

    async fn delete_records(
        &self,
        tenant: &TenantId,
        kind: RecordKind,
        keys: &[String],
        audit: Vec<NewAuditEvent>,
    ) -> Result<u64, StoreError> {
        check_keys(keys)?;
        let (table, columns) = key_columns(kind);
        let condition: Vec<String> = columns.iter().map(|c| format!("{c} = ?")).collect();
        let sql = format!("DELETE FROM {table} WHERE tenant_id = ? AND {}", condition.join(" AND "));
        let mut tx = self.begin().await?;
        let mut deleted = 0;
        for key in keys {
            let Some(parts) = parse_key(kind, key) else { continue };
            let mut q = sqlx::query(&sql).bind(tenant.as_str());
            for part in &parts {
                q = q.bind(part.as_str());
            }
            deleted += q.execute(&mut *tx).await.map_err(db)?.rows_affected();
        }
        self.append_in(&mut tx, tenant, audit).await?;
        tx.commit().await.map_err(db)?;
        Ok(deleted)
    }

    async fn anonymize_orders(
        &self,
        tenant: &TenantId,
        keys: &[String],
        audit: Vec<NewAuditEvent>,
    ) -> Result<u64, StoreError> {
        check_keys(keys)?;
        let mut tx = self.begin().await?;
        let now = nanos(self.now())?;
        let mut anonymized = 0;
        for key in keys {
            let Some(parts) = parse_key(RecordKind::Order, key) else { continue };
            let (Some(account), Some(order)) = (parts.first(), parts.get(1)) else { continue };
            anonymized += sqlx::query(
                "UPDATE orders SET buyer = NULL, buyer_key_version = NULL, stored_at = ? \
                 WHERE tenant_id = ? AND account_key = ? AND order_id = ? AND buyer IS NOT NULL",
            )
            .bind(now)
            .bind(tenant.as_str())
            .bind(account.as_str())
            .bind(order.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected();
        }
        self.append_in(&mut tx, tenant, audit).await?;
        tx.commit().await.map_err(db)?;
        Ok(anonymized)
    }

    async fn purge(
        &self,
        tenant: &TenantId,
        grant: Option<GrantId>,
        kind: RecordKind,
        batch: u32,
        audit: Vec<NewAuditEvent>,
    ) -> Result<u64, StoreError> {
        if batch == 0 {
            return Err(invalid("purge batch size must be at least 1"));
        }
        let (table, columns) = key_columns(kind);
        let key = columns.join(", ");
        let sql = format!(
            "DELETE FROM {table} WHERE tenant_id = ? AND ({key}) IN \
             (SELECT {key} FROM {table} WHERE tenant_id = ? {grant} LIMIT ?)",
            grant = if grant.is_some() { "AND grant_id = ?" } else { "" },
        );
        let mut tx = self.begin().await?;
        let mut q = sqlx::query(&sql).bind(tenant.as_str()).bind(tenant.as_str());
        if let Some(grant) = &grant {
            q = q.bind(grant.as_str());
        }
        let deleted = q.bind(i64::from(batch)).execute(&mut *tx).await.map_err(db)?.rows_affected();
        self.append_in(&mut tx, tenant, audit).await?;
        tx.commit().await.map_err(db)?;
        Ok(deleted)
    }

    async fn count(
        &self,
        tenant: &TenantId,
        grant: Option<GrantId>,
        kind: RecordKind,
    ) -> Result<u64, StoreError> {
        let (table, _) = key_columns(kind);
        let sql = format!(
            "SELECT count(*) FROM {table} WHERE tenant_id = ? {}",
            if grant.is_some() { "AND grant_id = ?" } else { "" }
        );
        let mut q = sqlx::query(&sql).bind(tenant.as_str());
        if let Some(grant) = &grant {
            q = q.bind(grant.as_str());
        }
        let n: i64 = q.fetch_one(self.reader()).await.map_err(db)?.try_get(0).map_err(db)?;
        uint("count", n)
    }
}

pub(crate) mod page;

#[cfg(test)]
mod tests;
