//! UnionPay-style POS messages in the `cups-pos` profile: a contact-chip sale 0200 with PIN, its
//! 0210, and a sign-on 0800/0810 with working keys in field 62. The 0200 and 0800 bytes are
//! assembled by hand below, part by part (TPDU, header, BCD MTI, binary bitmap, fields), following
//! the China UnionPay POS terminal specification's conventions as documented in profiles/cups-pos.json.

use smartpos_iso8583::{CupsHeader, Frame, Message, Mti, Profile, Tpdu};

const HEADER: [u8; 6] = [0x60, 0x31, 0x00, 0x31, 0x00, 0x00];
const PAN: &str = "6222021234567890123";

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).unwrap()
}

pub fn icc_request() -> Vec<u8> {
    // 9F26 cryptogram, 9F27 CID, 9F10 IAD, 9F37 UN, 9F36 ATC, 95 TVR, 9A date, 9C type,
    // 9F02 amount, 5F2A currency, 82 AIP, 9F1A country, 9F03 other amount, 9F33, 9F34, 9F35,
    // 9F1E IFD serial, 84 DF name, 9F09, 9F41 sequence counter, 5A PAN, 57 track 2 equivalent
    let mut v = h("9F2608 1122334455667788 9F270180 9F1013 07010103A0A802010A010000000000C0B1D2E3");
    v.extend(h(
        "9F3704 A1B2C3D4 9F3602 0031 9505 0000048000 9A03 261121 9C0100 9F0206 000000001234",
    ));
    v.extend(h(
        "5F2A020156 82027C00 9F1A020156 9F0306 000000000000 9F3303 E0F1C8 9F3403 420300 9F350122",
    ));
    v.extend(h(
        "9F1E08 3132333435363738 8408 A000000333010101 9F090200 20 9F4104 00000123",
    ));
    v.extend(h(
        "5A0A 6222021234567890123F 5712 6222021234567890123D25122200000F",
    ));
    v
}

fn sale_0200() -> Frame {
    let p = Profile::cups_pos();
    let mut m = Message::new(Mti::new("0200").unwrap());
    m.set_text(2, PAN).unwrap();
    m.set_text(3, "000000").unwrap();
    m.set_amount(4, 1234).unwrap();
    m.set_numeric(11, 123, 6).unwrap();
    m.set_text(14, "2512").unwrap();
    m.set_text(22, "051").unwrap();
    m.set_text(23, "001").unwrap();
    m.set_text(25, "00").unwrap();
    m.set_text(26, "12").unwrap();
    m.set_text(35, "6222021234567890123=25122200000").unwrap();
    m.set_text(41, "10000001").unwrap();
    m.set_text(42, "898310048990001").unwrap();
    m.set_text(49, "156").unwrap();
    m.set_binary(52, &h("1122334455667788")).unwrap();
    m.set_subfields(p, 53, &["2", "6", "00000000000000"])
        .unwrap();
    m.set_binary(55, &h("9F2608 1122334455667788 9F270180"))
        .unwrap();
    m.set_subfields(p, 60, &["22", "000001", "000", "5", "0"])
        .unwrap();
    m.set_binary(64, &h("A1A2A3A4A5A6A7A8")).unwrap();
    Frame::new(Tpdu::new(0x0003, 0x0000), &HEADER, m)
}

