//! Contactless: EMV Contactless Book A (architecture, outcomes, user interface), Book B (Entry
//! Point) and three kernels, on the same pure state-machine design as the contact kernel.
//!
//! # What is implemented, and what it is not
//!
//! This module implements the *flows* of EMV Contactless Book C-2 (Mastercard-style: GPO,
//! READ RECORD, GENERATE AC with CDA, on-device CVM and "see phone", outcome parameter set
//! DF8129 and discretionary data FF8106, mag-stripe mode with COMPUTE CRYPTOGRAPHIC CHECKSUM,
//! torn-transaction recovery with RECOVER AC, relay resistance with EXCHANGE RELAY RESISTANCE
//! DATA), Book C-3 (Visa-style qVSDC: TTQ in the PDOL, cryptogram in the GPO response, fDDA,
//! CTQ-driven CVM and online/offline decisions) and Book C-7 (UnionPay qUICS: the C-3 flow
//! with the electronic-cash balance 9F79 and EC terminal transaction limit 9F7B), each behind
//! a cargo feature (`kernel-c2`, `kernel-c3`, `kernel-c7`, all on by default). The scheme
//! kernel specifications are licensed for production use; this code was written from the
//! public EMVCo Books A/B and public descriptions of the kernels, is **not type-approved**
//! (no EMVCo level 2 or scheme certification) and must not be deployed to accept real cards
//! without that approval. Not implemented: Data Exchange (DEK/DET) of C-2, the C-2 IDS/data
//! storage, balance reading before/after GENERATE AC, second tap ("two presentments") in C-2,
//! and kernels 4, 5, 6 and 8. C-7 SM-algorithm cards (SM2 certificates and SM2/SM3 fDDA,
//! [`sm`]) follow a layout read from public PBOC 3.0 descriptions and were only tested against
//! the virtual card.
//!
//! # Entry function (for `smartpos emv run --interface contactless`)
//!
//! ```text
//! let reader = ContactlessReader::new(Arc<TerminalConfig>, Arc<CaKeyStore>, ContactlessConfig);
//! let result: TapResult = run_tap(&mut transport, &reader, &params, &mut env, &mut ui);
//! result.outcome.kind        // OutcomeKind (Book A names via book_a_name(): "APPROVED", ...)
//! result.kernel              // Some(KernelId::C3) → "C-3"
//! result.oda, result.oda_ok  // OdaKind::{None, Fdda, Cda}
//! result.tvr, result.cvm     // TVR (95), CvmKind (+ cvm_results 9F34)
//! result.data_record         // field 55 (BER-TLV)
//! result.ui                  // every UiRequest sent to the UiSink, in order
//! result.summary_json()      // the JSON of the CLI
//! // after an ONLINE REQUEST and the host's answer (Start C issuer update when asked for):
//! let final_result = resume_online(&mut transport, &reader, result, &host_response, &mut env, &mut ui);
//! ```
//!
//! The transport is a [`ContactlessTransport`]: a [`CardTransport`] plus protocol activation
//! (one card / collision / none, EMV Book D as reported by the reader) and field-off requests.
//! [`crate::transport::ScriptedCard`] implements it (always one card). Time (relay resistance,
//! torn-log ageing) comes from an injected [`Clock`]; the torn transaction log is owned by the
//! terminal and passed in [`TapEnv`]. With the same script, parameters and clock readings a
//! tap replays bit for bit.

// Kernels leave early with `Err(Outcome)`: the outcome is the kernel's result (Book A §6),
// produced once per tap, not an error travelling up a stack; boxing it buys nothing.
#![allow(clippy::result_large_err)]
// With only some kernels compiled, helpers of the others go unused.
#![cfg_attr(
    not(all(feature = "kernel-c2", feature = "kernel-c3", feature = "kernel-c7")),
    allow(dead_code, unused_variables, unused_mut)
)]

pub mod config;
pub mod entry;
pub mod kernel;
pub mod outcome;
pub mod ui;

#[cfg(feature = "kernel-c2")]
pub mod c2;
#[cfg(any(feature = "kernel-c3", feature = "kernel-c7"))]
pub mod c3;
#[cfg(feature = "kernel-c7")]
pub mod sm;

pub use config::{Combination, ContactlessConfig, Kernel2Config, KernelId, RelayResistanceConfig};
pub use kernel::{RelayResult, TapEnv};
pub use outcome::{CvmKind, Interface, OnlineResponseData, Outcome, OutcomeKind, Start};
pub use ui::{MessageId, NoUi, RecordingUi, Status, UiRequest, UiSink, UiValue};

