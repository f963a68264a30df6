//! Exports of transactions and of the audit log, CSV (RFC 4180) and JSON, with card data masked
//! (PCI DSS v4.0 §3.4.1): only the masked PAN leaves the journal; hashes and encrypted PANs never do.

use std::io::Write;

use rusqlite::params;
use serde::Serialize;

use crate::clock::Timestamp;
use crate::error::Result;
use crate::journal::Journal;
use crate::model::{AuditEntry, TransactionRecord, TxnId};
use crate::query::TxnFilter;

/// One exported transaction: what a report or back office may see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[allow(missing_docs)]
pub struct ExportRow {
    pub id: i64,
    pub uuid: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub kind: String,
    pub state: String,
    pub original_id: Option<i64>,
    pub original_rrn: Option<String>,
    pub stan: u32,
    pub invoice: u32,
    pub batch_no: u32,
    pub rrn: Option<String>,
    pub auth_code: Option<String>,
    pub response_code: Option<String>,
    pub amount: i64,
    pub tip: i64,
    pub cashback: i64,
    pub coupon_discount: i64,
    pub currency: String,
    pub mti: Option<String>,
    pub entry_mode: Option<String>,
    pub scheme: Option<String>,
    pub aid: Option<String>,
    pub app_label: Option<String>,
    pub pan_masked: Option<String>,
    pub operator_id: String,
    pub merchant_order_ref: Option<String>,
    pub member_id: Option<String>,
    pub wallet_order_no: Option<String>,
    pub qr_state: Option<String>,
    pub voided_by: Option<i64>,
    pub host_time: Option<String>,
    pub error_reason: Option<String>,
}

impl From<&TransactionRecord> for ExportRow {
    fn from(r: &TransactionRecord) -> Self {
        ExportRow {
            id: r.id.0,
            uuid: r.uuid.clone(),
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
            kind: r.kind.as_str().into(),
            state: r.state.as_str().into(),
            original_id: r.original_id.map(|t| t.0),
            original_rrn: r.original_rrn.clone(),
            stan: r.stan,
            invoice: r.invoice,
            batch_no: r.batch_no,
            rrn: r.rrn.clone(),
            auth_code: r.auth_code.clone(),
            response_code: r.response_code.clone(),
            amount: r.amount,
            tip: r.tip,
            cashback: r.cashback,
            coupon_discount: r.coupon_discount,
            currency: r.currency.clone(),
            mti: r.mti.clone(),
            entry_mode: r.entry_mode.map(|e| e.as_str().into()),
            scheme: r.scheme.clone(),
            aid: r.aid.clone(),
            app_label: r.app_label.clone(),
            pan_masked: r.pan_masked.as_ref().map(|m| m.as_str().into()),
            operator_id: r.operator_id.clone(),
            merchant_order_ref: r.merchant_order_ref.clone(),
            member_id: r.member_id.clone(),
            wallet_order_no: r.wallet_order_no.clone(),
            qr_state: r.qr_state.map(|q| q.as_str().into()),
            voided_by: r.voided_by.map(|t| t.0),
            host_time: r.host_time.clone(),
            error_reason: r.error_reason.clone(),
        }
    }
}

const TXN_HEADER: &[&str] = &[
    "id",
    "uuid",
    "created_at",
    "updated_at",
    "kind",
    "state",
    "original_id",
    "original_rrn",
    "stan",
    "invoice",
    "batch_no",
    "rrn",
    "auth_code",
    "response_code",
    "amount",
    "tip",
    "cashback",
    "coupon_discount",
    "currency",
    "mti",
    "entry_mode",
    "scheme",
    "aid",
    "app_label",
    "pan_masked",
    "operator_id",
    "merchant_order_ref",
    "member_id",
    "wallet_order_no",
    "qr_state",
    "voided_by",
    "host_time",
    "error_reason",
];

