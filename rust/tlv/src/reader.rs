//! Zero-copy BER-TLV reader (EMV Book 3 Annex B).

use crate::error::TlvError;
use crate::length;
use crate::tag::{self, Tag};

/// Deepest nesting of constructed objects that the recursive helpers ([`find`], [`validate`],
/// [`crate::TlvNode::parse_all`]) follow before giving up with [`TlvError::TooDeep`]. EMV data
/// nests at most 4 levels (`6F` > `A5` > `BF0C` > `61` > primitive).
pub const MAX_DEPTH: usize = 32;

/// Which bytes between objects are padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Padding {
    /// `00` and `FF` (EMV Book 3 Annex B1 and ISO/IEC 7816-4): what cards may send. The default.
    #[default]
    ZeroAndFf,
    /// `00` only, so tags whose first byte is `FF` (Mastercard's `FF8101`..`FF8106` in the
    /// kernel's data exchange) can be read. For data that does not come from a card.
    ZeroOnly,
}

/// One BER-TLV data object borrowed from the buffer it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The tag.
    pub tag: Tag,
    /// The value field (for a constructed tag: the encoded children).
    pub value: &'a [u8],
    /// The whole encoded object: tag, length and value.
    pub raw: &'a [u8],
    /// Offset of the object's first byte, counted from the start of the outermost buffer.
    pub offset: usize,
}

impl<'a> Tlv<'a> {
    /// Whether the tag is constructed (its value is a sequence of TLV objects).
    pub fn is_constructed(&self) -> bool {
        self.tag.is_constructed()
    }

    /// Offset of the value's first byte, counted from the start of the outermost buffer.
    pub fn value_offset(&self) -> usize {
        self.offset + (self.raw.len() - self.value.len())
    }

    /// Reader over the children of a constructed object; empty for a primitive one. Error offsets
    /// stay absolute (relative to the outermost buffer). Padding is `00` and `FF`.
    pub fn children(&self) -> TlvReader<'a> {
        self.children_with(Padding::ZeroAndFf)
    }

    /// As [`Tlv::children`], with the given padding rule.
    pub fn children_with(&self, padding: Padding) -> TlvReader<'a> {
        let value = if self.is_constructed() {
            self.value
        } else {
            &[]
        };
        TlvReader::with_base(value, self.value_offset()).padding(padding)
    }

    /// First direct child with `tag` (no recursion); `Ok(None)` for a primitive object.
    pub fn child(&self, tag: Tag) -> Result<Option<Tlv<'a>>, TlvError> {
        for child in self.children() {
            let child = child?;
            if child.tag == tag {
                return Ok(Some(child));
            }
        }
        Ok(None)
    }
}

/// Iterator over the BER-TLV objects of a buffer, without allocating (EMV Book 3 Annex B).
///
/// Skips padding bytes `00` and `FF` before, between and after objects (Annex B1); with
/// [`Padding::ZeroOnly`] only `00`. Yields
/// `Err` once for the first malformed object and then ends. It does not descend into
/// constructed objects: use [`Tlv::children`], [`find`] or [`validate`] for that.
#[derive(Debug, Clone)]
pub struct TlvReader<'a> {
    /// The bytes not yet read.
    rest: &'a [u8],
    /// Address of the outermost buffer's first byte: an object's absolute offset is its address
    /// minus this (so the hot loop carries no offset counter).
    origin: usize,
    /// Whether `FF` is padding (see [`Padding`]).
    ff_is_padding: bool,
}

impl<'a> TlvReader<'a> {
    /// A reader over `data`; error offsets count from `data[0]`.
    pub fn new(data: &'a [u8]) -> Self {
        TlvReader::with_base(data, 0)
    }

    /// A reader over `data` that sits at offset `base` of a larger buffer; error offsets and
    /// [`Tlv::offset`] count from the start of that larger buffer.
    pub fn with_base(data: &'a [u8], base: usize) -> Self {
        TlvReader {
            rest: data,
            origin: (data.as_ptr() as usize).wrapping_sub(base),
            ff_is_padding: true,
        }
    }

    /// The same reader with another padding rule ([`Padding::ZeroAndFf`] unless set).
    pub fn padding(mut self, padding: Padding) -> Self {
        self.ff_is_padding = padding == Padding::ZeroAndFf;
        self
    }

    /// The bytes not yet read.
    pub fn remaining(&self) -> &'a [u8] {
        self.rest
    }

    /// Absolute offset of the first byte of `rest`, a tail of the buffer being read.
    #[inline(always)]
    fn offset_of(&self, rest: &[u8]) -> usize {
        (rest.as_ptr() as usize).wrapping_sub(self.origin)
    }
}

