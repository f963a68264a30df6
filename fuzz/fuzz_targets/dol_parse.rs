//! Fuzz DOL parsing, building and splitting (EMV Book 3 §5.4).
//! The body is `smartpos_tlv::fuzzing::dol_parse`, which a proptest also runs on stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(broken) = smartpos_tlv::fuzzing::dol_parse(data) {
        panic!("invariant broken: {broken}");
    }
});
