//! Fuzzes the DC-09 stream decoder and everything after it (header, content, payloads, the
//! answers): see `vakt_dc09::harness::stream` for what must hold.

#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| vakt_dc09::harness::stream(input));
