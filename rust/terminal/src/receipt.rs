//! Transaction receipts: merchant and customer copies with the data EMV and the acquirer require,
//! rendered as fixed-width text, as ESC/POS bytes for thermal printers, and as a PNG image.
//!
//! Content (EMV Book 4 §11.4 "Receipt" data; UnionPay-style acquirer receipts): merchant name and
//! id, terminal id, operator, date/time, transaction type, masked PAN (first 6 + last 4,
//! PCI DSS v4 §3.4.1), entry mode, AID (4F/84), application label (50), TVR (95), TSI (9B),
//! application cryptogram (9F26) and its type (CID 9F27), auth code (field 38), RRN (field 37),
//! STAN (field 11), batch and invoice numbers, amount/tip/cashback/total, the CVM line
//! ("PIN verified", a signature line, or "no CVM"; from CVM Results 9F34, EMV Book 3 Annex C3),
//! member id, order reference, coupon, a reprint marker and an e-invoice QR whose URL is built
//! from a configured template.
//!
//! Column widths: 32 (58 mm paper) or 48 (80 mm paper) columns of Font A. CJK ideographs,
//! kana, Hangul and full-width forms (Unicode East Asian Width W/F, UAX #11) take two columns,
//! as on the printers and in GBK.
//!
//! ESC/POS (Epson ESC/POS command reference; same subset on Sunmi, PAX and Xprinter heads):
//! `ESC @` init, `ESC a n` alignment, `ESC E n` bold, `GS ! n` character size, `ESC d n` feed,
//! `GS ( k` QR code (fn 165 model 2, fn 167 module size, fn 169 error level M, fn 180 store,
//! fn 181 print), `GS V 66 0` feed and partial cut. Chinese text: [`CodePage::Gbk`] turns on
//! Chinese character mode with `FS &` and sends GBK bytes (what most Chinese thermal printers
//! expect); [`CodePage::Utf8`] selects UTF-8 with `FS ( C` fn 48 (`1C 28 43 02 00 30 02`, newer
//! Epson-compatible heads) and sends the text as is.
//!
//! PNG: 12 × 24 pixel cells (so 32 columns are 384 dots, the width of a 58 mm head and 48
//! columns 576 dots, 80 mm) drawn with the public-domain 8 × 8 font of the `font8x8` crate,
//! doubled vertically, for single-width characters (others, e.g. Cyrillic, from Unifont's
//! 8 × 16 glyphs with `cjk-png`). Double-width characters (CJK ideographs,
//! kana, Hangul, full-width forms) are drawn from GNU Unifont's 16 × 16 bitmaps (the `unifont`
//! crate, Unifont 15.1, whole Basic Multilingual Plane), centred in their two cells: a bitmap
//! font drawn 1:1 is what a 203-dpi thermal head prints best. That glyph table is about
//! 1.9 MB of read-only data in the library, so it sits behind the `cjk-png` cargo feature
//! (default on); without the feature, or for a character Unifont lacks (outside the BMP), a
//! double-width character is drawn as an outlined two-cell box.

use serde::Serialize;
use smartpos_journal::{EntryMode, TransactionRecord, TxnKind, TxnState};

use crate::prompts::Language;

/// Receipt errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    /// A configuration value is not usable.
    #[error("receipt config {field}: {reason}")]
    Config {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// The e-invoice QR cannot be encoded.
    #[error("e-invoice QR: {0}")]
    Qr(String),
    /// PNG encoding failed.
    #[error("PNG: {0}")]
    Png(String),
}

/// Paper width in columns of Font A.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Width {
    /// 58 mm paper, 32 columns.
    Cols32,
    /// 80 mm paper, 48 columns.
    Cols48,
}

impl Width {
    /// Columns.
    pub fn columns(self) -> usize {
        match self {
            Width::Cols32 => 32,
            Width::Cols48 => 48,
        }
    }
}

/// Which copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Copy {
    /// Kept by the merchant (signature line when a signature is the CVM).
    Merchant,
    /// Handed to the cardholder.
    Customer,
}

/// Character encoding sent to an ESC/POS printer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CodePage {
    /// `FS &` Chinese mode and GBK bytes (characters outside GBK become `?`).
    Gbk,
    /// `FS ( C` UTF-8 encoding system.
    Utf8,
}

/// The merchant's receipt configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MerchantInfo {
    /// Merchant name as printed.
    pub name: String,
    /// Merchant id (ISO 8583 field 42, 15 characters).
    pub merchant_id: String,
    /// Terminal id (field 41, 8 characters).
    pub terminal_id: String,
    /// Address line, if printed.
    pub address: Option<String>,
    /// E-invoice URL template: `{merchant_id}`, `{terminal_id}`, `{invoice}`, `{batch}`,
    /// `{rrn}`, `{amount}` (minor units), `{date}` (YYYYMMDD) and `{uuid}` are replaced.
    pub e_invoice_url: Option<String>,
    /// Local time offset from UTC in minutes (receipt date/time is local).
    pub utc_offset_minutes: i32,
}

impl MerchantInfo {
    /// From the terminal's settings (name, ids; UTC offset of the risk rules), with an optional
    /// e-invoice URL template.
    pub fn from_settings(
        s: &crate::config::Settings,
        e_invoice_url: Option<String>,
    ) -> MerchantInfo {
        MerchantInfo {
            name: s.merchant_name.clone(),
            merchant_id: s.merchant_id.clone(),
            terminal_id: s.terminal_id.clone(),
            address: if s.merchant_city.is_empty() {
                None
            } else {
                Some(s.merchant_city.clone())
            },
            e_invoice_url,
            utc_offset_minutes: s.risk.utc_offset_minutes,
        }
    }
}

