//! Operations on earlier transactions and on the batch: void, refund, pre-authorisation
//! completion, balance inquiry, settlement with batch upload, reprint and report data.

use crate::cancel::CancelToken;
use crate::error::{Result, TerminalError};
use crate::events::{self, Event, MessageId, Step as Progress};
use crate::journal_host::{self, emv_date_time};
use crate::records::{SettlementResult, Status, TransactionOutcome};
use crate::roles::{Action, Role};
use crate::terminal::{PaymentMethod, SaleRequest, Terminal};
use smartpos_host::{HostError, dialect};
use smartpos_journal::{
    BatchId, Journal, OriginalRef, TotalsBy, TransactionRecord, TxnFilter, TxnId, TxnKind, TxnState,
};

/// What the app is told about a refund with no answer.
const PENDING_REFUND: &str =
    "refund pending: no answer from the host; it is sent again until the host answers";

/// The batch number after `n` (000001-999999, wrapping).
fn next_batch_no(n: u32) -> u32 {
    if n >= 999_999 { 1 } else { n + 1 }
}

/// The batch upload records (0320) of a closed batch: approved sales, completions, QR sales
/// and refunds not voided, oldest first, PAN from the encrypted blob.
fn batch_records(j: &Journal, batch: BatchId) -> Result<Vec<smartpos_host::BatchRecord>> {
    let filter = TxnFilter {
        batch_id: Some(batch),
        states: vec![
            TxnState::Completed,
            TxnState::Approved,
            TxnState::OfflineApproved,
        ],
        ..TxnFilter::default()
    };
    let mut records = Vec::new();
    let mut before = None;
    loop {
        let page = j.list(&filter, before, 500)?;
        for r in &page.items {
            if r.voided_by.is_some()
                || matches!(
                    r.kind,
                    TxnKind::Void | TxnKind::PreAuth | TxnKind::BalanceInquiry
                )
            {
                continue;
            }
            let pan = if r.pan_encrypted.is_some() {
                j.decrypt_pan(r.id)?.pan.expose().to_string()
            } else {
                String::new()
            };
            records.push(smartpos_host::BatchRecord {
                stan: r.stan,
                processing_code: if r.kind == TxnKind::Refund {
                    dialect::PC_REFUND.to_string()
                } else {
                    dialect::PC_PURCHASE.to_string()
                },
                amount: u64::try_from(r.total()).unwrap_or(0),
                pan,
                rrn: r.rrn.clone(),
                auth_code: r.auth_code.clone(),
            });
        }
        match page.next_before {
            Some(b) => before = Some(b),
            None => break,
        }
    }
    records.reverse();
    Ok(records)
}

/// Which transaction to reprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reprint {
    /// The last finished transaction.
    Last,
    /// By invoice number.
    Invoice(u32),
}

impl Terminal {
    fn original(&self, id: TxnId) -> Result<TransactionRecord> {
        Ok(journal_host::lock(&self.journal).get(id)?)
    }

    /// Card data of a stored transaction for a follow-up message (PAN from the encrypted blob).
    fn stored_card(&self, r: &TransactionRecord) -> Result<smartpos_host::CardData> {
        let card = journal_host::lock(&self.journal).decrypt_pan(r.id)?;
        Ok(smartpos_host::CardData {
            pan: card.pan.expose().to_string(),
            track2: None,
            expiry: None,
            psn: None,
            entry_mode: smartpos_host::EntryMode::Manual,
            icc_data: None,
        })
    }

    fn mmdd(&self, r: &TransactionRecord) -> String {
        let (date, _) = emv_date_time(r.created_at, self.settings.risk.utc_offset_minutes);
        date.get(2..6).unwrap_or("0101").to_string()
    }

