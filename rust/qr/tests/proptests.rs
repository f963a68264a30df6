//! Property tests: arbitrary input never panics; generate -> parse round-trips for MPM and CPM.
//! (The fuzz target fuzz/fuzz_targets/qr_parse.rs runs the same entry points under libFuzzer.)

use proptest::collection::{btree_map, btree_set, vec};
use proptest::option;
use proptest::prelude::*;
use smartpos_qr::cpm::{CpmApplication, CpmPayload, DataObject as CpmObject, Pan, Track2};
use smartpos_qr::mpm::{
    self, AdditionalData, DataObject, MerchantAccount, MerchantLanguage, MerchantPresentedQr,
    PointOfInitiation, Template, TipOrConvenienceFee,
};
use smartpos_qr::wallet::WalletCode;
use smartpos_tlv::Tag;

fn ans(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[ -~]{{1,{max}}}")).unwrap()
}

fn amount() -> impl Strategy<Value = String> {
    "[1-9][0-9]{0,8}(\\.[0-9]{1,2})?"
}

fn template(id: u8) -> impl Strategy<Value = Template> {
    (
        ans(20),
        btree_map(1u8..=99, "[ -~\u{4e00}-\u{4e20}]{1,10}", 0..4),
    )
        .prop_map(move |(guid, fields)| Template {
            id,
            guid,
            fields: fields
                .into_iter()
                .map(|(k, v)| DataObject::new(k, v))
                .collect(),
        })
}

fn account(id: u8) -> BoxedStrategy<MerchantAccount> {
    if id <= 25 {
        ans(40)
            .prop_map(move |v| MerchantAccount::primitive(id, v))
            .boxed()
    } else {
        template(id).prop_map(MerchantAccount::template).boxed()
    }
}

fn accounts() -> impl Strategy<Value = Vec<MerchantAccount>> {
    btree_set(2u8..=51, 1..4).prop_flat_map(|ids| ids.into_iter().map(account).collect::<Vec<_>>())
}

fn tip() -> impl Strategy<Value = Option<TipOrConvenienceFee>> {
    prop_oneof![
        Just(None),
        Just(Some(TipOrConvenienceFee::PromptConsumer)),
        amount().prop_map(|a| Some(TipOrConvenienceFee::FixedFee(a))),
        "[1-9][0-9]?(\\.[0-9]{1,2})?".prop_map(|p| Some(TipOrConvenienceFee::PercentageFee(p))),
    ]
}

fn additional() -> impl Strategy<Value = Option<AdditionalData>> {
    (
        option::of(ans(8)),
        option::of(ans(8)),
        option::of(ans(8)),
        option::of(ans(8)),
        option::of(prop::sample::select(vec![
            "A", "M", "E", "AM", "ME", "AME", "EA",
        ])),
        btree_map(10u8..=49, ans(5), 0..2),
        btree_map(50u8..=99, ans(5), 0..2),
    )
        .prop_map(
            |(bill, mobile, reference, terminal, request, rfu, templates)| {
                let data = AdditionalData {
                    bill_number: bill,
                    mobile_number: mobile,
                    reference_label: reference,
                    terminal_label: terminal,
                    consumer_data_request: request.map(str::to_owned),
                    rfu: rfu
                        .into_iter()
                        .map(|(k, v)| DataObject::new(k, v))
                        .collect(),
                    payment_system_templates: templates
                        .into_iter()
                        .map(|(k, v)| DataObject::new(k, v))
                        .collect(),
                    ..AdditionalData::default()
                };
                Some(data).filter(|d| !d.is_empty())
            },
        )
}

fn language() -> impl Strategy<Value = Option<MerchantLanguage>> {
    option::of(
        (
            "[A-Z]{2}",
            "[\u{4e00}-\u{9fa5}A-Z ]{1,25}",
            option::of("[\u{4e00}-\u{9fa5}]{1,15}"),
        )
            .prop_map(|(pref, name, city)| MerchantLanguage {
                language_preference: pref,
                merchant_name: name,
                merchant_city: city,
                rfu: vec![],
            }),
    )
}

