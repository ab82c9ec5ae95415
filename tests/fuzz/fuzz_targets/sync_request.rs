//! Fuzz target `sync_request`: see `myco_tests::decoders::sync_request` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| myco_tests::decoders::sync_request(data));
