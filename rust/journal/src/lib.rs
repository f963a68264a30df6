//! smartpos-journal: the durable transaction journal of a payment terminal, on SQLite.
//!
//! "Never lose a transaction": every payment is journalled before anything is sent, each state
//! change is one SQLite transaction (WAL, `synchronous = FULL`) together with its audit entry, and
//! on open the journal recovers from a crash — whatever was online with an unknown outcome is queued
//! for reversal. Card data: masked PAN, keyed hash, and (optionally) the PAN encrypted under a data
//! key the caller provides; track 2, PIN blocks and CVV have no place in the API.
//!
//! ```no_run
//! use smartpos_journal::*;
//! # fn main() -> smartpos_journal::Result<()> {
//! let protector = AesGcmPanProtector::new(&[7; 32], &[9; 32], 1)?;
//! let (mut j, report) = Journal::open("journal.db", JournalConfig::default(), Box::new(SystemClock), Box::new(protector))?;
//! for r in &report.recovered_reversals { println!("reverse {r}"); }
//! let t = j.begin(NewTransaction::new(TxnKind::Sale, 1000, "156", "op1"))?;
//! let pan = Pan::parse("4761739001010119")?;
//! j.card_read(t.id, &CardData::new(&pan, EntryMode::Contactless))?;
//! j.online_pending(t.id, &OnlineRequest::mti("0200"))?;
//! j.approve(t.id, &HostResponse { response_code: "00".into(), rrn: Some("123456789012".into()),
//!     auth_code: Some("A1B2C3".into()), host_time: None })?;
//! j.complete(t.id, &Completion::default())?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod backup;
pub mod clock;
mod error;
mod export;
pub mod icc;
mod journal;
mod model;
pub mod pan;
mod query;
mod queue;
mod recovery;
pub mod schema;
pub mod state;
mod validate;

pub use backup::backup_file;
pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use error::{JournalError, Result};
pub use export::ExportRow;
pub use journal::{
    CardData, Completion, Decline, HostResponse, Journal, JournalConfig, NewTransaction,
    OfflineApproval, OnlineRequest, OriginalRef, QrPaid, RefundRequest, SYSTEM_OPERATOR,
};
pub use model::{
    AuditEntry, BatchId, BatchInfo, EntryMode, QrState, QueueEntry, QueueKind, TransactionRecord,
    TxnId, TxnKind, TxnState,
};
pub use pan::{
    AesGcmPanProtector, EncryptedPan, Expiry, MaskedPan, Pan, PanHash, PanProtector, ProtectedCard,
};
pub use query::{BatchClose, BatchTotals, CardTotal, Page, TotalsBy, TotalsLine, TxnFilter};
pub use recovery::{InvariantViolation, OpenReport};
