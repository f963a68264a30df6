//! Fuzz every QR parser through the top-level entry point (MPM, CPM, wallet codes), plus MPM
//! without the CRC check and CPM from raw BER-TLV bytes; whatever parses must regenerate to the
//! same model. The body is `smartpos_qr::fuzzing::qr_parse`, which a proptest also runs on stable
//! (rust/qr/tests/proptests.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(broken) = smartpos_qr::fuzzing::qr_parse(data) {
        panic!("invariant broken: {broken}");
    }
});
