//! [`PosTerminal`]: smartpos-terminal's `Terminal` behind coarse async calls (ARCHITECTURE.md
//! "A contactless sale, end to end": risk pre-check, journal, kernel over the app's reader, host,
//! completion, receipt, events).
//!
//! The app supplies its devices as callbacks ([`PosCardReader`], [`PosPinPad`], [`PosPrinter`],
//! [`PosQrScanner`], [`PosQrDisplay`], [`PosIndicators`]) and a [`TransactionEvents`] listener;
//! its keys either as a [`crate::KeyStoreCallback`] (the device's secure key store) or as seed
//! bytes of the software store, and its supervisor prompt as a [`crate::SupervisorCallback`]
//! checked against [`crate::PosOperators`]. This module wraps each into the terminal's trait and
//! converts records and errors (`From`/`TryFrom` impls, never copies of the terminal's logic).
//! Every decision (limits, journalling, reversals, receipt layout, roles) is smartpos-terminal's.
//!
//! Calls are `async`: each runs the blocking terminal operation on the terminal's one long-lived
//! worker thread (in call order) and completes the future when it returns, so a Kotlin
//! coroutine suspends instead of blocking, and every device callback of every operation comes
//! from that one thread (the JVM attaches it once; see the facade's `CallbackThreads`). A
//! [`CancellationHandle`] passed to a call reaches the terminal's `CancelToken`, which the card
//! wait, the kernel's card link, the QR polling and the host link check. Device callbacks must
//! not wait for another call of the same terminal (it would queue behind them).

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_emv::cvm::PlaintextPinBlock;
use smartpos_emv::{Apdu, CardTransport, Response, TransportError};
use smartpos_journal::{OriginalRef, TxnId};
use smartpos_terminal::devices::{
    Beep, CardReader as TerminalCardReader, Confirmation, Confirmer, DeviceError, EncryptedPin,
    Indicators, Interfaces, PinPad as TerminalPinPad, PinPadError, Presented, PrintJob, Printer,
    QrDisplay, QrScanner, ReaderError, SwipedCard,
};
use smartpos_terminal::operator::MemoryAudit;
use smartpos_terminal::receipt::{CodePage, MerchantInfo, Receipt, ReceiptData, Width};
use smartpos_terminal::report::{SettlementReport, TotalsReport};
use smartpos_terminal::{
    AllowAll, AuthError, Authoriser, CancelToken, Devices, Event, EventSink, LedStatus, OperatorId,
    PaymentMethod, Reprint, SaleRequest, SettlementResult, SharedKeyStore, SignOnResult,
    SoftKeyStore, Status, Terminal, TerminalError, TransactionOutcome, ValueAdded,
};
use zeroize::{Zeroize, Zeroizing};

use crate::error::SmartPosError;
use crate::kernel::OfflinePinEntry;
use crate::keystore::{CallbackKeyStore, KeyStoreCallback, PosSecretKey};
use crate::operators::{PosOperators, SupervisorAuthoriser, SupervisorCallback};
use crate::receipts::{
    PosLanguage, PosReceipt, PosReceiptCopy, PosReceiptData, PosSettlementReport, PosTotalsReport,
};
use crate::session::CancellationHandle;

// ---------------------------------------------------------------------------------------------
// Device callbacks
// ---------------------------------------------------------------------------------------------

/// What the card reader found (EMV Book A §5: contact, contactless, stripe).
#[derive(Clone, PartialEq, Eq, uniffi::Enum)]
pub enum CardPresentation {
    /// A card in the contact slot; APDUs go through [`PosCardReader::transceive`].
    Chip,
    /// A card or phone in the contactless field, activated; APDUs through `transceive`.
    Contactless,
    /// A swipe: track 2 (ISO/IEC 7813) without sentinels, `=` separator.
    Swipe {
        /// Track 2 data; never logged.
        track2: String,
    },
    /// More than one card in the field (EMV Book D §9.3).
    Collision,
    /// Nothing within the timeout.
    NoCard,
}

impl std::fmt::Debug for CardPresentation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CardPresentation::Chip => "Chip",
            CardPresentation::Contactless => "Contactless",
            CardPresentation::Swipe { .. } => "Swipe(<track 2 hidden>)",
            CardPresentation::Collision => "Collision",
            CardPresentation::NoCard => "NoCard",
        })
    }
}

/// The terminal's card reader (contact slot, contactless field, stripe head).
#[uniffi::export(callback_interface)]
pub trait PosCardReader: Send + Sync {
    /// Open the named interfaces and wait up to `timeout_ms` for a card.
    fn detect(
        &self,
        contact: bool,
        contactless: bool,
        magstripe: bool,
        timeout_ms: u64,
    ) -> Result<CardPresentation, SmartPosError>;
    /// Exchange one APDU with the card found by `detect` (ISO/IEC 7816-4 §5).
    fn transceive(&self, apdu: Vec<u8>) -> Result<Vec<u8>, SmartPosError>;
    /// Wait up to `timeout_ms` for the card to leave the slot or field.
    fn wait_for_removal(&self, timeout_ms: u64) -> Result<(), SmartPosError>;
}

/// An online PIN from the PIN pad (ISO 9564-1 format 0 under the TPK, or DUKPT with its KSN).
#[derive(Clone, PartialEq, Eq, uniffi::Enum)]
pub enum PosOnlinePin {
    /// The enciphered 8-byte block, and the DUKPT KSN (10 bytes) when DUKPT was used.
    Entered {
        /// Enciphered PIN block.
        block: Vec<u8>,
        /// DUKPT key serial number, if any.
        ksn: Option<Vec<u8>>,
    },
    /// The cardholder bypassed PIN entry.
    Bypassed,
    /// The cardholder or attendant cancelled PIN entry.
    Cancelled,
}

impl std::fmt::Debug for PosOnlinePin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PosOnlinePin::Entered { .. } => "Entered(<encrypted>)",
            PosOnlinePin::Bypassed => "Bypassed",
            PosOnlinePin::Cancelled => "Cancelled",
        })
    }
}

/// The PIN pad (secure device).
#[uniffi::export(callback_interface)]
pub trait PosPinPad: Send + Sync {
    /// Online PIN for `pan` (format 0 needs it; never show or log it), enciphered by the pad.
    fn online_pin(&self, pan: String, amount: u64) -> Result<PosOnlinePin, SmartPosError>;
    /// Offline PIN digits for the card to verify (EMV Book 3 §10.5.1), as ASCII digit bytes
    /// (zeroized by Rust on arrival; the app must clear its own array).
    fn offline_pin(&self, tries_left: Option<u8>) -> Result<OfflinePinEntry, SmartPosError>;
}

/// The receipt printer.
#[uniffi::export(callback_interface)]
pub trait PosPrinter: Send + Sync {
    /// Print one receipt: its text lines, and ESC/POS bytes when rendered for a thermal head.
    fn print(&self, lines: Vec<String>, escpos: Option<Vec<u8>>) -> Result<(), SmartPosError>;
}

/// The QR scanner (camera or scan head), for wallet payment codes.
#[uniffi::export(callback_interface)]
pub trait PosQrScanner: Send + Sync {
    /// Scan one code within `timeout_ms`.
    fn scan(&self, timeout_ms: u64) -> Result<String, SmartPosError>;
}

