//! [`ScriptedPlatform`]: every platform port (`Authorizer`, `ReportingSource`, `CampaignControl`,
//! `CommerceChannel`, `SignalVerifier`) for any [`Platform`], driven by a [`Script`].

mod signal;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::sync::Mutex;

use async_trait::async_trait;
use custodian_core::approval::{CampaignReadback, ChangeDiff, ChangeField, ChangeValue};
use custodian_core::data::{Campaign, CampaignId, LocationId, Order, ReportRow, Sku, StockLevel};
use custodian_core::grant::{GrantEvidence, OwnerId};
use custodian_core::platform::{AccountRef, Platform, Scope, consent_scopes};
use custodian_core::ports::{
    Authorizer, CampaignControl, CommerceChannel, ConsentRequest, Credentials, Cursor, OrderQuery, Page,
    PiiSealer, PlatformError, RawSignal, ReportQuery, ReportingSource, SignalError, SignalVerifier,
    StockUpdate, StockUpdateResult, Target, VerifiedSignal,
};
use secrecy::{ExposeSecret, SecretString};
use time::{Duration, OffsetDateTime};

pub use signal::SIGNATURE_HEADER;

use super::{InjectedFailure, lock};
use crate::fixtures;

/// A platform method, for injected faults and call counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    ConsentUrl,
    Exchange,
    Refresh,
    Validate,
    Campaigns,
    ReportRows,
    Apply,
    ReadBack,
    Orders,
    Stock,
    SetStock,
    Verify,
}

/// An error to inject into a method's next call. Signal verification maps `Unavailable` to
/// [`SignalError::Unavailable`], `Invalid` to [`SignalError::Malformed`] and the rest to
/// [`SignalError::BadSignature`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    Revoked(String),
    Unauthorized(String),
    Forbidden(String),
    NotFound(String),
    RateLimited(Option<Duration>),
    Invalid(String),
    Unsupported(String),
    Unavailable(String),
}

impl Fault {
    /// The platform error this fault stands for.
    pub fn to_error(&self) -> PlatformError {
        match self.clone() {
            Fault::Revoked(detail) => PlatformError::Revoked { detail },
            Fault::Unauthorized(detail) => PlatformError::Unauthorized { detail },
            Fault::Forbidden(detail) => PlatformError::Forbidden { detail },
            Fault::NotFound(detail) => PlatformError::NotFound { detail },
            Fault::RateLimited(retry_after) => PlatformError::RateLimited { retry_after },
            Fault::Invalid(detail) => PlatformError::Invalid { detail },
            Fault::Unsupported(what) => PlatformError::Unsupported(what),
            Fault::Unavailable(what) => PlatformError::Unavailable(Box::new(InjectedFailure(what))),
        }
    }

    fn to_signal_error(&self) -> SignalError {
        match self.clone() {
            Fault::Unavailable(what) => SignalError::Unavailable(Box::new(InjectedFailure(what))),
            Fault::Invalid(what) => SignalError::Malformed(what),
            _ => SignalError::BadSignature,
        }
    }
}

/// What a [`ScriptedPlatform`] reports and serves.
#[derive(Clone)]
pub struct Script {
    pub platform: Platform,
    /// The evidence [`Authorizer::validate`] reports (stamped with the call's `now`).
    pub owner: OwnerId,
    pub accounts: BTreeSet<AccountRef>,
    pub scopes: BTreeSet<Scope>,
    pub expires_at: Option<OffsetDateTime>,
    pub data_access_expires_at: Option<OffsetDateTime>,
    /// The one authorization code [`Authorizer::exchange`] accepts, once.
    pub code: SecretString,
    /// The access token issued at exchange; refreshes issue new ones.
    pub access_token: SecretString,
    /// `None`: the platform has no refresh (long-lived tokens) and refresh returns credentials unchanged.
    pub refresh_token: Option<SecretString>,
    /// How many campaigns, report rows, orders and stock levels each account has.
    pub campaigns: usize,
    pub report_rows: usize,
    pub orders: usize,
    pub stock: usize,
    /// Items per page (at least 1).
    pub page_size: usize,
    /// `updated_at` of generated campaigns and `observed_at` of stock.
    pub epoch: OffsetDateTime,
    /// The HMAC-SHA256 key of signals.
    pub signal_secret: SecretString,
}

