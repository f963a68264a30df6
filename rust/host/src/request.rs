//! The typed requests and answers of the flows: card data, PIN input, the request of each flow,
//! the terminal configuration, and the believed host response.

use crate::dialect::value_added as vad;
use crate::error::{HostError, ValueAddedError};
use crate::mac::MacAlgorithm;
use crate::response::ResponseCode;
use smartpos_crypto::pin::Pin;
use smartpos_iso8583::{Message, Tpdu, mask};
use std::fmt;

/// How the card was read (first two digits of field 22).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryMode {
    /// Key-entered PAN (01).
    Manual,
    /// Magnetic stripe (02).
    Magstripe,
    /// QR code (03, dialect).
    Qr,
    /// Contact chip (05).
    Chip,
    /// Contactless chip (07).
    Contactless,
    /// Magnetic stripe fallback after a chip failure (80).
    Fallback,
}

impl EntryMode {
    /// The two digits.
    pub fn code(self) -> &'static str {
        match self {
            EntryMode::Manual => "01",
            EntryMode::Magstripe => "02",
            EntryMode::Qr => "03",
            EntryMode::Chip => "05",
            EntryMode::Contactless => "07",
            EntryMode::Fallback => "80",
        }
    }
}

/// Card data of a request. `Debug` masks the PAN and hides track 2.
#[derive(Clone, PartialEq, Eq)]
pub struct CardData {
    /// PAN (field 2).
    pub pan: String,
    /// Track 2 equivalent data (field 35), `=` as separator.
    pub track2: Option<String>,
    /// Expiry YYMM (field 14).
    pub expiry: Option<String>,
    /// PAN sequence number, up to 3 digits (field 23).
    pub psn: Option<String>,
    /// How the card was read.
    pub entry_mode: EntryMode,
    /// Field 55 from the kernel (ARQC data, or TC for advices).
    pub icc_data: Option<Vec<u8>>,
}

impl CardData {
    /// A chip card by PAN with its field 55.
    pub fn chip(pan: &str, psn: &str, icc_data: Vec<u8>) -> CardData {
        CardData {
            pan: pan.to_string(),
            track2: None,
            expiry: None,
            psn: Some(psn.to_string()),
            entry_mode: EntryMode::Chip,
            icc_data: Some(icc_data),
        }
    }

    /// A key-entered card (no chip data).
    pub fn manual(pan: &str) -> CardData {
        CardData {
            pan: pan.to_string(),
            track2: None,
            expiry: None,
            psn: None,
            entry_mode: EntryMode::Manual,
            icc_data: None,
        }
    }
}

impl fmt::Debug for CardData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CardData")
            .field("pan", &mask::mask_pan(&self.pan))
            .field("track2", &self.track2.as_ref().map(|_| "<hidden>"))
            .field("psn", &self.psn)
            .field("entry_mode", &self.entry_mode)
            .field("icc_data", &self.icc_data.as_ref().map(Vec::len))
            .finish()
    }
}

/// The cardholder PIN of a request.
pub enum PinInput {
    /// No PIN (signature, no CVM, or offline PIN done by the card).
    None,
    /// A PIN block already enciphered by the PIN pad (ISO 9564 format 0 under the TPK, or under
    /// a DUKPT PIN key whose KSN is given).
    Encrypted {
        /// The 8-byte enciphered block.
        block: [u8; 8],
        /// The DUKPT KSN, when DUKPT was used.
        ksn: Option<[u8; 10]>,
    },
    /// A clear PIN (soft PIN entry, tests): enciphered here under the DUKPT PIN key when the client
    /// has a DUKPT originator, else under the TPK from sign-on, in ISO 9564 format 0.
    Clear(Pin),
}

impl fmt::Debug for PinInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PinInput::None => "PinInput::None",
            PinInput::Encrypted { .. } => "PinInput::Encrypted(<hidden>)",
            PinInput::Clear(_) => "PinInput::Clear(<hidden>)",
        })
    }
}

/// A sale or pre-authorisation.
#[derive(Debug)]
pub struct SaleRequest {
    /// Amount in minor units.
    pub amount: u64,
    /// The card.
    pub card: CardData,
    /// The PIN.
    pub pin: PinInput,
}

/// Longest merchant order reference (`ORD`), in characters.
pub const ORDER_REF_MAX: usize = 64;
/// Longest loyalty member id (`MBR`), in characters.
pub const MEMBER_ID_MAX: usize = 32;
/// Digits of the coupon discount (`CPN`, n12 minor units).
pub const COUPON_DIGITS: usize = 12;

