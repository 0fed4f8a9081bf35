//! Electronic signatures: the one signing workflow, for the API, the pages and the CLI.

use super::*;
use crate::backend::Filter;
use crate::error::StoreError;
use crate::store::{Batch, Store};
use crate::value::Value;
use saisei_domain::Record;
use saisei_domain::audit::AuditAction;
use saisei_domain::auth::credentials::hashes_equal;
use saisei_domain::auth::{Role, Signature, SignatureMeaning, User};
use saisei_domain::text::{Code, Text};
use time::OffsetDateTime;
use uuid::Uuid;

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
