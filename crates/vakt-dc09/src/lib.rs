//! SIA DC-09 ("SIA-IP"), the way alarm panels report to an alarm receiving centre over IP.
//!
//! This crate is sans-I/O: bytes in, values out, and values back to bytes. Sockets, clocks
//! and random numbers live with the caller, which passes the current time and pad bytes in.
//! The receiver's path through it is:
//!
//! 1. [`frame::StreamDecoder`] (TCP) or [`frame::decode_datagram`] (UDP) finds whole frames
//!    by their length field and resynchronises on the next LF after garbage;
//! 2. [`message::Header::parse`] reads the token, sequence, receiver, prefix and account, so
//!    the caller can look up the account's key and [`Dialect`];
//! 3. [`frame::RawFrame::check`] verifies CRC and length in that dialect;
//! 4. [`message::open`] decrypts (AES-CBC, zero IV, [`crypto`]) and splits the content into
//!    data, extended data and timestamp;
//! 5. [`payload`] turns SIA DC-03 or Contact ID data into `vakt_core` events;
//! 6. [`response`] builds ACK, NAK and DUH exactly as the standard spells them.
//!
//! Real panels bend the standard in known ways (`reference/protocols.md` 1.12). Those that
//! cannot hurt a correct panel (lower-case hex, NUL bytes between frames) are always
//! accepted; the others are explicit per-account options in [`Dialect`].

pub mod crc;
pub mod crypto;
pub mod frame;
pub mod harness;
pub mod message;
pub mod payload;
pub mod response;
pub mod timestamp;

pub use crypto::{Key, KeyError, KeyForm};
pub use frame::{CrcForm, FrameError, FrameStyle, LengthForm, RawFrame, StreamDecoder};
pub use message::{Content, Header, Message, OpenError, Prefix, Token, TokenName, XData};
pub use timestamp::{Timestamp, Window};

/// Framing deviations a particular panel needs, each off unless switched on for its account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Dialect {
    /// The CRC is sent as two raw bytes instead of four hex characters (Lupus, Egardia).
    pub crc_binary: bool,
    /// The CRC covers the body and the closing CR (Eldes).
    pub crc_includes_cr: bool,
    /// The length field is decimal instead of hex (Eldes).
    pub length_decimal: bool,
    /// The `L` prefix may be empty or missing entirely (G90B, some diallers).
    pub prefix_optional: bool,
}

impl Dialect {
    /// Whether a frame of this shape is allowed for this dialect.
    #[must_use]
    pub fn allows(&self, style: FrameStyle, prefix: &Prefix) -> bool {
        (style.crc == CrcForm::Ascii || self.crc_binary)
            && (!style.crc_includes_cr || self.crc_includes_cr)
            && (style.length == LengthForm::Hex || self.length_decimal)
            && (matches!(prefix, Prefix::Given(_)) || self.prefix_optional)
    }
}

#[cfg(test)]
mod properties {
    //! Round trips: whatever a panel encodes, the receiver reads back unchanged, however
    //! the bytes are split across reads.

    use proptest::prelude::*;

    use crate::frame::{Decoded, decode_datagram};
    use crate::message::{Outgoing, encode, open};
    use crate::{
        CrcForm, FrameStyle, Header, Key, LengthForm, StreamDecoder, Timestamp, TokenName,
    };

    fn style() -> impl Strategy<Value = FrameStyle> {
        (any::<bool>(), any::<bool>()).prop_map(|(binary, cr)| FrameStyle {
            crc: if binary {
                CrcForm::Binary
            } else {
                CrcForm::Ascii
            },
            crc_includes_cr: cr,
            length: LengthForm::Hex,
        })
    }

    proptest! {
        #[test]
        fn encode_then_decode_gives_back_the_message(
            account in "[0-9A-F]{3,16}",
            sequence in 0_u16..10_000,
            receiver in proptest::option::of("[0-9A-F]{1,6}"),
            prefix in "[0-9A-F]{1,6}",
            data in "[#0-9A-Za-z|/ ^]{0,120}",
            seconds in 0_i64..4_102_444_800,
            key_bytes in proptest::option::of(prop_oneof![
                proptest::collection::vec(any::<u8>(), 16),
                proptest::collection::vec(any::<u8>(), 24),
                proptest::collection::vec(any::<u8>(), 32),
            ]),
            pad_seed in any::<u8>(),
            style in style(),
        ) {
            let key = key_bytes.map(|bytes| Key::from_bytes(&bytes).unwrap());
            let stamp = Timestamp::from_unix_seconds(seconds);
            let outgoing = Outgoing {
                token: TokenName::SiaDcs,
                sequence,
                receiver: receiver.as_deref(),
                prefix: Some(&prefix),
                account: &account,
                data: data.as_bytes(),
                xdata: &[],
                timestamp: Some(stamp),
            };
            let mut pad = pad_seed;
            let wire = encode(&outgoing, key.as_ref(), &mut || { pad = pad.wrapping_mul(31).wrapping_add(7); pad }, style);
            let frame = decode_datagram(&wire, 4095).unwrap();
            prop_assert_eq!(frame.check(true).unwrap(), style);
            let header = Header::parse(frame.body()).unwrap();
            prop_assert_eq!(header.account.as_deref(), Some(account.as_str()));
            prop_assert_eq!(header.sequence_number(), sequence);
            prop_assert_eq!(header.receiver.as_deref(), receiver.as_deref());
            let message = open(frame.body(), header, key.as_ref()).unwrap();
            prop_assert_eq!(message.content.data, data.as_bytes());
            prop_assert_eq!(message.content.timestamp, Some(stamp));
        }

        #[test]
        fn any_split_of_a_stream_yields_the_same_frames(
            count in 1_usize..6,
            cuts in proptest::collection::vec(1_usize..40, 1..20),
            junk in proptest::collection::vec(prop_oneof![Just(0_u8), Just(b'x'), Just(b'\r')], 0..8),
        ) {
            let mut stream = Vec::new();
            for sequence in 0..count {
                stream.extend_from_slice(&junk);
                let outgoing = Outgoing {
                    token: TokenName::AdmCid,
                    sequence: sequence as u16,
                    receiver: None,
                    prefix: Some("0"),
                    account: "1234",
                    data: b"#1234|1130 01 015",
                    xdata: &[],
                    timestamp: None,
                };
                stream.extend_from_slice(&encode(&outgoing, None, &mut || 0, FrameStyle::STANDARD));
            }
            let mut decoder = StreamDecoder::new(4095);
            let mut found = Vec::new();
            let mut rest = stream.as_slice();
            for cut in cuts.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (now, later) = rest.split_at((*cut).min(rest.len()));
                decoder.push(now);
                rest = later;
                while let Some(decoded) = decoder.next_frame() {
                    found.push(decoded);
                }
            }
            prop_assert_eq!(found.len(), count);
            for (sequence, decoded) in found.iter().enumerate() {
                let Decoded::Frame(frame) = decoded else { panic!("not a frame: {decoded:?}") };
                prop_assert_eq!(Header::parse(frame.body()).unwrap().sequence_number(), sequence as u16);
            }
        }
    }
}