/// Beeper and status LEDs (EMV Contactless Book A §8.2).
#[uniffi::export(callback_interface)]
pub trait PosIndicators: Send + Sync {
    /// Success (`true`) or alert tone.
    fn beep(&self, success: bool);
    /// LED status: `off`, `ready_to_read`, `processing`, `card_read_ok`, `error`.
    fn leds(&self, status: String);
}

/// One UI event of a transaction (prompt, LED, progress, merchant QR).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PosEvent {
    /// `prompt`, `led`, `progress`, `merchant_qr`, `merchant_qr_cleared`.
    pub kind: String,
    /// The message id, LED status or step (`present_card`, `enter_pin`, `online`, ...).
    pub name: String,
    /// PIN tries left, for `enter_pin` / `incorrect_pin` prompts.
    pub tries_left: Option<u8>,
    /// The QR payload of `merchant_qr`.
    pub payload: Option<String>,
    /// How long a contactless reader message stays on the display, ms (EMV Contactless Book A
    /// §9.1 Hold Time, Table 9-1), for prompts raised by a contactless kernel.
    pub hold_time_ms: Option<u32>,
    /// The raw Book A message identifier (Table 9-5, e.g. `0x1B` "Authorising, please wait"),
    /// for prompts raised by a contactless kernel; apps that map codes themselves use it.
    pub book_a_code: Option<u8>,
}

impl PosEvent {
    fn new(kind: &str, name: String) -> PosEvent {
        PosEvent {
            kind: kind.into(),
            name,
            tries_left: None,
            payload: None,
            hold_time_ms: None,
            book_a_code: None,
        }
    }
}

/// The app's listener for transaction events and attendant questions. Called on the thread
/// running the transaction; keep it quick.
#[uniffi::export(callback_interface)]
pub trait TransactionEvents: Send + Sync {
    /// One event.
    fn on_event(&self, event: PosEvent);
    /// Same card and amount within the duplicate window: charge again?
    fn confirm_duplicate(&self, pan_masked: String, amount: u64) -> bool;
}

fn name_of<T: serde::Serialize + std::fmt::Debug>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{value:?}"),
    }
}

fn device_reason(error: SmartPosError) -> String {
    error.to_string()
}

/// The card link of a presented card: the reader's `transceive`, checking the cancel token.
struct CardLink {
    reader: Arc<dyn PosCardReader>,
    cancel: CancelToken,
}

impl CardTransport for CardLink {
    fn atr(&self) -> &[u8] {
        &[]
    }
    fn exchange(&mut self, command: &Apdu) -> Result<Response, TransportError> {
        if self.cancel.is_cancelled() {
            return Err(TransportError::Io("cancelled".into()));
        }
        let bytes = command.encode()?;
        let raw = self
            .reader
            .transceive(bytes)
            .map_err(|e| TransportError::Io(e.to_string()))?;
        Response::from_bytes(&raw).ok_or(TransportError::MalformedResponse(raw.len()))
    }
}

struct ReaderAdapter(Arc<dyn PosCardReader>);

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl TerminalCardReader for ReaderAdapter {
    fn detect(
        &mut self,
        interfaces: Interfaces,
        timeout: Duration,
        cancel: &CancelToken,
    ) -> Result<Presented, ReaderError> {
        if cancel.is_cancelled() {
            return Err(ReaderError::Cancelled);
        }
        let found = self
            .0
            .detect(
                interfaces.contact,
                interfaces.contactless,
                interfaces.magstripe,
                millis(timeout),
            )
            .map_err(|e| match e {
                SmartPosError::Cancelled { .. } => ReaderError::Cancelled,
                other => ReaderError::Hardware(device_reason(other)),
            })?;
        if cancel.is_cancelled() {
            return Err(ReaderError::Cancelled);
        }
        let link = || {
            Box::new(CardLink {
                reader: self.0.clone(),
                cancel: cancel.clone(),
            })
        };
        Ok(match found {
            CardPresentation::Chip => Presented::Chip(link()),
            CardPresentation::Contactless => Presented::Contactless(link()),
            CardPresentation::Swipe { track2 } => Presented::Swipe(SwipedCard {
                track2: Zeroizing::new(track2),
            }),
            CardPresentation::Collision => Presented::Collision,
            CardPresentation::NoCard => return Err(ReaderError::Timeout),
        })
    }

    fn wait_for_removal(&mut self, timeout: Duration) -> Result<(), ReaderError> {
        self.0
            .wait_for_removal(millis(timeout))
            .map_err(|e| ReaderError::Hardware(device_reason(e)))
    }
}

struct PinPadAdapter(Box<dyn PosPinPad>);

impl TerminalPinPad for PinPadAdapter {
    fn online_pin(&mut self, pan: &str, amount: u64) -> Result<EncryptedPin, PinPadError> {
        match self.0.online_pin(pan.to_string(), amount) {
            Ok(PosOnlinePin::Entered { block, ksn }) => {
                let block: [u8; 8] = block.as_slice().try_into().map_err(|_| {
                    PinPadError::Failure(format!(
                        "an enciphered PIN block has 8 bytes, got {}",
                        block.len()
                    ))
                })?;
                let ksn = match ksn {
                    Some(k) => Some(<[u8; 10]>::try_from(k.as_slice()).map_err(|_| {
                        PinPadError::Failure(format!("a DUKPT KSN has 10 bytes, got {}", k.len()))
                    })?),
                    None => None,
                };
                Ok(EncryptedPin { block, ksn })
            }
            Ok(PosOnlinePin::Bypassed) => Err(PinPadError::Bypassed),
            Ok(PosOnlinePin::Cancelled) => Err(PinPadError::Cancelled),
            Err(e) => Err(PinPadError::Failure(device_reason(e))),
        }
    }

    fn offline_pin(&mut self, tries_left: Option<u8>) -> Result<PlaintextPinBlock, PinPadError> {
        match self.0.offline_pin(tries_left) {
            Ok(OfflinePinEntry::Entered { digits }) => crate::kernel::offline_pin_block(digits)
                .ok_or_else(|| PinPadError::Failure("a PIN has 4 to 12 digits".into())),
            Ok(OfflinePinEntry::Bypassed) => Err(PinPadError::Bypassed),
            Ok(OfflinePinEntry::Failed) => Err(PinPadError::Failure("PIN pad failed".into())),
            Err(e) => Err(PinPadError::Failure(device_reason(e))),
        }
    }
}

struct ScannerAdapter(Box<dyn PosQrScanner>);

impl QrScanner for ScannerAdapter {
    fn scan(&mut self, timeout: Duration, cancel: &CancelToken) -> Result<String, DeviceError> {
        if cancel.is_cancelled() {
            return Err(DeviceError::Cancelled);
        }
        self.0.scan(millis(timeout)).map_err(|e| match e {
            SmartPosError::Cancelled { .. } => DeviceError::Cancelled,
            other => DeviceError::Failure(device_reason(other)),
        })
    }
}

struct IndicatorsAdapter(Box<dyn PosIndicators>);

