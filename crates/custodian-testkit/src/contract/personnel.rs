//! The `PersonnelStore` contract: people, login material, sessions and API keys, audited on the system
//! chain.

use custodian_core::audit::system_tenant;
use custodian_core::personnel::{ApiKeyId, Permission, PersonId, Role};
use custodian_core::ports::{AuditLog, PersonnelStore, StoreError};
use custodian_core::tenant::TenantId;
use time::Duration;

use super::{BASE, ContractViolation, Ctx, Trail, check_shared_chain, outcome};
use crate::fixtures;

/// Checks a [`PersonnelStore`] (with the [`AuditLog`] of the same backend):
///
/// - `create and read`: a person (128-byte id) and their login material round-trip; `people` lists them.
/// - `create conflict`: creating an existing person is `Conflict` and appends nothing.
/// - `not found`: unknown people, sessions and API-key hashes are `NotFound`; updating an unknown person
///   fails.
/// - `update`: roles, assignments, MFA enrolment and the active flag are replaced; login material is
///   replaced by `set_credential`.
/// - `sessions`: stored by token hash; step-up MFA and revocation are recorded.
/// - `api keys`: found by the hash of their secret, listed, revoked.
/// - `audit in system chain`: the successful calls' events are in the system chain, in order, and what
///   was appended since the suite started verifies; failed calls appended nothing.
pub async fn personnel_store(
    store: &dyn PersonnelStore,
    audit: &dyn AuditLog,
    run_id: &str,
) -> Result<(), ContractViolation> {
    let ctx = Ctx::new("personnel_store", run_id)?;
    let since = ctx.ok("audit in system chain", audit.head(&system_tenant()).await)?;
    let mut trail = Trail::new(&ctx);
    let p: PersonId = ctx.fresh("person", true)?;
    let tenant: TenantId = ctx.fresh("tenant", false)?;

    let person = fixtures::person(&p, &[Role::Analyst], std::slice::from_ref(&tenant));
    let credential = fixtures::credential(&p);
    ctx.ok("create and read", store.create_person(&person, &credential, trail.commit("create")).await)?;
    let read = ctx.ok("create and read", store.person(&p).await)?;
    ensure!(ctx, "create and read", read == person, "read back {read:?}, stored {person:?}");
    let read = ctx.ok("create and read", store.credential(&p).await)?;
    ensure!(ctx, "create and read", read == credential, "the login material did not round-trip");
    let people = ctx.ok("create and read", store.people().await)?;
    ensure!(ctx, "create and read", people.contains(&person), "`people` does not list the new person");

    let again = store.create_person(&person, &credential, trail.reject("create again")).await;
    ensure!(
        ctx,
        "create conflict",
        matches!(again, Err(StoreError::Conflict(_))),
        "creating `{p}` twice gave {}",
        outcome(&again)
    );

    let unknown: PersonId = ctx.fresh("person-unknown", false)?;
    let read = store.person(&unknown).await;
    ensure!(
        ctx,
        "not found",
        matches!(read, Err(StoreError::NotFound)),
        "reading an unknown person gave {}",
        outcome(&read)
    );
    let update =
        store.update_person(&fixtures::person(&unknown, &[], &[]), trail.reject("update unknown")).await;
    ensure!(ctx, "not found", update.is_err(), "updating an unknown person succeeded");

    let mut changed = person.clone();
    changed.roles.insert(Role::AccountManager);
    changed.tenants.clear();
    changed.mfa_enrolled = false;
    changed.active = false;
    ctx.ok("update", store.update_person(&changed, trail.commit("update")).await)?;
    let read = ctx.ok("update", store.person(&p).await)?;
    ensure!(ctx, "update", read == changed, "read back {read:?} after updating to {changed:?}");
    let mut locked = credential.clone();
    locked.failed_logins = 5;
    locked.locked_until = Some(BASE + Duration::minutes(15));
    locked.totp_sealed = Some(vec![1, 2, 3, 4]);
    locked.totp_last_step = Some(58_000_000);
    ctx.ok("update", store.set_credential(&locked, trail.commit("credential")).await)?;
    let read = ctx.ok("update", store.credential(&p).await)?;
    ensure!(ctx, "update", read == locked, "the replaced login material did not round-trip");

    let hash = fixtures::token_hash(&ctx.name("session"));
    let session = fixtures::session_record(&p, hash, BASE);
    ctx.ok("sessions", store.create_session(&session, trail.commit("session")).await)?;
    let read = ctx.ok("sessions", store.session(&hash).await)?;
    ensure!(ctx, "sessions", read == session, "read back {read:?}, stored {session:?}");
    let missing = store.session(&fixtures::token_hash(&ctx.name("no-session"))).await;
    ensure!(
        ctx,
        "not found",
        matches!(missing, Err(StoreError::NotFound)),
        "an unknown session hash gave {}",
        outcome(&missing)
    );
    let step_up = BASE + Duration::minutes(5);
    ctx.ok("sessions", store.set_session_mfa(&hash, step_up).await)?;
    let read = ctx.ok("sessions", store.session(&hash).await)?;
    ensure!(ctx, "sessions", read.mfa_verified_at == Some(step_up), "the step-up was not recorded: {read:?}");
    let revoked_at = BASE + Duration::minutes(10);
    ctx.ok("sessions", store.revoke_session(&hash, revoked_at, trail.commit("revoke session")).await)?;
    let read = ctx.ok("sessions", store.session(&hash).await)?;
    ensure!(
        ctx,
        "sessions",
        read.revoked_at == Some(revoked_at),
        "the revocation was not recorded: {read:?}"
    );

    let key_id: ApiKeyId = ctx.fresh("api-key", true)?;
    let key = fixtures::api_key(&key_id, std::slice::from_ref(&tenant), &[Permission::DatasetRead], &p, BASE);
    let secret_hash = fixtures::token_hash(&ctx.name("api-key-secret"));
    ctx.ok("api keys", store.create_api_key(&key, &secret_hash, trail.commit("api key")).await)?;
    let read = ctx.ok("api keys", store.api_key_by_hash(&secret_hash).await)?;
    ensure!(ctx, "api keys", read == key, "read back {read:?}, stored {key:?}");
    let missing = store.api_key_by_hash(&fixtures::token_hash(&ctx.name("no-key"))).await;
    ensure!(
        ctx,
        "not found",
        matches!(missing, Err(StoreError::NotFound)),
        "an unknown key hash gave {}",
        outcome(&missing)
    );
    let keys = ctx.ok("api keys", store.api_keys().await)?;
    ensure!(ctx, "api keys", keys.contains(&key), "`api_keys` does not list the new key");
    ctx.ok("api keys", store.revoke_api_key(&key_id, revoked_at, trail.commit("revoke key")).await)?;
    let read = ctx.ok("api keys", store.api_key_by_hash(&secret_hash).await)?;
    ensure!(
        ctx,
        "api keys",
        read.revoked_at == Some(revoked_at),
        "the key revocation was not recorded: {read:?}"
    );
    let missing: ApiKeyId = ctx.fresh("api-key-unknown", false)?;
    let revoke = store.revoke_api_key(&missing, revoked_at, trail.reject("revoke unknown key")).await;
    ensure!(ctx, "not found", revoke.is_err(), "revoking an unknown key succeeded");

    check_shared_chain(&ctx, audit, &since, &trail, "audit in system chain").await
}
