//! DOL parsing and building (EMV Book 3 §5.4).

use smartpos_tlv::dict::Format;
use smartpos_tlv::dol::{Dol, DolEntry, MAX_DOL_ENTRY_LEN, fit};
use smartpos_tlv::{Tag, TlvError, find};
use std::collections::HashMap;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).unwrap()
}

/// PDOL of a Visa contactless (qVSDC) application, as cards return it in the FCI: TTQ, amount,
/// other amount, terminal country, TVR, currency, date, type, unpredictable number.
const VISA_PDOL: &str = "9F66049F02069F03069F1A0295055F2A029A039C019F3704";

#[test]
fn parse_real_pdol() {
    let dol = Dol::parse(&h(VISA_PDOL)).unwrap();
    let entries: Vec<(u32, usize)> = dol.entries().iter().map(|e| (e.tag.0, e.len)).collect();
    assert_eq!(
        entries,
        [
            (0x9F66, 4),
            (0x9F02, 6),
            (0x9F03, 6),
            (0x9F1A, 2),
            (0x95, 5),
            (0x5F2A, 2),
            (0x9A, 3),
            (0x9C, 1),
            (0x9F37, 4),
        ]
    );
    assert_eq!(dol.total_len(), 33);
    assert!(dol.contains(Tag::TTQ));
    assert!(!dol.contains(Tag::PAN));
    assert_eq!(dol.to_bytes(), h(VISA_PDOL));
}

#[test]
fn build_gpo_data_for_real_pdol() {
    // A US terminal: TTQ A0000000, amount 1.00 USD, date 2007-02-03, purchase, UN 80173370.
    let terminal: HashMap<Tag, Vec<u8>> = [
        (Tag::TTQ, "A0000000"),
        (Tag::AMOUNT_AUTHORISED, "000000000100"),
        (Tag::AMOUNT_OTHER, "000000000000"),
        (Tag::TERMINAL_COUNTRY_CODE, "0840"),
        (Tag::TVR, "0000000000"),
        (Tag::TRANSACTION_CURRENCY_CODE, "0840"),
        (Tag::TRANSACTION_DATE, "070203"),
        (Tag::TRANSACTION_TYPE, "00"),
        (Tag::UNPREDICTABLE_NUMBER, "80173370"),
    ]
    .into_iter()
    .map(|(t, v)| (t, h(v)))
    .collect();
    let dol = Dol::parse(&h(VISA_PDOL)).unwrap();
    let data = dol.build(|tag| terminal.get(&tag).map(Vec::as_slice));
    assert_eq!(
        data,
        h("A0000000 000000000100 000000000000 0840 0000000000 0840 070203 00 80173370")
    );
    assert_eq!(data.len(), dol.total_len());
    // And the card side cuts it back into the same values.
    let split = dol.split(&data).unwrap();
    assert_eq!(split.len(), 9);
    for (tag, value) in split {
        assert_eq!(value, terminal[&tag].as_slice(), "{tag}");
    }
}

#[test]
fn numeric_is_left_padded_and_left_truncated() {
    let amount = h("000000012345"); // 9F02, n 12
    let src = |tag: Tag| (tag == Tag::AMOUNT_AUTHORISED).then_some(amount.as_slice());
    let longer = Dol::from_entries(vec![DolEntry {
        tag: Tag::AMOUNT_AUTHORISED,
        len: 8,
    }]);
    assert_eq!(longer.build(src), h("0000 000000012345"));
    let shorter = Dol::from_entries(vec![DolEntry {
        tag: Tag::AMOUNT_AUTHORISED,
        len: 4,
    }]);
    assert_eq!(
        shorter.build(src),
        h("00012345"),
        "n keeps the rightmost bytes"
    );
}