impl Indicators for IndicatorsAdapter {
    fn beep(&mut self, beep: Beep) {
        self.0.beep(matches!(beep, Beep::Success));
    }
    fn leds(&mut self, status: LedStatus) {
        self.0.leds(name_of(&status));
    }
}

/// Events, merchant-QR display and confirmations all go to the one listener.
struct EventsAdapter(Arc<dyn TransactionEvents>);

impl From<&Event> for PosEvent {
    fn from(event: &Event) -> Self {
        match event {
            Event::Prompt {
                id,
                tries_left,
                book_a,
            } => PosEvent {
                tries_left: *tries_left,
                hold_time_ms: book_a.map(|b| b.hold_time_ms),
                book_a_code: book_a.map(|b| b.code),
                ..PosEvent::new("prompt", name_of(id))
            },
            Event::Led { status } => PosEvent::new("led", name_of(status)),
            Event::Progress { step } => PosEvent::new("progress", name_of(step)),
            Event::MerchantQr { payload } => PosEvent {
                payload: Some(payload.clone()),
                ..PosEvent::new("merchant_qr", "merchant_qr".into())
            },
        }
    }
}

impl EventSink for EventsAdapter {
    fn event(&self, event: &Event) {
        self.0.on_event(PosEvent::from(event));
    }
}

/// The customer-facing display of a merchant-presented QR (EMVCo MPM): a second screen, or
/// the terminal's own screen turned to the customer.
#[uniffi::export(callback_interface)]
pub trait PosQrDisplay: Send + Sync {
    /// Show `payload` as a QR code (EMV QRCPS-MPM: the whole string, CRC included).
    fn show(&self, payload: String) -> Result<(), SmartPosError>;
    /// Take it off the screen (paid, revoked or cancelled).
    fn clear(&self) -> Result<(), SmartPosError>;
}

/// The app's QR display when it set one ([`PosTerminal::set_qr_display`]).
type SharedQrDisplay = Arc<Mutex<Option<Box<dyn PosQrDisplay>>>>;

/// The terminal's merchant-QR display: the app's [`PosQrDisplay`] when set, and the listener's
/// `merchant_qr_cleared` event. (The payload also reaches the listener as the one `merchant_qr`
/// event the terminal raises itself with `Event::MerchantQr`; `show` adds no second event, which
/// would show, and let a wallet pay, the same order twice.)
struct QrDisplayAdapter {
    display: SharedQrDisplay,
    events: Arc<dyn TransactionEvents>,
}

impl QrDisplay for QrDisplayAdapter {
    fn show(&mut self, payload: &str) {
        if let Some(d) = lock(&self.display).as_ref()
            && let Err(e) = d.show(payload.to_string())
        {
            // The listener still has the payload (merchant_qr event): the sale goes on.
            log::warn!("QR display failed: {e}");
        }
    }
    fn clear(&mut self) {
        if let Some(d) = lock(&self.display).as_ref()
            && let Err(e) = d.clear()
        {
            log::warn!("QR display failed to clear: {e}");
        }
        self.events.on_event(PosEvent::new(
            "merchant_qr_cleared",
            "merchant_qr_cleared".into(),
        ));
    }
}

impl Confirmer for EventsAdapter {
    fn confirm(&mut self, question: &Confirmation) -> bool {
        match question {
            Confirmation::Duplicate { pan_masked, amount } => {
                self.0.confirm_duplicate(pan_masked.clone(), *amount)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

/// Keys for the software key store (test and demo terminals; production terminals keep keys in
/// the secure element). Zeroized after use; `Debug` shows nothing.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct PosKeys {
    /// Terminal master key, double-length TDES (16 bytes).
    pub master_key: Vec<u8>,
    /// Journal PAN hash key (32 bytes): the same across restarts of one journal.
    pub journal_hash_key: Vec<u8>,
    /// Journal PAN data key (32 bytes).
    pub journal_data_key: Vec<u8>,
}

impl std::fmt::Debug for PosKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PosKeys(<hidden>)")
    }
}

/// How the customer pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PosPaymentMethod {
    /// A card by any interface (chip, contactless, stripe).
    Card,
    /// The terminal scans the customer's wallet payment code ([`PosQrScanner`]).
    ScanWalletCode,
    /// The terminal shows its merchant-presented QR (EMVCo MPM; the payload arrives as a
    /// `merchant_qr` event) and polls the host until the customer has paid.
    MerchantQr,
}

impl From<PosPaymentMethod> for PaymentMethod {
    fn from(m: PosPaymentMethod) -> Self {
        match m {
            PosPaymentMethod::Card => PaymentMethod::Card,
            PosPaymentMethod::ScanWalletCode => PaymentMethod::ScanWalletCode,
            PosPaymentMethod::MerchantQr => PaymentMethod::MerchantQr,
        }
    }
}

/// A sale (or pre-authorisation) request.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PosSaleRequest {
    /// Amount of goods and services after any coupon, minor units.
    pub amount: u64,
    /// Tip, minor units.
    pub tip: u64,
    /// Cashback, minor units.
    pub cashback: u64,
    /// Cashier id.
    pub operator_id: String,
    /// The merchant's order reference, if any.
    pub order_ref: Option<String>,
    /// How the customer pays.
    pub method: PosPaymentMethod,
    /// Loyalty member id (value-added data: journal, host message, receipt).
    #[uniffi(default = None)]
    pub member_id: Option<String>,
    /// Coupon discount already taken off `amount`, minor units (printed on the receipt).
    #[uniffi(default = 0)]
    pub coupon_discount: u64,
}

impl From<PosSaleRequest> for SaleRequest {
    fn from(r: PosSaleRequest) -> Self {
        SaleRequest {
            amount: r.amount,
            tip: r.tip,
            cashback: r.cashback,
            value_added: ValueAdded {
                merchant_order_ref: r.order_ref,
                member_id: r.member_id,
                coupon_discount: r.coupon_discount,
            },
            operator_id: r.operator_id,
            method: r.method.into(),
        }
    }
}

/// How a transaction ended. Declines raise `Declined`; a transaction whose authorisation was
/// reversed (no usable host answer) raises `HostUnavailable`; a refund without an answer is
/// [`PosStatus::Pending`] (refunds are never reversed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PosStatus {
    /// Approved by the host.
    Approved,
    /// Approved offline by the card (TC).
    ApprovedOffline,
    /// QR order revoked.
    Revoked,
    /// A refund the host has not answered yet: queued as a store-and-forward advice and sent
    /// again (`flush_queues`, before every transaction) until the host answers. Not refunded
    /// yet; do not refund another way (it still counts against the original sale).
    Pending,
}

