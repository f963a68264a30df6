//! Every error kind, with the part, byte offset and reason it must report.

use serde_json::json;
use smartpos_iso8583::{Error, FieldKind, Frame, Message, Mti, Part, Profile, ProfileError};

/// The hand-assembled cups-pos sale 0200 of tests/cups_pos.rs (145 bytes). Offsets: TPDU 0, header 5,
/// MTI 11, bitmap 13, field 2 prefix 21 / data 22..32, 3 at 32, 4 at 35, 11 at 41, 14 at 44, 22 at 46,
/// 23 at 48, 25 at 50, 26 at 51, 35 prefix 52 / data 53, 41 at 69, 42 at 77, 49 at 92, 52 at 95,
/// 53 at 103, 55 prefix 111 / data 113, 60 prefix 128 / data 130, 64 at 137.
const SALE: &str = "60000300006031003100000200702406C020C09A1119622202123456789012300000000000000012340001232512051000010012316222021234567890123D25122200000031303030303030313839383331303034383939303030313135361122334455667788260000000000000000159F260811223344556677889F270180001322000001000500A1A2A3A4A5A6A7A8";

fn sale() -> Vec<u8> {
    hex::decode(SALE).unwrap()
}

fn cups() -> &'static Profile {
    Profile::cups_pos()
}

fn patched(at: usize, byte: u8) -> Vec<u8> {
    let mut b = sale();
    b[at] = byte;
    b
}

#[test]
fn the_reference_sale_unpacks() {
    let f = cups().unpack_frame(&sale()).unwrap();
    assert_eq!(sale().len(), 145);
    assert_eq!(f.message.len(), 18);
}

#[test]
fn truncated_in_every_part() {
    let s = sale();
    let cases = [
        (3, Part::Tpdu, 0, 5, 3),
        (8, Part::Header, 5, 6, 3),
        (12, Part::Mti, 11, 2, 1),
        (15, Part::PrimaryBitmap, 13, 8, 2),
        (21, Part::Field(2), 21, 1, 0),
        (25, Part::Field(2), 22, 10, 3),
        (60, Part::Field(35), 53, 16, 7),
        (144, Part::Field(64), 137, 8, 7),
    ];
    for (len, part, offset, needed, available) in cases {
        assert_eq!(
            cups().unpack_frame(&s[..len]),
            Err(Error::Truncated {
                part,
                offset,
                needed,
                available
            }),
            "input cut at {len}"
        );
    }
    assert!(matches!(
        cups().unpack_frame(&[]),
        Err(Error::Truncated {
            part: Part::Tpdu,
            ..
        })
    ));
}

#[test]
fn truncated_secondary_bitmap() {
    let mut b = sale();
    b[13] |= 0x80; // announce a secondary bitmap
    b.truncate(24);
    assert_eq!(
        cups().unpack_frame(&b),
        Err(Error::Truncated {
            part: Part::SecondaryBitmap,
            offset: 21,
            needed: 8,
            available: 3
        })
    );
}

#[test]
fn bad_bcd_digits() {
    assert_eq!(
        cups().unpack_frame(&patched(32, 0x0A)),
        Err(Error::BadBcdDigit {
            part: Part::Field(3),
            offset: 32,
            nibble: 0xA
        })
    );
    assert_eq!(
        cups().unpack_frame(&patched(11, 0x0B)),
        Err(Error::BadBcdDigit {
            part: Part::Mti,
            offset: 11,
            nibble: 0xB
        })
    );
    assert_eq!(
        cups().unpack_frame(&patched(21, 0x1A)),
        Err(Error::BadBcdDigit {
            part: Part::Field(2),
            offset: 21,
            nibble: 0xA
        })
    );
    // A D nibble is a separator only in track (z) fields.
    assert_eq!(
        cups().unpack_frame(&patched(36, 0xD0)),
        Err(Error::BadBcdDigit {
            part: Part::Field(4),
            offset: 36,
            nibble: 0xD
        })
    );
}

#[test]
fn bad_padding() {
    assert_eq!(
        cups().unpack_frame(&patched(31, 0x35)),
        Err(Error::BadPadding {
            part: Part::Field(2),
            offset: 31,
            nibble: 5,
            expected: 0
        })
    );
    // Field 23 is right-aligned: the pad is the first nibble.
    assert_eq!(
        cups().unpack_frame(&patched(48, 0x50)),
        Err(Error::BadPadding {
            part: Part::Field(23),
            offset: 48,
            nibble: 5,
            expected: 0
        })
    );
}

