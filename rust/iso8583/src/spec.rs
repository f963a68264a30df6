//! Compiled field specifications: what a data element is (type), how long it may be, and how it is
//! written on the wire. Profiles (see [`crate::Profile`]) are loaded from JSON once and compiled into
//! these plain values, so packing and unpacking never look at JSON.
//!
//! Type letters follow ISO 8583:1987 §4.2 (n, an, ans, b, z, x+n).

use std::fmt;

/// The data type of a field (ISO 8583:1987 §4.2 notation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldKind {
    /// `n`: decimal digits.
    N,
    /// `an`: letters and digits; this crate also allows the space, which hosts use as padding.
    An,
    /// `ans`: printable ASCII 0x20..=0x7E.
    Ans,
    /// `b`: binary data (kept as bytes; shown as upper-case hex in text forms).
    B,
    /// `z`: track 2/3 data (ISO 7813 / ISO 4909): digits and the field separator `=`
    /// (nibble 0xD in BCD; an ASCII `D` is accepted as the separator too).
    Z,
    /// `x+n`: a sign `C` (credit) or `D` (debit) followed by digits (amounts such as fields 28..31).
    XN,
}

impl FieldKind {
    /// The notation used in profiles and specs.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::N => "n",
            FieldKind::An => "an",
            FieldKind::Ans => "ans",
            FieldKind::B => "b",
            FieldKind::Z => "z",
            FieldKind::XN => "x+n",
        }
    }

    /// True for kinds whose value is text (everything but `b`).
    pub fn is_text(self) -> bool {
        self != FieldKind::B
    }

    /// Whether `byte` may appear at `position` of a text value of this kind.
    pub(crate) fn allows(self, position: usize, byte: u8) -> bool {
        match self {
            FieldKind::N => byte.is_ascii_digit(),
            FieldKind::An => byte.is_ascii_alphanumeric() || byte == b' ',
            FieldKind::Ans => (0x20..=0x7E).contains(&byte),
            FieldKind::B => true,
            FieldKind::Z => byte.is_ascii_digit() || byte == b'=' || byte == b'D',
            FieldKind::XN => {
                if position == 0 {
                    byte == b'C' || byte == b'D'
                } else {
                    byte.is_ascii_digit()
                }
            }
        }
    }

    /// Position of the first byte of `value` this kind does not allow (a vectorisable check first,
    /// the position only on failure).
    pub(crate) fn first_invalid(self, value: &[u8]) -> Option<usize> {
        // Non-short-circuit folds so the compiler vectorises the common (valid) case.
        let ok = match self {
            FieldKind::N => value.iter().fold(true, |ok, b| ok & b.is_ascii_digit()),
            FieldKind::An => value.iter().fold(true, |ok, &b| {
                ok & (b.is_ascii_alphanumeric() | (b == b' '))
            }),
            FieldKind::Ans => value
                .iter()
                .fold(true, |ok, &b| ok & (0x20..=0x7E).contains(&b)),
            FieldKind::B => true,
            FieldKind::Z => value.iter().fold(true, |ok, &b| {
                ok & (b.is_ascii_digit() | (b == b'=') | (b == b'D'))
            }),
            FieldKind::XN => false,
        };
        if ok {
            return None;
        }
        value
            .iter()
            .enumerate()
            .position(|(i, &b)| !self.allows(i, b))
    }

    pub(crate) fn parse(s: &str) -> Option<FieldKind> {
        Some(match s {
            "n" => FieldKind::N,
            "an" => FieldKind::An,
            "ans" => FieldKind::Ans,
            "b" => FieldKind::B,
            "z" => FieldKind::Z,
            "x+n" => FieldKind::XN,
            _ => return None,
        })
    }
}

impl fmt::Display for FieldKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a field's data is written on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataEncoding {
    /// One ASCII byte per character (text kinds).
    Ascii,
    /// Packed BCD, two digits per byte (`n`, `z`, and the digits of `x+n` after an ASCII sign byte).
    Bcd,
    /// Raw bytes (`b`).
    Binary,
    /// Binary data written as upper-case hex ASCII, two characters per byte (`b`).
    Hex,
}

/// Where the pad nibble of an odd-length BCD value goes, and what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pad {
    /// Right-aligned value, `0` nibble first (e.g. `123` → `01 23`).
    Left0,
    /// Right-aligned value, `F` nibble first (`123` → `F1 23`).
    LeftF,
    /// Left-aligned value, `0` nibble last (`123` → `12 30`).
    Right0,
    /// Left-aligned value, `F` nibble last (`123` → `12 3F`).
    RightF,
}

