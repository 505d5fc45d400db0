//! Fixture builders: tenants, people, sessions, API keys, grants with evidence, and the dataset records
//! (report rows, campaigns, orders with lines, stock levels, business contacts), all deterministic.
//!
//! Builders take typed ids where the caller chooses them and derive the rest from numbers in formats the
//! validators accept, so they return values directly; only sealing can fail.

use std::collections::BTreeSet;
use std::fmt::Debug;

use custodian_core::approval::CampaignReadback;
use custodian_core::data::{
    BuyerPii, Campaign, CampaignId, CampaignStatus, ContactDetails, Currency, DataKey, LineId, LocationId,
    Metrics, ObjectId, Order, OrderId, OrderLine, OrderStatus, PostalAddress, ReportLevel, ReportRow,
    SealContext, SealError, Sku, StockLevel, Text, seal,
};
use custodian_core::grant::{Grant, GrantEvidence, GrantId, GrantState, OwnerId};
use custodian_core::personnel::password::PasswordHash;
use custodian_core::personnel::token::TokenHash;
use custodian_core::personnel::{ApiKey, ApiKeyId, Permission, Person, PersonId, PersonSession, Role};
use custodian_core::platform::{
    AccountRef, AmazonMarketplaceId, AmazonSellerId, EbayUserId, MetaAdAccountId, Platform, Task,
    TikTokAdvertiserId, TikTokShopId, consent_scopes, required_scopes,
};
use custodian_core::ports::{
    Credentials, OrderQuery, PersonCredential, PiiSealer, Rng, SessionRecord, Target,
};
use custodian_core::tenant::{
    BusinessContact, ContactId, ContractTerms, Tenant, TenantId, TenantName, TenantStatus,
};
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use time::macros::datetime;
use time::{Date, Duration, OffsetDateTime};

/// The fixtures' reference instant.
pub const T0: OffsetDateTime = datetime!(2025-01-01 00:00 UTC);

/// The password whose Argon2id hash is [`FIXTURE_PASSWORD_PHC`] (it passes the ACC-3 rule).
pub const FIXTURE_PASSWORD: &str = "Fixture-Passw0rd!";

/// Argon2id (m=19456, t=2, p=1, the policy's parameters) of [`FIXTURE_PASSWORD`], computed once.
pub const FIXTURE_PASSWORD_PHC: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$Y3VzdG9kaWFuLXNhbHQxNg$R6rffEClRRR62VPHUKnToRHr3+c22V6PPiV4QWZDDqM";

/// The Amazon marketplace of fixture sellers (amazon.com).
pub const AMAZON_MARKETPLACE: &str = "ATVPDKIKX0DER";

/// The record kind name contacts are sealed under (as the core's use cases do).
pub const CONTACT_SEAL_KIND: &str = "contact";

/// Unwraps a value built from a literal or from a number in a format its validator always accepts.
#[expect(
    clippy::expect_used,
    reason = "only called on literals and number formats the validators accept; tests/it/fixtures.rs \
              builds every fixture"
)]
fn valid<T, E: Debug>(value: Result<T, E>) -> T {
    value.expect("fixture values are valid by construction")
}

/// A tenant with a fixed name, default contract terms, active.
pub fn tenant(id: &TenantId) -> Tenant {
    Tenant {
        id: id.clone(),
        name: valid(TenantName::new("Fixture tenant")),
        contract: ContractTerms::default(),
        status: TenantStatus::Active,
    }
}

/// An active person with MFA enrolled, the given roles and tenant assignments.
pub fn person(id: &PersonId, roles: &[Role], tenants: &[TenantId]) -> Person {
    Person {
        id: id.clone(),
        display_name: format!("Fixture person {id}"),
        roles: roles.iter().copied().collect(),
        tenants: tenants.iter().cloned().collect(),
        mfa_enrolled: true,
        active: true,
    }
}

/// The person as authenticated by a session whose MFA was verified at `mfa_verified_at` (pass `now` for
/// fresh MFA, enough for step-up).
pub fn person_session(person: &Person, mfa_verified_at: OffsetDateTime) -> PersonSession {
    PersonSession { person: person.clone(), mfa_verified_at: Some(mfa_verified_at) }
}

/// Login material with the hash of [`FIXTURE_PASSWORD`], no TOTP, no failed logins.
pub fn credential(person: &PersonId) -> PersonCredential {
    PersonCredential {
        person: person.clone(),
        password_hash: valid(PasswordHash::from_phc(FIXTURE_PASSWORD_PHC)),
        totp_sealed: None,
        totp_last_step: None,
        failed_logins: 0,
        locked_until: None,
    }
}

