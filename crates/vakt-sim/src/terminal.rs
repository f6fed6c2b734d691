//! `vakt panel`: one virtual panel in the terminal, for a person.
//!
//! The screen is what a customer has at home: the keypad's display line, a code typed on the
//! keypad, the alarm points with their state, the siren, mains and battery, and the event
//! log with who did what. Keys stand in for the person's hands: type a code and arm or
//! disarm, hold a tag or press a remote, open a door, walk past a detector, cover it, knock
//! on the box, pull the mains. The transmitter's line shows what the centre has received.
//!
//! The screen is redrawn whole in plain text, so it reads the same in any terminal, over SSH,
//! and in `tmux capture-pane` (which is how the test reads it).

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use crossterm::{cursor, execute, queue, terminal};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use vakt_core::{Clock, UnixMicros};
use vakt_panel::panel::{PointSpec, PointState};
use vakt_panel::{
    ArmMode, Credential, Format, Input, Lang, PanelConfig, PointKind, ReportCode, TransmitterConfig,
};

use crate::fleet::{Receivers, demo_spec, load_installation};
use crate::virtual_panel::{self, Command, PanelHandle, PanelSpec, PanelView};

/// Characters a code may have on the keypad.
const CODE_DIGITS_MAX: usize = 8;
/// Battery levels the `b` key steps through.
const BATTERY_STEPS: [u8; 4] = [100, 50, 10, 100];

/// `vakt panel`'s options.
#[derive(Clone, Debug, clap::Args)]
pub struct PanelOptions {
    /// Run the panel of this demo site (after `vakt demo`; site 1 is left free for you).
    #[arg(long)]
    pub demo_site: Option<usize>,
    /// Or run a plain panel with this account (register it first with `vakt accounts`).
    #[arg(long, conflicts_with = "demo_site")]
    pub account: Option<String>,
    /// The main code of a plain panel.
    #[arg(long, default_value = "1234")]
    pub code: String,
    /// Contact ID instead of SIA for a plain panel.
    #[arg(long)]
    pub contact_id: bool,
    /// The receiver (default: the configured DC-09 TCP listener).
    #[arg(long)]
    pub server: Option<SocketAddr>,
    /// A backup receiver.
    #[arg(long)]
    pub backup: Option<SocketAddr>,
    /// Vakt's HTTP address for the panel link (demo sites; default: the configured one).
    #[arg(long)]
    pub http: Option<SocketAddr>,
    /// Exit delay in seconds.
    #[arg(long, default_value_t = 180)]
    pub exit_delay: u32,
    /// Entry delay in seconds.
    #[arg(long, default_value_t = 30)]
    pub entry_delay: u32,
    /// Show the display in English.
    #[arg(long)]
    pub english: bool,
}

/// The panel to run: a demo site's (from the demo's manifest, linked to Vakt) or one of
/// the account given; with the title the keypad shows.
fn choose_panel(
    target: &crate::Target,
    options: &PanelOptions,
    receivers: Receivers,
) -> anyhow::Result<(PanelSpec, String)> {
    match (&options.demo_site, &options.account) {
        (Some(number), _) => {
            let manifest = crate::seed::Manifest::load(&target.data_dir)?.with_context(|| {
                format!(
                    "no demo in {}: start `vakt demo` first",
                    target.data_dir.display()
                )
            })?;
            let panel = manifest
                .panels
                .iter()
                .find(|p| p.number == *number)
                .with_context(|| format!("the demo has no site {number}"))?;
            let http = options.http.unwrap_or(target.http);
            let link = format!("ws://{http}/panel-link");
            let spec = demo_spec(panel, receivers, Some(&link), None)?;
            let codes: Vec<String> = panel
                .installation
                .credentials
                .iter()
                .filter_map(|c| match &c.credential {
                    Credential::Code(code) => Some(code.clone()),
                    _ => None,
                })
                .collect();
            let title = format!(
                "{} · huvudkod {} · koder {}",
                panel.site,
                panel.main_code,
                codes.join(" ")
            );
            Ok((spec, title))
        }
        (None, Some(account)) => {
            let spec = PanelSpec {
                name: account.clone(),
                panel: PanelConfig::default(),
                installation: load_installation(&options.code),
                transmitter: TransmitterConfig {
                    format: if options.contact_id {
                        Format::ContactId
                    } else {
                        Format::Sia
                    },
                    ..TransmitterConfig::new(account.clone())
                },
                clock_offset_s: 0,
                primary: receivers.primary,
                backup: receivers.backup,
                link: None,
                panel_start: None,
                source: None,
            };
            Ok((spec, format!("{account} · huvudkod {}", options.code)))
        }
        (None, None) => {
            anyhow::bail!("say which panel: --demo-site N (after `vakt demo`) or --account ACCOUNT")
        }
    }
}

