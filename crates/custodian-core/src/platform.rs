//! The five platforms, typed account references, scopes, tasks, and the table task → minimal scopes (AUTH-4).
//!
//! Scope names come from `shared/reference/ads-apis.md` and `commerce-apis.md`: Meta permissions, TikTok API
//! for Business numeric scope ids, TikTok Shop `seller.*` scopes, Amazon SP-API roles and eBay OAuth scopes.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use crate::id::{IdError, check_digits, check_id, shorten, string_id};

/// A platform Custodian pulls data from on a client's behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Platform {
    /// Meta Marketing API.
    Meta,
    /// TikTok API for Business (ads).
    TikTok,
    /// TikTok Shop Partner API.
    TikTokShop,
    /// Amazon Selling Partner API.
    Amazon,
    /// eBay Sell APIs.
    Ebay,
}

impl Platform {
    /// Every platform, in a stable order.
    pub const ALL: [Platform; 5] =
        [Platform::Meta, Platform::TikTok, Platform::TikTokShop, Platform::Amazon, Platform::Ebay];

    /// Stable lowercase name used in configuration, URLs and audit records.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Meta => "meta",
            Platform::TikTok => "tiktok",
            Platform::TikTokShop => "tiktok-shop",
            Platform::Amazon => "amazon",
            Platform::Ebay => "ebay",
        }
    }

    /// Whether this is a commerce platform (orders and stock; RET-3 purge on revocation) rather than an ad
    /// platform (reporting and campaigns).
    pub fn is_commerce(self) -> bool {
        matches!(self, Platform::TikTokShop | Platform::Amazon | Platform::Ebay)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown platform name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown platform `{0}`")]
pub struct UnknownPlatformError(pub String);

impl FromStr for Platform {
    type Err = UnknownPlatformError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Platform::ALL.into_iter().find(|p| p.as_str() == s).ok_or_else(|| UnknownPlatformError(shorten(s)))
    }
}

/// A Meta ad account id, always in the `act_<digits>` form the Marketing API uses.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MetaAdAccountId(String);

impl MetaAdAccountId {
    /// Accepts `act_123` or a bare `123` (normalized to `act_123`).
    pub fn new(raw: impl Into<String>) -> Result<Self, IdError> {
        let raw = raw.into();
        let digits = raw.strip_prefix("act_").unwrap_or(&raw);
        check_digits("meta ad account id", digits, "`act_` followed by digits")?;
        Ok(Self(format!("act_{digits}")))
    }

    /// The `act_<digits>` form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The numeric part, as Meta's `granular_scopes[].target_ids` carry it.
    pub fn numeric(&self) -> &str {
        self.0.strip_prefix("act_").unwrap_or(&self.0)
    }
}

impl fmt::Debug for MetaAdAccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MetaAdAccountId({:?})", self.0)
    }
}

