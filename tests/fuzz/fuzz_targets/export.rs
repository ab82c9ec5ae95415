//! Fuzz target `export`: see `myco_tests::decoders::export` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| myco_tests::decoders::export(data));
