//! Errors of the BER-TLV codec and of DOL parsing (EMV Book 3 Annex B, §5.4).

use crate::tag::Tag;

/// Why a byte string is not well-formed BER-TLV (EMV Book 3 Annex B) or not a well-formed DOL
/// (EMV Book 3 §5.4).
///
/// Every offset is absolute: it counts from the first byte of the buffer handed to the outermost
/// parser ([`crate::TlvReader::new`], [`crate::parse_all`], [`crate::dol::Dol::parse`], ...), also
/// for errors found inside constructed objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TlvError {
    /// A multi-byte tag (first byte with b5..b1 = 11111) whose subsequent bytes run past the end.
    #[error("truncated tag at offset {offset}: a subsequent tag byte is missing (data ends)")]
    TruncatedTag {
        /// Offset of the tag's first byte.
        offset: usize,
    },
    /// A tag of more than 4 bytes: EMV tags are at most 3 bytes; more than 4 is not supported.
    #[error("tag at offset {offset} is longer than 4 bytes")]
    TagTooLong {
        /// Offset of the tag's first byte.
        offset: usize,
    },
    /// The data ends right after the tag: no length byte.
    #[error("tag {tag} at offset {offset}: length field missing (data ends after the tag)")]
    MissingLength {
        /// Offset of the tag's first byte.
        offset: usize,
        /// The tag just read.
        tag: Tag,
    },
    /// Length byte '80': the indefinite form, which EMV (Book 3 Annex B) does not allow.
    #[error("tag {tag}: indefinite length (80) at offset {offset} is not allowed in EMV")]
    IndefiniteLength {
        /// Offset of the length byte.
        offset: usize,
        /// The tag whose length it is.
        tag: Tag,
    },
    /// Long-form length with more than 4 subsequent bytes (first length byte '85'..'FF').
    #[error(
        "tag {tag}: length form {first_byte:02X} at offset {offset} is not supported (at most 84)"
    )]
    UnsupportedLengthForm {
        /// Offset of the length byte.
        offset: usize,
        /// The tag whose length it is.
        tag: Tag,
        /// The first length byte.
        first_byte: u8,
    },
    /// Long-form length whose subsequent bytes run past the end of the data.
    #[error(
        "tag {tag}: length field at offset {offset} is truncated: needs {needed} bytes, {available} left"
    )]
    TruncatedLength {
        /// Offset of the first length byte.
        offset: usize,
        /// The tag whose length it is.
        tag: Tag,
        /// Bytes the length field needs (including its first byte).
        needed: usize,
        /// Bytes left from `offset`.
        available: usize,
    },
    /// The length says more bytes than the buffer (or the enclosing constructed object) holds.
    #[error(
        "tag {tag}: value at offset {offset} declares {length} bytes but only {available} are left"
    )]
    ValueOverrun {
        /// Offset where the value starts.
        offset: usize,
        /// The tag whose value it is.
        tag: Tag,
        /// The declared length.
        length: usize,
        /// Bytes left in the buffer (or enclosing object) from `offset`.
        available: usize,
    },
    /// Constructed objects nested deeper than [`crate::MAX_DEPTH`].
    #[error("tag {tag} at offset {offset}: constructed objects nested deeper than {max_depth}")]
    TooDeep {
        /// Offset of the tag's first byte.
        offset: usize,
        /// The constructed tag one level too deep.
        tag: Tag,
        /// The limit.
        max_depth: usize,
    },
    /// A single tag was expected (e.g. [`Tag::from_bytes`]) but bytes follow it.
    #[error("trailing bytes after the tag, from offset {offset}")]
    TrailingBytes {
        /// Offset of the first byte after the tag.
        offset: usize,
    },
    /// An empty input where a tag was expected.
    #[error("empty input: expected a tag at offset {offset}")]
    Empty {
        /// Offset where the tag was expected.
        offset: usize,
    },
    /// A DOL entry whose length exceeds what a DOL can ask for (one byte, EMV Book 3 §5.4).
    #[error("DOL entry {tag} at offset {offset}: length {length} exceeds 255")]
    DolLengthTooLong {
        /// Offset of the entry's tag.
        offset: usize,
        /// The entry's tag.
        tag: Tag,
        /// The declared length.
        length: usize,
    },
    /// Data split by a DOL ([`crate::dol::Dol::split`]) whose length differs from the DOL's total.
    #[error("data for the DOL is {actual} bytes, the DOL asks for {expected}")]
    DolDataLength {
        /// [`crate::dol::Dol::total_len`].
        expected: usize,
        /// Length of the data given.
        actual: usize,
    },
}
