//! Reader, builder and tag tests (EMV Book 3 Annex B).

use smartpos_tlv::{
    Class, Padding, Tag, TlvBuilder, TlvError, TlvNode, TlvReader, encode, encode_length,
    encoded_length_len, find, find_path, parse_all, parse_one, parse_tag_list, validate,
};

/// Hex to bytes; spaces are ignored so test data can show the structure.
fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).unwrap()
}

// Source: javisHuang/Learn emv/Initiate_Application.md, "SelectCard" PPSE response of a Visa debit
// card (SELECT 2PAY.SYS.DDF01), status word 9000 removed.
const PPSE_VISA_DEBIT: &str = "6F2F840E325041592E5359532E4444463031A51DBF0C1A61184F07A0000000031010500A56495341204445424954870101";

// Source: javisHuang/Learn emv/Initiate_Application.md, SELECT AID response of a "VISA Classic"
// application (FCI with PDOL 9F1A025F2A02).
const FCI_VISA_CLASSIC: &str = "6F378407A1234567891010A52C5004564953418701029F38069F1A025F2A025F2D046E6F656E9F1101019F120C5649534120436C6173736963";

#[test]
fn ppse_response_tree() {
    let data = h(PPSE_VISA_DEBIT);
    let top = parse_all(&data).unwrap();
    assert_eq!(top.len(), 1);
    let fci = top[0];
    assert_eq!(fci.tag, Tag::FCI_TEMPLATE);
    assert_eq!(fci.offset, 0);
    assert_eq!(fci.raw, &data[..]);
    let children: Vec<_> = fci.children().map(Result::unwrap).collect();
    assert_eq!(children.len(), 2);
    assert_eq!(children[0].tag, Tag::DF_NAME);
    assert_eq!(children[0].value, b"2PAY.SYS.DDF01");
    assert_eq!(children[0].offset, 2);
    assert_eq!(children[1].tag, Tag::FCI_PROPRIETARY_TEMPLATE);
    let aid = find(&data, Tag::AID).unwrap().unwrap();
    assert_eq!(aid.value, h("A0000000031010"));
    let label = find_path(
        &data,
        &[
            Tag::FCI_TEMPLATE,
            Tag::FCI_PROPRIETARY_TEMPLATE,
            Tag::FCI_ISSUER_DISCRETIONARY_DATA,
            Tag::APPLICATION_TEMPLATE,
            Tag::APPLICATION_LABEL,
        ],
    )
    .unwrap()
    .unwrap();
    assert_eq!(label.value, b"VISA DEBIT");
    // The label's absolute offset: 6F 2F | 84 0E (14) | A5 1D | BF0C 1A | 61 18 | 4F 07 (7) | 50
    assert_eq!(label.offset, 2 + 16 + 2 + 3 + 2 + 9);
    assert_eq!(
        find(&data, Tag::APPLICATION_PRIORITY_INDICATOR)
            .unwrap()
            .unwrap()
            .value,
        [1]
    );
    // A path that stops matching.
    assert_eq!(
        find_path(&data, &[Tag::FCI_TEMPLATE, Tag::AID]).unwrap(),
        None
    );
    assert_eq!(find_path(&data, &[]).unwrap(), None);
    assert_eq!(find(&data, Tag::PAN).unwrap(), None);
    validate(&data).unwrap();
}

#[test]
fn fci_with_pdol() {
    let data = h(FCI_VISA_CLASSIC);
    let pdol = find(&data, Tag::PDOL).unwrap().unwrap();
    assert_eq!(pdol.value, h("9F1A025F2A02"));
    let name = find(&data, Tag::APPLICATION_PREFERRED_NAME)
        .unwrap()
        .unwrap();
    assert_eq!(name.value, b"VISA Classic");
    let a5 = find(&data, Tag::FCI_PROPRIETARY_TEMPLATE).unwrap().unwrap();
    assert_eq!(
        a5.child(Tag::APPLICATION_LABEL).unwrap().unwrap().value,
        b"VISA"
    );
    assert_eq!(a5.child(Tag::AID).unwrap(), None);
    // Re-encoding the owned tree gives back the same bytes.
    let nodes = TlvNode::parse_all(&data).unwrap();
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0].to_bytes(), data);
    assert_eq!(nodes[0].children[1].children.len(), 6);
}

