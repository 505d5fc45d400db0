//! Opaque bearer tokens for personnel sessions and integrator API keys (ACC-4), stored only hashed.
//!
//! A token reads `cus_<kind>_<id>_<secret>`: `kind` is `session` or `apikey`, `id` is 16 random bytes and
//! `secret` 32 random bytes, both in lowercase unpadded base32 (RFC 4648). The id is public: the store
//! looks the token up by it and compares the stored [`TokenHash`] of the secret in constant time. The full
//! token is shown once, at issue, and never stored.

use std::fmt;

use data_encoding::BASE32_NOPAD;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use crate::ports::Rng;

/// Prefix of every Custodian token (lets secret scanners recognise leaked tokens).
pub const TOKEN_PREFIX: &str = "cus";
/// Random bytes in a token id.
pub const TOKEN_ID_BYTES: usize = 16;
/// Random bytes in a token secret.
pub const TOKEN_SECRET_BYTES: usize = 32;

/// Length of the base32 text of the id: ceil(128 / 5).
const ID_CHARS: usize = 26;
/// Length of the base32 text of the secret: ceil(256 / 5).
const SECRET_CHARS: usize = 52;
/// Longest input `parse` looks at; anything longer is malformed without further work.
const MAX_TOKEN_LEN: usize = 128;

/// What a token authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TokenKind {
    /// A personnel login session.
    Session,
    /// An integrator API key ([`crate::personnel::ApiKey`]).
    ApiKey,
}

impl TokenKind {
    /// The kind's tag inside the token text.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Session => "session",
            TokenKind::ApiKey => "apikey",
        }
    }
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a presented token is not well-formed. Never contains any part of the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    #[error("token is not in the `cus_<kind>_<id>_<secret>` format")]
    Malformed,
    #[error("token kind is not `session` or `apikey`")]
    UnknownKind,
    #[error("token id is not 26 lowercase base32 characters")]
    BadId,
    #[error("token secret is not 52 lowercase base32 characters")]
    BadSecret,
}

/// SHA-256 of a token's secret part: what the store keeps instead of the token.
///
/// A fast hash is the right choice here, unlike for passwords: the secret is 256 bits from a CSPRNG, so
/// there is nothing to guess offline and a slow KDF would only make every request slower. Compare with
/// [`TokenHash::matches`]; `==` is the same constant-time comparison.
#[derive(Clone, Copy)]
pub struct TokenHash([u8; 32]);

impl PartialEq for TokenHash {
    fn eq(&self, other: &Self) -> bool {
        self.matches(other)
    }
}

impl Eq for TokenHash {}

impl std::hash::Hash for TokenHash {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl TokenHash {
    /// Wraps a hash read back from the store.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw hash, for the store.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Constant-time equality.
    pub fn matches(&self, other: &TokenHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }

    fn of_secret(secret: &str) -> Self {
        Self(Sha256::digest(secret.as_bytes()).into())
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The hash of a 256-bit random secret reveals nothing; a short prefix is enough to tell hashes apart.
        write!(f, "TokenHash({:02x}{:02x}{:02x}{:02x}..)", self.0[0], self.0[1], self.0[2], self.0[3])
    }
}

/// A freshly issued token: hand `secret` to its holder once, store `id` and `hash`.
pub struct IssuedToken {
    pub kind: TokenKind,
    /// The public id (lowercase base32), for lookup.
    pub id: String,
    /// The full token text `cus_<kind>_<id>_<secret>`, shown once.
    pub secret: SecretString,
    /// What the store keeps.
    pub hash: TokenHash,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("kind", &self.kind)
            .field("id", &self.id)
            .field("secret", &"[REDACTED]")
            .field("hash", &self.hash)
            .finish()
    }
}

/// A presented token split into its parts; the secret part stays secret.
pub struct ParsedToken {
    kind: TokenKind,
    id: String,
    secret: SecretString,
}

impl ParsedToken {
    /// The token's kind.
    pub fn kind(&self) -> TokenKind {
        self.kind
    }

    /// The public id, to look up the stored hash.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The hash to compare with the stored one.
    pub fn hash(&self) -> TokenHash {
        TokenHash::of_secret(self.secret.expose_secret())
    }
}

impl fmt::Debug for ParsedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedToken")
            .field("kind", &self.kind)
            .field("id", &self.id)
            .field("secret", &"[REDACTED]")
            .finish()
    }
}

/// Moves `text` into a [`SecretString`], zeroizing the original buffer (converting a `String` directly may
/// reallocate and leave a copy behind).
pub(crate) fn into_secret(mut text: String) -> SecretString {
    let secret = SecretString::from(text.as_str());
    text.zeroize();
    secret
}

fn base32_lower(bytes: &[u8]) -> String {
    let mut text = BASE32_NOPAD.encode(bytes);
    text.make_ascii_lowercase();
    text
}

/// Issues a new token of `kind` with randomness from `rng`.
pub fn issue(kind: TokenKind, rng: &dyn Rng) -> IssuedToken {
    let mut id_bytes = [0u8; TOKEN_ID_BYTES];
    rng.fill(&mut id_bytes);
    let mut secret_bytes = Zeroizing::new([0u8; TOKEN_SECRET_BYTES]);
    rng.fill(secret_bytes.as_mut_slice());
    let id = base32_lower(&id_bytes);
    let secret_part = Zeroizing::new(base32_lower(secret_bytes.as_slice()));
    let hash = TokenHash::of_secret(&secret_part);
    // Sized exactly, so the buffer holding the secret never reallocates and leaves a copy behind.
    let mut full =
        String::with_capacity(TOKEN_PREFIX.len() + kind.as_str().len() + id.len() + secret_part.len() + 3);
    for part in [TOKEN_PREFIX, "_", kind.as_str(), "_", &id, "_", &secret_part] {
        full.push_str(part);
    }
    IssuedToken { kind, id, secret: into_secret(full), hash }
}

fn is_lower_base32(text: &str, chars: usize) -> bool {
    text.len() == chars && text.bytes().all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
}

/// Splits a presented token. Errors name the broken part, never its content.
pub fn parse(token: &str) -> Result<ParsedToken, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::Malformed);
    }
    let mut parts = token.split('_');
    let (Some(prefix), Some(kind), Some(id), Some(secret), None) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    if prefix != TOKEN_PREFIX {
        return Err(TokenError::Malformed);
    }
    let kind = match kind {
        "session" => TokenKind::Session,
        "apikey" => TokenKind::ApiKey,
        _ => return Err(TokenError::UnknownKind),
    };
    // Lowercase-only alphabet plus the exact length also rules out non-canonical encodings (the last
    // character's unused bits are checked by decoding).
    let canonical = |text: &str, chars: usize| {
        if !is_lower_base32(text, chars) {
            return false;
        }
        let upper = Zeroizing::new(text.to_ascii_uppercase());
        BASE32_NOPAD.decode(upper.as_bytes()).map(Zeroizing::new).is_ok()
    };
    if !canonical(id, ID_CHARS) {
        return Err(TokenError::BadId);
    }
    if !canonical(secret, SECRET_CHARS) {
        return Err(TokenError::BadSecret);
    }
    Ok(ParsedToken { kind, id: id.to_owned(), secret: SecretString::from(secret) })
}

#[cfg(test)]
mod tests;
