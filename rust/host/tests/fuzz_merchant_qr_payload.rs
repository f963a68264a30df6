//! The `merchant_qr_payload` fuzz target's body (fuzz/bodies/merchant_qr_payload.rs) on stable:
//! the check of the EMVCo MPM payload a host sends in field 62 of a merchant-QR order answer,
//! on random bytes, random text and a valid payload with one byte changed.

use proptest::collection::vec;
use proptest::prelude::*;
use smartpos_host::{HostError, QrMerchantOrder};

include!("../../../fuzz/bodies/merchant_qr_payload.rs");

// Published vector id: qr-mpm-emvco-sample; source: EMVCo QRCPS-MPM specification sample
// payload (mvallim/emv-qrcode CRCTest.java, dongri/emv-qrcode emv_mpm_test.go), CRC A13A.
const SAMPLE: &str = "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn fuzz_body_on_bytes(bytes in vec(any::<u8>(), 0..600)) {
        merchant_qr_payload(&bytes).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn fuzz_body_on_framed_text(middle in "\\PC{0,80}", crc in "[0-9A-Fa-fG]{4}") {
        let text = format!("000201{middle}6304{crc}");
        merchant_qr_payload(text.as_bytes()).map_err(TestCaseError::fail)?;
        let ok = QrMerchantOrder::check_payload(text.as_bytes()).is_ok();
        prop_assert_eq!(ok, !crc.contains('G') && !middle.chars().any(char::is_control));
    }

    #[test]
    fn fuzz_body_on_mutated_payloads(at in any::<usize>(), byte in any::<u8>()) {
        let mut data = SAMPLE.as_bytes().to_vec();
        let i = at % data.len();
        data[i] = byte;
        merchant_qr_payload(&data).map_err(TestCaseError::fail)?;
    }
}

#[test]
fn the_published_payload_is_accepted_as_received() {
    assert_eq!(
        QrMerchantOrder::check_payload(SAMPLE.as_bytes()).ok(),
        Some(SAMPLE)
    );
    merchant_qr_payload(SAMPLE.as_bytes()).expect("invariants hold");
}
