//! The alarm event taxonomy: one vocabulary for every payload format.
//!
//! Panels speak SIA DC-03 (two-letter codes such as `BA`) or Contact ID (three digits and a
//! qualifier such as `1 130`). Operators, the engine and customers should not have to know
//! which. Every decoded event is mapped here into a [`Category`] and a [`Condition`], with the
//! zone, user and partition it names and the raw code kept verbatim. A code we do not know is
//! still a valid event, of category [`Category::Unknown`]: an alarm is never dropped because
//! its code is new to us.

use serde::{Deserialize, Serialize};

/// What kind of thing happened, in the order an alarm receiving centre cares about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Fire, smoke, heat, gas, carbon monoxide, sprinkler.
    Fire,
    /// Hold-up, panic button, duress code.
    HoldUp,
    /// Medical or personal emergency.
    Medical,
    /// Intrusion: a zone triggered while armed, a door forced.
    Burglary,
    /// Tamper (sabotage): a covered detector, an opened box, a dismounted point.
    Tamper,
    /// A fault: mains lost, low battery, communication failure, water leak, system trouble.
    Technical,
    /// The system was disarmed (frånkoppling).
    Opening,
    /// The system was armed (tillkoppling).
    Closing,
    /// A test the customer or a technician ran.
    Test,
    /// A periodic report or link test that only proves the panel is alive.
    Heartbeat,
    /// An alarm was cancelled or aborted by a user.
    Cancel,
    /// Informational: bypass, programming, clock set.
    Information,
    /// A code Vakt does not know; kept verbatim and shown as unknown.
    Unknown,
}

impl Category {
    /// Every category, for tables and tests.
    pub const ALL: [Category; 13] = [
        Category::Fire,
        Category::HoldUp,
        Category::Medical,
        Category::Burglary,
        Category::Tamper,
        Category::Technical,
        Category::Opening,
        Category::Closing,
        Category::Test,
        Category::Heartbeat,
        Category::Cancel,
        Category::Information,
        Category::Unknown,
    ];

    /// How urgently an operator must handle it, highest first: fire, hold-up and medical
    /// (life), then burglary, tamper, technical, and information last. Within one level the
    /// older alarm goes first (see [`queue_order`]).
    #[must_use]
    pub fn priority(self) -> u8 {
        match self {
            Category::Fire | Category::HoldUp | Category::Medical => 5,
            Category::Burglary => 4,
            Category::Tamper => 3,
            // An unknown code may be an alarm: rank it with faults, above information.
            Category::Technical | Category::Unknown => 2,
            Category::Opening
            | Category::Closing
            | Category::Test
            | Category::Heartbeat
            | Category::Cancel
            | Category::Information => 1,
        }
    }

    /// The stable machine name, as stored and as used in the API.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Fire => "fire",
            Category::HoldUp => "hold_up",
            Category::Medical => "medical",
            Category::Burglary => "burglary",
            Category::Tamper => "tamper",
            Category::Technical => "technical",
            Category::Opening => "opening",
            Category::Closing => "closing",
            Category::Test => "test",
            Category::Heartbeat => "heartbeat",
            Category::Cancel => "cancel",
            Category::Information => "information",
            Category::Unknown => "unknown",
        }
    }

    /// The name a person reads, in Swedish (`sv`) or English (anything else).
    #[must_use]
    pub fn label(self, lang: &str) -> &'static str {
        let swedish = lang.starts_with("sv");
        match (self, swedish) {
            (Category::Fire, true) => "Brand",
            (Category::Fire, false) => "Fire",
            (Category::HoldUp, true) => "Överfall/panik",
            (Category::HoldUp, false) => "Hold-up/panic",
            (Category::Medical, true) => "Medicinskt larm",
            (Category::Medical, false) => "Medical",
            (Category::Burglary, true) => "Inbrott",
            (Category::Burglary, false) => "Burglary",
            (Category::Tamper, true) => "Sabotage",
            (Category::Tamper, false) => "Tamper",
            (Category::Technical, true) => "Tekniskt larm",
            (Category::Technical, false) => "Technical",
            (Category::Opening, true) => "Frånkoppling",
            (Category::Opening, false) => "Disarmed",
            (Category::Closing, true) => "Tillkoppling",
            (Category::Closing, false) => "Armed",
            (Category::Test, true) => "Test",
            (Category::Test, false) => "Test",
            (Category::Heartbeat, true) => "Livstecken",
            (Category::Heartbeat, false) => "Heartbeat",
            (Category::Cancel, true) => "Återkallat",
            (Category::Cancel, false) => "Cancelled",
            (Category::Information, true) => "Information",
            (Category::Information, false) => "Information",
            (Category::Unknown, true) => "Okänd händelse",
            (Category::Unknown, false) => "Unknown event",
        }
    }
}

