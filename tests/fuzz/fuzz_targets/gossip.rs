//! Fuzz target `gossip`: see `myco_tests::decoders::gossip` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| myco_tests::decoders::gossip(data));