use crate::config::{CaKeyStore, TerminalConfig};
use crate::kernel::{HostResponse, TransactionParams};
use crate::trace::Trace;
use crate::transport::{CardTransport, ScriptedCard};
use crate::tvr::Tvr;
use serde::Serialize;
use std::sync::Arc;

/// Result of protocol activation (EMV Contactless Book D §9 as the reader reports it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// Exactly one card is in the field and activated.
    Card,
    /// More than one card answered: "present one card only" (Book A §9.4 message 19).
    Collision,
    /// No card came within the polling time.
    NoCard,
}

/// A contactless card link: APDUs plus activation and field control.
pub trait ContactlessTransport: CardTransport {
    /// Poll and activate (after a field reset for a restart).
    fn activate(&mut self) -> Activation;
    /// Field-off request with its hold time (Book A §6.2 Field Off Request).
    fn field_off(&mut self, _hold_time_ms: u32) {}
}

impl<T: ContactlessTransport + ?Sized> ContactlessTransport for &mut T {
    fn activate(&mut self) -> Activation {
        (**self).activate()
    }
    fn field_off(&mut self, hold_time_ms: u32) {
        (**self).field_off(hold_time_ms)
    }
}

/// A scripted card is always one card in the field.
impl ContactlessTransport for ScriptedCard {
    fn activate(&mut self) -> Activation {
        Activation::Card
    }
}

/// Injected time source in microseconds (relay resistance timing, torn-log ageing).
pub trait Clock {
    fn now_micros(&mut self) -> u64;
}

/// A clock that returns scripted readings, then repeats the last (replays, tests).
#[derive(Debug, Clone, Default)]
pub struct ScriptedClock {
    pub readings: Vec<u64>,
    next: usize,
}

impl ScriptedClock {
    pub fn new(readings: Vec<u64>) -> Self {
        ScriptedClock { readings, next: 0 }
    }
}

impl Clock for ScriptedClock {
    fn now_micros(&mut self) -> u64 {
        let v = self
            .readings
            .get(self.next)
            .or(self.readings.last())
            .copied()
            .unwrap_or(0);
        self.next += 1;
        v
    }
}

/// One torn transaction (Book C-2 §4.3): GENERATE AC sent, no answer.
#[derive(Clone, PartialEq, Eq)]
pub struct TornRecord {
    pub pan: Vec<u8>,
    pub psn: Option<Vec<u8>>,
    /// DRDOL-related data for RECOVER AC.
    pub drdol_data: Vec<u8>,
    pub pdol_data: Vec<u8>,
    pub cdol1_data: Vec<u8>,
    pub tvr: [u8; 5],
    pub cda: bool,
    pub logged_at_us: u64,
}

impl std::fmt::Debug for TornRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pan = crate::data::pan_string(&self.pan);
        f.debug_struct("TornRecord")
            .field("pan", &crate::magstripe::mask_pan(&pan))
            .field("cda", &self.cda)
            .field("logged_at_us", &self.logged_at_us)
            .finish()
    }
}

/// The Torn Transaction Log (Book C-2 §4.3), kept by the terminal between taps.
#[derive(Debug, Clone, Default)]
pub struct TornLog {
    pub records: Vec<TornRecord>,
}

impl TornLog {
    /// Add a record, dropping the oldest beyond `max` (DF811D).
    pub fn push(&mut self, r: TornRecord, max: usize) {
        self.records.push(r);
        while self.records.len() > max {
            self.records.remove(0);
        }
    }
    /// Remove records older than `lifetime_us` (DF811C).
    pub fn expire(&mut self, now_us: u64, lifetime_us: u64) {
        self.records
            .retain(|r| now_us.saturating_sub(r.logged_at_us) <= lifetime_us);
    }
    /// Take the record of this card (PAN and PAN sequence number), if any.
    pub fn take(&mut self, pan: &[u8], psn: Option<&[u8]>) -> Option<TornRecord> {
        let i = self
            .records
            .iter()
            .position(|r| r.pan == pan && r.psn.as_deref() == psn)?;
        Some(self.records.remove(i))
    }
    pub fn len(&self) -> usize {
        self.records.len()
    }
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

/// Offline data authentication of a contactless transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OdaKind {
    #[default]
    None,
    /// Fast DDA (C-3, C-7).
    Fdda,
    /// Combined DDA/AC generation (C-2).
    Cda,
}