/// How the cardholder was verified, as printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CvmLine {
    /// PIN verified (offline or online PIN).
    PinVerified,
    /// PIN verified and a signature required.
    PinAndSignature,
    /// Signature required: a signature line on the merchant copy.
    Signature,
    /// Verified on the consumer's device (CDCVM, phone wallets).
    DeviceVerified,
    /// No cardholder verification.
    NoCvm,
}

impl CvmLine {
    /// From CVM Results (9F34, hex of 3 bytes; EMV Book 3 Annex C3): byte 1 bits 6–1 are the
    /// CVM code, byte 3 the result. Unknown or malformed → `None`.
    pub fn from_cvm_results(hex_9f34: &str) -> Option<CvmLine> {
        let bytes = hex::decode(hex_9f34).ok()?;
        let (&code, &result) = (bytes.first()?, bytes.get(2)?);
        if bytes.len() != 3 || result == 0x01 {
            // Byte 3 '01' = failed: nothing verified to print.
            return if bytes.len() == 3 {
                Some(CvmLine::NoCvm)
            } else {
                None
            };
        }
        match code & 0x3F {
            0x01 | 0x02 | 0x04 => Some(CvmLine::PinVerified),
            0x03 | 0x05 => Some(CvmLine::PinAndSignature),
            0x1E => Some(CvmLine::Signature),
            0x1F | 0x3F | 0x00 => Some(CvmLine::NoCvm),
            _ => None,
        }
    }
}

/// Everything printed on a receipt. Build it with [`ReceiptData::from_record`] or by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceiptData {
    /// Merchant.
    pub merchant: MerchantInfo,
    /// Operator id.
    pub operator: String,
    /// Local date/time, `YYYY-MM-DD HH:MM:SS`.
    pub date_time: String,
    /// Local date `YYYYMMDD` (e-invoice URL).
    pub date: String,
    /// Transaction kind.
    pub kind: TxnKind,
    /// Outcome state.
    pub state: TxnState,
    /// Masked PAN (any unmasked PAN given here is masked before printing).
    pub pan_masked: Option<String>,
    /// Entry mode.
    pub entry_mode: Option<EntryMode>,
    /// Scheme / wallet.
    pub scheme: Option<String>,
    /// AID, hex.
    pub aid: Option<String>,
    /// Application label.
    pub app_label: Option<String>,
    /// TVR, hex.
    pub tvr: Option<String>,
    /// TSI, hex.
    pub tsi: Option<String>,
    /// Cryptogram (9F26), hex.
    pub cryptogram: Option<String>,
    /// Cryptogram type from the CID (9F27): `TC`, `ARQC` or `AAC`.
    pub cryptogram_type: Option<String>,
    /// Auth code.
    pub auth_code: Option<String>,
    /// Response code.
    pub response_code: Option<String>,
    /// RRN.
    pub rrn: Option<String>,
    /// STAN.
    pub stan: u32,
    /// Batch number.
    pub batch_no: u32,
    /// Invoice number.
    pub invoice: u32,
    /// Original RRN (void, refund).
    pub original_rrn: Option<String>,
    /// Amount, minor units.
    pub amount: i64,
    /// Tip.
    pub tip: i64,
    /// Cashback.
    pub cashback: i64,
    /// Coupon discount already taken off the amount.
    pub coupon_discount: i64,
    /// ISO 4217 numeric currency.
    pub currency: String,
    /// CVM line.
    pub cvm: CvmLine,
    /// Loyalty member id.
    pub member_id: Option<String>,
    /// Merchant order reference.
    pub order_ref: Option<String>,
    /// Wallet order number (QR).
    pub wallet_order_no: Option<String>,
    /// Transaction UUID.
    pub uuid: String,
    /// Printed again from the journal.
    pub reprint: bool,
}

/// Civil date from days since 1970-01-01 (proleptic Gregorian; H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `(YYYY-MM-DD HH:MM:SS, YYYYMMDD)` of a UTC millisecond timestamp at `utc_offset_minutes`.
pub fn local_date_time(ms: i64, utc_offset_minutes: i32) -> (String, String) {
    let secs = ms.div_euclid(1000) + i64::from(utc_offset_minutes) * 60;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    (
        format!(
            "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
            sod / 3600,
            sod / 60 % 60,
            sod % 60
        ),
        format!("{y:04}{m:02}{d:02}"),
    )
}

/// Mask anything that looks like a full PAN (12–19 digits): first 6, last 4.
pub fn mask_pan(s: &str) -> String {
    let digits = s.bytes().all(|b| b.is_ascii_digit());
    if !digits || !(12..=19).contains(&s.len()) {
        return s.to_string();
    }
    s.char_indices()
        .map(|(i, c)| if i < 6 || i + 4 >= s.len() { c } else { '*' })
        .collect()
}

