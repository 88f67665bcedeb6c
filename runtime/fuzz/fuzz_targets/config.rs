//! See `config` in the crate's lib.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| axle_fuzz::config(data));