/// The order of the alarm queue: higher priority first, then the older first.
#[must_use]
pub fn queue_order(
    a: (Category, crate::UnixMicros),
    b: (Category, crate::UnixMicros),
) -> std::cmp::Ordering {
    b.0.priority().cmp(&a.0.priority()).then(a.1.cmp(&b.1))
}

/// Whether an event starts a condition, ends it, or reports that it still holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// A new event (Contact ID qualifier 1; SIA alarm codes).
    New,
    /// The condition is over (Contact ID qualifier 3; SIA restore codes).
    Restore,
    /// A previously reported condition is still present (Contact ID qualifier 6).
    Status,
}

/// Which payload format an event came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayloadFormat {
    /// SIA DC-03, token `SIA-DCS`.
    Sia,
    /// Contact ID (SIA DC-05), token `ADM-CID`.
    ContactId,
}

/// The code exactly as the panel sent it, so nothing is lost in the mapping.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EventCode {
    /// The payload format the code belongs to.
    pub format: PayloadFormat,
    /// `BA` for SIA; for Contact ID the qualifier and the code, as in `1130`.
    pub code: String,
}

/// One decoded alarm event, in the shared taxonomy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// What kind of event.
    pub category: Category,
    /// New, restore or status.
    pub condition: Condition,
    /// The alarm point (larmpunkt) it concerns, when it names one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub zone: Option<u32>,
    /// The panel user it concerns (openings, closings, duress), when it names one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub user: Option<u32>,
    /// The partition (area) it concerns, when given.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub partition: Option<u32>,
    /// The raw code.
    pub code: EventCode,
    /// A short English description of the code, when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
    /// Free text the panel sent with the event (SIA `^text^` or an `A` block).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub text: Option<String>,
}

/// What the number after an event code means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressKind {
    /// A zone (alarm point).
    Zone,
    /// A user number.
    User,
    /// A partition (area).
    Partition,
}

/// The meaning of one known code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeMeaning {
    /// The category it maps to.
    pub category: Category,
    /// Whether the code itself is a restore (SIA has separate restore codes).
    pub condition: Condition,
    /// What its address field names.
    pub address: AddressKind,
    /// A short English description.
    pub description: &'static str,
}

const fn meaning(
    category: Category,
    condition: Condition,
    address: AddressKind,
    description: &'static str,
) -> CodeMeaning {
    CodeMeaning {
        category,
        condition,
        address,
        description,
    }
}

use AddressKind::{Partition as P, User as U, Zone as Z};
use Category as C;
use Condition::{New as N, Restore as R};

