//! Virtual contactless cards and phones for the Entry Point and the C-2/C-3/C-7 kernels of
//! smartpos-emv: each answers SELECT PPSE, SELECT AID, GET PROCESSING OPTIONS, READ RECORD,
//! GENERATE AC, RECOVER AC, EXCHANGE RELAY RESISTANCE DATA, COMPUTE CRYPTOGRAPHIC CHECKSUM,
//! GET DATA, EXTERNAL AUTHENTICATE and script commands, computing real application
//! cryptograms (smartpos-crypto `emv::Cvn`) and real fDDA/CDA signatures under the test PKI of
//! [`pki`] (the simulator's one seeded PKI, [`crate::pki::ContactlessPki`]). Profiles: card and
//! phone per kernel, offline/online approvals, fDDA and CDA, the low-value UnionPay
//! electronic-cash card, a card that tears mid-GENERATE AC, two cards in the field, a card that
//! asks for another interface, a blocked card, a mag-stripe-mode card and a relay-resistance
//! card.

pub mod pki;

use crate::card::{ok, sw};
use pki::{PkiError, TEST_CA_INDEX, TestPki};
use smartpos_crypto::emv::{AcData, Cvn};
use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_crypto::rsa::RsaPrivateKey;
use smartpos_crypto::rsa::sign::{cda_dynamic_data, dda_dynamic_data, sign_dynamic_data};
use smartpos_crypto::sm2::{DEFAULT_ID, Sm2PrivateKey};
use smartpos_emv::contactless::{Activation, ContactlessTransport};
use smartpos_emv::data::u64_to_bcd;
use smartpos_emv::{Apdu, CardTransport, Response, TransportError};
use smartpos_tlv::{Tag, TlvBuilder, encode};
use std::sync::Arc;

pub use crate::card::scheme::Scheme;

/// The contactless side of each scheme: its kernel and the virtual contactless card's PAN.
impl Scheme {
    fn kernel(self) -> u8 {
        match self {
            Scheme::Visa => 3,
            Scheme::Mastercard => 2,
            Scheme::UnionPay => 7,
        }
    }
    /// The virtual card's PAN digits.
    pub fn pan_digits(self) -> String {
        hex::encode_upper(self.contactless_pan_bcd())
    }
    /// The virtual contactless card's PAN as BCD (tag 5A); the contact test card's PAN is
    /// [`Scheme::pan`].
    pub fn contactless_pan_bcd(self) -> Vec<u8> {
        match self {
            Scheme::Visa => hex_lit("4761739001010010"),
            Scheme::Mastercard => hex_lit("5413330089020011"),
            Scheme::UnionPay => hex_lit("6228480088888888"),
        }
    }
}

/// Issuer master key for AC of every virtual contactless card (the published IMK of vector
/// `emv-mk-a-12345678901234567-01`).
pub const TEST_IMK: &str = "0123456789ABCDEFFEDCBA9876543210";

/// The ICC master key for AC, derived from [`TEST_IMK`] with option A (EMV Book 2 A1.4.1):
/// what the issuer host recomputes from the PAN and PAN sequence number.
pub fn icc_master_key(pan: &str, psn: &str) -> Result<SecretKey, PkiError> {
    let imk = SecretKey::new(KeyAlgorithm::Tdes2, &hex_lit(TEST_IMK))
        .map_err(|e| PkiError::Crypto(e.to_string()))?;
    smartpos_crypto::emv::derive_icc_mk(&imk, pan, psn, smartpos_crypto::emv::MkDerivation::OptionA)
        .map_err(|e| PkiError::Crypto(e.to_string()))
}

fn hex_lit(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap_or_default()
}

