//! The `iso87-ascii` profile packs and unpacks byte for byte like pyiso8583's `default_ascii` spec.
//!
//! Fixtures: tests/fixtures/pyiso8583_default_ascii.json, produced by pyiso8583 4.0.1 (MIT) with
//! tests/fixtures/gen_pyiso8583_fixtures.py (its MESSAGES dict holds the inputs). Python is not
//! needed to run these tests.

use serde_json::{Value, json};
use smartpos_iso8583::{Frame, Profile};

const FIXTURES: &str = include_str!("fixtures/pyiso8583_default_ascii.json");

fn messages() -> Vec<Value> {
    let doc: Value = serde_json::from_str(FIXTURES).expect("fixture JSON");
    doc["messages"].as_array().expect("messages").clone()
}

/// Our JSON form from the fixture's field dict (pyiso8583 values are strings; b fields are hex).
fn our_json(m: &Value) -> Value {
    json!({ "mti": m["mti"], "fields": m["fields"] })
}

#[test]
fn pack_matches_pyiso8583_bytes() {
    let p = Profile::iso87_ascii();
    let all = messages();
    assert_eq!(all.len(), 4);
    for m in &all {
        let frame = p.frame_from_json(&our_json(m)).expect("fixture parses");
        let packed = p
            .pack_frame(&frame)
            .unwrap_or_else(|e| panic!("{}: {e}", m["name"]));
        assert_eq!(
            hex::encode_upper(&packed),
            m["hex"].as_str().unwrap(),
            "{}",
            m["name"]
        );
    }
}

#[test]
fn unpack_matches_pyiso8583_decode() {
    let p = Profile::iso87_ascii();
    for m in messages() {
        let bytes = hex::decode(m["hex"].as_str().unwrap()).unwrap();
        let frame = p
            .unpack_frame(&bytes)
            .unwrap_or_else(|e| panic!("{}: {e}", m["name"]));
        assert_eq!(p.frame_to_json(&frame), our_json(&m), "{}", m["name"]);
        // Bitmaps as pyiso8583 decoded them.
        let bitmap = frame.message.bitmap().to_be_bytes();
        assert_eq!(
            hex::encode_upper(&bitmap[..8]),
            m["primary_bitmap"].as_str().unwrap()
        );
        match m["secondary_bitmap"].as_str() {
            Some(s) => assert_eq!(hex::encode_upper(&bitmap[8..]), s),
            None => assert_eq!(&bitmap[8..], &[0u8; 8]),
        }
        // And back to the same bytes.
        assert_eq!(p.pack_frame(&Frame::bare(frame.message)).unwrap(), bytes);
    }
}

#[test]
fn field_types_come_through_typed() {
    let p = Profile::iso87_ascii();
    let sale = &messages()[0];
    let bytes = hex::decode(sale["hex"].as_str().unwrap()).unwrap();
    let msg = p.unpack(&bytes).unwrap();
    assert_eq!(msg.mti().as_str(), "0200");
    assert_eq!(msg.amount().unwrap(), Some(1234));
    assert_eq!(msg.stan().unwrap(), Some(123));
    assert_eq!(
        msg.binary(52).unwrap(),
        &[0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF]
    );
    // Field 55 is 255 bytes max as hex text; here 76 bytes of BER-TLV.
    let icc = msg.binary(55).unwrap();
    assert_eq!(icc[..3], [0x9F, 0x26, 0x08]);
    let mixed = &messages()[3];
    let msg = p
        .unpack(&hex::decode(mixed["hex"].as_str().unwrap()).unwrap())
        .unwrap();
    assert_eq!(msg.text(28), Some("C00000150"));
    assert_eq!(msg.text(97), Some("D0000000000009999"));
}
