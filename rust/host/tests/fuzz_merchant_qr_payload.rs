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

/// The reason of an `InvalidField` refusal of field 62 (panics otherwise: test helper).
fn invalid_62(data: &[u8]) -> String {
    match QrMerchantOrder::check_payload(data) {
        Err(e @ HostError::InvalidField { field: 62, .. }) => {
            assert!(e.needs_reversal(), "an unusable answer is not believed");
            match e {
                HostError::InvalidField { reason, .. } => reason,
                _ => unreachable!(),
            }
        }
        other => panic!("expected InvalidField for 62, got {other:?}"),
    }
}

#[test]
fn every_bad_payload_is_invalid_field_62_saying_why() {
    // EMV QRCPS-MPM v1.1 §4.1: at most 512 characters.
    let mut long = String::from("000201");
    long.push_str(&"A".repeat(512 - 6 - 8));
    long.push_str("6304ABCD");
    assert_eq!(long.len(), 512);
    assert!(QrMerchantOrder::check_payload(long.as_bytes()).is_ok());
    let longer = long.replacen("A", "AB", 1);
    assert!(invalid_62(longer.as_bytes()).contains("513 bytes, more than 512"));

    assert!(invalid_62(b"000201\x07 6304ABCD").contains("U+0007 at offset 6"));
    assert!(invalid_62(b"0002\xC3(6304ABCD").contains("not UTF-8 at offset 4 (byte C3)"));
    // §4.2.1: the Payload Format Indicator first.
    assert!(invalid_62(b"0102016304ABCD").contains("000201"));
    // §4.7.1: the CRC last, 4 hex digits.
    assert!(invalid_62(b"0002016304ABCG").contains("6304"));
    assert!(invalid_62(b"000201").contains("6304"));
    assert!(invalid_62(SAMPLE.trim_end_matches("6304A13A").as_bytes()).contains("6304"));

    // An absent payload is a missing field, not an invalid one.
    assert!(matches!(
        QrMerchantOrder::check_payload(b""),
        Err(HostError::MissingField { field: 62, .. })
    ));
}
