//! Record types of the journal: kinds, states, entry modes, QR order states and the transaction
//! record itself. Enums are stored as short lower-case strings (checked by SQL CHECK constraints).

use std::fmt;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::Serialize;

use crate::clock::Timestamp;
use crate::pan::{EncryptedPan, MaskedPan, PanHash};

/// Local identifier of a transaction record (SQLite rowid).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct TxnId(pub i64);

impl fmt::Display for TxnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Identifier of a batch row (batch numbers themselves wrap, rows do not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct BatchId(pub i64);

macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $v),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }

            /// Parse a stored name.
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($s => Some($name::$v),)+ _ => None }
            }

            /// SQL list of the stored names, for CHECK constraints.
            pub fn sql_list() -> String {
                let v: Vec<String> = Self::ALL.iter().map(|x| format!("'{}'", x.as_str())).collect();
                v.join(",")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $name {
            fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
                let s = v.as_str()?;
                $name::parse(s).ok_or_else(|| FromSqlError::Other(format!("unknown {} `{}`", stringify!($name), s).into()))
            }
        }
    };
}

text_enum! {
    /// What the transaction does (ISO 8583 processing code / message class).
    TxnKind {
        /// Purchase (MTI 0200, processing code 00).
        Sale = "sale",
        /// Pre-authorisation (MTI 0100, processing code 03).
        PreAuth = "pre_auth",
        /// Completion of a pre-authorisation (MTI 0200/0220 referencing the pre-auth).
        PreAuthCompletion = "pre_auth_completion",
        /// Same-batch cancellation of an approved, unsettled transaction.
        Void = "void",
        /// Return of funds referencing an original by RRN and date.
        Refund = "refund",
        /// Balance inquiry (processing code 31): moves no funds.
        BalanceInquiry = "balance_inquiry",
        /// Wallet QR payment (merchant- or consumer-presented).
        QrSale = "qr_sale",
    }
}

text_enum! {
    /// Lifecycle state of a record. See `state::legal` for the machine.
    TxnState {
        /// Journalled before anything was sent or read.
        Created = "created",
        /// Card data read (EMV application selected, records read).
        CardRead = "card_read",
        /// Request sent to the host (or QR order placed); outcome unknown.
        OnlinePending = "online_pending",
        /// Host approved.
        Approved = "approved",
        /// Host or card declined (final).
        Declined = "declined",
        /// Card approved offline (TC, EMV Book 3 §10.8); an advice must be uploaded.
        OfflineApproved = "offline_approved",
        /// Approved transaction finished on the terminal (card completion done, receipt due).
        Completed = "completed",
        /// The outcome at the host must be cancelled: a reversal (MTI 0400) is queued.
        ReversalPending = "reversal_pending",
        /// The host acknowledged the reversal (final).
        Reversed = "reversed",
        /// Abandoned before any funds could move (final).
        Aborted = "aborted",
    }
}

text_enum! {
    /// How the card data was captured (ISO 8583 field 22, POS entry mode).
    EntryMode {
        /// EMV contact chip.
        Contact = "contact",
        /// EMV contactless.
        Contactless = "contactless",
        /// Magnetic stripe.
        Magstripe = "magstripe",
        /// Magnetic stripe after a chip failure (fallback).
        Fallback = "fallback",
        /// QR code (wallet).
        Qr = "qr",
        /// Key entered.
        Manual = "manual",
    }
}

text_enum! {
    /// Wallet QR order state: pay → polling → paid / revoked / closed.
    QrState {
        /// Order placed with the wallet, waiting for the customer.
        Pay = "pay",
        /// Terminal polling the wallet for the result.
        Polling = "polling",
        /// Wallet reports paid (final).
        Paid = "paid",
        /// Order revoked/cancelled (final).
        Revoked = "revoked",
        /// Order closed unpaid (final).
        Closed = "closed",
    }
}

text_enum! {
    /// Kind of a store-and-forward queue entry.
    QueueKind {
        /// Reversal (MTI 0400/0420).
        Reversal = "reversal",
        /// Advice of an offline approval (MTI 0220).
        Advice = "advice",
    }
}

impl TxnState {
    /// Final states: nothing follows.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            TxnState::Declined | TxnState::Reversed | TxnState::Aborted | TxnState::Completed
        )
    }

    /// States in which the transaction counts as approved (funds moved).
    pub const APPROVED: &'static [TxnState] = &[
        TxnState::Approved,
        TxnState::OfflineApproved,
        TxnState::Completed,
    ];
}

impl TxnKind {
    /// Kinds that debit the cardholder (counted by velocity and floor-limit rules).
    pub const DEBITS: &'static [TxnKind] = &[
        TxnKind::Sale,
        TxnKind::PreAuth,
        TxnKind::PreAuthCompletion,
        TxnKind::QrSale,
    ];
}

