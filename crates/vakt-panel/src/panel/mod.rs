//! The control panel (*centralenhet*) as a state machine.
//!
//! Everything a customer is told about their alarm system in the seed pages (DOMAIN.md
//! S1–S8) happens here: arming with exit delay, entry delay, "Larm ej klart", tamper and the
//! `*2` reset, codes with their authority, the siren and its cut-off, batteries and mains,
//! the event log with "okänd användare". The panel does no I/O and reads no clock: every call
//! is handed `now`, and every event for the centre comes back as a [`Report`]. That is what
//! lets a test live through a day of a panel in microseconds and replay it exactly.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};
use vakt_core::UnixMicros;

use crate::report::{Report, ReportCode};

mod display;
mod faults;
mod inputs;
pub use vakt_core::Lang;
pub use vakt_link::{ArmMode, ArmState, PointKind, Refusal};

const MICROS_PER_SECOND: i64 = 1_000_000;

/// The point numbers reports use for the control box itself.
pub const CONTROL_BOX: u32 = 0;

/// A user number that no person is tied to: the app, an untied tag or remote.
pub const UNKNOWN_USER: u32 = 0;

/// Settings an installer chooses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PanelConfig {
    /// Seconds from arming until the system is armed (the seeds tell testers three minutes).
    pub exit_delay_s: u32,
    /// Seconds from entering an armed site until the alarm goes off.
    pub entry_delay_s: u32,
    /// Seconds the siren sounds before it stops by itself.
    pub siren_cutoff_s: u32,
    /// Total pet weight a pet-immune motion detector ignores.
    pub pet_immunity_kg: u32,
    /// Battery level, in percent, below which a low battery is reported.
    pub low_battery_percent: u8,
    /// Wrong codes in a row before the centre is told.
    pub wrong_codes_max: u32,
    /// Entries the event log keeps; the oldest go first.
    pub event_log_entries_max: usize,
}

impl Default for PanelConfig {
    fn default() -> Self {
        PanelConfig {
            exit_delay_s: 180,
            entry_delay_s: 30,
            siren_cutoff_s: 180,
            pet_immunity_kg: 20,
            low_battery_percent: 15,
            wrong_codes_max: 5,
            event_log_entries_max: 500,
        }
    }
}

/// An alarm point as installed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointSpec {
    /// The zone number reported to the centre, 1 and up.
    pub number: u32,
    /// Where it is ("Ytterdörr", "Hall").
    pub name: String,
    /// What it is.
    pub kind: PointKind,
    /// The partition (area) it belongs to, 1 and up.
    pub partition: u8,
    /// Whether opening it while armed starts the entry delay rather than the alarm.
    pub entry_route: bool,
}

/// A person tied to codes, tags and remotes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The user number the panel reports.
    pub number: u32,
    /// The name shown in the event log.
    pub name: String,
}

/// What arms and disarms: something a person holds or knows.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Credential {
    /// A code typed on the keypad.
    Code(String),
    /// A tag (*larmbricka*) held to the keypad, by its serial.
    Tag(String),
    /// A remote control (*fjärrkontroll*), by its serial.
    Remote(String),
    /// A command from the app or the centre over the panel link.
    App,
}

/// How much a code may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Authority {
    /// The main code (*huvudkod*): arms, disarms, programs, manages codes.
    Main,
    /// A user code, tag or remote: arms and disarms.
    User,
}

/// One credential the panel accepts, and who holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolled {
    /// The code, tag or remote.
    pub credential: Credential,
    /// Its authority.
    pub authority: Authority,
    /// The user it is tied to, if any; untied ones log as "unknown user".
    pub user: Option<u32>,
}

/// The installation: points, users and credentials.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installation {
    /// The alarm points.
    pub points: Vec<PointSpec>,
    /// The people.
    pub users: Vec<User>,
    /// The credentials.
    pub credentials: Vec<Enrolled>,
}