#[test]
fn cups_pos_accepts_an_f_pad_and_repacks_with_0() {
    let f = cups().unpack_frame(&patched(31, 0x3F)).unwrap();
    assert_eq!(f.message.pan(), Some("6222021234567890123"));
    assert_eq!(cups().pack_frame(&f).unwrap(), sale());
    // A strict profile refuses it.
    let strict_json = include_str!("../profiles/cups-pos.json")
        .replace("\"lenient_pad\": true", "\"lenient_pad\": false");
    let strict = Profile::from_json_str("strict", &strict_json).unwrap();
    assert_eq!(
        strict.unpack_frame(&patched(31, 0x3F)),
        Err(Error::BadPadding {
            part: Part::Field(2),
            offset: 31,
            nibble: 0xF,
            expected: 0
        })
    );
}

#[test]
fn length_over_max() {
    assert_eq!(
        cups().unpack_frame(&patched(21, 0x20)),
        Err(Error::LengthOverMax {
            part: Part::Field(2),
            offset: 21,
            length: 20,
            max: 19
        })
    );
    // Field 60 is n..017.
    let mut b = sale();
    b[129] = 0x18;
    assert_eq!(
        cups().unpack_frame(&b),
        Err(Error::LengthOverMax {
            part: Part::Field(60),
            offset: 128,
            length: 18,
            max: 17
        })
    );
}

#[test]
fn bad_character_for_type() {
    assert_eq!(
        cups().unpack_frame(&patched(69, 0x01)),
        Err(Error::BadCharacter {
            part: Part::Field(41),
            offset: 69,
            byte: 0x01,
            kind: FieldKind::Ans
        })
    );
    let p = Profile::iso87_ascii();
    let mut m = Message::new(Mti::new("0200").unwrap());
    m.set_text(3, "000000").unwrap().set_text(39, "00").unwrap();
    let mut b = p.pack(&m).unwrap();
    b[20 + 2] = b'A'; // field 3 starts after MTI (4) + bitmap (16)
    assert_eq!(
        p.unpack(&b),
        Err(Error::BadCharacter {
            part: Part::Field(3),
            offset: 22,
            byte: b'A',
            kind: FieldKind::N
        })
    );
    b[22] = b'0';
    b[26] = b'-'; // field 39 is an
    assert_eq!(
        p.unpack(&b),
        Err(Error::BadCharacter {
            part: Part::Field(39),
            offset: 26,
            byte: b'-',
            kind: FieldKind::An
        })
    );
    // Bad hex digit in a hex-ASCII bitmap.
    let mut b = p.pack(&m).unwrap();
    b[7] = b'G';
    assert_eq!(
        p.unpack(&b),
        Err(Error::BadCharacter {
            part: Part::PrimaryBitmap,
            offset: 7,
            byte: b'G',
            kind: FieldKind::B
        })
    );
    // Non-digit ASCII MTI.
    let mut b = p.pack(&m).unwrap();
    b[1] = b'x';
    assert_eq!(
        p.unpack(&b),
        Err(Error::BadCharacter {
            part: Part::Mti,
            offset: 1,
            byte: b'x',
            kind: FieldKind::N
        })
    );
}

#[test]
fn bad_ascii_length_prefix_and_odd_hex() {
    let p = Profile::iso87_ascii();
    let mut m = Message::new(Mti::new("0200").unwrap());
    m.set_text(2, "4761739001010119").unwrap();
    let mut b = p.pack(&m).unwrap();
    b[21] = b'X';
    assert_eq!(
        p.unpack(&b),
        Err(Error::BadLengthPrefix {
            part: Part::Field(2),
            offset: 21,
            byte: b'X'
        })
    );

    let mut m = Message::new(Mti::new("0200").unwrap());
    m.set_binary(55, &[0xAB, 0xCD]).unwrap();
    let mut b = p.pack(&m).unwrap();
    assert_eq!(&b[20..], b"004ABCD");
    b[22] = b'3';
    b.pop();
    assert_eq!(
        p.unpack(&b),
        Err(Error::OddHexLength {
            part: Part::Field(55),
            offset: 20,
            length: 3
        })
    );
}

