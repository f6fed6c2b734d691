//! What a panel tells the alarm receiving centre, and how each format spells it.
//!
//! The panel decides *what* happened ([`ReportCode`]); the transmitter writes it as SIA DC-03
//! (`#1234|Nri1/BA3`) or Contact ID (`#1234|1130 01 003`), whichever the installer chose for
//! the panel. Both spellings are the ones `vakt_dc09::payload` reads back, so the round trip
//! through the real receiver is tested rather than assumed.

use serde::{Deserialize, Serialize};
use vakt_core::UnixMicros;

/// The payload format a transmitter writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// SIA DC-03 in a `SIA-DCS` message.
    Sia,
    /// Contact ID in an `ADM-CID` message.
    ContactId,
}

impl Format {
    /// The stable name (`sia`, `cid`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Sia => "sia",
            Format::ContactId => "cid",
        }
    }

    /// Reads `sia` or `cid`.
    #[must_use]
    pub fn parse(text: &str) -> Option<Format> {
        match text.trim().to_ascii_lowercase().as_str() {
            "sia" | "sia-dcs" => Some(Format::Sia),
            "cid" | "contact-id" | "adm-cid" => Some(Format::ContactId),
            _ => None,
        }
    }
}

/// What happened, in the panel's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportCode {
    /// Intrusion on a point while armed.
    Burglary,
    /// The point that caused a burglary alarm is back to normal.
    BurglaryRestore,
    /// Smoke.
    Fire,
    /// The smoke is gone.
    FireRestore,
    /// The panic button.
    Panic,
    /// A covered detector, a knock on the box, a dismounted point.
    Tamper,
    /// The tamper cause is gone.
    TamperRestore,
    /// Disarmed by a code, tag or remote.
    Opening,
    /// Fully armed.
    Closing,
    /// Partially armed ("home", skalskydd).
    PartialClosing,
    /// Disarmed from the app (a remote command).
    RemoteOpening,
    /// Armed from the app.
    RemoteClosing,
    /// Mains power lost.
    MainsLost,
    /// Mains power back.
    MainsRestored,
    /// The control box's battery is low.
    PanelBatteryLow,
    /// The control box's battery was changed.
    PanelBatteryRestored,
    /// A wireless point's battery is low.
    PointBatteryLow,
    /// A wireless point's battery was changed.
    PointBatteryRestored,
    /// A point was still open when the exit delay ended.
    ExitError,
    /// Too many wrong codes in a row.
    WrongCodes,
    /// The main code changed codes or programming.
    ProgrammingChanged,
    /// The customer's test run started (S8).
    TestStart,
    /// The customer's test run ended.
    TestEnd,
}

impl ReportCode {
    /// Whether the address is a user number rather than a zone.
    #[must_use]
    pub fn addresses_user(self) -> bool {
        matches!(
            self,
            ReportCode::Opening
                | ReportCode::Closing
                | ReportCode::PartialClosing
                | ReportCode::RemoteOpening
                | ReportCode::RemoteClosing
                | ReportCode::WrongCodes
                | ReportCode::ProgrammingChanged
                | ReportCode::TestStart
                | ReportCode::TestEnd
        )
    }

    /// The SIA DC-03 event code.
    #[must_use]
    pub fn sia(self) -> &'static str {
        match self {
            ReportCode::Burglary => "BA",
            ReportCode::BurglaryRestore => "BR",
            ReportCode::Fire => "FA",
            ReportCode::FireRestore => "FR",
            ReportCode::Panic => "PA",
            ReportCode::Tamper => "TA",
            ReportCode::TamperRestore => "TR",
            ReportCode::Opening => "OP",
            ReportCode::Closing => "CL",
            ReportCode::PartialClosing => "CG",
            ReportCode::RemoteOpening => "OQ",
            ReportCode::RemoteClosing => "CQ",
            ReportCode::MainsLost => "AT",
            ReportCode::MainsRestored => "AR",
            ReportCode::PanelBatteryLow => "YT",
            ReportCode::PanelBatteryRestored => "YR",
            ReportCode::PointBatteryLow => "XT",
            ReportCode::PointBatteryRestored => "XR",
            ReportCode::ExitError => "EE",
            ReportCode::WrongCodes => "JA",
            ReportCode::ProgrammingChanged => "YG",
            ReportCode::TestStart => "TS",
            ReportCode::TestEnd => "TE",
        }
    }

    /// The Contact ID qualifier (1 new or opening, 3 restore or closing) and event code.
    #[must_use]
    pub fn contact_id(self) -> (u8, u16) {
        match self {
            ReportCode::Burglary => (1, 130),
            ReportCode::BurglaryRestore => (3, 130),
            ReportCode::Fire => (1, 111),
            ReportCode::FireRestore => (3, 111),
            ReportCode::Panic => (1, 120),
            ReportCode::Tamper => (1, 137),
            ReportCode::TamperRestore => (3, 137),
            ReportCode::Opening => (1, 401),
            ReportCode::Closing => (3, 401),
            ReportCode::PartialClosing => (3, 441),
            ReportCode::RemoteOpening => (1, 407),
            ReportCode::RemoteClosing => (3, 407),
            ReportCode::MainsLost => (1, 301),
            ReportCode::MainsRestored => (3, 301),
            ReportCode::PanelBatteryLow => (1, 302),
            ReportCode::PanelBatteryRestored => (3, 302),
            ReportCode::PointBatteryLow => (1, 384),
            ReportCode::PointBatteryRestored => (3, 384),
            ReportCode::ExitError => (1, 374),
            ReportCode::WrongCodes => (1, 461),
            ReportCode::ProgrammingChanged => (1, 306),
            ReportCode::TestStart => (1, 607),
            ReportCode::TestEnd => (3, 607),
        }
    }
}