/// What a virtual card does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub scheme: Scheme,
    /// A phone (consumer device): CDCVM on the device, "see phone" until the user verified.
    pub phone: bool,
    /// The card approves offline when the reader allows it.
    pub offline_capable: bool,
    /// fDDA (C-3/C-7) or CDA (C-2) supported (certificates in the records).
    pub oda: bool,
    /// Electronic-cash balance (C-7), minor units.
    pub ec_balance: Option<u64>,
    /// The first GENERATE AC gets no answer (the card is pulled away after computing it).
    pub tear_first_generate_ac: bool,
    /// How many polls see two cards in the field before one is taken away.
    pub collisions: u8,
    /// GET PROCESSING OPTIONS answers 6984 (use another interface).
    pub another_interface: bool,
    /// SELECT of the application answers 6283 (application blocked).
    pub blocked: bool,
    /// The card always declines (AAC).
    pub decline: bool,
    /// Relay resistance: (min, max, device estimated transmission time), units of 100 µs.
    pub relay_resistance: Option<(u16, u16, u16)>,
    /// Mag-stripe mode only (C-2, AIP without EMV mode).
    pub mag_stripe: bool,
    /// Card supports issuer update processing (C-3 CTQ byte 2 b7).
    pub issuer_update: bool,
    /// Card requires signature (CTQ byte 1 b7) when a CVM is required.
    pub signature: bool,
    /// SM-algorithm card (C-7): SM2 certificates and SM2/SM3 fDDA.
    pub sm: bool,
}

impl Profile {
    fn base(scheme: Scheme) -> Profile {
        Profile {
            scheme,
            phone: false,
            offline_capable: true,
            oda: true,
            ec_balance: None,
            tear_first_generate_ac: false,
            collisions: 0,
            another_interface: false,
            blocked: false,
            decline: false,
            relay_resistance: None,
            mag_stripe: false,
            issuer_update: false,
            signature: false,
            sm: false,
        }
    }
    /// Visa-style card with fDDA, offline-capable.
    pub fn visa_card() -> Profile {
        Profile::base(Scheme::Visa)
    }
    /// Visa-style online-only card (always ARQC).
    pub fn visa_online_only() -> Profile {
        Profile {
            offline_capable: false,
            ..Profile::base(Scheme::Visa)
        }
    }
    /// Visa-style phone (Apple Pay/Google Pay style CDCVM).
    pub fn visa_phone() -> Profile {
        Profile {
            phone: true,
            ..Profile::base(Scheme::Visa)
        }
    }
    /// Mastercard-style card with CDA.
    pub fn mastercard_card() -> Profile {
        Profile::base(Scheme::Mastercard)
    }
    /// Mastercard-style phone.
    pub fn mastercard_phone() -> Profile {
        Profile {
            phone: true,
            ..Profile::base(Scheme::Mastercard)
        }
    }
    /// UnionPay qUICS card with fDDA.
    pub fn unionpay_card() -> Profile {
        Profile::base(Scheme::UnionPay)
    }
    /// UnionPay low-value electronic-cash card.
    pub fn unionpay_ec(balance: u64) -> Profile {
        Profile {
            ec_balance: Some(balance),
            ..Profile::base(Scheme::UnionPay)
        }
    }
    /// UnionPay SM-algorithm card (SM2 fDDA).
    pub fn unionpay_sm() -> Profile {
        Profile {
            sm: true,
            ..Profile::base(Scheme::UnionPay)
        }
    }
    /// UnionPay QuickPass phone.
    pub fn unionpay_phone() -> Profile {
        Profile {
            phone: true,
            ..Profile::base(Scheme::UnionPay)
        }
    }
}

/// A virtual contactless card (or phone).
pub struct VirtualCard {
    pub profile: Profile,
    pki: Arc<TestPki>,
    icc: RsaPrivateKey,
    sm_icc: Option<Sm2PrivateKey>,
    mk: SecretKey,
    records: Vec<Vec<u8>>,
    aip: [u8; 2],
    atc: u16,
    selected: bool,
    cdcvm_done: bool,
    see_phone_shown: bool,
    torn: Option<(Vec<u8>, Vec<u8>)>,
    torn_once: bool,
    collisions_left: u8,
    pdol_data: Vec<u8>,
    balance: Option<u64>,
    /// INS bytes of every command received, in order (tests).
    pub commands: Vec<u8>,
    /// How many activations the card saw.
    pub activations: u32,
}

