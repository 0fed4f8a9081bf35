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

use crate::backend::Filter;
use crate::error::StoreError;
use crate::store::{Batch, Store};
use crate::value::Value;
use saisei_domain::Record;
use saisei_domain::audit::{AuditAction, AuditActor, AuditDraft};
use saisei_domain::auth::credentials::{
    check_totp, dummy_password_hash, hash_password, hashes_equal, looks_like_recovery_code,
    match_recovery_code, new_recovery_codes, new_token, new_totp_secret, token_hash,
    verify_password,
};
use saisei_domain::auth::secrets::{SecretKey, is_sealed, totp_owner};
use saisei_domain::auth::throttle::{AttemptKeys, ThrottlePolicy, ThrottleTable};
use saisei_domain::auth::{
    ApiToken, Email, Enrolment, KeyCheck, Role, Session, Signature, SignatureMeaning, User,
};
use saisei_domain::text::{Code, Name, Text};
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

/// Which second factor an attempt presented and whether it holds.
enum SecondFactor {
    /// A TOTP code accepted in this time step.
    Totp(u64),
    /// The recovery code stored at this position.
    Recovery(usize),
    /// Neither.
    Wrong { replayed: bool },
}

fn second_factor(key: &SecretKey, user: &User, code: &str, now: OffsetDateTime) -> SecondFactor {
    if looks_like_recovery_code(code) {
        return match match_recovery_code(code, &user.recovery_codes) {
            Some(i) => SecondFactor::Recovery(i),
            None => SecondFactor::Wrong { replayed: false },
        };
    }
    let secret = match key.open(&user.totp_secret, &totp_owner(user.email.as_str())) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "a stored TOTP secret does not open with the configured key");
            return SecondFactor::Wrong { replayed: false };
        }
    };
    match check_totp(&secret, code, now.unix_timestamp().max(0) as u64) {
        Some(step) if user.totp_last_step.is_some_and(|last| step as i64 <= last) => {
            SecondFactor::Wrong { replayed: true }
        }
        Some(step) => SecondFactor::Totp(step),
        None => SecondFactor::Wrong { replayed: false },
    }
}

/// Checks password and second factor (a one-time code, or a recovery code, which is
/// then used up). On success the code's time step is remembered so it cannot be used
/// again. Failures count in the throttle of `attempt`, which refuses attempts made too
/// soon after earlier failures before anything is checked.
pub async fn verify_credentials(
    store: &Store,
    check: &CredentialCheck<'_>,
    user: &Record<User>,
    password: &str,
    code: &str,
    success_action: AuditAction,
) -> Result<Record<User>, SignInError> {
    let (key, attempt, now) = (check.key, check.attempt, check.now);
    let email = user.data.email.as_str();
    if let Some(wait) = attempt.wait(email, now, user.data.throttle_cleared_at) {
        return Err(SignInError::Throttled(wait));
    }
    let key = key.ok_or(SignInError::NoSecretKey)?;
    let password_ok = verify_password(password, &user.data.password_hash);
    let factor = second_factor(key, &user.data, code, now);
    let actor = actor_of(user);
    let mut batch = Batch::new(&actor);
    match (password_ok, factor) {
        (true, SecondFactor::Totp(_) | SecondFactor::Recovery(_))
            if !user.data.active || user.meta.withdrawn_at.is_some() =>
        {
            Err(SignInError::Inactive)
        }
        (true, factor @ (SecondFactor::Totp(_) | SecondFactor::Recovery(_))) => {
            let mut data = user.data.clone();
            let reason = match factor {
                SecondFactor::Totp(step) => {
                    data.totp_last_step = Some(step as i64);
                    None
                }
                SecondFactor::Recovery(i) => {
                    data.recovery_codes.remove(i);
                    Some(format!(
                        "recovery code used; {} left",
                        data.recovery_codes.len()
                    ))
                }
                SecondFactor::Wrong { .. } => None,
            };
            let updated = batch
                .update(user, data, success_action, reason)
                .map_err(|_| SignInError::Invalid)?;
            store
                .commit(batch)
                .await
                .map_err(|_| SignInError::Invalid)?;
            attempt.succeeded(email);
            Ok(updated)
        }
        (_, factor) => {
            let replayed = matches!(factor, SecondFactor::Wrong { replayed: true });
            batch.audit(failed_attempt(Some(user), email, replayed));
            // The refusal stands even if recording it fails.
            let _ = store.commit(batch).await;
            attempt.failed(email, now, user.data.throttle_cleared_at);
            Err(SignInError::Invalid)
        }
    }
}

