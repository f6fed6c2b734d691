//! From one frame to a journal record and an answer; pure, so every verdict is testable
//! without sockets.
//!
//! The order follows the protocol notes (`reference/protocols.md` 1.10): envelope, header,
//! account lookup, CRC in the account's dialect, token, key, decryption, timestamp window,
//! payload. Whatever happens, a record comes out: a bad frame is kept raw with its reason.

use std::net::SocketAddr;

use vakt_core::UnixMicros;
use vakt_dc09::frame::Decoded;
use vakt_dc09::message::{self, OpenError};
use vakt_dc09::payload::{self, Payload};
use vakt_dc09::response::{self, Answer};
use vakt_dc09::{FrameStyle, Header, RawFrame, Timestamp, TokenName};
use vakt_store::{SignalRecord, TimestampPolicy, Transmitter, Transport, Verdict};

use crate::table::TransmitterTable;
use crate::{BadFrameAnswer, ListenerConfig, ReceiverConfig, UnknownAccountPolicy};

/// Where and when a frame arrived.
#[derive(Clone, Copy, Debug)]
pub struct Arrival<'a> {
    /// The port's settings.
    pub listener: &'a ListenerConfig,
    /// TCP or UDP.
    pub transport: Transport,
    /// The sender.
    pub peer: SocketAddr,
    /// The receiver's clock when the frame was complete.
    pub now: UnixMicros,
}

/// The record to journal and the answer to send once it is committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The record.
    pub record: SignalRecord,
    /// What kind of answer.
    pub answer: Answer,
}

impl Outcome {
    /// The answer's bytes (empty when nothing is sent).
    #[must_use]
    pub fn response(&self) -> &[u8] {
        &self.record.response
    }
}

struct Draft<'a> {
    arrival: Arrival<'a>,
    raw: Vec<u8>,
    header: Option<&'a Header>,
}

impl Draft<'_> {
    fn finish(
        self,
        verdict: Verdict,
        detail: Option<String>,
        answer: Answer,
        response: Vec<u8>,
    ) -> Outcome {
        let header = self.header;
        let record = SignalRecord {
            received_at: self.arrival.now,
            transport: self.arrival.transport,
            listener: self.arrival.listener.name.clone(),
            peer: self.arrival.peer.to_string(),
            raw: self.raw,
            verdict,
            detail,
            token: header.map(|h| h.token.name.as_str().to_owned()),
            encrypted: header.is_some_and(|h| h.token.encrypted),
            sequence: header.map(|h| h.sequence.clone()),
            receiver: header.and_then(|h| h.receiver.clone()),
            prefix: header.map(|h| h.prefix.digits().to_owned()),
            account: header.and_then(|h| h.account.clone()),
            transmitter_id: None,
            message_time: None,
            data: None,
            xdata: serde_json::Value::Array(Vec::new()),
            events: Vec::new(),
            answer: answer.as_str().to_owned(),
            response,
            duplicate_key: None,
        };
        Outcome { record, answer }
    }
}

fn bad_frame_answer(
    config: &ReceiverConfig,
    now: UnixMicros,
    style: FrameStyle,
) -> (Answer, Vec<u8>) {
    match config.bad_frame_answer {
        BadFrameAnswer::None => (Answer::None, Vec::new()),
        BadFrameAnswer::Nak => (
            Answer::Nak,
            response::nak(Timestamp::from_unix_micros(now), style),
        ),
    }
}

/// The account named inside a plain data block (`#1234|…`), for frames without one in the
/// header.
fn data_account(body: &[u8]) -> Option<String> {
    let start = body.iter().position(|&b| b == b'[')? + 1;
    let rest = body.get(start..)?;
    let rest = rest.strip_prefix(b"#")?;
    let end = rest.iter().position(|&b| b == b'|' || b == b']')?;
    let account = std::str::from_utf8(rest.get(..end)?).ok()?;
    (!account.is_empty() && account.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| account.to_owned())
}

