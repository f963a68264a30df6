//! Crash recovery and invariant checks, run by [`Journal::open`](crate::Journal::open).
//!
//! A terminal that crashed while a request was online does not know whether the issuer approved:
//! the acquirer rule (and ISO 8583 §reversal advice, MTI 0400/0420) is to reverse it. Transactions
//! that never went online moved no funds and are aborted. QR orders cannot be reversed; their
//! outcome is queried from the wallet, so they are flagged for a status query.

use rusqlite::{TransactionBehavior, params};
use serde::Serialize;
use serde_json::json;

use crate::error::Result;
use crate::journal::{Journal, SYSTEM_OPERATOR, audit, enqueue, ensure_open_batch};
use crate::model::{BatchInfo, QueueKind, TxnId};
use crate::schema;

/// What [`Journal::open`](crate::Journal::open) found and did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenReport {
    /// `user_version` of the file before opening (0 for a new file).
    pub schema_version_before: u32,
    /// Schema version now.
    pub schema_version: u32,
    /// Migration steps applied during this open.
    pub migrations_applied: Vec<u32>,
    /// Transactions found `online_pending` and moved to `reversal_pending` (reversal queued).
    pub recovered_reversals: Vec<TxnId>,
    /// Refunds found `online_pending` without a queued repeat: queued as advices (they stay
    /// `online_pending` until the host answers).
    pub recovered_refund_advices: Vec<TxnId>,
    /// Transactions found before going online (`created`, `card_read`, or an online balance
    /// inquiry) and aborted: no funds moved.
    pub aborted_unsent: Vec<TxnId>,
    /// QR orders left in `pay` / `polling`: their status must be queried from the wallet.
    pub qr_status_queries: Vec<TxnId>,
    /// Host-approved transactions not completed on the terminal: the orchestrator decides
    /// (complete, or `require_reversal`).
    pub unfinished_approvals: Vec<TxnId>,
    /// Reversals waiting to be sent (after recovery).
    pub pending_reversals: usize,
    /// Advices waiting to be sent.
    pub pending_advices: usize,
    /// The open batch.
    pub current_batch: BatchInfo,
    /// Invariant violations found (empty on a healthy journal).
    pub violations: Vec<InvariantViolation>,
}

/// A broken invariant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvariantViolation {
    /// Rule name: `approval_fields`, `reversal_queue`, `advice_queue`, `original_exists`,
    /// `counters`, `voided_by`, `integrity`.
    pub rule: &'static str,
    /// The transaction concerned, if any.
    pub txn_id: Option<TxnId>,
    /// What is wrong (no card data).
    pub detail: String,
    /// Whether open repaired it (e.g. re-queued a missing reversal).
    pub repaired: bool,
}

