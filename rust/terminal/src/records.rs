//! Result records of terminal calls: what receipts, reports, the app and the FFI get back.

use serde::Serialize;
use smartpos_journal::TransactionRecord;

/// How a transaction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Approved by the host (and the card).
    Approved,
    /// Approved offline by the card (advice queued).
    ApprovedOffline,
    /// Declined by the host or the card.
    Declined,
    /// The outcome at the host is unknown or the card refused after approval: a reversal is
    /// queued; the customer was not charged. For a refund (never reversed) with no answer,
    /// [`TransactionOutcome::pending`] is set instead: the refund is queued and sent again
    /// until the host answers.
    Reversed,
    /// QR order still unpaid when polling stopped; revoked.
    Revoked,
}

/// Value-added data that travels with a sale (journal, host message, receipt).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ValueAdded {
    /// The merchant's order reference.
    pub merchant_order_ref: Option<String>,
    /// Loyalty member id.
    pub member_id: Option<String>,
    /// Coupon discount already deducted from the amount, minor units.
    pub coupon_discount: u64,
}

/// The result of a payment call: one record per transaction, for the receipt and the app.
/// Card data only masked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransactionOutcome {
    /// Journal id.
    pub txn_id: i64,
    /// Kind (`sale`, `void`, `refund`, `pre_auth`, `pre_auth_completion`, `balance_inquiry`,
    /// `qr_sale`).
    pub kind: String,
    /// How it ended.
    pub status: Status,
    /// Host response code (or Y1/Y3/Z1/Z3 for card decisions).
    pub response_code: Option<String>,
    /// Meaning of the response code, for the display.
    pub message: String,
    /// Amount, minor units.
    pub amount: i64,
    /// Tip.
    pub tip: i64,
    /// Cashback.
    pub cashback: i64,
    /// Total charged (amount + tip + cashback).
    pub total: i64,
    /// Currency (ISO 4217 numeric).
    pub currency: String,
    /// STAN.
    pub stan: u32,
    /// Invoice / trace number.
    pub invoice: u32,
    /// Batch.
    pub batch_no: u32,
    /// RRN.
    pub rrn: Option<String>,
    /// Authorisation code.
    pub auth_code: Option<String>,
    /// Masked PAN (first 6, last 4).
    pub pan_masked: Option<String>,
    /// Entry mode.
    pub entry_mode: Option<String>,
    /// Scheme / wallet.
    pub scheme: Option<String>,
    /// AID.
    pub aid: Option<String>,
    /// Application label.
    pub app_label: Option<String>,
    /// TVR.
    pub tvr: Option<String>,
    /// TSI.
    pub tsi: Option<String>,
    /// Application cryptogram.
    pub cryptogram: Option<String>,
    /// A signature line is needed on the receipt.
    pub signature_required: bool,
    /// Contactless kernel that ran the tap ("C-2", "C-3", "C-7"; EMV Contactless Book B
    /// kernel identifier), `None` for other interfaces.
    pub kernel: Option<String>,
    /// Value-added data.
    pub value_added: ValueAdded,
    /// Wallet order number (QR).
    pub wallet_order: Option<String>,
    /// Balance (balance inquiry, prepaid), minor units.
    pub balance: Option<u64>,
    /// Terminal id.
    pub terminal_id: String,
    /// Merchant id.
    pub merchant_id: String,
    /// Operator.
    pub operator_id: String,
    /// Journal time of the last change, ms since the epoch.
    pub at_ms: i64,
    /// Pending, will be sent: the host has not answered this refund yet; it is queued as a
    /// store-and-forward advice and repeated by [`crate::Terminal::flush_queues`] until the
    /// host answers (status [`Status::Reversed`]: not refunded yet; do not refund another way,
    /// and it still counts against the original's refundable amount).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pending: bool,
}

impl TransactionOutcome {
    /// Whether money moved (approved online or offline).
    pub fn is_approved(&self) -> bool {
        matches!(self.status, Status::Approved | Status::ApprovedOffline)
    }

    /// From a journal record.
    pub fn from_record(
        r: &TransactionRecord,
        status: Status,
        terminal_id: &str,
        merchant_id: &str,
    ) -> TransactionOutcome {
        let message = match (&status, r.response_code.as_deref()) {
            (Status::Reversed, _) => "not authorised, reversed".to_string(),
            (Status::Revoked, _) => "order revoked".to_string(),
            (_, Some(code)) => smartpos_host::ResponseCode::parse(code)
                .map(|c| c.meaning().to_string())
                .unwrap_or_else(|| match code {
                    "Y1" | "Y3" => "approved offline".into(),
                    "Z1" | "Z3" => "declined by card".into(),
                    other => format!("response {other}"),
                }),
            (_, None) => String::new(),
        };
        TransactionOutcome {
            txn_id: r.id.0,
            kind: r.kind.as_str().to_string(),
            status,
            response_code: r.response_code.clone(),
            message,
            amount: r.amount,
            tip: r.tip,
            cashback: r.cashback,
            total: r.total(),
            currency: r.currency.clone(),
            stan: r.stan,
            invoice: r.invoice,
            batch_no: r.batch_no,
            rrn: r.rrn.clone(),
            auth_code: r.auth_code.clone(),
            pan_masked: r.pan_masked.as_ref().map(|m| m.as_str().to_string()),
            entry_mode: r.entry_mode.map(|m| m.as_str().to_string()),
            scheme: r.scheme.clone(),
            aid: r.aid.clone(),
            app_label: r.app_label.clone(),
            tvr: r.tvr.clone(),
            tsi: r.tsi.clone(),
            cryptogram: r.cryptogram.clone(),
            signature_required: false,
            kernel: None,
            value_added: ValueAdded {
                merchant_order_ref: r.merchant_order_ref.clone(),
                member_id: r.member_id.clone(),
                coupon_discount: u64::try_from(r.coupon_discount).unwrap_or(0),
            },
            wallet_order: r.wallet_order_no.clone(),
            balance: None,
            terminal_id: terminal_id.to_string(),
            merchant_id: merchant_id.to_string(),
            operator_id: r.operator_id.clone(),
            at_ms: r.updated_at.0,
            pending: false,
        }
    }
}

/// Result of a sign-on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignOnResult {
    /// Batch number the host gave.
    pub batch_no: u32,
    /// When the keys were installed, ms.
    pub keys_installed_at_ms: i64,
}

/// Result of a settlement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettlementResult {
    /// Batch settled.
    pub batch_no: u32,
    /// Sales: count and amount.
    pub sales_count: u32,
    /// Sales amount.
    pub sales_amount: i64,
    /// Refunds: count.
    pub refunds_count: u32,
    /// Refunds amount.
    pub refunds_amount: i64,
    /// Totals matched at once (`false`: batch uploaded, then matched).
    pub balanced_first_time: bool,
    /// Records uploaded (0320) on a mismatch.
    pub uploaded: usize,
}
