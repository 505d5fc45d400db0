//! The secret store and key manager backend: custodian-keystore's sealed file (the embedded default) or
//! Vault/OpenBao with AppRole.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;
use std::sync::Arc;

use custodian_core::ports::{Clock, KeyManager, Rng, SecretStore};
use custodian_keystore::{Keystore, KeystoreOptions, MasterKey};
use custodian_vault::{TlsRoots, VaultAuth, VaultClient, VaultConfig, VaultKeyManager, VaultSecretStore};
use data_encoding::BASE64;
use secrecy::SecretString;
use zeroize::Zeroizing;

use super::RuntimeError;
use crate::config::{Config, MasterKeySource, SecretsConfig};

/// The file of a generated master key, in the data directory (development only: ENV-1 refuses it in
/// production).
pub const GENERATED_MASTER_KEY_FILE: &str = "master.key";

/// The two ports on one backend.
pub(super) struct SecretsBackend {
    pub(super) secrets: Arc<dyn SecretStore>,
    pub(super) keys: Arc<dyn KeyManager>,
}

pub(super) fn open(
    config: &Config,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn Rng>,
) -> Result<SecretsBackend, RuntimeError> {
    match &config.secrets {
        SecretsConfig::Keystore { path, master } => {
            let master = master_key(master, &config.data_dir, rng.as_ref())?;
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                super::create_dir(parent)?;
            }
            let options = KeystoreOptions::default();
            let keystore = if path.exists() {
                Keystore::open(path.clone(), master, clock, rng, options)
            } else {
                Keystore::create(path.clone(), master, clock, rng, options)
            }
            .map_err(|e| RuntimeError::component("keystore", e))?;
            let keystore = Arc::new(keystore);
            Ok(SecretsBackend { secrets: keystore.clone(), keys: keystore })
        }
        SecretsConfig::Vault { address, role_id, secret_id, ca_pem } => {
            let auth = VaultAuth::AppRole {
                mount: "approle".to_owned(),
                role_id: SecretString::from(role_id.clone()),
                secret_id: secret_id.clone(),
            };
            let mut vault = VaultConfig::new(address.clone(), auth);
            vault.allow_plain_http_loopback = config.outbound.allow_plain_http_loopback;
            if let Some(ca) = ca_pem {
                let pem = fs::read(ca).map_err(|source| RuntimeError::File {
                    what: "vault ca certificate",
                    path: ca.clone(),
                    source,
                })?;
                vault.tls_roots = TlsRoots::Pem(pem);
            }
            let client = Arc::new(VaultClient::new(vault).map_err(|e| RuntimeError::component("vault", e))?);
            Ok(SecretsBackend {
                secrets: Arc::new(VaultSecretStore::new(client.clone())),
                keys: Arc::new(VaultKeyManager::new(client)),
            })
        }
    }
}

fn master_key(source: &MasterKeySource, data_dir: &Path, rng: &dyn Rng) -> Result<MasterKey, RuntimeError> {
    match source {
        MasterKeySource::Key(key) => {
            MasterKey::from_base64(key).map_err(|e| RuntimeError::component("master key", e))
        }
        MasterKeySource::Passphrase(passphrase) => MasterKey::from_passphrase(passphrase.clone())
            .map_err(|e| RuntimeError::component("keystore passphrase", e)),
        MasterKeySource::Generated => generated_master_key(data_dir, rng),
    }
}

/// Reads `<data_dir>/master.key`, creating it (mode 0600, base64 of 32 random bytes) on first start.
fn generated_master_key(data_dir: &Path, rng: &dyn Rng) -> Result<MasterKey, RuntimeError> {
    super::create_dir(data_dir)?;
    let path = data_dir.join(GENERATED_MASTER_KEY_FILE);
    let file_error =
        |source: std::io::Error| RuntimeError::File { what: "master key", path: path.clone(), source };
    if !path.exists() {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rng.fill(bytes.as_mut_slice());
        let encoded = Zeroizing::new(BASE64.encode(bytes.as_slice()));
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(file_error)?;
        file.write_all(encoded.as_bytes()).and_then(|()| file.sync_all()).map_err(file_error)?;
        tracing::warn!(path = %path.display(), "generated a keystore master key (development only)");
        return Ok(MasterKey::from_bytes(bytes));
    }
    let mode = fs::metadata(&path).map_err(file_error)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(RuntimeError::Invalid(format!(
            "the master key file `{}` has mode {mode:04o}: it must be 0600",
            path.display()
        )));
    }
    let text = Zeroizing::new(fs::read_to_string(&path).map_err(file_error)?);
    MasterKey::from_base64(&SecretString::from(text.trim().to_owned()))
        .map_err(|e| RuntimeError::component("master key", e))
}