/// A finished transaction, as receipts and the app show it (smartpos-terminal's
/// `TransactionOutcome`). PAN masked, no track data.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PosTransaction {
    /// Journal id (for void, refund, completion, receipts).
    pub txn_id: i64,
    /// `sale`, `void`, `refund`, `pre_auth`, `pre_auth_completion`, `balance_inquiry`,
    /// `qr_sale`.
    pub kind: String,
    /// How it ended.
    pub status: PosStatus,
    /// ISO 8583 field 39, if the host answered.
    pub response_code: Option<String>,
    /// Cardholder/attendant message.
    pub message: String,
    /// Amount (minor units).
    pub amount: i64,
    /// Tip.
    pub tip: i64,
    /// Cashback.
    pub cashback: i64,
    /// Amount + tip + cashback.
    pub total: i64,
    /// ISO 4217 currency.
    pub currency: String,
    /// System trace audit number (field 11).
    pub stan: u32,
    /// Invoice number.
    pub invoice: u32,
    /// Batch number.
    pub batch_no: u32,
    /// Retrieval reference number (field 37).
    pub rrn: Option<String>,
    /// Authorisation code (field 38).
    pub auth_code: Option<String>,
    /// PAN, first 6 + last 4.
    pub pan_masked: Option<String>,
    /// `contact`, `contactless`, `magstripe`, `fallback`, `qr`.
    pub entry_mode: Option<String>,
    /// Card scheme or wallet.
    pub scheme: Option<String>,
    /// AID.
    pub aid: Option<String>,
    /// Application label.
    pub app_label: Option<String>,
    /// TVR (95).
    pub tvr: Option<String>,
    /// TSI (9B).
    pub tsi: Option<String>,
    /// Application cryptogram (9F26).
    pub cryptogram: Option<String>,
    /// A signature line is needed.
    pub signature_required: bool,
    /// Contactless kernel of a tap (`C-2`, `C-3`, `C-7`; EMV Contactless Book B).
    pub kernel: Option<String>,
    /// The merchant's order reference.
    pub order_ref: Option<String>,
    /// Loyalty member id.
    pub member_id: Option<String>,
    /// Coupon discount, minor units.
    pub coupon_discount: u64,
    /// Wallet order number (QR payments).
    pub wallet_order: Option<String>,
    /// Balance (balance inquiry, prepaid), minor units.
    pub balance: Option<u64>,
    /// Terminal id.
    pub terminal_id: String,
    /// Merchant id.
    pub merchant_id: String,
    /// Cashier.
    pub operator_id: String,
    /// When, milliseconds since the Unix epoch.
    pub at_ms: i64,
}

impl TryFrom<TransactionOutcome> for PosTransaction {
    type Error = SmartPosError;

    /// Approvals (and revoked QR orders) convert; a decline is `Declined`, a reversed
    /// authorisation `HostUnavailable`.
    fn try_from(o: TransactionOutcome) -> Result<Self, SmartPosError> {
        let status = match o.status {
            Status::Approved => PosStatus::Approved,
            Status::ApprovedOffline => PosStatus::ApprovedOffline,
            Status::Revoked => PosStatus::Revoked,
            Status::Reversed if o.pending => PosStatus::Pending,
            Status::Reversed => {
                // Sent, but no usable answer: not charged, the reversal is queued.
                return Err(SmartPosError::HostUnavailable {
                    reason: format!(
                        "{} (transaction {}; reversal queued, sent before the next one)",
                        o.message, o.txn_id
                    ),
                });
            }
            Status::Declined => {
                return Err(SmartPosError::Declined {
                    response_code: o.response_code.unwrap_or_default(),
                    host_message: o.message,
                    txn_id: o.txn_id,
                });
            }
        };
        let TransactionOutcome {
            txn_id,
            kind,
            status: _,
            response_code,
            message,
            amount,
            tip,
            cashback,
            total,
            currency,
            stan,
            invoice,
            batch_no,
            rrn,
            auth_code,
            pan_masked,
            entry_mode,
            scheme,
            aid,
            app_label,
            tvr,
            tsi,
            cryptogram,
            signature_required,
            kernel,
            value_added,
            wallet_order,
            balance,
            terminal_id,
            merchant_id,
            operator_id,
            at_ms,
            pending: _,
            // Later additions of the terminal's record are not shown to the app until they
            // are added here.
            ..
        } = o;
        Ok(PosTransaction {
            txn_id,
            kind,
            status,
            response_code,
            message,
            amount,
            tip,
            cashback,
            total,
            currency,
            stan,
            invoice,
            batch_no,
            rrn,
            auth_code,
            pan_masked,
            entry_mode,
            scheme,
            aid,
            app_label,
            tvr,
            tsi,
            cryptogram,
            signature_required,
            kernel,
            order_ref: value_added.merchant_order_ref,
            member_id: value_added.member_id,
            coupon_discount: value_added.coupon_discount,
            wallet_order,
            balance,
            terminal_id,
            merchant_id,
            operator_id,
            at_ms,
        })
    }
}

/// A sign-on (key download): the batch now open and when the working keys were installed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PosSignOn {
    /// Open batch number.
    pub batch_no: u32,
    /// Working keys installed at, ms since the Unix epoch.
    pub keys_installed_at_ms: i64,
}

impl From<SignOnResult> for PosSignOn {
    fn from(r: SignOnResult) -> Self {
        PosSignOn {
            batch_no: r.batch_no,
            keys_installed_at_ms: r.keys_installed_at_ms,
        }
    }
}

/// A settlement (batch close).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PosSettlement {
    /// The batch settled.
    pub batch_no: u32,
    /// Sales in the batch: count and amount.
    pub sales_count: u32,
    /// Sales amount.
    pub sales_amount: i64,
    /// Refunds: count and amount.
    pub refunds_count: u32,
    /// Refunds amount.
    pub refunds_amount: i64,
    /// The host agreed with the totals at the first attempt (no batch upload).
    pub balanced_first_time: bool,
    /// Records uploaded after a mismatch.
    pub uploaded: u32,
}

impl From<SettlementResult> for PosSettlement {
    fn from(r: SettlementResult) -> Self {
        PosSettlement {
            batch_no: r.batch_no,
            sales_count: r.sales_count,
            sales_amount: r.sales_amount,
            refunds_count: r.refunds_count,
            refunds_amount: r.refunds_amount,
            balanced_first_time: r.balanced_first_time,
            uploaded: u32::try_from(r.uploaded).unwrap_or(u32::MAX),
        }
    }
}

