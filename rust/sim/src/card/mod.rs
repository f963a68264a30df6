//! Virtual contact cards: a stateful EMV application behind the kernel's
//! [`CardTransport`], answering real APDUs (EMV Book 1 §11-§12, Book 3 §6.5 commands).
//!
//! * SELECT of the PSE (`1PAY.SYS.DDF01`) and of the AID (Book 1 §11.3, §12.2-12.3), READ
//!   RECORD of the PSE directory and of the AFL records (Book 3 §6.5.11);
//! * GET PROCESSING OPTIONS with the PDOL data (§6.5.8): ATC incremented;
//! * GET DATA of 9F17, 9F36, 9F13, 9F4F (§6.5.7);
//! * INTERNAL AUTHENTICATE (§6.5.9, Book 2 §6.5): SDAD over the DDOL data with the ICC key;
//! * GET CHALLENGE and VERIFY, plaintext (P2 80) and enciphered (P2 88, Book 2 §7.2) PIN with
//!   the PIN Try Counter (blocked at 0: 6983);
//! * GENERATE AC with CDOL1/CDOL2 (§6.5.5, card risk management): AAC/TC/ARQC under the ICC MK
//!   derived from the scheme's issuer master key, CDA signature (Book 2 §6.6) when requested;
//! * EXTERNAL AUTHENTICATE (§6.5.4): the ARPC (method 1) checked; for M/Chip the ARPC comes in
//!   CDOL2 tag 91;
//! * issuer script commands (CLA 84: APPLICATION BLOCK/UNBLOCK, PIN CHANGE/UNBLOCK, PUT DATA,
//!   UPDATE RECORD, CARD BLOCK) executed and counted only when their MAC verifies (Book 2 §9.2.1,
//!   see [`script`]); a bad MAC is answered 6988 and the command is not executed.

pub mod fault;
pub mod issuer;
pub mod profile;
pub mod scheme;
pub mod script;
pub mod vpcd;

pub use fault::Fault;
pub use profile::{CardProfile, CardRisk, CvmKind, Oda, ProfileInfo, Scheme, profiles};

use crate::pki::{IssuerCertFields, PkiError, REVOKED_SERIAL, SchemePki, TestPki};
use smartpos_crypto::emv::{AcData, MkDerivation, arpc_method1, derive_icc_mk};
use smartpos_crypto::key::SecretKey;
use smartpos_crypto::rsa::RsaPrivateKey;
use smartpos_crypto::rsa::sign::{
    cda_dynamic_data, dda_dynamic_data, sign_dynamic_data, sign_static_data,
};
use smartpos_emv::{Apdu, CardTransport, Response, TransportError};
use smartpos_tlv::dol::Dol;
use smartpos_tlv::{Tag, TlvBuilder, encode};
use zeroize::Zeroizing;

/// Errors building a virtual card.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error("no virtual card profile named {0:?} (see `smartpos emv sims`)")]
    UnknownProfile(String),
    #[error("test PKI: {0}")]
    Pki(#[from] PkiError),
    #[error("profile {field}: {reason}")]
    Profile { field: &'static str, reason: String },
    #[error("card cryptography: {0}")]
    Crypto(String),
    #[error("{0}")]
    Script(#[from] script::ScriptError),
}

fn crypto<E: std::fmt::Display>(e: E) -> CardError {
    CardError::Crypto(e.to_string())
}

/// PAN digits as BCD, 'F' padded to whole bytes (tag 5A).
pub fn pan_bcd(pan: &str) -> Result<Vec<u8>, CardError> {
    if pan.is_empty() || pan.len() > 19 || !pan.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CardError::Profile {
            field: "pan",
            reason: "1-19 digits expected".into(),
        });
    }
    let mut s = pan.to_string();
    if s.len() % 2 == 1 {
        s.push('F');
    }
    hex::decode(&s).map_err(|e| CardError::Profile {
        field: "pan",
        reason: e.to_string(),
    })
}

/// ISO 9564 format 2 PIN block (the offline PIN block of Book 3 §6.5.12).
fn pin_block(pin: &str) -> Zeroizing<Vec<u8>> {
    let mut s = Zeroizing::new(format!("2{:X}{}", pin.len().min(15), pin));
    while s.len() < 16 {
        s.push('F');
    }
    Zeroizing::new(hex::decode(s.as_bytes()).unwrap_or_default())
}

/// Which file is selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Selected {
    None,
    Pse,
    Application,
}

/// Issuer authentication state of the current transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssuerAuth {
    NotPerformed,
    Passed,
    Failed,
}

/// Offline PIN state of the current transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PinState {
    NotTried,
    Verified,
    Failed,
}

