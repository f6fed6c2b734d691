//! The alarm receiving centre's vocabulary (`DOMAIN.md` A1–A5): alarm points, contact
//! authority and calling hours, action instructions, how an incident ends, guard dispatch
//! states, key custody and staff roles.
//!
//! Each type has a stable machine name (stored, used in the API) and a label in Swedish and
//! English. Transitions that people drive (a dispatch moving on, a key changing hands) are
//! checked here, once, so every adapter refuses the same impossible moves.

use serde::{Deserialize, Serialize};

use crate::Category;

/// Declares an enum with stable names and Swedish and English labels.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $id:literal, $sv:literal, $en:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant,)+ }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stable machine name.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $id,)+ }
            }

            /// Parses the stable machine name.
            #[must_use]
            pub fn parse(text: &str) -> Option<$name> {
                match text { $($id => Some($name::$variant),)+ _ => None }
            }

            /// The label in Swedish (`sv`) or English (anything else).
            #[must_use]
            pub fn label(self, lang: &str) -> &'static str {
                let swedish = lang.starts_with("sv");
                match self { $($name::$variant => if swedish { $sv } else { $en },)+ }
            }
        }
    };
}

vocabulary! {
    /// What an alarm point (larmpunkt) is.
    PointKind {
        /// Door or window magnet contact (magnetkontakt).
        DoorWindow = "door_window", "Magnetkontakt", "Door/window contact";
        /// Motion detector (rörelsedetektor).
        Motion = "motion", "Rörelsedetektor", "Motion detector";
        /// Pet-immune motion detector (husdjursdetektor).
        PetMotion = "pet_motion", "Husdjursdetektor", "Pet-immune motion detector";
        /// Smoke detector.
        Smoke = "smoke", "Brandvarnare", "Smoke detector";
        /// Panic button.
        Panic = "panic", "Överfallsknapp", "Panic button";
        /// Tamper switch.
        Tamper = "tamper", "Sabotagekontakt", "Tamper switch";
        /// Camera or photo detector.
        Camera = "camera", "Kamera", "Camera";
        /// Water leak detector.
        Water = "water", "Vattenlarm", "Water leak detector";
        /// Anything else.
        Other = "other", "Övrigt", "Other";
    }
}

vocabulary! {
    /// What a contact person may do when the centre calls.
    Authority {
        /// Everything: cancel, ask for a guard, change the instruction by phone.
        Full = "full", "Full behörighet", "Full authority";
        /// Only cancel an alarm.
        CancelOnly = "cancel_only", "Endast återkallning", "Cancel only";
    }
}

vocabulary! {
    /// One kind of step in an action instruction (åtgärdsinstruktion).
    StepAction {
        /// Call the site itself.
        CallSite = "call_site", "Ring objektet", "Call the site";
        /// Call the contact persons in their order.
        CallContacts = "call_contacts", "Ring kontaktpersoner i tur och ordning", "Call the contacts in order";
        /// Verify the person by their password.
        Verify = "verify", "Verifiera med lösenord", "Verify by password";
        /// Send a guard.
        SendGuard = "send_guard", "Skicka väktare", "Send a guard";
        /// Call the police and note their reference.
        CallPolice = "call_police", "Larma polis och notera ärendenummer", "Call the police and note the reference";
        /// Call the rescue services and note their reference.
        CallRescue = "call_rescue", "Larma räddningstjänst och notera ärendenummer", "Call rescue services and note the reference";
        /// Tell the customer what happened.
        NotifyCustomer = "notify_customer", "Meddela kunden", "Notify the customer";
    }
}

vocabulary! {
    /// What came of a step.
    StepOutcome {
        /// The call was made and answered.
        Called = "called", "Ringt, svar", "Called, answered";
        /// Nobody answered.
        NoAnswer = "no_answer", "Inget svar", "No answer";
        /// The person gave the right password.
        Verified = "verified", "Verifierad med lösenord", "Verified by password";
        /// The person gave a wrong password.
        WrongPassword = "wrong_password", "Fel lösenord", "Wrong password";
        /// Done (a guard sent, the police called, the customer told).
        Done = "done", "Utfört", "Done";
        /// Not needed this time.
        Skipped = "skipped", "Ej aktuellt", "Not needed";
    }
}

vocabulary! {
    /// How an incident ended.
    Resolution {
        /// A real alarm: burglary, fire, someone needed help.
        Real = "real", "Verkligt larm", "Real alarm";
        /// The user made a mistake (forgot to disarm, wrong code).
        UserError = "user_error", "Användarfel", "User error";
        /// A technical fault.
        TechnicalFault = "technical_fault", "Tekniskt fel", "Technical fault";
        /// A test.
        Test = "test", "Test", "Test";
        /// Cancelled by the customer or an authorised user.
        Cancelled = "cancelled", "Återkallat", "Cancelled";
    }
}

