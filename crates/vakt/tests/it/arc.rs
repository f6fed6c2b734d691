//! The alarm receiving centre on the real server: signals become incidents, operators handle
//! them in the console, guards report, and the rules (hold window, supervision, test mode,
//! runaway, locks, roles, bad input) hold.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vakt_core::centre::{Permission, Role};
use vakt_dc09::TokenName;
use vakt_store::AuditAndOutbox;
use vakt_store::EngineState;
use vakt_store::GuardsAndKeys;
use vakt_store::Identities;
use vakt_store::Incidents;
use vakt_store::Secrets;
use vakt_store::Sites;
use vakt_store::{Actor, TestMode};
use vakt_testkit::{
    Console, Panel, TestApp, http, json, spawn_app_with, tcp_exchange, transmitter,
};
use vakt_web::auth::{Need, ROUTES};

const TOKEN: Option<&str> = Some("test-token");
const PASSWORD: &str = "ett långt lösenord";

/// What the seed made.
struct Seeded {
    site: i64,
    company: i64,
    contact_password: &'static str,
}

async fn api(
    app: &TestApp,
    method: &str,
    path: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    vakt_testkit::api_call(app.http, "test-token", method, path, &body).await
}

/// A customer with a phone, a site with points, users and contacts, transmitter 1234 on it,
/// a guard company covering its area, and staff of every role (login = role name).
async fn seed(app: &TestApp, interval_s: u32) -> Seeded {
    let customer = api(app, "POST", "/api/v1/customers", serde_json::json!({
        "kind": "private", "name": "Anna Berg", "identity": "811218-9876", "phone": "070-123 45 67"
    }))
    .await["id"]
        .as_i64()
        .unwrap();
    let site = api(app, "POST", "/api/v1/sites", serde_json::json!({
        "customer_id": customer.to_string(), "name": "Villa Berg", "address": "Storgatan 1, Uppsala",
        "guard_area": "Uppsala"
    }))
    .await["id"]
        .as_i64()
        .unwrap();
    api(
        app,
        "PUT",
        &format!("/api/v1/sites/{site}/points"),
        serde_json::json!([
            { "number": "4", "name": "Hall", "kind": "motion", "location": "vid ytterdörren" },
            { "number": "7", "name": "Kök", "kind": "smoke" }
        ]),
    )
    .await;
    api(
        app,
        "PUT",
        &format!("/api/v1/sites/{site}/users"),
        serde_json::json!([
            { "number": "3", "name": "Anna Berg" }
        ]),
    )
    .await;
    api(app, "PUT", &format!("/api/v1/sites/{site}/contacts"), serde_json::json!([
        { "name": "Anna Berg", "phone": "070-123 45 67", "authority": "full", "password": "Blåbär 12" },
        { "name": "Bo Berg", "phone": "+46 8 123 456 78", "authority": "cancel_only", "hours": "07:00-22:00", "password": "Lingon 34" }
    ]))
    .await;
    let mut input = transmitter("1234", None);
    input.supervision_interval_s = Some(interval_s);
    input.site_name = "Villa Berg".into();
    input.site_address = Some("Storgatan 1, Uppsala".into());
    app.register(vec![input]).await;
    let company = api(
        app,
        "POST",
        "/api/v1/guard-companies",
        serde_json::json!({
            "name": "Nattvakten AB", "phone": "010-123 45 67", "areas": "Uppsala, Knivsta"
        }),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    api(
        app,
        "POST",
        "/api/v1/guard-companies",
        serde_json::json!({ "name": "Söderväkt", "areas": "Stockholm" }),
    )
    .await;
    for role in Role::ALL {
        let company = if *role == Role::Guard {
            company.to_string()
        } else {
            String::new()
        };
        api(app, "POST", "/api/v1/staff", serde_json::json!({
            "login": role.as_str(), "name": format!("{} Testsson", role.as_str()), "role": role.as_str(),
            "guard_company_id": company, "password": PASSWORD
        }))
        .await;
    }
    Seeded {
        site,
        company,
        contact_password: "Blåbär 12",
    }
}

fn settings(
    change: impl FnOnce(&mut vakt::settings::Settings),
) -> impl FnOnce(&mut vakt::settings::Settings) {
    move |s| {
        s.engine.supervision_grace_s = 3_600;
        change(s);
    }
}

async fn send(app: &TestApp, sequence: u16, data: &str) {
    let mut panel = Panel::new("1234");
    let answer = tcp_exchange(
        app.tcp,
        &panel.frame_at(TokenName::SiaDcs, sequence, data, None),
    )
    .await
    .unwrap();
    assert!(
        String::from_utf8_lossy(&answer).contains("ACK"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

/// Waits until `check` holds, for up to `seconds`.
async fn eventually<F, Fut>(seconds: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn queue(app: &TestApp) -> Vec<serde_json::Value> {
    let (_, body) = http(app.http, "GET", "/api/v1/incidents", TOKEN, None)
        .await
        .unwrap();
    json(&body)["incidents"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn incident(app: &TestApp, id: i64) -> serde_json::Value {
    let (_, body) = http(
        app.http,
        "GET",
        &format!("/api/v1/incidents/{id}"),
        TOKEN,
        None,
    )
    .await
    .unwrap();
    json(&body)
}

#[tokio::test]
async fn a_burglary_is_taken_handled_and_closed_with_every_step_in_its_log() {
    let app = spawn_app_with(settings(|_| {})).await;
    let seeded = seed(&app, 3_600).await;
    send(&app, 1, "#1234|Nri1/BA4").await;
    eventually(5, "the burglary in the queue", || async {
        queue(&app).await.len() == 1
    })
    .await;
    let item = queue(&app).await.remove(0);
    assert_eq!(item["category"], "burglary");
    assert_eq!(item["title"], "Hall, vid ytterdörren");
    assert!(
        item["hold_until"].is_i64(),
        "a burglary is held for an authorised disarm"
    );
    let id = item["id"].as_i64().unwrap();

    let operator = Console::sign_in(app.http, "operator", PASSWORD).await;
    let page = operator.get(&format!("/incidents/{id}")).await;
    assert!(
        page.body.contains("Inbrott – Hall, vid ytterdörren"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Rörelsedetektor"));
    // The log says when the hold ends in Stockholm time, not as a count of microseconds.
    let hold_until = item["hold_until"].as_i64().unwrap();
    let held = vakt_core::calendar::format(vakt_core::UnixMicros(hold_until), "%H:%M:%S");
    assert!(
        page.body.contains(&format!("until {held}")),
        "{}",
        page.body
    );
    assert!(!page.body.contains(&hold_until.to_string()));
    assert_eq!(
        operator
            .post(
                &format!("/incidents/{id}/step"),
                &[("step", "0"), ("outcome", "called")]
            )
            .await
            .status,
        409,
        "not taken yet"
    );
    assert_eq!(
        operator
            .post(&format!("/incidents/{id}/take"), &[])
            .await
            .status,
        303
    );
    assert_eq!(
        operator
            .post(
                &format!("/incidents/{id}/step"),
                &[("step", "0"), ("outcome", "no_answer")]
            )
            .await
            .status,
        303
    );
    let site = app.app.store.site(seeded.site).await.unwrap();
    let contact = site.contacts[0].id.to_string();
    let verified = operator
        .post(
            &format!("/incidents/{id}/verify"),
            &[("contact", &contact), ("password", seeded.contact_password)],
        )
        .await;
    assert!(verified.body.contains("Rätt lösenord"), "{}", verified.body);
    assert!(
        !verified.body.contains(seeded.contact_password),
        "the password is never shown back"
    );
    let sent = operator
        .post(
            &format!("/incidents/{id}/dispatch"),
            &[("company", &seeded.company.to_string())],
        )
        .await;
    assert_eq!(sent.status, 303);
    // A second click sends nobody twice: the operator is told the guard is on the way.
    let twice = operator
        .post(
            &format!("/incidents/{id}/dispatch"),
            &[("company", &seeded.company.to_string())],
        )
        .await;
    assert_eq!(twice.status, 409, "{}", twice.body);
    assert!(twice.body.contains("redan på väg"), "{}", twice.body);
    assert_eq!(
        app.app
            .store
            .dispatches_for(seeded.company)
            .await
            .unwrap()
            .len(),
        1
    );

    the_guard_reports_and_the_operator_closes(&app, &seeded, &operator, id).await;
    app.app.shutdown().await;
}

/// The guard company takes the dispatch through to its report; the operator closes, and the log holds every step in order.
async fn the_guard_reports_and_the_operator_closes(
    app: &TestApp,
    seeded: &Seeded,
    operator: &Console,
    id: i64,
) {
    let guard = Console::sign_in(app.http, "guard", PASSWORD).await;
    let mine = guard.get("/guard").await;
    assert!(mine.body.contains("Villa Berg"), "{}", mine.body);
    let dispatch = app.app.store.dispatches_for(seeded.company).await.unwrap()[0].id;
    for (state, report) in [
        ("accepted", ""),
        ("on_site", ""),
        ("reported", "Fönster krossat i hallen, polis på plats."),
    ] {
        let answer = guard
            .post(
                &format!("/guard/dispatches/{dispatch}"),
                &[("state", state), ("report", report)],
            )
            .await;
        assert_eq!(answer.status, 303, "{state}: {}", answer.body);
    }
    let closed = operator
        .post(
            &format!("/incidents/{id}/close"),
            &[("resolution", "real"), ("note", "Polisen tog över")],
        )
        .await;
    assert_eq!(closed.status, 303);
    assert!(queue(app).await.is_empty());

    let detail = incident(app, id).await;
    let actions: Vec<String> = detail["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        actions,
        [
            "opened",
            "taken",
            "step",
            "password_check",
            "dispatch",
            "dispatch_update",
            "dispatch_update",
            "dispatch_update",
            "closed"
        ]
    );
    assert_eq!(detail["resolution"], "real");
    let report = &detail["dispatches"][0];
    assert_eq!(report["state"], "reported");
    assert!(
        report["accepted_at"].is_i64()
            && report["on_site_at"].is_i64()
            && report["reported_at"].is_i64()
    );
}

/// An HTTP server that records the bodies POSTed to it.
async fn sms_gateway() -> (std::net::SocketAddr, Arc<tokio::sync::Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let received = Arc::new(tokio::sync::Mutex::new(Vec::new()));
    let store = received.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let store = store.clone();
            tokio::spawn(async move {
                let mut data = Vec::new();
                let mut buffer = [0_u8; 4096];
                loop {
                    let Ok(n) = stream.read(&mut buffer).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    data.extend_from_slice(&buffer[..n]);
                    let text = String::from_utf8_lossy(&data).into_owned();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length: ")
                                    .and_then(|v| v.trim().parse::<usize>().ok())
                            })
                            .unwrap_or(0);
                        if body.len() >= length {
                            store.lock().await.push(body.to_owned());
                            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
                            return;
                        }
                    }
                }
            });
        }
    });
    (address, received)
}

/// Vakt whose SMS go to a recording gateway, and what the gateway received.
async fn app_with_sms_gateway() -> (TestApp, Arc<tokio::sync::Mutex<Vec<String>>>) {
    let (gateway, received) = sms_gateway().await;
    let app = spawn_app_with(settings(move |s| {
        s.notify.sms_gateway_url = format!("http://{gateway}/sms");
        s.notify.poll_ms = 50;
    }))
    .await;
    (app, received)
}

#[tokio::test]
async fn an_authorised_disarm_in_the_hold_window_cancels_the_alarm_and_texts_the_customer() {
    let (app, received) = app_with_sms_gateway().await;
    seed(&app, 3_600).await;
    send(&app, 1, "#1234|Nri1/BA4").await;
    eventually(5, "the burglary", || async { queue(&app).await.len() == 1 }).await;
    let id = queue(&app).await[0]["id"].as_i64().unwrap();
    // User 9 is not registered: an unknown user's disarm cancels nothing.
    send(&app, 2, "#1234|Nri1/OP9").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(queue(&app).await.len(), 1);
    send(&app, 3, "#1234|Nri1/OP3").await;
    eventually(5, "the cancellation", || async {
        queue(&app).await.is_empty()
    })
    .await;
    let detail = incident(&app, id).await;
    assert_eq!(detail["resolution"], "cancelled");
    assert_eq!(detail["closed_by"], "user 3 (Anna Berg)");
    eventually(10, "the SMS at the gateway", || async {
        !received.lock().await.is_empty()
    })
    .await;
    let sms: serde_json::Value = json(&received.lock().await[0]);
    assert_eq!(sms["to"], "+46701234567");
    let text = sms["message"].as_str().unwrap();
    assert!(
        text.contains("Villa Berg") && text.contains("behörig kod eller bricka"),
        "{text}"
    );
    eventually(5, "the delivery recorded", || async {
        app.app
            .store
            .messages(10)
            .await
            .unwrap()
            .iter()
            .all(|m| m.delivered_at.is_some())
    })
    .await;
    // A fire is never held: disarming does not cancel it.
    send(&app, 4, "#1234|Nri1/FA7").await;
    eventually(5, "the fire", || async { queue(&app).await.len() == 1 }).await;
    assert!(queue(&app).await[0]["hold_until"].is_null());
    send(&app, 5, "#1234|Nri1/OP3").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(queue(&app).await.len(), 1, "a fire stays for the operator");
    app.app.shutdown().await;
}

#[tokio::test]
async fn a_silent_transmitter_opens_one_technical_incident_and_its_return_is_noted() {
    let app = spawn_app_with(|s| {
        s.engine.supervision_grace_s = 1;
    })
    .await;
    seed(&app, 1).await;
    send(&app, 1, "#1234|Nri1/RP").await;
    eventually(10, "the no-contact incident", || async {
        queue(&app).await.len() == 1
    })
    .await;
    let item = queue(&app).await.remove(0);
    assert_eq!(item["category"], "technical");
    let id = item["id"].as_i64().unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        queue(&app).await.len(),
        1,
        "the silence is raised once, not again on every pass"
    );
    send(&app, 2, "#1234|Nri1/RP").await;
    eventually(5, "the return on the incident", || async {
        incident(&app, id).await["log"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["action"] == "restored")
    })
    .await;
    let operator = Console::sign_in(app.http, "operator", PASSWORD).await;
    let page = operator.get(&format!("/incidents/{id}")).await;
    assert!(
        page.body.contains("Ingen kontakt med objektet")
            && page.body.contains("Kontakten återställd"),
        "{}",
        page.body
    );
    app.app.shutdown().await;
}

#[tokio::test]
async fn test_mode_journals_signals_without_alarm_handling_and_logs_its_end() {
    let app = spawn_app_with(settings(|_| {})).await;
    let seeded = seed(&app, 3_600).await;
    let until = vakt_core::UnixMicros(vakt_core::Clock::now(&vakt_core::SystemClock).0 + 2_000_000);
    let technician = Actor {
        staff_id: None,
        name: "technician".into(),
    };
    app.app
        .store
        .set_test_mode(
            seeded.site,
            TestMode {
                zone: None,
                until: Some(until),
                reason: "renovering".into(),
            },
            &technician,
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    send(&app, 1, "#1234|Nri1/BA4").await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        queue(&app).await.is_empty(),
        "no alarm handling in test mode"
    );
    let (_, signals) = http(app.http, "GET", "/api/v1/signals?account=1234", TOKEN, None)
        .await
        .unwrap();
    assert_eq!(
        json(&signals)["signals"].as_array().unwrap().len(),
        1,
        "the signal is journalled"
    );
    eventually(10, "the end of test mode in the audit log", || async {
        app.app
            .store
            .audit(Some("test_mode".into()), Some(seeded.site), 10)
            .await
            .unwrap()
            .iter()
            .any(|a| a.action == "test mode ended" && a.actor == "system")
    })
    .await;
    send(&app, 2, "#1234|Nri1/BA4").await;
    eventually(5, "the alarm after test mode", || async {
        queue(&app).await.len() == 1
    })
    .await;
    app.app.shutdown().await;
}

#[tokio::test]
async fn a_runaway_point_is_grouped_on_one_flagged_incident() {
    let app = spawn_app_with(settings(|s| s.engine.runaway_alarms_per_hour = 3)).await;
    seed(&app, 3_600).await;
    for sequence in 1..=6 {
        send(&app, sequence, "#1234|Nri1/BA4").await;
    }
    eventually(5, "six alarms on the incident", || async {
        queue(&app).await.first().is_some_and(|i| i["events"] == 6)
    })
    .await;
    let items = queue(&app).await;
    assert_eq!(items.len(), 1, "one incident, not six");
    assert_eq!(items[0]["runaway_zone"], 4);
    let detail = incident(&app, items[0]["id"].as_i64().unwrap()).await;
    let flags = detail["log"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["action"] == "runaway")
        .count();
    assert_eq!(flags, 1);
    app.app.shutdown().await;
}

#[tokio::test]
async fn two_operators_taking_the_same_incident_at_once_exactly_one_wins() {
    let app = spawn_app_with(settings(|_| {})).await;
    seed(&app, 3_600).await;
    send(&app, 1, "#1234|Nri1/FA7").await;
    eventually(5, "the fire", || async { queue(&app).await.len() == 1 }).await;
    let id = queue(&app).await[0]["id"].as_i64().unwrap();
    let first = Console::sign_in(app.http, "operator", PASSWORD).await;
    let second = Console::sign_in(app.http, "lead", PASSWORD).await;
    let path = format!("/incidents/{id}/take");
    let (a, b) = tokio::join!(first.post(&path, &[]), second.post(&path, &[]));
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [303, 409], "{} / {}", a.body, b.body);
    let loser = if a.status == 409 { &a } else { &b };
    assert!(
        loser.body.contains("Testsson har tagit larmet."),
        "the loser sees who has it, in Swedish: {}",
        loser.body
    );
    // The same refusal in English for a reader who chose it.
    let mut english = Console::sign_in(app.http, "admin", PASSWORD).await;
    english.lang = Some("en");
    let refused = english.post(&path, &[]).await;
    assert_eq!(refused.status, 409);
    assert!(
        refused.body.contains("Testsson has taken this incident."),
        "{}",
        refused.body
    );
    let log = incident(&app, id).await["log"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["action"] == "taken")
        .count();
    assert_eq!(log, 1);
    app.app.shutdown().await;
}

#[tokio::test]
async fn wrong_passwords_lock_a_contact_and_a_login() {
    let app = spawn_app_with(settings(|s| s.security.failures_max = 3)).await;
    let seeded = seed(&app, 3_600).await;
    send(&app, 1, "#1234|Nri1/BA4").await;
    eventually(5, "the alarm", || async { queue(&app).await.len() == 1 }).await;
    let id = queue(&app).await[0]["id"].as_i64().unwrap();
    let operator = Console::sign_in(app.http, "operator", PASSWORD).await;
    operator.post(&format!("/incidents/{id}/take"), &[]).await;
    let contact = app.app.store.site(seeded.site).await.unwrap().contacts[0]
        .id
        .to_string();
    let path = format!("/incidents/{id}/verify");
    for _ in 0..3 {
        let answer = operator
            .post(&path, &[("contact", &contact), ("password", "fel")])
            .await;
        assert!(
            answer.body.contains("Fel lösenord") || answer.body.contains("Låst"),
            "{}",
            answer.body
        );
    }
    let locked = operator
        .post(
            &path,
            &[("contact", &contact), ("password", seeded.contact_password)],
        )
        .await;
    assert!(
        locked.body.contains("Låst efter för många fel"),
        "even the right password is refused while locked: {}",
        locked.body
    );
    for _ in 0..3 {
        let answer = vakt_testkit::request(
            app.http,
            "POST",
            "/login",
            "",
            Some(&[("login", "lead"), ("password", "wrong password")]),
        )
        .await
        .unwrap();
        assert_eq!(answer.status, 401);
    }
    let answer = vakt_testkit::request(
        app.http,
        "POST",
        "/login",
        "",
        Some(&[("login", "lead"), ("password", PASSWORD)]),
    )
    .await
    .unwrap();
    assert_eq!(answer.status, 401);
    assert!(answer.body.contains("låst"), "{}", answer.body);
    app.app.shutdown().await;
}

#[tokio::test]
async fn every_route_answers_every_role_as_the_route_table_says() {
    let app = spawn_app_with(settings(|_| {})).await;
    let seeded = seed(&app, 3_600).await;
    send(&app, 1, "#1234|Nri1/FA7").await;
    eventually(5, "an incident", || async { queue(&app).await.len() == 1 }).await;
    let incident_id = queue(&app).await[0]["id"].as_i64().unwrap().to_string();
    let mut consoles = Vec::new();
    for role in Role::ALL {
        consoles.push((
            Some(*role),
            Console::sign_in(app.http, role.as_str(), PASSWORD).await,
        ));
    }
    consoles.push((
        None,
        Console {
            address: app.http,
            cookie: String::new(),
            csrf: String::new(),
            lang: None,
        },
    ));
    let mut checked = 0;
    for route in ROUTES
        .iter()
        .filter(|r| r.path != "/logout" && r.path != "/queue/events")
    {
        let id = if route.path.starts_with("/sites") {
            seeded.site.to_string()
        } else {
            incident_id.clone()
        };
        let path = route.path.replace("{id}", &id);
        for (role, console) in &consoles {
            let answer = if route.method == "GET" {
                console.get(&path).await
            } else {
                console.post(&path, &[]).await
            };
            let allowed = match (route.need, role) {
                (Need::Public, _) => true,
                (_, None) => false,
                (Need::SignedIn, Some(_)) => true,
                (Need::Permission(p), Some(role)) => role.may(p),
            };
            let refused = match role {
                None => answer.status == 303 && answer.location.ends_with("/login"),
                Some(_) => answer.status == 403,
            };
            assert_eq!(
                !refused, allowed,
                "{} {} as {:?}: {} {}",
                route.method, path, role, answer.status, answer.location
            );
            checked += 1;
        }
    }
    assert!(checked > 200, "{checked}");
    // What each role reads, not only what it may call: the customer's personnummer is in
    // the customer records and nowhere a role without them can read.
    let personnummer = "19811218-9876";
    for (role, console) in &consoles {
        let Some(role) = role else { continue };
        let site_page = console.get(&format!("/sites/{}", seeded.site)).await;
        let customers = console.get("/customers").await;
        if role.may(Permission::ViewCustomers) {
            assert!(customers.body.contains(personnummer), "{role:?}");
        } else {
            assert!(
                !customers.body.contains(personnummer),
                "{role:?} /customers"
            );
            assert!(
                !site_page.body.contains(personnummer),
                "{role:?} reads the personnummer on the site page"
            );
        }
        if role.may(Permission::ViewSites) {
            assert!(site_page.body.contains("Villa Berg"), "{role:?}");
        }
    }
    assert!(!Role::Technician.may(Permission::ViewCustomers));
    dispatches_and_forms_hold_for_every_role(&app, &seeded, &consoles, &incident_id).await;
    app.app.shutdown().await;
}

/// A guard company's user never sees another company's dispatch, a company outside the site's area is never sent, and no form is taken without its session's token.
async fn dispatches_and_forms_hold_for_every_role(
    app: &TestApp,
    seeded: &Seeded,
    consoles: &[(Option<Role>, Console)],
    incident_id: &str,
) {
    // A guard company's user never sees another company's dispatch.
    let operator = &consoles
        .iter()
        .find(|(r, _)| *r == Some(Role::Operator))
        .unwrap()
        .1;
    operator
        .post(&format!("/incidents/{incident_id}/take"), &[])
        .await;
    let other = app
        .app
        .store
        .guard_companies()
        .await
        .unwrap()
        .into_iter()
        .find(|g| g.id != seeded.company)
        .unwrap();
    // A company that does not cover the site's area is never sent, whatever id the form
    // carries, and so never learns the site's name and address.
    let outside = operator
        .post(
            &format!("/incidents/{incident_id}/dispatch"),
            &[("company", &other.id.to_string())],
        )
        .await;
    assert_eq!(outside.status, 409, "{}", outside.body);
    assert!(
        app.app
            .store
            .dispatches_for(other.id)
            .await
            .unwrap()
            .is_empty(),
        "a dispatch outside the company's areas"
    );
    let mut widened = other.clone();
    widened.areas.push("uppsala".into());
    app.app
        .store
        .save_guard_company(widened, &Actor::system())
        .await
        .unwrap();
    let inside = operator
        .post(
            &format!("/incidents/{incident_id}/dispatch"),
            &[("company", &other.id.to_string())],
        )
        .await;
    assert_eq!(inside.status, 303, "{}", inside.body);
    let foreign = app.app.store.dispatches_for(other.id).await.unwrap()[0].id;
    let guard = &consoles
        .iter()
        .find(|(r, _)| *r == Some(Role::Guard))
        .unwrap()
        .1;
    assert!(!guard.get("/guard").await.body.contains("Villa Berg"));
    let answer = guard
        .post(
            &format!("/guard/dispatches/{foreign}"),
            &[("state", "accepted")],
        )
        .await;
    assert_eq!(answer.status, 404);
    assert!(Role::Guard.may(Permission::GuardWork));
    // Every form refuses a post without the session's form token, or with another's, even
    // from a role that may use it, and changes nothing.
    let audited = app.app.store.audit(None, None, 10_000).await.unwrap().len();
    let mut forged_posts = 0;
    for route in ROUTES
        .iter()
        .filter(|r| r.method == "POST" && !matches!(r.need, Need::Public))
    {
        let (_, console) = consoles
            .iter()
            .find(|(role, _)| match (route.need, role) {
                (Need::Permission(p), Some(role)) => role.may(p),
                (_, role) => role.is_some(),
            })
            .unwrap();
        let path = route.path.replace("{id}", incident_id);
        let other_token = &operator.csrf;
        for token in [None, Some("0000"), Some(other_token.as_str())] {
            if token == Some(console.csrf.as_str()) {
                continue;
            }
            let mut form = vec![("text", "x"), ("state", "accepted")];
            if let Some(token) = token {
                form.push(("csrf", token));
            }
            let forged =
                vakt_testkit::request(app.http, "POST", &path, &console.cookie, Some(&form))
                    .await
                    .unwrap();
            assert_eq!(forged.status, 403, "POST {path} with token {token:?}");
            forged_posts += 1;
        }
    }
    assert!(forged_posts > 40, "{forged_posts}");
    assert_eq!(
        app.app.store.audit(None, None, 10_000).await.unwrap().len(),
        audited,
        "a forged post changed something"
    );
}

#[tokio::test]
async fn bad_input_is_refused_in_the_readers_language_and_changes_nothing() {
    let app = spawn_app_with(settings(|_| {})).await;
    let seeded = seed(&app, 3_600).await;
    let before = app.app.store.customers().await.unwrap().len();
    let mut service = Console::sign_in(app.http, "customer_service", PASSWORD).await;
    let bad = [
        ("kind", "private"),
        ("name", "Karl Karlsson"),
        ("identity", "811218-9875"),
        ("phone", "12"),
    ];
    let answer = service.post("/customers", &bad).await;
    assert_eq!(answer.status, 422);
    assert!(
        answer.body.contains("Inget sparades")
            && answer.body.contains("Kontrollsiffran stämmer inte"),
        "{}",
        answer.body
    );
    service.lang = Some("en");
    let answer = service.post("/customers", &bad).await;
    assert!(
        answer.body.contains("Nothing was saved") && answer.body.contains("check digit"),
        "{}",
        answer.body
    );
    let missing = service
        .post(
            "/customers",
            &[
                ("kind", "business"),
                ("name", ""),
                ("identity", "556036-0793"),
            ],
        )
        .await;
    assert_eq!(missing.status, 422);
    assert!(missing.body.contains("This field is required."));
    let long = "x".repeat(5_000);
    let oversized = service
        .post(
            &format!("/sites/{}", seeded.site),
            &[("name", &long), ("address", "Storgatan 1")],
        )
        .await;
    assert_eq!(oversized.status, 422);
    assert!(oversized.body.contains("At most 200 characters"));
    let contacts = service
        .post(
            &format!("/sites/{}/contacts", seeded.site),
            &[
                ("contacts[0].name", "Ny Person"),
                ("contacts[0].phone", "not a phone"),
                ("contacts[0].password", "abcd"),
            ],
        )
        .await;
    assert_eq!(contacts.status, 422);
    assert_eq!(app.app.store.customers().await.unwrap().len(), before);
    let site = app.app.store.site(seeded.site).await.unwrap();
    assert_eq!(site.spec.name, "Villa Berg");
    assert_eq!(site.contacts.len(), 2, "the contacts are as they were");
    let (status, body) = http(
        app.http,
        "POST",
        "/api/v1/customers",
        TOKEN,
        Some(r#"{"kind":"private","name":"X","identity":"19811218-9876","phone":"abc"}"#),
    )
    .await
    .unwrap();
    assert_eq!(status, 422);
    let details = &json(&body)["error"]["details"][0];
    assert_eq!(details["field"], "phone");
    assert!(details["sv"].as_str().is_some() && details["en"].as_str().is_some());
    let (status, _) = http(
        app.http,
        "POST",
        "/api/v1/sites",
        TOKEN,
        Some(r#"{"name": 5}"#),
    )
    .await
    .unwrap();
    assert_eq!(status, 400);
    edits_are_checked_and_audited(&app, &seeded, &mut service).await;
    app.app.shutdown().await;
}

/// Editing a customer: a bad phone changes nothing, a good edit is audited with before and after, and no password reaches the audit log.
async fn edits_are_checked_and_audited(app: &TestApp, seeded: &Seeded, service: &mut Console) {
    // Editing a customer: a bad phone changes nothing; a good edit is audited before/after.
    let customer = app.app.store.customers().await.unwrap()[0].id;
    let path = format!("/customers/{customer}");
    let edit = [
        ("kind", "private"),
        ("name", "Anna Berg-Lind"),
        ("identity", "19811218-9876"),
        ("phone", "07"),
    ];
    assert_eq!(service.post(&path, &edit).await.status, 422);
    assert_eq!(
        app.app.store.customers().await.unwrap()[0].spec.name,
        "Anna Berg"
    );
    let edit = [
        ("kind", "private"),
        ("name", "Anna Berg-Lind"),
        ("identity", "19811218-9876"),
        ("phone", "0701234567"),
    ];
    assert_eq!(service.post(&path, &edit).await.status, 303);
    let changed = app
        .app
        .store
        .audit(Some("customer".into()), Some(customer), 1)
        .await
        .unwrap();
    assert_eq!(changed[0].action, "updated");
    assert!(
        changed[0]
            .before
            .as_deref()
            .unwrap()
            .contains("\"Anna Berg\"")
    );
    assert!(
        changed[0]
            .after
            .as_deref()
            .unwrap()
            .contains("Anna Berg-Lind")
    );
    // Every registry change by a person is in the audit log, with before and after.
    let audit = app
        .app
        .store
        .audit(Some("contacts".into()), Some(seeded.site), 10)
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert!(audit[0].after.as_deref().unwrap().contains("Bo Berg"));
    assert!(
        !audit[0].after.as_deref().unwrap().contains("Lingon"),
        "no password in the audit log"
    );
}

#[tokio::test]
async fn keys_keep_a_custody_log_and_the_revoking_code_is_checked_not_shown() {
    let app = spawn_app_with(settings(|_| {})).await;
    let seeded = seed(&app, 3_600).await;
    let operator = Console::sign_in(app.http, "operator", PASSWORD).await;
    let site = format!("/sites/{}", seeded.site);
    assert_eq!(
        operator
            .post(
                &format!("{site}/keys"),
                &[("label", "N-1042"), ("storage", "Skåp 3, fack 12")]
            )
            .await
            .status,
        303
    );
    let service = Console::sign_in(app.http, "customer_service", PASSWORD).await;
    assert_eq!(
        service
            .post(&format!("{site}/revoking-code"), &[("code", "Rönnbär 99")])
            .await
            .status,
        303
    );
    send(&app, 1, "#1234|Nri1/BA4").await;
    eventually(5, "the alarm", || async { queue(&app).await.len() == 1 }).await;
    let id = queue(&app).await[0]["id"].as_i64().unwrap();
    operator.post(&format!("/incidents/{id}/take"), &[]).await;
    let wrong = operator
        .post(
            &format!("/incidents/{id}/verify"),
            &[("contact", "revoking"), ("password", "Rönnbär 98")],
        )
        .await;
    assert!(wrong.body.contains("Fel lösenord"), "{}", wrong.body);
    let right = operator
        .post(
            &format!("/incidents/{id}/verify"),
            &[("contact", "revoking"), ("password", "Rönnbär 99")],
        )
        .await;
    assert!(
        right.body.contains("Rätt lösenord") && !right.body.contains("Rönnbär"),
        "{}",
        right.body
    );
    operator
        .post(
            &format!("/incidents/{id}/dispatch"),
            &[("company", &seeded.company.to_string())],
        )
        .await;
    keys_go_out_and_back_by_the_log(&app, &seeded, &operator, id, &site).await;
    app.app.shutdown().await;
}

/// A key goes to the guard with the dispatch and back, never twice, is sent for destruction, and its custody log and the site page say so; no code is ever shown.
async fn keys_go_out_and_back_by_the_log(
    app: &TestApp,
    seeded: &Seeded,
    operator: &Console,
    id: i64,
    site: &str,
) {
    let dispatch = app.app.store.dispatches_for(seeded.company).await.unwrap()[0]
        .id
        .to_string();
    let key = app.app.store.site(seeded.site).await.unwrap().keys[0]
        .id
        .to_string();
    let handed = operator
        .post(
            &format!("/incidents/{id}/key"),
            &[
                ("key", &key),
                ("key_action", "handed_to_guard"),
                ("holder", "Vera Väktare"),
                ("dispatch", &dispatch),
            ],
        )
        .await;
    assert_eq!(handed.status, 303, "{}", handed.body);
    let again = operator
        .post(
            &format!("/incidents/{id}/key"),
            &[
                ("key", &key),
                ("key_action", "handed_to_guard"),
                ("holder", "Någon annan"),
            ],
        )
        .await;
    assert_eq!(
        again.status, 409,
        "a key with a guard cannot be handed out again"
    );
    operator
        .post(
            &format!("/incidents/{id}/key"),
            &[("key", &key), ("key_action", "returned")],
        )
        .await;
    assert_eq!(
        operator
            .post(
                &format!("{site}/keys"),
                &[("key", &key), ("key_action", "sent_for_destruction")]
            )
            .await
            .status,
        303
    );
    let key_id: i64 = key.parse().unwrap();
    let log: Vec<&str> = app
        .app
        .store
        .key_events(key_id)
        .await
        .unwrap()
        .iter()
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(
        log,
        [
            "received",
            "handed_to_guard",
            "returned",
            "sent_for_destruction"
        ]
    );
    let page = operator.get(site).await;
    assert!(
        page.body.contains("Skickad för destruktion")
            && page.body.contains("Utlämnad till väktare"),
        "{}",
        page.body
    );
    let incident_log = incident(app, id).await["log"].to_string();
    assert!(
        incident_log.contains("N-1042 handed_to_guard Vera Väktare"),
        "{incident_log}"
    );
}

/// A graceful stop (an upgrade, say) does not wait for the engine to clear a backlog: it
/// stops after the batch in hand, whose cursor is committed with it, and the next start
/// carries on from there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_stop_does_not_wait_for_the_engine_to_clear_a_backlog() {
    use vakt_store::{Journal, Registry, Shard, SignalFilter};
    const BACKLOG: u16 = 9_999;
    let app = spawn_app_with(settings(|_| {})).await;
    seed(&app, 86_400).await;
    let transmitter = app.app.store.transmitters().await.unwrap()[0].id;
    let (settings, folder) = app.stop().await;
    // Alarms journalled while no engine runs: a backlog of many batches.
    journal_backlog(
        &settings,
        transmitter,
        u32::from(BACKLOG),
        vakt_core::Clock::now(&vakt_core::SystemClock),
    )
    .await;
    let app = vakt_testkit::start(settings.clone(), folder).await;
    app.app.shutdown().await;
    let (store, _) = vakt::open_store(&settings, Arc::new(vakt_core::SystemClock))
        .await
        .unwrap();
    let last = store
        .signals(&SignalFilter {
            limit: 1,
            ..SignalFilter::default()
        })
        .await
        .unwrap()[0]
        .id;
    let cursor = store
        .engine_cursor(Shard { index: 0, count: 1 })
        .await
        .unwrap();
    assert!(
        cursor < last,
        "the stop waited until the engine had handled all {last} signals (cursor {cursor})"
    );
    store.close().await;
}

/// A burglary, then a fire, then an authorised disarm, all inside the burglary's hold
/// window: the fire must stay in the queue for an operator and the customer must not be
/// told that no action is needed.
#[tokio::test]
async fn a_fire_joining_a_held_burglary_is_never_cancelled_by_a_disarm() {
    let (app, received) = app_with_sms_gateway().await;
    seed(&app, 3_600).await;
    send(&app, 1, "#1234|Nri1/BA4").await;
    eventually(5, "the burglary", || async { queue(&app).await.len() == 1 }).await;
    assert!(!queue(&app).await[0]["hold_until"].is_null(), "held");
    send(&app, 2, "#1234|Nri1/FA7").await;
    eventually(5, "the fire on the incident", || async {
        queue(&app)
            .await
            .first()
            .is_some_and(|i| i["category"] == "fire")
    })
    .await;
    let item = queue(&app).await[0].clone();
    assert!(item["hold_until"].is_null(), "the fire ended the hold");
    send(&app, 3, "#1234|Nri1/OP3").await;
    // Give the engine and the notifier time to do what they would do.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let queued = queue(&app).await;
    assert_eq!(queued.len(), 1, "the fire stays in the queue");
    let detail = incident(&app, item["id"].as_i64().unwrap()).await;
    assert_eq!(detail["state"], "open");
    assert!(detail["resolution"].is_null());
    assert!(
        received.lock().await.is_empty(),
        "no SMS tells the customer that no action is needed"
    );
    assert!(app.app.store.messages(10).await.unwrap().is_empty());
    app.app.shutdown().await;
}

/// Reads server-sent events from `path` with `cookie` until the stream ends or `limit`
/// passes; each `rows` event's data goes to `rows`. Returns whether the server ended it.
async fn read_stream(
    address: std::net::SocketAddr,
    cookie: String,
    rows: tokio::sync::mpsc::UnboundedSender<String>,
    limit: Duration,
) -> bool {
    use tokio::io::AsyncBufReadExt;
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!(
        "GET /queue/events HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut lines = tokio::io::BufReader::new(stream).lines();
    let mut event = String::new();
    let read = async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(name) = line.strip_prefix("event: ") {
                event = name.to_owned();
            } else if let Some(data) = line.strip_prefix("data: ")
                && event == "rows"
            {
                let _ = rows.send(data.to_owned());
            }
        }
    };
    tokio::time::timeout(limit, read).await.is_ok()
}

#[tokio::test]
async fn the_live_queue_stops_streaming_when_its_session_ends() {
    let app = spawn_app_with(settings(|_| {})).await;
    seed(&app, 3_600).await;
    let operator = Console::sign_in(app.http, "operator", PASSWORD).await;
    let (rows, mut received) = tokio::sync::mpsc::unbounded_channel();
    let reader = tokio::spawn(read_stream(
        app.http,
        operator.cookie.clone(),
        rows,
        Duration::from_secs(20),
    ));
    // The stream is live: the first rows arrive, and so does an alarm.
    let first = tokio::time::timeout(Duration::from_secs(5), received.recv()).await;
    assert!(matches!(first, Ok(Some(_))), "the first rows");
    send(&app, 1, "#1234|Nri1/BA4").await;
    let live = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(html) = received.recv().await {
            if html.contains("Villa Berg") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(live, Ok(true), "the alarm reached the live queue");

    // Signed out: the next alarm must not reach this stream, and the stream ends.
    let out = operator.post("/logout", &[]).await;
    assert_eq!(out.status, 303);
    send(&app, 2, "#1234|Nri1/FA7").await;
    let ended = reader.await.unwrap();
    assert!(ended, "the stream went on after its session ended");
    while let Ok(html) = received.try_recv() {
        assert!(
            !html.contains("Brand") && !html.contains("Fire"),
            "a new alarm was streamed after sign-out"
        );
    }
    app.app.shutdown().await;
}

/// Forty wrong passwords for one login at once: each is counted, no more than
/// `failures_max` are checked, and the right password afterwards finds the login locked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_sign_ins_are_counted_as_many_as_they_are() {
    let app = spawn_app_with(settings(|s| {
        // A hash that takes a moment, as a real one does, so the attempts overlap.
        s.security.hash_memory_kib = 4_096;
        s.security.hash_iterations = 2;
    }))
    .await;
    seed(&app, 3_600).await;
    let lead = app.app.store.identity_by_login("lead").await.unwrap();
    let attempts: Vec<_> = (0..40)
        .map(|n| {
            let address = app.http;
            tokio::spawn(async move {
                let password = format!("wrong password {n}");
                vakt_testkit::request(
                    address,
                    "POST",
                    "/login",
                    "",
                    Some(&[("login", "lead"), ("password", &password)]),
                )
                .await
                .unwrap()
            })
        })
        .collect();
    let (mut wrong, mut locked) = (0, 0);
    for attempt in attempts {
        let answer = attempt.await.unwrap();
        assert_eq!(answer.status, 401, "{}", answer.body);
        if answer.body.contains("låst") {
            locked += 1;
        } else {
            wrong += 1;
        }
    }
    let failures = app
        .app
        .store
        .secret(vakt_store::SecretRef::Login(lead.id))
        .await
        .unwrap()
        .failures;
    assert_eq!(
        failures, 5,
        "every checked attempt counted, and only five checked"
    );
    assert_eq!((wrong, locked), (4, 36), "the fifth failure locks");
    let right = vakt_testkit::request(
        app.http,
        "POST",
        "/login",
        "",
        Some(&[("login", "lead"), ("password", PASSWORD)]),
    )
    .await
    .unwrap();
    assert_eq!(
        right.status, 401,
        "the right password after the burst is refused"
    );
    assert!(right.body.contains("låst"), "{}", right.body);
    app.app.shutdown().await;
}

/// Journals `count` burglary alarms of transmitter 1234 received at `received_at`, with no
/// engine running, as a receiver that ran ahead of its engine leaves them.
async fn journal_backlog(
    settings: &vakt::settings::Settings,
    transmitter: i64,
    count: u32,
    received_at: vakt_core::UnixMicros,
) {
    use vakt_store::Journal;
    let (store, _) = vakt::open_store(settings, Arc::new(vakt_core::SystemClock))
        .await
        .unwrap();
    let mut commits = Vec::new();
    for n in 1..=count {
        let sequence = n % 9_999 + 1;
        let data = format!("#1234|Nri1/BA{}", sequence % 8 + 1);
        let record = vakt_store::SignalRecord {
            received_at,
            transport: vakt_store::Transport::Tcp,
            listener: "main".into(),
            peer: "127.0.0.1:40000".into(),
            raw: data.clone().into_bytes(),
            verdict: vakt_store::Verdict::Accepted,
            detail: None,
            token: Some("SIA-DCS".into()),
            encrypted: false,
            sequence: Some(format!("{sequence:04}")),
            receiver: None,
            prefix: Some("0".into()),
            account: Some("1234".into()),
            transmitter_id: Some(transmitter),
            message_time: None,
            events: vakt_dc09::payload::parse_sia(data.as_bytes()).events,
            duplicate_key: Some(format!("backlog {n}")),
            data: Some(data.into_bytes()),
            xdata: serde_json::Value::Array(Vec::new()),
            answer: "ack".into(),
            response: Vec::new(),
        };
        commits.push(store.enqueue(record).await.unwrap());
    }
    for commit in commits {
        commit.await.unwrap();
    }
    store.close().await;
}

/// The lag of the engine behind the journal, from the Prometheus text.
fn lag_in(metrics: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|l| l.starts_with("vakt_engine_lag_signals"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// A backlog a minute old: while the engine works through it, its lag is in /metrics and
/// the lead's dashboard warns; once it has caught up, both say so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engines_lag_is_measured_and_the_lead_is_warned() {
    use vakt_store::Registry;
    // As `vakt serve` does before it starts.
    vakt::install_metrics();
    let app = spawn_app_with(settings(|_| {})).await;
    seed(&app, 86_400).await;
    let transmitter = app.app.store.transmitters().await.unwrap()[0].id;
    let (settings, folder) = app.stop().await;
    let minute_ago = vakt_core::Clock::now(&vakt_core::SystemClock).add_micros(-60 * 1_000_000);
    journal_backlog(&settings, transmitter, 30_000, minute_ago).await;
    let app = vakt_testkit::start(settings, folder).await;
    let lead = Console::sign_in(app.http, "lead", PASSWORD).await;
    let (mut warned, mut measured) = (false, false);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while !(warned && measured) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "warned {warned}, measured {measured}"
        );
        let page = lead.get("/dashboard").await;
        warned |= page.body.contains("id=\"engine-lag-warning\"")
            && page.body.contains("Larmmotorn ligger efter");
        let (_, metrics) = http(app.http, "GET", "/metrics", None, None).await.unwrap();
        measured |= lag_in(&metrics).is_some_and(|lag| lag > 0.0);
    }
    eventually(120, "the engine caught up", || async {
        let page = lead.get("/dashboard").await;
        let (_, metrics) = http(app.http, "GET", "/metrics", None, None).await.unwrap();
        !page.body.contains("engine-lag-warning") && lag_in(&metrics) == Some(0.0)
    })
    .await;
    let (status, health) = http(app.http, "GET", "/healthz", None, None).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(json(&health)["journal"]["engine_lag_signals"], 0);
    app.app.shutdown().await;
}
