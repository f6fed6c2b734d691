//! Finding whole DC-09 frames in a byte stream or a datagram, and writing frames.
//!
//! `LF crc 0LLL body CR`: the body runs from the opening quote of the token to the last byte
//! before CR, and the length field counts it. Frames are cut by that length, not at the
//! first CR, because some panels carry binary bytes inside the brackets. Bytes before an LF
//! (NULs after a CR, port scanners, line noise) are skipped and counted; an LF that does not
//! start a plausible header is skipped too, so the decoder always resynchronises on the next
//! frame.

use crate::crc::{crc16, crc16_with_cr};

/// The largest body a four-hex-digit length field can describe.
pub const BODY_BYTES_MAX: usize = 0x0FFF;
/// Bytes of an ASCII-CRC header: LF, four CRC digits, four length digits.
const ASCII_HEADER_BYTES: usize = 9;
/// Bytes of a binary-CRC header: LF, two CRC bytes, four length digits.
const BINARY_HEADER_BYTES: usize = 7;
/// Longest stretch of a bad frame kept for the journal.
const REJECTED_RAW_BYTES_MAX: usize = 512;

/// How the CRC is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CrcForm {
    /// Four ASCII hex digits, as the standard says.
    Ascii,
    /// Two raw bytes, high byte first (a dialect).
    Binary,
}

/// How the length is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LengthForm {
    /// `0LLL` in hex, as the standard says.
    Hex,
    /// Four decimal digits (a dialect).
    Decimal,
}

/// The shape of a frame's envelope; a response is written in the shape of its request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FrameStyle {
    /// How the CRC is written.
    pub crc: CrcForm,
    /// Whether the CRC covers the closing CR too.
    pub crc_includes_cr: bool,
    /// How the length is written.
    pub length: LengthForm,
}

impl FrameStyle {
    /// The standard's shape.
    pub const STANDARD: FrameStyle = FrameStyle {
        crc: CrcForm::Ascii,
        crc_includes_cr: false,
        length: LengthForm::Hex,
    };
}

impl Default for FrameStyle {
    fn default() -> FrameStyle {
        FrameStyle::STANDARD
    }
}

/// Why bytes that looked like a frame are not one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The length field promises more than allowed.
    #[error("length field says {declared} bytes, more than the limit of {limit}")]
    TooLong {
        /// What the length field said.
        declared: usize,
        /// The limit in force.
        limit: usize,
    },
    /// No CR where the length field says the frame ends.
    #[error("no CR where the length field ({declared} bytes) says the frame ends")]
    LengthMismatch {
        /// What the length field said.
        declared: usize,
    },
    /// A datagram that holds no complete frame.
    #[error("no complete frame in the datagram")]
    Truncated,
    /// The CRC does not match the body.
    #[error("CRC {received:04X} does not match the body's {computed:04X}")]
    BadCrc {
        /// The CRC in the frame.
        received: u16,
        /// The CRC of the body.
        computed: u16,
    },
}

/// A frame whose envelope is intact; its CRC is not checked yet (that needs the dialect).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawFrame {
    /// The whole frame as received, LF to CR.
    pub wire: Vec<u8>,
    /// The CRC as written in the frame.
    pub crc: u16,
    /// How the envelope was written.
    pub style: FrameStyle,
    body_start: usize,
}

impl RawFrame {
    /// The body: from the token's opening quote to the byte before CR.
    #[must_use]
    pub fn body(&self) -> &[u8] {
        let end = self.wire.len().saturating_sub(1);
        self.wire.get(self.body_start..end).unwrap_or_default()
    }

    /// Checks the CRC. With `crc_includes_cr_allowed`, a CRC over body and CR is accepted as
    /// well, and the returned style says which matched.
    ///
    /// # Errors
    /// [`FrameError::BadCrc`] when neither allowed form matches.
    pub fn check(&self, crc_includes_cr_allowed: bool) -> Result<FrameStyle, FrameError> {
        let computed = crc16(self.body());
        if computed == self.crc {
            return Ok(FrameStyle {
                crc_includes_cr: false,
                ..self.style
            });
        }
        if crc_includes_cr_allowed && crc16_with_cr(self.body()) == self.crc {
            return Ok(FrameStyle {
                crc_includes_cr: true,
                ..self.style
            });
        }
        Err(FrameError::BadCrc {
            received: self.crc,
            computed,
        })
    }
}

