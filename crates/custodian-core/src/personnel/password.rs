//! The personnel password rule and Argon2id password hashing (ACC-3).
//!
//! A password has 12 to 256 characters (Unicode scalar values, not bytes), at least three of the four
//! character classes (lowercase, uppercase, digit, other) and is not one character repeated. It is stored
//! only as an Argon2id PHC string with the OWASP parameters (m = 19456 KiB, t = 2, p = 1). The salt is a
//! parameter: the caller draws it from [`crate::ports::Rng`].

use std::fmt;

use argon2::password_hash::{PasswordHash as PhcHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Minimum password length, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Maximum password length, in characters (bounds the hashing work an attacker can ask for).
pub const MAX_PASSWORD_CHARS: usize = 256;
/// How many of the four character classes a password must use.
pub const MIN_CHARACTER_CLASSES: usize = 3;

/// Argon2id memory cost in KiB (OWASP password storage cheat sheet).
pub const ARGON2_M_COST_KIB: u32 = 19_456;
/// Argon2id iterations.
pub const ARGON2_T_COST: u32 = 2;
/// Argon2id parallelism.
pub const ARGON2_P_COST: u32 = 1;

/// One rule of the password policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PasswordRule {
    /// At least [`MIN_PASSWORD_CHARS`] characters.
    MinLength,
    /// At most [`MAX_PASSWORD_CHARS`] characters.
    MaxLength,
    /// At least [`MIN_CHARACTER_CLASSES`] of lowercase, uppercase, digit and other characters.
    CharacterClasses,
    /// Not a single character repeated.
    NotRepeated,
}

impl fmt::Display for PasswordRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasswordRule::MinLength => write!(f, "at least {MIN_PASSWORD_CHARS} characters"),
            PasswordRule::MaxLength => write!(f, "at most {MAX_PASSWORD_CHARS} characters"),
            PasswordRule::CharacterClasses => write!(
                f,
                "at least {MIN_CHARACTER_CLASSES} of lowercase letters, uppercase letters, digits and other characters"
            ),
            PasswordRule::NotRepeated => f.write_str("not a single repeated character"),
        }
    }
}

/// Why a password cannot be accepted or hashed. Never contains the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// The password breaks these rules (all of them, in rule order).
    #[error("password does not meet the policy: needs {}", crate::id::join(.0.iter(), ", "))]
    Weak(Vec<PasswordRule>),
    /// Argon2 refused the input (cannot happen with the fixed parameters and a 16-byte salt).
    #[error("password hashing failed")]
    Hashing,
    /// A stored hash is not an Argon2id PHC string.
    #[error("stored password hash is not an argon2id phc string")]
    MalformedHash,
}

/// Checks `password` against every rule and reports all the rules it breaks.
pub fn check_password(password: &SecretString) -> Result<(), PasswordError> {
    let text = password.expose_secret();
    let mut count = 0usize;
    let (mut lower, mut upper, mut digit, mut other) = (false, false, false, false);
    let mut first = None;
    let mut all_same = true;
    for c in text.chars() {
        count += 1;
        match first {
            None => first = Some(c),
            Some(f) if f != c => all_same = false,
            Some(_) => {}
        }
        if c.is_lowercase() {
            lower = true;
        } else if c.is_uppercase() {
            upper = true;
        } else if c.is_numeric() {
            digit = true;
        } else {
            other = true;
        }
    }
    let classes = [lower, upper, digit, other].into_iter().filter(|b| *b).count();
    let mut broken = Vec::new();
    if count < MIN_PASSWORD_CHARS {
        broken.push(PasswordRule::MinLength);
    }
    if count > MAX_PASSWORD_CHARS {
        broken.push(PasswordRule::MaxLength);
    }
    if classes < MIN_CHARACTER_CLASSES {
        broken.push(PasswordRule::CharacterClasses);
    }
    if all_same {
        broken.push(PasswordRule::NotRepeated);
    }
    if broken.is_empty() { Ok(()) } else { Err(PasswordError::Weak(broken)) }
}

/// An Argon2id password hash as a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
///
/// Not a secret in the [`SecretString`] sense, but an offline-guessing target: it is zeroized on drop and
/// its `Debug` shows only the algorithm.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a stored PHC string after checking that it parses as Argon2id.
    pub fn from_phc(phc: impl Into<String>) -> Result<Self, PasswordError> {
        let phc = Self(phc.into());
        match PhcHash::new(&phc.0) {
            Ok(parsed)
                if parsed.algorithm == Algorithm::Argon2id.ident()
                    && parsed.salt.is_some()
                    && parsed.hash.is_some()
                    && Params::try_from(&parsed).is_ok() =>
            {
                Ok(phc)
            }
            _ => Err(PasswordError::MalformedHash),
        }
    }

    /// The PHC string, for the store.
    pub fn as_phc(&self) -> &str {
        &self.0
    }

    /// Whether the hash was made with weaker parameters than the current policy and should be replaced
    /// (by hashing the password again after a successful login).
    pub fn needs_rehash(&self) -> bool {
        let Ok(parsed) = PhcHash::new(&self.0) else { return true };
        let Ok(params) = Params::try_from(&parsed) else { return true };
        parsed.algorithm != Algorithm::Argon2id.ident()
            || params.m_cost() < ARGON2_M_COST_KIB
            || params.t_cost() < ARGON2_T_COST
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let algorithm = PhcHash::new(&self.0).map(|p| p.algorithm.as_str().to_owned());
        f.debug_struct("PasswordHash")
            .field("algorithm", &algorithm.as_deref().unwrap_or("unknown"))
            .finish_non_exhaustive()
    }
}

fn argon2id() -> Result<Argon2<'static>, PasswordError> {
    let params = Params::new(ARGON2_M_COST_KIB, ARGON2_T_COST, ARGON2_P_COST, None)
        .map_err(|_| PasswordError::Hashing)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Checks the rule, then hashes `password` with Argon2id and `salt` (16 random bytes from the caller).
pub fn hash_password(password: &SecretString, salt: &[u8; 16]) -> Result<PasswordHash, PasswordError> {
    check_password(password)?;
    let salt = SaltString::encode_b64(salt).map_err(|_| PasswordError::Hashing)?;
    let hash = argon2id()?
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .map_err(|_| PasswordError::Hashing)?;
    Ok(PasswordHash(hash.to_string()))
}

/// Whether `password` matches `hash`. Any parse error, a non-Argon2id hash or a mismatch is `false`. The
/// final comparison is argon2's constant-time one.
pub fn verify_password(password: &SecretString, hash: &PasswordHash) -> bool {
    let Ok(parsed) = PhcHash::new(&hash.0) else { return false };
    if parsed.algorithm != Algorithm::Argon2id.ident() {
        return false;
    }
    let Ok(hasher) = argon2id() else { return false };
    hasher.verify_password(password.expose_secret().as_bytes(), &parsed).is_ok()
}

#[cfg(test)]
mod tests;
