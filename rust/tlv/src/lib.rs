//! smartpos-tlv: BER-TLV as EMV uses it (EMV Book 3 Annex B), the EMV tag dictionary (Book 3
//! Annex A plus contactless and scheme tags) and Data Object Lists (Book 3 §5.4).
//!
//! # API at a glance
//!
//! * [`Tag`]: `u32` newtype of the raw tag bytes (`Tag(0x9F26)`, `Tag(0xDF8129)`), with
//!   [`Tag::from_bytes`] (exactly one tag), [`Tag::decode`] (leading tag and its size),
//!   [`Tag::to_bytes`] (stack [`TagBytes`], derefs to `&[u8]`), [`Tag::len`],
//!   [`Tag::is_constructed`], [`Tag::class`] ([`Class`]), [`Tag::is_valid`]; [`parse_tag_list`]
//!   for lists of bare tags (`9F4A`, `DF8112`); `Display` is
//!   upper-case hex (`9F26`); constants for common tags ([`Tag::PAN`], [`Tag::AIP`],
//!   [`Tag::AFL`], [`Tag::TVR`], [`Tag::CDOL1`], [`Tag::PDOL`], ...).
//! * [`TlvReader`]`::new(&[u8])`: allocation-free iterator yielding `Result<Tlv, TlvError>`;
//!   skips `00`/`FF` padding (`.padding(Padding::ZeroOnly)` for `00` only, to read `FF..` tags);
//!   yields one `Err` for the first malformed object, then ends. [`TlvReader::remaining`] gives
//!   the unread bytes; [`TlvReader::with_base`] reads a slice of a larger buffer with offsets
//!   counted in that buffer.
//! * [`Tlv`]`<'a> { tag, value: &'a [u8], raw: &'a [u8], offset }` (`raw` is the whole encoded
//!   object, `offset` is absolute in the outermost buffer); [`Tlv::children`] reads a constructed
//!   object's value (empty for a primitive one), [`Tlv::child`] finds a direct child,
//!   [`Tlv::value_offset`].
//! * Helpers: [`parse_one`] (exactly one object), [`parse_all`] (top level, `Vec<Tlv>`),
//!   [`validate`] (whole tree), [`find`]`(data, tag) -> Result<Option<Tlv>>` (depth-first,
//!   recursive), [`find_path`]`(data, &[Tag])` (one tag per level from the top).
//! * [`TlvBuilder`]: `new`, `with_capacity`, `push(tag, &[u8])`, `push_constructed(tag, |b| ..)`,
//!   `push_present(&[Tag], |tag| -> Option<&[u8]>)` (e.g. field 55), `push_tlv(&Tlv)`,
//!   `push_raw(&[u8])`, `as_bytes`, `finish() -> Vec<u8>`; minimal lengths.
//!   [`encode`]`(tag, value) -> Vec<u8>` for one object; [`encode_tag`], [`encode_length`],
//!   [`encoded_length_len`] for the pieces.
//! * [`TlvNode`]: owned tree `{ tag, value: Vec<u8>, children: Vec<TlvNode> }` with
//!   [`TlvNode::parse_all`], [`TlvNode::from_tlv`], [`TlvNode::primitive`],
//!   [`TlvNode::constructed`], [`TlvNode::encode`], [`TlvNode::to_bytes`], [`TlvNode::find`].
//! * [`dict::lookup`]`(Tag) -> Option<&'static TagInfo>` with [`dict::TagInfo`]
//!   `{ tag, name, format: Format, min_len, max_len, source: Source }`; [`dict::name`],
//!   [`dict::format`], [`dict::all`]. [`dict::Format`] is `A | An | Ans | B | Cn | N | Var`,
//!   [`dict::Source`] is `Icc | Terminal | Issuer | IssuerOrTerminal`.
//! * [`dol::Dol`]: `Dol::parse(&[u8]) -> Result<Dol, TlvError>`, `entries() -> &[DolEntry]`,
//!   `total_len()`, `contains(tag)`, `build(|tag| -> Option<&[u8]>) -> Vec<u8>` (EMV Book 3 §5.4
//!   padding and truncation by the dictionary's format), `build_with(source, format_of)`,
//!   `build_into(source, format_of, &mut Vec<u8>)`, `split(&[u8])` (data back into values, for
//!   the card side), `from_entries`, `to_bytes`; [`dol::fit`] applies §5.4 to one value.
//! * [`mask`]: [`mask::is_sensitive`]`(Tag)`, [`mask::mask_pan`] (first 6 + last 4),
//!   [`mask::mask_track`] (PAN masked, separator kept, the rest starred),
//!   [`mask::masked_hex`]`(tag, value)` for showing PAN and track data.
//! * [`TlvError`]: one enum for all of it; every variant carries the offset (absolute in the
//!   outermost buffer), the tag when one was read, and says why.
//!
//! # Encoding rules (EMV Book 3 Annex B)
//!
//! * Tags of 1 to 4 bytes (EMV uses up to 3): b5..b1 = `11111` in the first byte announces
//!   subsequent bytes, b8 = 1 in a subsequent byte announces another.
//! * Lengths: `00`..`7F`, `81 xx`, `82 xx xx`, `83 xx xx xx`, `84 xx xx xx xx`. Indefinite (`80`)
//!   and `85`..`FF` are rejected, as is any length beyond the bytes the buffer (or the enclosing
//!   constructed object) holds. Non-minimal long forms (`81 05`) are valid BER and accepted on
//!   input; the builder always writes the minimal form.
//! * `00` and `FF` bytes before, between and after objects are padding and skipped (EMVCo
//!   Specification Update 69 warns issuers off tags starting `FF` for this reason). Tags whose
//!   first byte is `FF` (Mastercard's `FF8101`..`FF8106`, used between kernel and terminal) need
//!   [`Padding::ZeroOnly`]; the recursive helpers always use `00`/`FF`.
//! * Recursive helpers stop at [`MAX_DEPTH`] levels of nesting with [`TlvError::TooDeep`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod builder;
pub mod dict;
pub mod dol;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod length;
pub mod mask;
mod node;
mod reader;
mod tag;

pub use builder::{TlvBuilder, encode};
pub use error::TlvError;
pub use length::{MAX_LENGTH_BYTES, encode_length, encode_tag, encoded_length_len};
pub use node::TlvNode;
pub use reader::{
    MAX_DEPTH, Padding, Tlv, TlvReader, find, find_path, parse_all, parse_one, validate,
};
pub use tag::{Class, MAX_TAG_LEN, Tag, TagBytes, parse_tag_list};
