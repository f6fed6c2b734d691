//! Hostile and malformed DC-09 input against a running receiver, while good panels report.
//!
//! The corpus (`tests/corpus/dc09-hostile.txt`) holds each case with the answer it must get
//! and the journal rows it must leave. Meanwhile a kept-open panel and a one-frame-per-
//! connection panel report every few milliseconds, two thousand idle connections sit open,
//! one address tries to open more than its share, and slow senders trickle bytes: the good
//! panels must get every answer, and each bound must hold.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use vakt_core::{Clock, SystemClock};
use vakt_dc09::crc::{crc16, crc16_with_cr};
use vakt_dc09::crypto::seal;
use vakt_dc09::frame::decode_datagram;
use vakt_dc09::{Header, Key, KeyForm, Timestamp, TokenName};
use vakt_store::{Journal, SignalFilter, StoredSignal};
use vakt_testkit::{Panel, TestApp, read_answer, transmitter};

const CORPUS: &str = include_str!("../corpus/dc09-hostile.txt");
/// The corpus must not shrink below this.
const CASES_MIN: usize = 100;
const AES128_HEX: &str = "000102030405060708090A0B0C0D0E0F";
const AES256_ASCII: &str = "Vakt-test-key-0123456789-ABCDEFG";
/// How long a case must stay unanswered to count as "no answer".
const SILENCE: Duration = Duration::from_millis(300);
const GOOD_ACCOUNT: &str = "600D";
/// Idle connections held open during the corpus, from addresses under their share.
const IDLE_CONNECTIONS: usize = 2_000;
const IDLE_PER_ADDRESS: usize = 50;
const FRAME_TIMEOUT_MS: u64 = 1_500;
const PER_PEER_MAX: usize = 64;

struct Case {
    line: usize,
    name: String,
    answers: Vec<String>,
    verdicts: Vec<String>,
    /// The bytes, built just before sending so timestamps are the receiver's now.
    expression: String,
}

struct Keys {
    aes128: Key,
    aes256: Key,
    wrong: Key,
}

/// Turns the escapes of the corpus into bytes.
fn unescape(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buffer = [0_u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
            continue;
        }
        match chars.next() {
            Some('n') => out.push(b'\n'),
            Some('r') => out.push(b'\r'),
            Some('0') => out.push(0),
            Some('\\') => out.push(b'\\'),
            Some('x') => {
                let digits: String = chars.by_ref().take(2).collect();
                out.push(u8::from_str_radix(&digits, 16).expect("\\xHH"));
            }
            other => panic!("unknown escape \\{other:?}"),
        }
    }
    out
}

/// Expands `{…}` placeholders, innermost first.
fn expand(text: &str, keys: &Keys, sequence: &mut u16) -> String {
    let now = SystemClock.now().0 / 1_000_000;
    let mut text = text.to_owned();
    while let Some(open) = text.rfind('{') {
        let close = open + text[open..].find('}').expect("a closing }");
        let inner = &text[open + 1..close];
        let mut pad = 3_u8;
        let mut next_pad = || {
            pad = pad.wrapping_mul(13).wrapping_add(5);
            pad
        };
        let stamp = |offset: i64| format!("_{}", Timestamp::from_unix_seconds(now + offset));
        let count = |prefix: &str| inner.strip_prefix(prefix).and_then(|n| n.parse().ok());
        let value = if inner == "seq" {
            *sequence += 1;
            format!("{sequence:04}")
        } else if inner == "now" {
            stamp(0)
        } else if let Some(offset) = inner.strip_prefix("now") {
            stamp(offset.parse().expect("{now±N}"))
        } else if let Some((cipher, content)) = inner.split_once(':') {
            let content = unescape(content);
            let (key, bar) = match cipher {
                "aes128" => (&keys.aes128, true),
                "aes128nobar" => (&keys.aes128, false),
                "aes256" => (&keys.aes256, true),
                "aeswrong" => (&keys.wrong, true),
                other => panic!("unknown cipher {other}"),
            };
            seal(key, &content, bar, &mut next_pad)
        } else if let Some(n) = count("pad") {
            "x".repeat(n)
        } else if let Some(n) = count("junk") {
            // Letters, digits, CRs, quotes and brackets: never an LF.
            const JUNK: &[u8] = b"abcXYZ0189\r\"#|[]*^_ ";
            (0..n).map(|i| char::from(JUNK[i % JUNK.len()])).collect()
        } else if let Some(n) = count("lf") {
            "\n".repeat(n)
        } else {
            panic!("unknown placeholder {{{inner}}}")
        };
        text.replace_range(open..=close, &value);
    }
    text
}

