//! Seeded simulations of the panel: what a customer would check at their own keypad.

use vakt_core::UnixMicros;

use crate::panel::{CONTROL_BOX, UNKNOWN_USER};
use crate::{
    ArmMode, ArmState, Attribution, Authority, Credential, Enrolled, Input, Installation, Lang,
    Panel, PanelConfig, PointKind, PointSpec, Refusal, ReportCode, User,
};

/// SplitMix64: a tiny reproducible generator, so a failing seed replays exactly.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const T0: i64 = 1_790_000_000_000_000;
const DOOR: u32 = 1;
const HALL: u32 = 2;
const LIVING: u32 = 3;
const SMOKE: u32 = 4;
const PANIC: u32 = 5;
const WINDOW: u32 = 6;
const CAMERA: u32 = 7;

fn at(seconds: i64) -> UnixMicros {
    UnixMicros(T0 + seconds * 1_000_000)
}

fn code(text: &str) -> Credential {
    Credential::Code(text.into())
}

fn point(number: u32, name: &str, kind: PointKind, entry_route: bool) -> PointSpec {
    PointSpec {
        number,
        name: name.into(),
        kind,
        partition: 1,
        entry_route,
    }
}

fn home() -> Panel {
    let installation = Installation {
        points: vec![
            point(DOOR, "Ytterdörr", PointKind::DoorWindow, true),
            point(HALL, "Hall", PointKind::Motion, false),
            point(LIVING, "Vardagsrum", PointKind::PetImmuneMotion, false),
            point(SMOKE, "Brandvarnare kök", PointKind::Smoke, false),
            point(PANIC, "Överfallsknapp", PointKind::Panic, false),
            point(WINDOW, "Köksfönster", PointKind::DoorWindow, false),
            point(CAMERA, "Fotodetektor källare", PointKind::Camera, false),
        ],
        users: vec![
            User {
                number: 1,
                name: "Anna Lindqvist".into(),
            },
            User {
                number: 2,
                name: "Erik Lindqvist".into(),
            },
        ],
        credentials: vec![
            Enrolled {
                credential: code("1234"),
                authority: Authority::Main,
                user: Some(1),
            },
            Enrolled {
                credential: code("2580"),
                authority: Authority::User,
                user: Some(2),
            },
            Enrolled {
                credential: Credential::Tag("TAG-77".into()),
                authority: Authority::User,
                user: None,
            },
            Enrolled {
                credential: Credential::Remote("RC-1".into()),
                authority: Authority::User,
                user: Some(2),
            },
        ],
    };
    Panel::new(PanelConfig::default(), installation)
}

fn codes(panel: &mut Panel) -> Vec<(ReportCode, u32)> {
    panel
        .take_reports()
        .into_iter()
        .map(|r| (r.code, r.address))
        .collect()
}

fn arm(panel: &mut Panel, now: UnixMicros, credential: Credential) -> Result<(), Refusal> {
    panel.apply(
        now,
        Input::Arm {
            credential,
            mode: ArmMode::Away,
            partition: None,
        },
    )
}

fn disarm(panel: &mut Panel, now: UnixMicros, credential: Credential) -> Result<(), Refusal> {
    panel.apply(
        now,
        Input::Disarm {
            credential,
            partition: None,
        },
    )
}

