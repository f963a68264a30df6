//! Field 55, ICC system-related data: BER-TLV (EMV Book 3 Annex B) read with `smartpos-tlv`, shown
//! with the cardholder data objects masked: 5A (PAN) and 57 / 9F6B (track 2 equivalent data) as a PAN
//! and a track; 56 (track 1), 9F1F / 9F20 (track discretionary data) and 5F20 (cardholder name) fully.

use crate::mask::{mask_pan, mask_track};
use smartpos_tlv::{Tag, Tlv, TlvReader};

const MAX_DEPTH: usize = 8;

/// How one data object inside field 55 is shown.
fn masked_value(tlv: &Tlv<'_>) -> String {
    match tlv.tag.0 {
        0x5A => mask_pan(&bcd_digits(tlv.value)),
        0x57 | 0x9F6B => mask_track(&bcd_digits(tlv.value)),
        0x56 | 0x9F1F | 0x9F20 | 0x5F20 => format!("<{} bytes, masked>", tlv.value.len()),
        _ => hex::encode_upper(tlv.value),
    }
}

/// Nibbles as characters: digits, `D` → `=`, `F` padding dropped.
fn bcd_digits(value: &[u8]) -> String {
    let mut s = String::with_capacity(value.len() * 2);
    for b in value {
        for nib in [b >> 4, b & 0x0F] {
            match nib {
                0..=9 => s.push(char::from(b'0' + nib)),
                0xD => s.push('='),
                0xF => {}
                _ => s.push('?'),
            }
        }
    }
    s
}

fn tag_hex(tag: Tag) -> String {
    format!("{:02X}", tag.0)
}

fn walk(
    reader: TlvReader<'_>,
    depth: usize,
    named: bool,
    out: &mut Vec<(usize, String)>,
) -> Result<(), String> {
    for item in reader {
        let tlv = item.map_err(|e| e.to_string())?;
        if tlv.is_constructed() {
            if depth >= MAX_DEPTH {
                return Err("nested too deeply".into());
            }
            out.push((
                depth,
                format!(
                    "{} ({} bytes, constructed)",
                    tag_hex(tlv.tag),
                    tlv.value.len()
                ),
            ));
            walk(tlv.children(), depth + 1, named, out)?;
        } else {
            let mut line = format!("{} = {}", tag_hex(tlv.tag), masked_value(&tlv));
            if named && let Some(name) = smartpos_tlv::dict::name(tlv.tag) {
                line.push_str("  (");
                line.push_str(name);
                line.push(')');
            }
            out.push((depth, line));
        }
    }
    Ok(())
}

/// The data objects of field 55, one per line with nesting depth and the EMV name of the tag
/// (from the `smartpos-tlv` dictionary), sensitive values masked. Err (with the TLV error) when the
/// field is not valid BER-TLV; then show nothing of it.
pub fn icc_lines(value: &[u8]) -> Result<Vec<(usize, String)>, String> {
    let mut out = Vec::new();
    walk(TlvReader::new(value), 0, true, &mut out)?;
    Ok(out)
}

/// One-line masked form for `Debug`: `9F26=1122... 5A=622202******0123 ...`.
pub(crate) fn masked_hex(value: &[u8]) -> String {
    let mut out = Vec::new();
    match walk(TlvReader::new(value), 0, false, &mut out).map(|()| out) {
        Ok(lines) => lines
            .into_iter()
            .map(|(_, l)| l.replace(" = ", "="))
            .collect::<Vec<_>>()
            .join(" "),
        Err(_) => format!("<{} bytes, not BER-TLV, hidden>", value.len()),
    }
}