/// Decides what to journal and answer for one decoded frame.
pub fn process(
    decoded: Decoded,
    arrival: Arrival<'_>,
    table: &TransmitterTable,
    config: &ReceiverConfig,
    pad: &mut dyn FnMut() -> u8,
) -> Outcome {
    let frame = match decoded {
        Decoded::Frame(frame) => frame,
        Decoded::Rejected { error, raw } => {
            let (answer, response) = bad_frame_answer(config, arrival.now, FrameStyle::STANDARD);
            let draft = Draft {
                arrival,
                raw,
                header: None,
            };
            return draft.finish(Verdict::BadFrame, Some(error.to_string()), answer, response);
        }
    };
    let header = match Header::parse(frame.body()) {
        Ok(header) => header,
        Err(error) => {
            let (answer, response) = bad_frame_answer(config, arrival.now, frame.style);
            let draft = Draft {
                arrival,
                raw: frame.wire,
                header: None,
            };
            return draft.finish(Verdict::BadFrame, Some(error.to_string()), answer, response);
        }
    };
    process_frame(frame, &header, arrival, table, config, pad)
}

fn process_frame(
    frame: RawFrame,
    header: &Header,
    arrival: Arrival<'_>,
    table: &TransmitterTable,
    config: &ReceiverConfig,
    pad: &mut dyn FnMut() -> u8,
) -> Outcome {
    let now = arrival.now;
    let account = header
        .account
        .clone()
        .or_else(|| data_account(frame.body()));
    let transmitter = account.as_deref().and_then(|account| {
        table.find(account, header.receiver.as_deref(), header.prefix.digits())
    });
    let dialect = transmitter.map_or(config.default_dialect, |t| t.spec.dialect);
    let body = frame.body().to_vec();
    let draft = Draft {
        arrival,
        raw: frame.wire.clone(),
        header: Some(header),
    };
    let style = match frame.check(dialect.crc_includes_cr) {
        Ok(style) => style,
        Err(error) => {
            metrics::counter!("vakt_bad_crc_total").increment(1);
            let (answer, response) = bad_frame_answer(config, now, frame.style);
            return draft.finish(Verdict::BadCrc, Some(error.to_string()), answer, response);
        }
    };
    if !dialect.allows(style, &header.prefix) {
        let (answer, response) = bad_frame_answer(config, now, style);
        let detail = format!(
            "frame shape {style:?} / prefix {:?} is a dialect not enabled for this account",
            header.prefix
        );
        return draft.finish(Verdict::BadFrame, Some(detail), answer, response);
    }
    if !matches!(
        header.token.name,
        TokenName::SiaDcs | TokenName::AdmCid | TokenName::Null | TokenName::Xnm
    ) {
        let detail = format!(
            "token {} is not handled by this receiver",
            header.token.name.as_str()
        );
        return draft.finish(
            Verdict::Unsupported,
            Some(detail),
            Answer::Duh,
            response::duh(header, style),
        );
    }
    let Some(transmitter) = transmitter else {
        return unknown_transmitter(draft, &body, header, style, config);
    };
    let key = transmitter.spec.key.as_ref().map(|stored| &stored.key);
    if !header.token.encrypted && key.is_some() {
        let detail = "a plain frame for an account that must encrypt".to_owned();
        let mut outcome = draft.finish(
            Verdict::PlainRejected,
            Some(detail),
            Answer::Duh,
            response::duh(header, style),
        );
        outcome.record.transmitter_id = Some(transmitter.id);
        return outcome;
    }
    let message = match message::open(&body, header.clone(), key) {
        Ok(message) => message,
        Err(error) => {
            let (verdict, answer, response) = match error {
                OpenError::NoKey => (
                    Verdict::Unsupported,
                    Answer::Duh,
                    response::duh(header, style),
                ),
                OpenError::Ciphertext | OpenError::Garbled => (
                    Verdict::DecryptFailed,
                    Answer::Duh,
                    response::duh(header, style),
                ),
                OpenError::MissingTimestamp => (
                    Verdict::OutsideWindow,
                    Answer::Nak,
                    response::nak(Timestamp::from_unix_micros(now), style),
                ),
                OpenError::DataBlock | OpenError::XData | OpenError::Timestamp => {
                    let (answer, response) = bad_frame_answer(config, now, style);
                    (Verdict::BadFrame, answer, response)
                }
            };
            let mut outcome = draft.finish(verdict, Some(error.to_string()), answer, response);
            outcome.record.transmitter_id = Some(transmitter.id);
            return outcome;
        }
    };
    if let Some(skew) = timestamp_skew(transmitter, &message, now) {
        let detail = format!("timestamp {skew:+} s from the receiver's clock, outside the window");
        let nak = response::nak(Timestamp::from_unix_micros(now), style);
        let mut outcome = draft.finish(Verdict::OutsideWindow, Some(detail), Answer::Nak, nak);
        outcome.record.transmitter_id = Some(transmitter.id);
        outcome.record.message_time = message.content.timestamp.map(Timestamp::as_unix_micros);
        return outcome;
    }
    let ack = match key {
        Some(key) => {
            response::encrypted_ack(header, key, Timestamp::from_unix_micros(now), pad, style)
        }
        None => response::ack(header, style),
    };
    let mut outcome = draft.finish(Verdict::Accepted, None, Answer::Ack, ack);
    outcome.record.transmitter_id = Some(transmitter.id);
    fill_content(&mut outcome.record, header, &message);
    outcome
}

