//! CPM against the published vector and negative cases.

use smartpos_qr::QrError;
use smartpos_qr::cpm::{CpmApplication, CpmPayload, DataObject, Pan, Track2};
use smartpos_tlv::Tag;

// id: qr-cpm-emvco-example1
// source: kenmaz/JPQRReader JPQRReaderTests/CPMDecoderTests.swift testEMVCPM_Example1 (EMVCo
// QRCPS-CPM example with track 2 equivalent data)
const EXAMPLE1: &str = "hQVDUFYwMWEaTwegAAAAVVVVVw8SNFZ4kBI0WNGRIgESNF8=";
const EXAMPLE1_HEX: &str = "85054350563031611A4F07A0000000555555570F1234567890123458D191220112345F";

#[test]
fn example1_decodes_to_the_published_fields() {
    let payload = CpmPayload::parse(EXAMPLE1).unwrap();
    assert_eq!(payload.applications.len(), 1);
    assert!(payload.common.is_none());
    assert_eq!(
        payload.aid(),
        Some(&hex::decode("A0000000555555").unwrap()[..])
    );
    let track2 = payload.track2().unwrap();
    assert_eq!(track2.pan().digits(), "1234567890123458");
    assert_eq!(track2.expiry(), "1912");
    assert_eq!(track2.service_code(), "201");
    assert_eq!(track2.discretionary(), "12345");
    assert_eq!(payload.pan().unwrap().digits(), "1234567890123458");
    assert!(payload.icc_data().is_empty());
    // re-encoding gives the published bytes
    assert_eq!(hex::encode_upper(payload.to_bytes()), EXAMPLE1_HEX);
    assert_eq!(payload.to_base64().unwrap(), EXAMPLE1);
    // no PAN in Debug
    let debug = format!("{payload:?}");
    assert!(!debug.contains("1234567890123458"), "{debug}");
}

fn simulated_phone() -> CpmPayload {
    let pan = Pan::new("6212345678901232", "5A").unwrap();
    let track2 = Track2::new(pan.clone(), "2812", "220", "00000").unwrap();
    CpmPayload {
        applications: vec![CpmApplication {
            aid: Some(hex::decode("A000000333010101").unwrap()),
            label: Some("UnionPay Debit".into()),
            track2: Some(track2),
            pan: Some(pan),
            application_version: Some(vec![0x00, 0x30]),
            icc_data: vec![
                DataObject::new(Tag(0x9F26), hex::decode("584FD385FA234BCC").unwrap()),
                DataObject::new(Tag(0x9F27), vec![0x80]),
                DataObject::new(Tag(0x9F10), hex::decode("06010A03000000").unwrap()),
                DataObject::new(Tag(0x9F36), vec![0x00, 0x01]),
                DataObject::new(Tag(0x82), vec![0x1C, 0x00]),
                DataObject::new(Tag(0x9F37), hex::decode("6D58EF13").unwrap()),
            ],
            ..CpmApplication::default()
        }],
        common: Some(CpmApplication {
            cardholder_name: Some("CARDHOLDER/EMV".into()),
            language_preference: Some("zhen".into()),
            icc_data: vec![
                DataObject::new(Tag(0x9F36), vec![0x00, 0x02]),
                DataObject::new(Tag(0x5F34), vec![0x01]),
            ],
            ..CpmApplication::default()
        }),
    }
}

#[test]
fn encode_then_decode_round_trips_and_feeds_field55() {
    let phone = simulated_phone();
    let text = phone.to_base64().unwrap();
    let back = CpmPayload::parse(&text).unwrap();
    assert_eq!(back, phone);
    // application's 9F36 wins over the common one; common-only 5F34 is appended
    let tags: Vec<u32> = back.icc_data().iter().map(|d| d.tag.0).collect();
    assert_eq!(tags, [0x9F26, 0x9F27, 0x9F10, 0x9F36, 0x82, 0x9F37, 0x5F34]);
    let f55 = back.field55();
    assert!(
        hex::encode_upper(&f55)
            .starts_with("9F2608584FD385FA234BCC9F2701809F100706010A030000009F360200018202")
    );
    assert!(hex::encode_upper(&f55).ends_with("5F340101"));
    let objects = smartpos_tlv::parse_all(&f55).unwrap();
    assert_eq!(objects.len(), 7);
}

fn b64(hex_str: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(hex::decode(hex_str).unwrap())
}

