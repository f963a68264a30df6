//! MPM against published vectors and hand-built negative cases.

use smartpos_qr::mpm::{
    self, AccountInfo, MerchantAccount, MerchantLanguage, MerchantPresentedQr, PaymentNetwork,
    PointOfInitiation, Template, TipOrConvenienceFee,
};
use smartpos_qr::{FieldId, QrError};

// id: qr-mpm-emvco-sample
// source: EMVCo QRCPS-MPM specification sample payload; mvallim/emv-qrcode @328ae292cce8d0f40b071b4b8ccab64a63e2c3b2
// src/test/java/com/emv/qrcode/core/CRCTest.java and validators/Crc16ValidatorTest.java;
// dongri/emv-qrcode @d0be31efa4e4cf437e09faf76eec0f07fb70a905 emv/mpm/emv_mpm_test.go (Decode test)
const SAMPLE: &str = "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A";

fn with_crc(body: &str) -> String {
    let mut s = format!("{body}6304");
    let crc = smartpos_qr::crc::crc16_ccitt_false(s.as_bytes());
    s.push_str(&format!("{crc:04X}"));
    s
}

#[test]
fn sample_crc_is_a13a_over_256_utf8_bytes() {
    // qr-mpm-emvco-sample: crc_input_utf8_len 256, crc A13A
    let covered = &SAMPLE[..SAMPLE.len() - 4];
    assert_eq!(covered.len(), 256);
    assert_eq!(
        smartpos_qr::crc::crc16_ccitt_false(covered.as_bytes()),
        0xA13A
    );
}

#[test]
fn sample_parses_to_the_published_top_level_objects() {
    // qr-mpm-emvco-sample: top_level_objects
    let parsed = mpm::parse(SAMPLE).unwrap();
    let expected = [
        (0, "01"),
        (1, "12"),
        (29, "0012D156000000000510A93FO3230Q"),
        (31, "0012D15600000001030812345678"),
        (52, "4111"),
        (58, "CN"),
        (59, "BEST TRANSPORT"),
        (60, "BEIJING"),
        (64, "0002ZH0104最佳运输0202北京"),
        (54, "23.72"),
        (53, "156"),
        (55, "01"),
        (62, "030412340603***0708A60086670902ME"),
        (91, "0016A011223344998877070812345678"),
        (63, "A13A"),
    ];
    let got: Vec<(u8, &str)> = parsed
        .data_objects
        .iter()
        .map(|o| (o.id, o.value.as_str()))
        .collect();
    assert_eq!(got, expected);
    assert_eq!(parsed.crc, 0xA13A);

    let qr = &parsed.qr;
    assert_eq!(qr.point_of_initiation, Some(PointOfInitiation::Dynamic));
    assert_eq!(qr.merchant_accounts.len(), 2);
    assert_eq!(
        qr.merchant_accounts[0].network(),
        Some(PaymentNetwork::Template)
    );
    match &qr.merchant_accounts[0].info {
        AccountInfo::Template(t) => {
            assert_eq!(t.id, 29);
            assert_eq!(t.guid, "D15600000000");
            assert_eq!(t.field(5), Some("A93FO3230Q"));
        }
        other => panic!("expected a template, got {other:?}"),
    }
    assert_eq!(qr.merchant_category_code, "4111");
    assert_eq!(qr.transaction_currency, "156");
    assert_eq!(qr.transaction_amount.as_deref(), Some("23.72"));
    assert_eq!(qr.tip, Some(TipOrConvenienceFee::PromptConsumer));
    assert_eq!(qr.country_code, "CN");
    assert_eq!(qr.merchant_name, "BEST TRANSPORT");
    assert_eq!(qr.merchant_city, "BEIJING");
    let add = qr.additional_data.as_ref().unwrap();
    assert_eq!(add.store_label.as_deref(), Some("1234"));
    assert_eq!(add.customer_label.as_deref(), Some("***"));
    assert_eq!(add.terminal_label.as_deref(), Some("A6008667"));
    assert_eq!(add.consumer_data_request.as_deref(), Some("ME"));
    assert_eq!(
        qr.language,
        Some(MerchantLanguage {
            language_preference: "ZH".into(),
            merchant_name: "最佳运输".into(),
            merchant_city: Some("北京".into()),
            rfu: vec![],
        })
    );
    assert_eq!(qr.unreserved_templates.len(), 1);
    assert_eq!(qr.unreserved_templates[0].guid, "A011223344998877");
    assert_eq!(qr.unreserved_templates[0].field(7), Some("12345678"));
}

#[test]
fn sample_regenerates_to_an_equivalent_payload() {
    // qr-mpm-emvco-sample: the model survives generate -> parse (IDs come out in ascending order).
    let qr = mpm::parse(SAMPLE).unwrap().qr;
    let payload = qr.to_payload().unwrap();
    assert_ne!(payload, SAMPLE, "generator writes IDs in ascending order");
    assert_eq!(mpm::parse(&payload).unwrap().qr, qr);
    assert!(payload.starts_with("000201010212"));
}