/// The reader: terminal configuration, CA keys and contactless combinations, shared by taps.
#[derive(Debug, Clone)]
pub struct ContactlessReader {
    pub config: Arc<TerminalConfig>,
    pub keys: Arc<CaKeyStore>,
    pub contactless: ContactlessConfig,
    /// SM2 CA public keys (C-7 SM cards); when present the reader announces SM support
    /// (DF69 = 01).
    #[cfg(feature = "kernel-c7")]
    pub sm_keys: Arc<Vec<sm::SmCaKey>>,
    /// Field-55 tags per configured AID (parsed once, plus the contactless tags).
    record_tags: Arc<Vec<Vec<u32>>>,
}

impl ContactlessReader {
    pub fn new(
        config: Arc<TerminalConfig>,
        keys: Arc<CaKeyStore>,
        contactless: ContactlessConfig,
    ) -> Self {
        let record_tags = Arc::new(
            config
                .aids
                .iter()
                .map(|a| {
                    let mut tags = a.data_record_tag_values();
                    for t in kernel::CONTACTLESS_RECORD_TAGS {
                        if !tags.contains(&t) {
                            tags.push(t);
                        }
                    }
                    tags
                })
                .collect(),
        );
        ContactlessReader {
            config,
            keys,
            contactless,
            record_tags,
            #[cfg(feature = "kernel-c7")]
            sm_keys: Arc::new(Vec::new()),
        }
    }
    /// The field-55 tags of the configured AID at `index`.
    pub(crate) fn record_tags(&self, index: usize) -> Option<&Vec<u32>> {
        self.record_tags.get(index)
    }
    /// Add SM2 CA keys (C-7 SM-algorithm cards).
    #[cfg(feature = "kernel-c7")]
    pub fn with_sm_keys(mut self, keys: Vec<sm::SmCaKey>) -> Self {
        self.sm_keys = Arc::new(keys);
        self
    }
    /// Combinations derived from the terminal's AIDs ([`ContactlessConfig::for_terminal`]).
    pub fn for_terminal(config: Arc<TerminalConfig>, keys: Arc<CaKeyStore>) -> Self {
        let contactless = ContactlessConfig::for_terminal(&config);
        ContactlessReader::new(config, keys, contactless)
    }
}

/// Everything the terminal needs after a tap. `Debug` omits the data record and track data.
pub struct TapResult {
    pub outcome: Outcome,
    pub kernel: Option<KernelId>,
    /// Selected ADF name, hex.
    pub aid: Option<String>,
    pub application_label: Option<String>,
    pub oda: OdaKind,
    pub oda_ok: bool,
    pub oda_failure: Option<String>,
    pub tvr: Tvr,
    pub cvm: CvmKind,
    /// 9F34, hex.
    pub cvm_results: String,
    pub pan_masked: Option<String>,
    /// Field 55 data record (BER-TLV).
    pub data_record: Vec<u8>,
    /// Discretionary data (FF8106 template for C-2: DF8129, DF8115, ...).
    pub discretionary_data: Vec<u8>,
    /// Electronic-cash balance after the transaction (C-7), minor units.
    pub balance: Option<u64>,
    pub relay_resistance: Option<RelayResult>,
    /// The GENERATE AC answer came from RECOVER AC (torn transaction recovered).
    pub torn_recovered: bool,
    /// Entry Point restarts taken (Start B).
    pub restarts: u8,
    pub language: Option<String>,
    /// Why the tap ended without a cryptogram, if it did.
    pub end_reason: Option<String>,
    /// Every UI request sent, in order.
    pub ui: Vec<UiRequest>,
    pub trace: Trace,
    session: Option<Box<kernel::Session>>,
}

impl TapResult {
    fn empty() -> TapResult {
        TapResult {
            outcome: Outcome::new(OutcomeKind::EndApplication),
            kernel: None,
            aid: None,
            application_label: None,
            oda: OdaKind::None,
            oda_ok: false,
            oda_failure: None,
            tvr: Tvr::default(),
            cvm: CvmKind::NotApplicable,
            cvm_results: String::new(),
            pan_masked: None,
            data_record: Vec::new(),
            discretionary_data: Vec::new(),
            balance: None,
            relay_resistance: None,
            torn_recovered: false,
            restarts: 0,
            language: None,
            end_reason: None,
            ui: Vec::new(),
            trace: Trace::default(),
            session: None,
        }
    }