#[test]
fn malformed_payloads_are_named() {
    assert!(matches!(
        CpmPayload::parse("not base64!"),
        Err(QrError::CpmBase64 { .. })
    ));
    assert!(matches!(CpmPayload::parse(""), Err(QrError::Empty)));
    // wrong format indicator
    assert!(matches!(
        CpmPayload::parse(&b64("85054350563032611A4F07A0000000555555570F1234567890123458D191220112345F")),
        Err(QrError::CpmInvalid { ref tag, .. }) if tag == "85"
    ));
    // 61 first
    assert!(matches!(
        CpmPayload::parse(&b64("611A4F07A0000000555555570F1234567890123458D191220112345F")),
        Err(QrError::CpmInvalid { ref tag, .. }) if tag == "61"
    ));
    // no application template
    assert!(matches!(
        CpmPayload::parse(&b64("85054350563031")),
        Err(QrError::CpmMissingTag { tag: "61", .. })
    ));
    // application without 4F
    assert!(matches!(
        CpmPayload::parse(&b64("850543505630316111570F1234567890123458D191220112345F")),
        Err(QrError::CpmMissingTag { tag: "4F", .. })
    ));
    // neither 57 nor 5A
    assert!(matches!(
        CpmPayload::parse(&b64("8505435056303161094F07A0000000555555")),
        Err(QrError::CpmMissingTag { tag: "57", .. })
    ));
    // truncated TLV
    assert!(matches!(
        CpmPayload::parse(&b64("85054350563031611A4F07A0000000555555570F12345678")),
        Err(QrError::CpmTlv { .. })
    ));
    // unknown top-level tag
    assert!(matches!(
        CpmPayload::parse(&b64("85054350563031611A4F07A0000000555555570F1234567890123458D191220112345F9F0101FF")),
        Err(QrError::CpmInvalid { ref tag, .. }) if tag == "9F01"
    ));
    // duplicate 57 within the template
    assert!(matches!(
        CpmPayload::parse(&b64("85054350563031612B4F07A0000000555555570F1234567890123458D191220112345F570F1234567890123458D191220112345F")),
        Err(QrError::CpmInvalid { ref tag, .. }) if tag == "57"
    ));
    // bad track 2 (month 13): error must not echo the PAN
    let err = CpmPayload::parse(&b64(
        "85054350563031611A4F07A0000000555555570F1234567890123458D191320112345F",
    ))
    .unwrap_err();
    assert!(matches!(err, QrError::CpmInvalid { ref tag, .. } if tag == "57"));
    assert!(!err.to_string().contains("1234567890"));
}

// EMVCo QRCPS-CPM example with two application templates and a common data template.
// source: mvallim/emv-qrcode @0ee851ab10851b62e339302f4b90ba28f3a653c2
// src/test/java/com/emv/qrcode/decoder/cpm/ConsumerPresentedModeDecoderTest.java testSuccessDecode
const TWO_APPS: &str = "hQVDUFYwMWETTwegAAAAVVVVUAhQcm9kdWN0MWETTwegAAAAZmZmUAhQcm9kdWN0MmJJWggSNFZ4kBI0WF8gDkNBUkRIT0xERVIvRU1WXy0IcnVlc2RlZW5kIZ8QBwYBCgMAAACfJghYT9OF+iNLzJ82AgABnzcEbVjvEw==";
const TWO_APPS_HEX: &str = "8505435056303161134F07A0000000555555500850726F647563743161134F07A0000000666666500850726F647563743262495A0812345678901234585F200E43415244484F4C4445522F454D565F2D08727565736465656E64219F100706010A030000009F2608584FD385FA234BCC9F360200019F37046D58EF13";

#[test]
fn two_applications_and_common_data() {
    let payload = CpmPayload::parse(TWO_APPS).unwrap();
    assert_eq!(payload.applications.len(), 2);
    assert_eq!(
        payload.applications[0].aid.as_deref(),
        Some(&hex::decode("A0000000555555").unwrap()[..])
    );
    assert_eq!(payload.applications[0].label.as_deref(), Some("Product1"));
    assert_eq!(
        payload.applications[1].aid.as_deref(),
        Some(&hex::decode("A0000000666666").unwrap()[..])
    );
    assert_eq!(payload.applications[1].label.as_deref(), Some("Product2"));
    let common = payload.common.as_ref().unwrap();
    assert_eq!(common.pan.as_ref().unwrap().digits(), "1234567890123458");
    assert_eq!(common.cardholder_name.as_deref(), Some("CARDHOLDER/EMV"));
    assert_eq!(common.language_preference.as_deref(), Some("ruesdeen"));
    assert!(payload.track2().is_none());
    assert_eq!(payload.pan().unwrap().digits(), "1234567890123458");
    // The common transparent template (64) is the ICC data for field 55.
    assert_eq!(
        hex::encode_upper(payload.field55()),
        "9F100706010A030000009F2608584FD385FA234BCC9F360200019F37046D58EF13"
    );
    assert_eq!(hex::encode_upper(payload.to_bytes()), TWO_APPS_HEX);
    assert_eq!(payload.to_base64().unwrap(), TWO_APPS);
    let debug = format!("{payload:?}");
    assert!(
        !debug.contains("1234567890123458") && !debug.contains("CARDHOLDER"),
        "{debug}"
    );
}
