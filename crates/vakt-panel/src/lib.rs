//! Vakt's own alarm panel: the control panel as a pure state machine ([`panel`]), the
//! reports it sends and how SIA and Contact ID spell them ([`report`]), and the DC-09
//! transmitter that delivers them with retransmission, clock correction and failover
//! ([`transmitter`]).
//!
//! Nothing here opens a socket or reads a clock. The `vakt` binary drives these machines over
//! real sockets (`vakt panel`, `vakt fleet`, `vakt demo`); the tests drive them through
//! simulated days from a seed.

pub mod life;
pub mod link;
pub mod panel;
pub mod report;
pub mod transmitter;

pub use panel::test_run;
pub use panel::{
    ArmMode, ArmState, Attribution, Authority, Credential, Enrolled, Input, Installation, Lang,
    LogEntry, Panel, PanelConfig, PointKind, PointSpec, Refusal, User,
};
pub use report::{Format, Report, ReportCode};
pub use transmitter::{Answered, Path, Send, Stats, Transmitter, TransmitterConfig};

#[cfg(test)]
mod tests;