    fn absorb(&mut self, mut s: kernel::Session, outcome: &Outcome) {
        s.ctx.sync();
        self.kernel = Some(s.kernel);
        self.aid = s.ctx.adf_name.as_ref().map(hex::encode_upper);
        self.application_label = s.ctx.label.clone();
        self.oda = s.oda;
        self.oda_ok = s.oda_ok;
        self.oda_failure = s.ctx.oda.failure.clone();
        self.tvr = s.ctx.tvr;
        self.cvm = s.cvm;
        self.cvm_results = hex::encode_upper(s.ctx.cvm_results);
        self.pan_masked = s.ctx.pan().map(|p| crate::magstripe::mask_pan(&p));
        self.data_record = if outcome.data_record_present {
            s.ctx.data_record()
        } else {
            Vec::new()
        };
        let mut dd = smartpos_tlv::TlvBuilder::new();
        dd.push(smartpos_tlv::Tag(0xDF8129), &outcome.encode());
        for (t, v) in &s.discretionary {
            dd.push(smartpos_tlv::Tag(*t), v);
        }
        if let Some(b) = s.ctx.store.get(0x9F5D) {
            dd.push(smartpos_tlv::Tag(0x9F5D), b);
        }
        let mut ff = smartpos_tlv::TlvBuilder::new();
        ff.push(smartpos_tlv::Tag(0xFF8106), dd.as_bytes());
        self.discretionary_data = ff.finish();
        self.balance = s.balance;
        self.relay_resistance = s.relay_resistance;
        self.torn_recovered = s.torn_recovered;
        self.language = s.ctx.language.clone();
        if let Some(r) = &s.end_reason {
            self.end_reason = Some(r.to_string());
        }
        self.trace.entries.append(&mut s.ctx.trace.entries);
        self.session = Some(Box::new(s));
    }

    /// The JSON of `smartpos emv run --interface contactless --json`.
    pub fn summary_json(&self) -> serde_json::Value {
        serde_json::json!({
            "interface": "contactless",
            "outcome": self.outcome.kind.book_a_name(),
            "start": self.outcome.start,
            "kernel": self.kernel.map(KernelId::name),
            "aid": self.aid,
            "oda": self.oda,
            "oda_ok": self.oda_ok,
            "oda_failure": self.oda_failure,
            "tvr": self.tvr.hex(),
            "cvm": self.cvm,
            "cvm_results": self.cvm_results,
            "pan_masked": self.pan_masked,
            // Track 2 (57, 9F6B of mag-stripe mode) and the PAN are masked in the report; the
            // host gets `data_record` itself.
            "field55": masked_tlv_hex(&self.data_record),
            "outcome_parameter_set": crate::trace::hex_upper(&self.outcome.encode()),
            "discretionary_data": crate::trace::hex_upper(&self.discretionary_data),
            "balance": self.balance,
            "restarts": self.restarts,
            "torn_recovered": self.torn_recovered,
            "end_reason": self.end_reason,
            "ui": self.ui,
            "apdus": self.trace.entries,
        })
    }
}

impl std::fmt::Debug for TapResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TapResult")
            .field("outcome", &self.outcome.kind)
            .field("start", &self.outcome.start)
            .field("kernel", &self.kernel)
            .field("aid", &self.aid)
            .field("oda", &self.oda)
            .field("oda_ok", &self.oda_ok)
            .field("oda_failure", &self.oda_failure)
            .field("tvr", &self.tvr)
            .field("cvm", &self.cvm)
            .field("pan_masked", &self.pan_masked)
            .field("data_record_len", &self.data_record.len())
            .field("balance", &self.balance)
            .field("restarts", &self.restarts)
            .field("end_reason", &self.end_reason)
            .field("trace", &self.trace)
            .finish()
    }
}

/// Hex of BER-TLV data with PAN and track data masked (as in the APDU trace).
fn masked_tlv_hex(tlv: &[u8]) -> String {
    let mut v = tlv.to_vec();
    v.extend_from_slice(&[0x90, 0x00]);
    let mut h = crate::trace::mask_response_hex(&v);
    h.truncate(h.len().saturating_sub(4));
    h
}

/// One whole tap: pre-processing, activation, PPSE, combination selection, kernel, outcome
/// processing with Start B restarts (Book B §2-§3). See the module docs.
pub fn run_tap<T: ContactlessTransport>(
    transport: &mut T,
    reader: &ContactlessReader,
    params: &TransactionParams,
    env: &mut TapEnv<'_>,
    ui: &mut dyn UiSink,
) -> TapResult {
    entry::tap(reader, transport, params, env, ui)
}

/// After an ONLINE REQUEST: the host's answer decides; when the kernel asked for the online
/// response data (issuer update, C-3 §5.9) and the host sent 91 or scripts, Entry Point
/// restarts at Start C to deliver them to the card.
pub fn resume_online<T: ContactlessTransport>(
    transport: &mut T,
    reader: &ContactlessReader,
    online: TapResult,
    host: &HostResponse,
    env: &mut TapEnv<'_>,
    ui: &mut dyn UiSink,
) -> TapResult {
    entry::resume(reader, transport, online, host, env, ui)
}
