//! The hold window (*smart verifiering*), as rules on plain values.
//!
//! A burglary alarm is held for a short window so that an authorised disarm (the family
//! coming home late) can cancel it before an operator spends time on it. Fire, hold-up and
//! medical alarms are never held: they always reach an operator. Those two promises meet when
//! alarms of different kinds join one incident, so the whole rule lives here, once:
//!
//! - a hold applies only while every alarm on the incident is of a held category: the first
//!   alarm of a category that is never held ends the hold for good, and a later held alarm
//!   neither starts nor extends it ([`hold_after_alarm`]);
//! - an authorised disarm cancels the incident only inside its hold, while nobody has taken
//!   it, and never once the incident has carried a life-safety alarm ([`on_authorised_disarm`]).
//!
//! The store keeps `hold_until` and the incident's category (the highest it has carried, as
//! categories only ever rise) and asks these functions what to do.

use crate::centre::HoldWindows;
use crate::{Category, UnixMicros};

/// Whether a category is a life-safety alarm: fire, hold-up (panic) or medical.
#[must_use]
pub fn is_life_safety(category: Category) -> bool {
    matches!(
        category,
        Category::Fire | Category::HoldUp | Category::Medical
    )
}

/// The hold of a new incident opened by an alarm of `category` at `at`.
#[must_use]
pub fn hold_for_new(
    windows: HoldWindows,
    category: Category,
    at: UnixMicros,
) -> Option<UnixMicros> {
    if is_life_safety(category) {
        return None;
    }
    let seconds = windows.for_category(category);
    (seconds > 0).then(|| at.add_micros(i64::from(seconds) * 1_000_000))
}

/// Whether an open incident's hold survives an alarm of `category` joining it: only when that
/// category is held too.
#[must_use]
pub fn keeps_hold(windows: HoldWindows, category: Category) -> bool {
    !is_life_safety(category) && windows.for_category(category) > 0
}

/// The hold of an open incident after an alarm of `category` joins it. An alarm of a category
/// that is never held (or not held under these windows) ends the hold; a held one keeps the
/// window the incident already has, never a new or longer one.
#[must_use]
pub fn hold_after_alarm(
    windows: HoldWindows,
    hold_until: Option<UnixMicros>,
    category: Category,
) -> Option<UnixMicros> {
    hold_until.filter(|_| keeps_hold(windows, category))
}

/// What an open incident looks like to the hold rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeldIncident {
    /// The end of its hold, if it is held.
    pub hold_until: Option<UnixMicros>,
    /// The highest category it has carried.
    pub category: Category,
    /// Whether an operator has taken it.
    pub taken: bool,
}

/// What an authorised disarm does to the site's open incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisarmOutcome {
    /// Close it as cancelled by the user, and tell the customer by SMS.
    Cancel,
    /// Inside the hold, but an operator has it: it stays open with a note for them.
    StaysWithOperator,
    /// It has carried a fire, hold-up or medical alarm: it stays open for an operator,
    /// whatever the hold said, and nothing tells the customer that no action is needed.
    StaysLifeSafety,
    /// Not held, or the hold ran out: the disarm is only shown.
    Shown,
}

impl DisarmOutcome {
    /// Whether the customer gets the "disarmed in time, no action needed" SMS.
    #[must_use]
    pub fn tells_customer(self) -> bool {
        self == DisarmOutcome::Cancel
    }
}

