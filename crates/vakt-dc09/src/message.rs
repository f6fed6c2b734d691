//! The inside of a frame: header, data block, extended data and timestamp.
//!
//! `"id" seq [Rrcvr] Lpref #acct [data] [x-data]* [_timestamp]`. The header is read first
//! and on its own, because the account it names decides which key and which dialect apply
//! to the rest. Encrypted content is hex text that decrypts to `pad | data ] [x-data]*
//! _timestamp`; the pad ends at the first `|` (or, from panels that send no `|`, at the `]`
//! of an empty data block).

use serde::Serialize;

use crate::crypto::{self, CryptoError, Key};
use crate::frame::{FrameStyle, encode_frame};
use crate::timestamp::{TIMESTAMP_BYTES, Timestamp};

/// Longest token text accepted between the quotes.
const TOKEN_BYTES_MAX: usize = 16;
/// Longest receiver or prefix number, in hex digits.
const NUMBER_DIGITS_MAX: usize = 6;
/// Longest account, in characters.
const ACCOUNT_BYTES_MAX: usize = 16;

/// The message type named by the token.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TokenName {
    /// `SIA-DCS`: SIA DC-03 data.
    SiaDcs,
    /// `ADM-CID`: Contact ID data.
    AdmCid,
    /// `NULL`: a link test.
    Null,
    /// `XNM`: an extended null message.
    Xnm,
    /// `ACK`: positive acknowledgement.
    Ack,
    /// `NAK`: timestamp rejected.
    Nak,
    /// `DUH`: received but cannot be processed.
    Duh,
    /// `RSP`: a response carrying data.
    Rsp,
    /// Any other token, kept as received.
    Other(String),
}

impl TokenName {
    fn parse(text: &str) -> TokenName {
        match text {
            "SIA-DCS" => TokenName::SiaDcs,
            "ADM-CID" => TokenName::AdmCid,
            "NULL" => TokenName::Null,
            "XNM" => TokenName::Xnm,
            "ACK" => TokenName::Ack,
            "NAK" => TokenName::Nak,
            "DUH" => TokenName::Duh,
            "RSP" => TokenName::Rsp,
            other => TokenName::Other(other.to_owned()),
        }
    }

    /// The token as written on the wire, without the `*`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            TokenName::SiaDcs => "SIA-DCS",
            TokenName::AdmCid => "ADM-CID",
            TokenName::Null => "NULL",
            TokenName::Xnm => "XNM",
            TokenName::Ack => "ACK",
            TokenName::Nak => "NAK",
            TokenName::Duh => "DUH",
            TokenName::Rsp => "RSP",
            TokenName::Other(text) => text,
        }
    }
}

/// The token and whether the message is encrypted (`*` inside the quotes).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Token {
    /// The message type.
    pub name: TokenName,
    /// Whether the content is encrypted.
    pub encrypted: bool,
}

/// The account prefix (`L` field), as the panel wrote it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Prefix {
    /// `L` with 1–6 hex digits.
    Given(String),
    /// `L` with no digits (a dialect).
    Empty,
    /// No `L` at all (a dialect).
    Missing,
}

impl Prefix {
    /// The digits, or an empty text.
    #[must_use]
    pub fn digits(&self) -> &str {
        match self {
            Prefix::Given(digits) => digits,
            Prefix::Empty | Prefix::Missing => "",
        }
    }
}

/// The header did not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// No quoted token at the start of the body.
    #[error("no quoted token at the start of the body")]
    Token,
    /// The sequence number is not four decimal digits.
    #[error("the sequence number is not four decimal digits")]
    Sequence,
    /// An `R` without hex digits, or too many.
    #[error("the receiver number is not 1-6 hex digits")]
    Receiver,
    /// An `L` with too many digits.
    #[error("the account prefix is more than 6 hex digits")]
    Prefix,
    /// A `#` without a valid account after it.
    #[error("the account is not 1-16 letters or digits")]
    Account,
    /// No `[` where the data block should start.
    #[error("no data block after the header")]
    DataBlock,
}

