//! Sign-in, tokens, sessions, signatures, credential resets and the secret key: the
//! stateful side of trust.
//!
//! Every outcome that matters is audited in the same transaction as the state it
//! changes: a sign-in (and a failed one), a token issued or revoked, a role or
//! organisation changed, a signature applied, a reset link issued and used.
//!
//! A sign-in attempt for an account that does not exist does the same work as one for
//! an account that does — the same lookup, a password check against a dummy hash, one
//! audit entry — and is throttled by the same keys, so neither the answer, nor its
//! timing, nor the throttling tells whether an address has an account.

mod access;
mod credentials;
mod enrolment;
mod keys;
mod signing;

pub use access::*;
pub use credentials::*;
pub use enrolment::*;
pub use keys::*;
pub use signing::*;

use crate::backend::Filter;
use crate::error::StoreError;
use crate::store::Store;
use crate::value::Value;
use saisei_domain::Record;
use saisei_domain::audit::AuditActor;
use saisei_domain::auth::credentials::{hash_password, new_recovery_codes, new_totp_secret};
use saisei_domain::auth::secrets::{SecretKey, totp_owner};
use saisei_domain::auth::throttle::{AttemptKeys, ThrottlePolicy, ThrottleTable};
use saisei_domain::auth::{Email, Role, User};
use saisei_domain::text::Name;
use std::net::IpAddr;
use std::sync::Mutex;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// The knobs of authentication (not regulatory facts, so not rule-set data).
#[derive(Debug, Clone, Copy)]
pub struct AuthPolicy {
    /// How failed sign-ins slow the next attempt.
    pub throttle: ThrottlePolicy,
    /// A web session ends after this long without a request.
    pub session_idle: Duration,
    /// A web session ends this long after sign-in, whatever the activity.
    pub session_max: Duration,
    /// How long a token from the sign-in endpoint lasts.
    pub sign_in_token_ttl: Duration,
    /// How long a reset link works.
    pub enrolment_ttl: Duration,
}

impl Default for AuthPolicy {
    fn default() -> Self {
        AuthPolicy {
            throttle: ThrottlePolicy::default(),
            session_idle: Duration::minutes(30),
            session_max: Duration::hours(12),
            sign_in_token_ttl: Duration::hours(12),
            enrolment_ttl: Duration::hours(72),
        }
    }
}

/// Why a sign-in (or a re-entry of credentials to sign) was refused. The message never
/// says which credential was wrong, nor whether the account exists.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    /// Unknown e-mail, wrong password or wrong/used code.
    #[error("the e-mail, password or one-time code is not right")]
    Invalid,
    /// Too many recent failures from here or for this account: wait.
    #[error("too many failed attempts: try again in {0} seconds")]
    Throttled(i64),
    /// The right credentials, but the account is deactivated.
    #[error("the account is not active")]
    Inactive,
    /// No secret key is configured, so one-time codes cannot be checked.
    #[error("the server has no secret key configured; one-time codes cannot be checked")]
    NoSecretKey,
}

/// Where an attempt comes from, and the throttle it counts in.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// The server's table of recent failures.
    pub throttle: &'a Mutex<ThrottleTable>,
    /// The client's address, when known.
    pub address: Option<IpAddr>,
}

impl Attempt<'_> {
    fn keys(&self, email: &str) -> AttemptKeys {
        AttemptKeys::new(email, self.address)
    }

    fn wait(
        &self,
        email: &str,
        now: OffsetDateTime,
        cleared: Option<OffsetDateTime>,
    ) -> Option<i64> {
        let table = self.throttle.lock().unwrap_or_else(|p| p.into_inner());
        table
            .wait(&self.keys(email), now, cleared)
            .map(|d| d.whole_seconds().max(1))
    }

    fn failed(&self, email: &str, now: OffsetDateTime, cleared: Option<OffsetDateTime>) {
        let mut table = self.throttle.lock().unwrap_or_else(|p| p.into_inner());
        table.failed(&self.keys(email), now, cleared);
    }

    fn succeeded(&self, email: &str) {
        let mut table = self.throttle.lock().unwrap_or_else(|p| p.into_inner());
        table.succeeded(&self.keys(email));
    }
}

/// Everything a check of credentials needs besides the credentials: the key that opens
/// second-factor secrets, the attempt's throttle and address, and the time.
#[derive(Debug, Clone, Copy)]
pub struct CredentialCheck<'a> {
    /// The secret key (without it no one-time code can be checked).
    pub key: Option<&'a SecretKey>,
    /// Where the attempt comes from.
    pub attempt: Attempt<'a>,
    /// Now.
    pub now: OffsetDateTime,
}

/// A throttle table for a server (bounded: a flood of addresses cannot exhaust memory).
pub fn new_throttle(policy: &AuthPolicy) -> Mutex<ThrottleTable> {
    Mutex::new(ThrottleTable::new(policy.throttle, 100_000))
}

/// What is needed to create a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Sign-in name.
    pub email: Email,
    /// Name shown.
    pub display_name: Name,
    /// Role.
    pub role: Role,
    /// Organisation.
    pub organisation_id: Option<Uuid>,
    /// Initial password.
    pub password: String,
    /// A given TOTP secret (base32), e.g. a reproducible one for the demo; `None` makes
    /// a fresh random one, as for every real user.
    pub totp_secret: Option<String>,
}

/// A new user's second factor, shown once: the TOTP secret and the recovery codes.
#[derive(Debug, Clone)]
pub struct Enrolled {
    /// The TOTP secret (base32) to enter in an authenticator app.
    pub totp_secret: String,
    /// One-time recovery codes.
    pub recovery_codes: Vec<String>,
}

/// Creates a user with a fresh TOTP secret (sealed with `key`) and recovery codes,
/// which are returned once for enrolment.
pub async fn create_user(
    store: &Store,
    actor: &AuditActor,
    key: &SecretKey,
    new: NewUser,
) -> Result<(Record<User>, Enrolled), StoreError> {
    let password_hash =
        hash_password(&new.password).map_err(|e| StoreError::invalid("password", e.to_string()))?;
    let secret = new.totp_secret.unwrap_or_else(new_totp_secret);
    let (codes, hashes) = new_recovery_codes();
    let user = User {
        totp_secret: key.seal(&secret, &totp_owner(new.email.as_str())),
        email: new.email,
        display_name: new.display_name,
        role: new.role,
        organisation_id: new.organisation_id,
        active: true,
        password_hash,
        totp_last_step: None,
        recovery_codes: hashes,
        throttle_cleared_at: None,
        language: None,
    };
    let record = store.create(actor, user).await?;
    Ok((
        record,
        Enrolled {
            totp_secret: secret,
            recovery_codes: codes,
        },
    ))
}

/// Finds a user by e-mail.
pub async fn find_user(store: &Store, email: &Email) -> Result<Option<Record<User>>, StoreError> {
    Ok(store
        .all::<User>(vec![Filter::eq(
            "email",
            Value::Text(email.as_str().to_string()),
        )])
        .await?
        .into_iter()
        .next())
}

/// How the audit trail records a user acting.
pub fn actor_of(user: &Record<User>) -> AuditActor {
    AuditActor {
        actor: user.meta.id.to_string(),
        role: user.data.role.to_string(),
        organisation_id: user.data.organisation_id,
    }
}