/// The audit entry of a failed attempt: the same shape for real and unknown accounts.
fn failed_attempt(user: Option<&Record<User>>, email: &str, replayed: bool) -> AuditDraft {
    AuditDraft {
        actor: user
            .map(actor_of)
            .unwrap_or_else(|| AuditActor::system("sign-in")),
        action: AuditAction::SignInFailed,
        entity: "user".into(),
        entity_id: user.map(|u| u.meta.id),
        before: None,
        after: Some(serde_json::json!({ "email": email })),
        reason: Some(
            if replayed {
                "one-time code reused"
            } else {
                "wrong e-mail, password or code"
            }
            .into(),
        ),
    }
}

/// Signs in with e-mail, password and one-time (or recovery) code.
pub async fn sign_in(
    store: &Store,
    check: &CredentialCheck<'_>,
    email: &str,
    password: &str,
    code: &str,
) -> Result<Record<User>, SignInError> {
    let (attempt, now) = (check.attempt, check.now);
    let typed = email.trim().to_lowercase();
    let user = match email.parse::<Email>() {
        Ok(e) => find_user(store, &e).await.ok().flatten(),
        Err(_) => None,
    };
    match user {
        Some(user) => {
            verify_credentials(store, check, &user, password, code, AuditAction::SignIn).await
        }
        None => {
            // Unknown address: the same throttle, the same password check (against a
            // hash nobody has), the same audit entry, the same answer.
            if let Some(wait) = attempt.wait(&typed, now, None) {
                return Err(SignInError::Throttled(wait));
            }
            let _ = verify_password(password, dummy_password_hash());
            let _ = store
                .record_audit(vec![failed_attempt(None, &typed, false)])
                .await;
            attempt.failed(&typed, now, None);
            Err(SignInError::Invalid)
        }
    }
}

/// Clears an account's sign-in throttling (an administrator's or the command line's
/// unlock): failures before now no longer slow it. Audited as a permission change.
pub async fn clear_throttle(
    store: &Store,
    actor: &AuditActor,
    user: &Record<User>,
    now: OffsetDateTime,
    reason: &str,
) -> Result<Record<User>, StoreError> {
    let mut data = user.data.clone();
    data.throttle_cleared_at = Some(now);
    let mut batch = Batch::new(actor);
    let r = batch.update(
        user,
        data,
        AuditAction::PermissionChange,
        Some(reason.to_string()),
    )?;
    store.commit(batch).await?;
    Ok(r)
}

/// Issues a bearer token for `user`; the token itself is returned once.
pub async fn issue_token(
    store: &Store,
    actor: &AuditActor,
    user: &Record<User>,
    name: &str,
    expires_at: OffsetDateTime,
) -> Result<(String, Record<ApiToken>), StoreError> {
    let (token, hash) = new_token();
    let record = store
        .create(
            actor,
            ApiToken {
                user_id: user.meta.id,
                name: name
                    .parse()
                    .map_err(|e: String| StoreError::invalid("name", e))?,
                token_hash: hash,
                expires_at,
                revoked_at: None,
            },
        )
        .await?;
    Ok((token, record))
}

/// The user and token a bearer token stands for, if it is valid now.
pub async fn authenticate_token(
    store: &Store,
    token: &str,
    now: OffsetDateTime,
) -> Result<Option<(Record<User>, Record<ApiToken>)>, StoreError> {
    let hash = token_hash(token);
    let Some(t) = store
        .all::<ApiToken>(vec![Filter::eq("token_hash", Value::Text(hash.clone()))])
        .await?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    if !hashes_equal(&t.data.token_hash, &hash)
        || t.data.revoked_at.is_some()
        || t.data.expires_at <= now
    {
        return Ok(None);
    }
    let Some(user) = store.find::<User>(t.data.user_id).await? else {
        return Ok(None);
    };
    if !user.data.active || user.meta.withdrawn_at.is_some() {
        return Ok(None);
    }
    Ok(Some((user, t)))
}

