//! The platform port contracts: authorization, reporting, campaign control, commerce and signals.

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::future::Future;

use custodian_core::approval::{CampaignReadback, ChangeDiff, ChangeField, ChangeValue};
use custodian_core::data::{BuyerPii, CampaignId, open};
use custodian_core::grant::GrantId;
use custodian_core::platform::{
    AccountRef, Platform, Scope, Task, consent_scopes, consent_url_names_scopes, required_scopes,
};
use custodian_core::ports::{
    Authorizer, CampaignControl, CommerceChannel, ConsentRequest, Credentials, Cursor, OrderQuery, Page,
    PiiSealer, PlatformError, RawSignal, ReportQuery, ReportingSource, SignalError, SignalVerifier,
    StockUpdate, StockUpdateResult, Target, VerifiedSignal,
};
use custodian_core::tenant::TenantId;
use secrecy::SecretString;
use time::OffsetDateTime;

use super::{ContractViolation, Ctx, outcome};
use crate::fakes::percent_encode;

/// Most pages a suite follows before it calls the pagination endless.
const MAX_PAGES: usize = 10_000;

/// Follows `next` cursors until the last page; a repeated cursor is a violation (pages must never loop).
async fn all_pages<T, F, Fut>(
    ctx: &Ctx,
    check: &'static str,
    mut fetch: F,
) -> Result<Vec<T>, ContractViolation>
where
    F: FnMut(Option<Cursor>) -> Fut,
    Fut: Future<Output = Result<Page<T>, PlatformError>>,
{
    let mut items = Vec::new();
    let mut seen = HashSet::new();
    let mut cursor = None;
    for _ in 0..MAX_PAGES {
        let page = ctx.ok(check, fetch(cursor.clone()).await)?;
        items.extend(page.items);
        match page.next {
            None => return Ok(items),
            Some(next) => {
                ensure!(
                    ctx,
                    check,
                    seen.insert(next.0.clone()),
                    "the cursor `{}` came back: the pages loop",
                    next.0
                );
                cursor = Some(next);
            }
        }
    }
    Err(ctx.violation(check, format!("more than {MAX_PAGES} pages")))
}

fn stamped(target: &Target, tenant: &TenantId, grant: &GrantId, account: &AccountRef) -> bool {
    &target.tenant == tenant && &target.grant == grant && &target.account == account
}

fn rejected_credentials<T>(result: &Result<T, PlatformError>) -> bool {
    matches!(result, Err(PlatformError::Unauthorized { .. } | PlatformError::Revoked { .. }))
}

/// Credentials no platform issued.
fn garbage(ctx: &Ctx) -> Credentials {
    Credentials::bearer(SecretString::from(ctx.name("not-a-token")))
}

/// What an [`Authorizer`] under test must accept and report.
pub struct AuthorizerExpectations {
    pub platform: Platform,
    /// A valid authorization code, not used yet (the suite uses it once).
    pub code: SecretString,
    pub redirect_uri: String,
    /// Tasks to ask consent for (offered by the platform).
    pub tasks: BTreeSet<Task>,
    /// Accounts validation must report (at least these).
    pub accounts: BTreeSet<AccountRef>,
    /// Scopes validation must report (each satisfied by a reported scope).
    pub scopes: BTreeSet<Scope>,
    /// The `now` to validate at.
    pub now: OffsetDateTime,
}

impl fmt::Debug for AuthorizerExpectations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizerExpectations")
            .field("platform", &self.platform)
            .field("tasks", &self.tasks)
            .field("accounts", &self.accounts)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// Checks an [`Authorizer`]:
