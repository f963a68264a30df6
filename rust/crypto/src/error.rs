//! The crate-wide error type (owned by the symmetric side; other modules may use or wrap it).
//!
//! Variants are things a caller can act on: a key of the wrong length, data that is not a whole number
//! of cipher blocks, a PIN block whose fill is wrong, a DUKPT device at end of life. Messages name the
//! field and the reason, never a key, PIN or full PAN value.

use crate::key::KeyAlgorithm;

/// What went wrong in a cryptographic operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// An error reported by OpenSSL.
    #[error("openssl: {0}")]
    OpenSsl(#[from] openssl::error::ErrorStack),

    /// The key material has the wrong length for the algorithm.
    #[error("key length {len} bytes is not valid for {algorithm} (expected {expected})")]
    InvalidKeyLength {
        algorithm: KeyAlgorithm,
        len: usize,
        expected: &'static str,
    },

    /// Key material whose length fits no key size of the family (DES/TDES: 8, 16, 24 bytes; AES:
    /// 16, 24, 32 bytes).
    #[error("{family} key length {len} bytes is not valid (expected {expected})")]
    InvalidKeyLengthFor {
        family: &'static str,
        len: usize,
        expected: &'static str,
    },

    /// A DES key byte does not have odd parity (ANSI X3.92 / FIPS 46-3 §3).
    #[error("DES key byte {byte_index} does not have odd parity")]
    KeyParity { byte_index: usize },

    /// The operation is not defined for this key algorithm.
    #[error("{operation} is not supported with a {algorithm} key")]
    UnsupportedAlgorithm {
        operation: &'static str,
        algorithm: KeyAlgorithm,
    },

    /// Input to a no-padding block-cipher mode is not a whole number of blocks.
    #[error("{field}: length {len} is not a multiple of the {block}-byte block")]
    NotBlockMultiple {
        field: &'static str,
        len: usize,
        block: usize,
    },

    /// An IV of the wrong length.
    #[error("iv: length {len} bytes, expected {expected}")]
    InvalidIvLength { len: usize, expected: usize },

    /// A hex string could not be decoded.
    #[error("{field}: not valid hex ({reason})")]
    InvalidHex { field: &'static str, reason: String },

    /// A computed key check value does not match the expected one.
    #[error("key check value mismatch: expected {expected}, computed {computed}")]
    KcvMismatch { expected: String, computed: String },

    /// A received MAC does not match the computed one.
    #[error("MAC verification failed")]
    MacMismatch,

    /// A MAC of an unusable length was presented for verification or requested.
    #[error("MAC length {len} is not valid (expected {min}..={max} bytes)")]
    InvalidMacLength { len: usize, min: usize, max: usize },

    /// A PIN that is not 4 to 12 decimal digits (ISO 9564-1:2017 §9.3).
    #[error("PIN: {reason}")]
    InvalidPin { reason: &'static str },

    /// A PAN that cannot be used to build the PAN field of a PIN block.
    #[error("PAN: {reason}")]
    InvalidPan { reason: &'static str },

    /// A PIN block that does not decode under its format's rules (ISO 9564-1:2017 §9).
    #[error("PIN block: {reason}")]
    InvalidPinBlock { reason: String },

    /// A key serial number of the wrong shape.
    #[error("KSN: {reason}")]
    InvalidKsn { reason: String },

    /// The DUKPT originator has used all its keys (ANSI X9.24-1:2009 A.2; X9.24-3:2017 §6.5).
    #[error("DUKPT device exhausted: no more transaction keys")]
    DukptExhausted,

    /// A DUKPT future key register that should hold a key is empty.
    #[error("DUKPT future key register {register} is empty")]
    DukptRegisterEmpty { register: usize },

    /// Any other caller input that is out of range, naming the field.
    #[error("{field}: {reason}")]
    InvalidInput { field: &'static str, reason: String },
}