impl ReceiptData {
    /// From a journal record. The CVM line comes from the stored CVM Results (9F34) when known,
    /// else "no CVM"; the cryptogram type is `TC` for an offline approval and left unknown
    /// otherwise (set [`ReceiptData::cryptogram_type`] from the CID when the caller has it).
    pub fn from_record(rec: &TransactionRecord, merchant: &MerchantInfo) -> ReceiptData {
        let (date_time, date) = local_date_time(rec.created_at.0, merchant.utc_offset_minutes);
        let cvm = rec
            .cvm_result
            .as_deref()
            .and_then(CvmLine::from_cvm_results)
            .unwrap_or(CvmLine::NoCvm);
        let cryptogram_type = match rec.state {
            TxnState::OfflineApproved => Some("TC".to_string()),
            _ => None,
        };
        ReceiptData {
            merchant: merchant.clone(),
            operator: rec.operator_id.clone(),
            date_time,
            date,
            kind: rec.kind,
            state: rec.state,
            pan_masked: rec.pan_masked.as_ref().map(|p| p.as_str().to_string()),
            entry_mode: rec.entry_mode,
            scheme: rec.scheme.clone(),
            aid: rec.aid.clone(),
            app_label: rec.app_label.clone(),
            tvr: rec.tvr.clone(),
            tsi: rec.tsi.clone(),
            cryptogram: rec.cryptogram.clone(),
            cryptogram_type,
            auth_code: rec.auth_code.clone(),
            response_code: rec.response_code.clone(),
            rrn: rec.rrn.clone(),
            stan: rec.stan,
            batch_no: rec.batch_no,
            invoice: rec.invoice,
            original_rrn: rec.original_rrn.clone(),
            amount: rec.amount,
            tip: rec.tip,
            cashback: rec.cashback,
            coupon_discount: rec.coupon_discount,
            currency: rec.currency.clone(),
            cvm,
            member_id: rec.member_id.clone(),
            order_ref: rec.merchant_order_ref.clone(),
            wallet_order_no: rec.wallet_order_no.clone(),
            uuid: rec.uuid.clone(),
            reprint: false,
        }
    }

    /// From a terminal result and its journal record: the record gives the data, the result
    /// whether a signature line is needed and the final status.
    pub fn from_outcome(
        outcome: &crate::records::TransactionOutcome,
        rec: &TransactionRecord,
        merchant: &MerchantInfo,
    ) -> ReceiptData {
        let mut d = ReceiptData::from_record(rec, merchant);
        if outcome.signature_required {
            d.cvm = match d.cvm {
                CvmLine::PinVerified | CvmLine::PinAndSignature => CvmLine::PinAndSignature,
                _ => CvmLine::Signature,
            };
        }
        d
    }

    /// Amount + tip + cashback.
    pub fn total(&self) -> i64 {
        self.amount
            .saturating_add(self.tip)
            .saturating_add(self.cashback)
    }

    /// The e-invoice URL from the merchant's template, when configured.
    pub fn e_invoice_url(&self) -> Option<String> {
        let t = self.merchant.e_invoice_url.as_deref()?;
        Some(
            t.replace("{merchant_id}", &self.merchant.merchant_id)
                .replace("{terminal_id}", &self.merchant.terminal_id)
                .replace("{invoice}", &format!("{:06}", self.invoice))
                .replace("{batch}", &format!("{:06}", self.batch_no))
                .replace("{rrn}", self.rrn.as_deref().unwrap_or(""))
                .replace("{amount}", &self.total().to_string())
                .replace("{date}", &self.date)
                .replace("{uuid}", &self.uuid),
        )
    }
}

/// ISO 4217 alphabetic code and minor-unit exponent of a numeric code.
pub fn currency(numeric: &str) -> (&str, u32) {
    match numeric {
        "156" => ("CNY", 2),
        "344" => ("HKD", 2),
        "446" => ("MOP", 2),
        "840" => ("USD", 2),
        "978" => ("EUR", 2),
        "826" => ("GBP", 2),
        "702" => ("SGD", 2),
        "392" => ("JPY", 0),
        "410" => ("KRW", 0),
        other => (other, 2),
    }
}

/// `CNY 12.34` (negative amounts get a leading `-`).
pub fn format_amount(minor: i64, currency_numeric: &str) -> String {
    let (code, exp) = currency(currency_numeric);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    if exp == 0 {
        return format!("{code} {sign}{abs}");
    }
    let div = 10u64.pow(exp);
    format!(
        "{code} {sign}{}.{:0w$}",
        abs / div,
        abs % div,
        w = exp as usize
    )
}

/// Display columns of a character (UAX #11: East Asian Wide and Fullwidth take two).
pub fn char_width(c: char) -> usize {
    let u = c as u32;
    let wide = matches!(u,
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x20000..=0x3FFFD);
    if c.is_control() {
        0
    } else if wide {
        2
    } else {
        1
    }
}

/// Display columns of a string.
pub fn str_width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

/// Alignment of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Align {
    /// Left.
    Left,
    /// Centre.
    Center,
    /// Right.
    Right,
}

/// One element of the receipt layout, rendered by each back end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Line {
    /// Text.
    Text {
        /// Text.
        text: String,
        /// Alignment.
        align: Align,
        /// Bold.
        bold: bool,
        /// Double width and height.
        double: bool,
    },
    /// Label on the left, value on the right.
    Pair {
        /// Label.
        label: String,
        /// Value.
        value: String,
        /// Bold and double size.
        emphasis: bool,
    },
    /// A full-width rule.
    Rule,
    /// Blank line(s).
    Feed {
        /// How many.
        lines: u8,
    },
    /// A QR code of the payload.
    Qr {
        /// What the code holds.
        payload: String,
    },
}

/// A laid-out receipt copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    /// Which copy.
    pub copy: Copy,
    /// Label language.
    pub language: Language,
    /// The lines.
    pub lines: Vec<Line>,
}

fn label(lang: Language, zh: &str, en: &str) -> String {
    match lang {
        Language::En => en.to_string(),
        Language::ZhHans => zh.to_string(),
    }
}

fn kind_label(kind: TxnKind, lang: Language) -> String {
    let (zh, en) = match kind {
        TxnKind::Sale => ("消费", "SALE"),
        TxnKind::PreAuth => ("预授权", "PRE-AUTH"),
        TxnKind::PreAuthCompletion => ("预授权完成", "PRE-AUTH COMPLETION"),
        TxnKind::Void => ("消费撤销", "VOID"),
        TxnKind::Refund => ("退货", "REFUND"),
        TxnKind::BalanceInquiry => ("余额查询", "BALANCE INQUIRY"),
        TxnKind::QrSale => ("扫码支付", "QR SALE"),
    };
    label(lang, zh, en)
}

