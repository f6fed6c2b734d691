//! `vakt fleet`: many virtual panels against a Vakt server, for load or for life.
//!
//! At a fixed rate, each panel arms and disarms in turn so the fleet as a whole sends the
//! signals per second asked for. Living days, each panel follows `vakt_panel::life`'s seeded
//! household plan with panel time running `speed` times faster than real time, so a day of
//! fifty homes passes in minutes and the same seed replays the same days. Either way the
//! summary says what was sent, acknowledged, sent again, and what the transmitters had to do
//! (NAKs, failovers, returns).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::CancellationToken;
use vakt_core::{Clock, UnixMicros};
use vakt_dc09::{Key, KeyForm};
use vakt_panel::life::{Action, DAY_S, Household, Odds, day_plan};
use vakt_panel::panel::{Authority, Enrolled, PointSpec};
use vakt_panel::{
    ArmMode, Credential, Format, Input, Installation, PanelConfig, PointKind, Stats,
    TransmitterConfig, User,
};

use crate::link_client::LinkSpec;
use crate::seed::DemoPanel;
use crate::virtual_panel::{self, Command, PanelHandle, PanelSpec};

const MICROS_PER_SECOND: i64 = 1_000_000;

/// The totals of a fleet run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Panels.
    pub panels: usize,
    /// The transmitters' counters, added up.
    pub sum: Stats,
    /// Reports not yet acknowledged.
    pub pending: u64,
}

impl Totals {
    /// Adds up the panels' counters.
    #[must_use]
    pub fn of(handles: &[PanelHandle]) -> Totals {
        let mut totals = Totals {
            panels: handles.len(),
            ..Totals::default()
        };
        for handle in handles {
            let view = handle.view.borrow();
            totals.sum += view.stats;
            totals.pending += view.pending as u64;
        }
        totals
    }

    /// A few lines for people.
    #[must_use]
    pub fn summary(&self, seconds: f64) -> String {
        format!(
            "{} panels, {:.1} s\n\
             reports produced:      {}\n\
             messages acknowledged: {} ({:.0}/s, {} of them link tests)\n\
             retransmissions:       {}\n\
             NAKs (clock fixed):    {}\n\
             refused (DUH):         {}\n\
             failovers / returns:   {} / {}\n\
             dropped / pending:     {} / {}\n",
            self.panels,
            seconds,
            self.sum.reports,
            self.sum.acked,
            self.sum.acked as f64 / seconds.max(0.001),
            self.sum.heartbeats,
            self.sum.retransmits,
            self.sum.naks,
            self.sum.refused,
            self.sum.failovers,
            self.sum.returns,
            self.sum.dropped,
            self.pending,
        )
    }
}

/// Where panels send.
#[derive(Clone, Copy, Debug)]
pub struct Receivers {
    /// The primary receiver.
    pub primary: SocketAddr,
    /// The backup receiver.
    pub backup: Option<SocketAddr>,
}

/// A demo site's panel as a runnable spec.
///
/// # Errors
/// When the stored key cannot be read.
pub fn demo_spec(
    panel: &DemoPanel,
    receivers: Receivers,
    link_url: Option<&str>,
    panel_start: Option<UnixMicros>,
) -> anyhow::Result<PanelSpec> {
    let key = panel
        .key_hex
        .as_deref()
        .map(|hex| Key::parse(hex, KeyForm::Hex))
        .transpose()
        .map_err(|e| anyhow::anyhow!("site {}: {e}", panel.number))?;
    Ok(PanelSpec {
        name: panel.site.clone(),
        panel: PanelConfig::default(),
        installation: panel.installation.clone(),
        transmitter: TransmitterConfig {
            format: Format::parse(&panel.format).unwrap_or(Format::Sia),
            key,
            heartbeat_interval_s: 60,
            ..TransmitterConfig::new(panel.account.clone())
        },
        clock_offset_s: 0,
        primary: receivers.primary,
        backup: receivers.backup,
        link: link_url.map(|url| LinkSpec {
            url: url.to_owned(),
            token: panel.link_token.clone(),
            account: panel.account.clone(),
        }),
        panel_start,
        source: None,
    })
}

