//! Fuzz the journal's removal of card data from field 55 before a reversal or advice is queued
//! (`smartpos_journal::icc::strip_card_data`): what is kept is well-formed BER-TLV without any
//! card-data tag at any depth, keeps every other data object in order, and strips to itself.
//! The body (fuzz/bodies/strip_card_data.rs) also runs as a proptest on stable
//! (rust/journal/src/icc.rs tests).
#![no_main]

use smartpos_journal::icc::{CARD_DATA_TAGS, MAX_ICC_DATA, strip_card_data};

include!("../bodies/strip_card_data.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(broken) = strip_card_data_body(data) {
        panic!("invariant broken: {broken}");
    }
});
