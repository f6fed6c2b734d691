//! The store's conformance suite: every method of `Journal`, `Registry` and `Centre`, run
//! against SQLite always and against PostgreSQL whenever `TEST_DATABASE_URL` names a
//! server (the test script starts one). Each test gets a database of its own.
//!
//! Beyond it, the PostgreSQL-only behaviour several nodes rely on: two stores on one database
//! share one journal order and recognise each other's duplicates, claim each outbox message
//! once, and see each other's shard epochs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

use std::sync::Arc;

use vakt_core::centre::{
    Authority, DispatchState, KeyAction, KeyState, PointKind, Resolution, Role, Step, StepAction,
    StepOutcome,
};
use vakt_core::time::FixedClock;
use vakt_core::{Category, Condition, UnixMicros};
use vakt_dc09::{Dialect, Key, KeyForm, Window};
use vakt_store::*;
use vakt_store_sql::SqlStore;

const NOW: i64 = 1_790_000_000_000_000;

struct Backend {
    label: &'static str,
    store: SqlStore,
    _dir: Option<tempfile::TempDir>,
}

fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock(UnixMicros(NOW)))
}

/// A fresh PostgreSQL database for `test`, when a server is given.
async fn postgres_url(test: &str) -> Option<String> {
    let url = std::env::var("TEST_DATABASE_URL").ok()?;
    let name = format!("vakt_conformance_{test}");
    Some(crate::scratch_database(&url, &name).await.unwrap())
}

async fn backends(test: &str) -> Vec<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = vakt_store_sqlite::open(
        vakt_store_sqlite::SqliteOptions::new(dir.path().join("vakt.db")),
        clock(),
    )
    .await
    .unwrap();
    let mut all = vec![Backend {
        label: "sqlite",
        store: sqlite,
        _dir: Some(dir),
    }];
    if let Some(url) = postgres_url(test).await {
        let store = crate::open(crate::PgOptions::new(url), clock())
            .await
            .unwrap();
        all.push(Backend {
            label: "postgres",
            store,
            _dir: None,
        });
    } else if std::env::var_os("CI").is_some() {
        panic!("CI must give TEST_DATABASE_URL so the suite runs on PostgreSQL too");
    }
    all
}

/// Runs each check against every backend, naming the backend when one fails.
macro_rules! conformance {
    ($($check:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $check() {
            for backend in backends(stringify!($check)).await {
                eprintln!("-- {} on {}", stringify!($check), backend.label);
                checks::$check(&backend.store).await;
                backend.store.close().await;
            }
        }
    )*};
}

conformance!(
    journal,
    registry,
    customers_and_sites,
    secrets,
    guards_and_keys,
    staff_and_sessions,
    engine_and_incidents,
    outbox,
    a_fire_joining_a_held_burglary_is_never_cancelled,
);

fn record(at: i64, account: &str, key: Option<&str>, transmitter: Option<i64>) -> SignalRecord {
    SignalRecord {
        received_at: UnixMicros(at),
        transport: Transport::Tcp,
        listener: "main".into(),
        peer: "127.0.0.1:5000".into(),
        raw: b"\n\xff binary \x00\r".to_vec(),
        verdict: Verdict::Accepted,
        detail: None,
        token: Some("ADM-CID".into()),
        encrypted: true,
        sequence: Some("0001".into()),
        receiver: None,
        prefix: Some("0".into()),
        account: Some(account.into()),
        transmitter_id: transmitter,
        message_time: Some(UnixMicros(at - 1_000_000)),
        data: Some(b"#1234|1130 01 015".to_vec()),
        xdata: serde_json::json!([{"kind": "V", "value": "x"}]),
        events: vec![vakt_core::Event::from_contact_id(1, 130, 1, 15)],
        answer: "ack".into(),
        response: b"\nACK\r".to_vec(),
        duplicate_key: key.map(str::to_owned),
    }
}

fn transmitter(account: &str, site: &str) -> NewTransmitter {
    NewTransmitter {
        account: account.into(),
        receiver: Some("R1".into()),
        prefix: Some("0".into()),
        key: Some(StoredKey {
            key: Key::parse("0123456789ABCDEF", KeyForm::Ascii).unwrap(),
            form: KeyForm::Ascii,
        }),
        supervision_interval_s: 90,
        timestamp_policy: TimestampPolicy::All,
        window: Window {
            behind_s: 30,
            ahead_s: 15,
        },
        clock_offset_s: -3600,
        dialect: Dialect::default(),
        site: Site {
            name: site.into(),
            address: "Storgatan 1, Umeå".into(),
        },
    }
}

