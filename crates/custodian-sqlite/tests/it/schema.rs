//! The schema's security properties, read from the database itself: no column for tokens or secrets
//! (SEC-1), PII only as ciphertext (ENC-1), `tenant_id` first in every tenant table's key (SEG-1), and the
//! file's mode, journal and migrations.

use std::collections::BTreeSet;

use custodian_core::authz::Environment;
use custodian_core::ports::{GrantStore, StoreError, TenantStore};
use custodian_core::tenant::ContactId;
use custodian_sqlite::{MIGRATOR, SqliteStore};
use custodian_testkit::fakes::SeededRng;
use custodian_testkit::fixtures::{self, T0};
use sqlx::Row;

use crate::support::{FileStore, grant, tenant};

/// Tables without a tenant: global records and the audit chain's bookkeeping (the audit tables do have
/// `tenant_id` first in their key; they are listed among the tenant tables below).
const GLOBAL: &[&str] = &[
    "people",
    "person_credentials",
    "sessions",
    "api_keys",
    "incidents",
    "jobs",
    // Flow state shared by the processes (migration 0003): a callback or a notification has no tenant yet.
    "pending_consents",
    "seen_signals",
];

async fn columns(f: &FileStore) -> Vec<(String, String, String, i64)> {
    let mut raw = f.raw().await;
    let rows = sqlx::query(
        "SELECT m.name AS tbl, p.name AS col, p.type AS ty, p.pk AS pk FROM sqlite_master m \
         JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
         AND m.name NOT LIKE '_sqlx_%' ORDER BY m.name, p.cid",
    )
    .fetch_all(&mut raw)
    .await
    .unwrap();
    rows.iter().map(|r| (r.get("tbl"), r.get("col"), r.get("ty"), r.get("pk"))).collect()
}

#[tokio::test]
async fn no_column_holds_tokens_or_secrets() {
    let f = FileStore::new().await;
    let justified: BTreeSet<(&str, &str)> =
        [("person_credentials", "password_phc"), ("person_credentials", "totp_sealed")].into();
    let mut offenders = Vec::new();
    for (table, column, _, _) in columns(&f).await {
        let name = column.to_lowercase();
        let suspicious = ["token", "secret", "password", "passwd"].iter().any(|w| name.contains(w));
        if suspicious && !justified.contains(&(table.as_str(), column.as_str())) {
            offenders.push(format!("{table}.{column}"));
        }
    }
    assert!(offenders.is_empty(), "columns that look like credentials: {offenders:?}");
    let all = columns(&f).await;
    for (table, column) in &justified {
        assert!(all.iter().any(|(t, c, _, _)| t == table && c == column), "{table}.{column} is gone");
    }
}

#[tokio::test]
async fn every_tenant_table_keys_on_tenant_id_first() {
    let f = FileStore::new().await;
    let cols = columns(&f).await;
    let tables: BTreeSet<&str> = cols.iter().map(|(t, _, _, _)| t.as_str()).collect();
    for table in tables {
        if GLOBAL.contains(&table) {
            continue;
        }
        let first_key =
            cols.iter().find(|(t, _, _, pk)| t == table && *pk == 1).map(|(_, c, _, _)| c.as_str());
        let first_column = cols.iter().find(|(t, _, _, _)| t == table).map(|(_, c, _, _)| c.as_str());
        assert_eq!(first_key, Some("tenant_id"), "{table}: the first key column is not tenant_id");
        assert_eq!(first_column, Some("tenant_id"), "{table}: tenant_id is not the first column");
    }
}

