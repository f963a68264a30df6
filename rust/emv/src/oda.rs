//! Offline data authentication (EMV Book 2 §5 SDA, §6 DDA and CDA; Book 3 §10.3): method
//! choice, CA key lookup by RID and index with expiry, the revocation list, and every
//! certificate check delegated to `smartpos_crypto::rsa::oda`.

use crate::apdu::Apdu;
use crate::kernel::{Ctx, Phase};
use crate::outcome::{EndReason, OdaMethod};
use crate::transport::{CardTransport, Channel};
use crate::tvr::{TsiBit, TvrBit};
use smartpos_crypto::rsa::RsaPublicKey;
use smartpos_crypto::rsa::oda::{
    IssuerPublicKey, TransactionDate, recover_icc_public_key, recover_issuer_public_key,
    verify_cda, verify_signed_dynamic_data, verify_signed_static_data,
};
use smartpos_tlv::TlvReader;

/// ODA progress of one transaction.
#[derive(Debug, Default)]
pub struct OdaState {
    pub method: OdaMethod,
    pub failed: bool,
    /// Static data to be authenticated (records flagged in the AFL, then the 9F4A list).
    pub static_data: Vec<u8>,
    pub record_invalid: bool,
    pub issuer_key: Option<RsaPublicKey>,
    pub icc_key: Option<RsaPublicKey>,
    /// CDA is to be requested in GENERATE AC.
    pub cda_pending: bool,
    /// Why ODA failed, for diagnostics.
    pub failure: Option<String>,
}

/// AIP byte 1 bits (Book 3 Annex C.1).
pub mod aip {
    pub const SDA: u8 = 0x40;
    pub const DDA: u8 = 0x20;
    pub const CARDHOLDER_VERIFICATION: u8 = 0x10;
    pub const TERMINAL_RISK_MANAGEMENT: u8 = 0x08;
    pub const ISSUER_AUTHENTICATION: u8 = 0x04;
    pub const CDA: u8 = 0x01;
}

fn today(ctx: &Ctx) -> Result<TransactionDate, String> {
    TransactionDate::from_bcd_yymmdd(&ctx.params.date).map_err(|e| e.to_string())
}

/// Book 3 §10.3: choose CDA, else DDA, else SDA (both card and terminal must support it), and
/// perform SDA/DDA now; for CDA recover the keys now and sign in GENERATE AC.
pub(crate) fn perform_before_ac<T: CardTransport>(ctx: &mut Ctx, ch: &mut Channel<T>) -> Phase<()> {
    let a = ctx.aip[0];
    let t = &ctx.cfg.terminal;
    let method = if a & aip::CDA != 0 && t.supports_cda() {
        OdaMethod::Cda
    } else if a & aip::DDA != 0 && t.supports_dda() {
        OdaMethod::Dda
    } else if a & aip::SDA != 0 && t.supports_sda() {
        OdaMethod::Sda
    } else {
        OdaMethod::None
    };
    ctx.oda.method = method;
    let fail_bit = match method {
        OdaMethod::None => {
            ctx.set(TvrBit::OfflineDataAuthenticationNotPerformed);
            return Ok(());
        }
        OdaMethod::Sda => {
            ctx.set(TvrBit::SdaSelected);
            TvrBit::SdaFailed
        }
        OdaMethod::Dda => TvrBit::DdaFailed,
        OdaMethod::Cda => TvrBit::CdaFailed,
    };
    let result = match method {
        OdaMethod::Sda => sda(ctx),
        OdaMethod::Dda => dda(ctx, ch),
        _ => retrieve_icc_key(ctx).map(|k| {
            ctx.oda.icc_key = Some(k);
            ctx.oda.cda_pending = true;
        }),
    };
    match result {
        Ok(()) => {
            if method != OdaMethod::Cda {
                ctx.tsi(TsiBit::OfflineDataAuthenticationPerformed);
            }
            Ok(())
        }
        Err(OdaFailure::Transport(e)) => Err(e),
        Err(OdaFailure::Missing(tag)) => {
            ctx.oda.failure = Some(format!("ICC data {tag:X} missing"));
            ctx.set(TvrBit::IccDataMissing);
            ctx.set(fail_bit);
            ctx.oda.failed = true;
            ctx.tsi(TsiBit::OfflineDataAuthenticationPerformed);
            Ok(())
        }
        Err(OdaFailure::Failed(reason)) => {
            ctx.oda.failure = Some(reason);
            ctx.set(fail_bit);
            ctx.oda.failed = true;
            ctx.tsi(TsiBit::OfflineDataAuthenticationPerformed);
            Ok(())
        }
    }
}

/// Why ODA failed (internal: mapped to TVR bits).
#[derive(Debug)]
pub(crate) enum OdaFailure {
    /// Required ICC data is missing (also sets "ICC data missing").
    Missing(u32),
    /// A check failed.
    Failed(String),
    /// The card link failed: ends the transaction.
    Transport(EndReason),
}

