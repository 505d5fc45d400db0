//! The `SecretStore` and `KeyManager` contract suites against a real OpenBao: with the root token (twice on
//! the same server), and under AppRole confined to the policy the client generates.

use custodian_testkit::contract;
use custodian_vault::{VaultAuth, VaultClient};
use secrecy::SecretString;
use serde_json::json;

use crate::server::{Bao, ports};

#[tokio::test]
async fn contract_suites_pass_with_a_token() {
    let bao = Bao::start().await;
    let (_, secrets, keys) = ports(bao.config());
    for run in ["run-1", "run-2"] {
        contract::secret_store(&secrets, run).await.unwrap();
        contract::key_manager(&keys, run).await.unwrap();
    }
}

#[tokio::test]
async fn contract_suites_pass_under_approle_with_the_generated_policy_only() {
    let bao = Bao::start().await;
    let policy = VaultClient::new(bao.config()).unwrap().acl_policy();
    let (role_id, secret_id) = bao.approle("custodian", &policy, "1h", "4h").await;
    let role_id_copy = role_id.clone();
    let auth = VaultAuth::AppRole {
        mount: "approle".to_owned(),
        role_id: SecretString::from(role_id),
        secret_id: SecretString::from(secret_id),
    };
    let (client, secrets, keys) = ports(bao.config_with(auth));
    contract::secret_store(&secrets, "approle").await.unwrap();
    contract::key_manager(&keys, "approle").await.unwrap();
    assert_eq!(client.calls().logins, 1);

    // The policy is confined: a token of the same role reaches nothing outside Custodian's paths.
    let login = bao
        .ok(
            "POST",
            "auth/approle/login",
            json!({"role_id": role_id_copy, "secret_id": second_secret(&bao).await}),
        )
        .await;
    let token = login["auth"]["client_token"].as_str().unwrap().to_owned();
    for (path, body) in [
        ("secret/data/outside", json!({"data": {"x": "y"}})),
        ("custodian-kv/data/elsewhere/x", json!({"data": {"x": "y"}})),
        ("custodian-transit/keys/not-custodian", json!({})),
        ("sys/mounts/another", json!({"type": "kv"})),
    ] {
        let status = bao.raw("POST", path, &token, body).await;
        assert_eq!(status, 403, "`{path}` is reachable with the generated policy");
    }
}

async fn second_secret(bao: &Bao) -> String {
    let secret = bao.ok("POST", "auth/approle/role/custodian/secret-id", json!({})).await;
    secret["data"]["secret_id"].as_str().unwrap().to_owned()
}