/// A virtual contact card.
pub struct VirtualCard {
    profile: CardProfile,
    keys: &'static SchemePki,
    pin_key: &'static RsaPrivateKey,
    icc_mk: SecretKey,
    pan: Vec<u8>,
    aip: [u8; 2],
    afl: Vec<u8>,
    records: Vec<(u8, u8, Vec<u8>)>,
    atr: Vec<u8>,
    // persistent card state
    atc: u16,
    last_online_atc: u16,
    pin_tries: u8,
    blocked: bool,
    scripts_executed: u32,
    exchanges: usize,
    challenges: u32,
    // per-transaction state
    selected: Selected,
    pdol_data: Vec<u8>,
    cdol1_data: Option<Vec<u8>>,
    first_ac: Option<(u8, [u8; 8])>,
    arqc_key: Option<SecretKey>,
    challenge: Option<[u8; 8]>,
    pin_state: PinState,
    issuer_auth: IssuerAuth,
    second_ac_done: bool,
}

impl std::fmt::Debug for VirtualCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtualCard")
            .field("profile", &self.profile.name)
            .field("atc", &self.atc)
            .field("pin_tries", &self.pin_tries)
            .field("blocked", &self.blocked)
            .finish_non_exhaustive()
    }
}

/// A response with data and SW 9000 (shared by the contact and contactless virtual cards).
pub(crate) fn ok(data: Vec<u8>) -> Response {
    Response {
        data,
        sw1: 0x90,
        sw2: 0x00,
    }
}
/// A response with no data and status word `sw`.
pub(crate) fn sw(sw: u16) -> Response {
    let [sw1, sw2] = sw.to_be_bytes();
    Response {
        data: Vec::new(),
        sw1,
        sw2,
    }
}

fn template(objs: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut b = TlvBuilder::new();
    for (t, v) in objs {
        b.push(Tag(*t), v);
    }
    b.finish()
}

impl VirtualCard {
    /// The virtual card of a built-in profile (see [`profiles`]).
    pub fn from_profile(name: &str) -> Result<VirtualCard, CardError> {
        let p = profile::by_name(name).ok_or_else(|| CardError::UnknownProfile(name.into()))?;
        VirtualCard::new(p)
    }

