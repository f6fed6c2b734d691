//! Fuzzes the SIA DC-03 and Contact ID payload decoders: see `vakt_dc09::harness::payload`
//! for what must hold.

#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| vakt_dc09::harness::payload(input));
