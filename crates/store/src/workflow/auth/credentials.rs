//! Checking a password and code (or recovery code), signing in, and the throttle:
//! the same work and the same answer whether or not the account exists.

use super::*;
use crate::error::StoreError;
use crate::store::{Batch, Store};
use saisei_domain::Record;
use saisei_domain::audit::{AuditAction, AuditActor, AuditDraft};
use saisei_domain::auth::credentials::{
    check_totp, dummy_password_hash, looks_like_recovery_code, match_recovery_code, verify_password,
};
use saisei_domain::auth::secrets::{SecretKey, totp_owner};
use saisei_domain::auth::{Email, User};
use time::OffsetDateTime;

/// Which second factor an attempt presented and whether it holds.
pub(crate) enum SecondFactor {
    /// A TOTP code accepted in this time step.
    Totp(u64),
    /// The recovery code stored at this position.
    Recovery(usize),
    /// Neither.
    Wrong { replayed: bool },
}

pub(crate) fn second_factor(
    key: &SecretKey,
    user: &User,
    code: &str,
    now: OffsetDateTime,
) -> SecondFactor {
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
pub(crate) fn failed_attempt(
    user: Option<&Record<User>>,
    email: &str,
    replayed: bool,
) -> AuditDraft {
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
