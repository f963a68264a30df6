//! `smartpos emv`: run the EMV contact kernel, or (`--interface contactless`) Entry Point and
//! the contactless kernels C-2/C-3/C-7 (EMV Contactless Books A and B), against a scripted card,
//! a virtual card or phone of the simulator or (feature `pcsc`) a PC/SC reader; record a
//! virtual-card transaction or tap as a script; list the virtual cards.
//!
//! `run` prints `{"outcome","aid","kernel","oda","oda_ok","tvr","tsi","cvm_results",
//! "pan_masked","field55","apdus":[{"c","r"}],"ui":[...]}`. Everything the terminal would draw
//! (unpredictable number, date, time) can be fixed with `--un/--date/--time`, and any terminal
//! data object with `--set TAG=HEX`, so a recorded transaction replays exactly.
//!
//! Contactless: the same keys, with `"outcome"` a Book A outcome ("APPROVED", "ONLINE
//! REQUEST", "TRY ANOTHER INTERFACE", ...), `"kernel"` "C-2"/"C-3"/"C-7", `"ui"` the Book A
//! §9 UI requests (message name and id, status, lights, hold time), plus `"start"`,
//! `"outcome_parameter_set"`, `"discretionary_data"`, `"balance"`, `"restarts"`,
//! `"torn_recovered"`, `"relay_resistance"` and `"online"` (the host answer given to
//! `resume_online`). `--set` also reaches the reader's own objects (9F66, 9F7B, DF8117-DF812C)
//! and `--clock` fixes the reader clock. The contactless virtual cards (names `cl-...`) are
//! built on the simulator's seeded CA and issuer keys, so any process can replay their taps.

use crate::report::{CliResult, Report, UsageError, hex_upper, parse_hex};
use clap::{Args, Subcommand};
use smartpos_emv::transport::ScriptedExchange;
use smartpos_emv::{
    Apdu, CardScript, CardTransport, CardholderInterface, Choice, ContactKernel, EndReason,
    HostResponse, Interaction, NoServices, OfflinePinPrompt, OnlinePinEntry, PinEntry, PinPad,
    PlaintextPinBlock, Response, ScriptedCard, Step, TerminalConfig, TransactionParams,
    TransactionResult, TransactionType, TransportError,
};
use smartpos_sim::card::{VirtualCard, profiles};
use smartpos_sim::pki::TestPki;
use std::sync::Arc;
use zeroize::Zeroizing;

#[derive(Subcommand)]
pub enum Cmd {
    /// Run a transaction (contact kernel) and print its outcome.
    Run(RunArgs),
    /// Run against a virtual card (or a reader) and write the exchanges as a scripted card
    /// (JSON) that `run --card` replays.
    Record {
        #[command(flatten)]
        run: RunArgs,
        /// Where to write the script.
        #[arg(long)]
        out: String,
    },
    /// List the simulator's virtual cards.
    Sims,
    /// The simulator's CA public keys as a kernel key file (RID, index, modulus, exponent,
    /// expiry, checksum), for terminals that replay virtual-card scripts.
    SimCaKeys,
    /// List the PC/SC readers (feature `pcsc`).
    Readers,
    /// Be a virtual card in vsmartcard's virtual reader: connect to vpcd (pcscd's driver) and
    /// answer its APDUs until it disconnects.
    ServeVpcd {
        /// Virtual card profile (see `smartpos emv sims`).
        #[arg(long)]
        profile: String,
        /// vpcd address.
        #[arg(long, default_value = "127.0.0.1:35963")]
        vpcd: String,
        /// Seconds to keep retrying while vpcd is not listening yet.
        #[arg(long, default_value_t = 10)]
        wait: u64,
    },
}

#[derive(Args, Clone)]
pub struct RunArgs {
    /// Scripted card: {"atr":"HEX","exchanges":[{"command":"HEX","response":"HEX"}]}.
    #[arg(long, conflicts_with_all = ["sim", "reader"])]
    card: Option<String>,
    /// PC/SC reader name (or a part of it); feature `pcsc`.
    #[arg(long, conflicts_with = "sim")]
    reader: Option<String>,
    /// Virtual card profile of the simulator (see `smartpos emv sims`).
    #[arg(long)]
    sim: Option<String>,
    /// Terminal configuration JSON (default: the demo terminal).
    #[arg(long)]
    terminal: Option<String>,
    /// Amount, authorised, in minor units.
    #[arg(long)]
    amount: u64,
    /// Transaction currency code (ISO 4217 numeric).
    #[arg(long)]
    currency: Option<u16>,
    /// Unpredictable number (8 hex digits); default random.
    #[arg(long)]
    un: Option<String>,
    /// Transaction date YYMMDD; default today (UTC).
    #[arg(long)]
    date: Option<String>,
    /// Transaction time HHMMSS; default now (UTC).
    #[arg(long)]
    time: Option<String>,
    /// The cardholder's PIN (offline and online PIN CVMs); without it PIN entry is bypassed.
    #[arg(long)]
    pin: Option<String>,
    /// The host's answer: {"arc":"3030","iad":"HEX","scripts":"HEX"} or {"unable":true}.
    #[arg(long)]
    online_response: Option<String>,
    /// contact or contactless.
    #[arg(long, default_value = "contact")]
    interface: String,
    /// Fix a terminal data object: TAG=HEX (repeatable).
    #[arg(long = "set", value_name = "TAG=HEX")]
    set: Vec<String>,
    /// Contactless: the reader clock's readings in microseconds (relay resistance timing,
    /// torn-log ageing), comma-separated; the last repeats. The default is a 7 ms EXCHANGE
    /// RELAY RESISTANCE DATA round trip, so taps replay identically.
    #[arg(long, default_value = "1000,8000,9000")]
    clock: String,
}

