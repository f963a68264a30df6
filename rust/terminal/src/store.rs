//! The journal's reversal and advice queues behind smartpos-host's [`ReversalStore`]: the host
//! crate's reversal manager sends, counts attempts and completes; the journal keeps the state
//! durable. The original request of a queued entry is rebuilt from the journal record (PAN
//! from the encrypted blob, amount, STAN, entry mode, batch, RRN/auth code) and the field 55 the
//! journal keeps with the queue entry (card data objects stripped): acquirers want the ARQC/TC,
//! TVR and ATC of a chip transaction in its 0400 reversal and 0220 advice. Track 2 and the PIN
//! block are never stored, so a rebuilt message carries neither.
//!
//! A refund (0220 in this dialect, never reversed) whose answer was lost sits in the advice
//! queue and is repeated as sent (same STAN, original RRN and date) until the host answers;
//! the answer completes or declines it in the journal ([`ReversalStore::acknowledged`],
//! [`ReversalStore::refused`]).

use crate::journal_host::{self, SharedJournal};
use smartpos_host::dialect::{self, msg_type, network};
use smartpos_host::{PendingEntry, QueueKind, ReversalReason, ReversalStore, StoreError};
use smartpos_iso8583::{Message, Mti};
use smartpos_journal::{Journal, TransactionRecord, TxnKind, TxnState};

/// [`ReversalStore`] on the journal's queues.
pub struct JournalQueues {
    journal: SharedJournal,
    terminal_id: String,
    merchant_id: String,
    utc_offset_minutes: i32,
}

impl JournalQueues {
    /// Over a shared journal.
    pub fn new(journal: SharedJournal, terminal_id: &str, merchant_id: &str) -> JournalQueues {
        JournalQueues {
            journal,
            terminal_id: terminal_id.to_string(),
            merchant_id: merchant_id.to_string(),
            utc_offset_minutes: 0,
        }
    }

    /// The terminal's offset from UTC, for the original date (MMDD, field 61) of a repeated
    /// refund whose original is in the journal.
    pub fn with_utc_offset(mut self, minutes: i32) -> JournalQueues {
        self.utc_offset_minutes = minutes;
        self
    }

    /// The pending queue entry of `stan` and its record.
    fn entry_record(
        j: &Journal,
        kind: QueueKind,
        stan: u32,
    ) -> Result<Option<TransactionRecord>, StoreError> {
        let id = match kind {
            QueueKind::Reversal => j.pending_reversals(),
            QueueKind::Advice => j.pending_advices(),
        }
        .map_err(|e| store_err("pending", e))?
        .into_iter()
        .find(|e| e.stan == stan)
        .map(|e| e.txn_id);
        id.map(|id| j.get(id).map_err(|e| store_err("get", e)))
            .transpose()
    }
}

/// The journal's view of a host answer to a repeated refund.
fn journal_response(r: &smartpos_host::HostResponse) -> smartpos_journal::HostResponse {
    smartpos_journal::HostResponse {
        response_code: r.code.as_str().to_string(),
        rrn: r.rrn.clone(),
        auth_code: r.auth_code.clone(),
        host_time: None,
    }
}

/// MMDD of the original of a refund (field 61.3): the date given with its RRN, else the
/// local date of the original in the journal.
fn refund_original_date(j: &Journal, r: &TransactionRecord, utc_offset_minutes: i32) -> String {
    if let Some(d) = &r.original_date {
        return d
            .get(d.len().saturating_sub(4)..)
            .unwrap_or("0101")
            .to_string();
    }
    r.original_id
        .and_then(|o| j.get(o).ok())
        .map(|o| journal_host::emv_date_time(o.created_at, utc_offset_minutes).0)
        .and_then(|d| d.get(2..6).map(str::to_string))
        .unwrap_or_else(|| "0101".to_string())
}

fn store_err(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError(format!("journal {what}: {e}"))
}

/// The live record of a STAN in a state where `states` apply (STANs wrap; the newest wins).
fn by_stan(
    j: &Journal,
    stan: u32,
    states: &[TxnState],
) -> Result<Option<TransactionRecord>, StoreError> {
    let mut v = j
        .find_by_stan(stan)
        .map_err(|e| store_err("find_by_stan", e))?;
    v.retain(|r| states.contains(&r.state));
    v.sort_by_key(|r| r.id.0);
    Ok(v.pop())
}

