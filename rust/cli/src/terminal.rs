//! Merchant-side commands: `smartpos demo` (a merchant's day against the host simulator and
//! virtual cards), `sale`, `void`, `refund`, `settle` against a running host simulator with a
//! journal file, and `journal list|show|export|backup`.
//!
//! Keys of the tool commands: the terminal master key is the host simulator's default TEST TMK
//! (or `--tmk`); the journal's PAN hash and data keys live in `<journal>.keys` (hex JSON, mode
//! 0600), created with the journal. That software key file is for the simulator and tests only:
//! a real terminal keeps these keys in its secure element.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use clap::{Args, Subcommand};
use serde_json::{Value, json};
use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_journal::{
    AesGcmPanProtector, Journal, JournalConfig, OriginalRef, SystemClock, TxnFilter, TxnId,
};
use smartpos_sim::card::VirtualCard;
use smartpos_sim::contactless::pki::TestPki as ClPki;
use smartpos_sim::contactless::{Profile, Scheme, VirtualCard as ClCard};
use smartpos_sim::hostsim::{Fault, HostSim, HostSimConfig};
use smartpos_sim::pki::TestPki;
use smartpos_terminal::operator::{MemoryAudit, OperatorPolicy, OperatorSession, OperatorStore};
use smartpos_terminal::prompts::{Language, event_text};
use smartpos_terminal::receipt::{CodePage, Copy, MerchantInfo, Receipt, ReceiptData, Width};
use smartpos_terminal::report::{SettlementReport, TotalsReport};
use smartpos_terminal::sim_devices::{SimHandles, SimPresentation, sim_devices};
use smartpos_terminal::{
    Action, Authoriser, CancelToken, Event, OpenOptions, Role, SaleRequest, Settings, SoftKeyStore,
    Terminal, TransactionOutcome,
};
use zeroize::Zeroizing;

use crate::operator::{CredentialArgs, StoreArgs, SupervisorArgs, SupervisorPrompt, sign_in};
use crate::report::{CliResult, Report, UsageError};

/// The host simulator's default terminal master key (TEST key).
const SIM_TMK: &str = "11111111111111112222222222222222";

/// `smartpos demo`.
#[derive(Args)]
pub struct DemoArgs {
    /// Label language of receipts and reports (`zh` or `en`).
    #[arg(long, default_value = "en")]
    lang: String,
    /// Receipt width in columns (32 or 48).
    #[arg(long, default_value_t = 32)]
    width: u32,
    /// Keep the demo's temp directory (journal, operators.db) and print its path.
    #[arg(long)]
    keep: bool,
}

/// Where the tool commands find the host and the journal.
#[derive(Args, Clone)]
pub struct TerminalArgs {
    /// Host simulator address (`smartpos hostsim`), e.g. 127.0.0.1:8583.
    #[arg(long)]
    host: String,
    /// Journal file (created when missing, with `<journal>.keys`).
    #[arg(long)]
    journal: PathBuf,
    /// Terminal master key, hex (default: the simulator's TEST TMK).
    #[arg(long, default_value = SIM_TMK)]
    tmk: String,
    /// The operator (`--operator ID`, password from `--password-env VAR` or `--password-stdin`),
    /// checked against the operator store before anything is sent; see `smartpos operator`.
    #[command(flatten)]
    creds: CredentialArgs,
    #[command(flatten)]
    supervisor: SupervisorArgs,
    #[command(flatten)]
    store: StoreArgs,
}

/// `smartpos sale`.
#[derive(Args)]
pub struct SaleArgs {
    #[command(flatten)]
    terminal: TerminalArgs,
    /// Amount in minor units.
    #[arg(long)]
    amount: u64,
    /// Virtual card profile (see `smartpos emv profiles`), e.g. visa-cda-online-pin; with
    /// `--contactless` a contactless card or phone: cl-visa, cl-visa-online, cl-visa-phone,
    /// cl-mc, cl-mc-online, cl-mc-phone, cl-unionpay, cl-unionpay-phone.
    #[arg(long)]
    card: String,
    /// Tap the card instead of inserting it (contactless Entry Point and kernels C-2/C-3/C-7).
    #[arg(long)]
    contactless: bool,
    /// PIN typed on the simulated PIN pad.
    #[arg(long, default_value = "1234")]
    pin: String,
    /// Label language of the receipt (`zh` or `en`); a zh PNG draws the Chinese from GNU
    /// Unifont bitmaps.
    #[arg(long, default_value = "en")]
    lang: String,
    /// Also write the customer receipt as a PNG image to this file.
    #[arg(long)]
    png: Option<PathBuf>,
    /// Also write the customer receipt as ESC/POS bytes (GBK code page) to this file.
    #[arg(long)]
    escpos: Option<PathBuf>,
}