/// Why a tamper was raised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TamperCause {
    /// A detector was covered (anti-masking).
    Covered,
    /// The control box was knocked or opened.
    Knock,
    /// A point was taken off the wall.
    Dismounted,
}

/// The live state of one point.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointState {
    /// The installed point.
    pub spec: PointSpec,
    /// Open door, movement in front of the detector, smoke in the chamber.
    pub active: bool,
    /// Covered.
    pub covered: bool,
    /// Off the wall.
    pub dismounted: bool,
    /// Battery in percent.
    pub battery_percent: u8,
    low_battery_reported: bool,
    alarmed: bool,
}

/// Something that happens to the panel or is done to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "input")]
pub enum Input {
    /// Arm (all partitions when `partition` is `None`).
    Arm {
        /// Who arms.
        credential: Credential,
        /// Full or partial.
        mode: ArmMode,
        /// One partition, or all.
        partition: Option<u8>,
    },
    /// Disarm (all partitions when `partition` is `None`).
    Disarm {
        /// Who disarms.
        credential: Credential,
        /// One partition, or all.
        partition: Option<u8>,
    },
    /// A door or window opens.
    Open {
        /// The point.
        point: u32,
    },
    /// It closes again.
    Close {
        /// The point.
        point: u32,
    },
    /// Something moves in front of a motion detector.
    Movement {
        /// The point.
        point: u32,
        /// `Some(kg)` when only pets move, with their total weight.
        pets_kg: Option<u32>,
    },
    /// The movement stops.
    Still {
        /// The point.
        point: u32,
    },
    /// Smoke reaches a smoke detector.
    Smoke {
        /// The point.
        point: u32,
    },
    /// The smoke clears.
    SmokeClears {
        /// The point.
        point: u32,
    },
    /// The panic button is pressed.
    Panic {
        /// The point.
        point: u32,
    },
    /// A detector is covered.
    Cover {
        /// The point.
        point: u32,
    },
    /// The cover is taken off.
    Uncover {
        /// The point.
        point: u32,
    },
    /// A point is taken off the wall.
    Dismount {
        /// The point.
        point: u32,
    },
    /// It is put back.
    Remount {
        /// The point.
        point: u32,
    },
    /// Someone knocks on or opens the control box.
    Knock,
    /// `*2` on the keypad: show what needs service.
    StarTwo,
    /// Mains power is lost.
    MainsLost,
    /// Mains power is back.
    MainsRestored,
    /// A battery runs down to `percent` (point 0 is the control box).
    BatteryLevel {
        /// The point, or [`CONTROL_BOX`].
        point: u32,
        /// The new level.
        percent: u8,
    },
    /// The main code adds or replaces a credential.
    Enrol {
        /// Who does it.
        by: Credential,
        /// The new credential.
        enrolled: Enrolled,
    },
    /// The main code removes a credential.
    Withdraw {
        /// Who does it.
        by: Credential,
        /// The credential to remove.
        credential: Credential,
    },
    /// The main code changes an installer setting.
    Program {
        /// Who does it.
        by: Credential,
        /// The new exit delay.
        exit_delay_s: u32,
        /// The new entry delay.
        entry_delay_s: u32,
    },
    /// The customer starts a test run (S8): the centre is told first.
    TestStart {
        /// Who starts it.
        credential: Credential,
    },
    /// The customer ends the test run.
    TestEnd {
        /// Who ends it.
        credential: Credential,
    },
}

/// Who did something, as the event log shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum Attribution {
    /// A user, with the name at the time.
    User {
        /// The number.
        number: u32,
        /// The name.
        name: String,
    },
    /// The app, or a code, tag or remote tied to nobody.
    Unknown,
    /// The panel itself (an alarm, a fault).
    System,
}

impl Attribution {
    /// How the event log names it.
    #[must_use]
    pub fn label(&self, lang: Lang) -> String {
        match (self, lang) {
            (Attribution::User { name, .. }, _) => name.clone(),
            (Attribution::Unknown, Lang::Sv) => "okänd användare".into(),
            (Attribution::Unknown, Lang::En) => "unknown user".into(),
            (Attribution::System, Lang::Sv) => "systemet".into(),
            (Attribution::System, Lang::En) => "the system".into(),
        }
    }
}

