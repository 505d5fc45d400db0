//! Configuration checks and redaction of every secret-holding configuration type, without a server.

use custodian_vault::{TlsRoots, VaultAuth, VaultClient, VaultConfig, VaultKeyManager, VaultSecretStore};
use expect_test::{Expect, expect};
use secrecy::SecretString;
use std::sync::Arc;

const TOKEN: &str = "s.token-value-that-must-not-show";
const ROLE: &str = "role-id-value-that-must-not-show";
const SECRET: &str = "secret-id-value-that-must-not-show";

#[track_caller]
fn check(change: impl FnOnce(&mut VaultConfig), expect: Expect) {
    let mut config =
        VaultConfig::new("https://vault.example:8200", VaultAuth::Token(SecretString::from(TOKEN)));
    change(&mut config);
    let result = VaultClient::new(config).map(|_| "ok".to_owned()).unwrap_or_else(|e| e.to_string());
    expect.assert_eq(&result);
}

#[test]
fn mounts_prefixes_and_pem_roots_are_validated() {
    check(|_| {}, expect!["ok"]);
    check(|c| c.kv_mount = "kv/nested".to_owned(), expect!["ok"]);
    check(
        |c| c.kv_mount = String::new(),
        expect!["invalid kv mount: use path segments of letters, digits, `.`, `_` and `-`"],
    );
    check(
        |c| c.kv_prefix = "../escape".to_owned(),
        expect!["invalid kv prefix: use path segments of letters, digits, `.`, `_` and `-`"],
    );
    check(
        |c| c.transit_mount = "transit/".to_owned(),
        expect!["invalid transit mount: use path segments of letters, digits, `.`, `_` and `-`"],
    );
    check(
        |c| c.transit_key_prefix = "a/b".to_owned(),
        expect!["invalid vault configuration: transit key prefix must be a single path segment"],
    );
    check(
        |c| c.kv_prefix = "spaces here".to_owned(),
        expect!["invalid kv prefix: use path segments of letters, digits, `.`, `_` and `-`"],
    );
    check(|c| c.max_attempts = 0, expect!["invalid vault configuration: max attempts must be at least 1"]);
    check(
        |c| c.tls_roots = TlsRoots::Pem(b"not pem".to_vec()),
        expect!["invalid vault configuration: no ca certificate in the configured pem"],
    );
    check(
        |c| {
            c.auth = VaultAuth::AppRole {
                mount: "app role".to_owned(),
                role_id: SecretString::from(ROLE),
                secret_id: SecretString::from(SECRET),
            }
        },
        expect!["invalid approle mount: use path segments of letters, digits, `.`, `_` and `-`"],
    );
}

#[test]
fn debug_output_redacts_credentials() {
    let auths = [
        VaultAuth::Token(SecretString::from(TOKEN)),
        VaultAuth::AppRole {
            mount: "approle".to_owned(),
            role_id: SecretString::from(ROLE),
            secret_id: SecretString::from(SECRET),
        },
    ];
    for auth in auths {
        let auth_text = format!("{auth:?}");
        let config = VaultConfig::new("https://vault.example:8200", auth);
        let config_text = format!("{config:?}");
        let client = Arc::new(VaultClient::new(config).unwrap());
        let text = format!(
            "{auth_text} {config_text} {client:?} {:?} {:?}",
            VaultSecretStore::new(client.clone()),
            VaultKeyManager::new(client.clone())
        );
        for secret in [TOKEN, ROLE, SECRET] {
            assert!(!text.contains(secret), "`{secret}` in {text}");
        }
        assert!(text.contains("[REDACTED]"), "{text}");
    }
}
