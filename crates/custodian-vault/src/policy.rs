//! The least-privilege ACL policy this crate needs, generated from the configuration (for operators, and
//! used by the tests that run the contract suites under AppRole).

use crate::client::VaultClient;

impl VaultClient {
    /// The Vault ACL policy (HCL) granting exactly what this client's secret store and key manager use.
    /// Token renewal and lookup come from Vault's `default` policy.
    pub fn acl_policy(&self) -> String {
        let kv = &self.kv_mount;
        let prefix = self.paths.kv_prefix();
        let transit = &self.transit_mount;
        let keys = self.paths.transit_key_prefix();
        format!(
            r#"# custodian-vault: credentials, wrapped data keys and tombstones in KV v2
path "{kv}/data/{prefix}/*" {{ capabilities = ["create", "read", "update"] }}
path "{kv}/metadata/{prefix}/*" {{ capabilities = ["read", "list", "delete"] }}
# custodian-vault: one transit key per key scope
path "{transit}/keys" {{ capabilities = ["list"] }}
path "{transit}/keys/{keys}-*" {{ capabilities = ["create", "read", "update", "delete"] }}
path "{transit}/datakey/wrapped/{keys}-*" {{ capabilities = ["update"] }}
path "{transit}/decrypt/{keys}-*" {{ capabilities = ["update"] }}
path "{transit}/rewrap/{keys}-*" {{ capabilities = ["update"] }}
"#
        )
    }
}