/// Builds one `<F mods:body>` frame.
fn frame(mods: &str, body: &[u8]) -> Vec<u8> {
    let mut crc = crc16(body);
    let mut crc_field: Option<Vec<u8>> = None;
    let mut length = format!("{:04X}", body.len()).into_bytes();
    let mut body = body.to_vec();
    let (mut cr, mut cut, mut twice, mut lower, mut flip) = (true, None, false, false, None);
    for m in mods.split_whitespace() {
        let (name, value) = m.split_once(['=', '+', '-']).unwrap_or((m, ""));
        let sign = m.chars().nth(name.len());
        let number = || value.parse::<i64>().expect("a number");
        match (name, sign) {
            ("crc", Some('=')) => crc_field = Some(value.as_bytes().to_vec()),
            ("crc", Some('+')) => crc = crc.wrapping_add(number() as u16),
            ("crcr", None) => crc = crc16_with_cr(&body),
            ("binary", None) => crc_field = Some(crc.to_be_bytes().to_vec()),
            ("lower", None) => lower = true,
            ("len", Some('=')) => length = value.as_bytes().to_vec(),
            ("len", Some(sign)) => {
                let delta = if sign == '+' { number() } else { -number() };
                length = format!("{:04X}", body.len() as i64 + delta).into_bytes();
            }
            ("decimal", None) => length = format!("{:04}", body.len()).into_bytes(),
            ("nocr", None) => cr = false,
            ("cut", Some(sign)) => cut = Some(if sign == '-' { -number() } else { number() }),
            ("twice", None) => twice = true,
            ("flip", Some('=')) => flip = Some(number() as usize),
            other => panic!("unknown frame mod {other:?}"),
        }
    }
    if let Some(at) = flip {
        body[at] ^= 0x01;
    }
    let crc_field = crc_field.unwrap_or_else(|| {
        let hex = format!("{crc:04X}");
        if lower { hex.to_lowercase() } else { hex }.into_bytes()
    });
    let mut wire = vec![b'\n'];
    wire.extend_from_slice(&crc_field);
    wire.extend_from_slice(&length);
    wire.extend_from_slice(&body);
    if cr {
        wire.push(b'\r');
    }
    if let Some(cut) = cut {
        let keep = if cut < 0 {
            wire.len() - cut.unsigned_abs() as usize
        } else {
            cut as usize
        };
        wire.truncate(keep);
    }
    if twice {
        wire.extend_from_slice(&wire.clone());
    }
    wire
}

/// The bytes of a case: text and frames.
fn bytes(expression: &str, keys: &Keys, sequence: &mut u16) -> Vec<u8> {
    let expression = expand(expression, keys, sequence);
    let mut out = Vec::new();
    let mut rest = expression.as_str();
    while let Some(start) = rest.find("<F") {
        out.extend(unescape(&rest[..start]));
        let end = start + rest[start..].find('>').expect("a closing >");
        let (mods, body) = rest[start + 2..end].split_once(':').expect("<F mods:body>");
        out.extend(frame(mods, &unescape(body)));
        rest = &rest[end + 1..];
    }
    out.extend(unescape(rest));
    out
}

fn corpus() -> Vec<Case> {
    let list = |field: &str| -> Vec<String> {
        match field.trim() {
            "none" | "-" => Vec::new(),
            items => items.split(',').map(|s| s.trim().to_owned()).collect(),
        }
    };
    CORPUS
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|(index, line)| {
            let fields: Vec<&str> = line.splitn(4, " | ").collect();
            let [answers, verdicts, name, expression] = fields[..] else {
                panic!("corpus line {}: four fields", index + 1);
            };
            Case {
                line: index + 1,
                name: name.to_owned(),
                answers: list(answers),
                verdicts: list(verdicts),
                expression: expression.to_owned(),
            }
        })
        .collect()
}

/// The kind of an answer frame: ack (ACK or *ACK), nak or duh.
fn kind(answer: &[u8]) -> String {
    let Ok(frame) = decode_datagram(answer, 4095) else {
        return format!("not a frame: {}", String::from_utf8_lossy(answer));
    };
    match Header::parse(frame.body()) {
        Ok(header) => match header.token.name {
            TokenName::Ack => "ack".into(),
            TokenName::Nak => "nak".into(),
            TokenName::Duh => "duh".into(),
            other => format!("token {}", other.as_str()),
        },
        Err(error) => format!("unreadable answer: {error}"),
    }
}

