//! Reset links: one-time links that let a user set a new password or enrol a new
//! authenticator, and regenerated recovery codes.

use super::*;
use crate::backend::Filter;
use crate::error::StoreError;
use crate::store::{Batch, Store};
use crate::value::Value;
use saisei_domain::Record;
use saisei_domain::audit::{AuditAction, AuditActor};
use saisei_domain::auth::credentials::{
    check_totp, hash_password, hashes_equal, new_recovery_codes, new_token, new_totp_secret,
    token_hash,
};
use saisei_domain::auth::secrets::{SecretKey, totp_owner};
use saisei_domain::auth::{ApiToken, Enrolment, Language, Session, User};
use saisei_domain::text::Text;
use time::OffsetDateTime;
use uuid::Uuid;

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
pub(crate) async fn end_everything_of(
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

pub(crate) async fn live_enrolment(
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

/// Saves the language a user chose for the pages (`None`: the browser's), as the user.
pub async fn set_language(
    store: &Store,
    user: &Record<User>,
    language: Option<Language>,
) -> Result<Record<User>, StoreError> {
    if user.data.language == language {
        return Ok(user.clone());
    }
    let mut data = user.data.clone();
    data.language = language;
    let mut batch = Batch::new(&actor_of(user));
    let r = batch.update(
        user,
        data,
        AuditAction::Update,
        Some("language for the pages chosen".into()),
    )?;
    store.commit(batch).await?;
    Ok(r)
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
