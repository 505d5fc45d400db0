//! `Sealed<T>`: AES-256-GCM ciphertext of a PII value, bound to its tenant and record (ENC-1).
//!
//! Format of a sealed value: a key version (the tenant data key that sealed it), a 96-bit random nonce and
//! the ciphertext with its 128-bit tag. The associated data is
//! `custodian.sealed.v1 \0 <tenant> \0 <record kind> \0 <record id> \0 <key version, 4 bytes big endian>`,
//! so a ciphertext moved to another tenant, another record or relabelled with another key version fails to
//! open. Random nonces are safe for up to 2^32 seals per key; tenant keys are rotated well before that.

use std::fmt;
use std::marker::PhantomData;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use zeroize::{Zeroize, Zeroizing};

use crate::ports::Rng;
use crate::tenant::TenantId;

/// Version of a tenant data key. Sealed values name the version that sealed them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyVersion(pub u32);

/// A tenant's unwrapped 256-bit data key, ready to seal and open. The raw bytes are zeroized as soon as the
/// cipher is keyed; the cipher's round keys are zeroized on drop. Never printed.
#[derive(Clone)]
pub struct DataKey {
    version: KeyVersion,
    cipher: Aes256Gcm,
}

impl DataKey {
    /// Keys a cipher from raw key bytes, which are zeroized before this returns.
    pub fn from_bytes(version: KeyVersion, mut bytes: [u8; 32]) -> Self {
        let cipher = Aes256Gcm::new(&bytes.into());
        bytes.zeroize();
        Self { version, cipher }
    }

    /// Keys a cipher from bytes held in a zeroizing buffer; wrong lengths are an error.
    pub fn from_slice(version: KeyVersion, bytes: &Zeroizing<Vec<u8>>) -> Result<Self, SealError> {
        let mut raw: [u8; 32] = bytes.as_slice().try_into().map_err(|_| SealError::KeyLength)?;
        let key = Self::from_bytes(version, raw);
        raw.zeroize();
        Ok(key)
    }

    /// The key's version.
    pub fn version(&self) -> KeyVersion {
        self.version
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey").field("version", &self.version).field("key", &"[REDACTED]").finish()
    }
}

/// What a sealed value is bound to: its tenant and record. Part of the associated data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealContext {
    aad_prefix: Vec<u8>,
}

impl SealContext {
    /// Binds to `tenant`, a record kind (e.g. `order`) and the record's id within the tenant.
    pub fn new(tenant: &TenantId, record_kind: &str, record_id: &str) -> Self {
        let mut aad = Vec::with_capacity(32 + tenant.as_str().len() + record_kind.len() + record_id.len());
        aad.extend_from_slice(b"custodian.sealed.v1\0");
        aad.extend_from_slice(tenant.as_str().as_bytes());
        aad.push(0);
        aad.extend_from_slice(record_kind.as_bytes());
        aad.push(0);
        aad.extend_from_slice(record_id.as_bytes());
        aad.push(0);
        Self { aad_prefix: aad }
    }

    fn aad(&self, version: KeyVersion) -> Vec<u8> {
        let mut aad = Vec::with_capacity(self.aad_prefix.len() + 4);
        aad.extend_from_slice(&self.aad_prefix);
        aad.extend_from_slice(&version.0.to_be_bytes());
        aad
    }
}

/// Why sealing or opening failed. Messages never include plaintext or key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    #[error("sealed value was made with key version {sealed} but key version {given} was given")]
    WrongKeyVersion { sealed: u32, given: u32 },
    #[error("sealed value failed authentication: wrong key, wrong tenant or record, or tampered ciphertext")]
    Authentication,
    #[error("data key must be 32 bytes")]
    KeyLength,
    #[error("sealed value is malformed: {0}")]
    Malformed(&'static str),
    #[error("encryption failed")]
    Encrypt,
}

/// A PII value that exists only as ciphertext outside [`seal`] and [`open`]. Its `Debug` shows no content.
pub struct Sealed<T> {
    key_version: KeyVersion,
    nonce: [u8; 12],
    ciphertext: Vec<u8>,
    _payload: PhantomData<fn() -> T>,
}

impl<T> Sealed<T> {
    /// Rebuilds a sealed value from its stored parts (stores hold exactly these columns).
    pub fn from_parts(key_version: KeyVersion, nonce: [u8; 12], ciphertext: Vec<u8>) -> Self {
        Self { key_version, nonce, ciphertext, _payload: PhantomData }
    }

