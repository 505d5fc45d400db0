//! Data classes, classification and purpose (CLS-1, PUR-1), the domain records with only the fields the
//! policies allow (MIN-1), and [`Sealed`] PII encrypted with AES-256-GCM under a tenant data key (ENC-1).
//!
//! Adapters convert platform payloads into these types; a field that has no place here is dropped at the
//! adapter boundary. Records carry no plaintext PII: buyer and contact details are [`Sealed`].

mod sealed;

use std::fmt;

use time::{Date, OffsetDateTime};

use crate::grant::GrantId;
use crate::id::{IdError, check_id, shorten, string_id};
use crate::platform::AccountRef;
use crate::tenant::TenantId;

pub use sealed::{
    BuyerPii, ContactDetails, DataKey, KeyVersion, PostalAddress, SealContext, SealError, SealPayload,
    Sealed, open, seal,
};

/// What a stored datum is (CLS-1). Handling rules (retention, encryption, audit of reads) follow from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataClass {
    OperationalLog,
    AuditRecord,
    ReportingDataset,
    CampaignMetadata,
    OrderDetail,
    BuyerPii,
    BusinessContact,
    Credential,
}

impl DataClass {
    /// Every class, in a stable order.
    pub const ALL: [DataClass; 8] = [
        DataClass::OperationalLog,
        DataClass::AuditRecord,
        DataClass::ReportingDataset,
        DataClass::CampaignMetadata,
        DataClass::OrderDetail,
        DataClass::BuyerPii,
        DataClass::BusinessContact,
        DataClass::Credential,
    ];

    /// Classification of the class (CLS-1: Confidential for PII and order details, Restricted for
    /// credentials). Business contacts are personal data of client representatives: Confidential.
    pub fn classification(self) -> Classification {
        match self {
            DataClass::Credential => Classification::Restricted,
            DataClass::BuyerPii | DataClass::OrderDetail | DataClass::BusinessContact => {
                Classification::Confidential
            }
            DataClass::OperationalLog
            | DataClass::AuditRecord
            | DataClass::ReportingDataset
            | DataClass::CampaignMetadata => Classification::Internal,
        }
    }

    /// Whether values of this class must be sealed before they reach a store (ENC-1). Order details other
    /// than buyer PII (ids, amounts, SKUs) are kept in clear so they can be queried; the PII inside an order
    /// is sealed.
    pub fn must_be_sealed(self) -> bool {
        matches!(self, DataClass::BuyerPii | DataClass::BusinessContact | DataClass::Credential)
    }

    /// Whether reads of this class are audited one by one (AUD-1: reads of Confidential data).
    pub fn reads_are_audited(self) -> bool {
        self.classification() >= Classification::Confidential
    }

    /// Stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            DataClass::OperationalLog => "operational_log",
            DataClass::AuditRecord => "audit_record",
            DataClass::ReportingDataset => "reporting_dataset",
            DataClass::CampaignMetadata => "campaign_metadata",
            DataClass::OrderDetail => "order_detail",
            DataClass::BuyerPii => "buyer_pii",
            DataClass::BusinessContact => "business_contact",
            DataClass::Credential => "credential",
        }
    }
}

impl fmt::Display for DataClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for DataClass {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DataClass::ALL.into_iter().find(|c| c.as_str() == s).ok_or_else(|| IdError::Format {
            kind: "data class",
            value: shorten(s),
            expected: "a known data class",
        })
    }
}

/// Sensitivity, ordered from least to most sensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Classification {
    Internal,
    Confidential,
    Restricted,
}

/// Why a datum is held (PUR-1). `Improvement` may use only anonymous aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Purpose {
    ServiceDelivery,
    Communication,
    Compliance,
    Improvement,
}

impl Purpose {
    /// Every purpose, in a stable order.
    pub const ALL: [Purpose; 4] =
        [Purpose::ServiceDelivery, Purpose::Communication, Purpose::Compliance, Purpose::Improvement];

    /// Stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::ServiceDelivery => "service_delivery",
            Purpose::Communication => "communication",
            Purpose::Compliance => "compliance",
            Purpose::Improvement => "improvement",
        }
    }
}

/// A record kind stored by the dataset store, with its class and purpose (CLS-1, PUR-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKind {
    ReportRow,
    Campaign,
    Order,
    StockLevel,
}

impl RecordKind {
    /// Every kind, in a stable order.
    pub const ALL: [RecordKind; 4] =
        [RecordKind::ReportRow, RecordKind::Campaign, RecordKind::Order, RecordKind::StockLevel];

