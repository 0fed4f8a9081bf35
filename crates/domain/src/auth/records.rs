//! The stored records of trust: users, API tokens, web sessions and electronic
//! signatures.

use super::role::Role;
use crate::entity::Entity;
use crate::error::{Validate, ValidationErrors};
use crate::text::{Code, Name, Text};
use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;
use uuid::Uuid;

/// An e-mail address used as a sign-in name: trimmed, lower-case, one `@`, ≤ 254 chars.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        use unicode_normalization::UnicodeNormalization;
        if crate::text::check_characters(&s, false).is_err() {
            return Err(
                "an e-mail address must not contain invisible or control characters".into(),
            );
        }
        let e: String = s.trim().nfc().collect::<String>().to_lowercase();
        let ok = e.len() <= 254
            && e.matches('@').count() == 1
            && e.split('@').all(|part| !part.is_empty())
            && e.split('@')
                .nth(1)
                .is_some_and(|d| d.contains('.') && !d.starts_with('.') && !d.ends_with('.'))
            && !e.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            Ok(Email(e))
        } else {
            Err(format!(
                "'{}' is not an e-mail address",
                s.chars().take(60).collect::<String>()
            ))
        }
    }
}

impl std::str::FromStr for Email {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Email::try_from(s.to_string())
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl utoipa::PartialSchema for Email {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Email,
            )))
            .into()
    }
}

impl utoipa::ToSchema for Email {}

/// A person who signs in. Credentials live here but never leave the server: the API
/// shows users through [`UserView`], and the audit trail through `audit_view`.
#[derive(Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// Sign-in name.
    pub email: Email,
    /// Name shown to others.
    pub display_name: Name,
    /// Role.
    pub role: Role,
    /// The organisation acted for (required for organisation-bound roles).
    #[serde(default)]
    pub organisation_id: Option<Uuid>,
    /// Whether the user may sign in.
    pub active: bool,
    /// argon2id PHC string.
    pub password_hash: String,
    /// The TOTP secret, sealed with the server's secret key (see
    /// [`crate::auth::secrets`]): the database alone cannot produce codes.
    pub totp_secret: String,
    /// The last TOTP step accepted, so a code cannot be replayed.
    #[serde(default)]
    pub totp_last_step: Option<i64>,
    /// SHA-256 of each unused recovery code (each works once, in place of a code).
    #[serde(default)]
    pub recovery_codes: Vec<String>,
    /// When an administrator last cleared the account's sign-in throttling; failures
    /// before then no longer slow it.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub throttle_cleared_at: Option<OffsetDateTime>,
    /// The language the user chose for the pages; none means the browser's.
    #[serde(default)]
    pub language: Option<Language>,
}

/// A language the application is written in, as a user's saved choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// Japanese (the default).
    Ja,
    /// English.
    En,
}

impl Language {
    /// Its BCP 47 tag.
    pub fn code(self) -> &'static str {
        match self {
            Language::Ja => "ja",
            Language::En => "en",
        }
    }
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("email", &self.email)
            .field("role", &self.role)
            .field("organisation_id", &self.organisation_id)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

/// A user as anyone but the server itself may see them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    /// Id.
    pub id: Uuid,
    /// Version (for updates).
    pub version: i64,
    /// Sign-in name.
    pub email: Email,
    /// Name.
    pub display_name: Name,
    /// Role.
    pub role: Role,
    /// Organisation.
    pub organisation_id: Option<Uuid>,
    /// Whether the user may sign in.
    pub active: bool,
    /// How many unused recovery codes the user holds.
    pub recovery_codes_left: usize,
}

impl UserView {
    /// The public view of a stored user.
    pub fn of(record: &crate::Record<User>) -> Self {
        UserView {
            id: record.meta.id,
            version: record.meta.version,
            email: record.data.email.clone(),
            display_name: record.data.display_name.clone(),
            role: record.data.role,
            organisation_id: record.data.organisation_id,
            active: record.data.active,
            recovery_codes_left: record.data.recovery_codes.len(),
        }
    }
}

