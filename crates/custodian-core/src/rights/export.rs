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
//!
//! A file can be written whole from a bundle ([`export_json`], [`export_csv`]) or piece by piece as its
//! records are read ([`ExportWriter`]), with the same bytes either way: a large export is streamed page by
//! page and never held whole.

use std::fmt::Write as _;

use time::{Date, OffsetDateTime, UtcOffset};

use crate::data::{BuyerPii, Campaign, ContactDetails, Order, OrderLine, ReportLevel, ReportRow, StockLevel};
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
    #[error("export records of `{section}` came after a later section")]
    OutOfOrder { section: &'static str },
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

/// A kind of record an export holds, in the order the JSON document holds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportSection {
    ReportRows,
    Campaigns,
    Orders,
    Stock,
    Contacts,
}

impl ExportSection {
    /// Every section, in document order.
    pub const ALL: [ExportSection; 5] = [
        ExportSection::ReportRows,
        ExportSection::Campaigns,
        ExportSection::Orders,
        ExportSection::Stock,
        ExportSection::Contacts,
    ];

    /// The section's key in the JSON document.
    pub fn key(self) -> &'static str {
        match self {
            ExportSection::ReportRows => "report_rows",
            ExportSection::Campaigns => "campaigns",
            ExportSection::Orders => "orders",
            ExportSection::Stock => "stock",
            ExportSection::Contacts => "contacts",
        }
    }
}

/// One file of an export: the JSON document, or one of the six CSV files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFile {
    Json,
    ReportRowsCsv,
    CampaignsCsv,
    OrdersCsv,
    OrderLinesCsv,
    StockCsv,
    ContactsCsv,
}

impl ExportFile {
    /// The CSV files, in the order [`export_csv`] returns them.
    pub const CSV: [ExportFile; 6] = [
        ExportFile::ReportRowsCsv,
        ExportFile::CampaignsCsv,
        ExportFile::OrdersCsv,
        ExportFile::OrderLinesCsv,
        ExportFile::StockCsv,
        ExportFile::ContactsCsv,
    ];