    /// The data class of records of this kind.
    pub fn class(self) -> DataClass {
        match self {
            RecordKind::ReportRow => DataClass::ReportingDataset,
            RecordKind::Campaign => DataClass::CampaignMetadata,
            RecordKind::Order | RecordKind::StockLevel => DataClass::OrderDetail,
        }
    }

    /// Every record kind is held for service delivery.
    pub fn purpose(self) -> Purpose {
        Purpose::ServiceDelivery
    }

    /// Stable lowercase name (also the sealing context's record kind).
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::ReportRow => "report_row",
            RecordKind::Campaign => "campaign",
            RecordKind::Order => "order",
            RecordKind::StockLevel => "stock_level",
        }
    }

    /// The parts of `key` if it is a natural key of this kind as `natural_key()` writes it (e.g.
    /// [`Order::natural_key`]): report rows `account level object day` (a known level, a valid
    /// `YYYY-MM-DD` day), campaigns and orders `account id`, stock `account sku location` (the location may
    /// be empty); no other part may be empty. `None` for anything else.
    pub fn key_parts(self, key: &str) -> Option<Vec<&str>> {
        let parts: Vec<&str> = key.split(' ').collect();
        let shape = match self {
            RecordKind::ReportRow => {
                parts.len() == 4
                    && parts.get(1).is_some_and(|l| ReportLevel::ALL.iter().any(|level| level.as_str() == *l))
                    && parts.get(3).is_some_and(|d| parse_key_day(d).is_some())
            }
            RecordKind::Campaign | RecordKind::Order => parts.len() == 2,
            RecordKind::StockLevel => parts.len() == 3,
        };
        let filled = parts
            .iter()
            .enumerate()
            .all(|(i, p)| !p.is_empty() || (self == RecordKind::StockLevel && i == 2));
        (shape && filled).then_some(parts)
    }
}

/// A `YYYY-MM-DD` key part as a date.
fn parse_key_day(raw: &str) -> Option<Date> {
    let bytes = raw.as_bytes();
    if bytes.len() != 10 || bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| {
        raw.get(range).filter(|d| d.bytes().all(|b| b.is_ascii_digit())).and_then(|d| d.parse::<u16>().ok())
    };
    let year = i32::from(digits(0..4)?);
    let month = time::Month::try_from(u8::try_from(digits(5..7)?).ok()?).ok()?;
    let day = u8::try_from(digits(8..10)?).ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

string_id!(
    /// A campaign id on its platform.
    CampaignId,
    "campaign id"
);
string_id!(
    /// An ad object id (campaign, ad set, ad or account) a report row is about.
    ObjectId,
    "object id"
);
string_id!(
    /// An order id on its platform.
    OrderId,
    "order id"
);
string_id!(
    /// An order line id on its platform.
    LineId,
    "order line id"
);
string_id!(
    /// A seller's stock keeping unit.
    Sku,
    "sku"
);
string_id!(
    /// A warehouse or fulfillment location.
    LocationId,
    "location id"
);

/// An ISO 4217 currency code (three uppercase letters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    /// Validates a currency code.
    pub fn new(raw: &str) -> Result<Self, IdError> {
        match raw.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|x| x.is_ascii_uppercase()) => Ok(Self([*a, *b, *c])),
            _ => Err(IdError::Format {
                kind: "currency",
                value: shorten(raw),
                expected: "three uppercase letters",
            }),
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

/// Free text from a platform (campaign names, objectives): at most 1,000 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Text(String);

impl Text {
    /// Maximum length in characters.
    pub const MAX_CHARS: usize = 1000;

    /// Validates free text.
    pub fn new(raw: impl Into<String>) -> Result<Self, IdError> {
        let raw = raw.into();
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(IdError::TooLong { kind: "text", max: Self::MAX_CHARS });
        }
        if let Some(at) = raw.char_indices().find(|(_, c)| c.is_control()).map(|(i, _)| i) {
            return Err(IdError::BadChar { kind: "text", at });
        }
        Ok(Self(raw))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Level of a report row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReportLevel {
    Account,
    Campaign,
    AdGroup,
    Ad,
}

impl ReportLevel {
    /// Every level, from the widest.
    pub const ALL: [ReportLevel; 4] =
        [ReportLevel::Account, ReportLevel::Campaign, ReportLevel::AdGroup, ReportLevel::Ad];

    /// `account`, `campaign`, `ad_group` or `ad`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportLevel::Account => "account",
            ReportLevel::Campaign => "campaign",
            ReportLevel::AdGroup => "ad_group",
            ReportLevel::Ad => "ad",
        }
    }
}

/// Spend, delivery and conversion aggregates of one object on one day (MIN-1: no user-level data).
/// Money is in micros of the row's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Metrics {
    pub spend_micros: i64,
    pub impressions: u64,
    pub clicks: u64,
    pub conversions: u64,
    pub conversion_value_micros: i64,
}

