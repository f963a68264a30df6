//! Test support: a small test PKI (CA → issuer → ICC keys signed with smartpos-crypto's EMV
//! certificate builders), a virtual EMV card answering real commands, a recorder that turns a
//! virtual-card session into a [`CardScript`], and scripted PIN pad / UI.
#![allow(dead_code)]

use smartpos_crypto::rsa::RsaPrivateKey;
use smartpos_crypto::rsa::sign::{
    cda_dynamic_data, dda_dynamic_data, issuer_identifier_from_pan, sign_dynamic_data,
    sign_icc_certificate, sign_issuer_certificate, sign_static_data,
};
use smartpos_emv::transport::ScriptedExchange;
use smartpos_emv::*;
use smartpos_tlv::{Tag, TlvBuilder, encode};
use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};

pub const RID: [u8; 5] = [0xA0, 0x00, 0x00, 0x00, 0x03];
pub const AID: &[u8] = &[0xA0, 0x00, 0x00, 0x00, 0x03, 0x10, 0x10];
pub const CA_INDEX: u8 = 0xF9;
/// PAN 4761739001010119 (Luhn-valid test PAN).
pub const PAN: &[u8] = &[0x47, 0x61, 0x73, 0x90, 0x01, 0x01, 0x01, 0x19];
pub const UN: [u8; 4] = [0x11, 0x22, 0x33, 0x44];
pub const ARPC: &[u8] = &[0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0x30, 0x30];
pub const CRYPTOGRAM: [u8; 8] = [0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7];

pub struct Pki {
    pub ca: RsaPrivateKey,
    pub issuer: RsaPrivateKey,
    pub icc: RsaPrivateKey,
}

/// One test PKI for the whole test binary (key generation is the slow part).
pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| Pki {
        ca: RsaPrivateKey::generate(1152, 3).expect("CA key"),
        issuer: RsaPrivateKey::generate(1024, 3).expect("issuer key"),
        icc: RsaPrivateKey::generate(768, 3).expect("ICC key"),
    })
}

/// The ICC PIN Encipherment key (Book 2 §7.1), separate from the ICC key.
pub fn pin_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::generate(768, 3).expect("PIN key"))
}

pub fn ca_store() -> Arc<CaKeyStore> {
    let mut s = CaKeyStore::new();
    s.insert(
        RID,
        CA_INDEX,
        20_301_231,
        pki().ca.public_key().try_clone().expect("clone"),
    );
    Arc::new(s)
}

pub fn config() -> TerminalConfig {
    TerminalConfig::demo().expect("demo config")
}

pub fn kernel_with(cfg: TerminalConfig) -> ContactKernel {
    ContactKernel::new(Arc::new(cfg), ca_store())
}

pub fn params(amount: u64) -> TransactionParams {
    TransactionParams::new(amount, "261121", "101500", UN).expect("params")
}

/// ODA personalisation of the virtual card.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardOda {
    None,
    Sda,
    Dda,
    Cda,
}

