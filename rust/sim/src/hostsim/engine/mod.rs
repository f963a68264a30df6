//! The simulated acquirer and issuer: one request in, one response out.
//!
//! Sub-modules by protocol part: `issuer` (amount rules, PIN, ARQC/ARPC), `financial`
//! (sale, pre-auth, completion, void, refund, balance, advice, reversal), `qr` (wallet orders)
//! and `settlement` (0500 totals and 0320 batch upload).

mod financial;
mod issuer;
mod qr;
mod settlement;

pub use qr::WalletPayError;

use super::config::{AmountRule, CardEntry, HostSimConfig, TerminalEntry};
use super::ledger::{Ledger, LedgerEntry, SettlementRecord, TxnKind};
use smartpos_crypto::emv::{self, AcData, Cvn, MkDerivation};
use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_crypto::keyhier::{self, HierarchyAlgorithm};
use smartpos_crypto::pin::{self, PinBlockFormat};
use smartpos_host::dialect::{self, BatchTotals, msg_type, network};
use smartpos_host::mac::{self as hmac, MacAlgorithm};
use smartpos_iso8583::{Message, Mti, Profile, mask};
use smartpos_tlv::{Tag, TlvReader};
use std::collections::HashMap;

/// Why the simulator could not load its configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A key in the config is not valid hex of the right length.
    #[error("{what}: {reason}")]
    BadKey { what: String, reason: String },
    /// An unknown algorithm or MAC name.
    #[error("{what}: unknown value {value:?}")]
    UnknownValue { what: &'static str, value: String },
}

struct WorkKeys {
    tpk: SecretKey,
    tak: SecretKey,
}

struct Term {
    entry: TerminalEntry,
    tmk: SecretKey,
    algorithm: HierarchyAlgorithm,
    mac: MacAlgorithm,
    keys: Option<WorkKeys>,
    batch: u32,
}

struct Card {
    entry: CardEntry,
    imk: SecretKey,
    wrong_pins: u32,
    balance: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QrState {
    Pending,
    Paid,
    Revoked,
}

struct QrOrder {
    polls_left: u32,
    state: QrState,
    entry: usize,
}

/// What one request books in the ledger.
struct Booking {
    kind: TxnKind,
    amount: u64,
    approved: bool,
    arqc: Option<bool>,
}

struct ArpcContext {
    key: SecretKey,
    arqc: [u8; 8],
    method2: bool,
    script_session: Option<crate::card::script::ScriptSession>,
}

struct AuthOutcome {
    code: &'static str,
    pan: Option<String>,
    arpc: Option<ArpcContext>,
    arqc_verified: Option<bool>,
}

/// The host's state.
pub(crate) struct Engine {
    terminals: HashMap<String, Term>,
    cards: HashMap<String, Card>,
    rules: Vec<AmountRule>,
    qr_polls: u32,
    pin_try_limit: u32,
    bdk: Option<SecretKey>,
    cache: HashMap<(String, Mti, u32), Message>,
    ledger: Ledger,
    qr_orders: HashMap<String, QrOrder>,
    void_of: HashMap<usize, usize>,
    seq: u64,
}

fn key_from_hex(
    what: &str,
    hex_text: &str,
    alg: Option<KeyAlgorithm>,
) -> Result<SecretKey, ConfigError> {
    let bytes = hex::decode(hex_text).map_err(|e| ConfigError::BadKey {
        what: what.to_string(),
        reason: e.to_string(),
    })?;
    let r = match alg {
        Some(a) => SecretKey::new(a, &bytes),
        None => SecretKey::tdes(&bytes),
    };
    r.map_err(|e| ConfigError::BadKey {
        what: what.to_string(),
        reason: e.to_string(),
    })
}

fn profile() -> &'static Profile {
    Profile::cups_pos()
}

fn random_key(alg: HierarchyAlgorithm) -> Option<SecretKey> {
    let mut b = [0u8; 16];
    openssl::rand::rand_bytes(&mut b).ok()?;
    match alg {
        HierarchyAlgorithm::Tdes => SecretKey::tdes(&b).ok().map(|k| k.with_odd_parity()),
        HierarchyAlgorithm::Sm4 => SecretKey::sm4(&b).ok(),
    }
}