    /// A void or refund whose request was cancelled before it was written to the host
    /// (`HostError::Cancelled { sent: false }`): nothing reached the host, nothing to reverse or
    /// advise, so it is aborted like a sale (journal online pending → aborted; the original
    /// keeps its amount open for a later void or refund).
    fn aborted_before_sending(&mut self, id: TxnId, what: &'static str) -> Result<TerminalError> {
        journal_host::lock(&self.journal)
            .abort(id, &format!("{what} cancelled before the request was sent"))?;
        events::prompt(&*self.events(), MessageId::Cancelled);
        Ok(TerminalError::Cancelled {
            step: "host request",
        })
    }

    /// Void an approved sale of the open batch (supervisor). The void is journalled before it is
    /// sent and reversed if its answer is lost.
    pub fn void(&mut self, original: TxnId, cancel: &CancelToken) -> Result<TransactionOutcome> {
        let op = self.authoriser.require(Role::Supervisor, Action::Void)?;
        if cancel.is_cancelled() {
            return Err(TerminalError::Cancelled {
                step: "before void",
            });
        }
        self.ensure_keys()?;
        if let Err(e) = self.host.flush_reversals() {
            log::warn!("reversals still queued: {e}");
        }
        let orig = self.original(original)?;
        let card = self.stored_card(&orig)?;
        let rec = journal_host::lock(&self.journal).begin_void(original, &op.0)?;
        crate::crashpoint::hit("void_begin");
        journal_host::lock(&self.journal)
            .online_pending(rec.id, &smartpos_journal::OnlineRequest::mti("0200"))?;
        crate::crashpoint::hit("void_online_pending");
        self.devices.events.event(&Event::Progress {
            step: Progress::Online,
        });
        self.host.set_last_stan(rec.stan.saturating_sub(1));
        self.host.set_cancel(Some(cancel.host_hook()));
        let answer = self.host.void(&smartpos_host::VoidRequest {
            amount: u64::try_from(orig.total()).unwrap_or(0),
            card,
            pin: smartpos_host::PinInput::None,
            original_stan: orig.stan,
            original_rrn: orig.rrn.clone().unwrap_or_default(),
            original_auth_code: orig.auth_code.clone().unwrap_or_default(),
        });
        self.host.set_cancel(None);
        crate::crashpoint::hit("void_answered");
        if let Err(HostError::Cancelled { sent: false }) = answer {
            return Err(self.aborted_before_sending(rec.id, "void")?);
        }
        let status = self.apply_answer(rec.id, answer)?;
        if status == Status::Approved {
            journal_host::lock(&self.journal)
                .complete(rec.id, &smartpos_journal::Completion::default())?;
            crate::crashpoint::hit("void_completed");
        }
        self.outcome(rec.id, status)
    }