///
/// - `platform`: it reports the expected platform.
/// - `consent url`: the URL carries the state and, where the platform takes scopes from the URL
///   ([`consent_url_names_scopes`]), every consent scope of the tasks (raw or percent-encoded); a task the
///   platform does not offer is `Unsupported` (AUTH-4).
/// - `exchange`: the code gives credentials; using it again, or an unknown code, is `Invalid`.
/// - `validate`: evidence stamped with `now`, on this platform, with the expected accounts and scopes.
/// - `refresh`: refreshed credentials validate.
/// - `invalid token`: unknown credentials are `Revoked` or `Unauthorized`, never evidence (AUTH-1).
pub async fn authorizer(
    auth: &dyn Authorizer,
    expect: &AuthorizerExpectations,
    run_id: &str,
) -> Result<(), ContractViolation> {
    let ctx = Ctx::new("authorizer", run_id)?;
    ensure!(
        ctx,
        "platform",
        auth.platform() == expect.platform,
        "reports {} instead of {}",
        auth.platform(),
        expect.platform
    );

    let state = ctx.name("state");
    let request = ConsentRequest {
        tenant: ctx.fresh("tenant", false)?,
        grant: ctx.fresh("grant", false)?,
        tasks: expect.tasks.clone(),
        redirect_uri: expect.redirect_uri.clone(),
        state: state.clone(),
    };
    let url = ctx.ok("consent url", auth.consent_url(&request))?.to_ascii_lowercase();
    ensure!(
        ctx,
        "consent url",
        url.contains(&state.to_ascii_lowercase()),
        "the consent url does not carry the state"
    );
    let scopes = ctx.ok("consent url", consent_scopes(expect.platform, &expect.tasks))?;
    // Where the consent page grants the app's registered scopes whatever the URL says, there is nothing to
    // ask for in the URL; validation's scopes are checked below either way.
    let named = if consent_url_names_scopes(expect.platform) { scopes } else { BTreeSet::new() };
    for scope in &named {
        let raw = scope.as_str().to_ascii_lowercase();
        let encoded = percent_encode(scope.as_str()).to_ascii_lowercase();
        ensure!(
            ctx,
            "consent url",
            url.contains(&raw) || url.contains(&encoded),
            "the consent url does not ask for scope `{scope}`"
        );
    }
    if let Some(task) = Task::ALL.into_iter().find(|t| required_scopes(expect.platform, *t).is_err()) {
        let unsupported = auth.consent_url(&ConsentRequest { tasks: BTreeSet::from([task]), ..request });
        ensure!(
            ctx,
            "consent url",
            matches!(unsupported, Err(PlatformError::Unsupported(_))),
            "asking consent for `{task}` gave {}",
            outcome(&unsupported)
        );
    }

    let credentials = ctx.ok("exchange", auth.exchange(&expect.code, &expect.redirect_uri).await)?;
    let reused = auth.exchange(&expect.code, &expect.redirect_uri).await;
    ensure!(
        ctx,
        "exchange",
        matches!(reused, Err(PlatformError::Invalid { .. })),
        "exchanging a used code gave {}",
        outcome(&reused)
    );
    let unknown = auth.exchange(&SecretString::from(ctx.name("unknown-code")), &expect.redirect_uri).await;
    ensure!(
        ctx,
        "exchange",
        matches!(unknown, Err(PlatformError::Invalid { .. })),
        "exchanging an unknown code gave {}",
        outcome(&unknown)
    );

    let evidence = ctx.ok("validate", auth.validate(&credentials, expect.now).await)?;
    ensure!(
        ctx,
        "validate",
        evidence.validated_at == expect.now,
        "evidence is stamped {} instead of now",
        evidence.validated_at
    );
    ensure!(
        ctx,
        "validate",
        evidence.accounts.iter().all(|a| a.platform() == expect.platform),
        "evidence lists an account of another platform"
    );
    ensure!(
        ctx,
        "validate",
        expect.accounts.is_subset(&evidence.accounts),
        "evidence lists {:?}, expected at least {:?}",
        evidence.accounts,
        expect.accounts
    );
    for scope in &expect.scopes {
        ensure!(
            ctx,
            "validate",
            evidence.scopes.iter().any(|s| s.satisfies(scope)),
            "evidence lacks scope `{scope}`"
        );
    }

    let refreshed = ctx.ok("refresh", auth.refresh(&credentials).await)?;
    ctx.ok("refresh", auth.validate(&refreshed, expect.now).await)?;

    let invalid = auth.validate(&garbage(&ctx), expect.now).await;
    ensure!(
        ctx,
        "invalid token",
        rejected_credentials(&invalid),
        "validating unknown credentials gave {}",
        outcome(&invalid)
    );
    Ok(())
}

/// What a [`ReportingSource`] under test serves for one target.
#[derive(Debug)]
pub struct ReportingExpectations {
    pub target: Target,
    pub credentials: Credentials,
    pub query: ReportQuery,
    /// How many campaigns and report rows the account has.
    pub campaigns: usize,
    pub report_rows: usize,
}

