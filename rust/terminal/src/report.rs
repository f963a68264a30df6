//! Merchant reports: batch totals by payment method (entry mode), by scheme/wallet and by
//! operator, from the journal's `batch_totals`; and the settlement report (terminal totals
//! against what the host was sent, whether the host agreed at once or the batch had to be
//! uploaded). Rendered as fixed-width text (32/48 columns, CJK aware) and as JSON.
//!
//! Totals follow the journal's counting (UnionPay-style settlement, ISO 8583 0500 fields
//! 48/63): approved sales, completions and QR sales not voided count as sales; approved refunds
//! as refunds; voids are listed but do not add (the voided sale is already left out); net =
//! sales − refunds.

use serde::Serialize;
use smartpos_journal::{
    BatchId, BatchTotals, EntryMode, Journal, JournalError, TotalsBy, TotalsLine,
};

use crate::prompts::Language;
use crate::receipt::{Width, format_amount, local_date_time, str_width};
use crate::records::SettlementResult;

/// One group's totals, as reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportLine {
    /// Group value (payment method, scheme or operator); `unknown` when not recorded.
    pub group: String,
    /// Sales count.
    pub sales_count: u32,
    /// Sales amount, minor units.
    pub sales_amount: i64,
    /// Refunds count.
    pub refunds_count: u32,
    /// Refunds amount.
    pub refunds_amount: i64,
    /// Voids count.
    pub voids_count: u32,
    /// Voids amount.
    pub voids_amount: i64,
    /// Sales − refunds.
    pub net: i64,
}

impl From<&TotalsLine> for ReportLine {
    fn from(t: &TotalsLine) -> ReportLine {
        ReportLine {
            group: if t.group.is_empty() {
                "unknown".into()
            } else {
                t.group.clone()
            },
            sales_count: t.sales_count,
            sales_amount: t.sales_amount,
            refunds_count: t.refunds_count,
            refunds_amount: t.refunds_amount,
            voids_count: t.voids_count,
            voids_amount: t.voids_amount,
            net: t.net(),
        }
    }
}

/// Totals of one batch, three ways.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TotalsReport {
    /// Batch number.
    pub batch_no: u32,
    /// Opened, ms since the epoch.
    pub opened_at_ms: i64,
    /// Closed, when closed.
    pub closed_at_ms: Option<i64>,
    /// Host confirmed the settlement.
    pub settled: bool,
    /// ISO 4217 numeric currency of the amounts.
    pub currency: String,
    /// By payment method (entry mode: chip, contactless, swipe, QR...).
    pub by_method: Vec<ReportLine>,
    /// By card scheme / wallet.
    pub by_scheme: Vec<ReportLine>,
    /// By operator.
    pub by_operator: Vec<ReportLine>,
    /// The whole batch.
    pub total: ReportLine,
}

impl TotalsReport {
    /// Read the three breakdowns of `batch` from the journal.
    pub fn from_journal(
        journal: &Journal,
        batch: BatchId,
        currency: &str,
    ) -> Result<TotalsReport, JournalError> {
        let method = journal.batch_totals(batch, TotalsBy::EntryMode)?;
        let scheme = journal.batch_totals(batch, TotalsBy::Scheme)?;
        let operator = journal.batch_totals(batch, TotalsBy::Operator)?;
        Ok(TotalsReport::from_totals(
            &method, &scheme, &operator, currency,
        ))
    }

    /// From already-read breakdowns (all of the same batch).
    pub fn from_totals(
        by_method: &BatchTotals,
        by_scheme: &BatchTotals,
        by_operator: &BatchTotals,
        currency: &str,
    ) -> TotalsReport {
        let lines = |t: &BatchTotals| t.lines.iter().map(ReportLine::from).collect::<Vec<_>>();
        let mut total = ReportLine::from(&by_method.total);
        total.group = "total".into();
        TotalsReport {
            batch_no: by_method.batch.batch_no,
            opened_at_ms: by_method.batch.opened_at.0,
            closed_at_ms: by_method.batch.closed_at.map(|t| t.0),
            settled: by_method.batch.settled,
            currency: currency.to_string(),
            by_method: lines(by_method),
            by_scheme: lines(by_scheme),
            by_operator: lines(by_operator),
            total,
        }
    }

