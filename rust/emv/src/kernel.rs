//! The EMV contact kernel (EMV 4.4 Book 3 §10, Book 4 §6): the transaction flow from application
//! selection to the final cryptogram, as a resumable state machine.
//!
//! [`ContactKernel::start`] runs selection → GPO → records → ODA → restrictions → CVM → risk
//! management → terminal action analysis → first GENERATE AC, and returns a [`Step`]: either
//! the final [`TransactionResult`] or an [`OnlineRequest`] holding the whole suspended
//! transaction. The terminal sends the request to its host (asynchronously, as long as it
//! likes) and resumes with [`OnlineRequest::complete`] or [`OnlineRequest::unable_to_go_online`].

use crate::config::{AidConfig, CaKeyStore, TerminalConfig};
use crate::cvm::{self, PinPad};
use crate::data::{TagStore, u64_to_bcd};
use crate::gpo::{self, GpoResult};
use crate::oda::{self, OdaState};
use crate::outcome::{Decision, EndReason, OdaMethod, TransactionResult};
use crate::selection::{self, CardholderInterface};
use crate::trace::Trace;
use crate::transport::{CardTransport, Channel};
use crate::tvr::{Tsi, TsiBit, Tvr, TvrBit};
use crate::{action, completion, restrictions, risk};
use std::sync::Arc;

/// Transaction Type (9C), ISO 8583:1987 processing code first two digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransactionType {
    /// 00 goods and services.
    Purchase,
    /// 01 cash (manual cash at an attended terminal, or ATM).
    Cash,
    /// 09 purchase with cashback.
    PurchaseWithCashback,
    /// 20 refund.
    Refund,
}

impl TransactionType {
    pub fn code(self) -> u8 {
        match self {
            TransactionType::Purchase => 0x00,
            TransactionType::Cash => 0x01,
            TransactionType::PurchaseWithCashback => 0x09,
            TransactionType::Refund => 0x20,
        }
    }
}

/// Everything a transaction needs from outside: amounts, and the injected date, time,
/// unpredictable number and random-selection draw (architecture principle 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionParams {
    /// Amount, Authorised (9F02), minor units.
    pub amount: u64,
    /// Amount, Other (9F03): the cashback part.
    pub amount_other: u64,
    pub transaction_type: TransactionType,
    /// Transaction Date (9A), BCD YYMMDD.
    pub date: [u8; 3],
    /// Transaction Time (9F21), BCD HHMMSS.
    pub time: [u8; 3],
    /// Unpredictable Number (9F37).
    pub unpredictable_number: [u8; 4],
    /// The random-selection draw, 1..=99 (Book 3 §10.6.2).
    pub random_draw: u8,
    /// Transaction Sequence Counter (9F41).
    pub sequence_counter: u32,
    /// The attendant forced the transaction online (TVR byte 4 bit 4).
    pub merchant_forced_online: bool,
    /// POS Entry Mode (9F39), 05 = ICC.
    pub pos_entry_mode: u8,
}

impl TransactionParams {
    /// Build from digits: date YYMMDD, time HHMMSS, UN as 8 hex digits.
    pub fn new(amount: u64, date: &str, time: &str, un: [u8; 4]) -> Result<Self, EndReason> {
        let date_ok = |d: &[u8; 3]| {
            let (m, dd) = (bcd_byte(d[1]), bcd_byte(d[2]));
            (1..=12).contains(&m) && (1..=31).contains(&dd)
        };
        let time_ok =
            |t: &[u8; 3]| bcd_byte(t[0]) < 24 && bcd_byte(t[1]) < 60 && bcd_byte(t[2]) < 60;
        let d = bcd6(date)
            .filter(date_ok)
            .ok_or_else(|| EndReason::Parameters(format!("date {date:?} is not YYMMDD")))?;
        let t = bcd6(time)
            .filter(time_ok)
            .ok_or_else(|| EndReason::Parameters(format!("time {time:?} is not HHMMSS")))?;
        Ok(TransactionParams {
            amount,
            amount_other: 0,
            transaction_type: TransactionType::Purchase,
            date: d,
            time: t,
            unpredictable_number: un,
            random_draw: 99,
            sequence_counter: 1,
            merchant_forced_online: false,
            pos_entry_mode: 0x05,
        })
    }
    /// Parse an unpredictable number given as 8 hex digits.
    pub fn parse_unpredictable_number(hex_text: &str) -> Result<[u8; 4], EndReason> {
        hex::decode(hex_text.trim())
            .ok()
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .ok_or_else(|| {
                EndReason::Parameters(format!(
                    "unpredictable number {hex_text:?} is not 8 hex digits"
                ))
            })
    }