#[test]
fn bad_crc_is_rejected_but_diagnosable() {
    let tampered = SAMPLE.replace("6304A13A", "6304A13B");
    assert_eq!(
        mpm::parse(&tampered),
        Err(QrError::BadCrc {
            found: 0xA13B,
            computed: 0xA13A
        })
    );
    let (payload, crc) = mpm::parse_unverified(&tampered).unwrap();
    assert!(!crc.is_ok());
    assert_eq!(payload.qr.merchant_name, "BEST TRANSPORT");
    // A changed merchant name with the old CRC is caught too.
    let renamed = SAMPLE.replace("BEST TRANSPORT", "BEST TRANSPORX");
    assert!(matches!(mpm::parse(&renamed), Err(QrError::BadCrc { .. })));
    // Lower-case CRC digits are accepted.
    assert!(mpm::parse(&SAMPLE.replace("6304A13A", "6304a13a")).is_ok());
}

const BASE: &str = "000201010211153112345678901234567890123456789015204581253031565802CN5910NOODLE BAR6008SHANGHAI";

#[test]
fn minimal_static_code_parses() {
    let parsed = mpm::parse(&with_crc(BASE)).unwrap();
    assert_eq!(
        parsed.qr.point_of_initiation,
        Some(PointOfInitiation::Static)
    );
    assert_eq!(
        parsed.qr.merchant_accounts[0].network(),
        Some(PaymentNetwork::UnionPay)
    );
    assert_eq!(
        parsed.qr.merchant_accounts[0],
        MerchantAccount::primitive(15, "1234567890123456789012345678901")
    );
}

fn err(body: &str) -> QrError {
    mpm::parse(&with_crc(body)).unwrap_err()
}

#[test]
fn missing_mandatory_fields_are_named() {
    for (id, needle) in [
        (52, "52045812"),
        (53, "5303156"),
        (58, "5802CN"),
        (59, "5910NOODLE BAR"),
        (60, "6008SHANGHAI"),
    ] {
        let body = BASE.replace(needle, "");
        assert!(
            matches!(err(&body), QrError::MissingField { field, .. } if field == FieldId::root(id)),
            "{id}"
        );
    }
    let no_account = BASE.replace("15311234567890123456789012345678901", "");
    assert!(matches!(
        err(&no_account),
        QrError::MissingField { field, .. } if field == FieldId::root(2)
    ));
    assert!(matches!(
        mpm::parse("0102115204581263040000"),
        Err(QrError::MissingField { field, .. }) if field == FieldId::root(0)
    ));
    assert!(matches!(
        mpm::parse(BASE),
        Err(QrError::MissingField { field, .. }) if field == FieldId::root(63)
    ));
}

#[test]
fn order_rules() {
    // 00 not first
    let body = BASE
        .replacen("000201", "", 1)
        .replacen("010211", "010211000201", 1);
    assert!(matches!(err(&body), QrError::Order { field, .. } if field == FieldId::root(0)));
    // 63 not last
    let mut s = with_crc(BASE);
    s.push_str("610520000");
    assert!(
        matches!(mpm::parse(&s), Err(QrError::Order { field, .. }) if field == FieldId::root(63))
    );
}

#[test]
fn field_format_errors() {
    assert!(matches!(
        err(&BASE.replace("52045812", "52045A12")),
        QrError::NonNumeric { field, .. } if field == FieldId::root(52)
    ));
    assert!(matches!(
        err(&BASE.replace("52045812", "5203581")),
        QrError::BadLength { field, length: 3, .. } if field == FieldId::root(52)
    ));
    assert!(matches!(
        err(&BASE.replace("000201", "000202")),
        QrError::InvalidValue { field, .. } if field == FieldId::root(0)
    ));
    assert!(matches!(
        err(&BASE.replace("010211", "010213")),
        QrError::InvalidValue { field, .. } if field == FieldId::root(1)
    ));
    assert!(matches!(
        err(&BASE.replace("5802CN", "5802cn")),
        QrError::InvalidValue { field, .. } if field == FieldId::root(58)
    ));
    assert!(matches!(
        err(&BASE.replace("5910NOODLE BAR", "5904面馆面馆")),
        QrError::InvalidValue { field, .. } if field == FieldId::root(59)
    ));
    assert!(matches!(
        err(&format!("{BASE}5426{}", "1".repeat(26))),
        QrError::BadLength { field, .. } if field == FieldId::root(54)
    ));
    assert!(matches!(
        err(&format!("{BASE}54051,000")),
        QrError::AmountFormat { field, .. } if field == FieldId::root(54)
    ));
    assert!(matches!(
        err(&format!("{BASE}54040.00")),
        QrError::AmountFormat { field, .. } if field == FieldId::root(54)
    ));
    assert!(matches!(
        err(&format!("{BASE}62060902MM")),
        QrError::InvalidValue { field, .. } if field == FieldId::sub(62, 9)
    ));
    assert!(matches!(
        err(&format!("{BASE}64060102AB")),
        QrError::MissingField { field, .. } if field == FieldId::sub(64, 0)
    ));
    assert!(matches!(
        err(&format!("{BASE}80060102AB")),
        QrError::MissingField { field, .. } if field == FieldId::sub(80, 0)
    ));
    assert!(matches!(
        err(&format!("{BASE}62060105AB")),
        QrError::Malformed { .. }
    ));
}