/// Errors of `smartpos emv` that are not command-line mistakes.
#[derive(Debug, thiserror::Error)]
pub enum EmvCliError {
    #[error(
        "--sim {0}: not a contactless virtual card (see `smartpos emv sims`, interface \"contactless\")"
    )]
    NotContactless(String),
    #[error("contactless test PKI: {0}")]
    ContactlessPki(String),
    #[cfg(not(feature = "pcsc"))]
    #[error("this smartpos was built without the `pcsc` feature")]
    NoPcsc,
    #[error("scripted card: {0}")]
    Script(TransportError),
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("writing {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

pub fn run(cmd: Cmd) -> CliResult {
    match cmd {
        Cmd::Run(a) => run_transaction(&a, None),
        Cmd::Record { run, out } => {
            if run.card.is_some() {
                return Err(Box::new(UsageError(
                    "record runs against --sim PROFILE or --reader NAME, not a script".into(),
                )));
            }
            run_transaction(&run, Some(&out))
        }
        Cmd::Sims => {
            let mut sims = Vec::new();
            for s in profiles() {
                sims.push(serde_json::to_value(&s)?);
            }
            sims.extend(contactless::sims_json());
            let field = |s: &serde_json::Value, k: &str| s[k].as_str().unwrap_or("").to_string();
            let text = sims
                .iter()
                .map(|s| {
                    format!(
                        "{:<28} {:<11} {:<11} {:<5} {:<23} expect {}",
                        field(s, "name"),
                        field(s, "interface"),
                        field(s, "scheme"),
                        field(s, "oda"),
                        field(s, "cvm"),
                        field(s, "expect")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(Report::with_text(serde_json::json!({ "sims": sims }), text))
        }
        Cmd::SimCaKeys => {
            let pki = TestPki::shared()?;
            let file = smartpos_emv::config::CaKeyFile {
                comment: "smartpos-sim test PKI: TEST KEYS ONLY".into(),
                keys: pki.ca_key_records(),
            };
            let json = serde_json::to_value(&file)?;
            Ok(Report::json(json))
        }
        Cmd::Readers => readers(),
        Cmd::ServeVpcd {
            profile,
            vpcd,
            wait,
        } => {
            let mut card = VirtualCard::from_profile(&profile)?;
            let mut stream =
                smartpos_sim::card::vpcd::connect(&vpcd, std::time::Duration::from_secs(wait))?;
            let stats = smartpos_sim::card::vpcd::serve(&mut card, &mut stream)?;
            let json = serde_json::json!({
                "profile": profile,
                "apdus": stats.apdus,
                "resets": stats.resets,
                "atc": card.atc(),
            });
            let text = format!(
                "served {} APDUs ({} resets) as {profile}",
                stats.apdus, stats.resets
            );
            Ok(Report::with_text(json, text))
        }
    }
}

#[cfg(feature = "pcsc")]
fn readers() -> CliResult {
    let names = smartpos_emv::pcsc::list_readers()?;
    let text = names.join("\n");
    Ok(Report::with_text(
        serde_json::json!({ "readers": names }),
        text,
    ))
}

#[cfg(not(feature = "pcsc"))]
fn readers() -> CliResult {
    Err(Box::new(EmvCliError::NoPcsc))
}

/// UI events of the transaction, for the `ui` array.
#[derive(Default)]
struct Ui {
    events: Vec<String>,
}

impl CardholderInterface for Ui {
    fn choose_application(&mut self, candidates: &[smartpos_emv::Candidate]) -> Choice {
        let names: Vec<String> = candidates
            .iter()
            .map(smartpos_emv::Candidate::display_name)
            .collect();
        self.events
            .push(format!("choose application: {}", names.join(", ")));
        Choice::Select(0)
    }
    fn language_selected(&mut self, language: &str) {
        self.events.push(format!("language: {language}"));
    }
}

/// PIN pad answering with the `--pin` digits.
struct CliPinPad<'a> {
    pin: Option<Zeroizing<String>>,
    ui: &'a mut Vec<String>,
}

impl PinPad for CliPinPad<'_> {
    fn offline_pin(&mut self, prompt: OfflinePinPrompt) -> PinEntry {
        self.ui.push(match prompt.tries_left {
            Some(n) => format!("enter PIN ({n} tries left)"),
            None => "enter PIN".to_string(),
        });
        match self
            .pin
            .as_deref()
            .and_then(|p| PlaintextPinBlock::from_digits(p))
        {
            Some(b) => PinEntry::Entered(b),
            None => {
                self.ui.push("PIN bypassed".into());
                PinEntry::Bypassed
            }
        }
    }
    fn online_pin(&mut self, _pan: &str) -> OnlinePinEntry {
        self.ui.push("enter online PIN".into());
        match &self.pin {
            // The block goes to the host, never to the output; the CLI has no PIN key, so it
            // hands the kernel an opaque digest of the PIN.
            Some(p) => OnlinePinEntry::Entered(
                openssl::sha::sha1(p.as_bytes())
                    .get(..8)
                    .unwrap_or(&[])
                    .to_vec(),
            ),
            None => {
                self.ui.push("PIN bypassed".into());
                OnlinePinEntry::Bypassed
            }
        }
    }
}

/// Records every exchange, unmasked, as a scripted card.
struct Recorder<T> {
    inner: T,
    script: CardScript,
}

impl<T: CardTransport> CardTransport for Recorder<T> {
    fn atr(&self) -> &[u8] {
        self.inner.atr()
    }
    fn exchange(&mut self, command: &Apdu) -> Result<Response, TransportError> {
        let bytes = command.encode()?;
        let r = self.inner.exchange(command);
        self.script.exchanges.push(ScriptedExchange {
            command: hex_upper(&bytes),
            response: match &r {
                Ok(r) => hex_upper(&r.to_bytes()),
                Err(_) => "REMOVED".into(),
            },
        });
        r
    }
}

fn usage(msg: String) -> Box<dyn std::error::Error + Send + Sync> {
    Box::new(UsageError(msg))
}

/// Today's date and time (UTC) as YYMMDD, HHMMSS.
fn now_utc() -> (String, String) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        format!("{:02}{:02}{:02}", y % 100, m, d),
        format!("{:02}{:02}{:02}", rem / 3600, rem % 3600 / 60, rem % 60),
    )
}

