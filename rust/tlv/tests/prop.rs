//! Property tests: no panic and consistent answers on arbitrary bytes (the fuzz targets' bodies,
//! on stable), and build → parse → equal round trips.

use proptest::prelude::*;
use smartpos_tlv::dict::Format;
use smartpos_tlv::dol::{Dol, DolEntry, fit};
use smartpos_tlv::{Tag, TlvBuilder, TlvNode, TlvReader, fuzzing, parse_all};

/// A well-formed EMV tag of 1 to 3 bytes, primitive or constructed as asked.
fn tag(constructed: bool) -> impl Strategy<Value = Tag> {
    let cbit: u32 = if constructed { 0x20 } else { 0 };
    let class = prop::sample::select(vec![0x00u32, 0x40, 0x80, 0xC0]);
    prop_oneof![
        // One byte: low five bits not 11111; never 00 or FF (padding).
        (class.clone(), 0u32..0x1F)
            .prop_map(move |(c, n)| c | cbit | n)
            .prop_filter("not padding", |b| *b != 0x00),
        // Two bytes: xx1F, second byte < 80.
        (class.clone(), 0u32..0x80).prop_map(move |(c, n)| ((c | cbit | 0x1F) << 8) | n),
        // Three bytes: xx1F, 8x..FF, < 80.
        (class, 0x80u32..0x100, 0u32..0x80)
            .prop_map(move |(c, m, n)| ((c | cbit | 0x1F) << 16) | (m << 8) | n),
    ]
    .prop_filter("FF first byte is padding", |t| Tag(*t).first_byte() != 0xFF)
    .prop_map(Tag)
}

fn node() -> impl Strategy<Value = TlvNode> {
    let leaf = (tag(false), prop::collection::vec(any::<u8>(), 0..300))
        .prop_map(|(t, v)| TlvNode::primitive(t, v));
    leaf.prop_recursive(4, 64, 6, |inner| {
        (tag(true), prop::collection::vec(inner, 0..6))
            .prop_map(|(t, children)| TlvNode::constructed(t, children))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn tlv_parse_never_panics(data in prop::collection::vec(any::<u8>(), 0..400)) {
        prop_assert_eq!(fuzzing::tlv_parse(&data), Ok(()));
    }

    #[test]
    fn tlv_parse_on_mutated_valid_data(nodes in prop::collection::vec(node(), 1..4),
                                        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
                                        cut in any::<prop::sample::Index>()) {
        let mut data: Vec<u8> = nodes.iter().flat_map(TlvNode::to_bytes).collect();
        for (i, b) in flips {
            let i = i.index(data.len());
            data[i] = b;
        }
        let end = cut.index(data.len() + 1);
        prop_assert_eq!(fuzzing::tlv_parse(&data), Ok(()));
        prop_assert_eq!(fuzzing::tlv_parse(&data[..end]), Ok(()));
    }

    #[test]
    fn dol_parse_never_panics(data in prop::collection::vec(any::<u8>(), 0..300)) {
        prop_assert_eq!(fuzzing::dol_parse(&data), Ok(()));
    }

    #[test]
    fn build_parse_round_trip(nodes in prop::collection::vec(node(), 0..5)) {
        let mut builder = TlvBuilder::new();
        for n in &nodes {
            n.encode(&mut builder);
        }
        let bytes = builder.finish();
        let parsed = TlvNode::parse_all(&bytes).unwrap();
        prop_assert_eq!(&parsed, &nodes);
        // The zero-copy reader sees the same top level, and raw slices tile the buffer.
        let top: Vec<_> = TlvReader::new(&bytes).collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(top.len(), nodes.len());
        let mut pos = 0;
        for (t, n) in top.iter().zip(&nodes) {
            prop_assert_eq!(t.tag, n.tag);
            prop_assert_eq!(t.offset, pos);
            prop_assert_eq!(t.value, n.value.as_slice());
            pos += t.raw.len();
        }
        prop_assert_eq!(pos, bytes.len());
    }

    #[test]
    fn padding_between_objects_changes_nothing(nodes in prop::collection::vec(node(), 1..5),
                                                pads in prop::collection::vec(prop::collection::vec(prop::sample::select(vec![0x00u8, 0xFF]), 0..4), 6)) {
        let mut padded = pads[0].clone();
        for (i, n) in nodes.iter().enumerate() {
            padded.extend(n.to_bytes());
            padded.extend(&pads[i + 1]);
        }
        let tags: Vec<Tag> = parse_all(&padded).unwrap().iter().map(|t| t.tag).collect();
        let expected: Vec<Tag> = nodes.iter().map(|n| n.tag).collect();
        prop_assert_eq!(tags, expected);
        prop_assert_eq!(TlvNode::parse_all(&padded).unwrap(), nodes);
    }

    #[test]
    fn dol_round_trip(entries in prop::collection::vec((tag(false), 0usize..=255), 0..20)) {
        let dol = Dol::from_entries(entries.iter().map(|&(tag, len)| DolEntry { tag, len }).collect());
        let parsed = Dol::parse(&dol.to_bytes()).unwrap();
        prop_assert_eq!(&parsed, &dol);
        let built = dol.build(|_| None);
        prop_assert_eq!(built.len(), dol.total_len());
        prop_assert!(built.iter().all(|&b| b == 0));
    }

    #[test]
    fn fit_follows_book3_5_4(value in prop::collection::vec(any::<u8>(), 0..40),
                             len in 0usize..48,
                             format in prop::sample::select(vec![Format::N, Format::Cn, Format::B, Format::An, Format::Ans, Format::A, Format::Var])) {
        let mut out = vec![0xEE];
        fit(&value, len, format, &mut out);
        prop_assert_eq!(out[0], 0xEE, "appends, never overwrites");
        let out = &out[1..];
        prop_assert_eq!(out.len(), len);
        let n = value.len();
        if n >= len {
            // c: numeric keeps the rightmost bytes, every other format the leftmost.
            let kept = if format == Format::N { &value[n - len..] } else { &value[..len] };
            prop_assert_eq!(out, kept);
        } else {
            // d: numeric pads 00 on the left, cn pads FF on the right, the rest 00 on the right.
            let pad = len - n;
            match format {
                Format::N => {
                    prop_assert!(out[..pad].iter().all(|&b| b == 0));
                    prop_assert_eq!(&out[pad..], value.as_slice());
                }
                Format::Cn => {
                    prop_assert_eq!(&out[..n], value.as_slice());
                    prop_assert!(out[n..].iter().all(|&b| b == 0xFF));
                }
                _ => {
                    prop_assert_eq!(&out[..n], value.as_slice());
                    prop_assert!(out[n..].iter().all(|&b| b == 0));
                }
            }
        }
    }
}