/// `Some(skew)` when the account's policy checks this message's timestamp and it is
/// outside the window.
fn timestamp_skew(
    transmitter: &Transmitter,
    message: &message::Message,
    now: UnixMicros,
) -> Option<i64> {
    let spec = &transmitter.spec;
    let stamp = message.content.timestamp?;
    let checked = match spec.timestamp_policy {
        TimestampPolicy::Encrypted => message.header.token.encrypted,
        TimestampPolicy::All => true,
        TimestampPolicy::Ignore => false,
    };
    if !checked {
        return None;
    }
    let corrected =
        Timestamp::from_unix_seconds(stamp.unix_seconds() - i64::from(spec.clock_offset_s));
    spec.window.check(corrected, now).err()
}

fn unknown_transmitter(
    draft: Draft<'_>,
    body: &[u8],
    header: &Header,
    style: FrameStyle,
    config: &ReceiverConfig,
) -> Outcome {
    let now = draft.arrival.now;
    if draft.arrival.listener.unknown_account == UnknownAccountPolicy::Nak {
        let nak = response::nak(Timestamp::from_unix_micros(now), style);
        return draft.finish(
            Verdict::UnknownTransmitter,
            Some("unknown account, refused by policy".into()),
            Answer::Nak,
            nak,
        );
    }
    if header.token.encrypted {
        let detail = "encrypted frame from an unknown account: no key to read it".to_owned();
        return draft.finish(
            Verdict::Unsupported,
            Some(detail),
            Answer::Duh,
            response::duh(header, style),
        );
    }
    match message::open(body, header.clone(), None) {
        Ok(message) => {
            let mut outcome = draft.finish(
                Verdict::UnknownTransmitter,
                Some("account not in the registry".into()),
                Answer::Ack,
                response::ack(header, style),
            );
            fill_content(&mut outcome.record, header, &message);
            outcome
        }
        Err(error) => {
            let (answer, response) = bad_frame_answer(config, now, style);
            draft.finish(Verdict::BadFrame, Some(error.to_string()), answer, response)
        }
    }
}

fn decode_payload(header: &Header, data: &[u8]) -> Payload {
    match header.token.name {
        TokenName::SiaDcs => payload::parse_sia(data),
        TokenName::AdmCid => payload::parse_contact_id(data),
        _ => Payload::default(),
    }
}

