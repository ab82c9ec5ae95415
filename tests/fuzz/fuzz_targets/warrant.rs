//! Fuzz target `warrant`: see `myco_tests::decoders::warrant` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| myco_tests::decoders::warrant(data));
