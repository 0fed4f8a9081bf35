//! Users, API tokens, web sessions and electronic signatures.

use crate::cols;
use crate::schema::{Reference, Stored, TableDef};
use saisei_domain::auth::{ApiToken, Enrolment, KeyCheck, Session, Signature, User};

/// Users.
pub static USERS: TableDef = TableDef {
    name: "users",
    entity: "user",
    columns: cols!(
        email: Text,
        display_name: Text,
        role: Text,
        organisation_id: Uuid,
        active: Bool,
        password_hash: Text,
        totp_secret: Text,
        totp_last_step: Int,
        recovery_codes: Json,
        throttle_cleared_at: Timestamp,
    ),
    unique: &[("users_email_key", "email")],
};

/// API tokens (hashed).
pub static API_TOKENS: TableDef = TableDef {
    name: "api_tokens",
    entity: "api_token",
    columns: cols!(user_id: Uuid, name: Text, token_hash: Text, expires_at: Timestamp, revoked_at: Timestamp),
    unique: &[("api_tokens_token_hash_key", "token_hash")],
};

/// Web sessions (hashed).
pub static SESSIONS: TableDef = TableDef {
    name: "sessions",
    entity: "session",
    columns: cols!(
        user_id: Uuid,
        token_hash: Text,
        csrf_token: Text,
        last_seen_at: Timestamp,
        expires_at: Timestamp,
        ended_at: Timestamp,
    ),
    unique: &[("sessions_token_hash_key", "token_hash")],
};

/// Electronic signatures.
pub static SIGNATURES: TableDef = TableDef {
    name: "signatures",
    entity: "signature",
    columns: cols!(
        signer_id: Uuid,
        signer_name: Text,
        signer_role: Text,
        meaning: Text,
        entity: Text,
        entity_id: Uuid,
        entity_version: Int,
        content_hash: Text,
        signed_at: Timestamp,
        comment: Text,
    ),
    unique: &[],
};

/// One-time links that reset a user's credentials (hashed).
pub static ENROLMENTS: TableDef = TableDef {
    name: "enrolments",
    entity: "enrolment",
    columns: cols!(
        user_id: Uuid,
        token_hash: Text,
        password: Bool,
        second_factor: Bool,
        pending_totp_secret: Text,
        expires_at: Timestamp,
        used_at: Timestamp,
        issued_by: Uuid,
        reason: Text,
    ),
    unique: &[("enrolments_token_hash_key", "token_hash")],
};

/// Which secret key sealed the database's secrets.
pub static KEY_CHECKS: TableDef = TableDef {
    name: "key_checks",
    entity: "key_check",
    columns: cols!(purpose: Text, check_value: Text),
    unique: &[("key_checks_purpose_key", "purpose")],
};

/// The trust tables, in dependency order.
pub static TABLES: &[&TableDef] = &[
    &USERS,
    &API_TOKENS,
    &SESSIONS,
    &SIGNATURES,
    &ENROLMENTS,
    &KEY_CHECKS,
];

impl Stored for Enrolment {
    const TABLE: &'static TableDef = &ENROLMENTS;
    fn references(&self) -> Vec<Reference> {
        vec![
            Reference::to("user_id", self.user_id, &USERS),
            Reference::to("issued_by", self.issued_by, &USERS),
        ]
    }
}

impl Stored for KeyCheck {
    const TABLE: &'static TableDef = &KEY_CHECKS;
}

impl Stored for User {
    const TABLE: &'static TableDef = &USERS;
    fn references(&self) -> Vec<Reference> {
        self.organisation_id
            .map(|id| {
                Reference::organisation("organisation_id", id, self.role.organisation_kinds())
            })
            .into_iter()
            .collect()
    }
}

impl Stored for ApiToken {
    const TABLE: &'static TableDef = &API_TOKENS;
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to("user_id", self.user_id, &USERS)]
    }
}

impl Stored for Session {
    const TABLE: &'static TableDef = &SESSIONS;
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to("user_id", self.user_id, &USERS)]
    }
}

impl Stored for Signature {
    const TABLE: &'static TableDef = &SIGNATURES;
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to("signer_id", self.signer_id, &USERS)]
    }
}
