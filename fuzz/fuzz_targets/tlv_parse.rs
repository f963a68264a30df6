//! Fuzz the BER-TLV reader, tree builder and search helpers (EMV Book 3 Annex B).
//! The body is `smartpos_tlv::fuzzing::tlv_parse`, which a proptest also runs on stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(broken) = smartpos_tlv::fuzzing::tlv_parse(data) {
        panic!("invariant broken: {broken}");
    }
});