/// SIA DC-03 event codes that panels send in practice (`reference/protocols.md` 2.3).
const SIA_CODES: &[(&str, CodeMeaning)] = &[
    ("BA", meaning(C::Burglary, N, Z, "Burglary alarm")),
    ("BH", meaning(C::Burglary, R, Z, "Burglary alarm restore")),
    ("BR", meaning(C::Burglary, R, Z, "Burglary restoral")),
    ("BV", meaning(C::Burglary, N, P, "Burglary verified")),
    ("BB", meaning(C::Information, N, Z, "Burglary bypass")),
    ("BU", meaning(C::Information, R, Z, "Burglary unbypass")),
    ("BC", meaning(C::Cancel, N, U, "Burglary cancel")),
    ("DF", meaning(C::Burglary, N, Z, "Door forced")),
    ("DD", meaning(C::Information, N, Z, "Access denied")),
    ("UA", meaning(C::Burglary, N, Z, "Untyped zone alarm")),
    (
        "UH",
        meaning(C::Burglary, R, Z, "Untyped zone alarm restore"),
    ),
    ("FA", meaning(C::Fire, N, Z, "Fire alarm")),
    ("FH", meaning(C::Fire, R, Z, "Fire alarm restore")),
    ("FR", meaning(C::Fire, R, Z, "Fire restoral")),
    ("FT", meaning(C::Technical, N, Z, "Fire trouble")),
    ("FJ", meaning(C::Technical, R, Z, "Fire trouble restore")),
    ("GA", meaning(C::Fire, N, Z, "Gas alarm")),
    ("GH", meaning(C::Fire, R, Z, "Gas alarm restore")),
    ("KA", meaning(C::Fire, N, Z, "Heat alarm")),
    ("KH", meaning(C::Fire, R, Z, "Heat alarm restore")),
    ("SA", meaning(C::Fire, N, Z, "Sprinkler alarm")),
    ("SH", meaning(C::Fire, R, Z, "Sprinkler alarm restore")),
    ("PA", meaning(C::HoldUp, N, Z, "Panic alarm")),
    ("PH", meaning(C::HoldUp, R, Z, "Panic alarm restore")),
    ("HA", meaning(C::HoldUp, N, Z, "Hold-up alarm")),
    ("HH", meaning(C::HoldUp, R, Z, "Hold-up alarm restore")),
    ("HV", meaning(C::HoldUp, N, Z, "Hold-up verified")),
    ("MA", meaning(C::Medical, N, Z, "Medical alarm")),
    ("MH", meaning(C::Medical, R, Z, "Medical alarm restore")),
    ("QA", meaning(C::Medical, N, Z, "Emergency alarm")),
    ("QH", meaning(C::Medical, R, Z, "Emergency alarm restore")),
    ("TA", meaning(C::Tamper, N, Z, "Tamper alarm")),
    ("TR", meaning(C::Tamper, R, Z, "Tamper restore")),
    ("ES", meaning(C::Tamper, N, Z, "Expansion device tamper")),
    (
        "EJ",
        meaning(C::Tamper, R, Z, "Expansion device tamper restore"),
    ),
    ("JA", meaning(C::Tamper, N, U, "User code tamper")),
    ("AT", meaning(C::Technical, N, Z, "AC trouble")),
    ("AR", meaning(C::Technical, R, Z, "AC restore")),
    ("YT", meaning(C::Technical, N, Z, "System battery trouble")),
    ("YR", meaning(C::Technical, R, Z, "System battery restore")),
    ("YM", meaning(C::Technical, N, Z, "System battery missing")),
    (
        "XT",
        meaning(C::Technical, N, Z, "Transmitter battery trouble"),
    ),
    (
        "XR",
        meaning(C::Technical, R, Z, "Transmitter battery restore"),
    ),
    ("XQ", meaning(C::Technical, N, Z, "RF interference")),
    ("XH", meaning(C::Technical, R, Z, "RF interference restore")),
    ("YC", meaning(C::Technical, N, Z, "Communications fail")),
    ("YK", meaning(C::Technical, R, Z, "Communications restore")),
    ("YS", meaning(C::Technical, N, Z, "Communications trouble")),
    ("NT", meaning(C::Technical, N, Z, "Network failure")),
    ("NR", meaning(C::Technical, R, Z, "Network restore")),
    ("LT", meaning(C::Technical, N, Z, "Phone line trouble")),
    ("LR", meaning(C::Technical, R, Z, "Phone line restore")),
    ("YX", meaning(C::Technical, N, Z, "System trouble")),
    ("YZ", meaning(C::Technical, R, Z, "System trouble restore")),
    ("YP", meaning(C::Technical, N, Z, "Power supply trouble")),
    ("YQ", meaning(C::Technical, R, Z, "Power supply restore")),
    ("YA", meaning(C::Technical, N, Z, "Bell fault")),
    ("YH", meaning(C::Technical, R, Z, "Bell restored")),
    ("ET", meaning(C::Technical, N, Z, "Expansion trouble")),
    ("ER", meaning(C::Technical, R, Z, "Expansion restore")),
    ("WA", meaning(C::Technical, N, Z, "Water alarm")),
    ("WH", meaning(C::Technical, R, Z, "Water alarm restore")),
    ("ZA", meaning(C::Technical, N, Z, "Freeze alarm")),
    ("ZH", meaning(C::Technical, R, Z, "Freeze alarm restore")),
    ("OP", meaning(C::Opening, N, U, "Opening report")),
    ("CL", meaning(C::Closing, N, U, "Closing report")),
    ("OA", meaning(C::Opening, N, P, "Automatic opening")),
    ("CA", meaning(C::Closing, N, P, "Automatic closing")),
    ("OQ", meaning(C::Opening, N, U, "Remote opening")),
    ("CQ", meaning(C::Closing, N, U, "Remote closing")),
    ("OS", meaning(C::Opening, N, U, "Opening by keyswitch")),
    ("CS", meaning(C::Closing, N, U, "Closing by keyswitch")),
    ("OG", meaning(C::Opening, N, U, "Partial opening")),
    ("CG", meaning(C::Closing, N, U, "Partial closing")),
    ("NL", meaning(C::Closing, N, P, "Perimeter armed")),
    ("CF", meaning(C::Closing, N, U, "Forced closing")),
    ("OR", meaning(C::Opening, N, U, "Disarm from alarm")),
    ("CR", meaning(C::Information, N, U, "Recent closing")),
    ("OC", meaning(C::Cancel, N, U, "Cancel report")),
    ("EE", meaning(C::Information, N, Z, "Exit error")),
    ("RP", meaning(C::Heartbeat, N, Z, "Automatic test")),
    ("RX", meaning(C::Test, N, U, "Manual test")),
    ("RY", meaning(C::Test, N, Z, "Test with trouble present")),
    ("TS", meaning(C::Test, N, U, "Test start")),
    ("TE", meaning(C::Test, R, U, "Test end")),
    ("RR", meaning(C::Information, N, Z, "Power up")),
    ("YG", meaning(C::Information, N, U, "Programming changed")),
    ("LB", meaning(C::Information, N, U, "Program mode entry")),
    ("LX", meaning(C::Information, R, U, "Program mode exit")),
    ("JT", meaning(C::Information, N, U, "Time changed")),
];

