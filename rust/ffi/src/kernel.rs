//! The EMV kernels of smartpos-emv behind coarse binding calls (ARCHITECTURE.md principle 8).
//!
//! [`EmvKernel`] holds the terminal configuration, the CA public keys and the contactless
//! combinations; one call runs one whole transaction over the app's [`CardReader`]:
//!
//! * [`EmvKernel::tap`]: a contactless tap: Entry Point (EMV Contactless Book B §3: PPSE,
//!   combination selection, Start B restarts) and kernel C-2/C-3/C-7, returning the Book A
//!   outcome;
//! * [`EmvKernel::start_contact`]: a contact transaction (EMV Book 3 §10: selection to the first
//!   GENERATE AC), returning a [`ContactTransaction`] that either has its decision or waits for the
//!   host's answer ([`ContactTransaction::complete`], Book 3 §10.9-10.11).
//!
//! The `_native` variants run the same kernel call over a reader registered by the raw-JNI fast
//! path of smartpos-jni ([`crate::native`]): one UniFFI call per transaction, one cached-method-id
//! JNI call per APDU.
//!
//! This module only converts types: every decision is the kernel's.

use std::sync::{Arc, Mutex};

use serde::Serialize;
use smartpos_emv::contactless::{
    ContactlessConfig, ContactlessReader, CvmKind, OutcomeKind, RecordingUi, TapEnv, TapResult,
    TornLog, run_tap,
};
use smartpos_emv::selection::FirstCandidate;
use smartpos_emv::{
    CaKeyStore, ContactKernel, Decision, HostResponse, Interaction, NoServices, OfflinePinPrompt,
    OnlineRequest, PinEntry, PlaintextPinBlock, Step, TerminalConfig, TransactionParams,
    TransactionResult, TransactionType,
};
use zeroize::Zeroizing;

use crate::apdu::hex_upper;
use crate::error::SmartPosError;
use crate::native;
use crate::session::{CancellationHandle, CardReader};
use crate::transport::{MonotonicClock, ReaderLink};

/// Transaction Type (9C) of a kernel run (EMV Book 3 Annex A; ISO 8583:1987 processing code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum EmvTransactionType {
    /// 00 goods and services.
    Purchase,
    /// 01 cash.
    Cash,
    /// 09 purchase with cashback.
    PurchaseWithCashback,
    /// 20 refund.
    Refund,
}

impl From<EmvTransactionType> for TransactionType {
    fn from(t: EmvTransactionType) -> Self {
        match t {
            EmvTransactionType::Purchase => TransactionType::Purchase,
            EmvTransactionType::Cash => TransactionType::Cash,
            EmvTransactionType::PurchaseWithCashback => TransactionType::PurchaseWithCashback,
            EmvTransactionType::Refund => TransactionType::Refund,
        }
    }
}

/// What one kernel run needs from the app. Date, time and unpredictable number come from the
/// caller (the kernel has no clock or random source, ARCHITECTURE.md principle 1).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EmvTransactionRequest {
    /// Amount, Authorised (9F02), minor units.
    pub amount: u64,
    /// Amount, Other (9F03): the cashback part, minor units.
    pub amount_other: u64,
    /// Transaction Type (9C).
    pub transaction_type: EmvTransactionType,
    /// Transaction Date (9A), `YYMMDD`.
    pub date: String,
    /// Transaction Time (9F21), `HHMMSS`.
    pub time: String,
    /// Unpredictable Number (9F37), 4 bytes from a secure random source.
    pub unpredictable_number: Vec<u8>,
    /// Transaction Sequence Counter (9F41).
    pub sequence_counter: u32,
    /// The attendant forces the transaction online (TVR byte 4 bit 4, Book 3 §10.7).
    pub merchant_forced_online: bool,
}

