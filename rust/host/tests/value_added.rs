//! Value-added data of a sale (issue 7): merchant order reference, member id and coupon discount
//! in field 63 as `VAD` + ORD/MBR/CPN sub-elements (layout in `smartpos_host::dialect`), validated
//! before sending, MACed like every field, parsed strictly on the host side.

mod support;

use proptest::prelude::*;
use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_host::mac::{self, MacAlgorithm};
use smartpos_host::{
    CardData, HostError, PinInput, QueueKind, ReversalStore, SaleRequest, ValueAddedData,
    ValueAddedError,
};
use smartpos_iso8583::{Message, Mti, Profile};
use std::time::Duration;
use support::{Behaviour, PAN, Seen, TAK, client, fake_host, field63, message, next};

fn sale() -> SaleRequest {
    SaleRequest {
        amount: 9_500,
        card: CardData::manual(PAN),
        pin: PinInput::None,
    }
}

fn sample() -> ValueAddedData {
    ValueAddedData::new(Some("A1234567"), Some("M001"), 500)
}

#[test]
fn layout_is_marker_then_tag_length_value_in_fixed_order() {
    assert_eq!(
        sample().to_field63().expect("valid").as_deref(),
        Some("VADORD08A1234567MBR04M001CPN12000000000500")
    );
    let only_coupon = ValueAddedData::new(None, None, 1);
    assert_eq!(
        only_coupon.to_field63().expect("valid").as_deref(),
        Some("VADCPN12000000000001")
    );
    let only_member = ValueAddedData::new(None, Some("13800138000"), 0);
    assert_eq!(
        only_member.to_field63().expect("valid").as_deref(),
        Some("VADMBR1113800138000")
    );
}

#[test]
fn nothing_to_send_is_no_field_63_and_empty_strings_count_as_absent() {
    let empty = ValueAddedData::new(Some(""), Some(""), 0);
    assert!(empty.is_empty());
    assert_eq!(empty, ValueAddedData::default());
    assert_eq!(empty.to_field63().expect("valid"), None);
}

