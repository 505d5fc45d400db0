//! Transit under the configured mount: per-scope keys, `datakey/wrapped`, `decrypt`, `rotate`, `rewrap`,
//! `config` (deletion, minimum decryption version), `trim` and delete.

use data_encoding::BASE64;
use zeroize::Zeroizing;

use crate::client::{Call, Kind, VaultClient};
use crate::error::VaultError;
use crate::wire::{
    CiphertextDto, CreateKey, DatakeyRequest, DecryptRequest, Envelope, KeyConfig, KeyInfo, ListDto,
    PlaintextDto, RewrapRequest, RewrapResponse, Trim,
};

impl VaultClient {
    fn transit(&self, rest: &str) -> String {
        format!("{}/{rest}", self.transit_mount)
    }

    /// Creates an AES-256-GCM key, not exportable, deletion disabled. A no-op if it exists.
    pub(crate) async fn transit_create_key(&self, name: &str) -> Result<(), VaultError> {
        let body = CreateKey { kind: "aes256-gcm96", exportable: false, allow_plaintext_backup: false };
        self.send(Call::post(Kind::Transit, self.transit(&format!("keys/{name}")), &body, true)?).await?.ok()
    }

    /// Whether the key exists.
    pub(crate) async fn transit_key_exists(&self, name: &str) -> Result<bool, VaultError> {
        let reply = self.send(Call::get(Kind::Transit, self.transit(&format!("keys/{name}")))).await?;
        if reply.status == 404 {
            return Ok(false);
        }
        reply.ok().map(|()| true)
    }

    /// A new 256-bit data key, returned only wrapped (`vault:vN:…`).
    pub(crate) async fn transit_datakey_wrapped(&self, name: &str) -> Result<String, VaultError> {
        let path = self.transit(&format!("datakey/wrapped/{name}"));
        let envelope: Envelope<CiphertextDto> =
            self.send(Call::post(Kind::Transit, path, &DatakeyRequest { bits: 256 }, true)?).await?.json()?;
        Ok(envelope.data.ok_or(VaultError::Invalid("a data key response has no ciphertext"))?.ciphertext)
    }

    /// Decrypts a wrapped data key: its raw bytes, zeroized on drop.
    pub(crate) async fn transit_decrypt(
        &self,
        name: &str,
        ciphertext: &str,
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        let path = self.transit(&format!("decrypt/{name}"));
        let envelope: Envelope<PlaintextDto> = self
            .send(Call::post(Kind::Transit, path, &DecryptRequest { ciphertext }, true)?)
            .await?
            .json()?;
        let data = envelope.data.ok_or(VaultError::Invalid("a decrypt response has no plaintext"))?;
        BASE64
            .decode(data.plaintext.as_bytes())
            .map(Zeroizing::new)
            .map_err(|_| VaultError::Invalid("a decrypted data key is not base64"))
    }

    /// Rotates the key; returns its new latest version.
    pub(crate) async fn transit_rotate(&self, name: &str) -> Result<u32, VaultError> {
        let path = self.transit(&format!("keys/{name}/rotate"));
        let envelope: Envelope<KeyInfo> =
            self.send(Call::post(Kind::Transit, path, &serde_json::Map::new(), false)?).await?.json()?;
        Ok(envelope.data.ok_or(VaultError::Invalid("a rotate response has no key info"))?.latest_version)
    }

    /// Re-wraps ciphertexts under the key's latest version, inside Vault (no plaintext leaves it).
    pub(crate) async fn transit_rewrap(
        &self,
        name: &str,
        ciphertexts: &[String],
    ) -> Result<Vec<String>, VaultError> {
        let path = self.transit(&format!("rewrap/{name}"));
        let body = RewrapRequest {
            batch_input: ciphertexts.iter().map(|c| DecryptRequest { ciphertext: c.as_str() }).collect(),
        };
        let envelope: Envelope<RewrapResponse> =
            self.send(Call::post(Kind::Transit, path, &body, true)?).await?.json()?;
        let results =
            envelope.data.ok_or(VaultError::Invalid("a rewrap response has no results"))?.batch_results;
        if results.len() != ciphertexts.len()
            || results.iter().any(|r| !r.error.is_empty() || r.ciphertext.is_empty())
        {
            return Err(VaultError::Invalid("a rewrap batch failed"));
        }
        Ok(results.into_iter().map(|r| r.ciphertext).collect())
    }

    pub(crate) async fn transit_config(&self, name: &str, config: &KeyConfig) -> Result<(), VaultError> {
        let path = self.transit(&format!("keys/{name}/config"));
        self.send(Call::post(Kind::Transit, path, config, true)?).await?.ok()
    }

    /// Deletes the key versions below `min_available_version` for good.
    pub(crate) async fn transit_trim(
        &self,
        name: &str,
        min_available_version: u32,
    ) -> Result<(), VaultError> {
        let path = self.transit(&format!("keys/{name}/trim"));
        self.send(Call::post(Kind::Transit, path, &Trim { min_available_version }, true)?).await?.ok()
    }

    /// Allows deletion of the key and deletes it. Returns whether it existed.
    pub(crate) async fn transit_delete_key(&self, name: &str) -> Result<bool, VaultError> {
        let allow = KeyConfig { deletion_allowed: Some(true), ..KeyConfig::default() };
        match self.transit_config(name, &allow).await {
            Ok(()) => {}
            Err(error) if error.is_not_found() => return Ok(false),
            Err(error) => return Err(error),
        }
        let reply = self.send(Call::delete(Kind::Transit, self.transit(&format!("keys/{name}")))).await?;
        match reply.ok() {
            Ok(()) => Ok(true),
            Err(error) if error.is_not_found() => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Every key name of the mount.
    pub(crate) async fn transit_list_keys(&self) -> Result<Vec<String>, VaultError> {
        let reply = self.send(Call::list(Kind::Transit, self.transit("keys"))).await?;
        if reply.status == 404 {
            return Ok(Vec::new());
        }
        let envelope: Envelope<ListDto> = reply.json()?;
        Ok(envelope.data.map(|d| d.keys).unwrap_or_default())
    }
}