    /// The date as YYYYMMDD-comparable number (20YY).
    pub(crate) fn date_number(&self) -> u32 {
        let d = crate::data::bcd_to_u64(&self.date).unwrap_or(0) as u32;
        crate::config::window_year(d / 10000) * 10000 + d % 10000
    }
}

fn bcd_byte(b: u8) -> u8 {
    (b >> 4) * 10 + (b & 0x0F)
}

fn bcd6(s: &str) -> Option<[u8; 3]> {
    if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let b = hex::decode(s).ok()?;
    b.try_into().ok()
}

/// Services the terminal provides to risk management (Book 3 §10.6).
pub trait TerminalServices {
    /// Sum of approved amounts for the same card in the journal (floor limit check, §10.6.1).
    /// `pan_hash` is SHA-1 over the PAN digits and the PAN sequence number (5F34, "00" if absent).
    fn same_card_amount(&self, _pan_hash: &[u8; 20]) -> u64 {
        0
    }
    /// Terminal exception file (hot list) lookup (§10.6.1 / Book 4 §6.3.5).
    fn on_exception_file(&self, _pan: &str, _pan_sequence: Option<u8>) -> bool {
        false
    }
    /// Random bytes for the enciphered-PIN padding (Book 2 §7.1). Production terminals fill
    /// this from their RNG; replays inject fixed bytes.
    fn random_padding(&mut self, out: &mut [u8]);
}

/// Services with no journal and no exception file, and a fixed padding: for replays and tests.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoServices;
impl TerminalServices for NoServices {
    fn random_padding(&mut self, out: &mut [u8]) {
        out.fill(0x55);
    }
}

/// The callbacks a transaction needs: cardholder UI, PIN pad, terminal services.
pub struct Interaction<'a> {
    pub ui: &'a mut dyn CardholderInterface,
    pub pin_pad: &'a mut dyn PinPad,
    pub services: &'a mut dyn TerminalServices,
}

/// What [`ContactKernel::start`] hands back.
#[derive(Debug)]
pub enum Step {
    /// The transaction is finished.
    Done(Box<TransactionResult>),
    /// The card asked for online authorisation (ARQC): send `data_record` to the host.
    Online(Box<OnlineRequest>),
}

/// The issuer's answer (ISO 8583 fields 38/39/55).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HostResponse {
    /// The issuer approved.
    pub approved: bool,
    /// Authorisation Response Code (8A), two ASCII characters, e.g. "00".
    pub arc: String,
    /// Issuer Authentication Data (91), hex.
    #[serde(default, with = "crate::config::hexbytes")]
    pub issuer_authentication_data: Vec<u8>,
    /// Issuer script templates 71 and 72 (BER-TLV, hex), in the order received.
    #[serde(default, with = "crate::config::hexbytes")]
    pub scripts: Vec<u8>,
}

/// A suspended transaction waiting for the host (Book 3 §10.9).
pub struct OnlineRequest {
    /// The data record for field 55 (BER-TLV).
    pub data_record: Vec<u8>,
    /// The online PIN block from the PIN pad, if online PIN was the CVM (opaque, encrypted).
    pub online_pin_block: Option<Vec<u8>>,
    pub pan_masked: Option<String>,
    pub(crate) ctx: Ctx,
}

impl std::fmt::Debug for OnlineRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnlineRequest")
            .field("data_record_len", &self.data_record.len())
            .field(
                "online_pin_block",
                &self.online_pin_block.as_ref().map(|_| "<encrypted>"),
            )
            .field("pan_masked", &self.pan_masked)
            .field("tvr", &self.ctx.tvr)
            .finish()
    }
}