fn need(ctx: &Ctx, tag: u32) -> Result<Vec<u8>, OdaFailure> {
    ctx.store
        .get(tag)
        .map(<[u8]>::to_vec)
        .ok_or(OdaFailure::Missing(tag))
}

/// Static data to be authenticated: the ODA records plus the values named by 9F4A, which may
/// only list the AIP (Book 3 §10.3).
fn static_data(ctx: &Ctx) -> Result<Vec<u8>, OdaFailure> {
    if ctx.oda.record_invalid {
        return Err(OdaFailure::Failed(
            "a record flagged for ODA is not a template 70".into(),
        ));
    }
    let mut data = ctx.oda.static_data.clone();
    if let Some(list) = ctx.store.get(0x9F4A) {
        if list != [0x82] {
            return Err(OdaFailure::Failed(
                "Static Data Authentication Tag List holds tags other than 82".into(),
            ));
        }
        data.extend_from_slice(&ctx.aip);
    }
    Ok(data)
}

/// Book 2 §5.3 / §6.3: CA key (RID + 8F), then the issuer key from 90/92/9F32, with the CRL check.
fn retrieve_issuer_key(ctx: &Ctx) -> Result<IssuerPublicKey, OdaFailure> {
    let index = *need(ctx, 0x8F)?.first().ok_or(OdaFailure::Missing(0x8F))?;
    let rid = ctx
        .adf_name
        .as_deref()
        .and_then(|a| a.get(..5))
        .ok_or(OdaFailure::Missing(0x4F))?
        .to_vec();
    let ca = ctx.keys.get(&rid, index).ok_or_else(|| {
        OdaFailure::Failed(format!(
            "CA key {}/{index:02X} unknown",
            hex::encode_upper(&rid)
        ))
    })?;
    if ca.expiry < ctx.params.date_number() {
        return Err(OdaFailure::Failed(format!(
            "CA key {}/{index:02X} expired",
            hex::encode_upper(&rid)
        )));
    }
    let cert = need(ctx, 0x90)?;
    let exp = need(ctx, 0x9F32)?;
    let rem = ctx.store.get(0x92).unwrap_or(&[]).to_vec();
    let pan = need(ctx, 0x5A)?;
    let today = today(ctx).map_err(OdaFailure::Failed)?;
    let issuer = recover_issuer_public_key(&ca.key, &cert, &rem, &exp, &pan, today)
        .map_err(|e| OdaFailure::Failed(e.to_string()))?;
    let revoked = ctx.cfg.terminal.revoked_certificates.iter().any(|r| {
        r.rid == rid && r.index == index && r.serial.as_slice() == issuer.serial.as_slice()
    });
    if revoked {
        return Err(OdaFailure::Failed(
            "issuer certificate is on the revocation list".into(),
        ));
    }
    Ok(issuer)
}

/// Book 2 §5.4: SDA.
fn sda(ctx: &mut Ctx) -> Result<(), OdaFailure> {
    let ssad = need(ctx, 0x93)?;
    let issuer_key = retrieve_issuer_key(ctx)?.key;
    let data = static_data(ctx)?;
    let dac = verify_signed_static_data(&issuer_key, &ssad, &data)
        .map_err(|e| OdaFailure::Failed(e.to_string()))?;
    ctx.store.set_card(0x9F45, dac.to_vec());
    ctx.oda.issuer_key = Some(issuer_key);
    Ok(())
}

/// Book 2 §6.4: the ICC public key from 9F46/9F48/9F47.
pub(crate) fn retrieve_icc_key(ctx: &mut Ctx) -> Result<RsaPublicKey, OdaFailure> {
    let cert = need(ctx, 0x9F46)?;
    let exp = need(ctx, 0x9F47)?;
    let issuer_key = retrieve_issuer_key(ctx)?.key;
    let rem = ctx.store.get(0x9F48).unwrap_or(&[]).to_vec();
    let pan = need(ctx, 0x5A)?;
    let data = static_data(ctx)?;
    let today = today(ctx).map_err(OdaFailure::Failed)?;
    let icc = recover_icc_public_key(&issuer_key, &cert, &rem, &exp, &pan, &data, today)
        .map_err(|e| OdaFailure::Failed(e.to_string()))?;
    ctx.oda.issuer_key = Some(issuer_key);
    Ok(icc.key)
}

