//! The panel link's messages: JSON over a WebSocket from the panel to Vakt.
//!
//! DC-09 carries alarms one way. The link is the other way round: Vakt (for an operator, and
//! later the customer's app) asks a connected panel for its state and zone list and sends arm
//! and disarm commands; the panel pushes its state whenever it changes. The wire format is
//! documented in `docs/panel-link.md`; these types are the one definition both ends use.

use serde::{Deserialize, Serialize};

use crate::Lang;
use crate::panel::{ArmMode, ArmState, Panel, PointKind, Refusal};
use vakt_core::UnixMicros;

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
    /// The status of `panel` at `now`.
    #[must_use]
    pub fn of(panel: &Panel, now: UnixMicros) -> PanelStatus {
        PanelStatus {
            state: panel.state().as_str().to_owned(),
            display_sv: panel.display(now, Lang::Sv),
            display_en: panel.display(now, Lang::En),
            siren: panel.siren(now),
            mains: panel.mains(),
            service_needed: panel.service_needed(),
            zones: panel
                .points()
                .map(|p| Zone {
                    number: p.spec.number,
                    name: p.spec.name.clone(),
                    kind: p.spec.kind,
                    open: p.active,
                    tamper: p.covered || p.dismounted,
                    battery_percent: p.battery_percent,
                })
                .collect(),
        }
    }

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
