//! The `TenantStore` contract: tenants and their business contacts.

use std::collections::BTreeMap;

use custodian_core::data::DataClass;
use custodian_core::ports::{AuditLog, StoreError, TenantStore};
use custodian_core::retention::RetentionDays;
use custodian_core::tenant::{BusinessContact, ContactId, TenantId, TenantName, TenantStatus};

use super::{ContractViolation, Ctx, Trail, check_chain, outcome};
use crate::fakes::SeededRng;
use crate::fixtures;

/// Checks a [`TenantStore`] (with the [`AuditLog`] of the same backend):
///
/// - `create and read`: a tenant with a 128-byte id round-trips; `tenants` lists it.
/// - `create conflict`: creating an existing id is `Conflict` and appends nothing.
/// - `not found`: reading or updating an unknown tenant is `NotFound`; setting its status fails.
/// - `update`: name, contract and status are replaced; `set status` changes only the status.
/// - `contacts round trip`: contacts (sealed details, 128-byte ids) are stored, replaced by id and listed.
/// - `tenant isolation` (SEG-1): another tenant neither sees nor deletes them, by id or all at once.
/// - `delete contacts`: deleting by ids counts exactly what existed; deleting all empties the tenant.
/// - `audit in chain` (AUD-2): each tenant's chain holds exactly its successful calls' events and verifies
///   from genesis to its head.
pub async fn tenant_store(
    store: &dyn TenantStore,
    audit: &dyn AuditLog,
    run_id: &str,
) -> Result<(), ContractViolation> {
    let ctx = Ctx::new("tenant_store", run_id)?;
    let a: TenantId = ctx.fresh("tenant-a", true)?;
    let b: TenantId = ctx.fresh("tenant-b", false)?;
    let mut trail_a = Trail::new(&ctx);
    let mut trail_b = Trail::new(&ctx);

    let tenant_a = fixtures::tenant(&a);
    ctx.ok("create and read", store.create_tenant(&tenant_a, trail_a.commit("create a")).await)?;
    ctx.ok("create and read", store.create_tenant(&fixtures::tenant(&b), trail_b.commit("create b")).await)?;
    let read = ctx.ok("create and read", store.tenant(&a).await)?;
    ensure!(ctx, "create and read", read == tenant_a, "read back {read:?}, stored {tenant_a:?}");
    let all = ctx.ok("create and read", store.tenants().await)?;
    ensure!(
        ctx,
        "create and read",
        all.iter().any(|t| t.id == a) && all.iter().any(|t| t.id == b),
        "`tenants` does not list both new tenants"
    );

    let again = store.create_tenant(&tenant_a, trail_a.reject("create a again")).await;
    ensure!(
        ctx,
        "create conflict",
        matches!(again, Err(StoreError::Conflict(_))),
        "creating `{a}` twice gave {}",
        outcome(&again)
    );

    let unknown: TenantId = ctx.fresh("tenant-unknown", false)?;
    let read = store.tenant(&unknown).await;
    ensure!(
        ctx,
        "not found",
        matches!(read, Err(StoreError::NotFound)),
        "reading an unknown tenant gave {}",
        outcome(&read)
    );
    let update = store.update_tenant(&fixtures::tenant(&unknown), Vec::new()).await;
    ensure!(
        ctx,
        "not found",
        matches!(update, Err(StoreError::NotFound)),
        "updating an unknown tenant gave {}",
        outcome(&update)
    );
    let status = store.set_tenant_status(&unknown, TenantStatus::Offboarding, Vec::new()).await;
    ensure!(ctx, "not found", status.is_err(), "setting the status of an unknown tenant succeeded");
    let listed = ctx.ok("not found", store.tenants().await)?;
    ensure!(ctx, "not found", !listed.iter().any(|t| t.id == unknown), "a failed update created a tenant");

    let mut changed = tenant_a.clone();
    changed.name = ctx.ok("update", TenantName::new("Renamed by the contract suite"))?;
    let days = ctx.ok("update", RetentionDays::new(90))?;
    changed.contract.retention_overrides = BTreeMap::from([(DataClass::ReportingDataset, days)]);
    ctx.ok("update", store.update_tenant(&changed, trail_a.commit("update a")).await)?;
    let read = ctx.ok("update", store.tenant(&a).await)?;
    ensure!(ctx, "update", read == changed, "read back {read:?} after updating to {changed:?}");
    ctx.ok(
        "set status",
        store.set_tenant_status(&a, TenantStatus::Offboarding, trail_a.commit("offboard a")).await,
    )?;
    let read = ctx.ok("set status", store.tenant(&a).await)?;
    let expected = custodian_core::tenant::Tenant { status: TenantStatus::Offboarding, ..changed };
    ensure!(ctx, "set status", read == expected, "read back {read:?} after setting the status only");
    let b_read = ctx.ok("set status", store.tenant(&b).await)?;
    ensure!(ctx, "set status", b_read.status == TenantStatus::Active, "another tenant's status changed");

    let rng = SeededRng::new(7);
    let key = fixtures::data_key("contract tenant store", 1);
    let c1: ContactId = ctx.fresh("contact-1", true)?;
    let c2: ContactId = ctx.fresh("contact-2", false)?;
    let contact1 = ctx.ok("contacts round trip", fixtures::contact(&a, &c1, 1, &key, &rng))?;
    let contact2 = ctx.ok("contacts round trip", fixtures::contact(&a, &c2, 2, &key, &rng))?;
    ctx.ok("contacts round trip", store.put_contact(&contact1, trail_a.commit("contact 1")).await)?;
    ctx.ok("contacts round trip", store.put_contact(&contact2, trail_a.commit("contact 2")).await)?;
    let replaced = BusinessContact { role: "finance contact".to_owned(), ..contact1.clone() };
    ctx.ok("contacts round trip", store.put_contact(&replaced, trail_a.commit("contact 1 replaced")).await)?;
    let mut listed = ctx.ok("contacts round trip", store.contacts(&a).await)?;
    listed.sort_by(|x, y| x.id.cmp(&y.id));
    let mut expected = vec![replaced.clone(), contact2.clone()];
    expected.sort_by(|x, y| x.id.cmp(&y.id));
    ensure!(ctx, "contacts round trip", listed == expected, "listed {listed:?}, expected {expected:?}");

    let seen_by_b = ctx.ok("tenant isolation", store.contacts(&b).await)?;
    ensure!(
        ctx,
        "tenant isolation",
        seen_by_b.is_empty(),
        "tenant `{b}` sees {} contacts of another tenant",
        seen_by_b.len()
    );
    let deleted = ctx.ok(
        "tenant isolation",
        store.delete_contacts(&b, Some(vec![c1.clone()]), trail_b.commit("b deletes by id")).await,
    )?;
    ensure!(
        ctx,
        "tenant isolation",
        deleted == 0,
        "tenant `{b}` deleted {deleted} contacts of another tenant by id"
    );
    let deleted =
        ctx.ok("tenant isolation", store.delete_contacts(&b, None, trail_b.commit("b deletes all")).await)?;
    ensure!(
        ctx,
        "tenant isolation",
        deleted == 0,
        "tenant `{b}` deleted {deleted} contacts of another tenant"
    );
    let still = ctx.ok("tenant isolation", store.contacts(&a).await)?;
    ensure!(
        ctx,
        "tenant isolation",
        still.len() == 2,
        "tenant `{a}` has {} contacts after another tenant's deletes",
        still.len()
    );

    let missing: ContactId = ctx.fresh("contact-missing", false)?;
    let deleted = ctx.ok(
        "delete contacts",
        store.delete_contacts(&a, Some(vec![c1.clone(), missing]), trail_a.commit("delete 1")).await,
    )?;
    ensure!(
        ctx,
        "delete contacts",
        deleted == 1,
        "deleting one existing and one missing contact counted {deleted}"
    );
    let left = ctx.ok("delete contacts", store.contacts(&a).await)?;
    ensure!(ctx, "delete contacts", left == vec![contact2], "left {left:?} after deleting one of two");
    let deleted =
        ctx.ok("delete contacts", store.delete_contacts(&a, None, trail_a.commit("delete all")).await)?;
    ensure!(ctx, "delete contacts", deleted == 1, "deleting all counted {deleted}, expected 1");
    let left = ctx.ok("delete contacts", store.contacts(&a).await)?;
    ensure!(ctx, "delete contacts", left.is_empty(), "{} contacts left after deleting all", left.len());

    check_chain(&ctx, audit, &a, &trail_a, "audit in chain").await?;
    check_chain(&ctx, audit, &b, &trail_b, "audit in chain").await
}