/// The header of a message, with every field echoed back exactly as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The token.
    pub token: Token,
    /// The four sequence digits as received.
    pub sequence: String,
    /// The receiver number (`R`), when present.
    pub receiver: Option<String>,
    /// The account prefix (`L`).
    pub prefix: Prefix,
    /// The account (`#`), when present.
    pub account: Option<String>,
    /// Offset of the `[` that opens the data block.
    content_start: usize,
}

fn take_while(
    body: &[u8],
    from: usize,
    max: usize,
    accept: impl Fn(u8) -> bool,
) -> (String, usize) {
    let taken: Vec<u8> = body
        .iter()
        .skip(from)
        .take(max + 1)
        .take_while(|&&b| accept(b))
        .copied()
        .collect();
    let end = from + taken.len();
    (String::from_utf8_lossy(&taken).into_owned(), end)
}

impl Header {
    /// Parses the header at the start of a frame body.
    ///
    /// # Errors
    /// Which field is wrong.
    pub fn parse(body: &[u8]) -> Result<Header, HeaderError> {
        if body.first() != Some(&b'"') {
            return Err(HeaderError::Token);
        }
        let close = body
            .iter()
            .skip(1)
            .take(TOKEN_BYTES_MAX + 2)
            .position(|&b| b == b'"')
            .ok_or(HeaderError::Token)?
            + 1;
        let token_text = std::str::from_utf8(body.get(1..close).unwrap_or_default())
            .map_err(|_| HeaderError::Token)?;
        let (encrypted, name) = match token_text.strip_prefix('*') {
            Some(rest) => (true, rest),
            None => (false, token_text),
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(HeaderError::Token);
        }
        let token = Token {
            name: TokenName::parse(name),
            encrypted,
        };
        let mut at = close + 1;
        let sequence = body.get(at..at + 4).ok_or(HeaderError::Sequence)?;
        if !sequence.iter().all(u8::is_ascii_digit) {
            return Err(HeaderError::Sequence);
        }
        let sequence = String::from_utf8_lossy(sequence).into_owned();
        at += 4;
        if token.name == TokenName::Nak
            && body
                .get(at..)
                .is_some_and(|rest| rest.starts_with(b"R0L0A0["))
        {
            // "NAK"0000R0L0A0[]: L0A0 would also read as a hex prefix, so NAK is special.
            let header = Header {
                token,
                sequence,
                receiver: Some("0".to_owned()),
                prefix: Prefix::Given("0".to_owned()),
                account: None,
                content_start: at + 6,
            };
            return Ok(header);
        }
        let mut receiver = None;
        if body.get(at) == Some(&b'R') {
            let (digits, end) =
                take_while(body, at + 1, NUMBER_DIGITS_MAX, |b| b.is_ascii_hexdigit());
            if digits.is_empty() || digits.len() > NUMBER_DIGITS_MAX {
                return Err(HeaderError::Receiver);
            }
            receiver = Some(digits);
            at = end;
        }
        let prefix = if body.get(at) == Some(&b'L') {
            let (digits, end) =
                take_while(body, at + 1, NUMBER_DIGITS_MAX, |b| b.is_ascii_hexdigit());
            if digits.len() > NUMBER_DIGITS_MAX {
                return Err(HeaderError::Prefix);
            }
            at = end;
            if digits.is_empty() {
                Prefix::Empty
            } else {
                Prefix::Given(digits)
            }
        } else {
            Prefix::Missing
        };
        let mut account = None;
        if body.get(at) == Some(&b'#') {
            let (text, end) = take_while(body, at + 1, ACCOUNT_BYTES_MAX, |b| {
                b.is_ascii_alphanumeric()
            });
            if text.is_empty() || text.len() > ACCOUNT_BYTES_MAX {
                return Err(HeaderError::Account);
            }
            account = Some(text);
            at = end;
        }
        if body.get(at) != Some(&b'[') {
            return Err(HeaderError::DataBlock);
        }
        Ok(Header {
            token,
            sequence,
            receiver,
            prefix,
            account,
            content_start: at,
        })
    }