/// Sends one case and returns what went wrong, if anything.
async fn run_case(case: &Case, app: &TestApp, keys: &Keys, sequence: &mut u16) -> Vec<String> {
    let mut wrong = Vec::new();
    let bytes = bytes(&case.expression, keys, sequence);
    let mut connection = TcpStream::connect(app.tcp).await.unwrap();
    connection.write_all(&bytes).await.unwrap();
    let mut got = Vec::new();
    for _ in &case.answers {
        match read_answer(&mut connection).await {
            Ok(answer) => got.push(kind(&answer)),
            Err(error) => {
                got.push(format!("no answer ({error})"));
                break;
            }
        }
    }
    let mut extra = [0_u8; 256];
    if let Ok(Ok(count)) = tokio::time::timeout(SILENCE, connection.read(&mut extra)).await
        && count > 0
    {
        got.push(format!(
            "unexpected: {}",
            String::from_utf8_lossy(&extra[..count])
        ));
    }
    if got != case.answers {
        wrong.push(format!("answers {:?}, expected {:?}", got, case.answers));
    }
    wrong
}

/// A panel on a slow line, one byte at a time within the frame time, is answered; a sender
/// slower than the frame time is cut off, unanswered and unjournalled.
async fn slow_lines_within_and_beyond_the_frame_time(
    app: &vakt_testkit::TestApp,
    store: &vakt_store_sql::SqlStore,
) {
    // A panel on a slow line: one byte at a time, still within the frame time.
    let mut slow = TcpStream::connect(app.tcp).await.unwrap();
    let frame = Panel::new("1234").frame_at(TokenName::SiaDcs, 9_001, "#1234|Nri1/BA7", None);
    let started = Instant::now();
    for byte in &frame {
        slow.write_all(&[*byte]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    let answer = read_answer(&mut slow).await.unwrap();
    assert_eq!(kind(&answer), "ack");
    assert!(started.elapsed() < Duration::from_millis(FRAME_TIMEOUT_MS));
    // A sender slower than the frame time is cut off, unanswered and unjournalled.
    let mut trickle = TcpStream::connect(app.tcp).await.unwrap();
    let frame = Panel::new("1234").frame_at(TokenName::SiaDcs, 9_002, "#1234|Nri1/BA8", None);
    let mut last = newest_id(store).await;
    let started = Instant::now();
    let mut cut_off = false;
    for byte in &frame {
        if trickle.write_all(&[*byte]).await.is_err()
            || closed_within(&mut trickle, Duration::from_millis(400)).await
        {
            cut_off = true;
            break;
        }
    }
    assert!(cut_off, "a trickling sender is cut off");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(FRAME_TIMEOUT_MS)
            && took < Duration::from_millis(FRAME_TIMEOUT_MS * 3),
        "cut off after {took:?}"
    );
    tokio::time::sleep(SILENCE).await;
    loop {
        let rows = rows_after(store, last).await;
        let Some(newest) = rows.last() else { break };
        last = newest.id;
        assert!(
            rows.iter()
                .all(|r| r.record.account.as_deref() == Some(GOOD_ACCOUNT)),
            "nothing of the cut-off frame is journalled"
        );
    }
}

/// Journal rows after `after`, leaving out the good panels'.
async fn rows_after(store: &vakt_store_sql::SqlStore, after: i64) -> Vec<StoredSignal> {
    store
        .signals(&SignalFilter {
            after_id: Some(after),
            limit: 1_000,
            ..SignalFilter::default()
        })
        .await
        .unwrap()
}

/// The newest journal id.
async fn newest_id(store: &vakt_store_sql::SqlStore) -> i64 {
    let newest = store
        .signals(&SignalFilter {
            limit: 1,
            ..SignalFilter::default()
        })
        .await
        .unwrap();
    newest.first().map_or(0, |r| r.id)
}

/// A panel that reports every few milliseconds until told to stop, each on a new connection
/// or all on one; returns (acknowledged, failures).
async fn good_panel(address: SocketAddr, kept_open: bool, stop: Arc<AtomicBool>) -> (u32, u32) {
    let mut panel = Panel::new(GOOD_ACCOUNT);
    let (mut acked, mut failed) = (0_u32, 0_u32);
    let mut connection: Option<TcpStream> = None;
    let offset = if kept_open { 0_u16 } else { 5_000 };
    let mut sent = 0_u16;
    while !stop.load(Ordering::Relaxed) {
        let sequence = offset + sent % 4_999 + 1;
        sent = sent.wrapping_add(1);
        let frame = panel.frame_at(TokenName::Null, sequence, "", None);
        if connection.is_none() {
            connection = TcpStream::connect(address).await.ok();
        }
        let ok = match connection.as_mut() {
            Some(stream) => {
                stream.write_all(&frame).await.is_ok()
                    && read_answer(stream)
                        .await
                        .is_ok_and(|answer| kind(&answer) == "ack")
            }
            None => false,
        };
        if ok {
            acked += 1;
        } else {
            failed += 1;
        }
        if !kept_open || !ok {
            connection = None;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    (acked, failed)
}

async fn connect_from(source: Ipv4Addr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(IpAddr::V4(source), 0))?;
    socket.connect(to).await
}

/// Whether the server closed the connection within `wait`.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buffer = [0_u8; 64];
    matches!(
        tokio::time::timeout(wait, stream.read(&mut buffer)).await,
        Ok(Ok(0) | Err(_))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_gets_its_answer_while_good_panels_are_served() {
    let app = vakt_testkit::spawn_app_with(|settings| {
        settings.receiver.limits.frame_timeout_ms = FRAME_TIMEOUT_MS;
        settings.receiver.limits.connections_per_peer_max = PER_PEER_MAX;
    })
    .await;
    let mut strict = transmitter("4321", None);
    strict.timestamp_policy = Some("all".into());
    let mut dialects = transmitter("E1D5", None);
    dialects.dialect = Some("crc_binary crc_includes_cr length_decimal prefix_optional".into());
    app.register(vec![
        transmitter("1234", None),
        strict,
        transmitter("5678", Some((AES128_HEX, "hex"))),
        transmitter("9ABC", Some((AES256_ASCII, "ascii"))),
        dialects,
        transmitter(GOOD_ACCOUNT, None),
    ])
    .await;
    let keys = Keys {
        aes128: Key::parse(AES128_HEX, KeyForm::Hex).unwrap(),
        aes256: Key::parse(AES256_ASCII, KeyForm::Ascii).unwrap(),
        wrong: Key::from_bytes(&[0xA5; 16]).unwrap(),
    };
    let (store, _) = vakt::open_store(&app.settings, Arc::new(SystemClock))
        .await
        .unwrap();

    // The good panels report throughout.
    let stop = Arc::new(AtomicBool::new(false));
    let kept = tokio::spawn(good_panel(app.tcp, true, stop.clone()));
    let fresh = tokio::spawn(good_panel(app.tcp, false, stop.clone()));

    // Thousands of idle connections, each address within its share.
    let mut idle = Vec::with_capacity(IDLE_CONNECTIONS);
    for n in 0..IDLE_CONNECTIONS {
        let source = Ipv4Addr::new(127, 0, 1, u8::try_from(n / IDLE_PER_ADDRESS + 1).unwrap());
        idle.push(
            connect_from(source, app.tcp)
                .await
                .expect("an idle connection"),
        );
    }
    // One address tries to open three times its share: the rest are closed at once.
    let greedy_source = Ipv4Addr::new(127, 0, 2, 1);
    let mut greedy = Vec::new();
    for _ in 0..PER_PEER_MAX * 3 {
        greedy.push(connect_from(greedy_source, app.tcp).await.unwrap());
    }
    let mut refused = 0;
    for stream in &mut greedy {
        if closed_within(stream, Duration::from_millis(50)).await {
            refused += 1;
        }
    }
    assert_eq!(
        refused,
        PER_PEER_MAX * 2,
        "one address holds exactly its share"
    );

    // Every case of the corpus, one after another, each on its own connection.
    let cases = corpus();
    let mut sequence = 0_u16;
    assert!(cases.len() >= CASES_MIN, "{} cases", cases.len());
    let mut last = newest_id(&store).await;
    let mut failures = Vec::new();
    for case in &cases {
        let mut wrong = run_case(case, &app, &keys, &mut sequence).await;
        // The journal: the rows this case added (the good panel's aside), once committed.
        let deadline = Instant::now() + Duration::from_secs(3);
        let (rows, newest) = loop {
            let all = rows_after(&store, last).await;
            let newest = all.last().map_or(last, |r| r.id);
            let rows: Vec<String> = all
                .iter()
                .filter(|r| r.record.account.as_deref() != Some(GOOD_ACCOUNT))
                .map(|r| r.record.verdict.as_str().to_owned())
                .collect();
            if rows.len() >= case.verdicts.len() || Instant::now() > deadline {
                break (rows, newest);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        last = newest;
        if rows != case.verdicts {
            wrong.push(format!("journal {rows:?}, expected {:?}", case.verdicts));
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "line {} ({}): {}",
                case.line,
                case.name,
                wrong.join("; ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    slow_lines_within_and_beyond_the_frame_time(&app, &store).await;

    // The idle connections were held all along, and the good panels never went unanswered.
    let mut still_open = 0;
    for stream in idle.iter_mut().step_by(100) {
        if !closed_within(stream, Duration::from_millis(5)).await {
            still_open += 1;
        }
    }
    assert_eq!(still_open, IDLE_CONNECTIONS / 100);
    stop.store(true, Ordering::Relaxed);
    let (kept_acked, kept_failed) = kept.await.unwrap();
    let (fresh_acked, fresh_failed) = fresh.await.unwrap();
    assert_eq!(
        (kept_failed, fresh_failed),
        (0, 0),
        "a good panel went unanswered"
    );
    assert!(
        kept_acked > 100 && fresh_acked > 100,
        "{kept_acked} / {fresh_acked}"
    );
    drop(idle);
    store.close().await;
    app.app.shutdown().await;
}