/// What the virtual card holds and how it behaves.
#[derive(Clone, Debug)]
pub struct Profile {
    pub aid: Vec<u8>,
    pub label: &'static str,
    pub priority: Option<u8>,
    pub pse: bool,
    pub pdol: Option<Vec<u8>>,
    pub aip: [u8; 2],
    pub gpo_format2: bool,
    pub oda: CardOda,
    /// Extra primitive objects for the ODA record (SFI 1 record 1).
    pub record1: Vec<(u32, Vec<u8>)>,
    /// Objects for SFI 1 record 2 (not for ODA).
    pub record2: Vec<(u32, Vec<u8>)>,
    pub cdol1: Vec<u8>,
    pub cdol2: Vec<u8>,
    pub pin: &'static str,
    pub pin_tries: u8,
    pub atc: u16,
    pub last_online_atc: Option<u16>,
    /// The strongest cryptogram the card will give in GENERATE AC 1 (0x00 AAC, 0x40 TC, 0x80 ARQC).
    pub card_decision: u8,
    /// Approve TC in GENERATE AC 2 when asked.
    pub second_ac_tc: bool,
    pub cid_advice: bool,
    pub corrupt_sdad: bool,
    pub gpo_sw: Option<u16>,
    pub ac_format2: bool,
    /// Tags removed from record 1 (missing-data tests).
    pub drop_tags: Vec<u32>,
    /// Static Data Authentication Tag List (9F4A).
    pub sda_tag_list: Vec<u8>,
    /// Personalise a separate ICC PIN Encipherment key (9F2D/9F2E/9F2F).
    pub pin_key: bool,
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            aid: AID.to_vec(),
            label: "VISA CREDIT",
            priority: Some(0x01),
            pse: true,
            pdol: Some(hex::decode("9F02069F1A025F2A029F3704").expect("hex")),
            aip: [0x5C, 0x00], // SDA+DDA+CVM+TRM+issuer auth
            gpo_format2: true,
            oda: CardOda::Dda,
            record1: vec![
                (0x5A, PAN.to_vec()),
                (0x5F24, vec![0x29, 0x12, 0x31]),
                (0x5F25, vec![0x20, 0x01, 0x01]),
                (0x5F28, vec![0x01, 0x56]),
                (0x5F34, vec![0x01]),
                (0x9F07, vec![0xFF, 0x00]),
                (0x9F08, vec![0x00, 0x8C]),
                (
                    0x8E,
                    hex::decode("000000000000000042031E031F03").expect("hex"),
                ),
                (0x9F0D, vec![0xF0, 0x40, 0x00, 0x88, 0x00]),
                (0x9F0E, vec![0x00, 0x10, 0x00, 0x00, 0x00]),
                (0x9F0F, vec![0xF0, 0x40, 0x04, 0x98, 0x00]),
                (0x9F42, vec![0x01, 0x56]),
            ],
            record2: vec![(
                0x57,
                hex::decode("4761739001010119D29122010000000000000F").expect("hex"),
            )],
            cdol1: hex::decode("9F02069F03069F1A0295055F2A029A039C019F37049F3501").expect("hex"),
            cdol2: hex::decode("8A029F02069F1A0295059A039C019F3704").expect("hex"),
            pin: "1234",
            pin_tries: 3,
            atc: 0x0010,
            last_online_atc: Some(0x000E),
            card_decision: 0x80,
            second_ac_tc: true,
            cid_advice: false,
            corrupt_sdad: false,
            gpo_sw: None,
            ac_format2: true,
            drop_tags: Vec::new(),
            sda_tag_list: vec![0x82],
            pin_key: false,
        }
    }
}

/// A virtual EMV card answering commands from a [`Profile`], signing with the test PKI.
pub struct VirtualCard {
    pub p: Profile,
    records: Vec<(u8, u8, Vec<u8>)>,
    afl: Vec<u8>,
    pdol_data: Vec<u8>,
    cdol1_data: Vec<u8>,
    tries: u8,
    challenge: [u8; 8],
    pub commands: Vec<Vec<u8>>,
    in_pse: bool,
}

fn record(objs: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut b = TlvBuilder::new();
    for (t, v) in objs {
        b.push(Tag(*t), v);
    }
    b.finish()
}

