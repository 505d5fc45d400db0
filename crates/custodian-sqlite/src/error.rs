//! Mapping sqlx errors to the port errors at the seam (style rule 14): sqlx types never leave the crate.

use std::fmt;

use custodian_core::ports::{JobQueueError, StoreError};
use sqlx::error::ErrorKind;

/// A stored value that this crate would not have written (a tampered or damaged database). Carried inside
/// `Unavailable`: the store cannot serve it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored {what} is corrupt: {detail}")]
pub struct CorruptError {
    pub what: &'static str,
    pub detail: String,
}

impl CorruptError {
    pub(crate) fn new(what: &'static str, detail: impl fmt::Display) -> Self {
        Self { what, detail: detail.to_string() }
    }
}

/// A database failure, by message only: the sqlx error itself stays inside the crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sqlite: {message}")]
pub(crate) struct DbError {
    message: String,
}

impl DbError {
    /// An error of another driver (the read path's), by its message.
    pub(crate) fn message(message: &str) -> Self {
        Self { message: message.chars().filter(|c| !c.is_control()).take(300).collect() }
    }

    fn of(error: &sqlx::Error) -> Self {
        let message = match error {
            sqlx::Error::Database(db) => db.message().to_owned(),
            other => other.to_string(),
        };
        // Messages are SQLite's own (constraint names, "database is locked"): no bound values.
        Self { message: message.chars().filter(|c| !c.is_control()).take(300).collect() }
    }
}

/// A migration failure (by message: sqlx's error stays inside the crate).
pub(crate) fn migrate(error: sqlx::migrate::MigrateError) -> StoreError {
    let message = error.to_string().chars().filter(|c| !c.is_control()).take(300).collect();
    StoreError::Unavailable(Box::new(DbError { message }))
}

/// `Unavailable` carrying a corrupt-data error.
pub(crate) fn corrupt(what: &'static str, detail: impl fmt::Display) -> StoreError {
    StoreError::Unavailable(Box::new(CorruptError::new(what, detail)))
}

/// The generic mapping: constraint violations are the caller's input, everything else is infrastructure.
pub(crate) fn db(error: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(e) = &error {
        match e.kind() {
            ErrorKind::UniqueViolation => {
                return StoreError::Conflict("a record with the same key exists".to_owned());
            }
            ErrorKind::ForeignKeyViolation => {
                return StoreError::Invalid(
                    "the record refers to a tenant, grant, order or person that does not exist".to_owned(),
                );
            }
            ErrorKind::CheckViolation | ErrorKind::NotNullViolation => {
                return StoreError::Invalid("the record violates a schema constraint".to_owned());
            }
            _ => {}
        }
    }
    if matches!(error, sqlx::Error::RowNotFound) {
        return StoreError::NotFound;
    }
    StoreError::Unavailable(Box::new(DbError::of(&error)))
}

/// As [`db`], with the conflict described by `what`.
pub(crate) fn db_conflict(what: impl FnOnce() -> String) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |error| match db(error) {
        StoreError::Conflict(_) => StoreError::Conflict(what()),
        other => other,
    }
}

/// A failure while appending audit records: nothing was written (AUD-2).
pub(crate) fn audit_failed(error: sqlx::Error) -> StoreError {
    StoreError::AuditFailed(Box::new(DbError::of(&error)))
}

/// The job queue's mapping.
pub(crate) fn queue(error: sqlx::Error) -> JobQueueError {
    match db(error) {
        StoreError::NotFound => JobQueueError::NotFound,
        StoreError::Invalid(why) | StoreError::Conflict(why) => JobQueueError::Invalid(why),
        StoreError::Unavailable(source) | StoreError::AuditFailed(source) => {
            JobQueueError::Unavailable(source)
        }
        other => JobQueueError::Unavailable(Box::new(DbError { message: other.to_string() })),
    }
}

/// A store error as a job queue error (for shared helpers).
pub(crate) fn to_queue(error: StoreError) -> JobQueueError {
    match error {
        StoreError::NotFound => JobQueueError::NotFound,
        StoreError::Invalid(why) | StoreError::Conflict(why) => JobQueueError::Invalid(why),
        StoreError::Unavailable(source) | StoreError::AuditFailed(source) => {
            JobQueueError::Unavailable(source)
        }
        other => JobQueueError::Unavailable(Box::new(DbError { message: other.to_string() })),
    }
}
