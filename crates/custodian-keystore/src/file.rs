//! The keystore file: its sealed format, and atomic, durable writes with owner-only permissions.
//!
//! Format (all integers big endian):
//! `magic "CUSTKS\0\x01" | kdf (1 byte: 0 raw key, 1 argon2id) | [argon2id: memory u32, iterations u32,
//! parallelism u32, salt 16] | key check 16 | nonce 12 | ciphertext length u64 | ciphertext with GCM tag`.
//! Everything before the ciphertext is the associated data, so the header cannot be changed unnoticed.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use aes_gcm::Nonce;
use aes_gcm::aead::{Aead, Payload};
use custodian_core::ports::Rng;
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use crate::error::KeystoreError;
use crate::master::{Argon2Params, FileKeys, Kdf, MasterKey};

const MAGIC: &[u8; 8] = b"CUSTKS\x00\x01";
const TAG_LEN: u64 = 16;
/// The largest ciphertext a header may announce (1 GiB): a keystore is far smaller.
const MAX_CIPHERTEXT: u64 = 1 << 30;

/// The parsed header of a sealed file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header {
    pub(crate) kdf: Kdf,
    key_check: [u8; 16],
    nonce: [u8; 12],
}

fn encode_header(kdf: &Kdf, key_check: &[u8; 16], nonce: &[u8; 12], len: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + 1 + 28 + 16 + 12 + 8);
    out.extend_from_slice(MAGIC);
    match kdf {
        Kdf::Raw => out.push(0),
        Kdf::Argon2id { params, salt } => {
            out.push(1);
            out.extend_from_slice(&params.memory_kib.to_be_bytes());
            out.extend_from_slice(&params.iterations.to_be_bytes());
            out.extend_from_slice(&params.parallelism.to_be_bytes());
            out.extend_from_slice(salt);
        }
    }
    out.extend_from_slice(key_check);
    out.extend_from_slice(nonce);
    out.extend_from_slice(&len.to_be_bytes());
    out
}

/// A cursor over the header bytes that reports truncation.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], KeystoreError> {
        let end = self.at + N;
        let slice = self
            .bytes
            .get(self.at..end)
            .ok_or(KeystoreError::Truncated { expected: end as u64, found: self.bytes.len() as u64 })?;
        self.at = end;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    fn u32(&mut self) -> Result<u32, KeystoreError> {
        self.take::<4>().map(u32::from_be_bytes)
    }
}

/// Splits a file into its header, the header bytes (associated data) and the ciphertext.
pub(crate) fn parse(bytes: &[u8]) -> Result<(Header, &[u8], &[u8]), KeystoreError> {
    let mut r = Reader { bytes, at: 0 };
    if bytes.len() >= MAGIC.len() && bytes.get(..MAGIC.len()) != Some(MAGIC.as_slice()) {
        return Err(KeystoreError::Format("not a custodian keystore file, or an unknown format version"));
    }
    r.take::<8>()?;
    let kdf = match r.take::<1>()? {
        [0] => Kdf::Raw,
        [1] => {
            let params = Argon2Params { memory_kib: r.u32()?, iterations: r.u32()?, parallelism: r.u32()? };
            Kdf::Argon2id { params, salt: r.take::<16>()? }
        }
        _ => return Err(KeystoreError::Format("unknown key derivation")),
    };
    let key_check = r.take::<16>()?;
    let nonce = r.take::<12>()?;
    let len = u64::from_be_bytes(r.take::<8>()?);
    let header_len = r.at;
    let (header_bytes, ciphertext) = bytes.split_at(header_len);
    let found = ciphertext.len() as u64;
    if len < TAG_LEN {
        return Err(KeystoreError::Format("ciphertext length is shorter than its tag"));
    }
    if len > MAX_CIPHERTEXT {
        return Err(KeystoreError::Format("ciphertext length is implausible"));
    }
    if found < len {
        return Err(KeystoreError::Truncated {
            expected: (header_len as u64).saturating_add(len),
            found: bytes.len() as u64,
        });
    }
    if found > len {
        return Err(KeystoreError::Format("trailing bytes after the ciphertext"));
    }
    Ok((Header { kdf, key_check, nonce }, header_bytes, ciphertext))
}

