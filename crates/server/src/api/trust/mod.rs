//! Sign-in, users, tokens, the audit trail and electronic signatures over HTTP.
//!
//! One module per concern; [`mount`] puts their routes and schemas in the API.

mod audit;
mod sessions;
mod signatures;
mod tokens;
mod users;

use audit::*;
pub use sessions::*;
pub use signatures::*;
pub use tokens::*;
pub use users::*;

use crate::api::{ApiBuilder, operation};
use axum::routing::{get, patch, post};
use saisei_domain::auth::UserView;
use saisei_store::tables::trust::{API_TOKENS, SESSIONS, USERS};
use utoipa::openapi::path::HttpMethod;

/// Mounts the trust endpoints.
pub fn mount(b: ApiBuilder) -> ApiBuilder {
    use super::{page_query, q, q_required, table_list_params, with_query};
    use utoipa::openapi::schema::Type;
    let user_filters = ["email", "display_name", "role", "organisation_id", "active"];
    let audit_params = || {
        let mut p = page_query();
        p.push(q(
            "entity",
            Type::String,
            "Only entries about this kind of record",
        ));
        p.push(q(
            "entity_id",
            Type::String,
            "Only entries about this record (UUID)",
        ));
        p
    };
    let access_params = {
        let mut p = page_query();
        p.extend([
            q("actor", Type::String, "Only this reader (user id)"),
            q("entity", Type::String, "Only this kind of record"),
            q("record_id", Type::String, "Only this record (UUID)"),
            q(
                "patient_id",
                Type::String,
                "Only records about this patient (UUID)",
            ),
            q("from", Type::String, "Only from this instant (RFC 3339)"),
            q("to", Type::String, "Only before this instant (RFC 3339)"),
        ]);
        p
    };
    let signature_params = {
        let mut p = page_query();
        p.push(q_required(
            "entity",
            Type::String,
            "The kind of record (plan, lot, periodic_report…)",
        ));
        p.push(q_required("entity_id", Type::String, "The record (UUID)"));
        p
    };
    b.schema::<SignInRequest>()
        .schema::<CreateUser>()
        .schema::<UpdateUser>()
        .schema::<CreateToken>()
        .schema::<SignRequest>()
        .schema::<UserView>()
        .schema::<Reverify>()
        .schema::<ResetUser>()
        .schema::<OpenEnrolmentRequest>()
        .schema::<CompleteEnrolmentRequest>()
        .route("/auth/sign-in", post(post_sign_in), vec![(HttpMethod::Post, operation("trust", "sign_in", "Sign in with e-mail, password and TOTP code (or a recovery code); returns a bearer token", Some("SignInRequest"), &[("200", "Token and user"), ("401", "Wrong credentials"), ("429", "Too many failed attempts: wait Retry-After seconds")]))])
        .route("/auth/recovery-codes", post(post_recovery_codes), vec![(HttpMethod::Post, operation("trust", "replace_recovery_codes", "Replace your recovery codes (password and code re-entered); shown once", Some("Reverify"), &[("200", "The new codes"), ("401", "Wrong credentials")]))])
        .route("/auth/sessions", get(list_sessions), vec![(HttpMethod::Get, with_query(operation("trust", "list_sessions", "Your web sessions", None, &[("200", "Sessions")]), table_list_params(&SESSIONS, Some(&[]))))])
        .route("/auth/sessions/{id}/end", post(post_end_session), vec![(HttpMethod::Post, operation("trust", "end_session", "End one of your web sessions", None, &[("204", "Ended"), ("404", "No such session of yours")]))])
        .route("/auth/enrolment", post(post_open_enrolment), vec![(HttpMethod::Post, operation("trust", "open_enrolment", "Open a reset link: what it resets, and the new authenticator secret", Some("OpenEnrolmentRequest"), &[("200", "The reset"), ("404", "Unknown, used or expired link")]))])
        .route("/auth/enrolment/complete", post(post_complete_enrolment), vec![(HttpMethod::Post, operation("trust", "complete_enrolment", "Complete a reset: new password and/or a code from the new authenticator", Some("CompleteEnrolmentRequest"), &[("200", "The user, and new recovery codes"), ("404", "Unknown, used or expired link"), ("422", "Weak password or wrong code")]))])
        .route("/users/{id}/reset", post(post_user_reset), vec![(HttpMethod::Post, operation("trust", "reset_user", "Issue a one-time link resetting a user's password and/or second factor (admin); ends their sessions and tokens", Some("ResetUser"), &[("201", "The link")]))])
        .route("/auth/sign-out", post(post_sign_out), vec![(HttpMethod::Post, operation("trust", "sign_out", "Revoke the token (or end the session) used for this request", None, &[("204", "Signed out")]))])
        .schema::<ChangePassword>()
        .route("/auth/password", post(post_password), vec![(HttpMethod::Post, operation("trust", "change_password", "Change your password (current password and code re-entered)", Some("ChangePassword"), &[("204", "Changed"), ("401", "Wrong credentials"), ("422", "Weak new password")]))])
        .route("/auth/me", get(get_me), vec![(HttpMethod::Get, operation("trust", "me", "The signed-in user", None, &[("200", "UserView")]))])
        .route("/users", get(list_users).post(post_user), vec![
            (HttpMethod::Get, with_query(operation("trust", "list_users", "Users (admin)", None, &[("200", "UserView list")]), table_list_params(&USERS, Some(&user_filters)))),
            (HttpMethod::Post, operation("trust", "create_user", "Create a user (admin); returns the TOTP secret once", Some("CreateUser"), &[("201", "User and TOTP enrolment"), ("409", "E-mail taken")])),
        ])
        .route("/users/{id}", patch(patch_user), vec![(HttpMethod::Patch, operation("trust", "update_user", "Change a user's role, organisation or status (admin, with a reason)", Some("UpdateUser"), &[("200", "UserView")]))])
        .route("/tokens", get(list_tokens).post(post_token), vec![
            (HttpMethod::Get, with_query(operation("trust", "list_tokens", "Your API tokens", None, &[("200", "Tokens (never the token itself)")]), table_list_params(&API_TOKENS, Some(&["name"])))),
            (HttpMethod::Post, operation("trust", "create_token", "A named API token for yourself (password and code re-entered); shown once", Some("CreateToken"), &[("201", "The token")])),
        ])
        .route("/tokens/{id}/revoke", post(post_revoke_token), vec![(HttpMethod::Post, operation("trust", "revoke_token", "Revoke a token", None, &[("204", "Revoked")]))])
        .route("/audit", get(get_audit), vec![(HttpMethod::Get, with_query(operation("trust", "audit", "Audit entries in order (regulator and admin); content only for readers of the record", None, &[("200", "Entries")]), audit_params()))])
        .route("/access-log", get(crate::access_log::get_access_log), vec![(HttpMethod::Get, with_query(operation("trust", "access_log", "Who was shown which patient-level record (admin and regulator)", None, &[("200", "Entries")]), access_params))])
        .route("/audit/verify", get(get_audit_verify), vec![(HttpMethod::Get, operation("trust", "audit_verify", "Verify the audit hash chain, then every record against its latest audit entry", None, &[("200", "ok with the counts, or the first broken entry or mismatching record")]))])
        .route("/signatures", get(list_signatures).post(post_signature), vec![
            (HttpMethod::Get, with_query(operation("trust", "list_signatures", "Signatures on a record, each with whether it still matches the record", None, &[("200", "Signatures")]), signature_params)),
            (HttpMethod::Post, operation("trust", "sign", "Sign a record as it now is (password and code re-entered, meaning stated)", Some("SignRequest"), &[("201", "The signature"), ("401", "Wrong credentials")])),
        ])
}