impl EmvTransactionRequest {
    fn params(&self) -> Result<TransactionParams, SmartPosError> {
        let un: [u8; 4] = self
            .unpredictable_number
            .as_slice()
            .try_into()
            .map_err(|_| SmartPosError::InvalidInput {
                field: "unpredictable_number".into(),
                reason: format!("9F37 has 4 bytes, got {}", self.unpredictable_number.len()),
            })?;
        let mut params =
            TransactionParams::new(self.amount, &self.date, &self.time, un).map_err(|e| {
                SmartPosError::InvalidInput {
                    field: "date/time".into(),
                    reason: e.to_string(),
                }
            })?;
        params.amount_other = self.amount_other;
        params.transaction_type = self.transaction_type.into();
        params.sequence_counter = self.sequence_counter;
        params.merchant_forced_online = self.merchant_forced_online;
        Ok(params)
    }
}

/// The card interface a result came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum EmvInterface {
    /// Contact chip (EMV Books 1-4).
    Contact,
    /// Contactless (EMV Contactless Books A-C).
    Contactless,
}

/// The kernel's outcome (EMV Book 4 §11; EMV Contactless Book A §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum EmvOutcome {
    /// Offline approval (TC) or online approval completed.
    Approved,
    /// Offline or online decline (AAC).
    Declined,
    /// The card asked for online authorisation (ARQC): send `field55` to the host.
    OnlineRequest,
    /// Contactless: present the card again (Book A §6.2 Try Again).
    TryAgain,
    /// Contactless: use the contact chip or the stripe instead (Try Another Interface).
    TryAnotherInterface,
    /// Contactless: Select Next (only seen when Entry Point ran out of candidates).
    SelectNext,
    /// The application ended without a cryptogram; `end_reason` says why.
    EndApplication,
}

/// Everything the app and the terminal need after a kernel run. Never the full PAN, never a
/// PIN or track 2.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EmvResult {
    /// Contact or contactless.
    pub interface: EmvInterface,
    /// The outcome.
    pub outcome: EmvOutcome,
    /// The outcome as EMV names it (`APPROVED`, `ONLINE REQUEST`, `END APPLICATION`, ...).
    pub outcome_name: String,
    /// Contactless kernel that ran (`C-2`, `C-3`, `C-7`); `None` for contact.
    pub kernel: Option<String>,
    /// Selected ADF name (AID), upper-case hex.
    pub aid: Option<String>,
    /// Application label (50) or preferred name.
    pub application_label: Option<String>,
    /// PAN masked as first 6 + last 4.
    pub pan_masked: Option<String>,
    /// Terminal Verification Results (95), hex.
    pub tvr: String,
    /// Transaction Status Information (9B), hex; contact only.
    pub tsi: Option<String>,
    /// CVM Results (9F34), hex.
    pub cvm_results: String,
    /// The CVM performed, as the kernel names it (`online_pin`, `obtain_signature`, ...).
    pub cvm: String,
    /// A signature line must be printed.
    pub signature_required: bool,
    /// Offline data authentication performed (`sda`, `dda`, `cda`, `fdda`, `none`).
    pub oda: String,
    /// ODA was performed and succeeded.
    pub oda_ok: bool,
    /// The data record for ISO 8583 field 55 (BER-TLV), upper-case hex; empty when none.
    pub field55: String,
    /// Why the application ended without a cryptogram, if it did.
    pub end_reason: Option<String>,
    /// Issuer script results (9F5B), hex; contact completion only.
    pub script_results: String,
    /// Electronic-cash balance after the transaction (C-7), minor units.
    pub balance: Option<u64>,
    /// Cardholder messages in order (Book A §9.4 message identifiers, or contact events).
    pub ui_messages: Vec<String>,
    /// The cardholder's language (5F2D negotiated), if any.
    pub language: Option<String>,
    /// APDUs exchanged by this call, GET RESPONSE and re-sends included.
    pub exchanges: u32,
}

/// The serde name of a kernel enum (`snake_case`), for the string fields of [`EmvResult`].
fn name_of<T: Serialize + std::fmt::Debug>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{value:?}"),
    }
}