/// The terminal's errors as binding errors: one Kotlin exception class per case.
pub(crate) fn terminal_error(e: TerminalError) -> SmartPosError {
    match e {
        TerminalError::Config { file, reason } => {
            SmartPosError::InvalidConfiguration { what: file, reason }
        }
        TerminalError::Journal(e) => SmartPosError::Journal {
            reason: e.to_string(),
        },
        TerminalError::Host(e) => SmartPosError::HostUnavailable {
            reason: e.to_string(),
        },
        TerminalError::Tampered => SmartPosError::KeyMissing {
            reason: "terminal tampered: keys erased, load keys before taking payments".into(),
        },
        TerminalError::NoMasterKey => SmartPosError::KeyMissing {
            reason: "no terminal master key loaded".into(),
        },
        TerminalError::KeyStore(reason) => SmartPosError::KeyMissing { reason },
        TerminalError::Risk { rule, detail } => SmartPosError::Refused {
            rule: format!("{rule:?}"),
            detail,
        },
        TerminalError::Operator(AuthError::Locked) => SmartPosError::OperatorLocked {
            reason: "too many wrong passwords: an admin must unlock the account".into(),
        },
        TerminalError::Operator(e) => SmartPosError::NotAuthorised {
            reason: e.to_string(),
        },
        TerminalError::Cancelled { step } => SmartPosError::Cancelled {
            exchanges: 0,
            step: step.to_string(),
        },
        TerminalError::CardReadFailed { attempts } => SmartPosError::Card {
            reason: format!(
                "card not read after {attempts} attempts: insert the card or use another payment method"
            ),
        },
        TerminalError::Device { device, reason } => SmartPosError::Device {
            device: device.to_string(),
            reason,
        },
        TerminalError::InvalidRequest { field, reason } => SmartPosError::InvalidInput {
            field: field.to_string(),
            reason,
        },
        TerminalError::Qr(reason) => SmartPosError::InvalidInput {
            field: "qr".into(),
            reason,
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Async plumbing
// ---------------------------------------------------------------------------------------------

struct Shared<T> {
    result: Option<T>,
    waker: Option<Waker>,
}

/// A future completed by the worker thread.
struct Blocking<T> {
    shared: Arc<Mutex<Shared<T>>>,
}

impl<T> Future for Blocking<T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut shared = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        match shared.result.take() {
            Some(r) => Poll::Ready(r),
            None => {
                shared.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// One long-lived thread per terminal that runs its operations in order. Every device callback
/// of a transaction comes from this one thread, so the JVM attaches it once (the Kotlin facade
/// keeps it attached, `CallbackThreadInitializer(detach = false)`) instead of attaching and
/// detaching a fresh thread for every callback of every operation.
struct Worker {
    jobs: Mutex<mpsc::Sender<Job>>,
}

const WORKER_NAME: &str = "smartpos-worker";

impl Worker {
    fn start() -> Result<Worker, SmartPosError> {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name(WORKER_NAME.into())
            .spawn(move || {
                // Ends when the terminal (the sender) is dropped.
                while let Ok(job) = rx.recv() {
                    job();
                }
            })
            .map_err(|e| SmartPosError::Device {
                device: "thread".into(),
                reason: format!("cannot start the worker thread: {e}"),
            })?;
        Ok(Worker {
            jobs: Mutex::new(tx),
        })
    }

    /// Queue `job`; the returned future completes with its result. A panic in the job is an
    /// internal error, never an unwind across the FFI.
    fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> Result<T, SmartPosError> + Send + 'static,
    ) -> Blocking<Result<T, SmartPosError>> {
        let shared = Arc::new(Mutex::new(Shared {
            result: None,
            waker: None,
        }));
        let done = shared.clone();
        let wrapped: Job = Box::new(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job))
                .unwrap_or_else(|_| {
                    Err(SmartPosError::Protocol {
                        reason: "internal error: the terminal operation panicked".into(),
                    })
                });
            let mut s = done.lock().unwrap_or_else(|p| p.into_inner());
            s.result = Some(result);
            if let Some(w) = s.waker.take() {
                w.wake();
            }
        });
        let sent = self
            .jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(wrapped);
        if sent.is_err() {
            let mut s = shared.lock().unwrap_or_else(|p| p.into_inner());
            s.result = Some(Err(SmartPosError::Device {
                device: "thread".into(),
                reason: "the worker thread has stopped".into(),
            }));
        }
        Blocking { shared }
    }
}

// ---------------------------------------------------------------------------------------------
// The terminal
// ---------------------------------------------------------------------------------------------

/// Receipt bookkeeping of this terminal object: signature lines of the transactions it ran, and
/// which copies were printed already (a second print is marked as a reprint).
#[derive(Default)]
struct ReceiptLog {
    signature_required: HashMap<i64, bool>,
    printed: HashSet<(i64, bool)>,
    language: Option<PosLanguage>,
}

/// The payment terminal: one per device. Thread-safe; one operation at a time, in call order,
/// on the terminal's worker thread.
#[derive(uniffi::Object)]
pub struct PosTerminal {
    terminal: Arc<Mutex<Terminal>>,
    worker: Worker,
    printer: SharedPrinter,
    qr_display: SharedQrDisplay,
    receipts: Arc<Mutex<ReceiptLog>>,
    /// The operator store whose audit log is this terminal's journal while it is open.
    operators: Option<Arc<PosOperators>>,
}

impl Drop for PosTerminal {
    /// The operator store outlives the terminal: its audit entries go back to memory (written
    /// to the journal of the next terminal opened with it), and it lets go of this journal so
    /// the file can be opened again.
    fn drop(&mut self) {
        if let Some(ops) = &self.operators {
            let pending = MemoryAudit::new();
            if ops.store.set_audit(Box::new(pending.clone())).is_ok() {
                *lock(&ops.pending_audit) = Some(pending);
            }
        }
    }
}

fn secret(field: &str, bytes: &[u8], len: usize) -> Result<Zeroizing<Vec<u8>>, SmartPosError> {
    if bytes.len() != len {
        return Err(SmartPosError::InvalidInput {
            field: field.into(),
            reason: format!("{len} bytes expected, got {}", bytes.len()),
        });
    }
    Ok(Zeroizing::new(bytes.to_vec()))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn journal_error(e: impl std::fmt::Display) -> SmartPosError {
    SmartPosError::Journal {
        reason: e.to_string(),
    }
}

fn render_error(e: impl std::fmt::Display) -> SmartPosError {
    SmartPosError::Device {
        device: "receipt renderer".into(),
        reason: e.to_string(),
    }
}

/// The app's devices, shared by the terminal's adapters and [`PosTerminal`] itself (receipts
/// go to the same printer).
type SharedPrinter = Arc<Mutex<Box<dyn PosPrinter>>>;

/// The terminal's printer over the shared printer callback.
struct SharedPrinterAdapter(SharedPrinter);

impl Printer for SharedPrinterAdapter {
    fn print(&mut self, job: &PrintJob) -> Result<(), DeviceError> {
        lock(&self.0)
            .print(job.lines.clone(), job.escpos.clone())
            .map_err(|e| DeviceError::Failure(device_reason(e)))
    }
}

/// Where the terminal's keys live, and who approves supervisor actions.
enum Security {
    /// Software key store seeded by the app, every supervisor action approved as this operator.
    Software(PosKeys, String),
    /// The device's key store and the supervisor prompt checked against the operator store.
    Device {
        key_store: Box<dyn KeyStoreCallback>,
        operators: Arc<PosOperators>,
        supervisor: Box<dyn SupervisorCallback>,
    },
}

struct AppDevices {
    card_reader: Box<dyn PosCardReader>,
    pin_pad: Box<dyn PosPinPad>,
    printer: Box<dyn PosPrinter>,
    qr_scanner: Box<dyn PosQrScanner>,
    indicators: Box<dyn PosIndicators>,
    events: Box<dyn TransactionEvents>,
}

impl PosTerminal {
    fn open_with(
        config_dir: String,
        journal_path: String,
        security: Security,
        devices: AppDevices,
    ) -> Result<Arc<Self>, SmartPosError> {
        let (store, authoriser, operators): (SharedKeyStore, Box<dyn Authoriser>, _) =
            match security {
                Security::Software(mut keys, supervisor_id) => {
                    let store = software_store(&keys);
                    // The app's bytes are not needed any more, whatever the outcome.
                    keys.master_key.zeroize();
                    keys.journal_hash_key.zeroize();
                    keys.journal_data_key.zeroize();
                    (
                        Arc::new(Mutex::new(store?)),
                        Box::new(AllowAll(OperatorId(supervisor_id))),
                        None,
                    )
                }
                Security::Device {
                    key_store,
                    operators,
                    supervisor,
                } => (
                    Arc::new(Mutex::new(CallbackKeyStore::new(key_store))),
                    Box::new(SupervisorAuthoriser {
                        store: operators.store.clone(),
                        prompt: supervisor,
                    }),
                    Some(operators),
                ),
            };
        let events: Arc<dyn TransactionEvents> = Arc::from(devices.events);
        let printer: SharedPrinter = Arc::new(Mutex::new(devices.printer));
        let qr_display: SharedQrDisplay = Arc::new(Mutex::new(None));
        let terminal_devices = Devices {
            card_reader: Box::new(ReaderAdapter(Arc::from(devices.card_reader))),
            pin_pad: Box::new(PinPadAdapter(devices.pin_pad)),
            printer: Box::new(SharedPrinterAdapter(printer.clone())),
            qr_scanner: Box::new(ScannerAdapter(devices.qr_scanner)),
            qr_display: Box::new(QrDisplayAdapter {
                display: qr_display.clone(),
                events: events.clone(),
            }),
            indicators: Box::new(IndicatorsAdapter(devices.indicators)),
            confirmer: Box::new(EventsAdapter(events.clone())),
            events: Arc::new(EventsAdapter(events)),
        };
        let worker = Worker::start()?;
        let terminal = Terminal::open(
            Path::new(&config_dir),
            terminal_devices,
            store,
            Path::new(&journal_path),
            authoriser,
        )
        .map_err(terminal_error)?;
        if let Some(ops) = &operators {
            // From now on operator sign-ins and grants go to this journal's audit log, after
            // the ones made before the terminal was open.
            let journal = terminal.journal();
            if let Some(pending) = lock(&ops.pending_audit).take() {
                pending
                    .drain_into(&mut lock(&journal))
                    .map_err(journal_error)?;
            }
            ops.store
                .set_audit(Box::new(journal))
                .map_err(crate::operators::operator_error)?;
        }
        Ok(Arc::new(PosTerminal {
            terminal: Arc::new(Mutex::new(terminal)),
            worker,
            printer,
            qr_display,
            receipts: Arc::new(Mutex::new(ReceiptLog::default())),
            operators,
        }))
    }

    /// Run `op` on the worker with the terminal locked; terminal errors become binding errors.
    fn with<T: Send + 'static>(
        &self,
        cancel: Option<Arc<CancellationHandle>>,
        op: impl FnOnce(&mut Terminal, &CancelToken) -> Result<T, TerminalError> + Send + 'static,
    ) -> Blocking<Result<T, SmartPosError>> {
        self.with_terminal(cancel, move |t, token| op(t, token).map_err(terminal_error))
    }

    fn with_terminal<T: Send + 'static>(
        &self,
        cancel: Option<Arc<CancellationHandle>>,
        op: impl FnOnce(&mut Terminal, &CancelToken) -> Result<T, SmartPosError> + Send + 'static,
    ) -> Blocking<Result<T, SmartPosError>> {
        let terminal = self.terminal.clone();
        self.worker.run(move || {
            let token = CancelToken::new();
            if let Some(handle) = &cancel {
                handle.link(token.clone());
            }
            let mut t = lock(&terminal);
            op(&mut t, &token)
        })
    }

    /// A payment's outcome for the app; remembers whether its receipt needs a signature line.
    async fn transaction(
        &self,
        cancel: Option<Arc<CancellationHandle>>,
        op: impl FnOnce(&mut Terminal, &CancelToken) -> Result<TransactionOutcome, TerminalError>
        + Send
        + 'static,
    ) -> Result<PosTransaction, SmartPosError> {
        let outcome = self.with(cancel, op).await?;
        lock(&self.receipts)
            .signature_required
            .insert(outcome.txn_id, outcome.signature_required);
        PosTransaction::try_from(outcome)
    }

    /// Lay out a receipt of journal transaction `txn_id`.
    fn layout(
        t: &Terminal,
        log: &ReceiptLog,
        txn_id: i64,
        copy: PosReceiptCopy,
        lang: PosLanguage,
        reprint: bool,
    ) -> Result<(Receipt, PosReceiptData), SmartPosError> {
        let journal = t.journal();
        let record = lock(&journal).get(TxnId(txn_id)).map_err(journal_error)?;
        let settings = t.settings();
        let mut outcome = TransactionOutcome::from_record(
            &record,
            Status::Approved,
            &settings.terminal_id,
            &settings.merchant_id,
        );
        outcome.signature_required = log
            .signature_required
            .get(&txn_id)
            .copied()
            .unwrap_or(false);
        let merchant = MerchantInfo::from_settings(settings, None);
        let mut data = ReceiptData::from_outcome(&outcome, &record, &merchant);
        data.reprint = reprint;
        let receipt = Receipt::build(&data, copy.into(), lang.into());
        Ok((receipt, PosReceiptData::from(&data)))
    }
}

