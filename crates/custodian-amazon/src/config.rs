//! [`AmazonConfig`]: hosts (every base URL configurable, defaults the real ones), the app registration (LWA
//! client id and secret, SP-API application id and roles), which Orders API to use, paging, rate limits,
//! retries, the HTTP client settings and the clock.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use custodian_core::platform::{AMAZON_ROLE_LISTINGS, AMAZON_ROLE_ORDERS, AMAZON_ROLE_PII, Scope};
use custodian_core::ports::Clock;
use custodian_http::{HttpConfig, Rate, RetryPolicy};
use secrecy::SecretString;

use crate::rate::Operation;

/// Login with Amazon (the token endpoint is `POST {LWA_BASE}/auth/o2/token`).
pub const LWA_BASE: &str = "https://api.amazon.com";
/// Seller Central (the consent page is `{CONSENT_BASE}/apps/authorize/consent`).
pub const CONSENT_BASE: &str = "https://sellercentral.amazon.com";
/// The SP-API endpoint of North America.
pub const SP_API_NA: &str = "https://sellingpartnerapi-na.amazon.com";
/// The SP-API endpoint of Europe (with the Middle East, India and Africa).
pub const SP_API_EU: &str = "https://sellingpartnerapi-eu.amazon.com";
/// The SP-API endpoint of the Far East.
pub const SP_API_FE: &str = "https://sellingpartnerapi-fe.amazon.com";

/// An SP-API region: one endpoint serving a set of marketplaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionEndpoint {
    /// A name for logs and errors (`na`, `eu`, `fe`).
    pub name: String,
    /// The endpoint, e.g. [`SP_API_NA`].
    pub base_url: String,
    /// The marketplace ids this endpoint serves.
    pub marketplaces: BTreeSet<String>,
}

impl RegionEndpoint {
    fn new(name: &str, base_url: &str, marketplaces: &[&str]) -> Self {
        Self {
            name: name.to_owned(),
            base_url: base_url.to_owned(),
            marketplaces: marketplaces.iter().map(|m| (*m).to_owned()).collect(),
        }
    }

    /// One endpoint for every marketplace in `marketplaces` (tests and the simulator).
    pub fn single(base_url: &str, marketplaces: &[&str]) -> Vec<Self> {
        vec![Self::new("sim", base_url, marketplaces)]
    }

    /// The three real regions with the marketplace ids of Amazon's table
    /// (`https://developer-docs.amazon.com/sp-api/docs/marketplace-ids`; not in `shared/reference`, so
    /// extend or replace them through the configuration when Amazon adds one).
    pub fn defaults() -> Vec<Self> {
        vec![
            Self::new(
                "na",
                SP_API_NA,
                &["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "A1AM78C64UM0Y8", "A2Q3Y263D00KWC"],
            ),
            Self::new(
                "eu",
                SP_API_EU,
                &[
                    "A28R8C7NBKEWEA",
                    "A1F83G8C2ARO7P",
                    "A1PA6795UKMFR9",
                    "A13V1IB3VIYZZH",
                    "APJ6JRA9NG5V4",
                    "A1RKKUPIHCS9HS",
                    "A1805IZSGTT6HS",
                    "A2NODRKZP88ZB9",
                    "A1C3SOZRARQ6R3",
                    "AMEN7PMS3EDWL",
                    "A21TJRUUN4KGV",
                    "A33AVAJ2PDY3EV",
                    "A2VIGQ35RCS4UG",
                    "A17E79C6D8DWNP",
                    "ARBP9OOSHTCHU",
                    "AE08WJ6YKNBMC",
                ],
            ),
            Self::new("fe", SP_API_FE, &["A1VC38T7YXB528", "A39IBJ37TRP1C6", "A19VAU5U5O7RUS"]),
        ]
    }
}

/// Which Orders API reads orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrdersApi {
    /// Orders 2026-01-01 `searchOrders`: items in the same answer, buyer and recipient only through
    /// `includedData` (MIN-2). The default.
    #[default]
    V2026,
    /// Orders v0 `getOrders` plus `getOrderItems` per order; buyer and address PII only with a Restricted
    /// Data Token.
    V0,
}