fn contact_result(r: &TransactionResult, ui: Vec<String>, exchanges: u32) -> EmvResult {
    let (outcome, outcome_name) = match r.decision {
        Decision::Approved => (EmvOutcome::Approved, "APPROVED"),
        Decision::Declined => (EmvOutcome::Declined, "DECLINED"),
        Decision::OnlineRequest => (EmvOutcome::OnlineRequest, "ONLINE REQUEST"),
        Decision::EndApplication => (EmvOutcome::EndApplication, "END APPLICATION"),
    };
    let cvm = if r.signature_required {
        "obtain_signature".to_string()
    } else {
        contact_cvm_name(&r.cvm_results)
    };
    EmvResult {
        interface: EmvInterface::Contact,
        outcome,
        outcome_name: outcome_name.to_string(),
        kernel: None,
        aid: r.aid.clone(),
        application_label: r.application_label.clone(),
        pan_masked: r.pan_masked.clone(),
        tvr: r.tvr.hex(),
        tsi: Some(r.tsi.hex()),
        cvm_results: r.cvm_results.clone(),
        cvm,
        signature_required: r.signature_required,
        oda: name_of(&r.oda),
        oda_ok: r.oda_ok,
        field55: hex_upper(&r.data_record),
        end_reason: r.end_reason.as_ref().map(ToString::to_string),
        script_results: r.script_results.clone(),
        balance: None,
        ui_messages: ui,
        language: r.language.clone(),
        exchanges,
    }
}

/// The CVM of CVM Results byte 1 b6-b1 (EMV Book 3 Annex C3, Table 39).
fn contact_cvm_name(cvm_results_hex: &str) -> String {
    let code = cvm_results_hex
        .get(..2)
        .and_then(|b| u8::from_str_radix(b, 16).ok())
        .map(|b| b & 0x3F);
    match code {
        Some(0x00) => "fail_cvm",
        Some(0x01) => "offline_plaintext_pin",
        Some(0x02) => "online_pin",
        Some(0x03) => "offline_plaintext_pin_and_signature",
        Some(0x04) => "offline_enciphered_pin",
        Some(0x05) => "offline_enciphered_pin_and_signature",
        Some(0x1E) => "obtain_signature",
        Some(0x1F) => "no_cvm",
        Some(0x3F) => "not_performed",
        _ => "unknown",
    }
    .to_string()
}

fn tap_result(r: &TapResult, exchanges: u32) -> EmvResult {
    let outcome = match r.outcome.kind {
        OutcomeKind::Approved => EmvOutcome::Approved,
        OutcomeKind::Declined => EmvOutcome::Declined,
        OutcomeKind::OnlineRequest => EmvOutcome::OnlineRequest,
        OutcomeKind::TryAgain => EmvOutcome::TryAgain,
        OutcomeKind::TryAnotherInterface => EmvOutcome::TryAnotherInterface,
        OutcomeKind::SelectNext => EmvOutcome::SelectNext,
        OutcomeKind::EndApplication => EmvOutcome::EndApplication,
    };
    EmvResult {
        interface: EmvInterface::Contactless,
        outcome,
        outcome_name: r.outcome.kind.book_a_name().to_string(),
        kernel: r.kernel.map(|k| k.name().to_string()),
        aid: r.aid.clone(),
        application_label: r.application_label.clone(),
        pan_masked: r.pan_masked.clone(),
        tvr: r.tvr.hex(),
        tsi: None,
        cvm_results: r.cvm_results.clone(),
        cvm: name_of(&r.cvm),
        signature_required: r.cvm == CvmKind::ObtainSignature,
        oda: name_of(&r.oda),
        oda_ok: r.oda_ok,
        field55: hex_upper(&r.data_record),
        end_reason: r.end_reason.clone(),
        script_results: String::new(),
        balance: r.balance,
        ui_messages: r.ui.iter().map(|u| name_of(&u.message)).collect(),
        language: r.language.clone(),
        exchanges,
    }
}

