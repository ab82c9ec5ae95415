//! Fuzz target `record`: see `myco_tests::decoders::record` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| myco_tests::decoders::record(data));
