//! The alarm rules, pure: what one decoded event means for the alarm receiving centre.
//!
//! Given the event, the site it came from (points, users, test modes, the customer) and how
//! many alarms its point has sent in the last hour, [`decide`] returns the one change to make:
//! open or join an incident, show a restore, cancel a held alarm on an authorised disarm, or
//! nothing (a heartbeat, an event in test mode). Time and counts are passed in; nothing here
//! reads a clock or a database, so every rule is tested on plain values.

use std::collections::HashMap;

use vakt_core::centre::HoldWindows;
use vakt_core::hold;
use vakt_core::{Category, Condition, Event, UnixMicros};
use vakt_store::{EngineChange, EventNote, NewMessage, SiteDetail};

/// How the engine behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    /// The hold window per category.
    pub hold: HoldWindows,
    /// More alarms than this from one point in an hour mark it as runaway.
    pub runaway_alarms_per_hour: u32,
    /// Added to a transmitter's interval before its silence is an incident, in seconds.
    pub supervision_grace_s: u32,
}

impl Default for Rules {
    fn default() -> Rules {
        Rules {
            hold: HoldWindows::default(),
            runaway_alarms_per_hour: 10,
            supervision_grace_s: 60,
        }
    }
}

/// Whether an event falls under test mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InTest {
    /// No: handle it.
    No,
    /// The whole site is in test mode.
    Site,
    /// The event's point is in test mode.
    Point,
}

/// What the engine knows about a site when it decides.
#[derive(Clone, Debug, PartialEq)]
pub struct SiteView {
    /// The site's id.
    pub site_id: i64,
    /// Its name, for messages.
    pub name: String,
    /// Point number → (name, location).
    pub points: HashMap<u32, (String, String)>,
    /// User number → name.
    pub users: HashMap<u32, String>,
    /// The whole site is in test mode until.
    pub test_until: Option<UnixMicros>,
    /// Point number → test mode until.
    pub point_tests: HashMap<u32, UnixMicros>,
    /// The customer's phone (E.164), for the hold-window SMS.
    pub customer_phone: Option<String>,
    /// The customer's language.
    pub customer_language: String,
}

impl SiteView {
    /// The view of a stored site.
    #[must_use]
    pub fn of(site: &SiteDetail) -> SiteView {
        SiteView {
            site_id: site.id,
            name: site.spec.name.clone(),
            points: site
                .points
                .iter()
                .map(|p| (p.number, (p.name.clone(), p.location.clone())))
                .collect(),
            users: site
                .users
                .iter()
                .map(|u| (u.number, u.name.clone()))
                .collect(),
            test_until: site.test_until,
            point_tests: site
                .points
                .iter()
                .filter_map(|p| p.test_until.map(|t| (p.number, t)))
                .collect(),
            customer_phone: site
                .customer
                .as_ref()
                .map(|c| c.spec.phone.clone())
                .filter(|p| !p.is_empty()),
            customer_language: site
                .customer
                .as_ref()
                .map_or_else(|| "sv".to_owned(), |c| c.spec.language.clone()),
        }
    }

    /// Whether the site or the point is in test mode at `at`.
    #[must_use]
    pub fn in_test(&self, zone: Option<u32>, at: UnixMicros) -> InTest {
        if self.test_until.is_some_and(|t| t > at) {
            return InTest::Site;
        }
        match zone.and_then(|z| self.point_tests.get(&z)) {
            Some(&until) if until > at => InTest::Point,
            _ => InTest::No,
        }
    }
}

/// The newest alarm times of one point within the runaway window, kept by the engine so that
/// counting a point's alarms costs no database read after the first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecentAlarms {
    /// Oldest first; never more than the runaway limit plus one.
    times: std::collections::VecDeque<UnixMicros>,
}

impl RecentAlarms {
    /// Starts from the times the store remembers (oldest first).
    #[must_use]
    pub fn from_stored(times: Vec<UnixMicros>) -> RecentAlarms {
        RecentAlarms {
            times: times.into(),
        }
    }

    /// Records an alarm at `at` and returns how many came in the `window_us` before it (this
    /// one not included), counting at most `limit + 1` of them, which is all the runaway rule
    /// needs.
    pub fn record(&mut self, at: UnixMicros, window_us: i64, limit: u32) -> u32 {
        let since = at.add_micros(-window_us);
        while self.times.front().is_some_and(|&t| t < since) {
            self.times.pop_front();
        }
        let earlier = u32::try_from(self.times.len()).unwrap_or(u32::MAX);
        self.times.push_back(at);
        while self.times.len() > limit as usize + 1 {
            self.times.pop_front();
        }
        earlier
    }

    /// Whether nothing of it is inside the window before `now`.
    #[must_use]
    pub fn stale(&self, now: UnixMicros, window_us: i64) -> bool {
        self.times
            .back()
            .is_none_or(|&t| t < now.add_micros(-window_us))
    }
}

