//! Time-based one-time passwords, RFC 6238 (ACC-2): personnel MFA at login and step-up.
//!
//! HOTP (RFC 4226) over the time step `floor(unix_time / step_seconds)` with T0 = 0, HMAC-SHA1, -SHA256 or
//! -SHA512, 6 to 8 digits. Verification accepts the current step plus or minus `skew_steps`, compares in
//! constant time and refuses any step at or before the last one the person used, so a code works once.

use std::fmt;

use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use subtle::{ConstantTimeEq, ConstantTimeLess};
use time::OffsetDateTime;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::token::into_secret;
use crate::ports::Rng;

/// Shortest accepted shared secret, in bytes (RFC 4226 section 4: at least 128 bits).
pub const MIN_SECRET_BYTES: usize = 16;
/// Longest accepted shared secret, in bytes.
pub const MAX_SECRET_BYTES: usize = 128;
/// Size of a generated secret: 160 bits, the RFC 4226 recommendation and what authenticator apps expect.
pub const GENERATED_SECRET_BYTES: usize = 20;

/// A TOTP shared secret. Zeroized on drop, never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct TotpSecret {
    bytes: Vec<u8>,
}

/// Why bytes or text are not a usable TOTP secret. Never contains the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TotpSecretError {
    #[error("totp secret has {len} bytes, fewer than {MIN_SECRET_BYTES}")]
    TooShort { len: usize },
    #[error("totp secret has {len} bytes, more than {MAX_SECRET_BYTES}")]
    TooLong { len: usize },
    #[error("totp secret is not valid base32")]
    Base32,
}

impl TotpSecret {
    /// Copies raw secret bytes (16 to 128 bytes). The caller zeroizes its own copy.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TotpSecretError> {
        match bytes.len() {
            len if len < MIN_SECRET_BYTES => Err(TotpSecretError::TooShort { len }),
            len if len > MAX_SECRET_BYTES => Err(TotpSecretError::TooLong { len }),
            _ => Ok(Self { bytes: bytes.to_vec() }),
        }
    }

    /// A new 20-byte secret from `rng`.
    pub fn generate(rng: &dyn Rng) -> Self {
        let mut bytes = vec![0u8; GENERATED_SECRET_BYTES];
        rng.fill(&mut bytes);
        Self { bytes }
    }

    /// Decodes base32 text (RFC 4648 alphabet, any case, spaces ignored, padding optional), as typed from
    /// or shown by an authenticator app.
    pub fn from_base32(text: &SecretString) -> Result<Self, TotpSecretError> {
        let mut normalized = Zeroizing::new(String::with_capacity(text.expose_secret().len()));
        for c in text.expose_secret().chars().filter(|c| *c != ' ') {
            normalized.push(c.to_ascii_uppercase());
        }
        let unpadded = normalized.trim_end_matches('=');
        let bytes = BASE32_NOPAD
            .decode(unpadded.as_bytes())
            .map_err(|_| TotpSecretError::Base32)
            .map(Zeroizing::new)?;
        Self::from_bytes(&bytes)
    }

    /// The secret as unpadded uppercase base32, for enrolment (shown once, or put in the otpauth URI).
    pub fn to_base32(&self) -> SecretString {
        into_secret(BASE32_NOPAD.encode(&self.bytes))
    }

    /// The raw bytes, for the secret store.
    pub fn expose_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret([REDACTED])")
    }
}

/// The HMAC hash function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum TotpAlgorithm {
    /// What every authenticator app supports; the default.
    #[default]
    Sha1,
    Sha256,
    Sha512,
}

impl TotpAlgorithm {
    /// The name in otpauth URIs.
    pub fn as_str(self) -> &'static str {
        match self {
            TotpAlgorithm::Sha1 => "SHA1",
            TotpAlgorithm::Sha256 => "SHA256",
            TotpAlgorithm::Sha512 => "SHA512",
        }
    }
}

impl fmt::Display for TotpAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a TOTP configuration is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TotpConfigError {
    #[error("totp digits must be 6 to 8, got {0}")]
    Digits(u8),
    #[error("totp step must be 1 to 300 seconds, got {0}")]
    Step(u32),
    #[error("totp skew must be at most 10 steps, got {0}")]
    Skew(u8),
}

/// How codes are made and checked. The default is SHA-1, 6 digits, 30-second steps, one step of skew.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TotpConfig {
    algorithm: TotpAlgorithm,
    digits: u8,
    step_seconds: u32,
    skew_steps: u8,
}

impl Default for TotpConfig {
    fn default() -> Self {
        Self { algorithm: TotpAlgorithm::Sha1, digits: 6, step_seconds: 30, skew_steps: 1 }
    }
}

impl TotpConfig {
    /// Validates a configuration: 6 to 8 digits, a step of 1 to 300 seconds, at most 10 steps of skew.
    pub fn new(
        algorithm: TotpAlgorithm,
        digits: u8,
        step_seconds: u32,
        skew_steps: u8,
    ) -> Result<Self, TotpConfigError> {
        if !(6..=8).contains(&digits) {
            return Err(TotpConfigError::Digits(digits));
        }
        if !(1..=300).contains(&step_seconds) {
            return Err(TotpConfigError::Step(step_seconds));
        }
        if skew_steps > 10 {
            return Err(TotpConfigError::Skew(skew_steps));
        }
        Ok(Self { algorithm, digits, step_seconds, skew_steps })
    }

    pub fn algorithm(&self) -> TotpAlgorithm {
        self.algorithm
    }

