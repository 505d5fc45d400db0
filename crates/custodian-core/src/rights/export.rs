//! The portability exporter (RGT-1, RGT-3): a tenant's data as one JSON document and as CSV files.
//!
//! JSON: one object with keys in a fixed order (`format`, `tenant`, `generated_at`, `report_rows`,
//! `campaigns`, `orders`, `stock`, `contacts`), each record's keys in the order of its type's fields. Money is
//! an integer number of micros, instants are RFC 3339 / ISO 8601 in UTC (`2025-01-31T09:30:00Z`, with a
//! fraction only when non-zero), dates are `YYYY-MM-DD`. Strings escape `"`, `\` and every control
//! character, plus U+2028 and U+2029; other characters are written as UTF-8.
//!
//! CSV (RFC 4180): one file per record type, a header row, CRLF line ends, a cell quoted when it holds a
//! comma, a quote, CR or LF, quotes doubled. Text cells starting with `=`, `+`, `-`, `@`, tab or CR get a
//! leading `'` so that spreadsheets do not run them as formulas (CSV injection); numeric cells are written by
//! the exporter from integers and are never prefixed.
//!
//! Records of another tenant than the bundle's are never written (SEG-1); [`ExportBundle::check`] reports
//! them so the caller can refuse the export instead.

use std::fmt::Write as _;

use time::{Date, OffsetDateTime, UtcOffset};

use crate::data::{BuyerPii, Campaign, ContactDetails, Order, ReportLevel, ReportRow, StockLevel};
use crate::tenant::{ContactId, TenantId};

/// The format name written in the JSON document.
const FORMAT: &str = "custodian.export.v1";

/// An order for export, with its buyer PII already opened by the caller (`order.buyer`, sealed, is never
/// exported).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOrder {
    pub order: Order,
    pub buyer: Option<BuyerPii>,
}

/// Everything portable of one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportBundle {
    pub tenant: TenantId,
    pub generated_at: OffsetDateTime,
    pub report_rows: Vec<ReportRow>,
    pub campaigns: Vec<Campaign>,
    pub orders: Vec<ExportOrder>,
    pub stock: Vec<StockLevel>,
    /// Business contacts, opened: id, details and role.
    pub contacts: Vec<(ContactId, ContactDetails, String)>,
}

/// Why a bundle must not be exported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    #[error("export bundle holds {count} records of another tenant")]
    ForeignRecords { count: usize },
}

impl ExportBundle {
    /// Number of records that belong to another tenant than the bundle's.
    pub fn foreign_records(&self) -> usize {
        let t = &self.tenant;
        self.report_rows.iter().filter(|r| &r.tenant != t).count()
            + self.campaigns.iter().filter(|c| &c.tenant != t).count()
            + self.orders.iter().filter(|o| &o.order.tenant != t).count()
            + self.stock.iter().filter(|s| &s.tenant != t).count()
    }

    /// Refuses a bundle with records of another tenant.
    pub fn check(&self) -> Result<(), ExportError> {
        match self.foreign_records() {
            0 => Ok(()),
            count => Err(ExportError::ForeignRecords { count }),
        }
    }
}

/// A CSV file of an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvFile {
    pub name: String,
    pub content: String,
}

/// A JSON value, rendered with a fixed key order.
enum Json {
    Null,
    Int(i128),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(&'static str, Json)>),
}

impl Json {
    fn str(s: &str) -> Self {
        Json::Str(s.to_owned())
    }

    fn opt_str(s: Option<&str>) -> Self {
        s.map_or(Json::Null, Json::str)
    }

    fn int(n: impl Into<i128>) -> Self {
        Json::Int(n.into())
    }

    fn opt_int(n: Option<i64>) -> Self {
        n.map_or(Json::Null, Json::int)
    }

    fn render(&self, out: &mut String, indent: usize) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Json::Str(s) => push_json_string(out, s),
            Json::Arr(items) if items.is_empty() => out.push_str("[]"),
            Json::Obj(fields) if fields.is_empty() => out.push_str("{}"),
            Json::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    out.push_str(if i == 0 { "\n" } else { ",\n" });
                    push_indent(out, indent + 1);
                    item.render(out, indent + 1);
                }
                out.push('\n');
                push_indent(out, indent);
                out.push(']');
            }
            Json::Obj(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    out.push_str(if i == 0 { "\n" } else { ",\n" });
                    push_indent(out, indent + 1);
                    push_json_string(out, key);
                    out.push_str(": ");
                    value.render(out, indent + 1);
                }
                out.push('\n');
                push_indent(out, indent);
                out.push('}');
            }
        }
    }
}

