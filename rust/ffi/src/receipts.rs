//! Receipts and merchant reports as binding records: the data smartpos-terminal prints
//! (`receipt::ReceiptData`, EMV Book 4 §11.4 receipt data), the rendered forms (text, ESC/POS,
//! PNG) from smartpos-terminal's `receipt::Receipt`, and the batch totals and settlement
//! reports of `report`. Nothing is laid out or rendered here: this module converts types only.

use smartpos_terminal::prompts::Language;
use smartpos_terminal::receipt::{Copy, ReceiptData};
use smartpos_terminal::report::{ReportLine, SettlementReport, TotalsReport};

use crate::pos::PosSettlement;

/// Which copy of a receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PosReceiptCopy {
    /// Kept by the merchant (signature line when a signature is the CVM).
    Merchant,
    /// Handed to the cardholder.
    Customer,
}

impl From<PosReceiptCopy> for Copy {
    fn from(c: PosReceiptCopy) -> Self {
        match c {
            PosReceiptCopy::Merchant => Copy::Merchant,
            PosReceiptCopy::Customer => Copy::Customer,
        }
    }
}

/// Label language of receipts and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PosLanguage {
    /// English.
    En,
    /// Simplified Chinese.
    ZhHans,
}

impl From<PosLanguage> for Language {
    fn from(l: PosLanguage) -> Self {
        match l {
            PosLanguage::En => Language::En,
            PosLanguage::ZhHans => Language::ZhHans,
        }
    }
}

/// Everything a receipt shows (EMV Book 4 §11.4), PAN masked (first 6, last 4).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PosReceiptData {
    /// Merchant name as printed.
    pub merchant_name: String,
    /// Merchant id (field 42).
    pub merchant_id: String,
    /// Terminal id (field 41).
    pub terminal_id: String,
    /// Operator id.
    pub operator: String,
    /// Local date and time, `YYYY-MM-DD HH:MM:SS`.
    pub date_time: String,
    /// Transaction kind (`sale`, `void`, `refund`, `pre_auth`, ...).
    pub kind: String,
    /// Journal state (`completed`, `declined`, `reversed`, ...).
    pub state: String,
    /// Masked PAN.
    pub pan_masked: Option<String>,
    /// Entry mode (`contact`, `contactless`, `magstripe`, `fallback`, `qr`, `manual`).
    pub entry_mode: Option<String>,
    /// Scheme or wallet.
    pub scheme: Option<String>,
    /// AID (4F/84), hex.
    pub aid: Option<String>,
    /// Application label (50).
    pub app_label: Option<String>,
    /// TVR (95), hex.
    pub tvr: Option<String>,
    /// TSI (9B), hex.
    pub tsi: Option<String>,
    /// Application cryptogram (9F26), hex.
    pub cryptogram: Option<String>,
    /// Cryptogram type (`TC`, `ARQC`, `AAC`) when known.
    pub cryptogram_type: Option<String>,
    /// Authorisation code (field 38).
    pub auth_code: Option<String>,
    /// Response code (field 39).
    pub response_code: Option<String>,
    /// RRN (field 37).
    pub rrn: Option<String>,
    /// STAN (field 11).
    pub stan: u32,
    /// Batch number.
    pub batch_no: u32,
    /// Invoice number.
    pub invoice: u32,
    /// RRN of the original (void, refund).
    pub original_rrn: Option<String>,
    /// Amount, minor units.
    pub amount: i64,
    /// Tip.
    pub tip: i64,
    /// Cashback.
    pub cashback: i64,
    /// Coupon discount already taken off the amount.
    pub coupon_discount: i64,
    /// Amount + tip + cashback.
    pub total: i64,
    /// ISO 4217 numeric currency.
    pub currency: String,
    /// The CVM line (`pin_verified`, `pin_and_signature`, `signature`, `device_verified`,
    /// `no_cvm`; from CVM Results 9F34, EMV Book 3 Annex C3).
    pub cvm: String,
    /// Loyalty member id (value-added data).
    pub member_id: Option<String>,
    /// Merchant order reference (value-added data).
    pub order_ref: Option<String>,
    /// Wallet order number (QR).
    pub wallet_order_no: Option<String>,
    /// Printed again from the journal.
    pub reprint: bool,
}

fn snake_name<T: serde::Serialize + std::fmt::Debug>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{value:?}"),
    }
}

