//! The `KeyManager` contract: stable keys, rotation, KEK rotation, crypto-shredding, tenant isolation.

use custodian_core::data::{ContactDetails, DataKey, KeyVersion, SealContext, Sealed, open, seal};
use custodian_core::grant::GrantId;
use custodian_core::ports::{KeyError, KeyManager, KeyScope};
use custodian_core::tenant::TenantId;

use super::{ContractViolation, Ctx, outcome};
use crate::fakes::SeededRng;
use crate::fixtures;

/// A sealed value and what opens it.
struct Probe {
    scope: KeyScope,
    version: KeyVersion,
    ctx: SealContext,
    sealed: Sealed<ContactDetails>,
}

impl Probe {
    async fn seal(
        ctx: &Ctx,
        keys: &dyn KeyManager,
        scope: &KeyScope,
        rng: &SeededRng,
        check: &'static str,
    ) -> Result<Probe, ContractViolation> {
        let key = ctx.ok(check, keys.current_key(scope).await)?;
        let seal_ctx = SealContext::new(&scope.tenant, "contract", &ctx.name("probe"));
        let sealed = ctx.ok(check, seal(&key, &seal_ctx, &fixtures::contact_details(1), rng))?;
        Ok(Probe { scope: scope.clone(), version: key.version(), ctx: seal_ctx, sealed })
    }

    fn opens_with(&self, key: &DataKey) -> bool {
        open(key, &self.ctx, &self.sealed).is_ok_and(|d| d == fixtures::contact_details(1))
    }

    /// Whether the key manager still opens it.
    async fn opens(&self, keys: &dyn KeyManager) -> Result<bool, KeyError> {
        Ok(self.opens_with(&keys.key(&self.scope, self.version).await?))
    }
}

