//! Packed BCD (two decimal digits per byte, high nibble first) with a pad nibble for odd digit counts,
//! as used by ISO 8583 binary variants and the China UnionPay POS specification for numeric fields,
//! length prefixes and the MTI.

use crate::error::{Error, Part};
use crate::spec::Pad;

#[inline]
fn nibble_of(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        // Track 2/3 field separator (ISO 7813): '=' in ASCII, 0xD in BCD.
        _ => 0xD,
    }
}

/// Append the BCD form of already-validated digit text (`=`/`D` map to nibble D).
pub(crate) fn encode(text: &[u8], pad: Pad, out: &mut Vec<u8>) {
    let odd = text.len() % 2 == 1;
    let mut rest = text;
    if odd && pad.is_left() {
        if let Some((&first, tail)) = rest.split_first() {
            out.push((pad.nibble() << 4) | nibble_of(first));
            rest = tail;
        }
    }
    let mut pairs = rest.chunks_exact(2);
    for p in &mut pairs {
        if let [a, b] = p {
            out.push((nibble_of(*a) << 4) | nibble_of(*b));
        }
    }
    if let [last] = pairs.remainder() {
        out.push((nibble_of(*last) << 4) | pad.nibble());
    }
}

/// Decode `digits` digits from `bytes` (exactly `digits.div_ceil(2)` long), appending ASCII to `out`.
/// `separator`: nibble D decodes to `=` (track data). `offset` is the absolute offset of `bytes[0]`.
pub(crate) fn decode(
    bytes: &[u8],
    digits: usize,
    pad: Pad,
    separator: bool,
    part: Part,
    offset: usize,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let odd = digits % 2 == 1;
    let total = bytes.len() * 2;
    // Index (in nibbles) of the pad nibble, if any.
    let pad_at = if odd {
        if pad.is_left() {
            Some(0)
        } else {
            Some(total - 1)
        }
    } else {
        None
    };
    for (i, &byte) in bytes.iter().enumerate() {
        for (j, nib) in [(0usize, byte >> 4), (1, byte & 0x0F)] {
            let k = i * 2 + j;
            if Some(k) == pad_at {
                if nib != pad.nibble() {
                    return Err(Error::BadPadding {
                        part,
                        offset: offset + i,
                        nibble: nib,
                        expected: pad.nibble(),
                    });
                }
                continue;
            }
            match nib {
                0..=9 => out.push(b'0' + nib),
                0xD if separator => out.push(b'='),
                _ => {
                    return Err(Error::BadBcdDigit {
                        part,
                        offset: offset + i,
                        nibble: nib,
                    });
                }
            }
        }
    }
    Ok(())
}

/// Decode a BCD number of at most 4 bytes (length prefixes, MTI) with no padding rules.
pub(crate) fn decode_number(bytes: &[u8], part: Part, offset: usize) -> Result<usize, Error> {
    let mut n = 0usize;
    for (i, &b) in bytes.iter().enumerate() {
        for nib in [b >> 4, b & 0x0F] {
            if nib > 9 {
                return Err(Error::BadBcdDigit {
                    part,
                    offset: offset + i,
                    nibble: nib,
                });
            }
            n = n * 10 + usize::from(nib);
        }
    }
    Ok(n)
}
