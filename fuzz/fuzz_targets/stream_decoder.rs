//! Fuzzes the DC-09 stream decoder and everything after it: whatever bytes arrive, in
//! whatever pieces, decoding must not panic, must make progress, and every frame it returns
//! must be a whole LF…CR frame whose header, content and payload parsing do not panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vakt_dc09::frame::Decoded;
use vakt_dc09::message::{Header, open};
use vakt_dc09::payload::{parse_contact_id, parse_sia};
use vakt_dc09::{Key, StreamDecoder};

fuzz_target!(|input: &[u8]| {
    let Some((&split, bytes)) = input.split_first() else { return };
    let key = Key::from_bytes(&[7; 16]).ok();
    let mut decoder = StreamDecoder::new(4095);
    let piece = usize::from(split).max(1);
    for chunk in bytes.chunks(piece) {
        decoder.push(chunk);
        while let Some(decoded) = decoder.next_frame() {
            if let Decoded::Frame(frame) = decoded {
                assert_eq!(frame.wire.first(), Some(&b'\n'));
                assert_eq!(frame.wire.last(), Some(&b'\r'));
                let _ = frame.check(true);
                if let Ok(header) = Header::parse(frame.body()) {
                    if let Ok(message) = open(frame.body(), header, key.as_ref()) {
                        let _ = parse_sia(&message.content.data);
                        let _ = parse_contact_id(&message.content.data);
                    }
                }
            }
        }
        assert!(decoder.buffered() <= bytes.len());
    }
});
