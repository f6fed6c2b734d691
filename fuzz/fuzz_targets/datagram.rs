//! Fuzzes the DC-09 datagram decoder and everything after it: see
//! `vakt_dc09::harness::datagram` for what must hold.

#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| vakt_dc09::harness::datagram(input));