/// Checks a [`ReportingSource`]:
///
/// - `campaign pages`, `report pages`: paging ends (no repeated cursor) with exactly the expected count,
///   every record stamped with the target, no natural key twice; rows are of the query's level and days.
/// - `deterministic`: paging again gives the same records (a resumed sync neither loses nor duplicates).
/// - `invalid token`: unknown credentials are `Revoked` or `Unauthorized`.
pub async fn reporting_source(
    source: &dyn ReportingSource,
    expect: &ReportingExpectations,
    run_id: &str,
) -> Result<(), ContractViolation> {
    let ctx = Ctx::new("reporting_source", run_id)?;
    let (target, creds) = (&expect.target, &expect.credentials);
    let campaigns = all_pages(&ctx, "campaign pages", |c| source.campaigns(target, creds, c)).await?;
    ensure!(
        ctx,
        "campaign pages",
        campaigns.len() == expect.campaigns,
        "{} campaigns, expected {}",
        campaigns.len(),
        expect.campaigns
    );
    ensure!(
        ctx,
        "campaign pages",
        campaigns.iter().all(|c| stamped(target, &c.tenant, &c.grant, &c.account)),
        "a campaign is not stamped with the target"
    );
    let ids: HashSet<&CampaignId> = campaigns.iter().map(|c| &c.id).collect();
    ensure!(ctx, "campaign pages", ids.len() == campaigns.len(), "a campaign came twice");

    let query = &expect.query;
    let rows = all_pages(&ctx, "report pages", |c| source.report_rows(target, creds, query, c)).await?;
    ensure!(
        ctx,
        "report pages",
        rows.len() == expect.report_rows,
        "{} report rows, expected {}",
        rows.len(),
        expect.report_rows
    );
    ensure!(
        ctx,
        "report pages",
        rows.iter().all(|r| stamped(target, &r.tenant, &r.grant, &r.account)),
        "a report row is not stamped with the target"
    );
    ensure!(
        ctx,
        "report pages",
        rows.iter().all(|r| r.level == query.level && query.from <= r.date && r.date <= query.to),
        "a report row is outside the query's level or days"
    );
    let keys: HashSet<(String, time::Date)> =
        rows.iter().map(|r| (r.object.as_str().to_owned(), r.date)).collect();
    ensure!(ctx, "report pages", keys.len() == rows.len(), "a report row came twice");

    let again = all_pages(&ctx, "deterministic", |c| source.campaigns(target, creds, c)).await?;
    ensure!(ctx, "deterministic", again == campaigns, "paging the campaigns again gave other records");
    let again = all_pages(&ctx, "deterministic", |c| source.report_rows(target, creds, query, c)).await?;
    ensure!(ctx, "deterministic", again == rows, "paging the report rows again gave other records");

    let bad = garbage(&ctx);
    let res = source.campaigns(target, &bad, None).await;
    ensure!(
        ctx,
        "invalid token",
        rejected_credentials(&res),
        "campaigns with unknown credentials gave {}",
        outcome(&res)
    );
    let res = source.report_rows(target, &bad, query, None).await;
    ensure!(
        ctx,
        "invalid token",
        rejected_credentials(&res),
        "report rows with unknown credentials gave {}",
        outcome(&res)
    );
    Ok(())
}

/// What a [`CampaignControl`] under test can change.
#[derive(Debug)]
pub struct CampaignControlExpectations {
    pub target: Target,
    pub credentials: Credentials,
    /// An approved change of an existing campaign of the target account.
    pub diff: ChangeDiff,
    /// A campaign id that does not exist.
    pub unknown_campaign: CampaignId,
}

fn shows(readback: &CampaignReadback, field: ChangeField, value: &ChangeValue) -> bool {
    match (field, value) {
        (ChangeField::Status, ChangeValue::Status(s)) => readback.status == Some(*s),
        (ChangeField::DailyBudget, ChangeValue::Micros(m)) => readback.daily_budget_micros == Some(*m),
        (ChangeField::LifetimeBudget, ChangeValue::Micros(m)) => readback.lifetime_budget_micros == Some(*m),
        (ChangeField::Bid, ChangeValue::Micros(m)) => readback.bid_micros == Some(*m),
        (ChangeField::Schedule, ChangeValue::Schedule { start, end }) => {
            readback.schedule_start == Some(*start) && readback.schedule_end == Some(*end)
        }
        _ => false,
    }
}

