//! The cups-pos message dialect this link speaks (and the host simulator answers): processing
//! codes (field 3), field 60 sub-field codes, the field 48 settlement totals layout and the QR
//! sub-protocol. It follows the China UnionPay POS terminal convention where that convention
//! defines the value, and documents its own choices where a host dialect must be picked.
//!
//! | Flow | MTI | 3 | 22 | 25 | 60.1 | 60.3 | extra |
//! |---|---|---|---|---|---|---|---|
//! | sign-on | 0800 | – | – | – | 00 | 003/004 (TDES 2/3 keys), 005 (SM4) | 63 operator; 0810 field 62 keys |
//! | echo | 0820 | – | – | – | 00 | 301 | |
//! | sale | 0200 | 000000 | mode+PIN | 00 | 22 | 000 | 52/53, 55 |
//! | sale/pre-auth + value-added | 0200/0100 | as above | | | | | 63 = `VAD` + `ORD`/`MBR`/`CPN` sub-elements ([`value_added`]) |
//! | void | 0200 | 200000 | | 00 | 23 | 000 | 37, 38, 61 = batch + STAN of the sale |
//! | refund | 0220 | 200000 | | 00 | 25 | 000 | 37, 61 = 000000 000000 MMDD |
//! | pre-auth | 0100 | 030000 | | 06 | 10 | 000 | |
//! | completion | 0200 | 000000 | | 06 | 20 | 000 | 38, 61 = batch + STAN + MMDD |
//! | balance | 0200 | 310000 | | 00 | 01 | 000 | 4 = 0; the 0210 carries the balance in field 4 |
//! | QR pay | 0200 | 000000 | 03x | 00 | 22 | 000 | 63 = `QRP` + wallet code |
//! | QR order (merchant QR) | 0200 | 320000 | 03x | 00 | 22 | 000 | 63 = `QRO` + order reference; the 0210 has 37 = order RRN, 62 = MPM payload, 63 = `QRO` + the reference |
//! | QR query | 0200 | 330000 | 03x | 00 | 22 | 000 | 37 = order RRN, 61, 63 = `QRQ` |
//! | QR revoke | 0200 | 340000 | 03x | 00 | 22 | 000 | 37, 61, 63 = `QRC` |
//! | offline advice | 0220 | 000000 | | 00 | 36 | 000 | 55 with the TC |
//! | reversal | 0400 | original | original | original | original | original | 39 = reason |
//! | settlement | 0500 | – | – | – | 00 | 201, 202 after upload | 48 totals |
//! | batch upload | 0320 | original | | | 00 | 201 | 37, 38, 61 = batch + STAN |
//!
//! QR responses: 00 paid, 09 pending (the order is its RRN, field 37), 12 revoked/closed,
//! 25 unknown order. A merchant-presented QR order is created unpaid: its 0210 answers 09 with the
//! order RRN in 37 and the EMVCo MPM payload to display in 62 (binary: up to 512 bytes of UTF-8
//! without control characters — it does not fit the 160 ASCII characters of 63) asking for the
//! order amount (54) in the terminal's currency (53), with the order reference as its Reference
//! Label (62.05) when it carries one; any other code refuses the
//! order (e.g. 13 bad amount, 14/30 bad order data, 96 system error). A query or revoke without
//! field 37 (a terminal that restarted before it learnt the RRN) names the order by field 61,
//! the batch and STAN of the order request; the answer then carries the order RRN in 37.
//! PIN: 53 = `2` (ISO 9564 format 0) `6` (TDES) then `1` + 13 zeros when the
//! block was enciphered with a DUKPT key whose 10-byte KSN is in field 62, else 14 zeros.

/// Processing code: purchase / goods and services.
pub const PC_PURCHASE: &str = "000000";
/// Processing code: void or refund (return).
pub const PC_VOID: &str = "200000";
/// Processing code: refund.
pub const PC_REFUND: &str = "200000";
/// Processing code: pre-authorisation.
pub const PC_PREAUTH: &str = "030000";
/// Processing code: balance inquiry.
pub const PC_BALANCE: &str = "310000";
/// Processing code: merchant-presented QR order creation (this dialect's choice, next to the
/// 33/34 query and revoke codes in the ISO 8583:1987 inquiry range).
pub const PC_QR_ORDER: &str = "320000";
/// Processing code: QR order status query.
pub const PC_QR_QUERY: &str = "330000";
/// Processing code: QR order revoke/close.
pub const PC_QR_REVOKE: &str = "340000";

/// 60.1 message type codes.
pub mod msg_type {
    /// Network management, settlement, batch upload.
    pub const NONE: &str = "00";
    /// Balance inquiry.
    pub const BALANCE: &str = "01";
    /// Pre-authorisation.
    pub const PREAUTH: &str = "10";
    /// Pre-authorisation completion.
    pub const COMPLETION: &str = "20";
    /// Sale (also QR).
    pub const SALE: &str = "22";
    /// Void of a sale.
    pub const VOID: &str = "23";
    /// Refund.
    pub const REFUND: &str = "25";
    /// Offline-approved advice.
    pub const OFFLINE: &str = "36";
}

