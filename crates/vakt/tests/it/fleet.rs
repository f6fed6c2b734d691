//! Virtual panels against the real server: plain and encrypted, SIA and Contact ID, a primary
//! receiver that stops answering (the panel fails over to the backup and comes back), and a
//! panel whose clock is an hour wrong (it takes the NAK's time and is then acknowledged).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use vakt_core::{Category, SystemClock};
use vakt_dc09::Key;
use vakt_panel::{ArmMode, Credential, Format, Input, PanelConfig, Path, TransmitterConfig};
use vakt_sim::virtual_panel::{self, PanelHandle, PanelSpec};
use vakt_store::{Journal, SignalFilter, Verdict};
use vakt_testkit::{spawn_app, transmitter};

const AES_256_HEX: &str = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F";
const WAIT: Duration = Duration::from_secs(20);

/// A TCP relay in front of the receiver that can be told to swallow everything, as a
/// receiver does whose process hangs or whose network drops packets.
struct Relay {
    address: SocketAddr,
    silent: Arc<AtomicBool>,
}

impl Relay {
    async fn start(upstream: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let silent = Arc::new(AtomicBool::new(false));
        let flag = silent.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let flag = flag.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let (mut client_read, mut client_write) = client.into_split();
                    let (mut server_read, mut server_write) = server.into_split();
                    let upward = tokio::spawn(async move {
                        let mut buffer = [0_u8; 4096];
                        while let Ok(read) = client_read.read(&mut buffer).await {
                            if read == 0 {
                                break;
                            }
                            if flag.load(Ordering::SeqCst) {
                                continue;
                            }
                            if server_write.write_all(&buffer[..read]).await.is_err() {
                                break;
                            }
                        }
                    });
                    let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                    upward.abort();
                });
            }
        });
        Relay { address, silent }
    }

    fn set_silent(&self, silent: bool) {
        self.silent.store(silent, Ordering::SeqCst);
    }
}

fn spec(
    account: &str,
    format: Format,
    key: Option<Key>,
    primary: SocketAddr,
    backup: SocketAddr,
    clock_offset_s: i64,
) -> PanelSpec {
    PanelSpec {
        name: account.into(),
        panel: PanelConfig {
            exit_delay_s: 1,
            ..PanelConfig::default()
        },
        installation: vakt_sim::fleet::load_installation("1234"),
        transmitter: TransmitterConfig {
            format,
            key,
            answer_timeout_ms: 400,
            failover_after_attempts: 2,
            primary_retry_s: 2,
            reconnect_delay_ms: 100,
            heartbeat_interval_s: 600,
            ..TransmitterConfig::new(account)
        },
        clock_offset_s,
        primary,
        backup: Some(backup),
        link: None,
        panel_start: None,
        source: None,
    }
}

fn arm() -> Input {
    Input::Arm {
        credential: Credential::Code("1234".into()),
        mode: ArmMode::Away,
        partition: None,
    }
}

fn disarm() -> Input {
    Input::Disarm {
        credential: Credential::Code("1234".into()),
        partition: None,
    }
}