/// `smartpos void`.
#[derive(Args)]
pub struct VoidArgs {
    #[command(flatten)]
    terminal: TerminalArgs,
    /// Journal id of the sale to void (from `sale --json`: `txn_id`).
    #[arg(long)]
    txn: i64,
}

/// `smartpos refund`.
#[derive(Args)]
pub struct RefundArgs {
    #[command(flatten)]
    terminal: TerminalArgs,
    /// Journal id of the original sale.
    #[arg(long)]
    txn: i64,
    /// Amount to refund, minor units.
    #[arg(long)]
    amount: u64,
}

/// `smartpos settle`.
#[derive(Args)]
pub struct SettleArgs {
    #[command(flatten)]
    terminal: TerminalArgs,
}

/// `smartpos journal ...`.
#[derive(Subcommand)]
pub enum JournalCmd {
    /// List transactions, newest first.
    List {
        /// Journal file.
        #[arg(long)]
        journal: PathBuf,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// One transaction with its audit trail.
    Show {
        /// Journal file.
        #[arg(long)]
        journal: PathBuf,
        /// Journal id.
        id: i64,
    },
    /// Export transactions (CSV or JSON) to a file or stdout.
    Export {
        /// Journal file.
        #[arg(long)]
        journal: PathBuf,
        /// `csv` or `json`.
        #[arg(long, default_value = "csv")]
        format: String,
        /// Output file (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Copy the journal to PATH (SQLite online backup).
    Backup {
        /// Journal file.
        #[arg(long)]
        journal: PathBuf,
        /// Destination file.
        path: PathBuf,
    },
}

fn lang(s: &str) -> Result<Language, UsageError> {
    Language::from_code(s).ok_or_else(|| UsageError(format!("--lang: `{s}` is not zh or en")))
}

fn width(w: u32) -> Result<Width, UsageError> {
    match w {
        32 => Ok(Width::Cols32),
        48 => Ok(Width::Cols48),
        other => Err(UsageError(format!("--width: {other}, expected 32 or 48"))),
    }
}

fn tmk(hex: &str) -> Result<SecretKey, UsageError> {
    SecretKey::from_hex(KeyAlgorithm::Tdes2, hex)
        .map_err(|e| UsageError(format!("--tmk: not a 2-key TDES key in hex ({e})")))
}

/// The contactless test PKIs (one per scheme and process): their CA keys go into the
/// terminal's key store, their certificates into the virtual contactless cards.
fn cl_pki(scheme: Scheme) -> Result<Arc<ClPki>, Box<dyn std::error::Error + Send + Sync>> {
    type Cache = Mutex<Vec<(Scheme, Arc<ClPki>)>>;
    static PKIS: OnceLock<Cache> = OnceLock::new();
    let mut g = PKIS
        .get_or_init(|| Mutex::new(Vec::new()))
        .lock()
        .map_err(|_| "pki lock poisoned")?;
    if let Some((_, p)) = g.iter().find(|(s, _)| *s == scheme) {
        return Ok(p.clone());
    }
    let p = Arc::new(ClPki::generate(scheme.rid())?);
    g.push((scheme, p.clone()));
    Ok(p)
}

/// The contactless virtual cards and phones `--card` names with `--contactless`.
fn contactless_profile(name: &str) -> Option<Profile> {
    let online_only = |p: Profile| Profile {
        offline_capable: false,
        ..p
    };
    Some(match name {
        "cl-visa" => Profile::visa_card(),
        "cl-visa-online" => Profile::visa_online_only(),
        "cl-visa-phone" => Profile::visa_phone(),
        "cl-mc" => Profile::mastercard_card(),
        "cl-mc-online" => online_only(Profile::mastercard_card()),
        "cl-mc-phone" => Profile::mastercard_phone(),
        "cl-unionpay" => Profile::unionpay_card(),
        "cl-unionpay-phone" => Profile::unionpay_phone(),
        _ => return None,
    })
}

/// A contactless virtual card of `name`, certified by its scheme's test CA.
fn contactless_card(name: &str) -> Result<ClCard, Box<dyn std::error::Error + Send + Sync>> {
    let profile = contactless_profile(name).ok_or_else(|| {
        UsageError(format!(
            "--card `{name}` is not a contactless card (cl-visa, cl-visa-online, cl-visa-phone, cl-mc, cl-mc-online, cl-mc-phone, cl-unionpay, cl-unionpay-phone)"
        ))
    })?;
    let pki = cl_pki(profile.scheme)?;
    Ok(ClCard::new(profile, pki)?)
}

fn emv_options(
    settings: Settings,
) -> Result<OpenOptions, Box<dyn std::error::Error + Send + Sync>> {
    let pki = TestPki::shared()?;
    let mut cfg = smartpos_emv::TerminalConfig::demo()?;
    cfg.terminal.revoked_certificates = pki.revocation_list();
    let mut keys = pki.key_store()?;
    for scheme in [Scheme::Visa, Scheme::Mastercard, Scheme::UnionPay] {
        cl_pki(scheme)?.install(&mut keys)?;
    }
    Ok(OpenOptions {
        emv_config: Some(cfg),
        ca_keys: Some(keys),
        settings: Some(settings),
        clock: None,
    })
}

/// `<journal>.keys`: the journal's PAN hash and data keys (created when missing).
fn journal_keys(
    journal: &Path,
) -> Result<([u8; 32], [u8; 32]), Box<dyn std::error::Error + Send + Sync>> {
    let mut name = journal.as_os_str().to_owned();
    name.push(".keys");
    let path = PathBuf::from(name);
    let parse = |v: &Value, k: &str| -> Result<[u8; 32], UsageError> {
        let h = v.get(k).and_then(Value::as_str).unwrap_or("");
        let b = Zeroizing::new(hex::decode(h).unwrap_or_default());
        <[u8; 32]>::try_from(b.as_slice())
            .map_err(|_| UsageError(format!("{}: `{k}` is not 32 bytes of hex", path.display())))
    };
    if path.is_file() {
        let text = Zeroizing::new(std::fs::read_to_string(&path)?);
        let v: Value = serde_json::from_str(&text)?;
        return Ok((parse(&v, "hash_key")?, parse(&v, "data_key")?));
    }
    let mut h = [0u8; 32];
    let mut d = [0u8; 32];
    openssl::rand::rand_bytes(&mut h)?;
    openssl::rand::rand_bytes(&mut d)?;
    let body = Zeroizing::new(
        json!({ "hash_key": hex::encode(h), "data_key": hex::encode(d) }).to_string(),
    );
    std::fs::write(&path, body.as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok((h, d))
}

fn open_journal(path: &Path) -> Result<Journal, Box<dyn std::error::Error + Send + Sync>> {
    if !path.is_file() {
        return Err(Box::new(UsageError(format!(
            "--journal: {} does not exist",
            path.display()
        ))));
    }
    open_or_create_journal(path)
}

/// The journal at `path` (created when missing, with `<journal>.keys`).
pub(crate) fn open_or_create_journal(
    path: &Path,
) -> Result<Journal, Box<dyn std::error::Error + Send + Sync>> {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let (h, d) = journal_keys(path)?;
    let protector = AesGcmPanProtector::new(&h, &d, 1)?;
    let (j, _) = Journal::open(
        path,
        JournalConfig::default(),
        Box::new(SystemClock),
        Box::new(protector),
    )?;
    Ok(j)
}

struct Opened {
    term: Terminal,
    handles: SimHandles,
    /// The signed-in operator.
    operator: String,
}

/// Check the operator (and for `action` above its role the supervisor), then open the
/// terminal with them as its authoriser and sign on.
fn open_terminal(
    a: &TerminalArgs,
    pin: Option<&str>,
    action: Option<Action>,
) -> Result<Opened, Box<dyn std::error::Error + Send + Sync>> {
    let signed = sign_in(&a.journal, &a.store, &a.creds, &a.supervisor, action)?;
    let dir = a
        .journal
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&dir)?;
    let (h, d) = journal_keys(&a.journal)?;
    let keys = Arc::new(Mutex::new(SoftKeyStore::with_keys(tmk(&a.tmk)?, h, d)));
    let (devices, handles) = sim_devices(pin, keys.clone());
    let mut settings = Settings::default();
    settings.host.address = a.host.clone();
    let operator = signed.session.operator_id().to_string();
    let authoriser = OperatorSession::new(signed.store.clone(), signed.session, signed.prompt);
    let mut term = Terminal::open_with(
        &dir,
        devices,
        keys,
        &a.journal,
        Box::new(authoriser),
        emv_options(settings)?,
    )?;
    // The sign-in is audited in the terminal's journal, and so is everything after it.
    {
        let journal = term.journal();
        let mut j = journal.lock().map_err(|_| "journal lock poisoned")?;
        signed.audit.drain_into(&mut j)?;
    }
    signed.store.set_audit(Box::new(term.journal()))?;
    term.sign_on()?;
    Ok(Opened {
        term,
        handles,
        operator,
    })
}

fn receipt_of(
    term: &Terminal,
    out: &TransactionOutcome,
    copy: Copy,
    lang: Language,
    w: Width,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    Ok(receipt_layout(term, out, copy, lang)?.to_text(w))
}

fn receipt_layout(
    term: &Terminal,
    out: &TransactionOutcome,
    copy: Copy,
    lang: Language,
) -> Result<Receipt, Box<dyn std::error::Error + Send + Sync>> {
    let rec = term
        .journal()
        .lock()
        .map_err(|_| "journal lock poisoned")?
        .get(TxnId(out.txn_id))?;
    let merchant = MerchantInfo::from_settings(
        term.settings(),
        Some("https://fapiao.example.cn/e?m={merchant_id}&t={terminal_id}&n={invoice}&a={amount}&d={date}".into()),
    );
    let data = ReceiptData::from_outcome(out, &rec, &merchant);
    Ok(Receipt::build(&data, copy, lang))
}

fn outcome_json(out: &TransactionOutcome, receipt: &str) -> Value {
    let mut v = serde_json::to_value(out).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("receipt".into(), Value::from(receipt));
    }
    v
}

fn outcome_text(out: &TransactionOutcome, receipt: &str) -> String {
    format!(
        "{} #{}: {:?} {} (rc {})\n\n{receipt}",
        out.kind,
        out.txn_id,
        out.status,
        out.message,
        out.response_code.as_deref().unwrap_or("-")
    )
}

/// `smartpos sale`.
pub fn run_sale(a: SaleArgs) -> CliResult {
    let lang = lang(&a.lang)?;
    let presentation = if a.contactless {
        SimPresentation::Tap(Box::new(contactless_card(&a.card)?))
    } else {
        let card =
            VirtualCard::from_profile(&a.card).map_err(|e| UsageError(format!("--card: {e}")))?;
        SimPresentation::Card {
            card: Box::new(card),
            contactless: false,
        }
    };
    let mut o = open_terminal(&a.terminal, Some(&a.pin), None)?;
    o.handles.reader.push(presentation);
    let out = o.term.sale(
        &SaleRequest::card(a.amount, &o.operator),
        &CancelToken::new(),
    )?;
    let r = receipt_of(&o.term, &out, Copy::Customer, lang, Width::Cols32)?;
    let mut json = outcome_json(&out, &r);
    if a.png.is_some() || a.escpos.is_some() {
        let receipt = receipt_layout(&o.term, &out, Copy::Customer, lang)?;
        if let Some(path) = &a.png {
            let bytes = receipt.to_png(Width::Cols32)?;
            std::fs::write(path, &bytes)?;
            json["png"] = json!({ "path": path.display().to_string(), "bytes": bytes.len() });
        }
        if let Some(path) = &a.escpos {
            let bytes = receipt.to_escpos(Width::Cols32, CodePage::Gbk)?;
            std::fs::write(path, &bytes)?;
            json["escpos"] = json!({ "path": path.display().to_string(), "bytes": bytes.len() });
        }
    }
    Ok(Report::with_text(json, outcome_text(&out, &r)))
}

/// `smartpos void`.
pub fn run_void(a: VoidArgs) -> CliResult {
    let mut o = open_terminal(&a.terminal, None, Some(Action::Void))?;
    let out = o.term.void(TxnId(a.txn), &CancelToken::new())?;
    let r = receipt_of(&o.term, &out, Copy::Customer, Language::En, Width::Cols32)?;
    Ok(Report::with_text(
        outcome_json(&out, &r),
        outcome_text(&out, &r),
    ))
}

/// `smartpos refund`.
pub fn run_refund(a: RefundArgs) -> CliResult {
    let mut o = open_terminal(&a.terminal, None, Some(Action::Refund))?;
    let out = o.term.refund(
        OriginalRef::Local(TxnId(a.txn)),
        a.amount,
        &CancelToken::new(),
    )?;
    let r = receipt_of(&o.term, &out, Copy::Customer, Language::En, Width::Cols32)?;
    Ok(Report::with_text(
        outcome_json(&out, &r),
        outcome_text(&out, &r),
    ))
}

fn settlement_report(
    term: &mut Terminal,
) -> Result<SettlementReport, Box<dyn std::error::Error + Send + Sync>> {
    let journal = term.journal();
    let batch = journal
        .lock()
        .map_err(|_| "journal lock poisoned")?
        .current_batch()?;
    let result = term.settle()?;
    let j = journal.lock().map_err(|_| "journal lock poisoned")?;
    let totals = TotalsReport::from_journal(&j, batch.id, &term.settings().currency)?;
    let at = j.batch(batch.id)?.closed_at.map(|t| t.0).unwrap_or(0);
    Ok(SettlementReport::new(
        &result,
        totals,
        &term.settings().merchant_id,
        &term.settings().terminal_id,
        at,
    ))
}

/// `smartpos settle`.
pub fn run_settle(a: SettleArgs) -> CliResult {
    let mut o = open_terminal(&a.terminal, None, Some(Action::Settlement))?;
    let rep = settlement_report(&mut o.term)?;
    let offset = o.term.settings().risk.utc_offset_minutes;
    Ok(Report::with_text(
        rep.to_json(),
        rep.to_text(Width::Cols32, Language::En, offset),
    ))
}

/// `smartpos journal ...`.
pub fn run_journal(cmd: JournalCmd) -> CliResult {
    match cmd {
        JournalCmd::List { journal, limit } => {
            let j = open_journal(&journal)?;
            let page = j.list(&TxnFilter::default(), None, limit)?;
            let mut text = String::new();
            for r in &page.items {
                text.push_str(&format!(
                    "#{:<4} {:<10} {:<16} {:>10} {:<17} inv {:06} rrn {}\n",
                    r.id.0,
                    r.kind.as_str(),
                    r.state.as_str(),
                    r.amount,
                    r.pan_masked.as_ref().map(|p| p.as_str()).unwrap_or("-"),
                    r.invoice,
                    r.rrn.as_deref().unwrap_or("-")
                ));
            }
            Ok(Report::with_text(
                json!({ "transactions": page.items, "count": page.items.len() }),
                text.trim_end().to_string(),
            ))
        }
        JournalCmd::Show { journal, id } => {
            let j = open_journal(&journal)?;
            let r = j.get(TxnId(id))?;
            let audit = j.audit_of(TxnId(id))?;
            Ok(Report::json(json!({ "transaction": r, "audit": audit })))
        }
        JournalCmd::Export {
            journal,
            format,
            out,
        } => {
            let j = open_journal(&journal)?;
            let mut buf: Vec<u8> = Vec::new();
            let n = match format.as_str() {
                "csv" => j.export_transactions_csv(&TxnFilter::default(), &mut buf)?,
                "json" => j.export_transactions_json(&TxnFilter::default(), &mut buf)?,
                other => {
                    return Err(Box::new(UsageError(format!(
                        "--format: `{other}`, expected csv or json"
                    ))));
                }
            };
            match out {
                Some(p) => {
                    std::fs::write(&p, &buf)?;
                    Ok(Report::json(
                        json!({ "rows": n, "path": p.display().to_string(), "format": format }),
                    ))
                }
                None => {
                    let text = String::from_utf8_lossy(&buf).into_owned();
                    Ok(Report::with_text(
                        json!({ "rows": n, "format": format, "data": text }),
                        text.clone(),
                    ))
                }
            }
        }
        JournalCmd::Backup { journal, path } => {
            let mut j = open_journal(&journal)?;
            let pages = j.backup(&path)?;
            Ok(Report::json(
                json!({ "path": path.display().to_string(), "pages": pages }),
            ))
        }
    }
}

/// One step of the demo, for the JSON form.
struct Demo {
    lang: Language,
    width: Width,
    text: String,
    steps: Vec<Value>,
    seen_events: usize,
}

impl Demo {
    fn events(&mut self, h: &SimHandles) -> Vec<Value> {
        let all = h.events.events();
        let new: Vec<Event> = all.iter().skip(self.seen_events).cloned().collect();
        self.seen_events = all.len();
        let mut out = Vec::new();
        for e in &new {
            if let Event::Prompt { id, tries_left, .. } = e {
                let t = event_text(*id, *tries_left, self.lang);
                self.text.push_str(&format!("  [display] {t}\n"));
            }
            out.push(serde_json::to_value(e).unwrap_or_default());
        }
        out
    }

