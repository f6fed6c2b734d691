//! The receiver's answers, byte for byte as DC-09 spells them.
//!
//! - ACK echoes the sequence, receiver (only when the panel sent one), prefix and account as
//!   received, with an empty data block: `"ACK"0001L0#1234[]`. To an encrypted message the
//!   answer is `*ACK`, whose data block is the encrypted `pad | ] _timestamp`.
//! - NAK is the one answer with fixed fields, `"NAK"0000R0L0A0[]_<receiver time>`, never
//!   encrypted: the panel corrects its clock from that time.
//! - DUH echoes the header like ACK, never encrypted.

use crate::crypto::{self, Key};
use crate::frame::{FrameStyle, encode_frame};
use crate::message::Header;
use crate::timestamp::Timestamp;

/// The kind of answer sent to a panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// ACK (or *ACK).
    Ack,
    /// NAK with the receiver's time.
    Nak,
    /// DUH.
    Duh,
    /// Nothing was sent.
    None,
}

impl Answer {
    /// The stable name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Ack => "ack",
            Answer::Nak => "nak",
            Answer::Duh => "duh",
            Answer::None => "none",
        }
    }
}

/// The ACK to a plain message.
#[must_use]
pub fn ack(header: &Header, style: FrameStyle) -> Vec<u8> {
    let mut body = header.echo("ACK");
    body.extend_from_slice(b"[]");
    encode_frame(&body, style)
}

/// The `*ACK` to an encrypted message: its data block is `pad | ] _now`, encrypted.
#[must_use]
pub fn encrypted_ack(
    header: &Header,
    key: &Key,
    now: Timestamp,
    pad: &mut dyn FnMut() -> u8,
    style: FrameStyle,
) -> Vec<u8> {
    let mut body = header.echo("*ACK");
    body.push(b'[');
    let content = format!("]_{now}");
    body.extend_from_slice(crypto::seal(key, content.as_bytes(), true, pad).as_bytes());
    encode_frame(&body, style)
}

/// The NAK, carrying the receiver's time.
#[must_use]
pub fn nak(now: Timestamp, style: FrameStyle) -> Vec<u8> {
    let body = format!("\"NAK\"0000R0L0A0[]_{now}");
    encode_frame(body.as_bytes(), style)
}

/// The DUH to a message the receiver cannot process.
#[must_use]
pub fn duh(header: &Header, style: FrameStyle) -> Vec<u8> {
    let mut body = header.echo("DUH");
    body.extend_from_slice(b"[]");
    encode_frame(&body, style)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::KeyForm;
    use crate::frame::{CrcForm, LengthForm, decode_datagram};
    use crate::message::open;

    fn header(body: &str) -> Header {
        Header::parse(body.as_bytes()).unwrap()
    }

    fn text(wire: &[u8]) -> String {
        String::from_utf8(wire.to_vec())
            .unwrap()
            .replace('\n', "\\n")
            .replace('\r', "\\r")
    }

    #[test]
    // The expected frames were computed with an independent DC-09 implementation (PyPI).
    fn responses_snapshot() {
        let now = Timestamp::parse(b"16:08:12,04-14-2015").unwrap();
        let plain = header(r#""SIA-DCS"0004L0#AAA[#AAA|Nri0/RP0000]"#);
        let with_receiver =
            header(r#""ADM-CID"9999R5678L1234#080027e62a64[#080027e62a64|1130 01 001]"#);
        let loose = header(r#""NULL"0000L#1409[]"#);
        let binary = FrameStyle {
            crc: CrcForm::Binary,
            crc_includes_cr: false,
            length: LengthForm::Hex,
        };
        let eldes = FrameStyle {
            crc: CrcForm::Ascii,
            crc_includes_cr: true,
            length: LengthForm::Decimal,
        };
        insta::assert_snapshot!(
            [
                text(&ack(&plain, FrameStyle::STANDARD)),
                text(&ack(&with_receiver, FrameStyle::STANDARD)),
                text(&ack(&loose, FrameStyle::STANDARD)),
                text(&duh(&plain, FrameStyle::STANDARD)),
                text(&duh(&with_receiver, FrameStyle::STANDARD)),
                text(&nak(now, FrameStyle::STANDARD)),
                text(&ack(&plain, eldes)),
                format!("{:?}", ack(&plain, binary)),
            ]
            .join("\n"),
            @r#"
        \n37100011"ACK"0004L0#AAA[]\r
        \nF23C0022"ACK"9999R5678L1234#080027e62a64[]\r
        \nAA150011"ACK"0000L#1409[]\r
        \n69460011"DUH"0004L0#AAA[]\r
        \n1A5B0022"DUH"9999R5678L1234#080027e62a64[]\r
        \n66A50025"NAK"0000R0L0A0[]_16:08:12,04-14-2015\r
        \n09F70017"ACK"0004L0#AAA[]\r
        [10, 55, 16, 48, 48, 49, 49, 34, 65, 67, 75, 34, 48, 48, 48, 52, 76, 48, 35, 65, 65, 65, 91, 93, 13]
        "#
        );
    }

    #[test]
    fn an_encrypted_ack_decrypts_to_pad_bar_bracket_and_time() {
        let key = Key::parse("0123456789ABCDEF0123456789ABCDEF", KeyForm::Hex).unwrap();
        let now = Timestamp::parse(b"16:08:12,04-14-2015").unwrap();
        let request = header(r#""*SIA-DCS"0001R5678L1234#080027E62A64[00]"#);
        let wire = encrypted_ack(&request, &key, now, &mut || 0x41, FrameStyle::STANDARD);
        assert!(wire.starts_with(b"\n"));
        let frame = decode_datagram(&wire, 4095).unwrap();
        frame.check(false).unwrap();
        assert!(
            frame
                .body()
                .starts_with(br#""*ACK"0001R5678L1234#080027E62A64["#)
        );
        let parsed = Header::parse(frame.body()).unwrap();
        let message = open(frame.body(), parsed, Some(&key)).unwrap();
        assert!(message.content.data.is_empty());
        assert_eq!(message.content.timestamp, Some(now));
    }
}