impl OnlineRequest {
    /// The transaction as it stands at the online request (decision `OnlineRequest`), e.g. for
    /// a report when no host answer is available; the request itself stays usable.
    pub fn snapshot(&self) -> TransactionResult {
        TransactionResult {
            decision: Decision::OnlineRequest,
            end_reason: None,
            aid: self.ctx.adf_name.as_ref().map(hex::encode_upper),
            application_label: self.ctx.label.clone(),
            oda: self.ctx.oda.method,
            oda_ok: self.ctx.oda.method != OdaMethod::None && !self.ctx.oda.failed,
            oda_failure: self.ctx.oda.failure.clone(),
            tvr: self.ctx.tvr,
            tsi: self.ctx.tsi,
            cvm_results: hex::encode_upper(self.ctx.cvm_results),
            signature_required: self.ctx.signature_required,
            pan_masked: self.pan_masked.clone(),
            data_record: self.data_record.clone(),
            advice_requested: self.ctx.advice,
            script_results: String::new(),
            language: self.ctx.language.clone(),
            trace: self.ctx.trace.clone(),
        }
    }

    /// TVR at the time of the request.
    pub fn tvr(&self) -> Tvr {
        self.ctx.tvr
    }
    /// Resume with the host's answer: issuer authentication, scripts, second GENERATE AC.
    pub fn complete<T: CardTransport>(
        self,
        transport: &mut T,
        response: &HostResponse,
    ) -> TransactionResult {
        let mut ctx = self.ctx;
        let mut ch = Channel::new(&mut *transport);
        let r = completion::complete_online(&mut ctx, &mut ch, Some(response));
        ctx.trace.entries.extend(ch.take_trace().entries);
        ctx.finish(r)
    }
    /// The host could not be reached: default action analysis and second GENERATE AC
    /// (Book 3 §10.7, "unable to go online").
    pub fn unable_to_go_online<T: CardTransport>(self, transport: &mut T) -> TransactionResult {
        let mut ctx = self.ctx;
        let mut ch = Channel::new(&mut *transport);
        let r = completion::complete_online(&mut ctx, &mut ch, None);
        ctx.trace.entries.extend(ch.take_trace().entries);
        ctx.finish(r)
    }
}

/// The transaction context carried through every phase.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub cfg: Arc<TerminalConfig>,
    pub keys: Arc<CaKeyStore>,
    /// Index of the selected application's parameters in `cfg.aids`.
    pub aid_index: usize,
    /// Parsed data-record tags of the selected application.
    pub record_tags: Vec<u32>,
    pub params: TransactionParams,
    pub store: TagStore,
    pub tvr: Tvr,
    pub tsi: Tsi,
    pub aip: [u8; 2],
    pub oda: OdaState,
    pub cvm_results: [u8; 3],
    pub signature_required: bool,
    pub online_pin_block: Option<Vec<u8>>,
    pub pdol_data: Vec<u8>,
    pub cdol1_data: Vec<u8>,
    pub advice: bool,
    pub script_results: Vec<u8>,
    pub trace: Trace,
    pub adf_name: Option<Vec<u8>>,
    pub label: Option<String>,
    pub language: Option<String>,
}

/// Internal result of a phase: continue, or a final decision.
pub(crate) type Phase<T> = Result<T, EndReason>;

impl Ctx {
    /// A fresh context before application selection: empty tag store, TVR/TSI zero, CVM Results
    /// "no CVM performed" (3F 00 00). The contact kernel and the contactless kernels both start here.
    pub(crate) fn new(
        cfg: Arc<TerminalConfig>,
        keys: Arc<CaKeyStore>,
        params: TransactionParams,
    ) -> Ctx {
        Ctx {
            cfg,
            keys,
            aid_index: 0,
            record_tags: Vec::new(),
            params,
            store: TagStore::new(),
            tvr: Tvr::default(),
            tsi: Tsi::default(),
            aip: [0, 0],
            oda: OdaState::default(),
            cvm_results: [0x3F, 0x00, 0x00],
            signature_required: false,
            online_pin_block: None,
            pdol_data: Vec::new(),
            cdol1_data: Vec::new(),
            advice: false,
            script_results: Vec::new(),
            trace: Trace::default(),
            adf_name: None,
            label: None,
            language: None,
        }
    }

