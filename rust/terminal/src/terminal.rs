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
        let kind = if wallet_code.is_some() {
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
            PaymentMethod::Card | PaymentMethod::ScanWalletCode => self.card_payment(p, cancel),
            PaymentMethod::MerchantQr => {
                self.abort(p.id, "merchant-presented QR needs an order-placement message the host dialect does not have")?;
                Err(TerminalError::invalid(
                    "method",
                    "merchant-presented QR needs an order-placement message the host dialect does not have",
                ))
            }
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

    /// Card checks once the PAN is known (velocity, duplicates); `Err` ends the payment.
    fn card_checks(&mut self, p: &Payment<'_>, pan: &Pan) -> Result<()> {
        if p.kind == TxnKind::BalanceInquiry {
            return Ok(());
        }
        let check = {
            let j = journal_host::lock(&self.journal);
            let hash = j.pan_hash(pan)?;
            risk::card_check(&self.settings.risk, &j, &hash, p.req.amount, false)
        };
        match check {
            Ok(CardCheck::Pass) => Ok(()),
            Ok(CardCheck::PossibleDuplicate) => {
                events::prompt(&*self.events(), MessageId::ConfirmDuplicate);
                let q = Confirmation::Duplicate {
                    pan_masked: pan.masked().as_str().to_string(),
                    amount: p.total,
                };
                if self.devices.confirmer.confirm(&q) {
                    Ok(())
                } else {
                    self.abort(p.id, "possible duplicate not confirmed")?;
                    Err(TerminalError::Risk {
                        rule: RiskRule::Duplicate,
                        detail: format!(
                            "same card and amount within {} s",
                            self.settings.risk.duplicate_window_secs
                        ),
                    })
                }
            }
            Err(e) => {
                self.abort(p.id, "refused by risk rule")?;
                Err(e)
            }
        }
    }

    /// The kernel's transaction data (EMV Book 3 §5.4, Book 4 §6.5): amounts, date/time, the
    /// unpredictable number, the sequence counter and the POS entry mode of `read`.
    fn txn_params(&self, p: &Payment<'_>, read: Read) -> Result<TransactionParams> {
        let (date, time) = emv_date_time(self.now(), self.settings.risk.utc_offset_minutes);
        let mut un = [0u8; 4];
        openssl::rand::rand_bytes(&mut un).map_err(|e| TerminalError::Device {
            device: "random",
            reason: e.to_string(),
        })?;
        let mut params = TransactionParams::new(
            p.req
                .amount
                .saturating_add(p.req.tip)
                .saturating_add(p.req.cashback),
            &date,
            &time,
            un,
        )
        .map_err(|e| TerminalError::invalid("date", e.to_string()))?;
        params.amount_other = p.req.cashback;
        if p.req.cashback > 0 {
            params.transaction_type = TransactionType::PurchaseWithCashback;
        }
        params.sequence_counter = p.record.stan;
        params.pos_entry_mode = if read == Read::Contactless {
            0x07
        } else {
            0x05
        };
        let mut random = [0u8; 1];
        let _ = openssl::rand::rand_bytes(&mut random);
        params.random_draw = random[0] % 99 + 1;
        Ok(params)
    }

    fn chip(
        &mut self,
        p: &Payment<'_>,
        card: &mut crate::devices::CardChannel,
        read: Read,
        cancel: &CancelToken,
    ) -> Result<ChipEnd> {
        let events = self.events();
        events.event(&Event::Progress {
            step: Progress::ReadingCard,
        });
        self.devices.indicators.leds(LedStatus::Processing);
        let params = self.txn_params(p, read)?;
        let exception_file = self.settings.exception_file.clone();
        let mut inner = Services {
            exception_file: &exception_file,
        };
        let mut services = CapturingServices {
            inner: &mut inner,
            pan: std::cell::RefCell::new(None),
        };
        let mut pin_pad = KernelPinPad {
            pad: &mut *self.devices.pin_pad,
            events: &*events,
            amount: p.total,
            captured: None,
        };
        let mut ui = AutoSelect;
        let mut tr: &mut (dyn CardTransport + Send) = &mut **card;
        let step = self.kernel.start(
            &mut tr,
            params,
            Interaction {
                ui: &mut ui,
                pin_pad: &mut pin_pad,
                services: &mut services,
            },
        );
        let pin = pin_pad.captured.take();
        let captured = services.pan.into_inner();
        let entry_mode = if read == Read::Contactless {
            EntryMode::Contactless
        } else {
            EntryMode::Contact
        };
        let online = match step {
            Step::Done(result) => {
                return self.chip_done(p, &result, captured, entry_mode, read, card);
            }
            Step::Online(o) => o,
        };
        crate::crashpoint::hit("kernel_done");
        let Some((pan_digits, psn)) = captured else {
            self.abort(p.id, "kernel gave no PAN")?;
            return Err(TerminalError::Device {
                device: "card",
                reason: "no PAN read from the card".into(),
            });
        };
        let pan = Pan::parse(&pan_digits)?;
        if cancel.is_cancelled() {
            let _ = online.unable_to_go_online(&mut tr);
            self.abort(p.id, "cancelled")?;
            return Err(TerminalError::Cancelled { step: "card read" });
        }
        self.card_checks(p, &pan)?;
        let snapshot = online.snapshot();
        {
            let mut j = journal_host::lock(&self.journal);
            let mut cd = smartpos_journal::CardData::new(&pan, entry_mode);
            cd.keep_encrypted_pan = true;
            cd.aid = snapshot.aid.clone();
            cd.app_label = snapshot.application_label.clone();
            cd.tvr = Some(snapshot.tvr.hex());
            cd.tsi = Some(snapshot.tsi.hex());
            cd.cvm_result = Some(snapshot.cvm_results.clone()).filter(|s| !s.is_empty());
            cd.scheme = scheme_of(snapshot.aid.as_deref());
            j.card_read(p.id, &cd)?;
            let mti = if p.kind == TxnKind::PreAuth {
                "0100"
            } else {
                "0200"
            };
            j.online_pending(
                p.id,
                &smartpos_journal::OnlineRequest {
                    mti: mti.into(),
                    cryptogram: tag_hex(&online.data_record, 0x9F26),
                    tvr: Some(snapshot.tvr.hex()),
                    tsi: Some(snapshot.tsi.hex()),
                },
            )?;
        }
        crate::crashpoint::hit("online_pending");
        events::prompt(&*events, MessageId::Processing);
        events.event(&Event::Progress {
            step: Progress::Online,
        });
        let host_card = smartpos_host::CardData {
            pan: pan.expose().to_string(),
            track2: None,
            expiry: None,
            psn: psn.map(|n| format!("{n:02}")),
            entry_mode: journal_host::host_entry_mode(Some(entry_mode)),
            icc_data: Some(online.data_record.clone()),
        };
        let pin_input = match pin {
            Some(ep) => PinInput::Encrypted {
                block: ep.block,
                ksn: ep.ksn,
            },
            None => PinInput::None,
        };
        let host_req = smartpos_host::SaleRequest {
            amount: p.total,
            card: host_card,
            pin: pin_input,
        };
        self.host.set_last_stan(p.record.stan.saturating_sub(1));
        let answer = self.authorise(p.kind, &host_req);
        let balance = answer.as_ref().ok().and_then(|r| r.amount);
        crate::crashpoint::hit("host_answered");
        let status = match answer {
            Ok(resp) => {
                journal_host::lock(&self.journal).approve(
                    p.id,
                    &smartpos_journal::HostResponse {
                        response_code: resp.code.as_str().to_string(),
                        rrn: resp.rrn.clone(),
                        auth_code: resp.auth_code.clone(),
                        host_time: None,
                    },
                )?;
                crate::crashpoint::hit("approved");
                events.event(&Event::Progress {
                    step: Progress::Completing,
                });
                let (iad, scripts) = issuer_data(resp.icc_data.as_deref().unwrap_or(&[]));
                let result = online.complete(
                    &mut tr,
                    &smartpos_emv::HostResponse {
                        approved: true,
                        arc: resp.code.as_str().to_string(),
                        issuer_authentication_data: iad,
                        scripts,
                    },
                );
                if result.decision == Decision::Approved {
                    journal_host::lock(&self.journal).complete(
                        p.id,
                        &smartpos_journal::Completion {
                            cryptogram: tag_hex(&result.data_record, 0x9F26),
                            tvr: Some(result.tvr.hex()),
                            tsi: Some(result.tsi.hex()),
                            cvm_result: Some(result.cvm_results.clone()).filter(|s| !s.is_empty()),
                        },
                    )?;
                    crate::crashpoint::hit("completed");
                    Status::Approved
                } else {
                    // The card declined after the host approved: reverse (EMV Book 4 §12.2.5).
                    self.host
                        .reverse_last_authorisation(ReversalReason::TerminalDeclined)?;
                    if let Err(e) = self.host.flush_reversals() {
                        log::warn!("reversal queued, not yet sent: {e}");
                    }
                    Status::Reversed
                }
            }
            Err(HostError::Declined { code, response }) => {
                self.journal_decline(
                    p.id,
                    Some(code.as_str()),
                    response.rrn.clone(),
                    code.meaning(),
                )?;
                let _ = online.complete(
                    &mut tr,
                    &smartpos_emv::HostResponse {
                        approved: false,
                        arc: code.as_str().to_string(),
                        issuer_authentication_data: Vec::new(),
                        scripts: Vec::new(),
                    },
                );
                Status::Declined
            }
            Err(e) if e.needs_reversal() && p.kind == TxnKind::BalanceInquiry => {
                // Nothing to reverse: a balance inquiry moves no funds.
                journal_host::lock(&self.journal)
                    .abort(p.id, "no answer to the balance inquiry")?;
                let _ = online.unable_to_go_online(&mut tr);
                return Err(TerminalError::Host(e));
            }
            Err(e) if e.needs_reversal() => {
                // The host crate saved the reversal through JournalQueues (reversal_pending);
                // the card is declined (no offline approval after an unknown outcome).
                let _ = online.complete(
                    &mut tr,
                    &smartpos_emv::HostResponse {
                        approved: false,
                        arc: "Z3".into(),
                        issuer_authentication_data: Vec::new(),
                        scripts: Vec::new(),
                    },
                );
                log::warn!("authorisation outcome unknown, reversal queued: {e}");
                Status::Reversed
            }
            Err(e) => {
                // Nothing reached the host.
                self.journal_decline(p.id, None, None, &format!("not sent: {e}"))?;
                let _ = online.unable_to_go_online(&mut tr);
                return Err(TerminalError::Host(e));
            }
        };
        self.finish_card(read, status, card.as_mut());
        let mut out = self.outcome(p.id, status)?;
        out.signature_required = snapshot.signature_required;
        out.balance = balance;
        Ok(ChipEnd::Done(Box::new(out)))
    }

    fn finish_card(&mut self, read: Read, status: Status, _card: &mut dyn CardTransport) {
        let events = self.events();
        let ok = matches!(status, Status::Approved | Status::ApprovedOffline);
        self.devices.indicators.leds(if ok {
            LedStatus::CardReadOk
        } else {
            LedStatus::Error
        });
        self.devices
            .indicators
            .beep(if ok { Beep::Success } else { Beep::Alert });
        events::prompt(
            &*events,
            match status {
                Status::Approved | Status::ApprovedOffline => MessageId::Approved,
                Status::Declined => MessageId::Declined,
                Status::Reversed | Status::Revoked => MessageId::NotAuthorised,
            },
        );
        if read == Read::Chip {
            events::prompt(&*events, MessageId::RemoveCard);
            let _ = self
                .devices
                .card_reader
                .wait_for_removal(Duration::from_millis(self.settings.card_timeout_ms));
        }
        events.event(&Event::Progress {
            step: Progress::Done,
        });
    }

    fn chip_done(
        &mut self,
        p: &Payment<'_>,
        result: &TransactionResult,
        captured: Option<(Zeroizing<String>, Option<u8>)>,
        entry_mode: EntryMode,
        read: Read,
        card: &mut crate::devices::CardChannel,
    ) -> Result<ChipEnd> {
        let pan = match &captured {
            Some((digits, _)) => Some(Pan::parse(digits)?),
            None => None,
        };
        let status = match (result.decision, pan) {
            (Decision::Approved, Some(pan)) if p.kind == TxnKind::Sale => {
                self.card_checks(p, &pan)?;
                let mut j = journal_host::lock(&self.journal);
                let mut cd = smartpos_journal::CardData::new(&pan, entry_mode);
                cd.keep_encrypted_pan = true;
                cd.aid = result.aid.clone();
                cd.app_label = result.application_label.clone();
                cd.scheme = scheme_of(result.aid.as_deref());
                j.card_read(p.id, &cd)?;
                j.offline_approve(
                    p.id,
                    &smartpos_journal::OfflineApproval {
                        response_code: "Y1".into(),
                        cryptogram: tag_hex(&result.data_record, 0x9F26).unwrap_or_default(),
                        tvr: Some(result.tvr.hex()),
                        tsi: Some(result.tsi.hex()),
                        cvm_result: Some(result.cvm_results.clone()).filter(|s| !s.is_empty()),
                    },
                )?;
                j.complete(p.id, &smartpos_journal::Completion::default())?;
                Status::ApprovedOffline
            }
            (Decision::Declined, Some(pan)) => {
                let mut j = journal_host::lock(&self.journal);
                let mut cd = smartpos_journal::CardData::new(&pan, entry_mode);
                cd.aid = result.aid.clone();
                cd.tvr = Some(result.tvr.hex());
                cd.scheme = scheme_of(result.aid.as_deref());
                j.card_read(p.id, &cd)?;
                j.decline(
                    p.id,
                    &smartpos_journal::Decline {
                        response_code: Some("Z1".into()),
                        rrn: None,
                        host_time: None,
                        reason: "declined offline by the card".into(),
                    },
                )?;
                Status::Declined
            }
            _ => {
                let reason = result.end_reason.clone();
                match reason {
                    Some(smartpos_emv::EndReason::Cancelled) => {
                        self.abort(p.id, "cancelled")?;
                        return Err(TerminalError::Cancelled { step: "card" });
                    }
                    Some(r)
                        if r.allows_fallback()
                            || matches!(r, smartpos_emv::EndReason::CardRemoved) =>
                    {
                        log::info!("card not read: {r}");
                        return Ok(ChipEnd::Unreadable);
                    }
                    other => {
                        self.abort(p.id, "card not accepted")?;
                        self.finish_card(read, Status::Declined, card.as_mut());
                        return Err(TerminalError::Device {
                            device: "card",
                            reason: other
                                .map(|r| r.to_string())
                                .unwrap_or_else(|| "ended without a decision".into()),
                        });
                    }
                }
            }
        };
        self.finish_card(read, status, card.as_mut());
        Ok(ChipEnd::Done(Box::new(self.outcome(p.id, status)?)))
    }

    /// A swipe: chip cards go to the chip unless it failed (EMV Book 4 §11.1, fallback).
    /// `Ok(None)`: insert the card instead.
    fn swipe(
        &mut self,
        p: &Payment<'_>,
        swiped: &SwipedCard,
        chip_failed: bool,
    ) -> Result<Option<TransactionOutcome>> {
        let track = match Track2::parse(&swiped.track2) {
            Ok(t) => t,
            Err(e) => {
                return Err(TerminalError::Device {
                    device: "magstripe",
                    reason: e.to_string(),
                });
            }
        };
        let decision = swipe_decision(
            track.service_code,
            true,
            chip_failed,
            self.settings.fallback_allowed,
        );
        let entry_mode = match decision {
            smartpos_emv::magstripe::SwipeDecision::UseChip => return Ok(None),
            smartpos_emv::magstripe::SwipeDecision::AcceptAsFallback => EntryMode::Fallback,
            smartpos_emv::magstripe::SwipeDecision::Accept => EntryMode::Magstripe,
        };
        let pan = Pan::parse(&track.pan)?;
        self.card_checks(p, &pan)?;
        let pin = if track.service_code.pin_required() {
            events::prompt(&*self.events(), MessageId::EnterPin);
            match self.devices.pin_pad.online_pin(&track.pan, p.total) {
                Ok(ep) => PinInput::Encrypted {
                    block: ep.block,
                    ksn: ep.ksn,
                },
                Err(PinPadError::Bypassed) => PinInput::None,
                Err(e) => {
                    self.abort(p.id, "PIN entry failed")?;
                    return Err(TerminalError::Device {
                        device: "PIN pad",
                        reason: e.to_string(),
                    });
                }
            }
        } else {
            PinInput::None
        };
        let expiry = format!("{:02}{:02}", track.expiry.year, track.expiry.month);
        {
            let mut j = journal_host::lock(&self.journal);
            let mut cd = smartpos_journal::CardData::new(&pan, entry_mode);
            cd.keep_encrypted_pan = true;
            j.card_read(p.id, &cd)?;
            let mti = if p.kind == TxnKind::PreAuth {
                "0100"
            } else {
                "0200"
            };
            j.online_pending(p.id, &smartpos_journal::OnlineRequest::mti(mti))?;
        }
        let track2 = format!(
            "{}={}{}{}",
            track.pan, expiry, track.service_code, track.discretionary
        );
        let host_req = smartpos_host::SaleRequest {
            amount: p.total,
            card: smartpos_host::CardData {
                pan: track.pan.clone(),
                track2: Some(track2),
                expiry: Some(expiry),
                psn: None,
                entry_mode: journal_host::host_entry_mode(Some(entry_mode)),
                icc_data: None,
            },
            pin,
        };
        self.host.set_last_stan(p.record.stan.saturating_sub(1));
        let answer = self.authorise(p.kind, &host_req);
        let balance = answer.as_ref().ok().and_then(|r| r.amount);
        let answer = match answer {
            Err(e) if e.needs_reversal() && p.kind == TxnKind::BalanceInquiry => {
                journal_host::lock(&self.journal)
                    .abort(p.id, "no answer to the balance inquiry")?;
                return Err(TerminalError::Host(e));
            }
            other => other,
        };
        let status = self.apply_answer(p.id, answer)?;
        if status == Status::Approved {
            journal_host::lock(&self.journal)
                .complete(p.id, &smartpos_journal::Completion::default())?;
        }
        self.finish_card(Read::Contactless, status, &mut NoCard);
        let mut out = self.outcome(p.id, status)?;
        out.balance = balance;
        Ok(Some(out))
    }

    /// The host request of a card payment of `kind`.
    fn authorise(
        &mut self,
        kind: TxnKind,
        req: &smartpos_host::SaleRequest,
    ) -> std::result::Result<smartpos_host::HostResponse, HostError> {
        match kind {
            TxnKind::PreAuth => self.host.pre_authorise(req),
            TxnKind::BalanceInquiry => self.host.balance_inquiry(&req.card, &req.pin),
            _ => self.host.sale(req),
        }
    }

    /// Journal an answer that needs no card completion (swipes, voids, completions).
    pub(crate) fn apply_answer(
        &mut self,
        id: TxnId,
        answer: std::result::Result<smartpos_host::HostResponse, HostError>,
    ) -> Result<Status> {
        match answer {
            Ok(resp) => {
                journal_host::lock(&self.journal).approve(
                    id,
                    &smartpos_journal::HostResponse {
                        response_code: resp.code.as_str().to_string(),
                        rrn: resp.rrn.clone(),
                        auth_code: resp.auth_code.clone(),
                        host_time: None,
                    },
                )?;
                Ok(Status::Approved)
            }
            Err(HostError::Declined { code, response }) => {
                journal_host::lock(&self.journal).decline(
                    id,
                    &smartpos_journal::Decline {
                        response_code: Some(code.as_str().to_string()),
                        rrn: response.rrn.clone(),
                        host_time: None,
                        reason: code.meaning().to_string(),
                    },
                )?;
                Ok(Status::Declined)
            }
            Err(e) if e.needs_reversal() => Ok(Status::Reversed),
            Err(e) => {
                journal_host::lock(&self.journal).decline(
                    id,
                    &smartpos_journal::Decline {
                        response_code: None,
                        rrn: None,
                        host_time: None,
                        reason: format!("not sent: {e}"),
                    },
                )?;
                Err(TerminalError::Host(e))
            }
        }
    }
}