fn entry_label(mode: EntryMode, lang: Language) -> String {
    let (zh, en) = match mode {
        EntryMode::Contact => ("插卡", "CHIP"),
        EntryMode::Contactless => ("挥卡", "CONTACTLESS"),
        EntryMode::Magstripe => ("刷卡", "SWIPE"),
        EntryMode::Fallback => ("降级刷卡", "FALLBACK SWIPE"),
        EntryMode::Qr => ("扫码", "QR"),
        EntryMode::Manual => ("手输", "MANUAL"),
    };
    label(lang, zh, en)
}

fn state_label(state: TxnState, lang: Language) -> Option<String> {
    let (zh, en) = match state {
        TxnState::Approved | TxnState::Completed | TxnState::OfflineApproved => return None,
        TxnState::Declined => ("交易拒绝", "DECLINED"),
        TxnState::ReversalPending | TxnState::Reversed => ("交易已冲正", "REVERSED - NOT CHARGED"),
        TxnState::Aborted => ("交易未完成", "ABORTED - NOT CHARGED"),
        TxnState::Created | TxnState::CardRead | TxnState::OnlinePending => {
            ("交易处理中", "IN PROGRESS")
        }
    };
    Some(label(lang, zh, en))
}

impl Receipt {
    /// Lay out `copy` of `data` with labels in `lang`.
    pub fn build(data: &ReceiptData, copy: Copy, lang: Language) -> Receipt {
        let l = |zh: &str, en: &str| label(lang, zh, en);
        let mut lines = Vec::new();
        let text = |t: String, align: Align, bold: bool, double: bool| Line::Text {
            text: t,
            align,
            bold,
            double,
        };
        let pair = |a: String, b: String| Line::Pair {
            label: a,
            value: b,
            emphasis: false,
        };
        lines.push(text(data.merchant.name.clone(), Align::Center, true, true));
        if let Some(addr) = &data.merchant.address {
            lines.push(text(addr.clone(), Align::Center, false, false));
        }
        let copy_label = match copy {
            Copy::Merchant => l("商户存根", "MERCHANT COPY"),
            Copy::Customer => l("持卡人存根", "CUSTOMER COPY"),
        };
        lines.push(text(copy_label, Align::Center, false, false));
        if data.reprint {
            lines.push(text(
                l("*** 重打印 ***", "*** REPRINT ***"),
                Align::Center,
                true,
                false,
            ));
        }
        lines.push(Line::Rule);
        lines.push(pair(
            l("商户编号", "MERCHANT ID"),
            data.merchant.merchant_id.clone(),
        ));
        lines.push(pair(
            l("终端编号", "TERMINAL ID"),
            data.merchant.terminal_id.clone(),
        ));
        lines.push(pair(l("操作员", "OPERATOR"), data.operator.clone()));
        if let Some(pan) = &data.pan_masked {
            lines.push(pair(l("卡号", "CARD NO."), mask_pan(pan)));
        }
        if let Some(mode) = data.entry_mode {
            lines.push(pair(l("输入方式", "ENTRY MODE"), entry_label(mode, lang)));
        }
        if let Some(s) = &data.scheme {
            lines.push(pair(l("支付方式", "PAYMENT"), s.to_uppercase()));
        }
        if let Some(label_50) = &data.app_label {
            lines.push(pair(l("应用标签", "APP LABEL"), label_50.clone()));
        }
        if let Some(aid) = &data.aid {
            lines.push(pair("AID".into(), aid.to_uppercase()));
        }
        lines.push(text(kind_label(data.kind, lang), Align::Left, true, true));
        if let Some(s) = state_label(data.state, lang) {
            lines.push(text(s, Align::Left, true, false));
        }
        lines.push(pair(
            l("批次号", "BATCH NO."),
            format!("{:06}", data.batch_no),
        ));
        lines.push(pair(
            l("凭证号", "INVOICE NO."),
            format!("{:06}", data.invoice),
        ));
        lines.push(pair(l("流水号", "STAN"), format!("{:06}", data.stan)));
        lines.push(pair(l("日期时间", "DATE/TIME"), data.date_time.clone()));
        if let Some(a) = &data.auth_code {
            lines.push(pair(l("授权码", "AUTH CODE"), a.clone()));
        }
        if let Some(r) = &data.rrn {
            lines.push(pair(l("参考号", "REF NO."), r.clone()));
        }
        if let Some(r) = &data.original_rrn {
            lines.push(pair(l("原参考号", "ORIG REF NO."), r.clone()));
        }
        if !matches!(
            data.state,
            TxnState::Approved | TxnState::Completed | TxnState::OfflineApproved
        ) {
            if let Some(rc) = &data.response_code {
                lines.push(pair(l("应答码", "RESPONSE"), rc.clone()));
            }
        }
        if let Some(o) = &data.wallet_order_no {
            lines.push(pair(l("钱包订单号", "WALLET ORDER"), o.clone()));
        }
        if let Some(t) = &data.tvr {
            lines.push(pair("TVR".into(), t.to_uppercase()));
        }
        if let Some(t) = &data.tsi {
            lines.push(pair("TSI".into(), t.to_uppercase()));
        }
        if let Some(c) = &data.cryptogram {
            let ty = data.cryptogram_type.clone().unwrap_or_else(|| "AC".into());
            lines.push(pair(ty, c.to_uppercase()));
        }
        lines.push(Line::Rule);
        let negative = matches!(data.kind, TxnKind::Void | TxnKind::Refund);
        let signed = |v: i64| if negative { -v } else { v };
        if data.tip != 0 || data.cashback != 0 || data.coupon_discount != 0 {
            lines.push(pair(
                l("金额", "AMOUNT"),
                format_amount(signed(data.amount), &data.currency),
            ));
        }
        if data.coupon_discount != 0 {
            lines.push(pair(
                l("优惠", "COUPON"),
                format_amount(-data.coupon_discount, &data.currency),
            ));
        }
        if data.tip != 0 {
            lines.push(pair(
                l("小费", "TIP"),
                format_amount(signed(data.tip), &data.currency),
            ));
        }
        if data.cashback != 0 {
            lines.push(pair(
                l("返现", "CASHBACK"),
                format_amount(signed(data.cashback), &data.currency),
            ));
        }
        lines.push(Line::Pair {
            label: l("总计", "TOTAL"),
            value: format_amount(signed(data.total()), &data.currency),
            emphasis: true,
        });
        lines.push(Line::Rule);
        if let Some(m) = &data.member_id {
            lines.push(pair(l("会员号", "MEMBER"), m.clone()));
        }
        if let Some(o) = &data.order_ref {
            lines.push(pair(l("订单号", "ORDER REF"), o.clone()));
        }
        let approved = matches!(
            data.state,
            TxnState::Approved | TxnState::Completed | TxnState::OfflineApproved
        );
        // A wallet payment (QR) is authenticated in the customer's wallet app, not by a
        // terminal CVM: no CVM line.
        if approved && data.entry_mode != Some(EntryMode::Qr) {
            let pin = l("密码已验证", "PIN VERIFIED");
            let sign_here = || {
                vec![
                    text(
                        l("持卡人签名:", "CARDHOLDER SIGNATURE:"),
                        Align::Left,
                        false,
                        false,
                    ),
                    Line::Feed { lines: 2 },
                    text("X".to_string() + &"_".repeat(23), Align::Left, false, false),
                    text(
                        l(
                            "本人确认以上交易，同意将其记入本卡账户",
                            "I AGREE TO PAY THE ABOVE TOTAL",
                        ),
                        Align::Left,
                        false,
                        false,
                    ),
                ]
            };
            match data.cvm {
                CvmLine::PinVerified => lines.push(text(pin, Align::Left, false, false)),
                CvmLine::PinAndSignature => {
                    lines.push(text(pin, Align::Left, false, false));
                    if copy == Copy::Merchant {
                        lines.extend(sign_here());
                    }
                }
                CvmLine::Signature => {
                    if copy == Copy::Merchant {
                        lines.extend(sign_here());
                    } else {
                        lines.push(text(
                            l("已签名", "SIGNATURE ON FILE"),
                            Align::Left,
                            false,
                            false,
                        ));
                    }
                }
                CvmLine::DeviceVerified => lines.push(text(
                    l("已在设备上验证", "VERIFIED ON DEVICE"),
                    Align::Left,
                    false,
                    false,
                )),
                CvmLine::NoCvm => lines.push(text(
                    l("免密免签", "NO CARDHOLDER VERIFICATION"),
                    Align::Left,
                    false,
                    false,
                )),
            }
        }
        // E-invoices are issued for purchases only (not for voids, refunds or pre-auths).
        let invoiced = matches!(
            data.kind,
            TxnKind::Sale | TxnKind::PreAuthCompletion | TxnKind::QrSale
        );
        if let Some(url) = data.e_invoice_url().filter(|_| approved && invoiced) {
            lines.push(Line::Feed { lines: 1 });
            lines.push(text(
                l("扫码开具电子发票", "SCAN FOR E-INVOICE"),
                Align::Center,
                false,
                false,
            ));
            lines.push(Line::Qr { payload: url });
        }
        if data.reprint {
            lines.push(text(
                l("*** 重打印 ***", "*** REPRINT ***"),
                Align::Center,
                true,
                false,
            ));
        }
        lines.push(Line::Feed { lines: 3 });
        Receipt {
            copy,
            language: lang,
            lines,
        }
    }