impl From<&ReceiptData> for PosReceiptData {
    fn from(d: &ReceiptData) -> Self {
        PosReceiptData {
            merchant_name: d.merchant.name.clone(),
            merchant_id: d.merchant.merchant_id.clone(),
            terminal_id: d.merchant.terminal_id.clone(),
            operator: d.operator.clone(),
            date_time: d.date_time.clone(),
            kind: d.kind.as_str().to_string(),
            state: d.state.as_str().to_string(),
            pan_masked: d.pan_masked.clone(),
            entry_mode: d.entry_mode.map(|m| m.as_str().to_string()),
            scheme: d.scheme.clone(),
            aid: d.aid.clone(),
            app_label: d.app_label.clone(),
            tvr: d.tvr.clone(),
            tsi: d.tsi.clone(),
            cryptogram: d.cryptogram.clone(),
            cryptogram_type: d.cryptogram_type.clone(),
            auth_code: d.auth_code.clone(),
            response_code: d.response_code.clone(),
            rrn: d.rrn.clone(),
            stan: d.stan,
            batch_no: d.batch_no,
            invoice: d.invoice,
            original_rrn: d.original_rrn.clone(),
            amount: d.amount,
            tip: d.tip,
            cashback: d.cashback,
            coupon_discount: d.coupon_discount,
            total: d.total(),
            currency: d.currency.clone(),
            cvm: snake_name(&d.cvm),
            member_id: d.member_id.clone(),
            order_ref: d.order_ref.clone(),
            wallet_order_no: d.wallet_order_no.clone(),
            reprint: d.reprint,
        }
    }
}

/// A rendered receipt copy: the data, fixed-width text (32 columns, 58 mm paper), ESC/POS bytes
/// for a thermal head (GBK code page) and a PNG image (384 dots wide).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PosReceipt {
    /// Which copy.
    pub copy: PosReceiptCopy,
    /// What is printed.
    pub data: PosReceiptData,
    /// Text, lines separated by `\n`.
    pub text: String,
    /// ESC/POS bytes.
    pub escpos: Vec<u8>,
    /// PNG image.
    pub png: Vec<u8>,
}

/// One group's totals in a report.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PosReportLine {
    /// Group (payment method, scheme, operator; `total` for the whole batch).
    pub group: String,
    /// Sales count.
    pub sales_count: u32,
    /// Sales amount.
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

impl From<&ReportLine> for PosReportLine {
    fn from(l: &ReportLine) -> Self {
        PosReportLine {
            group: l.group.clone(),
            sales_count: l.sales_count,
            sales_amount: l.sales_amount,
            refunds_count: l.refunds_count,
            refunds_amount: l.refunds_amount,
            voids_count: l.voids_count,
            voids_amount: l.voids_amount,
            net: l.net,
        }
    }
}

/// Batch totals by payment method, scheme and operator (UnionPay-style settlement counting), and
/// the report's text.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PosTotalsReport {
    /// Batch number.
    pub batch_no: u32,
    /// Opened, ms since the epoch.
    pub opened_at_ms: i64,
    /// Closed, when closed.
    pub closed_at_ms: Option<i64>,
    /// Host confirmed the settlement.
    pub settled: bool,
    /// ISO 4217 numeric currency.
    pub currency: String,
    /// By payment method.
    pub by_method: Vec<PosReportLine>,
    /// By scheme or wallet.
    pub by_scheme: Vec<PosReportLine>,
    /// By operator.
    pub by_operator: Vec<PosReportLine>,
    /// The whole batch.
    pub total: PosReportLine,
    /// The printed report (32 columns).
    pub text: String,
}

impl PosTotalsReport {
    pub(crate) fn new(r: &TotalsReport, text: String) -> Self {
        let lines = |v: &[ReportLine]| v.iter().map(PosReportLine::from).collect();
        PosTotalsReport {
            batch_no: r.batch_no,
            opened_at_ms: r.opened_at_ms,
            closed_at_ms: r.closed_at_ms,
            settled: r.settled,
            currency: r.currency.clone(),
            by_method: lines(&r.by_method),
            by_scheme: lines(&r.by_scheme),
            by_operator: lines(&r.by_operator),
            total: PosReportLine::from(&r.total),
            text,
        }
    }
}

/// A settlement with its report: what the host was sent against the journal's totals.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PosSettlementReport {
    /// The settlement as sent.
    pub settlement: PosSettlement,
    /// The journal's totals of the batch.
    pub totals: PosTotalsReport,
    /// The journal's totals equal what was sent.
    pub journal_matches_sent: bool,
    /// Closed at, ms since the epoch.
    pub at_ms: i64,
    /// The printed settlement report (32 columns).
    pub text: String,
}

impl PosSettlementReport {
    pub(crate) fn new(
        r: &SettlementReport,
        settlement: PosSettlement,
        totals_text: String,
        text: String,
    ) -> Self {
        PosSettlementReport {
            settlement,
            totals: PosTotalsReport::new(&r.totals, totals_text),
            journal_matches_sent: r.journal_matches_sent,
            at_ms: r.at_ms,
            text,
        }
    }
}
