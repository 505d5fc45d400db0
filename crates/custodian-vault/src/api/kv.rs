//! KV v2 under the configured mount: `data/` reads and check-and-set writes, `metadata/` reads, lists and
//! deletes (a metadata delete destroys every version).

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::client::{Call, Kind, VaultClient};
use crate::error::VaultError;
use crate::wire::{Envelope, KvMetadata, KvOptions, KvRead, KvWrite, KvWritten, ListDto};

impl VaultClient {
    fn kv_data(&self, path: &str) -> String {
        format!("{}/data/{path}", self.kv_mount)
    }

    fn kv_meta(&self, path: &str) -> String {
        format!("{}/metadata/{path}", self.kv_mount)
    }

    /// The current version's data and version number; `None` if there is none (or it is deleted).
    pub(crate) async fn kv_read<T: DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<Option<(T, u64)>, VaultError> {
        let reply = self.send(Call::get(Kind::Kv, self.kv_data(path))).await?;
        if reply.status == 404 {
            return Ok(None);
        }
        let envelope: Envelope<KvRead<T>> = reply.json()?;
        let read = envelope.data.ok_or(VaultError::Invalid("a kv read response has no data"))?;
        if read.metadata.destroyed || !read.metadata.deletion_time.is_empty() {
            return Ok(None);
        }
        Ok(read.data.map(|data| (data, read.metadata.version)))
    }

    /// Writes `data`; with `cas` `Some(0)` only if the path has no version, `Some(v)` only if `v` is
    /// current ([`VaultError::CasMismatch`] otherwise), `None` unconditionally. Returns the new version.
    pub(crate) async fn kv_write<T: Serialize>(
        &self,
        path: &str,
        cas: Option<u64>,
        data: &T,
    ) -> Result<u64, VaultError> {
        let body = KvWrite { options: cas.map(|cas| KvOptions { cas }), data };
        let reply = self.send(Call::post(Kind::Kv, self.kv_data(path), &body, false)?).await?;
        if reply.status == 400 {
            let error = reply.error();
            if let VaultError::Status { errors, .. } = &error
                && errors.iter().any(|e| e.contains("check-and-set"))
            {
                return Err(VaultError::CasMismatch(path.to_owned()));
            }
            return Err(error);
        }
        let envelope: Envelope<KvWritten> = reply.json()?;
        Ok(envelope.data.ok_or(VaultError::Invalid("a kv write response has no version"))?.version)
    }

    /// The metadata of a path; `None` if there is none.
    pub(crate) async fn kv_metadata(&self, path: &str) -> Result<Option<KvMetadata>, VaultError> {
        let reply = self.send(Call::get(Kind::Kv, self.kv_meta(path))).await?;
        if reply.status == 404 {
            return Ok(None);
        }
        let envelope: Envelope<KvMetadata> = reply.json()?;
        envelope.data.map(Some).ok_or(VaultError::Invalid("a kv metadata response has no data"))
    }

    /// Deletes the metadata and every version of a path (nothing recoverable). Idempotent.
    pub(crate) async fn kv_destroy(&self, path: &str) -> Result<(), VaultError> {
        self.send(Call::delete(Kind::Kv, self.kv_meta(path))).await?.ok()
    }

    /// The keys directly below a directory (sub-directories end in `/`); empty if there are none.
    pub(crate) async fn kv_list(&self, dir: &str) -> Result<Vec<String>, VaultError> {
        let reply = self.send(Call::list(Kind::Kv, self.kv_meta(dir))).await?;
        if reply.status == 404 {
            return Ok(Vec::new());
        }
        let envelope: Envelope<ListDto> = reply.json()?;
        Ok(envelope.data.map(|d| d.keys).unwrap_or_default())
    }
}
