//! ICC system related data (ISO 8583 field 55, EMV Book 4 §6.5.6) kept for the reversal (0400)
//! or advice (0220) a queued entry repeats: acquirers want the ARQC/TC, TVR, ATC... of a chip
//! transaction in both. Before anything is stored every data object that carries the PAN,
//! track data or the cardholder's name is removed ([`CARD_DATA_TAGS`]), at any depth of the
//! BER-TLV structure (EMV Book 3 Annex B).

use crate::error::{JournalError, Result};

/// Data objects never stored with a queue entry (EMV Book 3 Annex A): PAN (5A), track 2
/// equivalent data (57), cardholder name (5F20), track 1 discretionary data (9F1F), track 2
/// discretionary data (9F20), track 1 data (56), Mastercard track 2 data (9F6B), and the ICC
/// public key / PIN encipherment certificates (9F46, 9F2D), whose recovered data contain the PAN.
pub const CARD_DATA_TAGS: [u32; 9] = [
    0x5A, 0x57, 0x5F20, 0x9F1F, 0x9F20, 0x56, 0x9F6B, 0x9F46, 0x9F2D,
];

/// Largest field 55 kept (the LLLVAR limit of ISO 8583 field 55).
pub const MAX_ICC_DATA: usize = 999;

fn malformed(offset: usize, what: &str) -> JournalError {
    JournalError::InvalidField {
        field: "icc_data",
        reason: format!("BER-TLV at byte {offset}: {what}"),
    }
}

/// One BER-TLV header.
struct Header {
    /// Tag number as read (e.g. `0x9F26`).
    tag: u32,
    constructed: bool,
    /// Bytes of the tag.
    tag_len: usize,
    /// Bytes of tag and length.
    len: usize,
    /// Bytes of the value.
    value_len: usize,
}

/// The BER-TLV header at `at` (EMV Book 3 Annex B1/B2: tags of up to 3 bytes, lengths of up
/// to 4 bytes).
fn header(data: &[u8], at: usize) -> Result<Header> {
    let byte = |i: usize| {
        data.get(i)
            .copied()
            .ok_or_else(|| malformed(at, "truncated header"))
    };
    let first = byte(at)?;
    let constructed = first & 0x20 != 0;
    let mut tag = u32::from(first);
    let mut i = at + 1;
    if first & 0x1F == 0x1F {
        loop {
            let b = byte(i)?;
            i += 1;
            tag = (tag << 8) | u32::from(b);
            if b & 0x80 == 0 {
                break;
            }
            if i - at > 3 {
                return Err(malformed(at, "tag longer than 3 bytes"));
            }
        }
    }
    let tag_len = i - at;
    let l0 = byte(i)?;
    i += 1;
    let len = match l0 {
        0x00..=0x7F => usize::from(l0),
        0x81..=0x84 => {
            let mut n = 0usize;
            for _ in 0..(l0 & 0x7F) {
                n = n
                    .checked_mul(256)
                    .ok_or_else(|| malformed(at, "length overflows"))?
                    | usize::from(byte(i)?);
                i += 1;
            }
            n
        }
        _ => return Err(malformed(at, "length form not allowed")),
    };
    Ok(Header {
        tag,
        constructed,
        tag_len,
        len: i - at,
        value_len: len,
    })
}

fn encode_len(len: usize, out: &mut Vec<u8>) -> Result<()> {
    match len {
        0..=0x7F => out.push(len as u8),
        0x80..=0xFF => out.extend_from_slice(&[0x81, len as u8]),
        0x100..=0xFFFF => out.extend_from_slice(&[0x82, (len >> 8) as u8, (len & 0xFF) as u8]),
        _ => return Err(malformed(0, "template too long")),
    }
    Ok(())
}

fn strip_into(data: &[u8], base: usize, out: &mut Vec<u8>) -> Result<()> {
    let mut at = 0;
    while at < data.len() {
        // EMV Book 3 Annex B: 00 (and FF) bytes may pad between data objects.
        if matches!(data.get(at), Some(0x00 | 0xFF)) {
            at += 1;
            continue;
        }
        let h = header(data, at).map_err(|_| malformed(base + at, "bad tag or length"))?;
        let end = at
            .checked_add(h.len)
            .and_then(|v| v.checked_add(h.value_len))
            .filter(|e| *e <= data.len())
            .ok_or_else(|| malformed(base + at, "value runs past the end"))?;
        let value = data.get(at + h.len..end).unwrap_or_default();
        if !CARD_DATA_TAGS.contains(&h.tag) {
            if h.constructed {
                let mut inner = Vec::with_capacity(value.len());
                strip_into(value, base + at + h.len, &mut inner)?;
                out.extend_from_slice(data.get(at..at + h.tag_len).unwrap_or_default());
                encode_len(inner.len(), out)?;
                out.extend_from_slice(&inner);
            } else {
                out.extend_from_slice(data.get(at..end).unwrap_or_default());
            }
        }
        at = end;
    }
    Ok(())
}

