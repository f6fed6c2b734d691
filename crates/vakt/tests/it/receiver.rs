//! The receiver end to end: every answer checked byte for byte (plain answers against
//! bytes computed by an independent DC-09 implementation), and every journal row checked.

use std::time::Duration;

use vakt_core::{Category, Clock, SystemClock};
use vakt_dc09::frame::decode_datagram;
use vakt_dc09::message::{Header, open};
use vakt_dc09::{Key, KeyForm, Timestamp, TokenName};
use vakt_store::{Journal, SignalFilter, StoredSignal, Verdict};
use vakt_testkit::{
    Panel, TestApp, spawn_app, tcp_exchange, tcp_silent, transmitter, udp_exchange,
};

const AES128_HEX: &str = "000102030405060708090A0B0C0D0E0F";
const AES256_ASCII: &str = "Vakt-test-key-0123456789-ABCDEFG";

async fn journal(app: &TestApp) -> Vec<StoredSignal> {
    let (store, _) = vakt::open_store(&app.settings, std::sync::Arc::new(SystemClock))
        .await
        .unwrap();
    let mut signals = store
        .signals(&SignalFilter {
            limit: 1_000,
            ..SignalFilter::default()
        })
        .await
        .unwrap();
    store.close().await;
    signals.reverse();
    signals
}

/// Decrypts an encrypted ACK and returns its timestamp, after checking its envelope.
fn open_encrypted_ack(answer: &[u8], key: &Key, expected_head: &str) -> Timestamp {
    let frame = decode_datagram(answer, 4095).unwrap();
    frame.check(false).unwrap();
    assert!(
        frame.body().starts_with(expected_head.as_bytes()),
        "{}",
        String::from_utf8_lossy(answer)
    );
    let header = Header::parse(frame.body()).unwrap();
    let message = open(frame.body(), header, Some(key)).unwrap();
    assert!(message.content.data.is_empty());
    message.content.timestamp.unwrap()
}

#[tokio::test]
async fn plain_and_encrypted_frames_of_both_payloads_over_tcp_and_udp() {
    let app = spawn_app().await;
    app.register(vec![
        transmitter("1234", None),
        transmitter("5678", Some((AES128_HEX, "hex"))),
        transmitter("9ABC", Some((AES256_ASCII, "ascii"))),
    ])
    .await;

    // Plain Contact ID over TCP.
    let mut plain = Panel::new("1234");
    let answer = tcp_exchange(
        app.tcp,
        &plain.frame_at(TokenName::AdmCid, 7, "#1234|1130 01 015", None),
    )
    .await
    .unwrap();
    assert_eq!(answer, b"\n04210012\"ACK\"0007L0#1234[]\r");
    // Plain SIA over UDP.
    let answer = udp_exchange(
        app.udp,
        &plain.frame_at(TokenName::SiaDcs, 8, "#1234|Nri1/BA12", None),
    )
    .await
    .unwrap();
    assert_eq!(answer, b"\n34110012\"ACK\"0008L0#1234[]\r");

    // Encrypted Contact ID over TCP, AES-128 from a hex key.
    let key128 = Key::parse(AES128_HEX, KeyForm::Hex).unwrap();
    let mut panel128 = Panel::encrypted("5678", key128.clone());
    let before = Timestamp::from_unix_micros(SystemClock.now());
    let answer = tcp_exchange(
        app.tcp,
        &panel128.frame(TokenName::AdmCid, 9, "#5678|3401 02 004"),
    )
    .await
    .unwrap();
    let stamp = open_encrypted_ack(&answer, &key128, "\"*ACK\"0009L0#5678[");
    assert!((stamp.unix_seconds() - before.unix_seconds()).abs() <= 2);

    // Encrypted SIA over UDP, AES-256 from an ASCII key.
    let key256 = Key::parse(AES256_ASCII, KeyForm::Ascii).unwrap();
    let mut panel256 = Panel::encrypted("9ABC", key256.clone());
    let answer = udp_exchange(
        app.udp,
        &panel256.frame(TokenName::SiaDcs, 10, "#9ABC|Nri2/FA03"),
    )
    .await
    .unwrap();
    open_encrypted_ack(&answer, &key256, "\"*ACK\"0010L0#9ABC[");

    let rows = journal(&app).await;
    assert_eq!(rows.len(), 4);
    let burglary = &rows[0].record;
    assert_eq!(
        (
            burglary.verdict,
            burglary.transport.as_str(),
            burglary.answer.as_str()
        ),
        (Verdict::Accepted, "tcp", "ack")
    );
    assert_eq!(burglary.account.as_deref(), Some("1234"));
    assert_eq!(burglary.sequence.as_deref(), Some("0007"));
    assert_eq!(burglary.events[0].category, Category::Burglary);
    assert_eq!(
        (burglary.events[0].zone, burglary.events[0].partition),
        (Some(15), Some(1))
    );
    assert_eq!(burglary.response, b"\n04210012\"ACK\"0007L0#1234[]\r");
    assert!(burglary.raw.starts_with(b"\n") && burglary.raw.ends_with(b"\r"));
    assert!(burglary.transmitter_id.is_some());
    assert_eq!(rows[1].record.transport.as_str(), "udp");
    assert_eq!(rows[1].record.events[0].zone, Some(12));
    let arming = &rows[2].record;
    assert!(arming.encrypted);
    assert_eq!(arming.data.as_deref(), Some(&b"#5678|3401 02 004"[..]));
    assert_eq!(
        (arming.events[0].category, arming.events[0].user),
        (Category::Closing, Some(4))
    );
    assert!(arming.message_time.is_some());
    let fire = &rows[3].record;
    assert_eq!(
        (
            fire.events[0].category,
            fire.events[0].zone,
            fire.events[0].partition
        ),
        (Category::Fire, Some(3), Some(2))
    );
    assert_eq!(fire.response, answer);
    app.app.shutdown().await;
}