impl Pad {
    /// The pad nibble.
    pub fn nibble(self) -> u8 {
        match self {
            Pad::Left0 | Pad::Right0 => 0x0,
            Pad::LeftF | Pad::RightF => 0xF,
        }
    }

    /// True when the pad nibble precedes the digits.
    pub fn is_left(self) -> bool {
        matches!(self, Pad::Left0 | Pad::LeftF)
    }
}

/// How a variable-length field's length prefix is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrefixEncoding {
    /// ASCII decimal digits, as many as the prefix has (`LL` = 2 bytes, `LLL` = 3 bytes).
    Ascii,
    /// Packed BCD, right-aligned (`LL` = 1 byte, `LLL` and `LLLL` = 2 bytes).
    Bcd,
    /// Big-endian binary (`LL` = 1 byte, `LLL` and `LLLL` = 2 bytes).
    Binary,
}

/// What the number in a length prefix (and a field's `max`/`len`) counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthCounts {
    /// Digits for `n`/`z`/`x+n` (the sign not counted), characters for `an`/`ans`, bytes for `b`.
    /// A BCD field with 19 digits has prefix 19 although it takes 10 bytes.
    Units,
    /// Bytes on the wire (for hex-ASCII binary fields: hex characters). Not allowed for BCD data.
    Encoded,
}

/// A field's length rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    /// Always exactly this many units.
    Fixed(usize),
    /// A length prefix of `digits` decimal digits (2 = LLVAR, 3 = LLLVAR, 4 = LLLLVAR) then up to `max`.
    Variable { digits: u8, max: usize },
}

/// One sub-field of a structured field (e.g. UnionPay field 60.2, batch number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubfieldSpec {
    /// The dotted id, e.g. `"60.2"`.
    pub id: String,
    /// A human name, e.g. `"Batch number"`.
    pub name: String,
    /// The character type of the sub-field.
    pub kind: FieldKind,
    /// `Fixed(n)`: exactly n characters; `Variable { max, .. }` (last sub-field only): the rest, up to max.
    pub length: Length,
}

/// The compiled description of one data element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    /// Field number, 2..=128.
    pub number: u8,
    /// A human name.
    pub name: String,
    /// Data type.
    pub kind: FieldKind,
    /// Fixed or variable length.
    pub length: Length,
    /// Data encoding.
    pub encoding: DataEncoding,
    /// Length-prefix encoding (variable-length fields only).
    pub prefix: PrefixEncoding,
    /// BCD pad for odd digit counts (written on pack).
    pub pad: Pad,
    /// On unpack, accept either pad nibble (0 or F) where `pad` is expected: hosts differ here.
    pub lenient_pad: bool,
    /// `z` fields in BCD only: keep every nibble, as an upper-case hex character, instead of
    /// requiring digits and the separator. For track data that is partly encrypted on the wire
    /// (e.g. China UnionPay track encryption); the separator then reads as `D`.
    pub raw_nibbles: bool,
    /// `ans` fields only: also allow bytes 0x80..=0xFF (multi-byte text such as the GBK-encoded
    /// issuer names UnionPay hosts put in field 63). The value is kept as bytes; [`crate::Message::text`]
    /// gives `None` when it is not UTF-8.
    pub high_bytes: bool,
    /// What lengths count.
    pub counts: LengthCounts,
    /// Sub-fields, in order, if the field is structured.
    pub subfields: Vec<SubfieldSpec>,
}

impl FieldSpec {
    /// Bytes on the wire for a value of `units` units (digits/characters/bytes).
    pub(crate) fn wire_len(&self, units: usize) -> usize {
        match (self.kind, self.encoding) {
            (FieldKind::XN, DataEncoding::Bcd) => 1 + units.div_ceil(2),
            (FieldKind::XN, _) => 1 + units,
            (_, DataEncoding::Bcd) => units.div_ceil(2),
            (_, DataEncoding::Hex) => units * 2,
            _ => units,
        }
    }

    /// Units of a stored value (the stored form is text for text kinds, raw bytes for `b`).
    pub(crate) fn units_of(&self, stored_len: usize) -> usize {
        match self.kind {
            FieldKind::XN => stored_len.saturating_sub(1),
            _ => stored_len,
        }
    }

    /// Bytes a length prefix takes.
    pub(crate) fn prefix_len(&self) -> usize {
        match self.length {
            Length::Fixed(_) => 0,
            Length::Variable { digits, .. } => match self.prefix {
                PrefixEncoding::Ascii => usize::from(digits),
                PrefixEncoding::Bcd => usize::from(digits).div_ceil(2),
                PrefixEncoding::Binary => {
                    if digits <= 2 {
                        1
                    } else {
                        2
                    }
                }
            },
        }
    }
}