/// Revokes a token.
pub async fn revoke_token(
    store: &Store,
    actor: &AuditActor,
    token: &Record<ApiToken>,
    now: OffsetDateTime,
) -> Result<Record<ApiToken>, StoreError> {
    if token.data.revoked_at.is_some() {
        return Ok(token.clone());
    }
    let mut data = token.data.clone();
    data.revoked_at = Some(now);
    let mut batch = Batch::new(actor);
    let r = batch.update(
        token,
        data,
        AuditAction::PermissionChange,
        Some("token revoked".into()),
    )?;
    store.commit(batch).await?;
    Ok(r)
}

/// Starts a web session; returns the cookie value and the CSRF token once.
pub async fn start_session(
    store: &Store,
    policy: &AuthPolicy,
    user: &Record<User>,
    now: OffsetDateTime,
) -> Result<(String, String, Record<Session>), StoreError> {
    let (token, hash) = new_token();
    let (csrf, _) = new_token();
    let session = store
        .create(
            &actor_of(user),
            Session {
                user_id: user.meta.id,
                token_hash: hash,
                csrf_token: csrf.clone(),
                last_seen_at: now,
                expires_at: now + policy.session_max,
                ended_at: None,
            },
        )
        .await?;
    Ok((token, csrf, session))
}

/// The user and session a cookie stands for, if it is live; moves its last activity
/// forward (at most once a minute, to spare the database).
pub async fn authenticate_session(
    store: &Store,
    policy: &AuthPolicy,
    cookie: &str,
    now: OffsetDateTime,
) -> Result<Option<(Record<User>, Record<Session>)>, StoreError> {
    let hash = token_hash(cookie);
    let Some(s) = store
        .all::<Session>(vec![Filter::eq("token_hash", Value::Text(hash.clone()))])
        .await?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    if !hashes_equal(&s.data.token_hash, &hash)
        || s.data.ended_at.is_some()
        || s.data.expires_at <= now
        || s.data.last_seen_at + policy.session_idle <= now
    {
        return Ok(None);
    }
    let Some(user) = store.find::<User>(s.data.user_id).await? else {
        return Ok(None);
    };
    if !user.data.active || user.meta.withdrawn_at.is_some() {
        return Ok(None);
    }
    let session = if now - s.data.last_seen_at > Duration::minutes(1) {
        let mut data = s.data.clone();
        data.last_seen_at = now;
        let mut batch = Batch::new(&actor_of(&user));
        let r = batch.update(&s, data, AuditAction::Update, None)?;
        match store.commit(batch).await {
            Ok(()) => r,
            // Another request touched it first; its touch is as good as ours.
            Err(StoreError::Conflict { .. }) => s,
            Err(e) => return Err(e),
        }
    } else {
        s
    };
    Ok(Some((user, session)))
}

/// Ends a web session (sign-out), auditing it.
pub async fn end_session(
    store: &Store,
    user: &Record<User>,
    session: &Record<Session>,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let mut data = session.data.clone();
    data.ended_at = Some(now);
    let mut batch = Batch::new(&actor_of(user));
    batch.update(session, data, AuditAction::Update, None)?;
    batch.audit(AuditDraft {
        actor: actor_of(user),
        action: AuditAction::SignOut,
        entity: "user".into(),
        entity_id: Some(user.meta.id),
        before: None,
        after: None,
        reason: None,
    });
    store.commit(batch).await
}

/// What is being signed.
#[derive(Debug, Clone)]
pub struct SigningRequest {
    /// Kind of record.
    pub entity: &'static str,
    /// The record.
    pub entity_id: Uuid,
    /// Its version.
    pub entity_version: i64,
    /// SHA-256 of its content.
    pub content_hash: String,
    /// Meaning.
    pub meaning: SignatureMeaning,
    /// Optional statement.
    pub comment: Option<Text>,
}

/// The credentials a signer re-enters.
#[derive(Debug, Clone)]
pub struct SignerCredentials {
    /// Password.
    pub password: String,
    /// Current one-time code (or a recovery code).
    pub code: String,
}