/// Value-added data of a sale or pre-authorisation: the merchant's order reference, the loyalty
/// member id and the coupon discount already deducted from the amount. Travels in field 63 as
/// `VAD` + tag/length/value sub-elements (layout in [`crate::dialect`], "Value-added data").
/// `Debug` shows only the last 4 characters of the member id (it is often a phone number).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ValueAddedData {
    /// Merchant order reference: 1 to 64 printable ASCII characters without spaces.
    pub merchant_order_ref: Option<String>,
    /// Loyalty member id: 1 to 32 printable ASCII characters without spaces.
    pub member_id: Option<String>,
    /// Coupon discount in minor units, at most 12 digits; 0 means no coupon.
    pub coupon_discount: u64,
}

impl fmt::Debug for ValueAddedData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let member = self.member_id.as_ref().map(|m| {
            let tail: String = m
                .chars()
                .rev()
                .take(4)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("*{tail}")
        });
        f.debug_struct("ValueAddedData")
            .field("merchant_order_ref", &self.merchant_order_ref)
            .field("member_id", &member)
            .field("coupon_discount", &self.coupon_discount)
            .finish()
    }
}

/// One sub-element value: `max` printable ASCII characters without spaces (0x21..=0x7E).
fn check_text(value: &str, max: usize) -> Result<(), String> {
    if value.is_empty() || value.len() > max {
        return Err(format!(
            "must be 1 to {max} characters, got {}",
            value.len()
        ));
    }
    match value.bytes().position(|b| !b.is_ascii_graphic()) {
        Some(i) => Err(format!(
            "character {i} is not printable ASCII without spaces (0x21..=0x7E)"
        )),
        None => Ok(()),
    }
}

