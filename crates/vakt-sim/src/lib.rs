//! Vakt's simulator: virtual alarm panels on real sockets, and what drives them.
//!
//! The panels themselves are `vakt-panel`'s pure machines; here they get a clock, a DC-09
//! transmitter on TCP/UDP and a panel-link client on a WebSocket ([`virtual_panel`],
//! [`link_client`]). A fleet of them runs at a fixed rate or lives simulated days
//! ([`fleet`]); one of them runs in the terminal with a keypad ([`terminal`]); and
//! [`seed`] fills an empty Vakt with a demo operator whose panels the fleet then drives.
//!
//! Nothing here is the alarm centre: the `vakt` binary composes these with Vakt itself
//! (`vakt demo`, `vakt fleet`, `vakt panel`), and tests use them against a real server.

pub mod fleet;
pub mod link_client;
pub mod seed;
pub mod terminal;
pub mod view;
pub mod virtual_panel;

/// Where the panels report and where they link, as the caller's configuration says.
#[derive(Clone, Debug)]
pub struct Target {
    /// The DC-09 TCP address, when one is configured.
    pub dc09: Option<std::net::SocketAddr>,
    /// Vakt's HTTP address (for the panel link).
    pub http: std::net::SocketAddr,
    /// Vakt's data folder (where the demo's manifest is).
    pub data_dir: std::path::PathBuf,
}