impl std::fmt::Debug for VirtualCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtualCard")
            .field("profile", &self.profile)
            .field("atc", &self.atc)
            .finish()
    }
}

const PDOL_C3: &str = "9F66049F02069F03069F1A0295055F2A029A039C019F3704";
const PDOL_C7: &str = "9F66049F02069F03069F1A0295055F2A029A039C019F37049F7A01";
const PDOL_C7_SM: &str = "9F66049F02069F03069F1A0295055F2A029A039C019F37049F7A01DF6901";
const CDOL1_C2: &str = "9F02069F03069F1A0295055F2A029A039C019F37049F35019F3403";
const DRDOL_C2: &str = "9F3704";
/// Track 2 layout of the mag-stripe card: PCVC3 bits 1-3, PUNATC bits 4-8, NATC 2 → 3 UN digits.
const MS_PCVC3: u16 = 0x000E;
const MS_PUNATC: u16 = 0x01F0;

impl VirtualCard {
    /// Build the card: ICC key (768 bits, derived from the PKI's seed and the card's PAN and
    /// form factor, so the same card has the same key in every process), certificates,
    /// records, master key.
    pub fn new(profile: Profile, pki: Arc<TestPki>) -> Result<VirtualCard, PkiError> {
        let scheme = profile.scheme;
        let pan = scheme.contactless_pan_bcd();
        let card_name = format!(
            "{} {}",
            scheme.pan_digits(),
            if profile.phone { "phone" } else { "card" }
        );
        let icc = pki.icc_key(&card_name)?;
        let mk = icc_master_key(&scheme.pan_digits(), "01")?;
        let mut aip = match scheme {
            Scheme::Mastercard => [0x18, 0x80],
            _ => [0x00, 0x80],
        };
        if profile.oda {
            aip[0] |= if scheme == Scheme::Mastercard {
                0x01
            } else {
                0x20
            };
        }
        if profile.phone && scheme == Scheme::Mastercard {
            aip[0] |= 0x02;
        }
        if profile.relay_resistance.is_some() {
            aip[1] |= 0x01;
        }
        if profile.mag_stripe {
            aip[1] &= !0x80;
        }
        let mut r1 = TlvBuilder::new();
        r1.push(Tag(0x5A), &pan);
        r1.push(Tag(0x5F24), &hex_lit("301231"));
        r1.push(Tag(0x5F25), &hex_lit("200101"));
        r1.push(Tag(0x5F34), &[0x01]);
        let mut t2 = hex::encode_upper(&pan);
        t2.push_str("D30122010000000000000F");
        r1.push(Tag(0x57), &hex_lit(&t2));
        if scheme == Scheme::Mastercard {
            r1.push(Tag(0x8C), &hex_lit(CDOL1_C2));
            r1.push(Tag(0x8E), &hex_lit("000000000000000042031E031F00"));
            r1.push(Tag(0x9F0D), &hex_lit("0000000000"));
            r1.push(Tag(0x9F0E), &hex_lit("0000000000"));
            r1.push(Tag(0x9F0F), &hex_lit("0000000000"));
            r1.push(Tag(0x9F51), &hex_lit(DRDOL_C2));
            if profile.mag_stripe {
                let mut ms = hex::encode_upper(&pan);
                ms.push_str("D30122010000000000000F");
                r1.push(Tag(0x9F6B), &hex_lit(&ms));
                r1.push(Tag(0x9F65), &MS_PCVC3.to_be_bytes());
                r1.push(Tag(0x9F66), &MS_PUNATC.to_be_bytes());
                r1.push(Tag(0x9F67), &[0x02]);
            }
        }
        r1.push(Tag(0x9F4A), &[0x82]);
        let r1_value = r1.finish();
        let mut records = vec![encode(Tag(0x70), &r1_value)];
        let mut sm_icc = None;
        if profile.oda && profile.sm {
            let key = pki.sm_icc_key(&card_name)?;
            let mut static_data = r1_value.clone();
            static_data.extend_from_slice(&aip);
            let mut r2 = TlvBuilder::new();
            r2.push(Tag(0x8F), &[TEST_CA_INDEX]);
            r2.push(Tag(0x90), &pki.sm_issuer_certificate(&pan)?);
            r2.push(
                Tag(0x9F46),
                &pki.sm_icc_certificate(&key, &pan, &static_data)?,
            );
            records.push(encode(Tag(0x70), &r2.finish()));
            sm_icc = Some(key);
        } else if profile.oda {
            let mut static_data = r1_value.clone();
            static_data.extend_from_slice(&aip);
            let ic = pki.issuer_certificate(&pan)?;
            let cc = pki.icc_certificate(&icc, &pan, &static_data)?;
            let mut r2 = TlvBuilder::new();
            r2.push(Tag(0x8F), &[TEST_CA_INDEX]);
            r2.push(Tag(0x90), &ic.certificate);
            if !ic.remainder.is_empty() {
                r2.push(Tag(0x92), &ic.remainder);
            }
            r2.push(Tag(0x9F32), &ic.exponent);
            r2.push(Tag(0x9F46), &cc.certificate);
            r2.push(Tag(0x9F47), &cc.exponent);
            if !cc.remainder.is_empty() {
                r2.push(Tag(0x9F48), &cc.remainder);
            }
            records.push(encode(Tag(0x70), &r2.finish()));
        }
        Ok(VirtualCard {
            collisions_left: profile.collisions,
            balance: profile.ec_balance,
            profile,
            pki,
            icc,
            sm_icc,
            mk,
            records,
            aip,
            atc: 0x0010,
            selected: false,
            cdcvm_done: false,
            see_phone_shown: false,
            torn: None,
            torn_once: false,
            pdol_data: Vec::new(),
            commands: Vec::new(),
            activations: 0,
        })
    }