#[tokio::test]
async fn timestamps_outside_the_window_get_a_nak_with_the_receivers_time() {
    let app = spawn_app().await;
    app.register(vec![transmitter("5678", Some((AES128_HEX, "hex")))])
        .await;
    let mut panel = Panel::encrypted("5678", Key::parse(AES128_HEX, KeyForm::Hex).unwrap());
    let now = SystemClock.now().as_seconds();
    for skew in [-41, 21, -3_600] {
        let stamp = Timestamp::from_unix_seconds(now + skew);
        let answer = tcp_exchange(
            app.tcp,
            &panel.frame_at(TokenName::SiaDcs, 11, "#5678|Nri1/BA1", Some(stamp)),
        )
        .await
        .unwrap();
        let frame = decode_datagram(&answer, 4095).unwrap();
        frame.check(false).unwrap();
        let body = String::from_utf8(frame.body().to_vec()).unwrap();
        assert!(body.starts_with("\"NAK\"0000R0L0A0[]_"), "{body}");
        let theirs = Timestamp::parse(&frame.body()[18..]).unwrap();
        assert!(
            (theirs.unix_seconds() - now).abs() <= 2,
            "the NAK carries the receiver's time"
        );
    }
    // Inside the window (the edges included) it is acknowledged.
    for skew in [-38, 18] {
        let stamp = Timestamp::from_unix_seconds(SystemClock.now().as_seconds() + skew);
        let answer = tcp_exchange(
            app.tcp,
            &panel.frame_at(TokenName::SiaDcs, 12, "#5678|Nri1/BA1", Some(stamp)),
        )
        .await
        .unwrap();
        assert!(
            answer.windows(5).any(|w| w == b"*ACK\""),
            "{}",
            String::from_utf8_lossy(&answer)
        );
    }
    let rows = journal(&app).await;
    let verdicts: Vec<Verdict> = rows.iter().map(|r| r.record.verdict).collect();
    assert_eq!(verdicts[..3], [Verdict::OutsideWindow; 3]);
    assert_eq!(rows[0].record.answer, "nak");
    assert!(rows[0].record.detail.as_deref().unwrap().contains("-41 s"));
    app.app.shutdown().await;
}