/// Contact ID event codes (without the qualifier) that panels send in practice.
const CID_CODES: &[(u16, CodeMeaning)] = &[
    (100, meaning(C::Medical, N, Z, "Medical")),
    (101, meaning(C::Medical, N, Z, "Personal emergency")),
    (102, meaning(C::Medical, N, Z, "Fail to report in")),
    (110, meaning(C::Fire, N, Z, "Fire")),
    (111, meaning(C::Fire, N, Z, "Smoke")),
    (112, meaning(C::Fire, N, Z, "Combustion")),
    (113, meaning(C::Fire, N, Z, "Water flow")),
    (114, meaning(C::Fire, N, Z, "Heat")),
    (115, meaning(C::Fire, N, Z, "Pull station")),
    (116, meaning(C::Fire, N, Z, "Duct")),
    (117, meaning(C::Fire, N, Z, "Flame")),
    (118, meaning(C::Fire, N, Z, "Near alarm")),
    (120, meaning(C::HoldUp, N, Z, "Panic")),
    (121, meaning(C::HoldUp, N, U, "Duress")),
    (122, meaning(C::HoldUp, N, Z, "Silent hold-up")),
    (123, meaning(C::HoldUp, N, Z, "Audible hold-up")),
    (129, meaning(C::HoldUp, N, Z, "Confirmed hold-up")),
    (130, meaning(C::Burglary, N, Z, "Burglary")),
    (131, meaning(C::Burglary, N, Z, "Perimeter")),
    (132, meaning(C::Burglary, N, Z, "Interior")),
    (133, meaning(C::Burglary, N, Z, "24-hour zone")),
    (134, meaning(C::Burglary, N, Z, "Entry/exit")),
    (135, meaning(C::Burglary, N, Z, "Day/night")),
    (136, meaning(C::Burglary, N, Z, "Outdoor")),
    (137, meaning(C::Tamper, N, Z, "Tamper")),
    (138, meaning(C::Burglary, N, Z, "Near alarm")),
    (139, meaning(C::Burglary, N, Z, "Intrusion verified")),
    (140, meaning(C::Burglary, N, Z, "General alarm")),
    (144, meaning(C::Tamper, N, Z, "Sensor tamper")),
    (145, meaning(C::Tamper, N, Z, "Expansion module tamper")),
    (146, meaning(C::Burglary, N, Z, "Silent burglary")),
    (151, meaning(C::Fire, N, Z, "Gas detected")),
    (154, meaning(C::Technical, N, Z, "Water leakage")),
    (158, meaning(C::Technical, N, Z, "High temperature")),
    (159, meaning(C::Technical, N, Z, "Low temperature")),
    (162, meaning(C::Fire, N, Z, "Carbon monoxide")),
    (300, meaning(C::Technical, N, Z, "System trouble")),
    (301, meaning(C::Technical, N, Z, "AC loss")),
    (302, meaning(C::Technical, N, Z, "Low system battery")),
    (305, meaning(C::Information, N, Z, "System reset")),
    (306, meaning(C::Information, N, Z, "Programming changed")),
    (309, meaning(C::Technical, N, Z, "Battery test failure")),
    (311, meaning(C::Technical, N, Z, "Battery missing or dead")),
    (321, meaning(C::Technical, N, Z, "Bell trouble")),
    (333, meaning(C::Technical, N, Z, "Expansion module failure")),
    (344, meaning(C::Technical, N, Z, "RF receiver jam")),
    (350, meaning(C::Technical, N, Z, "Communication trouble")),
    (351, meaning(C::Technical, N, Z, "Telephone line fault")),
    (
        354,
        meaning(C::Technical, N, Z, "Failure to communicate event"),
    ),
    (373, meaning(C::Technical, N, Z, "Fire trouble")),
    (374, meaning(C::Information, N, Z, "Exit error alarm")),
    (380, meaning(C::Technical, N, Z, "Sensor trouble")),
    (383, meaning(C::Tamper, N, Z, "Sensor tamper")),
    (384, meaning(C::Technical, N, Z, "RF low battery")),
    (401, meaning(C::Opening, N, U, "Open/close by user")),
    (402, meaning(C::Opening, N, U, "Group open/close")),
    (403, meaning(C::Opening, N, U, "Automatic open/close")),
    (406, meaning(C::Cancel, N, U, "Cancel")),
    (407, meaning(C::Opening, N, U, "Remote arm/disarm")),
    (408, meaning(C::Closing, N, U, "Quick arm")),
    (409, meaning(C::Opening, N, U, "Keyswitch open/close")),
    (441, meaning(C::Closing, N, U, "Armed stay")),
    (456, meaning(C::Closing, N, U, "Partial arm")),
    (457, meaning(C::Information, N, U, "Exit error")),
    (461, meaning(C::Tamper, N, U, "Wrong code entry")),
    (570, meaning(C::Information, N, Z, "Zone bypass")),
    (601, meaning(C::Test, N, Z, "Manual test")),
    (602, meaning(C::Heartbeat, N, Z, "Periodic test")),
    (
        608,
        meaning(C::Test, N, Z, "Periodic test, trouble present"),
    ),
    (607, meaning(C::Test, N, U, "Walk test mode")),
    (625, meaning(C::Information, N, U, "Time/date reset")),
    (627, meaning(C::Information, N, U, "Program mode entry")),
    (628, meaning(C::Information, N, U, "Program mode exit")),
    (654, meaning(C::Information, N, Z, "System inactivity")),
];