/// Split `--set TAG=HEX` into the upper-case tag and the value.
fn parse_set(spec: &str) -> Result<(String, Vec<u8>), Box<dyn std::error::Error + Send + Sync>> {
    let (tag, value) = spec
        .split_once('=')
        .ok_or_else(|| usage(format!("--set {spec:?}: expected TAG=HEX")))?;
    let v = parse_hex("set", value)?;
    Ok((tag.trim().to_ascii_uppercase(), v))
}

/// Apply `--set TAG=HEX` to the configuration and parameters (terminal data objects of EMV
/// Book 3 Annex A and Book 4 §6.5). `Ok(false)`: not a tag of the terminal configuration.
fn apply_set(
    spec: &str,
    cfg: &mut TerminalConfig,
    p: &mut TransactionParams,
) -> Result<bool, Box<dyn std::error::Error + Send + Sync>> {
    let (tag, v) = parse_set(spec)?;
    let len = |n: usize| -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        if v.len() == n {
            Ok(())
        } else {
            Err(usage(format!(
                "--set {tag}: {n} bytes expected, got {}",
                v.len()
            )))
        }
    };
    let ascii =
        || String::from_utf8(v.clone()).map_err(|_| usage(format!("--set {tag}: not ASCII")));
    let bcd = |b: &[u8]| -> u64 {
        b.iter()
            .flat_map(|x| [x >> 4, x & 0x0F])
            .fold(0u64, |a, d| {
                a.saturating_mul(10).saturating_add(u64::from(d.min(9)))
            })
    };
    let t = &mut cfg.terminal;
    match tag.as_str() {
        "9F1A" => {
            len(2)?;
            t.country_code = v.clone()
        }
        "5F2A" => {
            len(2)?;
            t.currency_code = v.clone()
        }
        "5F36" => {
            len(1)?;
            t.currency_exponent = v[0]
        }
        "9F33" => {
            len(3)?;
            t.capabilities = v.clone()
        }
        "9F40" => {
            len(5)?;
            t.additional_capabilities = v.clone()
        }
        "9F35" => {
            len(1)?;
            t.terminal_type = v[0]
        }
        "9F1C" => {
            len(8)?;
            t.terminal_id = ascii()?
        }
        "9F16" => t.merchant_id = ascii()?.trim_end().to_string(),
        "9F15" => {
            len(2)?;
            t.merchant_category_code = hex_upper(&v)
        }
        "9F4E" => t.merchant_name_location = ascii()?,
        "9F1E" => t.ifd_serial_number = ascii()?,
        "9F01" => t.acquirer_id = v.clone(),
        "9F1B" => {
            len(4)?;
            let floor = u64::from(u32::from_be_bytes([v[0], v[1], v[2], v[3]]));
            cfg.aids.iter_mut().for_each(|a| a.floor_limit = floor);
        }
        "9F09" => {
            len(2)?;
            cfg.aids
                .iter_mut()
                .for_each(|a| a.application_version = v.clone());
        }
        "9F02" => {
            len(6)?;
            p.amount = bcd(&v)
        }
        "9F03" => {
            len(6)?;
            p.amount_other = bcd(&v)
        }
        "9C" => {
            len(1)?;
            p.transaction_type = match v[0] {
                0x00 => TransactionType::Purchase,
                0x01 => TransactionType::Cash,
                0x09 => TransactionType::PurchaseWithCashback,
                0x20 => TransactionType::Refund,
                other => {
                    return Err(usage(format!(
                        "--set 9C: transaction type {other:02X} not supported"
                    )));
                }
            }
        }
        "9F37" => {
            len(4)?;
            p.unpredictable_number = [v[0], v[1], v[2], v[3]]
        }
        "9A" => {
            len(3)?;
            p.date = [v[0], v[1], v[2]]
        }
        "9F21" => {
            len(3)?;
            p.time = [v[0], v[1], v[2]]
        }
        "9F41" => p.sequence_counter = bcd(&v).min(u64::from(u32::MAX)) as u32,
        "9F39" => {
            len(1)?;
            p.pos_entry_mode = v[0]
        }
        _ => return Ok(false),
    }
    Ok(true)
}

fn unknown_set(tag: &str) -> Box<dyn std::error::Error + Send + Sync> {
    usage(format!(
        "--set {tag}: not a terminal data object this command can set"
    ))
}

fn host_response(
    json: &str,
) -> Result<Option<HostResponse>, Box<dyn std::error::Error + Send + Sync>> {
    let v: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| usage(format!("--online-response: not JSON ({e})")))?;
    if v.get("unable").and_then(serde_json::Value::as_bool) == Some(true) {
        return Ok(None);
    }
    let arc_hex = v
        .get("arc")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| usage("--online-response: \"arc\" (hex, e.g. \"3030\") missing".into()))?;
    let arc = parse_hex("online-response arc", arc_hex)?;
    if arc.len() != 2 {
        return Err(usage("--online-response: arc must be 2 bytes".into()));
    }
    let arc = String::from_utf8(arc)
        .map_err(|_| usage("--online-response: arc must be two ASCII characters".into()))?;
    let field = |name: &str| -> Result<Vec<u8>, UsageError> {
        match v.get(name).and_then(serde_json::Value::as_str) {
            Some(h) => parse_hex(&format!("online-response {name}"), h),
            None => Ok(Vec::new()),
        }
    };
    Ok(Some(HostResponse {
        approved: matches!(arc.as_str(), "00" | "08" | "10" | "11"),
        arc,
        issuer_authentication_data: field("iad")?,
        scripts: field("scripts")?,
    }))
}

