//! `smartpos emv`: run the EMV contact kernel against a scripted card, a virtual card of the
//! simulator or (feature `pcsc`) a PC/SC reader; record a virtual-card transaction as a script;
//! list the virtual cards.
//!
//! `run` prints `{"outcome","aid","kernel","oda","oda_ok","tvr","tsi","cvm_results",
//! "pan_masked","field55","apdus":[{"c","r"}],"ui":[...]}`. Everything the terminal would draw
//! (unpredictable number, date, time) can be fixed with `--un/--date/--time`, and any terminal
//! data object with `--set TAG=HEX`, so a recorded transaction replays exactly.

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
}

/// Errors of `smartpos emv` that are not command-line mistakes.
#[derive(Debug, thiserror::Error)]
pub enum EmvCliError {
    #[error(
        "--interface contactless: not supported yet (the contactless kernels are not wired to this command)"
    )]
    ContactlessNotSupported,
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
            let sims = profiles();
            let text = sims
                .iter()
                .map(|s| {
                    format!(
                        "{:<28} {:<8} {:<11} {:<5} {:<23} expect {}",
                        s.name, s.interface, s.scheme, s.oda, s.cvm, s.expect
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

/// Apply `--set TAG=HEX` to the configuration and parameters.
fn apply_set(
    spec: &str,
    cfg: &mut TerminalConfig,
    p: &mut TransactionParams,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let (tag, value) = spec
        .split_once('=')
        .ok_or_else(|| usage(format!("--set {spec:?}: expected TAG=HEX")))?;
    let v = parse_hex("set", value)?;
    let tag = tag.trim().to_ascii_uppercase();
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
        other => {
            return Err(usage(format!(
                "--set {other}: not a terminal data object this command can set"
            )));
        }
    }
    Ok(())
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

fn run_transaction(a: &RunArgs, record: Option<&str>) -> CliResult {
    if a.interface == "contactless" {
        return Err(Box::new(EmvCliError::ContactlessNotSupported));
    }
    if a.interface != "contact" {
        return Err(usage(format!(
            "--interface {:?}: contact or contactless",
            a.interface
        )));
    }
    let pki = TestPki::shared()?;
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
    for s in &a.set {
        apply_set(s, &mut cfg, &mut params)?;
    }
    cfg.validate()?;
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