#[test]
fn padding_00_and_ff_is_skipped() {
    // Annex B1: '00' bytes before, between and after objects; 'FF' likewise (ISO/IEC 7816-4).
    let data = h("00FF 5A021234 0000FF 9F270180 0000 A505 0000870101 FF");
    let all = parse_all(&data).unwrap();
    let tags: Vec<Tag> = all.iter().map(|t| t.tag).collect();
    assert_eq!(tags, [Tag::PAN, Tag::CID, Tag::FCI_PROPRIETARY_TEMPLATE]);
    assert_eq!(all[0].offset, 2);
    assert_eq!(all[1].offset, 9);
    let inner: Vec<_> = all[2].children().map(Result::unwrap).collect();
    assert_eq!(inner.len(), 1);
    assert_eq!(inner[0].tag, Tag::APPLICATION_PRIORITY_INDICATOR);
    assert_eq!(inner[0].offset, 19);
    // Only padding: no objects, no error.
    assert!(parse_all(&h("0000FFFF")).unwrap().is_empty());
    assert!(parse_all(&[]).unwrap().is_empty());
}

#[test]
fn long_form_lengths() {
    for (len, header) in [
        (0usize, "00"),
        (127, "7F"),
        (128, "8180"),
        (255, "81FF"),
        (256, "820100"),
        (65535, "82FFFF"),
        (65536, "83010000"),
    ] {
        let mut out = Vec::new();
        encode_length(len, &mut out);
        assert_eq!(hex::encode_upper(&out), header, "length {len}");
        assert_eq!(encoded_length_len(len), out.len());
        let value = vec![0xAB; len];
        let enc = encode(Tag(0x9F10), &value);
        assert_eq!(enc.len(), 2 + header.len() / 2 + len);
        let tlv = parse_one(&enc).unwrap();
        assert_eq!(tlv.tag, Tag(0x9F10));
        assert_eq!(tlv.value.len(), len);
    }
    // Non-minimal long forms are valid BER and accepted on input.
    for data in [
        "5A81021234",
        "5A8200021234",
        "5A830000021234",
        "5A84000000021234",
    ] {
        let bytes = h(data);
        let tlv = parse_one(&bytes).unwrap();
        assert_eq!(tlv.value, [0x12, 0x34], "{data}");
    }
    let mut out = Vec::new();
    encode_length(0x0100_0000, &mut out);
    assert_eq!(out, h("8401000000"));
}

#[test]
fn multi_byte_tags() {
    let data = h("DF812908F0000000000000009F3704AABBCCDD5F2A020978BF0C035A0100");
    let all = parse_all(&data).unwrap();
    assert_eq!(all[0].tag, Tag(0xDF8129));
    assert_eq!(all[0].tag.to_string(), "DF8129");
    assert_eq!(all[0].value.len(), 8);
    assert_eq!(all[1].tag, Tag::UNPREDICTABLE_NUMBER);
    assert_eq!(all[2].tag, Tag::TRANSACTION_CURRENCY_CODE);
    assert_eq!(all[3].tag, Tag::FCI_ISSUER_DISCRETIONARY_DATA);
    assert!(all[3].is_constructed());
    // 4-byte tag: DF 81 81 01
    let bytes = h("DF8181010199");
    let four = parse_one(&bytes).unwrap();
    assert_eq!(four.tag, Tag(0xDF81_8101));
    assert_eq!(four.tag.len(), 4);
}

