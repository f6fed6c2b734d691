//! `vakt fleet` and `vakt panel`: the simulator (`vakt-sim`) pointed at this configuration's
//! Vakt. The fleet's transmitters are registered here, through the store this Vakt uses.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use vakt_core::{Clock, SystemClock};
use vakt_sim::Target;
use vakt_sim::fleet::FleetOptions;
use vakt_sim::terminal::PanelOptions;
use vakt_store::Registry;

use crate::settings::Settings;

/// Where this configuration's Vakt listens, for the panels.
#[must_use]
pub fn target(settings: &Settings) -> Target {
    Target {
        dc09: crate::settings::default_tcp(settings),
        http: settings.http.listen,
        data_dir: settings.data_dir.clone(),
    }
}

/// Registers the fleet's transmitters, runs the fleet until its time is up or Vakt is
/// stopped, and prints a summary.
///
/// # Errors
/// When the store cannot be opened or the registration fails.
pub async fn fleet(
    settings: Settings,
    options: FleetOptions,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<ExitCode> {
    let primary = options
        .server
        .or_else(|| crate::settings::default_tcp(&settings))
        .context("no DC-09 TCP listener configured; say --server")?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let (transmitters, specs) = vakt_sim::fleet::plan(&options, primary, clock.now())?;
    let (store, _) = crate::open_store(&settings, clock).await?;
    let imported = store.import_transmitters(transmitters).await;
    store.close().await;
    imported?;
    // The receiver rereads the registry on its own; give it a moment.
    tokio::time::sleep(Duration::from_millis(
        settings.receiver.registry_poll_ms.saturating_mul(3),
    ))
    .await;
    vakt_sim::fleet::drive(specs, &options, out, crate::wait_for_stop()).await
}

/// One virtual panel in the terminal.
///
/// # Errors
/// When the panel cannot be set up or the terminal cannot be used.
pub async fn panel(settings: &Settings, options: PanelOptions) -> anyhow::Result<ExitCode> {
    vakt_sim::terminal::run(&target(settings), options).await
}
