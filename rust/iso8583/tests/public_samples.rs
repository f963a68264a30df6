//! UnionPay-style POS messages published in open-source projects' tests, decoded with `cups-pos`.
//! Facts only (the message bytes); the expected field values below were read off the bytes by hand.

use smartpos_iso8583::{Frame, Profile};

/// Sign-on response 0810 with working keys in field 62 (40 bytes).
/// Source: github.com/rufus123456/Java8583Sample, src/test/java/cn/rufus/java8583sample/IsoTest.java
/// (`qiandaoString`); the leading `0079` is the 2-byte TCP length, not part of the frame.
const SIGN_ON_0810: &str = "007960000000046031003100000810003800010AC000140134870918340322084861584032313033323230393138333430303030323130303031383631343430333630313230303231001100000001003F0040A0F4BAB158444777DCCEFA04F3B4652318ECC792EF3AEC72A5011D350000000000000000F1737A9E";

/// A purchase response body (bitmap onwards; no TPDU, header or MTI in the sample).
/// Source: github.com/soloicesky/ISO8583-CUP-FOR-JAVA-, src/com/cup/iso8583/Main.java (second
/// `parseISO8583Msg` call). Here framed with TPDU 6000000000, header 603100310000 and MTI 0210.
const SALE_0210_BODY: &str = "703E00810ED088131960138220005949887870000000000000000001000135112604103149121231000812345678303030303030303034383038303032303938303031323334353637383132333435363738393031323334352238383838383838383838383636363636363636363636313536061000000000000000142200004900050100034355503343333430354239";

#[test]
fn sign_on_response_from_java8583sample() {
    let p = Profile::cups_pos();
    let bytes = hex::decode(&SIGN_ON_0810[4..]).unwrap();
    assert_eq!(bytes.len(), 0x79);
    let f: Frame = p.unpack_frame(&bytes).unwrap();
    assert_eq!(f.tpdu.unwrap().to_bytes(), [0x60, 0x00, 0x00, 0x00, 0x04]);
    let m = &f.message;
    assert_eq!(m.mti().as_str(), "0810");
    assert_eq!(
        m.field_numbers().collect::<Vec<_>>(),
        vec![11, 12, 13, 32, 37, 39, 41, 42, 60, 62]
    );
    assert_eq!(m.stan().unwrap(), Some(13487));
    assert_eq!(m.text(12), Some("091834"));
    assert_eq!(m.text(32), Some("48615840"));
    assert_eq!(m.rrn(), Some("210322091834"));
    assert_eq!(m.response_code(), Some("00"));
    assert_eq!(m.terminal_id(), Some("00210001"));
    assert_eq!(m.merchant_id(), Some("861440360120021"));
    // Field 60 is 11 digits padded with F in this sample (the profile packs 0, accepts both).
    assert_eq!(m.text(60), Some("00000001003"));
    assert_eq!(m.subfield(p, 60, "60.3").unwrap(), Some("003"));
    assert_eq!(m.binary(62).map(<[u8]>::len), Some(40));
    // Re-packing differs only in that pad nibble.
    let repacked = p.pack_frame(&f).unwrap();
    let mut expected = bytes.clone();
    let at = expected
        .windows(6)
        .position(|w| w == [0x00, 0x11, 0x00, 0x00, 0x00, 0x01])
        .unwrap()
        + 7;
    assert_eq!(expected[at], 0x3F);
    expected[at] = 0x30;
    assert_eq!(repacked, expected);
}

#[test]
fn purchase_response_from_iso8583_cup_for_java() {
    let p = Profile::cups_pos();
    let framed = format!("60000000006031003100000210{SALE_0210_BODY}");
    let bytes = hex::decode(&framed).unwrap();
    let f = p.unpack_frame(&bytes).unwrap();
    let m = &f.message;
    assert_eq!(
        m.field_numbers().collect::<Vec<_>>(),
        vec![
            2, 3, 4, 11, 12, 13, 14, 15, 25, 32, 37, 38, 39, 41, 42, 44, 49, 53, 60, 63, 64
        ]
    );
    assert_eq!(m.pan(), Some("6013822000594988787"));
    assert_eq!(m.amount().unwrap(), Some(1));
    assert_eq!(m.rrn(), Some("000000004808"));
    assert_eq!(m.auth_code(), Some("002098"));
    assert_eq!(m.response_code(), Some("00"));
    assert_eq!(m.subfield(p, 44, "44.1").unwrap(), Some("88888888888"));
    assert_eq!(m.subfield(p, 60, "Batch number").unwrap(), Some("000049"));
    assert_eq!(m.subfield(p, 63, "63.1").unwrap(), Some("CUP"));
    assert_eq!(m.text(49), Some("156"));
    // Byte-identical round trip.
    assert_eq!(p.pack_frame(&f).unwrap(), bytes);
}

/// A purchase request body with an encrypted track 2 (nibbles B, C... inside field 35).
/// Source: github.com/soloicesky/ISO8583-CUP-FOR-JAVA-, src/com/cup/iso8583/Main.java (first
/// `parseISO8583Msg` call). Framed here with TPDU, header and MTI 0200.
const SALE_0200_ENCRYPTED_TRACK_BODY: &str = "3020048020C08811000000000000000001000139022000376013822000594988787DB26C2C1903514D8900313233343536373831323334353637383930313233343531353606100000000000000014220000490005013532413644424543";

#[test]
fn encrypted_track_needs_raw_nibbles() {
    let framed = format!("60000000006031003100000200{SALE_0200_ENCRYPTED_TRACK_BODY}");
    let bytes = hex::decode(&framed).unwrap();
    // The stock profile rejects the ciphertext nibble B in field 35 (track data is digits and '=').
    let err = Profile::cups_pos().unpack_frame(&bytes).unwrap_err();
    assert_eq!(
        err,
        smartpos_iso8583::Error::BadBcdDigit {
            part: smartpos_iso8583::Part::Field(35),
            offset: 47,
            nibble: 0xB
        }
    );
    // A profile with "raw_nibbles" on field 35 keeps every nibble.
    let json = include_str!("../profiles/cups-pos.json").replace(
        r#""type": "z", "length": "LLVAR", "max": 37 }"#,
        r#""type": "z", "length": "LLVAR", "max": 37, "raw_nibbles": true }"#,
    );
    let p = Profile::from_json_str("cups-pos-track-encryption", &json).unwrap();
    assert!(p.field(35).unwrap().raw_nibbles);
    let f = p.unpack_frame(&bytes).unwrap();
    let m = &f.message;
    assert_eq!(m.text(35), Some("6013822000594988787DB26C2C1903514D890"));
    assert_eq!(m.text(22), Some("022"));
    assert_eq!(m.text(41), Some("12345678"));
    assert_eq!(m.text(42), Some("123456789012345"));
    assert_eq!(m.subfield(&p, 60, "60.2").unwrap(), Some("000049"));
    assert_eq!(p.pack_frame(&f).unwrap(), bytes);
    // Masked like any track: PAN part first 6 + last 4, the rest starred.
    let shown = p.pretty(&f);
    assert!(
        shown.contains("601382*********8787=*****************"),
        "{shown}"
    );
    assert!(!shown.contains("B26C2C19"), "{shown}");
    // raw_nibbles is refused where it makes no sense.
    let bad = include_str!("../profiles/cups-pos.json").replace(
        r#""type": "n", "length": "fixed", "len": 6 },"#,
        r#""type": "n", "length": "fixed", "len": 6, "raw_nibbles": true },"#,
    );
    assert!(Profile::from_json_str("bad", &bad).is_err());
}