#[test]
fn tag_properties() {
    assert_eq!(Tag::from_bytes(&[0x9F, 0x26]), Ok(Tag(0x9F26)));
    assert_eq!(Tag::from_bytes(&[0xDF, 0x81, 0x29]), Ok(Tag(0xDF8129)));
    assert_eq!(Tag::from_bytes(&[0x5A]), Ok(Tag::PAN));
    assert_eq!(
        Tag::from_bytes(&[0x5A, 0x00]),
        Err(TlvError::TrailingBytes { offset: 1 })
    );
    assert_eq!(Tag::from_bytes(&[]), Err(TlvError::Empty { offset: 0 }));
    assert_eq!(
        Tag::from_bytes(&[0x9F]),
        Err(TlvError::TruncatedTag { offset: 0 })
    );
    assert_eq!(
        Tag::from_bytes(&[0xDF, 0x81]),
        Err(TlvError::TruncatedTag { offset: 0 })
    );
    assert_eq!(Tag::decode(&[0x9F, 0x02, 0x06]), Ok((Tag(0x9F02), 2)));
    assert_eq!(&*Tag(0xDF8129).to_bytes(), &[0xDF, 0x81, 0x29]);
    assert_eq!(&*Tag(0x5A).to_bytes(), &[0x5A]);
    assert_eq!(&*Tag(0).to_bytes(), &[0x00]);
    assert_eq!(Tag(0x9F02).to_string(), "9F02");
    assert_eq!(Tag(0x5A).to_string(), "5A");
    assert_eq!(Tag(0x05).to_string(), "05");
    assert_eq!(format!("{:?}", Tag(0xBF0C)), "Tag(BF0C)");
    assert!(Tag(0x6F).is_constructed());
    assert!(Tag(0xBF0C).is_constructed());
    assert!(Tag(0xA5).is_constructed());
    assert!(Tag(0xFF8105).is_constructed());
    assert!(!Tag(0x9F26).is_constructed());
    assert!(!Tag(0xDF8129).is_constructed());
    assert_eq!(Tag(0x01).class(), Class::Universal);
    assert_eq!(Tag(0x5A).class(), Class::Application);
    assert_eq!(Tag(0x9F26).class(), Class::ContextSpecific);
    assert_eq!(Tag(0xDF8129).class(), Class::Private);
    assert!(Tag(0x9F26).is_valid());
    assert!(Tag(0xDF8129).is_valid());
    assert!(!Tag(0x9F).is_valid(), "9F announces a second byte");
    assert!(!Tag(0x5A01).is_valid(), "5A is a one-byte tag");
    assert!(!Tag(0x9F81).is_valid(), "81 announces a third byte");
    assert!(!Tag(0x00).is_valid());
    assert!(!Tag(0xFF01).is_valid(), "FF is padding in EMV");
}

#[test]
fn builder_nested() {
    let mut b = TlvBuilder::new();
    b.push(Tag::DF_NAME, &h("A0000000031010")).push_constructed(
        Tag::FCI_PROPRIETARY_TEMPLATE,
        |b| {
            b.push(Tag::APPLICATION_LABEL, b"VISA");
            b.push_constructed(Tag::FCI_ISSUER_DISCRETIONARY_DATA, |_| {});
        },
    );
    assert_eq!(b.as_bytes(), h("8407A0000000031010A5095004564953 41BF0C00"));
    // A constructed object over 127 bytes gets a long-form length, inserted before the content.
    let mut b = TlvBuilder::new();
    b.push_constructed(Tag::READ_RECORD_TEMPLATE, |b| {
        b.push(Tag(0x9F46), &[0x11; 200]);
    });
    let out = b.finish();
    assert_eq!(&out[..6], h("7081CC9F4681").as_slice());
    assert_eq!(out[6], 200);
    assert_eq!(out.len(), 3 + 4 + 200);
    let t = find(&out, Tag(0x9F46)).unwrap().unwrap();
    assert_eq!(t.value, &[0x11; 200][..]);
    // push_tlv copies raw bytes; push_raw appends unchanged.
    let src = h("9F3602001A");
    let tlv = parse_one(&src).unwrap();
    let mut b = TlvBuilder::with_capacity(16);
    assert!(b.is_empty());
    b.push_tlv(&tlv).push_raw(&h("9A03261121"));
    assert_eq!(b.len(), 10);
    assert_eq!(b.finish(), h("9F3602001A9A03261121"));
}

#[test]
fn node_constructed_and_find() {
    let tree = TlvNode::constructed(
        Tag::RESPONSE_TEMPLATE_2,
        vec![
            TlvNode::primitive(Tag::AIP, vec![0x19, 0x80]),
            TlvNode::primitive(Tag::AFL, h("08010100")),
        ],
    );
    assert_eq!(tree.value, h("820219809404 08010100"));
    let bytes = tree.to_bytes();
    assert_eq!(bytes, h("770A8202198094040801010 0"));
    assert_eq!(tree.find(Tag::AFL).unwrap().value, h("08010100"));
    assert!(tree.find(Tag::PAN).is_none());
    let tlv = parse_one(&bytes).unwrap();
    assert_eq!(TlvNode::from_tlv(&tlv).unwrap(), tree);
}

// ---- One test per error kind, with the offset and tag each must report. ----

