//! Fuzz the check of the merchant-QR payload a host sends in field 62 of an order answer
//! (`QrMerchantOrder::check_payload`): what is accepted is the received bytes and framed as an
//! EMVCo MPM payload; every refusal names field 62. The body (fuzz/bodies/merchant_qr_payload.rs)
//! also runs as a proptest on stable (rust/host/tests/fuzz_merchant_qr_payload.rs).
#![no_main]

use smartpos_host::{HostError, QrMerchantOrder};

include!("../bodies/merchant_qr_payload.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(broken) = merchant_qr_payload(data) {
        panic!("invariant broken: {broken}");
    }
});