    /// Refund (supervisor) of a sale in this journal, or one known by RRN and date. Refunds are
    /// not reversed (smartpos-host): a refund without an answer (timeout, bad MAC, lost link,
    /// cancelled after sending) is queued as a store-and-forward advice, repeated with the same
    /// STAN by [`Terminal::flush_queues`] until the host answers; the outcome says so
    /// ([`TransactionOutcome::pending`]).
    pub fn refund(
        &mut self,
        original: OriginalRef,
        amount: u64,
        cancel: &CancelToken,
    ) -> Result<TransactionOutcome> {
        let op = self.authoriser.require(Role::Supervisor, Action::Refund)?;
        if cancel.is_cancelled() {
            return Err(TerminalError::Cancelled {
                step: "before refund",
            });
        }
        self.ensure_keys()?;
        let local = match &original {
            OriginalRef::Local(id) => Some(self.original(*id)?),
            OriginalRef::Host { rrn, .. } => journal_host::lock(&self.journal)
                .find_by_rrn(rrn)?
                .into_iter()
                .find(|r| r.pan_encrypted.is_some()),
        };
        let Some(orig) = local else {
            return Err(TerminalError::invalid(
                "original",
                "refund by RRN needs the original sale in this journal (card data)",
            ));
        };
        let card = self.stored_card(&orig)?;
        let pan = smartpos_journal::Pan::parse(&card.pan)?;
        let rec =
            journal_host::lock(&self.journal).begin_refund(smartpos_journal::RefundRequest {
                original: original.clone(),
                amount: i64::try_from(amount)
                    .map_err(|_| TerminalError::invalid("amount", "too large"))?,
                currency: self.settings.currency.clone(),
                operator_id: op.0.clone(),
                merchant_order_ref: None,
            })?;
        {
            let mut j = journal_host::lock(&self.journal);
            let mut cd = smartpos_journal::CardData::new(&pan, smartpos_journal::EntryMode::Manual);
            cd.keep_encrypted_pan = true;
            j.card_read(rec.id, &cd)?;
            j.online_pending(rec.id, &smartpos_journal::OnlineRequest::mti("0220"))?;
        }
        crate::crashpoint::hit("refund_online_pending");
        let (rrn, date) = match &original {
            OriginalRef::Host { rrn, date } => (
                rrn.clone(),
                date.chars()
                    .rev()
                    .take(4)
                    .collect::<String>()
                    .chars()
                    .rev()
                    .collect(),
            ),
            OriginalRef::Local(_) => (orig.rrn.clone().unwrap_or_default(), self.mmdd(&orig)),
        };
        self.devices.events.event(&Event::Progress {
            step: Progress::Online,
        });
        self.host.set_last_stan(rec.stan.saturating_sub(1));
        // A cancel while the answer is awaited leaves the refund pending (below), as a timeout;
        // a cancel before the request is written aborts it.
        self.host.set_cancel(Some(cancel.host_hook()));
        let answer = self.host.refund(&smartpos_host::RefundRequest {
            amount,
            card,
            original_rrn: rrn,
            original_date: date,
        });
        self.host.set_cancel(None);
        crate::crashpoint::hit("refund_answered");
        let status = match answer {
            Err(HostError::Cancelled { sent: false }) => {
                return Err(self.aborted_before_sending(rec.id, "refund")?);
            }
            Err(e) if e.needs_reversal() => {
                // The refund may have reached the host: never dropped, never paid twice. It
                // stays online (counting against the original) and is repeated as an advice.
                journal_host::lock(&self.journal).refund_unanswered(rec.id, &e.to_string())?;
                log::warn!("refund outcome unknown, queued as an advice: {e}");
                let mut out = self.outcome(rec.id, Status::Reversed)?;
                out.pending = true;
                out.message = PENDING_REFUND.to_string();
                return Ok(out);
            }
            other => self.apply_answer(rec.id, other)?,
        };
        if status == Status::Approved {
            journal_host::lock(&self.journal)
                .complete(rec.id, &smartpos_journal::Completion::default())?;
        }
        self.outcome(rec.id, status)
    }

    /// Complete a pre-authorisation for the final `amount` (at most the pre-authorised amount).
    pub fn complete_pre_authorisation(
        &mut self,
        pre_auth: TxnId,
        amount: u64,
        operator: &str,
    ) -> Result<TransactionOutcome> {
        self.ensure_keys()?;
        if let Err(e) = self.host.flush_reversals() {
            log::warn!("reversals still queued: {e}");
        }
        let orig = self.original(pre_auth)?;
        let card = self.stored_card(&orig)?;
        let amount_i =
            i64::try_from(amount).map_err(|_| TerminalError::invalid("amount", "too large"))?;
        let rec = journal_host::lock(&self.journal)
            .begin_pre_auth_completion(pre_auth, amount_i, operator)?;
        journal_host::lock(&self.journal)
            .online_pending(rec.id, &smartpos_journal::OnlineRequest::mti("0200"))?;
        self.host.set_last_stan(rec.stan.saturating_sub(1));
        let answer = self
            .host
            .complete_pre_authorisation(&smartpos_host::CompletionRequest {
                amount,
                card,
                original_auth_code: orig.auth_code.clone().unwrap_or_default(),
                original_stan: orig.stan,
                original_date: self.mmdd(&orig),
            });
        let status = self.apply_answer(rec.id, answer)?;
        if status == Status::Approved {
            journal_host::lock(&self.journal)
                .complete(rec.id, &smartpos_journal::Completion::default())?;
        }
        self.outcome(rec.id, status)
    }