/// What an authorised disarm at `at` does to `incident`.
#[must_use]
pub fn on_authorised_disarm(incident: HeldIncident, at: UnixMicros) -> DisarmOutcome {
    if is_life_safety(incident.category) {
        return DisarmOutcome::StaysLifeSafety;
    }
    match incident.hold_until {
        Some(until) if at <= until && incident.taken => DisarmOutcome::StaysWithOperator,
        Some(until) if at <= until => DisarmOutcome::Cancel,
        _ => DisarmOutcome::Shown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: UnixMicros = UnixMicros(1_000_000_000_000);
    const SECOND: i64 = 1_000_000;

    /// Every alarm category an incident can carry.
    const ALARMS: [Category; 7] = [
        Category::Fire,
        Category::HoldUp,
        Category::Medical,
        Category::Burglary,
        Category::Tamper,
        Category::Technical,
        Category::Unknown,
    ];

    /// Opens an incident with `first` at `AT`, joins `second` to it, and disarms at
    /// `AT + disarm_s`, as the store does: the category rises, the hold follows the rules.
    fn play(
        windows: HoldWindows,
        first: Category,
        second: Category,
        disarm_s: i64,
    ) -> DisarmOutcome {
        let mut hold = hold_for_new(windows, first, AT);
        let mut category = first;
        hold = hold_after_alarm(windows, hold, second);
        if second.priority() > category.priority() {
            category = second;
        }
        on_authorised_disarm(
            HeldIncident {
                hold_until: hold,
                category,
                taken: false,
            },
            AT.add_micros(disarm_s * SECOND),
        )
    }

    #[test]
    fn a_burglary_alone_is_cancelled_inside_its_window_and_shown_after() {
        let w = HoldWindows::default();
        let burglary = Category::Burglary;
        assert_eq!(play(w, burglary, burglary, 30), DisarmOutcome::Cancel);
        assert_eq!(play(w, burglary, burglary, 60), DisarmOutcome::Cancel);
        assert_eq!(play(w, burglary, burglary, 61), DisarmOutcome::Shown);
    }

    #[test]
    fn every_pair_of_alarms_in_either_order_inside_and_outside_the_window() {
        // Tamper and technical are held too here, so that every pair of held categories
        // is played as well as every held/never-held pair.
        for windows in [
            HoldWindows::default(),
            HoldWindows {
                burglary_s: 60,
                tamper_s: 60,
                technical_s: 60,
            },
        ] {
            for first in ALARMS {
                for second in ALARMS {
                    for disarm_s in [5, 59, 60, 61, 600] {
                        let outcome = play(windows, first, second, disarm_s);
                        let held = |c| windows.for_category(c) > 0 && !is_life_safety(c);
                        let expected = if is_life_safety(first) || is_life_safety(second) {
                            DisarmOutcome::StaysLifeSafety
                        } else if held(first) && held(second) && disarm_s <= 60 {
                            DisarmOutcome::Cancel
                        } else {
                            DisarmOutcome::Shown
                        };
                        assert_eq!(
                            outcome, expected,
                            "{first:?} then {second:?}, disarm after {disarm_s} s, {windows:?}"
                        );
                        assert_eq!(
                            outcome.tells_customer(),
                            expected == DisarmOutcome::Cancel,
                            "the SMS follows the outcome"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_life_safety_alarm_is_never_held_even_if_configured() {
        let w = HoldWindows {
            burglary_s: 600,
            tamper_s: 600,
            technical_s: 600,
        };
        for category in [Category::Fire, Category::HoldUp, Category::Medical] {
            assert_eq!(hold_for_new(w, category, AT), None);
            assert_eq!(
                hold_after_alarm(w, Some(AT.add_micros(SECOND)), category),
                None
            );
        }
    }

    #[test]
    fn a_later_burglary_never_starts_or_extends_a_hold() {
        let w = HoldWindows::default();
        assert_eq!(hold_after_alarm(w, None, Category::Burglary), None);
        let until = AT.add_micros(60 * SECOND);
        assert_eq!(
            hold_after_alarm(w, Some(until), Category::Burglary),
            Some(until)
        );
    }

    #[test]
    fn a_taken_incident_stays_with_its_operator_and_life_safety_wins_over_everything() {
        let until = AT.add_micros(60 * SECOND);
        let taken = HeldIncident {
            hold_until: Some(until),
            category: Category::Burglary,
            taken: true,
        };
        assert_eq!(
            on_authorised_disarm(taken, AT),
            DisarmOutcome::StaysWithOperator
        );
        // A store that somehow kept a hold on a fire incident still never cancels it.
        let fire = HeldIncident {
            hold_until: Some(until),
            category: Category::Fire,
            taken: false,
        };
        assert_eq!(
            on_authorised_disarm(fire, AT),
            DisarmOutcome::StaysLifeSafety
        );
        assert!(!DisarmOutcome::StaysLifeSafety.tells_customer());
    }
}
