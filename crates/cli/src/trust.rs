//! `saisei user add`, `saisei token create` and `saisei audit verify`.

use crate::config;
use crate::exit::CliError;
use crate::serve;
use saisei_domain::audit::AuditActor;
use saisei_domain::auth::credentials::totp_uri;
use saisei_domain::auth::{Email, Role, User};
use saisei_domain::registry::Organisation;
use saisei_store::workflow::auth::{NewUser, create_user, find_user, issue_token};
use saisei_store::{Filter, Store, Value};
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
    /// File holding the secret key that seals second-factor secrets [or env SAISEI_SECRET_KEY; default <db>.secret].
    #[arg(long)]
    secret_key_file: Option<PathBuf>,
}

/// Arguments of `saisei user unlock`.
#[derive(clap::Args)]
pub struct UserUnlockArgs {
    /// Database.
    #[arg(long)]
    db: Option<String>,
    /// The user's e-mail.
    #[arg(long)]
    email: String,
    /// Why (kept in the audit trail).
    #[arg(
        long,
        default_value = "sign-in throttling cleared from the command line"
    )]
    reason: String,
}

/// Arguments of `saisei key rotate`.
#[derive(clap::Args)]
pub struct KeyRotateArgs {
    /// Database.
    #[arg(long)]
    db: Option<String>,
    /// The current secret key's file [or env SAISEI_SECRET_KEY; default <db>.secret].
    #[arg(long)]
    secret_key_file: Option<PathBuf>,
    /// The new key's file (hex, ≥ 32 bytes). Made with a fresh random key when it does not exist.
    #[arg(long)]
    new_key_file: PathBuf,
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
    let key = match config::checked_secret_key(&store, args.secret_key_file.as_deref(), &db).await?
    {
        Some(k) => k,
        None => {
            // A new registry: make its secret key beside a SQLite file; elsewhere it is
            // configuration the operator provides.
            let path = config::secret_file_beside(&db).ok_or_else(|| {
                CliError::input(
                    "--secret-key-file: a secret key is needed to enrol a second factor (or SAISEI_SECRET_KEY)",
                )
            })?;
            std::fs::write(&path, config::new_secret_key_hex())?;
            eprintln!(
                "made a new secret key: {} (keep it with the database's configuration, never in it)",
                path.display()
            );
            config::checked_secret_key(&store, Some(&path), &db)
                .await?
                .ok_or_else(|| {
                    CliError::input("--secret-key-file: the new key could not be read")
                })?
        }
    };
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
    let (user, enrolled) = create_user(
        &store,
        &AuditActor::system("cli"),
        &key,
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
    println!(
        "TOTP secret (add it to an authenticator app): {}",
        enrolled.totp_secret
    );
    println!("{}", totp_uri(&enrolled.totp_secret, email.as_str()));
    println!(
        "recovery codes (each works once in place of a code; keep them apart from the device):"
    );
    for c in &enrolled.recovery_codes {
        println!("  {c}");
    }
    Ok(())
}

/// Runs `saisei user unlock`: clears the account's sign-in throttling (a running server
/// ignores the failures counted before now).
pub async fn user_unlock(args: UserUnlockArgs) -> Result<(), CliError> {
    let email: Email = args
        .email
        .parse()
        .map_err(|e: String| CliError::input(format!("--email: {e}")))?;
    config::require_existing(args.db.as_deref())?;
    let store = serve::open(&config::database_url(args.db.as_deref())).await?;
    let user = find_user(&store, &email)
        .await
        .map_err(CliError::from)?
        .ok_or_else(|| CliError::input(format!("--email: no user {email}")))?;
    saisei_store::workflow::auth::clear_throttle(
        &store,
        &AuditActor::system("cli"),
        &user,
        time::OffsetDateTime::now_utc(),
        &args.reason,
    )
    .await
    .map_err(CliError::from)?;
    store.backend().close().await;
    println!("{email}: sign-in throttling cleared");
    Ok(())
}

/// Runs `saisei key rotate`: re-seals every second-factor secret with the new key and
/// records its check value, in one transaction; then the server must be given the new key.
pub async fn key_rotate(args: KeyRotateArgs) -> Result<(), CliError> {
    let db = config::database_url(args.db.as_deref());
    config::require_existing(args.db.as_deref())?;
    let store = serve::open(&db).await?;
    let old = config::checked_secret_key(&store, args.secret_key_file.as_deref(), &db)
        .await?
        .ok_or_else(|| CliError::input("--secret-key-file: the current secret key is needed"))?;
    if !args.new_key_file.exists() {
        std::fs::write(&args.new_key_file, config::new_secret_key_hex())?;
        eprintln!("made a new secret key: {}", args.new_key_file.display());
    }
    let text = std::fs::read_to_string(&args.new_key_file).map_err(|e| {
        CliError::input(format!(
            "--new-key-file {}: {e}",
            args.new_key_file.display()
        ))
    })?;
    let new = config::parse_secret_key(&text)?;
    let n = saisei_store::workflow::auth::rotate_secret_key(
        &store,
        &AuditActor::system("cli"),
        &old,
        &new,
    )
    .await
    .map_err(|e| match e {
        saisei_store::workflow::auth::KeyError::Store(s) => CliError::from(s),
        other => CliError::input(other.to_string()),
    })?;
    store.backend().close().await;
    // When the key came from the file beside the database, that file now holds the new
    // key (the old one is kept beside it, renamed), so `serve` finds the right one.
    let beside = config::secret_file_beside(&db).filter(|p| p.exists());
    let from_env = std::env::var_os("SAISEI_SECRET_KEY").is_some()
        || std::env::var_os("SAISEI_SECRET_KEY_FILE").is_some();
    match beside {
        Some(path) if args.secret_key_file.is_none() && !from_env => {
            let mut old_path = path.clone().into_os_string();
            old_path.push(".old");
            std::fs::rename(&path, &old_path)?;
            std::fs::write(&path, text.trim())?;
            println!(
                "{n} secrets re-sealed; {} now holds the new key (the old one is in {})",
                path.display(),
                std::path::Path::new(&old_path).display()
            );
        }
        _ => println!(
            "{n} secrets re-sealed; serve with --secret-key-file {} from now on",
            args.new_key_file.display()
        ),
    }
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

/// Runs `saisei audit verify`: checks the audit chain, then every record's current row
/// against its latest audit entry (streaming, with a progress bar). Exit 0 with
/// `ok N entries, M records`, or exit 1 naming the first broken entry or the first
/// record that differs (table, id, field).
pub async fn audit_verify(args: AuditVerifyArgs) -> Result<(), CliError> {
    use saisei_store::workflow::integrity;
    config::require_existing(args.db.as_deref())?;
    let store = serve::open(&config::database_url(args.db.as_deref())).await?;
    let total = integrity::records_to_verify(&store)
        .await
        .map_err(|e| CliError::Failure(e.into()))?;
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} verifying records against the audit trail [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let verdict = integrity::verify(&store, |n| bar.set_position(n))
        .await
        .map_err(|e| CliError::Failure(e.into()))?;
    bar.finish_and_clear();
    store.backend().close().await;
    match verdict.finding {
        None => {
            println!(
                "ok {} entries, {} records match their history",
                verdict.entries, verdict.records
            );
            Ok(())
        }
        Some(f) => {
            println!(
                "broken: {f} ({} entries and {} records before it verified)",
                verdict.entries, verdict.records
            );
            std::process::exit(1);
        }
    }
}
