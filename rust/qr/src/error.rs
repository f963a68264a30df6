//! One error type for every codec in this crate. Each variant names the field (or tag) that is
//! wrong and why, so a caller can show it to an operator or decide to ask for a rescan.

use std::fmt;

/// Identifies an MPM data object: a root ID ("59") or a sub-ID inside a template ("62.05").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldId {
    /// Root ID, 00-99.
    pub id: u8,
    /// Sub-ID inside the template `id`, 00-99.
    pub sub: Option<u8>,
}

impl FieldId {
    /// A root data object ID.
    pub const fn root(id: u8) -> Self {
        FieldId { id, sub: None }
    }

    /// A data object inside the template `id`.
    pub const fn sub(id: u8, sub: u8) -> Self {
        FieldId { id, sub: Some(sub) }
    }
}

impl fmt::Display for FieldId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.sub {
            None => write!(f, "{:02}", self.id),
            Some(sub) => write!(f, "{:02}.{:02}", self.id, sub),
        }
    }
}

/// Everything that can go wrong decoding or encoding a QR payment code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QrError {
    /// The scanned payload was empty (or only whitespace).
    #[error("empty payload")]
    Empty,

    /// The ID/length/value framing of an MPM payload is broken (EMV QRCPS-MPM §3).
    #[error("MPM data object {at}: {reason}")]
    Malformed {
        /// Where the framing broke: the object being read (or its parent template).
        at: String,
        /// What is wrong.
        reason: String,
    },

    /// A value's length (in characters) is outside what the field allows.
    #[error("MPM field {field}: length {length} is not allowed (expected {expected})")]
    BadLength {
        /// The field.
        field: FieldId,
        /// Its length in characters.
        length: usize,
        /// The allowed length(s), in words.
        expected: String,
    },

    /// A mandatory data object is absent.
    #[error("MPM field {field} is mandatory but missing ({name})")]
    MissingField {
        /// The missing field.
        field: FieldId,
        /// Its name in the specification.
        name: &'static str,
    },

    /// A numeric ("N") field contains something other than digits.
    #[error("MPM field {field}: must be numeric digits only, found {value:?}")]
    NonNumeric {
        /// The field.
        field: FieldId,
        /// The offending value.
        value: String,
    },

    /// A field's value is not one the specification allows.
    #[error("MPM field {field}: {reason}")]
    InvalidValue {
        /// The field.
        field: FieldId,
        /// Why the value is not allowed.
        reason: String,
    },

    /// The same ID appears twice at the same level.
    #[error("MPM field {field} appears more than once")]
    DuplicateId {
        /// The repeated field.
        field: FieldId,
    },

    /// A data object is not where the specification puts it (00 first, 63 last).
    #[error("MPM field {field} is out of order: {reason}")]
    Order {
        /// The misplaced field.
        field: FieldId,
        /// The rule broken.
        reason: &'static str,
    },

    /// The CRC (ID 63) does not match the payload (EMV QRCPS-MPM §4).
    #[error("MPM CRC mismatch: payload carries {found:04X}, computed {computed:04X}")]
    BadCrc {
        /// The CRC written in the payload.
        found: u16,
        /// The CRC computed over the payload.
        computed: u16,
    },

    /// An amount (54, 56) or percentage (57) is not in the decimal format of EMV QRCPS-MPM §4.
    #[error("MPM field {field}: amount {value:?} is malformed: {reason}")]
    AmountFormat {
        /// The field.
        field: FieldId,
        /// The offending value.
        value: String,
        /// Why.
        reason: &'static str,
    },

    /// Tip or convenience indicator (55) and the fee fields (56, 57) contradict each other.
    #[error("MPM fields 55/56/57 inconsistent: {reason}")]
    TipConsistency {
        /// The rule broken.
        reason: &'static str,
    },

    /// The scanned text is not a payment code of any wallet this crate knows.
    /// The reason never repeats the whole code (it is a bearer token).
    #[error("unknown wallet payment code: {reason}")]
    UnknownWalletCode {
        /// Why no wallet rule matched.
        reason: String,
    },

    /// A consumer-presented payload is not valid base64 (EMV QRCPS-CPM §4.2).
    #[error("CPM payload is not valid base64: {reason}")]
    CpmBase64 {
        /// The decoder's complaint.
        reason: String,
    },

    /// The BER-TLV inside a CPM payload is malformed (EMV Book 3 Annex B).
    #[error("CPM BER-TLV: {reason}")]
    CpmTlv {
        /// What the TLV reader found.
        reason: String,
    },

    /// A mandatory CPM data object is absent (EMV QRCPS-CPM §5).
    #[error("CPM tag {tag} is mandatory but missing ({name})")]
    CpmMissingTag {
        /// Tag in hex.
        tag: &'static str,
        /// Its name.
        name: &'static str,
    },

    /// A CPM data object has a value the specification does not allow.
    /// The reason never contains PAN or track 2 digits.
    #[error("CPM tag {tag}: {reason}")]
    CpmInvalid {
        /// Tag in hex.
        tag: String,
        /// Why.
        reason: String,
    },

    /// Rendering the QR symbol failed (payload too long for a version 40 symbol, PNG encoder).
    #[error("QR image: {reason}")]
    Image {
        /// Why.
        reason: String,
    },
}

impl QrError {
    pub(crate) fn invalid(field: FieldId, reason: impl Into<String>) -> Self {
        QrError::InvalidValue {
            field,
            reason: reason.into(),
        }
    }

    pub(crate) fn malformed(at: impl Into<String>, reason: impl Into<String>) -> Self {
        QrError::Malformed {
            at: at.into(),
            reason: reason.into(),
        }
    }
}
