//! A real OpenBao dev server per test (`custodian_testkit::openbao`: the binary from `CUSTODIAN_BAO_BIN`
//! or `.tools/openbao/bin/bao`, installed by `cargo xtask ci`; a missing binary fails the test with how to
//! install it), driven here with the `bao` command line. It is killed (its directory removed) on drop.

use std::fs;
use std::process::Command;

use custodian_testkit::openbao::DevServer;
use serde_json::Value;

/// A running dev server.
pub(crate) struct Bao {
    server: DevServer,
    pub(crate) addr: String,
}

impl Bao {
    /// Starts a dev server and waits until it answers unsealed.
    pub(crate) fn start() -> Self {
        let server = DevServer::start("cli").unwrap_or_else(|e| panic!("{e}"));
        let addr = server.addr().to_owned();
        Bao { server, addr }
    }

    fn command(&self, args: &[&str]) -> Command {
        self.server.command(args)
    }

    /// `bao ARGS` with the root token, which must succeed; its standard output.
    pub(crate) fn cli(&self, args: &[&str]) -> String {
        let out = self.command(args).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "`bao {}` failed: {}{}",
            args.join(" "),
            stdout,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// `bao ARGS -format=json` with the root token: the JSON it printed.
    pub(crate) fn json(&self, args: &[&str]) -> Value {
        let text = self.cli(args);
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("`bao {}` printed no json ({e}): {text}", args.join(" ")))
    }

    /// What Custodian's `secrets = vault` needs on its default mounts: KV v2 at `secret/` (checked: the dev
    /// server mounts it), Transit at `transit/` and AppRole at `approle/` (enabled here), and a role holding
    /// exactly `policy`. Returns the role id and a secret id.
    pub(crate) fn prepare_for_custodian(&self, policy: &str) -> (String, String) {
        let mounts = self.json(&["secrets", "list", "-format=json"]);
        assert_eq!(mounts["secret/"]["type"], "kv", "{mounts}");
        assert_eq!(mounts["secret/"]["options"]["version"], "2", "{mounts}");
        self.cli(&["secrets", "enable", "-path=transit", "transit"]);
        self.cli(&["auth", "enable", "approle"]);
        let file = self.server.dir().join("custodian.hcl");
        fs::write(&file, policy).unwrap();
        self.cli(&["policy", "write", "custodian", &file.display().to_string()]);
        self.cli(&[
            "write",
            "auth/approle/role/custodian",
            "token_policies=custodian",
            "token_ttl=1h",
            "token_max_ttl=4h",
        ]);
        let role = self.cli(&["read", "-field=role_id", "auth/approle/role/custodian/role-id"]);
        let secret = self.cli(&["write", "-f", "-field=secret_id", "auth/approle/role/custodian/secret-id"]);
        (role.trim().to_owned(), secret.trim().to_owned())
    }

    /// Every KV v2 secret under `secret/{prefix}`, recursively: (path, the secret's data).
    pub(crate) fn kv_secrets(&self, prefix: &str) -> Vec<(String, Value)> {
        let mut found = Vec::new();
        let mut folders = vec![prefix.trim_end_matches('/').to_owned()];
        while let Some(folder) = folders.pop() {
            let out =
                self.command(&["kv", "list", "-format=json", "-mount=secret", &folder]).output().unwrap();
            if !out.status.success() {
                // An empty folder is "no value found".
                continue;
            }
            let keys: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
            for key in keys {
                let path = format!("{folder}/{}", key.trim_end_matches('/'));
                if key.ends_with('/') {
                    folders.push(path);
                } else {
                    // A deleted latest version (no data) reads as `null`.
                    let out = self
                        .command(&["kv", "get", "-format=json", "-mount=secret", &path])
                        .output()
                        .unwrap();
                    let secret: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
                    found.push((path, secret["data"]["data"].clone()));
                }
            }
        }
        found.sort_by(|a, b| a.0.cmp(&b.0));
        found
    }
}