vocabulary! {
    /// Where a guard call-out (väktarutryckning) stands.
    DispatchState {
        /// Asked of the guard company.
        Requested = "requested", "Begärd", "Requested";
        /// The company accepted it.
        Accepted = "accepted", "Accepterad", "Accepted";
        /// The guard is at the site.
        OnSite = "on_site", "På plats", "On site";
        /// The guard's report is in.
        Reported = "reported", "Rapport mottagen", "Report received";
        /// Called off by the centre.
        Cancelled = "cancelled", "Avbruten", "Cancelled";
    }
}

impl DispatchState {
    /// Whether the call-out is still under way (not reported, not called off): while one is,
    /// the same company is not sent to the same incident again.
    #[must_use]
    pub fn is_open(self) -> bool {
        !matches!(self, DispatchState::Reported | DispatchState::Cancelled)
    }

    /// Whether a dispatch may move from `self` to `next`.
    #[must_use]
    pub fn may_become(self, next: DispatchState) -> bool {
        use DispatchState::{Accepted, Cancelled, OnSite, Reported, Requested};
        matches!(
            (self, next),
            (Requested, Accepted)
                | (Accepted, OnSite)
                | (OnSite, Reported)
                | (Requested | Accepted | OnSite, Cancelled)
        )
    }
}

vocabulary! {
    /// Where a key or key bag is.
    KeyState {
        /// In the key store.
        Stored = "stored", "I nyckelförvaret", "In the key store";
        /// With a guard on a call-out.
        WithGuard = "with_guard", "Hos väktare", "With a guard";
        /// Sent for destruction at the end of the contract.
        Destruction = "destruction", "Skickad för destruktion", "Sent for destruction";
    }
}

vocabulary! {
    /// What happened to a key.
    KeyAction {
        /// Received from the customer.
        Received = "received", "Mottagen från kund", "Received from the customer";
        /// Handed to a guard for a call-out.
        HandedToGuard = "handed_to_guard", "Utlämnad till väktare", "Handed to a guard";
        /// Returned to the store.
        Returned = "returned", "Återlämnad", "Returned";
        /// Sent for destruction.
        SentForDestruction = "sent_for_destruction", "Skickad för destruktion", "Sent for destruction";
    }
}

impl KeyAction {
    /// The state a key is in after this action, or `None` if it cannot happen from `from`.
    #[must_use]
    pub fn apply(self, from: KeyState) -> Option<KeyState> {
        match (from, self) {
            (KeyState::Stored, KeyAction::HandedToGuard) => Some(KeyState::WithGuard),
            (KeyState::WithGuard, KeyAction::Returned) => Some(KeyState::Stored),
            (KeyState::Stored, KeyAction::SentForDestruction) => Some(KeyState::Destruction),
            _ => None,
        }
    }
}

vocabulary! {
    /// What a member of staff is.
    Role {
        /// Handles alarms.
        Operator = "operator", "Operatör", "Operator";
        /// Leads a shift: reassigns incidents, edits action instructions.
        Lead = "lead", "Skiftledare", "Operator lead";
        /// Customer service: customers, sites, contacts.
        CustomerService = "customer_service", "Kundtjänst", "Customer service";
        /// Billing.
        Billing = "billing", "Fakturering", "Billing";
        /// Technician: test mode, alarm points.
        Technician = "technician", "Tekniker", "Technician";
        /// A guard company's user: sees only its own dispatches.
        Guard = "guard", "Vaktbolag", "Guard company";
        /// Administers staff and everything else.
        Admin = "admin", "Administratör", "Administrator";
    }
}

impl Role {
    /// Whether this role may do what `permission` names.
    #[must_use]
    pub fn may(self, permission: Permission) -> bool {
        use Permission as P;
        use Role as R;
        match permission {
            P::HandleAlarms => matches!(self, R::Operator | R::Lead | R::Admin),
            P::ViewSites => matches!(
                self,
                R::Operator | R::Lead | R::Admin | R::CustomerService | R::Technician
            ),
            // A technician visits sites; the customer's records are not theirs to read.
            P::ViewCustomers => {
                matches!(self, R::Operator | R::Lead | R::Admin | R::CustomerService)
            }
            P::Reassign | P::ViewDashboard => matches!(self, R::Lead | R::Admin),
            P::EditRegistry => matches!(self, R::CustomerService | R::Lead | R::Admin),
            P::EditInstructions => matches!(self, R::CustomerService | R::Lead | R::Admin),
            P::SetTestMode => {
                matches!(
                    self,
                    R::Technician | R::Operator | R::Lead | R::Admin | R::CustomerService
                )
            }
            P::ManageKeys => matches!(self, R::Operator | R::Lead | R::Admin),
            P::ViewAudit => matches!(self, R::Lead | R::Admin),
            P::ManageStaff => matches!(self, R::Admin),
            P::GuardWork => matches!(self, R::Guard),
        }
    }
}