    /// Balance inquiry by card (prepaid/stored value); the balance is in
    /// [`TransactionOutcome::balance`].
    pub fn balance_inquiry(
        &mut self,
        operator: &str,
        cancel: &CancelToken,
    ) -> Result<TransactionOutcome> {
        let req = SaleRequest {
            amount: 0,
            tip: 0,
            cashback: 0,
            value_added: Default::default(),
            operator_id: operator.to_string(),
            method: PaymentMethod::Card,
        };
        self.payment(TxnKind::BalanceInquiry, &req, cancel)
    }

    /// Settlement (supervisor): queues flushed, the batch closed, totals sent (0500); on a
    /// mismatch (95) every record is uploaded (0320) and the totals sent again; then the batch
    /// is marked settled. New sales go to the next batch from the moment the batch closes.
    ///
    /// A batch closed by an earlier settlement that failed (host down, bad MAC, timeout) is
    /// settled first, instead of the open batch: same batch number as its first attempt, totals
    /// and upload records from the journal ([`Terminal::retry_settlement`]); call `settle`
    /// again for the batch opened meanwhile.
    pub fn settle(&mut self) -> Result<SettlementResult> {
        let op = self
            .authoriser
            .require(Role::Supervisor, Action::Settlement)?;
        self.settle_prepare()?;
        let pending = journal_host::lock(&self.journal).unsettled_batches()?;
        if let Some(b) = pending.into_iter().next() {
            return self.settle_closed(b.id, &op.0, b.batch_no);
        }
        let closed = journal_host::lock(&self.journal).close_batch(&op.0)?;
        let host_batch = self.host.config().batch;
        // The host batch number moves on now: sales made before a retry belong to the next.
        self.host.set_batch(next_batch_no(host_batch));
        self.settle_closed(closed.totals.batch.id, &op.0, host_batch)
    }

    /// Settle again the oldest batch that was closed but never confirmed by the host (see
    /// [`Terminal::settle`]); `None` when there is none. Idempotent: a settled batch is never
    /// sent again, and the host answers a repeat of a batch it did settle with 00.
    pub fn retry_settlement(&mut self) -> Result<Option<SettlementResult>> {
        let op = self
            .authoriser
            .require(Role::Supervisor, Action::Settlement)?;
        self.settle_prepare()?;
        let pending = journal_host::lock(&self.journal).unsettled_batches()?;
        match pending.into_iter().next() {
            Some(b) => self.settle_closed(b.id, &op.0, b.batch_no).map(Some),
            None => Ok(None),
        }
    }

    /// Keys, then every queued reversal and advice first: they change the totals.
    fn settle_prepare(&mut self) -> Result<()> {
        self.ensure_keys()?;
        self.devices.events.event(&Event::Progress {
            step: Progress::Flushing,
        });
        self.host.flush_reversals()?;
        self.host.flush_advices()?;
        Ok(())
    }

