//! What must hold for any bytes at all, checked by the fuzzer and by the tests.
//!
//! The fuzz targets in `fuzz/` call these functions on the bytes libFuzzer makes up; the
//! tests call them on every file of the corpus the fuzzer kept (`fuzz/corpus/`), so what a
//! fuzz run once found is checked again on every test run, on the stable toolchain. Each
//! function panics when a promise is broken: the decoders never panic, never hold more than
//! they were given, cut the same frames however the bytes are split, and every answer the
//! receiver would build from a frame they accept is itself a frame they accept.

#![allow(clippy::expect_used)]

use crate::frame::{BODY_BYTES_MAX, Decoded, RawFrame, decode_datagram};
use crate::message::{Header, open};
use crate::payload::{parse_contact_id, parse_sia};
use crate::response::{ack, duh, encrypted_ack};
use crate::{Key, StreamDecoder, Timestamp};

/// The key the harness decrypts with: a fuzzer finds frames encrypted with it by chance
/// rarely, but the corpus seeds hold some.
pub const KEY: [u8; 16] = *b"0123456789abcdef";

/// Decodes `bytes` pushed in pieces of `piece` bytes, draining after every push, and returns
/// everything decoded plus what is left buffered.
fn decode_in_pieces(bytes: &[u8], piece: usize) -> (Vec<Decoded>, usize) {
    let mut decoder = StreamDecoder::new(BODY_BYTES_MAX);
    let mut found = Vec::new();
    for chunk in bytes.chunks(piece.max(1)) {
        decoder.push(chunk);
        while let Some(decoded) = decoder.next_frame() {
            found.push(decoded);
        }
        assert!(
            decoder.buffered() <= bytes.len(),
            "the decoder holds more than it was given"
        );
    }
    (found, decoder.buffered())
}

/// A TCP stream: the first byte picks the piece size the rest arrives in. The frames found
/// must be the same as when everything arrives at once.
pub fn stream(input: &[u8]) {
    let Some((&split, bytes)) = input.split_first() else {
        return;
    };
    let (whole, left_whole) = decode_in_pieces(bytes, bytes.len());
    let (pieces, left_pieces) = decode_in_pieces(bytes, usize::from(split % 32) + 1);
    assert_eq!(
        whole, pieces,
        "the frames depend on how the bytes were split"
    );
    assert_eq!(left_whole, left_pieces);
    for decoded in &whole {
        if let Decoded::Frame(frame) = decoded {
            frame_and_answers(frame);
        }
    }
}

/// A UDP datagram.
pub fn datagram(input: &[u8]) {
    if let Ok(frame) = decode_datagram(input, BODY_BYTES_MAX) {
        frame_and_answers(&frame);
    }
}

/// The data block of a message, as both payload formats: the account is read exactly when
/// the data starts with `#`, no event comes without its code, and a Contact ID report that
/// says anything at all becomes exactly one event, so an operator sees that something came.
pub fn payload(input: &[u8]) {
    let sia = parse_sia(input);
    let contact_id = parse_contact_id(input);
    for parsed in [&sia, &contact_id] {
        assert_eq!(parsed.account.is_some(), input.first() == Some(&b'#'));
        assert!(parsed.events.iter().all(|e| !e.code.code.is_empty()));
    }
    let text = String::from_utf8_lossy(input);
    let report = match text.strip_prefix('#') {
        Some(rest) => rest.split_once('|').map_or("", |(_, report)| report),
        None => &text,
    };
    let expected = usize::from(!report.trim().is_empty());
    assert_eq!(contact_id.events.len(), expected, "Contact ID {input:?}");
}

/// Everything the receiver does with a frame, and the answers it would send, which must
/// decode to frames echoing the header.
fn frame_and_answers(frame: &RawFrame) {
    assert_eq!(frame.wire.first(), Some(&b'\n'));
    assert_eq!(frame.wire.last(), Some(&b'\r'));
    assert!(frame.body().len() <= BODY_BYTES_MAX);
    let style = frame.check(true).unwrap_or(frame.style);
    let Ok(header) = Header::parse(frame.body()) else {
        return;
    };
    let key = Key::from_bytes(&KEY).ok();
    for key in [None, key.as_ref()] {
        if let Ok(message) = open(frame.body(), header.clone(), key) {
            payload(&message.content.data);
        }
    }
    let now = Timestamp::from_unix_seconds(1_700_000_000);
    let mut pad = 0_u8;
    let mut next_pad = || {
        pad = pad.wrapping_add(37);
        pad
    };
    let mut answers = vec![ack(&header, style), duh(&header, style)];
    if let Some(key) = &key {
        answers.push(encrypted_ack(&header, key, now, &mut next_pad, style));
    }
    for answer in answers {
        let decoded = decode_datagram(&answer, BODY_BYTES_MAX)
            .unwrap_or_else(|e| panic!("an answer Vakt would send does not decode: {e:?}"));
        assert!(decoded.check(true).is_ok(), "an answer with a wrong CRC");
        let echoed = Header::parse(decoded.body()).expect("an answer whose header does not parse");
        assert_eq!(echoed.sequence, header.sequence);
        assert_eq!(echoed.account, header.account);
        assert_eq!(echoed.receiver, header.receiver);
    }
}

#[cfg(test)]
mod tests {
    //! Replays the fuzzer's corpus, kept in the repository, through the same checks.

    use std::path::Path;

    /// Fewer files than this in a target's corpus means the corpus went missing.
    const CORPUS_FILES_MIN: usize = 20;

    fn replay(target: &str, check: fn(&[u8])) {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/corpus")
            .join(target);
        let entries =
            std::fs::read_dir(&folder).unwrap_or_else(|e| panic!("{}: {e}", folder.display()));
        let mut count = 0;
        for entry in entries {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| check(&bytes));
            assert!(outcome.is_ok(), "{} breaks a promise", path.display());
            count += 1;
        }
        assert!(
            count >= CORPUS_FILES_MIN,
            "{target}: only {count} corpus files"
        );
    }

    #[test]
    fn the_stream_corpus_replays() {
        replay("stream", super::stream);
    }

    #[test]
    fn the_datagram_corpus_replays() {
        replay("datagram", super::datagram);
    }

    #[test]
    fn the_payload_corpus_replays() {
        replay("payload", super::payload);
    }
}