#[test]
fn error_truncated_tag() {
    assert_eq!(
        parse_all(&h("5A01009F")),
        Err(TlvError::TruncatedTag { offset: 3 })
    );
    assert_eq!(
        parse_all(&h("DF81")),
        Err(TlvError::TruncatedTag { offset: 0 })
    );
}

#[test]
fn error_tag_too_long() {
    assert_eq!(
        parse_all(&h("9F8181818101")),
        Err(TlvError::TagTooLong { offset: 0 })
    );
}

#[test]
fn error_missing_length() {
    assert_eq!(
        parse_all(&h("5A01129F26")),
        Err(TlvError::MissingLength {
            offset: 3,
            tag: Tag(0x9F26)
        })
    );
}

#[test]
fn error_indefinite_length() {
    assert_eq!(
        parse_all(&h("6F80840100 0000")),
        Err(TlvError::IndefiniteLength {
            offset: 1,
            tag: Tag(0x6F)
        })
    );
}

#[test]
fn error_unsupported_length_form() {
    assert_eq!(
        parse_all(&h("9F10850000000001AA")),
        Err(TlvError::UnsupportedLengthForm {
            offset: 2,
            tag: Tag(0x9F10),
            first_byte: 0x85
        })
    );
    assert!(matches!(
        parse_all(&h("9F10FF")),
        Err(TlvError::UnsupportedLengthForm {
            first_byte: 0xFF,
            ..
        })
    ));
}

#[test]
fn error_truncated_length() {
    assert_eq!(
        parse_all(&h("578201")),
        Err(TlvError::TruncatedLength {
            offset: 1,
            tag: Tag(0x57),
            needed: 3,
            available: 2
        })
    );
    assert_eq!(
        parse_all(&h("5781")),
        Err(TlvError::TruncatedLength {
            offset: 1,
            tag: Tag(0x57),
            needed: 2,
            available: 1
        })
    );
}

#[test]
fn error_value_overrun() {
    assert_eq!(
        parse_all(&h("9F02060000000001")),
        Err(TlvError::ValueOverrun {
            offset: 3,
            tag: Tag(0x9F02),
            length: 6,
            available: 5
        })
    );
    // 83 form with a huge length must be rejected, not allocated.
    assert_eq!(
        parse_all(&h("5A83FFFFFF00")),
        Err(TlvError::ValueOverrun {
            offset: 5,
            tag: Tag(0x5A),
            length: 0xFF_FFFF,
            available: 1
        })
    );
    // A child that overruns its parent (though not the buffer): offsets stay absolute.
    let data = h("7003 5A0512 9F3601FF");
    let outer = parse_all(&data).unwrap();
    assert_eq!(outer.len(), 2, "the top level is fine");
    assert_eq!(
        validate(&data),
        Err(TlvError::ValueOverrun {
            offset: 4,
            tag: Tag(0x5A),
            length: 5,
            available: 1
        })
    );
    assert_eq!(
        find(&data, Tag(0x9F36)),
        Err(TlvError::ValueOverrun {
            offset: 4,
            tag: Tag(0x5A),
            length: 5,
            available: 1
        })
    );
    assert!(TlvNode::parse_all(&data).is_err());
}