    /// The ICC master key for AC (the host side recomputes cryptograms with it).
    pub fn master_key(&self) -> &SecretKey {
        &self.mk
    }
    /// The cryptogram version this card uses.
    pub fn cvn(&self) -> Cvn {
        match self.profile.scheme {
            Scheme::Mastercard => Cvn::Mastercard16,
            _ => Cvn::Visa18,
        }
    }
    pub fn atc(&self) -> u16 {
        self.atc
    }
    pub fn balance(&self) -> Option<u64> {
        self.balance
    }
    pub fn pki(&self) -> &TestPki {
        &self.pki
    }

    fn ppse(&self) -> Response {
        let s = self.profile.scheme;
        let mut entry = TlvBuilder::new();
        entry.push(Tag(0x4F), &s.aid());
        entry.push(Tag(0x50), b"VIRTUAL CL");
        entry.push(Tag(0x87), &[0x01]);
        entry.push(Tag(0x9F2A), &[s.kernel()]);
        let e = encode(Tag(0x61), &entry.finish());
        let bf = encode(Tag(0xBF0C), &e);
        let a5 = encode(Tag(0xA5), &bf);
        let mut fci = encode(Tag(0x84), b"2PAY.SYS.DDF01");
        fci.extend_from_slice(&a5);
        ok(encode(Tag(0x6F), &fci))
    }

    fn select_aid(&mut self) -> Response {
        if self.profile.blocked {
            return sw(0x6283);
        }
        self.selected = true;
        let s = self.profile.scheme;
        let mut a5 = TlvBuilder::new();
        a5.push(Tag(0x50), b"VIRTUAL CL");
        a5.push(Tag(0x87), &[0x01]);
        match s {
            Scheme::Visa => {
                a5.push(Tag(0x9F38), &hex_lit(PDOL_C3));
            }
            Scheme::UnionPay if self.profile.sm => {
                a5.push(Tag(0x9F38), &hex_lit(PDOL_C7_SM));
            }
            Scheme::UnionPay => {
                a5.push(Tag(0x9F38), &hex_lit(PDOL_C7));
            }
            Scheme::Mastercard => {}
        }
        a5.push(Tag(0x5F2D), b"en");
        let mut fci = encode(Tag(0x84), &s.aid());
        fci.extend_from_slice(&encode(Tag(0xA5), &a5.finish()));
        ok(encode(Tag(0x6F), &fci))
    }

