//! The simulated acquirer and issuer: one request in, one response out.

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

    pub(crate) fn ledger(&self) -> Ledger {
        self.ledger.clone()
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
            if let Some(cached) = self.cache.get(&key).cloned() {
                self.ledger.duplicates += 1;
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

    fn rule_for(&self, amount: u64) -> Option<&'static str> {
        let suffix = format!("{:02}", amount % 100);
        self.rules
            .iter()
            .find(|r| r.amount_suffix == suffix)
            .and_then(|r| static_code(&r.response))
    }

    /// The PIN check: `None` when there is no PIN block or the PIN is right, else the response
    /// code (99 when the block cannot be deciphered, 55 wrong PIN, 75 try limit reached).
    fn check_pin(&mut self, req: &Message, tid: &str, pan: &str) -> Option<&'static str> {
        let block = req.binary(52)?;
        match self.pin_key(req, tid) {
            Some(pin_key) => self.compare_pin(&pin_key, block, pan),
            None => Some("99"),
        }
    }

    /// The key the PIN block is under: the DUKPT PIN key of the KSN in field 62 when field 53
    /// says DUKPT (dialect: 53 = 2 6 1...), else the terminal's TPK.
    fn pin_key(&self, req: &Message, tid: &str) -> Option<SecretKey> {
        if req.text(53).is_some_and(|t| t.starts_with("261")) {
            let ksn = smartpos_crypto::dukpt::tdes::Ksn::new(req.binary(62)?).ok()?;
            let bdk = self.bdk.as_ref()?;
            smartpos_crypto::dukpt::tdes::host_session_keys(bdk, &ksn)
                .ok()
                .map(|k| k.pin_key)
        } else {
            Some(self.terminals.get(tid)?.keys.as_ref()?.tpk.clone())
        }
    }

    fn compare_pin(&mut self, key: &SecretKey, block: &[u8], pan: &str) -> Option<&'static str> {
        let limit = self.pin_try_limit;
        let Some(card) = self.cards.get_mut(pan) else {
            return Some("14");
        };
        if card.wrong_pins >= limit {
            return Some("75");
        }
        let Ok(pin) = pin::decrypt(key, PinBlockFormat::Iso0, block, Some(pan)) else {
            return Some("99");
        };
        let expected = card.entry.pin.as_bytes();
        let ok = pin.as_str().len() == expected.len()
            && openssl::memcmp::eq(pin.as_str().as_bytes(), expected);
        if ok {
            card.wrong_pins = 0;
            None
        } else {
            card.wrong_pins += 1;
            Some(if card.wrong_pins >= limit { "75" } else { "55" })
        }
    }

    /// Verify the ARQC of field 55 (EMV Book 2 §8.1.2) with the card's ICC master key derived
    /// from the IMK by option A (Book 2 A1.4.1); the CVN comes from the IAD (9F10).
    fn check_arqc(&self, req: &Message, pan: &str) -> Option<(bool, Option<ArpcContext>)> {
        let f55 = req.binary(55)?;
        let card = self.cards.get(pan)?;
        let tags = icc_tags(f55);
        let get = |t: u32| tags.get(&t).map(Vec::as_slice).unwrap_or(&[]);
        let iad = get(0x9F10);
        let cvn = if card.entry.scheme == "mastercard" {
            match iad.get(1) {
                Some(0x10) => Cvn::Mastercard16,
                Some(0x11) => Cvn::Mastercard17,
                Some(0x14) => Cvn::Mastercard20,
                Some(0x15) => Cvn::Mastercard21,
                _ => return Some((false, None)),
            }
        } else {
            match iad.get(2) {
                Some(0x0A) => Cvn::Visa10,
                Some(0x12) => Cvn::Visa18,
                Some(0x16) => Cvn::Visa22,
                _ => return Some((false, None)),
            }
        };
        let psn_tag = get(0x5F34);
        let psn = match psn_tag.first() {
            Some(b) => format!("{b:02X}"),
            None => card.entry.psn.clone(),
        };
        let Ok(mk) = emv::derive_icc_mk(&card.imk, pan, &psn, MkDerivation::OptionA) else {
            return Some((false, None));
        };
        let data = AcData {
            amount_authorised: get(0x9F02),
            amount_other: get(0x9F03),
            terminal_country_code: get(0x9F1A),
            tvr: get(0x95),
            transaction_currency_code: get(0x5F2A),
            transaction_date: get(0x9A),
            transaction_type: get(0x9C),
            unpredictable_number: get(0x9F37),
            aip: get(0x82),
            atc: get(0x9F36),
            iad,
        };
        let Ok(arqc) = <[u8; 8]>::try_from(get(0x9F26)) else {
            return Some((false, None));
        };
        let Ok(computed) = cvn.generate_ac(&mk, &data) else {
            return Some((false, None));
        };
        if !openssl::memcmp::eq(&computed, &arqc) {
            return Some((false, None));
        }
        let key = cvn.ac_key(&mk, &data).ok()?;
        let method2 = matches!(cvn, Cvn::Visa18 | Cvn::Visa22);
        Some((true, Some(ArpcContext { key, arqc, method2 })))
    }

    fn authorise_card(
        &mut self,
        req: &Message,
        tid: &str,
        amount: u64,
        check_balance: bool,
    ) -> AuthOutcome {
        let mut out = AuthOutcome {
            code: "00",
            pan: None,
            arpc: None,
            arqc_verified: None,
        };
        let Some(pan) = pan_of(req) else {
            out.code = "14";
            return out;
        };
        out.pan = Some(pan.clone());
        if !self.cards.contains_key(&pan) {
            out.code = "14";
            return out;
        }
        if let Some(c) = self.rule_for(amount) {
            out.code = c;
            return out;
        }
        if let Some(c) = self.check_pin(req, tid, &pan) {
            out.code = c;
            return out;
        }
        if let Some((ok, ctx)) = self.check_arqc(req, &pan) {
            out.arqc_verified = Some(ok);
            out.arpc = ctx;
            if !ok {
                out.code = "05";
                return out;
            }
        }
        if check_balance {
            if let Some(b) = self.cards.get(&pan).and_then(|c| c.balance) {
                if amount > b {
                    out.code = "51";
                }
            }
        }
        out
    }

    fn issuer_data(&self, ctx: &ArpcContext, code: &str, pan: &str) -> Option<Vec<u8>> {
        let arc: [u8; 2] = code.as_bytes().try_into().ok()?;
        let mut out = Vec::new();
        if ctx.method2 {
            // CSU (VIS 1.5): byte 2 bit 8 = issuer approves; here 00 80 00 00 / 00 00 00 00.
            let csu = if code == "00" {
                [0x00, 0x80, 0x00, 0x00]
            } else {
                [0u8; 4]
            };
            let arpc = emv::arpc_method2(&ctx.key, &ctx.arqc, &csu, &[]).ok()?;
            let mut v = arpc.to_vec();
            v.extend_from_slice(&csu);
            out.extend(smartpos_tlv::encode(Tag(0x91), &v));
        } else {
            let arpc = emv::arpc_method1(&ctx.key, &ctx.arqc, &arc).ok()?;
            let mut v = arpc.to_vec();
            v.extend_from_slice(&arc);
            out.extend(smartpos_tlv::encode(Tag(0x91), &v));
        }
        if code == "00" {
            if let Some(s) = self
                .cards
                .get(pan)
                .and_then(|c| c.entry.issuer_scripts.as_ref())
                .and_then(|h| hex::decode(h).ok())
            {
                out.extend(s);
            }
        }
        out.push(0x8A);
        out.push(0x02);
        out.extend_from_slice(&arc);
        Some(out)
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

    fn sale(&mut self, req: &Message, tid: &str, kind: TxnKind) -> Option<Message> {
        let amount = req.amount().ok().flatten().unwrap_or(0);
        let out = self.authorise_card(req, tid, amount, true);
        let mut r = self.reply(req, out.code)?;
        let approved = out.code == "00";
        if approved {
            let seq = self.next_seq();
            r.set_auth_code(&format!("{:06}", seq % 1_000_000)).ok()?;
            if kind != TxnKind::PreAuth {
                if let Some(p) = &out.pan {
                    self.adjust_balance(p, amount, 0);
                }
            }
        }
        if let (Some(ctx), Some(pan)) = (&out.arpc, &out.pan) {
            if let Some(d) = self.issuer_data(ctx, out.code, pan) {
                r.set_binary(55, &d).ok()?;
            }
        }
        self.push_entry(
            tid,
            req,
            &r,
            Booking {
                kind,
                amount,
                approved,
                arqc: out.arqc_verified,
            },
        );
        Some(r)
    }

    fn original(&self, tid: &str, req: &Message, kind: TxnKind) -> Option<usize> {
        let stan: u32 = req
            .subfield(profile(), 61, "61.2")
            .ok()
            .flatten()?
            .parse()
            .ok()?;
        self.ledger.entries.iter().rposition(|e| {
            e.terminal_id == tid
                && e.stan == stan
                && e.kind == kind
                && e.approved
                && !e.reversed
                && !e.voided
        })
    }

    fn void(&mut self, req: &Message, tid: &str) -> Option<Message> {
        let amount = req.amount().ok().flatten().unwrap_or(0);
        let found = self.original(tid, req, TxnKind::Sale).filter(|i| {
            self.ledger
                .entries
                .get(*i)
                .is_some_and(|e| Some(e.rrn.as_str()) == req.rrn() && e.amount == amount)
        });
        let Some(i) = found else {
            let r = self.reply(req, "25")?;
            self.push_entry(
                tid,
                req,
                &r,
                Booking {
                    kind: TxnKind::Void,
                    amount,
                    approved: false,
                    arqc: None,
                },
            );
            return Some(r);
        };
        let mut r = self.reply(req, "00")?;
        r.set_auth_code(req.auth_code().unwrap_or("000000")).ok()?;
        if let Some(e) = self.ledger.entries.get_mut(i) {
            e.voided = true;
        }
        if let Some(p) = pan_of(req) {
            self.adjust_balance(&p, 0, amount);
        }
        let v = self.push_entry(
            tid,
            req,
            &r,
            Booking {
                kind: TxnKind::Void,
                amount,
                approved: true,
                arqc: None,
            },
        );
        self.void_of.insert(v, i);
        Some(r)
    }

    fn completion(&mut self, req: &Message, tid: &str) -> Option<Message> {
        let amount = req.amount().ok().flatten().unwrap_or(0);
        let found = self.original(tid, req, TxnKind::PreAuth).filter(|i| {
            self.ledger.entries.get(*i).is_some_and(|e| {
                Some(e.auth_code.as_str()) == req.auth_code()
                    && amount <= e.amount.saturating_mul(115) / 100
            })
        });
        let code = if found.is_none() {
            "25"
        } else {
            let pan = pan_of(req).unwrap_or_default();
            match self.cards.get(&pan).and_then(|c| c.balance) {
                Some(b) if amount > b => "51",
                _ => "00",
            }
        };
        let mut r = self.reply(req, code)?;
        let approved = code == "00";
        if approved {
            r.set_auth_code(req.auth_code().unwrap_or("000000")).ok()?;
            if let Some(p) = pan_of(req) {
                self.adjust_balance(&p, amount, 0);
            }
        }
        self.push_entry(
            tid,
            req,
            &r,
            Booking {
                kind: TxnKind::Completion,
                amount,
                approved,
                arqc: None,
            },
        );
        Some(r)
    }

    fn refund(&mut self, req: &Message, tid: &str) -> Option<Message> {
        let amount = req.amount().ok().flatten().unwrap_or(0);
        let rrn = req.rrn().unwrap_or("");
        let found = self.ledger.entries.iter().position(|e| {
            e.rrn == rrn
                && e.approved
                && !e.reversed
                && !e.voided
                && matches!(e.kind, TxnKind::Sale | TxnKind::Completion | TxnKind::Qr)
        });
        let code = match found.and_then(|i| self.ledger.entries.get(i)) {
            None => "25",
            Some(e) if amount > e.amount => "13",
            Some(_) => "00",
        };
        let r = self.reply(req, code)?;
        let approved = code == "00";
        if approved {
            if let Some(p) = pan_of(req) {
                self.adjust_balance(&p, 0, amount);
            }
        }
        self.push_entry(
            tid,
            req,
            &r,
            Booking {
                kind: TxnKind::Refund,
                amount,
                approved,
                arqc: None,
            },
        );
        Some(r)
    }

    fn balance_inquiry(&mut self, req: &Message, tid: &str) -> Option<Message> {
        let out = self.authorise_card(req, tid, 0, false);
        let balance = out
            .pan
            .as_ref()
            .and_then(|p| self.cards.get(p))
            .and_then(|c| c.balance);
        let code = match (out.code, balance) {
            ("00", None) => "40",
            (c, _) => c,
        };
        let mut r = self.reply(req, code)?;
        if let (Some(b), "00") = (balance, code) {
            r.set_amount(4, b).ok()?;
        }
        Some(r)
    }

    fn advice(&mut self, req: &Message, tid: &str) -> Option<Message> {
        self.ledger.advice_requests += 1;
        let amount = req.amount().ok().flatten().unwrap_or(0);
        let pan = pan_of(req).unwrap_or_default();
        let verified = self.check_arqc(req, &pan).map(|(ok, _)| ok);
        let r = self.reply(req, "00")?;
        self.adjust_balance(&pan, amount, 0);
        self.push_entry(
            tid,
            req,
            &r,
            Booking {
                kind: TxnKind::Offline,
                amount,
                approved: true,
                arqc: verified,
            },
        );
        Some(r)
    }

    fn qr_pay(&mut self, req: &Message, tid: &str) -> Option<Message> {
        let amount = req.amount().ok().flatten().unwrap_or(0);
        let code_text = req.text(63).and_then(|t| t.get(3..)).unwrap_or("");
        let code = if code_text.is_empty() {
            "14"
        } else if let Some(c) = self.rule_for(amount) {
            c
        } else if self.qr_polls == 0 {
            "00"
        } else {
            "09"
        };
        let r = self.reply(req, code)?;
        let approved = code == "00";
        let i = self.push_entry(
            tid,
            req,
            &r,
            Booking {
                kind: TxnKind::Qr,
                amount,
                approved,
                arqc: None,
            },
        );
        if code == "00" || code == "09" {
            let rrn = r.rrn().unwrap_or("").to_string();
            self.qr_orders.insert(
                rrn,
                QrOrder {
                    polls_left: self.qr_polls,
                    state: if approved {
                        QrState::Paid
                    } else {
                        QrState::Pending
                    },
                    entry: i,
                },
            );
        }
        Some(r)
    }

    fn qr_follow_up(&mut self, req: &Message, revoke: bool) -> Option<Message> {
        let rrn = req.rrn().unwrap_or("").to_string();
        let code = match self.qr_orders.get_mut(&rrn) {
            None => "25",
            Some(o) if revoke => {
                if o.state == QrState::Paid {
                    if let Some(e) = self.ledger.entries.get_mut(o.entry) {
                        e.voided = true;
                    }
                }
                o.state = QrState::Revoked;
                "00"
            }
            Some(o) => match o.state {
                QrState::Revoked => "12",
                QrState::Paid => "00",
                QrState::Pending => {
                    o.polls_left = o.polls_left.saturating_sub(1);
                    if o.polls_left == 0 {
                        o.state = QrState::Paid;
                        if let Some(e) = self.ledger.entries.get_mut(o.entry) {
                            e.approved = true;
                            e.response_code = "00".into();
                        }
                        "00"
                    } else {
                        "09"
                    }
                }
            },
        };
        let mut r = self.reply(req, code)?;
        r.set_rrn(&rrn).ok()?;
        Some(r)
    }

    fn reversal(&mut self, req: &Message, tid: &str) -> Option<Message> {
        let stan = stan_of(req)?;
        let idx = self
            .ledger
            .entries
            .iter()
            .rposition(|e| e.terminal_id == tid && e.stan == stan);
        let Some(i) = idx else {
            return self.reply(req, "25");
        };
        let (apply, kind, amount, rrn) = {
            let e = self.ledger.entries.get_mut(i)?;
            e.reversal_requests += 1;
            let apply = e.approved && !e.reversed;
            if apply {
                e.reversed = true;
            }
            (apply, e.kind, e.amount, e.rrn.clone())
        };
        if apply {
            self.ledger.reversals_applied += 1;
            let pan = pan_of(req).unwrap_or_default();
            match kind {
                TxnKind::Sale | TxnKind::Completion | TxnKind::Offline => {
                    self.adjust_balance(&pan, 0, amount)
                }
                TxnKind::Void => {
                    if let Some(orig) = self.void_of.get(&i).copied() {
                        if let Some(o) = self.ledger.entries.get_mut(orig) {
                            o.voided = false;
                        }
                        self.adjust_balance(&pan, amount, 0);
                    }
                }
                TxnKind::Qr => {
                    if let Some(o) = self.qr_orders.get_mut(&rrn) {
                        o.state = QrState::Revoked;
                    }
                }
                _ => {}
            }
        }
        self.reply(req, "00")
    }

    fn upload(&mut self, req: &Message, tid: &str) -> Option<Message> {
        self.ledger.uploads += 1;
        let orig: Option<u32> = req
            .subfield(profile(), 61, "61.2")
            .ok()
            .flatten()
            .and_then(|s| s.parse().ok());
        let known = orig.is_some_and(|s| {
            self.ledger
                .entries
                .iter()
                .any(|e| e.terminal_id == tid && e.stan == s && e.counts())
        });
        let r = self.reply(req, "00")?;
        if !known {
            let amount = req.amount().ok().flatten().unwrap_or(0);
            let credit = req.processing_code().is_some_and(|p| p.starts_with("20"));
            let i = self.push_entry(
                tid,
                req,
                &r,
                Booking {
                    kind: TxnKind::Uploaded,
                    amount,
                    approved: true,
                    arqc: None,
                },
            );
            if let Some(e) = self.ledger.entries.get_mut(i) {
                e.stan = orig.unwrap_or(0);
                e.credit = credit;
                e.rrn = req.rrn().unwrap_or("").to_string();
            }
        }
        Some(r)
    }

    fn totals(&self, tid: &str) -> BatchTotals {
        let mut t = BatchTotals::default();
        for e in self
            .ledger
            .entries
            .iter()
            .filter(|e| e.terminal_id == tid && e.counts())
        {
            if e.credit {
                t.credit_count += 1;
                t.credit_amount += e.amount;
            } else {
                t.debit_count += 1;
                t.debit_amount += e.amount;
            }
        }
        t
    }

    fn settlement(&mut self, req: &Message, tid: &str) -> Option<Message> {
        let theirs = req.text(48).and_then(BatchTotals::from_field48);
        let ours = self.totals(tid);
        let code = match theirs {
            None => "30",
            Some(t) if t == ours => "00",
            Some(_) => "95",
        };
        if code == "00" {
            for e in self
                .ledger
                .entries
                .iter_mut()
                .filter(|e| e.terminal_id == tid)
            {
                if e.counts() {
                    e.settled = true;
                }
            }
            if let Some(t) = self.terminals.get_mut(tid) {
                t.batch = t.batch.saturating_add(1);
            }
        }
        self.ledger.settlements.push(SettlementRecord {
            terminal_id: tid.to_string(),
            network_code: req
                .subfield(profile(), 60, "60.3")
                .ok()
                .flatten()
                .unwrap_or("")
                .to_string(),
            response_code: code.to_string(),
        });
        let mut r = self.reply(req, code)?;
        if let Some(f) = ours.to_field48() {
            r.set_text(48, &f).ok()?;
        }
        Some(r)
    }
}

/// Configured response codes as static strings (unknown ones become 05).
fn static_code(code: &str) -> Option<&'static str> {
    const CODES: [&str; 24] = [
        "00", "01", "03", "04", "05", "12", "13", "14", "15", "22", "25", "30", "33", "40", "41",
        "43", "51", "54", "55", "57", "61", "91", "94", "96",
    ];
    CODES.iter().find(|c| **c == code).copied().or(Some("05"))
}