#[test]
fn error_too_deep() {
    // 40 nested 'A5' templates.
    let depth = 40;
    let mut data = vec![0x5A, 0x00];
    for _ in 0..depth {
        let mut outer = vec![0xA5];
        encode_length(data.len(), &mut outer);
        outer.extend_from_slice(&data);
        data = outer;
    }
    let err = validate(&data).unwrap_err();
    assert!(
        matches!(
            err,
            TlvError::TooDeep {
                tag: Tag(0xA5),
                max_depth: 32,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(matches!(
        find(&data, Tag::PAN),
        Err(TlvError::TooDeep { .. })
    ));
    assert!(matches!(
        TlvNode::parse_all(&data),
        Err(TlvError::TooDeep { .. })
    ));
    // The top level alone is one object.
    assert_eq!(parse_all(&data).unwrap().len(), 1);
}

#[test]
fn error_trailing_and_empty() {
    assert_eq!(
        parse_one(&h("5A0112 9A00")),
        Err(TlvError::TrailingBytes { offset: 3 })
    );
    assert_eq!(parse_one(&h("0000")), Err(TlvError::Empty { offset: 0 }));
    assert_eq!(parse_one(&h("005A0112FF")).unwrap().offset, 1);
}

#[test]
fn reader_stops_after_error() {
    let data = h("5A01129F");
    let mut r = TlvReader::new(&data);
    assert!(r.next().unwrap().is_ok());
    assert_eq!(r.remaining(), &[0x9F]);
    assert_eq!(r.next(), Some(Err(TlvError::TruncatedTag { offset: 3 })));
    assert_eq!(r.next(), None);
    assert_eq!(r.next(), None);
}

#[test]
fn error_messages_name_offset_tag_and_reason() {
    let msg = parse_all(&h("9F02060000000001")).unwrap_err().to_string();
    assert_eq!(
        msg,
        "tag 9F02: value at offset 3 declares 6 bytes but only 5 are left"
    );
    let msg = parse_all(&h("6F80")).unwrap_err().to_string();
    assert!(
        msg.contains("6F") && msg.contains("indefinite") && msg.contains("offset 1"),
        "{msg}"
    );
}

#[test]
fn primitive_has_no_children() {
    let data = h("5A02A5 01");
    let tlv = parse_one(&data).unwrap();
    assert_eq!(tlv.children().count(), 0);
    assert_eq!(tlv.child(Tag(0xA5)).unwrap(), None);
    assert_eq!(tlv.value_offset(), 2);
}

// Source: moov-io/bertlv fuzz_test.go seed corpus and tlv_test.go (real-world EMV FCI): PPSE
// response of a Mastercard card.
const PPSE_MASTERCARD: &str = "6F2F840E325041592E5359532E4444463031A51DBF0C1A61184F07A0000000041010500A4D617374657263617264870101";

#[test]
fn mastercard_ppse() {
    let data = h(PPSE_MASTERCARD);
    let app = find_path(
        &data,
        &[
            Tag::FCI_TEMPLATE,
            Tag::FCI_PROPRIETARY_TEMPLATE,
            Tag::FCI_ISSUER_DISCRETIONARY_DATA,
            Tag::APPLICATION_TEMPLATE,
        ],
    )
    .unwrap()
    .unwrap();
    let fields: Vec<(Tag, &[u8])> = app
        .children()
        .map(|t| t.map(|t| (t.tag, t.value)).unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            (Tag::AID, &h("A0000000041010")[..]),
            (Tag::APPLICATION_LABEL, &b"Mastercard"[..]),
            (Tag::APPLICATION_PRIORITY_INDICATOR, &[0x01][..]),
        ]
    );
    // Rebuilding it with the builder gives the card's bytes back.
    let mut b = TlvBuilder::new();
    b.push_constructed(Tag::FCI_TEMPLATE, |b| {
        b.push(Tag::DF_NAME, b"2PAY.SYS.DDF01");
        b.push_constructed(Tag::FCI_PROPRIETARY_TEMPLATE, |b| {
            b.push_constructed(Tag::FCI_ISSUER_DISCRETIONARY_DATA, |b| {
                b.push_constructed(Tag::APPLICATION_TEMPLATE, |b| {
                    b.push(Tag::AID, &h("A0000000041010"));
                    b.push(Tag::APPLICATION_LABEL, b"Mastercard");
                    b.push(Tag::APPLICATION_PRIORITY_INDICATOR, &[0x01]);
                });
            });
        });
    });
    assert_eq!(b.finish(), data);
}

#[test]
fn response_format_1_is_primitive() {
    // GET PROCESSING OPTIONS response, format 1 (EMV Book 3 §6.5.8.4): tag 80 holding AIP || AFL
    // without tags of their own.
    let data = h("800E 1980 08010100 10010301 18010200");
    let tlv = parse_one(&data).unwrap();
    assert_eq!(tlv.tag, Tag::RESPONSE_TEMPLATE_1);
    assert!(!tlv.is_constructed());
    assert_eq!(&tlv.value[..2], &[0x19, 0x80]);
    assert_eq!(tlv.children().count(), 0);
    validate(&data).unwrap();
}

#[test]
fn status_word_left_on_is_read_as_an_empty_90() {
    // Callers must strip SW1 SW2 first: '90 00' is itself a well-formed empty object (tag 90).
    let mut data = h(PPSE_MASTERCARD);
    data.extend_from_slice(&[0x90, 0x00]);
    let all = parse_all(&data).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].tag, Tag::ISSUER_PUBLIC_KEY_CERTIFICATE);
    assert!(all[1].value.is_empty());
}

