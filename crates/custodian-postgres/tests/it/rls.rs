//! Row-level security (SEG-1), proven with hand-written SQL under the application role: without a tenant
//! setting nothing is visible; tenant A cannot read, update, delete or insert tenant B's rows; the
//! application role owns nothing and cannot lift the policies; the cross-tenant functions return ids only.

use custodian_core::audit::{ActorRef, NewAuditEvent, TenantChanged};
use custodian_core::data::ReportLevel;
use custodian_core::grant::GrantId;
use custodian_core::platform::{AccountRef, MetaAdAccountId, Platform};
use custodian_core::ports::{AuditLog, DatasetStore, GrantStore, IngestBatch, TenantStore};
use custodian_core::tenant::TenantId;
use custodian_testkit::fixtures::{self, T0};
use sqlx::{Postgres, Transaction};
use time::macros::date;

use crate::TestDb;

/// Every tenant table (the migration puts a policy on each).
pub(crate) const TENANT_TABLES: &[&str] = &[
    "tenants",
    "contacts",
    "grants",
    "grant_accounts",
    "report_rows",
    "campaigns",
    "orders",
    "order_lines",
    "stock_levels",
    "sync_checkpoints",
    "audit_records",
    "audit_heads",
    "audit_checkpoints",
    "change_requests",
    "rights_requests",
    "legal_holds",
    "deletion_receipts",
];

fn event(text: &str) -> Vec<NewAuditEvent> {
    vec![NewAuditEvent::new(T0, ActorRef::System, TenantChanged::new(text))]
}

/// Two tenants with a grant, report rows, orders and an audit chain each.
async fn two_tenants(db: &TestDb) -> (TenantId, TenantId) {
    two_tenants_named(db, "tenant-a", "tenant-b").await
}

/// [`two_tenants`] with the given ids.
async fn two_tenants_named(db: &TestDb, a: &str, b: &str) -> (TenantId, TenantId) {
    let s = &db.store;
    let a: TenantId = a.parse().unwrap();
    let b: TenantId = b.parse().unwrap();
    let g: GrantId = "grant-1".parse().unwrap();
    let account = AccountRef::MetaAdAccount(MetaAdAccountId::new("act_1").unwrap());
    for t in [&a, &b] {
        s.create_tenant(&fixtures::tenant(t), event("create")).await.unwrap();
        let grant = fixtures::active_grant(t, &g, Platform::Meta, std::slice::from_ref(&account), T0);
        s.insert_grant(&grant, event("grant")).await.unwrap();
        let target = fixtures::target(t, &g, &account);
        let rows = fixtures::report_rows(&target, ReportLevel::Campaign, date!(2024 - 12 - 01), 3, 6);
        s.upsert_report_rows(IngestBatch {
            tenant: t.clone(),
            records: rows,
            checkpoint: None,
            audit: event("rows"),
        })
        .await
        .unwrap();
        let orders = (0..3).map(|i| fixtures::order(&target, i, T0)).collect();
        s.upsert_orders(IngestBatch {
            tenant: t.clone(),
            records: orders,
            checkpoint: None,
            audit: event("orders"),
        })
        .await
        .unwrap();
    }
    (a, b)
}

/// A transaction as the application role, scoped to `tenant` (no setting at all when `None`).
async fn as_app(db: &TestDb, tenant: Option<&TenantId>) -> Transaction<'static, Postgres> {
    let mut tx = db.owner.begin().await.unwrap();
    sqlx::query("SET LOCAL ROLE custodian_app").execute(&mut *tx).await.unwrap();
    if let Some(t) = tenant {
        sqlx::query("SELECT set_config('custodian.tenant', $1, true)")
            .bind(t.as_str())
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx
}

async fn count(tx: &mut Transaction<'static, Postgres>, table: &str, tenant: Option<&TenantId>) -> i64 {
    // Table names come from the constant list above, never from input.
    let sql = match tenant {
        Some(_) => format!("SELECT count(*) FROM {table} WHERE tenant_id = $1"),
        None => format!("SELECT count(*) FROM {table}"),
    };
    let mut q = sqlx::query_as::<_, (i64,)>(&sql);
    if let Some(t) = tenant {
        q = q.bind(t.as_str());
    }
    q.fetch_one(&mut **tx).await.unwrap().0
}