/// A placeholder transport for swipes (no card to talk to).
struct NoCard;
impl CardTransport for NoCard {
    fn atr(&self) -> &[u8] {
        &[]
    }
    fn exchange(
        &mut self,
        _command: &smartpos_emv::Apdu,
    ) -> std::result::Result<smartpos_emv::Response, smartpos_emv::TransportError> {
        Err(smartpos_emv::TransportError::CardRemoved)
    }
}

enum ChipEnd {
    Done(Box<TransactionOutcome>),
    /// The chip/NFC read failed in a way that allows another attempt or the fallback.
    Unreadable,
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
    let store = JournalQueues::new(journal, &settings.terminal_id, &settings.merchant_id);
    Ok(HostClient::new(link, cfg, hierarchy, store))
}

/// Card data the terminal needs from a tap but the host gets in its own fields (PAN in field 2,
/// PAN sequence number in field 23, track 2 never): added to the reader's data record, removed
/// from field 55 before sending.
const CARD_TAGS: [u32; 3] = [0x5A, 0x5F34, 0x57];

/// The contactless reader's copy of the kernel configuration: every AID's data record also
/// carries [`CARD_TAGS`] (the Entry Point hands the terminal no PAN otherwise).
fn reader_config(cfg: &smartpos_emv::TerminalConfig) -> smartpos_emv::TerminalConfig {
    let mut c = cfg.clone();
    for aid in &mut c.aids {
        for t in CARD_TAGS {
            let hex = format!("{t:02X}");
            if !aid
                .data_record_tags
                .iter()
                .any(|x| x.eq_ignore_ascii_case(&hex))
            {
                aid.data_record_tags.push(hex);
            }
        }
    }
    c
}

