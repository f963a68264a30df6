//! What the simulated host approved, reversed and was advised of: the evidence tests read
//! through [`super::HostSim::ledger`].

use smartpos_host::{BatchTotals, ValueAddedData};

/// What kind of transaction a ledger entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnKind {
    /// Sale (0200 000000).
    Sale,
    /// Void (0200 200000).
    Void,
    /// Refund (0220 200000).
    Refund,
    /// Pre-authorisation (0100).
    PreAuth,
    /// Pre-authorisation completion (0200, 60.1 = 20).
    Completion,
    /// QR wallet order.
    Qr,
    /// Offline-approved transaction advised with 0220.
    Offline,
    /// Learnt from a batch upload (0320).
    Uploaded,
}

impl TxnKind {
    /// Whether it adds to the debit totals when approved (and not reversed or voided).
    pub fn is_debit(self) -> bool {
        matches!(
            self,
            TxnKind::Sale | TxnKind::Completion | TxnKind::Qr | TxnKind::Offline
        )
    }
}

/// One transaction the host saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// Field 41.
    pub terminal_id: String,
    /// Field 11 of the request.
    pub stan: u32,
    /// RRN given in the response.
    pub rrn: String,
    /// Authorisation code given (empty when declined).
    pub auth_code: String,
    /// Kind.
    pub kind: TxnKind,
    /// Amount.
    pub amount: u64,
    /// PAN masked (first 6, last 4), empty for QR.
    pub masked_pan: String,
    /// Response code sent.
    pub response_code: String,
    /// Approved (for QR: paid).
    pub approved: bool,
    /// Whether an ARQC in field 55 was verified (`None`: no field 55).
    pub arqc_verified: Option<bool>,
    /// Reversed by a 0400 (applied once).
    pub reversed: bool,
    /// 0400 messages received for it (repeats included).
    pub reversal_requests: u32,
    /// Voided by a later void.
    pub voided: bool,
    /// Credit: a refund entry, or an uploaded record with processing code 20xxxx.
    pub credit: bool,
    /// Included in a settled batch.
    pub settled: bool,
    /// Value-added data (field 63 `VAD`) that came with the request (sale, pre-authorisation).
    pub value_added: Option<ValueAddedRecord>,
}

impl LedgerEntry {
    /// Counted in the totals: approved, not reversed, not voided, not yet settled, and a debit
    /// or credit kind (uploaded records count on the side their processing code says).
    pub fn counts(&self) -> bool {
        self.approved
            && !self.reversed
            && !self.voided
            && !self.settled
            && (self.kind.is_debit() || self.credit || self.kind == TxnKind::Uploaded)
    }
}

/// One settlement request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementRecord {
    /// Terminal.
    pub terminal_id: String,
    /// 60.3 of the request (201 first attempt, 202 after upload).
    pub network_code: String,
    /// Response code sent (00 or 95).
    pub response_code: String,
}

/// The totals a settlement of one batch balanced with (00): what a repeated settlement of the
/// same batch is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettledBatch {
    /// Field 41.
    pub terminal_id: String,
    /// 60.2 of the settlement request.
    pub batch: u32,
    /// The totals (field 48) both sides agreed on.
    pub totals: BatchTotals,
}

/// Value-added data (field 63 `VAD`: order reference, member id, coupon) that arrived with a
/// sale or pre-authorisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueAddedRecord {
    /// Field 41.
    pub terminal_id: String,
    /// Field 11 of the request.
    pub stan: u32,
    /// Index of the transaction in [`Ledger::entries`].
    pub entry: usize,
    /// What field 63 carried.
    pub data: ValueAddedData,
}

/// A snapshot of everything the host remembers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    /// Transactions, in arrival order.
    pub entries: Vec<LedgerEntry>,
    /// All requests handled (duplicates included).
    pub requests: u32,
    /// Requests answered from the duplicate cache (same terminal, MTI and STAN).
    pub duplicates: u32,
    /// Reversals applied (each original at most once).
    pub reversals_applied: u32,
    /// Advices received (0220 offline), duplicates included.
    pub advice_requests: u32,
    /// Requests whose MAC failed (answered A0).
    pub mac_failures: u32,
    /// Batch upload records received.
    pub uploads: u32,
    /// Settlement requests.
    pub settlements: Vec<SettlementRecord>,
    /// Sign-ons.
    pub sign_ons: u32,
    /// Value-added data received, one record per sale/pre-auth that carried it, in arrival
    /// order: a copy of every [`LedgerEntry::value_added`], made when the snapshot is taken
    /// (the entries are where the host keeps it).
    pub value_added: Vec<ValueAddedRecord>,
    /// Batches settled with 00, with the totals they balanced with.
    pub settled_batches: Vec<SettledBatch>,
    /// Requests answered 30 (format error) for a malformed field 63 `VAD`.
    pub format_errors: u32,
}

impl Ledger {
    /// The entry of a terminal's STAN (the first kind-agnostic match).
    pub fn by_stan(&self, terminal_id: &str, stan: u32) -> Option<&LedgerEntry> {
        self.entries
            .iter()
            .find(|e| e.terminal_id == terminal_id && e.stan == stan)
    }

    /// The value-added data that came with a terminal's STAN, if any (the latest, should the
    /// STAN have wrapped round).
    pub fn value_added_of(&self, terminal_id: &str, stan: u32) -> Option<&ValueAddedData> {
        self.entries
            .iter()
            .rev()
            .filter_map(|e| e.value_added.as_ref())
            .find(|v| v.terminal_id == terminal_id && v.stan == stan)
            .map(|v| &v.data)
    }

    /// The totals a terminal's batch was settled with, if the host settled it.
    pub fn settled_totals(&self, terminal_id: &str, batch: u32) -> Option<BatchTotals> {
        self.settled_batches
            .iter()
            .rev()
            .find(|s| s.terminal_id == terminal_id && s.batch == batch)
            .map(|s| s.totals)
    }
}