/// Who signs a step of a workflow: the user, re-entering their credentials, with an
/// optional statement.
#[derive(Debug, Clone)]
pub struct Signer {
    /// The signing user.
    pub user_id: Uuid,
    /// Their password and current code.
    pub credentials: SignerCredentials,
    /// An optional statement with the signature.
    pub comment: Option<Text>,
}

/// The re-entered credentials and optional statement that make a signature, where the
/// signer is the acting user.
#[derive(Debug, Clone)]
pub struct SignatureInput {
    /// Their password and current code.
    pub credentials: SignerCredentials,
    /// An optional statement with the signature.
    pub comment: Option<Text>,
}

/// Why a signature could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// The credentials were refused (or throttled).
    #[error(transparent)]
    Credentials(#[from] SignInError),
    /// The signer's role does not sign.
    #[error("a {0} cannot apply electronic signatures")]
    NotASigner(Role),
    /// Storing failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Re-verifies `signer_id`'s password and code and adds their signature over the record
/// described by `request` to `batch`: the one signing workflow, for the API, the pages
/// and the command line alike.
pub async fn sign(
    store: &Store,
    check: &CredentialCheck<'_>,
    batch: &mut Batch,
    signer_id: Uuid,
    credentials: &SignerCredentials,
    request: SigningRequest,
) -> Result<Record<Signature>, SigningError> {
    let user = store.get::<User>(signer_id).await?;
    if !user.data.role.can_sign() {
        return Err(SigningError::NotASigner(user.data.role));
    }
    let user = verify_credentials(
        store,
        check,
        &user,
        &credentials.password,
        &credentials.code,
        AuditAction::Sign,
    )
    .await?;
    Ok(add_signature(batch, &user, request, check.now)?)
}

/// Adds a signature to `batch` for `signer`, after the caller re-verified the signer's
/// password and code with [`verify_credentials`] (see [`sign`]).
pub fn add_signature(
    batch: &mut Batch,
    signer: &Record<User>,
    request: SigningRequest,
    now: OffsetDateTime,
) -> Result<Record<Signature>, StoreError> {
    if !signer.data.role.can_sign() {
        return Err(StoreError::invalid(
            "signature",
            format!("a {} cannot apply electronic signatures", signer.data.role),
        ));
    }
    batch.insert(Signature {
        signer_id: signer.meta.id,
        signer_name: signer.data.display_name.clone(),
        signer_role: signer.data.role,
        meaning: request.meaning,
        entity: Code::try_from(request.entity).map_err(|e| StoreError::invalid("entity", e))?,
        entity_id: request.entity_id,
        entity_version: request.entity_version,
        content_hash: request.content_hash,
        signed_at: now,
        comment: request.comment,
    })
}

/// Signatures on a record, each with whether it still matches `current_hash`.
pub async fn signatures_of(
    store: &Store,
    entity: &str,
    entity_id: Uuid,
    current_hash: &str,
) -> Result<Vec<(Record<Signature>, bool)>, StoreError> {
    let list = store
        .all::<Signature>(vec![
            Filter::eq("entity", Value::Text(entity.to_string())),
            Filter::eq("entity_id", Value::Uuid(entity_id)),
        ])
        .await?;
    Ok(list
        .into_iter()
        .map(|s| {
            let valid = hashes_equal(&s.data.content_hash, current_hash);
            (s, valid)
        })
        .collect())
}

/// A reset link, as issued: the token (shown once, in the link) and the record.
#[derive(Debug, Clone)]
pub struct IssuedEnrolment {
    /// The token to put in the link.
    pub token: String,
    /// The stored record (holding only the token's hash).
    pub record: Record<Enrolment>,
}

/// What a reset link resets, and why.
#[derive(Debug, Clone)]
pub struct EnrolmentRequest {
    /// The user sets a new password.
    pub password: bool,
    /// The user enrols a new authenticator.
    pub second_factor: bool,
    /// Why (kept in the audit trail).
    pub reason: Text,
}

/// Issues a one-time link that lets `user` set a new password, enrol a new
/// authenticator, or both. The user's sessions and tokens end at once: whoever holds
/// the old credentials is signed out.
pub async fn issue_enrolment(
    store: &Store,
    policy: &AuthPolicy,
    admin: &AuditActor,
    admin_id: Uuid,
    user: &Record<User>,
    request: EnrolmentRequest,
    now: OffsetDateTime,
) -> Result<IssuedEnrolment, StoreError> {
    let (token, hash) = new_token();
    let mut batch = Batch::new(admin);
    let record = batch.insert(Enrolment {
        user_id: user.meta.id,
        token_hash: hash,
        password: request.password,
        second_factor: request.second_factor,
        pending_totp_secret: None,
        expires_at: now + policy.enrolment_ttl,
        used_at: None,
        issued_by: admin_id,
        reason: request.reason,
    })?;
    end_everything_of(store, &mut batch, user.meta.id, now, "credentials reset").await?;
    store.commit(batch).await?;
    Ok(IssuedEnrolment { token, record })
}

/// Ends every live session and revokes every live token of a user, into `batch`.
async fn end_everything_of(
    store: &Store,
    batch: &mut Batch,
    user_id: Uuid,
    now: OffsetDateTime,
    why: &str,
) -> Result<(), StoreError> {
    let mine = || vec![Filter::eq("user_id", Value::Uuid(user_id))];
    for t in store.all::<ApiToken>(mine()).await? {
        if t.data.revoked_at.is_none() && t.data.expires_at > now {
            let mut data = t.data.clone();
            data.revoked_at = Some(now);
            batch.update(&t, data, AuditAction::PermissionChange, Some(why.into()))?;
        }
    }
    for s in store.all::<Session>(mine()).await? {
        if s.data.ended_at.is_none() && s.data.expires_at > now {
            let mut data = s.data.clone();
            data.ended_at = Some(now);
            batch.update(&s, data, AuditAction::Update, Some(why.into()))?;
        }
    }
    Ok(())
}

/// Why a reset link cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum EnrolmentError {
    /// Unknown, used or expired: the same answer for each.
    #[error("this link is unknown, used or expired; ask an administrator for a new one")]
    Unusable,
    /// What the user entered is not acceptable (names the field).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No secret key is configured.
    #[error("the server has no secret key configured")]
    NoSecretKey,
}

