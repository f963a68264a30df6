//! Packed BCD (two decimal digits per byte, high nibble first) with a pad nibble for odd digit counts,
//! as used by ISO 8583 binary variants and the China UnionPay POS specification for numeric fields,
//! length prefixes and the MTI.

use crate::error::{Error, Part};
use crate::spec::Pad;

/// The BCD nibble of a validated character: '0'..='9' are 0x30..=0x39 and '=' is 0x3D, so the low
/// nibble is the BCD value (the track 2/3 separator of ISO 7813 is 0xD in BCD); an ASCII 'D'
/// (0x44) separator becomes 0x4 | 0x9 = 0xD. Branch-free so the loops vectorise.
#[inline(always)]
fn nibble_of(c: u8) -> u8 {
    (c & 0x0F) | (u8::from(c == b'D') * 0x09)
}

/// Append the BCD form of already-validated digit text (`=`/`D` map to nibble D).
pub(crate) fn encode(text: &[u8], pad: Pad, out: &mut Vec<u8>) {
    encode_with(text, pad, out, nibble_of);
}

/// Append raw nibbles given as validated upper-case hex characters (`=` also maps to D).
pub(crate) fn encode_raw(text: &[u8], pad: Pad, out: &mut Vec<u8>) {
    encode_with(text, pad, out, |c| match c {
        b'A'..=b'F' => c - b'A' + 10,
        b'=' => 0xD,
        _ => c & 0x0F,
    });
}

#[inline(always)]
fn encode_with(text: &[u8], pad: Pad, out: &mut Vec<u8>, nibble_of: impl Fn(u8) -> u8) {
    let start = out.len();
    out.resize(start + text.len().div_ceil(2), 0);
    let Some(dst) = out.get_mut(start..) else {
        return;
    };
    let p = pad.nibble();
    let (dst, body) = match (
        text.len() % 2 == 1 && pad.is_left(),
        dst.split_first_mut(),
        text.split_first(),
    ) {
        (true, Some((d0, dst_rest)), Some((&t0, text_rest))) => {
            *d0 = (p << 4) | nibble_of(t0);
            (dst_rest, text_rest)
        }
        _ => (dst, text),
    };
    let mut pairs = body.chunks_exact(2);
    let mut dst_iter = dst.iter_mut();
    // `pairs` first: zip pulls from its first iterator first, so the odd digit's byte is not consumed.
    for (pair, d) in (&mut pairs).zip(&mut dst_iter) {
        if let [a, b] = pair {
            *d = (nibble_of(*a) << 4) | nibble_of(*b);
        }
    }
    if let ([a], Some(d)) = (pairs.remainder(), dst_iter.next()) {
        *d = (nibble_of(*a) << 4) | p;
    }
}

/// How a BCD value is read: its pad, whether either pad nibble is accepted, whether nibble D is
/// the track separator `=`.
#[derive(Clone, Copy)]
pub(crate) struct Rules {
    pub pad: Pad,
    pub lenient: bool,
    pub separator: bool,
}

#[inline]
fn digit(nib: u8, separator: bool, part: Part, offset: usize) -> Result<u8, Error> {
    match nib {
        0..=9 => Ok(b'0' + nib),
        0xD if separator => Ok(b'='),
        _ => Err(Error::BadBcdDigit {
            part,
            offset,
            nibble: nib,
        }),
    }
}

/// Decode `digits` digits from `bytes` (exactly `digits.div_ceil(2)` long), appending ASCII to `out`.
/// `lenient`: a pad nibble of 0 or F is accepted whatever `pad` says. `separator`: nibble D decodes
/// to `=` (track data). `offset` is the absolute offset of `bytes[0]`.
pub(crate) fn decode(
    bytes: &[u8],
    digits: usize,
    rules: Rules,
    part: Part,
    offset: usize,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let Rules {
        pad,
        lenient,
        separator,
    } = rules;
    let odd = digits % 2 == 1;
    let pad_ok = |nib: u8| nib == pad.nibble() || (lenient && (nib == 0 || nib == 0xF));
    let bad_pad = |nibble: u8, at: usize| Error::BadPadding {
        part,
        offset: at,
        nibble,
        expected: pad.nibble(),
    };
    let mut body = bytes;
    let mut body_offset = offset;
    let mut trailing = None;
    if odd {
        if pad.is_left() {
            if let Some((&b, rest)) = body.split_first() {
                if !pad_ok(b >> 4) {
                    return Err(bad_pad(b >> 4, offset));
                }
                out.push(digit(b & 0x0F, separator, part, offset)?);
                body = rest;
                body_offset += 1;
            }
        } else if let Some((&b, rest)) = body.split_last() {
            if !pad_ok(b & 0x0F) {
                return Err(bad_pad(b & 0x0F, offset + bytes.len() - 1));
            }
            trailing = Some(b >> 4);
            body = rest;
        }
    }
    let base = out.len();
    out.resize(base + body.len() * 2, 0);
    let Some(dst) = out.get_mut(base..) else {
        return Ok(());
    };
    // Fast path: every nibble a decimal digit (checked without branching per byte).
    let all_digits = body
        .iter()
        .fold(true, |ok, &b| ok & (b >> 4 <= 9) & (b & 0x0F <= 9));
    if all_digits {
        for (d, &b) in dst.chunks_exact_mut(2).zip(body) {
            if let [x, y] = d {
                *x = b'0' + (b >> 4);
                *y = b'0' + (b & 0x0F);
            }
        }
    } else {
        for (i, (d, &b)) in dst.chunks_exact_mut(2).zip(body).enumerate() {
            if let [x, y] = d {
                *x = digit(b >> 4, separator, part, body_offset + i)?;
                *y = digit(b & 0x0F, separator, part, body_offset + i)?;
            }
        }
    }
    if let Some(nib) = trailing {
        out.push(digit(nib, separator, part, offset + bytes.len() - 1)?);
    }
    Ok(())
}

/// Decode `digits` raw nibbles (any value) from `bytes` as upper-case hex characters; only the pad
/// nibble is checked.
pub(crate) fn decode_raw(
    bytes: &[u8],
    digits: usize,
    rules: Rules,
    part: Part,
    offset: usize,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let pad = rules.pad;
    let pad_ok = |nib: u8| nib == pad.nibble() || (rules.lenient && (nib == 0 || nib == 0xF));
    let odd = digits % 2 == 1;
    let last = bytes.len() * 2;
    for (i, &b) in bytes.iter().enumerate() {
        for (j, nib) in [(0usize, b >> 4), (1, b & 0x0F)] {
            let k = i * 2 + j;
            let is_pad = odd && ((pad.is_left() && k == 0) || (!pad.is_left() && k + 1 == last));
            if is_pad {
                if !pad_ok(nib) {
                    return Err(Error::BadPadding {
                        part,
                        offset: offset + i,
                        nibble: nib,
                        expected: pad.nibble(),
                    });
                }
            } else if let Some(&c) = HEX.get(usize::from(nib)) {
                out.push(c);
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