impl VirtualCard {
    pub fn new(p: Profile) -> VirtualCard {
        let pki = pki();
        let mut aip = p.aip;
        match p.oda {
            CardOda::None => aip[0] &= !0x61,
            CardOda::Sda => aip[0] = (aip[0] & !0x61) | 0x40,
            CardOda::Dda => aip[0] = (aip[0] & !0x61) | 0x20,
            CardOda::Cda => aip[0] = (aip[0] & !0x61) | 0x21,
        }
        let mut p = p;
        p.aip = aip;
        let mut r1 = p.record1.clone();
        r1.push((0x8C, p.cdol1.clone()));
        r1.push((0x8D, p.cdol2.clone()));
        r1.retain(|(t, _)| !p.drop_tags.contains(t));
        let r1_value = record(&r1);
        // ODA: record 1 of SFI 1 is signed, plus the AIP via 9F4A.
        let mut static_data = r1_value.clone();
        static_data.extend_from_slice(&aip);
        let mut r3: Vec<(u32, Vec<u8>)> = Vec::new();
        if p.oda != CardOda::None {
            let pan = p
                .record1
                .iter()
                .find(|(t, _)| *t == 0x5A)
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            let issuer_id = issuer_identifier_from_pan(&pan, 6).expect("issuer id");
            let icert = sign_issuer_certificate(
                &pki.ca,
                issuer_id,
                [0x12, 0x30],
                [0x00, 0x00, 0x01],
                pki.issuer.public_key(),
            )
            .expect("issuer cert");
            r3.push((0x8F, vec![CA_INDEX]));
            r3.push((0x90, icert.certificate));
            if !icert.remainder.is_empty() {
                r3.push((0x92, icert.remainder));
            }
            r3.push((0x9F32, icert.exponent));
            r3.push((0x9F4A, p.sda_tag_list.clone()));
            if p.oda == CardOda::Sda {
                r3.push((
                    0x93,
                    sign_static_data(&pki.issuer, [0xDA, 0xC1], &static_data).expect("SSAD"),
                ));
            } else {
                let cc = sign_icc_certificate(
                    &pki.issuer,
                    &pan,
                    [0x12, 0x30],
                    [0x00, 0x00, 0x02],
                    pki.icc.public_key(),
                    &static_data,
                )
                .expect("ICC cert");
                r3.push((0x9F46, cc.certificate));
                if !cc.remainder.is_empty() {
                    r3.push((0x9F48, cc.remainder));
                }
                r3.push((0x9F47, cc.exponent));
                r3.push((0x9F49, vec![0x9F, 0x37, 0x04]));
            }
            if p.pin_key {
                let pc = sign_icc_certificate(
                    &pki.issuer,
                    &pan,
                    [0x12, 0x30],
                    [0x00, 0x00, 0x03],
                    pin_key().public_key(),
                    &[],
                )
                .expect("PIN key cert");
                r3.push((0x9F2D, pc.certificate));
                if !pc.remainder.is_empty() {
                    r3.push((0x9F2F, pc.remainder));
                }
                r3.push((0x9F2E, pc.exponent));
            }
        }
        r3.retain(|(t, _)| !p.drop_tags.contains(t));
        let mut records = vec![
            (1, 1, encode(Tag(0x70), &r1_value)),
            (1, 2, encode(Tag(0x70), &record(&p.record2))),
        ];
        let mut afl = vec![0x08, 0x01, 0x02, 0x01];
        if !r3.is_empty() {
            // SFI 2, records 1-2 (certificates split over two records).
            let (a, b) = r3.split_at(r3.len() / 2);
            records.push((2, 1, encode(Tag(0x70), &record(a))));
            records.push((2, 2, encode(Tag(0x70), &record(b))));
            afl.extend_from_slice(&[0x10, 0x01, 0x02, 0x00]);
        }
        let tries = p.pin_tries;
        VirtualCard {
            p,
            records,
            afl,
            pdol_data: Vec::new(),
            cdol1_data: Vec::new(),
            tries,
            challenge: [0x5C; 8],
            commands: Vec::new(),
            in_pse: false,
        }
    }

    fn fci(&self) -> Vec<u8> {
        let mut a5 = TlvBuilder::new();
        a5.push(Tag(0x50), self.p.label.as_bytes());
        if let Some(pr) = self.p.priority {
            a5.push(Tag(0x87), &[pr]);
        }
        if let Some(pdol) = &self.p.pdol {
            a5.push(Tag(0x9F38), pdol);
        }
        a5.push(Tag(0x5F2D), b"enzh");
        let mut b = TlvBuilder::new();
        b.push_constructed(Tag(0x6F), |b| {
            b.push(Tag(0x84), &self.p.aid);
            b.push(Tag(0xA5), a5.as_bytes());
        });
        b.finish()
    }

    fn ok(data: Vec<u8>) -> Response {
        Response {
            data,
            sw1: 0x90,
            sw2: 0x00,
        }
    }
    fn sw(sw: u16) -> Response {
        Response {
            data: Vec::new(),
            sw1: (sw >> 8) as u8,
            sw2: sw as u8,
        }
    }

