//! `saisei backup` and `saisei restore`: a consistent copy taken while the server keeps
//! serving, and a restore that proves itself with `audit verify`.
//!
//! SQLite copies with `VACUUM INTO` (one read snapshot; writers go on). PostgreSQL uses
//! its own tools, `pg_dump --format=custom` of the registry's schema and `pg_restore`
//! into an empty database, which must be installed beside the binary (Debian's
//! `postgresql-client`). Either way the restored registry is then verified, chain and
//! records, before the command says it is done.

use crate::config;
use crate::exit::CliError;
use crate::serve;
use saisei_store::{ColumnType, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Arguments of `saisei backup`.
#[derive(clap::Args)]
pub struct BackupArgs {
    /// Database: a SQLite file path or postgres://… URL [env: SAISEI_DATABASE_URL].
    #[arg(long)]
    db: Option<String>,
    /// The backup file to write (must not exist).
    #[arg(long)]
    out: PathBuf,
}

/// Arguments of `saisei restore`.
#[derive(clap::Args)]
pub struct RestoreArgs {
    /// The backup file.
    #[arg(long)]
    from: PathBuf,
    /// Where to restore: a SQLite file path that does not exist yet, or the URL of an
    /// empty PostgreSQL database.
    #[arg(long)]
    db: String,
}

fn tool(name: &str) -> Result<Command, CliError> {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
        .unwrap_or(false);
    if found {
        Ok(Command::new(name))
    } else {
        Err(CliError::input(format!(
            "{name} is not installed: a PostgreSQL registry is backed up and restored with PostgreSQL's own tools (Debian: apt-get install postgresql-client)"
        )))
    }
}

fn run_tool(mut cmd: Command, what: &str) -> Result<(), CliError> {
    let out = cmd
        .output()
        .map_err(|e| CliError::Failure(anyhow::anyhow!("{what}: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(CliError::Failure(anyhow::anyhow!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Runs `saisei backup`.
pub async fn backup(args: BackupArgs) -> Result<(), CliError> {
    if args.out.exists() {
        return Err(CliError::input(format!(
            "--out: {} already exists; name a new file",
            args.out.display()
        )));
    }
    let db = config::database_url(args.db.as_deref());
    config::require_existing(args.db.as_deref())?;
    let started = std::time::Instant::now();
    let out = args.out.to_string_lossy().to_string();
    if config::is_sqlite(&db) {
        let store = serve::open(&db).await?;
        store
            .backend()
            .backup_to(&out)
            .await
            .map_err(|e| CliError::Failure(anyhow::anyhow!("backup: {e}")))?;
        store.backend().close().await;
    } else {
        // The registry's schema (a registry may live in a schema of a shared database).
        let store = serve::open(&db).await?;
        let schema = store
            .backend()
            .select("SELECT current_schema()", &[], &[ColumnType::Text])
            .await
            .map_err(|e| CliError::Failure(e.into()))?
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .and_then(|v| match v {
                Value::Text(s) => Some(s),
                _ => None,
            })
            .unwrap_or_else(|| "public".into());
        store.backend().close().await;
        let mut cmd = tool("pg_dump")?;
        cmd.args(["--format=custom", "--no-owner", "--file"])
            .arg(&args.out)
            .arg(format!("--schema={schema}"))
            .arg(&db);
        run_tool(cmd, "pg_dump")?;
    }
    let bytes = std::fs::metadata(&args.out).map(|m| m.len()).unwrap_or(0);
    println!(
        "backup written to {} ({bytes} bytes) in {:.1} s",
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn sqlite_restore(from: &Path, to: &Path) -> Result<(), CliError> {
    if to.exists() {
        return Err(CliError::input(format!(
            "--db: {} already exists; restore into a new file",
            to.display()
        )));
    }
    std::fs::copy(from, to)?;
    Ok(())
}

/// Runs `saisei restore`: brings a backup back, then verifies it.
pub async fn restore(args: RestoreArgs) -> Result<(), CliError> {
    if !args.from.exists() {
        return Err(CliError::input(format!(
            "--from: {} does not exist",
            args.from.display()
        )));
    }
    if config::is_sqlite(&args.db) {
        sqlite_restore(&args.from, &config::sqlite_path(&args.db))?;
    } else {
        let store = saisei_server::database::connect(&args.db, false)
            .await
            .map_err(|e| CliError::input(format!("--db: {e}")))?;
        let tables = store
            .backend()
            .select(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'audit_log'",
                &[],
                &[ColumnType::Int],
            )
            .await
            .map_err(|e| CliError::Failure(e.into()))?;
        store.backend().close().await;
        if tables.first().and_then(|r| r.first()) != Some(&Value::Int(0)) {
            return Err(CliError::input(
                "--db: the database already holds a registry; restore into an empty database",
            ));
        }
        let mut cmd = tool("pg_restore")?;
        // --clean --if-exists: the dump recreates its schema (even `public`, which every
        // new database already has); the target was checked to hold no registry.
        cmd.args([
            "--exit-on-error",
            "--no-owner",
            "--clean",
            "--if-exists",
            "--dbname",
        ])
        .arg(&args.db)
        .arg(&args.from);
        run_tool(cmd, "pg_restore")?;
    }
    let store = serve::open(&args.db).await?;
    let verdict = saisei_store::workflow::integrity::verify(&store, |_| {})
        .await
        .map_err(|e| CliError::Failure(e.into()))?;
    store.backend().close().await;
    match verdict.finding {
        None => {
            println!(
                "restored into {}; ok {} entries, {} records match their history",
                args.db, verdict.entries, verdict.records
            );
            Ok(())
        }
        Some(f) => {
            println!("restored into {}, but broken: {f}", args.db);
            std::process::exit(1);
        }
    }
}
