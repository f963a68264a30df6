//! BER-TLV encoder (EMV Book 3 Annex B).

use crate::length::{encode_length, encode_tag, write_length};
use crate::reader::Tlv;
use crate::tag::Tag;

/// Builds a BER-TLV byte string, object after object, with minimal length fields.
///
/// ```
/// use smartpos_tlv::{Tag, TlvBuilder};
/// let mut b = TlvBuilder::new();
/// b.push_constructed(Tag::FCI_TEMPLATE, |b| {
///     b.push(Tag::DF_NAME, &[0xA0, 0, 0, 0, 0x03, 0x10, 0x10]);
/// });
/// assert_eq!(b.finish(), [0x6F, 0x09, 0x84, 0x07, 0xA0, 0, 0, 0, 0x03, 0x10, 0x10]);
/// ```
///
/// The tag is written as given: build only with valid tags ([`Tag::is_valid`]), otherwise the
/// output will not read back as the same tag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlvBuilder {
    buf: Vec<u8>,
}

impl TlvBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        TlvBuilder::default()
    }

    /// An empty builder with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        TlvBuilder {
            buf: Vec::with_capacity(capacity),
        }
    }

    /// Append a primitive object `tag` `length` `value`.
    pub fn push(&mut self, tag: Tag, value: &[u8]) -> &mut Self {
        encode_tag(tag, &mut self.buf);
        encode_length(value.len(), &mut self.buf);
        self.buf.extend_from_slice(value);
        self
    }

    /// Append a constructed object whose value is what `build` appends to the builder it is given.
    pub fn push_constructed(&mut self, tag: Tag, build: impl FnOnce(&mut TlvBuilder)) -> &mut Self {
        encode_tag(tag, &mut self.buf);
        let start = self.buf.len();
        build(self);
        let content_len = self.buf.len() - start;
        let mut len_buf = [0u8; 1 + (usize::BITS as usize / 8)];
        let n = write_length(content_len, &mut len_buf);
        let len_bytes = len_buf.get(..n).unwrap_or(&[]);
        self.buf.splice(start..start, len_bytes.iter().copied());
        self
    }

    /// Append a primitive object for each of `tags` that `source` has a value for, in the order
    /// given; absent tags are skipped (e.g. ISO 8583 field 55 from the kernel's data).
    pub fn push_present<'s>(
        &mut self,
        tags: &[Tag],
        source: impl Fn(Tag) -> Option<&'s [u8]>,
    ) -> &mut Self {
        for &tag in tags {
            if let Some(value) = source(tag) {
                self.push(tag, value);
            }
        }
        self
    }

    /// Append an object read elsewhere, byte for byte ([`Tlv::raw`]).
    pub fn push_tlv(&mut self, tlv: &Tlv<'_>) -> &mut Self {
        self.buf.extend_from_slice(tlv.raw);
        self
    }

    /// Append already-encoded TLV bytes unchanged.
    pub fn push_raw(&mut self, encoded: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(encoded);
        self
    }

    /// Bytes built so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Number of bytes built so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing has been built yet.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The encoded bytes.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Encode one primitive object: `tag`, minimal length, `value`.
pub fn encode(tag: Tag, value: &[u8]) -> Vec<u8> {
    let mut b = TlvBuilder::with_capacity(value.len() + 8);
    b.push(tag, value);
    b.finish()
}