/// Builds the panel from the options, runs it and its keypad until `q`.
///
/// # Errors
/// When the panel cannot be set up or the terminal cannot be used.
pub async fn run(
    target: &crate::Target,
    options: PanelOptions,
) -> anyhow::Result<std::process::ExitCode> {
    let primary = match options.server {
        Some(server) => server,
        None => target
            .dc09
            .context("no DC-09 TCP listener configured; say --server")?,
    };
    let receivers = Receivers {
        primary,
        backup: options.backup,
    };
    let (mut spec, title) = choose_panel(target, &options, receivers)?;
    spec.panel.exit_delay_s = options.exit_delay;
    spec.panel.entry_delay_s = options.entry_delay;
    let header = format!(
        "Vakt panel · {title} · konto {} · {}{}",
        spec.transmitter.account,
        spec.transmitter.format.as_str().to_uppercase(),
        if spec.transmitter.key.is_some() {
            " · krypterad"
        } else {
            ""
        }
    );
    let installation = spec.installation.clone();
    let clock: Arc<dyn Clock> = Arc::new(vakt_core::SystemClock);
    let cancel = CancellationToken::new();
    let handle = virtual_panel::spawn(spec, clock.clone(), cancel.clone());

    let mut keypad = Keypad {
        header,
        code: String::new(),
        selected: 0,
        lang: if options.english { Lang::En } else { Lang::Sv },
        star: false,
        message: String::new(),
        tag: installation
            .credentials
            .iter()
            .find_map(|c| match &c.credential {
                Credential::Tag(_) => Some(c.credential.clone()),
                _ => None,
            }),
        remote: installation
            .credentials
            .iter()
            .find_map(|c| match &c.credential {
                Credential::Remote(_) => Some(c.credential.clone()),
                _ => None,
            }),
        mains: true,
        box_battery: 0,
        point_battery: std::collections::HashMap::new(),
    };
    let result = interact(&mut keypad, handle, &*clock).await;
    cancel.cancel();
    result?;
    Ok(std::process::ExitCode::SUCCESS)
}

struct Keypad {
    header: String,
    code: String,
    selected: usize,
    lang: Lang,
    star: bool,
    message: String,
    tag: Option<Credential>,
    remote: Option<Credential>,
    mains: bool,
    box_battery: usize,
    point_battery: std::collections::HashMap<u32, usize>,
}

/// Puts the terminal in raw mode for as long as it lives.
struct RawScreen;

impl RawScreen {
    fn enter() -> anyhow::Result<RawScreen> {
        terminal::enable_raw_mode().context("the terminal cannot be put in raw mode")?;
        execute!(
            std::io::stdout(),
            terminal::EnterAlternateScreen,
            cursor::Hide
        )?;
        Ok(RawScreen)
    }
}

impl Drop for RawScreen {
    fn drop(&mut self) {
        let _ = execute!(
            std::io::stdout(),
            cursor::Show,
            terminal::LeaveAlternateScreen
        );
        let _ = terminal::disable_raw_mode();
    }
}

async fn interact(
    keypad: &mut Keypad,
    mut handle: PanelHandle,
    clock: &dyn Clock,
) -> anyhow::Result<()> {
    let _screen = RawScreen::enter()?;
    let (keys_tx, mut keys) = mpsc::channel::<KeyEvent>(32);
    // Reading the terminal blocks; a thread hands the keys over.
    std::thread::spawn(move || {
        while let Ok(event) = crossterm::event::read() {
            if let Event::Key(key) = event
                && key.kind != KeyEventKind::Release
                && keys_tx.blocking_send(key).is_err()
            {
                break;
            }
        }
    });
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        let view = handle.view.borrow_and_update().clone();
        draw(keypad, &view, clock.now())?;
        tokio::select! {
            _ = tick.tick() => {}
            changed = handle.view.changed() => if changed.is_err() { return Ok(()); },
            key = keys.recv() => {
                let Some(key) = key else { return Ok(()) };
                if !press(keypad, &handle, &view, key).await {
                    return Ok(());
                }
            }
        }
    }
}

fn sv(lang: Lang, swedish: &'static str, english: &'static str) -> &'static str {
    if lang == Lang::Sv { swedish } else { english }
}

