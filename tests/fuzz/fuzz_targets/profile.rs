//! Fuzz target `profile`: see `myco_tests::decoders::profile` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| myco_tests::decoders::profile(data));