#[test]
fn trailing_data() {
    let mut b = sale();
    b.extend_from_slice(&[0x00, 0x01]);
    assert_eq!(
        cups().unpack_frame(&b),
        Err(Error::TrailingData {
            offset: 145,
            count: 2
        })
    );
}

#[test]
fn missing_mandatory_on_pack_and_unpack() {
    let mut f = cups().unpack_frame(&sale()).unwrap();
    f.message.remove(4);
    let mti = Mti::new("0200").unwrap();
    assert_eq!(
        cups().pack_frame(&f),
        Err(Error::MissingMandatory { mti, field: 4 })
    );
    // Pack with a relaxed copy of the profile, unpack with the real one.
    let relaxed_json =
        include_str!("../profiles/cups-pos.json").replace("\"0200\": [3, 4, ", "\"0200\": [3, ");
    let relaxed = Profile::from_json_str("relaxed", &relaxed_json).unwrap();
    let bytes = relaxed.pack_frame(&f).unwrap();
    assert_eq!(
        cups().unpack_frame(&bytes),
        Err(Error::MissingMandatory { mti, field: 4 })
    );
    assert_eq!(
        cups().mandatory_fields(mti),
        vec![3, 4, 11, 22, 25, 41, 42, 49, 60]
    );
}

#[test]
fn undefined_fields() {
    // Bit 5 of the primary bitmap is in its first byte (offset 13).
    assert_eq!(
        cups().unpack_frame(&patched(13, 0x78)),
        Err(Error::UndefinedField {
            field: 5,
            profile: "cups-pos".into(),
            offset: Some(13)
        })
    );
    let mut f = cups().unpack_frame(&sale()).unwrap();
    f.message.set_text(5, "000000000001").unwrap();
    assert_eq!(
        cups().pack_frame(&f),
        Err(Error::UndefinedField {
            field: 5,
            profile: "cups-pos".into(),
            offset: None
        })
    );
    let e = cups()
        .unpack_frame(&patched(13, 0x78))
        .unwrap_err()
        .to_string();
    assert!(e.contains("field 5") && e.contains("byte 13"), "{e}");
}

#[test]
fn bad_field_numbers() {
    let mut m = Message::new(Mti::new("0200").unwrap());
    assert_eq!(m.set_text(1, "x").err(), Some(Error::BadFieldNumber(1)));
    assert_eq!(m.set_text(0, "x").err(), Some(Error::BadFieldNumber(0)));
    assert_eq!(m.set_text(129, "x").err(), Some(Error::BadFieldNumber(129)));
    assert!(!m.has(1) && !m.has(200) && m.get(0).is_none());
}

#[test]
fn pack_side_value_errors() {
    let p = cups();
    let mut f = p.unpack_frame(&sale()).unwrap();
    f.message.set_text(3, "00000A").unwrap();
    assert_eq!(
        p.pack_frame(&f),
        Err(Error::InvalidValue {
            field: 3,
            position: 5,
            byte: b'A',
            kind: FieldKind::N
        })
    );
    f.message.set_text(3, "0000").unwrap();
    assert_eq!(
        p.pack_frame(&f),
        Err(Error::WrongLength {
            field: 3,
            length: 4,
            expected: 6
        })
    );
    f.message.set_text(3, "000000").unwrap();
    f.message.set_text(2, "62220212345678901234").unwrap();
    assert_eq!(
        p.pack_frame(&f),
        Err(Error::ValueTooLong {
            field: 2,
            length: 20,
            max: 19
        })
    );
    f.message.set_text(2, "6222021234567890123").unwrap();
    f.message.set_text(35, "6222021234567890123^2512").unwrap();
    assert_eq!(
        p.pack_frame(&f),
        Err(Error::InvalidValue {
            field: 35,
            position: 19,
            byte: b'^',
            kind: FieldKind::Z
        })
    );
    f.message.set_binary(52, &[1, 2, 3]).unwrap();
    f.message.remove(35);
    assert_eq!(
        p.pack_frame(&f),
        Err(Error::WrongLength {
            field: 52,
            length: 3,
            expected: 8
        })
    );
    // x+n without its sign.
    let iso = Profile::iso87_ascii();
    let mut m = Message::new(Mti::new("0220").unwrap());
    m.set_text(28, "000000150").unwrap();
    assert_eq!(
        iso.pack(&m),
        Err(Error::InvalidValue {
            field: 28,
            position: 0,
            byte: b'0',
            kind: FieldKind::XN
        })
    );
}

