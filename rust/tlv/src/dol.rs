//! Data Object Lists: PDOL, CDOL1, CDOL2, DDOL, TDOL (EMV Book 3 §5.4).
//!
//! A DOL is a list of (tag, length) entries; the terminal answers it with the concatenated values
//! of those data objects, each fitted to the length the entry asks for.

use crate::dict::{self, Format};
use crate::error::TlvError;
use crate::length;
use crate::tag::{self, Tag};

/// Longest value one DOL entry may ask for: the length is one byte (EMV Book 3 §5.4).
pub const MAX_DOL_ENTRY_LEN: usize = 255;

/// One DOL entry: a tag and the number of bytes of its value the card wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DolEntry {
    /// The data object asked for.
    pub tag: Tag,
    /// The length its value must have in the command data.
    pub len: usize,
}

/// A parsed Data Object List (EMV Book 3 §5.4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dol {
    entries: Vec<DolEntry>,
}

impl Dol {
    /// Parse the value of a DOL data object (`9F38`, `8C`, `8D`, `9F49`, `97`): tags as in
    /// BER-TLV, each followed by a length (one byte; the `81 xx` form is accepted, values above
    /// [`MAX_DOL_ENTRY_LEN`] are not). No padding bytes are skipped.
    pub fn parse(data: &[u8]) -> Result<Dol, TlvError> {
        let mut entries = Vec::with_capacity(data.len() / 2);
        let mut pos = 0;
        while pos < data.len() {
            let (tag, tag_len) = tag::decode_at(data, pos, 0)?;
            let (len, len_len) = length::decode_at(data, pos + tag_len, 0, tag, pos)?;
            if len > MAX_DOL_ENTRY_LEN {
                return Err(TlvError::DolLengthTooLong {
                    offset: pos,
                    tag,
                    length: len,
                });
            }
            entries.push(DolEntry { tag, len });
            pos += tag_len + len_len;
        }
        Ok(Dol { entries })
    }

    /// A DOL made of `entries` (e.g. to act as a card in tests).
    pub fn from_entries(entries: Vec<DolEntry>) -> Dol {
        Dol { entries }
    }

    /// The entries, in order.
    pub fn entries(&self) -> &[DolEntry] {
        &self.entries
    }

    /// Whether the DOL asks for `tag`.
    pub fn contains(&self, tag: Tag) -> bool {
        self.entries.iter().any(|e| e.tag == tag)
    }

    /// Length of the data that answers this DOL: the sum of the entry lengths.
    pub fn total_len(&self) -> usize {
        self.entries.iter().map(|e| e.len).sum()
    }

    /// The DOL's own encoding (tag, one-byte length, ...).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.entries.len() * 3);
        for entry in &self.entries {
            length::encode_tag(entry.tag, &mut out);
            length::encode_length(entry.len, &mut out);
        }
        out
    }

    /// The DOL-related data (EMV Book 3 §5.4): for each entry, the value `source` gives for its
    /// tag, fitted to the entry's length by [`fit`] with the format from the dictionary
    /// ([`dict::format`]; `b` for tags it does not know). An entry whose tag is constructed, or
    /// for which `source` gives nothing, is filled with zeros.
    ///
    /// ```
    /// use smartpos_tlv::{Tag, dol::Dol};
    /// let pdol = Dol::parse(&[0x9F, 0x02, 0x06, 0x9F, 0x37, 0x04]).unwrap();
    /// let data = pdol.build(|tag| match tag {
    ///     Tag::AMOUNT_AUTHORISED => Some(&[0x00, 0x00, 0x00, 0x00, 0x10, 0x00][..]),
    ///     _ => None,
    /// });
    /// assert_eq!(data, [0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0]);
    /// ```
    pub fn build<'s>(&self, source: impl Fn(Tag) -> Option<&'s [u8]>) -> Vec<u8> {
        self.build_with(source, dict::format)
    }

    /// As [`Dol::build`], with formats from `format_of` (for kernel-specific tags the dictionary
    /// does not hold); `None` means `b`.
    pub fn build_with<'s>(
        &self,
        source: impl Fn(Tag) -> Option<&'s [u8]>,
        format_of: impl Fn(Tag) -> Option<Format>,
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.total_len());
        self.build_into(source, format_of, &mut out);
        out
    }

    /// As [`Dol::build_with`], appending to `out`.
    pub fn build_into<'s>(
        &self,
        source: impl Fn(Tag) -> Option<&'s [u8]>,
        format_of: impl Fn(Tag) -> Option<Format>,
        out: &mut Vec<u8>,
    ) {
        for entry in &self.entries {
            // §5.4 a: constructed data objects are answered with zeros.
            let value = if entry.tag.is_constructed() {
                None
            } else {
                source(entry.tag)
            };
            match value {
                Some(value) => {
                    let format = format_of(entry.tag).unwrap_or(Format::B);
                    fit(value, entry.len, format, out);
                }
                // §5.4 a, b: unknown or absent data objects are answered with zeros.
                None => out.resize(out.len() + entry.len, 0x00),
            }
        }
    }

    /// Cut DOL-related data back into one value per entry (what the card does with it).
    /// `data` must be exactly [`Dol::total_len`] bytes.
    pub fn split<'d>(&self, data: &'d [u8]) -> Result<Vec<(Tag, &'d [u8])>, TlvError> {
        let expected = self.total_len();
        if data.len() != expected {
            return Err(TlvError::DolDataLength {
                expected,
                actual: data.len(),
            });
        }
        let mut rest = data;
        let mut values = Vec::with_capacity(self.entries.len());
        for entry in &self.entries {
            let Some((value, tail)) = rest.split_at_checked(entry.len) else {
                return Err(TlvError::DolDataLength {
                    expected,
                    actual: data.len(),
                });
            };
            values.push((entry.tag, value));
            rest = tail;
        }
        Ok(values)
    }
}

/// Append `value` fitted to `len` bytes as EMV Book 3 §5.4 c and d say:
///
/// * longer than `len`: numeric (`n`) keeps the rightmost `len` bytes; every other format keeps
///   the leftmost `len` bytes;
/// * shorter than `len`: numeric (`n`) is padded on the left with `00`; compressed numeric
///   (`cn`) is padded on the right with `FF`; every other format is padded on the right with `00`.
pub fn fit(value: &[u8], len: usize, format: Format, out: &mut Vec<u8>) {
    use std::cmp::Ordering;
    match value.len().cmp(&len) {
        Ordering::Equal => out.extend_from_slice(value),
        Ordering::Greater => {
            let kept = if format == Format::N {
                value.get(value.len() - len..)
            } else {
                value.get(..len)
            };
            out.extend_from_slice(kept.unwrap_or(&[]));
        }
        Ordering::Less => {
            let pad = len - value.len();
            match format {
                Format::N => {
                    out.resize(out.len() + pad, 0x00);
                    out.extend_from_slice(value);
                }
                Format::Cn => {
                    out.extend_from_slice(value);
                    out.resize(out.len() + pad, 0xFF);
                }
                _ => {
                    out.extend_from_slice(value);
                    out.resize(out.len() + pad, 0x00);
                }
            }
        }
    }
}