/// The PIN pad's answer to an offline PIN request (EMV Book 3 §10.5.1; Book 4 §6.3.4).
#[derive(Clone, PartialEq, Eq, uniffi::Enum)]
pub enum OfflinePinEntry {
    /// The PIN digits (4 to 12), verified by the card. Bytes, not a `String`, so the app can
    /// clear them: Rust moves them into a zeroizing buffer on arrival and zeroizes it once the
    /// plaintext PIN block is built; the app must `fill(0)` its own `ByteArray` after the call.
    Entered {
        /// PIN digits as ASCII bytes (`'0'..='9'`, e.g. `"1234".toByteArray()`).
        digits: Vec<u8>,
    },
    /// The cardholder or attendant bypassed PIN entry (Book 4 §6.3.4.4).
    Bypassed,
    /// The PIN pad is absent or failed.
    Failed,
}

impl std::fmt::Debug for OfflinePinEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OfflinePinEntry::Entered { .. } => "Entered(<PIN>)",
            OfflinePinEntry::Bypassed => "Bypassed",
            OfflinePinEntry::Failed => "Failed",
        })
    }
}

/// The plaintext offline PIN block (EMV Book 3 §6.5.12, ISO 9564-1 format 2) of PIN digits
/// from the app: the bytes are zeroized here whatever the outcome. `None` unless 4 to 12 ASCII
/// digits.
pub(crate) fn offline_pin_block(digits: Vec<u8>) -> Option<PlaintextPinBlock> {
    let digits = Zeroizing::new(digits);
    let text = std::str::from_utf8(&digits).ok()?;
    PlaintextPinBlock::from_digits(text)
}

/// The PIN pad's answer to an online PIN request.
#[derive(Clone, PartialEq, Eq, uniffi::Enum)]
pub enum OnlinePinEntry {
    /// The PIN block encrypted by the PIN pad (ISO 9564-1 format 0/4 under the PIN key); opaque.
    Entered {
        /// The encrypted block.
        encrypted_block: Vec<u8>,
    },
    /// The cardholder or attendant bypassed PIN entry.
    Bypassed,
    /// The PIN pad is absent or failed.
    Failed,
}

impl std::fmt::Debug for OnlinePinEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OnlinePinEntry::Entered { .. } => "Entered(<encrypted>)",
            OnlinePinEntry::Bypassed => "Bypassed",
            OnlinePinEntry::Failed => "Failed",
        })
    }
}

/// The PIN pad (device I/O callback). A callback that throws counts as a failed PIN pad: the
/// kernel sets "PIN entry required, PIN pad not present or not working" (TVR byte 3 b5,
/// Book 3 §10.5.1) and goes on with the next CVM; it never stops the transaction.
#[uniffi::export(callback_interface)]
pub trait PinPad: Send + Sync {
    /// Offline PIN for the card to verify. `tries_left` from the PIN Try Counter (9F17).
    fn offline_pin(
        &self,
        enciphered: bool,
        tries_left: Option<u8>,
    ) -> Result<OfflinePinEntry, SmartPosError>;
    /// Online PIN, encrypted by the PIN pad for the host. `pan` is the full PAN for the PIN
    /// block (ISO 9564-1 format 0); it must not be shown or logged.
    fn online_pin(&self, pan: String) -> Result<OnlinePinEntry, SmartPosError>;
}

/// The app's PIN pad as the kernel's, recording what happened for the UI list.
struct KernelPinPad<'a> {
    pad: &'a dyn PinPad,
    ui: &'a mut Vec<String>,
}

