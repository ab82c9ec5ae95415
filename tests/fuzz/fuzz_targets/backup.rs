//! Fuzz target `backup`: see `myco_tests::decoders::backup` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| myco_tests::decoders::backup(data));