/// Decrypts a sealed file with keys already derived (the key check must match).
pub(crate) fn decrypt(keys: &FileKeys, bytes: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeystoreError> {
    let (header, aad, ciphertext) = parse(bytes)?;
    if !bool::from(header.key_check.ct_eq(&keys.key_check)) {
        return Err(KeystoreError::WrongMasterKey);
    }
    keys.cipher
        .decrypt(Nonce::from_slice(&header.nonce), Payload { msg: ciphertext, aad })
        .map(Zeroizing::new)
        .map_err(|_| KeystoreError::Tampered)
}

/// Derives the file keys for a sealed file from `master` and decrypts it.
pub(crate) fn open(
    master: &MasterKey,
    bytes: &[u8],
) -> Result<(FileKeys, Kdf, Zeroizing<Vec<u8>>), KeystoreError> {
    let (header, _, _) = parse(bytes)?;
    let keys = master.derive(&header.kdf)?;
    let plain = decrypt(&keys, bytes)?;
    Ok((keys, header.kdf, plain))
}

/// Seals `body` into a file image with a fresh random nonce.
pub(crate) fn seal(keys: &FileKeys, kdf: &Kdf, body: &[u8], rng: &dyn Rng) -> Result<Vec<u8>, KeystoreError> {
    let mut nonce = [0u8; 12];
    rng.fill(&mut nonce);
    let len = body.len() as u64 + TAG_LEN;
    let mut out = encode_header(kdf, &keys.key_check, &nonce, len);
    let ciphertext = keys
        .cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: body, aad: &out })
        .map_err(|_| KeystoreError::Encrypt)?;
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

/// Where a write may be stopped on purpose, to simulate a crash (tests only pass `Some`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// The temporary file is written and synced, the rename has not happened.
    BeforeRename,
    /// The rename happened, the directory is not synced yet.
    BeforeDirSync,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn file_name(path: &Path) -> Result<String, KeystoreError> {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or(KeystoreError::Format("the keystore path has no file name"))
}

fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The prefix of the temporary files of `path`: `.<name>.tmp.`, in the same directory.
fn temp_prefix(path: &Path) -> Result<String, KeystoreError> {
    Ok(format!(".{}.tmp.", file_name(path)?))
}

/// Creates a file readable and writable by its owner only; fails if it exists.
fn create_private(path: &Path) -> Result<File, KeystoreError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path).map_err(KeystoreError::io("create", path))
}

/// Replaces `path` with `bytes` atomically and durably: temp file (0600) in the same directory, write, fsync,
/// rename, fsync of the directory. On failure the old file is untouched and the temp file removed.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], stop: Option<Stage>) -> Result<(), KeystoreError> {
    let dir = dir_of(path);
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let temp = dir.join(format!("{}{}.{n}", temp_prefix(path)?, std::process::id()));
    let written = (|| {
        let mut file = create_private(&temp)?;
        file.write_all(bytes).map_err(KeystoreError::io("write", &temp))?;
        file.sync_all().map_err(KeystoreError::io("sync", &temp))
    })();
    if let Err(error) = written {
        let _ = fs::remove_file(&temp);
        return Err(error);
    }
    if stop == Some(Stage::BeforeRename) {
        return Err(KeystoreError::Interrupted);
    }
    if let Err(error) = fs::rename(&temp, path) {
        let _ = fs::remove_file(&temp);
        return Err(KeystoreError::io("replace", path)(error));
    }
    if stop == Some(Stage::BeforeDirSync) {
        return Err(KeystoreError::Interrupted);
    }
    sync_dir(&dir)
}

fn sync_dir(dir: &Path) -> Result<(), KeystoreError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(KeystoreError::io("sync the directory of", dir))
}

/// Creates `path` with `bytes`; fails if it exists. Durable like [`write_atomic`].
pub(crate) fn create(path: &Path, bytes: &[u8]) -> Result<(), KeystoreError> {
    if path.exists() {
        return Err(KeystoreError::Exists(path.to_path_buf()));
    }
    write_atomic(path, bytes, None)
}

/// Reads `path`, refusing a file other users may access.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, KeystoreError> {
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(KeystoreError::Missing(path.to_path_buf()));
        }
        Err(e) => return Err(KeystoreError::io("read", path)(e)),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(KeystoreError::Permissions { path: path.to_path_buf(), mode });
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    fs::read(path).map_err(KeystoreError::io("read", path))
}

/// Removes temporary files a crash left behind (the keystore file itself is always whole). Returns how many.
pub(crate) fn remove_stray_temps(path: &Path) -> Result<usize, KeystoreError> {
    let dir = dir_of(path);
    let prefix = temp_prefix(path)?;
    let mut removed = 0;
    for entry in fs::read_dir(&dir).map_err(KeystoreError::io("list the directory of", &dir))? {
        let entry = entry.map_err(KeystoreError::io("list the directory of", &dir))?;
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            fs::remove_file(entry.path())
                .map_err(KeystoreError::io("remove a stray temporary file of", path))?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Takes the exclusive lock `<path>.lock` (created 0600), held as long as the returned file is open.
pub(crate) fn lock(path: &Path) -> Result<File, KeystoreError> {
    let lock_path = PathBuf::from(format!("{}.lock", path.display()));
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let file = options.open(&lock_path).map_err(KeystoreError::io("lock", &lock_path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(KeystoreError::InUse(path.to_path_buf())),
        Err(std::fs::TryLockError::Error(e)) => Err(KeystoreError::io("lock", &lock_path)(e)),
    }
}
