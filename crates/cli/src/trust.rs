//! `saisei user add`, `saisei token create` and `saisei audit verify`.

use crate::config;
use crate::exit::CliError;
use crate::serve;
use saisei_domain::audit::{AuditActor, ChainVerifier};
use saisei_domain::auth::credentials::totp_uri;
use saisei_domain::auth::{Email, Role, User};
use saisei_domain::registry::Organisation;
use saisei_store::workflow::auth::{NewUser, create_user, find_user, issue_token};
use saisei_store::{AuditQuery, Filter, Store, Value};
use std::path::PathBuf;
use time::Duration;

/// Arguments of `saisei user add`.
#[derive(clap::Args)]
pub struct UserAddArgs {
    /// Database.
    #[arg(long)]
    db: Option<String>,
    /// Sign-in e-mail.
    #[arg(long)]
    email: String,
    /// Role: institution_staff, physician, facility_staff, qa_manager, committee_member,
    /// mah_analyst, adjudicator, regulator or admin.
    #[arg(long)]
    role: String,
    /// The organisation acted for: its id, code or exact name (not for admin or adjudicator).
    #[arg(long)]
    org: Option<String>,
    /// Display name (default: the e-mail).
    #[arg(long)]
    name: Option<String>,
    /// A file holding the initial password; without it a random one is made and printed.
    #[arg(long)]
    password_file: Option<PathBuf>,
}

/// Arguments of `saisei token create`.
#[derive(clap::Args)]
pub struct TokenCreateArgs {
    /// Database.
    #[arg(long)]
    db: Option<String>,
    /// The user's e-mail.
    #[arg(long)]
    user: String,
    /// Days until the token expires.
    #[arg(long, default_value_t = 30)]
    expires: i64,
    /// What the token is for.
    #[arg(long, default_value = "cli")]
    name: String,
}

/// Arguments of `saisei audit verify`.
#[derive(clap::Args)]
pub struct AuditVerifyArgs {
    /// Database.
    #[arg(long)]
    db: Option<String>,
}

/// Finds an organisation by id, code or exact name.
pub async fn find_organisation(
    store: &Store,
    key: &str,
) -> Result<saisei_domain::Record<Organisation>, CliError> {
    if let Ok(id) = uuid::Uuid::parse_str(key) {
        return store
            .get::<Organisation>(id)
            .await
            .map_err(|_| CliError::input(format!("--org: no organisation with id {key}")));
    }
    for column in ["code", "name"] {
        let found = store
            .all::<Organisation>(vec![Filter::eq(column, Value::Text(key.to_string()))])
            .await
            .map_err(CliError::from)?;
        match found.len() {
            0 => continue,
            1 => return Ok(found.into_iter().next().expect("one")),
            n => {
                return Err(CliError::input(format!(
                    "--org: {n} organisations have the {column} '{key}'; give the id"
                )));
            }
        }
    }
    Err(CliError::input(format!(
        "--org: no organisation with id, code or name '{key}'"
    )))
}

fn random_password() -> String {
    let (t, _) = saisei_domain::auth::credentials::new_token();
    // 24 hex digits of a fresh 256-bit token: ~96 bits, easy to copy.
    t[4..28].to_string()
}

/// Runs `saisei user add`.
pub async fn user_add(args: UserAddArgs) -> Result<(), CliError> {
    let role: Role = args
        .role
        .parse()
        .map_err(|e: String| CliError::input(format!("--role: {e}")))?;
    let email: Email = args
        .email
        .parse()
        .map_err(|e: String| CliError::input(format!("--email: {e}")))?;
    let (password, generated) = match &args.password_file {
        Some(p) => (
            std::fs::read_to_string(p)
                .map_err(|e| CliError::input(format!("--password-file {}: {e}", p.display())))?
                .trim_end_matches(['\n', '\r'])
                .to_string(),
            false,
        ),
        None => (random_password(), true),
    };
    let db = config::database_url(args.db.as_deref());
    config::require_existing(args.db.as_deref())?;
    let store = serve::open(&db).await?;
    let organisation_id = match (&args.org, role.needs_organisation()) {
        (Some(key), _) => Some(find_organisation(&store, key).await?.meta.id),
        (None, true) => {
            return Err(CliError::input(format!(
                "--org: a {role} acts for an organisation"
            )));
        }
        (None, false) => None,
    };
    let name = args.name.clone().unwrap_or_else(|| email.to_string());
    // A generated password is printed once; only its hash is stored.
    let password_shown = if generated {
        password.clone()
    } else {
        String::new()
    };
    let (user, secret) = create_user(
        &store,
        &AuditActor::system("cli"),
        NewUser {
            email: email.clone(),
            display_name: name
                .parse()
                .map_err(|e: String| CliError::input(format!("--name: {e}")))?,
            role,
            organisation_id,
            password,
            totp_secret: None,
        },
    )
    .await
    .map_err(CliError::from)?;
    store.backend().close().await;
    println!("user {} ({role}) created: {}", email, user.meta.id);
    if generated {
        println!("password (shown once; change it after the first sign-in): {password_shown}");
    }
    println!("TOTP secret (add it to an authenticator app): {secret}");
    println!("{}", totp_uri(&secret, email.as_str()));
    Ok(())
}

/// Runs `saisei token create`; the token is the last line printed.
pub async fn token_create(args: TokenCreateArgs) -> Result<(), CliError> {
    if !(1..=3650).contains(&args.expires) {
        return Err(CliError::input("--expires: must be 1 to 3650 days"));
    }
    let email: Email = args
        .user
        .parse()
        .map_err(|e: String| CliError::input(format!("--user: {e}")))?;
    config::require_existing(args.db.as_deref())?;
    let store = serve::open(&config::database_url(args.db.as_deref())).await?;
    let user: saisei_domain::Record<User> = find_user(&store, &email)
        .await
        .map_err(CliError::from)?
        .ok_or_else(|| CliError::input(format!("--user: no user {email}")))?;
    let expires_at = time::OffsetDateTime::now_utc() + Duration::days(args.expires);
    let (token, record) = issue_token(
        &store,
        &AuditActor::system("cli"),
        &user,
        &args.name,
        expires_at,
    )
    .await
    .map_err(CliError::from)?;
    store.backend().close().await;
    eprintln!(
        "token {} for {email} ({}), expires {}; it is shown once:",
        record.meta.id,
        user.data.role,
        saisei_domain::dates::rfc3339(expires_at)
    );
    println!("{token}");
    Ok(())
}

/// Runs `saisei audit verify`: exit 0 with `ok N entries`, or exit 1 naming the first
/// broken entry.
pub async fn audit_verify(args: AuditVerifyArgs) -> Result<(), CliError> {
    config::require_existing(args.db.as_deref())?;
    let store = serve::open(&config::database_url(args.db.as_deref())).await?;
    let mut v = ChainVerifier::default();
    let mut after = 0;
    loop {
        let page = store
            .audit(&AuditQuery {
                after_seq: after,
                limit: 1000,
                ..Default::default()
            })
            .await
            .map_err(|e| CliError::Failure(e.into()))?;
        for e in &page {
            if let Err(broken) = v.check(e) {
                store.backend().close().await;
                println!(
                    "broken: {broken} ({} entries before it verified)",
                    v.verified()
                );
                std::process::exit(1);
            }
        }
        match page.last() {
            Some(last) if page.len() == 1000 => after = last.seq,
            _ => break,
        }
    }
    store.backend().close().await;
    println!("ok {} entries", v.verified());
    Ok(())
}