impl smartpos_emv::PinPad for KernelPinPad<'_> {
    fn offline_pin(&mut self, prompt: OfflinePinPrompt) -> PinEntry {
        self.ui.push("enter_pin".into());
        match self.pad.offline_pin(prompt.enciphered, prompt.tries_left) {
            Ok(OfflinePinEntry::Entered { digits }) => {
                match offline_pin_block(digits) {
                    Some(block) => PinEntry::Entered(block),
                    None => {
                        // Not 4 to 12 digits (ISO 9564-1 §8.1): the pad is not working.
                        self.ui.push("pin_pad_failed".into());
                        PinEntry::PinPadFailure
                    }
                }
            }
            Ok(OfflinePinEntry::Bypassed) => {
                self.ui.push("pin_bypassed".into());
                PinEntry::Bypassed
            }
            Ok(OfflinePinEntry::Failed) => {
                self.ui.push("pin_pad_failed".into());
                PinEntry::PinPadFailure
            }
            Err(error) => {
                log::warn!("PIN pad callback failed: {error}");
                self.ui.push("pin_pad_failed".into());
                PinEntry::PinPadFailure
            }
        }
    }

    fn online_pin(&mut self, pan: &str) -> smartpos_emv::OnlinePinEntry {
        self.ui.push("enter_online_pin".into());
        match self.pad.online_pin(pan.to_string()) {
            Ok(OnlinePinEntry::Entered { encrypted_block }) => {
                smartpos_emv::OnlinePinEntry::Entered(encrypted_block)
            }
            Ok(OnlinePinEntry::Bypassed) => {
                self.ui.push("pin_bypassed".into());
                smartpos_emv::OnlinePinEntry::Bypassed
            }
            Ok(OnlinePinEntry::Failed) => {
                self.ui.push("pin_pad_failed".into());
                smartpos_emv::OnlinePinEntry::PinPadFailure
            }
            Err(error) => {
                log::warn!("PIN pad callback failed: {error}");
                self.ui.push("pin_pad_failed".into());
                smartpos_emv::OnlinePinEntry::PinPadFailure
            }
        }
    }
}

/// The issuer's answer for the second half of a contact transaction (ISO 8583 fields 38/39/55;
/// EMV Book 3 §10.9).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HostAuthorisation {
    /// The issuer approved.
    pub approved: bool,
    /// Authorisation Response Code (8A), two characters (`00`, `05`, ...).
    pub response_code: String,
    /// Issuer Authentication Data (91), empty if none.
    pub issuer_authentication_data: Vec<u8>,
    /// Issuer script templates 71/72 (BER-TLV) in the order received, empty if none.
    pub issuer_scripts: Vec<u8>,
}

enum ContactState {
    /// Waiting for the host; the snapshot is what `result()` shows meanwhile.
    Online(Box<OnlineRequest>, EmvResult),
    Done(EmvResult),
    /// Transient, while a completion runs.
    Completing,
}

/// A contact transaction after its first half: finished, or suspended at the online request.
#[derive(uniffi::Object)]
pub struct ContactTransaction {
    reader: Arc<dyn CardReader>,
    cancel: Arc<CancellationHandle>,
    state: Mutex<ContactState>,
}

impl ContactTransaction {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, ContactState>, SmartPosError> {
        self.state.lock().map_err(|_| SmartPosError::Protocol {
            reason: "a previous completion of this transaction panicked".into(),
        })
    }

    fn resume(&self, host: Option<&HostAuthorisation>) -> Result<EmvResult, SmartPosError> {
        let mut state = self.lock()?;
        let (request, mut ui) = match std::mem::replace(&mut *state, ContactState::Completing) {
            ContactState::Online(request, snapshot) => (request, snapshot.ui_messages),
            other => {
                *state = other;
                return Err(SmartPosError::InvalidInput {
                    field: "transaction".into(),
                    reason: "not waiting for the host (already decided or completed)".into(),
                });
            }
        };
        let mut link = ReaderLink::new(self.reader.as_ref(), &self.cancel);
        let result = match host {
            Some(h) => {
                ui.push("online_response".into());
                request.complete(
                    &mut link,
                    &HostResponse {
                        approved: h.approved,
                        arc: h.response_code.clone(),
                        issuer_authentication_data: h.issuer_authentication_data.clone(),
                        scripts: h.issuer_scripts.clone(),
                    },
                )
            }
            None => {
                ui.push("unable_to_go_online".into());
                request.unable_to_go_online(&mut link)
            }
        };
        let converted = contact_result(&result, ui, link.exchanges());
        *state = ContactState::Done(converted.clone());
        match link.take_failure() {
            Some(error) => Err(error),
            None => Ok(converted),
        }
    }
}

