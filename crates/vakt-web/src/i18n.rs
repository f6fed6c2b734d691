//! The console's words in Swedish and English.
//!
//! One table, keyed by a short English name; a missing key shows the key itself, which a test
//! catches by rendering every page in both languages. Swedish is the default: the centre works
//! in Swedish, and staff may switch to English.

pub use vakt_core::Lang;

/// The console's words: `lang.t("key")`.
pub trait Words {
    /// The word for `key` in this language.
    fn t(self, key: &str) -> &'static str;
}

impl Words for Lang {
    fn t(self, key: &str) -> &'static str {
        text(key, self == Lang::Sv)
    }
}

macro_rules! texts {
    ($($key:literal => $sv:literal, $en:literal;)+) => {
        fn text(key: &str, swedish: bool) -> &'static str {
            match key {
                $($key => if swedish { $sv } else { $en },)+
                _ => "??",
            }
        }

        /// Every key, for tests.
        pub const KEYS: &[&str] = &[$($key,)+];
    };
}

texts! {
    "app" => "Vakt larmcentral", "Vakt alarm centre";
    "login" => "Logga in", "Sign in";
    "logout" => "Logga ut", "Sign out";
    "username" => "Användarnamn", "Username";
    "password" => "Lösenord", "Password";
    "login_failed" => "Fel användarnamn eller lösenord.", "Wrong username or password.";
    "login_locked" => "För många misslyckade försök. Kontot är låst en stund.", "Too many failed attempts. The account is locked for a while.";
    "queue" => "Larmkö", "Alarm queue";
    "sites" => "Objekt", "Sites";
    "customers" => "Kunder", "Customers";
    "guards" => "Vaktbolag", "Guard companies";
    "staff" => "Personal", "Staff";
    "audit" => "Granskningslogg", "Audit log";
    "dashboard" => "Översikt", "Dashboard";
    "my_dispatches" => "Våra uppdrag", "Our call-outs";
    "priority" => "Prioritet", "Priority";
    "category" => "Larmtyp", "Alarm type";
    "site" => "Objekt", "Site";
    "what" => "Vad", "What";
    "opened" => "Inkom", "Received";
    "age" => "Ålder", "Age";
    "owner" => "Handläggare", "Owner";
    "nobody" => "Ingen", "Nobody";
    "events" => "Händelser", "Events";
    "held" => "Väntar på frånkoppling", "Waiting for a disarm";
    "runaway" => "Skenande larmpunkt", "Runaway point";
    "queue_empty" => "Inga öppna larm.", "No open alarms.";
    "open" => "Öppna", "Open";
    "take" => "Ta larmet", "Take";
    "taken_by" => "Hanteras av", "Handled by";
    "reassign" => "Flytta till", "Reassign to";
    "timeline" => "Signaler", "Signals";
    "instruction" => "Åtgärdsinstruktion", "Action instruction";
    "step" => "Steg", "Step";
    "outcome" => "Utfall", "Outcome";
    "record" => "Registrera", "Record";
    "detail" => "Detaljer", "Details";
    "contacts" => "Kontaktpersoner", "Contact persons";
    "verify_password" => "Kontrollera lösenord", "Check password";
    "password_said" => "Lösenord som uppgavs", "Password given";
    "check" => "Kontrollera", "Check";
    "right_password" => "Rätt lösenord", "Right password";
    "wrong_password" => "Fel lösenord", "Wrong password";
    "locked" => "Låst efter för många fel", "Locked after too many failures";
    "no_password" => "Inget lösenord registrerat", "No password registered";
    "dispatch" => "Väktarutryckning", "Guard call-out";
    "send_guard" => "Skicka väktare", "Send a guard";
    "no_company" => "Inget vaktbolag täcker området.", "No guard company covers the area.";
    "keys" => "Nycklar", "Keys";
    "hand_over" => "Lämna ut till väktare", "Hand to guard";
    "return_key" => "Återlämnad", "Returned";
    "notes" => "Anteckning", "Note";
    "add_note" => "Lägg till anteckning", "Add note";
    "close" => "Avsluta larmet", "Close the alarm";
    "resolution" => "Orsak", "Resolution";
    "closed" => "Avslutat", "Closed";
    "log" => "Händelselogg", "Log";
    "who" => "Vem", "Who";
    "when" => "När", "When";
    "map" => "Karta", "Map";
    "points" => "Larmpunkter", "Alarm points";
    "users" => "Användare", "Panel users";
    "unknown_user" => "okänd användare", "unknown user";
    "zone" => "Zon", "Zone";
    "user" => "Användare", "User";
    "number" => "Nummer", "Number";
    "name" => "Namn", "Name";
    "kind" => "Typ", "Kind";
    "location" => "Placering", "Location";
    "phone" => "Telefon", "Phone";
    "email" => "E-post", "E-mail";
    "authority" => "Behörighet", "Authority";
    "hours" => "Får ringas", "May be called";
    "any_time" => "när som helst", "any time";
    "outside_hours" => "utanför samtalstid", "outside calling hours";
    "new_password" => "Nytt lösenord", "New password";
    "remove" => "Ta bort", "Remove";
    "save" => "Spara", "Save";
    "saved" => "Sparat.", "Saved.";
    "address" => "Adress", "Address";
    "latitude" => "Latitud", "Latitude";
    "longitude" => "Longitud", "Longitude";
    "guard_area" => "Bevakningsområde", "Guard area";
    "note" => "Anteckning", "Note";
    "customer" => "Kund", "Customer";
    "none" => "Ingen", "None";
    "private" => "Privat", "Private";
    "business" => "Företag", "Business";
    "identity" => "Person-/organisationsnummer", "Personal/organisation number";
    "signatory" => "Firmatecknare", "Authorised signatory";
    "language" => "Språk", "Language";
    "new_customer" => "Ny kund", "New customer";
    "new_site" => "Nytt objekt", "New site";
    "edit" => "Ändra", "Edit";
    "revoking_code" => "Återkallningskod", "Revoking code";
    "set" => "Satt", "Set";
    "not_set" => "Inte satt", "Not set";
    "test_mode" => "Testläge", "Test mode";
    "test_until" => "Testläge till", "Test mode until";
    "minutes" => "Minuter", "Minutes";
    "reason" => "Orsak", "Reason";
    "start_test" => "Starta testläge", "Start test mode";
    "end_test" => "Avsluta testläge", "End test mode";
    "whole_site" => "Hela objektet", "Whole site";
    "transmitters" => "Sändare", "Transmitters";
    "panels" => "Centralapparater", "Panels";
    "panel_link" => "Panellänk", "Panel link";
    "connected_since" => "Ansluten sedan", "Connected since";
    "not_connected" => "Inte ansluten", "Not connected";
    "open_zones" => "Öppna zoner", "Open zones";
    "display" => "Display", "Display";
    "no_panels" => "Ingen centralapparat är ansluten.", "No panel is connected.";
    "service_needed" => "Behov av service", "Service needed";
    "mains_lost" => "Nätavbrott", "Mains lost";
    "siren_on" => "Sirenen ljuder", "Siren sounding";
    "label" => "Märkning", "Label";
    "storage" => "Förvaring", "Storage";
    "state" => "Läge", "State";
    "holder" => "Innehavare", "Holder";
    "add_key" => "Registrera nyckel", "Register key";
    "destroy" => "Skicka för destruktion", "Send for destruction";
    "history" => "Larmhistorik", "Alarm history";
    "errors" => "Inget sparades. Rätta följande:", "Nothing was saved. Please correct:";
    "forbidden" => "Du saknar behörighet för den här sidan.", "You are not allowed to see this page.";
    "not_found" => "Hittades inte.", "Not found.";
    "conflict" => "Det gick inte", "That did not work";
    "company" => "Vaktbolag", "Guard company";
    "areas" => "Områden (kommaseparerade)", "Areas (comma separated)";
    "role" => "Roll", "Role";
    "new_staff" => "Ny användare", "New user";
    "login_name" => "Inloggningsnamn", "Login";
    "requested" => "Begärd", "Requested";
    "accept" => "Acceptera", "Accept";
    "on_site" => "På plats", "On site";
    "report" => "Rapport", "Report";
    "send_report" => "Skicka rapport", "Send report";
    "no_dispatches" => "Inga uppdrag.", "No call-outs.";
    "entity" => "Vad", "What";
    "action" => "Åtgärd", "Action";
    "before" => "Före", "Before";
    "after" => "Efter", "After";
    "open_incidents" => "Öppna larm", "Open alarms";
    "alarms_per_operator_hour" => "Larm per operatörstimme", "Alarms per operator-hour";
    "time_to_take" => "Tid till mottaget", "Time to take";
    "time_to_close" => "Tid till avslutat", "Time to close";
    "median" => "Median", "Median";
    "p95" => "95:e percentil", "95th percentile";
    "last_24h" => "Senaste 24 timmarna", "Last 24 hours";
    "incidents_per_hour" => "Larm per timme", "Alarms per hour";
    "engine_lag" => "Larmmotorns eftersläpning", "Alarm engine lag";
    "engine_lag_signals" => "signaler väntar", "signals waiting";
    "engine_lag_warning" => "Larmmotorn ligger efter mottagaren: nya larm når kön med fördröjning.", "The alarm engine is behind the receiver: new alarms reach the queue late.";
    "no_contact" => "Ingen kontakt med objektet", "No contact with the site";
    "contact_restored" => "Kontakten återställd", "Contact restored";
    "save_order" => "Turordning", "Call order";
    "instructions" => "Åtgärdsinstruktioner", "Action instructions";
    "default_instruction" => "Standardinstruktion (ingen egen ändring)", "Default instruction (not changed for this site)";
    "changed_by" => "Ändrad av", "Changed by";
    "sound_on" => "Ljud på", "Sound on";
    "live" => "Live", "Live";
    "offline" => "Ingen anslutning – försöker igen", "No connection – retrying";
    "site_note" => "Anteckning för operatörer", "Note for operators";
    "outbox" => "Utskick", "Outbox";
    "delivered" => "Levererat", "Delivered";
    "pending" => "Väntar", "Pending";
    "all_categories" => "Alla larmtyper", "All alarm types";
    "operator_hours" => "Operatörstimmar", "Operator-hours";
    "control_panel" => "Centralapparat", "Control panel";
}