/// A token hash derived from `seed` (for sessions and API keys in store tests).
pub fn token_hash(seed: &str) -> TokenHash {
    TokenHash::from_bytes(Sha256::digest(seed.as_bytes()).into())
}

/// A session of `person` created at `now`, valid for 12 hours, MFA verified at `now`.
pub fn session_record(person: &PersonId, token_hash: TokenHash, now: OffsetDateTime) -> SessionRecord {
    SessionRecord {
        token_hash,
        person: person.clone(),
        created_at: now,
        expires_at: now + Duration::hours(12),
        mfa_verified_at: Some(now),
        revoked_at: None,
    }
}

/// An API key for `tenants` with `permissions`, created at `now`, without expiry.
pub fn api_key(
    id: &ApiKeyId,
    tenants: &[TenantId],
    permissions: &[Permission],
    created_by: &PersonId,
    now: OffsetDateTime,
) -> ApiKey {
    ApiKey {
        id: id.clone(),
        name: format!("Fixture key {id}"),
        tenants: tenants.iter().cloned().collect(),
        permissions: permissions.iter().copied().collect(),
        created_by: created_by.clone(),
        created_at: now,
        expires_at: None,
        revoked_at: None,
    }
}

/// Account number `n` on `platform`: `act_<n>`, `<n>`, seller `A<n>` on amazon.com, eBay user `user-<n>`.
pub fn account(platform: Platform, n: u64) -> AccountRef {
    match platform {
        Platform::Meta => AccountRef::MetaAdAccount(valid(MetaAdAccountId::new(format!("act_{n}")))),
        Platform::TikTok => AccountRef::TikTokAdvertiser(valid(TikTokAdvertiserId::new(n.to_string()))),
        Platform::TikTokShop => AccountRef::TikTokShop(valid(TikTokShopId::new(n.to_string()))),
        Platform::Amazon => AccountRef::AmazonSeller {
            seller: valid(AmazonSellerId::new(format!("A{n}"))),
            marketplace: valid(AmazonMarketplaceId::new(AMAZON_MARKETPLACE)),
        },
        Platform::Ebay => AccountRef::EbayUser(valid(EbayUserId::new(format!("user-{n}")))),
    }
}

/// Every task the platform offers.
pub fn supported_tasks(platform: Platform) -> BTreeSet<Task> {
    Task::ALL.into_iter().filter(|task| required_scopes(platform, *task).is_ok()).collect()
}

/// The owner fixtures report for `platform`.
pub fn owner(platform: Platform) -> OwnerId {
    valid(OwnerId::new(format!("owner-{}", platform.as_str())))
}

/// Evidence of a validation at `now`: [`owner`], `accounts`, the consent scopes of every supported task,
/// expiring in 60 days.
pub fn evidence(platform: Platform, accounts: &[AccountRef], now: OffsetDateTime) -> GrantEvidence {
    GrantEvidence {
        owner: owner(platform),
        accounts: accounts.iter().cloned().collect(),
        scopes: consent_scopes(platform, &supported_tasks(platform)).unwrap_or_default(),
        expires_at: Some(now + Duration::days(60)),
        data_access_expires_at: None,
        validated_at: now,
    }
}

/// An active grant on `platform` for every supported task, validated at `now` with [`evidence`] covering
/// `accounts`. The PII switch is off.
pub fn active_grant(
    tenant: &TenantId,
    id: &GrantId,
    platform: Platform,
    accounts: &[AccountRef],
    now: OffsetDateTime,
) -> Grant {
    Grant::restore(
        id.clone(),
        tenant.clone(),
        platform,
        GrantState::Active,
        supported_tasks(platform),
        false,
        Some(evidence(platform, accounts, now)),
        Vec::new(),
        None,
        now,
        now,
    )
}

/// A platform call's target.
pub fn target(tenant: &TenantId, grant: &GrantId, account: &AccountRef) -> Target {
    Target { tenant: tenant.clone(), grant: grant.clone(), account: account.clone() }
}

/// Credentials with an access token and a refresh token, no expiry.
pub fn credentials(access_token: &str, refresh_token: &str) -> Credentials {
    Credentials {
        refresh_token: Some(SecretString::from(refresh_token)),
        ..Credentials::bearer(SecretString::from(access_token))
    }
}

