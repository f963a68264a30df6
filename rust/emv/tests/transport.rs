//! APDU encoding (ISO/IEC 7816-4 cases 1-4), status words, the T=0 channel rules (EMV Book 1
//! §9.3.1: 61xx and 6Cxx), the scripted card and the masked trace.
use smartpos_emv::transport::{CardScript, Channel, ScriptedCard, TransportError};
use smartpos_emv::{Apdu, CardTransport, StatusWord};

#[test]
fn apdu_cases_encode_and_decode() {
    let cases = [
        (
            Apdu::new(0x00, 0x82, 0x00, 0x00, vec![]),
            "00820000",
            smartpos_emv::apdu::ApduCase::Case1,
        ),
        (
            Apdu::new(0x00, 0x84, 0x00, 0x00, vec![]).with_le(0),
            "0084000000",
            smartpos_emv::apdu::ApduCase::Case2,
        ),
        (
            Apdu::new(0x00, 0x82, 0x00, 0x00, vec![0xAA, 0xBB]),
            "0082000002AABB",
            smartpos_emv::apdu::ApduCase::Case3,
        ),
        (
            Apdu::select(b"1PAY.SYS.DDF01", false),
            "00A404000E315041592E5359532E444446303100",
            smartpos_emv::apdu::ApduCase::Case4,
        ),
    ];
    for (apdu, hex_cmd, case) in cases {
        assert_eq!(hex::encode_upper(apdu.encode().unwrap()), hex_cmd);
        assert_eq!(apdu.case(), case);
        assert_eq!(Apdu::decode(&hex::decode(hex_cmd).unwrap()).unwrap(), apdu);
    }
    assert_eq!(
        hex::encode_upper(Apdu::read_record(1, 2).encode().unwrap()),
        "00B2020C00"
    );
    assert_eq!(
        hex::encode_upper(Apdu::get_data(0x9F17).encode().unwrap()),
        "80CA9F1700"
    );
    assert!(Apdu::new(0, 0, 0, 0, vec![0; 256]).encode().is_err());
    assert!(Apdu::decode(&[0x00, 0xA4]).is_err());
    assert!(Apdu::decode(&hex::decode("00A4040005A000").unwrap()).is_err());
}

#[test]
fn status_word_meanings() {
    let table = [
        (0x90, 0x00, StatusWord::Success),
        (0x62, 0x83, StatusWord::SelectedFileInvalidated),
        (0x6A, 0x81, StatusWord::FunctionNotSupported),
        (0x6A, 0x82, StatusWord::FileNotFound),
        (0x6A, 0x83, StatusWord::RecordNotFound),
        (0x69, 0x85, StatusWord::ConditionsNotSatisfied),
        (0x63, 0xC2, StatusWord::PinTriesLeft(2)),
        (0x69, 0x83, StatusWord::AuthenticationBlocked),
        (0x69, 0x84, StatusWord::ReferenceDataInvalidated),
        (0x61, 0x10, StatusWord::MoreData(0x10)),
        (0x6C, 0x08, StatusWord::WrongLe(8)),
        (0x6D, 0x00, StatusWord::InsNotSupported),
        (0x63, 0x00, StatusWord::Warning(0x63, 0x00)),
        (0x6F, 0x00, StatusWord::Other(0x6F, 0x00)),
    ];
    for (a, b, want) in table {
        assert_eq!(StatusWord::from_sw(a, b), want, "{a:02X}{b:02X}");
    }
    assert!(
        StatusWord::PinTriesLeft(2)
            .to_string()
            .contains("2 tries left")
    );
}

#[test]
fn t0_get_response_and_wrong_le() {
    let mut card = ScriptedCard::from_pairs(
        "3B00",
        &[
            ("80A8000002830000", "6108"),
            ("00C0000008", "80061000080101009000"),
            ("80CA9F1700", "6C04"),
            ("80CA9F1704", "9F1701039000"),
        ],
    )
    .unwrap();
    let mut ch = Channel::new(&mut card);
    let r = ch.transmit(&Apdu::get_processing_options(&[])).unwrap();
    assert_eq!(hex::encode_upper(&r.data), "8006100008010100");
    assert!(r.is_ok());
    let r = ch.transmit(&Apdu::get_data(0x9F17)).unwrap();
    assert_eq!(r.data, vec![0x9F, 0x17, 0x01, 0x03]);
    assert_eq!(ch.trace().len(), 4);
}