fn outcome_json(r: &TransactionResult, ui: Vec<String>) -> serde_json::Value {
    let mut j = r.summary_json();
    if let Some(o) = j.as_object_mut() {
        o.insert("ui".into(), serde_json::json!(ui));
    }
    j
}

/// The transport a run uses.
enum Card {
    Scripted(ScriptedCard),
    Virtual(Box<VirtualCard>),
    #[cfg(feature = "pcsc")]
    Reader(Box<smartpos_emv::pcsc::PcscTransport>),
}

impl CardTransport for Card {
    fn atr(&self) -> &[u8] {
        match self {
            Card::Scripted(c) => c.atr(),
            Card::Virtual(c) => c.atr(),
            #[cfg(feature = "pcsc")]
            Card::Reader(c) => c.atr(),
        }
    }
    fn exchange(&mut self, command: &Apdu) -> Result<Response, TransportError> {
        match self {
            Card::Scripted(c) => c.exchange(command),
            Card::Virtual(c) => c.exchange(command),
            #[cfg(feature = "pcsc")]
            Card::Reader(c) => c.exchange(command),
        }
    }
}

/// The terminal configuration (`--terminal` or the demo terminal trusting the simulator PKI)
/// and the transaction parameters, with `--currency/--un/--date/--time/--set` applied. The
/// `--set` specs that are not terminal-configuration tags are handed back.
type Prepared = (TerminalConfig, TransactionParams, Vec<String>);

fn terminal_and_params(
    a: &RunArgs,
    pki: &TestPki,
) -> Result<Prepared, Box<dyn std::error::Error + Send + Sync>> {
    let mut cfg = match &a.terminal {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| EmvCliError::Read {
                path: path.clone(),
                source: e,
            })?;
            TerminalConfig::from_json(&text)?
        }
        None => {
            // The demo terminal trusts the simulator PKI and carries its revocation list.
            let mut c = TerminalConfig::demo()?;
            c.terminal.revoked_certificates = pki.revocation_list();
            c
        }
    };
    if let Some(c) = a.currency {
        if c > 999 {
            return Err(usage(format!("--currency {c}: 3 digits expected")));
        }
        cfg.terminal.currency_code = parse_hex("currency", &format!("{c:04}"))?;
    }
    let (today, now) = now_utc();
    let un = match &a.un {
        Some(h) => TransactionParams::parse_unpredictable_number(h)
            .map_err(|e| usage(format!("--un: {e}")))?,
        None => {
            let mut b = [0u8; 4];
            smartpos_crypto::pin::openssl_random(&mut b)?;
            b
        }
    };
    let mut params = TransactionParams::new(
        a.amount,
        a.date.as_deref().unwrap_or(&today),
        a.time.as_deref().unwrap_or(&now),
        un,
    )
    .map_err(|e| usage(format!("--date/--time: {e}")))?;
    let mut unknown = Vec::new();
    for s in &a.set {
        if !apply_set(s, &mut cfg, &mut params)? {
            unknown.push(s.clone());
        }
    }
    cfg.validate()?;
    Ok((cfg, params, unknown))
}

fn run_transaction(a: &RunArgs, record: Option<&str>) -> CliResult {
    if a.interface == "contactless" {
        return contactless::run_tap_command(a, record);
    }
    if a.interface != "contact" {
        return Err(usage(format!(
            "--interface {:?}: contact or contactless",
            a.interface
        )));
    }
    let pki = TestPki::shared()?;
    let (cfg, params, unknown) = terminal_and_params(a, pki)?;
    if let Some(spec) = unknown.first() {
        return Err(unknown_set(&parse_set(spec)?.0));
    }
    let online = match &a.online_response {
        Some(j) => Some(host_response(j)?),
        None => None,
    };
    let card = match (&a.card, &a.sim, &a.reader) {
        #[cfg(feature = "pcsc")]
        (None, None, Some(name)) => {
            Card::Reader(Box::new(smartpos_emv::pcsc::PcscTransport::connect(name)?))
        }
        #[cfg(not(feature = "pcsc"))]
        (None, None, Some(_)) => return Err(Box::new(EmvCliError::NoPcsc)),
        (Some(path), None, None) => {
            let text = std::fs::read_to_string(path).map_err(|e| EmvCliError::Read {
                path: path.clone(),
                source: e,
            })?;
            Card::Scripted(ScriptedCard::from_json(&text).map_err(EmvCliError::Script)?)
        }
        (None, Some(name), None) => Card::Virtual(Box::new(VirtualCard::from_profile(name)?)),
        _ => {
            return Err(usage(
                "one of --card SCRIPT.json, --sim PROFILE or --reader NAME is needed".into(),
            ));
        }
    };
    let atr = hex_upper(card.atr());
    let mut transport = Recorder {
        inner: card,
        script: CardScript {
            atr,
            exchanges: Vec::new(),
        },
    };
    let kernel = ContactKernel::new(Arc::new(cfg), Arc::new(pki.key_store()?));
    let mut ui = Ui::default();
    let mut pin_events = Vec::new();
    let mut pin_pad = CliPinPad {
        pin: a.pin.clone().map(Zeroizing::new),
        ui: &mut pin_events,
    };
    let step = kernel.start(
        &mut transport,
        params,
        Interaction {
            ui: &mut ui,
            pin_pad: &mut pin_pad,
            services: &mut NoServices,
        },
    );
    let mut events = ui.events;
    events.append(&mut pin_events);
    let result = match step {
        Step::Done(r) => *r,
        Step::Online(req) => {
            events.push("online authorisation".into());
            match online {
                None => req.snapshot(),
                Some(None) => {
                    events.push("unable to go online".into());
                    req.unable_to_go_online(&mut transport)
                }
                Some(Some(h)) => req.complete(&mut transport, &h),
            }
        }
    };
    if let Some(EndReason::Transport(
        e @ (TransportError::ScriptMismatch { .. } | TransportError::ScriptExhausted(_)),
    )) = &result.end_reason
    {
        return Err(Box::new(EmvCliError::Script(e.clone())));
    }
    if result.signature_required {
        events.push("signature required".into());
    }
    events.push(
        match result.decision {
            smartpos_emv::Decision::Approved => "APPROVED",
            smartpos_emv::Decision::Declined => "DECLINED",
            smartpos_emv::Decision::OnlineRequest => "PROCESSING (online request)",
            smartpos_emv::Decision::EndApplication => "NOT ACCEPTED",
        }
        .to_string(),
    );
    let json = outcome_json(&result, events);
    if let Some(path) = record {
        let text = serde_json::to_string_pretty(&transport.script)?;
        std::fs::write(path, text).map_err(|e| EmvCliError::Write {
            path: path.to_string(),
            source: e,
        })?;
    }
    let text = format!(
        "outcome {}  aid {}  oda {} ({})  TVR {}  TSI {}  CVM {}",
        json["outcome"].as_str().unwrap_or(""),
        json["aid"].as_str().unwrap_or("-"),
        json["oda"].as_str().unwrap_or(""),
        if result.oda_ok { "ok" } else { "not ok" },
        result.tvr.hex(),
        result.tsi.hex(),
        result.cvm_results
    );
    Ok(Report::with_text(json, text))
}

