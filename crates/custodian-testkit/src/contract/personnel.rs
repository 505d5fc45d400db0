//! The `PersonnelStore` contract: people, login material, sessions and API keys, audited on the system
//! chain.

use custodian_core::audit::system_tenant;
use custodian_core::personnel::{ApiKeyId, Permission, PersonId, Role};
use custodian_core::ports::{AuditLog, PersonnelStore, SessionRecord, StoreError};
use custodian_core::tenant::TenantId;
use time::{Duration, OffsetDateTime};

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
/// - `sign out everywhere`: `live_sessions` lists a person's unrevoked, unexpired sessions newest first;
///   `revoke_sessions_of` revokes exactly those, leaves expired, already revoked and other people's
///   sessions as they were, and returns how many it revoked (0 the second time, still audited).
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

    // Sign out everywhere: another person with sessions live, expired and already revoked; `p` keeps a
    // live session throughout.
    let q: PersonId = ctx.fresh("person-sessions", false)?;
    let q_person = fixtures::person(&q, &[Role::Analyst], &[]);
    let q_credential = fixtures::credential(&q);
    ctx.ok(
        "sign out everywhere",
        store.create_person(&q_person, &q_credential, trail.commit("create")).await,
    )?;
    let session_of = |who: &PersonId, name: &str, created: OffsetDateTime| {
        fixtures::session_record(who, fixtures::token_hash(&ctx.name(name)), created)
    };
    let older = session_of(&q, "older", BASE);
    let newer = session_of(&q, "newer", BASE + Duration::minutes(1));
    let expired =
        SessionRecord { expires_at: BASE + Duration::minutes(30), ..session_of(&q, "expired", BASE) };
    let revoked = session_of(&q, "revoked", BASE);
    let kept = session_of(&p, "kept", BASE);
    for session in [&older, &newer, &expired, &revoked, &kept] {
        ctx.ok("sign out everywhere", store.create_session(session, trail.commit("session")).await)?;
    }
    let revoked_first = BASE + Duration::minutes(2);
    ctx.ok(
        "sign out everywhere",
        store.revoke_session(&revoked.token_hash, revoked_first, trail.commit("revoke session")).await,
    )?;
    let now = BASE + Duration::hours(1);
    let live = ctx.ok("sign out everywhere", store.live_sessions(&q, now).await)?;
    ensure!(
        ctx,
        "sign out everywhere",
        live == [newer.clone(), older.clone()],
        "live sessions {live:?}, expected the newer then the older of {newer:?} and {older:?}"
    );
    let n =
        ctx.ok("sign out everywhere", store.revoke_sessions_of(&q, now, trail.commit("sign out")).await)?;
    ensure!(ctx, "sign out everywhere", n == 2, "revoked {n} sessions, expected the 2 live ones");
    let live = ctx.ok("sign out everywhere", store.live_sessions(&q, now).await)?;
    ensure!(
        ctx,
        "sign out everywhere",
        live.is_empty(),
        "sessions live after signing out everywhere: {live:?}"
    );
    for (session, expected) in
        [(&older, Some(now)), (&newer, Some(now)), (&expired, None), (&revoked, Some(revoked_first))]
    {
        let read = ctx.ok("sign out everywhere", store.session(&session.token_hash).await)?;
        ensure!(
            ctx,
            "sign out everywhere",
            read.revoked_at == expected,
            "session {:?} shows revoked_at {:?}, expected {expected:?}",
            session.created_at,
            read.revoked_at
        );
    }
    let others = ctx.ok("sign out everywhere", store.live_sessions(&p, now).await)?;
    ensure!(
        ctx,
        "sign out everywhere",
        others == [kept.clone()],
        "another person's sessions changed: {others:?}"
    );
    let n = ctx
        .ok("sign out everywhere", store.revoke_sessions_of(&q, now, trail.commit("sign out again")).await)?;
    ensure!(ctx, "sign out everywhere", n == 0, "signing out again revoked {n} sessions");
    let none = ctx.ok("sign out everywhere", store.live_sessions(&unknown, now).await)?;
    ensure!(ctx, "sign out everywhere", none.is_empty(), "an unknown person has sessions: {none:?}");

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