/// The adapter's settings. Build with [`AmazonConfig::new`] and override fields.
#[derive(Clone)]
pub struct AmazonConfig {
    /// Default [`LWA_BASE`].
    pub lwa_base: String,
    /// Default [`CONSENT_BASE`].
    pub consent_base: String,
    /// Default [`RegionEndpoint::defaults`]; the first region is used when no marketplace is known yet.
    pub regions: Vec<RegionEndpoint>,
    /// The LWA client id (`amzn1.application-oa2-client.…`).
    pub client_id: String,
    /// The LWA client secret (SEC-1: exposed only to build the token request body).
    pub client_secret: SecretString,
    /// The SP-API application id (`amzn1.sp.solution.…`) of the consent URL.
    pub application_id: String,
    /// The roles of the app registration. Amazon grants exactly these at consent (there are no
    /// per-request scopes), so they are the scopes the adapter reports. Default: every role Custodian uses.
    pub app_roles: BTreeSet<Scope>,
    /// AUTH-4: by default the consent URL is refused when the app registration holds a role the enabled
    /// tasks do not need (Amazon would ask the seller for it). `true` accepts a broader consent.
    pub allow_broader_consent: bool,
    /// A draft app: the consent URL carries `version=beta`.
    pub draft_app: bool,
    /// Default [`OrdersApi::V2026`].
    pub orders_api: OrdersApi,
    /// Orders per page, 1 to 100 (default 100, the largest Amazon allows).
    pub page_size: u8,
    /// Usage plans that differ from the official defaults (a seller with a raised plan). Missing
    /// operations use [`Operation::official`].
    pub usage_plans: BTreeMap<Operation, Rate>,
    /// The share of each rate the adapter uses (default 0.95), so that network jitter never drains
    /// Amazon's bucket before ours.
    pub rate_safety: f64,
    /// How many `getOrderItems` calls (Orders v0) run at once. Default 4.
    pub item_concurrency: usize,
    pub retry: RetryPolicy,
    pub http: HttpConfig,
    /// Where "now" comes from (the two-minute rule, token expiries, cached tokens).
    pub clock: Arc<dyn Clock>,
}

impl AmazonConfig {
    /// The real hosts, every role, Orders 2026-01-01, pages of 100, the official usage plans.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: SecretString,
        application_id: impl Into<String>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let roles = [AMAZON_ROLE_ORDERS, AMAZON_ROLE_PII, AMAZON_ROLE_LISTINGS];
        Self {
            lwa_base: LWA_BASE.to_owned(),
            consent_base: CONSENT_BASE.to_owned(),
            regions: RegionEndpoint::defaults(),
            client_id: client_id.into(),
            client_secret,
            application_id: application_id.into(),
            app_roles: roles.iter().filter_map(|r| Scope::new(*r).ok()).collect(),
            allow_broader_consent: false,
            draft_app: false,
            orders_api: OrdersApi::default(),
            page_size: 100,
            usage_plans: BTreeMap::new(),
            rate_safety: 0.95,
            item_concurrency: 4,
            retry: RetryPolicy::default(),
            http: HttpConfig::default(),
            clock,
        }
    }

    /// The usage plan the adapter starts from for `op`.
    pub fn usage_plan(&self, op: Operation) -> Rate {
        self.usage_plans.get(&op).copied().unwrap_or_else(|| op.official())
    }
}

impl fmt::Debug for AmazonConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmazonConfig")
            .field("lwa_base", &self.lwa_base)
            .field("consent_base", &self.consent_base)
            .field("regions", &self.regions)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("application_id", &self.application_id)
            .field("app_roles", &self.app_roles)
            .field("allow_broader_consent", &self.allow_broader_consent)
            .field("draft_app", &self.draft_app)
            .field("orders_api", &self.orders_api)
            .field("page_size", &self.page_size)
            .field("usage_plans", &self.usage_plans)
            .field("rate_safety", &self.rate_safety)
            .field("item_concurrency", &self.item_concurrency)
            .field("retry", &self.retry)
            .field("http", &self.http)
            .finish_non_exhaustive()
    }
}