    fn afl(&self) -> Vec<u8> {
        if self.profile.oda {
            hex_lit("0801010108020200")
        } else {
            hex_lit("08010101")
        }
    }

    fn cryptogram(&self, cid: u8, d: &TermData<'_>, iad: &[u8]) -> Result<[u8; 8], String> {
        let atc = self.atc.to_be_bytes();
        let data = AcData {
            amount_authorised: d.amount,
            amount_other: d.other,
            terminal_country_code: d.country,
            tvr: d.tvr,
            transaction_currency_code: d.currency,
            transaction_date: d.date,
            transaction_type: d.ttype,
            unpredictable_number: d.un,
            aip: &self.aip,
            atc: &atc,
            iad,
        };
        let _ = cid;
        self.cvn()
            .generate_ac(&self.mk, &data)
            .map_err(|e| e.to_string())
    }

    /// qVSDC / qUICS GPO (C-3/C-7 card side): decide the cryptogram from the TTQ, sign fDDA.
    fn gpo_quick(&mut self, pdol: &[u8]) -> Result<Response, String> {
        let c7 = self.profile.scheme == Scheme::UnionPay;
        let need = match (c7, self.profile.sm) {
            (true, true) => 35,
            (true, false) => 34,
            _ => 33,
        };
        if pdol.len() != need {
            return Ok(sw(0x6700));
        }
        let f = |a: usize, b: usize| pdol.get(a..b).unwrap_or(&[]);
        let ttq = f(0, 4).to_vec();
        let d = TermData {
            amount: f(4, 10),
            other: f(10, 16),
            country: f(16, 18),
            tvr: f(18, 23),
            currency: f(23, 25),
            date: f(25, 28),
            ttype: f(28, 29),
            un: f(29, 33),
        };
        let amount = bcd(d.amount);
        let ttq2 = ttq.get(1).copied().unwrap_or(0);
        let cvm_required = ttq2 & 0x40 != 0;
        if self.profile.another_interface {
            return Ok(sw(0x6984));
        }
        if self.profile.phone && cvm_required && !self.cdcvm_done {
            self.see_phone_shown = true;
            return Ok(sw(0x6986));
        }
        self.atc = self.atc.wrapping_add(1);
        let ec = c7 && f(33, 34) == [0x01] && self.balance.is_some_and(|b| b >= amount);
        let online_required = ttq2 & 0x80 != 0;
        let offline_only = ttq.first().is_some_and(|b| b & 0x08 != 0);
        let cid = if self.profile.decline {
            0x00
        } else if ec {
            0x40
        } else if !self.profile.offline_capable {
            if offline_only { 0x00 } else { 0x80 }
        } else if online_required && !offline_only {
            0x80
        } else {
            0x40
        };
        if ec && let Some(b) = self.balance.as_mut() {
            *b -= amount;
        }
        let cvr2 = match cid {
            0x40 => 0x10,
            0x80 => 0x20,
            _ => 0x00,
        };
        let iad = [0x06, 0x01, 0x12, 0x03, cvr2, 0x00, 0x00];
        let ac = self.cryptogram(cid, &d, &iad)?;
        let mut ctq1 = 0x20;
        if cvm_required && !self.profile.phone {
            if cid == 0x80 && !self.profile.signature {
                ctq1 |= 0x80;
            } else {
                ctq1 |= 0x40;
            }
        }
        let mut ctq2 = 0;
        if self.profile.phone && self.cdcvm_done {
            ctq2 |= 0x80;
        }
        if self.profile.issuer_update {
            ctq2 |= 0x40;
        }
        let ctq = [ctq1, ctq2];
        let mut t = TlvBuilder::new();
        t.push(Tag(0x82), &self.aip);
        t.push(Tag(0x94), &self.afl());
        t.push(Tag(0x9F36), &self.atc.to_be_bytes());
        t.push(Tag(0x9F27), &[cid]);
        t.push(Tag(0x9F26), &ac);
        t.push(Tag(0x9F10), &iad);
        t.push(Tag(0x9F6C), &ctq);
        t.push(
            Tag(0x9F6E),
            &[if self.profile.phone { 0x21 } else { 0x20 }, 0x70, 0, 0],
        );
        if let Some(b) = self.balance {
            t.push(Tag(0x9F79), &u64_to_bcd(b, 6));
        }
        if cid == 0x40 && self.profile.oda {
            let card_un =
                smartpos_crypto::hash::sha1(&[&self.atc.to_be_bytes()[..], &ac[..]].concat());
            let mut cad = vec![0x01];
            cad.extend_from_slice(card_un.get(..4).unwrap_or(&[0; 4]));
            cad.extend_from_slice(&ctq);
            let mut tdd = Vec::new();
            tdd.extend_from_slice(d.un);
            tdd.extend_from_slice(d.amount);
            tdd.extend_from_slice(d.currency);
            tdd.extend_from_slice(&cad);
            let mut idn = card_un.get(..4).unwrap_or(&[0; 4]).to_vec();
            idn.extend_from_slice(&self.atc.to_be_bytes());
            let icc_dd = dda_dynamic_data(&idn).map_err(|e| e.to_string())?;
            let sdad = match &self.sm_icc {
                // SM fDDA needs the terminal's SM support (DF69 = 01).
                Some(key) if f(34, 35) == [0x01] => {
                    let mut s = vec![0x15, 0x04, icc_dd.len() as u8];
                    s.extend_from_slice(&icc_dd);
                    let sig = key
                        .sign(DEFAULT_ID, &[s.as_slice(), &tdd].concat())
                        .map_err(|e| e.to_string())?;
                    s.extend_from_slice(&sig.to_bytes());
                    s
                }
                Some(_) => Vec::new(),
                None => sign_dynamic_data(&self.icc, &icc_dd, &tdd).map_err(|e| e.to_string())?,
            };
            t.push(Tag(0x9F69), &cad);
            t.push(Tag(0x9F4B), &sdad);
        }
        Ok(ok(encode(Tag(0x77), &t.finish())))
    }