#[tokio::test]
async fn pii_is_stored_only_as_ciphertext() {
    let f = FileStore::new().await;
    let cols = columns(&f).await;
    for (table, column) in
        [("contacts", "details"), ("orders", "buyer"), ("person_credentials", "totp_sealed")]
    {
        let ty = cols.iter().find(|(t, c, _, _)| t == table && c == column).map(|(_, _, ty, _)| ty.clone());
        assert_eq!(ty.as_deref(), Some("BLOB"), "{table}.{column}");
    }
    let t = tenant("pii");
    f.store.create_tenant(&fixtures::tenant(&t), Vec::new()).await.unwrap();
    let key = fixtures::data_key("schema test", 1);
    let id = ContactId::new("c1").unwrap();
    let contact = fixtures::contact(&t, &id, 7, &key, &SeededRng::new(1)).unwrap();
    f.store.put_contact(&contact, Vec::new()).await.unwrap();
    let details = fixtures::contact_details(7);
    f.store.close().await;
    for suffix in ["", "-wal"] {
        let path = format!("{}{suffix}", f.db_path().display());
        let bytes = std::fs::read(&path).unwrap_or_default();
        assert!(!contains(&bytes, details.name.as_bytes()), "plaintext contact name in {path}");
        if let Some(email) = &details.email {
            assert!(!contains(&bytes, email.as_bytes()), "plaintext contact email in {path}");
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn the_file_is_private_in_wal_mode_and_reopens() {
    let f = FileStore::new().await;
    let t = tenant("reopen");
    f.store.create_tenant(&fixtures::tenant(&t), Vec::new()).await.unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for suffix in ["", "-wal", "-shm"] {
            let path = format!("{}{suffix}", f.db_path().display());
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{path} has mode {mode:o}");
        }
    }
    let mut raw = f.raw().await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut raw).await.unwrap();
    assert_eq!(mode, "wal");
    let applied: i64 =
        sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations").fetch_one(&mut raw).await.unwrap();
    assert_eq!(applied as usize, MIGRATOR.iter().count());
    f.store.close().await;
    let again = SqliteStore::open(f.db_path(), Environment::Staging, f.clock.clone()).await.unwrap();
    assert_eq!(again.tenant(&t).await.unwrap(), fixtures::tenant(&t));
    assert_eq!(again.environment(), Environment::Staging);
    // Foreign keys are enforced: a grant of an unknown tenant is refused.
    let g = fixtures::active_grant(
        &tenant("nobody"),
        &grant("g"),
        custodian_core::platform::Platform::Meta,
        &[],
        T0,
    );
    assert!(matches!(again.insert_grant(&g, Vec::new()).await, Err(StoreError::Invalid(_))));
}

/// Migration 0004 rebuilds `order_lines` keyed by position: lines stored before it keep their stored
/// (rowid) order, numbered from 0 per order, whatever their ids.
#[tokio::test]
async fn order_lines_keep_their_stored_order_through_the_position_migration() {
    use sqlx::{Connection as _, Executor as _};
    let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:").await.unwrap();
    let before: Vec<_> = MIGRATOR.iter().filter(|m| m.version < 4).collect();
    assert_eq!(before.len(), 3);
    for m in before {
        conn.execute(&*m.sql).await.unwrap();
    }
    conn.execute(
        "PRAGMA foreign_keys = OFF; \
         INSERT INTO order_lines (tenant_id, account_key, order_id, line_id, sku, quantity, unit_price_micros) \
         VALUES ('t', 'a', 'o1', 'z', 's1', 1, 10), ('t', 'a', 'o2', 'b', 's2', 2, 20), \
                ('t', 'a', 'o1', 'a', 's3', 3, 30), ('t', 'a', 'o1', 'm', 's4', 4, 40);",
    )
    .await
    .unwrap();
    let m4 = MIGRATOR.iter().find(|m| m.version == 4).unwrap();
    conn.execute(&*m4.sql).await.unwrap();
    let rows: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT order_id, position, line_id FROM order_lines ORDER BY tenant_id, account_key, order_id, position",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let expect = [("o1", 0, "z"), ("o1", 1, "a"), ("o1", 2, "m"), ("o2", 0, "b")];
    assert_eq!(
        rows,
        expect.iter().map(|(o, p, l)| ((*o).to_owned(), *p, (*l).to_owned())).collect::<Vec<_>>()
    );
}

/// Migration 0005 moves every order's lines into its row as JSON, in position order, whatever their ids;
/// an order without lines gets an empty array. A store opened on a file written before it reads the same
/// orders, and writing the same order again changes nothing.
#[tokio::test]
async fn order_lines_move_into_their_order_in_order_through_the_lines_migration() {
    use custodian_core::data::{OrderLine, Sku};
    use custodian_core::ports::{DatasetStore, IngestBatch};
    use sqlx::Executor as _;

    let dir = crate::support::TempDir::new();
    let path = dir.path().join("custodian.db");
    let t = tenant("lines");
    let g = grant("g");
    let account = fixtures::account(custodian_core::platform::Platform::Ebay, 1);
    let target = fixtures::target(&t, &g, &account);
    let mut with_lines = fixtures::order(&target, 2, T0);
    with_lines.lines = ["z", "a", "m"]
        .iter()
        .zip(1u32..)
        .map(|(id, n)| OrderLine {
            id: custodian_core::data::LineId::new(*id).unwrap(),
            sku: Sku::new(format!("sku-{n}")).unwrap(),
            quantity: n,
            unit_price_micros: 1_000 * i64::from(n),
        })
        .collect();
    let mut without = fixtures::order(&target, 4, T0);
    without.lines.clear();
    {
        // The schema before 0005, applied and recorded as sqlx records it.
        let before = sqlx::migrate::Migrator {
            migrations: MIGRATOR.iter().filter(|m| m.version < 5).cloned().collect::<Vec<_>>().into(),
            ..sqlx::migrate::Migrator::DEFAULT
        };
        assert_eq!(before.iter().count(), 4);
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .foreign_keys(false);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        before.run(&pool).await.unwrap();
        let mut sql = String::new();
        for o in [&with_lines, &without] {
            sql += &format!(
                "INSERT INTO orders (tenant_id, account_key, order_id, grant_id, status, created_at, updated_at, \
                 currency, total_micros, stored_at) VALUES ('lines', '{a}', '{o}', 'g', '{s}', {c}, {u}, 'USD', {m}, 0);",
                a = account.key(),
                o = o.id.as_str(),
                s = o.status.as_str(),
                c = o.created_at.unix_timestamp_nanos(),
                u = o.updated_at.unix_timestamp_nanos(),
                m = o.total_micros,
            );
        }
        // Positions out of id order, and inserted out of position order.
        for (position, line) in
            [(2, &with_lines.lines[2]), (0, &with_lines.lines[0]), (1, &with_lines.lines[1])]
        {
            sql += &format!(
                "INSERT INTO order_lines (tenant_id, account_key, order_id, position, line_id, sku, quantity, \
                 unit_price_micros) VALUES ('lines', '{a}', '{o}', {position}, '{l}', '{k}', {q}, {p});",
                a = account.key(),
                o = with_lines.id.as_str(),
                l = line.id.as_str(),
                k = line.sku.as_str(),
                q = line.quantity,
                p = line.unit_price_micros,
            );
        }
        pool.execute(sql.as_str()).await.unwrap();
        pool.close().await;
    }
    let clock = std::sync::Arc::new(custodian_testkit::fakes::ManualClock::new(T0));
    let store = SqliteStore::open(&path, Environment::Development, clock).await.unwrap();
    crate::support::setup(&store, &t, &g, custodian_core::platform::Platform::Ebay, &account).await;
    assert_eq!(
        store.orders(&crate::support::query(&t)).await.unwrap(),
        vec![with_lines.clone(), without.clone()]
    );
    let batch = IngestBatch {
        tenant: t.clone(),
        records: vec![with_lines, without],
        checkpoint: None,
        audit: vec![],
    };
    let counts = store.upsert_orders(batch).await.unwrap();
    assert_eq!((counts.inserted, counts.updated, counts.unchanged), (0, 0, 2));
    store.close().await;
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&path);
    let mut raw = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&options).await.unwrap();
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'order_lines'")
            .fetch_all(&mut raw)
            .await
            .unwrap();
    assert!(tables.is_empty(), "order_lines is still there");
}