/// The meaning of a SIA DC-03 event code, if Vakt knows it.
#[must_use]
pub fn sia_code(code: &str) -> Option<CodeMeaning> {
    SIA_CODES
        .iter()
        .find(|(known, _)| *known == code)
        .map(|(_, meaning)| *meaning)
}

/// The meaning of a Contact ID event code, if Vakt knows it.
#[must_use]
pub fn contact_id_code(code: u16) -> Option<CodeMeaning> {
    CID_CODES
        .iter()
        .find(|(known, _)| *known == code)
        .map(|(_, meaning)| *meaning)
}

impl Event {
    /// Builds the event for a SIA code with its address number and the modifiers that came
    /// before it in the block.
    #[must_use]
    pub fn from_sia(
        code: &str,
        address: Option<u32>,
        partition: Option<u32>,
        user: Option<u32>,
        text: Option<String>,
    ) -> Event {
        let known = sia_code(code);
        let mut event = Event {
            category: known.map_or(Category::Unknown, |m| m.category),
            condition: known.map_or(Condition::New, |m| m.condition),
            zone: None,
            user,
            partition,
            code: EventCode {
                format: PayloadFormat::Sia,
                code: code.to_owned(),
            },
            description: known.map(|m| m.description.to_owned()),
            text,
        };
        match known.map_or(AddressKind::Zone, |m| m.address) {
            AddressKind::Zone => event.zone = address,
            AddressKind::User => event.user = address.or(event.user),
            AddressKind::Partition => event.partition = address.or(event.partition),
        }
        event
    }