/// What the decoder found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decoded {
    /// A frame with an intact envelope.
    Frame(RawFrame),
    /// Bytes that started like a frame but are not one; kept for the journal.
    Rejected {
        /// Why.
        error: FrameError,
        /// The bytes, cut at [`REJECTED_RAW_BYTES_MAX`].
        raw: Vec<u8>,
    },
}

/// An incremental decoder for a TCP byte stream.
#[derive(Debug)]
pub struct StreamDecoder {
    buffer: Vec<u8>,
    body_bytes_max: usize,
    skipped_bytes: u64,
}

fn hex_value(digits: &[u8]) -> Option<usize> {
    digits.iter().try_fold(0_usize, |acc, &d| {
        let v = (d as char).to_digit(16)?;
        Some(acc * 16 + v as usize)
    })
}

fn decimal_value(digits: &[u8]) -> Option<usize> {
    digits.iter().try_fold(0_usize, |acc, &d| {
        let v = (d as char).to_digit(10)?;
        Some(acc * 10 + v as usize)
    })
}

enum Step {
    /// Drop this many leading bytes and look again.
    Skip(usize),
    /// More bytes are needed.
    Wait,
    /// A whole frame of this many bytes, with its CRC and style.
    Frame {
        bytes: usize,
        crc: u16,
        style: FrameStyle,
        body_start: usize,
    },
    /// A bad frame; drop its LF and look again.
    Reject(FrameError, usize),
}

impl StreamDecoder {
    /// A decoder that refuses bodies longer than `body_bytes_max` (at most [`BODY_BYTES_MAX`]
    /// unless a decimal-length dialect needs more).
    #[must_use]
    pub fn new(body_bytes_max: usize) -> StreamDecoder {
        StreamDecoder {
            buffer: Vec::new(),
            body_bytes_max,
            skipped_bytes: 0,
        }
    }

    /// Appends bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// Bytes buffered and not yet decoded.
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Bytes skipped as not belonging to any frame since the last call.
    pub fn take_skipped(&mut self) -> u64 {
        std::mem::take(&mut self.skipped_bytes)
    }

    /// The next frame or bad frame, or `None` when more bytes are needed.
    pub fn next_frame(&mut self) -> Option<Decoded> {
        loop {
            match self.step() {
                Step::Wait => return None,
                Step::Skip(count) => {
                    let skipped = self.buffer.get(..count).unwrap_or_default();
                    self.skipped_bytes += skipped.iter().filter(|&&b| b != 0).count() as u64;
                    self.buffer.drain(..count);
                }
                Step::Frame {
                    bytes,
                    crc,
                    style,
                    body_start,
                } => {
                    let wire: Vec<u8> = self.buffer.drain(..bytes).collect();
                    return Some(Decoded::Frame(RawFrame {
                        wire,
                        crc,
                        style,
                        body_start,
                    }));
                }
                Step::Reject(error, raw_bytes) => {
                    let raw_end = raw_bytes.min(REJECTED_RAW_BYTES_MAX).min(self.buffer.len());
                    let raw = self.buffer.get(..raw_end).unwrap_or_default().to_vec();
                    self.buffer.drain(..1);
                    return Some(Decoded::Rejected { error, raw });
                }
            }
        }
    }

