//! The panel link's vocabulary, shared by Vakt's web side and the panels that connect to it
//! (Vakt's own simulated ones): the messages over the WebSocket, and the words they are made
//! of (arm modes and states, point kinds, a panel's refusals).
//!
//! DC-09 carries alarms one way. The link is the other way round: Vakt (for an operator, and
//! later the customer's app) asks a connected panel for its state and zone list and sends arm
//! and disarm commands; the panel pushes its state whenever it changes. The wire format is
//! documented in `docs/panel-link.md`; these types are the one definition both ends use.

use serde::{Deserialize, Serialize};
use vakt_core::{Lang, UnixMicros};

/// The kinds of alarm point (*larmpunkt*).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PointKind {
    /// Door or window magnet contact (*magnetkontakt*).
    DoorWindow,
    /// Motion detector (*rörelsedetektor*).
    Motion,
    /// Pet-immune motion detector (*husdjursdetektor*).
    PetImmuneMotion,
    /// Smoke detector: armed around the clock.
    Smoke,
    /// Panic button: armed around the clock, silent.
    Panic,
    /// Camera or photo detector: a motion detector that takes pictures.
    Camera,
}

impl PointKind {
    /// Every kind.
    pub const ALL: [PointKind; 6] = [
        PointKind::DoorWindow,
        PointKind::Motion,
        PointKind::PetImmuneMotion,
        PointKind::Smoke,
        PointKind::Panic,
        PointKind::Camera,
    ];

    /// The stable name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            PointKind::DoorWindow => "door_window",
            PointKind::Motion => "motion",
            PointKind::PetImmuneMotion => "pet_immune_motion",
            PointKind::Smoke => "smoke",
            PointKind::Panic => "panic",
            PointKind::Camera => "camera",
        }
    }

    /// Whether the point senses movement.
    #[must_use]
    pub fn senses_motion(self) -> bool {
        matches!(
            self,
            PointKind::Motion | PointKind::PetImmuneMotion | PointKind::Camera
        )
    }

    /// Whether the point is armed whatever the system's state.
    #[must_use]
    pub fn always_armed(self) -> bool {
        matches!(self, PointKind::Smoke | PointKind::Panic)
    }
}

/// Full or partial arming.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArmMode {
    /// Everything armed (*tillkopplat*).
    Away,
    /// Only the perimeter (*skalskydd*, "home"): people may move inside.
    Home,
}

/// The state of one partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum ArmState {
    /// Disarmed (*frånkopplat*).
    Disarmed,
    /// Counting down the exit delay.
    Exiting {
        /// The mode it will arm in.
        mode: ArmMode,
        /// When it arms.
        until: UnixMicros,
    },
    /// Armed.
    Armed {
        /// The mode.
        mode: ArmMode,
    },
    /// Someone came in: counting down the entry delay.
    Entry {
        /// The mode it was armed in.
        mode: ArmMode,
        /// When the alarm goes off.
        until: UnixMicros,
        /// The point that started it.
        point: u32,
    },
    /// The alarm went off and has not been disarmed.
    Alarm {
        /// The mode it was armed in.
        mode: ArmMode,
        /// The point that set it off.
        point: u32,
    },
}

impl ArmState {
    /// The stable name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ArmState::Disarmed => "disarmed",
            ArmState::Exiting { .. } => "exiting",
            ArmState::Armed {
                mode: ArmMode::Away,
            } => "armed",
            ArmState::Armed {
                mode: ArmMode::Home,
            } => "armed_home",
            ArmState::Entry { .. } => "entry",
            ArmState::Alarm { .. } => "alarm",
        }
    }

    /// Whether it is disarmed.
    #[must_use]
    pub fn is_disarmed(self) -> bool {
        matches!(self, ArmState::Disarmed)
    }
}

/// Why the panel refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case", tag = "refusal", content = "detail")]
pub enum Refusal {
    /// "Larm ej klart": these points are open or active.
    #[error("alarm not ready: {}", points.join(", "))]
    NotReady {
        /// The points' names.
        points: Vec<String>,
    },
    /// The code, tag or remote is not known.
    #[error("wrong code")]
    WrongCode,
    /// Only the main code may do this.
    #[error("only the main code may do this")]
    NotAuthorised,
    /// There is no such point.
    #[error("no point {0}")]
    NoSuchPoint(u32),
    /// The point is of a kind that cannot do this.
    #[error("point {0} cannot do that")]
    WrongKind(u32),
    /// Nothing to do: already in that state.
    #[error("already so")]
    AlreadySo,
}