fn push_indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

/// Appends `s` as a JSON string literal.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `s` as a JSON string literal, quotes included.
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_json_string(&mut out, s);
    out
}

/// An instant in RFC 3339, in UTC when representable there (else in its own offset).
fn instant(at: OffsetDateTime) -> String {
    let at = at.checked_to_offset(UtcOffset::UTC).unwrap_or(at);
    let mut out = date(at.date());
    let _ = write!(out, "T{:02}:{:02}:{:02}", at.hour(), at.minute(), at.second());
    let nanos = at.nanosecond();
    if nanos != 0 {
        let fraction = format!("{nanos:09}");
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
    let offset = at.offset();
    if offset.is_utc() {
        out.push('Z');
    } else {
        let (h, m, _) = offset.as_hms();
        let sign = if offset.is_negative() { '-' } else { '+' };
        let _ = write!(out, "{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs());
    }
    out
}

/// A calendar date as `YYYY-MM-DD` (a sign before years outside 0..=9999).
fn date(d: Date) -> String {
    let year = d.year();
    let y = if (0..=9999).contains(&year) { format!("{year:04}") } else { format!("{year:+05}") };
    format!("{y}-{:02}-{:02}", u8::from(d.month()), d.day())
}

fn level(l: ReportLevel) -> &'static str {
    match l {
        ReportLevel::Account => "account",
        ReportLevel::Campaign => "campaign",
        ReportLevel::AdGroup => "ad_group",
        ReportLevel::Ad => "ad",
    }
}

fn report_row_json(r: &ReportRow) -> Json {
    Json::Obj(vec![
        ("grant", Json::str(r.grant.as_str())),
        ("account", Json::Str(r.account.key())),
        ("level", Json::str(level(r.level))),
        ("object", Json::str(r.object.as_str())),
        ("date", Json::Str(date(r.date))),
        ("currency", Json::str(r.currency.as_str())),
        ("spend_micros", Json::int(r.metrics.spend_micros)),
        ("impressions", Json::int(r.metrics.impressions)),
        ("clicks", Json::int(r.metrics.clicks)),
        ("conversions", Json::int(r.metrics.conversions)),
        ("conversion_value_micros", Json::int(r.metrics.conversion_value_micros)),
    ])
}

fn campaign_json(c: &Campaign) -> Json {
    Json::Obj(vec![
        ("grant", Json::str(c.grant.as_str())),
        ("account", Json::Str(c.account.key())),
        ("id", Json::str(c.id.as_str())),
        ("name", Json::str(c.name.as_str())),
        ("status", Json::str(c.status.as_str())),
        ("objective", Json::opt_str(c.objective.as_ref().map(|o| o.as_str()))),
        ("daily_budget_micros", Json::opt_int(c.daily_budget_micros)),
        ("lifetime_budget_micros", Json::opt_int(c.lifetime_budget_micros)),
        ("updated_at", Json::Str(instant(c.updated_at))),
    ])
}

fn buyer_json(b: &BuyerPii) -> Json {
    let address = b.address.as_ref().map_or(Json::Null, |a| {
        Json::Obj(vec![
            ("lines", Json::Arr(a.lines.iter().map(|l| Json::str(l)).collect())),
            ("city", Json::str(&a.city)),
            ("region", Json::opt_str(a.region.as_deref())),
            ("postal_code", Json::opt_str(a.postal_code.as_deref())),
            ("country", Json::str(&a.country)),
        ])
    });
    Json::Obj(vec![
        ("name", Json::opt_str(b.name.as_deref())),
        ("email", Json::opt_str(b.email.as_deref())),
        ("phone", Json::opt_str(b.phone.as_deref())),
        ("address", address),
    ])
}

fn order_json(e: &ExportOrder) -> Json {
    let o = &e.order;
    let lines = o
        .lines
        .iter()
        .map(|l| {
            Json::Obj(vec![
                ("id", Json::str(l.id.as_str())),
                ("sku", Json::str(l.sku.as_str())),
                ("quantity", Json::int(l.quantity)),
                ("unit_price_micros", Json::int(l.unit_price_micros)),
            ])
        })
        .collect();
    Json::Obj(vec![
        ("grant", Json::str(o.grant.as_str())),
        ("account", Json::Str(o.account.key())),
        ("id", Json::str(o.id.as_str())),
        ("status", Json::str(o.status.as_str())),
        ("created_at", Json::Str(instant(o.created_at))),
        ("updated_at", Json::Str(instant(o.updated_at))),
        ("currency", Json::str(o.currency.as_str())),
        ("total_micros", Json::int(o.total_micros)),
        ("lines", Json::Arr(lines)),
        ("buyer", e.buyer.as_ref().map_or(Json::Null, buyer_json)),
    ])
}

fn stock_json(s: &StockLevel) -> Json {
    Json::Obj(vec![
        ("grant", Json::str(s.grant.as_str())),
        ("account", Json::Str(s.account.key())),
        ("sku", Json::str(s.sku.as_str())),
        ("location", Json::opt_str(s.location.as_ref().map(|l| l.as_str()))),
        ("quantity", Json::int(s.quantity)),
        ("observed_at", Json::Str(instant(s.observed_at))),
    ])
}

fn contact_json((id, details, role): &(ContactId, ContactDetails, String)) -> Json {
    Json::Obj(vec![
        ("id", Json::str(id.as_str())),
        ("name", Json::str(&details.name)),
        ("email", Json::opt_str(details.email.as_deref())),
        ("phone", Json::opt_str(details.phone.as_deref())),
        ("role", Json::str(role)),
    ])
}

/// The bundle as one JSON document (see the module documentation), ending with a newline.
pub fn export_json(bundle: &ExportBundle) -> String {
    let t = &bundle.tenant;
    let doc = Json::Obj(vec![
        ("format", Json::str(FORMAT)),
        ("tenant", Json::str(t.as_str())),
        ("generated_at", Json::Str(instant(bundle.generated_at))),
        (
            "report_rows",
            Json::Arr(bundle.report_rows.iter().filter(|r| &r.tenant == t).map(report_row_json).collect()),
        ),
        (
            "campaigns",
            Json::Arr(bundle.campaigns.iter().filter(|c| &c.tenant == t).map(campaign_json).collect()),
        ),
        (
            "orders",
            Json::Arr(bundle.orders.iter().filter(|o| &o.order.tenant == t).map(order_json).collect()),
        ),
        ("stock", Json::Arr(bundle.stock.iter().filter(|s| &s.tenant == t).map(stock_json).collect())),
        ("contacts", Json::Arr(bundle.contacts.iter().map(contact_json).collect())),
    ]);
    let mut out = String::new();
    doc.render(&mut out, 0);
    out.push('\n');
    out
}

/// A CSV cell.
enum Cell {
    /// Text from outside: guarded against formula injection, quoted as needed.
    Text(String),
    /// An integer the exporter wrote.
    Num(i128),
}

fn text(s: &str) -> Cell {
    Cell::Text(s.to_owned())
}

fn opt_text(s: Option<&str>) -> Cell {
    Cell::Text(s.unwrap_or_default().to_owned())
}

fn num(n: impl Into<i128>) -> Cell {
    Cell::Num(n.into())
}

fn opt_num(n: Option<i64>) -> Cell {
    n.map_or(Cell::Text(String::new()), num)
}

/// One text cell as written to a CSV file: formula-injection guard, then RFC 4180 quoting.
pub fn csv_cell(s: &str) -> String {
    let guarded =
        if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_owned() };
    if guarded.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

fn csv_file(name: &str, header: &[&str], rows: impl Iterator<Item = Vec<Cell>>) -> CsvFile {
    let mut content = header.join(",");
    content.push_str("\r\n");
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                content.push(',');
            }
            match cell {
                Cell::Text(s) => content.push_str(&csv_cell(s)),
                Cell::Num(n) => {
                    let _ = write!(content, "{n}");
                }
            }
        }
        content.push_str("\r\n");
    }
    CsvFile { name: name.to_owned(), content }
}

