//! Fuzz target `engine`: see `myco_tests::decoders::engine` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| myco_tests::decoders::engine(data));