impl Validate for User {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        match (self.role.needs_organisation(), self.organisation_id) {
            (true, None) => errors.push(
                "organisation_id",
                format!("a {} acts for an organisation", self.role),
            ),
            (false, Some(_)) if self.role == Role::Admin => errors.push(
                "organisation_id",
                "an admin acts for the registry, not an organisation",
            ),
            _ => {}
        }
        if !self.password_hash.starts_with("$argon2") {
            errors.push("password_hash", "is not an argon2 hash");
        }
        if !crate::auth::secrets::is_sealed(&self.totp_secret) {
            errors.push("totp_secret", "is not sealed with the server's secret key");
        }
        if self.recovery_codes.len() > crate::auth::credentials::RECOVERY_CODES {
            errors.push("recovery_codes", "holds too many codes");
        }
        if self.recovery_codes.iter().any(|h| h.len() != 64) {
            errors.push("recovery_codes", "holds something that is not a SHA-256");
        }
        errors.into_result()
    }
}

impl Entity for User {
    const KIND: &'static str = "user";
    const READ_ONLY: &'static [&'static str] = &[
        "password_hash",
        "totp_secret",
        "totp_last_step",
        "recovery_codes",
        "throttle_cleared_at",
    ];

    fn audit_view(&self) -> serde_json::Value {
        serde_json::json!({
            "email": self.email,
            "display_name": self.display_name,
            "role": self.role,
            "organisation_id": self.organisation_id,
            "active": self.active,
            "recovery_codes_left": self.recovery_codes.len(),
            "throttle_cleared_at": self.throttle_cleared_at.map(crate::dates::rfc3339),
        })
    }
}

/// A bearer token for the API. Only its hash is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiToken {
    /// Whose token.
    pub user_id: Uuid,
    /// What it is for (e.g. "EDC import").
    pub name: Name,
    /// SHA-256 of the token.
    pub token_hash: String,
    /// When it stops working.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// When it was revoked, if it was.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

impl Validate for ApiToken {
    fn validate(&self) -> Result<(), ValidationErrors> {
        if self.token_hash.len() == 64 {
            Ok(())
        } else {
            Err(ValidationErrors::one("token_hash", "is not a SHA-256"))
        }
    }
}

impl Entity for ApiToken {
    const KIND: &'static str = "api_token";
    const READ_ONLY: &'static [&'static str] = &["token_hash"];

    fn audit_view(&self) -> serde_json::Value {
        serde_json::json!({
            "user_id": self.user_id,
            "name": self.name,
            "expires_at": crate::dates::rfc3339(self.expires_at),
            "revoked_at": self.revoked_at.map(crate::dates::rfc3339),
        })
    }
}

/// A web session (cookie). Its last activity moves on every request, which is not a
/// registry change, so sessions are not audited themselves; sign-in and sign-out are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Session {
    /// Whose session.
    pub user_id: Uuid,
    /// SHA-256 of the session cookie's value.
    pub token_hash: String,
    /// The token forms must carry (double-submit CSRF protection).
    pub csrf_token: String,
    /// Last activity; the session ends after the idle timeout.
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: OffsetDateTime,
    /// Absolute end, whatever the activity.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// When it was ended by signing out.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
}

impl Validate for Session {
    fn validate(&self) -> Result<(), ValidationErrors> {
        Ok(())
    }
}

impl Entity for Session {
    const KIND: &'static str = "session";
    const AUDITED: bool = false;
}

/// A one-time link an administrator issues to reset a user's password, second factor or
/// both. Only the link's hash is stored; it works once and expires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Enrolment {
    /// Whose credentials it resets.
    pub user_id: Uuid,
    /// SHA-256 of the link's token.
    pub token_hash: String,
    /// Whether the user sets a new password.
    pub password: bool,
    /// Whether the user enrols a new authenticator (and gets new recovery codes).
    pub second_factor: bool,
    /// The new TOTP secret, sealed, made when the link is first opened.
    #[serde(default)]
    pub pending_totp_secret: Option<String>,
    /// When the link stops working.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// When it was used.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub used_at: Option<OffsetDateTime>,
    /// The administrator who issued it.
    pub issued_by: Uuid,
    /// Why.
    pub reason: Text,
}

