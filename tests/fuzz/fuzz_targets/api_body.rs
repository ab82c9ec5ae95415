//! Fuzz target `api_body`: see `myco_tests::decoders::api_body` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| myco_tests::decoders::api_body(data));