/// A small installation for load panels: a door, a motion detector, smoke; one main code.
#[must_use]
pub fn load_installation(code: &str) -> Installation {
    let point = |number, name: &str, kind, entry_route| PointSpec {
        number,
        name: name.into(),
        kind,
        partition: 1,
        entry_route,
    };
    Installation {
        points: vec![
            point(1, "Ytterdörr", PointKind::DoorWindow, true),
            point(2, "Hall", PointKind::Motion, false),
            point(3, "Brandvarnare", PointKind::Smoke, false),
        ],
        users: vec![User {
            number: 1,
            name: "Användare 1".into(),
        }],
        credentials: vec![Enrolled {
            credential: Credential::Code(code.into()),
            authority: Authority::Main,
            user: Some(1),
        }],
    }
}

/// The credential people at a site use day to day: the first user code, else the main code.
#[must_use]
pub fn everyday_credential(installation: &Installation) -> Credential {
    installation
        .credentials
        .iter()
        .find(|c| c.authority == Authority::User && matches!(c.credential, Credential::Code(_)))
        .or_else(|| installation.credentials.first())
        .map_or(Credential::App, |c| c.credential.clone())
}

/// Arms and disarms `panel` in turn, one operation every `interval`, until `cancel`.
pub async fn cycle(
    panel: &PanelHandle,
    credential: Credential,
    interval: Duration,
    cancel: CancellationToken,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut armed = false;
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let input = if armed {
            Input::Disarm {
                credential: credential.clone(),
                partition: None,
            }
        } else {
            Input::Arm {
                credential: credential.clone(),
                mode: ArmMode::Away,
                partition: None,
            }
        };
        if panel.apply(input).await.is_ok() {
            armed = !armed;
        }
    }
}

/// Lives `days` simulated days of a household, `speed` times faster than real time, from
/// `panel_start` (the panel's time, which this function drives with
/// [`Command::AdvanceTo`]).
#[allow(clippy::too_many_arguments)] // the plan's inputs and the two clocks, each needed
pub async fn live(
    panel: &PanelHandle,
    household: Household,
    seed: u64,
    days: u64,
    odds: Odds,
    speed: u32,
    clock: Arc<dyn Clock>,
    panel_start: UnixMicros,
    cancel: CancellationToken,
) {
    let real_start = clock.now();
    let speed = i64::from(speed.max(1));
    // The panel's clock moves at least this often in real time, so its display and the
    // panel link follow the delays between planned events.
    let step = speed * MICROS_PER_SECOND;
    let midnight = panel_start.0 - panel_start.0.rem_euclid(DAY_S * MICROS_PER_SECOND);
    let mut panel_now = panel_start.0;
    for day in 0..days {
        let day_start = midnight + i64::try_from(day).unwrap_or(0) * DAY_S * MICROS_PER_SECOND;
        for (at, action) in day_plan(seed, day, &household, &odds) {
            let target = day_start + at * MICROS_PER_SECOND;
            if target < panel_now {
                continue;
            }
            while panel_now < target {
                let next = (panel_now + step).min(target);
                let real_target = real_start.0 + (next - panel_start.0) / speed;
                let wait = real_target.saturating_sub(clock.now().0).max(0);
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_micros(u64::try_from(wait).unwrap_or(0))) => {}
                }
                if panel
                    .commands
                    .send(Command::AdvanceTo(UnixMicros(next)))
                    .await
                    .is_err()
                {
                    return;
                }
                panel_now = next;
            }
            match action {
                Action::Input(input) => {
                    // A refusal (not ready, already so) is part of life; the panel shows it.
                    let _ = panel.apply(input).await;
                }
                Action::LinkDown { seconds } => {
                    let real = Duration::from_secs_f64(f64::from(seconds) / speed as f64);
                    let _ = panel.commands.send(Command::LinkDown(real)).await;
                }
            }
        }
    }
}