/// The bundle as CSV files: `report_rows.csv`, `campaigns.csv`, `orders.csv`, `order_lines.csv`,
/// `stock.csv`, `contacts.csv`, always all six, in this order, each with its header.
pub fn export_csv(bundle: &ExportBundle) -> Vec<CsvFile> {
    let t = &bundle.tenant;
    let report_rows = csv_file(
        "report_rows.csv",
        &[
            "grant",
            "account",
            "level",
            "object",
            "date",
            "currency",
            "spend_micros",
            "impressions",
            "clicks",
            "conversions",
            "conversion_value_micros",
        ],
        bundle.report_rows.iter().filter(|r| &r.tenant == t).map(|r| {
            vec![
                text(r.grant.as_str()),
                Cell::Text(r.account.key()),
                text(level(r.level)),
                text(r.object.as_str()),
                Cell::Text(date(r.date)),
                text(r.currency.as_str()),
                num(r.metrics.spend_micros),
                num(r.metrics.impressions),
                num(r.metrics.clicks),
                num(r.metrics.conversions),
                num(r.metrics.conversion_value_micros),
            ]
        }),
    );
    let campaigns = csv_file(
        "campaigns.csv",
        &[
            "grant",
            "account",
            "id",
            "name",
            "status",
            "objective",
            "daily_budget_micros",
            "lifetime_budget_micros",
            "updated_at",
        ],
        bundle.campaigns.iter().filter(|c| &c.tenant == t).map(|c| {
            vec![
                text(c.grant.as_str()),
                Cell::Text(c.account.key()),
                text(c.id.as_str()),
                text(c.name.as_str()),
                text(c.status.as_str()),
                opt_text(c.objective.as_ref().map(|o| o.as_str())),
                opt_num(c.daily_budget_micros),
                opt_num(c.lifetime_budget_micros),
                Cell::Text(instant(c.updated_at)),
            ]
        }),
    );
    let orders_of_tenant = || bundle.orders.iter().filter(|o| &o.order.tenant == t);
    let orders = csv_file(
        "orders.csv",
        &[
            "grant",
            "account",
            "id",
            "status",
            "created_at",
            "updated_at",
            "currency",
            "total_micros",
            "buyer_name",
            "buyer_email",
            "buyer_phone",
            "buyer_address_lines",
            "buyer_city",
            "buyer_region",
            "buyer_postal_code",
            "buyer_country",
        ],
        orders_of_tenant().map(|e| {
            let o = &e.order;
            let b = e.buyer.as_ref();
            let a = b.and_then(|b| b.address.as_ref());
            vec![
                text(o.grant.as_str()),
                Cell::Text(o.account.key()),
                text(o.id.as_str()),
                text(o.status.as_str()),
                Cell::Text(instant(o.created_at)),
                Cell::Text(instant(o.updated_at)),
                text(o.currency.as_str()),
                num(o.total_micros),
                opt_text(b.and_then(|b| b.name.as_deref())),
                opt_text(b.and_then(|b| b.email.as_deref())),
                opt_text(b.and_then(|b| b.phone.as_deref())),
                Cell::Text(a.map(|a| a.lines.join("\n")).unwrap_or_default()),
                opt_text(a.map(|a| a.city.as_str())),
                opt_text(a.and_then(|a| a.region.as_deref())),
                opt_text(a.and_then(|a| a.postal_code.as_deref())),
                opt_text(a.map(|a| a.country.as_str())),
            ]
        }),
    );
    let order_lines = csv_file(
        "order_lines.csv",
        &["account", "order_id", "line_id", "sku", "quantity", "unit_price_micros"],
        orders_of_tenant().flat_map(|e| {
            e.order.lines.iter().map(|l| {
                vec![
                    Cell::Text(e.order.account.key()),
                    text(e.order.id.as_str()),
                    text(l.id.as_str()),
                    text(l.sku.as_str()),
                    num(l.quantity),
                    num(l.unit_price_micros),
                ]
            })
        }),
    );
    let stock = csv_file(
        "stock.csv",
        &["grant", "account", "sku", "location", "quantity", "observed_at"],
        bundle.stock.iter().filter(|s| &s.tenant == t).map(|s| {
            vec![
                text(s.grant.as_str()),
                Cell::Text(s.account.key()),
                text(s.sku.as_str()),
                opt_text(s.location.as_ref().map(|l| l.as_str())),
                num(s.quantity),
                Cell::Text(instant(s.observed_at)),
            ]
        }),
    );
    let contacts = csv_file(
        "contacts.csv",
        &["id", "name", "email", "phone", "role"],
        bundle.contacts.iter().map(|(id, d, role)| {
            vec![
                text(id.as_str()),
                text(&d.name),
                opt_text(d.email.as_deref()),
                opt_text(d.phone.as_deref()),
                text(role),
            ]
        }),
    );
    vec![report_rows, campaigns, orders, order_lines, stock, contacts]
}
