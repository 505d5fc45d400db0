//! Crypto-shredding against a real OpenBao (RET-3): a copy of a wrapped data key taken before the purge
//! cannot be decrypted by anyone afterwards, not even with the root token; and KEK rotation (ENC-2)
//! re-wraps without touching data while earlier copies stop working.

use custodian_core::data::{KeyVersion, SealContext, open, seal};
use custodian_core::ports::{KeyError, KeyManager, KeyScope};
use custodian_core::tenant::TenantId;
use custodian_testkit::fakes::SeededRng;
use custodian_testkit::fixtures;
use custodian_vault::VaultKeyManager;
use serde_json::{Value, json};

use crate::server::{Bao, KV, PREFIX, TRANSIT, ports};

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Where a scope's wrapped keys are stored (the documented layout).
fn record_path(scope: &KeyScope) -> String {
    let segment = match &scope.grant {
        None => "tenant".to_owned(),
        Some(grant) => format!("grant-{}", hex(grant.as_str())),
    };
    format!("{KV}/data/{PREFIX}/keys/{}/{segment}", hex(scope.tenant.as_str()))
}

/// A copy of the stored record of wrapped keys (what a backup holds).
async fn backup(bao: &Bao, scope: &KeyScope) -> Value {
    let (status, body) = bao.api("GET", &record_path(scope), None).await;
    assert_eq!(status, 200, "{body}");
    body["data"]["data"].clone()
}

/// Transit decrypt of a wrapped key with the root token: the status.
async fn root_decrypt(bao: &Bao, record: &Value, version: &str) -> u16 {
    let key = record["transit_key"].as_str().unwrap();
    let ciphertext = record["versions"][version].as_str().unwrap();
    bao.api("POST", &format!("{TRANSIT}/decrypt/{key}"), Some(json!({"ciphertext": ciphertext}))).await.0
}

#[tokio::test]
async fn a_backup_copy_of_a_wrapped_key_cannot_be_decrypted_after_destroy() {
    let bao = Bao::start().await;
    let (_, _, keys) = ports(bao.config());
    let tenant: TenantId = "tenant-shred".parse().unwrap();
    let scope = KeyScope::grant(&tenant, &"grant-revoked".parse().unwrap());
    let other = KeyScope::grant(&tenant, &"grant-kept".parse().unwrap());
    let key = keys.current_key(&scope).await.unwrap();
    keys.current_key(&other).await.unwrap();
    let ctx = SealContext::new(&tenant, "order", "o-1");
    let sealed = seal(&key, &ctx, &fixtures::buyer_pii(1), &SeededRng::new(1)).unwrap();

    let copy = backup(&bao, &scope).await;
    assert!(copy["versions"]["1"].as_str().unwrap().starts_with("vault:v1:"));
    assert_eq!(root_decrypt(&bao, &copy, "1").await, 200, "before the purge the copy decrypts");

    assert_eq!(keys.destroy(&scope).await.unwrap(), 1);
    let (status, body) = {
        let key = copy["transit_key"].as_str().unwrap();
        let ciphertext = copy["versions"]["1"].as_str().unwrap();
        bao.api("POST", &format!("{TRANSIT}/decrypt/{key}"), Some(json!({"ciphertext": ciphertext}))).await
    };
    assert_eq!(status, 400, "after the purge even the root token cannot decrypt the copy: {body}");
    assert_eq!(body["errors"][0], "encryption key not found");

    // Restoring the record from the backup does not bring the key back.
    bao.ok("POST", &record_path(&scope), json!({"data": copy})).await;
    let fresh = VaultKeyManager::new(ports(bao.config()).0);
    for manager in [&keys, &fresh] {
        assert!(matches!(manager.key(&scope, KeyVersion(1)).await, Err(KeyError::NotFound)));
        assert!(matches!(manager.current_key(&scope).await, Err(KeyError::NotFound)));
        assert!(!manager.exists(&scope).await.unwrap());
        let kept = manager.current_key(&other).await.unwrap();
        assert!(open(&kept, &ctx, &sealed).is_err(), "another grant's key does not open it");
    }
    assert_eq!(keys.destroy(&scope).await.unwrap(), 1, "the restored record is destroyed again");
    assert_eq!(keys.destroy(&scope).await.unwrap(), 0);
    assert!(keys.exists(&other).await.unwrap(), "the tenant's other grant is untouched");
}

#[tokio::test]
async fn a_backup_copy_cannot_be_decrypted_after_the_tenant_is_destroyed() {
    let bao = Bao::start().await;
    let (_, _, keys) = ports(bao.config());
    let tenant: TenantId = "tenant-offboarded".parse().unwrap();
    let scopes = [KeyScope::tenant(&tenant), KeyScope::grant(&tenant, &"grant-1".parse().unwrap())];
    let mut copies = Vec::new();
    for scope in &scopes {
        keys.current_key(scope).await.unwrap();
        copies.push(backup(&bao, scope).await);
    }
    keys.rotate_data_key(&scopes[0]).await.unwrap();
    let rotated = backup(&bao, &scopes[0]).await;
    assert_eq!(keys.destroy_tenant(&tenant).await.unwrap(), 3);
    for copy in &copies {
        assert_eq!(root_decrypt(&bao, copy, "1").await, 400);
    }
    assert_eq!(root_decrypt(&bao, &rotated, "2").await, 400);
    let listed = bao.api("LIST", &format!("{TRANSIT}/keys"), None).await.1;
    let names: Vec<&str> = listed["data"]["keys"]
        .as_array()
        .map_or(Vec::new(), |k| k.iter().filter_map(Value::as_str).collect());
    for copy in &copies {
        assert!(
            !names.contains(&copy["transit_key"].as_str().unwrap()),
            "a transit key of the tenant is left"
        );
    }
    let new_scope = KeyScope::grant(&tenant, &"grant-new".parse().unwrap());
    assert!(matches!(keys.current_key(&new_scope).await, Err(KeyError::NotFound)), "no silent re-creation");
}

#[tokio::test]
async fn kek_rotation_rewraps_without_touching_data_and_retires_old_copies() {
    let bao = Bao::start().await;
    let (client, _, keys) = ports(bao.config());
    let tenant: TenantId = "tenant-rotate".parse().unwrap();
    let scope = KeyScope::tenant(&tenant);
    let ctx = SealContext::new(&tenant, "contact", "c-1");
    let key = keys.current_key(&scope).await.unwrap();
    let sealed = seal(&key, &ctx, &fixtures::contact_details(1), &SeededRng::new(2)).unwrap();
    keys.rotate_data_key(&scope).await.unwrap();
    let before = backup(&bao, &scope).await;

    let transit_before = client.calls().transit;
    assert_eq!(keys.rotate_kek(&tenant).await.unwrap(), 2);
    // rotate, one batch rewrap, min_decryption_version, trim: 4 transit calls, no decrypt.
    assert_eq!(client.calls().transit - transit_before, 4);
    let after = backup(&bao, &scope).await;
    for version in ["1", "2"] {
        assert!(after["versions"][version].as_str().unwrap().starts_with("vault:v2:"), "{after}");
        assert_ne!(after["versions"][version], before["versions"][version]);
        assert_eq!(root_decrypt(&bao, &before, version).await, 400, "the pre-rotation copy is retired");
        assert_eq!(root_decrypt(&bao, &after, version).await, 200);
    }
    let fresh = VaultKeyManager::new(client);
    let reopened = fresh.key(&scope, KeyVersion(1)).await.unwrap();
    assert!(open(&reopened, &ctx, &sealed).unwrap() == fixtures::contact_details(1));
}