impl Validate for Enrolment {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if self.token_hash.len() != 64 {
            errors.push("token_hash", "is not a SHA-256");
        }
        if !self.password && !self.second_factor {
            errors.push(
                "password",
                "a reset resets the password, the second factor or both",
            );
        }
        if let Some(s) = &self.pending_totp_secret
            && !crate::auth::secrets::is_sealed(s)
        {
            errors.push("pending_totp_secret", "is not sealed");
        }
        errors.into_result()
    }
}

impl Entity for Enrolment {
    const KIND: &'static str = "enrolment";
    const READ_ONLY: &'static [&'static str] = &["token_hash", "pending_totp_secret"];

    fn audit_view(&self) -> serde_json::Value {
        serde_json::json!({
            "user_id": self.user_id,
            "password": self.password,
            "second_factor": self.second_factor,
            "expires_at": crate::dates::rfc3339(self.expires_at),
            "used_at": self.used_at.map(crate::dates::rfc3339),
            "issued_by": self.issued_by,
            "reason": self.reason,
        })
    }
}

/// Proof of which secret key sealed the database's secrets: an HMAC of a fixed text
/// under the key. The server refuses to start with a key that does not match it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyCheck {
    /// What the key protects (`secrets`).
    pub purpose: Code,
    /// HMAC-SHA256 of the check text under the key, hex.
    pub check_value: String,
}

impl Validate for KeyCheck {
    fn validate(&self) -> Result<(), ValidationErrors> {
        if self.check_value.len() == 64 {
            Ok(())
        } else {
            Err(ValidationErrors::one(
                "check_value",
                "is not an HMAC-SHA256",
            ))
        }
    }
}

impl Entity for KeyCheck {
    const KIND: &'static str = "key_check";
}

/// What a signature means (ER/ES guideline: a signature states its meaning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignatureMeaning {
    /// I wrote this.
    Authorship,
    /// I reviewed this.
    Review,
    /// I approve this (release, committee decision).
    Approval,
    /// I take responsibility for this submission.
    Responsibility,
    /// I assessed this (adjudication).
    Assessment,
}

/// An electronic signature bound to the hash of what was signed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    /// The signer.
    pub signer_id: Uuid,
    /// The signer's name at signing.
    pub signer_name: Name,
    /// The signer's role at signing.
    pub signer_role: Role,
    /// What the signature means.
    pub meaning: SignatureMeaning,
    /// The kind of record signed (`plan`, `lot`, `periodic_report`…).
    pub entity: Code,
    /// The record signed.
    pub entity_id: Uuid,
    /// The record's version when signed.
    pub entity_version: i64,
    /// SHA-256 of the record's content when signed.
    pub content_hash: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub signed_at: OffsetDateTime,
    /// A statement, when the signer adds one.
    #[serde(default)]
    pub comment: Option<Text>,
}

impl Validate for Signature {
    fn validate(&self) -> Result<(), ValidationErrors> {
        if self.content_hash.len() == 64 {
            Ok(())
        } else {
            Err(ValidationErrors::one("content_hash", "is not a SHA-256"))
        }
    }
}

impl Entity for Signature {
    const KIND: &'static str = "signature";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            Email::try_from(" Dr.Sato@Clinic.example ".to_string())
                .unwrap()
                .as_str(),
            "dr.sato@clinic.example"
        );
        for bad in [
            "",
            "a",
            "a@b",
            "@b.example",
            "a@@b.example",
            "a b@c.example",
            "a@.example",
        ] {
            assert!(Email::try_from(bad.to_string()).is_err(), "{bad}");
        }
    }

    #[test]
    fn secrets_stay_out_of_debug_and_audit() {
        let u = User {
            email: "a@b.example".parse().unwrap(),
            display_name: "A".parse().unwrap(),
            role: Role::Admin,
            organisation_id: None,
            active: true,
            password_hash: "$argon2id$v=19$secret-hash".into(),
            totp_secret: "JBSWY3DPEHPK3PXPJBSWY3DP".into(),
            totp_last_step: None,
            recovery_codes: Vec::new(),
            throttle_cleared_at: None,
            language: None,
        };
        let debug = format!("{u:?}");
        assert!(!debug.contains("secret-hash") && !debug.contains("JBSW"));
        let audit = u.audit_view().to_string();
        assert!(!audit.contains("secret-hash") && !audit.contains("JBSW"));
    }
}