#[test]
fn ff_tags_need_zero_only_padding() {
    // Mastercard Data Record (FF8105) holding the Outcome Parameter Set (DF8129).
    let data = h("00 FF8105 0C DF8129 08 1000000000000000 00");
    // As card data, FF is padding, and the rest happens to read as other, well-formed objects
    // (81 with 5 bytes, then 10 with none): the silent misreading that Padding::ZeroOnly avoids.
    let as_card_data: Vec<Tag> = parse_all(&data).unwrap().iter().map(|t| t.tag).collect();
    assert_eq!(as_card_data, [Tag(0x81), Tag(0x10)]);
    let record = TlvReader::new(&data)
        .padding(Padding::ZeroOnly)
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(record.tag, Tag(0xFF8105));
    assert_eq!(record.offset, 1);
    let ops: Vec<_> = record
        .children_with(Padding::ZeroOnly)
        .map(Result::unwrap)
        .collect();
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].tag, Tag(0xDF8129));
    assert_eq!(ops[0].value, h("1000000000000000"));
    // Trailing 00 is still padding; FF is not.
    let tail = h("5A0100 00 FF");
    let mut r = TlvReader::new(&tail).padding(Padding::ZeroOnly);
    assert!(r.next().unwrap().is_ok());
    assert_eq!(r.next(), Some(Err(TlvError::TruncatedTag { offset: 4 })));
}

#[test]
fn tag_lists() {
    // Static Data Authentication Tag List holding only the AIP (EMV Book 3 §10.3).
    assert_eq!(parse_tag_list(&h("82")).unwrap(), [Tag::AIP]);
    assert_eq!(
        parse_tag_list(&h("9F02 5F2A DF8129 82")).unwrap(),
        [Tag(0x9F02), Tag(0x5F2A), Tag(0xDF8129), Tag(0x82)]
    );
    assert!(parse_tag_list(&[]).unwrap().is_empty());
    assert_eq!(
        parse_tag_list(&h("829F")),
        Err(TlvError::TruncatedTag { offset: 1 })
    );
}

#[test]
fn push_present_builds_field_55_from_a_store() {
    let store = [
        (Tag::APPLICATION_CRYPTOGRAM, h("7A3C1E5B9D0F2468")),
        (Tag::CID, h("80")),
        (Tag::ATC, h("0042")),
    ];
    let get = |tag: Tag| {
        store
            .iter()
            .find(|(t, _)| *t == tag)
            .map(|(_, v)| v.as_slice())
    };
    let mut b = TlvBuilder::new();
    b.push_present(
        &[Tag::APPLICATION_CRYPTOGRAM, Tag::CID, Tag::TVR, Tag::ATC],
        get,
    );
    assert_eq!(b.finish(), h("9F26087A3C1E5B9D0F2468 9F270180 9F36020042"));
}

#[test]
fn debit_mastercard_ppse_with_asrpd() {
    // Source: MichaelsPlayground/TalkToYourCreditCardPart7 @98739970cd0223f4ebca761300500b47db660e4b
    // logfile.md, "select PPSE response" of a Debit MasterCard (SW 9000 removed).
    let data = h(
        "6f3c840e325041592e5359532e4444463031a52abf0c2761254f07a000000004101050104465626974204d6173746572436172648701019f0a0400010101",
    );
    validate(&data).unwrap();
    let label = find(&data, Tag::APPLICATION_LABEL).unwrap().unwrap();
    assert_eq!(label.value, b"Debit MasterCard");
    let asrpd = find(&data, Tag(0x9F0A)).unwrap().unwrap();
    assert_eq!(asrpd.value, [0x00, 0x01, 0x01, 0x01]);
    assert_eq!(
        smartpos_tlv::dict::name(asrpd.tag),
        Some("Application Selection Registered Proprietary Data")
    );
    let app = find(&data, Tag::APPLICATION_TEMPLATE).unwrap().unwrap();
    let tags: Vec<Tag> = app.children().map(|t| t.unwrap().tag).collect();
    assert_eq!(
        tags,
        [
            Tag::AID,
            Tag::APPLICATION_LABEL,
            Tag::APPLICATION_PRIORITY_INDICATOR,
            Tag(0x9F0A)
        ]
    );
    // The owned tree re-encodes to the card's bytes.
    let nodes = TlvNode::parse_all(&data).unwrap();
    assert_eq!(nodes[0].to_bytes(), data);
}