/// The tag (`t`) or the remote (`r`): arms a disarmed system, disarms an armed one.
fn device_input(keypad: &mut Keypad, view: &PanelView, which: char) -> Option<Input> {
    let lang = keypad.lang;
    let credential = if which == 't' {
        keypad.tag.clone()
    } else {
        keypad.remote.clone()
    };
    match credential {
        Some(credential) if view.state.as_str() == "disarmed" => Some(Input::Arm {
            credential,
            mode: ArmMode::Away,
            partition: None,
        }),
        Some(credential) => Some(Input::Disarm {
            credential,
            partition: None,
        }),
        None => {
            keypad.message = sv(lang, "Ingen sådan enhet", "No such device").into();
            None
        }
    }
}

/// What a key does to the selected point: open or close it, walk past it (with a pet),
/// cover or uncover it, take it off the wall or put it back, or run down its battery.
fn point_input(
    keypad: &mut Keypad,
    view: &PanelView,
    spec: PointSpec,
    key: KeyCode,
) -> Option<Input> {
    match key {
        KeyCode::Char(' ') | KeyCode::Enter => Some({
            let point = spec.number;
            let active = view
                .points
                .iter()
                .find(|p| p.spec.number == point)
                .is_some_and(|p| p.active);
            match (spec.kind, active) {
                (PointKind::DoorWindow, false) => Input::Open { point },
                (PointKind::DoorWindow, true) => Input::Close { point },
                (PointKind::Smoke, false) => Input::Smoke { point },
                (PointKind::Smoke, true) => Input::SmokeClears { point },
                (PointKind::Panic, _) => Input::Panic { point },
                (_, false) => Input::Movement {
                    point,
                    pets_kg: None,
                },
                (_, true) => Input::Still { point },
            }
        }),
        KeyCode::Char('p') => Some(Input::Movement {
            point: spec.number,
            pets_kg: Some(15),
        }),
        KeyCode::Char('c') => Some({
            let covered = view
                .points
                .iter()
                .any(|p| p.spec.number == spec.number && p.covered);
            if covered {
                Input::Uncover { point: spec.number }
            } else {
                Input::Cover { point: spec.number }
            }
        }),
        KeyCode::Char('m') => Some({
            let off = view
                .points
                .iter()
                .any(|p| p.spec.number == spec.number && p.dismounted);
            if off {
                Input::Remount { point: spec.number }
            } else {
                Input::Dismount { point: spec.number }
            }
        }),
        KeyCode::Char('b') => Some({
            let step = keypad.point_battery.entry(spec.number).or_insert(0);
            *step = (*step + 1) % BATTERY_STEPS.len();
            Input::BatteryLevel {
                point: spec.number,
                percent: BATTERY_STEPS[*step],
            }
        }),
        _ => None,
    }
}

/// Handles one key; `false` ends the program.
async fn press(keypad: &mut Keypad, handle: &PanelHandle, view: &PanelView, key: KeyEvent) -> bool {
    let lang = keypad.lang;
    let code = Credential::Code(keypad.code.clone());
    let selected = view.points.get(keypad.selected).map(|p| p.spec.clone());
    let star = std::mem::take(&mut keypad.star);
    let input = match key.code {
        KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => return false,
        KeyCode::Char('q') | KeyCode::Esc => return false,
        KeyCode::Char('2') if star => Some(Input::StarTwo),
        KeyCode::Char(digit @ '0'..='9') => {
            if keypad.code.len() < CODE_DIGITS_MAX {
                keypad.code.push(digit);
            }
            None
        }
        KeyCode::Char('*') => {
            keypad.star = true;
            None
        }
        KeyCode::Backspace => {
            keypad.code.clear();
            None
        }
        KeyCode::Char('a') => Some(Input::Arm {
            credential: code,
            mode: ArmMode::Away,
            partition: None,
        }),
        KeyCode::Char('h') => Some(Input::Arm {
            credential: code,
            mode: ArmMode::Home,
            partition: None,
        }),
        KeyCode::Char('d') => Some(Input::Disarm {
            credential: code,
            partition: None,
        }),
        KeyCode::Char(which @ ('t' | 'r')) => device_input(keypad, view, which),
        KeyCode::Up => {
            keypad.selected = keypad.selected.saturating_sub(1);
            None
        }
        KeyCode::Down => {
            keypad.selected = (keypad.selected + 1).min(view.points.len().saturating_sub(1));
            None
        }
        KeyCode::Char(' ' | 'p' | 'c' | 'm' | 'b') | KeyCode::Enter => {
            selected.and_then(|spec| point_input(keypad, view, spec, key.code))
        }
        KeyCode::Char('B') => {
            keypad.box_battery = (keypad.box_battery + 1) % BATTERY_STEPS.len();
            Some(Input::BatteryLevel {
                point: vakt_panel::panel::CONTROL_BOX,
                percent: BATTERY_STEPS[keypad.box_battery],
            })
        }
        KeyCode::Char('k') => Some(Input::Knock),
        KeyCode::Char('n') => {
            keypad.mains = !keypad.mains;
            Some(if keypad.mains {
                Input::MainsRestored
            } else {
                Input::MainsLost
            })
        }
        KeyCode::Char('x') => {
            let _ = handle
                .commands
                .send(Command::LinkDown(Duration::from_secs(60)))
                .await;
            keypad.message = sv(
                lang,
                "Sändarens förbindelse bruten i 60 s",
                "Transmitter link cut for 60 s",
            )
            .into();
            None
        }
        KeyCode::Char('l') => {
            keypad.lang = if lang == Lang::Sv { Lang::En } else { Lang::Sv };
            None
        }
        _ => None,
    };
    if let Some(input) = input {
        let uses_code = matches!(
            input,
            Input::Arm {
                credential: Credential::Code(_),
                ..
            } | Input::Disarm {
                credential: Credential::Code(_),
                ..
            }
        );
        keypad.message = match handle.apply(input).await {
            Ok(()) => String::new(),
            Err(refusal) => refusal.message(lang),
        };
        if uses_code {
            keypad.code.clear();
        }
    }
    true
}

