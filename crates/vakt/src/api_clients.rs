//! `vakt api-client`: the programs allowed to use the JSON API, managed from the command
//! line through the same use cases as `POST /api/v1/clients`.

use std::io::Write;
use std::sync::Arc;

use anyhow::Context as _;
use vakt_core::access::{Scope, parse_scopes};
use vakt_core::{Clock, OsEntropy};
use vakt_service::access::{self, RevokeError};
use vakt_store::{Actor, Identities};

use crate::settings::Settings;

/// What to do with API clients.
#[derive(Debug, clap::Subcommand)]
pub enum ApiClientCommand {
    /// Register a client and print its token (shown this once, stored only hashed).
    Add {
        /// A name people recognise, such as "billing export".
        #[arg(long)]
        name: String,
        /// Scopes, separated by spaces or commas: admin, signals:read, transmitters:read,
        /// transmitters:write, registry:read, registry:write, incidents:read, panels,
        /// cluster:read.
        #[arg(long)]
        scopes: String,
    },
    /// List the clients, revoked ones included.
    List,
    /// Revoke a client: its token is refused from now on.
    Revoke {
        /// The client's id.
        id: i64,
    },
}

fn cli_actor() -> Actor {
    Actor {
        staff_id: None,
        name: "command line".into(),
    }
}

/// Runs one `vakt api-client` command; returns the process's exit code.
///
/// # Errors
/// When the database cannot be opened or fails.
pub async fn run(
    settings: &Settings,
    clock: Arc<dyn Clock>,
    command: ApiClientCommand,
    out: &mut impl Write,
) -> anyhow::Result<u8> {
    let (store, _) = crate::open_store(settings, clock.clone()).await?;
    let code = match command {
        ApiClientCommand::Add { name, scopes } => {
            let scopes: Vec<Scope> = match parse_scopes(&scopes) {
                Ok(scopes) => scopes,
                Err(word) => {
                    writeln!(out, "{word} is not a scope.")?;
                    store.close().await;
                    return Ok(2);
                }
            };
            match access::create_api_client(&store, &OsEntropy, &name, &scopes, &cli_actor()).await
            {
                Ok(made) => {
                    writeln!(out, "Created API client {} (id {}).", name.trim(), made.id)?;
                    writeln!(out, "Token (shown this once): {}", made.token)?;
                    0
                }
                Err(problems) => {
                    for p in problems {
                        writeln!(out, "{}: {}", p.field, p.en)?;
                    }
                    2
                }
            }
        }
        ApiClientCommand::List => {
            let clients = store.api_clients().await.context("listing API clients")?;
            for c in clients {
                let state = match c.revoked_at {
                    Some(at) => format!(
                        "revoked {}",
                        vakt_core::calendar::format(at, "%Y-%m-%d %H:%M")
                    ),
                    None => "active".into(),
                };
                let scopes = vakt_core::access::scopes_text(&c.scopes);
                writeln!(out, "{:>4}  {:<24} {:<40} {state}", c.id, c.name, scopes)?;
            }
            0
        }
        ApiClientCommand::Revoke { id } => {
            match access::revoke_api_client(&store, id, &cli_actor(), clock.now()).await {
                Ok(()) => {
                    writeln!(out, "Revoked API client {id}.")?;
                    0
                }
                Err(RevokeError::Configured) => {
                    writeln!(
                        out,
                        "Client {id} is the configured token: change [http] api_token instead."
                    )?;
                    2
                }
                Err(RevokeError::Store(vakt_store::StoreError::NotFound)) => {
                    writeln!(out, "No active API client {id}.")?;
                    2
                }
                Err(RevokeError::Store(error)) => {
                    store.close().await;
                    return Err(error.into());
                }
            }
        }
    };
    store.close().await;
    Ok(code)
}
