//! The alarm receiving centre's rows: customers, sites and what hangs off them, staff,
//! incidents with their timeline, dispatches, keys, the audit log and the outbox.
//!
//! Secrets (contact passwords, revoking codes, staff passwords) appear here only as hashes
//! made by [`crate::secret`]; rows that leave the store for display carry whether a secret is
//! set, never the hash.

use serde::{Deserialize, Serialize};
use vakt_core::centre::{
    Authority, DispatchState, KeyAction, KeyState, PointKind, Resolution, Role, Step, StepOutcome,
};
use vakt_core::{Category, Condition, UnixMicros};

/// Who made a change, as the audit log names them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Actor {
    /// The staff id, when a person did it.
    pub staff_id: Option<i64>,
    /// The name written in the log: `Anna Berg (anna)`, or `system` for the engine.
    pub name: String,
}

impl Actor {
    /// The engine or another part of Vakt itself.
    #[must_use]
    pub fn system() -> Actor {
        Actor {
            staff_id: None,
            name: "system".into(),
        }
    }
}

/// Private person or business.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerKind {
    /// A private person, identified by personnummer or samordningsnummer.
    Private,
    /// A business, identified by organisationsnummer.
    Business,
}

impl CustomerKind {
    /// The stable name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            CustomerKind::Private => "private",
            CustomerKind::Business => "business",
        }
    }
}

/// A customer, validated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NewCustomer {
    /// Private or business.
    pub kind: CustomerKind,
    /// The person's or company's name.
    pub name: String,
    /// The canonical personnummer, samordningsnummer or organisationsnummer.
    pub identity: String,
    /// For a business: who may sign for it (firmatecknare).
    pub signatory: String,
    /// E-mail address, or empty.
    pub email: String,
    /// Phone number in E.164, or empty.
    pub phone: String,
    /// `sv` or `en`: the language of messages to this customer.
    pub language: String,
}

/// A stored customer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Customer {
    /// The id.
    pub id: i64,
    /// Everything else.
    #[serde(flatten)]
    pub spec: NewCustomer,
}

/// A site's own fields, validated.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NewSite {
    /// The customer it belongs to.
    pub customer_id: Option<i64>,
    /// The name operators know it by.
    pub name: String,
    /// The street address.
    pub address: String,
    /// Latitude, when known.
    pub latitude: Option<f64>,
    /// Longitude, when known.
    pub longitude: Option<f64>,
    /// The guard area, which decides the guard companies that may be sent.
    pub guard_area: String,
    /// A standing note for operators (gate code, dog, where the panel is).
    pub note: String,
}

/// An alarm point (larmpunkt).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmPoint {
    /// The zone number the panel sends.
    pub number: u32,
    /// What people call it: "Hall".
    pub name: String,
    /// What it is.
    pub kind: PointKind,
    /// Where it is, in words.
    pub location: String,
    /// Test mode until this instant, if any.
    pub test_until: Option<UnixMicros>,
}

/// A panel user (number → person).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PanelUser {
    /// The user number the panel sends.
    pub number: u32,
    /// Who it is.
    pub name: String,
}

/// A contact person to store; `password_hash` replaces the password when given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewContact {
    /// The contact to update, or `None` for a new one.
    pub id: Option<i64>,
    /// The name.
    pub name: String,
    /// E.164 phone number.
    pub phone: String,
    /// What they may do.
    pub authority: Authority,
    /// When they may be called (`07:00-22:00`), or empty for any time.
    pub hours: String,
    /// A new password's hash; `None` keeps the stored one.
    pub password_hash: Option<String>,
}

/// A contact person as shown: no hash, only whether a password is set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Contact {
    /// The id.
    pub id: i64,
    /// Place in the call order, from 1.
    pub position: u32,
    /// The name.
    pub name: String,
    /// E.164 phone number.
    pub phone: String,
    /// What they may do.
    pub authority: Authority,
    /// When they may be called, or empty.
    pub hours: String,
    /// Whether a password is set.
    pub has_password: bool,
    /// Locked for password checks until this instant.
    pub locked_until: Option<UnixMicros>,
}

/// A site's action instruction for one category.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Instruction {
    /// The category it applies to.
    pub category: Category,
    /// The steps in order.
    pub steps: Vec<Step>,
    /// When it was last changed, and by whom (`None` for Vakt's default).
    pub updated: Option<(UnixMicros, String)>,
}

/// A key or key bag in custody.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Key {
    /// The id.
    pub id: i64,
    /// The label on the key: `N-1042`.
    pub label: String,
    /// The site it opens.
    pub site_id: i64,
    /// Where it is kept.
    pub storage: String,
    /// Where it is now.
    pub state: KeyState,
    /// Who has it, when not in the store.
    pub holder: String,
}