#[test]
fn exit_delay_then_entry_delay_then_alarm_to_the_second() {
    // The seed delays vary so a boundary off by one anywhere shows up.
    let mut rng = Seeded(0x5EED_0001);
    for _ in 0..200 {
        let exit = 10 + rng.below(300) as u32;
        let entry = 5 + rng.below(60) as u32;
        let mut panel = home();
        let main = code("1234");
        panel
            .apply(
                at(0),
                Input::Program {
                    by: main.clone(),
                    exit_delay_s: exit,
                    entry_delay_s: entry,
                },
            )
            .unwrap();
        arm(&mut panel, at(0), main).unwrap();
        let exit = i64::from(exit);
        // Leaving through the door during the exit delay is no alarm.
        panel.apply(at(1), Input::Open { point: DOOR }).unwrap();
        panel.apply(at(2), Input::Close { point: DOOR }).unwrap();
        panel.tick(at(exit - 1));
        assert!(matches!(panel.state(), ArmState::Exiting { .. }));
        assert!(
            panel
                .display(at(exit - 1), Lang::Sv)
                .starts_with("Utpassering 0:01")
        );
        panel.tick(at(exit));
        assert_eq!(
            panel.state(),
            ArmState::Armed {
                mode: ArmMode::Away
            }
        );
        assert_eq!(
            codes(&mut panel),
            vec![
                (ReportCode::ProgrammingChanged, 1),
                (ReportCode::Closing, 1)
            ]
        );
        // Coming home: the door starts the entry delay, the hall on the way is allowed.
        let home_at = exit + 100;
        panel
            .apply(at(home_at), Input::Open { point: DOOR })
            .unwrap();
        panel
            .apply(
                at(home_at + 1),
                Input::Movement {
                    point: HALL,
                    pets_kg: None,
                },
            )
            .unwrap();
        let entry = i64::from(entry);
        panel.tick(at(home_at + entry - 1));
        assert!(matches!(panel.state(), ArmState::Entry { .. }));
        assert!(
            codes(&mut panel).is_empty(),
            "nothing sent during the entry delay"
        );
        assert!(!panel.siren(at(home_at + entry - 1)));
        panel.tick(at(home_at + entry));
        assert!(matches!(panel.state(), ArmState::Alarm { point: DOOR, .. }));
        assert!(panel.siren(at(home_at + entry)));
        assert_eq!(codes(&mut panel), vec![(ReportCode::Burglary, DOOR)]);
        // The siren stops by itself at its cut-off; the alarm stays until disarmed.
        let cutoff = i64::from(panel.config().siren_cutoff_s);
        assert!(!panel.siren(at(home_at + entry + cutoff)));
        disarm(&mut panel, at(home_at + entry + 5), code("2580")).unwrap();
        assert_eq!(panel.state(), ArmState::Disarmed);
        assert_eq!(codes(&mut panel), vec![(ReportCode::Opening, 2)]);
    }
}

#[test]
fn disarming_within_the_entry_delay_sends_only_the_opening() {
    let mut panel = home();
    arm(&mut panel, at(0), code("2580")).unwrap();
    panel.tick(at(180));
    panel.apply(at(500), Input::Open { point: DOOR }).unwrap();
    assert!(
        panel
            .display(at(510), Lang::Sv)
            .starts_with("Inpassering 0:20")
    );
    assert!(
        panel
            .display(at(510), Lang::En)
            .starts_with("Entry delay 0:20")
    );
    disarm(&mut panel, at(529), code("2580")).unwrap();
    panel.tick(at(600));
    assert_eq!(
        codes(&mut panel),
        vec![(ReportCode::Closing, 2), (ReportCode::Opening, 2)]
    );
}

#[test]
fn a_window_off_the_entry_route_alarms_at_once_and_home_mode_ignores_motion() {
    let mut panel = home();
    arm(&mut panel, at(0), code("1234")).unwrap();
    panel.tick(at(180));
    panel.take_reports();
    panel.apply(at(200), Input::Open { point: WINDOW }).unwrap();
    assert!(matches!(
        panel.state(),
        ArmState::Alarm { point: WINDOW, .. }
    ));
    assert_eq!(codes(&mut panel), vec![(ReportCode::Burglary, WINDOW)]);
    panel
        .apply(at(210), Input::Close { point: WINDOW })
        .unwrap();
    assert_eq!(
        codes(&mut panel),
        vec![(ReportCode::BurglaryRestore, WINDOW)]
    );
    disarm(&mut panel, at(220), code("1234")).unwrap();
    panel.take_reports();

    // Skalskydd: people move inside, the perimeter is armed.
    panel
        .apply(
            at(300),
            Input::Arm {
                credential: code("2580"),
                mode: ArmMode::Home,
                partition: None,
            },
        )
        .unwrap();
    panel.tick(at(480));
    assert_eq!(codes(&mut panel), vec![(ReportCode::PartialClosing, 2)]);
    assert_eq!(panel.display(at(480), Lang::Sv), "Skalskydd");
    for point in [HALL, LIVING, CAMERA] {
        panel
            .apply(
                at(500),
                Input::Movement {
                    point,
                    pets_kg: None,
                },
            )
            .unwrap();
    }
    assert!(codes(&mut panel).is_empty());
    panel.apply(at(510), Input::Open { point: WINDOW }).unwrap();
    assert_eq!(codes(&mut panel), vec![(ReportCode::Burglary, WINDOW)]);
}