/// A transaction as journalled. `Debug` shows only masked card data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransactionRecord {
    /// Local id.
    pub id: TxnId,
    /// Random UUID (v4), unique across terminals.
    pub uuid: String,
    /// Kind.
    pub kind: TxnKind,
    /// Current state.
    pub state: TxnState,
    /// Original of a void / refund / pre-auth completion, when it is in this journal.
    pub original_id: Option<TxnId>,
    /// RRN of the original (refunds and completions by reference).
    pub original_rrn: Option<String>,
    /// Date of the original, MMDD (ISO 8583 field 13) or YYYYMMDD.
    pub original_date: Option<String>,
    /// System trace audit number, 000001-999999 (field 11).
    pub stan: u32,
    /// Invoice / trace number printed on the receipt.
    pub invoice: u32,
    /// Batch row.
    pub batch_id: BatchId,
    /// Batch number (field 60.2 in UnionPay-style profiles).
    pub batch_no: u32,
    /// Retrieval reference number (field 37).
    pub rrn: Option<String>,
    /// Authorisation code (field 38).
    pub auth_code: Option<String>,
    /// Response code (field 39; `Y1`/`Y3` for offline approvals).
    pub response_code: Option<String>,
    /// Amount in minor units (field 4).
    pub amount: i64,
    /// Tip in minor units.
    pub tip: i64,
    /// Cashback in minor units.
    pub cashback: i64,
    /// Coupon discount applied before the amount, minor units.
    pub coupon_discount: i64,
    /// ISO 4217 numeric currency code (field 49).
    pub currency: String,
    /// Message type of the last request sent.
    pub mti: Option<String>,
    /// Entry mode.
    pub entry_mode: Option<EntryMode>,
    /// Card scheme / payment method (e.g. `visa`, `unionpay`, `alipay`).
    pub scheme: Option<String>,
    /// Application identifier, hex (EMV tag 4F).
    pub aid: Option<String>,
    /// Application label (EMV tag 50).
    pub app_label: Option<String>,
    /// PAN, first six and last four.
    pub pan_masked: Option<MaskedPan>,
    /// Keyed hash of the PAN.
    pub pan_hash: Option<PanHash>,
    /// Encrypted PAN (and expiry), only when the caller asked to keep it.
    #[serde(skip)]
    pub pan_encrypted: Option<EncryptedPan>,
    /// Terminal verification results, hex (tag 95).
    pub tvr: Option<String>,
    /// Transaction status information, hex (tag 9B).
    pub tsi: Option<String>,
    /// Application cryptogram, hex (tag 9F26).
    pub cryptogram: Option<String>,
    /// CVM results, hex (tag 9F34).
    pub cvm_result: Option<String>,
    /// Operator (cashier) id.
    pub operator_id: String,
    /// Merchant's order reference.
    pub merchant_order_ref: Option<String>,
    /// Loyalty member id.
    pub member_id: Option<String>,
    /// Wallet order number (QR sales).
    pub wallet_order_no: Option<String>,
    /// Wallet order state (QR sales).
    pub qr_state: Option<QrState>,
    /// Set by crash recovery: the QR order's outcome must be queried from the wallet.
    pub qr_query_needed: bool,
    /// For an original: the void that cancelled it.
    pub voided_by: Option<TxnId>,
    /// Created.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
    /// Host date/time as sent by the host (fields 12/13), verbatim.
    pub host_time: Option<String>,
    /// Why it failed, declined or was reversed.
    pub error_reason: Option<String>,
}

impl TransactionRecord {
    /// Amount debited or credited in total (amount + tip + cashback).
    pub fn total(&self) -> i64 {
        self.amount
            .saturating_add(self.tip)
            .saturating_add(self.cashback)
    }
}

/// Batch row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchInfo {
    /// Row id.
    pub id: BatchId,
    /// Batch number, 000001-999999.
    pub batch_no: u32,
    /// Opened.
    pub opened_at: Timestamp,
    /// Closed (settlement started), if closed.
    pub closed_at: Option<Timestamp>,
    /// Host confirmed the settlement.
    pub settled: bool,
}

/// Store-and-forward queue entry (reversal or advice).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueEntry {
    /// Transaction it is for.
    pub txn_id: TxnId,
    /// Reversal or advice.
    pub kind: QueueKind,
    /// Attempts so far.
    pub attempts: u32,
    /// Last attempt.
    pub last_attempt_at: Option<Timestamp>,
    /// Last error.
    pub last_error: Option<String>,
    /// Enqueued.
    pub created_at: Timestamp,
    /// STAN of the original transaction.
    pub stan: u32,
    /// Amount of the original transaction.
    pub amount: i64,
    /// Field 55 the message repeats (card data stripped), when the transaction had ICC data.
    pub icc_data: Option<Vec<u8>>,
}

/// Audit log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Sequence.
    pub id: i64,
    /// When.
    pub at: Timestamp,
    /// Operator (or `system`).
    pub operator_id: String,
    /// Action name, e.g. `txn.approved`, `batch.close`.
    pub action: String,
    /// Transaction concerned.
    pub txn_id: Option<TxnId>,
    /// JSON details (never card data beyond the mask).
    pub details: String,
}
