//! The schema itself: no column for credentials or tokens (SEC-1), PII only as ciphertext (ENC-1), and every
//! tenant table keyed and policed by tenant (SEG-1).

use std::collections::BTreeSet;
use std::sync::Arc;

use custodian_core::audit::{ActorRef, NewAuditEvent, TenantChanged};
use custodian_core::grant::GrantId;
use custodian_core::platform::{AccountRef, TikTokShopId};
use custodian_core::ports::{DatasetStore, IngestBatch, PiiSealer, TenantStore};
use custodian_core::tenant::{ContactId, TenantId};
use custodian_testkit::fakes::SeededRng;
use custodian_testkit::fixtures::{self, T0};

use crate::TestDb;
use crate::rls::TENANT_TABLES;

/// Column names that may match `token|secret|password|credential`, and why each is not a secret:
/// `password_phc` is the Argon2id PHC string of a password (ACC-3), a one-way hash with its salt and
/// parameters, which is what the policy asks to store. Sessions and API keys are stored by the SHA-256 digest
/// of their bearer value (`session_digest`, `key_digest`) and the TOTP secret only sealed (`totp_sealed`);
/// none of those names matches.
const ALLOWED: &[(&str, &str)] = &[("person_credentials", "password_phc")];

#[tokio::test]
async fn no_column_can_hold_a_credential_or_token() {
    let db = TestDb::new().await;
    let found: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
         WHERE table_schema = 'public' AND column_name ~* '(token|secret|password|credential|refresh|bearer)'
         ORDER BY 1, 2",
    )
    .fetch_all(&db.owner)
    .await
    .unwrap();
    let found: Vec<(&str, &str)> = found.iter().map(|(t, c)| (t.as_str(), c.as_str())).collect();
    assert_eq!(found, ALLOWED, "only the allowed hash columns may look like credentials");
    // The grant tables carry no credential of any kind: a grant's tokens live in the secret store.
    let grant_columns: Vec<(String,)> = sqlx::query_as(
        "SELECT column_name::text FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name IN ('grants', 'grant_accounts') ORDER BY 1",
    )
    .fetch_all(&db.owner)
    .await
    .unwrap();
    assert!(grant_columns.iter().all(|(c,)| !c.contains("key") || c == "account_key"), "{grant_columns:?}");
}

#[tokio::test]
async fn pii_is_stored_only_as_ciphertext_with_its_key_version() {
    let db = TestDb::new().await;
    let types: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns
         WHERE table_schema = 'public'
           AND (table_name, column_name) IN (('orders', 'buyer'), ('orders', 'buyer_key_version'),
                                             ('contacts', 'details'), ('contacts', 'key_version'))
         ORDER BY 1, 2",
    )
    .fetch_all(&db.owner)
    .await
    .unwrap();
    let types: Vec<(&str, &str, &str)> =
        types.iter().map(|(t, c, d)| (t.as_str(), c.as_str(), d.as_str())).collect();
    assert_eq!(
        types,
        [
            ("contacts", "details", "bytea"),
            ("contacts", "key_version", "integer"),
            ("orders", "buyer", "bytea"),
            ("orders", "buyer_key_version", "integer")
        ]
    );
    let pii_named: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
         WHERE table_schema = 'public' AND column_name ~* '(email|phone|address|postal|city)'",
    )
    .fetch_all(&db.owner)
    .await
    .unwrap();
    assert!(pii_named.is_empty(), "no plaintext pii column: {pii_named:?}");

    // What reaches the table is ciphertext: the buyer's email and the contact's name are not in the bytes.
    let tenant: TenantId = "tenant-pii".parse().unwrap();
    let grant: GrantId = "grant-pii".parse().unwrap();
    let account = AccountRef::TikTokShop(TikTokShopId::new("7000000001").unwrap());
    let audit = || vec![NewAuditEvent::new(T0, ActorRef::System, TenantChanged::new("pii"))];
    db.store.create_tenant(&fixtures::tenant(&tenant), audit()).await.unwrap();
    let sealer = PiiSealer { key: fixtures::data_key("schema test", 3), rng: Arc::new(SeededRng::new(1)) };
    let mut order = fixtures::order(&fixtures::target(&tenant, &grant, &account), 7, T0);
    fixtures::seal_buyer(&mut order, 7, &sealer).unwrap();
    db.store
        .upsert_orders(IngestBatch {
            tenant: tenant.clone(),
            records: vec![order],
            checkpoint: None,
            audit: audit(),
        })
        .await
        .unwrap();
    let contact_id: ContactId = "contact-pii".parse().unwrap();
    let contact =
        fixtures::contact(&tenant, &contact_id, 7, &fixtures::data_key("schema test", 3), &SeededRng::new(2))
            .unwrap();
    db.store.put_contact(&contact, audit()).await.unwrap();
    let (buyer, version): (Vec<u8>, i32) =
        sqlx::query_as("SELECT buyer, buyer_key_version FROM orders").fetch_one(&db.owner).await.unwrap();
    let (details, contact_version): (Vec<u8>, i32) =
        sqlx::query_as("SELECT details, key_version FROM contacts").fetch_one(&db.owner).await.unwrap();
    assert_eq!((version, contact_version), (3, 3));
    let contains = |hay: &[u8], needle: &str| hay.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(!contains(&buyer, "buyer7@example.com") && !contains(&buyer, "Buyer 7"));
    assert!(!contains(&details, "Contact 7") && !contains(&details, "contact7@client.example"));
}

#[tokio::test]
async fn every_tenant_table_leads_its_key_with_tenant_id_and_has_a_policy() {
    let db = TestDb::new().await;
    let with_tenant: Vec<(String,)> = sqlx::query_as(
        "SELECT table_name::text FROM information_schema.columns
         WHERE table_schema = 'public' AND column_name = 'tenant_id' ORDER BY 1",
    )
    .fetch_all(&db.owner)
    .await
    .unwrap();
    let with_tenant: BTreeSet<&str> = with_tenant.iter().map(|(t,)| t.as_str()).collect();
    // `jobs` carries an optional tenant for routing but is a global queue: workers lease any tenant's work.
    let expected: BTreeSet<&str> = TENANT_TABLES.iter().copied().chain(["jobs"]).collect();
    assert_eq!(with_tenant, expected);
    for table in TENANT_TABLES {
        let (first, rls, policies): (String, bool, i64) = sqlx::query_as(
            "SELECT a.attname::text, c.relrowsecurity,
                    (SELECT count(*) FROM pg_policies p WHERE p.tablename = c.relname)
             FROM pg_class c
             JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
             WHERE c.relname = $1 AND c.relnamespace = 'public'::regnamespace",
        )
        .bind(table)
        .fetch_one(&db.owner)
        .await
        .unwrap();
        assert_eq!((first.as_str(), rls, policies), ("tenant_id", true, 1), "table `{table}`");
    }
}

#[tokio::test]
async fn remote_servers_need_verified_tls() {
    let err =
        custodian_postgres::PgStore::connect("postgres://app@db.example.com/custodian", 1).await.unwrap_err();
    assert!(err.to_string().contains("sslmode=verify-full"), "{err}");
}
