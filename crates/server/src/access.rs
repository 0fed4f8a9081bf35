//! Who is acting, and whether they may: the one place every request asks.
//!
//! Every handler takes an [`Actor`] and calls [`authorize`] before touching data. Until
//! sign-in exists (issue 6) every request acts as the open-access actor and the policy
//! allows it; the seam is here so that adding roles changes this module, not handlers.

use crate::problem::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use saisei_domain::audit::AuditActor;
use uuid::Uuid;

/// What a request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read records.
    Read,
    /// Create records.
    Create,
    /// Change records.
    Update,
    /// Withdraw records.
    Withdraw,
    /// Export or report.
    Export,
}

/// The acting user as the policy and the audit trail see them.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The user's id, when signed in.
    pub user_id: Option<Uuid>,
    /// A name for the audit trail.
    pub name: String,
    /// The role acted in.
    pub role: String,
    /// The organisation acted for.
    pub organisation_id: Option<Uuid>,
}

impl Actor {
    /// The actor of a request on a server without sign-in.
    pub fn open_access() -> Self {
        Actor {
            user_id: None,
            name: "open-access".to_string(),
            role: "open".to_string(),
            organisation_id: None,
        }
    }

    /// How the audit trail records this actor.
    pub fn audit(&self) -> AuditActor {
        AuditActor {
            actor: self
                .user_id
                .map(|u| u.to_string())
                .unwrap_or_else(|| self.name.clone()),
            role: self.role.clone(),
            organisation_id: self.organisation_id,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Actor>()
            .cloned()
            .unwrap_or_else(Actor::open_access))
    }
}

/// Decides whether `actor` may do `action` on records of kind `entity`.
pub fn authorize(actor: &Actor, action: Action, entity: &str) -> Result<(), ApiError> {
    let _ = (actor, action, entity);
    Ok(())
}
