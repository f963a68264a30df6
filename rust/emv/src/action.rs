//! Terminal action analysis (EMV Book 3 §10.7), the first GENERATE AC with CDOL1 and card action
//! analysis (§10.8): CID, advice, CDA verification.

use crate::apdu::Apdu;
use crate::kernel::{Ctx, Phase};
use crate::outcome::{Decision, EndReason, OdaMethod};
use crate::transport::{CardTransport, Channel};
use crate::tvr::{TsiBit, Tvr, TvrBit};
use smartpos_tlv::TlvReader;

/// Cryptogram types (Book 3 §6.5.5 Table 12 / CID b8-b7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cryptogram {
    /// Ordered as Book 3 §6.5.5.2: AAC < ARQC < TC (a card may always answer lower).
    Aac,
    Arqc,
    Tc,
}

impl Cryptogram {
    pub fn p1(self) -> u8 {
        match self {
            Cryptogram::Aac => 0x00,
            Cryptogram::Tc => 0x40,
            Cryptogram::Arqc => 0x80,
        }
    }
    pub fn from_cid(cid: u8) -> Option<Cryptogram> {
        match cid & 0xC0 {
            0x00 => Some(Cryptogram::Aac),
            0x40 => Some(Cryptogram::Tc),
            0x80 => Some(Cryptogram::Arqc),
            _ => None,
        }
    }
}

/// Issuer Action Codes with the Book 3 §10.7 defaults when absent (denial 00.., online/default FF..).
fn iac(ctx: &Ctx, tag: u32, absent: u8) -> Tvr {
    match ctx.store.get(tag) {
        Some(v) if v.len() == 5 => Tvr(crate::config::AidConfig::action_code(v)),
        _ => Tvr([absent; 5]),
    }
}

fn or(a: Tvr, b: Tvr) -> [u8; 5] {
    let mut o = [0u8; 5];
    for (i, x) in o.iter_mut().enumerate() {
        *x = a.0[i] | b.0[i];
    }
    o
}

/// Book 3 §10.7: which cryptogram to request first.
pub(crate) fn terminal_action_analysis(ctx: &Ctx) -> Cryptogram {
    let (tac_denial, tac_online, tac_default) = ctx.aid().tacs();
    let tvr = ctx.tvr;
    if tvr.matches_action_code(&or(tac_denial, iac(ctx, 0x9F0E, 0x00))) {
        return Cryptogram::Aac;
    }
    if ctx.cfg.terminal.is_offline_only() {
        return if tvr.matches_action_code(&or(tac_default, iac(ctx, 0x9F0D, 0xFF))) {
            Cryptogram::Aac
        } else {
            Cryptogram::Tc
        };
    }
    if tvr.matches_action_code(&or(tac_online, iac(ctx, 0x9F0F, 0xFF))) {
        Cryptogram::Arqc
    } else {
        Cryptogram::Tc
    }
}

/// Book 3 §10.7 "unable to go online": default action codes decide.
pub(crate) fn default_action_analysis(ctx: &Ctx) -> Cryptogram {
    let (_, _, tac_default) = ctx.aid().tacs();
    if ctx
        .tvr
        .matches_action_code(&or(tac_default, iac(ctx, 0x9F0D, 0xFF)))
    {
        Cryptogram::Aac
    } else {
        Cryptogram::Tc
    }
}

/// A parsed GENERATE AC response.
#[derive(Debug, Clone)]
pub struct AcResponse {
    pub cid: u8,
    pub atc: Vec<u8>,
    pub cryptogram: Option<Vec<u8>>,
    pub iad: Option<Vec<u8>>,
    /// Value of the 77 template for CDA (format 2 only).
    pub template: Option<Vec<u8>>,
    pub has_sdad: bool,
}

const GEN_AC: &str = "GENERATE AC";

fn ferr(reason: impl Into<String>) -> EndReason {
    EndReason::FormatError {
        command: GEN_AC,
        reason: reason.into(),
    }
}

