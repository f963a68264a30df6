//! The terminal's error type: one enum whose variants a caller (the app, the FFI) can act on.

use crate::risk::RiskRule;
use crate::roles::AuthError;

/// Why a terminal call did not produce a result record.
#[derive(Debug, thiserror::Error)]
pub enum TerminalError {
    /// A configuration file is missing a field, has a bad value or cannot be parsed.
    #[error("configuration {file}: {reason}")]
    Config {
        /// The file (or `defaults`).
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// The journal refused or failed (the payment did not start or stopped safely).
    #[error("journal: {0}")]
    Journal(#[from] smartpos_journal::JournalError),
    /// The acquirer link or protocol failed outside a payment (sign-on, settlement, queues).
    #[error("host: {0}")]
    Host(#[from] smartpos_host::HostError),
    /// Payments are blocked after a tamper event until keys are loaded again.
    #[error("terminal tampered: keys erased, load keys before taking payments")]
    Tampered,
    /// No terminal master key in the key store: load keys first.
    #[error("no terminal master key loaded")]
    NoMasterKey,
    /// The key store failed.
    #[error("key store: {0}")]
    KeyStore(String),
    /// A risk rule refused the transaction.
    #[error("refused by risk rule {rule:?}: {detail}")]
    Risk {
        /// The rule that refused.
        rule: RiskRule,
        /// Which limit and which value.
        detail: String,
    },
    /// The operator could not be authorised for the action.
    #[error("operator: {0}")]
    Operator(#[from] AuthError),
    /// The transaction was cancelled (by the attendant, the app or a timeout); nothing charged.
    #[error("cancelled at step {step}")]
    Cancelled {
        /// The step the cancel was seen at.
        step: &'static str,
    },
    /// The card could not be read after the configured number of attempts: insert the card or
    /// use another payment method. Nothing was charged.
    #[error("card not read after {attempts} attempts: insert card or use another payment method")]
    CardReadFailed {
        /// Attempts made.
        attempts: u32,
    },
    /// A device (reader, PIN pad, printer, scanner) failed.
    #[error("device {device}: {reason}")]
    Device {
        /// Which device.
        device: &'static str,
        /// What happened.
        reason: String,
    },
    /// The caller's request is not valid (amount, reference, unknown original...).
    #[error("invalid request {field}: {reason}")]
    InvalidRequest {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// The QR code scanned is not a payment code this terminal accepts.
    #[error("QR code: {0}")]
    Qr(String),
}

/// Result alias.
pub type Result<T> = std::result::Result<T, TerminalError>;

impl TerminalError {
    pub(crate) fn config(file: impl Into<String>, reason: impl Into<String>) -> TerminalError {
        TerminalError::Config {
            file: file.into(),
            reason: reason.into(),
        }
    }
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> TerminalError {
        TerminalError::InvalidRequest {
            field,
            reason: reason.into(),
        }
    }
}