    /// JSON form.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// Text form, `width` columns, labels in `lang`, times at `utc_offset_minutes`.
    pub fn to_text(&self, width: Width, lang: Language, utc_offset_minutes: i32) -> String {
        let cols = width.columns();
        let l = |zh: &str, en: &str| match lang {
            Language::ZhHans => zh.to_string(),
            Language::En => en.to_string(),
        };
        let mut out = Vec::new();
        out.push(center(&l("交易汇总", "TOTALS REPORT"), cols));
        out.push(pair(
            &l("批次号", "BATCH NO."),
            &format!("{:06}", self.batch_no),
            cols,
        ));
        out.push(pair(
            &l("开始", "OPENED"),
            &local_date_time(self.opened_at_ms, utc_offset_minutes).0,
            cols,
        ));
        if let Some(c) = self.closed_at_ms {
            out.push(pair(
                &l("结束", "CLOSED"),
                &local_date_time(c, utc_offset_minutes).0,
                cols,
            ));
        }
        for (title, rows, method) in [
            (l("按支付方式", "BY PAYMENT METHOD"), &self.by_method, true),
            (l("按卡组织/钱包", "BY SCHEME"), &self.by_scheme, false),
            (l("按操作员", "BY OPERATOR"), &self.by_operator, false),
        ] {
            out.push("=".repeat(cols));
            out.push(title);
            if rows.is_empty() {
                out.push(l("（无交易）", "(no transactions)"));
            }
            for r in rows.iter() {
                out.push("-".repeat(cols));
                let name = if method {
                    method_label(&r.group, lang)
                } else {
                    r.group.to_uppercase()
                };
                out.push(name);
                out.extend(self.line_rows(r, cols, lang));
            }
        }
        out.push("=".repeat(cols));
        out.push(l("合计", "BATCH TOTAL"));
        out.extend(self.line_rows(&self.total, cols, lang));
        out.join("\n")
    }

    fn line_rows(&self, r: &ReportLine, cols: usize, lang: Language) -> Vec<String> {
        let l = |zh: &str, en: &str| match lang {
            Language::ZhHans => zh.to_string(),
            Language::En => en.to_string(),
        };
        let mut v = vec![
            pair(
                &format!("{} {}", l("消费", "SALES"), r.sales_count),
                &format_amount(r.sales_amount, &self.currency),
                cols,
            ),
            pair(
                &format!("{} {}", l("退货", "REFUNDS"), r.refunds_count),
                &format_amount(r.refunds_amount, &self.currency),
                cols,
            ),
        ];
        if r.voids_count > 0 {
            v.push(pair(
                &format!("{} {}", l("撤销", "VOIDS"), r.voids_count),
                &format_amount(r.voids_amount, &self.currency),
                cols,
            ));
        }
        v.push(pair(
            &l("净额", "NET"),
            &format_amount(r.net, &self.currency),
            cols,
        ));
        v
    }
}

/// Name of a payment method (entry-mode group).
pub fn method_label(group: &str, lang: Language) -> String {
    let (zh, en) = match EntryMode::parse(group) {
        Some(EntryMode::Contact) => ("芯片卡", "CHIP"),
        Some(EntryMode::Contactless) => ("非接（闪付）", "CONTACTLESS"),
        Some(EntryMode::Magstripe) => ("磁条卡", "SWIPE"),
        Some(EntryMode::Fallback) => ("降级交易", "FALLBACK"),
        Some(EntryMode::Qr) => ("扫码支付", "QR / WALLET"),
        Some(EntryMode::Manual) => ("手工输入", "MANUAL"),
        None => ("其他", "OTHER"),
    };
    match lang {
        Language::ZhHans => zh.to_string(),
        Language::En => en.to_string(),
    }
}

/// The settlement report: what the terminal counted, what it sent, what the host said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettlementReport {
    /// Merchant id.
    pub merchant_id: String,
    /// Terminal id.
    pub terminal_id: String,
    /// Batch settled.
    pub batch_no: u32,
    /// When, ms since the epoch.
    pub at_ms: i64,
    /// Currency.
    pub currency: String,
    /// Totals the terminal's journal holds for the batch.
    pub terminal_totals: ReportLine,
    /// Totals sent to the host in the settlement request.
    pub sent_sales_count: u32,
    /// Sales amount sent.
    pub sent_sales_amount: i64,
    /// Refunds count sent.
    pub sent_refunds_count: u32,
    /// Refunds amount sent.
    pub sent_refunds_amount: i64,
    /// The host agreed with the totals at once.
    pub host_balanced_first_time: bool,
    /// The batch was uploaded record by record (host disagreed first).
    pub batch_uploaded: bool,
    /// Records uploaded.
    pub uploaded_records: usize,
    /// The journal's totals equal the totals sent (`false` is a terminal-side inconsistency).
    pub journal_matches_sent: bool,
    /// Breakdowns of the batch.
    pub totals: TotalsReport,
}

