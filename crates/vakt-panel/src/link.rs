//! The panel link from the panel's side: the messages (from `vakt-link`) and the status a
//! panel reports over it.

use vakt_core::UnixMicros;
pub use vakt_link::{FromPanel, PROTOCOL, PanelStatus, ToPanel, Zone};

use crate::Lang;
use crate::panel::Panel;

/// The status of `panel` at `now`, as the link reports it.
#[must_use]
pub fn status_of(panel: &Panel, now: UnixMicros) -> PanelStatus {
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