#[tokio::test]
async fn without_a_tenant_setting_a_query_sees_nothing() {
    let db = TestDb::new().await;
    two_tenants(&db).await;
    let mut owner = db.owner.begin().await.unwrap();
    for table in [
        "tenants",
        "grants",
        "grant_accounts",
        "report_rows",
        "orders",
        "order_lines",
        "audit_records",
        "audit_heads",
    ] {
        assert!(count(&mut owner, table, None).await > 0, "the owner sees the rows of `{table}`");
    }
    let mut tx = as_app(&db, None).await;
    for table in TENANT_TABLES {
        assert_eq!(count(&mut tx, table, None).await, 0, "`{table}` without a tenant setting");
    }
    let n = sqlx::query("UPDATE report_rows SET clicks = 0").execute(&mut *tx).await.unwrap().rows_affected();
    assert_eq!(n, 0, "an update without a tenant setting touches nothing");
    let n = sqlx::query("DELETE FROM report_rows").execute(&mut *tx).await.unwrap().rows_affected();
    assert_eq!(n, 0, "a delete without a tenant setting touches nothing");
    tx.rollback().await.unwrap();
    // An empty setting (what a reused session holds after a transaction-local one) matches nothing either.
    let empty: TenantId = "x".parse().unwrap();
    let mut tx = as_app(&db, Some(&empty)).await;
    sqlx::query("SELECT set_config('custodian.tenant', '', true)").execute(&mut *tx).await.unwrap();
    assert_eq!(count(&mut tx, "report_rows", None).await, 0);
}

/// The store writes a plain tenant id into the `BEGIN` it sends with the settings (one round trip); any
/// other id (quotes, backslashes, semicolons: all valid in a `TenantId`) is bound as a parameter instead.
/// Both kinds work through the store and see only their own rows.
#[tokio::test]
async fn tenant_ids_that_are_not_plain_identifiers_are_bound_and_stay_isolated() {
    let db = TestDb::new().await;
    let (a, b) = two_tenants_named(&db, "o'hare", "x\\';SELECT(1);--").await;
    let (c, _) = two_tenants_named(&db, "plain-c", "plain-d").await;
    for t in [&a, &b, &c] {
        assert_eq!(db.store.tenant(t).await.unwrap().id, *t);
        let query = custodian_core::ports::DatasetQuery {
            limit: 1_000,
            ..custodian_core::ports::DatasetQuery::everything(t.clone())
        };
        let rows = db.store.report_rows(&query).await.unwrap();
        assert_eq!(rows.len(), 6, "{t}: its 6 report rows");
        assert!(rows.iter().all(|r| r.tenant == *t), "{t} sees only its own rows");
    }
    let mut owner = db.owner.begin().await.unwrap();
    assert_eq!(count(&mut owner, "report_rows", None).await, 4 * 6);
}