    /// The key version that sealed this value.
    pub fn key_version(&self) -> KeyVersion {
        self.key_version
    }

    /// The nonce.
    pub fn nonce(&self) -> &[u8; 12] {
        &self.nonce
    }

    /// Ciphertext with the GCM tag appended.
    pub fn ciphertext(&self) -> &[u8] {
        &self.ciphertext
    }

    /// Serializes to `version (4 bytes BE) | nonce (12) | ciphertext`, for stores with one blob column.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.ciphertext.len());
        out.extend_from_slice(&self.key_version.0.to_be_bytes());
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&self.ciphertext);
        out
    }

    /// Parses the form written by [`Sealed::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SealError> {
        if bytes.len() < 16 + 16 {
            return Err(SealError::Malformed("too short"));
        }
        let (version, rest) = bytes.split_at(4);
        let (nonce, ciphertext) = rest.split_at(12);
        let version = u32::from_be_bytes(version.try_into().map_err(|_| SealError::Malformed("version"))?);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| SealError::Malformed("nonce"))?;
        Ok(Self::from_parts(KeyVersion(version), nonce, ciphertext.to_vec()))
    }
}

impl<T> Clone for Sealed<T> {
    fn clone(&self) -> Self {
        Self::from_parts(self.key_version, self.nonce, self.ciphertext.clone())
    }
}

impl<T> PartialEq for Sealed<T> {
    fn eq(&self, other: &Self) -> bool {
        self.key_version == other.key_version
            && self.nonce == other.nonce
            && self.ciphertext == other.ciphertext
    }
}

impl<T> Eq for Sealed<T> {}

impl<T> fmt::Debug for Sealed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealed")
            .field("key_version", &self.key_version.0)
            .field("bytes", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

/// A value that can be sealed: a canonical byte encoding and its inverse. Encodings zeroize their buffers.
pub trait SealPayload: Sized {
    /// Writes the canonical encoding.
    fn encode(&self, out: &mut Encoder);
    /// Reads the canonical encoding.
    fn decode(input: &mut Decoder<'_>) -> Result<Self, SealError>;
}

/// Length-prefixed field encoder for [`SealPayload`].
#[derive(Default)]
pub struct Encoder {
    buf: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for Encoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encoder").finish_non_exhaustive()
    }
}

impl Encoder {
    /// Writes a string field.
    pub fn str(&mut self, s: &str) {
        let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(&s.as_bytes()[..len as usize]);
    }

    /// Writes an optional string field.
    pub fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.buf.push(0),
            Some(s) => {
                self.buf.push(1);
                self.str(s);
            }
        }
    }
}

/// Reader for the encoding written by [`Encoder`].
pub struct Decoder<'a> {
    input: &'a [u8],
}

impl fmt::Debug for Decoder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoder").finish_non_exhaustive()
    }
}

impl Decoder<'_> {
    /// Reads a string field.
    pub fn str(&mut self) -> Result<String, SealError> {
        let (len, rest) = self.input.split_at_checked(4).ok_or(SealError::Malformed("truncated length"))?;
        let len = u32::from_be_bytes(len.try_into().map_err(|_| SealError::Malformed("length"))?) as usize;
        let (s, rest) = rest.split_at_checked(len).ok_or(SealError::Malformed("truncated field"))?;
        self.input = rest;
        String::from_utf8(s.to_vec()).map_err(|_| SealError::Malformed("field is not utf-8"))
    }

    /// Reads an optional string field.
    pub fn opt_str(&mut self) -> Result<Option<String>, SealError> {
        let (flag, rest) = self.input.split_first().ok_or(SealError::Malformed("truncated option"))?;
        self.input = rest;
        match flag {
            0 => Ok(None),
            1 => self.str().map(Some),
            _ => Err(SealError::Malformed("bad option flag")),
        }
    }

    fn finish(&self) -> Result<(), SealError> {
        if self.input.is_empty() { Ok(()) } else { Err(SealError::Malformed("trailing bytes")) }
    }
}