/// RFC 4180 field: quoted when it holds a comma, quote, CR or LF; leading `=+-@` prefixed with
/// `'` so spreadsheets do not evaluate it (CSV injection).
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) && s.parse::<f64>().is_err() {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn csv_line(out: &mut dyn Write, fields: &[String]) -> std::io::Result<()> {
    let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
    out.write_all(line.join(",").as_bytes())?;
    out.write_all(b"\r\n")
}

impl Journal {
    fn for_each_filtered(
        &self,
        filter: &TxnFilter,
        mut f: impl FnMut(&TransactionRecord) -> Result<()>,
    ) -> Result<usize> {
        let mut before: Option<TxnId> = None;
        let mut n = 0;
        loop {
            let page = self.list(filter, before, 500)?;
            for r in &page.items {
                f(r)?;
                n += 1;
            }
            match page.next_before {
                Some(b) => before = Some(b),
                None => return Ok(n),
            }
        }
    }

    /// Write matching transactions as CSV (header line first), newest first. Returns the row count.
    pub fn export_transactions_csv(
        &self,
        filter: &TxnFilter,
        out: &mut dyn Write,
    ) -> Result<usize> {
        csv_line(
            out,
            &TXN_HEADER
                .iter()
                .map(|s| (*s).to_owned())
                .collect::<Vec<_>>(),
        )?;
        self.for_each_filtered(filter, |r| {
            let e = ExportRow::from(r);
            csv_line(
                out,
                &[
                    e.id.to_string(),
                    e.uuid,
                    e.created_at.to_string(),
                    e.updated_at.to_string(),
                    e.kind,
                    e.state,
                    opt(&e.original_id),
                    opt(&e.original_rrn),
                    format!("{:06}", e.stan),
                    format!("{:06}", e.invoice),
                    format!("{:06}", e.batch_no),
                    opt(&e.rrn),
                    opt(&e.auth_code),
                    opt(&e.response_code),
                    e.amount.to_string(),
                    e.tip.to_string(),
                    e.cashback.to_string(),
                    e.coupon_discount.to_string(),
                    e.currency,
                    opt(&e.mti),
                    opt(&e.entry_mode),
                    opt(&e.scheme),
                    opt(&e.aid),
                    opt(&e.app_label),
                    opt(&e.pan_masked),
                    e.operator_id,
                    opt(&e.merchant_order_ref),
                    opt(&e.member_id),
                    opt(&e.wallet_order_no),
                    opt(&e.qr_state),
                    opt(&e.voided_by),
                    opt(&e.host_time),
                    opt(&e.error_reason),
                ],
            )?;
            Ok(())
        })
    }

    /// Write matching transactions as a JSON array of [`ExportRow`], newest first.
    pub fn export_transactions_json(
        &self,
        filter: &TxnFilter,
        out: &mut dyn Write,
    ) -> Result<usize> {
        out.write_all(b"[")?;
        let mut first = true;
        let n = self.for_each_filtered(filter, |r| {
            if !first {
                out.write_all(b",")?;
            }
            first = false;
            serde_json::to_writer(&mut *out, &ExportRow::from(r))?;
            Ok(())
        })?;
        out.write_all(b"]")?;
        Ok(n)
    }

    /// Audit entries in `[from, until)`, oldest first (`None` = unbounded), at most `limit`.
    pub fn audit_log(
        &self,
        from: Option<Timestamp>,
        until: Option<Timestamp>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, at, operator_id, action, txn_id, details FROM audit_log \
             WHERE at >= ?1 AND at < ?2 ORDER BY id LIMIT ?3",
        )?;
        let v = st
            .query_map(
                params![
                    from.map_or(i64::MIN, |t| t.0),
                    until.map_or(i64::MAX, |t| t.0),
                    limit
                ],
                |r| {
                    Ok(AuditEntry {
                        id: r.get(0)?,
                        at: Timestamp(r.get(1)?),
                        operator_id: r.get(2)?,
                        action: r.get(3)?,
                        txn_id: r.get::<_, Option<i64>>(4)?.map(TxnId),
                        details: r.get(5)?,
                    })
                },
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(v)
    }

    /// Number of audit entries.
    pub fn audit_count(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))?)
    }

    /// Audit entries of one transaction, oldest first.
    pub fn audit_of(&self, id: TxnId) -> Result<Vec<AuditEntry>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, at, operator_id, action, txn_id, details FROM audit_log WHERE txn_id = ?1 ORDER BY id",
        )?;
        let v = st
            .query_map([id.0], |r| {
                Ok(AuditEntry {
                    id: r.get(0)?,
                    at: Timestamp(r.get(1)?),
                    operator_id: r.get(2)?,
                    action: r.get(3)?,
                    txn_id: r.get::<_, Option<i64>>(4)?.map(TxnId),
                    details: r.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(v)
    }

    /// Write the audit log in `[from, until)` as CSV.
    pub fn export_audit_csv(
        &self,
        from: Option<Timestamp>,
        until: Option<Timestamp>,
        out: &mut dyn Write,
    ) -> Result<usize> {
        let rows = self.audit_log(from, until, u32::MAX)?;
        csv_line(
            out,
            &["id", "at", "operator_id", "action", "txn_id", "details"].map(String::from),
        )?;
        for e in &rows {
            csv_line(
                out,
                &[
                    e.id.to_string(),
                    e.at.0.to_string(),
                    e.operator_id.clone(),
                    e.action.clone(),
                    opt(&e.txn_id.map(|t| t.0)),
                    e.details.clone(),
                ],
            )?;
        }
        Ok(rows.len())
    }

    /// Write the audit log in `[from, until)` as a JSON array.
    pub fn export_audit_json(
        &self,
        from: Option<Timestamp>,
        until: Option<Timestamp>,
        out: &mut dyn Write,
    ) -> Result<usize> {
        let rows = self.audit_log(from, until, u32::MAX)?;
        serde_json::to_writer(&mut *out, &rows)?;
        Ok(rows.len())
    }
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_quoting_and_injection() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
        assert_eq!(csv_field("-5"), "-5");
    }
}
