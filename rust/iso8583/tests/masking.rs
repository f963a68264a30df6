//! Cardholder data and secrets never appear in `Debug` or the pretty printer (PCI DSS v4.0 §3.4.1:
//! PAN shown as first 6 + last 4 at most; track data, PIN block and MACs never shown).

use smartpos_iso8583::mask::{mask_pan, mask_track};
use smartpos_iso8583::{Frame, Message, Mti, Profile, Tpdu};

const PAN: &str = "6222021234567890123";
const TRACK2: &str = "6222021234567890123=25122201234567";
const TRACK3: &str = "996222021234567890123=1561560000000000000003000000114000025120=000000000000=000000000000=000000000";
const PIN_BLOCK: &str = "1122334455667788";
const MAC: &str = "A1A2A3A4A5A6A7A8";

fn icc() -> Vec<u8> {
    // 9F26 cryptogram, 5A PAN (F-padded), 57 track 2 equivalent, 5F20 cardholder name, 9F27 CID
    hex::decode(
        "9F2608A1B2C3D4E5F60718\
         5A0A6222021234567890123F\
         57116222021234567890123D2512220123456F\
         5F200A5A48414E472F53414E20\
         9F270180",
    )
    .unwrap()
}

fn frame() -> Frame {
    let p = Profile::cups_pos();
    let mut m = Message::new(Mti::new("0200").unwrap());
    m.set_text(2, PAN).unwrap();
    m.set_text(3, "000000").unwrap();
    m.set_amount(4, 1234).unwrap();
    m.set_numeric(11, 123, 6).unwrap();
    m.set_text(22, "021").unwrap();
    m.set_text(25, "00").unwrap();
    m.set_text(35, TRACK2).unwrap();
    m.set_text(36, TRACK3).unwrap();
    m.set_text(41, "10000001").unwrap();
    m.set_text(42, "898310048990001").unwrap();
    m.set_text(49, "156").unwrap();
    m.set_binary(52, &hex::decode(PIN_BLOCK).unwrap()).unwrap();
    m.set_binary(55, &icc()).unwrap();
    m.set_subfields(p, 60, &["22", "000001", "000", "5", "0"])
        .unwrap();
    m.set_binary(64, &hex::decode(MAC).unwrap()).unwrap();
    Frame::new(Tpdu::new(3, 0), &[0x60, 0x31, 0, 0x31, 0, 0], m)
}

fn assert_no_secrets(text: &str) {
    for secret in [
        PAN,
        "6222021234567890123F",
        "25122201234567",
        "251222012345",
        "1561560000000000000003",
        PIN_BLOCK,
        MAC,
        "5A48414E472F53414E20", // "ZHANG/SAN " hex
        "ZHANG/SAN",
    ] {
        assert!(!text.contains(secret), "{secret} leaked in:\n{text}");
    }
    // Nor the middle digits in any case, e.g. as part of a longer run.
    assert!(
        !text.contains("021234567890"),
        "PAN middle digits leaked in:\n{text}"
    );
}

#[test]
fn mask_helpers() {
    assert_eq!(mask_pan(PAN), "622202*********0123");
    assert_eq!(mask_pan("4761739001010119"), "476173******0119");
    assert_eq!(mask_pan("1234567890"), "**********");
    assert_eq!(mask_track(TRACK2), "622202*********0123=**************");
    assert_eq!(mask_track("12345"), "*****");
}

#[test]
fn debug_of_message_and_frame_is_masked() {
    let f = frame();
    let dbg = format!("{:?}", f.message);
    assert_no_secrets(&dbg);
    assert!(dbg.contains("622202*********0123"), "{dbg}");
    assert!(dbg.contains("<8 bytes, masked>"), "{dbg}");
    assert!(
        dbg.contains("9F26=A1B2C3D4E5F60718"),
        "ICC data stays readable: {dbg}"
    );
    assert!(dbg.contains("\"000000001234\""), "{dbg}");
    let dbg_frame = format!("{f:?} {:#?}", f);
    assert_no_secrets(&dbg_frame);
    // After a round trip through bytes, still masked.
    let p = Profile::cups_pos();
    let back = p.unpack_frame(&p.pack_frame(&f).unwrap()).unwrap();
    assert_no_secrets(&format!("{back:?}"));
}

#[test]
fn pretty_print_is_masked_and_decodes_icc_and_subfields() {
    let p = Profile::cups_pos();
    let text = p.pretty(&frame());
    assert_no_secrets(&text);
    for expected in [
        "TPDU    6000030000",
        "MTI     0200",
        "622202*********0123",
        "622202*********0123=**************",
        "<8 bytes, masked>",
        "9F26 = A1B2C3D4E5F60718",
        "5A = 622202*********0123",
        "57 = 622202*********0123=************",
        "5F20 = <10 bytes, masked>",
        "60.2",
        "Batch number",
        "000001",
        "Amount, transaction",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn icc_that_is_not_tlv_is_hidden() {
    let p = Profile::cups_pos();
    let mut f = frame();
    // Looks like a PAN but is not BER-TLV (length runs past the end).
    f.message
        .set_binary(55, &hex::decode("5A206222021234567890123F").unwrap())
        .unwrap();
    let text = p.pretty(&f);
    assert!(text.contains("content hidden"), "{text}");
    assert_no_secrets(&text);
    assert_no_secrets(&format!("{:?}", f.message));
}

#[test]
fn iso87_pretty_is_masked_too() {
    let p = Profile::iso87_ascii();
    let mut m = Message::new(Mti::new("0100").unwrap());
    m.set_text(2, PAN)
        .unwrap()
        .set_text(35, TRACK2)
        .unwrap()
        .set_text(45, "B6222021234567890123^ZHANG/SAN^2512")
        .unwrap();
    m.set_binary(52, &hex::decode(PIN_BLOCK).unwrap()).unwrap();
    m.set_binary(128, &hex::decode(MAC).unwrap()).unwrap();
    let text = p.pretty_message(&m);
    assert_no_secrets(&text);
    assert!(text.contains("622202*********0123"));
    assert_no_secrets(&format!("{m:?}"));
}