    fn generate_ac(&mut self, cmd: &Apdu) -> Response {
        let requested = cmd.p1 & 0xC0;
        let cda = cmd.p1 & 0x10 != 0;
        let first = self.cdol1_data.is_empty();
        let cid_type = if first {
            match (requested, self.p.card_decision) {
                (0x00, _) | (_, 0x00) => 0x00,
                (0x80, _) => 0x80,
                (_, d) => d,
            }
        } else if requested == 0x40 && self.p.second_ac_tc {
            0x40
        } else {
            0x00
        };
        let cid = cid_type | if self.p.cid_advice { 0x08 } else { 0 };
        self.atc_bump();
        let atc = self.p.atc.to_be_bytes();
        let iad = [0x06, 0x01, 0x0A, 0x03, 0xA0, 0x00, 0x00];
        if first {
            self.cdol1_data = cmd.data.clone();
        }
        if !self.p.ac_format2 {
            let mut v = vec![cid];
            v.extend_from_slice(&atc);
            v.extend_from_slice(&CRYPTOGRAM);
            v.extend_from_slice(&iad);
            return Self::ok(encode(Tag(0x80), &v));
        }
        let mut body = TlvBuilder::new();
        body.push(Tag(0x9F27), &[cid]);
        body.push(Tag(0x9F36), &atc);
        if cda && cid_type != 0x00 {
            let mut tx = self.pdol_data.clone();
            tx.extend_from_slice(&self.cdol1_data);
            if !first {
                tx.extend_from_slice(&cmd.data);
            }
            tx.extend_from_slice(&encode(Tag(0x9F27), &[cid]));
            tx.extend_from_slice(&encode(Tag(0x9F36), &atc));
            tx.extend_from_slice(&encode(Tag(0x9F10), &iad));
            let un = match self.p.cdol1.windows(2).position(|w| w == [0x9F, 0x37]) {
                Some(_) => UN.to_vec(),
                None => vec![0; 4],
            };
            let dd =
                cda_dynamic_data(&[0x01, 0x02, 0x03, 0x04], cid, CRYPTOGRAM, &tx).expect("cda dd");
            let mut sdad = sign_dynamic_data(&pki().icc, &dd, &un).expect("sdad");
            if self.p.corrupt_sdad {
                if let Some(b) = sdad.get_mut(10) {
                    *b ^= 0x01;
                }
            }
            body.push(Tag(0x9F4B), &sdad);
        } else {
            body.push(Tag(0x9F26), &CRYPTOGRAM);
        }
        body.push(Tag(0x9F10), &iad);
        Self::ok(encode(Tag(0x77), body.as_bytes()))
    }

    fn atc_bump(&mut self) {}
}