    fn step(&self) -> Step {
        let buffer = &self.buffer;
        let Some(lf) = buffer.iter().position(|&b| b == b'\n') else {
            return if buffer.is_empty() {
                Step::Wait
            } else {
                Step::Skip(buffer.len())
            };
        };
        if lf > 0 {
            return Step::Skip(lf);
        }
        let at = |i: usize| buffer.get(i).copied();
        // Binary CRC: LF, two raw bytes, four length digits, then the quote at offset 7.
        let binary = at(7) == Some(b'"') && buffer.get(3..7).and_then(hex_value).is_some();
        let (header, crc, length_digits) = if binary {
            let crc = u16::from_be_bytes([at(1).unwrap_or(0), at(2).unwrap_or(0)]);
            (
                BINARY_HEADER_BYTES,
                crc,
                buffer.get(3..7).unwrap_or_default(),
            )
        } else {
            if buffer.len() < ASCII_HEADER_BYTES + 1 {
                // Wait for the rest of the header, unless what is here cannot start one.
                let ascii_so_far = buffer.iter().skip(1).take(8).all(u8::is_ascii_hexdigit);
                let binary_so_far =
                    buffer.len() < 8 && buffer.iter().skip(3).all(u8::is_ascii_hexdigit);
                return if ascii_so_far || binary_so_far {
                    Step::Wait
                } else {
                    Step::Skip(1)
                };
            }
            let crc = buffer.get(1..5).and_then(hex_value);
            let ascii = at(9) == Some(b'"') && buffer.get(5..9).and_then(hex_value).is_some();
            match (crc, ascii) {
                (Some(crc), true) => (
                    ASCII_HEADER_BYTES,
                    crc as u16,
                    buffer.get(5..9).unwrap_or_default(),
                ),
                _ => return Step::Skip(1),
            }
        };
        let crc_form = if binary {
            CrcForm::Binary
        } else {
            CrcForm::Ascii
        };
        let declared_hex = hex_value(length_digits).unwrap_or(0);
        let declared_decimal = decimal_value(length_digits);
        let ends_at = |declared: usize| at(header + declared) == Some(b'\r');
        let frame = |declared: usize, length: LengthForm| Step::Frame {
            bytes: header + declared + 1,
            crc,
            style: FrameStyle {
                crc: crc_form,
                crc_includes_cr: false,
                length,
            },
            body_start: header,
        };
        // A decimal length (a dialect) is taken when a CR stands where it says the frame
        // ends. Read as decimal, four digits are never more than read as hex, so that CR
        // comes first and the choice never waits for bytes that have not arrived; a hex
        // frame cannot hold a CR inside its body, so it is never misread this way.
        // Until the bytes that decide it are here, neither reading is chosen.
        if let Some(declared) =
            declared_decimal.filter(|&d| d != declared_hex && d <= self.body_bytes_max)
        {
            if buffer.len() <= header + declared {
                return Step::Wait;
            }
            if ends_at(declared) {
                return frame(declared, LengthForm::Decimal);
            }
        }
        if declared_hex > self.body_bytes_max {
            let limit = self.body_bytes_max;
            return Step::Reject(
                FrameError::TooLong {
                    declared: declared_hex,
                    limit,
                },
                header + 1,
            );
        }
        if buffer.len() <= header + declared_hex {
            return Step::Wait;
        }
        if ends_at(declared_hex) {
            return frame(declared_hex, LengthForm::Hex);
        }
        // The bytes the length field claimed (all here by now), or fewer when another frame
        // starts inside them: what is kept must not depend on how the bytes arrived.
        let claimed = header + declared_hex + 1;
        let raw_end = buffer
            .iter()
            .take(claimed)
            .skip(1)
            .position(|&b| b == b'\n')
            .map_or(claimed, |p| p + 1);
        Step::Reject(
            FrameError::LengthMismatch {
                declared: declared_hex,
            },
            raw_end,
        )
    }
}

/// Decodes one UDP datagram: one frame, possibly followed by NUL bytes.
///
/// # Errors
/// The reason, with the bytes, when the datagram holds no intact frame.
pub fn decode_datagram(datagram: &[u8], body_bytes_max: usize) -> Result<RawFrame, Decoded> {
    let mut decoder = StreamDecoder::new(body_bytes_max);
    decoder.push(datagram);
    match decoder.next_frame() {
        Some(Decoded::Frame(frame)) => Ok(frame),
        Some(rejected) => Err(rejected),
        None => Err(Decoded::Rejected {
            error: FrameError::Truncated,
            raw: datagram
                .get(..datagram.len().min(REJECTED_RAW_BYTES_MAX))
                .unwrap_or_default()
                .to_vec(),
        }),
    }
}

/// Wraps a body in `LF crc 0LLL … CR` in the given style.
#[must_use]
pub fn encode_frame(body: &[u8], style: FrameStyle) -> Vec<u8> {
    let crc = if style.crc_includes_cr {
        crc16_with_cr(body)
    } else {
        crc16(body)
    };
    let mut wire = Vec::with_capacity(body.len() + ASCII_HEADER_BYTES + 1);
    wire.push(b'\n');
    match style.crc {
        CrcForm::Ascii => wire.extend_from_slice(format!("{crc:04X}").as_bytes()),
        CrcForm::Binary => wire.extend_from_slice(&crc.to_be_bytes()),
    }
    match style.length {
        LengthForm::Hex => wire.extend_from_slice(format!("{:04X}", body.len()).as_bytes()),
        LengthForm::Decimal => wire.extend_from_slice(format!("{:04}", body.len()).as_bytes()),
    }
    wire.extend_from_slice(body);
    wire.push(b'\r');
    wire
}

#[cfg(test)]
mod tests {
    use super::*;

