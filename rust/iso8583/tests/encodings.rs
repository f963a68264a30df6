//! Every field type / length / encoding combination, with wire bytes worked out by hand from the
//! definitions in ISO 8583:1987 §4 (types), the China UnionPay POS specification (BCD conventions)
//! and this crate's profile documentation (what length prefixes count).

use smartpos_iso8583::{Message, Mti, Profile};

/// A lab profile with one field per encoding variant; ASCII MTI and binary bitmap so the field data
/// starts at byte 12 (20 with a secondary bitmap).
const LAB: &str = r#"{
  "name": "lab", "mti": "ascii", "bitmap": "binary",
  "fields": {
    "2":  { "type": "n", "length": "fixed", "len": 3, "encoding": "bcd", "pad": "left-0" },
    "3":  { "type": "n", "length": "fixed", "len": 3, "encoding": "bcd", "pad": "left-f" },
    "4":  { "type": "n", "length": "fixed", "len": 3, "encoding": "bcd", "pad": "right-0" },
    "5":  { "type": "n", "length": "fixed", "len": 3, "encoding": "bcd", "pad": "right-f" },
    "6":  { "type": "n", "length": "fixed", "len": 4, "encoding": "bcd" },
    "7":  { "type": "n", "length": "fixed", "len": 5 },
    "8":  { "type": "n", "length": "LLVAR", "max": 19, "encoding": "bcd", "prefix": "bcd", "pad": "right-0" },
    "9":  { "type": "n", "length": "LLVAR", "max": 19 },
    "10": { "type": "n", "length": "LLLVAR", "max": 999, "encoding": "bcd", "prefix": "bcd", "pad": "right-0" },
    "11": { "type": "ans", "length": "LLLLVAR", "max": 9999, "prefix": "bcd" },
    "12": { "type": "ans", "length": "LLLLVAR", "max": 9999, "prefix": "ascii" },
    "13": { "type": "b", "length": "LLVAR", "max": 255, "prefix": "binary" },
    "14": { "type": "b", "length": "LLLVAR", "max": 999, "prefix": "binary" },
    "15": { "type": "b", "length": "fixed", "len": 4 },
    "16": { "type": "b", "length": "fixed", "len": 4, "encoding": "hex" },
    "17": { "type": "b", "length": "LLLVAR", "max": 510, "encoding": "hex", "counts": "encoded" },
    "18": { "type": "b", "length": "LLVAR", "max": 99, "encoding": "hex" },
    "19": { "type": "z", "length": "LLVAR", "max": 37, "encoding": "bcd", "prefix": "bcd", "pad": "right-f" },
    "20": { "type": "z", "length": "LLVAR", "max": 37 },
    "21": { "type": "x+n", "length": "fixed", "len": 8, "encoding": "bcd" },
    "22": { "type": "x+n", "length": "fixed", "len": 8 },
    "23": { "type": "an", "length": "fixed", "len": 6 },
    "24": { "type": "ans", "length": "LLVAR", "max": 20, "counts": "encoded" },
    "25": { "type": "n", "length": "LLVAR", "max": 10, "encoding": "bcd", "prefix": "binary", "pad": "right-0" },
    "26": { "type": "n", "length": "LLLLVAR", "max": 9999, "encoding": "bcd", "prefix": "bcd", "pad": "left-0" },
    "27": { "type": "z", "length": "LLVAR", "max": 37, "encoding": "bcd", "prefix": "bcd", "pad": "right-f", "raw_nibbles": true },
    "70": { "type": "n", "length": "fixed", "len": 3 },
    "128": { "type": "b", "length": "fixed", "len": 8 }
  }
}"#;

fn lab() -> Profile {
    Profile::from_json_str("lab", LAB).expect("lab profile compiles")
}