#[test]
fn envelope_mismatch_and_bad_mti() {
    let p = cups();
    let f = p.unpack_frame(&sale()).unwrap();
    assert_eq!(
        p.pack_frame(&Frame::bare(f.message.clone())),
        Err(Error::EnvelopeMismatch {
            part: Part::Tpdu,
            expected: 5,
            actual: 0
        })
    );
    let mut short = f.clone();
    short.header.pop();
    assert_eq!(
        p.pack_frame(&short),
        Err(Error::EnvelopeMismatch {
            part: Part::Header,
            expected: 6,
            actual: 5
        })
    );
    assert_eq!(
        Profile::iso87_ascii().pack_frame(&f),
        Err(Error::EnvelopeMismatch {
            part: Part::Tpdu,
            expected: 0,
            actual: 5
        })
    );
    assert_eq!(Mti::new("02x0"), Err(Error::BadMti("02x0".into())));
}

#[test]
fn subfield_errors() {
    let p = cups();
    let mut m = Message::new(Mti::new("0200").unwrap());
    assert!(matches!(
        m.subfield(p, 3, 1),
        Err(Error::NoSubfields { field: 3, .. })
    ));
    assert!(matches!(
        m.subfield(p, 5, 1),
        Err(Error::UndefinedField { field: 5, .. })
    ));
    assert_eq!(
        m.subfield(p, 60, "60.9"),
        Err(Error::UnknownSubfield {
            field: 60,
            key: "60.9".into()
        })
    );
    assert_eq!(
        m.subfield(p, 60, 0),
        Err(Error::UnknownSubfield {
            field: 60,
            key: "#0".into()
        })
    );
    assert_eq!(
        m.subfield(p, 60, 8),
        Err(Error::UnknownSubfield {
            field: 60,
            key: "#8".into()
        })
    );
    assert_eq!(m.subfield(p, 60, 1), Ok(None), "absent field");
    m.set_subfield(p, 60, "60.1", "22").unwrap();
    assert_eq!(
        m.set_subfield(p, 60, "60.3", "000").err(),
        Some(Error::SubfieldGap {
            field: 60,
            key: "60.3".into(),
            missing: "60.2".into()
        })
    );
    assert!(matches!(
        m.set_subfield(p, 60, "60.2", "12"),
        Err(Error::InvalidSubfield { field: 60, .. })
    ));
    assert!(matches!(
        m.set_subfield(p, 60, "60.2", "00000A"),
        Err(Error::InvalidSubfield { field: 60, .. })
    ));
    assert!(matches!(
        m.set_subfields(p, 60, &["22", "000001", "000", "5", "0", "0", "000", "1"]),
        Err(Error::UnknownSubfield { .. })
    ));
    // A stored value that ends inside a sub-field.
    m.set_text(60, "2200001").unwrap();
    let e = m.subfield(p, 60, "60.2").unwrap_err();
    assert!(
        matches!(&e, Error::InvalidSubfield { field: 60, key, .. } if key == "60.2"),
        "{e}"
    );
    // Replacing an earlier sub-field keeps later ones.
    m.set_subfields(p, 60, &["22", "000001", "000"]).unwrap();
    m.set_subfield(p, 60, 2, "000777").unwrap();
    assert_eq!(m.text(60), Some("22000777000"));
    let all: Vec<_> = m
        .subfields(p, 60)
        .unwrap()
        .into_iter()
        .map(|(s, v)| (s.id.as_str(), v))
        .collect();
    assert_eq!(
        all,
        vec![("60.1", "22"), ("60.2", "000777"), ("60.3", "000")]
    );
}

#[test]
fn not_typed_and_json_errors() {
    let mut m = Message::new(Mti::new("0200").unwrap());
    m.set_text(11, "12a456").unwrap();
    assert!(matches!(m.stan(), Err(Error::NotTyped { field: 11, .. })));
    let p = cups();
    for bad in [
        json!([1, 2]),
        json!({"fields": {}}),
        json!({"mti": "0200", "extra": 1}),
        json!({"mti": "0200", "tpdu": "60"}),
        json!({"mti": "0200", "fields": {"x": "1"}}),
        json!({"mti": "0200", "fields": {"52": "XYZ"}}),
        json!({"mti": "0200", "fields": {"3": 0}}),
    ] {
        assert!(
            matches!(p.frame_from_json(&bad), Err(Error::Json(_))),
            "{bad}"
        );
    }
    assert!(matches!(
        p.frame_from_json(&json!({"mti": "0200", "fields": {"5": "1"}})),
        Err(Error::UndefinedField { .. })
    ));
}