fn invalid_field(v: &ValueAddedData) -> &'static str {
    match v.to_field63() {
        Err(HostError::InvalidRequest { field, .. }) => field,
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

#[test]
fn lengths_and_characters_are_validated_with_the_field_named() {
    let long_order = "X".repeat(65);
    for (v, field) in [
        (
            ValueAddedData::new(Some(&long_order), None, 0),
            "value_added.merchant_order_ref",
        ),
        (
            ValueAddedData::new(Some("ORDER 1"), None, 0),
            "value_added.merchant_order_ref",
        ),
        (
            ValueAddedData::new(Some("订单1"), None, 0),
            "value_added.merchant_order_ref",
        ),
        (
            ValueAddedData::new(Some("A\u{7f}"), None, 0),
            "value_added.merchant_order_ref",
        ),
        (
            ValueAddedData::new(None, Some(&"9".repeat(33)), 0),
            "value_added.member_id",
        ),
        (
            ValueAddedData::new(None, Some("M\t1"), 0),
            "value_added.member_id",
        ),
        (
            ValueAddedData::new(None, None, 1_000_000_000_000),
            "value_added.coupon_discount",
        ),
        (
            ValueAddedData {
                merchant_order_ref: Some(String::new()),
                ..ValueAddedData::default()
            },
            "value_added.merchant_order_ref",
        ),
    ] {
        assert_eq!(invalid_field(&v), field, "{v:?}");
    }
    // The limits themselves are accepted.
    let max = ValueAddedData::new(
        Some(&"O".repeat(64)),
        Some(&"M".repeat(32)),
        999_999_999_999,
    );
    assert!(max.validate().is_ok());
}

#[test]
fn the_largest_value_added_data_fits_field_63_of_the_profile() {
    let max = ValueAddedData::new(
        Some(&"~".repeat(64)),
        Some(&"!".repeat(32)),
        999_999_999_999,
    );
    let text = max.to_field63().expect("valid").expect("some");
    assert_eq!(text.len(), 3 + (5 + 64) + (5 + 32) + (5 + 12));
    // 0100 (no mandatory-field list in the profile): only 63's own limits are tested.
    let mut m = Message::new(Mti::new("0100").expect("mti"));
    m.set_text(63, &text).expect("fits 63 ans..163");
    let p = Profile::cups_pos();
    let packed = p.pack(&m).expect("pack");
    assert_eq!(p.unpack(&packed).expect("unpack").text(63), Some(&*text));
    assert_eq!(
        ValueAddedData::from_field63(text.as_bytes()).expect("parse"),
        max
    );
}

#[test]
fn debug_shows_only_the_tail_of_the_member_id() {
    let shown = format!("{:?}", ValueAddedData::new(None, Some("13800138000"), 0));
    assert!(shown.contains("*8000"), "{shown}");
    assert!(!shown.contains("1380013"), "{shown}");
}

#[test]
fn malformed_field_63_is_a_typed_error() {
    use ValueAddedError as E;
    type Check = fn(&E) -> bool;
    let cases: &[(&[u8], Check)] = &[
        (b"QRP123", |e| *e == E::NoMarker),
        (b"", |e| *e == E::NoMarker),
        (b"VAD", |e| *e == E::Empty),
        (b"VADOR", |e| {
            matches!(
                e,
                E::Truncated {
                    offset: 3,
                    what: "tag"
                }
            )
        }),
        (b"VADORD0", |e| {
            matches!(
                e,
                E::Truncated {
                    offset: 3,
                    what: "length"
                }
            )
        }),
        (b"VADORDx1A", |e| {
            matches!(e, E::BadLength { offset: 3, .. })
        }),
        (b"VADORD00", |e| matches!(e, E::BadLength { .. })),
        (b"VADORD-1A", |e| matches!(e, E::BadLength { .. })),
        (b"VADORD05ABC", |e| {
            matches!(
                e,
                E::Truncated {
                    offset: 3,
                    what: "value"
                }
            )
        }),
        (
            b"VADORD01AXYZ01B",
            |e| matches!(e, E::UnknownTag { offset: 9, tag } if tag == "XYZ"),
        ),
        (b"VADORD01AORD01B", |e| *e == E::Duplicate { tag: "ORD" }),
        (b"VADMBR01AMBR01B", |e| *e == E::Duplicate { tag: "MBR" }),
        (b"VADCPN12000000000001CPN12000000000001", |e| {
            *e == E::Duplicate { tag: "CPN" }
        }),
        (b"VADCPN1200000000000A", |e| {
            matches!(e, E::BadValue { tag: "CPN", .. })
        }),
        (b"VADCPN11123456789012", |e| {
            // 11 declared, then a trailing byte that is no sub-element.
            matches!(e, E::BadValue { tag: "CPN", .. } | E::Truncated { .. })
        }),
        (b"VADCPN12000000000000", |e| {
            matches!(e, E::BadValue { tag: "CPN", .. })
        }),
        (b"VADORD02A ", |e| {
            matches!(e, E::BadValue { tag: "ORD", .. })
        }),
        (b"VADORD02\xC3\xA9", |e| {
            matches!(e, E::BadValue { tag: "ORD", .. })
        }),
        (b"VADMBR33123456789012345678901234567890123", |e| {
            matches!(e, E::BadValue { tag: "MBR", .. })
        }),
    ];
    for (bytes, check) in cases {
        let e = ValueAddedData::from_field63(bytes).expect_err("malformed");
        assert!(check(&e), "{:?}: {e:?}", String::from_utf8_lossy(bytes));
        assert!(e.to_string().contains("63"), "{e}");
    }
}

#[test]
fn sub_elements_may_come_in_any_order() {
    let v =
        ValueAddedData::from_field63(b"VADCPN12000000000500MBR04M001ORD08A1234567").expect("parse");
    assert_eq!(v, sample());
}

fn text_strategy(max: usize) -> impl Strategy<Value = Option<String>> {
    proptest::option::of(proptest::collection::vec(0x21u8..=0x7E, 1..=max))
        .prop_map(|o| o.map(|b| b.into_iter().map(char::from).collect()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn valid_data_round_trips(
        order in text_strategy(64),
        member in text_strategy(32),
        coupon in 0u64..=999_999_999_999,
    ) {
        let v = ValueAddedData::new(order.as_deref(), member.as_deref(), coupon);
        match v.to_field63().expect("valid") {
            None => prop_assert!(v.is_empty()),
            Some(text) => {
                prop_assert!(text.len() <= 160);
                prop_assert_eq!(ValueAddedData::from_field63(text.as_bytes()).expect("parse"), v);
            }
        }
    }

    #[test]
    fn arbitrary_bytes_after_the_marker_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..170)) {
        let mut f = b"VAD".to_vec();
        f.extend_from_slice(&tail);
        if let Ok(v) = ValueAddedData::from_field63(&f) {
            // Whatever parses is valid, non-empty data whose canonical encoding (fixed order)
            // has the same length and parses back to it.
            prop_assert!(v.validate().is_ok());
            prop_assert!(!v.is_empty());
            let again = v.to_field63().expect("valid").expect("not empty");
            prop_assert_eq!(again.len(), f.len());
            prop_assert_eq!(ValueAddedData::from_field63(again.as_bytes()).expect("parse"), v);
        }
    }

    #[test]
    fn well_formed_sub_elements_in_any_order_parse(
        order in text_strategy(64),
        member in text_strategy(32),
        coupon in 0u64..=999_999_999_999,
        rotate in 0usize..3,
    ) {
        let v = ValueAddedData::new(order.as_deref(), member.as_deref(), coupon);
        let mut parts = Vec::new();
        if let Some(o) = &v.merchant_order_ref {
            parts.push(format!("ORD{:02}{o}", o.len()));
        }
        if let Some(m) = &v.member_id {
            parts.push(format!("MBR{:02}{m}", m.len()));
        }
        if v.coupon_discount > 0 {
            parts.push(format!("CPN12{:012}", v.coupon_discount));
        }
        prop_assume!(!parts.is_empty());
        let n = parts.len();
        parts.rotate_left(rotate % n);
        let text = format!("VAD{}", parts.concat());
        prop_assert_eq!(ValueAddedData::from_field63(text.as_bytes()).expect("parse"), v);
    }
}

#[test]
fn a_sale_carries_value_added_data_in_field_63_under_the_mac() {
    let (addr, rx) = fake_host(Behaviour::AnswerAll, None);
    let mut c = client(&addr, Duration::from_secs(10), None);
    c.sign_on().expect("sign-on");
    let r = c
        .sale_with_value_added(&sale(), &sample())
        .expect("approved");
    assert_eq!(r.auth_code.as_deref(), Some("654321"));
    assert_eq!(next(&rx), Seen::Connected);
    assert_eq!(next(&rx).mti().as_deref(), Some("0800"));
    let seen = next(&rx);
    let m = message(&seen);
    assert_eq!(m.mti().as_str(), "0200");
    assert_eq!(
        field63(&seen).as_deref(),
        Some("VADORD08A1234567MBR04M001CPN12000000000500")
    );
    let p = Profile::cups_pos();
    let tak = SecretKey::from_hex(KeyAlgorithm::Tdes2, TAK).expect("tak");
    mac::verify(p, MacAlgorithm::CupEcb, &tak, &m).expect("request MAC");
    // Field 63 is inside the MAC block, so changing it breaks the MAC.
    let mab = mac::mac_block(p, &m).expect("mab");
    assert!(
        mab.windows(11).any(|w| w == b"ORD08A12345"),
        "63 is part of the MAC block"
    );
    let mut tampered = m.clone();
    tampered
        .set_text(63, "VADORD08B1234567MBR04M001CPN12000000000500")
        .expect("63");
    assert!(matches!(
        mac::verify(p, MacAlgorithm::CupEcb, &tak, &tampered),
        Err(HostError::BadMac(_))
    ));
    // The reversal of a value-added sale would name the original by STAN; 63 is not needed.
    assert!(
        c.store()
            .pending(QueueKind::Reversal)
            .expect("store")
            .is_empty()
    );
}

#[test]
fn pre_authorisation_carries_value_added_data_and_a_plain_sale_none() {
    let (addr, rx) = fake_host(Behaviour::AnswerAll, None);
    let mut c = client(&addr, Duration::from_secs(10), None);
    c.sign_on().expect("sign-on");
    c.pre_authorise_with_value_added(&sale(), &ValueAddedData::new(Some("PA-1"), None, 0))
        .expect("approved");
    c.sale(&sale()).expect("approved");
    let seen: Vec<_> = (0..4).map(|_| next(&rx)).collect();
    let preauth = seen.get(2).expect("pre-auth");
    assert_eq!(preauth.mti().as_deref(), Some("0100"));
    assert_eq!(field63(preauth).as_deref(), Some("VADORD04PA-1"));
    let plain = seen.get(3).expect("sale");
    assert_eq!(plain.mti().as_deref(), Some("0200"));
    assert_eq!(field63(plain), None);
}

#[test]
fn invalid_value_added_data_is_refused_before_anything_is_numbered_or_sent() {
    let (addr, rx) = fake_host(Behaviour::AnswerAll, None);
    let mut c = client(&addr, Duration::from_secs(10), None);
    c.sign_on().expect("sign-on");
    let stan = c.last_stan();
    let bad = ValueAddedData::new(Some("has space"), None, 0);
    let err = c.sale_with_value_added(&sale(), &bad).expect_err("invalid");
    assert!(matches!(
        err,
        HostError::InvalidRequest {
            field: "value_added.merchant_order_ref",
            ..
        }
    ));
    assert!(!err.needs_reversal());
    assert_eq!(c.last_stan(), stan, "no STAN used");
    // The next request on the wire after sign-on is the echo: the invalid sale never left.
    c.echo().expect("echo");
    let mtis: Vec<_> = (0..3).filter_map(|_| next(&rx).mti()).collect();
    assert_eq!(mtis, ["0800", "0820"]);
}