    /// Plain text, `width` columns, lines joined with `\n` (no trailing newline). A QR code is
    /// printed as its URL.
    pub fn to_text(&self, width: Width) -> String {
        let mut out: Vec<String> = Vec::new();
        let cols = width.columns();
        for line in &self.lines {
            match line {
                Line::Text { text, align, .. } => {
                    for part in wrap(text, cols) {
                        out.push(aligned(&part, *align, cols));
                    }
                }
                Line::Pair { label, value, .. } => out.extend(pair_lines(label, value, cols)),
                Line::Rule => out.push("-".repeat(cols)),
                Line::Feed { lines: n } => out.extend((0..*n).map(|_| String::new())),
                Line::Qr { payload } => out.extend(wrap(payload, cols)),
            }
        }
        while out.last().is_some_and(String::is_empty) {
            out.pop();
        }
        out.join("\n")
    }

    /// ESC/POS bytes for a thermal printer: init, code page, the lines with alignment, bold and
    /// double size, the QR with `GS ( k`, a feed and a partial cut.
    pub fn to_escpos(&self, width: Width, code_page: CodePage) -> Result<Vec<u8>, ReceiptError> {
        let cols = width.columns();
        let mut b: Vec<u8> = Vec::with_capacity(2048);
        b.extend_from_slice(&[0x1B, 0x40]); // ESC @
        match code_page {
            CodePage::Gbk => b.extend_from_slice(&[0x1C, 0x26]), // FS &
            CodePage::Utf8 => b.extend_from_slice(&[0x1C, 0x28, 0x43, 0x02, 0x00, 0x30, 0x02]),
        }
        let enc = |s: &str| -> Vec<u8> {
            match code_page {
                CodePage::Utf8 => s.as_bytes().to_vec(),
                CodePage::Gbk => {
                    let (bytes, _, _) = encoding_rs::GBK.encode(s);
                    bytes.into_owned()
                }
            }
        };
        let align_cmd = |a: Align| -> [u8; 3] {
            [
                0x1B,
                0x61,
                match a {
                    Align::Left => 0,
                    Align::Center => 1,
                    Align::Right => 2,
                },
            ]
        };
        for line in &self.lines {
            match line {
                Line::Text {
                    text,
                    align,
                    bold,
                    double,
                } => {
                    b.extend_from_slice(&align_cmd(*align));
                    b.extend_from_slice(&[0x1B, 0x45, u8::from(*bold)]);
                    let double = fits_double(text, *double, cols);
                    b.extend_from_slice(&[0x1D, 0x21, if double { 0x11 } else { 0x00 }]);
                    let avail = if double { cols / 2 } else { cols };
                    for part in wrap(text, avail) {
                        b.extend(enc(&part));
                        b.push(0x0A);
                    }
                    b.extend_from_slice(&[0x1B, 0x45, 0, 0x1D, 0x21, 0]);
                }
                Line::Pair {
                    label,
                    value,
                    emphasis,
                } => {
                    b.extend_from_slice(&align_cmd(Align::Left));
                    if *emphasis {
                        // Double size halves the columns: label on its own line, then the value
                        // right-aligned in double size.
                        b.extend_from_slice(&[0x1B, 0x45, 1]);
                        b.extend(enc(label));
                        b.push(0x0A);
                        b.extend_from_slice(&align_cmd(Align::Right));
                        b.extend_from_slice(&[0x1D, 0x21, 0x11]);
                        b.extend(enc(value));
                        b.push(0x0A);
                        b.extend_from_slice(&[0x1B, 0x45, 0, 0x1D, 0x21, 0]);
                        b.extend_from_slice(&align_cmd(Align::Left));
                    } else {
                        for l in pair_lines(label, value, cols) {
                            b.extend(enc(&l));
                            b.push(0x0A);
                        }
                    }
                }
                Line::Rule => {
                    b.extend_from_slice(&align_cmd(Align::Left));
                    b.extend(std::iter::repeat_n(b'-', cols));
                    b.push(0x0A);
                }
                Line::Feed { lines: n } => b.extend_from_slice(&[0x1B, 0x64, *n]),
                Line::Qr { payload } => {
                    let data = payload.as_bytes();
                    let len = data
                        .len()
                        .checked_add(3)
                        .filter(|l| *l <= 7092)
                        .ok_or_else(|| {
                            ReceiptError::Qr(format!("{} bytes is too long for GS ( k", data.len()))
                        })?;
                    let (pl, ph) = ((len % 256) as u8, (len / 256) as u8);
                    b.extend_from_slice(&align_cmd(Align::Center));
                    // fn 165: model 2; fn 167: module 6 dots; fn 169: level M ('1' = 49).
                    b.extend_from_slice(&[0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00]);
                    b.extend_from_slice(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x06]);
                    b.extend_from_slice(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x31]);
                    // fn 180: store the data.
                    b.extend_from_slice(&[0x1D, 0x28, 0x6B, pl, ph, 0x31, 0x50, 0x30]);
                    b.extend_from_slice(data);
                    // fn 181: print it.
                    b.extend_from_slice(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30]);
                    b.push(0x0A);
                    b.extend_from_slice(&align_cmd(Align::Left));
                }
            }
        }
        b.extend_from_slice(&[0x1D, 0x56, 0x42, 0x00]); // GS V 66 0: feed and partial cut
        Ok(b)
    }

    /// A greyscale PNG: `width.columns() * 12` pixels wide, 24 pixels per text row (48 for
    /// double size), QR codes drawn at 4 pixels per module.
    pub fn to_png(&self, width: Width) -> Result<Vec<u8>, ReceiptError> {
        let mut canvas = Canvas::new(width.columns() * CELL_W);
        let cols = width.columns();
        for line in &self.lines {
            match line {
                Line::Text {
                    text,
                    align,
                    bold,
                    double,
                } => {
                    let scale = if fits_double(text, *double, cols) {
                        2
                    } else {
                        1
                    };
                    for part in wrap(text, cols / scale) {
                        let w = str_width(&part) * CELL_W * scale;
                        let x = match align {
                            Align::Left => 0,
                            Align::Center => canvas.width.saturating_sub(w) / 2,
                            Align::Right => canvas.width.saturating_sub(w),
                        };
                        canvas.text_row(&part, x, scale, *bold);
                    }
                }
                Line::Pair {
                    label,
                    value,
                    emphasis,
                } => {
                    if *emphasis {
                        canvas.text_row(label, 0, 1, true);
                        let w = str_width(value) * CELL_W * 2;
                        canvas.text_row(value, canvas.width.saturating_sub(w), 2, true);
                    } else {
                        for l in pair_lines(label, value, cols) {
                            canvas.text_row(&l, 0, 1, false);
                        }
                    }
                }
                Line::Rule => canvas.text_row(&"-".repeat(cols), 0, 1, false),
                Line::Feed { lines: n } => canvas.blank(usize::from(*n) * CELL_H),
                Line::Qr { payload } => {
                    let m = smartpos_qr::image::QrMatrix::encode(
                        payload,
                        &smartpos_qr::image::QrOptions::default(),
                    )
                    .map_err(|e| ReceiptError::Qr(e.to_string()))?;
                    canvas.qr(&m, 4);
                }
            }
        }
        canvas.png()
    }
}