fn ids(conn: &rusqlite::Connection, sql: &str) -> Result<Vec<TxnId>> {
    let mut st = conn.prepare(sql)?;
    let v = st
        .query_map([], |r| r.get::<_, i64>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(v.into_iter().map(TxnId).collect())
}

pub(crate) fn recover(j: &mut Journal, before: u32, applied: Vec<u32>) -> Result<OpenReport> {
    let now = j.now();
    let integrity = j.config.integrity_check;
    let tx = j
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)?;
    let batch = ensure_open_batch(&tx, now)?;

    // 1. Online, outcome unknown → reversal (not QR, not balance inquiry, not refund).
    let reversals = ids(
        &tx,
        "SELECT id FROM transactions WHERE state = 'online_pending' AND kind NOT IN ('qr_sale','balance_inquiry','refund') ORDER BY id",
    )?;
    for id in &reversals {
        tx.execute(
            "UPDATE transactions SET state = 'reversal_pending', updated_at = ?1, \
             error_reason = 'outcome unknown after restart' WHERE id = ?2",
            params![now.0, id.0],
        )?;
        enqueue(&tx, *id, QueueKind::Reversal, now)?;
        audit(
            &tx,
            now,
            SYSTEM_OPERATOR,
            "recovery.reversal_pending",
            Some(*id),
            &json!({ "from": "online_pending" }),
        )?;
    }

    // 1b. A refund (0220 in this dialect, never reversed) sent without a known outcome is
    // repeated as a store-and-forward advice until the host answers: it stays online_pending.
    let refunds = ids(
        &tx,
        "SELECT t.id FROM transactions t WHERE t.state = 'online_pending' AND t.kind = 'refund' \
         AND NOT EXISTS (SELECT 1 FROM queue q WHERE q.txn_id = t.id AND q.kind = 'advice') ORDER BY t.id",
    )?;
    for id in &refunds {
        enqueue(&tx, *id, QueueKind::Advice, now)?;
        audit(
            &tx,
            now,
            SYSTEM_OPERATOR,
            "recovery.refund_advice",
            Some(*id),
            &json!({ "state": "online_pending" }),
        )?;
    }

    // 2. Never went online (or a balance inquiry) → aborted.
    let aborted = ids(
        &tx,
        "SELECT id FROM transactions WHERE state IN ('created','card_read') \
         OR (state = 'online_pending' AND kind = 'balance_inquiry') ORDER BY id",
    )?;
    for id in &aborted {
        tx.execute(
            "UPDATE transactions SET state = 'aborted', updated_at = ?1, \
             error_reason = 'interrupted by restart before an outcome' WHERE id = ?2",
            params![now.0, id.0],
        )?;
        audit(
            &tx,
            now,
            SYSTEM_OPERATOR,
            "recovery.aborted",
            Some(*id),
            &json!({}),
        )?;
    }

    // 3. QR orders in pay/polling → status query.
    let newly_flagged = ids(
        &tx,
        "SELECT id FROM transactions WHERE kind = 'qr_sale' AND qr_state IN ('pay','polling') AND qr_query_needed = 0",
    )?;
    for id in &newly_flagged {
        tx.execute(
            "UPDATE transactions SET qr_query_needed = 1, updated_at = ?1 WHERE id = ?2",
            params![now.0, id.0],
        )?;
        audit(
            &tx,
            now,
            SYSTEM_OPERATOR,
            "recovery.qr_status_query",
            Some(*id),
            &json!({}),
        )?;
    }
    let qr = ids(
        &tx,
        "SELECT id FROM transactions WHERE kind = 'qr_sale' AND qr_query_needed = 1 ORDER BY id",
    )?;

    let unfinished = ids(
        &tx,
        "SELECT id FROM transactions WHERE state = 'approved' ORDER BY id",
    )?;

    let mut violations = check_invariants(&tx, now, integrity)?;
    violations.sort_by_key(|v| (v.rule, v.txn_id));
    violations.dedup_by(|a, b| a.rule == b.rule && a.txn_id.is_some() && a.txn_id == b.txn_id);

    let pending_reversals: i64 = tx.query_row(
        "SELECT count(*) FROM queue WHERE kind = 'reversal' AND done = 0",
        [],
        |r| r.get(0),
    )?;
    let pending_advices: i64 = tx.query_row(
        "SELECT count(*) FROM queue WHERE kind = 'advice' AND done = 0",
        [],
        |r| r.get(0),
    )?;
    if !reversals.is_empty() || !refunds.is_empty() || !aborted.is_empty() || !violations.is_empty()
    {
        audit(
            &tx,
            now,
            SYSTEM_OPERATOR,
            "journal.recovered",
            None,
            &json!({ "reversals": reversals.len(), "aborted": aborted.len(), "violations": violations.len() }),
        )?;
    }
    tx.commit()?;
    Ok(OpenReport {
        schema_version_before: before,
        schema_version: schema::LATEST,
        migrations_applied: applied,
        recovered_reversals: reversals,
        recovered_refund_advices: refunds,
        aborted_unsent: aborted,
        qr_status_queries: qr,
        unfinished_approvals: unfinished,
        pending_reversals: usize::try_from(pending_reversals).unwrap_or(0),
        pending_advices: usize::try_from(pending_advices).unwrap_or(0),
        current_batch: batch,
        violations,
    })
}

impl Journal {
    /// Run the invariant checks now (the same as on open, including its repairs), in one
    /// database transaction. Empty on a healthy journal.
    pub fn check_invariants(&mut self) -> Result<Vec<InvariantViolation>> {
        let now = self.now();
        let integrity = self.config.integrity_check;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut v = check_invariants(&tx, now, integrity)?;
        tx.commit()?;
        v.sort_by_key(|v| (v.rule, v.txn_id));
        v.dedup_by(|a, b| a.rule == b.rule && a.txn_id.is_some() && a.txn_id == b.txn_id);
        Ok(v)
    }
}