    /// The sequence number.
    #[must_use]
    pub fn sequence_number(&self) -> u16 {
        self.sequence.parse().unwrap_or(0)
    }

    /// Writes the header up to and including the `#account`, for a response, echoing the
    /// sequence, receiver, prefix and account as they were received.
    #[must_use]
    pub fn echo(&self, token: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(32);
        out.push(b'"');
        out.extend_from_slice(token.as_bytes());
        out.push(b'"');
        out.extend_from_slice(self.sequence.as_bytes());
        if let Some(receiver) = &self.receiver {
            out.push(b'R');
            out.extend_from_slice(receiver.as_bytes());
        }
        match &self.prefix {
            Prefix::Given(digits) => {
                out.push(b'L');
                out.extend_from_slice(digits.as_bytes());
            }
            Prefix::Empty => out.push(b'L'),
            Prefix::Missing => {}
        }
        if let Some(account) = &self.account {
            out.push(b'#');
            out.extend_from_slice(account.as_bytes());
        }
        out
    }
}

/// One extended data block, typed where Vakt uses it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum XData {
    /// `V`: links to verification pictures, audio or video (untrusted input).
    Verification {
        /// The links, as sent.
        urls: Vec<String>,
    },
    /// `X`: longitude, as sent.
    Longitude {
        /// The value, as sent.
        value: String,
    },
    /// `Y`: latitude, as sent.
    Latitude {
        /// The value, as sent.
        value: String,
    },
    /// `H`: when the event happened, which may differ from when it was sent.
    EventTime {
        /// Seconds since the Unix epoch.
        unix_seconds: i64,
    },
    /// Any other block, kept as it came.
    Raw {
        /// The identifying letter(s).
        id: String,
        /// The value.
        value: String,
    },
}

impl XData {
    fn parse(block: &[u8]) -> XData {
        let id = block.first().map(|&b| b as char).unwrap_or('?');
        let value_bytes = block.get(1..).unwrap_or_default();
        let value = String::from_utf8_lossy(value_bytes).into_owned();
        match id {
            'V' => XData::Verification {
                urls: value.split(',').map(str::to_owned).collect(),
            },
            'X' => XData::Longitude { value },
            'Y' => XData::Latitude { value },
            'H' => match Timestamp::parse(value_bytes) {
                Ok(stamp) => XData::EventTime {
                    unix_seconds: stamp.unix_seconds(),
                },
                Err(_) => XData::Raw {
                    id: id.to_string(),
                    value,
                },
            },
            _ => XData::Raw {
                id: id.to_string(),
                value,
            },
        }
    }

    /// The block as written on the wire, brackets included.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let inner = match self {
            XData::Verification { urls } => format!("V{}", urls.join(",")),
            XData::Longitude { value } => format!("X{value}"),
            XData::Latitude { value } => format!("Y{value}"),
            XData::EventTime { unix_seconds } => {
                format!("H{}", Timestamp::from_unix_seconds(*unix_seconds))
            }
            XData::Raw { id, value } => format!("{id}{value}"),
        };
        format!("[{inner}]").into_bytes()
    }
}

/// What follows the header, decrypted where needed.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Content {
    /// The data block without its brackets: the payload.
    pub data: Vec<u8>,
    /// Extended data blocks in order.
    pub xdata: Vec<XData>,
    /// The raw extended data, brackets included, for the journal and duplicate detection.
    pub xdata_raw: Vec<u8>,
    /// The timestamp, when the message carries one.
    pub timestamp: Option<Timestamp>,
    /// Bytes after everything understood (some panels send junk there).
    pub trailing: Vec<u8>,
}