#[test]
fn sale_0200_packs_to_hand_assembled_bytes() {
    let expected = [
        "6000030000",                           // TPDU: 60, destination 0003, source 0000
        "603100310000",                         // header
        "0200",                                 // MTI, BCD
        "702406C020C09A11", // bitmap: 2 3 4 11 14 22 23 25 26 35 41 42 49 52 53 55 60 64
        "19 62220212345678901230", // 2: LLVAR, prefix 19 digits, left-aligned, 0 pad
        "000000",           // 3
        "000000001234",     // 4
        "000123",           // 11
        "2512",             // 14
        "0510",             // 22: n3 left-aligned
        "0001",             // 23: n3 right-aligned
        "00",               // 25
        "12",               // 26
        "31 6222021234567890123D251222000000", // 35: 31 digits, '=' as D, 0 pad
        "3130303030303031", // 41 "10000001"
        "383938333130303438393930303031", // 42 "898310048990001"
        "313536",           // 49 "156"
        "1122334455667788", // 52 PIN block
        "2600000000000000", // 53
        "0015 9F26081122334455667788 9F270180", // 55: LLLVAR, BCD prefix counts bytes (15)
        "0013 22000001000500", // 60: 13 digits -> 7 bytes, 0 pad
        "A1A2A3A4A5A6A7A8", // 64 MAC
    ]
    .concat();
    let p = Profile::cups_pos();
    let bytes = p.pack_frame(&sale_0200()).unwrap();
    assert_eq!(hex::encode_upper(&bytes), hex::encode_upper(h(&expected)));
    let back = p.unpack_frame(&bytes).unwrap();
    assert_eq!(back, sale_0200());
    assert_eq!(back.message.pan(), Some(PAN));
    assert_eq!(back.message.amount().unwrap(), Some(1234));
    assert_eq!(
        back.message.text(35),
        Some("6222021234567890123=25122200000")
    );
    assert_eq!(
        back.message.subfield(p, 60, "60.2").unwrap(),
        Some("000001")
    );
    assert_eq!(back.message.subfield(p, 60, 4).unwrap(), Some("5"));
    assert_eq!(
        back.message.subfield(p, 60, "60.6").unwrap(),
        None,
        "trailing sub-field absent"
    );
    assert_eq!(
        back.message.subfield(p, 53, "PIN format").unwrap(),
        Some("2")
    );
    let hdr = CupsHeader::parse(&back.header).unwrap();
    assert_eq!(
        (hdr.application_type, hdr.version, hdr.processing_request),
        (0x60, 0x31, 0)
    );
    assert_eq!(hdr.to_bytes(), HEADER);
}

#[test]
fn sale_0200_with_full_icc_data_round_trips() {
    let p = Profile::cups_pos();
    let mut f = sale_0200();
    let icc = icc_request();
    assert!(icc.len() > 150);
    f.message.set_binary(55, &icc).unwrap();
    let bytes = p.pack_frame(&f).unwrap();
    assert_eq!(p.unpack_frame(&bytes).unwrap(), f);
}

#[test]
fn sale_response_0210_round_trips() {
    let p = Profile::cups_pos();
    let req = sale_0200();
    let mut m = Message::new(req.message.mti().response().unwrap());
    for n in [2, 3, 4, 11, 14, 22, 23, 25, 41, 42, 49] {
        m.set_bytes(n, req.message.get(n).unwrap()).unwrap();
    }
    m.set_text(12, "101530").unwrap();
    m.set_text(13, "1121").unwrap();
    m.set_text(15, "1121").unwrap();
    m.set_text(32, "00010344").unwrap();
    m.set_text(37, "101530000123").unwrap();
    m.set_text(38, "A1B2C3").unwrap();
    m.set_text(39, "00").unwrap();
    m.set_subfields(p, 44, &["03080000   ", "00010344   "])
        .unwrap();
    m.set_binary(
        55,
        &h("910A 1122334455667788 3030 7212 860F 8424000008AABBCCDDEEFF0011 8A023030"),
    )
    .unwrap();
    m.set_subfields(p, 60, &["22", "000001", "000", "5", "0"])
        .unwrap();
    m.set_subfields(p, 63, &["CUP", "ISSUER BANK 001"]).unwrap();
    m.set_binary(64, &h("0102030405060708")).unwrap();
    let frame = Frame::new(req.tpdu.unwrap().reply(), &HEADER, m);
    let bytes = p.pack_frame(&frame).unwrap();
    assert_eq!(&bytes[..5], &h("6000000003")[..], "TPDU addresses swapped");
    assert_eq!(&bytes[11..13], &[0x02, 0x10]);
    let back = p.unpack_frame(&bytes).unwrap();
    assert_eq!(back, frame);
    assert_eq!(back.message.response_code(), Some("00"));
    assert_eq!(back.message.auth_code(), Some("A1B2C3"));
    assert_eq!(back.message.subfield(p, 63, "63.1").unwrap(), Some("CUP"));
    assert_eq!(
        back.message.subfield(p, 63, "63.2").unwrap(),
        Some("ISSUER BANK 001")
    );
    assert_eq!(
        back.message.subfield(p, 44, 2).unwrap(),
        Some("00010344   ")
    );
}