    /// Personalise a card: records, certificates (signed with the shared test PKI), keys.
    pub fn new(profile: CardProfile) -> Result<VirtualCard, CardError> {
        let pki = TestPki::shared()?;
        let scheme = profile.scheme;
        let keys = pki.scheme(&scheme.rid()).ok_or(CardError::Profile {
            field: "scheme",
            reason: "no test PKI for this RID".into(),
        })?;
        let pan_digits = scheme.pan();
        let pan = pan_bcd(pan_digits)?;
        let imk = SecretKey::from_hex(smartpos_crypto::key::KeyAlgorithm::Tdes2, scheme.imk_hex())
            .map_err(crypto)?;
        let icc_mk = derive_icc_mk(
            &imk,
            pan_digits,
            &format!("{:02}", scheme.psn()),
            MkDerivation::OptionA,
        )
        .map_err(crypto)?;
        let aip = profile.aip();
        let f = |x: Fault| profile.has(&x);

        // SFI 1 record 1: the data signed for ODA (Book 3 §10.3).
        let mut r1: Vec<(u32, Vec<u8>)> = vec![
            (0x5A, pan.clone()),
            (0x5F24, profile.expiry.to_vec()),
            (0x5F25, profile.effective.to_vec()),
            (0x5F28, vec![0x01, 0x56]),
            (0x5F34, vec![scheme.psn()]),
            (0x9F07, profile.auc.to_vec()),
            (0x9F08, vec![0x00, 0x8C]),
            (0x8E, profile.cvm.cvm_list()),
            (0x9F0D, profile.iac_default.to_vec()),
            (0x9F0E, profile.iac_denial.to_vec()),
            (0x9F0F, profile.iac_online.to_vec()),
            (0x8C, scheme.cdol1()),
            (0x8D, scheme.cdol2()),
            (0x9F42, vec![0x01, 0x56]),
        ];
        if profile.oda != Oda::None {
            r1.push((0x9F4A, vec![0x82]));
        }
        let r1_value = template(&r1);
        // SFI 1 record 2: track 2 equivalent data and name (not signed).
        let mut t2 = format!(
            "{pan_digits}D{:02X}{:02X}2010000000000000",
            profile.expiry[0], profile.expiry[1]
        );
        if t2.len() % 2 == 1 {
            t2.push('F');
        }
        let mut r2: Vec<(u32, Vec<u8>)> = vec![
            (0x57, hex::decode(&t2).map_err(crypto)?),
            (0x5F20, b"SIM/CARDHOLDER".to_vec()),
        ];
        if f(Fault::DuplicateTag) {
            r2.push((0x5F24, profile.expiry.to_vec()));
        }
        let mut static_data = r1_value.clone();
        if profile.oda != Oda::None {
            static_data.extend_from_slice(&aip);
        }
        // SFI 2: certificates (one large object per record: a record fits a short APDU).
        let mut sfi2: Vec<Vec<(u32, Vec<u8>)>> = Vec::new();
        if profile.oda != Oda::None {
            let mut fields = IssuerCertFields::default();
            if f(Fault::ExpiredIssuerCertificate) {
                fields.expiry_mmyy = [0x01, 0x24];
            }
            if f(Fault::RevokedIssuerCertificate) {
                fields.serial = REVOKED_SERIAL;
            }
            let ic = keys.issuer_certificate(&pan, fields)?;
            let mut cert = ic.certificate;
            if f(Fault::BadIssuerCertificate) {
                if let Some(b) = cert.get_mut(20) {
                    *b ^= 0x5A;
                }
            }
            let mut rec = vec![(0x8F, vec![keys.ca_index]), (0x90, cert)];
            if !ic.remainder.is_empty() {
                rec.push((0x92, ic.remainder));
            }
            rec.push((0x9F32, ic.exponent));
            sfi2.push(rec);
            if profile.oda == Oda::Sda {
                let ssad =
                    sign_static_data(&keys.issuer, [0xDA, 0xC1], &static_data).map_err(crypto)?;
                sfi2.push(vec![(0x93, ssad)]);
            } else {
                let cc =
                    keys.icc_certificate(&pan, [0x12, 0x29], [0x00, 0x20, 0x01], &static_data)?;
                let mut rec = vec![(0x9F46, cc.certificate), (0x9F47, cc.exponent)];
                if !cc.remainder.is_empty() {
                    rec.push((0x9F48, cc.remainder));
                }
                rec.push((0x9F49, vec![0x9F, 0x37, 0x04]));
                sfi2.push(rec);
            }
        }
        if profile.pin_key {
            let pc = keys.pin_key_certificate(&pki.pin_key, &pan, [0x12, 0x29])?;
            let mut rec = vec![(0x9F2D, pc.certificate), (0x9F2E, pc.exponent)];
            if !pc.remainder.is_empty() {
                rec.push((0x9F2F, pc.remainder));
            }
            sfi2.push(rec);
        }
        let mut records = vec![
            (1u8, 1u8, encode(Tag(0x70), &r1_value)),
            (1, 2, encode(Tag(0x70), &template(&r2))),
        ];
        let mut afl = vec![0x08, 0x01, 0x01, 0x01, 0x08, 0x02, 0x02, 0x00];
        if !sfi2.is_empty() {
            for (i, rec) in sfi2.iter().enumerate() {
                records.push((2, (i + 1) as u8, encode(Tag(0x70), &template(rec))));
            }
            afl.extend_from_slice(&[0x10, 0x01, sfi2.len() as u8, 0x00]);
        }
        let pin_tries = if f(Fault::PinTriesExhausted) {
            0
        } else {
            profile.pin_try_limit
        };
        Ok(VirtualCard {
            atc: profile.atc,
            last_online_atc: profile.last_online_atc,
            blocked: f(Fault::ApplicationBlocked),
            profile,
            keys,
            pin_key: &pki.pin_key,
            icc_mk,
            pan,
            aip,
            afl,
            records,
            atr: vec![0x3B, 0x65, 0x00, 0x00, 0x20, 0x63, 0xCB, 0x6A, 0x00],
            pin_tries,
            scripts_executed: 0,
            exchanges: 0,
            challenges: 0,
            selected: Selected::None,
            pdol_data: Vec::new(),
            cdol1_data: None,
            first_ac: None,
            arqc_key: None,
            challenge: None,
            pin_state: PinState::NotTried,
            issuer_auth: IssuerAuth::NotPerformed,
            second_ac_done: false,
        })
    }

    pub fn profile(&self) -> &CardProfile {
        &self.profile
    }
    /// Application Transaction Counter.
    pub fn atc(&self) -> u16 {
        self.atc
    }
    /// Last Online ATC Register.
    pub fn last_online_atc(&self) -> u16 {
        self.last_online_atc
    }
    /// PIN Try Counter.
    pub fn pin_tries(&self) -> u8 {
        self.pin_tries
    }
    /// Application blocked (fault or APPLICATION BLOCK script).
    pub fn is_blocked(&self) -> bool {
        self.blocked
    }
    /// Issuer script commands accepted so far.
    pub fn scripts_executed(&self) -> u32 {
        self.scripts_executed
    }
    /// Issuer authentication result of the current/last transaction.
    pub fn issuer_auth(&self) -> IssuerAuth {
        self.issuer_auth
    }
    /// Commands answered (or failed) so far.
    pub fn exchanges(&self) -> usize {
        self.exchanges
    }