/// Checks a [`KeyManager`]:
///
/// - `same key until rotation`: `current_key` keeps returning the same key (one opens the other's seals)
///   for a scope, 128-byte ids included; `exists` is true once created and false for an unused scope.
/// - `rotation`: `rotate_data_key` returns a higher version that becomes current; older versions still
///   open old seals through `key`.
/// - `tenant isolation` (SEG-1): scopes of two tenants (even with the same grant id) and two grants of one
///   tenant have different keys (compared where their versions are equal, as every scope's first key is
///   with version numbers per scope).
/// - `rotate kek`: rotating the key-encryption key re-wraps exactly the tenant's key versions and every
///   key still opens its seals.
/// - `destroy scope`: destroying one grant's scope returns its version count, then `current_key`, `key`,
///   `rotate_data_key` are `NotFound` or fail, `exists` is false, a second destroy returns 0, and the
///   tenant's other scopes stay usable (RET-3).
/// - `no silent re-creation`: a destroyed scope is never given a fresh key.
/// - `destroy tenant`: destroys every remaining version of the tenant; all its scopes are gone for good;
///   other tenants are untouched; a second call returns 0.
pub async fn key_manager(keys: &dyn KeyManager, run_id: &str) -> Result<(), ContractViolation> {
    let ctx = Ctx::new("key_manager", run_id)?;
    let rng = SeededRng::from_seed(ctx.name("rng").as_bytes());
    let a: TenantId = ctx.fresh("tenant-a", true)?;
    let b: TenantId = ctx.fresh("tenant-b", false)?;
    let g1: GrantId = ctx.fresh("grant-1", true)?;
    let g2: GrantId = ctx.fresh("grant-2", false)?;
    let tenant_a = KeyScope::tenant(&a);
    let grant1 = KeyScope::grant(&a, &g1);
    let grant2 = KeyScope::grant(&a, &g2);
    let tenant_b = KeyScope::tenant(&b);
    let grant1_b = KeyScope::grant(&b, &g1);

    let unused = ctx.ok(
        "same key until rotation",
        keys.exists(&KeyScope::grant(&a, &ctx.fresh("grant-unused", false)?)).await,
    )?;
    ensure!(ctx, "same key until rotation", !unused, "an unused scope has key material");
    let first = Probe::seal(&ctx, keys, &tenant_a, &rng, "same key until rotation").await?;
    let again = ctx.ok("same key until rotation", keys.current_key(&tenant_a).await)?;
    ensure!(
        ctx,
        "same key until rotation",
        again.version() == first.version && first.opens_with(&again),
        "a second `current_key` gave another key"
    );
    let exists = ctx.ok("same key until rotation", keys.exists(&tenant_a).await)?;
    ensure!(ctx, "same key until rotation", exists, "a created scope has no key material");

    let rotated = ctx.ok("rotation", keys.rotate_data_key(&tenant_a).await)?;
    ensure!(
        ctx,
        "rotation",
        rotated > first.version,
        "rotation returned version {rotated:?} after {:?}",
        first.version
    );
    let second = Probe::seal(&ctx, keys, &tenant_a, &rng, "rotation").await?;
    ensure!(
        ctx,
        "rotation",
        second.version == rotated,
        "after rotation the current key is version {:?}, expected {rotated:?}",
        second.version
    );
    let old_opens = ctx.ok("rotation", first.opens(keys).await)?;
    ensure!(ctx, "rotation", old_opens, "the old version no longer opens its seals");
    let new_opens = ctx.ok("rotation", second.opens(keys).await)?;
    ensure!(ctx, "rotation", new_opens, "the new version does not open its seals");

    let g1_probe = Probe::seal(&ctx, keys, &grant1, &rng, "tenant isolation").await?;
    let g2_probe = Probe::seal(&ctx, keys, &grant2, &rng, "tenant isolation").await?;
    let b_probe = Probe::seal(&ctx, keys, &tenant_b, &rng, "tenant isolation").await?;
    let b_grant_key = ctx.ok("tenant isolation", keys.current_key(&grant1_b).await)?;
    let b_key = ctx.ok("tenant isolation", keys.current_key(&tenant_b).await)?;
    let g2_key = ctx.ok("tenant isolation", keys.current_key(&grant2).await)?;
    let a_key = ctx.ok("tenant isolation", keys.key(&tenant_a, first.version).await)?;
    // Opening needs equal versions: each scope's first key is checked against the others' first keys.
    ensure!(
        ctx,
        "tenant isolation",
        !first.opens_with(&b_key)
            && !g1_probe.opens_with(&b_grant_key)
            && !g1_probe.opens_with(&g2_key)
            && !g1_probe.opens_with(&a_key)
            && !b_probe.opens_with(&a_key),
        "two scopes share a data key"
    );

    let rewrapped = ctx.ok("rotate kek", keys.rotate_kek(&a).await)?;
    ensure!(
        ctx,
        "rotate kek",
        rewrapped == 4,
        "rotating the kek re-wrapped {rewrapped} keys, the tenant has 4 versions"
    );
    for probe in [&first, &second, &g1_probe, &g2_probe, &b_probe] {
        let opens = ctx.ok("rotate kek", probe.opens(keys).await)?;
        ensure!(ctx, "rotate kek", opens, "after rotating the kek a key no longer opens its seals");
    }

    let destroyed = ctx.ok("destroy scope", keys.destroy(&grant1).await)?;
    ensure!(ctx, "destroy scope", destroyed == 1, "destroying a scope with 1 version returned {destroyed}");
    let gone = keys.current_key(&grant1).await;
    ensure!(
        ctx,
        "no silent re-creation",
        matches!(gone, Err(KeyError::NotFound)),
        "`current_key` of a destroyed scope gave {}",
        outcome(&gone)
    );
    let gone = keys.key(&grant1, g1_probe.version).await;
    ensure!(
        ctx,
        "destroy scope",
        matches!(gone, Err(KeyError::NotFound)),
        "`key` of a destroyed scope gave {}",
        outcome(&gone)
    );
    let rotate = keys.rotate_data_key(&grant1).await;
    ensure!(ctx, "no silent re-creation", rotate.is_err(), "rotating a destroyed scope created a key");
    let gone = keys.current_key(&grant1).await;
    ensure!(
        ctx,
        "no silent re-creation",
        matches!(gone, Err(KeyError::NotFound)),
        "after a rotation attempt `current_key` of a destroyed scope gave {}",
        outcome(&gone)
    );
    let exists = ctx.ok("destroy scope", keys.exists(&grant1).await)?;
    ensure!(ctx, "destroy scope", !exists, "a destroyed scope still has key material");
    let twice = ctx.ok("destroy scope", keys.destroy(&grant1).await)?;
    ensure!(ctx, "destroy scope", twice == 0, "destroying twice returned {twice}");
    for probe in [&first, &second, &g2_probe] {
        let opens = ctx.ok("destroy scope", probe.opens(keys).await)?;
        ensure!(
            ctx,
            "destroy scope",
            opens,
            "destroying one grant's scope broke another scope of the tenant"
        );
    }
    let exists = ctx.ok("destroy scope", keys.exists(&grant2).await)?;
    ensure!(ctx, "destroy scope", exists, "destroying one grant's scope removed another's key material");

    let destroyed = ctx.ok("destroy tenant", keys.destroy_tenant(&a).await)?;
    ensure!(
        ctx,
        "destroy tenant",
        destroyed == 3,
        "destroying the tenant returned {destroyed}, it had 3 versions left"
    );
    for scope in [&tenant_a, &grant2] {
        let gone = keys.current_key(scope).await;
        ensure!(
            ctx,
            "destroy tenant",
            matches!(gone, Err(KeyError::NotFound)),
            "`current_key` after destroying the tenant gave {}",
            outcome(&gone)
        );
        let exists = ctx.ok("destroy tenant", keys.exists(scope).await)?;
        ensure!(ctx, "destroy tenant", !exists, "a scope of a destroyed tenant still has key material");
    }
    let gone = keys.key(&tenant_a, first.version).await;
    ensure!(
        ctx,
        "destroy tenant",
        matches!(gone, Err(KeyError::NotFound)),
        "`key` after destroying the tenant gave {}",
        outcome(&gone)
    );
    let fresh = keys.current_key(&KeyScope::grant(&a, &ctx.fresh("grant-new", false)?)).await;
    ensure!(ctx, "no silent re-creation", fresh.is_err(), "a destroyed tenant was given a new key");
    let b_opens = ctx.ok("destroy tenant", b_probe.opens(keys).await)?;
    ensure!(ctx, "destroy tenant", b_opens, "destroying one tenant broke another tenant's key");
    let twice = ctx.ok("destroy tenant", keys.destroy_tenant(&a).await)?;
    ensure!(ctx, "destroy tenant", twice == 0, "destroying the tenant twice returned {twice}");
    ctx.ok("destroy tenant", keys.destroy_tenant(&b).await)?;
    Ok(())
}
