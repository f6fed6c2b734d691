//! `vakt demo`: Vakt itself with a demo operator. The composition is here (start Vakt, seed
//! it on the first run, run the fleet); the seeding and the panels are `vakt-sim`'s.

use anyhow::Context as _;
use vakt_sim::seed::{DemoOptions, Manifest, seed, welcome};
use vakt_store::Identities;

/// Starts Vakt with the demo operator (made on the first run), its fleet of panels, and
/// prints how to sign in. Returns when Vakt is stopped.
///
/// # Errors
/// When Vakt cannot start or the demo cannot be set up.
pub async fn run(
    settings: crate::settings::Settings,
    options: DemoOptions,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    use std::sync::Arc;
    use vakt_core::Clock;

    crate::install_metrics();
    let mut settings = settings;
    // The demo is plain HTTP on this machine; a browser keeps a Secure cookie only over
    // HTTPS (or, depending on the browser, on localhost), so sign-in would silently fail.
    if settings.http.listen.ip().is_loopback() {
        settings.security.secure_cookies = false;
    }
    let data_dir = settings.data_dir.clone();
    let hasher = crate::hasher(&settings)?;
    let app = crate::launch(settings).await?;
    let clock: Arc<dyn Clock> = Arc::new(vakt_core::SystemClock);
    let manifest = match Manifest::load(&data_dir)? {
        Some(manifest) => manifest,
        None => {
            if !app.store.staff().await?.is_empty() {
                app.shutdown().await;
                anyhow::bail!(
                    "{} already holds a Vakt that is not a demo; give the demo its own folder with --data-dir",
                    data_dir.display()
                );
            }
            let today = vakt_service::registry::today(clock.now());
            writeln!(
                out,
                "Setting up the demo operator ({} sites)…",
                options.sites
            )?;
            seed(
                &app.store,
                &hasher,
                &data_dir,
                options.seed,
                options.sites,
                today,
            )
            .await?
        }
    };
    let tcp = app
        .dc09_address(vakt_store::Transport::Tcp)
        .context("the demo needs a DC-09 TCP listener")?;
    let cancel = tokio_util::sync::CancellationToken::new();
    let mut tasks = Vec::new();
    if options.fleet {
        let link = format!("ws://{}/panel-link", app.http);
        // Panel time starts at dawn today, so the first mornings happen while one watches.
        let start = vakt_sim::fleet::dawn(clock.now());
        // Site 1 is left for a person: `vakt panel --demo-site 1`.
        for panel in manifest.panels.iter().skip(1) {
            let spec = vakt_sim::fleet::demo_spec(
                panel,
                vakt_sim::fleet::Receivers {
                    primary: tcp,
                    backup: None,
                },
                Some(&link),
                Some(start),
            )?;
            let household = vakt_panel::life::Household::new(
                &spec.installation,
                vakt_sim::fleet::everyday_credential(&spec.installation),
            );
            let mut spec = spec;
            if tcp.ip().is_loopback() {
                spec.source = Some(vakt_sim::fleet::loopback_source(panel.number));
            }
            let handle = vakt_sim::virtual_panel::spawn(spec, clock.clone(), cancel.clone());
            let (clock, cancel) = (clock.clone(), cancel.clone());
            let seed = manifest.seed ^ (panel.number as u64);
            let speed = options.speed;
            tasks.push(tokio::spawn(async move {
                vakt_sim::fleet::live(
                    &handle,
                    household,
                    seed,
                    u64::from(u32::MAX),
                    vakt_panel::life::Odds::default(),
                    speed,
                    clock,
                    start,
                    cancel,
                )
                .await;
            }));
        }
    }
    write!(
        out,
        "{}",
        welcome(&manifest, app.http, tcp, &data_dir, &options)
    )?;
    out.flush()?;
    crate::wait_for_stop().await;
    cancel.cancel();
    for task in tasks {
        let _ = task.await;
    }
    app.shutdown().await;
    Ok(())
}