/// Seals `value` under `key`, bound to `ctx`, with a fresh random nonce from `rng`.
pub fn seal<T: SealPayload>(
    key: &DataKey,
    ctx: &SealContext,
    value: &T,
    rng: &dyn Rng,
) -> Result<Sealed<T>, SealError> {
    let mut enc = Encoder::default();
    value.encode(&mut enc);
    let mut nonce = [0u8; 12];
    rng.fill(&mut nonce);
    let aad = ctx.aad(key.version);
    let ciphertext = key
        .cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: enc.buf.as_slice(), aad: &aad })
        .map_err(|_| SealError::Encrypt)?;
    Ok(Sealed::from_parts(key.version, nonce, ciphertext))
}

/// Opens `sealed` with `key` in context `ctx`. Fails on a wrong key, a wrong version, another tenant or
/// record, or any change to the ciphertext.
pub fn open<T: SealPayload>(key: &DataKey, ctx: &SealContext, sealed: &Sealed<T>) -> Result<T, SealError> {
    if sealed.key_version != key.version {
        return Err(SealError::WrongKeyVersion { sealed: sealed.key_version.0, given: key.version.0 });
    }
    let aad = ctx.aad(key.version);
    let plain = Zeroizing::new(
        key.cipher
            .decrypt(Nonce::from_slice(&sealed.nonce), Payload { msg: &sealed.ciphertext, aad: &aad })
            .map_err(|_| SealError::Authentication)?,
    );
    let mut dec = Decoder { input: plain.as_slice() };
    let value = T::decode(&mut dec)?;
    dec.finish()?;
    Ok(value)
}

/// A postal address (buyer PII).
#[derive(Clone, PartialEq, Eq, Zeroize)]
pub struct PostalAddress {
    pub lines: Vec<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: String,
}

impl fmt::Debug for PostalAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostalAddress").field("country", &self.country).finish_non_exhaustive()
    }
}

/// Buyer PII of an order (MIN-2): fetched only when the grant's PII switch is on.
#[derive(Clone, PartialEq, Eq, Zeroize)]
pub struct BuyerPii {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<PostalAddress>,
}

impl fmt::Debug for BuyerPii {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BuyerPii([REDACTED])")
    }
}

impl SealPayload for BuyerPii {
    fn encode(&self, out: &mut Encoder) {
        out.opt_str(self.name.as_deref());
        out.opt_str(self.email.as_deref());
        out.opt_str(self.phone.as_deref());
        match &self.address {
            None => out.buf.push(0),
            Some(a) => {
                out.buf.push(1);
                out.str(&a.lines.len().to_string());
                for line in &a.lines {
                    out.str(line);
                }
                out.str(&a.city);
                out.opt_str(a.region.as_deref());
                out.opt_str(a.postal_code.as_deref());
                out.str(&a.country);
            }
        }
    }

    fn decode(input: &mut Decoder<'_>) -> Result<Self, SealError> {
        let name = input.opt_str()?;
        let email = input.opt_str()?;
        let phone = input.opt_str()?;
        let (flag, rest) = input.input.split_first().ok_or(SealError::Malformed("truncated address"))?;
        input.input = rest;
        let address = match flag {
            0 => None,
            1 => {
                let n: usize = input.str()?.parse().map_err(|_| SealError::Malformed("line count"))?;
                if n > 16 {
                    return Err(SealError::Malformed("too many address lines"));
                }
                let mut lines = Vec::with_capacity(n);
                for _ in 0..n {
                    lines.push(input.str()?);
                }
                Some(PostalAddress {
                    lines,
                    city: input.str()?,
                    region: input.opt_str()?,
                    postal_code: input.opt_str()?,
                    country: input.str()?,
                })
            }
            _ => return Err(SealError::Malformed("bad address flag")),
        };
        Ok(Self { name, email, phone, address })
    }
}

/// A business contact's details (ENC-1: Confidential, sealed at rest).
#[derive(Clone, PartialEq, Eq, Zeroize)]
pub struct ContactDetails {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

impl fmt::Debug for ContactDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContactDetails([REDACTED])")
    }
}

impl SealPayload for ContactDetails {
    fn encode(&self, out: &mut Encoder) {
        out.str(&self.name);
        out.opt_str(self.email.as_deref());
        out.opt_str(self.phone.as_deref());
    }

    fn decode(input: &mut Decoder<'_>) -> Result<Self, SealError> {
        Ok(Self { name: input.str()?, email: input.opt_str()?, phone: input.opt_str()? })
    }
}