/// 06:30 (UTC) on the day of `now`: where simulated days start, just before people wake.
#[must_use]
pub fn dawn(now: UnixMicros) -> UnixMicros {
    let day = DAY_S * MICROS_PER_SECOND;
    UnixMicros(now.0 - now.0.rem_euclid(day) + (6 * 3600 + 1800) * MICROS_PER_SECOND)
}

/// A loopback address of its own for panel `index`: 127.0.0.1, 127.0.0.2, … 127.0.0.250,
/// 127.0.1.1, …
#[must_use]
pub fn loopback_source(index: usize) -> std::net::IpAddr {
    let [_, high, low, _] = u32::try_from(index / 250).unwrap_or(0).to_be_bytes();
    let host = u8::try_from(index % 250 + 1).unwrap_or(1);
    std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, high, low, host))
}

/// Starts one panel per spec.
#[must_use]
pub fn spawn_all(
    specs: Vec<PanelSpec>,
    clock: &Arc<dyn Clock>,
    cancel: &CancellationToken,
) -> Vec<PanelHandle> {
    specs
        .into_iter()
        .map(|spec| virtual_panel::spawn(spec, clock.clone(), cancel.clone()))
        .collect()
}

/// `vakt fleet`'s options.
#[derive(Clone, Debug, clap::Args)]
pub struct FleetOptions {
    /// How many panels.
    #[arg(long, default_value_t = 100)]
    pub panels: usize,
    /// Signals per second for the whole fleet (load mode).
    #[arg(long, conflicts_with = "days")]
    pub rate: Option<f64>,
    /// Simulated days to live (life mode).
    #[arg(long)]
    pub days: Option<u64>,
    /// In life mode, panel time runs this many times faster than real time.
    #[arg(long, default_value_t = 600)]
    pub speed: u32,
    /// In load mode, how long to send, in seconds.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// The seed of the panels' days and settings; the same seed replays the same run.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The primary receiver (default: the configured DC-09 TCP listener).
    #[arg(long)]
    pub server: Option<SocketAddr>,
    /// A backup receiver.
    #[arg(long)]
    pub backup: Option<SocketAddr>,
    /// Encrypt every other panel with AES-128.
    #[arg(long)]
    pub encrypted: bool,
    /// The first account number; panels take consecutive accounts from it.
    #[arg(long, default_value_t = 700_000)]
    pub first_account: u32,
}