impl CardTransport for VirtualCard {
    fn atr(&self) -> &[u8] {
        &[0x3B, 0x65, 0x00, 0x00, 0x20, 0x63, 0xCB, 0x6A, 0x00]
    }
    fn exchange(&mut self, cmd: &Apdu) -> Result<Response, TransportError> {
        self.commands.push(cmd.encode().expect("encode"));
        Ok(match (cmd.cla, cmd.ins) {
            (0x00, 0xA4) if cmd.data == b"1PAY.SYS.DDF01" => {
                if !self.p.pse {
                    return Ok(Self::sw(0x6A82));
                }
                self.in_pse = true;
                let mut b = TlvBuilder::new();
                b.push_constructed(Tag(0x6F), |b| {
                    b.push(Tag(0x84), b"1PAY.SYS.DDF01");
                    b.push_constructed(Tag(0xA5), |b| {
                        b.push(Tag(0x88), &[0x01]);
                    });
                });
                Self::ok(b.finish())
            }
            (0x00, 0xA4) if self.p.aid.starts_with(&cmd.data) && cmd.p2 == 0 => {
                self.in_pse = false;
                Self::ok(self.fci())
            }
            (0x00, 0xA4) => Self::sw(0x6A82),
            (0x00, 0xB2) if self.in_pse => {
                if cmd.p1 != 1 {
                    return Ok(Self::sw(0x6A83));
                }
                let mut b = TlvBuilder::new();
                b.push_constructed(Tag(0x70), |b| {
                    b.push_constructed(Tag(0x61), |b| {
                        b.push(Tag(0x4F), &self.p.aid);
                        b.push(Tag(0x50), self.p.label.as_bytes());
                        if let Some(pr) = self.p.priority {
                            b.push(Tag(0x87), &[pr]);
                        }
                    });
                });
                Self::ok(b.finish())
            }
            (0x80, 0xA8) => {
                if let Some(sw) = self.p.gpo_sw {
                    return Ok(Self::sw(sw));
                }
                self.pdol_data = cmd.data.get(2..).unwrap_or(&[]).to_vec();
                if self.p.gpo_format2 {
                    let mut b = TlvBuilder::new();
                    b.push_constructed(Tag(0x77), |b| {
                        b.push(Tag(0x82), &self.p.aip);
                        b.push(Tag(0x94), &self.afl);
                    });
                    Self::ok(b.finish())
                } else {
                    let mut v = self.p.aip.to_vec();
                    v.extend_from_slice(&self.afl);
                    Self::ok(encode(Tag(0x80), &v))
                }
            }
            (0x00, 0xB2) => {
                let sfi = cmd.p2 >> 3;
                match self
                    .records
                    .iter()
                    .find(|(s, r, _)| *s == sfi && *r == cmd.p1)
                {
                    Some((_, _, d)) => Self::ok(d.clone()),
                    None => Self::sw(0x6A83),
                }
            }
            (0x80, 0xCA) => {
                let tag = u16::from(cmd.p1) << 8 | u16::from(cmd.p2);
                let v = match tag {
                    0x9F36 => self.p.atc.to_be_bytes().to_vec(),
                    0x9F13 => match self.p.last_online_atc {
                        Some(a) => a.to_be_bytes().to_vec(),
                        None => return Ok(Self::sw(0x6A88)),
                    },
                    0x9F17 => vec![self.tries],
                    _ => return Ok(Self::sw(0x6A88)),
                };
                Self::ok(encode(Tag(u32::from(tag)), &v))
            }
            (0x00, 0x88) => {
                let dd = dda_dynamic_data(&[0x01, 0x02, 0x03, 0x04]).expect("dd");
                let mut sdad = sign_dynamic_data(&pki().icc, &dd, &cmd.data).expect("sdad");
                if self.p.corrupt_sdad {
                    if let Some(b) = sdad.get_mut(10) {
                        *b ^= 0x01;
                    }
                }
                Self::ok(encode(Tag(0x80), &sdad))
            }
            (0x00, 0x84) => Self::ok(self.challenge.to_vec()),
            (0x00, 0x20) => {
                if self.tries == 0 {
                    return Ok(Self::sw(0x6983));
                }
                let block = if cmd.p2 == 0x88 {
                    let key = if self.p.pin_key {
                        pin_key()
                    } else {
                        &pki().icc
                    };
                    match key.private_op(&cmd.data) {
                        Ok(plain)
                            if plain.first() == Some(&0x7F)
                                && plain.get(9..17) == Some(&self.challenge[..]) =>
                        {
                            plain.get(1..9).unwrap_or(&[]).to_vec()
                        }
                        _ => return Ok(Self::sw(0x6985)),
                    }
                } else {
                    cmd.data.clone()
                };
                let expected = PlaintextPinBlockBytes::of(self.p.pin);
                if block == expected {
                    self.tries = self.p.pin_tries;
                    Self::sw(0x9000)
                } else {
                    self.tries -= 1;
                    Self::sw(0x63C0 | u16::from(self.tries))
                }
            }
            (0x80, 0xAE) => self.generate_ac(cmd),
            (0x00, 0x82) => {
                if cmd.data == ARPC {
                    Self::sw(0x9000)
                } else {
                    Self::sw(0x6300)
                }
            }
            (0x84, _) => Self::sw(0x9000),
            _ => Self::sw(0x6D00),
        })
    }
}

/// ISO 9564 format 2 block bytes for the virtual card's comparison.
pub struct PlaintextPinBlockBytes;
impl PlaintextPinBlockBytes {
    pub fn of(pin: &str) -> Vec<u8> {
        let mut s = format!("2{:X}{}", pin.len(), pin);
        while s.len() < 16 {
            s.push('F');
        }
        hex::decode(s).expect("hex")
    }
}