impl SettlementReport {
    /// Build from the settlement result and the batch's totals read from the journal.
    pub fn new(
        result: &SettlementResult,
        totals: TotalsReport,
        merchant_id: &str,
        terminal_id: &str,
        at_ms: i64,
    ) -> SettlementReport {
        let t = &totals.total;
        let journal_matches_sent = t.sales_count == result.sales_count
            && t.sales_amount == result.sales_amount
            && t.refunds_count == result.refunds_count
            && t.refunds_amount == result.refunds_amount;
        SettlementReport {
            merchant_id: merchant_id.to_string(),
            terminal_id: terminal_id.to_string(),
            batch_no: result.batch_no,
            at_ms,
            currency: totals.currency.clone(),
            terminal_totals: t.clone(),
            sent_sales_count: result.sales_count,
            sent_sales_amount: result.sales_amount,
            sent_refunds_count: result.refunds_count,
            sent_refunds_amount: result.refunds_amount,
            host_balanced_first_time: result.balanced_first_time,
            batch_uploaded: !result.balanced_first_time,
            uploaded_records: result.uploaded,
            journal_matches_sent,
            totals,
        }
    }

    /// JSON form.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// Text form.
    pub fn to_text(&self, width: Width, lang: Language, utc_offset_minutes: i32) -> String {
        let cols = width.columns();
        let l = |zh: &str, en: &str| match lang {
            Language::ZhHans => zh.to_string(),
            Language::En => en.to_string(),
        };
        let amt = |v: i64| format_amount(v, &self.currency);
        let mut out = vec![
            center(&l("结算报告", "SETTLEMENT REPORT"), cols),
            pair(&l("商户编号", "MERCHANT ID"), &self.merchant_id, cols),
            pair(&l("终端编号", "TERMINAL ID"), &self.terminal_id, cols),
            pair(
                &l("批次号", "BATCH NO."),
                &format!("{:06}", self.batch_no),
                cols,
            ),
            pair(
                &l("日期时间", "DATE/TIME"),
                &local_date_time(self.at_ms, utc_offset_minutes).0,
                cols,
            ),
            "=".repeat(cols),
            format!(
                "{}{}",
                pad_right(&l("类型", "TYPE"), cols.saturating_sub(22)),
                right(&l("终端/上送", "TERMINAL/SENT"), 22)
            ),
            "-".repeat(cols),
        ];
        let t = &self.terminal_totals;
        for (name, tc, ta, sc, sa) in [
            (
                l("消费", "SALES"),
                t.sales_count,
                t.sales_amount,
                self.sent_sales_count,
                self.sent_sales_amount,
            ),
            (
                l("退货", "REFUNDS"),
                t.refunds_count,
                t.refunds_amount,
                self.sent_refunds_count,
                self.sent_refunds_amount,
            ),
        ] {
            out.push(pair(&format!("{name} {tc}"), &amt(ta), cols));
            out.push(pair(
                &format!("  {} {sc}", l("上送", "SENT")),
                &amt(sa),
                cols,
            ));
        }
        out.push(pair(&l("净额", "NET"), &amt(t.net), cols));
        out.push("-".repeat(cols));
        out.push(if self.host_balanced_first_time {
            l("对账平", "HOST: TOTALS AGREED")
        } else {
            l("对账不平", "HOST: TOTALS DIFFERED")
        });
        if self.batch_uploaded {
            out.push(pair(
                &l("批上送笔数", "BATCH UPLOADED"),
                &self.uploaded_records.to_string(),
                cols,
            ));
        }
        if !self.journal_matches_sent {
            out.push(l(
                "警告：日志汇总与上送汇总不一致",
                "WARNING: JOURNAL TOTALS DIFFER FROM SENT",
            ));
        }
        out.push(self.totals.to_text(width, lang, utc_offset_minutes));
        out.join("\n")
    }
}

fn pad_right(s: &str, cols: usize) -> String {
    format!("{s}{}", " ".repeat(cols.saturating_sub(str_width(s))))
}

fn right(s: &str, cols: usize) -> String {
    format!("{}{s}", " ".repeat(cols.saturating_sub(str_width(s))))
}

fn center(s: &str, cols: usize) -> String {
    format!("{}{s}", " ".repeat(cols.saturating_sub(str_width(s)) / 2))
}

fn pair(label: &str, value: &str, cols: usize) -> String {
    let (lw, vw) = (str_width(label), str_width(value));
    if lw + 1 + vw <= cols {
        format!("{label}{}{value}", " ".repeat(cols - lw - vw))
    } else {
        format!("{label}\n{}", right(value, cols))
    }
}