    fn reset_transaction(&mut self) {
        self.pdol_data.clear();
        self.cdol1_data = None;
        self.first_ac = None;
        self.arqc_key = None;
        self.challenge = None;
        self.pin_state = PinState::NotTried;
        self.issuer_auth = IssuerAuth::NotPerformed;
        self.second_ac_done = false;
    }

    /// Power off / reset (ISO/IEC 7816-3 §6.2): the selection and the transaction in progress
    /// are lost; counters, PIN tries and the blocked state persist.
    pub fn power_off(&mut self) {
        self.reset_transaction();
        self.selected = Selected::None;
    }

    fn fci(&self) -> Vec<u8> {
        let mut a5 = TlvBuilder::new();
        a5.push(Tag(0x50), self.profile.scheme.label().as_bytes());
        a5.push(Tag(0x87), &[0x01]);
        a5.push(Tag(0x9F38), &self.profile.scheme.pdol());
        a5.push(Tag(0x5F2D), b"enzh");
        let mut b = TlvBuilder::new();
        b.push_constructed(Tag(0x6F), |b| {
            b.push(Tag(0x84), &self.profile.scheme.aid());
            b.push(Tag(0xA5), a5.as_bytes());
        });
        b.finish()
    }

    fn select(&mut self, cmd: &Apdu) -> Response {
        if cmd.p1 != 0x04 {
            return sw(0x6A86);
        }
        self.reset_transaction();
        self.selected = Selected::None;
        if cmd.data == b"1PAY.SYS.DDF01" {
            if !self.profile.pse || cmd.p2 != 0 {
                return sw(0x6A82);
            }
            self.selected = Selected::Pse;
            let mut b = TlvBuilder::new();
            b.push_constructed(Tag(0x6F), |b| {
                b.push(Tag(0x84), b"1PAY.SYS.DDF01");
                b.push_constructed(Tag(0xA5), |b| {
                    b.push(Tag(0x88), &[0x01]);
                    b.push(Tag(0x5F2D), b"enzh");
                });
            });
            return ok(b.finish());
        }
        let aid = self.profile.scheme.aid();
        if cmd.data.len() >= 5 && aid.starts_with(&cmd.data) && cmd.p2 == 0x00 {
            self.selected = Selected::Application;
            let mut r = ok(self.fci());
            if self.blocked {
                // Book 1 §12.2.3: selected file invalidated.
                r.sw1 = 0x62;
                r.sw2 = 0x83;
            }
            return r;
        }
        sw(0x6A82)
    }

    fn read_record(&mut self, cmd: &Apdu) -> Response {
        if cmd.p2 & 0x07 != 0x04 {
            return sw(0x6A86);
        }
        let sfi = cmd.p2 >> 3;
        if self.selected == Selected::Pse {
            if sfi != 1 || cmd.p1 != 1 {
                return sw(0x6A83);
            }
            let mut b = TlvBuilder::new();
            b.push_constructed(Tag(0x70), |b| {
                b.push_constructed(Tag(0x61), |b| {
                    b.push(Tag(0x4F), &self.profile.scheme.aid());
                    b.push(Tag(0x50), self.profile.scheme.label().as_bytes());
                    b.push(Tag(0x87), &[0x01]);
                });
            });
            return ok(b.finish());
        }
        if self.selected != Selected::Application {
            return sw(0x6985);
        }
        match self
            .records
            .iter()
            .find(|(s, r, _)| *s == sfi && *r == cmd.p1)
        {
            Some((1, 1, d)) if self.profile.has(&Fault::TruncatedRecord) => {
                ok(d.get(..d.len().saturating_sub(3)).unwrap_or(&[]).to_vec())
            }
            Some((_, _, d)) => ok(d.clone()),
            None => sw(0x6A83),
        }
    }

