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
            return Err("an e-mail address must not contain invisible or control characters".into());
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
    /// TOTP secret (base32).
    pub totp_secret: String,
    /// The last TOTP step accepted, so a code cannot be replayed.
    #[serde(default)]
    pub totp_last_step: Option<i64>,
    /// Consecutive failed sign-ins.
    #[serde(default)]
    pub failed_attempts: i64,
    /// Locked until this instant after too many failures.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub locked_until: Option<OffsetDateTime>,
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
    /// Locked until, after repeated failures.
    #[serde(with = "time::serde::rfc3339::option")]
    pub locked_until: Option<OffsetDateTime>,
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
            locked_until: record.data.locked_until,
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
        if self.totp_secret.len() < 16 {
            errors.push("totp_secret", "is too short");
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
        "failed_attempts",
        "locked_until",
    ];

    fn audit_view(&self) -> serde_json::Value {
        serde_json::json!({
            "email": self.email,
            "display_name": self.display_name,
            "role": self.role,
            "organisation_id": self.organisation_id,
            "active": self.active,
            "failed_attempts": self.failed_attempts,
            "locked_until": self.locked_until.map(crate::dates::rfc3339),
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
            failed_attempts: 0,
            locked_until: None,
        };
        let debug = format!("{u:?}");
        assert!(!debug.contains("secret-hash") && !debug.contains("JBSW"));
        let audit = u.audit_view().to_string();
        assert!(!audit.contains("secret-hash") && !audit.contains("JBSW"));
    }
}
