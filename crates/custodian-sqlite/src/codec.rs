//! Column encodings: timestamps as Unix nanoseconds, days as `YYYY-MM-DD`, enumerations by their stable
//! lowercase names, unsigned counts as checked `INTEGER`s, and the input limits of the schema (no NUL
//! bytes, bounded text). Encoding checks the caller's input (`Invalid`); decoding checks stored data
//! (corrupt data is `Unavailable`).

use std::fmt::Display;
use std::str::FromStr;

use custodian_core::approval::ChangeField;
use custodian_core::data::{CampaignStatus, DataClass, OrderStatus, Purpose, ReportLevel};
use custodian_core::grant::GrantState;
use custodian_core::incident::{IncidentState, Severity};
use custodian_core::personnel::{Permission, Role};
use custodian_core::platform::{AccountRef, Platform, Task};
use custodian_core::ports::StoreError;
use custodian_core::retention::StoreKind;
use custodian_core::rights::{Regime, RightsStatus};
use custodian_core::tenant::TenantStatus;
use time::{Date, Month, OffsetDateTime};

use crate::error::corrupt;

/// Longest free text the schema accepts where the domain sets no bound (roles, names, payloads), in bytes.
pub(crate) const MAX_TEXT_BYTES: usize = 4096;

/// The caller's input is outside the schema's limits.
pub(crate) fn invalid(why: impl Into<String>) -> StoreError {
    StoreError::Invalid(why.into())
}

/// A timestamp as Unix nanoseconds; instants outside 1677–2262 do not fit an `INTEGER`.
pub(crate) fn nanos(at: OffsetDateTime) -> Result<i64, StoreError> {
    i64::try_from(at.unix_timestamp_nanos())
        .map_err(|_| invalid(format!("timestamp `{at}` is outside the storable range (1677 to 2262)")))
}

/// As [`nanos`], for an optional timestamp.
pub(crate) fn opt_nanos(at: Option<OffsetDateTime>) -> Result<Option<i64>, StoreError> {
    at.map(nanos).transpose()
}

/// A stored timestamp, in UTC.
pub(crate) fn at(nanos: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos)).map_err(|e| corrupt("timestamp", e))
}

/// As [`at`], for an optional timestamp.
pub(crate) fn opt_at(nanos: Option<i64>) -> Result<Option<OffsetDateTime>, StoreError> {
    nanos.map(at).transpose()
}

/// A day as `YYYY-MM-DD` (sorts like the date); years outside 0 to 9999 are refused.
pub(crate) fn day(date: Date) -> Result<String, StoreError> {
    if !(0..=9999).contains(&date.year()) {
        return Err(invalid(format!("day `{date}` is outside the years 0 to 9999")));
    }
    Ok(format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day()))
}

/// Parses a day written by [`day`]; `None` if it is not one.
pub(crate) fn parse_day_opt(raw: &str) -> Option<Date> {
    let bytes = raw.as_bytes();
    if bytes.len() != 10 || bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
        return None;
    }
    let year: i32 = raw.get(0..4)?.parse().ok()?;
    let month: u8 = raw.get(5..7)?.parse().ok()?;
    let day: u8 = raw.get(8..10)?.parse().ok()?;
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

/// A stored day.
pub(crate) fn parse_day(raw: &str) -> Result<Date, StoreError> {
    parse_day_opt(raw).ok_or_else(|| corrupt("day", format!("`{raw}` is not a day")))
}

/// An unsigned count as an `INTEGER`.
pub(crate) fn int(what: &str, n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| invalid(format!("{what} `{n}` is larger than the store can hold")))
}

/// A stored unsigned count.
pub(crate) fn uint<T: TryFrom<i64>>(what: &'static str, n: i64) -> Result<T, StoreError> {
    T::try_from(n).map_err(|_| corrupt(what, format!("`{n}` is out of range")))
}

/// A stored boolean.
pub(crate) fn flag(what: &'static str, n: i64) -> Result<bool, StoreError> {
    match n {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(corrupt(what, format!("`{n}` is not 0 or 1"))),
    }
}

/// Checks free text: no NUL byte, at most `max_bytes`.
pub(crate) fn check_text(what: &str, text: &str, max_bytes: usize) -> Result<(), StoreError> {
    if text.contains('\0') {
        return Err(invalid(format!("{what} contains a NUL byte")));
    }
    if text.len() > max_bytes {
        return Err(invalid(format!("{what} is longer than {max_bytes} bytes")));
    }
    Ok(())
}