/// An open reset link: what it resets, and the new TOTP secret to enrol (in clear,
/// for the user's eyes only) when it resets the second factor.
#[derive(Debug, Clone)]
pub struct OpenEnrolment {
    /// The link's record.
    pub enrolment: Record<Enrolment>,
    /// The user it is for.
    pub user: Record<User>,
    /// The new TOTP secret, when the second factor is reset.
    pub totp_secret: Option<String>,
}

async fn live_enrolment(
    store: &Store,
    token: &str,
    now: OffsetDateTime,
) -> Result<Record<Enrolment>, EnrolmentError> {
    let hash = token_hash(token);
    let found = store
        .all::<Enrolment>(vec![Filter::eq("token_hash", Value::Text(hash.clone()))])
        .await?
        .into_iter()
        .next()
        .filter(|e| {
            hashes_equal(&e.data.token_hash, &hash)
                && e.data.used_at.is_none()
                && e.data.expires_at > now
        });
    found.ok_or(EnrolmentError::Unusable)
}

/// Opens a reset link; the first opening of a second-factor reset makes the new TOTP
/// secret (sealed on the link's record until the user confirms it with a code).
pub async fn open_enrolment(
    store: &Store,
    key: Option<&SecretKey>,
    token: &str,
    now: OffsetDateTime,
) -> Result<OpenEnrolment, EnrolmentError> {
    let key = key.ok_or(EnrolmentError::NoSecretKey)?;
    let enrolment = live_enrolment(store, token, now).await?;
    let user = store.get::<User>(enrolment.data.user_id).await?;
    let owner = totp_owner(user.data.email.as_str());
    if !enrolment.data.second_factor {
        return Ok(OpenEnrolment {
            enrolment,
            user,
            totp_secret: None,
        });
    }
    if let Some(sealed) = &enrolment.data.pending_totp_secret {
        let secret = key
            .open(sealed, &owner)
            .map_err(|_| EnrolmentError::Unusable)?;
        return Ok(OpenEnrolment {
            enrolment,
            user,
            totp_secret: Some(secret),
        });
    }
    let secret = new_totp_secret();
    let mut data = enrolment.data.clone();
    data.pending_totp_secret = Some(key.seal(&secret, &owner));
    let mut batch = Batch::new(&actor_of(&user));
    let enrolment = batch.update(&enrolment, data, AuditAction::Update, None)?;
    store.commit(batch).await?;
    Ok(OpenEnrolment {
        enrolment,
        user,
        totp_secret: Some(secret),
    })
}

