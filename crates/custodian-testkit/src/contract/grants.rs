//! The `GrantStore` contract: grants per tenant, optimistic saves and the cross-tenant lookups.

use custodian_core::audit::Hash;
use custodian_core::grant::{GrantId, OwnerId, RevocationCause};
use custodian_core::personnel::ApiKeyId;
use custodian_core::personnel::token::TokenHash;
use custodian_core::platform::{AccountRef, MetaAdAccountId, Platform};
use custodian_core::ports::{
    AuditLog, ConsentInitiator, GrantStore, MAX_REDIRECT_URI_BYTES, PendingConsent, StoreError, TenantStore,
};
use custodian_core::tenant::TenantId;
use futures::future::join_all;
use time::{Duration, OffsetDateTime};

use super::{BASE, ContractViolation, Ctx, Trail, check_chain, outcome};
use crate::fixtures;

/// Checks a [`GrantStore`] (with the [`AuditLog`] of the same backend; `tenants` creates the tenants):
///
/// - `insert and read`: pending and active grants (128-byte ids, evidence) round-trip and are listed.
/// - `insert conflict`: the same id in the same tenant is `Conflict`, appending nothing.
/// - `same id in another tenant`: grant ids are unique per tenant only; both grants stay separate (SEG-1).
/// - `tenant isolation`: another tenant's grant is `NotFound` and not listed; saving it under another
///   tenant fails and changes nothing.
/// - `optimistic save`: a save with the stored `updated_at` succeeds; a second save with the old one is
///   `Conflict` and changes nothing; saving an unknown grant fails.
/// - `locate`: by account and by owner, across tenants, exactly the matching (tenant, grant) pairs.
/// - `stale grants`: active grants validated before the bound, never fresh or inactive ones, at most `limit`.
/// - `audit in chain`: each tenant's chain holds exactly its successful calls' events and verifies (the
///   flow state below appends nothing).
///
/// The flow state shared by the processes on one store (instants from [`BASE`] to a week after it, keys
/// unique to the run; a put drops consents expired at its `now` and a claim drops claims ended by then,
/// so suites sharing a backend run these checks one after another):
///
/// - `consent round trip`: consents of a session and of an API key come back whole from `take_consent`.
/// - `consent one use`: a second take of the same state is `None`.
/// - `consent wrong state`: a take by another state's hash is `None` and leaves the consent in place.
/// - `consent expiry`: a take at `expires_at` is `None`, and the consent is gone for good.
/// - `consent duplicate`: a second put of the same state hash is `Conflict`.
/// - `consent cap`: with at least one unexpired consent stored, `max_pending` 1 (and 0) is `Conflict` and
///   stores nothing.
/// - `consent count`: a put counts one more pending consent; at its expiry it is no longer counted.
/// - `consent expired dropped`: a put drops the consents expired at its `now`.
/// - `consent invalid`: a redirect URI over the limit or with a NUL byte is `Invalid`.
/// - `consent race`: of 16 concurrent takes of one consent exactly one gets it.
/// - `signal claim`: a key is claimed once; claiming it again within its window is `false`, at the end of
///   the window `true`; keys are independent; a window that is not positive is `Invalid`.
/// - `signal release`: a released key can be claimed again (and releasing an unknown key succeeds).
/// - `signal race`: of 16 concurrent claims of one key exactly one is `true`.
pub async fn grant_store(
    store: &dyn GrantStore,
    audit: &dyn AuditLog,
    tenants: &dyn TenantStore,
    run_id: &str,
) -> Result<(), ContractViolation> {
    let ctx = Ctx::new("grant_store", run_id)?;
    let a: TenantId = ctx.fresh("tenant-a", true)?;
    let b: TenantId = ctx.fresh("tenant-b", false)?;
    let mut trail_a = Trail::new(&ctx);
    let mut trail_b = Trail::new(&ctx);
    ctx.ok("setup", tenants.create_tenant(&fixtures::tenant(&a), trail_a.commit("create a")).await)?;
    ctx.ok("setup", tenants.create_tenant(&fixtures::tenant(&b), trail_b.commit("create b")).await)?;

    let account = AccountRef::MetaAdAccount(
        ctx.ok("setup", MetaAdAccountId::new(format!("act_{}", ctx.digits("acct"))))?,
    );
    let g1: GrantId = ctx.fresh("grant-1", true)?;
    let g2: GrantId = ctx.fresh("grant-2", false)?;
    let owner: OwnerId = ctx.fresh("owner", false)?;
    let mut active = fixtures::active_grant(&a, &g1, Platform::Meta, std::slice::from_ref(&account), BASE);
    if let Some(evidence) = active.evidence().cloned() {
        let evidence = custodian_core::grant::GrantEvidence { owner: owner.clone(), ..evidence };
        active = custodian_core::grant::Grant::restore(
            active.id.clone(),
            active.tenant.clone(),
            active.platform,
            active.state(),
            active.tasks.clone(),
            active.pii_enabled,
            Some(evidence),
            Vec::new(),
            None,
            active.created_at,
            active.updated_at(),
        );
    }
    let pending = custodian_core::grant::Grant::new(
        g2.clone(),
        a.clone(),
        Platform::TikTokShop,
        fixtures::supported_tasks(Platform::TikTokShop),
        BASE,
    );
    ctx.ok("insert and read", store.insert_grant(&active, trail_a.commit("insert g1")).await)?;
    ctx.ok("insert and read", store.insert_grant(&pending, trail_a.commit("insert g2")).await)?;
    let read = ctx.ok("insert and read", store.grant(&a, &g1).await)?;
    ensure!(ctx, "insert and read", read == active, "read back {read:?}, stored {active:?}");
    let read = ctx.ok("insert and read", store.grant(&a, &g2).await)?;
    ensure!(ctx, "insert and read", read == pending, "read back {read:?}, stored {pending:?}");
    let mut listed = ctx.ok("insert and read", store.grants(&a).await)?;
    listed.sort_by(|x, y| x.id.cmp(&y.id));
    let mut expected = vec![active.clone(), pending.clone()];
    expected.sort_by(|x, y| x.id.cmp(&y.id));
    ensure!(
        ctx,
        "insert and read",
        listed == expected,
        "listed {} grants, expected the 2 inserted",
        listed.len()
    );

    let again = store.insert_grant(&active, trail_a.reject("insert g1 again")).await;
    ensure!(
        ctx,
        "insert conflict",
        matches!(again, Err(StoreError::Conflict(_))),
        "inserting `{g1}` twice gave {}",
        outcome(&again)
    );

    let seen = store.grant(&b, &g1).await;
    ensure!(
        ctx,
        "tenant isolation",
        matches!(seen, Err(StoreError::NotFound)),
        "tenant `{b}` reading another tenant's grant gave {}",
        outcome(&seen)
    );
    let listed_b = ctx.ok("tenant isolation", store.grants(&b).await)?;
    ensure!(
        ctx,
        "tenant isolation",
        listed_b.is_empty(),
        "tenant `{b}` lists {} grants of another tenant",
        listed_b.len()
    );
    let mut hijack = pending.clone();
    hijack.tenant = b.clone();
    hijack.id = g1.clone();
    let saved = store.save_grant(&hijack, active.updated_at(), trail_b.reject("b saves a's grant")).await;
    ensure!(ctx, "tenant isolation", saved.is_err(), "tenant `{b}` saved over another tenant's grant");
    let read = ctx.ok("tenant isolation", store.grant(&a, &g1).await)?;
    ensure!(ctx, "tenant isolation", read == active, "another tenant's save changed the grant");

    let twin = custodian_core::grant::Grant::new(
        g1.clone(),
        b.clone(),
        Platform::Ebay,
        fixtures::supported_tasks(Platform::Ebay),
        BASE,
    );
    ctx.ok("same id in another tenant", store.insert_grant(&twin, trail_b.commit("insert twin")).await)?;
    let read_b = ctx.ok("same id in another tenant", store.grant(&b, &g1).await)?;
    let read_a = ctx.ok("same id in another tenant", store.grant(&a, &g1).await)?;
    ensure!(
        ctx,
        "same id in another tenant",
        read_b == twin && read_a == active,
        "two tenants' grants with one id are mixed up"
    );

    let now = BASE + Duration::hours(1);
    let mut revoked = active.clone();
    ctx.ok("optimistic save", revoked.revoke(RevocationCause::Offboarding, now))?;
    ctx.ok(
        "optimistic save",
        store.save_grant(&revoked, active.updated_at(), trail_a.commit("revoke g1")).await,
    )?;
    let read = ctx.ok("optimistic save", store.grant(&a, &g1).await)?;
    ensure!(ctx, "optimistic save", read == revoked, "read back {read:?} after saving {revoked:?}");
    let mut late = active.clone();
    ctx.ok("optimistic save", late.expire(now + Duration::hours(1)))?;
    let stale = store.save_grant(&late, active.updated_at(), trail_a.reject("stale save")).await;
    ensure!(
        ctx,
        "optimistic save",
        matches!(stale, Err(StoreError::Conflict(_))),
        "a save with an outdated `updated_at` gave {}",
        outcome(&stale)
    );
    let read = ctx.ok("optimistic save", store.grant(&a, &g1).await)?;
    ensure!(ctx, "optimistic save", read == revoked, "a rejected save changed the grant");
    let unknown_grant = custodian_core::grant::Grant::new(
        ctx.fresh("grant-unknown", false)?,
        a.clone(),
        Platform::Meta,
        Default::default(),
        BASE,
    );
    let saved = store.save_grant(&unknown_grant, BASE, trail_a.reject("save unknown")).await;
    ensure!(ctx, "optimistic save", saved.is_err(), "saving an unknown grant succeeded");

    // The revoked grant still carries the evidence, so it is still located (routing signals).
    let found = ctx.ok("locate", store.locate_by_account(Platform::Meta, &account).await)?;
    ensure!(
        ctx,
        "locate",
        found == vec![(a.clone(), g1.clone())],
        "locating account `{account}` gave {found:?}"
    );
    let found = ctx.ok("locate", store.locate_by_account(Platform::TikTok, &account).await)?;
    ensure!(ctx, "locate", found.is_empty(), "locating on another platform gave {found:?}");
    let found = ctx.ok("locate", store.locate_by_owner(Platform::Meta, owner.as_str()).await)?;
    ensure!(ctx, "locate", found == vec![(a.clone(), g1.clone())], "locating owner `{owner}` gave {found:?}");
    let nobody: OwnerId = ctx.fresh("owner-unknown", false)?;
    let found = ctx.ok("locate", store.locate_by_owner(Platform::Meta, nobody.as_str()).await)?;
    ensure!(ctx, "locate", found.is_empty(), "locating an unknown owner gave {found:?}");

    // Stale grants: validated at an old instant unique to the run.
    let salt = i64::try_from(ctx.digits("stale").parse::<u64>().unwrap_or(0) % 10_000_000).unwrap_or(0);
    let old = time::macros::datetime!(1990-01-01 00:00 UTC) + Duration::seconds(salt * 2);
    let g3: GrantId = ctx.fresh("grant-stale", false)?;
    let g4: GrantId = ctx.fresh("grant-fresh", false)?;
    let stale_grant =
        fixtures::active_grant(&b, &g3, Platform::Ebay, &[fixtures::account(Platform::Ebay, 3)], old);
    let fresh_grant =
        fixtures::active_grant(&b, &g4, Platform::Ebay, &[fixtures::account(Platform::Ebay, 4)], BASE);
    ctx.ok("stale grants", store.insert_grant(&stale_grant, trail_b.commit("insert stale")).await)?;
    ctx.ok("stale grants", store.insert_grant(&fresh_grant, trail_b.commit("insert fresh")).await)?;
    let stale = ctx.ok("stale grants", store.stale_grants(old + Duration::seconds(1), 100_000).await)?;
    ensure!(
        ctx,
        "stale grants",
        stale.contains(&(b.clone(), g3.clone())),
        "the grant validated before the bound is not listed"
    );
    ensure!(
        ctx,
        "stale grants",
        !stale.contains(&(b.clone(), g4.clone()))
            && !stale.contains(&(a.clone(), g1.clone()))
            && !stale.contains(&(a.clone(), g2.clone())),
        "a fresh, revoked or pending grant is listed as stale"
    );
    let none = ctx.ok("stale grants", store.stale_grants(old, 100_000).await)?;
    ensure!(ctx, "stale grants", !none.contains(&(b.clone(), g3.clone())), "the bound is not exclusive");
    let one = ctx.ok("stale grants", store.stale_grants(BASE + Duration::days(1), 1).await)?;
    ensure!(ctx, "stale grants", one.len() <= 1, "limit 1 returned {} grants", one.len());

    flow_state(&ctx, store, &a, &g1).await?;

    check_chain(&ctx, audit, &a, &trail_a, "audit in chain").await?;
    check_chain(&ctx, audit, &b, &trail_b, "audit in chain").await
}