/// A stored identifier (or any value with a validating `FromStr`).
pub(crate) fn parse_id<T: FromStr>(what: &'static str, raw: &str) -> Result<T, StoreError>
where
    T::Err: Display,
{
    raw.parse().map_err(|e| corrupt(what, e))
}

/// A stored account reference.
pub(crate) fn account(raw: &str) -> Result<AccountRef, StoreError> {
    AccountRef::parse_key(raw).map_err(|e| corrupt("account reference", e))
}

/// An enumeration stored by its stable lowercase name.
pub(crate) trait Named: Sized + Copy {
    /// What the value is, for messages.
    const WHAT: &'static str;
    /// The stored name.
    fn name(self) -> &'static str;
    /// The value of a stored name.
    fn from_name(raw: &str) -> Option<Self>;
}

/// Parses a stored name.
pub(crate) fn named<T: Named>(raw: &str) -> Result<T, StoreError> {
    T::from_name(raw).ok_or_else(|| corrupt(T::WHAT, format!("unknown name `{}`", shorten(raw))))
}

/// Truncates stored text quoted in an error.
pub(crate) fn shorten(raw: &str) -> String {
    raw.chars().take(40).collect()
}

macro_rules! names {
    ($ty:ident, $what:literal { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl Named for $ty {
            const WHAT: &'static str = $what;
            fn name(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)+
                }
            }
            fn from_name(raw: &str) -> Option<Self> {
                match raw {
                    $($name => Some($ty::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

names!(TenantStatus, "tenant status" {
    Active => "active",
    Offboarding => "offboarding",
    Offboarded => "offboarded",
});
names!(Platform, "platform" {
    Meta => "meta",
    TikTok => "tiktok",
    TikTokShop => "tiktok-shop",
    Amazon => "amazon",
    Ebay => "ebay",
});
names!(Task, "task" {
    ReadReporting => "read_reporting",
    ReadCampaigns => "read_campaigns",
    ChangeCampaign => "change_campaign",
    ReadOrders => "read_orders",
    ReadBuyerPii => "read_buyer_pii",
    UpdateStock => "update_stock",
});
names!(GrantState, "grant state" {
    Pending => "pending",
    Active => "active",
    NeedsReview => "needs_review",
    Revoked => "revoked",
    Expired => "expired",
});
names!(ReportLevel, "report level" {
    Account => "account",
    Campaign => "campaign",
    AdGroup => "ad_group",
    Ad => "ad",
});
names!(CampaignStatus, "campaign status" {
    Active => "active",
    Paused => "paused",
    Archived => "archived",
    Deleted => "deleted",
});
names!(OrderStatus, "order status" {
    Pending => "pending",
    Unshipped => "unshipped",
    PartiallyShipped => "partially_shipped",
    Shipped => "shipped",
    Delivered => "delivered",
    Cancelled => "cancelled",
    Returned => "returned",
});
names!(DataClass, "data class" {
    OperationalLog => "operational_log",
    AuditRecord => "audit_record",
    ReportingDataset => "reporting_dataset",
    CampaignMetadata => "campaign_metadata",
    OrderDetail => "order_detail",
    BuyerPii => "buyer_pii",
    BusinessContact => "business_contact",
    Credential => "credential",
});
names!(Purpose, "purpose" {
    ServiceDelivery => "service_delivery",
    Communication => "communication",
    Compliance => "compliance",
    Improvement => "improvement",
});
names!(Role, "role" {
    Admin => "admin",
    SecurityOfficer => "security_officer",
    AccountManager => "account_manager",
    Analyst => "analyst",
    Fulfillment => "fulfillment",
    Auditor => "auditor",
});
names!(Permission, "permission" {
    TenantRead => "tenant_read",
    TenantManage => "tenant_manage",
    GrantConnect => "grant_connect",
    GrantValidate => "grant_validate",
    GrantRevoke => "grant_revoke",
    GrantReview => "grant_review",
    SyncRun => "sync_run",
    DatasetRead => "dataset_read",
    PiiRead => "pii_read",
    StockUpdate => "stock_update",
    ChangePropose => "change_propose",
    ChangeApprove => "change_approve",
    ChangeExecute => "change_execute",
    CredentialsMetaRead => "credentials_meta_read",
    DataExport => "data_export",
    RetentionManage => "retention_manage",
    HoldManage => "hold_manage",
    AuditRead => "audit_read",
    AuditVerify => "audit_verify",
    RightsManage => "rights_manage",
    IncidentManage => "incident_manage",
    PersonnelManage => "personnel_manage",
    ApiKeyManage => "api_key_manage",
});
names!(Severity, "severity" {
    Low => "low",
    Medium => "medium",
    High => "high",
    Critical => "critical",
});
names!(IncidentState, "incident state" {
    Open => "open",
    Contained => "contained",
    Resolved => "resolved",
    Closed => "closed",
});
names!(Regime, "rights regime" {
    Gdpr => "gdpr",
    Ccpa => "ccpa",
});
names!(RightsStatus, "rights request status" {
    Received => "received",
    Acknowledged => "acknowledged",
    Extended => "extended",
    Completed => "completed",
    Rejected => "rejected",
});
names!(ChangeField, "change field" {
    Status => "status",
    DailyBudget => "daily_budget",
    LifetimeBudget => "lifetime_budget",
    Bid => "bid",
    Schedule => "schedule",
});
names!(StoreKind, "store kind" {
    Dataset => "dataset",
    Contacts => "contacts",
    Secrets => "secrets",
    Keys => "keys",
    Audit => "audit",
});

#[cfg(test)]
mod tests;