#[test]
fn sign_on_0800_packs_to_hand_assembled_bytes_and_0810_round_trips() {
    let p = Profile::cups_pos();
    let mut m = Message::new(Mti::new("0800").unwrap());
    m.set_numeric(11, 1, 6).unwrap();
    m.set_text(41, "10000001").unwrap();
    m.set_text(42, "898310048990001").unwrap();
    m.set_subfield(p, 60, "60.1", "00").unwrap();
    m.set_subfield(p, 60, "60.2", "000001").unwrap();
    m.set_subfield(p, 60, "Network management information code", "003")
        .unwrap();
    m.set_subfields(p, 63, &["01 "]).unwrap();
    let frame = Frame::new(Tpdu::new(0x0003, 0), &HEADER, m);
    let expected = [
        "6000030000 603100310000 0800",
        "0020000000C00012",                                // 11 41 42 60 63
        "000001",                                          // 11
        "3130303030303031 383938333130303438393930303031", // 41 42
        "0011 000000010030",                               // 60: 11 digits, 0 pad
        "0003 303120",                                     // 63: "01 "
    ]
    .concat();
    let bytes = p.pack_frame(&frame).unwrap();
    assert_eq!(hex::encode_upper(&bytes), hex::encode_upper(h(&expected)));
    assert_eq!(p.unpack_frame(&bytes).unwrap(), frame);

    // 0810 with PIK/MAK ciphertexts and check values in field 62 (binary).
    let mut r = Message::new(Mti::new("0810").unwrap());
    r.set_numeric(11, 1, 6).unwrap();
    r.set_text(12, "101530")
        .unwrap()
        .set_text(13, "1121")
        .unwrap();
    r.set_text(32, "00010344").unwrap();
    r.set_text(37, "101530000001").unwrap();
    r.set_text(39, "00").unwrap();
    r.set_text(41, "10000001")
        .unwrap()
        .set_text(42, "898310048990001")
        .unwrap();
    r.set_subfields(p, 60, &["00", "000001", "003"]).unwrap();
    let keys: Vec<u8> = (0u8..40).map(|i| i.wrapping_mul(37) ^ 0xA5).collect();
    r.set_binary(62, &keys).unwrap();
    let reply = Frame::new(frame.tpdu.unwrap().reply(), &HEADER, r);
    let bytes = p.pack_frame(&reply).unwrap();
    let back = p.unpack_frame(&bytes).unwrap();
    assert_eq!(back, reply);
    assert_eq!(back.message.binary(62), Some(&keys[..]));
    // 62 has a 2-byte BCD prefix counting bytes: 0040.
    let at = bytes.len() - 42;
    assert_eq!(&bytes[at..at + 2], &[0x00, 0x40]);
}

#[test]
fn secondary_bitmap_in_cups_pos() {
    let p = Profile::cups_pos();
    let mut f = sale_0200();
    f.message.remove(64);
    f.message.set_binary(128, &[0x55; 8]).unwrap();
    let bytes = p.pack_frame(&f).unwrap();
    // Primary bitmap at 13..21 now has bit 1 set and bit 64 clear; secondary follows with bit 128.
    assert_eq!(
        hex::encode_upper(&bytes[13..29]),
        "F02406C020C09A100000000000000001"
    );
    assert_eq!(p.unpack_frame(&bytes).unwrap(), f);
}