    fn gpo(&mut self, cmd: &Apdu) -> Response {
        if self.selected != Selected::Application || self.cdol1_data.is_some() {
            return sw(0x6985);
        }
        // Command data: 83 L PDOL-data (Book 3 §6.5.8.3).
        let expected = Dol::parse(&self.profile.scheme.pdol())
            .map(|d| d.total_len())
            .unwrap_or(0);
        let data = match (cmd.data.first(), cmd.data.get(1), cmd.data.get(2..)) {
            (Some(0x83), Some(l), Some(rest)) if usize::from(*l) == rest.len() => rest,
            _ => return sw(0x6700),
        };
        if data.len() != expected {
            return sw(0x6700);
        }
        let Some(next) = self.atc.checked_add(1) else {
            return sw(0x6985);
        };
        self.atc = next;
        self.pdol_data = data.to_vec();
        if self.profile.has(&Fault::MalformedGpo) {
            let mut v = vec![0x77, 0x20, 0x82, 0x02];
            v.extend_from_slice(&self.aip);
            return ok(v);
        }
        if self.profile.scheme.gpo_format2() {
            let mut b = TlvBuilder::new();
            b.push_constructed(Tag(0x77), |b| {
                b.push(Tag(0x82), &self.aip);
                b.push(Tag(0x94), &self.afl);
            });
            ok(b.finish())
        } else {
            let mut v = self.aip.to_vec();
            v.extend_from_slice(&self.afl);
            ok(encode(Tag(0x80), &v))
        }
    }

    fn get_data(&self, cmd: &Apdu) -> Response {
        let tag = u16::from_be_bytes([cmd.p1, cmd.p2]);
        let v = match tag {
            0x9F17 => vec![self.pin_tries],
            0x9F36 => self.atc.to_be_bytes().to_vec(),
            0x9F13 => self.last_online_atc.to_be_bytes().to_vec(),
            // Log Format (Book 3 Annex A): date, time, amount, currency, country, type, ATC.
            0x9F4F => hex::decode("9A039F21039F02065F2A029F1A029C019F3602").unwrap_or_default(),
            _ => return sw(0x6A88),
        };
        ok(encode(Tag(u32::from(tag)), &v))
    }

    /// ICC Dynamic Number: 8 bytes bound to the card, the ATC and the terminal data.
    fn icc_dynamic_number(&self, data: &[u8]) -> [u8; 8] {
        let mut h = openssl::sha::Sha256::new();
        h.update(b"IDN");
        h.update(&self.pan);
        h.update(&self.atc.to_be_bytes());
        h.update(data);
        let d = h.finish();
        let mut out = [0u8; 8];
        out.copy_from_slice(d.get(..8).unwrap_or(&[0; 8]));
        out
    }

    fn corrupt(&self, mut sdad: Vec<u8>) -> Vec<u8> {
        if self.profile.has(&Fault::BadDynamicSignature) {
            if let Some(b) = sdad.get_mut(12) {
                *b ^= 0x01;
            }
        }
        sdad
    }

    fn internal_authenticate(&mut self, cmd: &Apdu) -> Response {
        if self.selected != Selected::Application || self.profile.oda == Oda::None {
            return sw(0x6985);
        }
        if cmd.data.len() != 4 {
            return sw(0x6700);
        }
        let idn = self.icc_dynamic_number(&cmd.data);
        let signed =
            dda_dynamic_data(&idn).and_then(|dd| sign_dynamic_data(&self.keys.icc, &dd, &cmd.data));
        match signed {
            Ok(sdad) => ok(encode(Tag(0x80), &self.corrupt(sdad))),
            Err(_) => sw(0x6F00),
        }
    }

    fn get_challenge(&mut self) -> Response {
        let mut h = openssl::sha::Sha256::new();
        h.update(b"CHALLENGE");
        h.update(&self.pan);
        h.update(&self.atc.to_be_bytes());
        h.update(&self.challenges.to_be_bytes());
        self.challenges = self.challenges.wrapping_add(1);
        let mut c = [0u8; 8];
        c.copy_from_slice(h.finish().get(..8).unwrap_or(&[0; 8]));
        self.challenge = Some(c);
        ok(c.to_vec())
    }