fn violation_rows(
    conn: &rusqlite::Connection,
    rule: &'static str,
    sql: &str,
    repaired: bool,
) -> Result<Vec<InvariantViolation>> {
    let mut st = conn.prepare(sql)?;
    let rows = st
        .query_map([], |r| {
            Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows
        .into_iter()
        .map(|(id, detail)| InvariantViolation {
            rule,
            txn_id: id.map(TxnId),
            detail,
            repaired,
        })
        .collect())
}

fn check_invariants(
    conn: &rusqlite::Connection,
    now: crate::clock::Timestamp,
    integrity: bool,
) -> Result<Vec<InvariantViolation>> {
    let mut v = Vec::new();

    // No approved transaction without the fields its receipt and later messages need.
    v.extend(violation_rows(
        conn,
        "approval_fields",
        "SELECT id, 'state ' || state || ' without ' || \
           CASE WHEN response_code IS NULL THEN 'response_code' \
                WHEN state = 'approved' AND rrn IS NULL THEN 'rrn' \
                WHEN response_code IN ('Y1','Y3') THEN 'cryptogram' \
                ELSE 'auth_code' END \
         FROM transactions WHERE state IN ('approved','offline_approved','completed') AND ( \
           response_code IS NULL \
           OR (state = 'approved' AND rrn IS NULL) \
           OR (response_code IN ('Y1','Y3') AND cryptogram IS NULL) \
           OR (kind IN ('sale','pre_auth','pre_auth_completion') AND response_code NOT IN ('Y1','Y3') AND auth_code IS NULL))",
        false,
    )?);

    // Reversal queue: every reversal_pending has an open entry (repaired), every reversed has a
    // done entry, and a done reversal belongs to a reversed transaction (never sent twice).
    let missing = crate::recovery::ids(
        conn,
        "SELECT t.id FROM transactions t WHERE t.state = 'reversal_pending' \
         AND NOT EXISTS (SELECT 1 FROM queue q WHERE q.txn_id = t.id AND q.kind = 'reversal')",
    )?;
    for id in missing {
        enqueue(conn, id, QueueKind::Reversal, now)?;
        v.push(InvariantViolation {
            rule: "reversal_queue",
            txn_id: Some(id),
            detail: "reversal_pending without a queued reversal: re-queued".into(),
            repaired: true,
        });
    }
    v.extend(violation_rows(
        conn,
        "reversal_queue",
        "SELECT t.id, 'state ' || t.state || ' but reversal entry done = ' || COALESCE(q.done, 'none') \
         FROM transactions t LEFT JOIN queue q ON q.txn_id = t.id AND q.kind = 'reversal' \
         WHERE (t.state = 'reversed' AND COALESCE(q.done, 0) = 0) \
            OR (t.state <> 'reversed' AND q.done = 1) \
            OR (t.state = 'reversal_pending' AND q.done = 1)",
        false,
    )?);

    // Advice queue: every offline approval has an advice entry (repaired).
    let missing = crate::recovery::ids(
        conn,
        "SELECT t.id FROM transactions t WHERE t.response_code IN ('Y1','Y3') \
         AND t.state IN ('offline_approved','completed') \
         AND NOT EXISTS (SELECT 1 FROM queue q WHERE q.txn_id = t.id AND q.kind = 'advice')",
    )?;
    for id in missing {
        enqueue(conn, id, QueueKind::Advice, now)?;
        v.push(InvariantViolation {
            rule: "advice_queue",
            txn_id: Some(id),
            detail: "offline approval without a queued advice: re-queued".into(),
            repaired: true,
        });
    }

    // Void / refund / completion originals exist.
    v.extend(violation_rows(
        conn,
        "original_exists",
        "SELECT t.id, t.kind || ' references missing original ' || COALESCE(t.original_id, 'NULL') \
         FROM transactions t LEFT JOIN transactions o ON o.id = t.original_id \
         WHERE (t.kind IN ('void','pre_auth_completion') AND t.original_id IS NULL) \
            OR (t.original_id IS NOT NULL AND o.id IS NULL) \
            OR (t.kind = 'refund' AND t.original_id IS NULL AND t.original_rrn IS NULL)",
        false,
    )?);

    // voided_by points at an approved void of this very transaction.
    v.extend(violation_rows(
        conn,
        "voided_by",
        "SELECT o.id, 'voided_by ' || o.voided_by || ' is not an approved void of it' \
         FROM transactions o LEFT JOIN transactions vd ON vd.id = o.voided_by \
         WHERE o.voided_by IS NOT NULL AND (vd.id IS NULL OR vd.kind <> 'void' OR vd.original_id <> o.id \
               OR vd.state NOT IN ('approved','completed'))",
        false,
    )?);

    // Counters: every transaction took one STAN and one invoice number, every batch one batch
    // number; an issue count below that means a counter went backwards (numbers would repeat).
    v.extend(violation_rows(
        conn,
        "counters",
        "SELECT NULL, c.name || ' counter issued ' || c.issued || ' < ' || \
            CASE c.name WHEN 'batch' THEN (SELECT count(*) FROM batches) ELSE (SELECT count(*) FROM transactions) END \
         FROM counters c WHERE c.issued < \
            CASE c.name WHEN 'batch' THEN (SELECT count(*) FROM batches) ELSE (SELECT count(*) FROM transactions) END",
        false,
    )?);
    v.extend(violation_rows(
        conn,
        "counters",
        "SELECT NULL, 'counter ' || n || ' missing' FROM (SELECT 'stan' AS n UNION ALL SELECT 'invoice' UNION ALL SELECT 'batch') \
         WHERE n NOT IN (SELECT name FROM counters)",
        false,
    )?);

    // Foreign keys (a writer with foreign_keys off could have broken them).
    {
        let mut st = conn.prepare("PRAGMA foreign_key_check")?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (table, rowid, parent) in rows {
            v.push(InvariantViolation {
                rule: "original_exists",
                txn_id: if table == "transactions" {
                    rowid.map(TxnId)
                } else {
                    None
                },
                detail: format!("{table} row {rowid:?} references a missing {parent} row"),
                repaired: false,
            });
        }
    }

    if integrity {
        let mut st = conn.prepare("PRAGMA quick_check")?;
        let rows = st
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for r in rows.into_iter().filter(|r| r != "ok") {
            v.push(InvariantViolation {
                rule: "integrity",
                txn_id: None,
                detail: r,
                repaired: false,
            });
        }
    }
    Ok(v)
}