enum V {
    T(&'static str),
    B(&'static [u8]),
}

/// (field, value, expected bytes of the field on the wire incl. length prefix)
fn table() -> Vec<(u8, V, &'static str)> {
    use V::*;
    vec![
        (2, T("123"), "0123"),              // odd BCD, right-aligned, 0 pad
        (3, T("123"), "F123"),              // odd BCD, right-aligned, F pad
        (4, T("123"), "1230"),              // odd BCD, left-aligned, 0 pad
        (5, T("123"), "123F"),              // odd BCD, left-aligned, F pad
        (6, T("1234"), "1234"),             // even BCD, no pad
        (7, T("12345"), "3132333435"),      // ASCII numeric
        (8, T("12345"), "05123450"),        // LLVAR BCD: prefix counts digits (5), 3 data bytes
        (9, T("12345"), "30353132333435"),  // LLVAR ASCII prefix and data
        (10, T("123"), "00031230"),         // LLLVAR BCD prefix (2 bytes, 0-led)
        (11, T("AB"), "00024142"),          // LLLLVAR BCD prefix (2 bytes)
        (12, T("AB"), "303030324142"),      // LLLLVAR ASCII prefix (4 chars)
        (13, B(&[0xDE, 0xAD]), "02DEAD"),   // LLVAR binary prefix, 1 byte
        (14, B(&[0xDE, 0xAD]), "0002DEAD"), // LLLVAR binary prefix, 2 bytes
        (15, B(&[1, 2, 3, 4]), "01020304"), // fixed binary
        (16, B(&[1, 2, 0xAB, 0xCD]), "3031303241424344"), // fixed hex-ASCII, upper-case
        (17, B(&[0xAB, 0xCD]), "303034 41424344"), // hex-ASCII, prefix counts characters (4)
        (18, B(&[0xAB, 0xCD]), "3032 41424344"), // hex-ASCII, prefix counts bytes (2)
        (19, T("123=4"), "05 123D4F"),      // track BCD: '=' is D, odd -> F pad right
        (20, T("123=45"), "3036 3132333D3435"), // track ASCII
        (21, T("C00001234"), "43 00001234"), // x+n BCD: ASCII sign + BCD digits
        (22, T("D00001234"), "44 3030303031323334"), // x+n ASCII
        (23, T("AB 12 "), "414220313220"),  // an with spaces
        (24, T("hi!"), "3033 686921"),      // ans, prefix counts encoded bytes
        (25, T("12345"), "05 123450"),      // binary LL prefix over BCD digits
        (26, T("12345"), "0005 012345"),    // LLLLVAR BCD numeric, left pad
        (27, T("12DA4"), "05 12DA4F"),      // raw nibbles (encrypted track data) kept as hex
        (70, T("007"), "303037"),           // secondary-bitmap field
        (128, B(&[9, 8, 7, 6, 5, 4, 3, 2]), "0908070605040302"),
    ]
}

fn hexs(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).unwrap()
}

fn one_field(n: u8, v: &V) -> Message {
    let mut m = Message::new(Mti::new("0100").unwrap());
    match v {
        V::T(t) => m.set_text(n, t).unwrap(),
        V::B(b) => m.set_binary(n, b).unwrap(),
    };
    m
}

#[test]
fn each_encoding_packs_to_the_worked_out_bytes_and_back() {
    let p = lab();
    for (n, v, expected) in table() {
        let m = one_field(n, &v);
        let bytes = p.pack(&m).unwrap_or_else(|e| panic!("field {n}: {e}"));
        let head = if n > 64 { 20 } else { 12 };
        assert_eq!(
            hex::encode_upper(&bytes[head..]),
            hex::encode_upper(hexs(expected)),
            "field {n}"
        );
        assert_eq!(&bytes[..4], b"0100");
        let back = p
            .unpack(&bytes)
            .unwrap_or_else(|e| panic!("field {n}: {e}"));
        assert_eq!(back, m, "field {n} round trip");
    }
}

#[test]
fn all_fields_together_round_trip() {
    let p = lab();
    let mut m = Message::new(Mti::new("0200").unwrap());
    let mut expected_tail = Vec::new();
    for (n, v, e) in table() {
        match v {
            V::T(t) => m.set_text(n, t).unwrap(),
            V::B(b) => m.set_binary(n, b).unwrap(),
        };
        expected_tail.extend(hexs(e));
    }
    let bytes = p.pack(&m).unwrap();
    assert_eq!(&bytes[20..], &expected_tail[..]);
    assert_eq!(p.unpack(&bytes).unwrap(), m);
}

#[test]
fn secondary_bitmap_is_set_automatically() {
    let p = lab();
    let mut m = Message::new(Mti::new("0800").unwrap());
    m.set_text(7, "12345").unwrap();
    let without = p.pack(&m).unwrap();
    assert_eq!(without.len(), 4 + 8 + 5);
    assert_eq!(without[4], 0x02, "only field 7 set, bit 1 clear");
    m.set_text(70, "301").unwrap();
    let with = p.pack(&m).unwrap();
    assert_eq!(
        hex::encode_upper(&with[4..20]),
        "82000000000000000400000000000000"
    );
    // Removing the last secondary field drops the secondary bitmap again.
    assert!(m.remove(70));
    assert_eq!(p.pack(&m).unwrap(), without);
    // Field 1 cannot be set by hand.
    assert!(m.set_text(1, "x").is_err());
}

#[test]
fn hex_bitmap_secondary_and_lower_case_input() {
    let p = Profile::iso87_ascii();
    let mut m = Message::new(Mti::new("0800").unwrap());
    m.set_text(11, "000001")
        .unwrap()
        .set_text(70, "301")
        .unwrap();
    let bytes = p.pack(&m).unwrap();
    assert_eq!(&bytes[..36], b"080080200000000000000400000000000000");
    // Hosts sending lower-case hex bitmaps and binary fields are understood.
    let mut lower = bytes.clone();
    lower[4..36].make_ascii_lowercase();
    assert_eq!(p.unpack(&lower).unwrap(), m);
}

#[test]
fn numeric_setters_pad_and_getters_parse() {
    let mut m = Message::new(Mti::new("0200").unwrap());
    m.set_amount(4, 1234)
        .unwrap()
        .set_numeric(11, 7, 6)
        .unwrap();
    assert_eq!(m.text(4), Some("000000001234"));
    assert_eq!(m.amount().unwrap(), Some(1234));
    assert_eq!(m.text(11), Some("000007"));
    assert_eq!(m.stan().unwrap(), Some(7));
    assert_eq!(m.numeric(12).unwrap(), None);
    assert!(m.set_numeric(11, 1_000_000, 6).is_err());
    m.set_numeric(48, 5, 25).unwrap();
    assert_eq!(m.text(48), Some("0000000000000000000000005"));
    m.set_text(39, "Z1").unwrap();
    assert!(m.numeric(39).is_err());
}

#[test]
fn replacing_and_removing_values_keeps_the_others() {
    let mut m = Message::new(Mti::new("0200").unwrap());
    m.set_text(2, "6222021234567890123").unwrap();
    m.set_text(3, "000000").unwrap();
    m.set_text(2, "1234").unwrap(); // shorter: in place
    m.set_text(3, "00000000000000000000").unwrap(); // longer: appended
    for i in 0..200u64 {
        m.set_numeric(11, i, 300).unwrap(); // forces compaction of the value buffer
    }
    assert_eq!(m.text(2), Some("1234"));
    assert_eq!(m.text(3), Some("00000000000000000000"));
    assert_eq!(m.numeric(11).unwrap(), Some(199));
    assert_eq!(m.field_numbers().collect::<Vec<_>>(), vec![2, 3, 11]);
    assert!(m.remove(3));
    assert!(!m.remove(3));
    assert_eq!(m.len(), 2);
}

#[test]
fn mti_helpers() {
    let m = Mti::new("0200").unwrap();
    assert_eq!(m.response().unwrap().as_str(), "0210");
    assert_eq!(
        Mti::new("0800").unwrap().response().unwrap().as_str(),
        "0810"
    );
    assert!(Mti::new("0210").unwrap().response().is_none());
    assert!(Mti::new("0210").unwrap().is_response());
    assert_eq!(m.class(), 2);
    assert!(Mti::new("02A0").is_err());
    assert!(Mti::new("200").is_err());
}

#[test]
fn domain_setters_and_respond() {
    let mut req = Message::new(Mti::new("0200").unwrap());
    req.set_pan("6222021234567890123")
        .unwrap()
        .set_processing_code("000000")
        .unwrap()
        .set_stan(42)
        .unwrap()
        .set_terminal_id("10000001")
        .unwrap()
        .set_merchant_id("898310048990001")
        .unwrap();
    req.set_amount(4, 100).unwrap();
    let mut resp = req.respond(&[3, 4, 11, 41, 42, 49]).unwrap();
    assert_eq!(resp.mti().as_str(), "0210");
    assert_eq!(
        resp.field_numbers().collect::<Vec<_>>(),
        vec![3, 4, 11, 41, 42]
    );
    assert_eq!(resp.stan().unwrap(), Some(42));
    assert!(resp.pan().is_none());
    resp.set_rrn("000000000042")
        .unwrap()
        .set_auth_code("123456")
        .unwrap()
        .set_response_code("00")
        .unwrap();
    assert_eq!(
        (resp.rrn(), resp.auth_code(), resp.response_code()),
        (Some("000000000042"), Some("123456"), Some("00"))
    );
    assert_eq!(resp.terminal_id(), Some("10000001"));
    assert_eq!(resp.merchant_id(), Some("898310048990001"));
    assert_eq!(resp.processing_code(), Some("000000"));
    assert!(matches!(
        resp.respond(&[]),
        Err(smartpos_iso8583::Error::BadMti(_))
    ));
}
