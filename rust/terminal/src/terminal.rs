//! The [`Terminal`]: opens the journal (with crash recovery), the host client and the kernels,
//! and runs every transaction in the order the journal discipline requires:
//!
//! ```text
//! risk pre-check ─► journal.begin (durable) ─► card (kernel) ─► journal.card_read
//!   ─► journal.online_pending ─► host request (reversal saved first) ─► MAC-checked response
//!   ─► journal.approve/decline ─► card completion (second GENERATE AC) ─► journal.complete
//!   on any failure after an authorisation: journal.require_reversal, flushed before the next one
//! ```
//!
//! A tap runs the contactless Entry Point (EMV Contactless Book B) and kernels C-2/C-3/C-7
//! instead of the contact kernel; its Book A outcome (§6.2) decides:
//!
//! ```text
//! run_tap ─► APPROVED: journal.offline_approve (advice queued) ─► done
//!         ─► ONLINE REQUEST: journal.online_pending ─► host (field 55 = data record, PIN block
//!            when the CVM is online PIN) ─► journal.approve ─► resume_online (Start C issuer
//!            update when the kernel asked) ─► journal.complete
//!         ─► DECLINED: journal.decline   ─► TRY AGAIN: next tap   ─► TRY ANOTHER INTERFACE:
//!            insert/swipe   ─► END APPLICATION: the payment fails
//! ```
//! Every Book A UI request becomes a prompt and an LED event for the app.

mod card;
mod contactless;
mod host_outcome;
use card::{ChipEnd, NoCard};
use contactless::{TapEnd, reader_config};

use crate::cancel::CancelToken;
use crate::config::Settings;
use crate::devices::{
    ActivatedNfcLink, Beep, Confirmation, ContactlessChannel, Devices, EncryptedPin, Indicators,
    Interfaces, PinPadError, Presented, ReaderError, SharedKeyStore, SwipedCard,
};
use crate::error::{Result, TerminalError};
use crate::events::{self, Event, EventSink, LedStatus, MessageId, Step as Progress};
use crate::journal_host::{self, SharedClock, SharedJournal, emv_date_time};
use crate::records::{SignOnResult, Status, TransactionOutcome, ValueAdded};
use crate::risk::{self, CardCheck, RiskRule};
use crate::roles::{Action, Authoriser, Role};
use crate::store::JournalQueues;
use smartpos_crypto::keyhier::{HierarchyAlgorithm, KeyHierarchy, WorkingKeyType};
use smartpos_emv::contactless::{
    ContactlessReader, ContactlessTransport, CvmKind, OutcomeKind, TapEnv, TapResult, TornLog,
    UiRequest, UiSink,
};
use smartpos_emv::cvm::{OfflinePinPrompt, OnlinePinEntry, PinEntry};
use smartpos_emv::magstripe::{Track2, swipe_decision};
use smartpos_emv::{
    CaKeyStore, CardTransport, ContactKernel, Decision, Interaction, Step, TerminalServices,
    TransactionParams, TransactionResult, TransactionType,
};
use smartpos_host::{HostClient, HostError, LinkConfig, PinInput, ReversalReason, TlsConfig};
use smartpos_journal::{
    AesGcmPanProtector, Clock, EntryMode, Journal, JournalConfig, NewTransaction, OpenReport, Pan,
    Timestamp, TransactionRecord, TxnId, TxnKind,
};
use smartpos_tlv::Tag;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use zeroize::Zeroizing;

/// Options of [`Terminal::open_with`] beyond the configuration directory.
#[derive(Default)]
pub struct OpenOptions {
    /// Kernel configuration (AIDs, terminal data); default: `emv.json` in the configuration
    /// directory, else the demo configuration.
    pub emv_config: Option<smartpos_emv::TerminalConfig>,
    /// CA public keys; default: `ca_keys.json` in the configuration directory, else the test keys.
    pub ca_keys: Option<CaKeyStore>,
    /// Settings instead of `terminal.toml`/`terminal.json`.
    pub settings: Option<Settings>,
    /// Time source (default: the system clock).
    pub clock: Option<Arc<dyn Clock + Sync>>,
}

