//! The seam between sqlx errors and the ports' errors (style rule 14): SQLSTATE classes map to business
//! variants (`23505` unique violation → `Conflict`, data and constraint errors → `Invalid`); everything else
//! is `Unavailable` carrying a [`DatabaseError`], which holds only the SQLSTATE and the server's message, never
//! a sqlx type.

use custodian_core::ports::{JobQueueError, StoreError};

/// A database failure, as carried inside `Unavailable`: the SQLSTATE (if the server sent one) and the
/// message. Statement parameters (and so record contents) are never part of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("postgres {}: {message}", code.as_deref().unwrap_or("client error"))]
pub struct DatabaseError {
    /// The SQLSTATE, e.g. `40P01` for a deadlock.
    pub code: Option<String>,
    pub message: String,
}

impl DatabaseError {
    fn of(error: &sqlx::Error) -> Self {
        match error {
            sqlx::Error::Database(db) => {
                Self { code: db.code().map(|c| c.into_owned()), message: db.message().to_owned() }
            }
            other => Self { code: None, message: other.to_string() },
        }
    }

    pub(crate) fn migrate(error: &sqlx::migrate::MigrateError) -> Self {
        Self { code: None, message: format!("migration failed: {error}") }
    }

    /// A failure detected by this crate rather than the server (e.g. a malformed stored row).
    pub(crate) fn corrupt(what: impl Into<String>) -> Self {
        Self { code: None, message: what.into() }
    }
}

/// What a database error means for the ports.
enum Kind {
    Conflict(String),
    Invalid(String),
    Unavailable(DatabaseError),
}

fn classify(error: &sqlx::Error) -> Kind {
    if let sqlx::Error::Database(db) = error {
        let constraint = db.constraint().map(|c| format!(" `{c}`")).unwrap_or_default();
        match db.code().as_deref() {
            Some("23505") => return Kind::Conflict(format!("unique key{constraint} already taken")),
            Some("23503") => {
                return Kind::Invalid(format!("refers to a record that does not exist{constraint}"));
            }
            Some("23514") | Some("23502") => {
                return Kind::Invalid(format!("violates the schema's limits{constraint}"));
            }
            // Row-level security refused a row of another tenant (SEG-1).
            Some("42501") => return Kind::Invalid("a record belongs to another tenant".to_owned()),
            Some(code) if code.starts_with("22") => {
                return Kind::Invalid(format!("a value is outside the schema's limits (sqlstate {code})"));
            }
            _ => {}
        }
    }
    Kind::Unavailable(DatabaseError::of(error))
}

/// A sqlx error as a [`StoreError`].
pub(crate) fn store(error: sqlx::Error) -> StoreError {
    match classify(&error) {
        Kind::Conflict(m) => StoreError::Conflict(m),
        Kind::Invalid(m) => StoreError::Invalid(m),
        Kind::Unavailable(e) => StoreError::Unavailable(Box::new(e)),
    }
}

/// A sqlx error as a [`JobQueueError`].
pub(crate) fn queue(error: sqlx::Error) -> JobQueueError {
    match classify(&error) {
        Kind::Conflict(m) | Kind::Invalid(m) => JobQueueError::Invalid(m),
        Kind::Unavailable(e) => JobQueueError::Unavailable(Box::new(e)),
    }
}

/// A stored row this crate cannot read back (a corrupt or hand-edited value).
pub(crate) fn corrupt(what: impl Into<String>) -> StoreError {
    StoreError::Unavailable(Box::new(DatabaseError::corrupt(what)))
}