/// Book 3 §6.5.5.4: format 1 (80: CID ATC AC, optional IAD) or format 2 (77 with 9F27 9F36 9F26 ...).
pub fn parse_ac_response(data: &[u8]) -> Result<AcResponse, EndReason> {
    let mut r = TlvReader::new(data);
    let top = r
        .next()
        .ok_or_else(|| ferr("empty response"))?
        .map_err(|e| ferr(e.to_string()))?;
    if r.next().is_some() {
        return Err(ferr("data after the response template"));
    }
    match top.tag.0 {
        0x80 => {
            let v = top.value;
            if v.len() < 11 {
                return Err(ferr(format!(
                    "format 1 value is {} bytes; at least 11 expected",
                    v.len()
                )));
            }
            Ok(AcResponse {
                cid: v.first().copied().unwrap_or(0),
                atc: v.get(1..3).unwrap_or(&[]).to_vec(),
                cryptogram: v.get(3..11).map(<[u8]>::to_vec),
                iad: v.get(11..).filter(|x| !x.is_empty()).map(<[u8]>::to_vec),
                template: None,
                has_sdad: false,
            })
        }
        0x77 => {
            let mut out = AcResponse {
                cid: 0,
                atc: Vec::new(),
                cryptogram: None,
                iad: None,
                template: Some(top.value.to_vec()),
                has_sdad: false,
            };
            let mut cid = None;
            for obj in top.children() {
                let obj = obj.map_err(|e| ferr(e.to_string()))?;
                match obj.tag.0 {
                    0x9F27 => cid = obj.value.first().copied(),
                    0x9F36 => out.atc = obj.value.to_vec(),
                    0x9F26 => out.cryptogram = Some(obj.value.to_vec()),
                    0x9F10 => out.iad = Some(obj.value.to_vec()),
                    0x9F4B => out.has_sdad = true,
                    _ => {}
                }
            }
            out.cid = cid.ok_or(EndReason::MissingMandatoryData { tag: 0x9F27 })?;
            if out.atc.len() != 2 {
                return Err(EndReason::MissingMandatoryData { tag: 0x9F36 });
            }
            if out.cryptogram.is_none() && !out.has_sdad {
                return Err(EndReason::MissingMandatoryData { tag: 0x9F26 });
            }
            Ok(out)
        }
        t => Err(ferr(format!("response template {t:X}; 80 or 77 expected"))),
    }
}

/// After the first GENERATE AC.
#[derive(Debug)]
pub(crate) enum FirstAcOutcome {
    Final(Decision),
    Online,
}

/// Book 3 §5.4 / §10.7: TDOL hash (98) if CDOL names it.
fn tc_hash(ctx: &mut Ctx, cdol: &[u8]) -> Phase<()> {
    if !crate::dol::contains(cdol, 0x98) {
        return Ok(());
    }
    let tdol = match ctx.store.get(0x97) {
        Some(t) => t.to_vec(),
        None => {
            if !ctx.aid().default_tdol.is_empty() {
                ctx.set(TvrBit::DefaultTdolUsed);
                ctx.sync();
            }
            ctx.aid().default_tdol.clone()
        }
    };
    let data = crate::dol::build(&tdol, &ctx.store)?;
    ctx.store
        .set_terminal(0x98, smartpos_crypto::hash::sha1(&data).to_vec());
    Ok(())
}