/// One entry of a key's custody log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyEvent {
    /// When.
    pub at: UnixMicros,
    /// What.
    pub action: KeyAction,
    /// Who recorded it.
    pub actor: String,
    /// Who received it.
    pub holder: String,
    /// The call-out it went with.
    pub dispatch_id: Option<i64>,
    /// Any note.
    pub note: String,
}

/// A site with everything an operator needs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SiteDetail {
    /// The id.
    pub id: i64,
    /// The site's fields.
    pub spec: NewSite,
    /// The customer, when the site has one.
    pub customer: Option<Customer>,
    /// Alarm points by number.
    pub points: Vec<AlarmPoint>,
    /// Panel users by number.
    pub users: Vec<PanelUser>,
    /// Contacts in call order.
    pub contacts: Vec<Contact>,
    /// The site's own instructions (categories without one use Vakt's default).
    pub instructions: Vec<Instruction>,
    /// Accounts of the site's transmitters.
    pub transmitters: Vec<(i64, String)>,
    /// Keys held for the site.
    pub keys: Vec<Key>,
    /// Whether a revoking code is set.
    pub has_revoking_code: bool,
    /// The whole site is in test mode until this instant.
    pub test_until: Option<UnixMicros>,
    /// Why it is in test mode.
    pub test_reason: String,
}

impl SiteDetail {
    /// The point with this zone number.
    #[must_use]
    pub fn point(&self, number: u32) -> Option<&AlarmPoint> {
        self.points.iter().find(|p| p.number == number)
    }

    /// The person behind this user number.
    #[must_use]
    pub fn user(&self, number: u32) -> Option<&PanelUser> {
        self.users.iter().find(|u| u.number == number)
    }

    /// The instruction for a category: the site's own, or Vakt's default.
    #[must_use]
    pub fn instruction(&self, category: Category) -> Instruction {
        self.instructions
            .iter()
            .find(|i| i.category == category)
            .cloned()
            .unwrap_or_else(|| Instruction {
                category,
                steps: vakt_core::centre::default_instruction(category),
                updated: None,
            })
    }
}

/// One line of the site list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SiteSummary {
    /// The id.
    pub id: i64,
    /// The name.
    pub name: String,
    /// The address.
    pub address: String,
    /// The customer's name.
    pub customer: String,
    /// The guard area.
    pub guard_area: String,
    /// Test mode until.
    pub test_until: Option<UnixMicros>,
}

/// A guard company (vaktbolag).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardCompany {
    /// The id (0 when new).
    pub id: i64,
    /// The name.
    pub name: String,
    /// The phone number of its dispatch.
    pub phone: String,
    /// The guard areas it covers.
    pub areas: Vec<String>,
}

/// A member of staff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Staff {
    /// The id.
    pub id: i64,
    /// The login name.
    pub login: String,
    /// The full name.
    pub name: String,
    /// The role.
    pub role: Role,
    /// For guard-company users: their company.
    pub guard_company_id: Option<i64>,
    /// `sv` or `en`.
    pub language: String,
}

impl Staff {
    /// How the audit log names this person.
    #[must_use]
    pub fn actor(&self) -> Actor {
        Actor {
            staff_id: Some(self.id),
            name: format!("{} ({})", self.name, self.login),
        }
    }
}

/// A member of staff to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewStaff {
    /// The login name.
    pub login: String,
    /// The full name.
    pub name: String,
    /// The role.
    pub role: Role,
    /// The guard company, for guard users.
    pub guard_company_id: Option<i64>,
    /// `sv` or `en`.
    pub language: String,
    /// The password's hash.
    pub password_hash: String,
}

/// A secret that can be checked, and its lock state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SecretRef {
    /// A contact person's ARC password.
    Contact(i64),
    /// A site's revoking code.
    RevokingCode(i64),
    /// An identity's sign-in password (staff or customer), by identity id.
    Login(i64),
}

/// A stored secret hash with its failure count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretState {
    /// The hash, or `None` when no secret is set.
    pub hash: Option<String>,
    /// Failures since the last success.
    pub failures: u32,
    /// Locked until this instant.
    pub locked_until: Option<UnixMicros>,
}

/// How a check of a secret may go on, as [`crate::Secrets::begin_check`] decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckStart {
    /// No secret is set: nothing to check, nothing counted.
    NotSet,
    /// Locked until then: not checked.
    Locked(UnixMicros),
    /// Counted; check the answer against `hash`.
    Check {
        /// The stored hash.
        hash: String,
        /// Whether this attempt locked the secret: if the answer is wrong, it is locked now.
        locks: bool,
    },
}

