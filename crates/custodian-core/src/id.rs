//! Validated identifier newtypes shared by every module.
//!
//! Every identifier that crosses a port is one of these: non-empty, at most 128 bytes, printable ASCII
//! without whitespace or control characters. They are constructed with `new(raw) -> Result<Self, IdError>`
//! and never change afterwards, so an adapter cannot smuggle NUL bytes or SQL fragments through an id.

use std::fmt;

/// Maximum length of any identifier, in bytes.
pub const MAX_ID_LEN: usize = 128;

/// Why a raw string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} is empty")]
    Empty { kind: &'static str },
    #[error("{kind} is longer than {max} bytes")]
    TooLong { kind: &'static str, max: usize },
    #[error("{kind} contains a character that is not allowed at byte {at}")]
    BadChar { kind: &'static str, at: usize },
    #[error("{kind} `{value}` is not in the expected format: {expected}")]
    Format { kind: &'static str, value: String, expected: &'static str },
}

/// Checks the rules common to every identifier.
pub(crate) fn check_id(kind: &'static str, raw: &str) -> Result<(), IdError> {
    if raw.is_empty() {
        return Err(IdError::Empty { kind });
    }
    if raw.len() > MAX_ID_LEN {
        return Err(IdError::TooLong { kind, max: MAX_ID_LEN });
    }
    if let Some(at) = raw.bytes().position(|b| !(b.is_ascii_graphic())) {
        return Err(IdError::BadChar { kind, at });
    }
    Ok(())
}

/// Checks that `raw` is a string of ASCII digits (used by several platforms' account ids).
pub(crate) fn check_digits(kind: &'static str, raw: &str, expected: &'static str) -> Result<(), IdError> {
    check_id(kind, raw)?;
    if raw.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(IdError::Format { kind, value: shorten(raw), expected })
    }
}

/// Truncates user input quoted back in an error message.
pub(crate) fn shorten(raw: &str) -> String {
    raw.chars().take(40).collect()
}

/// Declares a validated string identifier newtype.
macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident, $kind:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Validates `raw` and wraps it.
            pub fn new(raw: impl Into<String>) -> Result<Self, $crate::id::IdError> {
                let raw = raw.into();
                $crate::id::check_id($kind, &raw)?;
                Ok(Self(raw))
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::id::IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }
    };
}
pub(crate) use string_id;

/// Writes `items` joined by `sep`.
pub(crate) fn join<T: fmt::Display>(items: impl IntoIterator<Item = T>, sep: &str) -> String {
    let mut out = String::new();
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(&item.to_string());
    }
    out
}

#[cfg(test)]
#[expect(unreachable_pub, reason = "the macro declares public ids; this one is test-only")]
mod tests {
    use super::*;

    string_id!(TestId, "test id");

    #[track_caller]
    fn check(raw: &str, expect: Result<(), IdError>) {
        assert_eq!(TestId::new(raw).map(|_| ()), expect, "input {raw:?}");
    }

    #[test]
    fn id_rules() {
        check("abc-123_x.y:z", Ok(()));
        assert_eq!(TestId::new("a.b").unwrap().as_str(), "a.b");
        check("", Err(IdError::Empty { kind: "test id" }));
        check("a b", Err(IdError::BadChar { kind: "test id", at: 1 }));
        check("a\0b", Err(IdError::BadChar { kind: "test id", at: 1 }));
        check("é", Err(IdError::BadChar { kind: "test id", at: 0 }));
        check(&"x".repeat(128), Ok(()));
        check(&"x".repeat(129), Err(IdError::TooLong { kind: "test id", max: 128 }));
    }

    #[test]
    fn digits() {
        assert!(check_digits("n", "0123", "digits").is_ok());
        assert!(matches!(check_digits("n", "12a", "digits"), Err(IdError::Format { .. })));
    }

    #[test]
    fn error_messages_follow_house_rules() {
        let e = TestId::new("").unwrap_err().to_string();
        assert_eq!(e, "test id is empty");
        assert!(!e.ends_with('.'));
    }
}
