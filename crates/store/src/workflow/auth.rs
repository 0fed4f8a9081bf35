//! Sign-in, tokens, sessions and signatures: the stateful side of trust.
//!
//! Every outcome that matters is audited in the same transaction as the state it
//! changes: a sign-in (and a failed one, counted towards the lock-out), a token issued
//! or revoked, a role or organisation changed, a signature applied.

use crate::backend::Filter;
use crate::error::StoreError;
use crate::store::{Batch, Store};
use crate::value::Value;
use saisei_domain::Record;
use saisei_domain::audit::{AuditAction, AuditActor, AuditDraft};
use saisei_domain::auth::credentials::{
    check_totp, hash_password, hashes_equal, new_token, new_totp_secret, token_hash,
    verify_password,
};
use saisei_domain::auth::{ApiToken, Email, Role, Session, Signature, SignatureMeaning, User};
use saisei_domain::text::{Code, Name, Text};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// The knobs of authentication (not regulatory facts, so not rule-set data).
#[derive(Debug, Clone, Copy)]
pub struct AuthPolicy {
    /// Consecutive failures that lock an account.
    pub max_failures: i64,
    /// How long a lock lasts.
    pub lock_for: Duration,
    /// A web session ends after this long without a request.
    pub session_idle: Duration,
    /// A web session ends this long after sign-in, whatever the activity.
    pub session_max: Duration,
    /// How long a token from the sign-in endpoint lasts.
    pub sign_in_token_ttl: Duration,
}

impl Default for AuthPolicy {
    fn default() -> Self {
        AuthPolicy {
            max_failures: 5,
            lock_for: Duration::minutes(15),
            session_idle: Duration::minutes(30),
            session_max: Duration::hours(12),
            sign_in_token_ttl: Duration::hours(12),
        }
    }
}

/// Why a sign-in was refused. The message never says which credential was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    /// Unknown e-mail, wrong password or wrong/used code.
    #[error("the e-mail, password or one-time code is not right")]
    Invalid,
    /// Too many failures.
    #[error("the account is locked after repeated failures until {0}")]
    Locked(String),
    /// The account is deactivated.
    #[error("the account is not active")]
    Inactive,
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

/// Creates a user with a fresh TOTP secret, which is returned once for enrolment.
pub async fn create_user(
    store: &Store,
    actor: &AuditActor,
    new: NewUser,
) -> Result<(Record<User>, String), StoreError> {
    let password_hash =
        hash_password(&new.password).map_err(|e| StoreError::invalid("password", e.to_string()))?;
    let secret = new.totp_secret.unwrap_or_else(new_totp_secret);
    let user = User {
        email: new.email,
        display_name: new.display_name,
        role: new.role,
        organisation_id: new.organisation_id,
        active: true,
        password_hash,
        totp_secret: secret.clone(),
        totp_last_step: None,
        failed_attempts: 0,
        locked_until: None,
    };
    let record = store.create(actor, user).await?;
    Ok((record, secret))
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

fn actor_of(user: &Record<User>) -> AuditActor {
    AuditActor {
        actor: user.meta.id.to_string(),
        role: user.data.role.to_string(),
        organisation_id: user.data.organisation_id,
    }
}

/// Checks password and one-time code, counting failures towards the lock-out. On
/// success the code's time step is remembered so it cannot be used again.
pub async fn verify_credentials(
    store: &Store,
    policy: &AuthPolicy,
    user: &Record<User>,
    password: &str,
    code: &str,
    now: OffsetDateTime,
    success_action: AuditAction,
) -> Result<Record<User>, SignInError> {
    let actor = actor_of(user);
    if !user.data.active || user.meta.withdrawn_at.is_some() {
        return Err(SignInError::Inactive);
    }
    if let Some(until) = user.data.locked_until.filter(|u| *u > now) {
        return Err(SignInError::Locked(saisei_domain::dates::rfc3339(until)));
    }
    let step = check_totp(
        &user.data.totp_secret,
        code,
        now.unix_timestamp().max(0) as u64,
    );
    let replayed =
        matches!((step, user.data.totp_last_step), (Some(s), Some(last)) if s as i64 <= last);
    let ok = verify_password(password, &user.data.password_hash) && step.is_some() && !replayed;
    let mut data = user.data.clone();
    let mut batch = Batch::new(&actor);
    if ok {
        data.failed_attempts = 0;
        data.locked_until = None;
        data.totp_last_step = step.map(|s| s as i64);
        let updated = batch
            .update(user, data, success_action, None)
            .map_err(|_| SignInError::Invalid)?;
        store
            .commit(batch)
            .await
            .map_err(|_| SignInError::Invalid)?;
        Ok(updated)
    } else {
        data.failed_attempts += 1;
        let locked = data.failed_attempts >= policy.max_failures;
        if locked {
            data.locked_until = Some(now + policy.lock_for);
            data.failed_attempts = 0;
        }
        let reason = if replayed {
            "one-time code reused"
        } else {
            "wrong password or code"
        };
        // A failed attempt is recorded even if recording races another request; the
        // refusal stands either way.
        if batch
            .update(
                user,
                data.clone(),
                AuditAction::SignInFailed,
                Some(reason.to_string()),
            )
            .is_ok()
        {
            let _ = store.commit(batch).await;
        }
        if locked {
            Err(SignInError::Locked(saisei_domain::dates::rfc3339(
                now + policy.lock_for,
            )))
        } else {
            Err(SignInError::Invalid)
        }
    }
}

/// Signs in with e-mail, password and one-time code.
pub async fn sign_in(
    store: &Store,
    policy: &AuthPolicy,
    email: &str,
    password: &str,
    code: &str,
    now: OffsetDateTime,
) -> Result<Record<User>, SignInError> {
    let Ok(email) = email.parse::<Email>() else {
        return Err(SignInError::Invalid);
    };
    match find_user(store, &email).await {
        Ok(Some(user)) => {
            verify_credentials(
                store,
                policy,
                &user,
                password,
                code,
                now,
                AuditAction::SignIn,
            )
            .await
        }
        _ => {
            // Unknown address: audit the attempt without revealing anything.
            let _ = store
                .record_audit(vec![AuditDraft {
                    actor: AuditActor::system("sign-in"),
                    action: AuditAction::SignInFailed,
                    entity: "user".into(),
                    entity_id: None,
                    before: None,
                    after: Some(serde_json::json!({ "email": email.as_str() })),
                    reason: Some("unknown e-mail".into()),
                }])
                .await;
            Err(SignInError::Invalid)
        }
    }
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

/// Adds a signature to `batch` for `signer`, after the caller re-verified the signer's
/// password and code with [`verify_credentials`].
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
