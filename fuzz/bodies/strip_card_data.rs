// Body of the `strip_card_data` fuzz target, shared by `include!` with the stable proptest in
// rust/journal/src/icc.rs. The includer brings `strip_card_data`, `CARD_DATA_TAGS` and
// `MAX_ICC_DATA` into scope. Returns `Err` with a description when an invariant is broken.

/// One data object read by [`fuzz_walk`]: its tag, whether it is constructed, and its value.
struct FuzzObject<'a> {
    tag: u32,
    constructed: bool,
    value: &'a [u8],
}

/// Reads the data objects of `data` at one level (EMV Book 3 Annex B: tag bytes while bit 8 of
/// a subsequent byte is set, as `strip_card_data` reads them (at most 4); short or 81..84
/// lengths; 00/FF padding between objects skipped). `None` when it is not well-formed.
fn fuzz_walk(data: &[u8]) -> Option<Vec<FuzzObject<'_>>> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < data.len() {
        let first = *data.get(at)?;
        if first == 0x00 || first == 0xFF {
            at += 1;
            continue;
        }
        let mut tag = u32::from(first);
        let mut i = at + 1;
        if first & 0x1F == 0x1F {
            loop {
                let b = *data.get(i)?;
                i += 1;
                tag = (tag << 8) | u32::from(b);
                if b & 0x80 == 0 {
                    break;
                }
                if i - at > 3 {
                    return None;
                }
            }
        }
        let l0 = *data.get(i)?;
        i += 1;
        let len = match l0 {
            0x00..=0x7F => usize::from(l0),
            0x81..=0x84 => {
                let n = usize::from(l0 & 0x7F);
                let bytes = data.get(i..i.checked_add(n)?)?;
                i += n;
                bytes.iter().try_fold(0usize, |acc, b| {
                    acc.checked_mul(256).map(|v| v | usize::from(*b))
                })?
            }
            _ => return None,
        };
        let end = i.checked_add(len)?;
        out.push(FuzzObject {
            tag,
            constructed: first & 0x20 != 0,
            value: data.get(i..end)?,
        });
        at = end;
    }
    Some(out)
}

/// The primitive data objects of well-formed `data`, depth first, each as (tag, value), and
/// whether any card-data tag appears at any depth. `None` when not well-formed.
fn fuzz_flatten(data: &[u8], out: &mut Vec<(u32, Vec<u8>)>, card_seen: &mut bool) -> Option<()> {
    for o in fuzz_walk(data)? {
        if CARD_DATA_TAGS.contains(&o.tag) {
            *card_seen = true;
            continue;
        }
        if o.constructed {
            fuzz_flatten(o.value, out, card_seen)?;
        } else {
            out.push((o.tag, o.value.to_vec()));
        }
    }
    Some(())
}

/// Feeds `data` as field 55 to `strip_card_data`. What it keeps is well-formed BER-TLV, holds
/// no card-data tag at any depth, is no longer than the input, keeps every other primitive
/// data object of the input in order with its value, and is stripped to itself again.
pub fn strip_card_data_body(data: &[u8]) -> std::result::Result<(), String> {
    let kept = match strip_card_data(data) {
        Ok(kept) => kept,
        Err(_) => return Ok(()),
    };
    if data.len() > MAX_ICC_DATA {
        return Err(format!("kept data from a {}-byte field 55", data.len()));
    }
    if kept.len() > data.len() {
        return Err(format!("{} bytes kept from {}", kept.len(), data.len()));
    }
    let mut kept_objects = Vec::new();
    let mut card_seen = false;
    fuzz_flatten(&kept, &mut kept_objects, &mut card_seen)
        .ok_or("the kept data is not well-formed BER-TLV")?;
    if card_seen {
        return Err("a card-data tag survived the strip".into());
    }
    let mut input_objects = Vec::new();
    let mut input_card = false;
    if fuzz_flatten(data, &mut input_objects, &mut input_card).is_none() {
        return Err("the strip accepted data that is not well-formed BER-TLV".into());
    }
    if kept_objects != input_objects {
        return Err(
            "the strip changed, lost or reordered a data object that is not card data".into(),
        );
    }
    match strip_card_data(&kept) {
        Ok(again) if again == kept => Ok(()),
        Ok(_) => Err("stripping the kept data changed it".into()),
        Err(e) => Err(format!("the kept data is refused when stripped again: {e}")),
    }
}