/// The fleet's transmitters to register and its panels to run, reporting to `primary`.
///
/// # Errors
/// When the options make no fleet.
pub fn plan(
    options: &FleetOptions,
    primary: SocketAddr,
    now: UnixMicros,
) -> anyhow::Result<(Vec<vakt_store::NewTransmitter>, Vec<PanelSpec>)> {
    use rand::SeedableRng;

    if options.panels == 0 {
        anyhow::bail!("--panels must be at least 1");
    }
    if options.rate.is_some_and(|r| !(r > 0.0 && r.is_finite())) {
        anyhow::bail!("--rate must be a positive number of signals per second");
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(options.seed);
    let mut inputs = Vec::with_capacity(options.panels);
    let mut specs = Vec::with_capacity(options.panels);
    for index in 0..options.panels {
        let account = format!("{}", u64::from(options.first_account) + index as u64);
        let key = (options.encrypted && index % 2 == 1).then(|| {
            let bytes: [u8; 16] = rand::RngExt::random(&mut rng);
            hex::encode_upper(bytes)
        });
        inputs.push(vakt_service::TransmitterInput {
            account: account.clone(),
            prefix: Some("0".into()),
            key: key.clone(),
            key_form: key.as_ref().map(|_| "hex".into()),
            supervision_interval_s: Some(600),
            site_name: format!("Fleet panel {account}"),
            site_address: Some(String::new()),
            ..vakt_service::TransmitterInput::default()
        });
        let code = format!("{:04}", rand::RngExt::random_range(&mut rng, 0..10_000));
        specs.push(PanelSpec {
            name: account.clone(),
            panel: PanelConfig::default(),
            installation: load_installation(&code),
            transmitter: TransmitterConfig {
                format: if index % 3 == 2 {
                    Format::ContactId
                } else {
                    Format::Sia
                },
                key: key
                    .as_deref()
                    .map(|k| Key::parse(k, KeyForm::Hex))
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
                heartbeat_interval_s: 60,
                answer_timeout_ms: 5_000,
                ..TransmitterConfig::new(account)
            },
            clock_offset_s: 0,
            primary,
            backup: options.backup,
            link: None,
            panel_start: options.days.map(|_| dawn(now)),
            source: primary.ip().is_loopback().then(|| loopback_source(index)),
        });
    }
    let transmitters = inputs
        .into_iter()
        .map(|i| i.validate().map_err(|e| anyhow::anyhow!("{e:?}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((transmitters, specs))
}

/// Runs the planned panels until the time is up or `stop` resolves, and prints a summary.
///
/// # Errors
/// When the summary cannot be written.
pub async fn drive(
    specs: Vec<PanelSpec>,
    options: &FleetOptions,
    out: &mut dyn std::io::Write,
    stop: impl std::future::Future<Output = ()>,
) -> anyhow::Result<std::process::ExitCode> {
    let clock: Arc<dyn Clock> = Arc::new(vakt_core::SystemClock);
    let cancel = CancellationToken::new();
    let installations: Vec<Installation> = specs.iter().map(|s| s.installation.clone()).collect();
    let handles: Arc<Vec<PanelHandle>> = Arc::new(spawn_all(specs, &clock, &cancel));
    let started = std::time::Instant::now();
    let mut stop = std::pin::pin!(stop);
    let mut drivers = Vec::new();
    let (length, plan_seconds) = match (options.rate, options.days) {
        (Some(_), _) | (None, None) => (options.seconds, options.seconds),
        (None, Some(days)) => {
            let seconds = (days * DAY_S as u64).div_ceil(u64::from(options.speed.max(1)));
            (seconds, seconds)
        }
    };
    for (index, installation) in installations.into_iter().enumerate() {
        let handles = handles.clone();
        let cancel = cancel.clone();
        let clock = clock.clone();
        let rate = options.rate.unwrap_or(options.panels as f64);
        let days = options.days;
        let (seed, speed) = (options.seed ^ index as u64, options.speed);
        drivers.push(tokio::spawn(async move {
            let panel = &handles[index];
            let credential = everyday_credential(&installation);
            match days {
                Some(days) => {
                    let household = Household::new(&installation, credential);
                    let start = dawn(clock.now());
                    live(
                        panel,
                        household,
                        seed,
                        days,
                        Odds::default(),
                        speed,
                        clock,
                        start,
                        cancel,
                    )
                    .await;
                }
                None => {
                    let interval = Duration::from_secs_f64(handles.len() as f64 / rate);
                    // Spread the panels over the first interval.
                    let offset = interval.mul_f64(index as f64 / handles.len() as f64);
                    tokio::time::sleep(offset).await;
                    cycle(panel, credential, interval, cancel).await;
                }
            }
        }));
    }

    let bar = indicatif::ProgressBar::new(plan_seconds);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} s  {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let deadline = started + Duration::from_secs(length);
    loop {
        let totals = Totals::of(&handles);
        bar.set_position(started.elapsed().as_secs().min(plan_seconds));
        bar.set_message(format!(
            "{} acked, {} again, {} pending",
            totals.sum.acked, totals.sum.retransmits, totals.pending
        ));
        if std::time::Instant::now() >= deadline {
            break;
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(200)) => {}
            () = &mut stop => break,
        }
    }
    // Stop producing, then give what is in flight a moment to be acknowledged.
    for driver in &drivers {
        driver.abort();
    }
    let drain_until = std::time::Instant::now() + Duration::from_secs(10);
    while Totals::of(&handles).pending > 0 && std::time::Instant::now() < drain_until {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bar.finish_and_clear();
    let totals = Totals::of(&handles);
    cancel.cancel();
    write!(out, "{}", totals.summary(started.elapsed().as_secs_f64()))?;
    Ok(if totals.pending == 0 && totals.sum.dropped == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    })
}