    const AJAX: &[u8] = b"\nB40B0039\"SIA-DCS\"0004L0#AAA[#AAA|Nri0/RP0000]_09:10:30,02-20-2023\r";

    fn frames(decoder: &mut StreamDecoder) -> Vec<Decoded> {
        std::iter::from_fn(|| decoder.next_frame()).collect()
    }

    #[test]
    fn a_real_frame_decodes_and_checks() {
        let frame = decode_datagram(AJAX, BODY_BYTES_MAX).unwrap();
        assert_eq!(frame.check(false).unwrap(), FrameStyle::STANDARD);
        assert_eq!(frame.body().len(), 0x39);
        assert_eq!(encode_frame(frame.body(), FrameStyle::STANDARD), AJAX);
    }

    #[test]
    fn split_across_reads_and_several_in_one_read() {
        let mut decoder = StreamDecoder::new(BODY_BYTES_MAX);
        for byte in AJAX {
            assert!(decoder.next_frame().is_none());
            decoder.push(&[*byte]);
        }
        assert!(matches!(decoder.next_frame(), Some(Decoded::Frame(_))));
        let mut twice = AJAX.to_vec();
        twice.extend_from_slice(AJAX);
        decoder.push(&twice);
        assert_eq!(frames(&mut decoder).len(), 2);
        assert_eq!(decoder.buffered(), 0);
    }

    #[test]
    fn garbage_and_nuls_between_frames_are_skipped() {
        let mut decoder = StreamDecoder::new(BODY_BYTES_MAX);
        decoder.push(b"GET / HTTP/1.1\r\n\0\0");
        decoder.push(AJAX);
        decoder.push(b"\0\0\0junk");
        decoder.push(AJAX);
        let found = frames(&mut decoder);
        assert_eq!(found.len(), 2);
        assert!(found.iter().all(|d| matches!(d, Decoded::Frame(_))));
        assert!(decoder.take_skipped() >= 18);
    }

    #[test]
    fn a_lying_length_is_rejected_and_the_next_frame_still_found() {
        let mut bad = AJAX.to_vec();
        bad[8] = b'8'; // 0038: one byte short, so no CR at the end.
        let mut decoder = StreamDecoder::new(BODY_BYTES_MAX);
        decoder.push(&bad);
        decoder.push(AJAX);
        let found = frames(&mut decoder);
        assert!(matches!(
            found[0],
            Decoded::Rejected {
                error: FrameError::LengthMismatch { declared: 0x38 },
                ..
            }
        ));
        assert!(matches!(found.last(), Some(Decoded::Frame(_))));
    }

    #[test]
    fn oversized_length_is_refused_without_waiting() {
        let mut decoder = StreamDecoder::new(256);
        decoder.push(b"\nB40B0FFF\"SIA-DCS\"");
        assert!(matches!(
            decoder.next_frame(),
            Some(Decoded::Rejected {
                error: FrameError::TooLong { .. },
                ..
            })
        ));
    }

    #[test]
    fn binary_crc_and_decimal_length_dialects() {
        let body = br#""ADM-CID"0247L0#1234[#1234|1130 01 015]"#;
        assert_eq!(body.len(), 39);
        let style = FrameStyle {
            crc: CrcForm::Binary,
            crc_includes_cr: true,
            length: LengthForm::Decimal,
        };
        let wire = encode_frame(body, style);
        assert_eq!(&wire[3..7], b"0039");
        let frame = decode_datagram(&wire, BODY_BYTES_MAX).unwrap();
        assert_eq!(frame.style.crc, CrcForm::Binary);
        assert_eq!(frame.style.length, LengthForm::Decimal);
        assert!(frame.check(false).is_err());
        assert_eq!(frame.check(true).unwrap(), style);
    }

    #[test]
    fn bad_crc_is_reported() {
        let mut bad = AJAX.to_vec();
        bad[1] = b'C';
        let frame = decode_datagram(&bad, BODY_BYTES_MAX).unwrap();
        assert_eq!(
            frame.check(true),
            Err(FrameError::BadCrc {
                received: 0xC40B,
                computed: 0xB40B
            })
        );
    }

    #[test]
    fn lower_case_hex_in_the_envelope_is_accepted() {
        let lower = String::from_utf8(AJAX.to_vec())
            .unwrap()
            .replacen("B40B", "b40b", 1);
        let frame = decode_datagram(lower.as_bytes(), BODY_BYTES_MAX).unwrap();
        assert!(frame.check(false).is_ok());
    }
}