/// How a zone is named for people: zone 0 is the control panel itself (a box tamper, mains,
/// battery), every other number a zone.
#[must_use]
pub fn zone_name(lang: Lang, zone: u32) -> String {
    if zone == 0 {
        lang.t("control_panel").to_owned()
    } else {
        format!("{} {zone}", lang.t("zone"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_both_languages() {
        for key in KEYS {
            assert_ne!(Lang::Sv.t(key), "??", "{key}");
            assert_ne!(Lang::En.t(key), "??", "{key}");
        }
        assert_eq!(Lang::Sv.t("queue"), "Larmkö");
        assert_eq!(Lang::En.t("queue"), "Alarm queue");
        assert_eq!(Lang::parse("en-GB"), Lang::En);
    }

    /// Words an alarm operator reads one way only: *frånkopplat* is disarmed, so a lost
    /// connection is "Ingen anslutning"; zone 0 is the control panel, not "Zon 0".
    #[test]
    fn alarm_swedish_says_what_it_means() {
        assert!(!Lang::Sv.t("offline").contains("Frånkopplad"));
        assert_eq!(Lang::Sv.t("save_order"), "Turordning");
        assert_eq!(zone_name(Lang::Sv, 0), "Centralapparat");
        assert_eq!(zone_name(Lang::En, 0), "Control panel");
        assert_eq!(zone_name(Lang::Sv, 4), "Zon 4");
    }
}
