//! READ RECORD per the AFL and the static data for ODA (EMV Book 3 §10.2, §10.3): SFI 1-10
//! contributes the template's value, SFI 11-30 the whole record including tag 70.
use smartpos_emv::gpo::{AflEntry, parse_afl, read_records};
use smartpos_emv::{Channel, EndReason, ScriptedCard};

#[test]
fn oda_static_data_by_sfi_range() {
    let afl = parse_afl(&hex::decode("08010101".to_owned() + "58010101").unwrap()).unwrap();
    assert_eq!(
        afl,
        vec![
            AflEntry {
                sfi: 1,
                first: 1,
                last: 1,
                oda_count: 1
            },
            AflEntry {
                sfi: 11,
                first: 1,
                last: 1,
                oda_count: 1
            }
        ]
    );
    let mut card = ScriptedCard::from_pairs(
        "3B",
        &[
            ("00B2010C00", "70045F2501019000"),
            ("00B2015C00", "7004DF0101019000"),
        ],
    )
    .unwrap();
    let mut ch = Channel::new(&mut card);
    let r = read_records(&mut ch, &afl).unwrap();
    assert_eq!(
        hex::encode_upper(&r.oda_data),
        "5F250101".to_owned() + "7004DF010101"
    );
    // Only SFI 1-10 objects enter the data store.
    assert_eq!(r.objects, vec![(0x5F25, vec![0x01])]);
    assert!(!r.oda_record_invalid);
}

#[test]
fn sfi_11_30_record_not_template_70_fails_oda_only() {
    let afl = parse_afl(&hex::decode("58010202").unwrap()).unwrap();
    let mut card = ScriptedCard::from_pairs(
        "3B",
        &[("00B2015C00", "DF01019000"), ("00B2025C00", "DF0101019000")],
    )
    .unwrap();
    let mut ch = Channel::new(&mut card);
    let r = read_records(&mut ch, &afl).unwrap();
    assert!(r.oda_record_invalid);
}

#[test]
fn afl_checks() {
    for (afl, ok) in [
        ("08010100", true),
        ("", false),
        ("080101", false),
        ("00010100", false),
        ("F8010100", false),
        ("08000100", false),
        ("08020100", false),
        ("08010102", false),
        ("09010100", false),
        ("F0010200", true),
    ] {
        assert_eq!(parse_afl(&hex::decode(afl).unwrap()).is_ok(), ok, "{afl}");
    }
    // Trailing data after the template is rejected for SFI 1-10.
    let afl = parse_afl(&hex::decode("08010100").unwrap()).unwrap();
    let mut card =
        ScriptedCard::from_pairs("3B", &[("00B2010C00", "70045F2501015A01009000")]).unwrap();
    let mut ch = Channel::new(&mut card);
    assert!(matches!(
        read_records(&mut ch, &afl),
        Err(EndReason::FormatError { .. })
    ));
}