fn software_store(keys: &PosKeys) -> Result<SoftKeyStore, SmartPosError> {
    let tmk_bytes = secret("master_key", &keys.master_key, 16)?;
    let hash = secret("journal_hash_key", &keys.journal_hash_key, 32)?;
    let data = secret("journal_data_key", &keys.journal_data_key, 32)?;
    let tmk = SecretKey::new(KeyAlgorithm::Tdes2, &tmk_bytes).map_err(|e| {
        SmartPosError::InvalidInput {
            field: "master_key".into(),
            reason: e.to_string(),
        }
    })?;
    let mut hash_key = Zeroizing::new([0u8; 32]);
    hash_key.copy_from_slice(&hash);
    let mut data_key = Zeroizing::new([0u8; 32]);
    data_key.copy_from_slice(&data);
    Ok(SoftKeyStore::with_keys(tmk, *hash_key, *data_key))
}

#[uniffi::export]
impl PosTerminal {
    /// Sign on: key download under the TMK, batch number (supervisor operation of the app).
    pub async fn sign_on(&self) -> Result<PosSignOn, SmartPosError> {
        self.with(None, |t, _| t.sign_on().map(PosSignOn::from))
            .await
    }

    /// A sale: risk pre-check, journal, then by `request.method` a card (contact, contactless
    /// or swipe; online authorisation with the PIN block from the PIN pad, completion), the
    /// customer's wallet code from the [`PosQrScanner`], or the merchant QR shown through a
    /// `merchant_qr` event. A decline raises `Declined` with the host's response code and
    /// message.
    pub async fn sale(
        &self,
        request: PosSaleRequest,
        cancel: Arc<CancellationHandle>,
    ) -> Result<PosTransaction, SmartPosError> {
        self.transaction(Some(cancel), move |t, token| {
            t.sale(&SaleRequest::from(request), token)
        })
        .await
    }