#[test]
fn duplicate_ids() {
    assert!(matches!(
        err(&format!("{BASE}5303156")),
        QrError::DuplicateId { field } if field == FieldId::root(53)
    ));
    assert!(matches!(
        err(&format!("{BASE}6212050212050234")),
        QrError::DuplicateId { field } if field == FieldId::sub(62, 5)
    ));
}

#[test]
fn tip_and_fee_consistency() {
    let parsed = mpm::parse(&with_crc(&format!("{BASE}550201"))).unwrap();
    assert_eq!(parsed.qr.tip, Some(TipOrConvenienceFee::PromptConsumer));
    let parsed = mpm::parse(&with_crc(&format!("{BASE}55020256041.50"))).unwrap();
    assert_eq!(
        parsed.qr.tip,
        Some(TipOrConvenienceFee::FixedFee("1.50".into()))
    );
    let parsed = mpm::parse(&with_crc(&format!("{BASE}550203570503.25"))).unwrap();
    assert_eq!(
        parsed.qr.tip,
        Some(TipOrConvenienceFee::PercentageFee("03.25".into()))
    );
    assert!(matches!(
        err(&format!("{BASE}55020357053.125")),
        QrError::AmountFormat { field, .. } if field == FieldId::root(57)
    ));
    for bad in [
        "56041.00",              // 56 without 55
        "57031.5",               // 57 without 55
        "55020256041.0057031.5", // 02 with 57 as well
        "550202",                // 02 without 56
        "550203",                // 03 without 57
        "55020156041.00",        // 01 with 56
        "55020157031.5",         // 01 with 57
        "55020356041.00",        // 03 with 56 instead of 57
    ] {
        let got = err(&format!("{BASE}{bad}"));
        assert!(
            matches!(got, QrError::TipConsistency { .. }),
            "{bad}: {got:?}"
        );
    }
    assert!(matches!(
        err(&format!("{BASE}550204")),
        QrError::InvalidValue { field, .. } if field == FieldId::root(55)
    ));
}

#[test]
fn rfu_and_unknown_ids_are_kept() {
    let body = format!("{BASE}62151003xyz500412346704RFU!85300015com.example.pay0101X0202YY");
    let qr = mpm::parse(&with_crc(&body)).unwrap().qr;
    let add = qr.additional_data.clone().unwrap();
    assert_eq!(add.rfu, vec![mpm::DataObject::new(10, "xyz")]);
    assert_eq!(
        add.payment_system_templates,
        vec![mpm::DataObject::new(50, "1234")]
    );
    assert_eq!(qr.rfu, vec![mpm::DataObject::new(67, "RFU!")]);
    assert_eq!(
        qr.unreserved_templates,
        vec![
            Template::new(85, "com.example.pay")
                .with_field(1, "X")
                .with_field(2, "YY")
        ]
    );
    // and they survive regeneration
    assert_eq!(mpm::parse(&qr.to_payload().unwrap()).unwrap().qr, qr);
}