impl Script {
    /// A script for `platform`: [`fixtures::owner`], account 1, the consent scopes of every supported task,
    /// code `code-1`, tokens `access-1` and `refresh-1`, no data, pages of 50, epoch [`fixtures::T0`].
    pub fn new(platform: Platform) -> Self {
        Self {
            platform,
            owner: fixtures::owner(platform),
            accounts: BTreeSet::from([fixtures::account(platform, 1)]),
            scopes: consent_scopes(platform, &fixtures::supported_tasks(platform)).unwrap_or_default(),
            expires_at: None,
            data_access_expires_at: None,
            code: SecretString::from("code-1"),
            access_token: SecretString::from("access-1"),
            refresh_token: Some(SecretString::from("refresh-1")),
            campaigns: 0,
            report_rows: 0,
            orders: 0,
            stock: 0,
            page_size: 50,
            epoch: fixtures::T0,
            signal_secret: SecretString::from("scripted-signal-secret"),
        }
    }
}

impl fmt::Debug for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Script")
            .field("platform", &self.platform)
            .field("owner", &self.owner)
            .field("accounts", &self.accounts)
            .field("scopes", &self.scopes)
            .field("campaigns", &self.campaigns)
            .field("report_rows", &self.report_rows)
            .field("orders", &self.orders)
            .field("stock", &self.stock)
            .field("page_size", &self.page_size)
            .finish_non_exhaustive()
    }
}

/// Every platform port from a [`Script`], with injected faults and call counters.
///
/// - Tokens: [`Authorizer::exchange`] accepts the script's code once; access tokens it or a refresh issued
///   are accepted, anything else is [`PlatformError::Unauthorized`]. [`ScriptedPlatform::revoke`] makes every
///   credentialed call [`PlatformError::Revoked`].
/// - Data: pages of fixture records ([`fixtures`]) stamped with the call's `Target`; an account outside
///   the script's accounts is [`PlatformError::Forbidden`]. Cursors are offsets.
/// - Orders carry buyer PII only when a [`PiiSealer`] is given, sealed with it.
/// - Changes: `apply` updates the read-back of the campaign (except fields set with
///   [`ScriptedPlatform::drop_on_apply`], to simulate a platform that ignored part of a change).
/// - Signals: see [`SIGNATURE_HEADER`] and [`ScriptedPlatform::signed_signal`].
pub struct ScriptedPlatform {
    state: Mutex<State>,
}

struct State {
    script: Script,
    code_used: bool,
    accepted: Vec<SecretString>,
    issued: u64,
    revoked: bool,
    faults: HashMap<Method, VecDeque<Option<Fault>>>,
    calls: BTreeMap<Method, u64>,
    applied: Vec<ChangeDiff>,
    readbacks: BTreeMap<CampaignId, CampaignReadback>,
    dropped: BTreeSet<ChangeField>,
    stock_updates: Vec<StockUpdate>,
    stock_levels: BTreeMap<(Sku, Option<LocationId>), u32>,
    rejected_skus: BTreeSet<Sku>,
}

impl State {
    /// Counts the call and returns its injected fault, if any.
    fn begin(&mut self, method: Method) -> Result<(), PlatformError> {
        *self.calls.entry(method).or_default() += 1;
        match self.faults.get_mut(&method).and_then(VecDeque::pop_front) {
            Some(Some(fault)) => Err(fault.to_error()),
            _ => Ok(()),
        }
    }

    fn accepts(&self, credentials: &Credentials) -> bool {
        let token = credentials.access_token.expose_secret();
        self.accepted.iter().any(|t| t.expose_secret() == token)
    }

    /// The checks of a call made with credentials.
    fn authorized(&self, credentials: &Credentials) -> Result<(), PlatformError> {
        if self.revoked {
            return Err(PlatformError::Revoked {
                detail: "the scripted authorization was revoked".to_owned(),
            });
        }
        if !self.accepts(credentials) {
            return Err(PlatformError::Unauthorized { detail: "unknown access token".to_owned() });
        }
        Ok(())
    }

    /// The checks of a data call for `target`.
    fn data_call(
        &mut self,
        method: Method,
        target: &Target,
        credentials: &Credentials,
    ) -> Result<(), PlatformError> {
        self.begin(method)?;
        self.authorized(credentials)?;
        if !self.script.accounts.contains(&target.account) {
            return Err(PlatformError::Forbidden {
                detail: format!("account `{}` is not authorized", target.account),
            });
        }
        Ok(())
    }

    fn page_size(&self) -> usize {
        self.script.page_size.max(1)
    }

    fn known_campaign(&self, id: &CampaignId) -> Option<CampaignReadback> {
        if let Some(readback) = self.readbacks.get(id) {
            return Some(*readback);
        }
        let n: u64 = id.as_str().strip_prefix("cmp-")?.parse().ok()?;
        (n < self.script.campaigns as u64).then(|| fixtures::campaign_readback(n))
    }
}

