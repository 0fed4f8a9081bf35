//! API tokens and web sessions: issued, authenticated, revoked and ended.

use super::*;
use crate::backend::Filter;
use crate::error::StoreError;
use crate::store::{Batch, Store};
use crate::value::Value;
use saisei_domain::Record;
use saisei_domain::audit::{AuditAction, AuditActor, AuditDraft};
use saisei_domain::auth::credentials::{hashes_equal, new_token, token_hash};
use saisei_domain::auth::{ApiToken, Session, User};
use time::{Duration, OffsetDateTime};

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