impl ValueAddedData {
    /// From the terminal's fields; empty strings count as absent.
    pub fn new(
        merchant_order_ref: Option<&str>,
        member_id: Option<&str>,
        coupon_discount: u64,
    ) -> ValueAddedData {
        let some = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_string);
        ValueAddedData {
            merchant_order_ref: some(merchant_order_ref),
            member_id: some(member_id),
            coupon_discount,
        }
    }

    /// True when there is nothing to send (no order reference, no member id, no discount).
    pub fn is_empty(&self) -> bool {
        self.merchant_order_ref.is_none() && self.member_id.is_none() && self.coupon_discount == 0
    }

    /// Check lengths and character sets; [`HostError::InvalidRequest`] names the field.
    pub fn validate(&self) -> Result<(), HostError> {
        let invalid =
            |field: &'static str, reason: String| HostError::InvalidRequest { field, reason };
        if let Some(o) = &self.merchant_order_ref {
            check_text(o, ORDER_REF_MAX)
                .map_err(|r| invalid("value_added.merchant_order_ref", r))?;
        }
        if let Some(m) = &self.member_id {
            check_text(m, MEMBER_ID_MAX).map_err(|r| invalid("value_added.member_id", r))?;
        }
        if self.coupon_discount > 999_999_999_999 {
            return Err(invalid(
                "value_added.coupon_discount",
                format!(
                    "{} does not fit {COUPON_DIGITS} digits",
                    self.coupon_discount
                ),
            ));
        }
        Ok(())
    }

    /// The field 63 text: `VAD`, then `ORD`, `MBR` and `CPN` sub-elements (each tag, 2-digit
    /// length, value) for what is present; `None` when [`ValueAddedData::is_empty`].
    pub fn to_field63(&self) -> Result<Option<String>, HostError> {
        self.validate()?;
        if self.is_empty() {
            return Ok(None);
        }
        let mut out = String::from(vad::MARKER);
        let mut element = |tag: &str, value: &str| {
            out.push_str(tag);
            out.push_str(&format!("{:02}", value.len()));
            out.push_str(value);
        };
        if let Some(o) = &self.merchant_order_ref {
            element(vad::ORDER_REF, o);
        }
        if let Some(m) = &self.member_id {
            element(vad::MEMBER_ID, m);
        }
        if self.coupon_discount > 0 {
            element(
                vad::COUPON,
                &format!("{:0width$}", self.coupon_discount, width = COUPON_DIGITS),
            );
        }
        Ok(Some(out))
    }

    /// Parse field 63 bytes that start with `VAD` (the host side). Strict: at least one
    /// sub-element, each tag at most once, no unknown tag, lengths and characters as
    /// [`ValueAddedData::validate`] requires, no byte left over.
    pub fn from_field63(field: &[u8]) -> Result<ValueAddedData, ValueAddedError> {
        let body = field
            .strip_prefix(vad::MARKER.as_bytes())
            .ok_or(ValueAddedError::NoMarker)?;
        if body.is_empty() {
            return Err(ValueAddedError::Empty);
        }
        let mut out = ValueAddedData::default();
        let mut coupon_seen = false;
        let mut at = 0usize;
        while at < body.len() {
            let offset = vad::MARKER.len() + at;
            let truncated = |what| ValueAddedError::Truncated { offset, what };
            let tag = body.get(at..at + 3).ok_or(truncated("tag"))?;
            let len = body.get(at + 3..at + 5).ok_or(truncated("length"))?;
            let length = match len {
                [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => {
                    usize::from(a - b'0') * 10 + usize::from(b - b'0')
                }
                _ => 0,
            };
            if length == 0 {
                return Err(ValueAddedError::BadLength {
                    offset,
                    length: String::from_utf8_lossy(len).into_owned(),
                });
            }
            let value = body
                .get(at + 5..at + 5 + length)
                .ok_or(truncated("value"))?;
            at += 5 + length;
            let text = |tag: &'static str, max: usize| {
                let t = std::str::from_utf8(value).map_err(|_| ValueAddedError::BadValue {
                    tag,
                    reason: "not ASCII".into(),
                })?;
                check_text(t, max).map_err(|reason| ValueAddedError::BadValue { tag, reason })?;
                Ok::<String, ValueAddedError>(t.to_string())
            };
            let duplicate = |tag: &'static str| ValueAddedError::Duplicate { tag };
            match tag {
                t if t == vad::ORDER_REF.as_bytes() => {
                    if out.merchant_order_ref.is_some() {
                        return Err(duplicate(vad::ORDER_REF));
                    }
                    out.merchant_order_ref = Some(text(vad::ORDER_REF, ORDER_REF_MAX)?);
                }
                t if t == vad::MEMBER_ID.as_bytes() => {
                    if out.member_id.is_some() {
                        return Err(duplicate(vad::MEMBER_ID));
                    }
                    out.member_id = Some(text(vad::MEMBER_ID, MEMBER_ID_MAX)?);
                }
                t if t == vad::COUPON.as_bytes() => {
                    if coupon_seen {
                        return Err(duplicate(vad::COUPON));
                    }
                    coupon_seen = true;
                    let bad = |reason: &str| ValueAddedError::BadValue {
                        tag: vad::COUPON,
                        reason: reason.to_string(),
                    };
                    if value.len() != COUPON_DIGITS || !value.iter().all(u8::is_ascii_digit) {
                        return Err(bad("must be 12 digits (minor units)"));
                    }
                    let amount: u64 = std::str::from_utf8(value)
                        .ok()
                        .and_then(|t| t.parse().ok())
                        .ok_or_else(|| bad("not a number"))?;
                    if amount == 0 {
                        return Err(bad("a zero discount is sent by leaving CPN out"));
                    }
                    out.coupon_discount = amount;
                }
                other => {
                    return Err(ValueAddedError::UnknownTag {
                        offset,
                        tag: String::from_utf8_lossy(other).into_owned(),
                    });
                }
            }
        }
        Ok(out)
    }
}

/// Void of an approved sale of the current batch.
#[derive(Debug)]
pub struct VoidRequest {
    /// Amount of the original.
    pub amount: u64,
    /// The card.
    pub card: CardData,
    /// The PIN, if the acquirer asks for one on voids.
    pub pin: PinInput,
    /// STAN of the original sale.
    pub original_stan: u32,
    /// RRN of the original sale.
    pub original_rrn: String,
    /// Authorisation code of the original sale.
    pub original_auth_code: String,
}

/// Refund of an earlier sale (any batch).
#[derive(Debug)]
pub struct RefundRequest {
    /// Amount to refund.
    pub amount: u64,
    /// The card.
    pub card: CardData,
    /// RRN of the original sale.
    pub original_rrn: String,
    /// Date of the original sale, MMDD.
    pub original_date: String,
}

/// Completion of a pre-authorisation.
#[derive(Debug)]
pub struct CompletionRequest {
    /// Final amount.
    pub amount: u64,
    /// The card.
    pub card: CardData,
    /// Authorisation code of the pre-authorisation.
    pub original_auth_code: String,
    /// STAN of the pre-authorisation.
    pub original_stan: u32,
    /// Date of the pre-authorisation, MMDD.
    pub original_date: String,
}