fn stan_of(m: &Message) -> Option<u32> {
    m.stan().ok().flatten().and_then(|s| u32::try_from(s).ok())
}

fn pan_of(m: &Message) -> Option<String> {
    if let Some(p) = m.pan() {
        return Some(p.to_string());
    }
    m.text(35)
        .and_then(|t| t.split('=').next())
        .map(str::to_string)
}

/// Top-level tags of field 55 (malformed data ends the walk; missing tags fail the ARQC check).
fn icc_tags(f55: &[u8]) -> HashMap<u32, Vec<u8>> {
    let mut map = HashMap::new();
    for tlv in TlvReader::new(f55) {
        match tlv {
            Ok(t) => {
                map.insert(t.tag.0, t.value.to_vec());
            }
            Err(_) => break,
        }
    }
    map
}

impl Engine {
    pub(crate) fn new(config: &HostSimConfig) -> Result<Engine, ConfigError> {
        let mut terminals = HashMap::new();
        for t in &config.terminals {
            let algorithm = match t.algorithm.as_str() {
                "tdes" => HierarchyAlgorithm::Tdes,
                "sm4" => HierarchyAlgorithm::Sm4,
                other => {
                    return Err(ConfigError::UnknownValue {
                        what: "terminal algorithm",
                        value: other.to_string(),
                    });
                }
            };
            let mac = match t.mac.as_str() {
                "cup-ecb" => MacAlgorithm::CupEcb,
                "x919" => MacAlgorithm::X919,
                "sm4-cbc" => MacAlgorithm::Sm4Cbc,
                other => {
                    return Err(ConfigError::UnknownValue {
                        what: "terminal mac",
                        value: other.to_string(),
                    });
                }
            };
            let tmk_alg = match algorithm {
                HierarchyAlgorithm::Sm4 => Some(KeyAlgorithm::Sm4),
                HierarchyAlgorithm::Tdes => None,
            };
            let tmk = key_from_hex(&format!("TMK of {}", t.terminal_id), &t.tmk, tmk_alg)?;
            terminals.insert(
                t.terminal_id.clone(),
                Term {
                    entry: t.clone(),
                    tmk,
                    algorithm,
                    mac,
                    keys: None,
                    batch: 1,
                },
            );
        }
        let mut cards = HashMap::new();
        for c in &config.cards {
            let imk = key_from_hex(
                &format!("IMK of {}", mask::mask_pan(&c.pan)),
                &c.imk,
                Some(KeyAlgorithm::Tdes2),
            )?;
            cards.insert(
                c.pan.clone(),
                Card {
                    entry: c.clone(),
                    imk,
                    wrong_pins: 0,
                    balance: c.balance,
                },
            );
        }
        let bdk = match &config.dukpt_bdk {
            Some(h) => Some(key_from_hex("DUKPT BDK", h, None)?),
            None => None,
        };
        Ok(Engine {
            terminals,
            cards,
            rules: config.rules.clone(),
            qr_polls: config.qr_polls_until_paid,
            pin_try_limit: config.pin_try_limit.max(1),
            bdk,
            cache: HashMap::new(),
            ledger: Ledger::default(),
            qr_orders: HashMap::new(),
            void_of: HashMap::new(),
            seq: 0,
        })
    }

    /// A snapshot of the ledger; [`Ledger::value_added`] is filled from the entries.
    pub(crate) fn ledger(&self) -> Ledger {
        let mut ledger = self.ledger.clone();
        ledger.value_added = ledger
            .entries
            .iter()
            .filter_map(|e| e.value_added.clone())
            .collect();
        ledger
    }