#[test]
fn json_form_round_trips_and_uses_text_and_hex() {
    let p = Profile::cups_pos();
    let f = sale_0200();
    let json = p.frame_to_json(&f);
    assert_eq!(json["mti"], "0200");
    assert_eq!(json["tpdu"], "6000030000");
    assert_eq!(json["header"], "603100310000");
    assert_eq!(json["fields"]["2"], PAN);
    assert_eq!(json["fields"]["4"], "000000001234");
    assert_eq!(json["fields"]["52"], "1122334455667788");
    assert_eq!(json["fields"]["55"], "9F260811223344556677889F270180");
    assert_eq!(json["fields"]["60"], "2200000100050");
    assert_eq!(p.frame_from_json(&json).unwrap(), f);
}

#[test]
fn mac_input_covers_mti_to_the_field_before_the_mac() {
    let p = Profile::cups_pos();
    let f = sale_0200();
    let body = p.pack(&f.message).unwrap();
    let input = p.mac_input(&f.message).unwrap();
    assert_eq!(input, body[..body.len() - 8]);
    assert_eq!(
        &input[..2],
        &[0x02, 0x00],
        "starts at the MTI, not the TPDU"
    );
    // Without field 64 yet: same bytes (bit 64 set in the bitmap, MAC value ignored).
    let mut unsigned = f.message.clone();
    unsigned.remove(64);
    assert_eq!(p.mac_input(&unsigned).unwrap(), input);
    // With a secondary bitmap the MAC is field 128.
    let mut ext = unsigned.clone();
    ext.set_binary(128, &[0; 8]).unwrap();
    let ext_input = p.mac_input(&ext).unwrap();
    assert_eq!(
        ext_input,
        p.pack(&ext).unwrap()[..p.pack(&ext).unwrap().len() - 8]
    );
    assert_eq!(ext_input[2] & 0x80, 0x80, "secondary bitmap present");
}

/// Field 63 in a UnionPay response: "CUP" + an issuer name in GBK ("中国银行" = D6D0 B9FA D2F8 D0D0).
#[test]
fn gbk_issuer_name_in_field_63() {
    let p = Profile::cups_pos();
    let mut f = sale_0200();
    let gbk = h("435550 D6D0B9FAD2F8D0D0");
    f.message.set_bytes(63, &gbk).unwrap();
    let bytes = p.pack_frame(&f).unwrap();
    let back = p.unpack_frame(&bytes).unwrap();
    assert_eq!(back, f);
    assert_eq!(back.message.get(63), Some(&gbk[..]));
    assert_eq!(back.message.text(63), None, "not UTF-8");
    assert_eq!(back.message.subfield(p, 63, "63.1").unwrap(), Some("CUP"));
    assert!(matches!(
        back.message.subfield(p, 63, "63.2"),
        Err(smartpos_iso8583::Error::NotTyped { field: 63, .. })
    ));
    let json = p.frame_to_json(&back);
    assert_eq!(
        json["fields"]["63"],
        serde_json::json!({ "hex": "435550D6D0B9FAD2F8D0D0" })
    );
    assert_eq!(p.frame_from_json(&json).unwrap(), f);
    assert!(p.pretty(&back).contains("435550D6D0B9FAD2F8D0D0"));
    // UTF-8 text is allowed too, through the sub-field setter.
    let mut m = f.message.clone();
    m.remove(63);
    m.set_subfields(p, 63, &["CUP", "中国银行"]).unwrap();
    assert_eq!(m.text(63), Some("CUP中国银行"));
    assert_eq!(m.subfield(p, 63, 2).unwrap(), Some("中国银行"));
    let again = p
        .unpack_frame(
            &p.pack_frame(&Frame {
                message: m.clone(),
                ..f.clone()
            })
            .unwrap(),
        )
        .unwrap();
    assert_eq!(again.message, m);
    // Control characters are still refused, and ans fields without high_bytes refuse 0x80+.
    m.set_bytes(63, b"CUP\x01").unwrap();
    assert!(p.pack(&m).is_err());
    let iso = Profile::iso87_ascii();
    let mut im = Message::new(Mti::new("0210").unwrap());
    im.set_bytes(63, &gbk).unwrap();
    assert!(matches!(
        iso.pack(&im),
        Err(smartpos_iso8583::Error::InvalidValue {
            field: 63,
            position: 3,
            ..
        })
    ));
}