/// Checks a [`CampaignControl`]:
///
/// - `apply and read back`: after applying the diff, the read-back shows every changed field's new value
///   (CAM-2).
/// - `not found`: reading back an unknown campaign is `NotFound`.
/// - `invalid token`: unknown credentials are `Revoked` or `Unauthorized`.
pub async fn campaign_control(
    control: &dyn CampaignControl,
    expect: &CampaignControlExpectations,
    run_id: &str,
) -> Result<(), ContractViolation> {
    let ctx = Ctx::new("campaign_control", run_id)?;
    let (target, creds) = (&expect.target, &expect.credentials);
    ctx.ok("apply and read back", control.apply(target, creds, &expect.diff).await)?;
    let readback =
        ctx.ok("apply and read back", control.read_back(target, creds, expect.diff.campaign()).await)?;
    for change in expect.diff.changes() {
        ensure!(
            ctx,
            "apply and read back",
            shows(&readback, change.field(), change.to()),
            "the read-back does not show the new {}",
            change.field().as_str()
        );
    }
    let missing = control.read_back(target, creds, &expect.unknown_campaign).await;
    ensure!(
        ctx,
        "not found",
        matches!(missing, Err(PlatformError::NotFound { .. })),
        "reading back an unknown campaign gave {}",
        outcome(&missing)
    );
    let res = control.apply(target, &garbage(&ctx), &expect.diff).await;
    ensure!(
        ctx,
        "invalid token",
        rejected_credentials(&res),
        "applying with unknown credentials gave {}",
        outcome(&res)
    );
    Ok(())
}

/// What a [`CommerceChannel`] under test serves for one target.
#[derive(Debug)]
pub struct CommerceExpectations {
    pub target: Target,
    pub credentials: Credentials,
    pub query: OrderQuery,
    /// How many orders the window holds and how many stock levels the account has.
    pub orders: usize,
    pub stock: usize,
    /// Seals buyer PII in the PII pass.
    pub sealer: PiiSealer,
}

/// Checks a [`CommerceChannel`]:
///
/// - `orders without pii`: paging gives exactly the expected orders, stamped, updated within the window,
///   no id twice, and no buyer PII at all (MIN-2).
/// - `orders with pii`: with a sealer the same orders, and every buyer PII present opens with the sealer's
///   key in the order's sealing context (ENC-1); at least one order has it.
/// - `stock pages`: exactly the expected levels, stamped, no (sku, location) twice.
/// - `set stock`: one result per update, in order, naming its sku.
/// - `invalid token`: unknown credentials are `Revoked` or `Unauthorized`.
pub async fn commerce_channel(
    channel: &dyn CommerceChannel,
    expect: &CommerceExpectations,
    run_id: &str,
) -> Result<(), ContractViolation> {
    let ctx = Ctx::new("commerce_channel", run_id)?;
    let (target, creds, query) = (&expect.target, &expect.credentials, &expect.query);
    let plain =
        all_pages(&ctx, "orders without pii", |c| channel.orders(target, creds, query, c, None)).await?;
    ensure!(
        ctx,
        "orders without pii",
        plain.len() == expect.orders,
        "{} orders, expected {}",
        plain.len(),
        expect.orders
    );
    ensure!(
        ctx,
        "orders without pii",
        plain.iter().all(|o| stamped(target, &o.tenant, &o.grant, &o.account)),
        "an order is not stamped with the target"
    );
    ensure!(
        ctx,
        "orders without pii",
        plain.iter().all(|o| query.updated_after <= o.updated_at && o.updated_at < query.updated_before),
        "an order was updated outside the window"
    );
    let ids: HashSet<&str> = plain.iter().map(|o| o.id.as_str()).collect();
    ensure!(ctx, "orders without pii", ids.len() == plain.len(), "an order came twice");
    ensure!(
        ctx,
        "orders without pii",
        plain.iter().all(|o| o.buyer.is_none()),
        "an order carries buyer pii although none was asked for"
    );

    let sealer = &expect.sealer;
    let sealed =
        all_pages(&ctx, "orders with pii", |c| channel.orders(target, creds, query, c, Some(sealer.clone())))
            .await?;
    let sealed_ids: HashSet<&str> = sealed.iter().map(|o| o.id.as_str()).collect();
    ensure!(ctx, "orders with pii", sealed_ids == ids, "asking for pii changed which orders come back");
    let mut with_pii = 0;
    for order in &sealed {
        if let Some(buyer) = &order.buyer {
            let opened = open::<BuyerPii>(&sealer.key, &order.seal_context(), buyer);
            ensure!(
                ctx,
                "orders with pii",
                opened.is_ok(),
                "the pii of order `{}` does not open with the sealer's key",
                order.id
            );
            with_pii += 1;
        }
    }
    ensure!(
        ctx,
        "orders with pii",
        expect.orders == 0 || with_pii > 0,
        "no order carries buyer pii although a sealer was given"
    );

    let stock = all_pages(&ctx, "stock pages", |c| channel.stock(target, creds, c)).await?;
    ensure!(
        ctx,
        "stock pages",
        stock.len() == expect.stock,
        "{} stock levels, expected {}",
        stock.len(),
        expect.stock
    );
    ensure!(
        ctx,
        "stock pages",
        stock.iter().all(|s| stamped(target, &s.tenant, &s.grant, &s.account)),
        "a stock level is not stamped with the target"
    );
    let keys: HashSet<(&str, Option<&str>)> =
        stock.iter().map(|s| (s.sku.as_str(), s.location.as_ref().map(|l| l.as_str()))).collect();
    ensure!(ctx, "stock pages", keys.len() == stock.len(), "a stock level came twice");

    let updates: Vec<StockUpdate> = stock
        .iter()
        .take(3)
        .map(|s| StockUpdate {
            sku: s.sku.clone(),
            location: s.location.clone(),
            quantity: u32::try_from(s.quantity).unwrap_or(0) + 1,
        })
        .collect();
    let results = ctx.ok("set stock", channel.set_stock(target, creds, &updates).await)?;
    ensure!(
        ctx,
        "set stock",
        results.len() == updates.len(),
        "{} results for {} updates",
        results.len(),
        updates.len()
    );
    for (update, result) in updates.iter().zip(&results) {
        let sku = match result {
            StockUpdateResult::Applied { sku } | StockUpdateResult::Rejected { sku, .. } => sku,
        };
        ensure!(ctx, "set stock", sku == &update.sku, "the result for `{}` names `{sku}`", update.sku);
    }

    let res = channel.orders(target, &garbage(&ctx), query, None, None).await;
    ensure!(
        ctx,
        "invalid token",
        rejected_credentials(&res),
        "orders with unknown credentials gave {}",
        outcome(&res)
    );
    Ok(())
}

