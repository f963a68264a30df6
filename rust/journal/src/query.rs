//! Queries the terminal needs: look-ups by STAN / RRN / invoice / id, filtered listing with
//! keyset paging, card velocity (EMV Book 3 §10.6.1 floor-limit check with the "transaction log"
//! of the same card; acquirer velocity rules), duplicate detection, batch totals for settlement.
//! Every hot query is served by an index (see the `EXPLAIN QUERY PLAN` tests).

use rusqlite::{OptionalExtension, TransactionBehavior, params, params_from_iter};
use serde::Serialize;
use serde_json::json;

use crate::clock::Timestamp;
use crate::error::{JournalError, Result};
use crate::journal::{
    Journal, TXN_COLUMNS, audit, batch_row, current_batch, ensure_open_batch, load, row_to_record,
};
use crate::model::{BatchId, BatchInfo, TransactionRecord, TxnId, TxnKind, TxnState};
use crate::pan::PanHash;

pub(crate) const SQL_CARD_TOTAL: &str = "SELECT count(*), COALESCE(sum(amount + tip + cashback), 0) FROM transactions \
     WHERE pan_hash = ?1 AND created_at >= ?2 AND created_at < ?3 \
     AND state IN ('approved','offline_approved','completed') \
     AND kind IN ('sale','pre_auth','pre_auth_completion','qr_sale') AND voided_by IS NULL";

pub(crate) const SQL_CARD_ATTEMPTS: &str = "SELECT count(*) FROM transactions \
     WHERE pan_hash = ?1 AND created_at >= ?2 AND state <> 'aborted' \
     AND kind IN ('sale','pre_auth','pre_auth_completion','qr_sale')";

pub(crate) const SQL_DUPLICATE: &str = "SELECT id FROM transactions \
     WHERE pan_hash = ?1 AND created_at >= ?2 AND amount = ?3 \
     AND state NOT IN ('declined','aborted','reversed','reversal_pending') \
     AND kind IN ('sale','pre_auth','pre_auth_completion','qr_sale') AND voided_by IS NULL \
     ORDER BY created_at DESC LIMIT 1";

pub(crate) const SQL_BY_STAN: &str =
    "SELECT {COLS} FROM transactions WHERE stan = ?1 ORDER BY id DESC LIMIT 16";
pub(crate) const SQL_BY_RRN: &str =
    "SELECT {COLS} FROM transactions WHERE rrn = ?1 ORDER BY id DESC LIMIT 16";
pub(crate) const SQL_BY_INVOICE: &str =
    "SELECT {COLS} FROM transactions WHERE invoice = ?1 ORDER BY id DESC LIMIT 16";

pub(crate) const SQL_BATCH_TOTALS: &str = "SELECT {GROUP}, kind, count(*), COALESCE(sum(amount + tip + cashback), 0) \
     FROM transactions WHERE batch_id = ?1 AND state IN ('approved','offline_approved','completed') \
     AND voided_by IS NULL GROUP BY 1, 2 ORDER BY 1, 2";

/// Count and amount of a card's approved debits in a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CardTotal {
    /// Approved debits.
    pub count: u32,
    /// Their total (amount + tip + cashback), minor units.
    pub amount: i64,
}

/// Filters for [`Journal::list`]. Empty vectors / `None` mean "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TxnFilter {
    /// Kinds.
    pub kinds: Vec<TxnKind>,
    /// States.
    pub states: Vec<TxnState>,
    /// Created at or after.
    pub from: Option<Timestamp>,
    /// Created before.
    pub until: Option<Timestamp>,
    /// Operator.
    pub operator_id: Option<String>,
    /// Batch.
    pub batch_id: Option<BatchId>,
}

/// One page of [`Journal::list`], newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page {
    /// Records.
    pub items: Vec<TransactionRecord>,
    /// Pass as `before` to get the next page; `None` at the end.
    pub next_before: Option<TxnId>,
}

/// How batch totals are broken down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotalsBy {
    /// Card scheme / wallet.
    Scheme,
    /// Entry mode (payment method: chip, contactless, QR…).
    EntryMode,
    /// Operator.
    Operator,
}

/// Totals of one group in a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TotalsLine {
    /// Group value (scheme, entry mode or operator; empty when unknown).
    pub group: String,
    /// Sales, completions and QR sales not voided: count.
    pub sales_count: u32,
    /// ...and amount.
    pub sales_amount: i64,
    /// Approved refunds: count.
    pub refunds_count: u32,
    /// ...and amount.
    pub refunds_amount: i64,
    /// Approved voids: count.
    pub voids_count: u32,
    /// ...and amount.
    pub voids_amount: i64,
}