/// Declares a numeric-string id (TikTok advertiser and shop ids are 64-bit numbers sent as strings).
macro_rules! digits_id {
    ($(#[$meta:meta])* $name:ident, $kind:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
        pub struct $name(String);

        impl $name {
            /// Validates that `raw` is a non-empty string of digits.
            pub fn new(raw: impl Into<String>) -> Result<Self, IdError> {
                let raw = raw.into();
                check_digits($kind, &raw, "digits only")?;
                Ok(Self(raw))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

digits_id!(
    /// A TikTok API for Business advertiser id.
    TikTokAdvertiserId,
    "tiktok advertiser id"
);
digits_id!(
    /// A TikTok Shop shop id.
    TikTokShopId,
    "tiktok shop id"
);

string_id!(
    /// An Amazon selling partner (seller) id, e.g. `A2EUQ1WTGCTBG2`.
    AmazonSellerId,
    "amazon seller id"
);
string_id!(
    /// An Amazon marketplace id, e.g. `ATVPDKIKX0DER`.
    AmazonMarketplaceId,
    "amazon marketplace id"
);
string_id!(
    /// An eBay user id (the seller's username or immutable user id).
    EbayUserId,
    "ebay user id"
);

/// The account a grant authorizes, typed per platform (AUTH-3).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccountRef {
    MetaAdAccount(MetaAdAccountId),
    TikTokAdvertiser(TikTokAdvertiserId),
    TikTokShop(TikTokShopId),
    AmazonSeller { seller: AmazonSellerId, marketplace: AmazonMarketplaceId },
    EbayUser(EbayUserId),
}

impl AccountRef {
    /// The platform this account lives on.
    pub fn platform(&self) -> Platform {
        match self {
            AccountRef::MetaAdAccount(_) => Platform::Meta,
            AccountRef::TikTokAdvertiser(_) => Platform::TikTok,
            AccountRef::TikTokShop(_) => Platform::TikTokShop,
            AccountRef::AmazonSeller { .. } => Platform::Amazon,
            AccountRef::EbayUser(_) => Platform::Ebay,
        }
    }

    /// A stable textual key: `meta:act_1`, `amazon:A1/ATVPDKIKX0DER`, …
    pub fn key(&self) -> String {
        match self {
            AccountRef::MetaAdAccount(id) => format!("meta:{}", id.as_str()),
            AccountRef::TikTokAdvertiser(id) => format!("tiktok:{}", id.as_str()),
            AccountRef::TikTokShop(id) => format!("tiktok-shop:{}", id.as_str()),
            AccountRef::AmazonSeller { seller, marketplace } => {
                format!("amazon:{}/{}", seller.as_str(), marketplace.as_str())
            }
            AccountRef::EbayUser(id) => format!("ebay:{}", id.as_str()),
        }
    }

    /// Parses the form produced by [`AccountRef::key`].
    pub fn parse_key(raw: &str) -> Result<Self, IdError> {
        let bad = || IdError::Format {
            kind: "account reference",
            value: shorten(raw),
            expected: "`<platform>:<account id>`",
        };
        let (platform, rest) = raw.split_once(':').ok_or_else(bad)?;
        let platform: Platform = platform.parse().map_err(|_| bad())?;
        Ok(match platform {
            Platform::Meta => AccountRef::MetaAdAccount(MetaAdAccountId::new(rest)?),
            Platform::TikTok => AccountRef::TikTokAdvertiser(TikTokAdvertiserId::new(rest)?),
            Platform::TikTokShop => AccountRef::TikTokShop(TikTokShopId::new(rest)?),
            Platform::Amazon => {
                let (seller, marketplace) = rest.split_once('/').ok_or_else(bad)?;
                AccountRef::AmazonSeller {
                    seller: AmazonSellerId::new(seller)?,
                    marketplace: AmazonMarketplaceId::new(marketplace)?,
                }
            }
            Platform::Ebay => AccountRef::EbayUser(EbayUserId::new(rest)?),
        })
    }
}

impl fmt::Display for AccountRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// A platform permission as the platform names it: `ads_read`, `4`, `seller.order.info`, an Amazon role,
/// or an eBay scope URL.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope(String);

impl Scope {
    /// Validates a scope name (no whitespace, printable ASCII, at most 128 bytes; Amazon role names use
    /// underscores instead of spaces, see [`AMAZON_ROLE_ORDERS`]).
    pub fn new(raw: impl Into<String>) -> Result<Self, IdError> {
        let raw = raw.into();
        check_id("scope", &raw)?;
        Ok(Self(raw))
    }

    /// The scope as the platform spells it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether holding `self` grants what `required` asks for: equal, or a write scope that includes its
    /// read-only variant (eBay `sell.inventory` covers `sell.inventory.readonly`; Meta `ads_management`
    /// covers `ads_read`).
    pub fn satisfies(&self, required: &Scope) -> bool {
        if self == required {
            return true;
        }
        if let Some(base) = required.0.strip_suffix(".readonly") {
            return self.0 == base;
        }
        self.0 == META_ADS_MANAGEMENT && required.0 == META_ADS_READ
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A unit of work a client can enable, each needing a minimal set of scopes (AUTH-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Task {
    ReadReporting,
    ReadCampaigns,
    ChangeCampaign,
    ReadOrders,
    ReadBuyerPii,
    UpdateStock,
}

impl Task {
    /// Every task, in a stable order.
    pub const ALL: [Task; 6] = [
        Task::ReadReporting,
        Task::ReadCampaigns,
        Task::ChangeCampaign,
        Task::ReadOrders,
        Task::ReadBuyerPii,
        Task::UpdateStock,
    ];

    /// Stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Task::ReadReporting => "read_reporting",
            Task::ReadCampaigns => "read_campaigns",
            Task::ChangeCampaign => "change_campaign",
            Task::ReadOrders => "read_orders",
            Task::ReadBuyerPii => "read_buyer_pii",
            Task::UpdateStock => "update_stock",
        }
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Task {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Task::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(|| IdError::Format {
            kind: "task",
            value: shorten(s),
            expected: "one of read_reporting, read_campaigns, change_campaign, read_orders, read_buyer_pii, update_stock",
        })
    }
}

/// Meta permission for reading insights and campaigns.
pub const META_ADS_READ: &str = "ads_read";
/// Meta permission for changing campaigns (includes reading).
pub const META_ADS_MANAGEMENT: &str = "ads_management";
/// TikTok scope 4 "Reporting" (covers `/report/integrated/get/`).
pub const TIKTOK_REPORTING: &str = "4";
/// TikTok scope 100 "Read Ad Account Information" (`/oauth2/advertiser/get/`).
pub const TIKTOK_READ_AD_ACCOUNT: &str = "100";
/// TikTok scope 200 "Read Campaigns" (`/campaign/get/`).
pub const TIKTOK_READ_CAMPAIGNS: &str = "200";
/// TikTok scope 20 "Campaign" management, the parent of 200, needed to update campaigns.
pub const TIKTOK_MANAGE_CAMPAIGNS: &str = "20";
/// TikTok Shop scope for the authorized-shops call used in validation.
pub const TTS_AUTHORIZATION_INFO: &str = "seller.authorization.info";
/// TikTok Shop scope for order search and detail.
pub const TTS_ORDER_INFO: &str = "seller.order.info";
/// TikTok Shop scope for inventory updates.
pub const TTS_PRODUCT_WRITE: &str = "seller.product.write";
/// Amazon SP-API role for orders.
pub const AMAZON_ROLE_ORDERS: &str = "Inventory_and_Order_Tracking";
/// Amazon SP-API restricted role for buyer and shipping PII (Restricted Data Tokens).
pub const AMAZON_ROLE_PII: &str = "Direct_to_Consumer_Shipping";
/// Amazon SP-API role for listings quantity updates.
pub const AMAZON_ROLE_LISTINGS: &str = "Product_Listing";
/// eBay read-only fulfillment scope (getOrders).
pub const EBAY_FULFILLMENT_READONLY: &str = "https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly";
/// eBay inventory scope (bulk_update_price_quantity).
pub const EBAY_INVENTORY: &str = "https://api.ebay.com/oauth/api_scope/sell.inventory";

/// A task the platform does not offer (e.g. orders on Meta).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("task `{task}` is not available on {platform}")]
pub struct UnsupportedTaskError {
    pub platform: Platform,
    pub task: Task,
}

/// The minimal scopes `task` needs on `platform` (AUTH-4). The single source of truth for consent URLs
/// and for the authorization check.
pub fn required_scopes(
    platform: Platform,
    task: Task,
) -> Result<&'static [&'static str], UnsupportedTaskError> {
    use Platform as P;
    use Task as T;
    let scopes: &'static [&'static str] = match (platform, task) {
        (P::Meta, T::ReadReporting | T::ReadCampaigns) => &[META_ADS_READ],
        (P::Meta, T::ChangeCampaign) => &[META_ADS_MANAGEMENT],
        (P::TikTok, T::ReadReporting) => &[TIKTOK_REPORTING],
        (P::TikTok, T::ReadCampaigns) => &[TIKTOK_READ_CAMPAIGNS],
        (P::TikTok, T::ChangeCampaign) => &[TIKTOK_MANAGE_CAMPAIGNS],
        (P::TikTokShop, T::ReadOrders | T::ReadBuyerPii) => &[TTS_ORDER_INFO],
        (P::TikTokShop, T::UpdateStock) => &[TTS_PRODUCT_WRITE],
        (P::Amazon, T::ReadOrders) => &[AMAZON_ROLE_ORDERS],
        (P::Amazon, T::ReadBuyerPii) => &[AMAZON_ROLE_ORDERS, AMAZON_ROLE_PII],
        (P::Amazon, T::UpdateStock) => &[AMAZON_ROLE_LISTINGS],
        (P::Ebay, T::ReadOrders | T::ReadBuyerPii) => &[EBAY_FULFILLMENT_READONLY],
        (P::Ebay, T::UpdateStock) => &[EBAY_INVENTORY],
        _ => return Err(UnsupportedTaskError { platform, task }),
    };
    Ok(scopes)
}

/// Whether `platform`'s consent page takes the requested scopes from the consent URL (AUTH-4). Meta
/// (`scope=`) and eBay (`scope=`) do; TikTok (numeric scopes fixed on the developer app), TikTok Shop (the
/// service's API packages) and Amazon (the roles of the app registration) grant what the app is registered
/// for, whatever the URL says: there least privilege is the registration, and the granted scopes that
/// validation reports are what authorization checks.
pub fn consent_url_names_scopes(platform: Platform) -> bool {
    match platform {
        Platform::Meta | Platform::Ebay => true,
        Platform::TikTok | Platform::TikTokShop | Platform::Amazon => false,
    }
}

/// Scopes every grant on `platform` needs for validation itself (AUTH-2), whatever tasks are enabled.
pub fn validation_scopes(platform: Platform) -> &'static [&'static str] {
    match platform {
        Platform::TikTok => &[TIKTOK_READ_AD_ACCOUNT],
        Platform::TikTokShop => &[TTS_AUTHORIZATION_INFO],
        Platform::Meta | Platform::Amazon | Platform::Ebay => &[],
    }
}

/// The scopes a consent URL asks for: validation scopes plus the union of the enabled tasks' scopes, and
/// nothing else (AUTH-4). Fails if any enabled task is not offered on the platform.
pub fn consent_scopes(
    platform: Platform,
    tasks: &BTreeSet<Task>,
) -> Result<BTreeSet<Scope>, UnsupportedTaskError> {
    let mut out = BTreeSet::new();
    for raw in validation_scopes(platform) {
        out.insert(Scope((*raw).to_owned()));
    }
    for task in tasks {
        for raw in required_scopes(platform, *task)? {
            out.insert(Scope((*raw).to_owned()));
        }
    }
    // A write scope that covers a requested read scope makes the read scope redundant.
    let redundant: Vec<Scope> =
        out.iter().filter(|s| out.iter().any(|o| o != *s && o.satisfies(s))).cloned().collect();
    for s in redundant {
        out.remove(&s);
    }
    Ok(out)
}

/// Scopes from `required` that `granted` does not satisfy.
pub fn missing_scopes<'a>(granted: &BTreeSet<Scope>, required: &'a [&'a str]) -> Vec<&'a str> {
    required
        .iter()
        .copied()
        .filter(|r| !granted.iter().any(|g| g.0 == *r || g.satisfies(&Scope((*r).to_owned()))))
        .collect()
}

/// Checks a raw scope list from a platform response and keeps the valid ones (invalid entries are dropped
/// and reported, never trusted).
pub fn parse_scopes<'a>(raw: impl IntoIterator<Item = &'a str>) -> (BTreeSet<Scope>, Vec<IdError>) {
    let mut ok = BTreeSet::new();
    let mut errors = Vec::new();
    for r in raw {
        match check_id("scope", r) {
            Ok(()) => {
                ok.insert(Scope(r.to_owned()));
            }
            Err(e) => errors.push(e),
        }
    }
    (ok, errors)
}

#[cfg(test)]
mod tests;