/// What opening found (journal recovery).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OpenSummary {
    /// Transactions online at the crash, now queued for reversal.
    pub recovered_reversals: usize,
    /// Host approvals never completed on the terminal, now queued for reversal.
    pub unfinished_approvals: usize,
    /// Transactions abandoned before anything was sent.
    pub aborted: usize,
    /// Journal invariant violations found.
    pub violations: usize,
    /// Reversals and advices waiting to be sent.
    pub pending_reversals: usize,
    /// Advices waiting.
    pub pending_advices: usize,
}

/// How the customer pays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentMethod {
    /// A card by any interface (chip, contactless, stripe).
    Card,
    /// Scan the customer's wallet payment code.
    ScanWalletCode,
    /// Show the merchant QR and poll for the payment.
    MerchantQr,
}

/// A sale (or pre-authorisation) request from the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleRequest {
    /// Amount of goods/services after the coupon discount, minor units.
    pub amount: u64,
    /// Tip.
    pub tip: u64,
    /// Cashback.
    pub cashback: u64,
    /// Order reference, member id, coupon.
    pub value_added: ValueAdded,
    /// Cashier.
    pub operator_id: String,
    /// How the customer pays.
    pub method: PaymentMethod,
}

impl SaleRequest {
    /// A card sale of `amount` by `operator`.
    pub fn card(amount: u64, operator: &str) -> SaleRequest {
        SaleRequest {
            amount,
            tip: 0,
            cashback: 0,
            value_added: ValueAdded::default(),
            operator_id: operator.to_string(),
            method: PaymentMethod::Card,
        }
    }

    fn total(&self) -> Result<u64> {
        self.amount
            .checked_add(self.tip)
            .and_then(|t| t.checked_add(self.cashback))
            .ok_or_else(|| TerminalError::invalid("amount", "amount + tip + cashback overflows"))
    }
}

/// The payment terminal: the one orchestrator.
pub struct Terminal {
    pub(crate) settings: Settings,
    pub(crate) journal: SharedJournal,
    pub(crate) host: HostClient<JournalQueues>,
    pub(crate) devices: Devices,
    pub(crate) keys: SharedKeyStore,
    pub(crate) authoriser: Box<dyn Authoriser>,
    pub(crate) kernel: ContactKernel,
    /// Contactless Entry Point and kernels (EMV Contactless Book B), built once at open from
    /// the same terminal configuration and CA keys as the contact kernel.
    pub(crate) reader: ContactlessReader,
    /// Torn Transaction Log (Book C-2 §4.3), kept across taps.
    pub(crate) torn_log: TornLog,
    /// Origin of the contactless reader clock (relay resistance timing, torn-log ageing).
    pub(crate) reader_epoch: std::time::Instant,
    pub(crate) clock: SharedClock,
    pub(crate) tampered: bool,
    pub(crate) summary: OpenSummary,
    pub(crate) config_dir: PathBuf,
}

impl std::fmt::Debug for Terminal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Terminal")
            .field("terminal_id", &self.settings.terminal_id)
            .field("host", &self.host)
            .field("tampered", &self.tampered)
            .finish_non_exhaustive()
    }
}

fn keystore_err(e: impl std::fmt::Display) -> TerminalError {
    TerminalError::KeyStore(e.to_string())
}

/// The kernel's PIN pad callback over the device PIN pad: keeps the encrypted block and KSN for
/// the host message and tells the app to show "enter PIN".
struct KernelPinPad<'a> {
    pad: &'a mut dyn crate::devices::PinPad,
    events: &'a dyn EventSink,
    amount: u64,
    captured: Option<EncryptedPin>,
}