#[test]
fn arming_is_refused_while_a_point_is_open_and_the_display_names_it() {
    let mut panel = home();
    panel.apply(at(0), Input::Open { point: WINDOW }).unwrap();
    panel
        .apply(
            at(0),
            Input::Movement {
                point: HALL,
                pets_kg: None,
            },
        )
        .unwrap();
    let refused = arm(&mut panel, at(1), code("1234"));
    assert_eq!(
        refused,
        Err(Refusal::NotReady {
            points: vec!["Hall".into(), "Köksfönster".into()]
        })
    );
    assert_eq!(panel.state(), ArmState::Disarmed);
    assert!(
        codes(&mut panel).is_empty(),
        "a refused arming tells the centre nothing"
    );
    assert_eq!(
        panel.display(at(1), Lang::Sv),
        "Frånkopplat · Larm ej klart: Hall, Köksfönster"
    );
    assert_eq!(
        panel.display(at(1), Lang::En),
        "Disarmed · Alarm not ready: Hall, Köksfönster"
    );
    // Home mode only needs the perimeter closed.
    panel.apply(at(2), Input::Close { point: WINDOW }).unwrap();
    panel
        .apply(
            at(3),
            Input::Arm {
                credential: code("1234"),
                mode: ArmMode::Home,
                partition: None,
            },
        )
        .unwrap();
    assert!(matches!(panel.state(), ArmState::Exiting { .. }));
}

#[test]
fn tamper_needs_service_and_the_code_twice_resets_it_only_once_the_cause_is_gone() {
    let mut rng = Seeded(0x5EED_0002);
    for _ in 0..100 {
        let mut panel = home();
        let cause = rng.below(3);
        let now = at(10);
        match cause {
            0 => panel.apply(now, Input::Cover { point: HALL }).unwrap(),
            1 => panel.apply(now, Input::Knock).unwrap(),
            _ => panel.apply(now, Input::Dismount { point: WINDOW }).unwrap(),
        }
        let (tampered, name) = match cause {
            0 => (HALL, "Hall"),
            1 => (CONTROL_BOX, "Centralenhet"),
            _ => (WINDOW, "Köksfönster"),
        };
        assert_eq!(codes(&mut panel), vec![(ReportCode::Tamper, tampered)]);
        assert!(panel.service_needed());
        let display = panel.display(now, Lang::Sv);
        assert!(display.contains("Behov av service, tryck *2"), "{display}");
        if cause != 1 {
            assert!(display.contains(&format!("Sabotage: {name}")), "{display}");
            // With the cause still there, arm and disarm do not reset it.
            arm(&mut panel, at(20), code("2580")).unwrap();
            disarm(&mut panel, at(25), code("2580")).unwrap();
            assert!(panel.service_needed());
            match cause {
                0 => panel.apply(at(30), Input::Uncover { point: HALL }).unwrap(),
                _ => panel
                    .apply(at(30), Input::Remount { point: WINDOW })
                    .unwrap(),
            }
            let restored = codes(&mut panel);
            assert!(restored.contains(&(ReportCode::TamperRestore, tampered)));
            assert!(panel.service_needed(), "the restore alone does not reset");
        }
        panel.apply(at(31), Input::StarTwo).unwrap();
        assert!(
            panel
                .display(at(31), Lang::En)
                .contains("Tamper: cleared, enter the code twice (arm, disarm)")
        );
        // A disarm alone is not the reset; arm then disarm is.
        let _ = disarm(&mut panel, at(32), code("2580"));
        assert!(panel.service_needed());
        arm(&mut panel, at(40), code("2580")).unwrap();
        assert!(panel.service_needed());
        disarm(&mut panel, at(41), code("2580")).unwrap();
        assert!(!panel.service_needed());
        assert_eq!(panel.display(at(41), Lang::Sv), "Frånkopplat");
    }
}