#[tokio::test]
async fn retransmissions_are_acknowledged_again_but_journalled_as_duplicates() {
    let app = spawn_app().await;
    app.register(vec![
        transmitter("1234", None),
        transmitter("5678", Some((AES128_HEX, "hex"))),
    ])
    .await;
    let mut plain = Panel::new("1234");
    let frame = plain.frame_at(TokenName::AdmCid, 9995, "#1234|1130 01 015", None);
    let mut answers = Vec::new();
    for sequence_frame in [
        frame.clone(),
        plain.frame_at(TokenName::AdmCid, 9996, "#1234|1130 01 016", None),
        frame,
    ] {
        answers.push(tcp_exchange(app.tcp, &sequence_frame).await.unwrap());
    }
    assert_eq!(answers[0], answers[2]);
    // An encrypted retransmission carries new pad and a new timestamp, and is still the same.
    let mut panel = Panel::encrypted("5678", Key::parse(AES128_HEX, KeyForm::Hex).unwrap());
    let first = panel.frame(TokenName::SiaDcs, 42, "#5678|Nri1/BA3");
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let again = panel.frame(TokenName::SiaDcs, 42, "#5678|Nri1/BA3");
    assert_ne!(first, again);
    for wire in [first, again] {
        let answer = tcp_exchange(app.tcp, &wire).await.unwrap();
        assert!(answer.windows(5).any(|w| w == b"*ACK\""));
    }
    let rows = journal(&app).await;
    let verdicts: Vec<Verdict> = rows.iter().map(|r| r.record.verdict).collect();
    assert_eq!(
        verdicts,
        [
            Verdict::Accepted,
            Verdict::Accepted,
            Verdict::Duplicate,
            Verdict::Accepted,
            Verdict::Duplicate
        ]
    );
    assert_eq!(rows[2].duplicate_of, Some(rows[0].id));
    assert_eq!(rows[4].duplicate_of, Some(rows[3].id));
    app.app.shutdown().await;
}

#[tokio::test]
async fn unknown_accounts_are_kept_and_wrong_frames_are_answered_as_the_standard_says() {
    let app = spawn_app().await;
    app.register(vec![
        transmitter("5678", Some((AES128_HEX, "hex"))),
        transmitter("4321", None),
    ])
    .await;
    // An unknown account: acknowledged and journalled, so no alarm is lost.
    let mut stranger = Panel::new("ABC123");
    let answer = tcp_exchange(
        app.tcp,
        &stranger.frame_at(TokenName::SiaDcs, 13, "#ABC123|Nri1/PA1", None),
    )
    .await
    .unwrap();
    assert_eq!(answer, b"\n86DD0014\"ACK\"0013L0#ABC123[]\r");
    // A plain frame claiming an account that must encrypt: DUH, never ACK.
    let mut forger = Panel::new("5678");
    let answer = tcp_exchange(
        app.tcp,
        &forger.frame_at(TokenName::SiaDcs, 11, "#5678|Nri1/OP1", None),
    )
    .await
    .unwrap();
    assert_eq!(answer, b"\nAE2A0012\"DUH\"0011L0#5678[]\r");
    // The receiver number is echoed when the panel sends one.
    let mut with_receiver = Panel::new("4321");
    with_receiver.receiver = Some("1F".into());
    let answer = tcp_exchange(
        app.tcp,
        &with_receiver.frame_at(TokenName::Null, 12, "", None),
    )
    .await
    .unwrap();
    assert_eq!(answer, b"\nE51B0015\"ACK\"0012R1FL0#4321[]\r");
    // The wrong key: DUH.
    let mut wrong = Panel::encrypted(
        "5678",
        Key::parse("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", KeyForm::Hex).unwrap(),
    );
    let answer = tcp_exchange(
        app.tcp,
        &wrong.frame(TokenName::SiaDcs, 14, "#5678|Nri1/BA1"),
    )
    .await
    .unwrap();
    assert!(
        answer.windows(5).any(|w| w == b"\"DUH\""),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    // A bad CRC: no answer at all, but the frame is counted and kept raw.
    let mut bad = stranger.frame_at(TokenName::SiaDcs, 15, "#ABC123|Nri1/BA1", None);
    bad[1] = if bad[1] == b'0' { b'1' } else { b'0' };
    assert!(tcp_silent(app.tcp, &bad, Duration::from_millis(500)).await);
    let rows = journal(&app).await;
    let verdicts: Vec<Verdict> = rows.iter().map(|r| r.record.verdict).collect();
    assert_eq!(
        verdicts,
        [
            Verdict::UnknownTransmitter,
            Verdict::PlainRejected,
            Verdict::Accepted,
            Verdict::DecryptFailed,
            Verdict::BadCrc
        ]
    );
    assert_eq!(rows[0].record.events[0].category, Category::HoldUp);
    assert_eq!(rows[4].record.raw, bad);
    assert_eq!(rows[4].record.answer, "none");
    let (_, metrics) = vakt_testkit::http(app.http, "GET", "/metrics", None, None)
        .await
        .unwrap();
    assert!(
        metrics.contains("vakt_frames_total") || metrics.is_empty(),
        "metrics render once installed"
    );
    app.app.shutdown().await;
}

#[tokio::test]
async fn a_kept_open_connection_carries_many_frames_split_and_joined_arbitrarily() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_app().await;
    app.register(vec![transmitter("1234", None)]).await;
    let mut panel = Panel::new("1234");
    let mut stream = Vec::new();
    for sequence in 1..=50_u16 {
        stream.extend_from_slice(b"\0\0");
        stream.extend_from_slice(&panel.frame_at(
            TokenName::AdmCid,
            sequence,
            &format!("#1234|1130 01 {sequence:03}"),
            None,
        ));
    }
    let mut connection = tokio::net::TcpStream::connect(app.tcp).await.unwrap();
    for chunk in stream.chunks(37) {
        connection.write_all(chunk).await.unwrap();
    }
    for sequence in 1..=50_u16 {
        let answer = vakt_testkit::read_answer(&mut connection).await.unwrap();
        let expected = format!("\"ACK\"{sequence:04}L0#1234[]");
        assert!(
            answer.ends_with(format!("{expected}\r").as_bytes()),
            "{}",
            String::from_utf8_lossy(&answer)
        );
    }
    let rows = journal(&app).await;
    assert_eq!(rows.len(), 50);
    assert!(rows.iter().all(|r| r.record.verdict == Verdict::Accepted));
    app.app.shutdown().await;
}