    /// Builds the event for a Contact ID report `Q EEE GG CCC`.
    ///
    /// For opening and closing codes the qualifier decides the direction: 1 is an opening
    /// (disarm), 3 a closing (arm). For every other code 1 is new and 3 a restore.
    #[must_use]
    pub fn from_contact_id(qualifier: u8, code: u16, group: u32, number: u32) -> Event {
        let known = contact_id_code(code);
        let mut category = known.map_or(Category::Unknown, |m| m.category);
        let condition = match qualifier {
            3 => Condition::Restore,
            6 => Condition::Status,
            _ => Condition::New,
        };
        let open_close = matches!(category, Category::Opening | Category::Closing);
        let condition = if open_close {
            category = if qualifier == 3 {
                Category::Closing
            } else {
                Category::Opening
            };
            Condition::New
        } else {
            condition
        };
        let address = known.map_or(AddressKind::Zone, |m| m.address);
        Event {
            category,
            condition,
            zone: (address == AddressKind::Zone && number != 0).then_some(number),
            user: (address == AddressKind::User).then_some(number),
            partition: (group != 0).then_some(group),
            code: EventCode {
                format: PayloadFormat::ContactId,
                code: format!("{qualifier}{code:03}"),
            },
            description: known.map(|m| m.description.to_owned()),
            text: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_has_a_label_in_both_languages() {
        for category in Category::ALL {
            assert!(!category.label("sv").is_empty());
            assert!(!category.label("en").is_empty());
            assert!(!category.as_str().is_empty());
        }
        assert_eq!(Category::Burglary.label("sv"), "Inbrott");
    }

    #[test]
    fn the_queue_puts_life_first_then_age() {
        use crate::UnixMicros;
        let mut queue = [
            (Category::Technical, UnixMicros(1)),
            (Category::Burglary, UnixMicros(5)),
            (Category::Fire, UnixMicros(9)),
            (Category::Burglary, UnixMicros(2)),
            (Category::HoldUp, UnixMicros(3)),
            (Category::Information, UnixMicros(0)),
            (Category::Tamper, UnixMicros(4)),
        ];
        queue.sort_by(|a, b| queue_order(*a, *b));
        let order: Vec<Category> = queue.iter().map(|(c, _)| *c).collect();
        assert_eq!(
            order,
            [
                Category::HoldUp,
                Category::Fire,
                Category::Burglary,
                Category::Burglary,
                Category::Tamper,
                Category::Technical,
                Category::Information
            ]
        );
        assert_eq!(queue[2].1, UnixMicros(2), "the older burglary first");
    }

    #[test]
    fn code_tables_have_no_duplicates() {
        for (i, (code, _)) in SIA_CODES.iter().enumerate() {
            assert!(
                SIA_CODES[i + 1..].iter().all(|(other, _)| other != code),
                "{code}"
            );
        }
        for (i, (code, _)) in CID_CODES.iter().enumerate() {
            assert!(
                CID_CODES[i + 1..].iter().all(|(other, _)| other != code),
                "{code}"
            );
        }
    }

    #[test]
    fn contact_id_open_close_follows_the_qualifier() {
        let disarm = Event::from_contact_id(1, 401, 1, 3);
        assert_eq!(disarm.category, Category::Opening);
        assert_eq!(disarm.user, Some(3));
        assert_eq!(disarm.zone, None);
        let arm = Event::from_contact_id(3, 401, 1, 3);
        assert_eq!(arm.category, Category::Closing);
        assert_eq!(arm.condition, Condition::New);
    }

    #[test]
    fn contact_id_restore_and_unknown_codes() {
        let restore = Event::from_contact_id(3, 130, 2, 12);
        assert_eq!(
            (restore.category, restore.condition),
            (Category::Burglary, Condition::Restore)
        );
        assert_eq!((restore.zone, restore.partition), (Some(12), Some(2)));
        assert_eq!(restore.code.code, "3130");
        let unknown = Event::from_contact_id(1, 999, 0, 1);
        assert_eq!(unknown.category, Category::Unknown);
        assert_eq!(unknown.code.code, "1999");
    }

    #[test]
    fn sia_codes_put_the_address_where_it_belongs() {
        let burglary = Event::from_sia("BA", Some(12), Some(1), None, None);
        assert_eq!((burglary.zone, burglary.partition), (Some(12), Some(1)));
        let closing = Event::from_sia("CL", Some(4), Some(1), None, None);
        assert_eq!(
            (closing.category, closing.user, closing.zone),
            (Category::Closing, Some(4), None)
        );
        let unknown = Event::from_sia("ZZ", Some(1), None, None, None);
        assert_eq!(unknown.category, Category::Unknown);
        assert_eq!(unknown.code.code, "ZZ");
    }
}