    /// A pre-authorisation by card (hotels, car rental): the amount is held, not charged, until
    /// [`PosTerminal::complete_pre_authorisation`].
    pub async fn pre_authorise(
        &self,
        request: PosSaleRequest,
        cancel: Arc<CancellationHandle>,
    ) -> Result<PosTransaction, SmartPosError> {
        self.transaction(Some(cancel), move |t, token| {
            t.pre_authorise(&SaleRequest::from(request), token)
        })
        .await
    }

    /// Complete the pre-authorisation `pre_auth_txn_id` for the final `amount` (at most the
    /// amount held), with the card data kept in the journal: no card needed.
    pub async fn complete_pre_authorisation(
        &self,
        pre_auth_txn_id: i64,
        amount: u64,
        operator_id: String,
    ) -> Result<PosTransaction, SmartPosError> {
        self.transaction(None, move |t, _| {
            t.complete_pre_authorisation(TxnId(pre_auth_txn_id), amount, &operator_id)
        })
        .await
    }

    /// Void an approved sale of the open batch, by its journal id (supervisor).
    pub async fn void(
        &self,
        txn_id: i64,
        cancel: Arc<CancellationHandle>,
    ) -> Result<PosTransaction, SmartPosError> {
        self.transaction(Some(cancel), move |t, token| t.void(TxnId(txn_id), token))
            .await
    }

    /// Refund `amount` of a sale in this journal, by its journal id (supervisor).
    pub async fn refund(
        &self,
        original_txn_id: i64,
        amount: u64,
        cancel: Arc<CancellationHandle>,
    ) -> Result<PosTransaction, SmartPosError> {
        self.transaction(Some(cancel), move |t, token| {
            t.refund(OriginalRef::Local(TxnId(original_txn_id)), amount, token)
        })
        .await
    }

    /// Refund of a sale known by its RRN (field 37) and date (MMDD or YYYYMMDD).
    pub async fn refund_by_rrn(
        &self,
        rrn: String,
        date: String,
        amount: u64,
        cancel: Arc<CancellationHandle>,
    ) -> Result<PosTransaction, SmartPosError> {
        self.transaction(Some(cancel), move |t, token| {
            t.refund(OriginalRef::Host { rrn, date }, amount, token)
        })
        .await
    }

    /// Balance inquiry with the card: the balance is in [`PosTransaction::balance`] when the
    /// host sent one.
    pub async fn balance_inquiry(
        &self,
        operator_id: String,
        cancel: Arc<CancellationHandle>,
    ) -> Result<PosTransaction, SmartPosError> {
        self.transaction(Some(cancel), move |t, token| {
            t.balance_inquiry(&operator_id, token)
        })
        .await
    }

    /// Settlement (supervisor): queues flushed, batch totals sent (upload on mismatch), batch
    /// closed.
    pub async fn settle(&self) -> Result<PosSettlement, SmartPosError> {
        self.with(None, |t, _| t.settle().map(PosSettlement::from))
            .await
    }

    /// [`PosTerminal::settle`] with the settlement report: the journal's totals of the batch it
    /// settled (an earlier batch whose settlement failed is settled first, like `settle` does)
    /// by payment method, scheme and operator against what the host was sent, and the printed
    /// report text in `lang`.
    pub async fn settle_with_report(
        &self,
        lang: PosLanguage,
    ) -> Result<PosSettlementReport, SmartPosError> {
        self.with_terminal(None, move |t, _| {
            let journal = t.journal();
            // The batch `settle` will send: the oldest one closed but never confirmed by the
            // host (a failed settlement is settled again first), else the open one.
            let batch = {
                let mut j = lock(&journal);
                match j
                    .unsettled_batches()
                    .map_err(journal_error)?
                    .into_iter()
                    .next()
                {
                    Some(b) => b,
                    None => j.current_batch().map_err(journal_error)?,
                }
            };
            let result = t.settle().map_err(terminal_error)?;
            let settings = t.settings();
            let j = lock(&journal);
            let totals = TotalsReport::from_journal(&j, batch.id, &settings.currency)
                .map_err(journal_error)?;
            let at = j
                .batch(batch.id)
                .map_err(journal_error)?
                .closed_at
                .map(|t| t.0)
                .unwrap_or(0);
            let report = SettlementReport::new(
                &result,
                totals,
                &settings.merchant_id,
                &settings.terminal_id,
                at,
            );
            let offset = settings.risk.utc_offset_minutes;
            let text = report.to_text(Width::Cols32, lang.into(), offset);
            let totals_text = report.totals.to_text(Width::Cols32, lang.into(), offset);
            Ok(PosSettlementReport::new(
                &report,
                PosSettlement::from(result),
                totals_text,
                text,
            ))
        })
        .await
    }

    /// Totals of the open batch by payment method, scheme and operator, with the printed report
    /// in `lang` (the merchant's X report; nothing is sent).
    pub async fn totals_report(&self, lang: PosLanguage) -> Result<PosTotalsReport, SmartPosError> {
        self.with_terminal(None, move |t, _| {
            let journal = t.journal();
            let mut j = lock(&journal);
            let batch = j.current_batch().map_err(journal_error)?;
            let settings = t.settings();
            let report = TotalsReport::from_journal(&j, batch.id, &settings.currency)
                .map_err(journal_error)?;
            let text = report.to_text(Width::Cols32, lang.into(), settings.risk.utc_offset_minutes);
            Ok(PosTotalsReport::new(&report, text))
        })
        .await
    }

    /// Print the totals report of the open batch (as [`PosTerminal::totals_report`]) on the
    /// [`PosPrinter`], text lines only; returns the report.
    pub async fn print_totals_report(
        &self,
        lang: PosLanguage,
    ) -> Result<PosTotalsReport, SmartPosError> {
        let report = self.totals_report(lang).await?;
        let printer = self.printer.clone();
        let lines: Vec<String> = report.text.lines().map(str::to_string).collect();
        self.with_terminal(None, move |_, _| lock(&printer).print(lines, None))
            .await?;
        Ok(report)
    }

    /// The receipt of journal transaction `txn_id`: its data (masked PAN, entry mode, AID,
    /// label, TVR/TSI, cryptogram, auth code, RRN, CVM line, amounts, value-added data) and the
    /// copy laid out by smartpos-terminal as text (32 columns), ESC/POS bytes (GBK) and PNG.
    pub async fn receipt(
        &self,
        txn_id: i64,
        copy: PosReceiptCopy,
        lang: PosLanguage,
    ) -> Result<PosReceipt, SmartPosError> {
        let receipts = self.receipts.clone();
        self.with_terminal(None, move |t, _| {
            let log = lock(&receipts);
            let reprint = log
                .printed
                .contains(&(txn_id, copy == PosReceiptCopy::Merchant));
            let (receipt, data) = PosTerminal::layout(t, &log, txn_id, copy, lang, reprint)?;
            Ok(PosReceipt {
                copy,
                data,
                text: receipt.to_text(Width::Cols32),
                escpos: receipt
                    .to_escpos(Width::Cols32, CodePage::Gbk)
                    .map_err(render_error)?,
                png: receipt.to_png(Width::Cols32).map_err(render_error)?,
            })
        })
        .await
    }