fn staff_actor(id: i64) -> Actor {
    Actor {
        staff_id: Some(id),
        name: format!("staff {id}"),
    }
}

fn note(at: i64, category: Category, zone: Option<u32>) -> EventNote {
    EventNote {
        signal_id: None,
        at: UnixMicros(at),
        category,
        condition: Condition::New,
        code: "BA".into(),
        zone,
        user: None,
        text: "Inbrott".into(),
    }
}

/// A customer, a site with a transmitter, an operator and a guard company.
struct World {
    site: i64,
    transmitter: i64,
    operator: i64,
    other: i64,
    company: i64,
}

async fn world(store: &SqlStore) -> World {
    let by = Actor::system();
    let customer = store
        .save_customer(
            None,
            NewCustomer {
                kind: CustomerKind::Private,
                name: "Anna Andersson".into(),
                identity: "19121212-1212".into(),
                signatory: String::new(),
                email: "anna@example.se".into(),
                phone: "+46701234567".into(),
                language: "sv".into(),
            },
            &by,
        )
        .await
        .unwrap();
    let site = store
        .save_site(
            None,
            NewSite {
                customer_id: Some(customer),
                name: "Villa Andersson".into(),
                address: "Storgatan 1, Umeå".into(),
                latitude: Some(63.8258),
                longitude: Some(20.2630),
                guard_area: "Umeå".into(),
                note: "Hund i huset".into(),
            },
            &by,
        )
        .await
        .unwrap();
    store
        .import_transmitters(vec![transmitter("1234", "Villa Andersson")])
        .await
        .unwrap();
    let transmitter = store.transmitters().await.unwrap()[0].id;
    store
        .attach_transmitter(transmitter, site, &by)
        .await
        .unwrap();
    let company = store
        .save_guard_company(
            GuardCompany {
                id: 0,
                name: "Norrvakt".into(),
                phone: "+46901234567".into(),
                areas: vec!["Umeå".into()],
            },
            &by,
        )
        .await
        .unwrap();
    let mut staff = Vec::new();
    for login in ["op1", "op2"] {
        staff.push(
            store
                .create_staff(
                    NewStaff {
                        login: login.into(),
                        name: format!("Operator {login}"),
                        role: Role::Operator,
                        guard_company_id: None,
                        language: "sv".into(),
                        password_hash: "hash".into(),
                    },
                    &by,
                )
                .await
                .unwrap(),
        );
    }
    World {
        site,
        transmitter,
        operator: staff[0],
        other: staff[1],
        company,
    }
}

mod checks {
    use super::*;