/// Send GENERATE AC, store its data, check CDA; returns the card's cryptogram type.
pub(crate) fn generate_ac<T: CardTransport>(
    ctx: &mut Ctx,
    ch: &mut Channel<T>,
    requested: Cryptogram,
    cdol_tag: u32,
    first: bool,
) -> Phase<Cryptogram> {
    let cdol = ctx
        .store
        .get(cdol_tag)
        .ok_or(EndReason::MissingMandatoryData { tag: cdol_tag })?
        .to_vec();
    tc_hash(ctx, &cdol)?;
    ctx.sync();
    let data = crate::dol::build(&cdol, &ctx.store)?;
    let cda = ctx.oda.cda_pending && !ctx.oda.failed && requested != Cryptogram::Aac;
    let p1 = requested.p1() | if cda { 0x10 } else { 0x00 };
    let resp = ch.transmit(&Apdu::generate_ac(p1, &data))?;
    if !resp.is_ok() {
        return Err(EndReason::CardError {
            command: GEN_AC,
            sw: resp.sw(),
        });
    }
    if first {
        ctx.cdol1_data = data.clone();
    }
    let ac = parse_ac_response(&resp.data)?;
    let got = Cryptogram::from_cid(ac.cid).ok_or(EndReason::InvalidCryptogram { cid: ac.cid })?;
    // Book 3 §9.3: the card may not return a higher cryptogram than requested.
    if got > requested {
        return Err(EndReason::InvalidCryptogram { cid: ac.cid });
    }
    ctx.store.set_card(0x9F27, vec![ac.cid]);
    ctx.store.set_card(0x9F36, ac.atc.clone());
    if let Some(c) = &ac.cryptogram {
        ctx.store.set_card(0x9F26, c.clone());
    }
    if let Some(iad) = &ac.iad {
        ctx.store.set_card(0x9F10, iad.clone());
    }
    if ac.cid & 0x08 != 0 {
        ctx.advice = true;
    }
    if cda && got != Cryptogram::Aac {
        ctx.tsi(TsiBit::OfflineDataAuthenticationPerformed);
        let template = ac.template.clone().unwrap_or_default();
        let extra = if first { Vec::new() } else { data.clone() };
        let checked = if ac.template.is_some() {
            crate::oda::verify_cda_response(ctx, &template, ac.cid, &extra)
        } else {
            Err("format 1 response to a CDA request".to_string())
        };
        if let Err(reason) = checked {
            ctx.oda.failure = Some(reason);
            ctx.set(TvrBit::CdaFailed);
            ctx.oda.failed = true;
            return Ok(Cryptogram::Aac);
        }
    } else if ac.cryptogram.is_none() {
        return Err(EndReason::MissingMandatoryData { tag: 0x9F26 });
    }
    Ok(got)
}

/// §10.7 + §10.8: terminal action analysis, GENERATE AC 1, card action analysis.
pub(crate) fn first_generate_ac<T: CardTransport>(
    ctx: &mut Ctx,
    ch: &mut Channel<T>,
) -> Phase<FirstAcOutcome> {
    let requested = terminal_action_analysis(ctx);
    let got = generate_ac(ctx, ch, requested, 0x8C, true)?;
    ctx.tsi(TsiBit::CardRiskManagementPerformed);
    let cda_failed =
        ctx.oda.method == OdaMethod::Cda && ctx.oda.failed && ctx.tvr.is_set(TvrBit::CdaFailed);
    match got {
        Cryptogram::Tc => Ok(FirstAcOutcome::Final(Decision::Approved)),
        Cryptogram::Aac => {
            if cda_failed && ctx.store.byte(0x9F27, 0).is_some_and(|c| c & 0xC0 == 0x80) {
                // CDA failed on an ARQC: close the card session with an AAC (Book 2 §6.6.2).
                ctx.store.set_terminal(0x8A, b"Z1".to_vec());
                let _ = generate_ac(ctx, ch, Cryptogram::Aac, 0x8D, false);
            }
            Ok(FirstAcOutcome::Final(Decision::Declined))
        }
        Cryptogram::Arqc => {
            if ctx.cfg.terminal.is_offline_only() {
                let r = crate::completion::complete_online(ctx, ch, None)?;
                Ok(FirstAcOutcome::Final(r))
            } else {
                Ok(FirstAcOutcome::Online)
            }
        }
    }
}