/// 60.3 network management information codes.
pub mod network {
    /// Not a network management message.
    pub const NONE: &str = "000";
    /// Sign-on, double-length TDES PIN and MAC keys (field 62: 40 bytes).
    pub const SIGN_ON_TDES: &str = "003";
    /// Sign-on, TDES PIN, MAC and data keys (field 62: 60 bytes).
    pub const SIGN_ON_TDES_DATA: &str = "004";
    /// Sign-on, SM4 PIN, MAC and data keys (field 62: 60 bytes).
    pub const SIGN_ON_SM4: &str = "005";
    /// Echo test.
    pub const ECHO: &str = "301";
    /// Settlement / batch upload.
    pub const SETTLE: &str = "201";
    /// Settlement after a batch upload.
    pub const SETTLE_AFTER_UPLOAD: &str = "202";
}

/// Value-added data of a sale or pre-authorisation in field 63 (this dialect's layout; the
/// cups-pos profile gives 63 as 63.1 an3 + 63.2 ans..160). 63.1 = `VAD`; 63.2 = one or more
/// sub-elements, each a 3-letter tag, a 2-digit length (01..99) and the value, every tag at most
/// once, unknown tags refused:
///
/// | Tag | Value | Length |
/// |---|---|---|
/// | `ORD` | merchant order reference, printable ASCII without spaces | 1..=64 |
/// | `MBR` | loyalty member id, printable ASCII without spaces | 1..=32 |
/// | `CPN` | coupon discount already deducted from field 4, minor units, n12, not zero | 12 |
///
/// E.g. `VADORD08A1234567MBR04M001CPN12000000000500`. The largest (126 characters) fits 63. The
/// field is MACed like every field before 64; a host answers a malformed `VAD` with 30 (format
/// error). Encoder/parser: `request::ValueAddedData`.
pub mod value_added {
    /// 63.1 of a sale carrying value-added data.
    pub const MARKER: &str = "VAD";
    /// Merchant order reference.
    pub const ORDER_REF: &str = "ORD";
    /// Loyalty member id.
    pub const MEMBER_ID: &str = "MBR";
    /// Coupon discount.
    pub const COUPON: &str = "CPN";
}

/// QR sub-protocol markers in field 63.
pub mod qr {
    /// Pay with a scanned wallet code (63 = QRP + code).
    pub const PAY: &str = "QRP";
    /// Query an order.
    pub const QUERY: &str = "QRQ";
    /// Revoke/close an order.
    pub const REVOKE: &str = "QRC";
    /// Create a merchant-presented QR order (63 = QRO + order reference).
    pub const ORDER: &str = "QRO";
    /// Longest order reference: it travels in the MPM payload's Reference Label (62.05,
    /// EMV QRCPS-MPM v1.1 §4.8: up to 25 characters).
    pub const ORDER_REF_MAX: usize = 25;
    /// Longest MPM payload the host may send in field 62 (EMV QRCPS-MPM v1.1 §4.1: 512).
    pub const PAYLOAD_MAX: usize = 512;
}

/// A merchant-presented QR order the host created (`HostClient::qr_create_order`): show
/// `qr_payload` to the customer, then poll it with `qr_query` and close it with `qr_revoke`
/// through [`QrMerchantOrder::order`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrMerchantOrder {
    /// Order RRN (field 37), the host's name for the order.
    pub rrn: String,
    /// STAN of the order request.
    pub stan: u32,
    /// Amount in minor units.
    pub amount: u64,
    /// The EMVCo MPM payload to display (field 62), UTF-8 without control characters.
    pub qr_payload: String,
    /// The order reference the terminal sent (63), or the RRN when it sent none.
    pub order_ref: String,
}

impl QrMerchantOrder {
    /// The order as the query and revoke flows take it (status pending).
    pub fn order(&self) -> crate::request::QrOrder {
        crate::request::QrOrder {
            rrn: self.rrn.clone(),
            stan: self.stan,
            amount: self.amount,
            status: crate::request::QrStatus::Pending,
        }
    }
}

/// Settlement totals (field 48): debit count n3, debit amount n12, credit count n3, credit
/// amount n12 — 30 digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BatchTotals {
    /// Number of debits (sales, completions, offline sales).
    pub debit_count: u32,
    /// Sum of debits in minor units.
    pub debit_amount: u64,
    /// Number of credits (refunds).
    pub credit_count: u32,
    /// Sum of credits in minor units.
    pub credit_amount: u64,
}

impl BatchTotals {
    /// The 30-digit field 48 text; `None` if a count or amount does not fit.
    pub fn to_field48(&self) -> Option<String> {
        if self.debit_count > 999
            || self.credit_count > 999
            || self.debit_amount > 999_999_999_999
            || self.credit_amount > 999_999_999_999
        {
            return None;
        }
        Some(format!(
            "{:03}{:012}{:03}{:012}",
            self.debit_count, self.debit_amount, self.credit_count, self.credit_amount
        ))
    }

    /// Parse the 30-digit field 48 text.
    pub fn from_field48(text: &str) -> Option<BatchTotals> {
        if text.len() != 30 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(BatchTotals {
            debit_count: text.get(0..3)?.parse().ok()?,
            debit_amount: text.get(3..15)?.parse().ok()?,
            credit_count: text.get(15..18)?.parse().ok()?,
            credit_amount: text.get(18..30)?.parse().ok()?,
        })
    }
}