async fn delivered(panel: &mut PanelHandle, acked: u64) -> virtual_panel::PanelView {
    let view = panel
        .wait_for(WAIT, |v| v.stats.acked >= acked && v.pending == 0)
        .await;
    assert!(
        view.stats.acked >= acked && view.pending == 0,
        "not delivered: {:?}",
        view.stats
    );
    view
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panels_fail_over_come_back_and_fix_their_clock() {
    let app = spawn_app().await;
    app.register(vec![
        transmitter("F001", None),
        transmitter("F002", Some((AES_256_HEX, "hex"))),
        transmitter("F003", Some((AES_256_HEX, "hex"))),
    ])
    .await;
    let relay = Relay::start(app.tcp).await;
    let key = || Some(Key::parse(AES_256_HEX, vakt_dc09::KeyForm::Hex).unwrap());
    let cancel = CancellationToken::new();
    let clock = Arc::new(SystemClock);
    let mut plain = virtual_panel::spawn(
        spec("F001", Format::Sia, None, relay.address, app.tcp, 0),
        clock.clone(),
        cancel.clone(),
    );
    let mut sealed = virtual_panel::spawn(
        spec("F002", Format::ContactId, key(), relay.address, app.tcp, 0),
        clock.clone(),
        cancel.clone(),
    );
    // An hour behind: the receiver NAKs with its time, the panel resends with it.
    let mut late = virtual_panel::spawn(
        spec("F003", Format::Sia, key(), app.tcp, app.tcp, -3_600),
        clock.clone(),
        cancel.clone(),
    );

    for panel in [&plain, &sealed, &late] {
        panel.apply(arm()).await.unwrap();
    }
    for panel in [&mut plain, &mut sealed] {
        let view = delivered(panel, 1).await;
        assert_eq!((view.path, view.stats.retransmits), (Path::Primary, 0));
    }
    let view = delivered(&mut late, 1).await;
    assert!(view.stats.naks >= 1, "{:?}", view.stats);
    assert!(
        view.clock_offset_s.abs() <= 2,
        "clock still off by {}",
        view.clock_offset_s
    );

    // The primary stops answering: both panels resend, then go to the backup.
    relay.set_silent(true);
    for panel in [&plain, &sealed] {
        panel.apply(disarm()).await.unwrap();
    }
    for panel in [&mut plain, &mut sealed] {
        let view = delivered(panel, 2).await;
        assert_eq!(view.path, Path::Backup);
        assert_eq!(view.stats.failovers, 1);
        assert!(view.stats.retransmits >= 2, "{:?}", view.stats);
    }

    // The primary answers again: the next message after the probe interval goes home.
    relay.set_silent(false);
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    for panel in [&plain, &sealed] {
        panel.apply(arm()).await.unwrap();
    }
    for panel in [&mut plain, &mut sealed] {
        let view = panel
            .wait_for(WAIT, |v| v.stats.returns >= 1 && v.pending == 0)
            .await;
        assert_eq!(
            (view.path, view.stats.returns),
            (Path::Primary, 1),
            "{:?}",
            view.stats
        );
    }
    cancel.cancel();

    journal_holds_each_report_once(&app).await;
}

/// Every report is in the journal once as accepted, in order, with the user who did it; the late panel's first tries outside the window; the encrypted panels' rows encrypted.
async fn journal_holds_each_report_once(app: &vakt_testkit::TestApp) {
    // Every report is in the journal once as accepted, in order, with the user who did it.
    let signals = app
        .app
        .store
        .signals(&SignalFilter {
            limit: 1_000,
            ..SignalFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.record)
        .collect::<Vec<_>>();
    for (account, expected) in [
        (
            "F001",
            vec![Category::Closing, Category::Opening, Category::Closing],
        ),
        (
            "F002",
            vec![Category::Closing, Category::Opening, Category::Closing],
        ),
        ("F003", vec![Category::Closing]),
    ] {
        let mut accepted: Vec<_> = signals
            .iter()
            .filter(|s| s.account.as_deref() == Some(account))
            .filter(|s| s.verdict == Verdict::Accepted && s.token.as_deref() != Some("NULL"))
            .collect();
        accepted.sort_by_key(|s| s.received_at);
        let categories: Vec<Category> = accepted.iter().map(|s| s.events[0].category).collect();
        assert_eq!(categories, expected, "{account}");
        assert!(accepted.iter().all(|s| s.events[0].user == Some(1)));
        let sequences: std::collections::BTreeSet<_> =
            accepted.iter().map(|s| s.sequence.clone()).collect();
        assert_eq!(
            sequences.len(),
            accepted.len(),
            "{account}: a sequence journalled twice"
        );
    }
    let late_rows: Vec<_> = signals
        .iter()
        .filter(|s| s.account.as_deref() == Some("F003"))
        .collect();
    assert!(
        late_rows
            .iter()
            .any(|s| s.verdict == Verdict::OutsideWindow)
    );
    assert!(
        signals
            .iter()
            .all(|s| s.encrypted == (s.account.as_deref() != Some("F001")))
    );
}

async fn api(
    app: &vakt_testkit::TestApp,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (u16, serde_json::Value) {
    let (status, text) = vakt_testkit::http(app.http, method, path, Some("test-token"), body)
        .await
        .unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never: {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_panel_link_shows_state_and_carries_commands_as_unknown_user() {
    use vakt_store::{Actor, Registry};
    let app = spawn_app().await;
    app.register(vec![transmitter("L001", None)]).await;
    let stored = app.app.store.transmitters().await.unwrap();
    let (transmitter_id, site_id) = (stored[0].id, stored[0].site_id);
    let token = vakt_service::secret::new_token(&vakt_core::OsEntropy);
    app.app
        .store
        .set_link_token(
            transmitter_id,
            vakt_service::secret::token_hash(&token),
            &Actor::system(),
        )
        .await
        .unwrap();

    // Without the right token there is no link.
    let (status, _) = vakt_testkit::http(app.http, "GET", "/panel-link", Some("wrong"), None)
        .await
        .unwrap();
    assert_eq!(status, 401);
    // With the right token, a hello naming another account is closed.
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!(
            "ws://{}/panel-link",
            app.http
        ))
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    use futures_util::{SinkExt, StreamExt};
    socket
        .send(tokio_tungstenite::tungstenite::Message::text(
            r#"{"type":"hello","account":"9999","protocol":1,"firmware":"x"}"#,
        ))
        .await
        .unwrap();
    let answer = socket.next().await;
    assert!(
        matches!(answer, Some(Ok(tokio_tungstenite::tungstenite::Message::Close(Some(ref f)))) if u16::from(f.code) == 1008),
        "{answer:?}"
    );

    let cancel = CancellationToken::new();
    let mut spec = spec("L001", Format::Sia, None, app.tcp, app.tcp, 0);
    spec.link = Some(vakt_sim::link_client::LinkSpec {
        url: format!("ws://{}/panel-link", app.http),
        token,
        account: "L001".into(),
    });
    let panel = virtual_panel::spawn(spec, Arc::new(SystemClock), cancel.clone());
    let path = format!("/api/v1/sites/{site_id}/panel");
    eventually(
        "the panel is listed as connected and disarmed",
        async || {
            let (status, body) = api(&app, "GET", &path, None).await;
            status == 200 && body["status"]["state"] == "disarmed"
        },
    )
    .await;

    panel.apply(Input::Open { point: 1 }).await.unwrap();
    eventually("the open door shows", async || {
        let (_, body) = api(&app, "GET", "/api/v1/panels", None).await;
        body[0]["status"]["zones"][0]["open"] == true
    })
    .await;
    let (status, body) = api(
        &app,
        "POST",
        &path,
        Some(r#"{"command":"arm","mode":"away"}"#),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["refusal"]["refusal"], "not_ready");
    assert_eq!(body["refusal"]["detail"]["points"][0], "Ytterdörr");

    panel.apply(Input::Close { point: 1 }).await.unwrap();
    let (status, body) = api(
        &app,
        "POST",
        &path,
        Some(r#"{"command":"arm","mode":"away"}"#),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ok"], true);
    let (status, body) = api(&app, "POST", &path, Some(r#"{"command":"disarm"}"#)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = api(&app, "POST", &path, Some(r#"{"command":"self_destruct"}"#)).await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = api(
        &app,
        "POST",
        "/api/v1/sites/999/panel",
        Some(r#"{"command":"disarm"}"#),
    )
    .await;
    assert_eq!(status, 404);

    the_app_is_an_unknown_user_to_the_panel(&app, &panel, &cancel).await;
}

/// The panel logged the app's operations as an unknown user and the centre journalled them; once the panel is gone, so is its link.
async fn the_app_is_an_unknown_user_to_the_panel(
    app: &vakt_testkit::TestApp,
    panel: &PanelHandle,
    cancel: &CancellationToken,
) {
    // The panel logged the app's operations as an unknown user, and the centre got them.
    let view = panel.view.borrow().clone();
    let by: Vec<String> = view
        .log
        .iter()
        .map(|e| e.by.label(vakt_panel::Lang::Sv))
        .collect();
    assert_eq!(by, ["okänd användare", "okänd användare"]);
    eventually(
        "the remote arming and disarming are journalled",
        async || {
            let signals = app
                .app
                .store
                .signals(&SignalFilter {
                    account: Some("L001".into()),
                    limit: 50,
                    ..SignalFilter::default()
                })
                .await
                .unwrap();
            let codes: Vec<String> = signals
                .iter()
                .filter_map(|s| s.record.events.first().map(|e| e.code.code.clone()))
                .collect();
            codes.contains(&"CQ".to_owned()) && codes.contains(&"OQ".to_owned())
        },
    )
    .await;

    cancel.cancel();
    eventually("the panel is gone from the list", async || {
        let (_, body) = api(app, "GET", "/api/v1/panels", None).await;
        body.as_array().is_some_and(Vec::is_empty)
    })
    .await;
}