/// Report row `i` of a series over `days` days from `from`: object `obj-<i / days>` on day `from + i % days`.
pub fn report_row(target: &Target, level: ReportLevel, from: Date, days: u32, i: u64) -> ReportRow {
    let days = u64::from(days.max(1));
    let offset = i64::try_from(i % days).unwrap_or(0);
    let n = i64::try_from(i).unwrap_or(i64::MAX);
    ReportRow {
        tenant: target.tenant.clone(),
        grant: target.grant.clone(),
        account: target.account.clone(),
        level,
        object: valid(ObjectId::new(format!("obj-{}", i / days))),
        date: from.saturating_add(Duration::days(offset)),
        currency: valid(Currency::new("USD")),
        metrics: Metrics {
            spend_micros: 1_000_000 + n.saturating_mul(12_345),
            impressions: 1_000 + i * 17,
            clicks: 10 + i % 97,
            conversions: i % 7,
            conversion_value_micros: (n % 7).saturating_mul(25_000_000),
        },
    }
}

/// `count` report rows of a series over `days` days from `from` (see [`report_row`]).
pub fn report_rows(
    target: &Target,
    level: ReportLevel,
    from: Date,
    days: u32,
    count: usize,
) -> Vec<ReportRow> {
    (0..count as u64).map(|i| report_row(target, level, from, days, i)).collect()
}

/// Campaign `i`: id `cmp-<i>`, active (every third paused), a daily budget of `i + 1` units, updated at
/// `updated_at`.
pub fn campaign(target: &Target, i: u64, updated_at: OffsetDateTime) -> Campaign {
    Campaign {
        tenant: target.tenant.clone(),
        grant: target.grant.clone(),
        account: target.account.clone(),
        id: campaign_id(i),
        name: valid(Text::new(format!("Campaign {i}"))),
        status: campaign_status(i),
        objective: Some(valid(Text::new("conversions"))),
        daily_budget_micros: Some(campaign_budget(i)),
        lifetime_budget_micros: None,
        updated_at,
    }
}

fn campaign_status(i: u64) -> CampaignStatus {
    if i % 3 == 2 { CampaignStatus::Paused } else { CampaignStatus::Active }
}

fn campaign_budget(i: u64) -> i64 {
    i64::try_from(i).unwrap_or(0).saturating_add(1).saturating_mul(1_000_000)
}

/// What reading campaign `i` back shows before any change: its status and daily budget.
pub fn campaign_readback(i: u64) -> CampaignReadback {
    CampaignReadback {
        status: Some(campaign_status(i)),
        daily_budget_micros: Some(campaign_budget(i)),
        ..CampaignReadback::default()
    }
}

/// The id of campaign `i`.
pub fn campaign_id(i: u64) -> CampaignId {
    valid(CampaignId::new(format!("cmp-{i}")))
}

/// `count` campaigns (see [`campaign`]).
pub fn campaigns(target: &Target, count: usize, updated_at: OffsetDateTime) -> Vec<Campaign> {
    (0..count as u64).map(|i| campaign(target, i, updated_at)).collect()
}

/// Buyer PII number `i` (a name, email, phone and postal address).
pub fn buyer_pii(i: u64) -> BuyerPii {
    BuyerPii {
        name: Some(format!("Buyer {i}")),
        email: Some(format!("buyer{i}@example.com")),
        phone: Some(format!("+1555{:07}", i % 10_000_000)),
        address: Some(PostalAddress {
            lines: vec![format!("{} Main Street", i + 1)],
            city: "Springfield".to_owned(),
            region: Some("IL".to_owned()),
            postal_code: Some("62701".to_owned()),
            country: "US".to_owned(),
        }),
    }
}

/// Order `i` (id `ord-<i>`) with `1 + i % 3` lines, created an hour before `updated_at`, without PII.
pub fn order(target: &Target, i: u64, updated_at: OffsetDateTime) -> Order {
    let lines: Vec<OrderLine> = (0..1 + i % 3)
        .map(|j| OrderLine {
            id: valid(LineId::new(format!("ord-{i}-{j}"))),
            sku: sku((i + j) % 20),
            quantity: u32::try_from(1 + (i + j) % 4).unwrap_or(1),
            unit_price_micros: 2_500_000 + i64::try_from(j).unwrap_or(0) * 500_000,
        })
        .collect();
    let total = lines.iter().map(|l| l.unit_price_micros.saturating_mul(i64::from(l.quantity))).sum();
    Order {
        tenant: target.tenant.clone(),
        grant: target.grant.clone(),
        account: target.account.clone(),
        id: valid(OrderId::new(format!("ord-{i}"))),
        status: match i % 3 {
            0 => OrderStatus::Unshipped,
            1 => OrderStatus::Shipped,
            _ => OrderStatus::Delivered,
        },
        created_at: updated_at - Duration::hours(1),
        updated_at,
        currency: valid(Currency::new("USD")),
        total_micros: total,
        lines,
        buyer: None,
    }
}