fn point_state(lang: Lang, point: &PointState) -> String {
    let mut words = vec![
        match (point.spec.kind, point.active) {
            (PointKind::DoorWindow, true) => sv(lang, "öppen", "open"),
            (PointKind::DoorWindow, false) => sv(lang, "stängd", "closed"),
            (PointKind::Smoke, true) => sv(lang, "RÖK", "SMOKE"),
            (PointKind::Smoke, false) => sv(lang, "ok", "ok"),
            (PointKind::Panic, _) => sv(lang, "redo", "ready"),
            (_, true) => sv(lang, "rörelse", "movement"),
            (_, false) => sv(lang, "lugn", "still"),
        }
        .to_owned(),
    ];
    if point.covered {
        words.push(sv(lang, "övertäckt", "covered").into());
    }
    if point.dismounted {
        words.push(sv(lang, "nedmonterad", "dismounted").into());
    }
    if point.battery_percent < 100 {
        words.push(format!(
            "{} {} %",
            sv(lang, "batteri", "battery"),
            point.battery_percent
        ));
    }
    words.join(", ")
}

fn kind_label(lang: Lang, kind: PointKind) -> &'static str {
    match kind {
        PointKind::DoorWindow => sv(lang, "magnetkontakt", "door/window"),
        PointKind::Motion => sv(lang, "rörelsedetektor", "motion"),
        PointKind::PetImmuneMotion => sv(lang, "husdjursdetektor", "pet-immune motion"),
        PointKind::Smoke => sv(lang, "brandvarnare", "smoke"),
        PointKind::Panic => sv(lang, "överfallsknapp", "panic button"),
        PointKind::Camera => sv(lang, "fotodetektor", "photo detector"),
    }
}

fn code_label(lang: Lang, code: ReportCode) -> &'static str {
    use ReportCode as C;
    match code {
        C::Burglary => sv(lang, "Inbrottslarm", "Burglary alarm"),
        C::BurglaryRestore => sv(lang, "Återställd", "Restored"),
        C::Fire => sv(lang, "Brandlarm", "Fire alarm"),
        C::FireRestore => sv(lang, "Brand återställd", "Fire restored"),
        C::Panic => sv(lang, "Överfallslarm", "Panic alarm"),
        C::Tamper => sv(lang, "Sabotage", "Tamper"),
        C::TamperRestore => sv(lang, "Sabotage åtgärdat", "Tamper restored"),
        C::Opening | C::RemoteOpening => sv(lang, "Frånkoppling", "Disarmed"),
        C::Closing | C::RemoteClosing => sv(lang, "Tillkoppling", "Armed"),
        C::PartialClosing => sv(lang, "Skalskydd", "Armed home"),
        C::MainsLost => sv(lang, "Nätavbrott", "Mains lost"),
        C::MainsRestored => sv(lang, "Nät åter", "Mains restored"),
        C::PanelBatteryLow | C::PointBatteryLow => sv(lang, "Lågt batteri", "Low battery"),
        C::PanelBatteryRestored | C::PointBatteryRestored => {
            sv(lang, "Batteri bytt", "Battery changed")
        }
        C::ExitError => sv(lang, "Utpasseringsfel", "Exit error"),
        C::WrongCodes => sv(lang, "Fel kod upprepade gånger", "Repeated wrong codes"),
        C::ProgrammingChanged => sv(lang, "Programmering ändrad", "Programming changed"),
        C::TestStart => sv(lang, "Provlarm start", "Test started"),
        C::TestEnd => sv(lang, "Provlarm slut", "Test ended"),
    }
}