prop_compose! {
    fn merchant()(
        poi in option::of(prop_oneof![Just(PointOfInitiation::Static), Just(PointOfInitiation::Dynamic)]),
        merchant_accounts in accounts(),
        mcc in "[0-9]{4}",
        currency in "[0-9]{3}",
        transaction_amount in option::of(amount()),
        tip in tip(),
        country in "[A-Z]{2}",
        name in ans(25),
        city in ans(15),
        postal in option::of(ans(10)),
        additional_data in additional(),
        language in language(),
        rfu in btree_map(65u8..=79, ans(10), 0..2),
        unreserved in btree_set(80u8..=99, 0..2).prop_flat_map(|ids| ids.into_iter().map(template).collect::<Vec<_>>()),
    ) -> MerchantPresentedQr {
        MerchantPresentedQr {
            point_of_initiation: poi,
            merchant_accounts,
            merchant_category_code: mcc,
            transaction_currency: currency,
            transaction_amount,
            tip,
            country_code: country,
            merchant_name: name,
            merchant_city: city,
            postal_code: postal,
            additional_data,
            language,
            rfu: rfu.into_iter().map(|(k, v)| DataObject::new(k, v)).collect(),
            unreserved_templates: unreserved,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn mpm_generate_parse_round_trip(qr in merchant()) {
        match qr.to_payload() {
            Ok(payload) => {
                let parsed = mpm::parse(&payload).unwrap();
                prop_assert_eq!(&parsed.qr, &qr);
                // the top-level entry point agrees
                prop_assert!(matches!(smartpos_qr::parse(&payload), Ok(smartpos_qr::ScannedCode::Mpm(_))));
                // every single-character change is detected (CRC or a validation error)
                let chars: Vec<char> = payload.chars().collect();
                let i = payload.len() % chars.len();
                let mut changed = chars.clone();
                changed[i] = if chars[i] == '7' { '8' } else { '7' };
                let changed: String = changed.into_iter().collect();
                prop_assert!(mpm::parse(&changed).is_err());
            }
            // Only a template longer than 99 characters may be refused.
            Err(e) => prop_assert!(matches!(e, smartpos_qr::QrError::BadLength { .. }), "{e}"),
        }
    }

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,300}") {
        let _ = smartpos_qr::parse(&s);
        let _ = mpm::parse(&s);
        let _ = mpm::parse_unverified(&s);
        let _ = WalletCode::parse(&s);
        let _ = CpmPayload::parse(&s);
    }

    #[test]
    fn mpm_shaped_text_with_valid_crc_never_panics(
        objects in vec(("[0-9]{2}", "[ -~\u{4e00}-\u{4e10}]{1,30}"), 0..12),
        noise in "[0-9]{0,4}",
    ) {
        let mut s = String::from("000201");
        for (id, value) in &objects {
            s.push_str(&format!("{id}{:02}{value}", value.chars().count()));
        }
        s.push_str(&noise);
        s.push_str("6304");
        let crc = smartpos_qr::crc::crc16_ccitt_false(s.as_bytes());
        s.push_str(&format!("{crc:04X}"));
        let _ = smartpos_qr::parse(&s);
        let _ = mpm::parse_unverified(&s);
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_cpm_decoder(bytes in vec(any::<u8>(), 0..300)) {
        let _ = CpmPayload::from_bytes(&bytes);
        let mut with_pfi = b"\x85\x05CPV01".to_vec();
        with_pfi.extend_from_slice(&bytes);
        let _ = CpmPayload::from_bytes(&with_pfi);
        let _ = Track2::from_bytes(&bytes);
        let _ = Pan::from_cn(&bytes);
    }
}

fn cpm_app(with_aid: bool) -> impl Strategy<Value = CpmApplication> {
    let icc_tags = [
        0x9F26u32, 0x9F27, 0x9F10, 0x9F36, 0x82, 0x9F37, 0x95, 0x9A, 0x9C, 0x5F2A, 0x9F02, 0x5F34,
    ];
    (
        vec(any::<u8>(), 5..=16),
        option::of("[ -~]{1,16}"),
        option::of(("[0-9]{12,19}", 0u8..100, 1u8..=12, "[0-9]{3}", "[0-9]{0,5}")),
        option::of("[0-9]{12,19}"),
        option::of("[A-Z /]{2,26}"),
        btree_map(
            prop::sample::select(icc_tags.to_vec()),
            vec(any::<u8>(), 0..20),
            0..8,
        ),
    )
        .prop_map(move |(aid, label, track, pan, name, icc)| CpmApplication {
            aid: with_aid.then_some(aid),
            label,
            track2: track.map(|(p, yy, mm, sc, disc)| {
                Track2::new(
                    Pan::new(&p, "57").unwrap(),
                    &format!("{yy:02}{mm:02}"),
                    &sc,
                    &disc,
                )
                .unwrap()
            }),
            pan: pan.map(|p| Pan::new(&p, "5A").unwrap()),
            cardholder_name: name,
            icc_data: icc
                .into_iter()
                .map(|(t, v)| CpmObject::new(Tag(t), v))
                .collect(),
            ..CpmApplication::default()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn cpm_encode_decode_round_trip(
        applications in vec(cpm_app(true), 1..3),
        common in option::of(cpm_app(false)),
    ) {
        let payload = CpmPayload { applications, common };
        let has_card = payload.applications.first().is_some_and(|a| a.track2.is_some() || a.pan.is_some())
            || payload.common.as_ref().is_some_and(|c| c.track2.is_some() || c.pan.is_some());
        match payload.to_base64() {
            Ok(text) => {
                prop_assert!(has_card);
                let back = CpmPayload::parse(&text).unwrap();
                prop_assert_eq!(&back, &payload);
                prop_assert!(matches!(smartpos_qr::parse(&text), Ok(smartpos_qr::ScannedCode::Cpm(_))));
                prop_assert_eq!(smartpos_tlv::parse_all(&back.field55()).unwrap().len(), back.icc_data().len());
            }
            Err(e) => {
                prop_assert!(!has_card, "{e}");
                let is_missing_card = matches!(e, smartpos_qr::QrError::CpmMissingTag { tag: "57", .. });
                prop_assert!(is_missing_card);
            }
        }
    }
}

// The fuzz target's body on stable, on bytes, on text, and on valid payloads with one byte changed.
const SAMPLE: &str = "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A";
const CPM_EXAMPLE: &str = "hQVDUFYwMWEaTwegAAAAVVVVVw8SNFZ4kBI0WNGRIgESNF8=";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn fuzz_body_on_bytes(bytes in vec(any::<u8>(), 0..400)) {
        smartpos_qr::fuzzing::qr_parse(&bytes).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn fuzz_body_on_mutated_payloads(which in 0..3usize, at in any::<usize>(), byte in any::<u8>()) {
        let seed: Vec<u8> = match which {
            0 => SAMPLE.as_bytes().to_vec(),
            1 => CPM_EXAMPLE.as_bytes().to_vec(),
            _ => hex::decode("85054350563031611A4F07A0000000555555570F1234567890123458D191220112345F").unwrap(),
        };
        let mut data = seed.clone();
        let i = at % data.len();
        data[i] = byte;
        smartpos_qr::fuzzing::qr_parse(&data).map_err(TestCaseError::fail)?;
    }
}

#[test]
fn fuzz_body_accepts_the_vectors() {
    // qr-mpm-emvco-sample and qr-cpm-emvco-example1 (sources in published.md)
    smartpos_qr::fuzzing::qr_parse(SAMPLE.as_bytes()).unwrap();
    smartpos_qr::fuzzing::qr_parse(CPM_EXAMPLE.as_bytes()).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    // Wallet rules written out once more as an oracle (sources in src/wallet.rs): a digit string
    // is recognised exactly when one rule matches, and by that rule's wallet.
    #[test]
    fn wallet_classification_matches_the_published_rules(
        prefix in prop::sample::select(vec![
            "", "0", "00", "01", "02", "09", "10", "12", "15", "16", "24", "25", "28", "30", "31",
            "61", "62", "63", "99",
        ]),
        body in vec(0u8..10, 0..25),
    ) {
        let digits: String =
            prefix.chars().chain(body.iter().map(|d| char::from(b'0' + d))).collect();
        use smartpos_qr::wallet::Wallet;
        let len = digits.len();
        let prefix: Option<u8> = digits.get(..2).and_then(|p| p.parse().ok());
        let expected = match prefix {
            Some(p) if (10..=15).contains(&p) && len == 18 => Some(Wallet::WeChatPay),
            Some(p) if (25..=30).contains(&p) && (16..=24).contains(&len) => Some(Wallet::Alipay),
            Some(62) if len == 19 => Some(Wallet::UnionPay),
            Some(1) if len == 19 => Some(Wallet::ECny),
            _ => None,
        };
        let got = WalletCode::parse(&digits).ok().map(|c| c.wallet());
        prop_assert_eq!(got, expected);
        if let Some(wallet) = expected {
            match smartpos_qr::parse(&digits) {
                Ok(smartpos_qr::ScannedCode::Wallet(code)) => prop_assert_eq!(code.wallet(), wallet),
                other => prop_assert!(false, "{other:?}"),
            }
        }
    }
}