    fn gpo_c2(&mut self) -> Response {
        let mut t = TlvBuilder::new();
        t.push(Tag(0x82), &self.aip);
        t.push(Tag(0x94), &self.afl());
        ok(encode(Tag(0x77), &t.finish()))
    }

    /// GENERATE AC (C-2 card side) with CDA when asked.
    fn generate_ac(&mut self, p1: u8, cdol: &[u8]) -> Result<Response, String> {
        if cdol.len() != 33 {
            return Ok(sw(0x6700));
        }
        let f = |a: usize, b: usize| cdol.get(a..b).unwrap_or(&[]);
        let d = TermData {
            amount: f(0, 6),
            other: f(6, 12),
            country: f(12, 14),
            tvr: f(14, 19),
            currency: f(19, 21),
            date: f(21, 24),
            ttype: f(24, 25),
            un: f(25, 29),
        };
        let cvm_results = f(30, 33);
        self.atc = self.atc.wrapping_add(1);
        let requested = p1 & 0xC0;
        let cdcvm_asked = cvm_results.first() == Some(&0x01);
        let mut pcii = None;
        let cid = if self.profile.decline || requested == 0x00 {
            0x00
        } else if self.profile.phone && cdcvm_asked && !self.cdcvm_done {
            self.see_phone_shown = true;
            pcii = Some([0x00, 0x03, 0x00]);
            0x00
        } else if requested == 0x40 && self.profile.offline_capable {
            0x40
        } else {
            0x80
        };
        let cvr = match cid {
            0x40 => 0x50,
            0x80 => 0xA0,
            _ => 0x10,
        };
        let iad = [0x01, 0x10, cvr, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00];
        let ac = self.cryptogram(cid, &d, &iad)?;
        let mut t = TlvBuilder::new();
        t.push(Tag(0x9F27), &[cid]);
        t.push(Tag(0x9F36), &self.atc.to_be_bytes());
        t.push(Tag(0x9F10), &iad);
        if let Some(p) = pcii {
            t.push(Tag(0xDF4B), &p);
        }
        let cda = p1 & 0x10 != 0 && cid != 0x00 && self.profile.oda;
        if cda {
            let mut tx = self.pdol_data.clone();
            tx.extend_from_slice(cdol);
            tx.extend_from_slice(t.as_bytes());
            let mut idn = smartpos_crypto::hash::sha1(&ac)
                .get(..6)
                .unwrap_or(&[0; 6])
                .to_vec();
            idn.extend_from_slice(&self.atc.to_be_bytes());
            let icc_dd = cda_dynamic_data(&idn, cid, ac, &tx).map_err(|e| e.to_string())?;
            let sdad = sign_dynamic_data(&self.icc, &icc_dd, d.un).map_err(|e| e.to_string())?;
            t.push(Tag(0x9F4B), &sdad);
        } else {
            t.push(Tag(0x9F26), &ac);
        }
        let resp = encode(Tag(0x77), &t.finish());
        if self.profile.tear_first_generate_ac && !self.torn_once {
            self.torn_once = true;
            self.torn = Some((d.un.to_vec(), resp));
            return Err("TORN".into());
        }
        Ok(ok(resp))
    }