fn clock_time(at: UnixMicros) -> String {
    vakt_core::calendar::format(at, "%H:%M:%S")
}

fn draw(keypad: &Keypad, view: &PanelView, _now: UnixMicros) -> anyhow::Result<()> {
    let lang = keypad.lang;
    let mut lines = vec![keypad.header.clone()];
    let display = if lang == Lang::Sv {
        &view.display_sv
    } else {
        &view.display_en
    };
    let width = display.chars().count().max(44);
    lines.push(format!("+{}+", "-".repeat(width + 2)));
    lines.push(format!("| {display:<width$} |"));
    lines.push(format!("+{}+", "-".repeat(width + 2)));
    lines.push(format!(
        "{} {:<10} {} {:<4} {} {:<4} {} {} %",
        sv(lang, "Kod:", "Code:"),
        "*".repeat(keypad.code.len()),
        sv(lang, "Siren:", "Siren:"),
        if view.siren {
            sv(lang, "LJUDER", "ON")
        } else {
            sv(lang, "av", "off")
        },
        sv(lang, "Nät:", "Mains:"),
        if view.mains {
            sv(lang, "på", "on")
        } else {
            sv(lang, "AV", "OFF")
        },
        sv(lang, "Batteri:", "Battery:"),
        view.battery_percent,
    ));
    lines.push(keypad.message.clone());
    lines.push(sv(lang, "Larmpunkter:", "Alarm points:").into());
    for (index, point) in view.points.iter().enumerate() {
        lines.push(format!(
            " {} {:>2} {:<24} {:<18} {}",
            if index == keypad.selected { ">" } else { " " },
            point.spec.number,
            point.spec.name,
            kind_label(lang, point.spec.kind),
            point_state(lang, point)
        ));
    }
    lines.push(format!(
        "{} {} · {} {} · {} {} · {} {} · {} {}",
        sv(lang, "Sändare:", "Transmitter:"),
        match view.path {
            vakt_panel::Path::Primary => sv(lang, "primär väg", "primary path"),
            vakt_panel::Path::Backup => sv(lang, "reservväg", "backup path"),
        },
        sv(lang, "kvitterade", "acknowledged"),
        view.stats.acked,
        sv(lang, "omsändningar", "retransmissions"),
        view.stats.retransmits,
        sv(lang, "väntar", "waiting"),
        view.pending,
        sv(lang, "panellänk", "panel link"),
        if view.link_connected {
            sv(lang, "ansluten", "connected")
        } else {
            sv(lang, "ej ansluten", "not connected")
        }
    ));
    lines.push(sv(lang, "Händelselogg:", "Event log:").into());
    for entry in view.log.iter().rev().take(6) {
        let point = entry
            .point
            .and_then(|n| view.points.iter().find(|p| p.spec.number == n))
            .map(|p| format!(" ({})", p.spec.name))
            .unwrap_or_default();
        lines.push(format!(
            "  {} {}{point} · {}",
            clock_time(entry.at),
            code_label(lang, entry.code),
            entry.by.label(lang)
        ));
    }
    lines.push(String::new());
    lines.push(
        sv(
            lang,
            "0-9 kod · a tillkoppla · h skalskydd · d frånkoppla · *2 service · t bricka · r fjärrkontroll",
            "0-9 code · a arm · h arm home · d disarm · *2 service · t tag · r remote",
        )
        .into(),
    );
    lines.push(
        sv(
            lang,
            "pilar välj punkt · mellanslag öppna/stäng/rörelse · p husdjur · c täck · m montera av · b batteri",
            "arrows pick a point · space open/close/move · p pets · c cover · m dismount · b battery",
        )
        .into(),
    );
    lines.push(
        sv(
            lang,
            "k knacka på centralen · n nätström · B centralens batteri · x bryt sändaren · l language · q avsluta",
            "k knock on the box · n mains · B box battery · x cut the link · l språk · q quit",
        )
        .into(),
    );
    let mut out = std::io::stdout().lock();
    queue!(
        out,
        cursor::MoveTo(0, 0),
        terminal::Clear(terminal::ClearType::All)
    )?;
    for line in lines {
        write!(out, "{line}\r\n")?;
    }
    out.flush()?;
    Ok(())
}