#[uniffi::export]
impl ContactTransaction {
    /// The decision so far: final, or `OnlineRequest` with field 55 while waiting for the host.
    pub fn result(&self) -> Result<EmvResult, SmartPosError> {
        match &*self.lock()? {
            ContactState::Online(_, snapshot) => Ok(snapshot.clone()),
            ContactState::Done(result) => Ok(result.clone()),
            ContactState::Completing => Err(SmartPosError::InvalidInput {
                field: "transaction".into(),
                reason: "a completion is running".into(),
            }),
        }
    }

    /// Whether the card asked for online authorisation and the host's answer is awaited.
    pub fn awaiting_host(&self) -> bool {
        matches!(self.state.lock().as_deref(), Ok(ContactState::Online(..)))
    }

    /// The encrypted online PIN block the PIN pad produced, if online PIN was the CVM.
    pub fn online_pin_block(&self) -> Option<Vec<u8>> {
        match self.state.lock().as_deref() {
            Ok(ContactState::Online(request, _)) => request.online_pin_block.clone(),
            _ => None,
        }
    }

    /// Resume with the host's answer: issuer authentication, scripts, second GENERATE AC
    /// (EMV Book 3 §10.9-10.11).
    pub fn complete(&self, host: HostAuthorisation) -> Result<EmvResult, SmartPosError> {
        self.resume(Some(&host))
    }

    /// The host could not be reached: default action analysis and second GENERATE AC
    /// (EMV Book 3 §10.7 "unable to go online").
    pub fn unable_to_go_online(&self) -> Result<EmvResult, SmartPosError> {
        self.resume(None)
    }
}

/// The kernels with their configuration: terminal data and AIDs, CA public keys, contactless
/// combinations, and the torn transaction log kept between taps (EMV Contactless C-2 §4.3).
#[derive(uniffi::Object)]
pub struct EmvKernel {
    contact: ContactKernel,
    contactless: ContactlessReader,
    torn: Mutex<TornLog>,
}

fn config_error(what: &str) -> impl Fn(smartpos_emv::ConfigError) -> SmartPosError + '_ {
    move |e| SmartPosError::InvalidConfiguration {
        what: what.to_string(),
        reason: e.to_string(),
    }
}

impl EmvKernel {
    /// The kernel over an already checked configuration (for the `sim` surface and Rust tests).
    pub fn from_parts(
        config: TerminalConfig,
        keys: CaKeyStore,
        contactless: Option<ContactlessConfig>,
    ) -> Result<Self, SmartPosError> {
        config.validate().map_err(config_error("terminal config"))?;
        let config = Arc::new(config);
        let contactless = contactless.unwrap_or_else(|| ContactlessConfig::for_terminal(&config));
        contactless
            .validate()
            .map_err(config_error("contactless config"))?;
        let keys = Arc::new(keys);
        Ok(EmvKernel {
            contact: ContactKernel::new(config.clone(), keys.clone()),
            contactless: ContactlessReader::new(config, keys, contactless),
            torn: Mutex::new(TornLog::default()),
        })
    }

    fn run_tap(
        &self,
        reader: &dyn CardReader,
        request: &EmvTransactionRequest,
        cancel: &CancellationHandle,
    ) -> Result<EmvResult, SmartPosError> {
        let params = request.params()?;
        let mut link = ReaderLink::new(reader, cancel);
        let mut clock = MonotonicClock::new();
        // A panic in an earlier tap cannot leave the log half-written (push/remove are
        // atomic for Vec), so a poisoned lock is still usable.
        let mut torn = self.torn.lock().unwrap_or_else(|p| p.into_inner());
        let mut env = TapEnv {
            clock: &mut clock,
            torn_log: &mut torn,
        };
        let mut ui = RecordingUi::default();
        let result = run_tap(&mut link, &self.contactless, &params, &mut env, &mut ui);
        match link.take_failure() {
            Some(error) => Err(error),
            None => Ok(tap_result(&result, link.exchanges())),
        }
    }