    fn handle(&mut self, c: &Apdu) -> Result<Response, TransportError> {
        self.commands.push(c.ins);
        let r = match (c.cla, c.ins) {
            (0x00, 0xA4) if c.data == b"2PAY.SYS.DDF01" => Ok(self.ppse()),
            (0x00, 0xA4) if c.data == self.profile.scheme.aid() => Ok(self.select_aid()),
            (0x00, 0xA4) => Ok(sw(0x6A82)),
            (_, _) if !self.selected => Ok(sw(0x6985)),
            (0x80, 0xA8) => {
                let pdol = c.data.get(2..).unwrap_or(&[]).to_vec();
                self.pdol_data = pdol.clone();
                if self.profile.scheme == Scheme::Mastercard {
                    if self.profile.another_interface {
                        Ok(sw(0x6984))
                    } else {
                        Ok(self.gpo_c2())
                    }
                } else {
                    self.gpo_quick(&pdol)
                }
            }
            (0x00, 0xB2) => {
                let sfi = c.p2 >> 3;
                let idx = usize::from(c.p1);
                match (sfi, self.records.get(idx.wrapping_sub(1))) {
                    (1, Some(r)) => Ok(ok(r.clone())),
                    _ => Ok(sw(0x6A83)),
                }
            }
            (0x80, 0xAE) => match self.generate_ac(c.p1, &c.data) {
                Ok(r) => Ok(r),
                Err(e) if e == "TORN" => return Err(TransportError::Timeout),
                Err(e) => return Err(TransportError::Io(e)),
            },
            (0x80, 0xD0) => match &self.torn {
                Some((un, resp)) if *un == c.data => {
                    let r = ok(resp.clone());
                    self.torn = None;
                    Ok(r)
                }
                _ => Ok(sw(0x6A88)),
            },
            (0x80, 0xEA) => match self.profile.relay_resistance {
                Some((min, max, est)) => {
                    let mut v = smartpos_crypto::hash::sha1(&c.data)
                        .get(..4)
                        .unwrap_or(&[0; 4])
                        .to_vec();
                    v.extend_from_slice(&min.to_be_bytes());
                    v.extend_from_slice(&max.to_be_bytes());
                    v.extend_from_slice(&est.to_be_bytes());
                    Ok(ok(encode(Tag(0x80), &v)))
                }
                None => Ok(sw(0x6D00)),
            },
            (0x80, 0x2A) => {
                self.atc = self.atc.wrapping_add(1);
                let mut input = vec![0x5A, 0x5A];
                input.extend_from_slice(&c.data);
                input.extend_from_slice(&self.atc.to_be_bytes());
                let mac = smartpos_crypto::emv::application_cryptogram(
                    &self.mk,
                    &input,
                    smartpos_crypto::mac::Padding::Method2,
                )
                .map_err(|e| TransportError::Io(e.to_string()))?;
                let mut t = TlvBuilder::new();
                t.push(Tag(0x9F61), mac.get(6..8).unwrap_or(&[0, 0]));
                t.push(Tag(0x9F60), mac.get(4..6).unwrap_or(&[0, 0]));
                t.push(Tag(0x9F36), &self.atc.to_be_bytes());
                Ok(ok(encode(Tag(0x77), &t.finish())))
            }
            (0x80, 0xCA) if c.p1 == 0x9F && c.p2 == 0x79 => match self.balance {
                Some(b) => Ok(ok(encode(Tag(0x9F79), &u64_to_bcd(b, 6)))),
                None => Ok(sw(0x6A88)),
            },
            (0x00, 0x82) => Ok(sw(0x9000)),
            (0x84, _) | (0x04, _) => Ok(sw(0x9000)),
            _ => Ok(sw(0x6D00)),
        };
        r.map_err(|e: String| TransportError::Io(e))
    }
}

