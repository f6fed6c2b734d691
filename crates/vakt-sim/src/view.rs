//! What a virtual panel shows: its keypad line, state, points, log and how its transmitter
//! is doing, as the terminal draws it and the panel link reports it.

use serde::Serialize;
use vakt_core::UnixMicros;
use vakt_panel::panel::{LogEntry, PointState};
use vakt_panel::{ArmState, Path, Stats};

/// What the panel shows and how its transmitter is doing.
#[derive(Clone, Debug, Serialize)]
pub struct PanelView {
    /// The keypad line in Swedish.
    pub display_sv: String,
    /// The keypad line in English.
    pub display_en: String,
    /// Partition 1's state.
    pub state: ArmState,
    /// Whether the siren sounds.
    pub siren: bool,
    /// The points.
    pub points: Vec<PointState>,
    /// The newest event log entries, newest last.
    pub log: Vec<LogEntry>,
    /// The transmitter's counters.
    pub stats: Stats,
    /// The path new messages take.
    pub path: Path,
    /// How far the transmitter's clock is off, in seconds.
    pub clock_offset_s: i64,
    /// Reports not yet acknowledged.
    pub pending: usize,
    /// Whether the panel link is up.
    pub link_connected: bool,
    /// Mains power.
    pub mains: bool,
    /// The control box's battery.
    pub battery_percent: u8,
    /// The panel's own time.
    pub panel_now: UnixMicros,
    /// The state as the panel link shows it.
    pub status: vakt_panel::link::PanelStatus,
}
