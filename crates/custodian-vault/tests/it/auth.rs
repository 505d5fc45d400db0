//! Authentication against a real OpenBao: AppRole tokens are renewed before they expire, a new login
//! happens when renewal cannot help, and refused credentials are `Denied`.

use std::time::Duration;

use custodian_core::ports::{SecretStore, SecretStoreError};
use custodian_vault::{VaultAuth, VaultClient};
use secrecy::SecretString;

use crate::server::{Bao, ports};

async fn approle(bao: &Bao, name: &str, ttl: &str, max_ttl: &str) -> VaultAuth {
    let policy = VaultClient::new(bao.config()).unwrap().acl_policy();
    let (role_id, secret_id) = bao.approle(name, &policy, ttl, max_ttl).await;
    VaultAuth::AppRole {
        mount: "approle".to_owned(),
        role_id: SecretString::from(role_id),
        secret_id: SecretString::from(secret_id),
    }
}

#[tokio::test]
async fn an_approle_token_is_renewed_before_it_expires() {
    let bao = Bao::start().await;
    let (client, secrets, _) = ports(bao.config_with(approle(&bao, "renewing", "3s", "1h").await));
    let (tenant, grant) = ("tenant-auth".parse().unwrap(), "grant-auth".parse().unwrap());
    secrets.put(&tenant, &grant, &custodian_testkit::fixtures::credentials("a", "r"), None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2200)).await;
    secrets.get(&tenant, &grant).await.unwrap();
    assert_eq!((client.calls().logins, client.calls().renewals), (1, 1), "renewed at two thirds of its ttl");
    tokio::time::sleep(Duration::from_millis(2200)).await;
    secrets.get(&tenant, &grant).await.unwrap();
    let calls = client.calls();
    assert_eq!(
        (calls.logins, calls.renewals),
        (1, 2),
        "the first token outlived its original ttl: {calls:?}"
    );
}

#[tokio::test]
async fn a_new_login_happens_when_the_token_cannot_be_renewed() {
    let bao = Bao::start().await;
    let (client, secrets, _) = ports(bao.config_with(approle(&bao, "short", "2s", "2s").await));
    let (tenant, grant) = ("tenant-auth".parse().unwrap(), "grant-auth".parse().unwrap());
    assert!(matches!(secrets.get(&tenant, &grant).await, Err(SecretStoreError::NotFound)));
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(matches!(secrets.get(&tenant, &grant).await, Err(SecretStoreError::NotFound)));
    assert_eq!(client.calls().logins, 2);
}

#[tokio::test]
async fn refused_credentials_are_denied() {
    let bao = Bao::start().await;
    let (tenant, grant) = ("tenant-auth".parse().unwrap(), "grant-auth".parse().unwrap());
    let bogus = VaultAuth::Token(SecretString::from("s.not-a-real-token"));
    let (_, secrets, _) = ports(bao.config_with(bogus));
    let result = secrets.get(&tenant, &grant).await;
    assert!(matches!(result, Err(SecretStoreError::Denied)), "{result:?}");

    let VaultAuth::AppRole { role_id, .. } = approle(&bao, "wrong-secret", "1h", "1h").await else {
        unreachable!()
    };
    let wrong = VaultAuth::AppRole {
        mount: "approle".to_owned(),
        role_id,
        secret_id: SecretString::from("00000000-0000-0000-0000-000000000000"),
    };
    let (_, secrets, _) = ports(bao.config_with(wrong));
    let result = secrets.get(&tenant, &grant).await;
    assert!(matches!(result, Err(SecretStoreError::Denied)), "{result:?}");
}
