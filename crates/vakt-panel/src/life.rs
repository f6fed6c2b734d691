//! A household's day, for the fleet: when people leave, come home, go to bed, and the rarer
//! things that happen to an alarm system (a late disarm, a break-in, a covered detector, a
//! flat battery, a power cut, a lost link).
//!
//! A plan is drawn from a seed and a day number only, so a fleet run can be replayed exactly:
//! the same seed gives the same inputs at the same offsets.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::Serialize;

use crate::panel::{ArmMode, Credential, Input, Installation, PointKind};

/// Seconds in a day.
pub const DAY_S: i64 = 86_400;

/// How often the rarer things happen, per site and day.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Odds {
    /// Coming home and disarming after the entry delay (a false alarm).
    pub late_disarm: f64,
    /// A window opened while everyone is away.
    pub break_in: f64,
    /// A detector covered for a while.
    pub tamper: f64,
    /// A wireless point's battery runs low.
    pub low_battery: f64,
    /// A power cut.
    pub mains_loss: f64,
    /// The transmitter loses its link for a while.
    pub link_loss: f64,
    /// Smoke in the kitchen.
    pub smoke: f64,
}

impl Default for Odds {
    fn default() -> Odds {
        Odds {
            late_disarm: 0.03,
            break_in: 0.003,
            tamper: 0.01,
            low_battery: 0.01,
            mains_loss: 0.005,
            link_loss: 0.005,
            smoke: 0.001,
        }
    }
}

/// Something the fleet does to a panel or its transmitter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum Action {
    /// An input to the panel.
    Input(Input),
    /// The transmitter's link is down for this many seconds.
    LinkDown {
        /// How long.
        seconds: u32,
    },
}

/// The points of a home that a day's plan uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Household {
    door: Option<u32>,
    window: Option<u32>,
    motion: Option<u32>,
    smoke: Option<u32>,
    wireless: Vec<u32>,
    credential: Credential,
}

impl Household {
    /// Reads the points from an installation; people use `credential` to arm and disarm.
    #[must_use]
    pub fn new(installation: &Installation, credential: Credential) -> Household {
        let first = |wanted: &dyn Fn(PointKind, bool) -> bool| {
            installation
                .points
                .iter()
                .find(|p| wanted(p.kind, p.entry_route))
                .map(|p| p.number)
        };
        Household {
            door: first(&|kind, entry| kind == PointKind::DoorWindow && entry),
            window: first(&|kind, entry| kind == PointKind::DoorWindow && !entry),
            motion: first(&|kind, _| kind.senses_motion()),
            smoke: first(&|kind, _| kind == PointKind::Smoke),
            wireless: installation
                .points
                .iter()
                .filter(|p| p.kind != PointKind::Panic)
                .map(|p| p.number)
                .collect(),
            credential,
        }
    }
}

