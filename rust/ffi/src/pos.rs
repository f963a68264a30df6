//! [`PosTerminal`]: smartpos-terminal's `Terminal` behind coarse async calls (ARCHITECTURE.md
//! "A contactless sale, end to end": risk pre-check, journal, kernel over the app's reader, host,
//! completion, receipt, events).
//!
//! The app supplies its devices as callbacks ([`PosCardReader`], [`PosPinPad`], [`PosPrinter`],
//! [`PosQrScanner`], [`PosIndicators`]) and a [`TransactionEvents`] listener; this module wraps
//! each into the terminal's device trait and converts records and errors. Every decision
//! (limits, journalling, reversals, receipts) is smartpos-terminal's.
//!
//! Calls are `async`: each runs the blocking terminal operation on its own thread and completes
//! the future when it returns, so a Kotlin coroutine suspends instead of blocking. A
//! [`CancellationHandle`] passed to a call reaches the terminal's `CancelToken`, which the card
//! wait, the kernel's card link and the host link check.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
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
use smartpos_terminal::{
    AllowAll, CancelToken, Devices, Event, EventSink, LedStatus, OperatorId, SaleRequest,
    SettlementResult, SignOnResult, SoftKeyStore, Status, Terminal, TerminalError,
    TransactionOutcome,
};
use zeroize::Zeroizing;

use crate::error::SmartPosError;
use crate::kernel::OfflinePinEntry;
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
    /// Offline PIN digits for the card to verify (EMV Book 3 §10.5.1).
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
            Ok(OfflinePinEntry::Entered { digits }) => {
                let digits = Zeroizing::new(digits);
                PlaintextPinBlock::from_digits(&digits)
                    .ok_or_else(|| PinPadError::Failure("a PIN has 4 to 12 digits".into()))
            }
            Ok(OfflinePinEntry::Bypassed) => Err(PinPadError::Bypassed),
            Ok(OfflinePinEntry::Failed) => Err(PinPadError::Failure("PIN pad failed".into())),
            Err(e) => Err(PinPadError::Failure(device_reason(e))),
        }
    }
}

struct PrinterAdapter(Box<dyn PosPrinter>);