/// What a user gives to complete a reset.
#[derive(Debug, Clone, Default)]
pub struct EnrolmentAnswers {
    /// The new password (required when the link resets it).
    pub new_password: Option<String>,
    /// A code from the newly enrolled authenticator (required when the link resets
    /// the second factor).
    pub code: Option<String>,
}

/// Completes a reset: sets the new password and/or second factor, uses the link up,
/// and returns new recovery codes when the second factor was reset (shown once).
pub async fn complete_enrolment(
    store: &Store,
    key: Option<&SecretKey>,
    token: &str,
    answers: EnrolmentAnswers,
    now: OffsetDateTime,
) -> Result<(Record<User>, Option<Vec<String>>), EnrolmentError> {
    let key = key.ok_or(EnrolmentError::NoSecretKey)?;
    let enrolment = live_enrolment(store, token, now).await?;
    let user = store.get::<User>(enrolment.data.user_id).await?;
    let mut data = user.data.clone();
    let mut errors = saisei_domain::ValidationErrors::default();
    if enrolment.data.password {
        match answers.new_password.as_deref() {
            None | Some("") => errors.push("new_password", "is required: choose a new password"),
            Some(p) => match hash_password(p) {
                Ok(h) => data.password_hash = h,
                Err(e) => errors.push("new_password", e.to_string()),
            },
        }
    }
    let mut codes = None;
    if enrolment.data.second_factor {
        let owner = totp_owner(user.data.email.as_str());
        let secret = enrolment
            .data
            .pending_totp_secret
            .as_deref()
            .and_then(|s| key.open(s, &owner).ok());
        match (secret, answers.code.as_deref()) {
            (None, _) => errors.push("code", "open the link first to see the new secret"),
            (Some(_), None) => errors.push(
                "code",
                "is required: enter a code from the new authenticator",
            ),
            (Some(secret), Some(code)) => {
                match check_totp(&secret, code, now.unix_timestamp().max(0) as u64) {
                    Some(step) => {
                        data.totp_secret = key.seal(&secret, &owner);
                        data.totp_last_step = Some(step as i64);
                        let (plain, hashes) = new_recovery_codes();
                        data.recovery_codes = hashes;
                        codes = Some(plain);
                    }
                    None => errors.push("code", "is not the current code of the new authenticator"),
                }
            }
        }
    }
    errors.into_result().map_err(StoreError::Invalid)?;
    data.throttle_cleared_at = Some(now);
    let mut used = enrolment.data.clone();
    used.used_at = Some(now);
    let mut batch = Batch::new(&actor_of(&user));
    batch.update(&enrolment, used, AuditAction::Update, None)?;
    let user = batch.update(
        &user,
        data,
        AuditAction::PermissionChange,
        Some("credentials reset with a one-time link".into()),
    )?;
    store.commit(batch).await?;
    Ok((user, codes))
}

/// Replaces a user's recovery codes (after they re-entered their credentials); the new
/// codes are returned once.
pub async fn regenerate_recovery_codes(
    store: &Store,
    user: &Record<User>,
) -> Result<(Record<User>, Vec<String>), StoreError> {
    let (codes, hashes) = new_recovery_codes();
    let mut data = user.data.clone();
    data.recovery_codes = hashes;
    let mut batch = Batch::new(&actor_of(user));
    let r = batch.update(
        user,
        data,
        AuditAction::PermissionChange,
        Some("recovery codes replaced".into()),
    )?;
    store.commit(batch).await?;
    Ok((r, codes))
}

/// The purpose the secret key's check value is stored under.
const SECRETS: &str = "secrets";

