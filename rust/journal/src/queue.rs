//! Store-and-forward queues: reversals (ISO 8583 MTI 0400/0420) and advices of offline approvals
//! (MTI 0220). Entries live in the same SQLite file as the transactions, so they survive restarts;
//! a done entry can never become pending again (trigger `queue_done_is_final`).

use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde_json::json;

use crate::clock::Timestamp;
use crate::error::{JournalError, Result};
use crate::journal::{Journal, audit, load};
use crate::model::{QueueEntry, QueueKind, TransactionRecord, TxnId, TxnKind, TxnState};

pub(crate) const ENTRY_SQL: &str = "SELECT q.txn_id, q.kind, q.attempts, q.last_attempt_at, q.last_error, q.created_at, t.stan, t.amount, i.data \
     FROM queue q JOIN transactions t ON t.id = q.txn_id LEFT JOIN queue_icc i ON i.txn_id = q.txn_id \
     WHERE q.kind = ?1 AND q.done = 0 ORDER BY q.id";

/// The `done` flag of `id`'s entry in queue `kind`, `None` when it was never queued.
fn queue_done(tx: &rusqlite::Transaction<'_>, id: TxnId, kind: QueueKind) -> Result<Option<bool>> {
    Ok(tx
        .query_row(
            "SELECT done FROM queue WHERE txn_id = ?1 AND kind = ?2",
            params![id.0, kind],
            |r| r.get(0),
        )
        .optional()?)
}

/// Only a pending entry can be attempted or finished: [`JournalError::NotQueued`] when there is
/// none, [`JournalError::QueueEntryDone`] when it is already done.
fn require_pending(done: Option<bool>, id: TxnId, kind: QueueKind) -> Result<()> {
    match done {
        None => Err(JournalError::NotQueued {
            id,
            queue: kind.as_str(),
        }),
        Some(true) => Err(JournalError::QueueEntryDone {
            id,
            queue: kind.as_str(),
        }),
        Some(false) => Ok(()),
    }
}

fn entry_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<QueueEntry> {
    Ok(QueueEntry {
        txn_id: TxnId(r.get(0)?),
        kind: r.get(1)?,
        attempts: r.get(2)?,
        last_attempt_at: r.get::<_, Option<i64>>(3)?.map(Timestamp),
        last_error: r.get(4)?,
        created_at: Timestamp(r.get(5)?),
        stan: r.get(6)?,
        amount: r.get(7)?,
        icc_data: r.get(8)?,
    })
}

