//! Fuzz target `pointer`: see `myco_tests::decoders::pointer` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| myco_tests::decoders::pointer(data));