impl smartpos_emv::PinPad for KernelPinPad<'_> {
    fn offline_pin(&mut self, prompt: OfflinePinPrompt) -> PinEntry {
        self.events.event(&Event::Prompt {
            id: MessageId::EnterPin,
            tries_left: prompt.tries_left,
            book_a: None,
        });
        match self.pad.offline_pin(prompt.tries_left) {
            Ok(b) => PinEntry::Entered(b),
            Err(PinPadError::Bypassed) => PinEntry::Bypassed,
            Err(_) => PinEntry::PinPadFailure,
        }
    }
    fn online_pin(&mut self, pan: &str) -> OnlinePinEntry {
        events::prompt(self.events, MessageId::EnterPin);
        match self.pad.online_pin(pan, self.amount) {
            Ok(p) => {
                let block = p.block.to_vec();
                self.captured = Some(p);
                OnlinePinEntry::Entered(block)
            }
            Err(PinPadError::Bypassed) => OnlinePinEntry::Bypassed,
            Err(_) => OnlinePinEntry::PinPadFailure,
        }
    }
}

/// Risk-management services for the kernel: the exception file, and the PAN captured for the
/// host message (the kernel hands it to the exception-file check, EMV Book 3 §10.6.1).
struct Services<'a> {
    exception_file: &'a [String],
}

impl TerminalServices for Services<'_> {
    fn on_exception_file(&self, pan: &str, _psn: Option<u8>) -> bool {
        self.exception_file.iter().any(|p| p == pan)
    }
    fn random_padding(&mut self, out: &mut [u8]) {
        if openssl::rand::rand_bytes(out).is_err() {
            out.fill(0x5A);
        }
    }
}

/// Captures the PAN on the exception-file call (the kernel calls it once per transaction).
struct CapturingServices<'a, 'b> {
    inner: &'b mut Services<'a>,
    pan: std::cell::RefCell<Option<(Zeroizing<String>, Option<u8>)>>,
}

impl TerminalServices for CapturingServices<'_, '_> {
    fn on_exception_file(&self, pan: &str, psn: Option<u8>) -> bool {
        *self.pan.borrow_mut() = Some((Zeroizing::new(pan.to_string()), psn));
        self.inner.on_exception_file(pan, psn)
    }
    fn random_padding(&mut self, out: &mut [u8]) {
        self.inner.random_padding(out)
    }
}

struct AutoSelect;
impl smartpos_emv::CardholderInterface for AutoSelect {
    fn choose_application(&mut self, _c: &[smartpos_emv::Candidate]) -> smartpos_emv::Choice {
        smartpos_emv::Choice::Select(0)
    }
}

fn tag_hex(data: &[u8], tag: u32) -> Option<String> {
    smartpos_tlv::find(data, Tag(tag))
        .ok()
        .flatten()
        .map(|t| hex::encode_upper(t.value))
}

/// Issuer authentication data (91) and scripts (71/72 templates, raw) from field 55.
fn issuer_data(icc: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut iad = Vec::new();
    let mut scripts = Vec::new();
    for t in smartpos_tlv::TlvReader::new(icc).flatten() {
        match t.tag.0 {
            0x91 => iad = t.value.to_vec(),
            0x71 | 0x72 => scripts.extend_from_slice(t.raw),
            _ => {}
        }
    }
    (iad, scripts)
}

/// How a card was read, for the journal and the host.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Read {
    Chip,
    Contactless,
}

/// The state of one card payment in flight.
pub(crate) struct Payment<'r> {
    pub(crate) id: TxnId,
    pub(crate) record: TransactionRecord,
    pub(crate) kind: TxnKind,
    pub(crate) req: &'r SaleRequest,
    pub(crate) total: u64,
}

impl Terminal {
    /// Open with the configuration in `config_dir` (defaults when files are absent), the devices,
    /// the key store and the journal file: migrations and crash recovery run here (whatever was
    /// online at a crash is queued for reversal and sent before the next transaction).
    pub fn open(
        config_dir: &Path,
        devices: Devices,
        key_store: SharedKeyStore,
        journal_path: &Path,
        authoriser: Box<dyn Authoriser>,
    ) -> Result<Terminal> {
        Terminal::open_with(
            config_dir,
            devices,
            key_store,
            journal_path,
            authoriser,
            OpenOptions::default(),
        )
    }