    /// The terminal data objects that come from the terminal configuration alone (Book 3 Annex A,
    /// source "terminal"): country and currency codes, exponent, capabilities, terminal type,
    /// terminal and merchant identifiers, MCC, merchant name and location, IFD serial number.
    /// Shared by the contact kernel and the contactless kernels.
    pub(crate) fn load_terminal_config_data(&mut self) {
        let t = &self.cfg.terminal;
        let s = &mut self.store;
        s.set_terminal(0x9F1A, t.country_code.clone());
        s.set_terminal(0x5F2A, t.currency_code.clone());
        s.set_terminal(0x5F36, vec![t.currency_exponent]);
        s.set_terminal(0x9F33, t.capabilities.clone());
        s.set_terminal(0x9F40, t.additional_capabilities.clone());
        s.set_terminal(0x9F35, vec![t.terminal_type]);
        s.set_terminal(0x9F1C, t.terminal_id.as_bytes().to_vec());
        s.set_terminal(0x9F16, format!("{:<15}", t.merchant_id).into_bytes());
        s.set_terminal(
            0x9F15,
            hex::decode(&t.merchant_category_code).unwrap_or_default(),
        );
        s.set_terminal(0x9F4E, t.merchant_name_location.as_bytes().to_vec());
        if !t.ifd_serial_number.is_empty() {
            s.set_terminal(0x9F1E, t.ifd_serial_number.as_bytes().to_vec());
        }
    }

    /// Terminal data objects (Book 3 Annex A, source "terminal").
    fn load_terminal_data(&mut self) {
        self.load_terminal_config_data();
        let t = &self.cfg.terminal;
        let p = &self.params;
        let s = &mut self.store;
        if !t.acquirer_id.is_empty() {
            s.set_terminal(0x9F01, t.acquirer_id.clone());
        }
        let total = p.amount;
        s.set_terminal(0x9F02, u64_to_bcd(total, 6));
        s.set_terminal(0x9F03, u64_to_bcd(p.amount_other, 6));
        s.set_terminal(
            0x81,
            (total.min(u64::from(u32::MAX)) as u32)
                .to_be_bytes()
                .to_vec(),
        );
        s.set_terminal(
            0x9F04,
            (p.amount_other.min(u64::from(u32::MAX)) as u32)
                .to_be_bytes()
                .to_vec(),
        );
        s.set_terminal(0x9A, p.date.to_vec());
        s.set_terminal(0x9F21, p.time.to_vec());
        s.set_terminal(0x9C, vec![p.transaction_type.code()]);
        s.set_terminal(0x9F37, p.unpredictable_number.to_vec());
        s.set_terminal(0x9F41, u64_to_bcd(u64::from(p.sequence_counter), 4));
        s.set_terminal(0x9F39, vec![p.pos_entry_mode]);
        self.sync();
    }

    /// The selected application's parameters (the first AID before selection).
    pub fn aid(&self) -> &AidConfig {
        static EMPTY: std::sync::OnceLock<AidConfig> = std::sync::OnceLock::new();
        self.cfg.aids.get(self.aid_index).unwrap_or_else(|| {
            EMPTY.get_or_init(|| AidConfig {
                scheme: String::new(),
                aid: Vec::new(),
                partial_selection: false,
                application_version: vec![0, 0],
                tac_default: vec![0; 5],
                tac_denial: vec![0; 5],
                tac_online: vec![0; 5],
                floor_limit: 0,
                random_selection_threshold: 0,
                target_percent: 0,
                max_target_percent: 0,
                default_tdol: Vec::new(),
                default_ddol: Vec::new(),
                data_record_tags: Vec::new(),
            })
        })
    }

    /// Per-application terminal data once the AID is known.
    fn load_aid_data(&mut self) {
        let version = self.aid().application_version.clone();
        let floor = self.aid().floor_limit.min(u64::from(u32::MAX)) as u32;
        self.store.set_terminal(0x9F09, version);
        self.store
            .set_terminal(0x9F1B, floor.to_be_bytes().to_vec());
    }

