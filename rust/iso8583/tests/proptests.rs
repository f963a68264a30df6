//! Property tests: unpack never panics on arbitrary or mutated input (the fuzz target's body, on
//! stable), and pack/unpack round-trips generated messages for both built-in profiles.

use proptest::prelude::*;
use smartpos_iso8583::fuzzing::iso8583_unpack;
use smartpos_iso8583::{
    FieldKind, FieldSpec, Frame, Length, LengthCounts, Message, Mti, Profile, Tpdu,
};

/// One optional (field number, value).
type FieldStrategy = BoxedStrategy<Option<(u8, Vec<u8>)>>;

const N: &[u8] = b"0123456789";
const AN: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ";
const Z: &[u8] = b"0123456789=";

/// Units a value of this field may have.
fn unit_range(spec: &FieldSpec) -> BoxedStrategy<usize> {
    match spec.length {
        Length::Fixed(l) => Just(l).boxed(),
        Length::Variable { max, .. } => {
            let max_units = match (spec.counts, spec.kind, spec.encoding) {
                (LengthCounts::Encoded, FieldKind::B, smartpos_iso8583::DataEncoding::Hex) => {
                    max / 2
                }
                _ => max,
            };
            prop_oneof![3 => 0..=max_units.min(48), 1 => Just(max_units)].boxed()
        }
    }
}

fn value(spec: &FieldSpec) -> BoxedStrategy<Vec<u8>> {
    let kind = spec.kind;
    let high_bytes = spec.high_bytes;
    unit_range(spec)
        .prop_flat_map(move |units| proptest::collection::vec(any::<u8>(), units))
        .prop_map(move |raw| {
            let pick = |alphabet: &[u8], b: u8| alphabet[usize::from(b) % alphabet.len()];
            match kind {
                FieldKind::B => raw,
                FieldKind::N => raw.iter().map(|&b| pick(N, b)).collect(),
                FieldKind::An => raw.iter().map(|&b| pick(AN, b)).collect(),
                FieldKind::Ans if high_bytes => raw
                    .iter()
                    .map(|&b| if b >= 0xC0 { b } else { 0x20 + b % 95 })
                    .collect(),
                FieldKind::Ans => raw.iter().map(|&b| 0x20 + b % 95).collect(),
                FieldKind::Z => raw.iter().map(|&b| pick(Z, b)).collect(),
                FieldKind::XN => {
                    let sign = if raw.first().is_some_and(|b| b % 2 == 0) {
                        b'C'
                    } else {
                        b'D'
                    };
                    std::iter::once(sign)
                        .chain(raw.iter().map(|&b| pick(N, b)))
                        .collect()
                }
            }
        })
        .boxed()
}

/// A message valid for `p`: mandatory fields always present, others with probability 1/3.
fn message(p: &'static Profile, mtis: &'static [&'static str]) -> BoxedStrategy<Message> {
    (0..mtis.len())
        .prop_flat_map(move |i| {
            let mti = Mti::new(mtis[i]).unwrap();
            let mandatory = p.mandatory_fields(mti);
            let fields: Vec<FieldStrategy> = p
                .field_specs()
                .map(|spec| {
                    let n = spec.number;
                    let v = value(spec);
                    if mandatory.contains(&n) {
                        v.prop_map(move |v| Some((n, v))).boxed()
                    } else {
                        proptest::option::weighted(0.33, v.prop_map(move |v| (n, v))).boxed()
                    }
                })
                .collect();
            (Just(mti), fields)
        })
        .prop_map(|(mti, fields)| {
            let mut m = Message::new(mti);
            for (n, v) in fields.into_iter().flatten() {
                m.set_bytes(n, &v).unwrap();
            }
            m
        })
        .boxed()
}

const CUPS_MTIS: &[&str] = &["0100", "0200", "0210", "0320", "0400", "0800", "0810"];
const ISO_MTIS: &[&str] = &["0100", "0200", "0210", "0800", "1200"];

proptest! {
    // 256 cases by default (ProptestConfig::default); PROPTEST_CASES=N runs more.
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn unpack_never_panics_on_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        prop_assert_eq!(iso8583_unpack(&data), Ok(()));
    }

    #[test]
    fn cups_pos_round_trips(
        m in message(Profile::cups_pos(), CUPS_MTIS),
        dest in any::<u16>(), src in any::<u16>(), header in any::<[u8; 6]>(),
    ) {
        let p = Profile::cups_pos();
        let frame = Frame::new(Tpdu::new(dest, src), &header, m);
        let bytes = p.pack_frame(&frame).unwrap();
        prop_assert_eq!(&p.unpack_frame(&bytes).unwrap(), &frame);
        prop_assert_eq!(&p.frame_from_json(&p.frame_to_json(&frame)).unwrap(), &frame);
        prop_assert_eq!(iso8583_unpack(&bytes), Ok(()));
    }

    #[test]
    fn iso87_ascii_round_trips(m in message(Profile::iso87_ascii(), ISO_MTIS)) {
        let p = Profile::iso87_ascii();
        let bytes = p.pack(&m).unwrap();
        prop_assert!(bytes.iter().all(u8::is_ascii), "all-ASCII profile wrote a non-ASCII byte");
        prop_assert_eq!(&p.unpack(&bytes).unwrap(), &m);
        prop_assert_eq!(iso8583_unpack(&bytes), Ok(()));
    }

    /// Valid messages with bytes flipped, cut or appended: never a panic; whatever still unpacks
    /// re-packs to an equal frame.
    #[test]
    fn mutated_messages_never_panic(
        m in message(Profile::cups_pos(), CUPS_MTIS),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
        do_cut in any::<bool>(),
    ) {
        let p = Profile::cups_pos();
        let frame = Frame::new(Tpdu::new(3, 0), &[0x60, 0x31, 0, 0x31, 0, 0], m);
        let mut bytes = p.pack_frame(&frame).unwrap();
        for (i, b) in edits {
            let at = i.index(bytes.len());
            bytes[at] = b;
        }
        if do_cut {
            bytes.truncate(cut.index(bytes.len()));
        }
        prop_assert_eq!(iso8583_unpack(&bytes), Ok(()));
        // The same for the body alone in the ASCII profile.
        let ascii = Profile::iso87_ascii().pack(&Message::new(Mti::new("0800").unwrap())).unwrap();
        let mut a = ascii.clone();
        a.extend_from_slice(&bytes);
        prop_assert_eq!(iso8583_unpack(&a), Ok(()));
    }
}