/// One line of the event log (*händelselogg*).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// When.
    pub at: UnixMicros,
    /// What, as reported (or would be).
    pub code: ReportCode,
    /// The point, if one.
    pub point: Option<u32>,
    /// Who.
    pub by: Attribution,
}

/// The `*2` reset: a code arms, then disarms, while no tamper cause remains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ServiceReset {
    Waiting,
    ArmedOnce,
}

/// The panel.
#[derive(Clone, Debug)]
pub struct Panel {
    config: PanelConfig,
    points: BTreeMap<u32, PointState>,
    users: BTreeMap<u32, User>,
    credentials: Vec<Enrolled>,
    partitions: BTreeMap<u8, ArmState>,
    siren_until: Option<UnixMicros>,
    service: Option<ServiceReset>,
    show_service: bool,
    mains: bool,
    battery_percent: u8,
    low_battery_reported: bool,
    wrong_codes: u32,
    testing: bool,
    notice: Option<Refusal>,
    log: VecDeque<LogEntry>,
    reports: Vec<Report>,
}

impl Panel {
    /// A panel as installed, disarmed, on mains with full batteries.
    #[must_use]
    pub fn new(config: PanelConfig, installation: Installation) -> Panel {
        let mut partitions = BTreeMap::new();
        partitions.insert(1, ArmState::Disarmed);
        let points = installation
            .points
            .into_iter()
            .map(|spec| {
                partitions.insert(spec.partition, ArmState::Disarmed);
                let state = PointState {
                    spec,
                    active: false,
                    covered: false,
                    dismounted: false,
                    battery_percent: 100,
                    low_battery_reported: false,
                    alarmed: false,
                };
                (state.spec.number, state)
            })
            .collect();
        Panel {
            config,
            points,
            users: installation
                .users
                .into_iter()
                .map(|u| (u.number, u))
                .collect(),
            credentials: installation.credentials,
            partitions,
            siren_until: None,
            service: None,
            show_service: false,
            mains: true,
            battery_percent: 100,
            low_battery_reported: false,
            wrong_codes: 0,
            testing: false,
            notice: None,
            log: VecDeque::new(),
            reports: Vec::new(),
        }
    }

    /// The settings.
    #[must_use]
    pub fn config(&self) -> &PanelConfig {
        &self.config
    }

    /// The points and their state, by number.
    pub fn points(&self) -> impl Iterator<Item = &PointState> {
        self.points.values()
    }

    /// Each partition's state.
    #[must_use]
    pub fn partitions(&self) -> &BTreeMap<u8, ArmState> {
        &self.partitions
    }

    /// Partition 1's state, which a one-partition home has.
    #[must_use]
    pub fn state(&self) -> ArmState {
        self.partitions
            .get(&1)
            .copied()
            .unwrap_or(ArmState::Disarmed)
    }

    /// Whether the siren sounds at `now`.
    #[must_use]
    pub fn siren(&self, now: UnixMicros) -> bool {
        self.siren_until.is_some_and(|until| now < until)
    }

    /// Whether service is needed ("Behov av service").
    #[must_use]
    pub fn service_needed(&self) -> bool {
        self.service.is_some()
    }

    /// Whether mains power is on.
    #[must_use]
    pub fn mains(&self) -> bool {
        self.mains
    }

    /// The control box's battery level.
    #[must_use]
    pub fn battery_percent(&self) -> u8 {
        self.battery_percent
    }

    /// The event log, oldest first.
    pub fn log(&self) -> impl DoubleEndedIterator<Item = &LogEntry> {
        self.log.iter()
    }

