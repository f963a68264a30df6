//! One error type for packing, unpacking and sub-field access, and one for loading profiles.
//!
//! Every unpack error names the part of the message (TPDU, header, MTI, bitmap or field number) and the
//! byte offset into the input where the problem starts, so a trace of a host's reply can be read
//! against it. Pack errors name the field and the position inside the value.

use crate::mti::Mti;
use crate::spec::FieldKind;
use std::fmt;

/// The part of a message an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The 5-byte TPDU in front of a UnionPay-style message.
    Tpdu,
    /// The profile's fixed-length message header.
    Header,
    /// The message type indicator (ISO 8583:1987 §4.1).
    Mti,
    /// The primary bitmap (fields 1..64).
    PrimaryBitmap,
    /// The secondary bitmap, field 1 (fields 65..128).
    SecondaryBitmap,
    /// A data element, by number (2..=128).
    Field(u8),
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Part::Tpdu => f.write_str("TPDU"),
            Part::Header => f.write_str("header"),
            Part::Mti => f.write_str("MTI"),
            Part::PrimaryBitmap => f.write_str("primary bitmap"),
            Part::SecondaryBitmap => f.write_str("secondary bitmap"),
            Part::Field(n) => write!(f, "field {n}"),
        }
    }
}

/// Why a message could not be packed, unpacked or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input ends inside `part`.
    #[error(
        "{part} at byte {offset}: truncated, needs {needed} byte(s) but only {available} remain"
    )]
    Truncated {
        part: Part,
        offset: usize,
        needed: usize,
        available: usize,
    },

    /// A nibble that is not a decimal digit where BCD digits are expected.
    #[error("{part} at byte {offset}: bad BCD digit 0x{nibble:X}")]
    BadBcdDigit {
        part: Part,
        offset: usize,
        nibble: u8,
    },

    /// The pad nibble of an odd-length BCD value is not the one the profile uses.
    #[error(
        "{part} at byte {offset}: pad nibble is 0x{nibble:X}, the profile pads with 0x{expected:X}"
    )]
    BadPadding {
        part: Part,
        offset: usize,
        nibble: u8,
        expected: u8,
    },

    /// An ASCII length prefix holds a byte that is not a digit.
    #[error("{part} at byte {offset}: length prefix byte 0x{byte:02X} is not a digit")]
    BadLengthPrefix { part: Part, offset: usize, byte: u8 },

    /// A variable-length field says (or has) more than its maximum length.
    #[error("{part} at byte {offset}: length {length} is over the maximum {max}")]
    LengthOverMax {
        part: Part,
        offset: usize,
        length: usize,
        max: usize,
    },

    /// A byte on the wire that the field's type does not allow.
    #[error("{part} at byte {offset}: byte 0x{byte:02X} is not allowed in a field of type {kind}")]
    BadCharacter {
        part: Part,
        offset: usize,
        byte: u8,
        kind: FieldKind,
    },

    /// Bytes left over after the last field the bitmap announces.
    #[error("{count} unexpected byte(s) after the last field, starting at byte {offset}")]
    TrailingData { offset: usize, count: usize },

    /// The profile requires this field for this MTI.
    #[error("MTI {mti}: mandatory field {field} is missing")]
    MissingMandatory { mti: Mti, field: u8 },

    /// The bitmap (on unpack) or the message (on pack) has a field the profile does not define.
    #[error("field {field} is not defined by profile '{profile}'{}", at_offset(*offset))]
    UndefinedField {
        field: u8,
        profile: String,
        offset: Option<usize>,
    },

    /// A field number outside 2..=128 (field 1 is the secondary bitmap, set automatically).
    #[error("field number {0} is not a data element (2..=128)")]
    BadFieldNumber(u16),

    /// A value character the field's type does not allow (pack side; `position` is 0-based in the value).
    #[error(
        "field {field}: character 0x{byte:02X} at position {position} is not allowed in a field of type {kind}"
    )]
    InvalidValue {
        field: u8,
        position: usize,
        byte: u8,
        kind: FieldKind,
    },

    /// A fixed-length field given a value of another length.
    #[error("field {field}: length {length} differs from the fixed length {expected}")]
    WrongLength {
        field: u8,
        length: usize,
        expected: usize,
    },

    /// A variable-length field given a value over its maximum.
    #[error("field {field}: length {length} is over the maximum {max}")]
    ValueTooLong {
        field: u8,
        length: usize,
        max: usize,
    },

    /// Hex-ASCII binary data of odd length on the wire.
    #[error("{part} at byte {offset}: hex-ASCII data of odd length {length}")]
    OddHexLength {
        part: Part,
        offset: usize,
        length: usize,
    },

    /// An MTI that is not four decimal digits.
    #[error("MTI {0:?} is not four decimal digits")]
    BadMti(String),

    /// The profile wants a TPDU or header that the frame does not have (or of another length).
    #[error("{part}: the profile requires {expected} byte(s), the frame has {actual}")]
    EnvelopeMismatch {
        part: Part,
        expected: usize,
        actual: usize,
    },

    /// Sub-field access on a field that the profile gives no sub-fields.
    #[error("field {field} has no sub-fields in profile '{profile}'")]
    NoSubfields { field: u8, profile: String },

    /// A sub-field name or index the field does not have.
    #[error("field {field} has no sub-field {key}")]
    UnknownSubfield { field: u8, key: String },

    /// A sub-field cannot be set while an earlier one is absent.
    #[error("field {field}: sub-field {key} cannot be set before sub-field {missing}")]
    SubfieldGap {
        field: u8,
        key: String,
        missing: String,
    },

    /// A sub-field value of the wrong length or characters.
    #[error("field {field}: sub-field {key}: {reason}")]
    InvalidSubfield {
        field: u8,
        key: String,
        reason: String,
    },

    /// A field's stored value is not what a typed getter expects (e.g. `numeric` on non-digits).
    #[error("field {field}: {reason}")]
    NotTyped { field: u8, reason: String },

    /// A JSON message (see [`crate::Profile::frame_from_json`]) that does not fit the profile.
    #[error("JSON message: {0}")]
    Json(String),
}

fn at_offset(offset: Option<usize>) -> String {
    match offset {
        Some(o) => format!(" (bitmap bit at byte {o})"),
        None => String::new(),
    }
}

/// Why a profile (JSON) could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The JSON is not well-formed or has unknown keys / wrong value types.
    #[error("profile {source_name}: {error}")]
    Json {
        source_name: String,
        error: serde_json::Error,
    },
    /// The file could not be read.
    #[error("profile file {path}: {error}")]
    Io { path: String, error: std::io::Error },
    /// Well-formed JSON describing an impossible layout.
    #[error("profile {source_name}: {what}: {reason}")]
    Invalid {
        source_name: String,
        what: String,
        reason: String,
    },
    /// No built-in profile of that name, and no such file.
    #[error("no built-in profile named '{0}' (built-ins: cups-pos, iso87-ascii) and no such file")]
    Unknown(String),
}