impl Printer for PrinterAdapter {
    fn print(&mut self, job: &PrintJob) -> Result<(), DeviceError> {
        self.0
            .print(job.lines.clone(), job.escpos.clone())
            .map_err(|e| DeviceError::Failure(device_reason(e)))
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

impl EventSink for EventsAdapter {
    fn event(&self, event: &Event) {
        let converted = match event {
            Event::Prompt { id, tries_left } => PosEvent {
                kind: "prompt".into(),
                name: name_of(id),
                tries_left: *tries_left,
                payload: None,
            },
            Event::Led { status } => PosEvent {
                kind: "led".into(),
                name: name_of(status),
                tries_left: None,
                payload: None,
            },
            Event::Progress { step } => PosEvent {
                kind: "progress".into(),
                name: name_of(step),
                tries_left: None,
                payload: None,
            },
            Event::MerchantQr { payload } => PosEvent {
                kind: "merchant_qr".into(),
                name: "merchant_qr".into(),
                tries_left: None,
                payload: Some(payload.clone()),
            },
        };
        self.0.on_event(converted);
    }
}

impl QrDisplay for EventsAdapter {
    fn show(&mut self, payload: &str) {
        EventSink::event(
            self,
            &Event::MerchantQr {
                payload: payload.to_string(),
            },
        );
    }
    fn clear(&mut self) {
        self.0.on_event(PosEvent {
            kind: "merchant_qr_cleared".into(),
            name: "merchant_qr_cleared".into(),
            tries_left: None,
            payload: None,
        });
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

/// A sale request.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PosSaleRequest {
    /// Amount of goods and services, minor units.
    pub amount: u64,
    /// Tip, minor units.
    pub tip: u64,
    /// Cashback, minor units.
    pub cashback: u64,
    /// Cashier id.
    pub operator_id: String,
    /// The merchant's order reference, if any.
    pub order_ref: Option<String>,
}

/// How a transaction ended. Declines raise `Declined`; a transaction whose authorisation was
/// reversed (no usable host answer) raises `HostUnavailable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PosStatus {
    /// Approved by the host.
    Approved,
    /// Approved offline by the card (TC).
    ApprovedOffline,
    /// QR order revoked.
    Revoked,
}

/// A finished transaction, as receipts and the app show it. PAN masked, no track data.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PosTransaction {
    /// Journal id (for void and refund).
    pub txn_id: i64,
    /// `sale`, `void`, `refund`, ...
    pub kind: String,
    /// How it ended.
    pub status: PosStatus,
    /// ISO 8583 field 39, if the host answered.
    pub response_code: Option<String>,
    /// Cardholder/attendant message.
    pub message: String,
    /// Amount, tip, cashback, total (minor units).
    pub amount: i64,
    /// Tip.
    pub tip: i64,
    /// Cashback.
    pub cashback: i64,
    /// Total.
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
    /// `chip`, `contactless`, `swipe`, `fallback`, `qr`.
    pub entry_mode: Option<String>,
    /// AID, application label, TVR, TSI, application cryptogram.
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
    /// Terminal and merchant ids, cashier.
    pub terminal_id: String,
    /// Merchant id.
    pub merchant_id: String,
    /// Cashier.
    pub operator_id: String,
    /// When, milliseconds since the Unix epoch.
    pub at_ms: i64,
}

impl PosTransaction {
    fn from_outcome(o: TransactionOutcome) -> Result<PosTransaction, SmartPosError> {
        let status = match o.status {
            Status::Approved => PosStatus::Approved,
            Status::ApprovedOffline => PosStatus::ApprovedOffline,
            Status::Reversed => {
                // Sent, but no usable answer: not charged, the reversal is queued.
                return Err(SmartPosError::HostUnavailable {
                    reason: format!(
                        "{} (transaction {}; reversal queued, sent before the next one)",
                        o.message, o.txn_id
                    ),
                });
            }
            Status::Revoked => PosStatus::Revoked,
            Status::Declined => {
                return Err(SmartPosError::Declined {
                    response_code: o.response_code.unwrap_or_default(),
                    host_message: o.message,
                    txn_id: o.txn_id,
                });
            }
        };
        Ok(PosTransaction {
            txn_id: o.txn_id,
            kind: o.kind,
            status,
            response_code: o.response_code,
            message: o.message,
            amount: o.amount,
            tip: o.tip,
            cashback: o.cashback,
            total: o.total,
            currency: o.currency,
            stan: o.stan,
            invoice: o.invoice,
            batch_no: o.batch_no,
            rrn: o.rrn,
            auth_code: o.auth_code,
            pan_masked: o.pan_masked,
            entry_mode: o.entry_mode,
            aid: o.aid,
            app_label: o.app_label,
            tvr: o.tvr,
            tsi: o.tsi,
            cryptogram: o.cryptogram,
            signature_required: o.signature_required,
            terminal_id: o.terminal_id,
            merchant_id: o.merchant_id,
            operator_id: o.operator_id,
            at_ms: o.at_ms,
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

/// A future completed by a worker thread.
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

/// Run `job` on its own thread; the returned future completes with its result.
fn run_blocking<T: Send + 'static>(
    name: &str,
    job: impl FnOnce() -> Result<T, SmartPosError> + Send + 'static,
) -> impl Future<Output = Result<T, SmartPosError>> + Send {
    let shared = Arc::new(Mutex::new(Shared {
        result: None,
        waker: None,
    }));
    let done = shared.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("smartpos-{name}"))
        .spawn(move || {
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
    if let Err(e) = spawned {
        let mut s = shared.lock().unwrap_or_else(|p| p.into_inner());
        s.result = Some(Err(SmartPosError::Device {
            device: "thread".into(),
            reason: format!("cannot start the worker thread: {e}"),
        }));
    }
    Blocking { shared }
}

// ---------------------------------------------------------------------------------------------
// The terminal
// ---------------------------------------------------------------------------------------------

/// The payment terminal: one per device. Thread-safe; one operation at a time (a second call
/// waits for the first).
#[derive(uniffi::Object)]
pub struct PosTerminal {
    terminal: Arc<Mutex<Terminal>>,
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

impl PosTerminal {
    fn with<T: Send + 'static>(
        &self,
        name: &str,
        cancel: Option<Arc<CancellationHandle>>,
        op: impl FnOnce(&mut Terminal, &CancelToken) -> Result<T, TerminalError> + Send + 'static,
    ) -> impl Future<Output = Result<T, SmartPosError>> + Send {
        let terminal = self.terminal.clone();
        run_blocking(name, move || {
            let token = CancelToken::new();
            if let Some(handle) = &cancel {
                handle.link(token.clone());
            }
            let mut t = terminal.lock().unwrap_or_else(|p| p.into_inner());
            op(&mut t, &token).map_err(terminal_error)
        })
    }
}

#[uniffi::export]
impl PosTerminal {
    /// Sign on: key download under the TMK, batch number (supervisor operation of the app).
    pub async fn sign_on(&self) -> Result<PosSignOn, SmartPosError> {
        self.with("sign-on", None, |t, _| t.sign_on().map(PosSignOn::from))
            .await
    }

    /// A card sale: risk pre-check, journal, card (contact, contactless or swipe), online
    /// authorisation with the PIN block from the PIN pad, completion, receipt. A decline raises
    /// `Declined` with the host's response code and message.
    pub async fn sale(
        &self,
        request: PosSaleRequest,
        cancel: Arc<CancellationHandle>,
    ) -> Result<PosTransaction, SmartPosError> {
        let outcome = self
            .with("sale", Some(cancel), move |t, token| {
                let mut req = SaleRequest::card(request.amount, &request.operator_id);
                req.tip = request.tip;
                req.cashback = request.cashback;
                req.value_added.merchant_order_ref = request.order_ref;
                t.sale(&req, token)
            })
            .await?;
        PosTransaction::from_outcome(outcome)
    }

    /// Void an approved sale of the open batch, by its journal id.
    pub async fn void(
        &self,
        txn_id: i64,
        cancel: Arc<CancellationHandle>,
    ) -> Result<PosTransaction, SmartPosError> {
        let outcome = self
            .with("void", Some(cancel), move |t, token| {
                t.void(TxnId(txn_id), token)
            })
            .await?;
        PosTransaction::from_outcome(outcome)
    }

    /// Refund `amount` of a sale in this journal, by its journal id.
    pub async fn refund(
        &self,
        original_txn_id: i64,
        amount: u64,
        cancel: Arc<CancellationHandle>,
    ) -> Result<PosTransaction, SmartPosError> {
        let outcome = self
            .with("refund", Some(cancel), move |t, token| {
                t.refund(OriginalRef::Local(TxnId(original_txn_id)), amount, token)
            })
            .await?;
        PosTransaction::from_outcome(outcome)
    }

    /// Refund of a sale known by its RRN (field 37) and date (MMDD or YYYYMMDD).
    pub async fn refund_by_rrn(
        &self,
        rrn: String,
        date: String,
        amount: u64,
        cancel: Arc<CancellationHandle>,
    ) -> Result<PosTransaction, SmartPosError> {
        let outcome = self
            .with("refund", Some(cancel), move |t, token| {
                t.refund(OriginalRef::Host { rrn, date }, amount, token)
            })
            .await?;
        PosTransaction::from_outcome(outcome)
    }

    /// Balance inquiry with the card (the balance is in the record's message / receipt).
    pub async fn balance_inquiry(
        &self,
        operator_id: String,
        cancel: Arc<CancellationHandle>,
    ) -> Result<PosTransaction, SmartPosError> {
        let outcome = self
            .with("balance", Some(cancel), move |t, token| {
                t.balance_inquiry(&operator_id, token)
            })
            .await?;
        PosTransaction::from_outcome(outcome)
    }

    /// Settlement: queues flushed, batch totals sent (upload on mismatch), batch closed.
    pub async fn settle(&self) -> Result<PosSettlement, SmartPosError> {
        self.with("settle", None, |t, _| t.settle().map(PosSettlement::from))
            .await
    }

    /// Send queued reversals and advices; returns how many were sent.
    pub async fn flush_queues(&self) -> Result<u32, SmartPosError> {
        self.with("flush", None, |t, _| {
            t.flush_queues()
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
        })
        .await
    }
}

#[uniffi::export]
impl PosTerminal {
    /// Open the terminal: settings (`terminal.toml`/`terminal.json`), kernel configuration
    /// (`emv.json`) and CA keys (`ca_keys.json`) from `config_dir` (defaults when absent), the
    /// journal at `journal_path` (created, migrated, crash recovery run), the devices and the
    /// listener. `keys` seeds the software key store. Raises `InvalidConfiguration`,
    /// `Journal`, `KeyMissing`.
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
        let store = Arc::new(Mutex::new(SoftKeyStore::with_keys(
            tmk, *hash_key, *data_key,
        )));
        let events: Arc<dyn TransactionEvents> = Arc::from(events);
        let devices = Devices {
            card_reader: Box::new(ReaderAdapter(Arc::from(card_reader))),
            pin_pad: Box::new(PinPadAdapter(pin_pad)),
            printer: Box::new(PrinterAdapter(printer)),
            qr_scanner: Box::new(ScannerAdapter(qr_scanner)),
            qr_display: Box::new(EventsAdapter(events.clone())),
            indicators: Box::new(IndicatorsAdapter(indicators)),
            confirmer: Box::new(EventsAdapter(events.clone())),
            events: Arc::new(EventsAdapter(events)),
        };
        let terminal = Terminal::open(
            Path::new(&config_dir),
            devices,
            store,
            Path::new(&journal_path),
            Box::new(AllowAll(OperatorId(supervisor_id))),
        )
        .map_err(terminal_error)?;
        Ok(Arc::new(PosTerminal {
            terminal: Arc::new(Mutex::new(terminal)),
        }))
    }

    /// Terminal id from the settings.
    pub fn terminal_id(&self) -> String {
        self.terminal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .settings()
            .terminal_id
            .clone()
    }
}