#[test]
fn compressed_numeric_is_right_padded_with_ff_and_right_truncated() {
    let pan = h("4761739001010119"); // 5A, cn
    let src = |tag: Tag| (tag == Tag::PAN).then_some(pan.as_slice());
    let longer = Dol::from_entries(vec![DolEntry {
        tag: Tag::PAN,
        len: 10,
    }]);
    assert_eq!(longer.build(src), h("4761739001010119 FFFF"));
    let shorter = Dol::from_entries(vec![DolEntry {
        tag: Tag::PAN,
        len: 3,
    }]);
    assert_eq!(
        shorter.build(src),
        h("476173"),
        "cn keeps the leftmost bytes"
    );
}

#[test]
fn binary_is_right_padded_with_zeros_and_right_truncated() {
    let un = h("AABBCCDD"); // 9F37, b 4
    let src = |tag: Tag| (tag == Tag::UNPREDICTABLE_NUMBER).then_some(un.as_slice());
    let longer = Dol::from_entries(vec![DolEntry {
        tag: Tag::UNPREDICTABLE_NUMBER,
        len: 6,
    }]);
    assert_eq!(longer.build(src), h("AABBCCDD0000"));
    let shorter = Dol::from_entries(vec![DolEntry {
        tag: Tag::UNPREDICTABLE_NUMBER,
        len: 2,
    }]);
    assert_eq!(shorter.build(src), h("AABB"));
}

#[test]
fn alphanumeric_is_right_padded_with_zeros_and_right_truncated() {
    let tid = b"TERM0001".to_vec(); // 9F1C, an 8
    let src = |tag: Tag| (tag == Tag(0x9F1C)).then_some(tid.as_slice());
    let longer = Dol::from_entries(vec![DolEntry {
        tag: Tag(0x9F1C),
        len: 10,
    }]);
    let mut expected = b"TERM0001".to_vec();
    expected.extend_from_slice(&[0, 0]);
    assert_eq!(longer.build(src), expected);
    let shorter = Dol::from_entries(vec![DolEntry {
        tag: Tag(0x9F1C),
        len: 4,
    }]);
    assert_eq!(shorter.build(src), b"TERM");
}

#[test]
fn absent_unknown_and_constructed_tags_give_zeros() {
    let fci_data = h("5A01FF");
    let unknown_value = h("1122");
    let dol = Dol::from_entries(vec![
        DolEntry {
            tag: Tag::TVR,
            len: 5,
        }, // known, absent
        DolEntry {
            tag: Tag(0xDF7F),
            len: 3,
        }, // unknown, absent
        DolEntry {
            tag: Tag(0xBF0C),
            len: 4,
        }, // constructed, present in the source
        DolEntry {
            tag: Tag(0x70),
            len: 2,
        }, // constructed, absent
        DolEntry {
            tag: Tag(0xDF7E),
            len: 3,
        }, // unknown to the dictionary, present: as b
        DolEntry {
            tag: Tag::TRANSACTION_TYPE,
            len: 0,
        }, // zero length
    ]);
    let data = dol.build(|tag| match tag.0 {
        0xBF0C => Some(fci_data.as_slice()),
        0xDF7E => Some(unknown_value.as_slice()),
        0x9C => Some(&[0x00][..]),
        _ => None,
    });
    assert_eq!(data, h("0000000000 000000 00000000 0000 112200"));
    assert_eq!(data.len(), dol.total_len());
}

#[test]
fn caller_formats_override_the_dictionary() {
    let dol = Dol::from_entries(vec![DolEntry {
        tag: Tag(0xDF7E),
        len: 4,
    }]);
    let value = h("1234");
    let src = |_| Some(value.as_slice());
    assert_eq!(dol.build_with(src, |_| Some(Format::N)), h("00001234"));
    assert_eq!(dol.build_with(src, |_| Some(Format::Cn)), h("1234FFFF"));
    assert_eq!(dol.build_with(src, |_| None), h("12340000"));
    let mut out = h("AA");
    dol.build_into(src, |_| Some(Format::An), &mut out);
    assert_eq!(out, h("AA 12340000"));
}