    pub async fn journal(store: &SqlStore) {
        let first = store
            .append(record(NOW, "1234", Some("k1"), Some(7)))
            .await
            .unwrap();
        assert_eq!(first.duplicate_of, None);
        let again = store
            .append(record(NOW + 5_000_000, "1234", Some("k1"), Some(7)))
            .await
            .unwrap();
        assert_eq!(again.duplicate_of, Some(first.id), "a retransmission");
        assert!(again.id > first.id);
        let other = store
            .append(record(NOW + 6_000_000, "5678", None, Some(8)))
            .await
            .unwrap();
        // A key seen longer ago than the window is a new message.
        let late = store
            .append(record(NOW + 600_000_000, "1234", Some("k1"), Some(7)))
            .await
            .unwrap();
        assert_eq!(late.duplicate_of, None);

        let all = store
            .signals(&SignalFilter {
                limit: 10,
                ..SignalFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(
            all.iter().map(|s| s.id).collect::<Vec<_>>(),
            vec![late.id, other.id, again.id, first.id],
            "newest first"
        );
        let stored = all.iter().find(|s| s.id == first.id).unwrap();
        assert_eq!(stored.record, record(NOW, "1234", Some("k1"), Some(7)));
        let repeat = all.iter().find(|s| s.id == again.id).unwrap();
        assert_eq!(repeat.record.verdict, Verdict::Duplicate);
        assert_eq!(repeat.duplicate_of, Some(first.id));

        let by_account = store
            .signals(&SignalFilter {
                account: Some("5678".into()),
                limit: 10,
                ..SignalFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(by_account.len(), 1);
        let window = store
            .signals(&SignalFilter {
                since: Some(UnixMicros(NOW + 1)),
                until: Some(UnixMicros(NOW + 6_000_000)),
                limit: 10,
                ..SignalFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(
            window.iter().map(|s| s.id).collect::<Vec<_>>(),
            vec![again.id]
        );
        let forwards = store
            .signals(&SignalFilter {
                after_id: Some(first.id),
                limit: 2,
                ..SignalFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(
            forwards.iter().map(|s| s.id).collect::<Vec<_>>(),
            vec![again.id, other.id],
            "oldest first after an id"
        );
        let shard = store
            .signals(&SignalFilter {
                limit: 10,
                shard: Some(Shard { index: 0, count: 2 }),
                ..SignalFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(
            shard.iter().map(|s| s.id).collect::<Vec<_>>(),
            vec![other.id]
        );
    }

    pub async fn registry(store: &SqlStore) {
        let before = store.registry_revision().await.unwrap();
        let outcome = store
            .import_transmitters(vec![transmitter("1234", "A"), transmitter("5678", "B")])
            .await
            .unwrap();
        assert_eq!((outcome.created, outcome.updated), (2, 0));
        let mut changed = transmitter("1234", "A");
        changed.supervision_interval_s = 300;
        changed.key = None;
        let outcome = store
            .import_transmitters(vec![changed.clone()])
            .await
            .unwrap();
        assert_eq!((outcome.created, outcome.updated), (0, 1));
        assert!(store.registry_revision().await.unwrap() > before);
        let all = store.transmitters().await.unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].spec, changed, "read back whole");
        assert_eq!(all[1].spec, transmitter("5678", "B"));

        let revision = store.registry_revision().await.unwrap();
        store
            .set_link_token(all[1].id, "hash-of-token".into(), &Actor::system())
            .await
            .unwrap();
        let linked = store.link_transmitter("hash-of-token").await.unwrap();
        assert_eq!(linked.map(|t| t.id), Some(all[1].id));
        assert_eq!(store.link_transmitter("other").await.unwrap(), None);

        store.delete_transmitter(all[0].id).await.unwrap();
        assert!(matches!(
            store.delete_transmitter(all[0].id).await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(store.transmitters().await.unwrap().len(), 1);
        assert!(store.registry_revision().await.unwrap() > revision);
    }

    pub async fn customers_and_sites(store: &SqlStore) {
        let w = world(store).await;
        let by = staff_actor(w.operator);
        let customers = store.customers().await.unwrap();
        assert_eq!(customers.len(), 1);
        assert_eq!(customers[0].spec.identity, "19121212-1212");
        let mut renamed = customers[0].spec.clone();
        renamed.name = "Anna Berg".into();
        store
            .save_customer(Some(customers[0].id), renamed.clone(), &by)
            .await
            .unwrap();
        assert_eq!(store.customers().await.unwrap()[0].spec, renamed);
        let duplicate = store.save_customer(None, renamed, &by).await;
        assert!(
            matches!(duplicate, Err(StoreError::Conflict(_))),
            "one customer per identity: {duplicate:?}"
        );

        let sites = store.sites().await.unwrap();
        let summary = sites.iter().find(|s| s.id == w.site).unwrap();
        assert_eq!(summary.customer, "Anna Berg");
        store
            .save_points(
                w.site,
                vec![
                    AlarmPoint {
                        number: 1,
                        name: "Entré".into(),
                        kind: PointKind::DoorWindow,
                        location: "Hall".into(),
                        test_until: None,
                    },
                    AlarmPoint {
                        number: 2,
                        name: "Rök".into(),
                        kind: PointKind::Smoke,
                        location: "Kök".into(),
                        test_until: None,
                    },
                ],
                &by,
            )
            .await
            .unwrap();
        store
            .save_panel_users(
                w.site,
                vec![PanelUser {
                    number: 1,
                    name: "Anna".into(),
                }],
                &by,
            )
            .await
            .unwrap();
        let contact = |id, name: &str, hash: Option<&str>| NewContact {
            id,
            name: name.into(),
            phone: "+46701111111".into(),
            authority: Authority::Full,
            hours: "07:00-22:00".into(),
            password_hash: hash.map(str::to_owned),
        };
        store
            .save_contacts(w.site, vec![contact(None, "Bo", Some("h1"))], &by)
            .await
            .unwrap();
        let bo = store.site(w.site).await.unwrap().contacts[0].id;
        // Saving again without a new hash keeps the password; a second contact is added.
        store
            .save_contacts(
                w.site,
                vec![contact(None, "Cia", None), contact(Some(bo), "Bo", None)],
                &by,
            )
            .await
            .unwrap();
        let steps = vec![Step {
            action: StepAction::CallContacts,
            note: "Ring Bo först".into(),
        }];
        store
            .save_instruction(w.site, Category::Burglary, steps.clone(), &by)
            .await
            .unwrap();
        store
            .set_revoking_code(w.site, "code-hash".into(), &by)
            .await
            .unwrap();
        store
            .set_test_mode(
                w.site,
                TestMode {
                    zone: Some(2),
                    until: Some(UnixMicros(NOW + 60_000_000)),
                    reason: "Service".into(),
                },
                &by,
            )
            .await
            .unwrap();

        let detail = store.site(w.site).await.unwrap();
        assert_eq!(detail.spec.latitude, Some(63.8258));
        assert_eq!(detail.spec.note, "Hund i huset");
        assert_eq!(detail.points.len(), 2);
        assert_eq!(
            detail.point(2).and_then(|p| p.test_until),
            Some(UnixMicros(NOW + 60_000_000))
        );
        assert_eq!(detail.user(1).map(|u| u.name.as_str()), Some("Anna"));
        let names: Vec<_> = detail.contacts.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["Cia", "Bo"], "the call order");
        assert!(detail.contacts[1].has_password, "Bo keeps his password");
        assert!(!detail.contacts[0].has_password);
        assert_eq!(detail.instruction(Category::Burglary).steps, steps);
        assert!(detail.has_revoking_code);
        assert_eq!(detail.transmitters.len(), 1);
        assert_eq!(
            detail.customer.map(|c| c.spec.name),
            Some("Anna Berg".into())
        );
        assert!(matches!(store.site(9_999).await, Err(StoreError::NotFound)));

        assert!(
            store
                .expired_test_modes(UnixMicros(NOW))
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store
                .expired_test_modes(UnixMicros(NOW + 60_000_000))
                .await
                .unwrap(),
            vec![(w.site, Some(2))]
        );
        let audit = store
            .audit(Some("site".into()), Some(w.site), 50)
            .await
            .unwrap();
        assert!(!audit.is_empty(), "changes to the site are audited");
        assert!(audit.windows(2).all(|p| p[0].id > p[1].id), "newest first");
        assert!(store.audit(None, None, 500).await.unwrap().len() > audit.len());
    }

    pub async fn secrets(store: &SqlStore) {
        let w = world(store).await;
        store
            .set_revoking_code(w.site, "code-hash".into(), &Actor::system())
            .await
            .unwrap();
        let which = SecretRef::RevokingCode(w.site);
        assert_eq!(
            store.secret(which).await.unwrap().hash.as_deref(),
            Some("code-hash")
        );
        let at = UnixMicros(NOW);
        let policy = vakt_core::lockout::Lockout {
            failures_max: 3,
            lock_us: 60_000_000,
        };
        for expected in 1..=2 {
            let start = store.begin_check(which, at, policy).await.unwrap();
            assert_eq!(
                start,
                CheckStart::Check {
                    hash: "code-hash".into(),
                    locks: false
                }
            );
            assert_eq!(store.secret(which).await.unwrap().failures, expected);
        }
        let last = store.begin_check(which, at, policy).await.unwrap();
        assert!(
            matches!(last, CheckStart::Check { locks: true, .. }),
            "{last:?}"
        );
        assert_eq!(
            store.begin_check(which, at, policy).await.unwrap(),
            CheckStart::Locked(UnixMicros(NOW + 60_000_000))
        );
        store.check_passed(which).await.unwrap();
        let cleared = store.secret(which).await.unwrap();
        assert_eq!((cleared.failures, cleared.locked_until), (0, None));

        // Forty attempts at once are counted one by one: exactly `failures_max` checked.
        let attempts = (0..40).map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.begin_check(which, at, policy).await.unwrap() })
        });
        let mut checked = 0;
        for attempt in attempts {
            if matches!(attempt.await.unwrap(), CheckStart::Check { .. }) {
                checked += 1;
            }
        }
        assert_eq!(checked, 3, "parallel attempts each counted");
        assert_eq!(store.secret(which).await.unwrap().failures, 3);
        let none = SecretRef::Contact(i64::MAX);
        assert!(matches!(
            store.begin_check(none, at, policy).await,
            Err(StoreError::NotFound)
        ));
        let staff = store.secret(SecretRef::Staff(w.operator)).await.unwrap();
        assert_eq!(staff.hash.as_deref(), Some("hash"));
    }

    pub async fn guards_and_keys(store: &SqlStore) {
        let w = world(store).await;
        let by = staff_actor(w.operator);
        let companies = store.guard_companies().await.unwrap();
        assert_eq!(companies.len(), 1);
        assert_eq!(companies[0].areas, vec!["Umeå".to_owned()]);
        let mut renamed = companies[0].clone();
        renamed.name = "Norrvakt AB".into();
        assert_eq!(
            store
                .save_guard_company(renamed.clone(), &by)
                .await
                .unwrap(),
            w.company
        );
        assert_eq!(store.guard_companies().await.unwrap(), vec![renamed]);

        let key = store
            .add_key(w.site, "N-0042".into(), "Skåp 3".into(), &by)
            .await
            .unwrap();
        assert!(matches!(
            store
                .add_key(w.site, "N-0042".into(), "Skåp 4".into(), &by)
                .await,
            Err(StoreError::Conflict(_))
        ));
        store
            .key_action(
                key,
                KeyAction::HandedToGuard,
                "Väktare Berg".into(),
                None,
                &by,
            )
            .await
            .unwrap();
        assert!(
            matches!(
                store
                    .key_action(key, KeyAction::SentForDestruction, String::new(), None, &by)
                    .await,
                Err(StoreError::Conflict(_))
            ),
            "a key out with a guard cannot go to destruction"
        );
        store
            .key_action(key, KeyAction::Returned, String::new(), None, &by)
            .await
            .unwrap();
        let events = store.key_events(key).await.unwrap();
        let actions: Vec<_> = events.iter().map(|e| e.action).collect();
        assert_eq!(
            actions,
            vec![
                KeyAction::Received,
                KeyAction::HandedToGuard,
                KeyAction::Returned
            ]
        );
        let detail = store.site(w.site).await.unwrap();
        assert_eq!(detail.keys[0].state, KeyState::Stored);
    }

    pub async fn staff_and_sessions(store: &SqlStore) {
        let w = world(store).await;
        let guard = store
            .create_staff(
                NewStaff {
                    login: "vakt1".into(),
                    name: "Väktare".into(),
                    role: Role::Guard,
                    guard_company_id: Some(w.company),
                    language: "en".into(),
                    password_hash: "h".into(),
                },
                &Actor::system(),
            )
            .await
            .unwrap();
        assert!(matches!(
            store
                .create_staff(
                    NewStaff {
                        login: "op1".into(),
                        name: "Again".into(),
                        role: Role::Operator,
                        guard_company_id: None,
                        language: "sv".into(),
                        password_hash: "h".into(),
                    },
                    &Actor::system(),
                )
                .await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(store.staff().await.unwrap().len(), 3);
        let found = store.staff_by_login("vakt1").await.unwrap();
        assert_eq!(
            (found.id, found.role, found.guard_company_id),
            (guard, Role::Guard, Some(w.company))
        );
        assert!(matches!(
            store.staff_by_login("nobody").await,
            Err(StoreError::NotFound)
        ));

        let expires = UnixMicros(NOW + 3_600_000_000);
        store
            .create_session("t1".into(), guard, "csrf1".into(), UnixMicros(NOW), expires)
            .await
            .unwrap();
        let session = store.session("t1", UnixMicros(NOW)).await.unwrap();
        assert_eq!((session.staff.id, session.csrf.as_str()), (guard, "csrf1"));
        assert_eq!(session.expires_at, expires);
        assert!(matches!(
            store.session("t1", expires).await,
            Err(StoreError::NotFound)
        ));
        store.end_session("t1").await.unwrap();
        assert!(matches!(
            store.session("t1", UnixMicros(NOW)).await,
            Err(StoreError::NotFound)
        ));
    }

    pub async fn engine_and_incidents(store: &SqlStore) {
        let w = world(store).await;
        let whole = Shard::WHOLE;
        let lease = store.take_shard(whole).await.unwrap();
        assert!(matches!(
            store.take_shard(Shard { index: 0, count: 4 }).await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(store.engine_cursor(whole).await.unwrap(), 0);

        let alarm = EngineChange::Alarm {
            site_id: w.site,
            event: note(NOW, Category::Burglary, Some(3)),
            title: "Inbrott zon 3".into(),
            hold_until: Some(UnixMicros(NOW + 60_000_000)),
            keeps_hold: true,
            runaway_zone: None,
        };
        let touched = store
            .apply_engine(
                lease,
                12,
                vec![
                    alarm,
                    EngineChange::Heard {
                        transmitter_id: w.transmitter,
                        at: UnixMicros(NOW),
                    },
                ],
                UnixMicros(NOW),
            )
            .await
            .unwrap();
        assert_eq!(touched.len(), 1);
        let incident = touched[0];
        assert_eq!(store.engine_cursor(whole).await.unwrap(), 12);
        assert_eq!(
            store.point_alarms_since(UnixMicros(NOW - 1)).await.unwrap(),
            vec![(w.site, 3, UnixMicros(NOW))]
        );
        assert!(
            store
                .point_alarms_since(UnixMicros(NOW + 1))
                .await
                .unwrap()
                .is_empty()
        );
        let queue = store.queue().await.unwrap();
        assert_eq!(queue.len(), 1);
        assert_eq!(queue[0].title, "Inbrott zon 3");
        assert_eq!(queue[0].category, Category::Burglary);

        // A second taker gets a new epoch; the first one's changes are refused whole.
        let newer = store.take_shard(whole).await.unwrap();
        assert!(newer.epoch > lease.epoch);
        let stale = store
            .apply_engine(
                lease,
                20,
                vec![EngineChange::LinkLost {
                    transmitter_id: w.transmitter,
                    site_id: w.site,
                    event: note(NOW, Category::Technical, None),
                    title: "Förbindelsefel".into(),
                }],
                UnixMicros(NOW),
            )
            .await;
        assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
        assert_eq!(store.engine_cursor(whole).await.unwrap(), 12);
        assert_eq!(
            store.queue().await.unwrap().len(),
            1,
            "nothing half-written"
        );

        // A silent transmitter is raised once, however often it is reported.
        let lost = || EngineChange::LinkLost {
            transmitter_id: w.transmitter,
            site_id: w.site,
            event: note(NOW + 200_000_000, Category::Technical, None),
            title: "Förbindelsefel".into(),
        };
        store
            .apply_engine(newer, 12, vec![lost()], UnixMicros(NOW + 200_000_000))
            .await
            .unwrap();
        let again = store
            .apply_engine(newer, 12, vec![lost()], UnixMicros(NOW + 200_000_000))
            .await
            .unwrap();
        assert!(again.is_empty());
        let states = store.link_states().await.unwrap();
        assert_eq!(states.len(), 1);
        assert!(states[0].missing);
        assert_eq!(states[0].last_heard, UnixMicros(NOW));
        assert_eq!(store.queue().await.unwrap().len(), 2);
        store
            .apply_engine(
                newer,
                13,
                vec![EngineChange::LinkRestored {
                    transmitter_id: w.transmitter,
                    event: note(NOW + 300_000_000, Category::Technical, None),
                }],
                UnixMicros(NOW + 300_000_000),
            )
            .await
            .unwrap();
        assert!(!store.link_states().await.unwrap()[0].missing);

        // Operators: one takes, the other is refused by name.
        let op = staff_actor(w.operator);
        let at = UnixMicros(NOW + 10_000_000);
        store
            .act(incident, IncidentAction::Take, &op, at)
            .await
            .unwrap();
        let refused = store
            .act(incident, IncidentAction::Take, &staff_actor(w.other), at)
            .await;
        assert!(
            matches!(
                &refused,
                Err(StoreError::Refused(vakt_core::incident::Refusal::TakenBy(name)))
                    if name == "Operator op1"
            ),
            "{refused:?}"
        );
        store
            .act(
                incident,
                IncidentAction::Step {
                    step: 1,
                    outcome: StepOutcome::Called,
                    detail: "Ringde Bo".into(),
                },
                &op,
                at,
            )
            .await
            .unwrap();
        store
            .act(
                incident,
                IncidentAction::Note("Hund skäller".into()),
                &op,
                at,
            )
            .await
            .unwrap();
        store
            .act(
                incident,
                IncidentAction::PasswordCheck {
                    contact: "Bo".into(),
                    right: true,
                },
                &op,
                at,
            )
            .await
            .unwrap();
        let dispatch = store
            .act(
                incident,
                IncidentAction::Dispatch {
                    guard_company_id: w.company,
                },
                &op,
                at,
            )
            .await
            .unwrap()
            .expect("a dispatch id");
        let for_company = store.dispatches_for(w.company).await.unwrap();
        assert_eq!(for_company.len(), 1);
        assert_eq!(for_company[0].state, DispatchState::Requested);
        assert!(matches!(
            store
                .update_dispatch(
                    dispatch,
                    w.company + 1,
                    DispatchUpdate {
                        state: DispatchState::Accepted,
                        report: String::new(),
                    },
                    &op,
                    at,
                )
                .await,
            Err(StoreError::NotFound)
        ));
        for state in [
            DispatchState::Accepted,
            DispatchState::OnSite,
            DispatchState::Reported,
        ] {
            let moved = store
                .update_dispatch(
                    dispatch,
                    w.company,
                    DispatchUpdate {
                        state,
                        report: "Allt lugnt".into(),
                    },
                    &op,
                    at,
                )
                .await
                .unwrap();
            assert_eq!(moved, incident);
        }
        store
            .act(
                incident,
                IncidentAction::Close {
                    resolution: Resolution::UserError,
                    note: "Kund glömde koden".into(),
                },
                &op,
                UnixMicros(NOW + 20_000_000),
            )
            .await
            .unwrap();
        assert!(matches!(
            store
                .act(incident, IncidentAction::Note("sent".into()), &op, at)
                .await,
            Err(StoreError::Refused(vakt_core::incident::Refusal::Closed))
        ));
        let detail = store.incident(incident).await.unwrap();
        assert_eq!(detail.state, IncidentState::Closed);
        assert_eq!(detail.resolution, Some(Resolution::UserError));
        assert_eq!(detail.taken_at, Some(at));
        assert_eq!(detail.events.len(), 1);
        assert_eq!(detail.dispatches[0].state, DispatchState::Reported);
        assert!(
            detail.log.len() >= 5,
            "every action is logged: {:?}",
            detail.log
        );
        let history = store.site_history(w.site, 10).await.unwrap();
        assert!(history.iter().any(|i| i.id == incident), "{history:?}");
        assert!(
            store
                .queue()
                .await
                .unwrap()
                .iter()
                .all(|i| i.id != incident)
        );
        let times = store.incident_times(UnixMicros(NOW - 1)).await.unwrap();
        let closed = times
            .iter()
            .find(|t| t.owner_id == Some(w.operator))
            .unwrap();
        assert_eq!(closed.closed_at, Some(UnixMicros(NOW + 20_000_000)));

        // A test mode that ran out ends through the engine.
        store
            .set_test_mode(
                w.site,
                TestMode {
                    zone: None,
                    until: Some(UnixMicros(NOW)),
                    reason: "Service".into(),
                },
                &op,
            )
            .await
            .unwrap();
        store
            .apply_engine(
                newer,
                13,
                vec![EngineChange::TestModeEnded {
                    site_id: w.site,
                    zone: None,
                    at: UnixMicros(NOW + 1),
                }],
                UnixMicros(NOW + 1),
            )
            .await
            .unwrap();
        assert_eq!(store.site(w.site).await.unwrap().test_until, None);
    }

    pub async fn outbox(store: &SqlStore) {
        let w = world(store).await;
        let lease = store.take_shard(Shard::WHOLE).await.unwrap();
        store
            .apply_engine(
                lease,
                1,
                vec![EngineChange::Alarm {
                    site_id: w.site,
                    event: note(NOW, Category::Burglary, Some(1)),
                    title: "Inbrott".into(),
                    hold_until: Some(UnixMicros(NOW + 60_000_000)),
                    keeps_hold: true,
                    runaway_zone: None,
                }],
                UnixMicros(NOW),
            )
            .await
            .unwrap();
        for n in 0..3 {
            store
                .apply_engine(
                    lease,
                    2,
                    vec![EngineChange::AuthorisedDisarm {
                        site_id: w.site,
                        event: note(NOW + n, Category::Opening, None),
                        by: "Anna".into(),
                        message: Some(NewMessage {
                            channel: "sms",
                            recipient: format!("+4670000000{n}"),
                            subject: String::new(),
                            body: "Larmet återkallat".into(),
                        }),
                    }],
                    UnixMicros(NOW + n),
                )
                .await
                .unwrap();
        }
        let queued = store.messages(10).await.unwrap();
        assert_eq!(
            queued.len(),
            1,
            "only the disarm within the hold closes and notifies"
        );
        assert_eq!(queued[0].recipient, "+46700000000");

        let now = UnixMicros(NOW + 1_000);
        let claimed = store.claim_messages(now, 10, 30_000_000).await.unwrap();
        assert_eq!(claimed.len(), 1);
        assert_eq!(claimed[0].attempts, 1);
        assert!(
            store
                .claim_messages(now, 10, 30_000_000)
                .await
                .unwrap()
                .is_empty(),
            "claimed messages are not claimed again"
        );
        store
            .message_failed(claimed[0].id, "timeout".into(), Some(now))
            .await
            .unwrap();
        let retried = store.claim_messages(now, 10, 30_000_000).await.unwrap();
        assert_eq!(retried.len(), 1);
        assert_eq!(retried[0].last_error.as_deref(), Some("timeout"));
        store.message_delivered(retried[0].id, now).await.unwrap();
        assert!(
            store
                .claim_messages(UnixMicros(NOW + 3_600_000_000), 10, 30_000_000)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.messages(10).await.unwrap()[0].delivered_at, Some(now));
    }

    /// A burglary is held; a fire joins it; an authorised disarm inside the burglary's window
    /// must leave the incident open for an operator and tell the customer nothing.
    pub async fn a_fire_joining_a_held_burglary_is_never_cancelled(store: &SqlStore) {
        let w = world(store).await;
        let lease = store.take_shard(Shard::WHOLE).await.unwrap();
        let alarm = |at: i64, category: Category, keeps_hold: bool| EngineChange::Alarm {
            site_id: w.site,
            event: note(at, category, Some(1)),
            title: category.as_str().into(),
            hold_until: (category == Category::Burglary).then_some(UnixMicros(NOW + 60_000_000)),
            keeps_hold,
            runaway_zone: None,
        };
        let disarm = EngineChange::AuthorisedDisarm {
            site_id: w.site,
            event: note(NOW + 20_000_000, Category::Opening, None),
            by: "Anna".into(),
            message: Some(NewMessage {
                channel: "sms",
                recipient: "+46700000000".into(),
                subject: String::new(),
                body: "Ingen åtgärd behövs".into(),
            }),
        };
        let touched = store
            .apply_engine(
                lease,
                1,
                vec![
                    alarm(NOW, Category::Burglary, true),
                    alarm(NOW + 10_000_000, Category::Fire, false),
                    disarm,
                ],
                UnixMicros(NOW + 20_000_000),
            )
            .await
            .unwrap();
        assert_eq!(touched.len(), 1, "one incident for the site");
        let incident = store.incident(touched[0]).await.unwrap();
        assert_eq!(
            incident.state,
            IncidentState::Open,
            "a fire is never cancelled"
        );
        assert_eq!(incident.item.category, Category::Fire);
        assert_eq!(incident.item.hold_until, None, "the fire ended the hold");
        assert_eq!(store.queue().await.unwrap().len(), 1, "an operator sees it");
        assert!(
            store.messages(10).await.unwrap().is_empty(),
            "the customer is not told that no action is needed"
        );
    }
}
