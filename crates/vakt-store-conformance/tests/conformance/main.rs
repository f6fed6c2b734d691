//! The store's conformance suite: every method of every port (`Journal`, `Registry` and the
//! centre's seven), run against SQLite always and against PostgreSQL whenever
//! `TEST_DATABASE_URL` names a server (the test script starts one). Each test gets a database
//! of its own.
//!
//! Beyond it, the PostgreSQL-only behaviour several nodes rely on: two stores on one database
//! share one journal order and recognise each other's duplicates, claim each outbox message
//! once, and see each other's shard epochs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use vakt_core::access::{Principal, Scope};
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
    Some(
        vakt_store_postgres::scratch_database(&url, &name)
            .await
            .unwrap(),
    )
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
        let store = vakt_store_postgres::open(vakt_store_postgres::PgOptions::new(url), clock())
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
    ($($module:ident::$check:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $check() {
            for backend in backends(stringify!($check)).await {
                eprintln!("-- {} on {}", stringify!($check), backend.label);
                $module::$check(&backend.store).await;
                backend.store.close().await;
            }
        }
    )*};
}

mod identities;
mod incidents;
mod journal;
mod keys;
mod outbox;
mod registry;
mod secrets;
mod sites;
mod upgrade;

conformance!(
    journal::journal,
    registry::registry,
    sites::customers_and_sites,
    secrets::secrets,
    keys::guards_and_keys,
    identities::staff_and_sessions,
    identities::customer_logins,
    identities::api_clients,
    incidents::engine_and_incidents,
    incidents::a_fire_joining_a_held_burglary_is_never_cancelled,
    outbox::outbox,
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
    customer: i64,
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
        customer,
        site,
        transmitter,
        operator: staff[0],
        other: staff[1],
        company,
    }
}