/// The original request of a queued transaction, rebuilt from its journal record.
pub(crate) fn rebuild_original(
    j: &Journal,
    r: &TransactionRecord,
    terminal_id: &str,
    merchant_id: &str,
    queue: QueueKind,
    icc_data: Option<&[u8]>,
    original_date: &str,
) -> Result<Message, StoreError> {
    let b = |e: smartpos_iso8583::Error| StoreError(format!("rebuilding STAN {}: {e}", r.stan));
    let (pc, condition, mt) = match r.kind {
        TxnKind::PreAuth => (dialect::PC_PREAUTH, "06", msg_type::PREAUTH),
        TxnKind::PreAuthCompletion => (dialect::PC_PURCHASE, "06", msg_type::COMPLETION),
        TxnKind::Void => (dialect::PC_VOID, "00", msg_type::VOID),
        TxnKind::Refund => (dialect::PC_REFUND, "00", msg_type::REFUND),
        TxnKind::BalanceInquiry => (dialect::PC_BALANCE, "00", msg_type::BALANCE),
        _ => (dialect::PC_PURCHASE, "00", msg_type::SALE),
    };
    let mti = match (queue, r.mti.as_deref()) {
        // An advice of an offline approval (whatever state the record reached since).
        (QueueKind::Advice, _) => "0220",
        (_, Some(m)) => m,
        (_, None) => "0200",
    };
    let mut m = Message::new(Mti::new(mti).map_err(b)?);
    if r.pan_encrypted.is_some() {
        let card = j
            .decrypt_pan(r.id)
            .map_err(|e| store_err("decrypt_pan", e))?;
        m.set_pan(card.pan.expose()).map_err(b)?;
    }
    m.set_processing_code(pc).map_err(b)?;
    m.set_amount(4, u64::try_from(r.total()).unwrap_or(0))
        .map_err(b)?;
    m.set_stan(r.stan).map_err(b)?;
    let mode = journal_host::host_entry_mode(r.entry_mode).code();
    m.set_text(22, &format!("{mode}2")).map_err(b)?;
    m.set_text(25, condition).map_err(b)?;
    if r.kind == TxnKind::Refund {
        // A refund is repeated as sent: the original's RRN (37) and date (61.3).
        if let Some(rrn) = &r.original_rrn {
            m.set_rrn(rrn).map_err(b)?;
        }
        m.set_text(61, &format!("000000000000{original_date}"))
            .map_err(b)?;
    } else if let Some(rrn) = &r.rrn {
        m.set_rrn(rrn).map_err(b)?;
    }
    if let Some(a) = &r.auth_code {
        if r.kind != TxnKind::Void {
            m.set_auth_code(a).map_err(b)?;
        }
    }
    m.set_terminal_id(terminal_id).map_err(b)?;
    m.set_merchant_id(merchant_id).map_err(b)?;
    m.set_text(49, &r.currency).map_err(b)?;
    if let Some(icc) = icc_data {
        m.set_binary(55, icc).map_err(b)?;
    }
    let mt = if mti == "0220" && r.kind != TxnKind::Refund {
        msg_type::OFFLINE
    } else {
        mt
    };
    m.set_text(60, &format!("{mt}{:06}{}", r.batch_no, network::NONE))
        .map_err(b)?;
    Ok(m)
}

impl ReversalStore for JournalQueues {
    fn save(&mut self, entry: &PendingEntry) -> Result<(), StoreError> {
        let mut j = journal_host::lock(&self.journal);
        match (entry.kind, entry.reason) {
            // Saved before sending: the journal's `online_pending` (written before the request)
            // already means "reverse unless confirmed" on recovery.
            (QueueKind::Reversal, ReversalReason::Unconfirmed) => Ok(()),
            (QueueKind::Reversal, reason) => {
                match by_stan(
                    &j,
                    entry.stan,
                    &[TxnState::OnlinePending, TxnState::Approved],
                )? {
                    // QR orders are revoked with the wallet, never reversed.
                    Some(r) if r.kind == TxnKind::QrSale => Ok(()),
                    Some(r) => j
                        .require_reversal(r.id, reason.name())
                        .map(|_| ())
                        .map_err(|e| store_err("require_reversal", e)),
                    // Already queued (or reversed): a transaction is never reversed twice.
                    None => Ok(()),
                }
            }
            // Advices are queued by `offline_approve` in the same SQLite transaction.
            (QueueKind::Advice, _) => Ok(()),
        }
    }