#[tokio::test]
async fn connection_limits_and_idle_timeouts_hold() {
    use tokio::io::AsyncReadExt;
    let app = vakt_testkit::spawn_app_with(|settings| {
        settings.receiver.limits.connections_per_peer_max = 2;
        settings.receiver.limits.idle_timeout_ms = 300;
    })
    .await;
    let mut first = tokio::net::TcpStream::connect(app.tcp).await.unwrap();
    let _second = tokio::net::TcpStream::connect(app.tcp).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    // The third from the same address is closed at once.
    let mut third = tokio::net::TcpStream::connect(app.tcp).await.unwrap();
    let mut buffer = [0_u8; 8];
    let read = tokio::time::timeout(Duration::from_secs(2), third.read(&mut buffer))
        .await
        .unwrap();
    assert!(matches!(read, Ok(0) | Err(_)));
    // A silent connection is closed after the idle time.
    let read = tokio::time::timeout(Duration::from_secs(5), first.read(&mut buffer))
        .await
        .unwrap();
    assert!(matches!(read, Ok(0) | Err(_)));
    app.app.shutdown().await;
}

#[tokio::test]
async fn a_port_can_refuse_unknown_accounts_with_a_nak() {
    let app = vakt_testkit::spawn_app_with(|settings| {
        settings.receiver.listeners[0].unknown_account = vakt_receiver::UnknownAccountPolicy::Nak;
    })
    .await;
    let mut stranger = Panel::new("ABC123");
    let frame = stranger.frame_at(TokenName::SiaDcs, 13, "#ABC123|Nri1/BA1", None);
    let answer = tcp_exchange(app.tcp, &frame).await.unwrap();
    let expected = b"\"NAK\"0000R0L0A0[]_";
    assert!(
        answer.windows(expected.len()).any(|w| w == expected),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let rows = journal(&app).await;
    let first = &rows[0].record;
    assert_eq!(
        (first.verdict, first.answer.as_str()),
        (Verdict::UnknownTransmitter, "nak")
    );
    app.app.shutdown().await;
}