/// Whether a category is an alarm an operator must handle.
#[must_use]
pub fn is_alarm(category: Category) -> bool {
    matches!(
        category,
        Category::Fire
            | Category::HoldUp
            | Category::Medical
            | Category::Burglary
            | Category::Tamper
            | Category::Technical
            | Category::Unknown
    )
}

/// The words an event is shown with, in no particular language: the point's name and
/// location, the user's name, or the panel's own text. Empty for an unknown user (the console
/// says "unknown user" in the reader's language).
#[must_use]
pub fn describe(event: &Event, site: &SiteView) -> String {
    if let Some((name, location)) = event.zone.and_then(|z| site.points.get(&z)) {
        return if location.is_empty() {
            name.clone()
        } else {
            format!("{name}, {location}")
        };
    }
    if let Some(user) = event.user {
        return site.users.get(&user).cloned().unwrap_or_default();
    }
    event.text.clone().unwrap_or_default()
}

fn note(signal_id: i64, at: UnixMicros, event: &Event, site: &SiteView) -> EventNote {
    EventNote {
        signal_id: Some(signal_id),
        at,
        category: event.category,
        condition: event.condition,
        code: event.code.code.clone(),
        zone: event.zone,
        user: event.user,
        text: describe(event, site),
    }
}

/// The SMS that tells the customer an alarm reached the centre and was disarmed in time
/// (`DOMAIN.md` S8).
#[must_use]
pub fn disarm_message(site: &SiteView, by: &str, local_time: &str) -> Option<NewMessage> {
    let phone = site.customer_phone.clone()?;
    let body = if site.customer_language == "en" {
        format!(
            "The alarm at {} reached the alarm centre at {local_time} and was disarmed with an authorised code or tag ({by}). No action is needed.",
            site.name
        )
    } else {
        format!(
            "Larmet på {} nådde larmcentralen kl. {local_time} och frånkopplades med en behörig kod eller bricka ({by}). Ingen åtgärd behövs.",
            site.name
        )
    };
    Some(NewMessage {
        channel: "sms",
        recipient: phone,
        subject: String::new(),
        body,
    })
}