    /// The file's name without its extension (`export`, `report_rows`, `order_lines`, …).
    pub fn stem(self) -> &'static str {
        match self {
            ExportFile::Json => "export",
            ExportFile::ReportRowsCsv => "report_rows",
            ExportFile::CampaignsCsv => "campaigns",
            ExportFile::OrdersCsv => "orders",
            ExportFile::OrderLinesCsv => "order_lines",
            ExportFile::StockCsv => "stock",
            ExportFile::ContactsCsv => "contacts",
        }
    }

    /// The file's name: `export.json`, `report_rows.csv`, ….
    pub fn name(self) -> String {
        match self {
            ExportFile::Json => "export.json".to_owned(),
            csv => format!("{}.csv", csv.stem()),
        }
    }

    /// The CSV file called `stem` (`orders`, not `orders.csv`).
    pub fn csv(stem: &str) -> Option<Self> {
        Self::CSV.into_iter().find(|f| f.stem() == stem)
    }

    /// The record sections the file is made of, in the order they must be written.
    pub fn sections(self) -> &'static [ExportSection] {
        match self {
            ExportFile::Json => &ExportSection::ALL,
            ExportFile::ReportRowsCsv => &[ExportSection::ReportRows],
            ExportFile::CampaignsCsv => &[ExportSection::Campaigns],
            ExportFile::OrdersCsv | ExportFile::OrderLinesCsv => &[ExportSection::Orders],
            ExportFile::StockCsv => &[ExportSection::Stock],
            ExportFile::ContactsCsv => &[ExportSection::Contacts],
        }
    }

    /// Whether the file carries opened buyer PII: the JSON document and `orders.csv` do; `order_lines.csv`
    /// is made of orders but holds none, so its export never opens a buyer (MIN-2: PII only where it is needed).
    pub fn carries_buyers(self) -> bool {
        matches!(self, ExportFile::Json | ExportFile::OrdersCsv)
    }

    fn header(self) -> &'static [&'static str] {
        match self {
            ExportFile::Json => &[],
            ExportFile::ReportRowsCsv => &[
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
            ExportFile::CampaignsCsv => &[
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
            ExportFile::OrdersCsv => &[
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
            ExportFile::OrderLinesCsv => {
                &["account", "order_id", "line_id", "sku", "quantity", "unit_price_micros"]
            }
            ExportFile::StockCsv => &["grant", "account", "sku", "location", "quantity", "observed_at"],
            ExportFile::ContactsCsv => &["id", "name", "email", "phone", "role"],
        }
    }
}

/// A batch of records of one section, as read.
#[derive(Debug, Clone, Copy)]
pub enum ExportRecords<'a> {
    ReportRows(&'a [ReportRow]),
    Campaigns(&'a [Campaign]),
    Orders(&'a [ExportOrder]),
    Stock(&'a [StockLevel]),
    Contacts(&'a [(ContactId, ContactDetails, String)]),
}

impl ExportRecords<'_> {
    /// The section the records belong to.
    pub fn section(&self) -> ExportSection {
        match self {
            ExportRecords::ReportRows(_) => ExportSection::ReportRows,
            ExportRecords::Campaigns(_) => ExportSection::Campaigns,
            ExportRecords::Orders(_) => ExportSection::Orders,
            ExportRecords::Stock(_) => ExportSection::Stock,
            ExportRecords::Contacts(_) => ExportSection::Contacts,
        }
    }
}

/// Writes one export file piece by piece, as its records are read, so that a large export is never held
/// whole: [`ExportWriter::start`] writes the head, [`ExportWriter::write`] each batch of records,
/// [`ExportWriter::finish`] the end. The pieces, concatenated, are exactly the file [`export_json`] or
/// [`export_csv`] makes of the same records. Records of another tenant are skipped (SEG-1), as there.
#[derive(Debug)]
pub struct ExportWriter {
    file: ExportFile,
    tenant: TenantId,
    /// JSON: sections started so far (`ExportSection::ALL[..started]`).
    started: usize,
    /// JSON: items written in the section left open, if one is.
    open: Option<usize>,
}

impl ExportWriter {
    /// A writer of `file` for `tenant`'s records; appends the file's head to `out` (the JSON document's
    /// opening fields, or the CSV header line).
    pub fn start(
        file: ExportFile,
        tenant: &TenantId,
        generated_at: OffsetDateTime,
        out: &mut String,
    ) -> Self {
        if file == ExportFile::Json {
            out.push_str("{\n  \"format\": ");
            push_json_string(out, FORMAT);
            out.push_str(",\n  \"tenant\": ");
            push_json_string(out, tenant.as_str());
            out.push_str(",\n  \"generated_at\": ");
            push_json_string(out, &instant(generated_at));
        } else {
            out.push_str(&file.header().join(","));
            out.push_str("\r\n");
        }
        Self { file, tenant: tenant.clone(), started: 0, open: None }
    }

    /// The file being written.
    pub fn file(&self) -> ExportFile {
        self.file
    }

    /// Appends `records` to `out`. Records of a section the file does not hold are ignored; sections must
    /// come in [`ExportSection::ALL`]'s order, each in one or more batches.
    pub fn write(&mut self, records: ExportRecords<'_>, out: &mut String) -> Result<(), ExportError> {
        if !self.file.sections().contains(&records.section()) {
            return Ok(());
        }
        if self.file == ExportFile::Json {
            self.enter(records.section(), out)?;
        }
        let (t, open, file) = (&self.tenant, &mut self.open, self.file);
        match records {
            ExportRecords::ReportRows(rows) => {
                for r in rows.iter().filter(|r| &r.tenant == t) {
                    record(open, out, || report_row_json(r), || report_row_cells(r));
                }
            }
            ExportRecords::Campaigns(campaigns) => {
                for c in campaigns.iter().filter(|c| &c.tenant == t) {
                    record(open, out, || campaign_json(c), || campaign_cells(c));
                }
            }
            ExportRecords::Orders(orders) => {
                for e in orders.iter().filter(|e| &e.order.tenant == t) {
                    if file == ExportFile::OrderLinesCsv {
                        for l in &e.order.lines {
                            push_csv_row(out, &order_line_cells(&e.order, l));
                        }
                    } else {
                        record(open, out, || order_json(e), || order_cells(e));
                    }
                }
            }
            ExportRecords::Stock(stock) => {
                for s in stock.iter().filter(|s| &s.tenant == t) {
                    record(open, out, || stock_json(s), || stock_cells(s));
                }
            }
            ExportRecords::Contacts(contacts) => {
                for c in contacts {
                    record(open, out, || contact_json(c), || contact_cells(c));
                }
            }
        }
        Ok(())
    }

    /// Appends the file's end to `out`: in JSON, the sections not written yet, empty, and the closing brace.
    pub fn finish(mut self, out: &mut String) {
        if self.file == ExportFile::Json {
            self.close(out);
            for section in &ExportSection::ALL[self.started..] {
                out.push_str(",\n  ");
                push_json_string(out, section.key());
                out.push_str(": []");
            }
            out.push_str("\n}\n");
        }
    }

    /// JSON: makes `section` the open array, writing the sections before it that had no records as `[]`.
    fn enter(&mut self, section: ExportSection, out: &mut String) -> Result<(), ExportError> {
        let index = ExportSection::ALL.iter().position(|s| *s == section).unwrap_or_default();
        if self.open.is_some() && index + 1 == self.started {
            return Ok(());
        }
        if index < self.started {
            return Err(ExportError::OutOfOrder { section: section.key() });
        }
        self.close(out);
        for skipped in &ExportSection::ALL[self.started..index] {
            out.push_str(",\n  ");
            push_json_string(out, skipped.key());
            out.push_str(": []");
        }
        out.push_str(",\n  ");
        push_json_string(out, section.key());
        out.push_str(": [");
        self.started = index + 1;
        self.open = Some(0);
        Ok(())
    }

    /// JSON: closes the open array, if any.
    fn close(&mut self, out: &mut String) {
        match self.open.take() {
            Some(0) => out.push(']'),
            Some(_) => {
                out.push('\n');
                push_indent(out, 1);
                out.push(']');
            }
            None => {}
        }
    }
}

/// One record: an item of the open JSON array, or a CSV line.
fn record(
    open: &mut Option<usize>,
    out: &mut String,
    json: impl FnOnce() -> Json,
    cells: impl FnOnce() -> Vec<Cell>,
) {
    match open {
        Some(items) => {
            out.push_str(if *items == 0 { "\n" } else { ",\n" });
            *items += 1;
            push_indent(out, 2);
            json().render(out, 2);
        }
        None => push_csv_row(out, &cells()),
    }
}

/// The bundle as one JSON document (see the module documentation), ending with a newline.
pub fn export_json(bundle: &ExportBundle) -> String {
    write_file(bundle, ExportFile::Json).content
}

/// `file` of the bundle, written in one go.
fn write_file(bundle: &ExportBundle, file: ExportFile) -> CsvFile {
    let mut content = String::new();
    let mut writer = ExportWriter::start(file, &bundle.tenant, bundle.generated_at, &mut content);
    for records in [
        ExportRecords::ReportRows(&bundle.report_rows),
        ExportRecords::Campaigns(&bundle.campaigns),
        ExportRecords::Orders(&bundle.orders),
        ExportRecords::Stock(&bundle.stock),
        ExportRecords::Contacts(&bundle.contacts),
    ] {
        // In section order, so never out of order.
        let _ = writer.write(records, &mut content);
    }
    writer.finish(&mut content);
    CsvFile { name: file.name(), content }
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

/// Appends one CSV line, CRLF included.
fn push_csv_row(out: &mut String, row: &[Cell]) {
    for (i, cell) in row.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match cell {
            Cell::Text(s) => out.push_str(&csv_cell(s)),
            Cell::Num(n) => {
                let _ = write!(out, "{n}");
            }
        }
    }
    out.push_str("\r\n");
}

fn report_row_cells(r: &ReportRow) -> Vec<Cell> {
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
}

fn campaign_cells(c: &Campaign) -> Vec<Cell> {
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
}

fn order_cells(e: &ExportOrder) -> Vec<Cell> {
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
}

fn order_line_cells(o: &Order, l: &OrderLine) -> Vec<Cell> {
    vec![
        Cell::Text(o.account.key()),
        text(o.id.as_str()),
        text(l.id.as_str()),
        text(l.sku.as_str()),
        num(l.quantity),
        num(l.unit_price_micros),
    ]
}

fn stock_cells(s: &StockLevel) -> Vec<Cell> {
    vec![
        text(s.grant.as_str()),
        Cell::Text(s.account.key()),
        text(s.sku.as_str()),
        opt_text(s.location.as_ref().map(|l| l.as_str())),
        num(s.quantity),
        Cell::Text(instant(s.observed_at)),
    ]
}

fn contact_cells((id, d, role): &(ContactId, ContactDetails, String)) -> Vec<Cell> {
    vec![
        text(id.as_str()),
        text(&d.name),
        opt_text(d.email.as_deref()),
        opt_text(d.phone.as_deref()),
        text(role),
    ]
}

/// The bundle as CSV files: `report_rows.csv`, `campaigns.csv`, `orders.csv`, `order_lines.csv`,
/// `stock.csv`, `contacts.csv`, always all six, in this order, each with its header.
pub fn export_csv(bundle: &ExportBundle) -> Vec<CsvFile> {
    ExportFile::CSV.into_iter().map(|file| write_file(bundle, file)).collect()
}