/// One reporting row: object, day, metrics. Natural key: (tenant, account, level, object, date).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    pub tenant: TenantId,
    pub grant: GrantId,
    pub account: AccountRef,
    pub level: ReportLevel,
    pub object: ObjectId,
    pub date: Date,
    pub currency: Currency,
    pub metrics: Metrics,
}

/// The natural keys of stored records within their tenant as one text each, the form of
/// [`RecordMeta::key`](crate::retention::RecordMeta::key): the key's parts joined by a space. No part can
/// hold a space or anything below it (identifiers are printable ASCII without whitespace), so these texts
/// sort byte by byte exactly as the keys' parts do one after another. Dataset pages follow that order and
/// continue after a key ([`DatasetQuery::after`](crate::ports::DatasetQuery::after)).
fn joined_key(parts: &[&str]) -> String {
    parts.join(" ")
}

/// A day as a key part: `YYYY-MM-DD`.
fn key_day(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

impl ReportRow {
    /// `account level object day`, e.g. `meta:act_1 ad 120 2024-12-01` (see [`joined_key`]).
    pub fn natural_key(&self) -> String {
        joined_key(&[&self.account.key(), self.level.as_str(), self.object.as_str(), &key_day(self.date)])
    }
}

/// Delivery status of a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CampaignStatus {
    Active,
    Paused,
    Archived,
    Deleted,
}

impl CampaignStatus {
    /// Stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignStatus::Active => "active",
            CampaignStatus::Paused => "paused",
            CampaignStatus::Archived => "archived",
            CampaignStatus::Deleted => "deleted",
        }
    }
}

/// Campaign metadata. Natural key: (tenant, account, id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub tenant: TenantId,
    pub grant: GrantId,
    pub account: AccountRef,
    pub id: CampaignId,
    pub name: Text,
    pub status: CampaignStatus,
    pub objective: Option<Text>,
    pub daily_budget_micros: Option<i64>,
    pub lifetime_budget_micros: Option<i64>,
    pub updated_at: OffsetDateTime,
}

impl Campaign {
    /// `account campaign`, e.g. `meta:act_1 120` (see [`joined_key`]).
    pub fn natural_key(&self) -> String {
        joined_key(&[&self.account.key(), self.id.as_str()])
    }
}

/// Normalized order status across the commerce platforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OrderStatus {
    Pending,
    Unshipped,
    PartiallyShipped,
    Shipped,
    Delivered,
    Cancelled,
    Returned,
}

impl OrderStatus {
    /// Stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Unshipped => "unshipped",
            OrderStatus::PartiallyShipped => "partially_shipped",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Returned => "returned",
        }
    }
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    pub id: LineId,
    pub sku: Sku,
    pub quantity: u32,
    pub unit_price_micros: i64,
}

/// An order with its lines. Buyer PII is present only when the grant's PII switch is on (MIN-2), and then
/// only sealed (ENC-1). Natural key: (tenant, account, id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub tenant: TenantId,
    pub grant: GrantId,
    pub account: AccountRef,
    pub id: OrderId,
    pub status: OrderStatus,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub currency: Currency,
    pub total_micros: i64,
    pub lines: Vec<OrderLine>,
    pub buyer: Option<Sealed<BuyerPii>>,
}

impl Order {
    /// `account order`, e.g. `ebay:seller-1 12-345` (see [`joined_key`]).
    pub fn natural_key(&self) -> String {
        joined_key(&[&self.account.key(), self.id.as_str()])
    }

    /// The sealing context of this order's buyer PII: bound to the tenant and the order.
    pub fn seal_context(&self) -> SealContext {
        SealContext::new(&self.tenant, RecordKind::Order.as_str(), &format!("{}/{}", self.account, self.id))
    }
}

/// Stock of one SKU at one location. Natural key: (tenant, account, sku, location).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockLevel {
    pub tenant: TenantId,
    pub grant: GrantId,
    pub account: AccountRef,
    pub sku: Sku,
    pub location: Option<LocationId>,
    pub quantity: i64,
    pub observed_at: OffsetDateTime,
}

impl StockLevel {
    /// `account sku location`, the location empty when the platform reports none (see [`joined_key`]).
    pub fn natural_key(&self) -> String {
        joined_key(&[
            &self.account.key(),
            self.sku.as_str(),
            self.location.as_ref().map_or("", LocationId::as_str),
        ])
    }
}

/// Checks a raw id the way every id is checked, for callers that hold plain strings.
pub fn check_raw_id(kind: &'static str, raw: &str) -> Result<(), IdError> {
    check_id(kind, raw)
}

#[cfg(test)]
mod tests;
