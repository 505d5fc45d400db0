//! The `GrantStore` contract: grants per tenant, optimistic saves and the cross-tenant lookups.

use custodian_core::grant::{GrantId, OwnerId, RevocationCause};
use custodian_core::platform::{AccountRef, MetaAdAccountId, Platform};
use custodian_core::ports::{AuditLog, GrantStore, StoreError, TenantStore};
use custodian_core::tenant::TenantId;
use time::Duration;

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
/// - `audit in chain`: each tenant's chain holds exactly its successful calls' events and verifies.
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

    check_chain(&ctx, audit, &a, &trail_a, "audit in chain").await?;
    check_chain(&ctx, audit, &b, &trail_b, "audit in chain").await
}