/// Field 55 from a contactless data record: every TLV but [`CARD_TAGS`] (EMV Book 4 §6.5.6
/// data sent in their own ISO 8583 fields).
fn field55(record: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(record.len());
    for t in smartpos_tlv::TlvReader::new(record).flatten() {
        if !CARD_TAGS.contains(&t.tag.0) {
            out.extend_from_slice(t.raw);
        }
    }
    out
}

/// How a contactless tap ended, for the card loop.
enum TapEnd {
    Done(Box<TransactionOutcome>),
    /// Try Again (Book A §6.2.1): wait for the next tap; `failed` counts towards the
    /// failed-read limit (not for a phone that asked the customer to verify on the device).
    TryAgain {
        failed: bool,
    },
    /// Try Another Interface: insert (or swipe) the card.
    AnotherInterface,
}

/// The contactless reader clock: microseconds since the terminal opened (monotonic).
struct ReaderClock(std::time::Instant);

impl smartpos_emv::contactless::Clock for ReaderClock {
    fn now_micros(&mut self) -> u64 {
        u64::try_from(self.0.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

/// Forwards the kernels' User Interface Requests (Book A §9.1, Table 9-1) to the app: the
/// message as a prompt, the reader status as LEDs (event and indicator device).
struct UiForward<'a> {
    events: &'a dyn EventSink,
    indicators: &'a mut dyn Indicators,
    requests: Vec<UiRequest>,
}

impl UiSink for UiForward<'_> {
    fn ui_request(&mut self, request: &UiRequest) {
        events::prompt(self.events, book_a_message(request.message));
        let led = book_a_led(request.status);
        self.events.event(&Event::Led { status: led });
        self.indicators.leds(led);
        self.requests.push(request.clone());
    }
}

/// Book A Table 9-5 message identifiers as the terminal's message ids.
fn book_a_message(m: smartpos_emv::contactless::MessageId) -> MessageId {
    use smartpos_emv::contactless::MessageId as M;
    match m {
        M::Approved => MessageId::Approved,
        M::NotAuthorised => MessageId::NotAuthorised,
        M::EnterPin => MessageId::EnterPin,
        M::ProcessingError => MessageId::ProcessingError,
        M::RemoveCard => MessageId::RemoveCard,
        M::Welcome => MessageId::Welcome,
        M::PresentCard => MessageId::PresentCard,
        M::Processing => MessageId::Processing,
        M::CardReadOk => MessageId::CardReadOk,
        M::InsertOrSwipeCard => MessageId::InsertOrSwipeCard,
        M::PresentOneCardOnly => MessageId::PresentOneCard,
        M::ApprovedPleaseSign => MessageId::ApprovedPleaseSign,
        M::AuthorisingPleaseWait => MessageId::AuthorisingPleaseWait,
        M::InsertSwipeOrTryAnotherCard => MessageId::InsertSwipeOrTryAnotherCard,
        M::InsertCard => MessageId::InsertCard,
        M::ClearDisplay => MessageId::ClearDisplay,
        M::SeePhone => MessageId::SeePhone,
        M::PresentCardAgain => MessageId::PresentCardAgain,
    }
}

/// Book A Table 9-3 reader status as LEDs (§9.3).
fn book_a_led(s: smartpos_emv::contactless::Status) -> LedStatus {
    use smartpos_emv::contactless::Status as S;
    match s {
        S::NotReady | S::Idle => LedStatus::Off,
        S::ReadyToRead => LedStatus::ReadyToRead,
        S::Processing => LedStatus::Processing,
        S::CardReadSuccessfully => LedStatus::CardReadOk,
        S::ProcessingError => LedStatus::Error,
    }
}

/// PAN (5A, else track 2 equivalent data 57 up to the separator) and PAN sequence number (5F34)
/// from a contactless data record.
fn record_pan(record: &[u8]) -> Option<(Zeroizing<String>, Option<u8>)> {
    let psn = smartpos_tlv::find(record, Tag(0x5F34))
        .ok()
        .flatten()
        .and_then(|t| t.value.first().copied())
        .map(|b| (b >> 4) * 10 + (b & 0x0F));
    let pan = if let Some(t) = smartpos_tlv::find(record, Tag(0x5A)).ok().flatten() {
        Zeroizing::new(hex::encode_upper(t.value).trim_end_matches('F').to_string())
    } else {
        let t = smartpos_tlv::find(record, Tag(0x57)).ok().flatten()?;
        let digits = Zeroizing::new(hex::encode_upper(t.value));
        Zeroizing::new(digits.split('D').next().unwrap_or("").to_string())
    };
    if pan.is_empty() {
        None
    } else {
        Some((pan, psn))
    }
}

impl Terminal {
    /// One contactless tap through the Entry Point and kernels (EMV Contactless Book B, Book A
    /// §6.2 outcomes): APPROVED offline is journalled with its advice queued; ONLINE REQUEST
    /// goes to the host with field 55 from the data record, then `resume_online` (Start C
    /// issuer update when the kernel asked for it); TRY AGAIN waits for the next tap; TRY
    /// ANOTHER INTERFACE asks for the chip.
    fn tap(
        &mut self,
        p: &Payment<'_>,
        link: &mut ContactlessChannel,
        cancel: &CancelToken,
    ) -> Result<TapEnd> {
        let events = self.events();
        events.event(&Event::Progress {
            step: Progress::ReadingCard,
        });
        let params = self.txn_params(p, Read::Contactless)?;
        let mut clock = ReaderClock(self.reader_epoch);
        let mut tr: &mut (dyn ContactlessTransport + Send) = &mut **link;
        let result = {
            let mut ui = UiForward {
                events: &*events,
                indicators: &mut *self.devices.indicators,
                requests: Vec::new(),
            };
            let mut env = TapEnv {
                clock: &mut clock,
                torn_log: &mut self.torn_log,
            };
            smartpos_emv::contactless::run_tap(&mut tr, &self.reader, &params, &mut env, &mut ui)
        };
        log::info!(
            "tap: {} via {:?}",
            result.outcome.kind.book_a_name(),
            result.kernel.map(|k| k.name())
        );
        crate::crashpoint::hit("kernel_done");
        match result.outcome.kind {
            OutcomeKind::Approved => self.tap_offline(p, &result, true),
            OutcomeKind::Declined => self.tap_offline(p, &result, false),
            OutcomeKind::OnlineRequest => self.tap_online(p, result, &mut tr, &mut clock, cancel),
            OutcomeKind::TryAnotherInterface => {
                events::prompt(&*events, MessageId::InsertCard);
                Ok(TapEnd::AnotherInterface)
            }
            OutcomeKind::TryAgain => {
                let see_phone = result
                    .ui
                    .iter()
                    .any(|u| u.message == smartpos_emv::contactless::MessageId::SeePhone);
                Ok(TapEnd::TryAgain { failed: !see_phone })
            }
            OutcomeKind::SelectNext | OutcomeKind::EndApplication => {
                if cancel.is_cancelled() {
                    self.abort(p.id, "cancelled")?;
                    return Err(TerminalError::Cancelled { step: "card" });
                }
                if result.outcome.start == Some(smartpos_emv::contactless::Start::B) {
                    // Restarts exhausted (a card pulled away mid-tap): present it again.
                    return Ok(TapEnd::TryAgain { failed: true });
                }
                self.abort(p.id, "contactless card not accepted")?;
                self.finish_card(Read::Contactless, Status::Declined, &mut NoCard);
                Err(TerminalError::Device {
                    device: "contactless card",
                    reason: result
                        .end_reason
                        .clone()
                        .unwrap_or_else(|| "END APPLICATION".into()),
                })
            }
        }
    }