/// Why the content of a message cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// The message is encrypted and no key is known for the account.
    #[error("the message is encrypted and no key is known for the account")]
    NoKey,
    /// The encrypted text is not hex, or not whole blocks.
    #[error("the encrypted content is not whole AES blocks in hex")]
    Ciphertext,
    /// Decryption gave no readable message: most likely the wrong key.
    #[error("the decrypted content is not a DC-09 message (wrong key?)")]
    Garbled,
    /// An encrypted message without its mandatory timestamp.
    #[error("the encrypted message has no timestamp")]
    MissingTimestamp,
    /// The data block is not closed.
    #[error("the data block is not closed with ]")]
    DataBlock,
    /// An x-data block is not closed.
    #[error("an extended data block is not closed with ]")]
    XData,
    /// A malformed timestamp.
    #[error("the timestamp is not HH:MM:SS,MM-DD-YYYY")]
    Timestamp,
}

impl From<CryptoError> for OpenError {
    fn from(_: CryptoError) -> OpenError {
        OpenError::Ciphertext
    }
}

/// A message with its content read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The header.
    pub header: Header,
    /// The content.
    pub content: Content,
}

/// Splits `data ] [x]* _ts trailing` (the bytes after the data block's `[`).
fn parse_content(bytes: &[u8]) -> Result<Content, OpenError> {
    let data_end = bytes
        .iter()
        .position(|&b| b == b']')
        .ok_or(OpenError::DataBlock)?;
    let mut content = Content {
        data: bytes.get(..data_end).unwrap_or_default().to_vec(),
        ..Content::default()
    };
    let mut at = data_end + 1;
    let xdata_start = at;
    while bytes.get(at) == Some(&b'[') {
        let end = bytes
            .iter()
            .skip(at)
            .position(|&b| b == b']')
            .ok_or(OpenError::XData)?
            + at;
        content
            .xdata
            .push(XData::parse(bytes.get(at + 1..end).unwrap_or_default()));
        at = end + 1;
    }
    content.xdata_raw = bytes.get(xdata_start..at).unwrap_or_default().to_vec();
    if bytes.get(at) == Some(&b'_') {
        let text = bytes
            .get(at + 1..at + 1 + TIMESTAMP_BYTES)
            .ok_or(OpenError::Timestamp)?;
        content.timestamp = Some(Timestamp::parse(text).map_err(|_| OpenError::Timestamp)?);
        at += 1 + TIMESTAMP_BYTES;
    }
    content.trailing = bytes.get(at..).unwrap_or_default().to_vec();
    Ok(content)
}

/// Reads the content of a message whose header has been parsed, decrypting it with `key`
/// when the token says it is encrypted.
///
/// # Errors
/// Why the content cannot be read.
pub fn open(body: &[u8], header: Header, key: Option<&Key>) -> Result<Message, OpenError> {
    let after_bracket = body.get(header.content_start + 1..).unwrap_or_default();
    if !header.token.encrypted {
        let content = parse_content(after_bracket)?;
        return Ok(Message { header, content });
    }
    let key = key.ok_or(OpenError::NoKey)?;
    let mut plain = hex::decode(after_bracket).map_err(|_| OpenError::Ciphertext)?;
    crypto::decrypt(key, &mut plain)?;
    let pad_end = plain
        .iter()
        .position(|&b| b == b'|' || b == b']')
        .ok_or(OpenError::Garbled)?;
    let start = if plain.get(pad_end) == Some(&b'|') {
        pad_end + 1
    } else {
        pad_end
    };
    let content =
        parse_content(plain.get(start..).unwrap_or_default()).map_err(|_| OpenError::Garbled)?;
    // Anything after the message means the key did not fit (a wrong key yields random bytes
    // that may well hold a ']' but not a whole message); only a clean message without a
    // timestamp is a missing timestamp. Data is text, so control bytes in it mean the same.
    let control = |b: &u8| *b < 0x20 || *b == 0x7F;
    if !content.trailing.is_empty() || content.data.iter().any(control) {
        return Err(OpenError::Garbled);
    }
    if content.timestamp.is_none() {
        // Without a timestamp there is less to tell a message from the random bytes a wrong
        // key gives: a panel pads to the next block only (at most 16 bytes) and writes
        // ASCII, so anything else here is a wrong key, not a missing timestamp.
        if pad_end > crypto::BLOCK_BYTES || !content.data.is_ascii() {
            return Err(OpenError::Garbled);
        }
        return Err(OpenError::MissingTimestamp);
    }
    Ok(Message { header, content })
}