const CELL_W: usize = 12;
const CELL_H: usize = 24;

/// A white canvas that grows downwards.
struct Canvas {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

impl Canvas {
    fn new(width: usize) -> Canvas {
        Canvas {
            width,
            height: 0,
            pixels: Vec::new(),
        }
    }

    fn blank(&mut self, rows: usize) {
        self.height += rows;
        self.pixels.resize(self.width * self.height, 0xFF);
    }

    fn set(&mut self, x: usize, y: usize) {
        if x < self.width
            && let Some(p) = self.pixels.get_mut(y * self.width + x)
        {
            *p = 0;
        }
    }

    /// One row of text at `x`, cells scaled by `scale`.
    fn text_row(&mut self, s: &str, x: usize, scale: usize, bold: bool) {
        let top = self.height;
        self.blank(CELL_H * scale);
        let mut cx = x;
        for c in s.chars() {
            let w = char_width(c);
            if w == 2
                && let Some(rows) = wide_glyph(c)
            {
                // 16 x 16 Unifont bitmap, 4 px padding left and top in the 24 x 24 cell pair.
                self.bitmap((cx, top), (4, 4), (16, 16), 1, scale, bold, |x, y| {
                    rows[y] & (0x8000 >> x) != 0
                });
            } else if w == 2 {
                // No glyph for it: an outlined two-cell box.
                let (bw, bh) = (2 * CELL_W * scale, CELL_H * scale);
                for dx in 2..bw.saturating_sub(2) {
                    self.set(cx + dx, top + 3 * scale);
                    self.set(cx + dx, top + bh - 3 * scale);
                }
                for dy in 3 * scale..=bh - 3 * scale {
                    self.set(cx + 2, top + dy);
                    self.set(cx + bw - 3, top + dy);
                }
            } else if w == 1 {
                match narrow_glyph(c) {
                    // 8 x 8 glyph, 2 px padding left, 4 px top, doubled vertically.
                    NarrowGlyph::Square(g) => {
                        self.bitmap((cx, top), (2, 4), (8, 8), 2, scale, bold, |x, y| {
                            g[y] & (1 << x) != 0
                        })
                    }
                    // 8 x 16 Unifont glyph, same padding, drawn 1:1.
                    NarrowGlyph::Tall(g) => {
                        self.bitmap((cx, top), (2, 4), (8, 16), 1, scale, bold, |x, y| {
                            g[y] & (0x80 >> x) != 0
                        })
                    }
                }
            }
            cx += w * CELL_W * scale;
        }
    }