#[test]
fn fit_rules_directly() {
    let cases: &[(&str, usize, Format, &str)] = &[
        ("0123", 2, Format::N, "0123"),
        ("0123", 3, Format::N, "000123"),
        ("000123", 1, Format::N, "23"),
        ("12", 3, Format::Cn, "12FFFF"),
        ("1234F", 0, Format::Cn, ""),
        ("414243", 2, Format::A, "4142"),
        ("4142", 4, Format::Ans, "41420000"),
        ("AB", 2, Format::Var, "AB00"),
        ("", 2, Format::N, "0000"),
        ("", 2, Format::Cn, "FFFF"),
    ];
    for &(value, len, format, expected) in cases {
        let value = if value.len() % 2 == 1 {
            format!("{value}F")
        } else {
            value.to_string()
        };
        let mut out = Vec::new();
        fit(&h(&value), len, format, &mut out);
        assert_eq!(
            hex::encode_upper(&out),
            expected,
            "{value} to {len} as {format}"
        );
    }
}

#[test]
fn cdol1_from_a_card_record() {
    // A READ RECORD response holding a CDOL1: amount, UN, TVR, date, type, country, CVM results.
    let record = h("70 14 8C12 9F0206 9F3704 9505 9A03 9C01 9F1A02 9F3403");
    let cdol1 = find(&record, Tag::CDOL1).unwrap().unwrap();
    let dol = Dol::parse(cdol1.value).unwrap();
    assert_eq!(dol.entries().len(), 7);
    assert_eq!(dol.total_len(), 6 + 4 + 5 + 3 + 1 + 2 + 3);
    assert_eq!(
        dol.entries()[6],
        DolEntry {
            tag: Tag::CVM_RESULTS,
            len: 3
        }
    );
}

#[test]
fn dol_with_three_byte_tag_and_long_form_length() {
    let dol = Dol::parse(&h("DF8129 08 9F10 8120")).unwrap();
    assert_eq!(
        dol.entries(),
        [
            DolEntry {
                tag: Tag(0xDF8129),
                len: 8
            },
            DolEntry {
                tag: Tag(0x9F10),
                len: 32
            }
        ]
    );
    assert_eq!(
        Dol::parse(&h("9F10 81FF")).unwrap().total_len(),
        MAX_DOL_ENTRY_LEN
    );
    assert_eq!(Dol::parse(&[]).unwrap().total_len(), 0);
}

#[test]
fn dol_errors() {
    assert_eq!(
        Dol::parse(&h("9F0206 9F")),
        Err(TlvError::TruncatedTag { offset: 3 })
    );
    assert_eq!(
        Dol::parse(&h("9F0206 9F37")),
        Err(TlvError::MissingLength {
            offset: 3,
            tag: Tag(0x9F37)
        })
    );
    assert_eq!(
        Dol::parse(&h("9F37 80")),
        Err(TlvError::IndefiniteLength {
            offset: 2,
            tag: Tag(0x9F37)
        })
    );
    assert_eq!(
        Dol::parse(&h("9F37 81")),
        Err(TlvError::TruncatedLength {
            offset: 2,
            tag: Tag(0x9F37),
            needed: 2,
            available: 1
        })
    );
    assert_eq!(
        Dol::parse(&h("9A03 9F10 820100")),
        Err(TlvError::DolLengthTooLong {
            offset: 2,
            tag: Tag(0x9F10),
            length: 256
        })
    );
    assert_eq!(
        Dol::parse(&h("9F10 8400010000")),
        Err(TlvError::DolLengthTooLong {
            offset: 0,
            tag: Tag(0x9F10),
            length: 65536
        })
    );
    assert_eq!(
        Dol::parse(&h("9F8181818101")),
        Err(TlvError::TagTooLong { offset: 0 })
    );
    let dol = Dol::parse(&h("9A03 9C01")).unwrap();
    assert_eq!(
        dol.split(&h("261121")),
        Err(TlvError::DolDataLength {
            expected: 4,
            actual: 3
        })
    );
    assert_eq!(
        dol.split(&h("2611210000")),
        Err(TlvError::DolDataLength {
            expected: 4,
            actual: 5
        })
    );
}