    fn verify(&mut self, cmd: &Apdu) -> Response {
        if self.selected != Selected::Application {
            return sw(0x6985);
        }
        if cmd.p1 != 0x00 {
            return sw(0x6A86);
        }
        if self.pin_tries == 0 {
            return sw(0x6983);
        }
        let block: Zeroizing<Vec<u8>> = match cmd.p2 {
            0x80 => Zeroizing::new(cmd.data.clone()),
            0x88 => {
                // Book 2 §7.2: 7F | PIN block | ICC challenge | padding, under the PIN key.
                let key = if self.profile.pin_key {
                    self.pin_key
                } else {
                    &self.keys.icc
                };
                let Some(challenge) = self.challenge.take() else {
                    return sw(0x6985);
                };
                let Ok(plain) = key.private_op(&cmd.data).map(Zeroizing::new) else {
                    return sw(0x6A80);
                };
                if plain.first() != Some(&0x7F) || plain.get(9..17) != Some(&challenge[..]) {
                    return sw(0x6A80);
                }
                Zeroizing::new(plain.get(1..9).unwrap_or(&[]).to_vec())
            }
            _ => return sw(0x6A86),
        };
        if block.len() != 8 {
            return sw(0x6700);
        }
        if *block == *pin_block(&self.profile.pin) {
            self.pin_tries = self.profile.pin_try_limit;
            self.pin_state = PinState::Verified;
            sw(0x9000)
        } else {
            self.pin_tries = self.pin_tries.saturating_sub(1);
            self.pin_state = PinState::Failed;
            sw(0x63C0 | u16::from(self.pin_tries))
        }
    }

    /// Card Verification Results, Visa-style (VIS 1.4 Appendix A, simplified): AC types of both
    /// GENERATE ACs, issuer authentication, offline PIN, PIN tries.
    fn cvr(&self, first: u8, second: Option<u8>) -> [u8; 3] {
        let t = |cid: u8| match cid & 0xC0 {
            0x00 => 0u8,
            0x40 => 1,
            _ => 2,
        };
        let mut b1 = t(first) << 4;
        b1 |= match second {
            Some(c) => t(c) << 6,
            None => 0x80,
        };
        if self.issuer_auth == IssuerAuth::Failed {
            b1 |= 0x08;
        }
        if self.pin_state != PinState::NotTried {
            b1 |= 0x04;
        }
        if self.pin_state == PinState::Failed {
            b1 |= 0x02;
        }
        let b2 = self.pin_tries & 0x0F;
        [b1, b2, (self.scripts_executed.min(15) as u8) << 4]
    }

    fn iad(&self, cvr: [u8; 3]) -> Vec<u8> {
        match self.profile.scheme.cvn() {
            smartpos_crypto::emv::Cvn::Mastercard16 => {
                // KDI, CVN 10, CVR (6), DAC/IDN (2), counters (8).
                let mut v = vec![0x01, 0x10];
                v.extend_from_slice(&cvr);
                v.extend_from_slice(&[0x00, 0x00, 0x00]);
                v.extend_from_slice(&[0x00, 0x00]);
                v.extend_from_slice(&[0x00; 8]);
                v
            }
            _ => {
                // Length 06, DKI 01, CVN 0A, CVR (length 03 + 3 bytes).
                let mut v = vec![0x06, 0x01, 0x0A, 0x03];
                v.extend_from_slice(&cvr);
                v
            }
        }
    }