struct TermData<'a> {
    amount: &'a [u8],
    other: &'a [u8],
    country: &'a [u8],
    tvr: &'a [u8],
    currency: &'a [u8],
    date: &'a [u8],
    ttype: &'a [u8],
    un: &'a [u8],
}

fn bcd(v: &[u8]) -> u64 {
    v.iter().fold(0u64, |a, b| {
        a.saturating_mul(100)
            .saturating_add(u64::from(b >> 4) * 10 + u64::from(b & 0x0F))
    })
}

impl CardTransport for VirtualCard {
    fn atr(&self) -> &[u8] {
        &[0x3B, 0x80, 0x80, 0x01, 0x01]
    }
    fn exchange(&mut self, command: &Apdu) -> Result<Response, TransportError> {
        self.handle(command)
    }
}

impl ContactlessTransport for VirtualCard {
    fn activate(&mut self) -> Activation {
        self.activations += 1;
        if self.collisions_left > 0 {
            self.collisions_left -= 1;
            return Activation::Collision;
        }
        self.selected = false;
        if self.see_phone_shown {
            // The cardholder verified on the phone before presenting it again.
            self.cdcvm_done = true;
        }
        Activation::Card
    }
}

/// A transport that records every exchange of a virtual card as a scripted-card JSON (for
/// replays and the benchmark).
pub struct Recorder<C> {
    pub card: C,
    pub script: smartpos_emv::CardScript,
}

impl<C: CardTransport> Recorder<C> {
    pub fn new(card: C) -> Self {
        let atr = hex::encode_upper(card.atr());
        Recorder {
            card,
            script: smartpos_emv::CardScript {
                atr,
                exchanges: Vec::new(),
            },
        }
    }
}

impl<C: CardTransport> CardTransport for Recorder<C> {
    fn atr(&self) -> &[u8] {
        self.card.atr()
    }
    fn exchange(&mut self, command: &Apdu) -> Result<Response, TransportError> {
        let r = self.card.exchange(command)?;
        self.script
            .exchanges
            .push(smartpos_emv::transport::ScriptedExchange {
                command: hex::encode_upper(command.encode()?),
                response: hex::encode_upper(r.to_bytes()),
            });
        Ok(r)
    }
}

impl<C: ContactlessTransport> ContactlessTransport for Recorder<C> {
    fn activate(&mut self) -> Activation {
        self.card.activate()
    }
}
