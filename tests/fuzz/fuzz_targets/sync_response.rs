//! Fuzz target `sync_response`: see `myco_tests::decoders::sync_response` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| myco_tests::decoders::sync_response(data));