#[test]
fn chained_61xx_data_is_concatenated() {
    let mut card = ScriptedCard::from_pairs(
        "3B00",
        &[
            ("00B2010C00", "700A6104"),
            ("00C0000004", "5A0247616102"),
            ("00C0000002", "01029000"),
        ],
    )
    .unwrap();
    let mut ch = Channel::new(&mut card);
    let r = ch.transmit(&Apdu::read_record(1, 1)).unwrap();
    assert_eq!(hex::encode_upper(&r.data), "700A5A0247610102");
    assert_eq!(r.sw(), 0x9000);
}

#[test]
fn looping_card_is_stopped() {
    let pairs: Vec<(&str, &str)> = std::iter::once(("00B2010C00", "6101"))
        .chain(std::iter::repeat_n(("00C0000001", "6101"), 40))
        .collect();
    let mut card = ScriptedCard::from_pairs("3B00", &pairs).unwrap();
    let mut ch = Channel::new(&mut card);
    assert!(matches!(
        ch.transmit(&Apdu::read_record(1, 1)),
        Err(TransportError::TooManyChainedResponses(_))
    ));
}

#[test]
fn scripted_card_patterns_and_errors() {
    let json = r#"{"atr":"3B6500002063CB6A00","exchanges":[
        {"command":"00A40400*","response":"6A82"},
        {"command":"00B2010C00","response":"REMOVED"}]}"#;
    let mut card = ScriptedCard::from_json(json).unwrap();
    assert_eq!(card.atr(), &hex::decode("3B6500002063CB6A00").unwrap()[..]);
    let r = card
        .exchange(&Apdu::select(&[0xA0, 0, 0, 0, 3], false))
        .unwrap();
    assert_eq!(r.sw(), 0x6A82);
    assert_eq!(
        card.exchange(&Apdu::read_record(1, 1)),
        Err(TransportError::CardRemoved)
    );
    assert!(matches!(
        card.exchange(&Apdu::read_record(1, 2)),
        Err(TransportError::ScriptExhausted(_))
    ));

    let mut card = ScriptedCard::from_pairs("", &[("00B2010C00", "9000")]).unwrap();
    let err = card.exchange(&Apdu::read_record(2, 1)).unwrap_err();
    assert!(
        matches!(err, TransportError::ScriptMismatch { index: 0, .. }),
        "{err}"
    );

    assert!(
        ScriptedCard::from_json(r#"{"atr":"3B","exchanges":[{"command":"ZZ","response":"9000"}]}"#)
            .is_err()
    );
    assert!(
        ScriptedCard::from_json(r#"{"atr":"3B","exchanges":[{"command":"00","response":"90"}]}"#)
            .is_err()
    );
    assert!(ScriptedCard::from_json("{").is_err());
    // The file format round-trips through serde.
    let script: CardScript = serde_json::from_str(json).unwrap();
    let again: CardScript = serde_json::from_str(&serde_json::to_string(&script).unwrap()).unwrap();
    assert_eq!(script, again);
}

#[test]
fn trace_masks_pan_track2_and_pin() {
    use smartpos_emv::trace::{mask_command_hex, mask_response_hex};
    // 70 { 5A 4761739001010119, 57 4761739001010119D2912201, 5F24 291231 } 9000
    let resp =
        hex::decode("701B5A0847617390010101195F240329123157094761739001010119D29000").unwrap();
    // (57 shortened for the test: 9 bytes)
    let masked = mask_response_hex(&resp);
    assert!(masked.starts_with("701B5A08476173******0119"), "{masked}");
    assert!(masked.contains("5F2403291231"), "{masked}");
    assert!(masked.contains("5709476173************9000"), "{masked}");
    assert!(!masked.contains("4761739001010119D2"));
    // VERIFY data is masked, header kept.
    let verify = hex::decode("00200080082412345FFFFFFFFF").unwrap();
    assert_eq!(mask_command_hex(&verify), "0020008008****************");
    // Non-TLV data is withheld entirely.
    assert_eq!(
        mask_response_hex(&hex::decode("5A4761FF9000").unwrap()),
        "<4 bytes not TLV, masked>9000"
    );
    // Format 1 GPO answers stay readable.
    assert_eq!(
        mask_response_hex(&hex::decode("80061000080101009000").unwrap()),
        "80061000080101009000"
    );
    // ICC certificates hold the PAN (recoverable from an RSA one, in clear in an SM2 one): the
    // values of 9F46 and 9F2D are withheld, the neighbouring 9F47 exponent stays readable.
    let certs = hex::decode("70139F46066214000000009F2D03AABBCC9F4701039000").unwrap();
    assert_eq!(
        mask_response_hex(&certs),
        "70139F4606************9F2D03******9F4701039000"
    );
}