impl Refusal {
    /// The keypad's words for it.
    #[must_use]
    pub fn message(&self, lang: Lang) -> String {
        let sv = lang == Lang::Sv;
        match self {
            Refusal::NotReady { points } if sv => format!("Larm ej klart: {}", points.join(", ")),
            Refusal::NotReady { points } => format!("Alarm not ready: {}", points.join(", ")),
            Refusal::WrongCode if sv => "Fel kod".into(),
            Refusal::WrongCode => "Wrong code".into(),
            Refusal::NotAuthorised if sv => "Kräver huvudkod".into(),
            Refusal::NotAuthorised => "Main code required".into(),
            Refusal::NoSuchPoint(_) | Refusal::WrongKind(_) if sv => {
                "Går inte med den punkten".into()
            }
            Refusal::NoSuchPoint(_) | Refusal::WrongKind(_) => {
                "Not possible with that point".into()
            }
            Refusal::AlreadySo if sv => "Redan gjort".into(),
            Refusal::AlreadySo => "Already so".into(),
        }
    }
}

/// The protocol version the panel announces.
pub const PROTOCOL: u32 = 1;

/// A message from the panel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum FromPanel {
    /// The first message: who the panel is.
    Hello {
        /// The DC-09 account it reports as.
        account: String,
        /// The protocol version.
        protocol: u32,
        /// The firmware, for people.
        firmware: String,
    },
    /// The state, after `hello`, after every change, and when asked.
    State(PanelStatus),
    /// The answer to a command.
    Reply {
        /// The command's id.
        id: u64,
        /// Whether the panel did it.
        ok: bool,
        /// Why not.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refusal: Option<Refusal>,
    },
}

/// A command from Vakt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ToPanel {
    /// Send the state now.
    GetState {
        /// Echoed in the reply.
        id: u64,
    },
    /// Arm, fully or partially.
    Arm {
        /// Echoed in the reply.
        id: u64,
        /// Full or partial.
        mode: ArmMode,
    },
    /// Disarm.
    Disarm {
        /// Echoed in the reply.
        id: u64,
    },
}

/// One zone as the link shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    /// The zone number.
    pub number: u32,
    /// Its name.
    pub name: String,
    /// What it is.
    pub kind: PointKind,
    /// Open or active.
    pub open: bool,
    /// Covered or dismounted.
    pub tamper: bool,
    /// Battery level.
    pub battery_percent: u8,
}

/// The panel's state as the link shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PanelStatus {
    /// Partition 1's state name (`disarmed`, `exiting`, `armed`, `armed_home`, `entry`,
    /// `alarm`).
    pub state: String,
    /// The keypad line in Swedish.
    pub display_sv: String,
    /// The keypad line in English.
    pub display_en: String,
    /// Whether the siren sounds.
    pub siren: bool,
    /// Mains power.
    pub mains: bool,
    /// Whether service is needed (tamper not yet reset).
    pub service_needed: bool,
    /// The zones.
    pub zones: Vec<Zone>,
}

impl PanelStatus {
    /// The names of open zones.
    #[must_use]
    pub fn open_zones(&self) -> Vec<&str> {
        self.zones
            .iter()
            .filter(|z| z.open)
            .map(|z| z.name.as_str())
            .collect()
    }

    /// Whether partition 1 is in `state`.
    #[must_use]
    pub fn is(&self, state: ArmState) -> bool {
        self.state == state.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_tagged_json_as_documented() {
        let hello = FromPanel::Hello {
            account: "12AB".into(),
            protocol: PROTOCOL,
            firmware: "vakt-panel".into(),
        };
        assert_eq!(
            serde_json::to_string(&hello).unwrap(),
            r#"{"type":"hello","account":"12AB","protocol":1,"firmware":"vakt-panel"}"#
        );
        let arm: ToPanel = serde_json::from_str(r#"{"type":"arm","id":7,"mode":"home"}"#).unwrap();
        assert_eq!(
            arm,
            ToPanel::Arm {
                id: 7,
                mode: ArmMode::Home
            }
        );
        let reply = FromPanel::Reply {
            id: 7,
            ok: false,
            refusal: Some(Refusal::NotReady {
                points: vec!["Ytterdörr".into()],
            }),
        };
        assert_eq!(
            serde_json::to_string(&reply).unwrap(),
            r#"{"type":"reply","id":7,"ok":false,"refusal":{"refusal":"not_ready","detail":{"points":["Ytterdörr"]}}}"#
        );
        assert!(serde_json::from_str::<ToPanel>(r#"{"type":"format_disk","id":1}"#).is_err());
    }
}