/// Whether an incident is still being handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentState {
    /// In the queue.
    Open,
    /// Closed with a resolution.
    Closed,
}

/// One row of the live queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QueueItem {
    /// The incident.
    pub id: i64,
    /// The site.
    pub site_id: i64,
    /// The site's name.
    pub site_name: String,
    /// The site's address.
    pub site_address: String,
    /// The highest category on it.
    pub category: Category,
    /// Its priority.
    pub priority: u8,
    /// What it is about: "Inbrott — Hall, rörelsedetektor".
    pub title: String,
    /// When it opened.
    pub opened_at: UnixMicros,
    /// The hold window's end, while an authorised disarm may still cancel it.
    pub hold_until: Option<UnixMicros>,
    /// The operator who owns it.
    pub owner: Option<(i64, String)>,
    /// Events on it.
    pub events: u32,
    /// The point that ran away, when it did.
    pub runaway_zone: Option<u32>,
}

/// One event on an incident's timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IncidentEvent {
    /// The journal record it came from.
    pub signal_id: Option<i64>,
    /// When.
    pub at: UnixMicros,
    /// What.
    pub category: Category,
    /// New or restore.
    pub condition: Condition,
    /// The raw code.
    pub code: String,
    /// The zone.
    pub zone: Option<u32>,
    /// The user number.
    pub user: Option<u32>,
    /// What it says, resolved: "Hall, rörelsedetektor".
    pub text: String,
}

/// One entry of an incident's log (who did what).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    /// When.
    pub at: UnixMicros,
    /// Who.
    pub actor: String,
    /// What (`opened`, `taken`, `step`, `note`, `dispatch`, `closed`, ...).
    pub action: String,
    /// The instruction step it concerns.
    pub step: Option<u32>,
    /// The step's outcome.
    pub outcome: Option<StepOutcome>,
    /// Details.
    pub detail: String,
}

/// A guard call-out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Dispatch {
    /// The id.
    pub id: i64,
    /// The incident.
    pub incident_id: i64,
    /// The company.
    pub guard_company_id: i64,
    /// The company's name.
    pub guard_company: String,
    /// Where it stands.
    pub state: DispatchState,
    /// When it was asked for.
    pub requested_at: UnixMicros,
    /// When the company accepted.
    pub accepted_at: Option<UnixMicros>,
    /// When the guard was on site.
    pub on_site_at: Option<UnixMicros>,
    /// When the report came in.
    pub reported_at: Option<UnixMicros>,
    /// The guard's report.
    pub report: String,
    /// The site's name and address (for the guard's page).
    pub site: String,
    /// What the alarm is.
    pub title: String,
}

/// An incident with everything on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IncidentDetail {
    /// Its queue row (also for closed ones).
    pub item: QueueItem,
    /// Open or closed.
    pub state: IncidentState,
    /// When it was taken.
    pub taken_at: Option<UnixMicros>,
    /// When it was closed.
    pub closed_at: Option<UnixMicros>,
    /// How it ended.
    pub resolution: Option<Resolution>,
    /// Who closed it.
    pub closed_by: Option<String>,
    /// The transmitter whose silence it is about, for supervision incidents.
    pub supervision_of: Option<i64>,
    /// The signal timeline.
    pub events: Vec<IncidentEvent>,
    /// Who did what.
    pub log: Vec<LogEntry>,
    /// Guard call-outs.
    pub dispatches: Vec<Dispatch>,
}

/// An audit entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// The id, in order.
    pub id: i64,
    /// When.
    pub at: UnixMicros,
    /// Who.
    pub actor: String,
    /// What kind of thing: `customer`, `site`, `contacts`, `instruction`, ...
    pub entity: String,
    /// Its id.
    pub entity_id: Option<i64>,
    /// What was done.
    pub action: String,
    /// The value before, as JSON.
    pub before: Option<String>,
    /// The value after, as JSON.
    pub after: Option<String>,
}

/// An operator's action on an incident.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IncidentAction {
    /// Take ownership (only when nobody owns it).
    Take,
    /// Give it to another operator (a lead's action).
    Reassign {
        /// The new owner.
        to: i64,
    },
    /// Record the outcome of an instruction step.
    Step {
        /// The step's index, from 0.
        step: u32,
        /// What came of it.
        outcome: StepOutcome,
        /// Details (who was called, the police reference).
        detail: String,
    },
    /// A free note.
    Note(String),
    /// A password check's result, recorded without the password.
    PasswordCheck {
        /// Whose password.
        contact: String,
        /// Right or wrong.
        right: bool,
    },
    /// Ask a guard company for a call-out.
    Dispatch {
        /// The company.
        guard_company_id: i64,
    },
    /// Close with a resolution.
    Close {
        /// How it ended.
        resolution: Resolution,
        /// Closing words.
        note: String,
    },
}