/// Reads an offset cursor.
fn offset(cursor: Option<Cursor>) -> Result<usize, PlatformError> {
    match cursor {
        None => Ok(0),
        Some(Cursor(raw)) => {
            raw.parse().map_err(|_| PlatformError::Invalid { detail: format!("bad cursor `{raw}`") })
        }
    }
}

/// One page of `total` items starting at `start`, built by `item`.
fn page<T, E>(
    start: usize,
    size: usize,
    total: usize,
    mut item: impl FnMut(u64) -> Result<T, E>,
) -> Result<Page<T>, E> {
    let end = start.saturating_add(size).min(total);
    let items = (start..end).map(|i| item(i as u64)).collect::<Result<Vec<T>, E>>()?;
    let next = (end < total).then(|| Cursor(end.to_string()));
    Ok(Page { items, next })
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(crate) fn percent_encode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for byte in raw.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

impl ScriptedPlatform {
    /// A platform serving `script`.
    pub fn new(script: Script) -> Self {
        let accepted = vec![script.access_token.clone()];
        Self {
            state: Mutex::new(State {
                script,
                code_used: false,
                accepted,
                issued: 1,
                revoked: false,
                faults: HashMap::new(),
                calls: BTreeMap::new(),
                applied: Vec::new(),
                readbacks: BTreeMap::new(),
                dropped: BTreeSet::new(),
                stock_updates: Vec::new(),
                stock_levels: BTreeMap::new(),
                rejected_skus: BTreeSet::new(),
            }),
        }
    }

    /// The platform this script plays.
    pub fn platform(&self) -> Platform {
        lock(&self.state).script.platform
    }

    /// Changes the script (e.g. a new owner or fewer accounts for the next validation, AUTH-5).
    pub fn edit(&self, f: impl FnOnce(&mut Script)) {
        f(&mut lock(&self.state).script);
    }

    /// A copy of the current script.
    pub fn script(&self) -> Script {
        lock(&self.state).script.clone()
    }

    /// With `true`, every call made with credentials fails with [`PlatformError::Revoked`] (the client
    /// removed the app; refresh answers `invalid_grant`).
    pub fn revoke(&self, on: bool) {
        lock(&self.state).revoked = on;
    }

    /// The next call of `method` fails with `fault`.
    pub fn fail_next(&self, method: Method, fault: Fault) {
        lock(&self.state).faults.entry(method).or_default().push_back(Some(fault));
    }

    /// The next `ok` calls of `method` succeed, then one fails with `fault` (e.g. revocation mid-sync).
    pub fn fail_after(&self, method: Method, ok: usize, fault: Fault) {
        let mut state = lock(&self.state);
        let queue = state.faults.entry(method).or_default();
        queue.extend(std::iter::repeat_n(None, ok));
        queue.push_back(Some(fault));
    }

    /// How many times `method` was called (failed calls included).
    pub fn calls(&self, method: Method) -> u64 {
        lock(&self.state).calls.get(&method).copied().unwrap_or(0)
    }

    /// How many calls were made, of every method.
    pub fn total_calls(&self) -> u64 {
        lock(&self.state).calls.values().sum()
    }

    /// Every diff applied so far, in order.
    pub fn applied(&self) -> Vec<ChangeDiff> {
        lock(&self.state).applied.clone()
    }

    /// From now on, `apply` silently ignores changes of `field` (the read-back then disagrees, CAM-2).
    pub fn drop_on_apply(&self, field: ChangeField) {
        lock(&self.state).dropped.insert(field);
    }

    /// Every stock update received, in order.
    pub fn stock_updates(&self) -> Vec<StockUpdate> {
        lock(&self.state).stock_updates.clone()
    }

    /// From now on, stock updates of `sku` are rejected.
    pub fn reject_sku(&self, sku: Sku) {
        lock(&self.state).rejected_skus.insert(sku);
    }
}

impl fmt::Debug for ScriptedPlatform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("ScriptedPlatform")
            .field("script", &state.script)
            .field("revoked", &state.revoked)
            .field("calls", &state.calls)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Authorizer for ScriptedPlatform {
    fn platform(&self) -> Platform {
        ScriptedPlatform::platform(self)
    }

    fn consent_url(&self, req: &ConsentRequest) -> Result<String, PlatformError> {
        let mut state = lock(&self.state);
        state.begin(Method::ConsentUrl)?;
        let platform = state.script.platform;
        let scopes =
            consent_scopes(platform, &req.tasks).map_err(|e| PlatformError::Unsupported(e.to_string()))?;
        let scope = scopes.iter().map(Scope::as_str).collect::<Vec<_>>().join(" ");
        Ok(format!(
            "https://consent.scripted.invalid/{}/authorize?client_id=custodian&redirect_uri={}&state={}&scope={}",
            platform.as_str(),
            percent_encode(&req.redirect_uri),
            percent_encode(&req.state),
            percent_encode(&scope),
        ))
    }

    async fn exchange(&self, code: &SecretString, redirect_uri: &str) -> Result<Credentials, PlatformError> {
        let mut state = lock(&self.state);
        state.begin(Method::Exchange)?;
        let valid = !state.code_used
            && !redirect_uri.is_empty()
            && code.expose_secret() == state.script.code.expose_secret();
        if !valid {
            return Err(PlatformError::Invalid {
                detail: "authorization code is used, expired or unknown".to_owned(),
            });
        }
        state.code_used = true;
        let script = &state.script;
        Ok(Credentials {
            access_token: script.access_token.clone(),
            refresh_token: script.refresh_token.clone(),
            access_expires_at: script.expires_at,
            refresh_expires_at: None,
            scopes: script.scopes.clone(),
            accounts: script.accounts.clone(),
        })
    }

    async fn refresh(&self, credentials: &Credentials) -> Result<Credentials, PlatformError> {
        let mut state = lock(&self.state);
        state.begin(Method::Refresh)?;
        if state.revoked {
            return Err(PlatformError::Revoked { detail: "invalid_grant".to_owned() });
        }
        let Some(current) = state.script.refresh_token.clone() else {
            return Ok(credentials.clone());
        };
        let presented = credentials.refresh_token.as_ref().map(ExposeSecret::expose_secret);
        if presented != Some(current.expose_secret()) {
            return Err(PlatformError::Revoked { detail: "invalid_grant: unknown refresh token".to_owned() });
        }
        state.issued += 1;
        let token = SecretString::from(format!("access-{}", state.issued));
        state.accepted.push(token.clone());
        Ok(Credentials { access_token: token, refresh_token: Some(current), ..credentials.clone() })
    }

    async fn validate(
        &self,
        credentials: &Credentials,
        now: OffsetDateTime,
    ) -> Result<GrantEvidence, PlatformError> {
        let mut state = lock(&self.state);
        state.begin(Method::Validate)?;
        state.authorized(credentials)?;
        let script = &state.script;
        Ok(GrantEvidence {
            owner: script.owner.clone(),
            accounts: script.accounts.clone(),
            scopes: script.scopes.clone(),
            expires_at: script.expires_at,
            data_access_expires_at: script.data_access_expires_at,
            validated_at: now,
        })
    }
}

#[async_trait]
impl ReportingSource for ScriptedPlatform {
    async fn campaigns(
        &self,
        target: &Target,
        credentials: &Credentials,
        cursor: Option<Cursor>,
    ) -> Result<Page<Campaign>, PlatformError> {
        let mut state = lock(&self.state);
        state.data_call(Method::Campaigns, target, credentials)?;
        let epoch = state.script.epoch;
        page(offset(cursor)?, state.page_size(), state.script.campaigns, |i| {
            Ok(fixtures::campaign(target, i, epoch))
        })
    }

    async fn report_rows(
        &self,
        target: &Target,
        credentials: &Credentials,
        query: &ReportQuery,
        cursor: Option<Cursor>,
    ) -> Result<Page<ReportRow>, PlatformError> {
        let mut state = lock(&self.state);
        state.data_call(Method::ReportRows, target, credentials)?;
        if query.to < query.from {
            return Err(PlatformError::Invalid {
                detail: "the report range ends before it starts".to_owned(),
            });
        }
        let days = u32::try_from((query.to - query.from).whole_days() + 1).unwrap_or(u32::MAX);
        page(offset(cursor)?, state.page_size(), state.script.report_rows, |i| {
            Ok(fixtures::report_row(target, query.level, query.from, days, i))
        })
    }
}

#[async_trait]
impl CampaignControl for ScriptedPlatform {
    async fn apply(
        &self,
        target: &Target,
        credentials: &Credentials,
        diff: &ChangeDiff,
    ) -> Result<(), PlatformError> {
        let mut state = lock(&self.state);
        state.data_call(Method::Apply, target, credentials)?;
        if diff.account() != &target.account {
            return Err(PlatformError::Invalid { detail: "the change is for another account".to_owned() });
        }
        let mut readback = state
            .known_campaign(diff.campaign())
            .ok_or_else(|| PlatformError::NotFound { detail: format!("campaign `{}`", diff.campaign()) })?;
        for change in diff.changes() {
            if state.dropped.contains(&change.field()) {
                continue;
            }
            match (change.field(), *change.to()) {
                (ChangeField::Status, ChangeValue::Status(s)) => readback.status = Some(s),
                (ChangeField::DailyBudget, ChangeValue::Micros(m)) => readback.daily_budget_micros = Some(m),
                (ChangeField::LifetimeBudget, ChangeValue::Micros(m)) => {
                    readback.lifetime_budget_micros = Some(m)
                }
                (ChangeField::Bid, ChangeValue::Micros(m)) => readback.bid_micros = Some(m),
                (ChangeField::Schedule, ChangeValue::Schedule { start, end }) => {
                    readback.schedule_start = Some(start);
                    readback.schedule_end = Some(end);
                }
                _ => {
                    return Err(PlatformError::Invalid { detail: "value does not fit its field".to_owned() });
                }
            }
        }
        state.readbacks.insert(diff.campaign().clone(), readback);
        state.applied.push(diff.clone());
        Ok(())
    }

    async fn read_back(
        &self,
        target: &Target,
        credentials: &Credentials,
        campaign: &CampaignId,
    ) -> Result<CampaignReadback, PlatformError> {
        let mut state = lock(&self.state);
        state.data_call(Method::ReadBack, target, credentials)?;
        state
            .known_campaign(campaign)
            .ok_or_else(|| PlatformError::NotFound { detail: format!("campaign `{campaign}`") })
    }
}

#[async_trait]
impl CommerceChannel for ScriptedPlatform {
    async fn orders(
        &self,
        target: &Target,
        credentials: &Credentials,
        query: &OrderQuery,
        cursor: Option<Cursor>,
        pii: Option<PiiSealer>,
    ) -> Result<Page<Order>, PlatformError> {
        let mut state = lock(&self.state);
        state.data_call(Method::Orders, target, credentials)?;
        if query.updated_before <= query.updated_after {
            return Err(PlatformError::Invalid { detail: "the order window is empty".to_owned() });
        }
        let total = state.script.orders;
        page(offset(cursor)?, state.page_size(), total, |i| {
            fixtures::order_in_window(target, query, total as u64, i, pii.as_ref())
                .map_err(|e| PlatformError::Unavailable(Box::new(e)))
        })
    }

    async fn stock(
        &self,
        target: &Target,
        credentials: &Credentials,
        cursor: Option<Cursor>,
    ) -> Result<Page<StockLevel>, PlatformError> {
        let mut state = lock(&self.state);
        state.data_call(Method::Stock, target, credentials)?;
        let epoch = state.script.epoch;
        let levels = &state.stock_levels;
        page(offset(cursor)?, state.page_size(), state.script.stock, |i| {
            let mut level = fixtures::stock_level(target, i, epoch);
            if let Some(quantity) = levels.get(&(level.sku.clone(), level.location.clone())) {
                level.quantity = i64::from(*quantity);
            }
            Ok(level)
        })
    }

    async fn set_stock(
        &self,
        target: &Target,
        credentials: &Credentials,
        updates: &[StockUpdate],
    ) -> Result<Vec<StockUpdateResult>, PlatformError> {
        let mut state = lock(&self.state);
        state.data_call(Method::SetStock, target, credentials)?;
        let mut results = Vec::with_capacity(updates.len());
        for update in updates {
            state.stock_updates.push(update.clone());
            if state.rejected_skus.contains(&update.sku) {
                results.push(StockUpdateResult::Rejected {
                    sku: update.sku.clone(),
                    reason: "rejected by the script".to_owned(),
                });
            } else {
                state.stock_levels.insert((update.sku.clone(), update.location.clone()), update.quantity);
                results.push(StockUpdateResult::Applied { sku: update.sku.clone() });
            }
        }
        Ok(results)
    }
}

#[async_trait]
impl SignalVerifier for ScriptedPlatform {
    fn platform(&self) -> Platform {
        ScriptedPlatform::platform(self)
    }

    async fn verify(&self, raw: &RawSignal) -> Result<VerifiedSignal, SignalError> {
        let mut state = lock(&self.state);
        *state.calls.entry(Method::Verify).or_default() += 1;
        if let Some(Some(fault)) = state.faults.get_mut(&Method::Verify).and_then(VecDeque::pop_front) {
            return Err(fault.to_signal_error());
        }
        signal::verify(state.script.platform, &state.script.signal_secret, raw)
    }
}
