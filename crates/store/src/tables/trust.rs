//! Users, API tokens, web sessions and electronic signatures.

use crate::schema::{AccessClass, KindDecl, Reference, Stored, TableRef};
use saisei_domain::auth::{ApiToken, Enrolment, KeyCheck, Session, Signature, User};

pub static ENROLMENTS: TableRef<Enrolment> = TableRef::new();

impl Stored for Enrolment {
    const DECL: KindDecl = KindDecl {
        table: "enrolments",
        class: AccessClass::Credential,
        api: None,
        unique: &[("enrolments_token_hash_key", "token_hash")],
        scope: None,
    };
    fn references(&self) -> Vec<Reference> {
        vec![
            Reference::to("user_id", self.user_id, &USERS),
            Reference::to("issued_by", self.issued_by, &USERS),
        ]
    }
}

pub static KEY_CHECKS: TableRef<KeyCheck> = TableRef::new();

impl Stored for KeyCheck {
    const DECL: KindDecl = KindDecl {
        table: "key_checks",
        class: AccessClass::Credential,
        api: None,
        unique: &[("key_checks_purpose_key", "purpose")],
        scope: None,
    };
}

pub static USERS: TableRef<User> = TableRef::new();

impl Stored for User {
    const DECL: KindDecl = KindDecl {
        table: "users",
        class: AccessClass::Credential,
        api: None,
        unique: &[("users_email_key", "email")],
        scope: None,
    };
    fn references(&self) -> Vec<Reference> {
        self.organisation_id
            .map(|id| {
                Reference::organisation("organisation_id", id, self.role.organisation_kinds())
            })
            .into_iter()
            .collect()
    }
}

pub static API_TOKENS: TableRef<ApiToken> = TableRef::new();

impl Stored for ApiToken {
    const DECL: KindDecl = KindDecl {
        table: "api_tokens",
        class: AccessClass::Credential,
        api: None,
        unique: &[("api_tokens_token_hash_key", "token_hash")],
        scope: None,
    };
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to("user_id", self.user_id, &USERS)]
    }
}

pub static SESSIONS: TableRef<Session> = TableRef::new();

impl Stored for Session {
    const DECL: KindDecl = KindDecl {
        table: "sessions",
        class: AccessClass::Credential,
        api: None,
        unique: &[("sessions_token_hash_key", "token_hash")],
        scope: None,
    };
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to("user_id", self.user_id, &USERS)]
    }
}

pub static SIGNATURES: TableRef<Signature> = TableRef::new();

impl Stored for Signature {
    const DECL: KindDecl = KindDecl {
        table: "signatures",
        class: AccessClass::Signature,
        api: None,
        unique: &[],
        scope: None,
    };
    fn references(&self) -> Vec<Reference> {
        vec![Reference::to("signer_id", self.signer_id, &USERS)]
    }
}