/// One event for the centre.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// When the panel noticed it (the panel's own clock).
    pub at: UnixMicros,
    /// What happened.
    pub code: ReportCode,
    /// The partition (area), 1 and up.
    pub partition: u8,
    /// The zone or user number; 0 for the control box itself or an unknown user.
    pub address: u32,
}

impl Report {
    /// The data block's content for `account` in `format`, without the brackets.
    #[must_use]
    pub fn data(&self, account: &str, format: Format) -> String {
        match format {
            Format::Sia => {
                let user = if self.code.addresses_user() {
                    format!("id{}/", self.address)
                } else {
                    String::new()
                };
                format!(
                    "#{account}|Nri{}/{user}{}{}",
                    self.partition,
                    self.code.sia(),
                    self.address
                )
            }
            Format::ContactId => {
                let (qualifier, code) = self.code.contact_id();
                format!(
                    "#{account}|{qualifier}{code:03} {:02} {:03}",
                    self.partition,
                    self.address % 1000
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vakt_core::{Category, Condition};
    use vakt_dc09::payload::{parse_contact_id, parse_sia};

    const ALL: [ReportCode; 23] = [
        ReportCode::Burglary,
        ReportCode::BurglaryRestore,
        ReportCode::Fire,
        ReportCode::FireRestore,
        ReportCode::Panic,
        ReportCode::Tamper,
        ReportCode::TamperRestore,
        ReportCode::Opening,
        ReportCode::Closing,
        ReportCode::PartialClosing,
        ReportCode::RemoteOpening,
        ReportCode::RemoteClosing,
        ReportCode::MainsLost,
        ReportCode::MainsRestored,
        ReportCode::PanelBatteryLow,
        ReportCode::PanelBatteryRestored,
        ReportCode::PointBatteryLow,
        ReportCode::PointBatteryRestored,
        ReportCode::ExitError,
        ReportCode::WrongCodes,
        ReportCode::ProgrammingChanged,
        ReportCode::TestStart,
        ReportCode::TestEnd,
    ];

    #[test]
    fn both_formats_read_back_as_the_same_category_and_address() {
        for code in ALL {
            let report = Report {
                at: UnixMicros(0),
                code,
                partition: 1,
                address: 3,
            };
            let sia = parse_sia(report.data("1234", Format::Sia).as_bytes());
            let cid = parse_contact_id(report.data("1234", Format::ContactId).as_bytes());
            let (sia, cid) = (&sia.events[0], &cid.events[0]);
            assert_ne!(sia.category, Category::Unknown, "{code:?} in SIA");
            assert_eq!(sia.category, cid.category, "{code:?}");
            if code.addresses_user() {
                // Contact ID has one number field; a few codes call it a zone.
                assert_eq!(
                    (sia.user, cid.user.or(cid.zone)),
                    (Some(3), Some(3)),
                    "{code:?}"
                );
            } else {
                assert_eq!((sia.zone, cid.zone), (Some(3), Some(3)), "{code:?}");
                assert_eq!(sia.condition, cid.condition, "{code:?}");
            }
        }
    }

    #[test]
    fn burglary_and_opening_read_as_the_centre_expects() {
        let at = UnixMicros(0);
        let burglary = Report {
            at,
            code: ReportCode::Burglary,
            partition: 1,
            address: 12,
        };
        assert_eq!(burglary.data("12AB", Format::Sia), "#12AB|Nri1/BA12");
        assert_eq!(
            burglary.data("12AB", Format::ContactId),
            "#12AB|1130 01 012"
        );
        let opening = Report {
            code: ReportCode::Opening,
            address: 2,
            ..burglary
        };
        let event = &parse_sia(opening.data("12AB", Format::Sia).as_bytes()).events[0];
        assert_eq!(
            (event.category, event.condition, event.user),
            (Category::Opening, Condition::New, Some(2))
        );
    }
}