#[test]
fn profile_errors() {
    let ok = r#"{"name":"t","mti":"ascii","bitmap":"hex","fields":{"2":{"type":"n","length":"LLVAR","max":19}}}"#;
    assert!(Profile::from_json_str("t", ok).is_ok());
    let bad = [
        ("not json", "{"),
        (
            "unknown key",
            r#"{"name":"t","mti":"ascii","bitmap":"hex","fields":{},"oops":1}"#,
        ),
        (
            "bad mti",
            r#"{"name":"t","mti":"ebcdic","bitmap":"hex","fields":{}}"#,
        ),
        (
            "field 1",
            r#"{"name":"t","mti":"ascii","bitmap":"hex","fields":{"1":{"type":"b","length":"fixed","len":8}}}"#,
        ),
        (
            "bad type",
            r#"{"name":"t","mti":"ascii","bitmap":"hex","fields":{"2":{"type":"q","length":"fixed","len":8}}}"#,
        ),
        (
            "max too big",
            r#"{"name":"t","mti":"ascii","bitmap":"hex","fields":{"2":{"type":"n","length":"LLVAR","max":100}}}"#,
        ),
        (
            "bcd ans",
            r#"{"name":"t","mti":"ascii","bitmap":"hex","fields":{"2":{"type":"ans","length":"fixed","len":3,"encoding":"bcd"}}}"#,
        ),
        (
            "encoded bcd",
            r#"{"name":"t","mti":"ascii","bitmap":"hex","fields":{"2":{"type":"n","length":"LLVAR","max":9,"encoding":"bcd","counts":"encoded"}}}"#,
        ),
        (
            "no len",
            r#"{"name":"t","mti":"ascii","bitmap":"hex","fields":{"2":{"type":"n","length":"fixed"}}}"#,
        ),
        (
            "subfields too long",
            r#"{"name":"t","mti":"ascii","bitmap":"hex","fields":{"60":{"type":"n","length":"LLVAR","max":3,"subfields":[{"id":"60.1","type":"n","len":4}]}}}"#,
        ),
        (
            "high_bytes on n",
            r#"{"name":"t","mti":"ascii","bitmap":"hex","fields":{"2":{"type":"n","length":"fixed","len":3,"high_bytes":true}}}"#,
        ),
        (
            "raw_nibbles on ascii z",
            r#"{"name":"t","mti":"ascii","bitmap":"hex","fields":{"35":{"type":"z","length":"LLVAR","max":37,"raw_nibbles":true}}}"#,
        ),
        (
            "mandatory undefined",
            r#"{"name":"t","mti":"ascii","bitmap":"hex","fields":{},"mandatory":{"0200":[3]}}"#,
        ),
    ];
    for (what, json) in bad {
        assert!(
            Profile::from_json_str(what, json).is_err(),
            "{what} should be rejected"
        );
    }
    assert!(matches!(
        Profile::from_json_str("x", "{"),
        Err(ProfileError::Json { .. })
    ));
    assert!(matches!(
        Profile::load("no-such-profile"),
        Err(ProfileError::Unknown(_))
    ));
    assert!(matches!(
        Profile::from_file(std::path::Path::new("/nonexistent/p.json")),
        Err(ProfileError::Io { .. })
    ));
    assert_eq!(Profile::load("cups-pos").unwrap().name(), "cups-pos");
    let e = Profile::from_json_str("t", bad[5].1)
        .unwrap_err()
        .to_string();
    assert!(e.contains("field 2") && e.contains("99"), "{e}");
}

#[test]
fn user_profile_file_loads() {
    let dir = std::env::temp_dir().join(format!("iso8583-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("mine.json");
    std::fs::write(
        &path,
        include_str!("../profiles/iso87-ascii.json").replace("iso87-ascii", "mine"),
    )
    .unwrap();
    let p = Profile::load(path.to_str().unwrap()).unwrap();
    assert_eq!(p.name(), "mine");
    assert_eq!(p.field(55).unwrap().kind, FieldKind::B);
    std::fs::remove_dir_all(&dir).unwrap();
}