    /// The names of points that are open or active, which stop arming.
    #[must_use]
    pub fn not_ready(&self, partition: Option<u8>, mode: ArmMode) -> Vec<String> {
        self.points
            .values()
            .filter(|p| partition.is_none_or(|n| p.spec.partition == n))
            .filter(|p| !p.spec.kind.always_armed() && p.active)
            .filter(|p| mode == ArmMode::Away || !p.spec.kind.senses_motion())
            .map(|p| p.spec.name.clone())
            .collect()
    }

    /// Takes the reports produced since the last call, oldest first.
    pub fn take_reports(&mut self) -> Vec<Report> {
        std::mem::take(&mut self.reports)
    }

    /// When the panel next needs [`Panel::tick`] (a delay ends, the siren stops).
    #[must_use]
    pub fn next_deadline(&self) -> Option<UnixMicros> {
        let delays = self.partitions.values().filter_map(|state| match state {
            ArmState::Exiting { until, .. } | ArmState::Entry { until, .. } => Some(*until),
            _ => None,
        });
        delays.chain(self.siren_until).min()
    }

    /// Lets time pass: exit delays end, entry delays run out, the siren stops.
    pub fn tick(&mut self, now: UnixMicros) {
        let partitions: Vec<(u8, ArmState)> =
            self.partitions.iter().map(|(n, s)| (*n, *s)).collect();
        for (number, state) in partitions {
            match state {
                ArmState::Exiting { mode, until } if now >= until => {
                    self.partitions.insert(number, ArmState::Armed { mode });
                    // A point left open when the delay ends counts as entering.
                    let open: Vec<u32> = self
                        .points
                        .values()
                        .filter(|p| p.spec.partition == number && p.active)
                        .filter(|p| self.point_armed(p, mode))
                        .map(|p| p.spec.number)
                        .collect();
                    for point in open {
                        self.push(
                            now,
                            ReportCode::ExitError,
                            number,
                            point,
                            Attribution::System,
                        );
                        self.trigger(now, point);
                    }
                }
                ArmState::Entry { mode, until, point } if now >= until => {
                    self.alarm(now, number, mode, point);
                }
                _ => {}
            }
        }
        if self.siren_until.is_some_and(|until| now >= until) {
            self.siren_until = None;
        }
    }

    /// Applies one input at `now`. Reports for the centre collect until
    /// [`Panel::take_reports`]; a refusal changes nothing but the display.
    pub fn apply(&mut self, now: UnixMicros, input: Input) -> Result<(), Refusal> {
        self.tick(now);
        let result = self.apply_inner(now, input);
        // The keypad shows why it refused a code or an arming until the next input.
        self.notice = match &result {
            Err(
                refusal @ (Refusal::NotReady { .. } | Refusal::WrongCode | Refusal::NotAuthorised),
            ) => Some(refusal.clone()),
            _ => None,
        };
        result
    }
}

/// The customer's test run as the seed pages describe it (S8), as inputs with their offsets
/// in seconds: tell the centre, arm, leave through `door`, wait out the exit delay and a
/// minute more outside, come in, let the siren sound for 30 seconds, disarm.
#[must_use]
pub fn test_run(config: PanelConfig, door: u32, credential: Credential) -> Vec<(i64, Input)> {
    let exit = i64::from(config.exit_delay_s);
    let entry = i64::from(config.entry_delay_s);
    let back = exit + 60;
    let disarm = back + entry + 30;
    vec![
        (
            0,
            Input::TestStart {
                credential: credential.clone(),
            },
        ),
        (
            0,
            Input::Arm {
                credential: credential.clone(),
                mode: ArmMode::Away,
                partition: None,
            },
        ),
        (10, Input::Open { point: door }),
        (12, Input::Close { point: door }),
        (back, Input::Open { point: door }),
        (back + 2, Input::Close { point: door }),
        (back + entry, Input::StarTwo),
        (
            disarm,
            Input::Disarm {
                credential: credential.clone(),
                partition: None,
            },
        ),
        (disarm + 5, Input::TestEnd { credential }),
    ]
}