impl TotalsLine {
    /// Sales minus refunds.
    pub fn net(&self) -> i64 {
        self.sales_amount - self.refunds_amount
    }

    fn add(&mut self, kind: TxnKind, count: u32, amount: i64) {
        match kind {
            TxnKind::Sale | TxnKind::PreAuthCompletion | TxnKind::QrSale => {
                self.sales_count += count;
                self.sales_amount += amount;
            }
            TxnKind::Refund => {
                self.refunds_count += count;
                self.refunds_amount += amount;
            }
            TxnKind::Void => {
                self.voids_count += count;
                self.voids_amount += amount;
            }
            TxnKind::PreAuth | TxnKind::BalanceInquiry => {}
        }
    }
}

/// Settlement totals of a batch (approved transactions; voided sales excluded from sales).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchTotals {
    /// Batch.
    pub batch: BatchInfo,
    /// Per group.
    pub lines: Vec<TotalsLine>,
    /// All groups.
    pub total: TotalsLine,
}

/// Result of [`Journal::close_batch`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchClose {
    /// The batch just closed, with its totals by scheme.
    pub totals: BatchTotals,
    /// The new open batch.
    pub opened: BatchInfo,
}

fn cols(sql: &str) -> String {
    sql.replace("{COLS}", TXN_COLUMNS)
}

impl Journal {
    /// Record by local id.
    pub fn get(&self, id: TxnId) -> Result<TransactionRecord> {
        load(&self.conn, id)
    }