    /// Draw a `size` (width, height) bitmap whose pixel (x, y) is dark when `dark(x, y)`, into
    /// the cell whose top-left corner is `at`, `pad` (left, top) glyph pixels in, each glyph
    /// pixel `scale` device pixels wide and `y_stretch * scale` high; bold adds one device
    /// pixel to the right of each dark one.
    #[allow(clippy::too_many_arguments)]
    fn bitmap(
        &mut self,
        at: (usize, usize),
        pad: (usize, usize),
        size: (usize, usize),
        y_stretch: usize,
        scale: usize,
        bold: bool,
        dark: impl Fn(usize, usize) -> bool,
    ) {
        for gy in 0..size.1 {
            for gx in 0..size.0 {
                if !dark(gx, gy) {
                    continue;
                }
                for sy in 0..y_stretch * scale {
                    for sx in 0..scale {
                        let px = at.0 + (pad.0 + gx) * scale + sx;
                        let py = at.1 + (pad.1 + gy * y_stretch) * scale + sy;
                        self.set(px, py);
                        if bold {
                            self.set(px + 1, py);
                        }
                    }
                }
            }
        }
    }

    fn qr(&mut self, m: &smartpos_qr::image::QrMatrix, scale: usize) {
        let side = m.size * scale;
        let scale = if side > self.width {
            (self.width / m.size.max(1)).max(1)
        } else {
            scale
        };
        let side = m.size * scale;
        let top = self.height;
        self.blank(side);
        let left = self.width.saturating_sub(side) / 2;
        for my in 0..m.size {
            for mx in 0..m.size {
                if m.is_dark(mx, my) {
                    for dy in 0..scale {
                        for dx in 0..scale {
                            self.set(left + mx * scale + dx, top + my * scale + dy);
                        }
                    }
                }
            }
        }
    }