/// Why the configured secret key cannot be used with this database.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The database holds sealed secrets but no key is configured.
    #[error(
        "this database's second-factor secrets are sealed with a secret key, and none is configured (SAISEI_SECRET_KEY, SAISEI_SECRET_KEY_FILE or --secret-key-file)"
    )]
    Missing,
    /// The configured key is not the one the database's secrets are sealed with.
    #[error("the configured secret key is not the one this database's secrets are sealed with")]
    Mismatch,
    /// Reading or writing failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks the configured secret key against the database at start-up, and on first
/// use with a key records the key's check value and seals any secret still stored in
/// clear (a database from before sealing). Returns whether a key is in use.
pub async fn check_secret_key(store: &Store, key: Option<&SecretKey>) -> Result<bool, KeyError> {
    let check = store
        .all::<KeyCheck>(vec![Filter::eq("purpose", Value::Text(SECRETS.into()))])
        .await?
        .into_iter()
        .next();
    let users = store.all::<User>(vec![]).await?;
    match (check, key) {
        (Some(c), Some(k)) => {
            if hashes_equal(&c.data.check_value, k.check_value()) {
                Ok(true)
            } else {
                Err(KeyError::Mismatch)
            }
        }
        (Some(_), None) => Err(KeyError::Missing),
        (None, None) if users.is_empty() => Ok(false),
        (None, None) => Err(KeyError::Missing),
        (None, Some(k)) => {
            let mut batch = Batch::new(&AuditActor::system("secret-key"));
            batch.insert(KeyCheck {
                purpose: Code::try_from(SECRETS).map_err(|e| StoreError::invalid("purpose", e))?,
                check_value: k.check_value().to_string(),
            })?;
            for u in &users {
                if !is_sealed(&u.data.totp_secret) {
                    let mut data = u.data.clone();
                    data.totp_secret =
                        k.seal(&u.data.totp_secret, &totp_owner(u.data.email.as_str()));
                    batch.update(
                        u,
                        data,
                        AuditAction::KeyRotation,
                        Some("second-factor secret sealed with the secret key".into()),
                    )?;
                }
            }
            store.commit(batch).await?;
            Ok(true)
        }
    }
}

/// Re-seals every stored secret from `old` to `new` and records `new`'s check value,
/// in one transaction. Returns how many secrets were re-sealed.
pub async fn rotate_secret_key(
    store: &Store,
    actor: &AuditActor,
    old: &SecretKey,
    new: &SecretKey,
) -> Result<usize, KeyError> {
    let check = store
        .all::<KeyCheck>(vec![Filter::eq("purpose", Value::Text(SECRETS.into()))])
        .await?
        .into_iter()
        .next()
        .ok_or(KeyError::Missing)?;
    if !hashes_equal(&check.data.check_value, old.check_value()) {
        return Err(KeyError::Mismatch);
    }
    let mut batch = Batch::new(actor);
    let mut n = 0;
    for u in store.all::<User>(vec![]).await? {
        let owner = totp_owner(u.data.email.as_str());
        let plain = old
            .open(&u.data.totp_secret, &owner)
            .map_err(|_| KeyError::Mismatch)?;
        let mut data = u.data.clone();
        data.totp_secret = new.seal(&plain, &owner);
        batch.update(
            &u,
            data,
            AuditAction::KeyRotation,
            Some("secret key rotated".into()),
        )?;
        n += 1;
    }
    for e in store.all::<Enrolment>(vec![]).await? {
        let Some(sealed) = &e.data.pending_totp_secret else {
            continue;
        };
        let user = store.get::<User>(e.data.user_id).await?;
        let owner = totp_owner(user.data.email.as_str());
        let plain = old.open(sealed, &owner).map_err(|_| KeyError::Mismatch)?;
        let mut data = e.data.clone();
        data.pending_totp_secret = Some(new.seal(&plain, &owner));
        batch.update(
            &e,
            data,
            AuditAction::KeyRotation,
            Some("secret key rotated".into()),
        )?;
        n += 1;
    }
    let mut c = check.data.clone();
    c.check_value = new.check_value().to_string();
    batch.update(
        &check,
        c,
        AuditAction::KeyRotation,
        Some("secret key rotated".into()),
    )?;
    store.commit(batch).await?;
    Ok(n)
}
