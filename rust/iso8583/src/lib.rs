//! ISO 8583 messages for the acquirer link: field specs, packer/unpacker, profiles.
//!
//! * [`Message`]: MTI + fields 2..=128 in one value buffer; typed getters/setters
//!   ([`Message::set_text`], [`Message::set_binary`], [`Message::set_numeric`],
//!   [`Message::set_amount`], [`Message::numeric`], [`Message::pan`], [`Message::set_stan`], ...),
//!   sub-fields by id, name or index ([`Message::subfield`], [`Message::set_subfield`],
//!   [`Message::set_subfields`]), [`Message::respond`] for hosts, and a `Debug` that masks PAN,
//!   tracks, PIN block, MACs and the cardholder tags inside field 55.
//! * [`Profile`]: a compiled layout loaded from JSON ([`Profile::cups_pos`], [`Profile::iso87_ascii`],
//!   or a user file with [`Profile::load`]) that packs and unpacks messages
//!   ([`Profile::pack`]/[`Profile::unpack`]) and whole frames with TPDU and header
//!   ([`Profile::pack_frame`]/[`Profile::unpack_frame`], [`Frame`], [`Tpdu`], [`CupsHeader`]).
//! * [`FieldSpec`]: one compiled field (type, length rule, encodings, pad, sub-fields).
//! * [`Error`]: every failure with the part (field number), byte offset and reason.
//! * [`Profile::pretty`]: masked human-readable rendering; [`Profile::frame_to_json`] /
//!   [`Profile::frame_from_json`]: the JSON form used by the CLI.
//!
//! Values are stored in text form for character/numeric fields (ASCII digits even when the wire
//! form is BCD) and as bytes for binary fields; the profile converts on pack and unpack.
//!
//! ```
//! use smartpos_iso8583::{Frame, Message, Mti, Profile, Tpdu};
//! let p = Profile::cups_pos();
//! let mut m = Message::new(Mti::new("0800")?);
//! m.set_numeric(11, 1, 6)?.set_text(41, "12345678")?.set_text(42, "123456789012345")?;
//! m.set_subfields(p, 60, &["00", "000001", "003"])?;
//! let frame = Frame::new(Tpdu::new(0x0001, 0x0000), &[0x60, 0x31, 0x00, 0x31, 0x00, 0x00], m);
//! let bytes = p.pack_frame(&frame)?;
//! let back = p.unpack_frame(&bytes)?;
//! assert_eq!(back, frame);
//! assert_eq!(back.message.subfield(p, 60, "60.2")?, Some("000001"));
//! # Ok::<(), smartpos_iso8583::Error>(())
//! ```
#![forbid(unsafe_code)]

mod bcd;
mod codec;
mod error;
mod frame;
#[doc(hidden)]
pub mod fuzzing;
pub mod icc;
mod json;
pub mod mask;
mod message;
mod mti;
mod pretty;
mod profile;
pub mod spec;
mod subfield;

pub use error::{Error, Part, ProfileError};
pub use frame::{CupsHeader, Frame, Tpdu};
pub use message::Message;
pub use mti::Mti;
pub use profile::{BUILTIN_PROFILES, BitmapEncoding, MtiEncoding, Profile};
pub use spec::{
    DataEncoding, FieldKind, FieldSpec, Length, LengthCounts, Pad, PrefixEncoding, SubfieldSpec,
};
pub use subfield::SubfieldKey;
