//! BER-TLV length fields (EMV Book 3 Annex B2, ISO/IEC 8825-1 §8.1.3).

use crate::error::TlvError;
use crate::tag::Tag;

/// Longest long-form length this crate reads: `84 xx xx xx xx` (4 subsequent bytes).
pub const MAX_LENGTH_BYTES: usize = 4;

/// Read the length field at `data[pos..]` of an object with tag `tag` whose first byte is at
/// `tag_offset`. Returns the value length and the length field's size. `base` is added to error
/// offsets.
///
/// Short form `00`..`7F`; long form `81`..`84` followed by that many bytes (EMV Book 3 Annex B2;
/// non-minimal long forms such as `81 05` are accepted, as BER allows). `80` (indefinite) and
/// `85`..`FF` are rejected.
#[inline(always)]
pub(crate) fn decode_at(
    data: &[u8],
    pos: usize,
    base: usize,
    tag: Tag,
    tag_offset: usize,
) -> Result<(usize, usize), TlvError> {
    let Some(&first) = data.get(pos) else {
        return Err(TlvError::MissingLength {
            offset: base + tag_offset,
            tag,
        });
    };
    if first < 0x80 {
        return Ok((usize::from(first), 1));
    }
    let count = usize::from(first & 0x7F);
    if count == 0 {
        return Err(TlvError::IndefiniteLength {
            offset: base + pos,
            tag,
        });
    }
    if count > MAX_LENGTH_BYTES {
        return Err(TlvError::UnsupportedLengthForm {
            offset: base + pos,
            tag,
            first_byte: first,
        });
    }
    let Some(bytes) = data.get(pos + 1..pos + 1 + count) else {
        return Err(TlvError::TruncatedLength {
            offset: base + pos,
            tag,
            needed: 1 + count,
            available: data.len().saturating_sub(pos),
        });
    };
    let len = bytes
        .iter()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    Ok((len, 1 + count))
}

/// Number of bytes [`encode_length`] writes for `len`.
pub const fn encoded_length_len(len: usize) -> usize {
    if len < 0x80 {
        1
    } else {
        1 + (usize::BITS as usize / 8) - (len.leading_zeros() as usize / 8)
    }
}

/// Append the minimal BER length field for `len` (EMV Book 3 Annex B2): one byte below 128,
/// else `81 xx`, `82 xx xx`, `83 xx xx xx`, `84 xx xx xx xx`.
pub fn encode_length(len: usize, out: &mut Vec<u8>) {
    let mut buf = [0u8; 1 + (usize::BITS as usize / 8)];
    let n = write_length(len, &mut buf);
    out.extend_from_slice(buf.get(..n).unwrap_or(&[]));
}

/// Write the length field into `buf`; returns its size.
pub(crate) fn write_length(len: usize, buf: &mut [u8; 1 + (usize::BITS as usize / 8)]) -> usize {
    if len < 0x80 {
        buf[0] = len as u8;
        return 1;
    }
    let total = encoded_length_len(len);
    let count = total - 1;
    buf[0] = 0x80 | count as u8;
    let be = len.to_be_bytes();
    let skip = be.len() - count;
    for (dst, src) in buf[1..total].iter_mut().zip(&be[skip..]) {
        *dst = *src;
    }
    total
}

/// Append the encoded bytes of `tag` (see [`Tag::to_bytes`]).
pub fn encode_tag(tag: Tag, out: &mut Vec<u8>) {
    out.extend_from_slice(&tag.to_bytes());
}