#[test]
fn only_the_main_code_manages_codes_and_programs() {
    let mut panel = home();
    let new_code = Enrolled {
        credential: code("9999"),
        authority: Authority::User,
        user: Some(2),
    };
    for by in [
        code("2580"),
        Credential::Tag("TAG-77".into()),
        Credential::App,
    ] {
        assert_eq!(
            panel.apply(
                at(0),
                Input::Enrol {
                    by: by.clone(),
                    enrolled: new_code.clone(),
                }
            ),
            Err(Refusal::NotAuthorised)
        );
        assert_eq!(
            panel.apply(
                at(0),
                Input::Withdraw {
                    by: by.clone(),
                    credential: code("2580"),
                }
            ),
            Err(Refusal::NotAuthorised)
        );
        assert_eq!(
            panel.apply(
                at(0),
                Input::Program {
                    by,
                    exit_delay_s: 1,
                    entry_delay_s: 1,
                }
            ),
            Err(Refusal::NotAuthorised)
        );
    }
    assert!(panel.display(at(0), Lang::Sv).ends_with("Kräver huvudkod"));
    assert_eq!(
        arm(&mut panel, at(1), code("9999")),
        Err(Refusal::WrongCode)
    );
    assert_eq!(panel.config().exit_delay_s, 180);
    assert!(codes(&mut panel).is_empty());

    panel
        .apply(
            at(2),
            Input::Enrol {
                by: code("1234"),
                enrolled: new_code,
            },
        )
        .unwrap();
    panel
        .apply(
            at(3),
            Input::Withdraw {
                by: code("1234"),
                credential: code("2580"),
            },
        )
        .unwrap();
    assert_eq!(
        arm(&mut panel, at(4), code("2580")),
        Err(Refusal::WrongCode)
    );
    arm(&mut panel, at(5), code("9999")).unwrap();
    assert_eq!(
        codes(&mut panel),
        vec![
            (ReportCode::ProgrammingChanged, 1),
            (ReportCode::ProgrammingChanged, 1),
            (ReportCode::Closing, 2)
        ]
    );
}

#[test]
fn untied_tags_and_the_app_log_as_unknown_user() {
    let mut panel = home();
    arm(&mut panel, at(0), Credential::Tag("TAG-77".into())).unwrap();
    disarm(&mut panel, at(10), Credential::App).unwrap();
    arm(&mut panel, at(20), Credential::App).unwrap();
    disarm(&mut panel, at(30), Credential::Remote("RC-1".into())).unwrap();
    assert_eq!(
        codes(&mut panel),
        vec![
            (ReportCode::Closing, UNKNOWN_USER),
            (ReportCode::RemoteOpening, UNKNOWN_USER),
            (ReportCode::RemoteClosing, UNKNOWN_USER),
            (ReportCode::Opening, 2),
        ]
    );
    let log: Vec<String> = panel.log().map(|e| e.by.label(Lang::Sv)).collect();
    assert_eq!(
        log,
        [
            "okänd användare",
            "okänd användare",
            "okänd användare",
            "Erik Lindqvist"
        ]
    );
    assert_eq!(
        panel.log().last().map(|e| e.by.clone()),
        Some(Attribution::User {
            number: 2,
            name: "Erik Lindqvist".into()
        })
    );
    assert_eq!(Attribution::Unknown.label(Lang::En), "unknown user");
}

#[test]
fn pets_up_to_the_limit_never_trigger_a_pet_immune_detector() {
    let mut rng = Seeded(0x5EED_0003);
    for _ in 0..500 {
        let mut panel = home();
        arm(&mut panel, at(0), code("1234")).unwrap();
        panel.tick(at(180));
        panel.take_reports();
        let kg = rng.below(60) as u32;
        panel
            .apply(
                at(200),
                Input::Movement {
                    point: LIVING,
                    pets_kg: Some(kg),
                },
            )
            .unwrap();
        let reports = codes(&mut panel);
        if kg <= 20 {
            assert!(reports.is_empty(), "{kg} kg of pets set off the alarm");
            assert_eq!(
                panel.state(),
                ArmState::Armed {
                    mode: ArmMode::Away
                }
            );
        } else {
            assert_eq!(reports, vec![(ReportCode::Burglary, LIVING)], "{kg} kg");
        }
        // An ordinary motion detector sees pets of any weight.
        let mut panel = home();
        arm(&mut panel, at(0), code("1234")).unwrap();
        panel.tick(at(180));
        panel.take_reports();
        panel
            .apply(
                at(200),
                Input::Movement {
                    point: HALL,
                    pets_kg: Some(kg),
                },
            )
            .unwrap();
        assert_eq!(codes(&mut panel), vec![(ReportCode::Burglary, HALL)]);
    }
}

