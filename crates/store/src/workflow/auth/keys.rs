//! The server's secret key: checked against the registry at start, and rotated.

use crate::backend::Filter;
use crate::error::StoreError;
use crate::store::{Batch, Store};
use crate::value::Value;
use saisei_domain::audit::{AuditAction, AuditActor};
use saisei_domain::auth::credentials::hashes_equal;
use saisei_domain::auth::secrets::{SecretKey, is_sealed, totp_owner};
use saisei_domain::auth::{Enrolment, KeyCheck, User};
use saisei_domain::text::Code;

/// The purpose the secret key's check value is stored under.
pub(crate) const SECRETS: &str = "secrets";

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
