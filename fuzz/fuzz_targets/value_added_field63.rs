//! Fuzz the host's reader of field 63 value-added data (`ValueAddedData::from_field63`, the
//! `VAD` sub-elements of smartpos_host::dialect): whatever parses re-encodes to a field of the
//! same length that parses back to the same data. The body (fuzz/bodies/value_added_field63.rs)
//! also runs as a proptest on stable (rust/host/tests/fuzz_value_added.rs).
#![no_main]

use smartpos_host::request::ValueAddedData;

include!("../bodies/value_added_field63.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(broken) = value_added_field63(data) {
        panic!("invariant broken: {broken}");
    }
});