/// A consent of the run: unexpired until `expires_at`.
fn consent(
    ctx: &Ctx,
    tenant: &TenantId,
    grant: &GrantId,
    initiator: ConsentInitiator,
    expires_at: OffsetDateTime,
) -> PendingConsent {
    PendingConsent {
        state_hash: PendingConsent::hash_state(&ctx.name("state")),
        platform: Platform::Meta,
        tenant: tenant.clone(),
        grant: grant.clone(),
        initiator,
        redirect_uri: format!("https://custodian.example/v1/oauth/meta/callback?run={}", ctx.name("uri")),
        expires_at,
    }
}

/// The flow-state checks of [`grant_store`].
async fn flow_state(
    ctx: &Ctx,
    store: &dyn GrantStore,
    tenant: &TenantId,
    grant: &GrantId,
) -> Result<(), ContractViolation> {
    const ANY: usize = usize::MAX;
    let hour = BASE + Duration::hours(1);
    let session =
        ConsentInitiator::Session(TokenHash::from_bytes(Hash::of(ctx.name("session").as_bytes()).0));
    let key: ApiKeyId = ctx.fresh("key", false)?;
    let api_key = ConsentInitiator::ApiKey(key);

    let by_session = consent(ctx, tenant, grant, session.clone(), hour);
    let by_key = consent(ctx, tenant, grant, api_key.clone(), hour);
    ctx.ok("consent round trip", store.put_consent(&by_session, ANY, BASE).await)?;
    ctx.ok("consent round trip", store.put_consent(&by_key, ANY, BASE).await)?;
    for stored in [&by_session, &by_key] {
        let taken = ctx.ok("consent round trip", store.take_consent(&stored.state_hash, BASE).await)?;
        ensure!(
            ctx,
            "consent round trip",
            taken.as_ref() == Some(stored),
            "took {taken:?}, stored {stored:?}"
        );
        let again = ctx.ok("consent one use", store.take_consent(&stored.state_hash, BASE).await)?;
        ensure!(ctx, "consent one use", again.is_none(), "a consent was taken twice");
    }

    let waiting = consent(ctx, tenant, grant, api_key.clone(), hour);
    ctx.ok("consent wrong state", store.put_consent(&waiting, ANY, BASE).await)?;
    let other = PendingConsent::hash_state(&ctx.name("state-never-issued"));
    let taken = ctx.ok("consent wrong state", store.take_consent(&other, BASE).await)?;
    ensure!(ctx, "consent wrong state", taken.is_none(), "another state's hash took {taken:?}");
    let taken = ctx.ok("consent wrong state", store.take_consent(&waiting.state_hash, BASE).await)?;
    ensure!(
        ctx,
        "consent wrong state",
        taken.as_ref() == Some(&waiting),
        "after a take by another hash, the consent's own take gave {taken:?}"
    );

    let expiring = consent(ctx, tenant, grant, session.clone(), hour);
    ctx.ok("consent expiry", store.put_consent(&expiring, ANY, BASE).await)?;
    let taken = ctx.ok("consent expiry", store.take_consent(&expiring.state_hash, hour).await)?;
    ensure!(ctx, "consent expiry", taken.is_none(), "a take at `expires_at` gave {taken:?}");
    let taken = ctx.ok("consent expiry", store.take_consent(&expiring.state_hash, BASE).await)?;
    ensure!(ctx, "consent expiry", taken.is_none(), "an expired consent was taken later: {taken:?}");

    let twice = consent(ctx, tenant, grant, session.clone(), hour);
    ctx.ok("consent duplicate", store.put_consent(&twice, ANY, BASE).await)?;
    let again = store.put_consent(&twice, ANY, BASE).await;
    ensure!(
        ctx,
        "consent duplicate",
        matches!(again, Err(StoreError::Conflict(_))),
        "a second put of the same state gave {}",
        outcome(&again)
    );
    ctx.ok("consent duplicate", store.take_consent(&twice.state_hash, BASE).await)?;

    let held = consent(ctx, tenant, grant, session.clone(), hour);
    let pending = ctx.ok("consent count", store.pending_consents(BASE).await)?;
    ctx.ok("consent cap", store.put_consent(&held, ANY, BASE).await)?;
    let counted = ctx.ok("consent count", store.pending_consents(BASE).await)?;
    ensure!(
        ctx,
        "consent count",
        counted == pending + 1,
        "{pending} pending, one put, then {counted} counted"
    );
    let at_expiry = ctx.ok("consent count", store.pending_consents(hour).await)?;
    ensure!(ctx, "consent count", at_expiry < counted, "a consent was still counted at its expiry");
    let refused = consent(ctx, tenant, grant, session.clone(), hour);
    for max in [1, 0] {
        let put = store.put_consent(&refused, max, BASE).await;
        ensure!(
            ctx,
            "consent cap",
            matches!(put, Err(StoreError::Conflict(_))),
            "a put with `max_pending` {max} and a consent pending gave {}",
            outcome(&put)
        );
    }
    let taken = ctx.ok("consent cap", store.take_consent(&refused.state_hash, BASE).await)?;
    ensure!(ctx, "consent cap", taken.is_none(), "a refused consent was stored");
    let taken = ctx.ok("consent cap", store.take_consent(&held.state_hash, BASE).await)?;
    ensure!(ctx, "consent cap", taken.is_some(), "the pending consent was lost");

    let short = consent(ctx, tenant, grant, session.clone(), BASE + Duration::minutes(1));
    let later = consent(ctx, tenant, grant, session.clone(), hour);
    ctx.ok("consent expired dropped", store.put_consent(&short, ANY, BASE).await)?;
    ctx.ok("consent expired dropped", store.put_consent(&later, ANY, BASE + Duration::minutes(2)).await)?;
    let taken = ctx.ok("consent expired dropped", store.take_consent(&short.state_hash, BASE).await)?;
    ensure!(
        ctx,
        "consent expired dropped",
        taken.is_none(),
        "a consent expired at the time of a later put was not dropped"
    );
    let taken = ctx.ok("consent expired dropped", store.take_consent(&later.state_hash, BASE).await)?;
    ensure!(ctx, "consent expired dropped", taken.is_some(), "an unexpired consent was dropped");

    let mut long = consent(ctx, tenant, grant, session.clone(), hour);
    long.redirect_uri = format!("https://custodian.example/{}", "x".repeat(MAX_REDIRECT_URI_BYTES));
    let mut nul = consent(ctx, tenant, grant, session.clone(), hour);
    nul.redirect_uri.push('\0');
    for (what, bad) in [("too long", &long), ("with a nul byte", &nul)] {
        let put = store.put_consent(bad, ANY, BASE).await;
        ensure!(
            ctx,
            "consent invalid",
            matches!(put, Err(StoreError::Invalid(_))),
            "a redirect uri {what} gave {}",
            outcome(&put)
        );
    }

    let raced = consent(ctx, tenant, grant, api_key, hour);
    ctx.ok("consent race", store.put_consent(&raced, ANY, BASE).await)?;
    let takes = join_all((0..16).map(|_| store.take_consent(&raced.state_hash, BASE))).await;
    let mut won = 0;
    for take in takes {
        if ctx.ok("consent race", take)?.is_some() {
            won += 1;
        }
    }
    ensure!(ctx, "consent race", won == 1, "{won} of 16 concurrent takes got the consent");

    let week = Duration::days(7);
    let signal = Hash::of(ctx.name("signal").as_bytes());
    let claimed = ctx.ok("signal claim", store.claim_signal(&signal, BASE, week).await)?;
    ensure!(ctx, "signal claim", claimed, "a new key was not claimed");
    let claimed =
        ctx.ok("signal claim", store.claim_signal(&signal, BASE + Duration::minutes(1), week).await)?;
    ensure!(ctx, "signal claim", !claimed, "a key was claimed twice within its window");
    let hourly = Hash::of(ctx.name("signal-hourly").as_bytes());
    let hour_window = Duration::hours(1);
    let claimed = ctx.ok("signal claim", store.claim_signal(&hourly, BASE, hour_window).await)?;
    ensure!(ctx, "signal claim", claimed, "a new key was not claimed");
    let just_before = hour - Duration::seconds(1);
    let claimed = ctx.ok("signal claim", store.claim_signal(&hourly, just_before, hour_window).await)?;
    ensure!(ctx, "signal claim", !claimed, "a key was claimed again a second before its window ended");
    let claimed = ctx.ok("signal claim", store.claim_signal(&hourly, hour, hour_window).await)?;
    ensure!(ctx, "signal claim", claimed, "a key was not claimed again at the end of its window");
    let claimed = ctx.ok("signal claim", store.claim_signal(&signal, hour, week).await)?;
    ensure!(ctx, "signal claim", !claimed, "a claim ended with another key's window");
    let zero = store.claim_signal(&Hash::of(ctx.name("signal-zero").as_bytes()), BASE, Duration::ZERO).await;
    ensure!(
        ctx,
        "signal claim",
        matches!(zero, Err(StoreError::Invalid(_))),
        "a zero window gave {}",
        outcome(&zero)
    );

    let released = Hash::of(ctx.name("signal-released").as_bytes());
    ctx.ok("signal release", store.release_signal(&released).await)?;
    let claimed = ctx.ok("signal release", store.claim_signal(&released, BASE, week).await)?;
    ensure!(ctx, "signal release", claimed, "a new key was not claimed");
    ctx.ok("signal release", store.release_signal(&released).await)?;
    let claimed = ctx.ok("signal release", store.claim_signal(&released, BASE, week).await)?;
    ensure!(ctx, "signal release", claimed, "a released key could not be claimed again");
    let claimed = ctx.ok("signal release", store.claim_signal(&released, BASE, week).await)?;
    ensure!(ctx, "signal release", !claimed, "a key claimed again after a release was claimed twice");

    let raced = Hash::of(ctx.name("signal-raced").as_bytes());
    let claims = join_all((0..16).map(|_| store.claim_signal(&raced, BASE, week))).await;
    let mut won = 0;
    for claim in claims {
        if ctx.ok("signal race", claim)? {
            won += 1;
        }
    }
    ensure!(ctx, "signal race", won == 1, "{won} of 16 concurrent claims of one key were granted");
    Ok(())
}