fn fill_content(record: &mut SignalRecord, header: &Header, message: &message::Message) {
    let content = &message.content;
    let payload = decode_payload(header, &content.data);
    if record.account.is_none() {
        record.account.clone_from(&payload.account);
    }
    record.message_time = content.timestamp.map(Timestamp::as_unix_micros);
    record.events = payload.events;
    record.data = Some(content.data.clone());
    record.xdata = serde_json::to_value(&content.xdata).unwrap_or_default();
    if !content.trailing.is_empty() {
        record.detail = Some(format!(
            "{} bytes after the message ignored",
            content.trailing.len()
        ));
    }
    record.duplicate_key = Some(format!(
        "{}|{}|{}|{}|{}|{}|{}",
        record.account.as_deref().unwrap_or_default(),
        header.prefix.digits(),
        header.receiver.as_deref().unwrap_or_default(),
        header.sequence,
        header.token.name.as_str(),
        String::from_utf8_lossy(&content.data),
        String::from_utf8_lossy(&content.xdata_raw),
    ));
}

#[cfg(test)]
mod tests {
    //! The verdicts of the pure step, without sockets: one frame in, record and answer out.

    use std::net::SocketAddr;

    use vakt_core::UnixMicros;
    use vakt_dc09::frame::{Decoded, decode_datagram};
    use vakt_dc09::message::{Outgoing, encode};
    use vakt_dc09::response::Answer;
    use vakt_dc09::{Dialect, FrameStyle, Key, KeyForm, Timestamp, TokenName, Window};
    use vakt_store::{
        NewTransmitter, Site, StoredKey, TimestampPolicy, Transmitter, Transport, Verdict,
    };

    use super::{Arrival, process};
    use crate::table::TransmitterTable;
    use crate::{BadFrameAnswer, ListenerConfig, Protocols, ReceiverConfig, UnknownAccountPolicy};

    const NOW_S: i64 = 1_800_000_000;

    fn listener() -> ListenerConfig {
        ListenerConfig {
            name: "main".into(),
            address: SocketAddr::from(([127, 0, 0, 1], 0)),
            protocols: Protocols::Both,
            unknown_account: UnknownAccountPolicy::Ack,
        }
    }

    fn config() -> ReceiverConfig {
        ReceiverConfig {
            listeners: vec![listener()],
            limits: crate::Limits::default(),
            bad_frame_answer: BadFrameAnswer::None,
            default_window: Window::default(),
            default_dialect: Dialect::default(),
        }
    }

    fn transmitter(
        id: i64,
        account: &str,
        key: Option<Key>,
        receiver: Option<&str>,
    ) -> Transmitter {
        Transmitter {
            id,
            site_id: 1,
            spec: NewTransmitter {
                account: account.into(),
                receiver: receiver.map(str::to_owned),
                prefix: None,
                key: key.map(|key| StoredKey {
                    key,
                    form: KeyForm::Ascii,
                }),
                supervision_interval_s: 90,
                timestamp_policy: TimestampPolicy::Encrypted,
                window: Window::default(),
                clock_offset_s: 0,
                dialect: Dialect::default(),
                site: Site::default(),
            },
        }
    }

    fn key() -> Key {
        Key::parse("0123456789ABCDEF", KeyForm::Ascii).unwrap()
    }

    fn wire(account: &str, key: Option<&Key>, stamp_s: i64) -> Vec<u8> {
        let outgoing = Outgoing {
            token: TokenName::SiaDcs,
            sequence: 5,
            receiver: None,
            prefix: Some("0"),
            account,
            data: b"#1234|Nri1/BA2",
            xdata: &[],
            timestamp: Some(Timestamp::from_unix_seconds(stamp_s)),
        };
        encode(&outgoing, key, &mut || 0x41, FrameStyle::STANDARD)
    }