/// `--interface contactless`: Entry Point (EMV Contactless Book B) starting at SELECT PPSE,
/// then the C-2/C-3/C-7 kernel it selects, outcome and UI requests of Book A.
mod contactless {
    use super::{
        EmvCliError, RunArgs, host_response, parse_set, terminal_and_params, unknown_set, usage,
    };
    use crate::report::{CliResult, Report, hex_upper};
    use smartpos_emv::contactless::{
        Activation, ContactlessConfig, ContactlessReader, ContactlessTransport, OutcomeKind,
        RecordingUi, ScriptedClock, TapEnv, TornLog, resume_online, run_tap,
    };
    use smartpos_emv::transport::ScriptedExchange;
    use smartpos_emv::{
        Apdu, CardScript, CardTransport, HostResponse, Response, ScriptedCard, TransportError,
    };
    use smartpos_sim::contactless::pki::TestPki as ClPki;
    use smartpos_sim::contactless::{Profile, Scheme, VirtualCard};
    use smartpos_sim::pki::TestPki;
    use std::sync::Arc;

    type BoxError = Box<dyn std::error::Error + Send + Sync>;

    /// One virtual contactless card or phone of `smartpos emv sims`, with the Book A outcome
    /// it reaches at the demo amount (10.00, below the demo floor and CVM required limits).
    pub(super) struct ClSim {
        pub name: &'static str,
        pub description: &'static str,
        pub expect: OutcomeKind,
        pub profile: fn() -> Profile,
    }

    /// The contactless virtual cards (smartpos-sim `contactless::Profile`) by name.
    pub(super) fn sims() -> Vec<ClSim> {
        use OutcomeKind::*;
        let s = |name, description, expect, profile| ClSim {
            name,
            description,
            expect,
            profile,
        };
        vec![
            s(
                "cl-visa-card",
                "C-3 card, fDDA, approves offline",
                Approved,
                Profile::visa_card as fn() -> Profile,
            ),
            s(
                "cl-visa-online-only",
                "C-3 card that always asks for an ARQC",
                OnlineRequest,
                Profile::visa_online_only,
            ),
            s(
                "cl-visa-phone",
                "C-3 phone (consumer device CVM)",
                Approved,
                Profile::visa_phone,
            ),
            s(
                "cl-visa-decline",
                "C-3 card that always answers an AAC",
                Declined,
                || Profile {
                    decline: true,
                    ..Profile::visa_card()
                },
            ),
            s(
                "cl-visa-issuer-update",
                "C-3 online-only card with issuer update (Start C after the host's answer)",
                OnlineRequest,
                || Profile {
                    issuer_update: true,
                    ..Profile::visa_online_only()
                },
            ),
            s(
                "cl-visa-two-cards",
                "two cards in the field at the first poll ('present one card only')",
                Approved,
                || Profile {
                    collisions: 1,
                    ..Profile::visa_card()
                },
            ),
            s(
                "cl-visa-another-interface",
                "GET PROCESSING OPTIONS answers 6984",
                TryAnotherInterface,
                || Profile {
                    another_interface: true,
                    ..Profile::visa_card()
                },
            ),
            s(
                "cl-visa-blocked",
                "SELECT of the application answers 6283",
                EndApplication,
                || Profile {
                    blocked: true,
                    ..Profile::visa_card()
                },
            ),
            s(
                "cl-mc-card",
                "C-2 card, CDA, approves offline",
                Approved,
                Profile::mastercard_card,
            ),
            s(
                "cl-mc-phone",
                "C-2 phone (on-device CVM)",
                Approved,
                Profile::mastercard_phone,
            ),
            s(
                "cl-mc-torn",
                "C-2 card torn during the first GENERATE AC, recovered with RECOVER AC",
                Approved,
                || Profile {
                    tear_first_generate_ac: true,
                    ..Profile::mastercard_card()
                },
            ),
            s(
                "cl-mc-relay",
                "C-2 card with relay resistance (EXCHANGE RELAY RESISTANCE DATA, min 1.0 ms, max 4.0 ms)",
                Approved,
                || Profile {
                    relay_resistance: Some((10, 40, 18)),
                    ..Profile::mastercard_card()
                },
            ),
            s(
                "cl-mc-mag-stripe",
                "C-2 mag-stripe mode card (COMPUTE CRYPTOGRAPHIC CHECKSUM)",
                OnlineRequest,
                || Profile {
                    mag_stripe: true,
                    ..Profile::mastercard_card()
                },
            ),
            s(
                "cl-up-card",
                "C-7 qUICS card, fDDA",
                Approved,
                Profile::unionpay_card,
            ),
            s(
                "cl-up-ec",
                "C-7 electronic-cash card, balance 300.00",
                Approved,
                || Profile::unionpay_ec(30_000),
            ),
            s(
                "cl-up-sm",
                "C-7 SM-algorithm card (SM2 certificates, SM2/SM3 fDDA)",
                Approved,
                Profile::unionpay_sm,
            ),
            s(
                "cl-up-phone",
                "C-7 QuickPass phone",
                Approved,
                Profile::unionpay_phone,
            ),
        ]
    }

