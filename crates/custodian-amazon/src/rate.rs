//! The SP-API operations the adapter calls and their official usage plans (token buckets per selling
//! partner and application, per operation), and the client-side limiter that keeps under them.
//!
//! One [`RateLimiter`] per operation, whose default rate is the operation's plan (times the safety
//! factor), keyed by (`amazon`, client id, selling partner, operation): shared by every clone of the
//! adapter. The `x-amzn-RateLimit-Limit` header of each answer moves the key's rate to what Amazon
//! applies; a 429 pauses the key for one token's time.

use std::fmt;
use std::time::Duration;

use custodian_http::{HeaderMap, Rate, RateKey, RateLimiter};

/// An SP-API operation the adapter calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    /// Orders v0 `getOrders`.
    GetOrders,
    /// Orders v0 `getOrderItems`.
    GetOrderItems,
    /// Orders 2026-01-01 `searchOrders`.
    SearchOrders,
    /// Tokens 2021-03-01 `createRestrictedDataToken`.
    CreateRestrictedDataToken,
    /// Listings Items 2021-08-01 `patchListingsItem`.
    PatchListingsItem,
    /// FBA Inventory v1 `getInventorySummaries`.
    GetInventorySummaries,
    /// Sellers v1 `getMarketplaceParticipations`.
    GetMarketplaceParticipations,
}

impl Operation {
    /// Every operation, in a stable order.
    pub const ALL: [Operation; 7] = [
        Operation::GetOrders,
        Operation::GetOrderItems,
        Operation::SearchOrders,
        Operation::CreateRestrictedDataToken,
        Operation::PatchListingsItem,
        Operation::GetInventorySummaries,
        Operation::GetMarketplaceParticipations,
    ];

    /// The model's `operationId`, qualified by its API (the rate-limit bucket name).
    pub fn name(self) -> &'static str {
        match self {
            Self::GetOrders => "ordersV0.getOrders",
            Self::GetOrderItems => "ordersV0.getOrderItems",
            Self::SearchOrders => "orders2026.searchOrders",
            Self::CreateRestrictedDataToken => "tokens.createRestrictedDataToken",
            Self::PatchListingsItem => "listingsItems.patchListingsItem",
            Self::GetInventorySummaries => "fbaInventory.getInventorySummaries",
            Self::GetMarketplaceParticipations => "sellers.getMarketplaceParticipations",
        }
    }

    /// The default rate and burst of the model's "Usage Plan" table.
    pub fn official(self) -> Rate {
        match self {
            Self::GetOrders => Rate::new(0.0167, 20),
            Self::GetOrderItems => Rate::new(0.5, 30),
            Self::SearchOrders => Rate::new(0.0056, 20),
            Self::CreateRestrictedDataToken => Rate::new(1.0, 10),
            Self::PatchListingsItem => Rate::new(5.0, 5),
            Self::GetInventorySummaries => Rate::new(2.0, 2),
            Self::GetMarketplaceParticipations => Rate::new(0.016, 15),
        }
    }

    fn index(self) -> usize {
        match self {
            Self::GetOrders => 0,
            Self::GetOrderItems => 1,
            Self::SearchOrders => 2,
            Self::CreateRestrictedDataToken => 3,
            Self::PatchListingsItem => 4,
            Self::GetInventorySummaries => 5,
            Self::GetMarketplaceParticipations => 6,
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The header carrying the rate Amazon applies to the (selling partner, application) pair.
pub(crate) const RATE_LIMIT_HEADER: &str = "x-amzn-RateLimit-Limit";

/// The rate in an `x-amzn-RateLimit-Limit` header, if present and a positive number.
pub(crate) fn header_rate(headers: &HeaderMap) -> Option<f64> {
    let value: f64 = headers.get(RATE_LIMIT_HEADER)?.to_str().ok()?.trim().parse().ok()?;
    (value.is_finite() && value > 0.0).then_some(value)
}

/// The per-operation limiters of one adapter (and its clones).
#[derive(Clone)]
pub(crate) struct Limits {
    limiters: Vec<RateLimiter>,
    plans: Vec<Rate>,
    safety: f64,
    client_id: String,
}

impl fmt::Debug for Limits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limits")
            .field("plans", &self.plans)
            .field("safety", &self.safety)
            .finish_non_exhaustive()
    }
}

impl Limits {
    /// Limiters starting at `plan(op) × safety` (safety clamped to `(0, 1]`).
    pub(crate) fn new(client_id: &str, safety: f64, plan: impl Fn(Operation) -> Rate) -> Self {
        let safety = if safety.is_finite() && safety > 0.0 { safety.min(1.0) } else { 1.0 };
        let plans: Vec<Rate> = Operation::ALL.iter().map(|op| plan(*op)).collect();
        let limiters = plans
            .iter()
            .map(|p| RateLimiter::new(Rate::new(p.per_second * safety, p.burst.max(1))))
            .collect();
        Self { limiters, plans, safety, client_id: client_id.to_owned() }
    }

    fn limiter(&self, op: Operation) -> Option<&RateLimiter> {
        self.limiters.get(op.index())
    }

    fn key(&self, op: Operation, seller: &str) -> RateKey {
        RateKey::new("amazon", self.client_id.as_str(), seller, op.name())
    }

    /// Waits for a token of `op` for `seller`.
    pub(crate) async fn acquire(&self, op: Operation, seller: &str) {
        if let Some(limiter) = self.limiter(op) {
            limiter.acquire(&self.key(op, seller)).await;
        }
    }

    /// Follows the rate Amazon says it applies (`x-amzn-RateLimit-Limit`).
    pub(crate) fn observe(&self, op: Operation, seller: &str, headers: &HeaderMap) {
        if let (Some(rate), Some(limiter)) = (header_rate(headers), self.limiter(op)) {
            limiter.set_rate(&self.key(op, seller), rate * self.safety);
        }
    }

    /// After a 429: nobody sends `op` for `seller` for one token's time; that time is returned as the
    /// retry hint.
    pub(crate) fn throttled(&self, op: Operation, seller: &str) -> Duration {
        let per_second = self.plans.get(op.index()).map_or(1.0, |p| p.per_second * self.safety);
        let wait =
            Duration::try_from_secs_f64(1.0 / per_second.max(1e-6)).unwrap_or(Duration::from_secs(300));
        if let Some(limiter) = self.limiter(op) {
            limiter.pause(&self.key(op, seller), wait);
        }
        wait
    }
}