/// Checks a [`SignalVerifier`] with one validly signed signal and what it must parse to:
///
/// - `platform`: it reports the signal's platform.
/// - `valid signal`: the signal verifies to exactly `expected`, twice (verification has no side effects).
/// - `tampered signal`: the same signal with one body byte changed is `BadSignature`; an empty body and a
///   truncated body never verify (AUTH-6).
pub async fn signal_verifier(
    verifier: &dyn SignalVerifier,
    valid: &RawSignal,
    expected: &VerifiedSignal,
    run_id: &str,
) -> Result<(), ContractViolation> {
    let ctx = Ctx::new("signal_verifier", run_id)?;
    ensure!(
        ctx,
        "platform",
        verifier.platform() == expected.platform,
        "reports {} instead of {}",
        verifier.platform(),
        expected.platform
    );
    for _ in 0..2 {
        let verified = ctx.ok("valid signal", verifier.verify(valid).await)?;
        ensure!(ctx, "valid signal", &verified == expected, "verified {verified:?}, expected {expected:?}");
    }
    let mut tampered = valid.clone();
    if let Some(byte) = tampered.body.last_mut() {
        *byte = if *byte == b'A' { b'B' } else { b'A' };
    }
    let res = verifier.verify(&tampered).await;
    ensure!(
        ctx,
        "tampered signal",
        matches!(res, Err(SignalError::BadSignature)),
        "a signal with a changed body byte gave {}",
        signal_outcome(&res)
    );
    let empty = RawSignal { body: Vec::new(), ..valid.clone() };
    let res = verifier.verify(&empty).await;
    ensure!(ctx, "tampered signal", res.is_err(), "a signal with an empty body verified");
    let truncated = RawSignal {
        body: valid.body.get(..valid.body.len() / 2).unwrap_or_default().to_vec(),
        ..valid.clone()
    };
    let res = verifier.verify(&truncated).await;
    ensure!(ctx, "tampered signal", res.is_err(), "a signal with a truncated body verified");
    Ok(())
}

fn signal_outcome(result: &Result<VerifiedSignal, SignalError>) -> String {
    outcome(result)
}