    /// APPROVED (offline, TC) or DECLINED (AAC) by the card: journalled like the contact
    /// kernel's offline decisions (the offline approval's advice is queued by the journal).
    fn tap_offline(
        &mut self,
        p: &Payment<'_>,
        result: &TapResult,
        approved: bool,
    ) -> Result<TapEnd> {
        let Some((digits, _psn)) = record_pan(&result.data_record) else {
            self.abort(p.id, "no PAN in the contactless data record")?;
            return Err(TerminalError::Device {
                device: "contactless card",
                reason: "no PAN (5A/57) in the data record".into(),
            });
        };
        let pan = Pan::parse(&digits)?;
        let aid = result.aid.clone();
        let cvm_result = Some(result.cvm_results.clone()).filter(|s| !s.is_empty());
        let status = if approved {
            if p.kind != TxnKind::Sale {
                self.abort(p.id, "offline approval only for sales")?;
                return Err(TerminalError::Device {
                    device: "contactless card",
                    reason: "the card approved offline a transaction that must go online".into(),
                });
            }
            self.card_checks(p, &pan)?;
            let mut j = journal_host::lock(&self.journal);
            let mut cd = smartpos_journal::CardData::new(&pan, EntryMode::Contactless);
            cd.keep_encrypted_pan = true;
            cd.aid = aid.clone();
            cd.app_label = result.application_label.clone();
            cd.scheme = scheme_of(aid.as_deref());
            j.card_read(p.id, &cd)?;
            j.offline_approve(
                p.id,
                &smartpos_journal::OfflineApproval {
                    response_code: "Y1".into(),
                    cryptogram: tag_hex(&result.data_record, 0x9F26).unwrap_or_default(),
                    tvr: Some(result.tvr.hex()),
                    tsi: None,
                    cvm_result,
                },
            )?;
            j.complete(p.id, &smartpos_journal::Completion::default())?;
            Status::ApprovedOffline
        } else {
            let mut j = journal_host::lock(&self.journal);
            let mut cd = smartpos_journal::CardData::new(&pan, EntryMode::Contactless);
            cd.aid = aid.clone();
            cd.tvr = Some(result.tvr.hex());
            cd.scheme = scheme_of(aid.as_deref());
            j.card_read(p.id, &cd)?;
            j.decline(
                p.id,
                &smartpos_journal::Decline {
                    response_code: Some("Z1".into()),
                    rrn: None,
                    host_time: None,
                    reason: "declined offline by the contactless card".into(),
                },
            )?;
            Status::Declined
        };
        self.finish_card(Read::Contactless, status, &mut NoCard);
        let mut out = self.outcome(p.id, status)?;
        out.signature_required = result.cvm == CvmKind::ObtainSignature;
        out.balance = result.balance;
        out.kernel = result.kernel.map(|k| k.name().to_string());
        Ok(TapEnd::Done(Box::new(out)))
    }