/// Seals [`buyer_pii`] `i` into `order` with `sealer`, bound to [`Order::seal_context`] (ENC-1).
pub fn seal_buyer(order: &mut Order, i: u64, sealer: &PiiSealer) -> Result<(), SealError> {
    order.buyer = Some(seal(&sealer.key, &order.seal_context(), &buyer_pii(i), sealer.rng.as_ref())?);
    Ok(())
}

/// `count` orders spread over `[query.updated_after, query.updated_before)` (see [`order`]), with sealed
/// buyer PII when `sealer` is given.
pub fn orders(
    target: &Target,
    query: &OrderQuery,
    count: usize,
    sealer: Option<&PiiSealer>,
) -> Result<Vec<Order>, SealError> {
    (0..count as u64).map(|i| order_in_window(target, query, count as u64, i, sealer)).collect()
}

/// Order `i` of `count` spread over the query window.
pub(crate) fn order_in_window(
    target: &Target,
    query: &OrderQuery,
    count: u64,
    i: u64,
    sealer: Option<&PiiSealer>,
) -> Result<Order, SealError> {
    let span = (query.updated_before - query.updated_after).whole_nanoseconds().max(0);
    let offset = span * i128::from(i) / i128::from(count.max(1));
    let updated_at = query.updated_after + Duration::nanoseconds(i64::try_from(offset).unwrap_or(0));
    let mut order = order(target, i, updated_at);
    if let Some(sealer) = sealer {
        seal_buyer(&mut order, i, sealer)?;
    }
    Ok(order)
}

/// Sku number `i` (`sku-<i>`).
pub fn sku(i: u64) -> Sku {
    valid(Sku::new(format!("sku-{i}")))
}

/// Stock level `i`: sku `sku-<i>`, at `loc-1` for even `i` and without location for odd.
pub fn stock_level(target: &Target, i: u64, observed_at: OffsetDateTime) -> StockLevel {
    StockLevel {
        tenant: target.tenant.clone(),
        grant: target.grant.clone(),
        account: target.account.clone(),
        sku: sku(i),
        location: i.is_multiple_of(2).then(|| valid(LocationId::new("loc-1"))),
        quantity: i64::try_from(i * 7 % 100).unwrap_or(0),
        observed_at,
    }
}

/// `count` stock levels (see [`stock_level`]).
pub fn stock_levels(target: &Target, count: usize, observed_at: OffsetDateTime) -> Vec<StockLevel> {
    (0..count as u64).map(|i| stock_level(target, i, observed_at)).collect()
}

/// The sealing context of a business contact's details.
pub fn contact_context(tenant: &TenantId, id: &ContactId) -> SealContext {
    SealContext::new(tenant, CONTACT_SEAL_KIND, id.as_str())
}

/// Contact details number `i`.
pub fn contact_details(i: u64) -> ContactDetails {
    ContactDetails {
        name: format!("Contact {i}"),
        email: Some(format!("contact{i}@client.example")),
        phone: Some(format!("+4420{:07}", i % 10_000_000)),
    }
}

/// A business contact whose [`contact_details`] `i` are sealed with the tenant's data key.
pub fn contact(
    tenant: &TenantId,
    id: &ContactId,
    i: u64,
    key: &DataKey,
    rng: &dyn Rng,
) -> Result<BusinessContact, SealError> {
    Ok(BusinessContact {
        tenant: tenant.clone(),
        id: id.clone(),
        details: seal(key, &contact_context(tenant, id), &contact_details(i), rng)?,
        role: "marketing lead".to_owned(),
    })
}

/// A data key from fixed bytes derived from `seed` (for tests that need a key without a key manager).
pub fn data_key(seed: &str, version: u32) -> DataKey {
    DataKey::from_bytes(custodian_core::data::KeyVersion(version), Sha256::digest(seed.as_bytes()).into())
}