    /// Copy the TVR, TSI and CVM results into the data store (before any DOL is built).
    pub fn sync(&mut self) {
        self.store.set_terminal(0x95, self.tvr.0.to_vec());
        self.store.set_terminal(0x9B, self.tsi.0.to_vec());
        self.store.set_terminal(0x9F34, self.cvm_results.to_vec());
    }

    pub fn set(&mut self, bit: TvrBit) {
        self.tvr.set(bit);
    }
    pub fn tsi(&mut self, bit: TsiBit) {
        self.tsi.set(bit);
    }

    pub fn pan(&self) -> Option<String> {
        self.store.get(0x5A).map(crate::data::pan_string)
    }

    /// The data record for the host: the configured tags present in the store, in order.
    pub fn data_record(&mut self) -> Vec<u8> {
        self.sync();
        let mut b = smartpos_tlv::TlvBuilder::new();
        for &tag in &self.record_tags {
            if let Some(v) = self.store.get(tag) {
                b.push(smartpos_tlv::Tag(tag), v);
            }
        }
        b.finish()
    }

    /// Build the final result.
    pub fn finish(&mut self, r: Phase<Decision>) -> TransactionResult {
        self.sync();
        let (decision, end_reason) = match r {
            Ok(d) => (d, None),
            Err(e) => (Decision::EndApplication, Some(e)),
        };
        let data_record = if matches!(decision, Decision::EndApplication) && self.adf_name.is_none()
        {
            Vec::new()
        } else {
            self.data_record()
        };
        TransactionResult {
            decision,
            end_reason,
            aid: self.adf_name.as_ref().map(hex::encode_upper),
            application_label: self.label.clone(),
            oda: self.oda.method,
            oda_ok: self.oda.method != OdaMethod::None && !self.oda.failed,
            oda_failure: self.oda.failure.clone(),
            tvr: self.tvr,
            tsi: self.tsi,
            cvm_results: hex::encode_upper(self.cvm_results),
            signature_required: self.signature_required,
            pan_masked: self.pan().map(|p| crate::magstripe::mask_pan(&p)),
            data_record,
            advice_requested: self.advice,
            script_results: hex::encode_upper(&self.script_results),
            language: self.language.clone(),
            trace: std::mem::take(&mut self.trace),
        }
    }
}

/// The contact kernel: configuration and CA keys, shared by every transaction.
#[derive(Debug, Clone)]
pub struct ContactKernel {
    config: Arc<TerminalConfig>,
    keys: Arc<CaKeyStore>,
}

impl ContactKernel {
    pub fn new(config: Arc<TerminalConfig>, keys: Arc<CaKeyStore>) -> Self {
        ContactKernel { config, keys }
    }

    pub fn config(&self) -> &TerminalConfig {
        &self.config
    }

    /// Run a transaction up to its decision or its online request.
    pub fn start<T: CardTransport>(
        &self,
        transport: &mut T,
        params: TransactionParams,
        io: Interaction<'_>,
    ) -> Step {
        let mut ctx = Ctx::new(self.config.clone(), self.keys.clone(), params);
        ctx.load_terminal_data();
        let mut ch = Channel::new(&mut *transport);
        let r = run_first_half(&mut ctx, &mut ch, io);
        ctx.trace.entries.extend(ch.take_trace().entries);
        match r {
            Ok(action::FirstAcOutcome::Online) => {
                let data_record = ctx.data_record();
                let pan_masked = ctx.pan().map(|p| crate::magstripe::mask_pan(&p));
                Step::Online(Box::new(OnlineRequest {
                    data_record,
                    online_pin_block: ctx.online_pin_block.clone(),
                    pan_masked,
                    ctx,
                }))
            }
            Ok(action::FirstAcOutcome::Final(d)) => Step::Done(Box::new(ctx.finish(Ok(d)))),
            Err(e) => Step::Done(Box::new(ctx.finish(Err(e)))),
        }
    }
}