/// A message to send, as a panel (or a test) writes it.
#[derive(Clone, Debug)]
pub struct Outgoing<'a> {
    /// The token.
    pub token: TokenName,
    /// The sequence number, 0–9999.
    pub sequence: u16,
    /// The receiver number, if any.
    pub receiver: Option<&'a str>,
    /// The account prefix; `None` writes no `L` at all.
    pub prefix: Option<&'a str>,
    /// The account.
    pub account: &'a str,
    /// The data block's content.
    pub data: &'a [u8],
    /// Extended data blocks.
    pub xdata: &'a [XData],
    /// The timestamp; required when encrypting.
    pub timestamp: Option<Timestamp>,
}

/// Writes a whole frame for `message`, encrypted with `key` when one is given, with pad
/// bytes drawn from `pad`.
#[must_use]
pub fn encode(
    message: &Outgoing<'_>,
    key: Option<&Key>,
    pad: &mut dyn FnMut() -> u8,
    style: FrameStyle,
) -> Vec<u8> {
    let mut body = Vec::with_capacity(64 + message.data.len());
    body.push(b'"');
    if key.is_some() {
        body.push(b'*');
    }
    body.extend_from_slice(message.token.as_str().as_bytes());
    body.push(b'"');
    body.extend_from_slice(format!("{:04}", message.sequence % 10_000).as_bytes());
    if let Some(receiver) = message.receiver {
        body.push(b'R');
        body.extend_from_slice(receiver.as_bytes());
    }
    if let Some(prefix) = message.prefix {
        body.push(b'L');
        body.extend_from_slice(prefix.as_bytes());
    }
    body.push(b'#');
    body.extend_from_slice(message.account.as_bytes());
    body.push(b'[');
    let mut content = message.data.to_vec();
    content.push(b']');
    for block in message.xdata {
        content.extend_from_slice(&block.encode());
    }
    if let Some(stamp) = message.timestamp {
        content.push(b'_');
        content.extend_from_slice(stamp.to_string().as_bytes());
    }
    match key {
        Some(key) => body.extend_from_slice(crypto::seal(key, &content, true, pad).as_bytes()),
        None => body.extend_from_slice(&content),
    }
    encode_frame(&body, style)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::KeyForm;
    use crate::frame::decode_datagram;

    fn body_of(wire: &[u8]) -> Vec<u8> {
        decode_datagram(wire, 4095).unwrap().body().to_vec()
    }

    #[test]
    fn reads_a_plain_header_and_content() {
        let body = br#""SIA-DCS"0004R1A2L0#AAA[#AAA|Nri0/RP0000][Vhttp://a/1.jpg,http://a/2.jpg]_09:10:30,02-20-2023"#;
        let header = Header::parse(body).unwrap();
        assert_eq!(
            header.token,
            Token {
                name: TokenName::SiaDcs,
                encrypted: false
            }
        );
        assert_eq!(header.sequence, "0004");
        assert_eq!(header.receiver.as_deref(), Some("1A2"));
        assert_eq!(header.prefix, Prefix::Given("0".into()));
        assert_eq!(header.account.as_deref(), Some("AAA"));
        let message = open(body, header, None).unwrap();
        assert_eq!(message.content.data, b"#AAA|Nri0/RP0000");
        assert_eq!(
            message.content.xdata,
            vec![XData::Verification {
                urls: vec!["http://a/1.jpg".into(), "http://a/2.jpg".into()]
            }]
        );
        assert_eq!(
            message.content.timestamp.unwrap().to_string(),
            "09:10:30,02-20-2023"
        );
    }

    #[test]
    fn the_nak_header_is_recognised_before_the_prefix_trap() {
        let header = Header::parse(br#""NAK"0000R0L0A0[]_09:10:30,02-20-2023"#).unwrap();
        assert_eq!(header.token.name, TokenName::Nak);
        assert_eq!(header.account, None);
    }

    #[test]
    fn lenient_prefixes_are_recorded_as_such() {
        assert_eq!(
            Header::parse(br#""NULL"0001L#12[]"#).unwrap().prefix,
            Prefix::Empty
        );
        assert_eq!(
            Header::parse(br#""NULL"0001#12[]"#).unwrap().prefix,
            Prefix::Missing
        );
    }

    #[test]
    fn malformed_headers_say_which_field() {
        assert_eq!(Header::parse(b"SIA-DCS0001L0#1[]"), Err(HeaderError::Token));
        assert_eq!(
            Header::parse(br#""SIA-DCS"000AL0#1[]"#),
            Err(HeaderError::Sequence)
        );
        assert_eq!(
            Header::parse(br#""SIA-DCS"0001RL0#1[]"#),
            Err(HeaderError::Receiver)
        );
        assert_eq!(
            Header::parse(br#""SIA-DCS"0001L0#[]"#),
            Err(HeaderError::Account)
        );
        assert_eq!(
            Header::parse(br#""SIA-DCS"0001L0#12"#),
            Err(HeaderError::DataBlock)
        );
    }

    #[test]
    fn encrypted_round_trip_with_every_key_length() {
        for key_text in [
            "0123456789ABCDEF",
            "0123456789ABCDEF01234567",
            "0123456789ABCDEF0123456789ABCDEF",
        ] {
            let key = Key::parse(key_text, KeyForm::Ascii).unwrap();
            let stamp = Timestamp::from_unix_seconds(1_700_000_000);
            let outgoing = Outgoing {
                token: TokenName::AdmCid,
                sequence: 42,
                receiver: None,
                prefix: Some("0"),
                account: "1234",
                data: b"#1234|1130 01 015",
                xdata: &[],
                timestamp: Some(stamp),
            };
            let mut n = 0_u8;
            let wire = encode(
                &outgoing,
                Some(&key),
                &mut || {
                    n = n.wrapping_add(1);
                    n
                },
                FrameStyle::STANDARD,
            );
            let body = body_of(&wire);
            let header = Header::parse(&body).unwrap();
            assert!(header.token.encrypted);
            let message = open(&body, header.clone(), Some(&key)).unwrap();
            assert_eq!(message.content.data, b"#1234|1130 01 015");
            assert_eq!(message.content.timestamp, Some(stamp));
            for wrong in 0..64_u8 {
                let other = Key::from_bytes(&[wrong; 16]).unwrap();
                let error = open(&body, header.clone(), Some(&other)).unwrap_err();
                assert!(
                    matches!(error, OpenError::Garbled | OpenError::Ciphertext),
                    "{error:?}"
                );
            }
            assert_eq!(open(&body, header, None), Err(OpenError::NoKey));
        }
    }

    #[test]
    fn pads_without_a_bar_and_empty_data_are_read() {
        // Hikvision: *NULL decrypting to ppppppppppp]_timestamp with no '|'.
        let key = Key::parse("0123456789ABCDEF", KeyForm::Ascii).unwrap();
        let mut plain = b"ppppppppppppp]_09:10:30,02-20-2023".to_vec();
        assert_eq!(plain.len(), 34);
        plain.splice(0..0, std::iter::repeat_n(b'p', 14));
        crypto::encrypt(&key, &mut plain).unwrap();
        let body = format!("\"*NULL\"0001L0#12[{}", hex::encode(&plain));
        let header = Header::parse(body.as_bytes()).unwrap();
        let message = open(body.as_bytes(), header, Some(&key)).unwrap();
        assert!(message.content.data.is_empty());
        assert!(message.content.timestamp.is_some());
    }

    #[test]
    fn junk_after_the_frame_content_is_kept_not_fatal() {
        let body = br#""ADM-CID"0001L0#12[#12|1130 00 007]345678[] 2345678[] "#;
        let message = open(body, Header::parse(body).unwrap(), None).unwrap();
        assert_eq!(message.content.data, b"#12|1130 00 007");
        assert_eq!(message.content.trailing, b"345678[] 2345678[] ");
    }
}