    pub fn digits(&self) -> u8 {
        self.digits
    }

    pub fn step_seconds(&self) -> u32 {
        self.step_seconds
    }

    pub fn skew_steps(&self) -> u8 {
        self.skew_steps
    }

    /// The time step containing `unix_time`; `None` before 1970.
    pub fn step_at(&self, unix_time: i64) -> Option<u64> {
        u64::try_from(unix_time).ok().map(|t| t / u64::from(self.step_seconds))
    }
}

/// Why a presented code is refused. Never contains the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    #[error("code must contain only digits")]
    NotDigits,
    #[error("code must have {expected} digits, got {actual}")]
    WrongLength { expected: u8, actual: usize },
    #[error("code does not match")]
    Mismatch,
    #[error("code was already used")]
    Replayed,
    #[error("clock is before 1970")]
    ClockBeforeEpoch,
}

fn mac_truncate<M: Mac + hmac::digest::KeyInit>(key: &[u8], counter: u64) -> Option<u32> {
    let mut mac = <M as Mac>::new_from_slice(key).ok()?;
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    // RFC 4226 section 5.3, dynamic truncation.
    let offset = usize::from(*digest.last()? & 0x0f);
    let word = digest.get(offset..offset + 4)?;
    Some(u32::from_be_bytes([word[0] & 0x7f, word[1], word[2], word[3]]))
}

/// The HOTP value for `step`, reduced to `digits` digits; `None` only if HMAC refuses the key, which it
/// does not for any length.
fn hotp(secret: &TotpSecret, config: &TotpConfig, step: u64) -> Option<u32> {
    let value = match config.algorithm {
        TotpAlgorithm::Sha1 => mac_truncate::<Hmac<sha1::Sha1>>(&secret.bytes, step),
        TotpAlgorithm::Sha256 => mac_truncate::<Hmac<sha2::Sha256>>(&secret.bytes, step),
        TotpAlgorithm::Sha512 => mac_truncate::<Hmac<sha2::Sha512>>(&secret.bytes, step),
    }?;
    Some(value % 10u32.pow(u32::from(config.digits)))
}

/// The code for the step containing `unix_time`, zero-padded to the configured digits. Times before 1970
/// use step 0. (Used for enrolment checks and tests; logins go through [`verify`].)
pub fn code_at(secret: &TotpSecret, config: &TotpConfig, unix_time: i64) -> String {
    let step = config.step_at(unix_time).unwrap_or(0);
    match hotp(secret, config, step) {
        Some(value) => format!("{value:0width$}", width = usize::from(config.digits)),
        // Unreachable in practice; an empty string never verifies.
        None => String::new(),
    }
}

/// Checks `code` at `now` against the steps `now ± skew`, and returns the matched step, which the caller
/// stores as the new `last_used_step`. A code for a step at or before `last_used_step` is a replay.
///
/// Every step in the window is computed and compared in constant time, whether or not an earlier one
/// matched.
pub fn verify(
    secret: &TotpSecret,
    config: &TotpConfig,
    code: &str,
    now: OffsetDateTime,
    last_used_step: Option<u64>,
) -> Result<u64, TotpError> {
    if !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TotpError::NotDigits);
    }
    if code.len() != usize::from(config.digits) {
        return Err(TotpError::WrongLength { expected: config.digits, actual: code.len() });
    }
    let current = config.step_at(now.unix_timestamp()).ok_or(TotpError::ClockBeforeEpoch)?;
    let skew = u64::from(config.skew_steps);
    let first = current.saturating_sub(skew);
    let last = current.saturating_add(skew);
    // The latest matching step, if any; a later step wins so a replay cannot shadow a fresh match.
    let mut matched: Option<u64> = None;
    for step in first..=last {
        let candidate = Zeroizing::new(match hotp(secret, config, step) {
            Some(value) => format!("{value:0width$}", width = usize::from(config.digits)),
            None => String::new(),
        });
        if bool::from(candidate.as_bytes().ct_eq(code.as_bytes())) {
            matched = Some(step);
        }
    }
    let step = matched.ok_or(TotpError::Mismatch)?;
    if let Some(last_used) = last_used_step
        && !bool::from(last_used.ct_lt(&step))
    {
        return Err(TotpError::Replayed);
    }
    Ok(step)
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(text: &str, out: &mut String) {
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b & 0x0f)]));
        }
    }
}

/// The `otpauth://totp/` enrolment URI (Key Uri Format) that authenticator apps read from a QR code. It
/// contains the secret, so it is a [`SecretString`].
pub fn otpauth_uri(issuer: &str, account: &str, secret: &TotpSecret, config: &TotpConfig) -> SecretString {
    let encoded = secret.to_base32();
    // Sized up front so the buffer holding the secret never reallocates (which would leave a copy behind).
    let mut uri =
        String::with_capacity(96 + encoded.expose_secret().len() + issuer.len() * 6 + account.len() * 3);
    uri.push_str("otpauth://totp/");
    percent_encode(issuer, &mut uri);
    uri.push(':');
    percent_encode(account, &mut uri);
    uri.push_str("?secret=");
    uri.push_str(encoded.expose_secret());
    uri.push_str("&issuer=");
    percent_encode(issuer, &mut uri);
    uri.push_str(&format!(
        "&algorithm={}&digits={}&period={}",
        config.algorithm.as_str(),
        config.digits,
        config.step_seconds
    ));
    into_secret(uri)
}

#[cfg(test)]
mod tests;