fn run_first_half<T: CardTransport>(
    ctx: &mut Ctx,
    ch: &mut Channel<T>,
    io: Interaction<'_>,
) -> Phase<action::FirstAcOutcome> {
    // Book 1 §12: candidate list, then final selection + GPO, returning to selection on 6985.
    let mut candidates = selection::build_candidate_list(ch, &ctx.cfg)?;
    let options = loop {
        let selected = selection::final_selection(ch, &mut candidates, &mut *io.ui)?;
        if ctx.cfg.aids.get(selected.candidate.terminal_aid).is_none() {
            return Err(EndReason::NotAccepted);
        }
        ctx.aid_index = selected.candidate.terminal_aid;
        ctx.record_tags = ctx.aid().data_record_tag_values();
        ctx.adf_name = Some(selected.fci.df_name.clone());
        ctx.label = selected
            .fci
            .label
            .clone()
            .or(selected.fci.preferred_name.clone());
        ctx.store = {
            let mut s = TagStore::new();
            std::mem::swap(&mut s, &mut ctx.store);
            // keep the terminal data, drop card data of a previous attempt
            let mut fresh = TagStore::new();
            for tag in TERMINAL_TAGS {
                if let Some(v) = s.get(*tag) {
                    fresh.set_terminal(*tag, v.to_vec());
                }
            }
            fresh
        };
        ctx.load_aid_data();
        ctx.store.set_card(0x84, selected.fci.df_name.clone());
        let terminal_aid = ctx.aid().aid.clone();
        ctx.store.set_terminal(0x9F06, terminal_aid);
        ctx.store.set_card(0x4F, selected.fci.df_name.clone());
        if let Some(l) = &selected.fci.label {
            ctx.store.set_card(0x50, l.as_bytes().to_vec());
        }
        if let Some(p) = &selected.fci.pdol {
            ctx.store.set_card(0x9F38, p.clone());
        }
        if let Some(l) = &selected.fci.language_preference {
            ctx.store.set_card(0x5F2D, l.as_bytes().to_vec());
            ctx.language = selection::negotiate_language(l, &ctx.cfg.terminal.languages);
        }
        // Book 3 §10.1: PDOL data from the terminal data.
        ctx.pdol_data = match &selected.fci.pdol {
            Some(pdol) => crate::dol::build(pdol, &ctx.store)?,
            None => Vec::new(),
        };
        match gpo::get_processing_options(ch, &ctx.pdol_data)? {
            GpoResult::Options(o) => break o,
            GpoResult::ConditionsNotSatisfied => continue,
        }
    };
    ctx.aip = options.aip;
    ctx.store.set_card(0x82, options.aip.to_vec());
    ctx.store.set_card(0x94, options.afl.clone());
    for (tag, v) in &options.other {
        if !ctx.store.add_card_once(*tag, v) {
            return Err(EndReason::DuplicateData { tag: *tag });
        }
    }
    let afl = gpo::parse_afl(&options.afl).map_err(|reason| EndReason::FormatError {
        command: "GET PROCESSING OPTIONS",
        reason,
    })?;
    let records = gpo::read_records(ch, &afl)?;
    for (tag, v) in &records.objects {
        if !ctx.store.add_card_once(*tag, v) {
            return Err(EndReason::DuplicateData { tag: *tag });
        }
    }
    // Book 3 §7.2 mandatory data.
    for tag in [0x5F24, 0x5A, 0x8C, 0x8D] {
        if !ctx.store.contains(tag) {
            return Err(EndReason::MissingMandatoryData { tag });
        }
    }
    ctx.oda.static_data = records.oda_data;
    ctx.oda.record_invalid = records.oda_record_invalid;

    oda::perform_before_ac(ctx, ch)?;
    restrictions::perform(ctx);
    cvm::perform(ctx, ch, &mut *io.pin_pad, &mut *io.services)?;
    risk::perform(ctx, ch, &*io.services)?;
    action::first_generate_ac(ctx, ch)
}

/// Terminal tags kept across re-selection.
const TERMINAL_TAGS: &[u32] = &[
    0x9F1A, 0x5F2A, 0x5F36, 0x9F33, 0x9F40, 0x9F35, 0x9F1C, 0x9F16, 0x9F15, 0x9F4E, 0x9F1E, 0x9F01,
    0x9F02, 0x9F03, 0x81, 0x9F04, 0x9A, 0x9F21, 0x9C, 0x9F37, 0x9F41, 0x9F39, 0x95, 0x9B, 0x9F34,
];