impl<'a> Iterator for TlvReader<'a> {
    type Item = Result<Tlv<'a>, TlvError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let mut rest = self.rest;
        // Annex B1: '00' (and, per ISO/IEC 7816-4, 'FF') bytes may precede, separate or follow objects.
        while let [b @ (0x00 | 0xFF), tail @ ..] = rest {
            if *b == 0xFF && !self.ff_is_padding {
                break;
            }
            rest = tail;
        }
        // Fast path: a one- or two-byte tag with a short-form length, value inside the buffer.
        // Anything else (longer tags, long-form lengths, errors, the last two bytes) goes to
        // `read_object`.
        let header = match *rest {
            [b0, b1, b2, ..] => {
                if b0 & 0x1F != 0x1F {
                    (b1 < 0x80).then_some((u32::from(b0), 2, b1))
                } else if b1 < 0x80 && b2 < 0x80 {
                    Some(((u32::from(b0) << 8) | u32::from(b1), 3, b2))
                } else {
                    None
                }
            }
            [] => {
                self.rest = rest;
                return None;
            }
            _ => None,
        };
        if let Some((tag, header_len, len)) = header {
            let end = header_len + usize::from(len);
            if let Some((raw, tail)) = rest.split_at_checked(end) {
                if let Some(value) = raw.get(header_len..) {
                    self.rest = tail;
                    return Some(Ok(Tlv {
                        tag: Tag(tag),
                        value,
                        raw,
                        offset: self.offset_of(raw),
                    }));
                }
            }
        }
        match read_object(rest, self.offset_of(rest)) {
            Ok((tlv, end)) => {
                self.rest = rest.get(end..).unwrap_or(&[]);
                Some(Ok(tlv))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

impl std::iter::FusedIterator for TlvReader<'_> {}

/// Read the object at the start of `data`, which sits at absolute offset `base`; returns it and
/// its encoded size. Handles every form the reader's fast path does not.
fn read_object(data: &[u8], base: usize) -> Result<(Tlv<'_>, usize), TlvError> {
    let (tag, tag_len) = tag::decode_at(data, 0, base)?;
    let (len, len_len) = length::decode_at(data, tag_len, base, tag, 0)?;
    let header_len = tag_len + len_len;
    match header_len.checked_add(len).and_then(|end| data.get(..end)) {
        Some(raw) => Ok((
            Tlv {
                tag,
                value: raw.get(header_len..).unwrap_or(&[]),
                raw,
                offset: base,
            },
            raw.len(),
        )),
        None => Err(TlvError::ValueOverrun {
            offset: base + header_len,
            tag,
            length: len,
            available: data.len().saturating_sub(header_len),
        }),
    }
}

/// Read exactly one object from `data` (padding around it allowed); bytes after it are an error.
pub fn parse_one(data: &[u8]) -> Result<Tlv<'_>, TlvError> {
    let mut reader = TlvReader::new(data);
    let first = reader
        .next()
        .unwrap_or(Err(TlvError::Empty { offset: 0 }))?;
    match reader.next() {
        None => Ok(first),
        Some(Err(e)) => Err(e),
        Some(Ok(next)) => Err(TlvError::TrailingBytes {
            offset: next.offset,
        }),
    }
}

/// All top-level objects of `data` (no recursion), or the first error.
pub fn parse_all(data: &[u8]) -> Result<Vec<Tlv<'_>>, TlvError> {
    TlvReader::new(data).collect()
}

/// Check that `data` is well-formed throughout, descending into constructed objects up to
/// [`MAX_DEPTH`] levels.
pub fn validate(data: &[u8]) -> Result<(), TlvError> {
    fn walk(reader: TlvReader<'_>, depth: usize) -> Result<(), TlvError> {
        for tlv in reader {
            let tlv = tlv?;
            if tlv.is_constructed() {
                check_depth(&tlv, depth)?;
                walk(tlv.children(), depth + 1)?;
            }
        }
        Ok(())
    }
    walk(TlvReader::new(data), 0)
}

pub(crate) fn check_depth(tlv: &Tlv<'_>, depth: usize) -> Result<(), TlvError> {
    if depth >= MAX_DEPTH {
        return Err(TlvError::TooDeep {
            offset: tlv.offset,
            tag: tlv.tag,
            max_depth: MAX_DEPTH,
        });
    }
    Ok(())
}

/// First object with `tag` anywhere in `data`, searching depth-first in encoding order
/// (a constructed object is checked before its children). Errors met on the way are returned.
pub fn find(data: &[u8], tag: Tag) -> Result<Option<Tlv<'_>>, TlvError> {
    fn search<'a>(
        reader: TlvReader<'a>,
        tag: Tag,
        depth: usize,
    ) -> Result<Option<Tlv<'a>>, TlvError> {
        for tlv in reader {
            let tlv = tlv?;
            if tlv.tag == tag {
                return Ok(Some(tlv));
            }
            if tlv.is_constructed() {
                check_depth(&tlv, depth)?;
                if let Some(found) = search(tlv.children(), tag, depth + 1)? {
                    return Ok(Some(found));
                }
            }
        }
        Ok(None)
    }
    search(TlvReader::new(data), tag, 0)
}

/// The object reached by following `path` from the top level: `path[0]` among the top-level
/// objects, `path[1]` among its direct children, and so on (first match at each level).
/// E.g. `find_path(fci, &[Tag(0x6F), Tag(0xA5), Tag(0x50)])` for the application label.
/// An empty path gives `Ok(None)`.
pub fn find_path<'a>(data: &'a [u8], path: &[Tag]) -> Result<Option<Tlv<'a>>, TlvError> {
    let Some((&first, rest)) = path.split_first() else {
        return Ok(None);
    };
    let mut current = None;
    for tlv in TlvReader::new(data) {
        let tlv = tlv?;
        if tlv.tag == first {
            current = Some(tlv);
            break;
        }
    }
    for &tag in rest {
        match current {
            Some(parent) => current = parent.child(tag)?,
            None => return Ok(None),
        }
    }
    Ok(current)
}