    fn png(&self) -> Result<Vec<u8>, ReceiptError> {
        let err = |e: png::EncodingError| ReceiptError::Png(e.to_string());
        let w = u32::try_from(self.width).map_err(|_| ReceiptError::Png("too wide".into()))?;
        let h = u32::try_from(self.height).map_err(|_| ReceiptError::Png("too tall".into()))?;
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(err)?;
        writer.write_image_data(&self.pixels).map_err(err)?;
        writer.finish().map_err(err)?;
        Ok(out)
    }
}

/// The 16 × 16 GNU Unifont bitmap of a double-width character (rows top to bottom, bit 15 the
/// leftmost pixel), when the `cjk-png` feature is on and Unifont has a full-width glyph for it.
#[cfg(feature = "cjk-png")]
pub fn wide_glyph(c: char) -> Option<[u16; 16]> {
    match unifont::get_glyph(c)? {
        unifont::Glyph::Fullwidth(rows) => Some(*rows),
        unifont::Glyph::Halfwidth(_) => None,
    }
}

/// Without the `cjk-png` feature there are no double-width glyphs (boxes are drawn).
#[cfg(not(feature = "cjk-png"))]
pub fn wide_glyph(_c: char) -> Option<[u16; 16]> {
    None
}

/// A single-width glyph: 8 × 8 from `font8x8` (drawn doubled vertically), or 8 × 16 from
/// GNU Unifont for characters that font lacks.
enum NarrowGlyph {
    /// `font8x8` rows, bit 0 the leftmost pixel.
    Square([u8; 8]),
    /// Unifont rows, bit 7 the leftmost pixel.
    Tall([u8; 16]),
}

/// The glyph of a single-width character: `font8x8` (Basic Latin, Latin-1, box drawing), then
/// Unifont's half-width glyph (Cyrillic, Greek, Thai..., with `cjk-png`), then `?`.
fn narrow_glyph(c: char) -> NarrowGlyph {
    use font8x8::UnicodeFonts;
    if let Some(g) = font8x8::BASIC_FONTS
        .get(c)
        .or_else(|| font8x8::LATIN_FONTS.get(c))
        .or_else(|| font8x8::BOX_FONTS.get(c))
    {
        return NarrowGlyph::Square(g);
    }
    if let Some(g) = narrow_unifont(c) {
        return NarrowGlyph::Tall(g);
    }
    NarrowGlyph::Square(font8x8::BASIC_FONTS.get('?').unwrap_or([0; 8]))
}

/// The 8 × 16 GNU Unifont bitmap of a single-width character (rows top to bottom, bit 7 the
/// leftmost pixel), when the `cjk-png` feature is on and Unifont has a half-width glyph for it.
#[cfg(feature = "cjk-png")]
pub fn narrow_unifont(c: char) -> Option<[u8; 16]> {
    match unifont::get_glyph(c)? {
        unifont::Glyph::Halfwidth(rows) => Some(*rows),
        unifont::Glyph::Fullwidth(_) => None,
    }
}

/// Without the `cjk-png` feature: no Unifont glyphs.
#[cfg(not(feature = "cjk-png"))]
pub fn narrow_unifont(_c: char) -> Option<[u8; 16]> {
    None
}

/// Double size only when the text fits on one line at half the columns; else normal size
/// (a long merchant name stays on one line rather than wrapping in double size).
fn fits_double(text: &str, double: bool, cols: usize) -> bool {
    double && str_width(text) <= cols / 2
}

/// Split `s` into pieces of at most `cols` display columns (never splitting a character).
fn wrap(s: &str, cols: usize) -> Vec<String> {
    let cols = cols.max(2);
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = char_width(c);
        if w + cw > cols {
            out.push(std::mem::take(&mut cur));
            w = 0;
        }
        cur.push(c);
        w += cw;
    }
    if !cur.is_empty() || out.is_empty() {
        out.push(cur);
    }
    out
}

fn aligned(s: &str, align: Align, cols: usize) -> String {
    let pad = cols.saturating_sub(str_width(s));
    match align {
        Align::Left => s.to_string(),
        Align::Center => format!("{}{}", " ".repeat(pad / 2), s),
        Align::Right => format!("{}{}", " ".repeat(pad), s),
    }
}

/// `label ... value` on one line when both fit with a space between; else the label, then the
/// value right-aligned (wrapped when longer than a line).
fn pair_lines(label: &str, value: &str, cols: usize) -> Vec<String> {
    let (lw, vw) = (str_width(label), str_width(value));
    if lw + 1 + vw <= cols {
        return vec![format!("{label}{}{value}", " ".repeat(cols - lw - vw))];
    }
    let mut out = wrap(label, cols);
    out.extend(
        wrap(value, cols)
            .iter()
            .map(|v| aligned(v, Align::Right, cols)),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(local_date_time(0, 0).0, "1970-01-01 00:00:00");
        // 2026-11-21 10:15:03 UTC = 1_795_256_103 s; +08:00 is 18:15:03 local.
        assert_eq!(
            local_date_time(1_795_256_103_000, 480),
            ("2026-11-21 18:15:03".to_string(), "20261121".to_string())
        );
        assert_eq!(local_date_time(951_782_400_000, 0).1, "20000229");
    }

    #[test]
    fn widths_and_pairs() {
        assert_eq!(str_width("商户A"), 5);
        assert_eq!(char_width('，'), 2);
        assert_eq!(pair_lines("AB", "CD", 8), vec!["AB    CD"]);
        assert_eq!(pair_lines("金额", "1", 6), vec!["金额 1"]);
        assert_eq!(pair_lines("LABEL", "VALUE", 8), vec!["LABEL", "   VALUE"]);
        assert_eq!(wrap("商户商户", 3), vec!["商", "户", "商", "户"]);
    }

    #[test]
    fn amounts() {
        assert_eq!(format_amount(1234, "156"), "CNY 12.34");
        assert_eq!(format_amount(-5, "840"), "USD -0.05");
        assert_eq!(format_amount(1500, "392"), "JPY 1500");
    }

    #[test]
    fn pan_masking() {
        assert_eq!(mask_pan("4761739001010119"), "476173******0119");
        assert_eq!(mask_pan("476173******0119"), "476173******0119");
        assert_eq!(mask_pan("12345"), "12345");
    }

    #[test]
    fn cvm_results_9f34() {
        // EMV Book 3 Annex C3: '02' online PIN, '1E' signature, '1F' no CVM required,
        // '42' = online PIN with "apply succeeding" bit; byte 3 '02' successful, '01' failed.
        assert_eq!(
            CvmLine::from_cvm_results("420300"),
            Some(CvmLine::PinVerified)
        );
        assert_eq!(
            CvmLine::from_cvm_results("1E0300"),
            Some(CvmLine::Signature)
        );
        assert_eq!(CvmLine::from_cvm_results("1F0302"), Some(CvmLine::NoCvm));
        assert_eq!(
            CvmLine::from_cvm_results("030002"),
            Some(CvmLine::PinAndSignature)
        );
        assert_eq!(CvmLine::from_cvm_results("010001"), Some(CvmLine::NoCvm));
        assert_eq!(CvmLine::from_cvm_results("0102"), None);
        assert_eq!(CvmLine::from_cvm_results("zz"), None);
    }
}