    fn generate_ac(&mut self, cmd: &Apdu) -> Response {
        if self.selected != Selected::Application || self.pdol_data.is_empty() && self.atc == 0 {
            return sw(0x6985);
        }
        let requested = cmd.p1 & 0xC0;
        if requested == 0xC0 {
            return sw(0x6A86);
        }
        let cda = cmd.p1 & 0x10 != 0;
        let first = self.cdol1_data.is_none();
        if !first && (self.second_ac_done || self.first_ac.is_none()) {
            return sw(0x6985);
        }
        let cdol = if first {
            self.profile.scheme.cdol1()
        } else {
            self.profile.scheme.cdol2()
        };
        let Ok(dol) = Dol::parse(&cdol) else {
            return sw(0x6F00);
        };
        if cmd.data.len() != dol.total_len() {
            return sw(0x6700);
        }
        // Terminal data: CDOL1's, then overridden by CDOL2's.
        let mut values: Vec<(u32, Vec<u8>)> = Vec::new();
        if let Some(c1) = &self.cdol1_data {
            if let Ok(d1) = Dol::parse(&self.profile.scheme.cdol1()) {
                if let Ok(parts) = d1.split(c1) {
                    values.extend(parts.into_iter().map(|(t, v)| (t.0, v.to_vec())));
                }
            }
        }
        let Ok(parts) = dol.split(&cmd.data) else {
            return sw(0x6700);
        };
        for (t, v) in parts {
            values.retain(|(x, _)| *x != t.0);
            values.push((t.0, v.to_vec()));
        }
        let get = |tag: u32, len: usize| -> Vec<u8> {
            values
                .iter()
                .find(|(t, _)| *t == tag)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| vec![0; len])
        };
        let amount = smartpos_bcd(&get(0x9F02, 6));
        // Card risk management (Book 3 §10.8, card side).
        let cid_type = if self.blocked {
            0x00
        } else if first {
            let decline = self.profile.risk.decline_above.is_some_and(|x| amount > x);
            match requested {
                _ if decline => 0x00,
                0x00 => 0x00,
                0x80 => 0x80,
                _ => {
                    let offline_ok = self.profile.risk.offline_limit.is_some_and(|l| amount <= l)
                        && self.pin_state != PinState::Failed
                        && self.pin_tries > 0;
                    if offline_ok { 0x40 } else { 0x80 }
                }
            }
        } else {
            // Issuer authentication in CDOL2 (M/Chip): 91 = ARPC || ARC.
            if !self.profile.scheme.external_authenticate() {
                let iad = get(0x91, 10);
                if iad.iter().any(|b| *b != 0) {
                    self.check_arpc(&iad);
                }
            }
            let ia_failed = self.issuer_auth == IssuerAuth::Failed
                && self.profile.risk.decline_if_issuer_auth_fails;
            if requested == 0x40 && !ia_failed {
                0x40
            } else {
                0x00
            }
        };
        let cid = cid_type;
        let atc = self.atc.to_be_bytes();
        let cvr = match (first, self.first_ac) {
            (true, _) => self.cvr(cid, None),
            (false, Some((c1, _))) => self.cvr(c1, Some(cid)),
            (false, None) => self.cvr(0, Some(cid)),
        };
        let iad = self.iad(cvr);
        let tvr = get(0x95, 5);
        let data = AcData {
            amount_authorised: &get(0x9F02, 6),
            amount_other: &get(0x9F03, 6),
            terminal_country_code: &get(0x9F1A, 2),
            tvr: &tvr,
            transaction_currency_code: &get(0x5F2A, 2),
            transaction_date: &get(0x9A, 3),
            transaction_type: &get(0x9C, 1),
            unpredictable_number: &get(0x9F37, 4),
            aip: &self.aip,
            atc: &atc,
            iad: &iad,
        };
        let cvn = self.profile.scheme.cvn();
        let Ok(ac) = cvn.generate_ac(&self.icc_mk, &data) else {
            return sw(0x6F00);
        };
        if first {
            self.cdol1_data = Some(cmd.data.clone());
            self.first_ac = Some((cid, ac));
            self.arqc_key = cvn.ac_key(&self.icc_mk, &data).ok();
        } else {
            self.second_ac_done = true;
            if cid == 0x40 && self.issuer_auth == IssuerAuth::Passed {
                self.last_online_atc = self.atc;
            }
        }
        let un = get(0x9F37, 4);
        let mut objs: Vec<(u32, Vec<u8>)> = vec![(0x9F27, vec![cid]), (0x9F36, atc.to_vec())];
        let with_cda = cda && cid_type != 0x00 && self.profile.oda == Oda::Cda;
        if with_cda {
            // Book 2 §6.6.1: SDAD over IDN, CID, AC and the hash of PDOL data, CDOL1 data,
            // (CDOL2 data,) and the response objects other than the SDAD.
            let mut tx = self.pdol_data.clone();
            if let Some(c1) = &self.cdol1_data {
                tx.extend_from_slice(c1);
            }
            if !first {
                tx.extend_from_slice(&cmd.data);
            }
            tx.extend_from_slice(&encode(Tag(0x9F27), &[cid]));
            tx.extend_from_slice(&encode(Tag(0x9F36), &atc));
            tx.extend_from_slice(&encode(Tag(0x9F10), &iad));
            let idn = self.icc_dynamic_number(&un);
            let signed = cda_dynamic_data(&idn, cid, ac, &tx)
                .and_then(|dd| sign_dynamic_data(&self.keys.icc, &dd, &un));
            match signed {
                Ok(sdad) => objs.push((0x9F4B, self.corrupt(sdad))),
                Err(_) => return sw(0x6F00),
            }
        } else {
            objs.push((0x9F26, ac.to_vec()));
        }
        objs.push((0x9F10, iad));
        if self.profile.scheme.gpo_format2() || with_cda {
            ok(encode(Tag(0x77), &template(&objs)))
        } else {
            // Format 1: CID | ATC | AC | IAD.
            let mut v = vec![cid];
            v.extend_from_slice(&atc);
            v.extend_from_slice(&ac);
            if let Some((_, iad)) = objs.iter().find(|(t, _)| *t == 0x9F10) {
                v.extend_from_slice(iad);
            }
            ok(encode(Tag(0x80), &v))
        }
    }

    /// Check an ARPC (method 1): Issuer Authentication Data = ARPC (8) || ARC (2).
    fn check_arpc(&mut self, iad: &[u8]) -> bool {
        let (Some((_, arqc)), Some(key)) = (self.first_ac, &self.arqc_key) else {
            self.issuer_auth = IssuerAuth::Failed;
            return false;
        };
        let (Some(arpc), Some(arc)) = (iad.get(..8), iad.get(8..10)) else {
            self.issuer_auth = IssuerAuth::Failed;
            return false;
        };
        let mut arc2 = [0u8; 2];
        arc2.copy_from_slice(arc);
        let good = arpc_method1(key, &arqc, &arc2).is_ok_and(|x| x.as_slice() == arpc);
        self.issuer_auth = if good {
            IssuerAuth::Passed
        } else {
            IssuerAuth::Failed
        };
        good
    }

    fn external_authenticate(&mut self, cmd: &Apdu) -> Response {
        if self.first_ac.is_none()
            || self.second_ac_done
            || self.issuer_auth != IssuerAuth::NotPerformed
        {
            return sw(0x6985);
        }
        if !(10..=16).contains(&cmd.data.len()) {
            return sw(0x6700);
        }
        if self.check_arpc(&cmd.data) {
            sw(0x9000)
        } else {
            sw(0x6300)
        }
    }

    /// Issuer script commands (Book 3 §6.5, CLA 84 with secure messaging for integrity, Book 2
    /// §9.2.1): the MAC at the end of the data is checked with the session key of
    /// [`script::ScriptSession`] (the option of the card's CVN, bound to this transaction's ATC
    /// and ARQC) before anything is executed. Outside an online transaction (no ARQC) 6985; a
    /// missing or wrong MAC 6988 and nothing changes.
    fn script_command(&mut self, cmd: &Apdu) -> Response {
        if self.selected != Selected::Application {
            return sw(0x6985);
        }
        let Some((cid, arqc)) = self.first_ac else {
            return sw(0x6985);
        };
        if cid & 0xC0 != 0x80 {
            return sw(0x6985);
        }
        let option = script::ScriptMacOption::for_cvn(self.profile.scheme.cvn());
        let Ok(session) =
            script::ScriptSession::new(option, &self.icc_mk, self.atc.to_be_bytes(), arqc)
        else {
            return sw(0x6F00);
        };
        let header = [cmd.cla, cmd.ins, cmd.p1, cmd.p2];
        if session.verify(header, &cmd.data).is_err() {
            return sw(0x6988);
        }
        match cmd.ins {
            0x1E | 0x16 => self.blocked = true,
            0x18 => self.blocked = false,
            0x24 => self.pin_tries = self.profile.pin_try_limit,
            0xDA | 0xDC => {}
            _ => return sw(0x6D00),
        }
        self.scripts_executed = self.scripts_executed.saturating_add(1);
        sw(0x9000)
    }

    fn answer(&mut self, cmd: &Apdu) -> Response {
        for f in &self.profile.faults {
            if let Fault::StatusWord { ins, sw: code } = f {
                if *ins == cmd.ins && !(cmd.ins == 0xA4 && cmd.data.starts_with(b"1PAY")) {
                    return sw(*code);
                }
            }
        }
        match (cmd.cla, cmd.ins) {
            (0x00, 0xA4) => self.select(cmd),
            (0x00, 0xB2) => self.read_record(cmd),
            (0x80, 0xA8) => self.gpo(cmd),
            (0x80, 0xCA) => self.get_data(cmd),
            (0x00, 0x88) => self.internal_authenticate(cmd),
            (0x00, 0x84) => self.get_challenge(),
            (0x00, 0x20) => self.verify(cmd),
            (0x80, 0xAE) => self.generate_ac(cmd),
            (0x00, 0x82) => self.external_authenticate(cmd),
            (0x84, _) => self.script_command(cmd),
            (0x00 | 0x80, _) => sw(0x6D00),
            _ => sw(0x6E00),
        }
    }
}

/// A BCD amount (n12) as minor units; non-digits count as 0.
fn smartpos_bcd(v: &[u8]) -> u64 {
    v.iter()
        .flat_map(|b| [b >> 4, b & 0x0F])
        .fold(0u64, |acc, d| {
            acc.saturating_mul(10).saturating_add(u64::from(d.min(9)))
        })
}

impl CardTransport for VirtualCard {
    fn atr(&self) -> &[u8] {
        &self.atr
    }
    fn exchange(&mut self, command: &Apdu) -> Result<Response, TransportError> {
        let n = self.exchanges;
        self.exchanges += 1;
        for f in &self.profile.faults {
            match f {
                Fault::CardPulled { at } if n >= *at => return Err(TransportError::CardRemoved),
                Fault::NoAnswer { at } if n >= *at => return Err(TransportError::Timeout),
                _ => {}
            }
        }
        Ok(self.answer(command))
    }
}