    /// [`Terminal::open`] with kernel configuration, settings or clock given directly.
    pub fn open_with(
        config_dir: &Path,
        devices: Devices,
        key_store: SharedKeyStore,
        journal_path: &Path,
        authoriser: Box<dyn Authoriser>,
        options: OpenOptions,
    ) -> Result<Terminal> {
        let settings = match options.settings {
            Some(s) => {
                s.validate("settings")?;
                s
            }
            None => Settings::load(config_dir)?,
        };
        let emv_config = match options.emv_config {
            Some(c) => c,
            None => {
                let p = config_dir.join("emv.json");
                if p.is_file() {
                    let text = std::fs::read_to_string(&p)
                        .map_err(|e| TerminalError::config("emv.json", e.to_string()))?;
                    smartpos_emv::TerminalConfig::from_json(&text)
                        .map_err(|e| TerminalError::config("emv.json", e.to_string()))?
                } else {
                    smartpos_emv::TerminalConfig::demo()
                        .map_err(|e| TerminalError::config("emv defaults", e.to_string()))?
                }
            }
        };
        let ca_keys = match options.ca_keys {
            Some(k) => k,
            None => {
                let p = config_dir.join("ca_keys.json");
                if p.is_file() {
                    let text = std::fs::read_to_string(&p)
                        .map_err(|e| TerminalError::config("ca_keys.json", e.to_string()))?;
                    let mut k = CaKeyStore::new();
                    k.load_json(&text)
                        .map_err(|e| TerminalError::config("ca_keys.json", e.to_string()))?;
                    k
                } else {
                    CaKeyStore::with_test_keys()
                        .map_err(|e| TerminalError::config("ca key defaults", e.to_string()))?
                }
            }
        };
        let clock = SharedClock(
            options
                .clock
                .unwrap_or_else(|| Arc::new(smartpos_journal::SystemClock)),
        );
        let (hash_key, data_key) = key_store
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .journal_keys()
            .map_err(keystore_err)?;
        let protector = AesGcmPanProtector::new(&hash_key, &data_key, 1)?;
        let (journal, report) = Journal::open(
            journal_path,
            JournalConfig::default(),
            Box::new(clock.clone()),
            Box::new(protector),
        )?;
        let (journal, summary) = {
            let mut journal = journal;
            // Approved at the host but never completed on the terminal (the card's second
            // GENERATE AC or the receipt never happened): the cardholder was not served, reverse.
            for id in &report.unfinished_approvals {
                journal.require_reversal(*id, ReversalReason::TerminalDeclined.name())?;
            }
            let summary = summarise(&journal, &report)?;
            (journal, summary)
        };
        let journal: SharedJournal = Arc::new(Mutex::new(journal));
        let host = new_host_client(&settings, config_dir, &key_store, journal.clone())?;
        let emv_config = Arc::new(emv_config);
        let ca_keys = Arc::new(ca_keys);
        Ok(Terminal {
            kernel: ContactKernel::new(emv_config.clone(), ca_keys.clone()),
            reader: ContactlessReader::for_terminal(Arc::new(reader_config(&emv_config)), ca_keys),
            torn_log: TornLog::default(),
            reader_epoch: std::time::Instant::now(),
            settings,
            journal,
            host,
            devices,
            keys: key_store,
            authoriser,
            clock,
            tampered: false,
            summary,
            config_dir: config_dir.to_path_buf(),
        })
    }