/// What a handler requires; each route states one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// See the queue, take and handle incidents.
    HandleAlarms,
    /// Reassign an incident owned by someone else.
    Reassign,
    /// See the dashboard.
    ViewDashboard,
    /// Read the sites: points, users, contacts, instructions.
    ViewSites,
    /// Read customer records: personnummer or organisationsnummer, e-mail, phone.
    ViewCustomers,
    /// Change the registry.
    EditRegistry,
    /// Change action instructions.
    EditInstructions,
    /// Put a site or point in test mode.
    SetTestMode,
    /// Register keys and their custody.
    ManageKeys,
    /// Read the audit log.
    ViewAudit,
    /// Create staff logins and guard companies.
    ManageStaff,
    /// A guard company's own work.
    GuardWork,
}

/// One step of an action instruction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// What to do.
    pub action: StepAction,
    /// Extra words for the operator ("the alarm code is in the hall", "call the night guard").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// The instruction Vakt uses for a category when a site has none of its own.
#[must_use]
pub fn default_instruction(category: Category) -> Vec<Step> {
    use StepAction as A;
    let actions: &[StepAction] = match category {
        Category::Fire => &[
            A::CallRescue,
            A::CallSite,
            A::CallContacts,
            A::SendGuard,
            A::NotifyCustomer,
        ],
        Category::HoldUp | Category::Medical => &[
            A::CallSite,
            A::Verify,
            A::CallPolice,
            A::CallContacts,
            A::NotifyCustomer,
        ],
        Category::Burglary => &[
            A::CallSite,
            A::CallContacts,
            A::Verify,
            A::SendGuard,
            A::CallPolice,
            A::NotifyCustomer,
        ],
        _ => &[A::CallContacts, A::Verify, A::NotifyCustomer],
    };
    actions
        .iter()
        .map(|&action| Step {
            action,
            note: String::new(),
        })
        .collect()
}

/// The minutes of a day when a contact may be called: `start..end`, wrapping past midnight
/// when `end < start`. Empty means any time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallingHours {
    /// Minutes after midnight when calls may start.
    pub start_min: u16,
    /// Minutes after midnight when calls must stop.
    pub end_min: u16,
}

impl CallingHours {
    /// Reads `07:00-22:00`; an empty text means any time (`None`).
    ///
    /// # Errors
    /// When the text is not two `HH:MM` times joined by `-`.
    pub fn parse(text: &str) -> Result<Option<CallingHours>, &'static str> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let (start, end) = text.split_once('-').ok_or("format")?;
        let minutes = |part: &str| -> Result<u16, &'static str> {
            let (h, m) = part.trim().split_once(':').ok_or("format")?;
            let h: u16 = h.parse().map_err(|_| "format")?;
            let m: u16 = m.parse().map_err(|_| "format")?;
            if h > 24 || m > 59 || (h == 24 && m > 0) {
                return Err("range");
            }
            Ok(h * 60 + m)
        };
        let hours = CallingHours {
            start_min: minutes(start)?,
            end_min: minutes(end)?,
        };
        if hours.start_min == hours.end_min {
            return Err("range");
        }
        Ok(Some(hours))
    }

    /// Whether a call at `minute` (after local midnight) is allowed.
    #[must_use]
    pub fn allows(self, minute: u16) -> bool {
        if self.start_min < self.end_min {
            (self.start_min..self.end_min).contains(&minute)
        } else {
            minute >= self.start_min || minute < self.end_min
        }
    }

    /// Writes the hours back as `HH:MM-HH:MM`.
    #[must_use]
    pub fn render(self) -> String {
        format!(
            "{:02}:{:02}-{:02}:{:02}",
            self.start_min / 60,
            self.start_min % 60,
            self.end_min / 60,
            self.end_min % 60
        )
    }
}

/// How long an alarm of each category waits for an authorised disarm before only the
/// operator can close it (Verisure's "smart verification" is 60 s for burglary; fire and
/// hold-up are never held).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldWindows {
    /// Burglary, in seconds.
    pub burglary_s: u32,
    /// Tamper, in seconds.
    pub tamper_s: u32,
    /// Technical faults, in seconds.
    pub technical_s: u32,
}

impl Default for HoldWindows {
    fn default() -> HoldWindows {
        HoldWindows {
            burglary_s: 60,
            tamper_s: 0,
            technical_s: 0,
        }
    }
}