/// Book 2 §6.5: DDA with INTERNAL AUTHENTICATE over the DDOL (card 9F49, else the default DDOL).
fn dda<T: CardTransport>(ctx: &mut Ctx, ch: &mut Channel<T>) -> Result<(), OdaFailure> {
    let icc_key = retrieve_icc_key(ctx)?;
    let ddol = match ctx.store.get(0x9F49) {
        Some(d) => d.to_vec(),
        None if !ctx.aid().default_ddol.is_empty() => ctx.aid().default_ddol.clone(),
        None => return Err(OdaFailure::Missing(0x9F49)),
    };
    if !crate::dol::contains(&ddol, 0x9F37) {
        return Err(OdaFailure::Failed(
            "DDOL does not include the Unpredictable Number".into(),
        ));
    }
    let ddol_data = crate::dol::build(&ddol, &ctx.store).map_err(OdaFailure::Transport)?;
    let resp = ch
        .transmit(&Apdu::internal_authenticate(&ddol_data))
        .map_err(|e| OdaFailure::Transport(e.into()))?;
    if !resp.is_ok() {
        return Err(OdaFailure::Failed(format!(
            "INTERNAL AUTHENTICATE answered {:04X}",
            resp.sw()
        )));
    }
    let sdad = sdad_from_response(&resp.data).ok_or_else(|| {
        OdaFailure::Failed("no SDAD in the INTERNAL AUTHENTICATE response".into())
    })?;
    let dynamic = verify_signed_dynamic_data(&icc_key, &sdad, &ddol_data)
        .map_err(|e| OdaFailure::Failed(e.to_string()))?;
    ctx.store.set_card(0x9F4B, sdad);
    ctx.store.set_card(0x9F4C, dynamic.icc_dynamic_number);
    ctx.oda.icc_key = Some(icc_key);
    Ok(())
}

/// INTERNAL AUTHENTICATE format 1 (80: the SDAD) or format 2 (77 with 9F4B).
fn sdad_from_response(data: &[u8]) -> Option<Vec<u8>> {
    let top = TlvReader::new(data).next()?.ok()?;
    match top.tag.0 {
        0x80 => Some(top.value.to_vec()),
        0x77 => top
            .child(smartpos_tlv::Tag(0x9F4B))
            .ok()?
            .map(|t| t.value.to_vec()),
        _ => None,
    }
}

/// Book 2 §6.6.2: check the CDA signature of a GENERATE AC response (format 2).
/// `template` is the value of 77; `cdol_data` the data sent in this GENERATE AC (for the second
/// GENERATE AC, Book 2 §6.6.2 step 10 hashes PDOL data, CDOL1 data, CDOL2 data).
pub(crate) fn verify_cda_response(
    ctx: &mut Ctx,
    template: &[u8],
    cid: u8,
    extra_cdol_data: &[u8],
) -> Result<(), String> {
    let key = ctx.oda.icc_key.as_ref().ok_or("no ICC public key")?;
    let mut sdad = None;
    let mut tx = Vec::new();
    tx.extend_from_slice(&ctx.pdol_data);
    tx.extend_from_slice(&ctx.cdol1_data);
    tx.extend_from_slice(extra_cdol_data);
    for obj in TlvReader::new(template) {
        let obj = obj.map_err(|e| e.to_string())?;
        if obj.tag.0 == 0x9F4B {
            sdad = Some(obj.value);
        } else {
            tx.extend_from_slice(obj.raw);
        }
    }
    let sdad = sdad.ok_or("Signed Dynamic Application Data 9F4B missing")?;
    let un = ctx.params.unpredictable_number;
    let r = verify_cda(key, sdad, &un, cid, &tx).map_err(|e| e.to_string())?;
    ctx.store.set_card(0x9F4C, r.icc_dynamic_number);
    ctx.store
        .set_card(0x9F26, r.application_cryptogram.to_vec());
    Ok(())
}

/// Book 2 §7: the key for offline enciphered PIN: the ICC PIN Encipherment Public Key (9F2D,
/// 9F2E, 9F2F) if present, else the ICC public key.
pub(crate) fn pin_encipherment_key(ctx: &mut Ctx) -> Result<RsaPublicKey, String> {
    if let Some(cert) = ctx.store.get(0x9F2D).map(<[u8]>::to_vec) {
        let exp = ctx.store.get(0x9F2E).ok_or("9F2E missing")?.to_vec();
        let rem = ctx.store.get(0x9F2F).unwrap_or(&[]).to_vec();
        let pan = ctx.store.get(0x5A).ok_or("5A missing")?.to_vec();
        let issuer_key = match ctx.oda.issuer_key.take() {
            Some(k) => k,
            None => retrieve_issuer_key(ctx).map_err(|e| format!("{e:?}"))?.key,
        };
        let today = today(ctx)?;
        let r = recover_icc_public_key(&issuer_key, &cert, &rem, &exp, &pan, &[], today);
        ctx.oda.issuer_key = Some(issuer_key);
        return r.map(|k| k.key).map_err(|e| e.to_string());
    }
    if let Some(k) = &ctx.oda.icc_key {
        return k.try_clone().map_err(|e| e.to_string());
    }
    let k = retrieve_icc_key(ctx).map_err(|e| format!("{e:?}"))?;
    let out = k.try_clone().map_err(|e| e.to_string())?;
    ctx.oda.icc_key = Some(k);
    Ok(out)
}