/// Field 55 without [`CARD_DATA_TAGS`] (at any depth). Refused when it is not well-formed
/// BER-TLV (what cannot be parsed cannot be shown to hold no PAN) or is longer than
/// [`MAX_ICC_DATA`]. An empty result means nothing worth keeping.
pub fn strip_card_data(field55: &[u8]) -> Result<Vec<u8>> {
    if field55.len() > MAX_ICC_DATA {
        return Err(JournalError::InvalidField {
            field: "icc_data",
            reason: format!("{} bytes, more than {MAX_ICC_DATA}", field55.len()),
        });
    }
    let mut out = Vec::with_capacity(field55.len());
    strip_into(field55, 0, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn card_data_is_removed_and_the_rest_kept_in_order() {
        // 9F26 ARQC, 5A PAN, 95 TVR, 57 track 2, 9F36 ATC, 5F20 name, 9F6B track 2 (MC).
        let f55 = hex(concat!(
            "9F2608A1B2C3D4E5F60718",
            "5A084761739001010119",
            "95050000008000",
            "57104761739001010119D29122011234567F",
            "9F36020042",
            "5F200A534D495448204A4F484E",
            "9F6B084761739001010119"
        ));
        let kept = strip_card_data(&f55).unwrap();
        assert_eq!(kept, hex("9F2608A1B2C3D4E5F60718950500000080009F36020042"));
    }

    #[test]
    fn card_data_inside_a_template_is_removed_and_the_length_fixed() {
        // 70 template holding 9F1F, 9F20 and 82 (AIP): only the AIP stays.
        assert!(
            strip_card_data(&hex("700E9F1F03313233")).is_err(),
            "a template longer than the data is refused"
        );
        let f55 = hex("700E9F1F033132339F20013482021980");
        assert_eq!(strip_card_data(&f55).unwrap(), hex("700482021980"));
    }

    #[test]
    fn long_form_lengths_survive() {
        let mut f55 = hex("9F108190");
        f55.extend(std::iter::repeat_n(0xAB, 0x90));
        f55.extend(hex("5A0412345678"));
        let kept = strip_card_data(&f55).unwrap();
        assert_eq!(kept.len(), 4 + 0x90);
        assert_eq!(kept.get(..4), Some(&hex("9F108190")[..]));
    }

    #[test]
    fn malformed_or_oversized_data_is_refused() {
        assert!(strip_card_data(&hex("9F26")).is_err());
        assert!(strip_card_data(&hex("9F2608A1B2")).is_err());
        assert!(strip_card_data(&hex("9F268401")).is_err());
        assert!(strip_card_data(&vec![0x82; 1000]).is_err());
        assert_eq!(strip_card_data(&[]).unwrap(), Vec::<u8>::new());
    }

    /// Top-level tags of well-formed `data` (panics on malformed: test helper).
    fn tags(data: &[u8]) -> Vec<u32> {
        let mut v = Vec::new();
        let mut at = 0;
        while at < data.len() {
            let h = header(data, at).unwrap();
            v.push(h.tag);
            at += h.len + h.value_len;
        }
        v
    }

    fn tlv(tag: u32, value: &[u8]) -> Vec<u8> {
        let mut out: Vec<u8> = tag
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        encode_len(value.len(), &mut out).unwrap();
        out.extend_from_slice(value);
        out
    }

    // The `strip_card_data` fuzz target's body (fuzz/bodies/strip_card_data.rs): kept data is
    // well-formed, holds no card-data tag at any depth, keeps every other data object in order
    // and strips to itself.
    include!("../../../fuzz/bodies/strip_card_data.rs");

    /// A data object (test helper for the fuzz proptests): `tlv` with the constructed bit
    /// of the first tag byte set when `constructed`.
    fn object(tag: u32, constructed: bool, value: &[u8]) -> Vec<u8> {
        let mut out = tlv(tag, value);
        if constructed {
            if let Some(first) = out.first_mut() {
                *first |= 0x20;
            }
        }
        out
    }

    /// Nested field 55: templates (constructed bit set) holding card and other data objects.
    fn nested_field55() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let tags = proptest::sample::select(vec![
            0x5Au32, 0x57, 0x5F20, 0x9F1F, 0x9F20, 0x56, 0x9F6B, 0x9F46, 0x9F2D, 0x9F26, 0x9F10,
            0x95, 0x9F36, 0x82, 0x50, 0x9F1A,
        ]);
        let leaf = (tags, proptest::collection::vec(any::<u8>(), 0..16))
            .prop_map(|(t, v)| object(t, false, &v));
        leaf.prop_recursive(3, 24, 4, |inner| {
            (
                proptest::sample::select(vec![0x70u32, 0x77, 0xBF0C, 0x61, 0xA5]),
                proptest::collection::vec(inner, 0..4),
                proptest::collection::vec(proptest::sample::select(vec![0u8, 0xFF]), 0..2),
            )
                .prop_map(|(t, children, pad)| {
                    let mut value: Vec<u8> = pad;
                    value.extend(children.concat());
                    object(t, true, &value)
                })
        })
    }

    /// Outside input that parses: the body's invariants on nested templates, and the example
    /// of the tests above reaches the "kept" branch.
    #[test]
    fn fuzz_body_holds_on_the_examples() {
        let f55 = hex("700E9F1F033132339F20013482021980");
        strip_card_data_body(&f55).unwrap();
        let kept = strip_card_data(&f55).unwrap();
        let mut objects = Vec::new();
        let mut card_seen = false;
        fuzz_flatten(&kept, &mut objects, &mut card_seen).unwrap();
        assert_eq!(objects, vec![(0x82, vec![0x19, 0x80])]);
        assert!(!card_seen);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]

        /// The fuzz body on arbitrary bytes.
        #[test]
        fn fuzz_body_on_bytes(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            strip_card_data_body(&data).map_err(proptest::test_runner::TestCaseError::fail)?;
        }

        /// The fuzz body on nested templates, which must all be accepted, and on them with one
        /// byte changed.
        #[test]
        fn fuzz_body_on_nested_templates(
            items in proptest::collection::vec(nested_field55(), 1..4),
            at in proptest::prelude::any::<usize>(),
            byte in proptest::prelude::any::<u8>(),
        ) {
            let f55 = items.concat();
            proptest::prop_assume!(!f55.is_empty() && f55.len() <= MAX_ICC_DATA);
            proptest::prop_assert!(strip_card_data(&f55).is_ok(), "well-formed field 55 refused");
            strip_card_data_body(&f55).map_err(proptest::test_runner::TestCaseError::fail)?;
            let mut changed = f55.clone();
            let i = at % changed.len();
            changed[i] = byte;
            strip_card_data_body(&changed).map_err(proptest::test_runner::TestCaseError::fail)?;
        }
    }

    proptest::proptest! {
        /// Outside input (card data): any bytes give a result or an error, never a panic.
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = strip_card_data(&data);
        }

        /// Field 55 built from primitive data objects, card data among them: every card data
        /// object is gone, every other one is kept in order, and stripping again changes
        /// nothing.
        #[test]
        fn card_tags_removed_others_kept(items in proptest::collection::vec(
            (proptest::sample::select(vec![
                0x5Au32, 0x57, 0x5F20, 0x9F1F, 0x9F20, 0x56, 0x9F6B, 0x9F46, 0x9F2D,
                0x9F26, 0x9F27, 0x9F10, 0x9F37, 0x9F36, 0x95, 0x9A, 0x9C, 0x9F02, 0x5F2A, 0x82,
                0x9F1A, 0x9F33, 0x9F34, 0x84,
            ]), proptest::collection::vec(proptest::prelude::any::<u8>(), 0..140)),
            0..12,
        )) {
            let f55: Vec<u8> = items.iter().flat_map(|(t, v)| tlv(*t, v)).collect();
            proptest::prop_assume!(f55.len() <= MAX_ICC_DATA);
            let kept = strip_card_data(&f55).unwrap();
            let want: Vec<u32> = items
                .iter()
                .map(|(t, _)| *t)
                .filter(|t| !CARD_DATA_TAGS.contains(t))
                .collect();
            proptest::prop_assert_eq!(tags(&kept), want);
            proptest::prop_assert_eq!(strip_card_data(&kept).unwrap(), kept);
        }
    }
}