impl Journal {
    fn pending(&self, kind: QueueKind) -> Result<Vec<QueueEntry>> {
        let mut st = self.conn.prepare_cached(ENTRY_SQL)?;
        let v = st
            .query_map([kind], entry_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(v)
    }

    /// Reversals still to be sent, oldest first.
    pub fn pending_reversals(&self) -> Result<Vec<QueueEntry>> {
        self.pending(QueueKind::Reversal)
    }

    /// Advices still to be sent, oldest first.
    pub fn pending_advices(&self) -> Result<Vec<QueueEntry>> {
        self.pending(QueueKind::Advice)
    }

    fn attempt(&mut self, id: TxnId, kind: QueueKind, error: &str) -> Result<QueueEntry> {
        let error = crate::validate::free_text("error", error, 200)?;
        let now = self.now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let done = queue_done(&tx, id, kind)?;
        require_pending(done, id, kind)?;
        tx.execute(
            "UPDATE queue SET attempts = attempts + 1, last_attempt_at = ?1, last_error = ?2 WHERE txn_id = ?3 AND kind = ?4",
            params![now.0, error, id.0, kind],
        )?;
        let op: String = tx.query_row(
            "SELECT operator_id FROM transactions WHERE id = ?1",
            [id.0],
            |r| r.get(0),
        )?;
        audit(
            &tx,
            now,
            &op,
            &format!("{kind}.attempt_failed"),
            Some(id),
            &json!({ "error": error }),
        )?;
        let e = tx.query_row(
            "SELECT q.txn_id, q.kind, q.attempts, q.last_attempt_at, q.last_error, q.created_at, t.stan, t.amount, i.data \
             FROM queue q JOIN transactions t ON t.id = q.txn_id LEFT JOIN queue_icc i ON i.txn_id = q.txn_id \
             WHERE q.txn_id = ?1 AND q.kind = ?2",
            params![id.0, kind],
            entry_row,
        )?;
        tx.commit()?;
        Ok(e)
    }

    /// Record a failed attempt to send the reversal of `id` (attempt counter, time, error).
    pub fn mark_reversal_attempt(&mut self, id: TxnId, error: &str) -> Result<QueueEntry> {
        self.attempt(id, QueueKind::Reversal, error)
    }

    /// Record a failed attempt to send the advice of `id`.
    pub fn mark_advice_attempt(&mut self, id: TxnId, error: &str) -> Result<QueueEntry> {
        self.attempt(id, QueueKind::Advice, error)
    }

    fn finish(&mut self, id: TxnId, kind: QueueKind) -> Result<TransactionRecord> {
        let now = self.now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let rec = load(&tx, id)?;
        let done = queue_done(&tx, id, kind)?;
        if kind == QueueKind::Reversal && rec.state != TxnState::ReversalPending {
            return Err(JournalError::IllegalTransition {
                id,
                from: rec.state,
                to: TxnState::Reversed,
            });
        }
        require_pending(done, id, kind)?;
        tx.execute(
            "UPDATE queue SET done = 1, done_at = ?1, attempts = attempts + 1, last_attempt_at = ?1 \
             WHERE txn_id = ?2 AND kind = ?3 AND done = 0",
            params![now.0, id.0, kind],
        )?;
        if kind == QueueKind::Reversal {
            tx.execute(
                "UPDATE transactions SET state = 'reversed', updated_at = ?1 WHERE id = ?2 AND state = 'reversal_pending'",
                params![now.0, id.0],
            )?;
            // A reversed void no longer cancels its original.
            tx.execute(
                "UPDATE transactions SET voided_by = NULL WHERE voided_by = ?1",
                [id.0],
            )?;
            audit(
                &tx,
                now,
                &rec.operator_id,
                "txn.reversed",
                Some(id),
                &json!({ "from": rec.state, "to": "reversed" }),
            )?;
        } else {
            audit(
                &tx,
                now,
                &rec.operator_id,
                "advice.sent",
                Some(id),
                &json!({}),
            )?;
        }
        crate::journal::prune_icc(&tx, id)?;
        let out = load(&tx, id)?;
        tx.commit()?;
        Ok(out)
    }

    /// The host acknowledged the reversal of `id`: `reversal_pending → reversed`, entry done.
    /// A second call fails (a reversal is never completed twice).
    pub fn mark_reversed(&mut self, id: TxnId) -> Result<TransactionRecord> {
        self.finish(id, QueueKind::Reversal)
    }

    /// The host acknowledged the advice of `id`. A second call fails.
    pub fn mark_advice_sent(&mut self, id: TxnId) -> Result<TransactionRecord> {
        self.finish(id, QueueKind::Advice)
    }

    /// A refund (MTI 0220 in this dialect, never reversed) got no usable answer: it stays
    /// `online_pending` and is queued as a store-and-forward advice, repeated (same STAN) until
    /// the host answers ([`Journal::refund_answered`]). Until then it counts against the
    /// original's refundable amount, so it cannot be paid twice.
    pub fn refund_unanswered(&mut self, id: TxnId, error: &str) -> Result<TransactionRecord> {
        let mut error: String = error
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        while error.len() > 200 {
            error.pop();
        }
        let error = crate::validate::free_text("error", &error, 200)
            .unwrap_or_else(|_| "no answer from the host".to_string());
        let now = self.now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let rec = load(&tx, id)?;
        if rec.kind != TxnKind::Refund {
            return Err(JournalError::WrongKind {
                id,
                kind: rec.kind,
                operation: "refund_unanswered",
            });
        }
        if rec.state != TxnState::OnlinePending {
            return Err(JournalError::IllegalTransition {
                id,
                from: rec.state,
                to: TxnState::OnlinePending,
            });
        }
        crate::journal::enqueue(&tx, id, QueueKind::Advice, now)?;
        tx.execute(
            "UPDATE transactions SET error_reason = ?1, updated_at = ?2 WHERE id = ?3",
            params![error, now.0, id.0],
        )?;
        audit(
            &tx,
            now,
            &rec.operator_id,
            "refund.advice_pending",
            Some(id),
            &json!({ "error": error }),
        )?;
        let out = load(&tx, id)?;
        tx.commit()?;
        Ok(out)
    }

    /// The host answered the queued repeat of refund `id`: approved (`online_pending →
    /// approved → completed` with the host's response code, RRN and authorisation code) or, for
    /// a decline, `online_pending → declined`; the advice entry is done either way, all in one
    /// database transaction.
    pub fn refund_answered(
        &mut self,
        id: TxnId,
        approved: bool,
        resp: &crate::journal::HostResponse,
    ) -> Result<TransactionRecord> {
        let rc = crate::validate::response_code(&resp.response_code)?;
        let rrn = crate::validate::opt_text("rrn", resp.rrn.as_deref(), 32)?;
        let auth = crate::validate::opt_text("auth_code", resp.auth_code.as_deref(), 6)?;
        let now = self.now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let rec = load(&tx, id)?;
        if rec.kind != TxnKind::Refund {
            return Err(JournalError::WrongKind {
                id,
                kind: rec.kind,
                operation: "refund_answered",
            });
        }
        require_pending(
            queue_done(&tx, id, QueueKind::Advice)?,
            id,
            QueueKind::Advice,
        )?;
        if rec.state != TxnState::OnlinePending {
            return Err(JournalError::IllegalTransition {
                id,
                from: rec.state,
                to: if approved {
                    TxnState::Approved
                } else {
                    TxnState::Declined
                },
            });
        }
        if approved && rrn.is_none() {
            return Err(JournalError::MissingField {
                id,
                state: TxnState::Approved,
                field: "rrn",
            });
        }
        let path: &[TxnState] = if approved {
            &[TxnState::Approved, TxnState::Completed]
        } else {
            &[TxnState::Declined]
        };
        for to in path {
            tx.execute(
                "UPDATE transactions SET state = ?1, response_code = ?2, rrn = COALESCE(?3, rrn), \
                 auth_code = COALESCE(?4, auth_code), updated_at = ?5 WHERE id = ?6",
                params![to, rc, rrn, auth, now.0, id.0],
            )?;
        }
        tx.execute(
            "UPDATE queue SET done = 1, done_at = ?1, attempts = attempts + 1, last_attempt_at = ?1 \
             WHERE txn_id = ?2 AND kind = 'advice' AND done = 0",
            params![now.0, id.0],
        )?;
        crate::journal::prune_icc(&tx, id)?;
        let to = path.last().copied().unwrap_or(TxnState::Declined);
        audit(
            &tx,
            now,
            &rec.operator_id,
            "refund.advice_answered",
            Some(id),
            &json!({ "from": rec.state, "to": to, "response_code": rc, "rrn": rrn }),
        )?;
        let out = load(&tx, id)?;
        tx.commit()?;
        Ok(out)
    }

    /// QR orders whose outcome must be queried from the wallet (flagged by crash recovery).
    pub fn pending_qr_queries(&self) -> Result<Vec<TransactionRecord>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {} FROM transactions WHERE kind = 'qr_sale' AND qr_query_needed = 1 ORDER BY id",
            crate::journal::TXN_COLUMNS
        ))?;
        let v = st
            .query_map([], crate::journal::row_to_record)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(v)
    }
}