#[tokio::test]
async fn tenant_a_cannot_read_update_delete_or_insert_rows_of_tenant_b() {
    let db = TestDb::new().await;
    let (a, b) = two_tenants(&db).await;
    let mut tx = as_app(&db, Some(&a)).await;
    assert_eq!(count(&mut tx, "report_rows", Some(&a)).await, 6, "a sees its own rows");
    for table in TENANT_TABLES {
        assert_eq!(count(&mut tx, table, Some(&b)).await, 0, "a reads b's `{table}`");
        // Audit records and receipts cannot be updated by the application role at all.
        if !["audit_records", "deletion_receipts"].contains(table) {
            let update = format!("UPDATE {table} SET tenant_id = tenant_id WHERE tenant_id = $1");
            let n = sqlx::query(&update).bind(b.as_str()).execute(&mut *tx).await.unwrap().rows_affected();
            assert_eq!(n, 0, "a updates b's `{table}`");
        }
        let delete = format!("DELETE FROM {table} WHERE tenant_id = $1");
        let n = sqlx::query(&delete).bind(b.as_str()).execute(&mut *tx).await.unwrap().rows_affected();
        assert_eq!(n, 0, "a deletes b's `{table}`");
    }
    tx.rollback().await.unwrap();

    // Writing a row of b, or moving a's row to b, is refused by the policy's WITH CHECK.
    let mut tx = as_app(&db, Some(&a)).await;
    let insert = sqlx::query(
        "INSERT INTO audit_heads (tenant_id, seq, hash) VALUES ($1, 0, '\\x0000000000000000000000000000000000000000000000000000000000000000')",
    )
    .bind("tenant-c")
    .execute(&mut *tx)
    .await;
    let err = insert.unwrap_err();
    assert!(err.to_string().contains("row-level security"), "{err}");
    tx.rollback().await.unwrap();
    let mut tx = as_app(&db, Some(&a)).await;
    let moved = sqlx::query("UPDATE report_rows SET tenant_id = $1 WHERE tenant_id = $2")
        .bind(b.as_str())
        .bind(a.as_str())
        .execute(&mut *tx)
        .await;
    assert!(moved.unwrap_err().to_string().contains("row-level security"));
    tx.rollback().await.unwrap();

    let mut owner = db.owner.begin().await.unwrap();
    assert_eq!(count(&mut owner, "report_rows", Some(&b)).await, 6, "b's rows are intact");
    assert_eq!(count(&mut owner, "order_lines", Some(&b)).await, 6, "b's order lines are intact");
}

#[tokio::test]
async fn the_application_role_owns_nothing_and_cannot_lift_the_policies() {
    let db = TestDb::new().await;
    let (a, _) = two_tenants(&db).await;
    let (owned,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = 'custodian_app'",
    )
    .fetch_one(&db.owner)
    .await
    .unwrap();
    assert_eq!(owned, 0);
    let (login, super_user): (bool, bool) = sqlx::query_as(
        "SELECT rolcanlogin, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = 'custodian_app'",
    )
    .fetch_one(&db.owner)
    .await
    .unwrap();
    assert!(!login && !super_user, "custodian_app is NOLOGIN and bypasses nothing");
    let mut tx = as_app(&db, Some(&a)).await;
    let disable = sqlx::query("ALTER TABLE report_rows DISABLE ROW LEVEL SECURITY").execute(&mut *tx).await;
    assert!(disable.unwrap_err().to_string().contains("must be owner"));
    tx.rollback().await.unwrap();
    let mut tx = as_app(&db, Some(&a)).await;
    let drop = sqlx::query("DROP POLICY tenant_isolation ON report_rows").execute(&mut *tx).await;
    assert!(drop.is_err());
    tx.rollback().await.unwrap();
    let mut tx = as_app(&db, Some(&a)).await;
    let update = sqlx::query("UPDATE deletion_receipts SET doc = doc").execute(&mut *tx).await;
    assert!(update.unwrap_err().to_string().contains("permission denied"), "receipts are immutable");
}

#[tokio::test]
async fn cross_tenant_lookups_return_ids_only() {
    let db = TestDb::new().await;
    let (a, b) = two_tenants(&db).await;
    let account = AccountRef::MetaAdAccount(MetaAdAccountId::new("act_1").unwrap());
    let g: GrantId = "grant-1".parse().unwrap();
    let found = db.store.locate_by_account(Platform::Meta, &account).await.unwrap();
    assert_eq!(found, vec![(a.clone(), g.clone()), (b.clone(), g.clone())]);
    let chains = db.store.chains().await.unwrap();
    assert!(chains.contains(&a) && chains.contains(&b));
    // The functions' result columns are identifiers, and they are the only cross-tenant routines.
    let routines: Vec<(String, bool)> = sqlx::query_as(
        "SELECT p.proname::text, p.prosecdef FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = 'public' ORDER BY 1",
    )
    .fetch_all(&db.owner)
    .await
    .unwrap();
    let definer: Vec<&str> = routines.iter().filter(|r| r.1).map(|r| r.0.as_str()).collect();
    assert_eq!(
        definer,
        [
            "custodian_all_tenants",
            "custodian_audit_chains",
            "custodian_locate_by_account",
            "custodian_locate_by_owner",
            "custodian_stale_grants"
        ]
    );
}