    /// One settlement attempt of the closed batch `id` (totals and records from the journal,
    /// the host batch number of its first attempt, `host_batch` if this is the first);
    /// audited as attempt, failure or settled.
    fn settle_closed(
        &mut self,
        id: BatchId,
        operator: &str,
        host_batch: u32,
    ) -> Result<SettlementResult> {
        let (info, totals, records) = {
            let j = journal_host::lock(&self.journal);
            let info = j.batch(id)?;
            let totals = j.batch_totals(id, TotalsBy::Scheme)?;
            let records = batch_records(&j, id)?;
            (info, totals, records)
        };
        let host_batch =
            journal_host::lock(&self.journal).settlement_attempt(id, operator, host_batch)?;
        let t = &totals.total;
        let host_totals = smartpos_host::BatchTotals {
            debit_count: t.sales_count,
            debit_amount: u64::try_from(t.sales_amount).unwrap_or(0),
            credit_count: t.refunds_count,
            credit_amount: u64::try_from(t.refunds_amount).unwrap_or(0),
        };
        let stan = journal_host::lock(&self.journal).next_stan()?;
        // The 0500s and 0320s take consecutive STANs; keep the journal's counter ahead of them.
        for _ in 0..records.len() + 2 {
            journal_host::lock(&self.journal).next_stan()?;
        }
        self.host.set_last_stan(stan.saturating_sub(1));
        let outcome = match self.host.settle_batch(host_batch, &host_totals, &records) {
            Ok(o) => o,
            Err(e) => {
                if let Err(a) = journal_host::lock(&self.journal).settlement_failed(
                    id,
                    operator,
                    &e.to_string(),
                ) {
                    log::warn!("settlement failure not audited: {a}");
                }
                return Err(TerminalError::Host(e));
            }
        };
        journal_host::lock(&self.journal).mark_batch_settled(id, operator)?;
        let (balanced_first_time, uploaded) = match outcome {
            smartpos_host::SettlementOutcome::Balanced => (true, 0),
            smartpos_host::SettlementOutcome::BalancedAfterUpload { uploaded } => (false, uploaded),
        };
        Ok(SettlementResult {
            batch_no: info.batch_no,
            sales_count: t.sales_count,
            sales_amount: t.sales_amount,
            refunds_count: t.refunds_count,
            refunds_amount: t.refunds_amount,
            balanced_first_time,
            uploaded,
        })
    }

    /// The record to reprint (the receipt is rendered by [`crate::receipt`]).
    pub fn reprint(&self, which: Reprint) -> Result<TransactionOutcome> {
        let j = journal_host::lock(&self.journal);
        let r = match which {
            Reprint::Invoice(n) => j
                .find_by_invoice(n)?
                .into_iter()
                .max_by_key(|r| r.id.0)
                .ok_or_else(|| {
                    TerminalError::invalid("invoice", format!("no transaction with invoice {n}"))
                })?,
            Reprint::Last => {
                let filter = TxnFilter {
                    states: vec![
                        TxnState::Completed,
                        TxnState::Declined,
                        TxnState::Reversed,
                        TxnState::ReversalPending,
                    ],
                    ..TxnFilter::default()
                };
                j.list(&filter, None, 1)?
                    .items
                    .into_iter()
                    .next()
                    .ok_or_else(|| TerminalError::invalid("reprint", "no transaction yet"))?
            }
        };
        let status = match r.state {
            TxnState::Completed | TxnState::Approved => {
                if r.response_code.as_deref() == Some("Y1") {
                    Status::ApprovedOffline
                } else {
                    Status::Approved
                }
            }
            TxnState::OfflineApproved => Status::ApprovedOffline,
            TxnState::ReversalPending | TxnState::Reversed => Status::Reversed,
            TxnState::OnlinePending if r.kind == TxnKind::Refund => Status::Reversed,
            _ => Status::Declined,
        };
        let pending = r.kind == TxnKind::Refund && r.state == TxnState::OnlinePending;
        let mut out = TransactionOutcome::from_record(
            &r,
            status,
            &self.settings.terminal_id,
            &self.settings.merchant_id,
        );
        if pending {
            out.pending = true;
            out.message = PENDING_REFUND.to_string();
        }
        Ok(out)
    }

    /// Totals of the open batch by scheme, entry mode or operator (report data).
    pub fn batch_totals(&self, by: TotalsBy) -> Result<smartpos_journal::BatchTotals> {
        let j = journal_host::lock(&self.journal);
        let batch = j
            .open_batch()?
            .ok_or_else(|| TerminalError::invalid("batch", "no open batch"))?;
        Ok(j.batch_totals(batch.id, by)?)
    }
}
