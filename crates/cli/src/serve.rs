//! `saisei serve` and `saisei migrate`.

use crate::config;
use crate::exit::CliError;
use saisei_domain::regulation::RuleBook;
use saisei_server::AppState;
use saisei_store::Store;
use std::net::SocketAddr;
use std::path::Path;

/// Opens the database, bringing its schema up to date.
pub async fn open(db_url: &str) -> Result<Store, CliError> {
    saisei_server::database::connect(db_url, true)
        .await
        .map_err(|e| CliError::Failure(anyhow::anyhow!("cannot open database {db_url}: {e}")))
}

/// The embedded rule sets, validated.
pub fn rules() -> Result<&'static RuleBook, CliError> {
    RuleBook::embedded()
        .map_err(|e| CliError::Failure(anyhow::anyhow!("embedded rule sets are invalid: {e}")))
}

/// Parses `HOST:PORT`.
pub fn parse_addr(addr: &str) -> Result<SocketAddr, CliError> {
    addr.parse().map_err(|_| {
        CliError::input(format!(
            "--addr: '{addr}' is not HOST:PORT (e.g. 127.0.0.1:8080)"
        ))
    })
}

/// Serves the registry at `addr` until interrupted.
pub async fn serve(
    store: Store,
    key_file: Option<&Path>,
    db_url: &str,
    addr: SocketAddr,
) -> Result<(), CliError> {
    let key = config::load_key(key_file, db_url)?;
    if key.is_none() {
        eprintln!(
            "note: no pseudonym key configured (SAISEI_PSEUDONYM_KEY or --key-file); registering patients is disabled"
        );
    }
    let state = AppState::new(store, key, rules()?);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::Failure(anyhow::anyhow!("cannot listen on {addr}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| CliError::Failure(e.into()))?;
    println!(
        "Saisei is serving http://{bound}/  (API: http://{bound}/api/v1/, press Ctrl-C to stop)"
    );
    saisei_server::serve_on(state, listener)
        .await
        .map_err(|e| CliError::Failure(e.into()))
}