impl HoldWindows {
    /// The hold for a category, in seconds; fire, hold-up and medical are never held.
    #[must_use]
    pub fn for_category(self, category: Category) -> u32 {
        match category {
            Category::Burglary => self.burglary_s,
            Category::Tamper => self.tamper_s,
            Category::Technical => self.technical_s,
            _ => 0,
        }
    }
}

/// Whether a guard company covering `areas` may be sent to a site in `guard_area`: the same
/// area, compared without regard to case or surrounding spaces ("Umeå" is "UMEÅ"). A site
/// without an area is covered by nobody, so an operator must give it one before a dispatch.
#[must_use]
pub fn covers_area(areas: &[String], guard_area: &str) -> bool {
    let wanted = guard_area.trim().to_lowercase();
    !wanted.is_empty() && areas.iter().any(|a| a.trim().to_lowercase() == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_company_covers_its_own_areas_only_whatever_their_case() {
        let areas = vec!["Umeå".to_owned(), " Knivsta ".to_owned()];
        assert!(covers_area(&areas, "umeå"));
        assert!(covers_area(&areas, "UMEÅ"));
        assert!(covers_area(&areas, "Knivsta"));
        assert!(!covers_area(&areas, "Uppsala"));
        assert!(!covers_area(&areas, ""), "a site without an area");
        assert!(!covers_area(&[], "Umeå"));
    }

    #[test]
    fn names_round_trip_and_labels_differ_by_language() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(*role));
        }
        assert_eq!(PointKind::Motion.label("sv"), "Rörelsedetektor");
        assert_eq!(PointKind::Motion.label("en"), "Motion detector");
        assert_eq!(
            StepOutcome::parse("wrong_password"),
            Some(StepOutcome::WrongPassword)
        );
        assert_eq!(Resolution::parse("nonsense"), None);
    }

    #[test]
    fn a_dispatch_moves_forward_only() {
        use DispatchState as D;
        assert!(D::Requested.may_become(D::Accepted));
        assert!(D::Accepted.may_become(D::OnSite));
        assert!(D::OnSite.may_become(D::Reported));
        assert!(!D::Requested.may_become(D::OnSite));
        assert!(!D::Reported.may_become(D::Cancelled));
        assert!(!D::Accepted.may_become(D::Requested));
    }

    #[test]
    fn keys_follow_their_custody() {
        assert_eq!(
            KeyAction::HandedToGuard.apply(KeyState::Stored),
            Some(KeyState::WithGuard)
        );
        assert_eq!(
            KeyAction::Returned.apply(KeyState::WithGuard),
            Some(KeyState::Stored)
        );
        assert_eq!(KeyAction::HandedToGuard.apply(KeyState::WithGuard), None);
        assert_eq!(
            KeyAction::SentForDestruction.apply(KeyState::WithGuard),
            None
        );
        assert_eq!(KeyAction::Returned.apply(KeyState::Destruction), None);
    }

    #[test]
    fn calling_hours_wrap_past_midnight() {
        let day = CallingHours::parse("07:00-22:00").ok().flatten();
        assert_eq!(day.map(|h| h.allows(6 * 60 + 59)), Some(false));
        assert_eq!(day.map(|h| h.allows(7 * 60)), Some(true));
        assert_eq!(day.map(|h| h.allows(22 * 60)), Some(false));
        let night = CallingHours::parse("22:00-06:00").ok().flatten();
        assert_eq!(night.map(|h| h.allows(23 * 60)), Some(true));
        assert_eq!(night.map(|h| h.allows(12 * 60)), Some(false));
        assert_eq!(CallingHours::parse(""), Ok(None));
        assert!(CallingHours::parse("7-22").is_err());
        assert!(CallingHours::parse("25:00-06:00").is_err());
        assert_eq!(
            day.map(CallingHours::render).as_deref(),
            Some("07:00-22:00")
        );
    }

    #[test]
    fn fire_and_hold_up_are_never_held() {
        let holds = HoldWindows::default();
        assert_eq!(holds.for_category(Category::Burglary), 60);
        assert_eq!(holds.for_category(Category::Fire), 0);
        assert_eq!(holds.for_category(Category::HoldUp), 0);
    }

    #[test]
    fn only_guards_do_guard_work_and_only_admins_manage_staff() {
        for role in Role::ALL {
            assert_eq!(role.may(Permission::GuardWork), *role == Role::Guard);
            assert_eq!(role.may(Permission::ManageStaff), *role == Role::Admin);
            assert!(!(*role == Role::Guard && role.may(Permission::HandleAlarms)));
        }
        assert!(Role::Lead.may(Permission::Reassign));
        assert!(!Role::Operator.may(Permission::Reassign));
    }
}