    fn run_contact(
        &self,
        reader: Arc<dyn CardReader>,
        request: &EmvTransactionRequest,
        pin_pad: &dyn PinPad,
        cancel: Arc<CancellationHandle>,
    ) -> Result<Arc<ContactTransaction>, SmartPosError> {
        let params = request.params()?;
        let mut ui_events = Vec::new();
        let (step, exchanges, failure) = {
            let mut link = ReaderLink::new(reader.as_ref(), &cancel);
            let mut pad = KernelPinPad {
                pad: pin_pad,
                ui: &mut ui_events,
            };
            let step = self.contact.start(
                &mut link,
                params,
                Interaction {
                    ui: &mut FirstCandidate,
                    pin_pad: &mut pad,
                    services: &mut NoServices,
                },
            );
            (step, link.exchanges(), link.take_failure())
        };
        if let Some(error) = failure {
            return Err(error);
        }
        let state = match step {
            Step::Done(result) => ContactState::Done(contact_result(&result, ui_events, exchanges)),
            Step::Online(request) => {
                ui_events.push("online_request".into());
                let snapshot = contact_result(&request.snapshot(), ui_events, exchanges);
                ContactState::Online(request, snapshot)
            }
        };
        Ok(Arc::new(ContactTransaction {
            reader,
            cancel,
            state: Mutex::new(state),
        }))
    }
}

#[uniffi::export]
impl EmvKernel {
    /// A kernel from a terminal configuration (JSON, EMV Book 4 §6.3 terminal data and the AID
    /// list), CA public key files (JSON `{"keys": [...]}`, checksums verified, Book 2 §11.2.2),
    /// and optionally the contactless combinations (JSON; default: derived from the AIDs).
    #[uniffi::constructor]
    pub fn new(
        terminal_config_json: String,
        ca_key_files_json: Vec<String>,
        contactless_config_json: Option<String>,
    ) -> Result<Arc<Self>, SmartPosError> {
        let config = TerminalConfig::from_json(&terminal_config_json)
            .map_err(config_error("terminal config"))?;
        let mut keys = CaKeyStore::new();
        for (i, file) in ca_key_files_json.iter().enumerate() {
            let what = format!("ca key file {i}");
            keys.load_json(file).map_err(config_error(&what))?;
        }
        let contactless = contactless_config_json
            .map(|json| ContactlessConfig::from_json(&json))
            .transpose()
            .map_err(config_error("contactless config"))?;
        Ok(Arc::new(EmvKernel::from_parts(config, keys, contactless)?))
    }

    /// The demo terminal (smartpos-emv's `terminal_demo.json`) with the public EMVCo test CA
    /// keys: for demos and integration tests, never for live cards.
    #[uniffi::constructor]
    pub fn demo() -> Result<Arc<Self>, SmartPosError> {
        let config = TerminalConfig::demo().map_err(config_error("demo terminal config"))?;
        let keys = CaKeyStore::with_test_keys().map_err(config_error("EMVCo test CA keys"))?;
        Ok(Arc::new(EmvKernel::from_parts(config, keys, None)?))
    }

    /// One contactless tap over `reader` (Entry Point, kernel, outcome). Blocking: call it off
    /// the UI thread. Card answers never raise: they are outcomes. Raises `Transport` when the
    /// reader failed, `Cancelled` when `cancel` was set, `InvalidInput` for a bad request.
    pub fn tap(
        &self,
        reader: Box<dyn CardReader>,
        request: EmvTransactionRequest,
        cancel: Arc<CancellationHandle>,
    ) -> Result<EmvResult, SmartPosError> {
        self.run_tap(reader.as_ref(), &request, &cancel)
    }

    /// The same tap over a reader registered by the JNI fast path (`NativeApdu.openReader`).
    pub fn tap_native(
        &self,
        reader_handle: u64,
        request: EmvTransactionRequest,
        cancel: Arc<CancellationHandle>,
    ) -> Result<EmvResult, SmartPosError> {
        let reader = native::reader(reader_handle)?;
        self.run_tap(reader.as_ref(), &request, &cancel)
    }