    /// Print `copy` of the receipt of `txn_id` on the [`PosPrinter`] (text lines and ESC/POS
    /// bytes) in the receipt language ([`PosTerminal::set_receipt_language`], English by
    /// default). A copy printed before is marked as a reprint. Returns what was printed.
    pub async fn print_receipt(
        &self,
        txn_id: i64,
        copy: PosReceiptCopy,
    ) -> Result<PosReceiptData, SmartPosError> {
        let receipts = self.receipts.clone();
        let printer = self.printer.clone();
        self.with_terminal(None, move |t, _| {
            let mut log = lock(&receipts);
            let key = (txn_id, copy == PosReceiptCopy::Merchant);
            let lang = log.language.unwrap_or(PosLanguage::En);
            let reprint = log.printed.contains(&key);
            let (receipt, data) = PosTerminal::layout(t, &log, txn_id, copy, lang, reprint)?;
            let text = receipt.to_text(Width::Cols32);
            let escpos = receipt
                .to_escpos(Width::Cols32, CodePage::Gbk)
                .map_err(render_error)?;
            lock(&printer).print(text.lines().map(str::to_string).collect(), Some(escpos))?;
            log.printed.insert(key);
            Ok(data)
        })
        .await
    }

    /// Print `copy` of the receipt of the last finished transaction (approved, declined or
    /// reversed) again, marked as a reprint: the attendant's "reprint last" key. Returns what was
    /// printed; `InvalidInput` when there is no transaction yet.
    pub async fn reprint_last(
        &self,
        copy: PosReceiptCopy,
    ) -> Result<PosReceiptData, SmartPosError> {
        let receipts = self.receipts.clone();
        let printer = self.printer.clone();
        self.with_terminal(None, move |t, _| {
            let last = t.reprint(Reprint::Last).map_err(terminal_error)?;
            let mut log = lock(&receipts);
            let lang = log.language.unwrap_or(PosLanguage::En);
            let (receipt, data) = PosTerminal::layout(t, &log, last.txn_id, copy, lang, true)?;
            let escpos = receipt
                .to_escpos(Width::Cols32, CodePage::Gbk)
                .map_err(render_error)?;
            let text = receipt.to_text(Width::Cols32);
            lock(&printer).print(text.lines().map(str::to_string).collect(), Some(escpos))?;
            log.printed
                .insert((last.txn_id, copy == PosReceiptCopy::Merchant));
            Ok(data)
        })
        .await
    }

    /// The customer display for merchant-presented QR codes: `show` gets the MPM payload of a
    /// [`PosPaymentMethod::MerchantQr`] sale, `clear` when it is paid, revoked or cancelled.
    /// Without one the payload reaches the app only as the `merchant_qr` event.
    pub fn set_qr_display(&self, display: Box<dyn PosQrDisplay>) {
        *lock(&self.qr_display) = Some(display);
    }

    /// Label language of [`PosTerminal::print_receipt`].
    pub fn set_receipt_language(&self, lang: PosLanguage) {
        lock(&self.receipts).language = Some(lang);
    }

    /// Send queued reversals and advices; returns how many were sent.
    pub async fn flush_queues(&self) -> Result<u32, SmartPosError> {
        self.with(None, |t, _| {
            t.flush_queues()
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
        })
        .await
    }

    /// Tamper detected (the device's tamper switch): every key in the key store is erased
    /// (`KeyStoreCallback.erase_all`) and payments are refused with `KeyMissing` until a master
    /// key is loaded again.
    pub async fn tamper(&self) -> Result<(), SmartPosError> {
        self.with(None, |t, _| {
            t.tamper_detected();
            Ok(())
        })
        .await
    }

    /// Whether payments are blocked by a tamper event.
    pub async fn is_tampered(&self) -> Result<bool, SmartPosError> {
        self.with(None, |t, _| Ok(t.is_tampered())).await
    }

    /// Load a terminal master key (admin approval through the supervisor prompt); lifts the
    /// tamper block. The key bytes are zeroized on the Rust side at once.
    pub async fn load_master_key(&self, key: PosSecretKey) -> Result<(), SmartPosError> {
        let PosSecretKey { algorithm, value } = key;
        let value = Zeroizing::new(value);
        let key =
            SecretKey::new(algorithm.core(), &value).map_err(|e| SmartPosError::InvalidInput {
                field: "key".into(),
                reason: e.to_string(),
            })?;
        self.with(None, move |t, _| t.load_master_key(key)).await
    }
}

#[uniffi::export]
impl PosTerminal {
    /// Open the terminal with the software key store seeded by `keys` and every supervisor
    /// action approved as `supervisor_id` (tests and the demo; production terminals use
    /// [`PosTerminal::open_secured`]): settings (`terminal.toml`/`terminal.json`), kernel
    /// configuration (`emv.json`) and CA keys (`ca_keys.json`) from `config_dir` (defaults when
    /// absent), the journal at `journal_path` (created, migrated, crash recovery run), the
    /// devices and the listener. Raises `InvalidConfiguration`, `Journal`, `KeyMissing`.
    #[uniffi::constructor]
    #[allow(clippy::too_many_arguments)]
    pub fn open(
        config_dir: String,
        journal_path: String,
        keys: PosKeys,
        supervisor_id: String,
        card_reader: Box<dyn PosCardReader>,
        pin_pad: Box<dyn PosPinPad>,
        printer: Box<dyn PosPrinter>,
        qr_scanner: Box<dyn PosQrScanner>,
        indicators: Box<dyn PosIndicators>,
        events: Box<dyn TransactionEvents>,
    ) -> Result<Arc<Self>, SmartPosError> {
        PosTerminal::open_with(
            config_dir,
            journal_path,
            Security::Software(keys, supervisor_id),
            AppDevices {
                card_reader,
                pin_pad,
                printer,
                qr_scanner,
                indicators,
                events,
            },
        )
    }

    /// Open the terminal with its keys in the device's key store (`key_store`) and supervisor
    /// actions (void, refund, settlement, large amounts, key loading) approved through
    /// `supervisor`: the id and password typed are checked against `operators` (argon2id,
    /// lock-out). Operator audit entries go to this terminal's journal from now on.
    #[uniffi::constructor]
    #[allow(clippy::too_many_arguments)]
    pub fn open_secured(
        config_dir: String,
        journal_path: String,
        key_store: Box<dyn KeyStoreCallback>,
        operators: Arc<PosOperators>,
        supervisor: Box<dyn SupervisorCallback>,
        card_reader: Box<dyn PosCardReader>,
        pin_pad: Box<dyn PosPinPad>,
        printer: Box<dyn PosPrinter>,
        qr_scanner: Box<dyn PosQrScanner>,
        indicators: Box<dyn PosIndicators>,
        events: Box<dyn TransactionEvents>,
    ) -> Result<Arc<Self>, SmartPosError> {
        PosTerminal::open_with(
            config_dir,
            journal_path,
            Security::Device {
                key_store,
                operators,
                supervisor,
            },
            AppDevices {
                card_reader,
                pin_pad,
                printer,
                qr_scanner,
                indicators,
                events,
            },
        )
    }

    /// Terminal id from the settings.
    pub fn terminal_id(&self) -> String {
        lock(&self.terminal).settings().terminal_id.clone()
    }
}
