//! The `value_added_field63` fuzz target's body (fuzz/bodies/value_added_field63.rs) on stable:
//! random bytes, `VAD` + random bytes, well-formed sub-elements in any order, and those with
//! one byte changed. Field layout: smartpos_host::dialect, "Value-added data".

use proptest::collection::vec;
use proptest::prelude::*;
use smartpos_host::ValueAddedData;

include!("../../../fuzz/bodies/value_added_field63.rs");

/// One sub-element: tag, 2-digit length, value.
fn element(tag: &str, value: &str) -> String {
    format!("{tag}{:02}{value}", value.len())
}

/// Printable ASCII without spaces, as ORD and MBR values must be.
fn graphic(max: usize) -> impl Strategy<Value = String> {
    vec(0x21u8..=0x7E, 1..=max).prop_map(|b| b.into_iter().map(char::from).collect())
}

/// Valid value-added data and its sub-elements in an arbitrary order.
fn shuffled_field() -> impl Strategy<Value = (ValueAddedData, String)> {
    (
        proptest::option::of(graphic(64)),
        proptest::option::of(graphic(32)),
        0u64..=999_999_999_999,
        any::<u64>(),
    )
        .prop_filter("something to send", |(o, m, c, _)| {
            o.is_some() || m.is_some() || *c > 0
        })
        .prop_map(|(order, member, coupon, order_seed)| {
            let mut elements = Vec::new();
            if let Some(o) = &order {
                elements.push(element("ORD", o));
            }
            if let Some(m) = &member {
                elements.push(element("MBR", m));
            }
            if coupon > 0 {
                elements.push(element("CPN", &format!("{coupon:012}")));
            }
            // A permutation chosen by the seed (Lehmer code).
            let mut seed = order_seed;
            let mut field = String::from("VAD");
            while !elements.is_empty() {
                let i = (seed % elements.len() as u64) as usize;
                seed /= elements.len() as u64;
                field.push_str(&elements.remove(i));
            }
            let data = ValueAddedData {
                merchant_order_ref: order,
                member_id: member,
                coupon_discount: coupon,
            };
            (data, field)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn fuzz_body_on_bytes(bytes in vec(any::<u8>(), 0..200)) {
        value_added_field63(&bytes).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn fuzz_body_after_the_marker(bytes in vec(any::<u8>(), 0..120)) {
        let mut field = b"VAD".to_vec();
        field.extend(bytes);
        value_added_field63(&field).map_err(TestCaseError::fail)?;
    }

    /// Sub-elements in any order parse to the data they carry; the body's round trip holds.
    #[test]
    fn any_order_of_valid_sub_elements_parses((data, field) in shuffled_field()) {
        let parsed = ValueAddedData::from_field63(field.as_bytes());
        prop_assert_eq!(parsed.as_ref(), Ok(&data));
        value_added_field63(field.as_bytes()).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn fuzz_body_on_mutated_fields((_, field) in shuffled_field(), at in any::<usize>(), byte in any::<u8>()) {
        let mut bytes = field.into_bytes();
        let i = at % bytes.len();
        bytes[i] = byte;
        value_added_field63(&bytes).map_err(TestCaseError::fail)?;
    }
}

#[test]
fn fuzz_body_accepts_the_dialect_example_and_detects_nothing_wrong() {
    let field = "VADCPN12000000000500MBR04M001ORD08A1234567";
    let parsed = ValueAddedData::from_field63(field.as_bytes()).expect("valid field");
    assert_eq!(
        parsed,
        ValueAddedData::new(Some("A1234567"), Some("M001"), 500)
    );
    value_added_field63(field.as_bytes()).expect("invariants hold");
}