/// One transaction of the batch, for the batch upload (0320).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRecord {
    /// STAN of the transaction.
    pub stan: u32,
    /// Processing code (000000 debit, 200000 credit).
    pub processing_code: String,
    /// Amount.
    pub amount: u64,
    /// PAN (or empty for QR).
    pub pan: String,
    /// RRN, if the host gave one.
    pub rrn: Option<String>,
    /// Authorisation code, if any.
    pub auth_code: Option<String>,
}

/// How a settlement ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettlementOutcome {
    /// Totals agreed at the first 0500.
    Balanced,
    /// Totals differed (95), the batch was uploaded (this many 0320s) and the second 0500 agreed.
    BalancedAfterUpload {
        /// Number of records uploaded.
        uploaded: usize,
    },
}

/// Status of a QR wallet order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QrStatus {
    /// Paid.
    Paid,
    /// Waiting for the customer to confirm in the wallet app.
    Pending,
    /// Revoked or closed.
    Revoked,
}

/// A QR wallet order, as returned by [`crate::HostClient::qr_pay`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrOrder {
    /// The order reference (RRN).
    pub rrn: String,
    /// STAN of the pay request.
    pub stan: u32,
    /// Amount.
    pub amount: u64,
    /// Status at the time of the last answer.
    pub status: QrStatus,
}

/// A MAC-checked response that matched its request.
#[derive(Clone)]
pub struct HostResponse {
    /// Field 39.
    pub code: ResponseCode,
    /// Field 11 (= the request's STAN).
    pub stan: u32,
    /// Field 37.
    pub rrn: Option<String>,
    /// Field 38.
    pub auth_code: Option<String>,
    /// Field 55 (issuer authentication data 91, scripts 71/72).
    pub icc_data: Option<Vec<u8>>,
    /// Field 4 (balance inquiry: the balance).
    pub amount: Option<u64>,
    /// Field 15, settlement date MMDD.
    pub settlement_date: Option<String>,
    /// The whole response message (Debug masks it).
    pub message: Message,
}

impl fmt::Debug for HostResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostResponse")
            .field("code", &self.code)
            .field("stan", &self.stan)
            .field("rrn", &self.rrn)
            .field("auth_code", &self.auth_code)
            .field("icc_data", &self.icc_data.as_ref().map(Vec::len))
            .finish()
    }
}

impl HostResponse {
    pub(crate) fn from_message(message: Message) -> Result<HostResponse, HostError> {
        let code = message
            .response_code()
            .and_then(ResponseCode::parse)
            .ok_or(HostError::MissingField {
                field: 39,
                what: "response code",
            })?;
        let stan = message
            .stan()
            .ok()
            .flatten()
            .and_then(|s| u32::try_from(s).ok())
            .ok_or(HostError::MissingField {
                field: 11,
                what: "STAN",
            })?;
        Ok(HostResponse {
            code,
            stan,
            rrn: message.rrn().map(str::to_string),
            auth_code: message.auth_code().map(str::to_string),
            icc_data: message.binary(55).map(<[u8]>::to_vec),
            amount: message.amount().ok().flatten(),
            settlement_date: message.text(15).map(str::to_string),
            message,
        })
    }

    pub(crate) fn approved(self) -> Result<HostResponse, HostError> {
        if self.code.is_approved() {
            Ok(self)
        } else {
            Err(HostError::Declined {
                code: self.code,
                response: Box::new(self),
            })
        }
    }
}

/// The terminal's identity and link parameters.
#[derive(Debug, Clone)]
pub struct TerminalConfig {
    /// Field 41 (8 characters).
    pub terminal_id: String,
    /// Field 42 (15 characters).
    pub merchant_id: String,
    /// TPDU of requests.
    pub tpdu: Tpdu,
    /// The 6-byte header.
    pub header: [u8; 6],
    /// Field 49 currency (ISO 4217 numeric), e.g. `156`.
    pub currency: String,
    /// Field 64 algorithm.
    pub mac_algorithm: MacAlgorithm,
    /// Current batch number (60.2).
    pub batch: u32,
}

impl TerminalConfig {
    /// Defaults for a terminal: TPDU 60 0001 0000, header 60 31 00 31 00 00, CNY, UnionPay ECB MAC,
    /// batch 1.
    pub fn new(terminal_id: &str, merchant_id: &str) -> TerminalConfig {
        TerminalConfig {
            terminal_id: terminal_id.to_string(),
            merchant_id: merchant_id.to_string(),
            tpdu: Tpdu::new(0x0001, 0x0000),
            header: [0x60, 0x31, 0x00, 0x31, 0x00, 0x00],
            currency: "156".to_string(),
            mac_algorithm: MacAlgorithm::CupEcb,
            batch: 1,
        }
    }
}