/// Decides what one event means. `point_alarms_last_hour` counts the alarms its point sent in
/// the hour before, this one not included; `local_time` is the event's time as the customer
/// reads it (for the SMS).
#[must_use]
pub fn decide(
    rules: &Rules,
    signal_id: i64,
    at: UnixMicros,
    event: &Event,
    site: &SiteView,
    point_alarms_last_hour: u32,
    local_time: &str,
) -> Option<EngineChange> {
    if site.in_test(event.zone, at) != InTest::No {
        return None;
    }
    let event_note = note(signal_id, at, event, site);
    let site_id = site.site_id;
    match (event.category, event.condition) {
        (Category::Heartbeat, _) => None,
        (category, Condition::New | Condition::Status) if is_alarm(category) => {
            let runaway_zone = event.zone.filter(|_| {
                point_alarms_last_hour.saturating_add(1) > rules.runaway_alarms_per_hour
            });
            Some(EngineChange::Alarm {
                site_id,
                title: event_note.text.clone(),
                event: event_note,
                hold_until: hold::hold_for_new(rules.hold, category, at),
                keeps_hold: hold::keeps_hold(rules.hold, category),
                runaway_zone,
            })
        }
        (Category::Opening | Category::Cancel, _) => {
            match event
                .user
                .and_then(|u| site.users.get(&u).map(|name| (u, name)))
            {
                Some((number, name)) => {
                    let by = format!("user {number} ({name})");
                    Some(EngineChange::AuthorisedDisarm {
                        site_id,
                        event: event_note,
                        message: disarm_message(site, &by, local_time),
                        by,
                    })
                }
                None => Some(EngineChange::Attach {
                    site_id,
                    event: event_note,
                }),
            }
        }
        _ => Some(EngineChange::Attach {
            site_id,
            event: event_note,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vakt_core::{EventCode, PayloadFormat};

    fn site() -> SiteView {
        SiteView {
            site_id: 7,
            name: "Villa Berg".into(),
            points: HashMap::from([(4, ("Hall".into(), "vid ytterdörren".into()))]),
            users: HashMap::from([(3, "Anna Berg".into())]),
            test_until: None,
            point_tests: HashMap::new(),
            customer_phone: Some("+46701234567".into()),
            customer_language: "sv".into(),
        }
    }

    fn event(
        category: Category,
        condition: Condition,
        zone: Option<u32>,
        user: Option<u32>,
    ) -> Event {
        Event {
            category,
            condition,
            zone,
            user,
            partition: None,
            code: EventCode {
                format: PayloadFormat::Sia,
                code: "BA".into(),
            },
            description: None,
            text: None,
        }
    }

    const AT: UnixMicros = UnixMicros(1_000_000_000);

    #[test]
    fn a_burglary_opens_a_held_incident_named_by_its_point() {
        let change = decide(
            &Rules::default(),
            1,
            AT,
            &event(Category::Burglary, Condition::New, Some(4), None),
            &site(),
            0,
            "12:00",
        );
        let Some(EngineChange::Alarm {
            title,
            hold_until,
            runaway_zone,
            site_id,
            ..
        }) = change
        else {
            panic!("expected an alarm, got {change:?}");
        };
        assert_eq!(title, "Hall, vid ytterdörren");
        assert_eq!(site_id, 7);
        assert_eq!(hold_until, Some(AT.add_micros(60_000_000)));
        assert_eq!(runaway_zone, None);
    }

    #[test]
    fn fire_is_never_held() {
        let change = decide(
            &Rules::default(),
            1,
            AT,
            &event(Category::Fire, Condition::New, Some(4), None),
            &site(),
            0,
            "12:00",
        );
        assert!(matches!(
            change,
            Some(EngineChange::Alarm {
                hold_until: None,
                ..
            })
        ));
    }

    #[test]
    fn a_known_user_disarming_cancels_and_texts_the_customer() {
        let change = decide(
            &Rules::default(),
            1,
            AT,
            &event(Category::Opening, Condition::New, None, Some(3)),
            &site(),
            0,
            "12:00",
        );
        let Some(EngineChange::AuthorisedDisarm { by, message, .. }) = change else {
            panic!("expected a disarm, got {change:?}");
        };
        assert_eq!(by, "user 3 (Anna Berg)");
        let message = message.unwrap_or_else(|| panic!("no message"));
        assert_eq!(message.recipient, "+46701234567");
        assert!(
            message.body.contains("behörig kod eller bricka"),
            "{}",
            message.body
        );
        assert!(message.body.contains("12:00"));
    }

    #[test]
    fn an_unknown_user_disarming_cancels_nothing() {
        let change = decide(
            &Rules::default(),
            1,
            AT,
            &event(Category::Opening, Condition::New, None, Some(9)),
            &site(),
            0,
            "12:00",
        );
        let Some(EngineChange::Attach { event, .. }) = change else {
            panic!("expected an attach, got {change:?}");
        };
        assert_eq!(
            event.text, "",
            "an unknown user is shown as such by the console"
        );
    }

    #[test]
    fn test_mode_silences_the_site_or_the_point_until_it_ends() {
        let mut view = site();
        view.point_tests.insert(4, AT.add_micros(1));
        let burglary = event(Category::Burglary, Condition::New, Some(4), None);
        assert_eq!(
            decide(&Rules::default(), 1, AT, &burglary, &view, 0, ""),
            None
        );
        let other = event(Category::Burglary, Condition::New, Some(5), None);
        assert!(decide(&Rules::default(), 1, AT, &other, &view, 0, "").is_some());
        let later = AT.add_micros(1);
        assert!(decide(&Rules::default(), 1, later, &burglary, &view, 0, "").is_some());
        view.test_until = Some(AT.add_micros(10));
        assert_eq!(decide(&Rules::default(), 1, AT, &other, &view, 0, ""), None);
    }

    #[test]
    fn a_point_past_its_hourly_limit_runs_away() {
        let rules = Rules::default();
        let burglary = event(Category::Burglary, Condition::New, Some(4), None);
        let at_limit = decide(
            &rules,
            1,
            AT,
            &burglary,
            &site(),
            rules.runaway_alarms_per_hour - 1,
            "",
        );
        assert!(matches!(
            at_limit,
            Some(EngineChange::Alarm {
                runaway_zone: None,
                ..
            })
        ));
        let past = decide(
            &rules,
            1,
            AT,
            &burglary,
            &site(),
            rules.runaway_alarms_per_hour,
            "",
        );
        assert!(matches!(
            past,
            Some(EngineChange::Alarm {
                runaway_zone: Some(4),
                ..
            })
        ));
    }

    #[test]
    fn recent_alarms_count_the_window_before_each_alarm() {
        let hour = 3_600 * 1_000_000;
        let mut recent = RecentAlarms::from_stored(vec![AT, AT.add_micros(10)]);
        assert_eq!(recent.record(AT.add_micros(20), hour, 10), 2);
        assert_eq!(recent.record(AT.add_micros(30), hour, 10), 3);
        // An hour after the first, it has left the window.
        assert_eq!(recent.record(AT.add_micros(hour + 5), hour, 10), 3);
        let mut many = RecentAlarms::default();
        for n in 0..50 {
            many.record(AT.add_micros(n), hour, 10);
        }
        assert_eq!(
            many.record(AT.add_micros(50), hour, 10),
            11,
            "capped at limit + 1"
        );
        assert!(!many.stale(AT.add_micros(51), hour));
        assert!(many.stale(AT.add_micros(hour + 51), hour));
    }

    #[test]
    fn heartbeats_are_not_shown_and_restores_are() {
        assert_eq!(
            decide(
                &Rules::default(),
                1,
                AT,
                &event(Category::Heartbeat, Condition::New, None, None),
                &site(),
                0,
                ""
            ),
            None
        );
        let restore = decide(
            &Rules::default(),
            1,
            AT,
            &event(Category::Burglary, Condition::Restore, Some(4), None),
            &site(),
            0,
            "",
        );
        assert!(matches!(restore, Some(EngineChange::Attach { .. })));
    }
}
