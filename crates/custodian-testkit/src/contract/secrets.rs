//! The `SecretStore` contract: check-and-set writes, reads, deletion and tenant isolation.

use std::collections::BTreeSet;

use custodian_core::grant::GrantId;
use custodian_core::platform::{Platform, Scope};
use custodian_core::ports::{Credentials, SecretStore, SecretStoreError};
use custodian_core::tenant::TenantId;
use secrecy::SecretString;
use time::Duration;

use super::{BASE, ContractViolation, Ctx, outcome};
use crate::fixtures;

fn same(a: &Credentials, b: &Credentials) -> bool {
    a.same_tokens(b)
        && a.access_expires_at == b.access_expires_at
        && a.refresh_expires_at == b.refresh_expires_at
        && a.scopes == b.scopes
        && a.accounts == b.accounts
}

/// Checks a [`SecretStore`]:
///
/// - `create`: a create (`expected_version` `None`) stores the credentials; `get` returns them (every
///   field, 128-byte ids) with the version; `meta` shows the version.
/// - `create conflict`: a second create is `Conflict` and changes nothing.
/// - `check and set`: a write with the current version replaces and returns a higher version; a write with
///   an older version is `Conflict` and changes nothing; a write with a version to a missing secret fails.
/// - `not found`: `get` and `meta` of a missing secret are `NotFound`.
/// - `tenant isolation` (SEG-1): another tenant with the same grant id has its own secret, and its reads,
///   writes, lists and deletes never reach this tenant's.
/// - `list`: exactly the tenant's grants with credentials.
/// - `delete`: destroys every version (`get` and `meta` `NotFound`), returns whether anything existed, and
///   a later create starts afresh.
pub async fn secret_store(store: &dyn SecretStore, run_id: &str) -> Result<(), ContractViolation> {
    let ctx = Ctx::new("secret_store", run_id)?;
    let a: TenantId = ctx.fresh("tenant-a", true)?;
    let b: TenantId = ctx.fresh("tenant-b", false)?;
    let g1: GrantId = ctx.fresh("grant-1", true)?;
    let g2: GrantId = ctx.fresh("grant-2", false)?;

    let mut creds = fixtures::credentials(&ctx.name("access"), &ctx.name("refresh"));
    creds.access_expires_at = Some(BASE + Duration::hours(1));
    creds.refresh_expires_at = Some(BASE + Duration::days(60));
    creds.scopes = BTreeSet::from([ctx.ok("setup", Scope::new("ads_read"))?]);
    creds.accounts = BTreeSet::from([fixtures::account(Platform::Meta, 42)]);
    let v1 = ctx.ok("create", store.put(&a, &g1, &creds, None).await)?;
    let (read, version) = ctx.ok("create", store.get(&a, &g1).await)?;
    ensure!(
        ctx,
        "create",
        same(&read, &creds) && version == v1,
        "the stored credentials or version {version} (put returned {v1}) did not round-trip"
    );
    let meta = ctx.ok("create", store.meta(&a, &g1).await)?;
    ensure!(
        ctx,
        "create",
        meta.version == v1 && meta.created_at <= meta.updated_at,
        "meta shows {meta:?} for version {v1}"
    );

    let other = fixtures::credentials(&ctx.name("other-access"), &ctx.name("other-refresh"));
    let again = store.put(&a, &g1, &other, None).await;
    ensure!(
        ctx,
        "create conflict",
        matches!(again, Err(SecretStoreError::Conflict { .. })),
        "a second create gave {}",
        outcome(&again)
    );
    let (read, _) = ctx.ok("create conflict", store.get(&a, &g1).await)?;
    ensure!(ctx, "create conflict", same(&read, &creds), "a rejected create changed the credentials");

    let rotated = Credentials { access_token: SecretString::from(ctx.name("rotated")), ..creds.clone() };
    let v2 = ctx.ok("check and set", store.put(&a, &g1, &rotated, Some(v1)).await)?;
    ensure!(ctx, "check and set", v2 > v1, "a replace returned version {v2} after {v1}");
    let (read, version) = ctx.ok("check and set", store.get(&a, &g1).await)?;
    ensure!(
        ctx,
        "check and set",
        same(&read, &rotated) && version == v2,
        "the replaced credentials or version {version} did not round-trip"
    );
    let stale = store.put(&a, &g1, &other, Some(v1)).await;
    ensure!(
        ctx,
        "check and set",
        matches!(stale, Err(SecretStoreError::Conflict { .. })),
        "a write with an old version gave {}",
        outcome(&stale)
    );
    let (read, version) = ctx.ok("check and set", store.get(&a, &g1).await)?;
    ensure!(
        ctx,
        "check and set",
        same(&read, &rotated) && version == v2,
        "a rejected write changed the credentials"
    );
    let unknown: GrantId = ctx.fresh("grant-unknown", false)?;
    let blind = store.put(&a, &unknown, &other, Some(1)).await;
    ensure!(ctx, "check and set", blind.is_err(), "a versioned write to a missing secret succeeded");

    let missing = store.get(&a, &unknown).await;
    ensure!(
        ctx,
        "not found",
        matches!(missing, Err(SecretStoreError::NotFound)),
        "reading a missing secret gave {}",
        outcome(&missing)
    );
    let missing = store.meta(&a, &unknown).await;
    ensure!(
        ctx,
        "not found",
        matches!(missing, Err(SecretStoreError::NotFound)),
        "the meta of a missing secret gave {}",
        outcome(&missing)
    );

    let seen = store.get(&b, &g1).await;
    ensure!(
        ctx,
        "tenant isolation",
        matches!(seen, Err(SecretStoreError::NotFound)),
        "tenant `{b}` reading another tenant's secret gave {}",
        outcome(&seen)
    );
    let listed = ctx.ok("tenant isolation", store.list(&b).await)?;
    ensure!(
        ctx,
        "tenant isolation",
        listed.is_empty(),
        "tenant `{b}` lists {} grants of another tenant",
        listed.len()
    );
    ctx.ok("tenant isolation", store.put(&b, &g1, &other, None).await)?;
    let (read, _) = ctx.ok("tenant isolation", store.get(&b, &g1).await)?;
    ensure!(
        ctx,
        "tenant isolation",
        same(&read, &other),
        "tenant `{b}` reads credentials that are not its own"
    );
    let (read, version) = ctx.ok("tenant isolation", store.get(&a, &g1).await)?;
    ensure!(
        ctx,
        "tenant isolation",
        same(&read, &rotated) && version == v2,
        "another tenant's create changed this tenant's secret"
    );
    let deleted = ctx.ok("tenant isolation", store.delete(&b, &g1).await)?;
    ensure!(ctx, "tenant isolation", deleted, "deleting tenant `{b}`'s own secret reported nothing deleted");
    let (read, _) = ctx.ok("tenant isolation", store.get(&a, &g1).await)?;
    ensure!(
        ctx,
        "tenant isolation",
        same(&read, &rotated),
        "another tenant's delete removed this tenant's secret"
    );

    ctx.ok("list", store.put(&a, &g2, &other, None).await)?;
    let listed: BTreeSet<GrantId> = ctx.ok("list", store.list(&a).await)?.into_iter().collect();
    ensure!(ctx, "list", listed == BTreeSet::from([g1.clone(), g2.clone()]), "listed {listed:?}");

    let deleted = ctx.ok("delete", store.delete(&a, &g1).await)?;
    ensure!(ctx, "delete", deleted, "deleting an existing secret reported nothing deleted");
    let gone = store.get(&a, &g1).await;
    ensure!(
        ctx,
        "delete",
        matches!(gone, Err(SecretStoreError::NotFound)),
        "reading a deleted secret gave {}",
        outcome(&gone)
    );
    let gone = store.meta(&a, &g1).await;
    ensure!(
        ctx,
        "delete",
        matches!(gone, Err(SecretStoreError::NotFound)),
        "the meta of a deleted secret gave {}",
        outcome(&gone)
    );
    let deleted = ctx.ok("delete", store.delete(&a, &g1).await)?;
    ensure!(ctx, "delete", !deleted, "deleting twice reported something deleted");
    let listed = ctx.ok("delete", store.list(&a).await)?;
    ensure!(ctx, "delete", listed == vec![g2.clone()], "after deletion the tenant lists {listed:?}");
    ctx.ok("delete", store.put(&a, &g1, &creds, None).await)?;
    let (read, _) = ctx.ok("delete", store.get(&a, &g1).await)?;
    ensure!(ctx, "delete", same(&read, &creds), "a create after deletion did not store the new credentials");
    ctx.ok("delete", store.delete(&a, &g1).await)?;
    ctx.ok("delete", store.delete(&a, &g2).await)?;
    Ok(())
}