#[test]
fn smoke_and_panic_alarm_whatever_the_state() {
    let mut rng = Seeded(0x5EED_0004);
    for _ in 0..200 {
        let mut panel = home();
        // Walk the panel into a random state first.
        let steps = rng.below(4);
        if steps >= 1 {
            arm(&mut panel, at(0), code("1234")).unwrap();
        }
        if steps >= 2 {
            panel.tick(at(180));
        }
        if steps >= 3 {
            panel.apply(at(190), Input::Open { point: DOOR }).unwrap();
        }
        panel.take_reports();
        let state = panel.state().as_str();
        panel.apply(at(200), Input::Smoke { point: SMOKE }).unwrap();
        assert_eq!(
            codes(&mut panel),
            vec![(ReportCode::Fire, SMOKE)],
            "{state}"
        );
        assert!(panel.siren(at(201)), "{state}");
        assert!(
            panel
                .display(at(201), Lang::Sv)
                .starts_with("BRAND: Brandvarnare kök")
        );
        panel.apply(at(202), Input::Panic { point: PANIC }).unwrap();
        assert_eq!(
            codes(&mut panel),
            vec![(ReportCode::Panic, PANIC)],
            "{state}"
        );
        panel
            .apply(at(203), Input::SmokeClears { point: SMOKE })
            .unwrap();
        assert_eq!(codes(&mut panel), vec![(ReportCode::FireRestore, SMOKE)]);
    }
}

#[test]
fn batteries_mains_and_wrong_codes_are_reported_once() {
    let mut panel = home();
    for percent in [80, 40, 14, 9, 3] {
        panel
            .apply(
                at(0),
                Input::BatteryLevel {
                    point: HALL,
                    percent,
                },
            )
            .unwrap();
    }
    panel
        .apply(
            at(0),
            Input::BatteryLevel {
                point: CONTROL_BOX,
                percent: 10,
            },
        )
        .unwrap();
    panel.apply(at(1), Input::MainsLost).unwrap();
    assert_eq!(
        panel.apply(at(1), Input::MainsLost),
        Err(Refusal::AlreadySo)
    );
    assert_eq!(
        panel.display(at(1), Lang::Sv),
        "Frånkopplat · Nätavbrott · Lågt batteri"
    );
    panel.apply(at(2), Input::MainsRestored).unwrap();
    panel
        .apply(
            at(3),
            Input::BatteryLevel {
                point: HALL,
                percent: 100,
            },
        )
        .unwrap();
    for _ in 0..7 {
        let _ = arm(&mut panel, at(4), code("0000"));
    }
    assert_eq!(
        codes(&mut panel),
        vec![
            (ReportCode::PointBatteryLow, HALL),
            (ReportCode::PanelBatteryLow, CONTROL_BOX),
            (ReportCode::MainsLost, CONTROL_BOX),
            (ReportCode::MainsRestored, CONTROL_BOX),
            (ReportCode::PointBatteryRestored, HALL),
            (ReportCode::WrongCodes, UNKNOWN_USER),
        ]
    );
}

#[test]
fn the_customers_test_run_reaches_the_centre_as_the_seeds_describe() {
    let mut panel = home();
    let plan = crate::test_run(PanelConfig::default(), DOOR, code("2580"));
    for (offset_s, input) in plan {
        panel.apply(at(offset_s), input).unwrap();
        panel.tick(at(offset_s));
    }
    let reports = codes(&mut panel);
    assert_eq!(
        reports,
        vec![
            (ReportCode::TestStart, 2),
            (ReportCode::Closing, 2),
            (ReportCode::Burglary, DOOR),
            (ReportCode::Opening, 2),
            (ReportCode::TestEnd, 2),
        ]
    );
}

#[test]
fn the_event_log_is_bounded_and_keeps_the_newest() {
    let mut panel = home();
    let most = panel.config().event_log_entries_max;
    for i in 0..(most as i64 + 50) {
        arm(&mut panel, at(i * 2), code("2580")).unwrap();
        disarm(&mut panel, at(i * 2 + 1), code("1234")).unwrap();
    }
    assert_eq!(panel.log().count(), most);
    let newest = panel.log().last().map(|e| e.by.label(Lang::Sv));
    assert_eq!(newest.as_deref(), Some("Anna Lindqvist"));
}
