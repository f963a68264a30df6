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
    /// The operation was cancelled through its [`crate::CancellationHandle`] (or the attendant
    /// cancelled on the terminal). Nothing was charged.
    #[error("cancelled {step} (after {exchanges} APDU exchange(s))")]
    Cancelled {
        /// Exchanges completed before the cancellation was seen (0 when not known).
        exchanges: u32,
        /// Where the cancellation was seen (`before APDU 3`, `waiting for card`, ...).
        step: String,
    },
    /// The host (or the card, offline) declined the transaction. `txn_id` is its journal id
    /// (for the decline receipt).
    #[error("declined ({response_code}): {host_message}")]
    Declined {
        /// ISO 8583 field 39 (`05`, `51`, ...; `Z1` declined offline by the card).
        response_code: String,
        /// The meaning of the code.
        host_message: String,
        /// Journal id of the declined transaction.
        txn_id: i64,
    },
    /// The acquirer host could not be reached or its answer was unusable (outside a payment, or
    /// a payment that could not be authorised); queued reversals are sent later.
    #[error("host unavailable: {reason}")]
    HostUnavailable {
        /// What failed.
        reason: String,
    },
    /// The card could not be read (chip and fallback failed, card removed).
    #[error("card error: {reason}")]
    Card {
        /// What happened.
        reason: String,
    },
    /// A key is missing: no terminal master key, keys erased after tamper, key store failure.
    #[error("key missing: {reason}")]
    KeyMissing {
        /// Which key and why.
        reason: String,
    },
    /// The transaction journal refused or failed.
    #[error("journal: {reason}")]
    Journal {
        /// The journal's reason.
        reason: String,
    },
    /// A risk rule of the terminal refused the transaction (limits, velocity, duplicate).
    #[error("refused by {rule}: {detail}")]
    Refused {
        /// The rule.
        rule: String,
        /// Which limit and which value.
        detail: String,
    },
    /// The operator may not perform the action.
    #[error("not authorised: {reason}")]
    NotAuthorised {
        /// Why.
        reason: String,
    },
    /// The operator's account is locked after too many wrong passwords (PCI DSS v4 §8.3.4): an
    /// admin must unlock it (`PosOperators.unlock`).
    #[error("operator locked: {reason}")]
    OperatorLocked {
        /// Which operator, when known, and why.
        reason: String,
    },
    /// A device (reader, PIN pad, printer, scanner) failed.
    #[error("device {device}: {reason}")]
    Device {
        /// Which device.
        device: String,
        /// What happened.
        reason: String,
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