    /// Record by UUID.
    pub fn find_by_uuid(&self, uuid: &str) -> Result<Option<TransactionRecord>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {TXN_COLUMNS} FROM transactions WHERE uuid = ?1"),
                [uuid],
                row_to_record,
            )
            .optional()?)
    }

    fn find_many(&self, sql: &str, key: i64) -> Result<Vec<TransactionRecord>> {
        let mut st = self.conn.prepare_cached(&cols(sql))?;
        let v = st
            .query_map([key], row_to_record)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(v)
    }

    /// Records with this STAN, newest first (STANs wrap, so older ones may share it).
    pub fn find_by_stan(&self, stan: u32) -> Result<Vec<TransactionRecord>> {
        self.find_many(SQL_BY_STAN, i64::from(stan))
    }

    /// Records with this invoice number, newest first.
    pub fn find_by_invoice(&self, invoice: u32) -> Result<Vec<TransactionRecord>> {
        self.find_many(SQL_BY_INVOICE, i64::from(invoice))
    }

    /// Records with this RRN, newest first.
    pub fn find_by_rrn(&self, rrn: &str) -> Result<Vec<TransactionRecord>> {
        let mut st = self.conn.prepare_cached(&cols(SQL_BY_RRN))?;
        let v = st
            .query_map([rrn], row_to_record)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(v)
    }

    /// The newest record for a wallet order number.
    pub fn find_by_wallet_order(&self, order: &str) -> Result<Option<TransactionRecord>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {TXN_COLUMNS} FROM transactions WHERE wallet_order_no = ?1 ORDER BY id DESC LIMIT 1"),
                [order],
                row_to_record,
            )
            .optional()?)
    }

    /// Filtered list, newest first, `limit` (1..=500) per page; `before` continues a listing.
    pub fn list(&self, filter: &TxnFilter, before: Option<TxnId>, limit: u32) -> Result<Page> {
        let limit = limit.clamp(1, 500);
        let mut wh: Vec<String> = Vec::new();
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        use rusqlite::types::Value as V;
        if !filter.kinds.is_empty() {
            wh.push(format!(
                "kind IN ({})",
                vec!["?"; filter.kinds.len()].join(",")
            ));
            args.extend(filter.kinds.iter().map(|k| V::Text(k.as_str().into())));
        }
        if !filter.states.is_empty() {
            wh.push(format!(
                "state IN ({})",
                vec!["?"; filter.states.len()].join(",")
            ));
            args.extend(filter.states.iter().map(|k| V::Text(k.as_str().into())));
        }
        if let Some(f) = filter.from {
            wh.push("created_at >= ?".into());
            args.push(V::Integer(f.0));
        }
        if let Some(u) = filter.until {
            wh.push("created_at < ?".into());
            args.push(V::Integer(u.0));
        }
        if let Some(o) = &filter.operator_id {
            wh.push("operator_id = ?".into());
            args.push(V::Text(o.clone()));
        }
        if let Some(b) = filter.batch_id {
            wh.push("batch_id = ?".into());
            args.push(V::Integer(b.0));
        }
        if let Some(b) = before {
            wh.push("id < ?".into());
            args.push(V::Integer(b.0));
        }
        let where_sql = if wh.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", wh.join(" AND "))
        };
        let sql = format!(
            "SELECT {TXN_COLUMNS} FROM transactions {where_sql} ORDER BY id DESC LIMIT {}",
            limit + 1
        );
        let mut st = self.conn.prepare_cached(&sql)?;
        let mut items = st
            .query_map(params_from_iter(args), row_to_record)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next_before = if more {
            items.last().map(|r| r.id)
        } else {
            None
        };
        Ok(Page { items, next_before })
    }

    /// Approved debits of this card created in `[from, until)` (voided ones excluded).
    pub fn card_approved_total(
        &self,
        card: &PanHash,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<CardTotal> {
        let mut st = self.conn.prepare_cached(SQL_CARD_TOTAL)?;
        let (count, amount): (u32, i64) = st
            .query_row(params![card.as_bytes().as_slice(), from.0, until.0], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        Ok(CardTotal { count, amount })
    }

    /// Approved debits of this card today (local day with the given UTC offset).
    pub fn card_approved_today(
        &self,
        card: &PanHash,
        utc_offset_minutes: i32,
    ) -> Result<CardTotal> {
        let (from, until) = self.now().local_day(utc_offset_minutes);
        self.card_approved_total(card, from, until)
    }

    /// Debit attempts (any state but aborted) with this card in the last `minutes` minutes.
    pub fn card_attempts_last_minutes(&self, card: &PanHash, minutes: u32) -> Result<u32> {
        let since = self.now().minus_secs(i64::from(minutes) * 60);
        let mut st = self.conn.prepare_cached(SQL_CARD_ATTEMPTS)?;
        Ok(st.query_row(params![card.as_bytes().as_slice(), since.0], |r| r.get(0))?)
    }

    /// A live (not declined, aborted, reversed or voided) debit of this card for the same amount
    /// within the last `within_secs` seconds: a probable duplicate.
    pub fn find_duplicate(
        &self,
        card: &PanHash,
        amount: i64,
        within_secs: u32,
    ) -> Result<Option<TransactionRecord>> {
        let since = self.now().minus_secs(i64::from(within_secs));
        let mut st = self.conn.prepare_cached(SQL_DUPLICATE)?;
        let id: Option<i64> = st
            .query_row(params![card.as_bytes().as_slice(), since.0, amount], |r| {
                r.get(0)
            })
            .optional()?;
        id.map(|i| load(&self.conn, TxnId(i))).transpose()
    }

    /// Batch row by id.
    pub fn batch(&self, id: BatchId) -> Result<BatchInfo> {
        batch_by_id(&self.conn, id)
    }

    /// Settlement totals of a batch, broken down by scheme, entry mode or operator.
    pub fn batch_totals(&self, id: BatchId, by: TotalsBy) -> Result<BatchTotals> {
        let batch = self.batch(id)?;
        totals(&self.conn, batch, by)
    }

    /// Close the open batch for settlement and open the next one (next batch number). Refused
    /// while the batch has transactions in flight or reversals/advices not yet sent: those must
    /// reach the host before the totals are final.
    pub fn close_batch(&mut self, operator_id: &str) -> Result<BatchClose> {
        let op = crate::validate::text("operator_id", operator_id, 32)?;
        let now = self.now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let batch = ensure_open_batch(&tx, now)?;
        let in_flight: i64 = tx.query_row(
            "SELECT count(*) FROM transactions WHERE batch_id = ?1 \
             AND state IN ('created','card_read','online_pending','approved','reversal_pending')",
            [batch.id.0],
            |r| r.get(0),
        )?;
        let queued: i64 = tx.query_row("SELECT count(*) FROM queue WHERE done = 0", [], |r| {
            r.get(0)
        })?;
        if in_flight > 0 || queued > 0 {
            return Err(JournalError::BatchNotClosable {
                batch_no: batch.batch_no,
                reason: format!(
                    "{in_flight} transaction(s) in flight, {queued} reversal/advice(s) unsent"
                ),
            });
        }
        tx.execute(
            "UPDATE batches SET closed_at = ?1 WHERE id = ?2",
            params![now.0, batch.id.0],
        )?;
        let closed = BatchInfo {
            closed_at: Some(now),
            ..batch
        };
        let t = totals(&tx, closed.clone(), TotalsBy::Scheme)?;
        audit(
            &tx,
            now,
            &op,
            "batch.close",
            None,
            &json!({ "batch_no": closed.batch_no, "sales": t.total.sales_count, "sales_amount": t.total.sales_amount,
                     "refunds": t.total.refunds_count, "refunds_amount": t.total.refunds_amount,
                     "voids": t.total.voids_count }),
        )?;
        let opened = ensure_open_batch(&tx, now)?;
        tx.commit()?;
        Ok(BatchClose { totals: t, opened })
    }

    /// The host confirmed settlement of a closed batch.
    pub fn mark_batch_settled(&mut self, id: BatchId, operator_id: &str) -> Result<BatchInfo> {
        let op = crate::validate::text("operator_id", operator_id, 32)?;
        let now = self.now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let b = batch_by_id(&tx, id)?;
        if b.closed_at.is_none() {
            return Err(JournalError::BatchNotClosable {
                batch_no: b.batch_no,
                reason: "batch is still open".into(),
            });
        }
        tx.execute("UPDATE batches SET settled = 1 WHERE id = ?1", [id.0])?;
        audit(
            &tx,
            now,
            &op,
            "batch.settled",
            None,
            &json!({ "batch_no": b.batch_no }),
        )?;
        tx.commit()?;
        Ok(BatchInfo { settled: true, ..b })
    }

    /// Closed batches the host has not confirmed (a settlement failed after the batch was
    /// closed), oldest first: settle them again with the same number and totals.
    pub fn unsettled_batches(&self) -> Result<Vec<BatchInfo>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, batch_no, opened_at, closed_at, settled FROM batches \
             WHERE closed_at IS NOT NULL AND settled = 0 ORDER BY id",
        )?;
        let v = st
            .query_map([], batch_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(v)
    }

    /// The host batch number the first settlement attempt of batch `id` used, if any.
    pub fn settlement_host_batch_no(&self, id: BatchId) -> Result<Option<u32>> {
        Ok(self
            .conn
            .query_row(
                "SELECT host_batch_no FROM batches WHERE id = ?1",
                [id.0],
                |r| r.get::<_, Option<u32>>(0),
            )
            .optional()?
            .flatten())
    }

    /// A settlement attempt of the closed batch `id` starts: the host batch number of the
    /// first attempt is kept (`host_batch_no` the first time) and returned for every attempt,
    /// so a retry repeats it; audited (`batch.settle_attempt`). Refused for an open or settled
    /// batch.
    pub fn settlement_attempt(
        &mut self,
        id: BatchId,
        operator_id: &str,
        host_batch_no: u32,
    ) -> Result<u32> {
        let op = crate::validate::text("operator_id", operator_id, 32)?;
        if !(1..=999_999).contains(&host_batch_no) {
            return Err(JournalError::InvalidField {
                field: "host_batch_no",
                reason: format!("{host_batch_no} is not 1..=999999"),
            });
        }
        let now = self.now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let b = batch_by_id(&tx, id)?;
        if b.closed_at.is_none() || b.settled {
            return Err(JournalError::BatchNotClosable {
                batch_no: b.batch_no,
                reason: if b.settled {
                    "batch is already settled".into()
                } else {
                    "batch is still open".into()
                },
            });
        }
        let (no, attempts): (u32, u32) = tx.query_row(
            "UPDATE batches SET host_batch_no = COALESCE(host_batch_no, ?1), \
             settle_attempts = settle_attempts + 1 WHERE id = ?2 \
             RETURNING host_batch_no, settle_attempts",
            params![host_batch_no, id.0],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        audit(
            &tx,
            now,
            &op,
            "batch.settle_attempt",
            None,
            &json!({ "batch_no": b.batch_no, "host_batch_no": no, "attempt": attempts }),
        )?;
        tx.commit()?;
        Ok(no)
    }

    /// A settlement attempt of batch `id` failed (host down, bad MAC, timeout...): audited
    /// (`batch.settle_failed`); the batch stays closed and unsettled for a retry.
    pub fn settlement_failed(&mut self, id: BatchId, operator_id: &str, error: &str) -> Result<()> {
        let op = crate::validate::text("operator_id", operator_id, 32)?;
        let mut error: String = error
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        while error.len() > 200 {
            error.pop();
        }
        if error.is_empty() {
            error.push_str("unknown");
        }
        let error = crate::validate::free_text("error", &error, 200)?;
        let now = self.now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let b = batch_by_id(&tx, id)?;
        audit(
            &tx,
            now,
            &op,
            "batch.settle_failed",
            None,
            &json!({ "batch_no": b.batch_no, "error": error }),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The currently open batch, without opening one (None only on a journal never opened).
    pub fn open_batch(&self) -> Result<Option<BatchInfo>> {
        current_batch(&self.conn)
    }
}

fn totals(conn: &rusqlite::Connection, batch: BatchInfo, by: TotalsBy) -> Result<BatchTotals> {
    let group = match by {
        TotalsBy::Scheme => "COALESCE(scheme, '')",
        TotalsBy::EntryMode => "COALESCE(entry_mode, '')",
        TotalsBy::Operator => "operator_id",
    };
    let mut st = conn.prepare_cached(&SQL_BATCH_TOTALS.replace("{GROUP}", group))?;
    let rows = st
        .query_map([batch.id.0], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, TxnKind>(1)?,
                r.get::<_, u32>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut lines: Vec<TotalsLine> = Vec::new();
    let mut total = TotalsLine {
        group: "*".into(),
        ..TotalsLine::default()
    };
    for (g, kind, count, amount) in rows {
        if lines.last().map(|l| l.group != g).unwrap_or(true) {
            lines.push(TotalsLine {
                group: g,
                ..TotalsLine::default()
            });
        }
        if let Some(l) = lines.last_mut() {
            l.add(kind, count, amount);
        }
        total.add(kind, count, amount);
    }
    Ok(BatchTotals {
        batch,
        lines,
        total,
    })
}

/// Batch row by id; [`JournalError::NotFound`] when there is none.
fn batch_by_id(conn: &rusqlite::Connection, id: BatchId) -> Result<BatchInfo> {
    conn.query_row(
        "SELECT id, batch_no, opened_at, closed_at, settled FROM batches WHERE id = ?1",
        [id.0],
        batch_row,
    )
    .optional()?
    .ok_or_else(|| JournalError::NotFound {
        what: "batch",
        key: id.0.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::journal::JournalConfig;
    use crate::pan::AesGcmPanProtector;

    fn plan(j: &Journal, sql: &str, n_params: usize) -> String {
        let mut st = j
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        let args: Vec<rusqlite::types::Value> = (0..n_params)
            .map(|_| rusqlite::types::Value::Integer(1))
            .collect();
        let rows: Vec<String> = st
            .query_map(params_from_iter(args), |r| r.get::<_, String>(3))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        rows.join(" | ")
    }

    fn assert_indexed(j: &Journal, sql: &str, n: usize, index: &str) {
        let p = plan(j, sql, n);
        assert!(p.contains(index), "expected index {index} in plan: {p}");
        assert!(!p.contains("SCAN transactions"), "table scan in plan: {p}");
    }

    #[test]
    fn hot_queries_use_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let (j, _) = Journal::open(
            dir.path().join("j.db"),
            JournalConfig::default(),
            Box::new(ManualClock::new(Timestamp(0))),
            Box::new(AesGcmPanProtector::new(&[1; 32], &[2; 32], 1).unwrap()),
        )
        .unwrap();
        assert_indexed(
            &j,
            SQL_CARD_TOTAL,
            3,
            "COVERING INDEX transactions_card_time",
        );
        assert_indexed(&j, SQL_CARD_ATTEMPTS, 2, "transactions_card_time");
        assert_indexed(&j, SQL_DUPLICATE, 3, "transactions_card_time");
        assert_indexed(&j, &cols(SQL_BY_STAN), 1, "transactions_stan");
        assert_indexed(&j, &cols(SQL_BY_RRN), 1, "transactions_rrn");
        assert_indexed(&j, &cols(SQL_BY_INVOICE), 1, "transactions_invoice");
        for g in ["COALESCE(scheme, '')", "operator_id"] {
            assert_indexed(
                &j,
                &SQL_BATCH_TOTALS.replace("{GROUP}", g),
                1,
                "transactions_batch",
            );
        }
        let p = plan(
            &j,
            "SELECT id FROM transactions WHERE state = 'online_pending'",
            0,
        );
        assert!(p.contains("transactions_state"), "{p}");
        let p = plan(&j, crate::queue::ENTRY_SQL, 1);
        assert!(p.contains("queue_pending"), "{p}");
        assert!(!p.contains("SCAN q"), "{p}");
        let p = plan(
            &j,
            "SELECT count(*) FROM transactions WHERE original_id = ?1 AND kind = 'refund'",
            1,
        );
        assert!(p.contains("transactions_original"), "{p}");
    }
}
