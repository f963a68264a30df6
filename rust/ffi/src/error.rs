//! The one error type of the binding surface.
//!
//! Every variant becomes its own Kotlin exception class (`SmartPosException.Transport`,
//! `SmartPosException.CardStatus`, ...), so an app can catch exactly what it can act on. The enum
//! travels both ways: Rust returns it to Kotlin, and a Kotlin [`crate::CardReader`] may throw it
//! back into Rust. Any *other* exception a Kotlin callback throws (an `IOException` from IsoDep, a
//! `TagLostException`, a bug) arrives as [`SmartPosError::Transport`] through
//! [`From<uniffi::UnexpectedUniFFICallbackError>`], never as a panic.

/// Errors of the smartpos binding surface.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum SmartPosError {
    /// A caller-supplied argument is unusable (bad hex, empty AID, oversized APDU).
    #[error("invalid input `{field}`: {reason}")]
    InvalidInput {
        /// Which argument.
        field: String,
        /// Why it was rejected.
        reason: String,
    },
    /// Data that should be BER-TLV (EMV Book 3 Annex B) is not well formed.
    #[error("malformed TLV in {context}: {reason}")]
    MalformedTlv {
        /// What was being decoded (`decode_tlv`, `SELECT PPSE response`, ...).
        context: String,
        /// The codec's reason, with the offset and tag where known.
        reason: String,
    },
    /// The card reader failed: card lost, I/O error, or the callback threw.
    #[error("card transport failed: {reason}")]
    Transport {
        /// What the reader reported.
        reason: String,
    },
    /// The card answered a command with a status word that ends the flow (ISO/IEC 7816-4 §5.6).
    /// Raised by readers (a Kotlin reader may throw it); kernel refusals are outcomes instead.
    #[error("card answered {command} with SW {sw:04X}")]
    CardStatus {
        /// The command (`SELECT PPSE`, `SELECT AID A0000000031010`, ...).
        command: String,
        /// SW1 SW2.
        sw: u16,
    },
    /// The card's answer breaks the protocol (no status word, endless 61xx chain, missing FCI).
    #[error("card protocol violation: {reason}")]
    Protocol {
        /// What was wrong.
        reason: String,
    },
    /// A terminal configuration, contactless configuration or CA key file was refused (EMV
    /// Book 4 §6.3 terminal data, Book 2 §11.2.2 CA key checksum).
    #[error("invalid configuration `{what}`: {reason}")]
    InvalidConfiguration {
        /// Which document (`terminal config`, `ca keys[0]`, ...).
        what: String,
        /// Why it was refused.
        reason: String,
    },
    /// The operation was cancelled through its [`crate::CancellationHandle`].
    #[error("cancelled after {exchanges} APDU exchange(s)")]
    Cancelled {
        /// Exchanges completed before the cancellation was seen.
        exchanges: u32,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for SmartPosError {
    /// A foreign callback threw something other than `SmartPosException`: treat it as a reader
    /// failure, keeping the foreign exception's text.
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> Self {
        SmartPosError::Transport {
            reason: error.reason,
        }
    }
}

impl SmartPosError {
    pub(crate) fn malformed(context: &str, error: smartpos_tlv::TlvError) -> Self {
        SmartPosError::MalformedTlv {
            context: context.to_string(),
            reason: error.to_string(),
        }
    }
}
