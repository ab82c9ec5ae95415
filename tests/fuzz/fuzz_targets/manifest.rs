//! Fuzz target `manifest`: see `myco_tests::decoders::manifest` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| myco_tests::decoders::manifest(data));