    /// ONLINE REQUEST: journal (online pending before sending), host request with field 55 from
    /// the data record and the PIN block when the CVM is online PIN, then the card's final
    /// outcome from `resume_online`.
    fn tap_online(
        &mut self,
        p: &Payment<'_>,
        result: TapResult,
        tr: &mut &mut (dyn ContactlessTransport + Send),
        clock: &mut ReaderClock,
        cancel: &CancelToken,
    ) -> Result<TapEnd> {
        let events = self.events();
        let Some((digits, psn)) = record_pan(&result.data_record) else {
            self.abort(p.id, "no PAN in the contactless data record")?;
            return Err(TerminalError::Device {
                device: "contactless card",
                reason: "no PAN (5A/57) in the data record".into(),
            });
        };
        let pan = Pan::parse(&digits)?;
        if cancel.is_cancelled() {
            self.abort(p.id, "cancelled")?;
            return Err(TerminalError::Cancelled { step: "card read" });
        }
        self.card_checks(p, &pan)?;
        let pin = if result.cvm == CvmKind::OnlinePin {
            events::prompt(&*events, MessageId::EnterPin);
            match self.devices.pin_pad.online_pin(&digits, p.total) {
                Ok(ep) => PinInput::Encrypted {
                    block: ep.block,
                    ksn: ep.ksn,
                },
                Err(PinPadError::Bypassed) => PinInput::None,
                Err(e) => {
                    self.abort(p.id, "PIN entry failed")?;
                    return Err(TerminalError::Device {
                        device: "PIN pad",
                        reason: e.to_string(),
                    });
                }
            }
        } else {
            PinInput::None
        };
        let cvm_result = Some(result.cvm_results.clone()).filter(|s| !s.is_empty());
        {
            let mut j = journal_host::lock(&self.journal);
            let mut cd = smartpos_journal::CardData::new(&pan, EntryMode::Contactless);
            cd.keep_encrypted_pan = true;
            cd.aid = result.aid.clone();
            cd.app_label = result.application_label.clone();
            cd.tvr = Some(result.tvr.hex());
            cd.cvm_result = cvm_result.clone();
            cd.scheme = scheme_of(result.aid.as_deref());
            j.card_read(p.id, &cd)?;
            let mti = if p.kind == TxnKind::PreAuth {
                "0100"
            } else {
                "0200"
            };
            j.online_pending(
                p.id,
                &smartpos_journal::OnlineRequest {
                    mti: mti.into(),
                    cryptogram: tag_hex(&result.data_record, 0x9F26),
                    tvr: Some(result.tvr.hex()),
                    tsi: None,
                },
            )?;
        }
        crate::crashpoint::hit("online_pending");
        events.event(&Event::Progress {
            step: Progress::Online,
        });
        let host_req = smartpos_host::SaleRequest {
            amount: p.total,
            card: smartpos_host::CardData {
                pan: pan.expose().to_string(),
                track2: None,
                expiry: None,
                psn: psn.map(|n| format!("{n:02}")),
                entry_mode: journal_host::host_entry_mode(Some(EntryMode::Contactless)),
                icc_data: Some(field55(&result.data_record)),
            },
            pin,
        };
        self.host.set_last_stan(p.record.stan.saturating_sub(1));
        let answer = self.authorise(p.kind, &host_req);
        let balance = answer.as_ref().ok().and_then(|r| r.amount);
        crate::crashpoint::hit("host_answered");
        let signature_required = result.cvm == CvmKind::ObtainSignature;
        let kernel = result.kernel.map(|k| k.name().to_string());
        let host_response = |approved: bool, arc: &str, icc: &[u8]| {
            let (iad, scripts) = issuer_data(icc);
            smartpos_emv::HostResponse {
                approved,
                arc: arc.to_string(),
                issuer_authentication_data: iad,
                scripts,
            }
        };
        let status = match answer {
            Ok(resp) => {
                journal_host::lock(&self.journal).approve(
                    p.id,
                    &smartpos_journal::HostResponse {
                        response_code: resp.code.as_str().to_string(),
                        rrn: resp.rrn.clone(),
                        auth_code: resp.auth_code.clone(),
                        host_time: None,
                    },
                )?;
                crate::crashpoint::hit("approved");
                events.event(&Event::Progress {
                    step: Progress::Completing,
                });
                let host = host_response(
                    true,
                    resp.code.as_str(),
                    resp.icc_data.as_deref().unwrap_or(&[]),
                );
                let last = self.resume_tap(tr, clock, result, &host);
                if last.outcome.kind == OutcomeKind::Approved {
                    journal_host::lock(&self.journal).complete(
                        p.id,
                        &smartpos_journal::Completion {
                            cryptogram: tag_hex(&last.data_record, 0x9F26),
                            tvr: Some(last.tvr.hex()),
                            tsi: None,
                            cvm_result,
                        },
                    )?;
                    crate::crashpoint::hit("completed");
                    Status::Approved
                } else {
                    // The card declined the issuer update after the host approved: reverse
                    // (EMV Book 4 §12.2.5).
                    self.host
                        .reverse_last_authorisation(ReversalReason::TerminalDeclined)?;
                    if let Err(e) = self.host.flush_reversals() {
                        log::warn!("reversal queued, not yet sent: {e}");
                    }
                    Status::Reversed
                }
            }
            Err(HostError::Declined { code, response }) => {
                self.journal_decline(
                    p.id,
                    Some(code.as_str()),
                    response.rrn.clone(),
                    code.meaning(),
                )?;
                let host = host_response(false, code.as_str(), &[]);
                let _ = self.resume_tap(tr, clock, result, &host);
                Status::Declined
            }
            Err(e) if e.needs_reversal() && p.kind == TxnKind::BalanceInquiry => {
                journal_host::lock(&self.journal)
                    .abort(p.id, "no answer to the balance inquiry")?;
                return Err(TerminalError::Host(e));
            }
            Err(e) if e.needs_reversal() => {
                // The host crate saved the reversal through JournalQueues (reversal_pending).
                log::warn!("authorisation outcome unknown, reversal queued: {e}");
                Status::Reversed
            }
            Err(e) => {
                self.journal_decline(p.id, None, None, &format!("not sent: {e}"))?;
                return Err(TerminalError::Host(e));
            }
        };
        self.finish_card(Read::Contactless, status, &mut NoCard);
        let mut out = self.outcome(p.id, status)?;
        out.signature_required = signature_required;
        out.balance = balance;
        out.kernel = kernel;
        Ok(TapEnd::Done(Box::new(out)))
    }

    /// Journal a decline: the host's code and RRN when it answered, none when nothing was sent.
    fn journal_decline(
        &self,
        id: TxnId,
        response_code: Option<&str>,
        rrn: Option<String>,
        reason: &str,
    ) -> Result<()> {
        journal_host::lock(&self.journal).decline(
            id,
            &smartpos_journal::Decline {
                response_code: response_code.map(str::to_string),
                rrn,
                host_time: None,
                reason: reason.to_string(),
            },
        )?;
        Ok(())
    }

    /// `resume_online` with the UI forwarded and the torn log of the terminal.
    fn resume_tap(
        &mut self,
        tr: &mut &mut (dyn ContactlessTransport + Send),
        clock: &mut ReaderClock,
        result: TapResult,
        host: &smartpos_emv::HostResponse,
    ) -> TapResult {
        let events = self.events();
        let mut ui = UiForward {
            events: &*events,
            indicators: &mut *self.devices.indicators,
            requests: Vec::new(),
        };
        let mut env = TapEnv {
            clock,
            torn_log: &mut self.torn_log,
        };
        smartpos_emv::contactless::resume_online(tr, &self.reader, result, host, &mut env, &mut ui)
    }
}