    fn scheme_name(s: Scheme) -> &'static str {
        match s {
            Scheme::Visa => "visa",
            Scheme::Mastercard => "mastercard",
            Scheme::UnionPay => "unionpay",
        }
    }

    /// The `sims` entries of the contactless cards (same keys as the contact ones).
    pub(super) fn sims_json() -> Vec<serde_json::Value> {
        sims()
            .iter()
            .map(|s| {
                let p = (s.profile)();
                let oda = match (p.oda, p.scheme) {
                    (false, _) => "none",
                    (true, Scheme::Mastercard) => "cda",
                    (true, _) => "fdda",
                };
                serde_json::json!({
                    "name": s.name,
                    "interface": "contactless",
                    "scheme": scheme_name(p.scheme),
                    "oda": oda,
                    "cvm": if p.phone { "cdcvm" } else { "no_cvm" },
                    "phone": p.phone,
                    "pin": null,
                    "expect": s.expect.book_a_name(),
                    "description": s.description,
                })
            })
            .collect()
    }

    /// The contactless test PKI of one RID, built on the simulator's deterministic CA and
    /// issuer keys (smartpos-sim `pki`, seeded), so every process (recording or replaying)
    /// trusts the same keys under the contactless CA index. The SM2 keys are derived from
    /// SHA-256 of a label (deterministic too).
    fn cl_pki(pki: &TestPki, rid: [u8; 5]) -> Result<ClPki, BoxError> {
        let scheme = pki
            .scheme(&rid)
            .ok_or_else(|| EmvCliError::ContactlessPki(format!("no CA for {}", hex_upper(&rid))))?;
        let clone = |k: &smartpos_crypto::rsa::RsaPrivateKey| {
            k.to_pkcs1_der()
                .and_then(|der| smartpos_crypto::rsa::RsaPrivateKey::from_pkcs1_der(&der))
                .map_err(|e| EmvCliError::ContactlessPki(e.to_string()))
        };
        let sm2 = |label: &str| {
            let d = openssl::sha::sha256(
                format!("smartpos-cli contactless {label} {}", hex_upper(&rid)).as_bytes(),
            );
            smartpos_crypto::sm2::Sm2PrivateKey::from_bytes(&d)
                .map_err(|e| EmvCliError::ContactlessPki(e.to_string()))
        };
        Ok(ClPki {
            rid,
            ca: clone(&scheme.ca)?,
            issuer: clone(&scheme.issuer)?,
            sm_ca: sm2("SM2 CA")?,
            sm_issuer: sm2("SM2 issuer")?,
        })
    }

    /// Apply the contactless reader's own data objects (Book B Table 5-2, Book C-2 Annex A,
    /// C-3 Annex A 9F66, C-7 9F7B) to every combination. `Ok(false)`: unknown tag.
    fn apply_contactless_set(
        tag: &str,
        v: &[u8],
        cl: &mut ContactlessConfig,
    ) -> Result<bool, BoxError> {
        let len = |n: usize| -> Result<(), BoxError> {
            if v.len() == n {
                Ok(())
            } else {
                Err(usage(format!(
                    "--set {tag}: {n} bytes expected, got {}",
                    v.len()
                )))
            }
        };
        // Amounts n12 (6 bytes BCD).
        let amount = || -> Result<u64, BoxError> {
            len(6)?;
            let mut a = 0u64;
            for d in v.iter().flat_map(|x| [x >> 4, x & 0x0F]) {
                if d > 9 {
                    return Err(usage(format!("--set {tag}: not BCD")));
                }
                a = a * 10 + u64::from(d);
            }
            Ok(a)
        };
        const READER_TAGS: [&str; 16] = [
            "9F66", "9F7B", "DF8123", "DF8124", "DF8125", "DF8126", "DF8117", "DF8118", "DF8119",
            "DF811B", "DF811E", "DF811F", "DF812C", "DF8120", "DF8121", "DF8122",
        ];
        if !READER_TAGS.contains(&tag) {
            return Ok(false);
        }
        for c in &mut cl.combinations {
            let k2 = &mut c.kernel2;
            match tag {
                "9F66" => {
                    len(4)?;
                    c.ttq = v.to_vec()
                }
                "9F7B" => c.ec_transaction_limit = Some(amount()?),
                "DF8123" => {
                    let a = amount()?;
                    c.floor_limit = Some(a);
                    k2.floor_limit = Some(a);
                }
                "DF8124" => {
                    let a = amount()?;
                    c.transaction_limit = Some(a);
                    k2.no_on_device_cvm_limit = Some(a);
                }
                "DF8125" => k2.on_device_cvm_limit = Some(amount()?),
                "DF8126" => c.cvm_required_limit = Some(amount()?),
                "DF8117" => {
                    len(1)?;
                    k2.card_data_input_capability = v.to_vec()
                }
                "DF8118" => {
                    len(1)?;
                    k2.cvm_capability_cvm_required = v.to_vec()
                }
                "DF8119" => {
                    len(1)?;
                    k2.cvm_capability_no_cvm = v.to_vec()
                }
                "DF811B" => {
                    len(1)?;
                    k2.kernel_configuration = v.to_vec()
                }
                "DF811E" => {
                    len(1)?;
                    k2.mag_stripe_cvm_required = v.to_vec()
                }
                "DF811F" => {
                    len(1)?;
                    k2.security_capability = v.to_vec()
                }
                "DF812C" => {
                    len(1)?;
                    k2.mag_stripe_no_cvm = v.to_vec()
                }
                "DF8120" => {
                    len(5)?;
                    k2.tac_default = v.to_vec()
                }
                "DF8121" => {
                    len(5)?;
                    k2.tac_denial = v.to_vec()
                }
                "DF8122" => {
                    len(5)?;
                    k2.tac_online = v.to_vec()
                }
                _ => return Ok(false),
            }
        }
        Ok(true)
    }

    /// The card link of a tap.
    enum ClCard {
        Scripted(ScriptedCard),
        Virtual(Box<VirtualCard>),
        #[cfg(feature = "pcsc")]
        Reader(Box<smartpos_emv::pcsc::PcscTransport>),
    }

    impl CardTransport for ClCard {
        fn atr(&self) -> &[u8] {
            match self {
                ClCard::Scripted(c) => c.atr(),
                ClCard::Virtual(c) => c.atr(),
                #[cfg(feature = "pcsc")]
                ClCard::Reader(c) => c.atr(),
            }
        }
        fn exchange(&mut self, command: &Apdu) -> Result<Response, TransportError> {
            match self {
                ClCard::Scripted(c) => c.exchange(command),
                ClCard::Virtual(c) => c.exchange(command),
                #[cfg(feature = "pcsc")]
                ClCard::Reader(c) => c.exchange(command),
            }
        }
    }

    impl ContactlessTransport for ClCard {
        fn activate(&mut self) -> Activation {
            match self {
                ClCard::Scripted(c) => c.activate(),
                ClCard::Virtual(c) => c.activate(),
                // A PC/SC contactless reader polls and activates by itself (EMV Book D as the
                // reader implements it): a connected card is one card in the field.
                #[cfg(feature = "pcsc")]
                ClCard::Reader(_) => Activation::Card,
            }
        }
        fn field_off(&mut self, hold_time_ms: u32) {
            if let ClCard::Virtual(c) = self {
                c.field_off(hold_time_ms)
            }
        }
    }

    /// Records every exchange, unmasked, as a scripted card; keeps the first script error
    /// (a replay that does not match its script is an error, not an outcome).
    struct Recorder {
        inner: ClCard,
        script: CardScript,
        script_error: Option<TransportError>,
        /// Recording: a failed exchange reaches the kernel as the script will replay it
        /// ("REMOVED" → card removed), so the recorded tap and its replay report the same.
        recording: bool,
    }

    impl CardTransport for Recorder {
        fn atr(&self) -> &[u8] {
            self.inner.atr()
        }
        fn exchange(&mut self, command: &Apdu) -> Result<Response, TransportError> {
            let bytes = command.encode()?;
            let mut r = self.inner.exchange(command);
            self.script.exchanges.push(ScriptedExchange {
                command: hex_upper(&bytes),
                response: match &r {
                    Ok(r) => hex_upper(&r.to_bytes()),
                    Err(_) => "REMOVED".into(),
                },
            });
            if self.recording && r.is_err() {
                r = Err(TransportError::CardRemoved);
            }
            if let Err(
                e @ (TransportError::ScriptMismatch { .. } | TransportError::ScriptExhausted(_)),
            ) = &r
                && self.script_error.is_none()
            {
                self.script_error = Some(e.clone());
            }
            r
        }
    }

    impl ContactlessTransport for Recorder {
        fn activate(&mut self) -> Activation {
            self.inner.activate()
        }
        fn field_off(&mut self, hold_time_ms: u32) {
            self.inner.field_off(hold_time_ms)
        }
    }

    /// `emv run|record --interface contactless`.
    pub(super) fn run_tap_command(a: &RunArgs, record: Option<&str>) -> CliResult {
        if a.pin.is_some() {
            return Err(usage(
                "--pin: contactless taps take no PIN here (online PIN goes to the host)".into(),
            ));
        }
        let pki = TestPki::shared()?;
        let (cfg, params, rest) = terminal_and_params(a, pki)?;
        let mut keys = pki.key_store()?;
        let mut sm_keys = Vec::new();
        for rid in smartpos_sim::pki::SIM_RIDS {
            let cl = cl_pki(pki, rid)?;
            cl.install(&mut keys)
                .map_err(|e| EmvCliError::ContactlessPki(e.to_string()))?;
            sm_keys.push(
                cl.sm_ca_key()
                    .map_err(|e| EmvCliError::ContactlessPki(e.to_string()))?,
            );
        }
        let cfg = Arc::new(cfg);
        let mut contactless = ContactlessConfig::for_terminal(&cfg);
        for spec in &rest {
            let (tag, v) = parse_set(spec)?;
            if !apply_contactless_set(&tag, &v, &mut contactless)? {
                return Err(unknown_set(&tag));
            }
        }
        contactless.validate()?;
        let reader = ContactlessReader::new(cfg, Arc::new(keys), contactless).with_sm_keys(sm_keys);
        let online = match &a.online_response {
            Some(j) => Some(host_response(j)?),
            None => None,
        };
        let card = match (&a.card, &a.sim, &a.reader) {
            #[cfg(feature = "pcsc")]
            (None, None, Some(name)) => {
                ClCard::Reader(Box::new(smartpos_emv::pcsc::PcscTransport::connect(name)?))
            }
            #[cfg(not(feature = "pcsc"))]
            (None, None, Some(_)) => return Err(Box::new(EmvCliError::NoPcsc)),
            (Some(path), None, None) => {
                let text = std::fs::read_to_string(path).map_err(|e| EmvCliError::Read {
                    path: path.clone(),
                    source: e,
                })?;
                ClCard::Scripted(ScriptedCard::from_json(&text).map_err(EmvCliError::Script)?)
            }
            (None, Some(name), None) => {
                let sim = sims()
                    .into_iter()
                    .find(|s| s.name == name)
                    .ok_or_else(|| EmvCliError::NotContactless(name.clone()))?;
                let profile = (sim.profile)();
                let card_pki = Arc::new(cl_pki(pki, profile.scheme.rid())?);
                ClCard::Virtual(Box::new(
                    VirtualCard::new(profile, card_pki)
                        .map_err(|e| EmvCliError::ContactlessPki(e.to_string()))?,
                ))
            }
            _ => {
                return Err(usage(
                    "one of --card SCRIPT.json, --sim PROFILE or --reader NAME is needed".into(),
                ));
            }
        };
        let atr = hex_upper(card.atr());
        let mut transport = Recorder {
            inner: card,
            script: CardScript {
                atr,
                exchanges: Vec::new(),
            },
            script_error: None,
            recording: record.is_some(),
        };
        // Time is injected (relay resistance, torn-log ageing): a fixed clock makes every tap
        // replay bit for bit.
        let mut readings = Vec::new();
        for r in a.clock.split(',') {
            readings.push(r.trim().parse::<u64>().map_err(|e| {
                usage(format!(
                    "--clock {:?}: microseconds, comma-separated ({e})",
                    a.clock
                ))
            })?);
        }
        let mut clock = ScriptedClock::new(readings);
        let mut torn = TornLog::default();
        let mut env = TapEnv {
            clock: &mut clock,
            torn_log: &mut torn,
        };
        let mut ui = RecordingUi::default();
        let mut result = run_tap(&mut transport, &reader, &params, &mut env, &mut ui);
        let mut online_json = serde_json::Value::Null;
        if result.outcome.kind == OutcomeKind::OnlineRequest
            && let Some(answer) = online
        {
            // "Unable to go online": the reader declines (Book A §6.1.2, Online Request
            // without an answer), as an issuer decline with the terminal's code Z3.
            let host = answer.unwrap_or(HostResponse {
                approved: false,
                arc: "Z3".into(),
                issuer_authentication_data: Vec::new(),
                scripts: Vec::new(),
            });
            online_json = serde_json::json!({ "arc": host.arc, "approved": host.approved });
            result = resume_online(&mut transport, &reader, result, &host, &mut env, &mut ui);
        }
        if let Some(e) = transport.script_error.take() {
            return Err(Box::new(EmvCliError::Script(e)));
        }
        let mut json = result.summary_json();
        if let Some(o) = json.as_object_mut() {
            o.insert("online".into(), online_json);
            o.insert(
                "relay_resistance".into(),
                serde_json::to_value(result.relay_resistance)?,
            );
        }
        // The kernel's trace masks 5A/57/9F6B; a PAN can also travel in clear inside other
        // data (an SM2 ICC certificate 9F46 is not enciphered): mask it wherever it appears.
        let mut pans = card_pans(&transport.script);
        pans.extend(pan_of(&result.data_record));
        mask_pans(&mut json, &pans);
        if let Some(path) = record {
            let text = serde_json::to_string_pretty(&transport.script)?;
            std::fs::write(path, text).map_err(|e| EmvCliError::Write {
                path: path.to_string(),
                source: e,
            })?;
        }
        let messages: Vec<String> = result
            .ui
            .iter()
            .map(|u| format!("{:02X}", u.message_code))
            .collect();
        let text = format!(
            "outcome {}  kernel {}  aid {}  oda {} ({})  TVR {}  CVM {}  ui [{}]",
            result.outcome.kind.book_a_name(),
            result.kernel.map_or("-", |k| k.name()),
            result.aid.as_deref().unwrap_or("-"),
            json["oda"].as_str().unwrap_or(""),
            if result.oda_ok { "ok" } else { "not ok" },
            result.tvr.hex(),
            result.cvm_results,
            messages.join(" ")
        );
        Ok(Report::with_text(json, text))
    }

    /// The PAN (5A) digits of a TLV buffer, without the 'F' padding.
    fn pan_of(tlv: &[u8]) -> Option<String> {
        let pan = smartpos_tlv::find(tlv, smartpos_tlv::Tag(0x5A)).ok()??;
        let digits = hex_upper(pan.value).trim_end_matches('F').to_string();
        (digits.len() >= 12).then_some(digits)
    }

    /// The PANs the card sent in any response of the (unmasked) recorded exchanges.
    fn card_pans(script: &CardScript) -> Vec<String> {
        let mut pans = Vec::new();
        for ex in &script.exchanges {
            let Ok(bytes) = hex::decode(&ex.response) else {
                continue;
            };
            let data = bytes.get(..bytes.len().saturating_sub(2)).unwrap_or(&[]);
            if let Some(p) = pan_of(data)
                && !pans.contains(&p)
            {
                pans.push(p);
            }
        }
        pans
    }

    /// Replace every occurrence of each PAN in the report's strings by its masked form
    /// (first 6 and last 4 digits kept, ARCHITECTURE.md principle 5).
    fn mask_pans(v: &mut serde_json::Value, pans: &[String]) {
        match v {
            serde_json::Value::String(s) => {
                for pan in pans {
                    if s.contains(pan.as_str()) {
                        let keep_back = pan.len().saturating_sub(4);
                        let masked = format!(
                            "{}{}{}",
                            pan.get(..6).unwrap_or(""),
                            "*".repeat(keep_back.saturating_sub(6)),
                            pan.get(keep_back..).unwrap_or("")
                        );
                        *s = s.replace(pan.as_str(), &masked);
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| mask_pans(x, pans)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|x| mask_pans(x, pans)),
            _ => {}
        }
    }
}