/// Day `day`'s plan for a household: `(seconds after midnight, action)`, in time order.
#[must_use]
pub fn day_plan(seed: u64, day: u64, home: &Household, odds: &Odds) -> Vec<(i64, Action)> {
    let mut rng = StdRng::seed_from_u64(seed ^ day.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut plan = Vec::new();
    let mut add = |at: i64, input: Input| plan.push((at, Action::Input(input)));
    let code = home.credential.clone();
    let minutes = |rng: &mut StdRng, from: i64, to: i64| rng.random_range(from..to) * 60;

    // Morning: disarm the night's perimeter arming, then leave and arm fully.
    let wake = 6 * 3600 + minutes(&mut rng, 0, 120);
    add(
        wake,
        Input::Disarm {
            credential: code.clone(),
            partition: None,
        },
    );
    let leave = wake + minutes(&mut rng, 20, 90);
    add(
        leave,
        Input::Arm {
            credential: code.clone(),
            mode: ArmMode::Away,
            partition: None,
        },
    );
    if let Some(door) = home.door {
        add(leave + 10, Input::Open { point: door });
        add(leave + 15, Input::Close { point: door });
    }

    // Away: now and then a break-in.
    if let Some(window) = home.window
        && rng.random_bool(odds.break_in)
    {
        let at = leave + 3600 + minutes(&mut rng, 0, 240);
        add(at, Input::Open { point: window });
        add(at + 120, Input::Close { point: window });
    }

    // Home again: the door starts the entry delay; usually someone disarms in time.
    let back = 16 * 3600 + minutes(&mut rng, 0, 180);
    if let Some(door) = home.door {
        add(back, Input::Open { point: door });
        add(back + 5, Input::Close { point: door });
    }
    let late = rng.random_bool(odds.late_disarm);
    let disarm_after = if late {
        rng.random_range(40..120)
    } else {
        rng.random_range(5..25)
    };
    add(
        back + disarm_after,
        Input::Disarm {
            credential: code.clone(),
            partition: None,
        },
    );

    if let Some(smoke) = home.smoke
        && rng.random_bool(odds.smoke)
    {
        let at = 18 * 3600 + minutes(&mut rng, 0, 60);
        add(at, Input::Smoke { point: smoke });
        add(at + 180, Input::SmokeClears { point: smoke });
    }
    if let Some(motion) = home.motion
        && rng.random_bool(odds.tamper)
    {
        let at = 19 * 3600 + minutes(&mut rng, 0, 60);
        add(at, Input::Cover { point: motion });
        add(at + 600, Input::Uncover { point: motion });
    }

    // Night: perimeter only, people sleep inside.
    let night = 22 * 3600 + minutes(&mut rng, 0, 90);
    add(
        night,
        Input::Arm {
            credential: code,
            mode: ArmMode::Home,
            partition: None,
        },
    );

    if !home.wireless.is_empty() && rng.random_bool(odds.low_battery) {
        let point = home.wireless[rng.random_range(0..home.wireless.len())];
        let at = minutes(&mut rng, 0, 24 * 60);
        add(at, Input::BatteryLevel { point, percent: 9 });
        add(
            (at + 6 * 3600).min(DAY_S - 1),
            Input::BatteryLevel {
                point,
                percent: 100,
            },
        );
    }
    if rng.random_bool(odds.mains_loss) {
        let at = minutes(&mut rng, 0, 23 * 60);
        add(at, Input::MainsLost);
        add(at + minutes(&mut rng, 5, 60), Input::MainsRestored);
    }
    if rng.random_bool(odds.link_loss) {
        let at = minutes(&mut rng, 0, 23 * 60);
        let seconds = rng.random_range(60..600);
        plan.push((at, Action::LinkDown { seconds }));
    }
    plan.sort_by_key(|(at, _)| *at);
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::panel::{Authority, Enrolled, PointSpec};
    use crate::{Panel, PanelConfig, ReportCode};
    use vakt_core::UnixMicros;

    fn installation() -> Installation {
        let point = |number, kind, entry_route| PointSpec {
            number,
            name: format!("P{number}"),
            kind,
            partition: 1,
            entry_route,
        };
        Installation {
            points: vec![
                point(1, PointKind::DoorWindow, true),
                point(2, PointKind::Motion, false),
                point(3, PointKind::DoorWindow, false),
                point(4, PointKind::Smoke, false),
            ],
            users: vec![],
            credentials: vec![Enrolled {
                credential: Credential::Code("1111".into()),
                authority: Authority::Main,
                user: None,
            }],
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_day_and_another_seed_another() {
        let home = Household::new(&installation(), Credential::Code("1111".into()));
        let odds = Odds::default();
        assert_eq!(day_plan(7, 3, &home, &odds), day_plan(7, 3, &home, &odds));
        assert_ne!(day_plan(7, 3, &home, &odds), day_plan(8, 3, &home, &odds));
        assert_ne!(day_plan(7, 3, &home, &odds), day_plan(7, 4, &home, &odds));
    }

    #[test]
    fn a_year_of_days_arms_and_disarms_and_alarms_only_when_the_plan_says() {
        let home = Household::new(&installation(), Credential::Code("1111".into()));
        let odds = Odds {
            late_disarm: 0.1,
            break_in: 0.05,
            ..Odds::default()
        };
        let mut panel = Panel::new(PanelConfig::default(), installation());
        let (mut closings, mut alarms, mut expected_alarms) = (0, 0, 0);
        for day in 0..365 {
            let midnight = 1_790_000_000 + i64::try_from(day).unwrap_or(0) * DAY_S;
            let plan = day_plan(42, day, &home, &odds);
            let disarms = plan
                .iter()
                .filter(|(_, a)| matches!(a, Action::Input(Input::Disarm { .. })))
                .count();
            assert_eq!(disarms, 2, "every day has a morning and an evening disarm");
            for (at, action) in plan {
                let now = UnixMicros::from_seconds(midnight + at);
                panel.tick(now);
                if let Action::Input(input) = action {
                    let _ = panel.apply(now, input);
                }
            }
            for report in panel.take_reports() {
                match report.code {
                    ReportCode::Closing | ReportCode::PartialClosing => closings += 1,
                    ReportCode::Burglary => alarms += 1,
                    _ => {}
                }
            }
            let plan = day_plan(42, day, &home, &odds);
            let window_opened = plan
                .iter()
                .any(|(_, a)| *a == Action::Input(Input::Open { point: 3 }));
            let disarm_s = plan.iter().filter_map(|(at, a)| match a {
                Action::Input(Input::Disarm { .. }) => Some(*at),
                _ => None,
            });
            let door_s: Vec<i64> = plan
                .iter()
                .filter_map(|(at, a)| {
                    (*a == Action::Input(Input::Open { point: 1 })).then_some(*at)
                })
                .collect();
            let came_back = door_s.last().copied().unwrap_or(0);
            let late = disarm_s
                .into_iter()
                .any(|at| at - came_back > 30 && at > came_back);
            // A break-in stands until someone disarms, so the door trips it a second time
            // when they come home.
            expected_alarms += if window_opened { 2 } else { usize::from(late) };
        }
        // Two armings a day (away and home), every day.
        assert_eq!(closings, 2 * 365);
        assert_eq!(alarms, expected_alarms);
        assert!(alarms > 0, "a year at these odds has alarms");
    }
}