    /// What the journal's recovery found at open.
    pub fn open_summary(&self) -> &OpenSummary {
        &self.summary
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The journal (reports, receipts, tests).
    pub fn journal(&self) -> SharedJournal {
        self.journal.clone()
    }

    pub(crate) fn events(&self) -> Arc<dyn EventSink> {
        self.devices.events.clone()
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub(crate) fn outcome(&self, id: TxnId, status: Status) -> Result<TransactionOutcome> {
        let r = journal_host::lock(&self.journal).get(id)?;
        Ok(TransactionOutcome::from_record(
            &r,
            status,
            &self.settings.terminal_id,
            &self.settings.merchant_id,
        ))
    }

    /// Sign-on (0800/0810): the host's working keys are checked (KCVs) and installed in the key
    /// store; the batch number follows the host.
    pub fn sign_on(&mut self) -> Result<SignOnResult> {
        if self.tampered {
            return Err(TerminalError::Tampered);
        }
        events::prompt(&*self.events(), MessageId::SigningOn);
        let tmk = self
            .keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .master_key()
            .ok_or(TerminalError::NoMasterKey)?;
        drop(tmk);
        // A fresh client with the current TMK; STANs continue from the journal.
        self.host = new_host_client(
            &self.settings,
            &self.config_dir,
            &self.keys,
            self.journal.clone(),
        )?;
        let stan = journal_host::lock(&self.journal).next_stan()?;
        self.host.set_last_stan(stan.saturating_sub(1));
        self.host.sign_on()?;
        self.skip_unsettled_host_batches()?;
        let mut installed = Vec::new();
        for t in [
            WorkingKeyType::Pin,
            WorkingKeyType::Mac,
            WorkingKeyType::Data,
        ] {
            if let Some(k) = self.host.keys().key(t) {
                installed.push((t, k.clone()));
            }
        }
        let now = self.now();
        self.keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .install_working_keys(&installed, now)
            .map_err(keystore_err)?;
        Ok(SignOnResult {
            batch_no: self.host.config().batch,
            keys_installed_at_ms: now.0,
        })
    }

    /// After a sign-on the host's batch number is adopted; a host that never got the
    /// settlement of a closed batch still names that batch: new requests must not join it (its
    /// retry would count them), so the number moves past every unsettled closed batch.
    fn skip_unsettled_host_batches(&mut self) -> Result<()> {
        let j = journal_host::lock(&self.journal);
        let mut last = None;
        for b in j.unsettled_batches()? {
            let no = j.settlement_host_batch_no(b.id)?.unwrap_or(b.batch_no);
            last = Some(no);
        }
        drop(j);
        if let Some(no) = last {
            let current = self.host.config().batch;
            let unsettled_ahead = current <= no && no - current < 500_000;
            if unsettled_ahead {
                self.host.set_batch(if no >= 999_999 { 1 } else { no + 1 });
            }
        }
        Ok(())
    }

    /// Keys present and fresh: blocked after tamper, sign-on when there are no working keys or
    /// they are older than `key_max_age_secs`.
    pub(crate) fn ensure_keys(&mut self) -> Result<()> {
        if self.tampered {
            events::prompt(&*self.events(), MessageId::Tampered);
            return Err(TerminalError::Tampered);
        }
        let (has_tmk, installed_at) = {
            let k = self.keys.lock().unwrap_or_else(|p| p.into_inner());
            (k.master_key().is_some(), k.working_keys_installed_at())
        };
        if !has_tmk {
            return Err(TerminalError::NoMasterKey);
        }
        let max_age_ms = i64::try_from(self.settings.key_max_age_secs)
            .unwrap_or(i64::MAX / 1000)
            .saturating_mul(1000);
        let stale = match installed_at {
            None => true,
            Some(at) => self.now().0.saturating_sub(at.0) > max_age_ms,
        };
        if stale || self.host.keys().key(WorkingKeyType::Mac).is_none() {
            self.sign_on()?;
        }
        Ok(())
    }

    /// Tamper event: every key in the key store is erased and payments are refused until keys
    /// are loaded again ([`Terminal::load_master_key`]). The journal stays as it is.
    pub fn tamper_detected(&mut self) {
        self.keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .erase_all();
        self.tampered = true;
        self.host.disconnect();
        self.devices.indicators.leds(LedStatus::Error);
        events::prompt(&*self.events(), MessageId::Tampered);
    }

    /// Whether payments are blocked by a tamper event.
    pub fn is_tampered(&self) -> bool {
        self.tampered
    }

    /// Load a TMK (needs an administrator); lifts the tamper block.
    pub fn load_master_key(&mut self, tmk: smartpos_crypto::key::SecretKey) -> Result<()> {
        self.authoriser.require(Role::Admin, Action::KeyLoading)?;
        self.keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .install_master_key(tmk)
            .map_err(keystore_err)?;
        self.tampered = false;
        self.host = new_host_client(
            &self.settings,
            &self.config_dir,
            &self.keys,
            self.journal.clone(),
        )?;
        Ok(())
    }

    /// Send queued reversals and advices (also done before every authorisation). Returns how
    /// many were acknowledged.
    pub fn flush_queues(&mut self) -> Result<usize> {
        self.ensure_keys()?;
        self.devices.events.event(&Event::Progress {
            step: Progress::Flushing,
        });
        let r = self.host.flush_reversals()?;
        let a = self.host.flush_advices()?;
        Ok(r + a)
    }

    /// A sale: by card (any interface), the customer's wallet code, or the merchant QR.
    pub fn sale(&mut self, req: &SaleRequest, cancel: &CancelToken) -> Result<TransactionOutcome> {
        self.payment(TxnKind::Sale, req, cancel)
    }

    /// A pre-authorisation by card.
    pub fn pre_authorise(
        &mut self,
        req: &SaleRequest,
        cancel: &CancelToken,
    ) -> Result<TransactionOutcome> {
        if req.method != PaymentMethod::Card {
            return Err(TerminalError::invalid(
                "method",
                "pre-authorisation needs a card",
            ));
        }
        self.payment(TxnKind::PreAuth, req, cancel)
    }

    pub(crate) fn payment(
        &mut self,
        kind: TxnKind,
        req: &SaleRequest,
        cancel: &CancelToken,
    ) -> Result<TransactionOutcome> {
        let inquiry = kind == TxnKind::BalanceInquiry;
        if req.amount == 0 && !inquiry {
            return Err(TerminalError::invalid("amount", "must be > 0"));
        }
        let total = req.total()?;
        if req.method == PaymentMethod::Card && !inquiry {
            // Field 63 value-added data is checked before anything is journalled or sent.
            let va = &req.value_added;
            smartpos_host::ValueAddedData::new(
                va.merchant_order_ref.as_deref(),
                va.member_id.as_deref(),
                va.coupon_discount,
            )
            .validate()
            .map_err(|e| TerminalError::invalid("value_added", e.to_string()))?;
        }
        let events = self.events();
        events.event(&Event::Progress {
            step: Progress::RiskCheck,
        });
        let needs_supervisor = !inquiry && {
            let j = journal_host::lock(&self.journal);
            risk::pre_check(
                &self.settings.risk,
                &self.settings.mcc,
                &j,
                self.now(),
                total,
            )?
        };
        if needs_supervisor {
            self.authoriser
                .require(Role::Supervisor, Action::LargeAmount)
                .map_err(|e| TerminalError::Risk {
                    rule: RiskRule::SupervisorRequired,
                    detail: format!("amount {total} needs a supervisor: {e}"),
                })?;
        }
        if cancel.is_cancelled() {
            return Err(TerminalError::Cancelled {
                step: "before start",
            });
        }
        self.ensure_keys()?;
        // Reversals first: an unconfirmed authorisation is cancelled before a new one is sent.
        if let Err(e) = self.host.flush_reversals() {
            log::warn!("reversals still queued: {e}");
        }
        // Wallet code: scanned and checked before anything is journalled or sent.
        let wallet_code = if req.method == PaymentMethod::ScanWalletCode {
            Some(self.scan_wallet_code(cancel)?)
        } else {
            None
        };
        let kind = if wallet_code.is_some() || req.method == PaymentMethod::MerchantQr {
            TxnKind::QrSale
        } else {
            kind
        };
        let mut new = NewTransaction::new(
            kind,
            i64::try_from(req.amount).map_err(|_| TerminalError::invalid("amount", "too large"))?,
            &self.settings.currency,
            &req.operator_id,
        );
        new.tip = i64::try_from(req.tip).map_err(|_| TerminalError::invalid("tip", "too large"))?;
        new.cashback = i64::try_from(req.cashback)
            .map_err(|_| TerminalError::invalid("cashback", "too large"))?;
        new.coupon_discount = i64::try_from(req.value_added.coupon_discount)
            .map_err(|_| TerminalError::invalid("coupon_discount", "too large"))?;
        new.merchant_order_ref = req.value_added.merchant_order_ref.clone();
        new.member_id = req.value_added.member_id.clone();
        let record = journal_host::lock(&self.journal).begin(new)?;
        crate::crashpoint::hit("begin");
        events.event(&Event::Progress {
            step: Progress::Journalled,
        });
        let p = Payment {
            id: record.id,
            record,
            kind,
            req,
            total,
        };
        if let Some(code) = wallet_code {
            return self.wallet_payment(p, &code, cancel);
        }
        match req.method {
            PaymentMethod::Card | PaymentMethod::ScanWalletCode => {
                // A cancel also ends a pending host wait (connect, response): HostError::
                // Cancelled, handled in host_outcome. Cleared after, so later calls
                // (flush_queues, settle) are not cancelled by this token.
                self.host.set_cancel(Some(cancel.host_hook()));
                let out = self.card_payment(p, cancel);
                self.host.set_cancel(None);
                out
            }
            PaymentMethod::MerchantQr => self.merchant_qr_payment(p, cancel),
        }
    }

    pub(crate) fn abort(&self, id: TxnId, reason: &str) -> Result<()> {
        journal_host::lock(&self.journal).abort(id, reason)?;
        Ok(())
    }

    pub(crate) fn card_payment(
        &mut self,
        p: Payment<'_>,
        cancel: &CancelToken,
    ) -> Result<TransactionOutcome> {
        let events = self.events();
        let timeout = Duration::from_millis(self.settings.card_timeout_ms);
        let mut failures = 0u32;
        let mut interfaces = Interfaces::ALL;
        let mut chip_failed = false;
        loop {
            if cancel.is_cancelled() {
                self.abort(p.id, "cancelled")?;
                events::prompt(&*events, MessageId::Cancelled);
                return Err(TerminalError::Cancelled {
                    step: "waiting for card",
                });
            }
            events::prompt(&*events, MessageId::PresentCard);
            self.devices.indicators.leds(LedStatus::ReadyToRead);
            events.event(&Event::Progress {
                step: Progress::WaitingForCard,
            });
            let presented = self.devices.card_reader.detect(interfaces, timeout, cancel);
            let failed = match presented {
                Err(ReaderError::Cancelled) => {
                    self.abort(p.id, "cancelled")?;
                    events::prompt(&*events, MessageId::Cancelled);
                    return Err(TerminalError::Cancelled {
                        step: "waiting for card",
                    });
                }
                Err(ReaderError::Timeout) => {
                    self.abort(p.id, "no card presented")?;
                    return Err(TerminalError::Device {
                        device: "card reader",
                        reason: "no card within the timeout".into(),
                    });
                }
                Err(ReaderError::Hardware(reason)) => {
                    self.abort(p.id, "card reader failure")?;
                    return Err(TerminalError::Device {
                        device: "card reader",
                        reason,
                    });
                }
                Err(ReaderError::ReadFailed(_)) => true,
                Ok(Presented::Collision) => {
                    events::prompt(&*events, MessageId::PresentOneCard);
                    true
                }
                Ok(Presented::Swipe(s)) => {
                    match self.swipe(&p, &s, chip_failed)? {
                        Some(outcome) => return Ok(outcome),
                        None => {
                            // A chip card swiped: chip first. The first time is a redirect, not a
                            // failure; swiping it again and again counts towards the attempt limit.
                            events::prompt(&*events, MessageId::InsertCard);
                            let repeated = interfaces == Interfaces::CONTACT_ONLY;
                            interfaces = Interfaces::CONTACT_ONLY;
                            repeated
                        }
                    }
                }
                Ok(Presented::Chip(mut card)) => {
                    match self.chip(&p, &mut card, Read::Chip, cancel)? {
                        ChipEnd::Done(o) => return Ok(*o),
                        ChipEnd::Unreadable if self.settings.fallback_allowed && !chip_failed => {
                            chip_failed = true;
                            interfaces = Interfaces::MAGSTRIPE_ONLY;
                            false
                        }
                        ChipEnd::Unreadable => true,
                    }
                }
                Ok(Presented::Contactless(card)) => {
                    let mut link: ContactlessChannel = Box::new(ActivatedNfcLink(card));
                    match self.tap(&p, &mut link, cancel)? {
                        TapEnd::Done(o) => return Ok(*o),
                        TapEnd::TryAgain { failed } => failed,
                        TapEnd::AnotherInterface => {
                            interfaces = Interfaces {
                                contact: true,
                                contactless: false,
                                magstripe: true,
                            };
                            false
                        }
                    }
                }
                Ok(Presented::ContactlessField(mut link)) => {
                    match self.tap(&p, &mut link, cancel)? {
                        TapEnd::Done(o) => return Ok(*o),
                        TapEnd::TryAgain { failed } => failed,
                        TapEnd::AnotherInterface => {
                            interfaces = Interfaces {
                                contact: true,
                                contactless: false,
                                magstripe: true,
                            };
                            false
                        }
                    }
                }
            };
            if failed {
                failures += 1;
                self.devices.indicators.beep(Beep::Alert);
                if failures >= self.settings.card_read_attempts {
                    self.abort(p.id, "card not read")?;
                    events::prompt(&*events, MessageId::InsertCardOrOtherMethod);
                    return Err(TerminalError::CardReadFailed { attempts: failures });
                }
                events::prompt(&*events, MessageId::TryAgain);
            }
        }
    }
}

/// Scheme name from the AID's RID.
fn scheme_of(aid: Option<&str>) -> Option<String> {
    let aid = aid?;
    let rid = aid.get(..10)?;
    Some(
        match rid {
            "A000000003" => "visa",
            "A000000004" => "mastercard",
            "A000000333" => "unionpay",
            "A000000025" => "amex",
            "A000000065" => "jcb",
            _ => "other",
        }
        .to_string(),
    )
}

fn summarise(journal: &Journal, report: &OpenReport) -> Result<OpenSummary> {
    Ok(OpenSummary {
        recovered_reversals: report.recovered_reversals.len(),
        unfinished_approvals: report.unfinished_approvals.len(),
        aborted: report.aborted_unsent.len(),
        violations: report.violations.len(),
        pending_reversals: journal.pending_reversals()?.len(),
        pending_advices: journal.pending_advices()?.len(),
    })
}

fn new_host_client(
    settings: &Settings,
    config_dir: &Path,
    keys: &SharedKeyStore,
    journal: SharedJournal,
) -> Result<HostClient<JournalQueues>> {
    let mut link = LinkConfig::tcp(settings.host.address.clone())
        .with_read_timeout(settings.response_timeout());
    link.connect_timeout = Duration::from_millis(settings.host.connect_timeout_ms);
    if settings.host.tls {
        let ca_file = settings.host.ca_file.as_deref().unwrap_or("");
        let pem = std::fs::read(config_dir.join(ca_file))
            .map_err(|e| TerminalError::config(ca_file, e.to_string()))?;
        link = link.with_tls(TlsConfig {
            ca_cert_pem: pem,
            server_name: settings
                .host
                .server_name
                .clone()
                .unwrap_or_else(|| "localhost".into()),
            pinned_spki_sha256: None,
            client_identity: None,
        });
    }
    let mut cfg = smartpos_host::TerminalConfig::new(&settings.terminal_id, &settings.merchant_id);
    cfg.currency = settings.currency.clone();
    let mut hierarchy = KeyHierarchy::new(HierarchyAlgorithm::Tdes);
    if let Some(tmk) = keys.lock().unwrap_or_else(|p| p.into_inner()).master_key() {
        hierarchy
            .install_tmk(tmk)
            .map_err(|e| TerminalError::KeyStore(e.to_string()))?;
    }
    let batch = journal_host::lock(&journal)
        .open_batch()?
        .map(|b| b.batch_no)
        .unwrap_or(1);
    cfg.batch = batch;
    let store = JournalQueues::new(journal, &settings.terminal_id, &settings.merchant_id)
        .with_utc_offset(settings.risk.utc_offset_minutes);
    Ok(HostClient::new(link, cfg, hierarchy, store))
}
