//! SM-algorithm offline data authentication for Book C-7 / PBOC 3.0 cards that say so: the
//! terminal announces SM support with DF69 = 01 in the PDOL data; such a card presents
//! SM2-signed certificates instead of RSA-recovered ones, and fDDA is an SM2 signature with
//! SM3 hashing (GB/T 32918.2 §7 via `smartpos_crypto::sm2`, user ID "1234567812345678").
//!
//! Layouts (from the public descriptions of PBOC 3.0 Part 17; not validated against a real
//! SM card):
//!
//! ```text
//! Issuer certificate (90):  12 | issuer id (4) | expiry MMYY (2) | serial (3) | 04 (SM2) |
//!                           04 (SM2 key) | 40 | public key X||Y (64) | signature r||s (64)
//!                           signed by the CA SM2 key over everything before the signature
//! ICC certificate (9F46):   14 | PAN (10, F-padded) | expiry (2) | serial (3) | 04 | 04 | 40 |
//!                           key (64) | signature (64) over the prefix || static data
//! SDAD (9F4B):              15 | 04 | L_DD | ICC dynamic data (L_DD) | signature (64)
//!                           over the prefix || terminal dynamic data
//! ```

use smartpos_crypto::sm2::{DEFAULT_ID, Sm2PublicKey, Sm2Signature};

/// An SM2 CA public key (RID, index).
#[derive(Debug)]
pub struct SmCaKey {
    pub rid: [u8; 5],
    pub index: u8,
    pub key: Sm2PublicKey,
}

const ISSUER_FORMAT: u8 = 0x12;
const ICC_FORMAT: u8 = 0x14;
const SDAD_FORMAT: u8 = 0x15;
const SM2: u8 = 0x04;

/// Whether a certificate (90) is in the SM format.
pub fn is_sm_certificate(cert: &[u8]) -> bool {
    cert.first() == Some(&ISSUER_FORMAT)
}

fn key_from(x_y: &[u8]) -> Result<Sm2PublicKey, String> {
    let mut enc = Vec::with_capacity(65);
    enc.push(0x04);
    enc.extend_from_slice(x_y);
    Sm2PublicKey::from_bytes(&enc).map_err(|e| e.to_string())
}

fn verify(key: &Sm2PublicKey, signed: &[&[u8]], sig: &[u8], what: &str) -> Result<(), String> {
    let sig = Sm2Signature::from_bytes(sig).map_err(|e| format!("{what}: {e}"))?;
    let msg = signed.concat();
    match key.verify(DEFAULT_ID, &msg, &sig) {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!("{what}: SM2 signature does not verify")),
        Err(e) => Err(format!("{what}: {e}")),
    }
}

/// A certificate split into (signed part, public key X||Y, signature r||s).
type CertParts<'a> = (&'a [u8], &'a [u8], &'a [u8]);

/// Split `prefix (fixed) | key len | key | signature`.
fn split_cert<'a>(cert: &'a [u8], header: usize, what: &str) -> Result<CertParts<'a>, String> {
    let key_len = usize::from(*cert.get(header - 1).ok_or(format!("{what} too short"))?);
    if key_len != 64 {
        return Err(format!("{what}: public key length {key_len}, 64 expected"));
    }
    let signed = cert
        .get(..header + key_len)
        .ok_or(format!("{what} too short"))?;
    let key = cert
        .get(header..header + key_len)
        .ok_or(format!("{what} too short"))?;
    let sig = cert
        .get(header + key_len..)
        .filter(|s| s.len() == 64)
        .ok_or(format!("{what}: signature must be 64 bytes"))?;
    Ok((signed, key, sig))
}

/// MMYY (BCD) → YYMM comparable number.
fn yymm(mmyy: &[u8]) -> u32 {
    let d = crate::data::bcd_to_u64(mmyy).unwrap_or(0) as u32;
    (d % 100) * 100 + d / 100
}

/// Verify the SM chain and the SM fDDA signature; `today` is the transaction date (BCD
/// YYMMDD); returns the ICC Dynamic Data.
#[allow(clippy::too_many_arguments)]
pub fn verify_sm_fdda(
    ca: &SmCaKey,
    issuer_cert: &[u8],
    icc_cert: &[u8],
    pan: &[u8],
    static_data: &[u8],
    sdad: &[u8],
    terminal_dynamic_data: &[u8],
    today: &[u8; 3],
) -> Result<Vec<u8>, String> {
    let today_yymm = yymm(&[today[1], today[0]]);
    // Issuer certificate.
    if issuer_cert.first() != Some(&ISSUER_FORMAT) || issuer_cert.get(10..12) != Some(&[SM2, SM2]) {
        return Err("issuer certificate is not SM format 12 with SM2".into());
    }
    let (signed, key, sig) = split_cert(issuer_cert, 13, "issuer certificate")?;
    verify(&ca.key, &[signed], sig, "issuer certificate")?;
    let id = issuer_cert.get(1..5).unwrap_or(&[]);
    let id_digits: String = hex::encode_upper(id).trim_end_matches('F').to_string();
    if !hex::encode_upper(pan).starts_with(&id_digits) || id_digits.len() < 3 {
        return Err("issuer identifier does not match the PAN".into());
    }
    if yymm(issuer_cert.get(5..7).unwrap_or(&[])) < today_yymm {
        return Err("issuer certificate expired".into());
    }
    let issuer_key = key_from(key)?;
    // ICC certificate.
    if icc_cert.first() != Some(&ICC_FORMAT) || icc_cert.get(16..18) != Some(&[SM2, SM2]) {
        return Err("ICC certificate is not SM format 14 with SM2".into());
    }
    let (signed, key, sig) = split_cert(icc_cert, 19, "ICC certificate")?;
    verify(&issuer_key, &[signed, static_data], sig, "ICC certificate")?;
    let cert_pan = hex::encode_upper(icc_cert.get(1..11).unwrap_or(&[]));
    if cert_pan.trim_end_matches('F') != hex::encode_upper(pan).trim_end_matches('F') {
        return Err("ICC certificate PAN does not match 5A".into());
    }
    if yymm(icc_cert.get(11..13).unwrap_or(&[])) < today_yymm {
        return Err("ICC certificate expired".into());
    }
    let icc_key = key_from(key)?;
    // SDAD.
    if sdad.first() != Some(&SDAD_FORMAT) || sdad.get(1) != Some(&SM2) {
        return Err("SDAD is not SM format 15".into());
    }
    let l_dd = usize::from(*sdad.get(2).ok_or("SDAD too short")?);
    let signed = sdad
        .get(..3 + l_dd)
        .ok_or("SDAD shorter than its dynamic data")?;
    let sig = sdad
        .get(3 + l_dd..)
        .filter(|s| s.len() == 64)
        .ok_or("SDAD signature must be 64 bytes")?;
    verify(&icc_key, &[signed, terminal_dynamic_data], sig, "SDAD")?;
    Ok(signed.get(3..).unwrap_or(&[]).to_vec())
}