    /// A contact transaction up to its decision or its online request. Blocking.
    pub fn start_contact(
        &self,
        reader: Box<dyn CardReader>,
        request: EmvTransactionRequest,
        pin_pad: Box<dyn PinPad>,
        cancel: Arc<CancellationHandle>,
    ) -> Result<Arc<ContactTransaction>, SmartPosError> {
        self.run_contact(Arc::from(reader), &request, pin_pad.as_ref(), cancel)
    }

    /// The same over a reader registered by the JNI fast path.
    pub fn start_contact_native(
        &self,
        reader_handle: u64,
        request: EmvTransactionRequest,
        pin_pad: Box<dyn PinPad>,
        cancel: Arc<CancellationHandle>,
    ) -> Result<Arc<ContactTransaction>, SmartPosError> {
        let reader = native::reader(reader_handle)?;
        self.run_contact(reader, &request, pin_pad.as_ref(), cancel)
    }

    /// Torn transactions currently logged (EMV Contactless C-2 §4.3).
    pub fn torn_transactions(&self) -> u32 {
        let torn = self.torn.lock().unwrap_or_else(|p| p.into_inner());
        u32::try_from(torn.len()).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_pin_bytes_are_4_to_12_ascii_digits() {
        // ISO 9564-1 §8.1: 4 to 12 digits; anything else is a failed PIN pad, not a panic.
        assert!(offline_pin_block(b"1234".to_vec()).is_some());
        assert!(offline_pin_block(b"123456789012".to_vec()).is_some());
        assert!(offline_pin_block(b"123".to_vec()).is_none());
        assert!(offline_pin_block(b"1234567890123".to_vec()).is_none());
        // Digit values instead of ASCII digits, letters, invalid UTF-8.
        assert!(offline_pin_block(vec![1, 2, 3, 4]).is_none());
        assert!(offline_pin_block(b"12a4".to_vec()).is_none());
        assert!(offline_pin_block(vec![0xFF, 0x31, 0x32, 0x33]).is_none());
        let entry = OfflinePinEntry::Entered {
            digits: b"9876".to_vec(),
        };
        assert_eq!(format!("{entry:?}"), "Entered(<PIN>)");
    }

    #[test]
    fn cvm_names_follow_book3_annex_c3() {
        assert_eq!(contact_cvm_name("420300"), "online_pin");
        assert_eq!(contact_cvm_name("1F0002"), "no_cvm");
        assert_eq!(contact_cvm_name("5E0300"), "obtain_signature");
        assert_eq!(contact_cvm_name(""), "unknown");
        assert_eq!(contact_cvm_name("ZZ"), "unknown");
    }

    #[test]
    fn request_checks_un_and_date() {
        let mut req = EmvTransactionRequest {
            amount: 100,
            amount_other: 0,
            transaction_type: EmvTransactionType::Purchase,
            date: "261121".into(),
            time: "101500".into(),
            unpredictable_number: vec![1, 2, 3],
            sequence_counter: 1,
            merchant_forced_online: false,
        };
        assert!(matches!(
            req.params(),
            Err(SmartPosError::InvalidInput { field, .. }) if field == "unpredictable_number"
        ));
        req.unpredictable_number = vec![1, 2, 3, 4];
        req.date = "261321".into();
        assert!(matches!(
            req.params(),
            Err(SmartPosError::InvalidInput { field, .. }) if field == "date/time"
        ));
        req.date = "261121".into();
        req.transaction_type = EmvTransactionType::Refund;
        let p = req.params().unwrap();
        assert_eq!(p.transaction_type, TransactionType::Refund);
        assert_eq!(p.unpredictable_number, [1, 2, 3, 4]);
    }

    #[test]
    fn pin_entries_never_print_secrets() {
        let e = OfflinePinEntry::Entered {
            digits: "1234".into(),
        };
        assert!(!format!("{e:?}").contains("1234"));
        let e = OnlinePinEntry::Entered {
            encrypted_block: vec![0xAB; 8],
        };
        assert!(!format!("{e:?}").to_lowercase().contains("ab"));
    }
}
