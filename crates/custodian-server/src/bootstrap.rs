//! `custodian init`: the first admin, with the ACC-3 password and a fresh TOTP secret shown once.
//!
//! There is nobody yet who could be authorized, so this is not a decision: it runs as the operator with
//! access to the configuration, refuses if any admin exists, and is recorded on the system chain as a
//! `personnel_changed` event by the system actor.

use std::collections::BTreeSet;
use std::fmt;

use custodian_core::audit::{ActorRef, NewAuditEvent, PersonnelChanged};
use custodian_core::personnel::password::{self, PasswordError};
use custodian_core::personnel::totp::TotpConfig;
use custodian_core::personnel::{Person, PersonId, Role};
use custodian_core::ports::{PersonCredential, StoreError};
use custodian_core::service::{Deps, Settings};
use secrecy::SecretString;

use crate::usecase::personnel::new_totp;
use crate::usecase::{person_id_from_email, salt};

/// The first admin, and their TOTP secret: shown once, never stored in clear, never logged.
pub struct InitAdmin {
    pub person: PersonId,
    /// The TOTP secret in base32, for typing into an authenticator app.
    pub totp_secret: SecretString,
    /// The `otpauth://` enrolment URI (for a QR code); it contains the secret.
    pub otpauth_uri: SecretString,
}

impl fmt::Debug for InitAdmin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InitAdmin")
            .field("person", &self.person)
            .field("totp_secret", &"[REDACTED]")
            .field("otpauth_uri", &"[REDACTED]")
            .finish()
    }
}

/// Why `init` did not create an admin. Messages never contain the password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    #[error("an admin exists already: use `custodian user` to manage people")]
    AdminExists,
    #[error("`email` must be an email address of printable ascii characters")]
    InvalidEmail,
    #[error(transparent)]
    WeakPassword(PasswordError),
    #[error("a person with this email exists already")]
    PersonExists,
    #[error("{0} unavailable")]
    Unavailable(&'static str, #[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Creates the first admin (`email` is their id and login name) with `password` (ACC-3) and a new TOTP
/// secret, and returns the secret once. Refuses if an admin exists. Admins always get TOTP, whatever
/// `settings.mfa_required` says; the event names `settings.environment`.
pub async fn init_admin(
    deps: &Deps,
    settings: &Settings,
    email: &str,
    password: &SecretString,
) -> Result<InitAdmin, InitError> {
    let id = person_id_from_email(email).map_err(|_| InitError::InvalidEmail)?;
    password::check_password(password).map_err(InitError::WeakPassword)?;
    let people = deps.personnel.people().await.map_err(|e| InitError::Unavailable("store", Box::new(e)))?;
    if people.iter().any(|p| p.roles.contains(&Role::Admin)) {
        return Err(InitError::AdminExists);
    }
    let password_hash = password::hash_password(password, &salt(deps)).map_err(InitError::WeakPassword)?;
    let (sealed, enrolment) = new_totp(deps, &TotpConfig::default(), &id)
        .await
        .map_err(|e| InitError::Unavailable("key manager", Box::new(std::io::Error::other(e.describe()))))?;
    let person = Person {
        id: id.clone(),
        display_name: id.as_str().to_owned(),
        roles: BTreeSet::from([Role::Admin]),
        tenants: BTreeSet::new(),
        mfa_enrolled: true,
        active: true,
    };
    let credential = PersonCredential {
        person: id.clone(),
        password_hash,
        totp_sealed: Some(sealed),
        totp_last_step: None,
        failed_logins: 0,
        locked_until: None,
    };
    let event = NewAuditEvent::new(
        deps.clock.now(),
        ActorRef::System,
        PersonnelChanged::new(
            id.clone(),
            format!("created by init in {} with role admin; totp enrolled", settings.environment),
        ),
    );
    deps.personnel.create_person(&person, &credential, vec![event]).await.map_err(|e| match e {
        StoreError::Conflict(_) => InitError::PersonExists,
        other => InitError::Unavailable("store", Box::new(other)),
    })?;
    Ok(InitAdmin { person: id, totp_secret: enrolment.secret, otpauth_uri: enrolment.otpauth_uri })
}