    fn step(
        &mut self,
        name: &str,
        term: &Terminal,
        h: &SimHandles,
        result: Result<TransactionOutcome, smartpos_terminal::TerminalError>,
    ) -> Result<Option<TransactionOutcome>, Box<dyn std::error::Error + Send + Sync>> {
        self.text.push_str(&format!("\n== {name}\n"));
        let events = self.events(h);
        match result {
            Ok(out) => {
                let receipt = receipt_of(term, &out, Copy::Customer, self.lang, self.width)?;
                if let Some(k) = &out.kernel {
                    self.text.push_str(&format!(
                        "  contactless kernel: {k} (EMV Contactless Book B)\n"
                    ));
                }
                self.text.push_str(&format!(
                    "  result: {:?} - {} (rc {}, invoice {:06})\n\n{receipt}\n",
                    out.status,
                    out.message,
                    out.response_code.as_deref().unwrap_or("-"),
                    out.invoice
                ));
                let mut v = outcome_json(&out, &receipt);
                if let Some(o) = v.as_object_mut() {
                    o.insert("step".into(), Value::from(name));
                    o.insert("events".into(), Value::from(events));
                }
                self.steps.push(v);
                Ok(Some(out))
            }
            Err(e) => {
                self.text.push_str(&format!("  not done: {e}\n"));
                self.steps
                    .push(json!({ "step": name, "error": e.to_string(), "events": events }));
                Ok(None)
            }
        }
    }
}

/// The customer of the demo's merchant-QR sale: waits (until `done`) for the terminal to show
/// a payload on its customer display, then pays it with the simulated wallet; returns the
/// payload and the order RRN.
fn customer_wallet_pays(
    display: &smartpos_terminal::sim_devices::SimQrDisplay,
    sim: &HostSim,
    done: &std::sync::atomic::AtomicBool,
) -> Result<(String, String), String> {
    loop {
        let shown = display
            .0
            .lock()
            .map_err(|_| "display lock poisoned".to_string())?
            .iter()
            .flatten()
            .next()
            .cloned();
        if let Some(payload) = shown {
            let rrn = sim.wallet_pay(&payload).map_err(|e| e.to_string())?;
            return Ok((payload, rrn));
        }
        if done.load(std::sync::atomic::Ordering::SeqCst) {
            return Err("no QR code was shown".into());
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// `smartpos demo`: a merchant's day on an embedded default configuration.
pub fn run_demo(a: DemoArgs) -> CliResult {
    let lang = lang(&a.lang)?;
    let w = width(a.width)?;
    let sim = HostSim::start(&HostSimConfig::default_config(), "127.0.0.1:0", None)?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("smartpos-demo-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut demo = Demo {
        lang,
        width: w,
        text: format!(
            "smartpos demo: host simulator on {}, journal and operators in {} (removed at the end unless --keep)\n",
            sim.addr(),
            dir.display()
        ),
        steps: Vec::new(),
        seen_events: 0,
    };

    // Operators: argon2id accounts in operators.db; the cashier signs in, the supervisor types
    // a password for the void, refund and settlement.
    let audit = MemoryAudit::new();
    let store = Arc::new(OperatorStore::open(
        dir.join("operators.db"),
        OperatorPolicy::default(),
        Box::new(audit.clone()),
    )?);
    store.bootstrap_admin("admin", "Admin", "admin-pass")?;
    let admin = store.sign_in("admin", "admin-pass")?;
    store.add_operator(&admin, "001", "Cashier Li", Role::Cashier, "cashier-1234")?;
    store.add_operator(
        &admin,
        "sup",
        "Supervisor Han",
        Role::Supervisor,
        "sup-4321",
    )?;
    let cashier = store.sign_in("001", "cashier-1234")?;
    let authoriser: Box<dyn Authoriser> = Box::new(OperatorSession::new(
        store.clone(),
        cashier,
        // The supervisor at the demo terminal types their password when asked.
        Box::new(SupervisorPrompt::new(
            "sup",
            Zeroizing::new("sup-4321".into()),
        )),
    ));
    demo.text.push_str(
        "operators: admin, cashier 001, supervisor sup (argon2id, operators.db); cashier 001 signed in\n",
    );

    let journal_path = dir.join("journal.db");
    let keys = Arc::new(Mutex::new(SoftKeyStore::new()));
    {
        let mut k = keys.lock().map_err(|_| "key store lock poisoned")?;
        smartpos_terminal::KeyStore::install_master_key(&mut *k, tmk(SIM_TMK)?)?;
    }
    let (devices, h) = sim_devices(Some("1234"), keys.clone());
    let mut settings = Settings::default();
    settings.host.address = sim.addr().to_string();
    settings.host.response_timeout_ms = 1_500;
    settings.risk.duplicate_window_secs = 0;
    // The merchant-QR step polls the host for payment every 100 ms (the wallet pays at once).
    settings.qr_poll_interval_ms = 100;
    let mut term = Terminal::open_with(
        &dir,
        devices,
        keys,
        &journal_path,
        authoriser,
        emv_options(settings)?,
    )?;
    // From here on, operator actions are audited in the terminal's journal.
    {
        let journal = term.journal();
        let mut j = journal.lock().map_err(|_| "journal lock poisoned")?;
        audit.drain_into(&mut j)?;
    }
    store.set_audit(Box::new(term.journal()))?;

    demo.text.push_str("\n== sign-on\n");
    let so = term.sign_on()?;
    demo.events(&h);
    demo.text.push_str(&format!(
        "  working keys installed, batch {:06}\n",
        so.batch_no
    ));
    demo.steps
        .push(json!({ "step": "sign_on", "batch_no": so.batch_no }));

    let cancel = CancelToken::new();
    let present = |profile: &str, contactless: bool| -> Result<(), UsageError> {
        let card = VirtualCard::from_profile(profile)
            .map_err(|e| UsageError(format!("virtual card {profile}: {e}")))?;
        h.reader.push(SimPresentation::Card {
            card: Box::new(card),
            contactless,
        });
        Ok(())
    };

    let tap = |name: &str| -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        h.reader
            .push(SimPresentation::Tap(Box::new(contactless_card(name)?)));
        Ok(())
    };

    // An online-only Mastercard: kernel C-2, CDA, ONLINE REQUEST, ARQC verified by the host.
    tap("cl-mc-online")?;
    let r = term.sale(&SaleRequest::card(2_000, "001"), &cancel);
    let contactless = demo.step("contactless sale (Mastercard tap, 20.00)", &term, &h, r)?;

    present("visa-cda-online-pin", false)?;
    let r = term.sale(&SaleRequest::card(12_800, "001"), &cancel);
    let contact = demo.step(
        "contact sale with online PIN (Visa chip, 128.00)",
        &term,
        &h,
        r,
    )?;

    // A Visa phone above the CVM limit: "see phone", the customer verifies on the phone
    // (CDCVM), the Entry Point restarts (Start B) and the tap goes online.
    tap("cl-visa-phone")?;
    let r = term.sale(&SaleRequest::card(40_000, "001"), &cancel);
    demo.step("phone tap (Visa phone, CDCVM, 400.00)", &term, &h, r)?;

    let qr = SaleRequest {
        method: smartpos_terminal::PaymentMethod::ScanWalletCode,
        ..SaleRequest::card(3_300, "001")
    };
    // The customer's Alipay payment code as the scanner reads it (18 digits, prefix 28).
    h.scanner
        .0
        .lock()
        .map_err(|_| "scanner lock poisoned")?
        .push_back("286543210987654321".into());
    let r = term.sale(&qr, &cancel);
    demo.step("QR scan sale (customer's wallet code, 33.00)", &term, &h, r)?;

    // Merchant-presented QR (EMVCo QRCPS-MPM): the host issues the order's payload, the
    // terminal shows it, the customer's wallet scans it and pays (HostSim's wallet hook), and
    // the terminal's next status poll sees it paid.
    let mpm = SaleRequest {
        method: smartpos_terminal::PaymentMethod::MerchantQr,
        ..SaleRequest::card(6_600, "001")
    };
    let done = std::sync::atomic::AtomicBool::new(false);
    let (r, wallet) = std::thread::scope(|scope| {
        let wallet = scope.spawn(|| customer_wallet_pays(&h.display, &sim, &done));
        let r = term.sale(&mpm, &cancel);
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        (r, wallet.join())
    });
    demo.step(
        "merchant QR sale (customer scans the terminal's code, 66.00)",
        &term,
        &h,
        r,
    )?;
    match wallet {
        Ok(Ok((payload, rrn))) => {
            let code = smartpos_qr::image::QrMatrix::encode(
                &payload,
                &smartpos_qr::image::QrOptions::default(),
            )?;
            demo.text.push_str(&format!(
                "  shown on the customer display (EMVCo MPM, {} characters, quiet zone included), paid by the wallet (order RRN {rrn}):\n\n{}\n  {payload}\n",
                payload.len(),
                code.to_terminal(true)
            ));
            if let Some(last) = demo.steps.last_mut() {
                last["shown_qr"] = Value::from(payload);
                last["wallet_rrn"] = Value::from(rrn);
            }
        }
        Ok(Err(e)) => demo
            .text
            .push_str(&format!("  the customer's wallet did not pay: {e}\n")),
        Err(_) => demo.text.push_str("  the customer's wallet stopped\n"),
    }

    present("up-cda-online-pin", false)?;
    let r = term.sale(&SaleRequest::card(5_051, "001"), &cancel);
    demo.step(
        "declined card (UnionPay chip, 50.51: insufficient funds)",
        &term,
        &h,
        r,
    )?;

    sim.inject(Fault::NoAnswer, 1);
    present("visa-cda-online-pin", false)?;
    let r = term.sale(&SaleRequest::card(4_200, "001"), &cancel);
    demo.step(
        "host timeout (no answer): reversed automatically",
        &term,
        &h,
        r,
    )?;
    match term.flush_queues() {
        Ok(n) => demo.text.push_str(&format!(
            "  store-and-forward queue flushed: {n} message(s) sent\n"
        )),
        Err(e) => demo.text.push_str(&format!("  queue flush failed: {e}\n")),
    }

    if let Some(sale) = &contact {
        let r = term.void(TxnId(sale.txn_id), &cancel);
        demo.step("void of the contact sale (supervisor sup)", &term, &h, r)?;
    }
    if let Some(sale) = &contactless {
        let r = term.refund(OriginalRef::Local(TxnId(sale.txn_id)), 500, &cancel);
        demo.step(
            "refund of 5.00 on the contactless sale (supervisor sup)",
            &term,
            &h,
            r,
        )?;
    }

    demo.text.push_str("\n== settlement (supervisor sup)\n");
    demo.events(&h);
    let offset = term.settings().risk.utc_offset_minutes;
    let settlement = match settlement_report(&mut term) {
        Ok(rep) => {
            demo.text.push_str(&rep.to_text(w, lang, offset));
            demo.text.push('\n');
            rep.to_json()
        }
        Err(e) => {
            demo.text.push_str(&format!("  settlement failed: {e}\n"));
            json!({ "error": e.to_string() })
        }
    };
    let audit_entries = term
        .journal()
        .lock()
        .map_err(|_| "journal lock poisoned")?
        .audit_count()?;
    demo.text.push_str(&format!(
        "\naudit log: {audit_entries} entries in the journal\n"
    ));
    drop(term);
    if a.keep {
        demo.text
            .push_str(&format!("files kept in {}\n", dir.display()));
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(Report::with_text(
        json!({
            "host": sim.addr().to_string(),
            "steps": demo.steps,
            "settlement": settlement,
            "audit_entries": audit_entries,
        }),
        demo.text,
    ))
}