/// Records raw exchanges of any transport as a card script (for replay and benchmarks).
pub struct Recorder<T> {
    pub inner: T,
    pub script: CardScript,
}

impl<T: CardTransport> Recorder<T> {
    pub fn new(inner: T) -> Self {
        let atr = hex::encode_upper(inner.atr());
        Recorder {
            inner,
            script: CardScript {
                atr,
                exchanges: Vec::new(),
            },
        }
    }
}

impl<T: CardTransport> CardTransport for Recorder<T> {
    fn atr(&self) -> &[u8] {
        self.inner.atr()
    }
    fn exchange(&mut self, command: &Apdu) -> Result<Response, TransportError> {
        let r = self.inner.exchange(command)?;
        self.script.exchanges.push(ScriptedExchange {
            command: hex::encode_upper(command.encode().expect("encode")),
            response: hex::encode_upper(r.to_bytes()),
        });
        Ok(r)
    }
}

/// PIN pad answering from a queue.
#[derive(Default)]
pub struct TestPinPad {
    pub offline: VecDeque<Option<&'static str>>,
    pub online: Option<Vec<u8>>,
    pub online_bypass: bool,
    pub broken: bool,
    pub prompts: Vec<OfflinePinPrompt>,
}

impl PinPad for TestPinPad {
    fn offline_pin(&mut self, prompt: OfflinePinPrompt) -> PinEntry {
        self.prompts.push(prompt);
        if self.broken {
            return PinEntry::PinPadFailure;
        }
        match self.offline.pop_front() {
            Some(Some(pin)) => PinEntry::Entered(PlaintextPinBlock::from_digits(pin).expect("pin")),
            Some(None) => PinEntry::Bypassed,
            None => PinEntry::Bypassed,
        }
    }
    fn online_pin(&mut self, _pan: &str) -> OnlinePinEntry {
        if self.broken {
            return OnlinePinEntry::PinPadFailure;
        }
        if self.online_bypass {
            return OnlinePinEntry::Bypassed;
        }
        match &self.online {
            Some(b) => OnlinePinEntry::Entered(b.clone()),
            None => OnlinePinEntry::Bypassed,
        }
    }
}

/// UI that picks a fixed candidate or cancels.
pub struct TestUi {
    pub choice: Choice,
    pub offered: Vec<Vec<String>>,
    pub language: Option<String>,
}

impl Default for TestUi {
    fn default() -> Self {
        TestUi {
            choice: Choice::Select(0),
            offered: Vec::new(),
            language: None,
        }
    }
}

impl CardholderInterface for TestUi {
    fn choose_application(&mut self, candidates: &[Candidate]) -> Choice {
        self.offered
            .push(candidates.iter().map(Candidate::display_name).collect());
        self.choice
    }
    fn language_selected(&mut self, language: &str) {
        self.language = Some(language.to_string());
    }
}

/// Journal / exception file stub.
#[derive(Default)]
pub struct TestServices {
    pub same_card: u64,
    pub hot: bool,
}

impl TerminalServices for TestServices {
    fn same_card_amount(&self, _pan_hash: &[u8; 20]) -> u64 {
        self.same_card
    }
    fn on_exception_file(&self, _pan: &str, _psn: Option<u8>) -> bool {
        self.hot
    }
    fn random_padding(&mut self, out: &mut [u8]) {
        out.fill(0xA5);
    }
}

/// Run a transaction to its first step.
pub fn start<T: CardTransport>(
    kernel: &ContactKernel,
    card: &mut T,
    params: TransactionParams,
    pin_pad: &mut TestPinPad,
    services: &mut TestServices,
) -> Step {
    let mut ui = TestUi::default();
    kernel.start(
        card,
        params,
        Interaction {
            ui: &mut ui,
            pin_pad,
            services,
        },
    )
}

/// The approving host answer with the ARPC the virtual card expects.
pub fn host_approve() -> HostResponse {
    HostResponse {
        approved: true,
        arc: "00".into(),
        issuer_authentication_data: ARPC.to_vec(),
        scripts: Vec::new(),
    }
}

pub fn tvr_bits(t: Tvr) -> Vec<TvrBit> {
    t.bits()
}
