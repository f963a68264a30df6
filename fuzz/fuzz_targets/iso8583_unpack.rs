//! Fuzz the ISO 8583 unpacker (both built-in profiles) and the pack/JSON/pretty paths of whatever
//! unpacks. The body is `smartpos_iso8583::fuzzing::iso8583_unpack`, which a proptest also runs on
//! stable (rust/iso8583/tests/proptests.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(broken) = smartpos_iso8583::fuzzing::iso8583_unpack(data) {
        panic!("invariant broken: {broken}");
    }
});