    pub(crate) fn balance(&self, pan: &str) -> Option<u64> {
        self.cards.get(pan).and_then(|c| c.balance)
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Answer one request; `None` when it cannot be answered at all (no MTI response type, no
    /// terminal ID or STAN).
    pub(crate) fn handle(&mut self, req: &Message, bad_kcv: bool) -> Option<Message> {
        self.ledger.requests += 1;
        let tid = req.terminal_id()?.to_string();
        let stan = stan_of(req)?;
        req.mti().response()?;
        let key = (tid.clone(), req.mti(), stan);
        let network_class = req.mti().class() == 8;
        if !network_class {
            if let Some(mut cached) = self.cache.get(&key).cloned() {
                self.ledger.duplicates += 1;
                // A repeat (0220 advice, 0400 reversal, a retried request) gets the first answer,
                // MACed under the terminal's current keys: it may have signed on again since.
                self.sign(&tid, &mut cached);
                match req.mti().as_str() {
                    "0400" => {
                        if let Some(e) = self.latest_mut(&tid, stan) {
                            e.reversal_requests += 1;
                        }
                    }
                    "0220"
                        if req.subfield(profile(), 60, "60.1").ok().flatten()
                            == Some(msg_type::OFFLINE) =>
                    {
                        self.ledger.advice_requests += 1;
                    }
                    _ => {}
                }
                return Some(cached);
            }
        }
        let resp = self.process(req, &tid, bad_kcv)?;
        if !network_class {
            self.cache.insert(key, resp.clone());
        }
        Some(resp)
    }

    fn latest_mut(&mut self, tid: &str, stan: u32) -> Option<&mut LedgerEntry> {
        self.ledger
            .entries
            .iter_mut()
            .rev()
            .find(|e| e.terminal_id == tid && e.stan == stan)
    }

    fn reply(&mut self, req: &Message, code: &str) -> Option<Message> {
        let mut r = req.respond(&[2, 3, 4, 11, 25, 41, 42, 49, 60]).ok()?;
        let seq = self.next_seq();
        r.set_text(12, "120000").ok()?;
        r.set_text(13, "1121").ok()?;
        r.set_rrn(&format!("{:012}", 300_000_000_000u64 + seq))
            .ok()?;
        r.set_response_code(code).ok()?;
        Some(r)
    }

    fn sign(&self, tid: &str, resp: &mut Message) {
        if let Some(t) = self.terminals.get(tid) {
            if let Some(k) = &t.keys {
                if hmac::sign(profile(), t.mac, &k.tak, resp).is_err() {
                    resp.remove(64);
                }
            }
        }
    }

    fn process(&mut self, req: &Message, tid: &str, bad_kcv: bool) -> Option<Message> {
        let Some(term) = self.terminals.get(tid) else {
            return self.reply(req, "97");
        };
        if req.merchant_id() != Some(term.entry.merchant_id.as_str()) {
            return self.reply(req, "03");
        }
        match req.mti().as_str() {
            "0800" => return self.sign_on(req, tid, bad_kcv),
            "0820" => return self.reply(req, "00"),
            _ => {}
        }
        let Some(keys) = &term.keys else {
            return self.reply(req, "A0");
        };
        if hmac::verify(profile(), term.mac, &keys.tak, req).is_err() {
            self.ledger.mac_failures += 1;
            let mut r = self.reply(req, "A0")?;
            self.sign(tid, &mut r);
            return Some(r);
        }
        let pc = req.processing_code().unwrap_or("");
        let mt = req
            .subfield(profile(), 60, "60.1")
            .ok()
            .flatten()
            .unwrap_or("")
            .to_string();
        let is_qr = |m: &Message, marker: &str| m.text(63).is_some_and(|t| t.starts_with(marker));
        let mut r = match (req.mti().as_str(), pc) {
            ("0200", dialect::PC_PURCHASE) if is_qr(req, dialect::qr::PAY) => self.qr_pay(req, tid),
            ("0200", dialect::PC_PURCHASE) if mt == msg_type::COMPLETION => {
                self.completion(req, tid)
            }
            ("0200", dialect::PC_PURCHASE) => self.sale(req, tid, TxnKind::Sale),
            ("0100", dialect::PC_PREAUTH) => self.sale(req, tid, TxnKind::PreAuth),
            ("0200", dialect::PC_VOID) => self.void(req, tid),
            ("0200", dialect::PC_BALANCE) => self.balance_inquiry(req, tid),
            ("0200", dialect::PC_QR_ORDER) if is_qr(req, dialect::qr::ORDER) => {
                self.qr_order(req, tid)
            }
            ("0200", dialect::PC_QR_QUERY) => self.qr_follow_up(req, false),
            ("0200", dialect::PC_QR_REVOKE) => self.qr_follow_up(req, true),
            ("0220", _) if mt == msg_type::REFUND => self.refund(req, tid),
            ("0220", _) if mt == msg_type::OFFLINE => self.advice(req, tid),
            ("0400", _) => self.reversal(req, tid),
            ("0320", _) => self.upload(req, tid),
            ("0500", _) => self.settlement(req, tid),
            _ => self.reply(req, "40"),
        }?;
        self.sign(tid, &mut r);
        Some(r)
    }

    fn sign_on(&mut self, req: &Message, tid: &str, bad_kcv: bool) -> Option<Message> {
        let code = req
            .subfield(profile(), 60, "60.3")
            .ok()
            .flatten()
            .unwrap_or("")
            .to_string();
        let term = self.terminals.get(tid)?;
        let (alg, with_data) = match code.as_str() {
            network::SIGN_ON_TDES => (HierarchyAlgorithm::Tdes, false),
            network::SIGN_ON_TDES_DATA => (HierarchyAlgorithm::Tdes, true),
            network::SIGN_ON_SM4 => (HierarchyAlgorithm::Sm4, true),
            _ => return self.reply(req, "12"),
        };
        if alg != term.algorithm {
            return self.reply(req, "12");
        }
        let tpk = random_key(alg)?;
        let tak = random_key(alg)?;
        let tdk = random_key(alg)?;
        let mut f62 = Vec::with_capacity(60);
        let mut keys = vec![&tpk, &tak];
        if with_data {
            keys.push(&tdk);
        }
        for (i, k) in keys.into_iter().enumerate() {
            let (enc, mut kcv) = keyhier::encipher_working_key(&term.tmk, k).ok()?;
            if bad_kcv && i == 1 {
                if let Some(b) = kcv.first_mut() {
                    *b ^= 0xFF;
                }
            }
            f62.extend_from_slice(&enc);
            f62.extend_from_slice(&kcv);
        }
        let batch = term.batch;
        if let Some(t) = self.terminals.get_mut(tid) {
            t.keys = Some(WorkKeys { tpk, tak });
        }
        self.ledger.sign_ons += 1;
        let mut r = self.reply(req, "00")?;
        r.set_text(60, &format!("00{batch:06}{code}")).ok()?;
        r.set_binary(62, &f62).ok()?;
        Some(r)
    }

    fn push_entry(&mut self, tid: &str, req: &Message, resp: &Message, b: Booking) -> usize {
        let Booking {
            kind,
            amount,
            approved,
            arqc,
        } = b;
        self.ledger.entries.push(LedgerEntry {
            terminal_id: tid.to_string(),
            stan: stan_of(req).unwrap_or(0),
            rrn: resp.rrn().unwrap_or("").to_string(),
            auth_code: resp.auth_code().unwrap_or("").to_string(),
            kind,
            amount,
            masked_pan: pan_of(req).map(|p| mask::mask_pan(&p)).unwrap_or_default(),
            response_code: resp.response_code().unwrap_or("").to_string(),
            approved,
            arqc_verified: arqc,
            reversed: false,
            reversal_requests: 0,
            voided: false,
            credit: kind == TxnKind::Refund,
            settled: false,
            value_added: None,
        });
        self.ledger.entries.len() - 1
    }

    fn adjust_balance(&mut self, pan: &str, debit: u64, credit: u64) {
        if let Some(c) = self.cards.get_mut(pan) {
            if let Some(b) = c.balance.as_mut() {
                *b = b.saturating_sub(debit).saturating_add(credit);
            }
        }
    }
}
