//! Error type of the journal: one enum, variants a caller can act on.

use crate::model::{QrState, TxnId, TxnKind, TxnState};

/// Everything the journal can refuse or fail with.
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)] // variant fields are named after what they hold
pub enum JournalError {
    /// The requested state change is not allowed from the record's current state (or for its kind).
    /// The database is unchanged.
    #[error("transaction {id}: illegal transition {from} -> {to}")]
    IllegalTransition {
        id: TxnId,
        from: TxnState,
        to: TxnState,
    },

    /// A QR order state change that the wallet order state machine does not allow.
    #[error("transaction {id}: illegal QR order transition {from:?} -> {to}")]
    IllegalQrTransition {
        id: TxnId,
        from: Option<QrState>,
        to: QrState,
    },

    /// The operation does not apply to this kind of transaction (e.g. `qr_paid` on a card sale).
    #[error("transaction {id}: operation `{operation}` does not apply to a {kind} transaction")]
    WrongKind {
        id: TxnId,
        kind: TxnKind,
        operation: &'static str,
    },

    /// A field a state requires is missing or empty (e.g. an approval without RRN).
    #[error("transaction {id}: field `{field}` is required to enter state {state}")]
    MissingField {
        id: TxnId,
        state: TxnState,
        field: &'static str,
    },

    /// A caller-supplied field is malformed.
    #[error("invalid field `{field}`: {reason}")]
    InvalidField { field: &'static str, reason: String },

    /// No such record.
    #[error("{what} not found: {key}")]
    NotFound { what: &'static str, key: String },

    /// A void was refused (EMV/acquirer rule: only an approved, unsettled, not-yet-voided sale).
    #[error("void of transaction {original} refused: {reason}")]
    VoidRefused { original: TxnId, reason: String },

    /// A refund (or pre-auth completion) would exceed what remains of the original amount.
    #[error("transaction {original}: requested {requested} exceeds remaining {remaining}")]
    AmountExceedsOriginal {
        original: TxnId,
        requested: i64,
        remaining: i64,
    },

    /// The original of a void/refund/completion is not of a kind or state that allows it.
    #[error("original transaction {original} ({kind}, {state}) cannot be referenced: {reason}")]
    OriginalNotEligible {
        original: TxnId,
        kind: TxnKind,
        state: TxnState,
        reason: String,
    },

    /// The queue entry was already completed (a reversal is never sent twice, an advice never twice).
    #[error("transaction {id}: {queue} queue entry already done")]
    QueueEntryDone { id: TxnId, queue: &'static str },

    /// No queue entry exists for this transaction.
    #[error("transaction {id}: no {queue} queue entry")]
    NotQueued { id: TxnId, queue: &'static str },

    /// Batch close refused while work is outstanding (reversals and advices must be uploaded first).
    #[error("batch {batch_no} cannot close: {reason}")]
    BatchNotClosable { batch_no: u32, reason: String },

    /// Another `Journal` (in this or another process) owns this file; open it read-only through
    /// [`backup_file`](crate::backup_file) or wait for the owner to close.
    #[error("journal {path} is in use by another Journal")]
    InUse { path: String },

    /// The database file was written by a newer journal than this one.
    #[error("journal schema version {found} is newer than supported version {supported}")]
    SchemaTooNew { found: u32, supported: u32 },

    /// A value read from the database does not decode (corruption or foreign writes).
    #[error("corrupt journal value in column `{column}`: {value}")]
    Corrupt { column: &'static str, value: String },

    /// A key given by the caller has the wrong length.
    #[error("invalid key `{name}`: {reason}")]
    InvalidKey { name: &'static str, reason: String },

    /// PAN authentication failed on decryption (wrong key, tampered blob, or blob of another record).
    #[error("encrypted PAN does not authenticate (wrong key or tampered data)")]
    PanDecryption,

    /// Cryptographic library failure.
    #[error("crypto failure: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),

    /// SQLite failure (I/O, busy, constraint).
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),

    /// Writing an export failed.
    #[error("export I/O: {0}")]
    Io(#[from] std::io::Error),

    /// JSON serialisation failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, JournalError>;