    fn run(bytes: &[u8], table: &TransmitterTable, config: &ReceiverConfig) -> super::Outcome {
        let decoded = match decode_datagram(bytes, 4095) {
            Ok(frame) => Decoded::Frame(frame),
            Err(rejected) => rejected,
        };
        let listener = listener();
        let arrival = Arrival {
            listener: &listener,
            transport: Transport::Udp,
            peer: SocketAddr::from(([127, 0, 0, 1], 4000)),
            now: UnixMicros::from_seconds(NOW_S),
        };
        process(decoded, arrival, table, config, &mut || 0x42)
    }

    #[test]
    fn each_situation_gets_its_verdict_and_answer() {
        let table = TransmitterTable::new(vec![
            transmitter(1, "1234", Some(key()), None),
            transmitter(2, "5678", None, None),
        ]);
        let config = config();
        let cases: [(Vec<u8>, Verdict, Answer); 6] = [
            (
                wire("1234", Some(&key()), NOW_S),
                Verdict::Accepted,
                Answer::Ack,
            ),
            (
                wire("1234", Some(&key()), NOW_S - 41),
                Verdict::OutsideWindow,
                Answer::Nak,
            ),
            (
                wire("1234", None, NOW_S),
                Verdict::PlainRejected,
                Answer::Duh,
            ),
            (
                wire("5678", None, NOW_S - 3_600),
                Verdict::Accepted,
                Answer::Ack,
            ),
            (
                wire("9999", None, NOW_S),
                Verdict::UnknownTransmitter,
                Answer::Ack,
            ),
            (b"\n0000".to_vec(), Verdict::BadFrame, Answer::None),
        ];
        for (bytes, verdict, answer) in cases {
            let outcome = run(&bytes, &table, &config);
            assert_eq!(
                (outcome.record.verdict, outcome.answer),
                (verdict, answer),
                "{outcome:?}"
            );
            assert_eq!(outcome.response().is_empty(), answer == Answer::None);
            assert_eq!(outcome.record.raw, bytes);
        }
    }

    #[test]
    fn accepted_records_carry_events_and_a_duplicate_key() {
        let table = TransmitterTable::new(vec![transmitter(1, "1234", Some(key()), None)]);
        let outcome = run(&wire("1234", Some(&key()), NOW_S), &table, &config());
        let record = outcome.record;
        assert_eq!(record.transmitter_id, Some(1));
        assert_eq!(record.events.len(), 1);
        assert_eq!(record.events[0].zone, Some(2));
        assert_eq!(
            record.duplicate_key.as_deref(),
            Some("1234|0||0005|SIA-DCS|#1234|Nri1/BA2|")
        );
        // The timestamp is not part of the key: a retransmission restamps the message.
        let again = run(&wire("1234", Some(&key()), NOW_S - 5), &table, &config());
        assert_eq!(again.record.duplicate_key, record.duplicate_key);
    }

    #[test]
    fn bad_frames_can_be_answered_with_a_nak_by_configuration() {
        let mut config = config();
        config.bad_frame_answer = BadFrameAnswer::Nak;
        let mut bytes = wire("5678", None, NOW_S);
        bytes[2] ^= 0x01;
        let outcome = run(&bytes, &TransmitterTable::default(), &config);
        assert_eq!(
            (outcome.record.verdict, outcome.answer),
            (Verdict::BadCrc, Answer::Nak)
        );
    }

    #[test]
    fn the_most_specific_registration_wins() {
        let table = TransmitterTable::new(vec![
            transmitter(1, "ab12", None, None),
            transmitter(2, "AB12", None, Some("7")),
        ]);
        assert_eq!(table.find("AB12", Some("7"), "0").map(|t| t.id), Some(2));
        assert_eq!(table.find("ab12", Some("8"), "0").map(|t| t.id), Some(1));
        assert_eq!(table.find("AB12", None, "0").map(|t| t.id), Some(1));
        assert!(table.find("FFFF", None, "0").is_none());
    }
}