#[test]
fn builder_reports_the_bad_field() {
    let base = || {
        MerchantPresentedQr::builder()
            .merchant_account(MerchantAccount::primitive(15, "102510000000001"))
            .merchant_category_code("5812")
            .transaction_currency("156")
            .country_code("CN")
            .merchant_name("NOODLE BAR")
            .merchant_city("SHANGHAI")
    };
    assert!(base().build().is_ok());
    assert!(matches!(
        MerchantPresentedQr::builder().build(),
        Err(QrError::MissingField { .. })
    ));
    assert!(matches!(
        base().merchant_name("A VERY LONG MERCHANT NAME INDEED").build(),
        Err(QrError::BadLength { field, length: 32, .. }) if field == FieldId::root(59)
    ));
    assert!(matches!(
        base().merchant_account(MerchantAccount::primitive(30, "x")).build(),
        Err(QrError::InvalidValue { field, .. }) if field == FieldId::root(30)
    ));
    assert!(matches!(
        base().merchant_account(MerchantAccount::primitive(15, "dup")).build(),
        Err(QrError::DuplicateId { field }) if field == FieldId::root(15)
    ));
    assert!(matches!(
        base().dynamic_amount("12,50").build(),
        Err(QrError::AmountFormat { .. })
    ));
    assert!(matches!(
        base().unreserved_template(Template::new(70, "x")).build(),
        Err(QrError::InvalidValue { field, .. }) if field == FieldId::root(70)
    ));
    let qr = base()
        .dynamic_amount("88.80")
        .reference_label("INV-2026-0001")
        .merchant_account_template(Template::new(26, "A000000333010101").with_field(1, "M1"))
        .tip(TipOrConvenienceFee::FixedFee("2.00".into()))
        .postal_code("200000")
        .language(MerchantLanguage {
            language_preference: "ZH".into(),
            merchant_name: "面馆".into(),
            merchant_city: Some("上海".into()),
            rfu: vec![],
        })
        .build()
        .unwrap();
    let payload = qr.to_payload().unwrap();
    assert!(payload.contains("62170513INV-2026-0001"), "{payload}");
    assert!(payload.contains("64180002ZH0102面馆0202上海"), "{payload}");
    assert!(
        payload.contains("26260016A0000003330101010102M1"),
        "{payload}"
    );
    assert!(payload.contains("55020256042.00"), "{payload}");
    let back = mpm::parse(&payload).unwrap();
    assert_eq!(back.qr, qr);
    assert_eq!(
        back.qr.point_of_initiation,
        Some(PointOfInitiation::Dynamic)
    );
}

// Every root ID in one payload, CRC 4220 — but not valid per the specification (55 = "01" with 56
// and 57, 62.09 of five characters).
// source: mvallim/emv-qrcode @a03fdf57433cb31cd5d0409eaa26bd982a853edd
// src/test/java/com/emv/qrcode/decoder/mpm/MerchantPresentedModeDecoderTest.java testeSuccessToString
const ALL_IDS: &str = "00020101021102160004hoge0104abcd520441115303156540523.725502015603500570155802CN5914BEST TRANSPORT6007BEIJING6107123456762950105123450205678900305098760405543210505abcde0605fghij0705klmno0805pqres0905tuvxy5010000110101i64280002ZH0102北京0204最佳运输0304abcd65020080320016A01122334499887707081234567863044220";

#[test]
fn all_ids_vector_frames_with_a_good_crc_but_fails_validation() {
    let (objects, crc) = mpm::read_framing(ALL_IDS).unwrap();
    assert!(crc.is_ok());
    assert_eq!(crc.computed, 0x4220);
    let ids: Vec<u8> = objects.iter().map(|o| o.id).collect();
    assert_eq!(
        ids,
        [
            0, 1, 2, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 64, 65, 80, 63
        ]
    );
    assert_eq!(
        mpm::parse(ALL_IDS),
        Err(QrError::BadLength {
            field: FieldId::sub(62, 9),
            length: 5,
            expected: "1 to 3".into()
        })
    );
    // With 62.09 corrected (and the CRC recomputed) the 55/56/57 conflict is reported.
    let fixed = ALL_IDS
        .replace("0905tuvxy", "0903AME")
        .replace("6295", "6293");
    let fixed = with_crc(&fixed[..fixed.len() - 8]);
    assert!(matches!(
        mpm::parse(&fixed),
        Err(QrError::TipConsistency { .. })
    ));
}

#[test]
fn account_template_rules() {
    // 26-51 without a GUID
    assert!(matches!(
        err(&format!("{BASE}26080104ABCD")),
        QrError::MissingField { field, .. } if field == FieldId::sub(26, 0)
    ));
    // GUID longer than 32 characters
    let guid = "A".repeat(33);
    assert!(matches!(
        err(&format!("{BASE}2637{}{guid}", "0033")),
        QrError::BadLength { field, length: 33, .. } if field == FieldId::sub(26, 0)
    ));
    // template value that is not a list of data objects
    assert!(matches!(
        err(&format!("{BASE}2604ABCD")),
        QrError::Malformed { .. }
    ));
    // 02-25 must be printable ASCII
    assert!(matches!(
        err(&BASE.replace("15311234567890123456789012345678901", "1502银联")),
        QrError::InvalidValue { field, .. } if field == FieldId::root(15)
    ));
    // 64 language preference must be letters, name alternate at most 25 characters
    assert!(matches!(
        err(&format!("{BASE}641200021201021X")),
        QrError::InvalidValue { field, .. } if field == FieldId::sub(64, 0)
    ));
    let long_name = "名".repeat(26);
    assert!(matches!(
        err(&format!("{BASE}64360002ZH0126{long_name}")),
        QrError::BadLength { field, length: 26, .. } if field == FieldId::sub(64, 1)
    ));
}