    fn pending(&self, kind: QueueKind) -> Result<Vec<PendingEntry>, StoreError> {
        let j = journal_host::lock(&self.journal);
        let entries = match kind {
            QueueKind::Reversal => j.pending_reversals(),
            QueueKind::Advice => j.pending_advices(),
        }
        .map_err(|e| store_err("pending", e))?;
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            let r = j.get(e.txn_id).map_err(|e| store_err("get", e))?;
            let reason = r
                .error_reason
                .as_deref()
                .and_then(ReversalReason::from_name)
                .unwrap_or(ReversalReason::Unconfirmed);
            out.push(PendingEntry {
                kind,
                stan: r.stan,
                reason,
                original: rebuild_original(
                    &j,
                    &r,
                    &self.terminal_id,
                    &self.merchant_id,
                    kind,
                    e.icc_data.as_deref(),
                    &if r.kind == TxnKind::Refund {
                        refund_original_date(&j, &r, self.utc_offset_minutes)
                    } else {
                        String::new()
                    },
                )?,
                attempts: e.attempts,
                last_error: e.last_error.clone(),
            });
        }
        Ok(out)
    }

    fn record_attempt(
        &mut self,
        kind: QueueKind,
        stan: u32,
        error: &str,
    ) -> Result<(), StoreError> {
        let mut j = journal_host::lock(&self.journal);
        let id = match kind {
            QueueKind::Reversal => j.pending_reversals(),
            QueueKind::Advice => j.pending_advices(),
        }
        .map_err(|e| store_err("pending", e))?
        .into_iter()
        .find(|e| e.stan == stan)
        .map(|e| e.txn_id);
        if let Some(id) = id {
            match kind {
                QueueKind::Reversal => j.mark_reversal_attempt(id, error),
                QueueKind::Advice => j.mark_advice_attempt(id, error),
            }
            .map_err(|e| store_err("mark attempt", e))?;
        }
        Ok(())
    }

    fn complete(&mut self, kind: QueueKind, stan: u32) -> Result<(), StoreError> {
        let mut j = journal_host::lock(&self.journal);
        let id = match kind {
            QueueKind::Reversal => j.pending_reversals(),
            QueueKind::Advice => j.pending_advices(),
        }
        .map_err(|e| store_err("pending", e))?
        .into_iter()
        .find(|e| e.stan == stan)
        .map(|e| e.txn_id);
        if let Some(id) = id {
            match kind {
                QueueKind::Reversal => j.mark_reversed(id).map(|_| ()),
                QueueKind::Advice => j.mark_advice_sent(id).map(|_| ()),
            }
            .map_err(|e| store_err("mark done", e))?;
        }
        Ok(())
    }

    fn acknowledged(
        &mut self,
        kind: QueueKind,
        stan: u32,
        response: &smartpos_host::HostResponse,
    ) -> Result<(), StoreError> {
        let refund = {
            let j = journal_host::lock(&self.journal);
            JournalQueues::entry_record(&j, kind, stan)?
                .filter(|r| kind == QueueKind::Advice && r.kind == TxnKind::Refund)
        };
        match refund {
            Some(r) => journal_host::lock(&self.journal)
                .refund_answered(r.id, true, &journal_response(response))
                .map(|_| ())
                .map_err(|e| store_err("refund_answered", e)),
            None => self.complete(kind, stan),
        }
    }

    fn refused(
        &mut self,
        kind: QueueKind,
        stan: u32,
        response: &smartpos_host::HostResponse,
    ) -> Result<bool, StoreError> {
        let mut j = journal_host::lock(&self.journal);
        match JournalQueues::entry_record(&j, kind, stan)? {
            // The issuer refused the repeated refund: final, journalled declined.
            Some(r) if kind == QueueKind::Advice && r.kind == TxnKind::Refund => {
                j.refund_answered(r.id, false, &journal_response(response))
                    .map_err(|e| store_err("refund_answered", e))?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn discard(&mut self, _kind: QueueKind, _stan: u32) -> Result<(), StoreError> {
        // The confirmed response moves the journal record to approved/declined; nothing queued.
        Ok(())
    }
}