/// A guard company user's report on a dispatch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DispatchUpdate {
    /// The new state.
    pub state: DispatchState,
    /// The report text, with `Reported`.
    pub report: String,
}

/// A message waiting in the outbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OutboxMessage {
    /// The id.
    pub id: i64,
    /// `sms` or `email`.
    pub channel: String,
    /// The phone number or address.
    pub recipient: String,
    /// The subject (e-mail).
    pub subject: String,
    /// The text.
    pub body: String,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// When it was delivered.
    pub delivered_at: Option<UnixMicros>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// A message to put in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMessage {
    /// `sms` or `email`.
    pub channel: &'static str,
    /// The phone number or address.
    pub recipient: String,
    /// The subject (e-mail).
    pub subject: String,
    /// The text.
    pub body: String,
}

/// One decoded event of a journal record, as the engine hands it to the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventNote {
    /// The journal record.
    pub signal_id: Option<i64>,
    /// When it was received.
    pub at: UnixMicros,
    /// The category.
    pub category: Category,
    /// New, restore or status.
    pub condition: Condition,
    /// The raw code.
    pub code: String,
    /// The zone.
    pub zone: Option<u32>,
    /// The user.
    pub user: Option<u32>,
    /// The text operators read.
    pub text: String,
}

/// What the engine decided about one event; the store carries it out in the batch's
/// transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineChange {
    /// An alarm: join the site's open incident (raising its priority if this one is higher)
    /// or open one.
    Alarm {
        /// The site.
        site_id: i64,
        /// The event.
        event: EventNote,
        /// The title for a new incident.
        title: String,
        /// The end of the hold window for a new incident.
        hold_until: Option<UnixMicros>,
        /// Whether an open incident this alarm joins stays held (`vakt_core::hold`): false
        /// for an alarm that is never held, which ends the hold for good.
        keeps_hold: bool,
        /// The point that ran away, when it did.
        runaway_zone: Option<u32>,
    },
    /// A restore or other event shown on the site's open incident, if there is one.
    Attach {
        /// The site.
        site_id: i64,
        /// The event.
        event: EventNote,
    },
    /// An authorised disarm: closes the site's open incident as cancelled when it is still
    /// in its hold window and nobody has taken it, and sends the customer the message.
    AuthorisedDisarm {
        /// The site.
        site_id: i64,
        /// The event.
        event: EventNote,
        /// Who disarmed: "user 3 (Anna)".
        by: String,
        /// The message to the customer, when they have a phone number.
        message: Option<NewMessage>,
    },
    /// A transmitter went silent: open a technical incident and remember it.
    LinkLost {
        /// The transmitter.
        transmitter_id: i64,
        /// Its site.
        site_id: i64,
        /// The event.
        event: EventNote,
        /// The title.
        title: String,
    },
    /// A silent transmitter was heard again: note it on its incident.
    LinkRestored {
        /// The transmitter.
        transmitter_id: i64,
        /// The event.
        event: EventNote,
    },
    /// A transmitter was heard (for supervision after a restart).
    Heard {
        /// The transmitter.
        transmitter_id: i64,
        /// When.
        at: UnixMicros,
    },
    /// A test mode ran out: clear it and log it.
    TestModeEnded {
        /// The site.
        site_id: i64,
        /// The point, or `None` for the whole site.
        zone: Option<u32>,
        /// When.
        at: UnixMicros,
    },
}

/// What the engine remembers about a transmitter across restarts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkState {
    /// The transmitter.
    pub transmitter_id: i64,
    /// When it was last heard.
    pub last_heard: UnixMicros,
    /// Whether it is declared silent.
    pub missing: bool,
}

/// The dashboard's raw figures: per incident, when it opened, was taken and closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IncidentTimes {
    /// Who took it.
    pub owner_id: Option<i64>,
    /// Opened.
    pub opened_at: UnixMicros,
    /// Taken.
    pub taken_at: Option<UnixMicros>,
    /// Closed.
    pub closed_at: Option<UnixMicros>,
}

/// A test mode to set or clear.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestMode {
    /// The point, or `None` for the whole site.
    pub zone: Option<u32>,
    /// Until when; `None` ends it now.
    pub until: Option<UnixMicros>,
    /// Why (renovation, technician, the customer's own test).
    pub reason: String,
}
