//! The issuer / CA side of EMV offline data authentication: building and signing Issuer and ICC
//! Public Key Certificates, Signed Static Application Data and Signed Dynamic Application Data
//! (EMV Book 2 §5.2, §5.4, §6.2, §6.5, §6.6 and Annex A2.1), for the test PKI and the virtual
//! card. The output recovers with the functions of [`super::oda`].

use super::oda::{
    FORMAT_ICC_CERTIFICATE, FORMAT_ISSUER_CERTIFICATE, FORMAT_SIGNED_DYNAMIC_DATA,
    FORMAT_SIGNED_STATIC_DATA, HASH_ALGORITHM_SHA1, HEADER, PUBLIC_KEY_ALGORITHM_RSA, TRAILER,
};
use super::{RsaError, RsaPrivateKey, RsaPublicKey};

/// Errors building a signed EMV object.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The key being certified is longer than the signer's key (EMV requires N_I <= N_CA,
    /// N_IC <= N_I).
    #[error("certified key is {key_len} bytes, longer than the signer's {signer_len}")]
    KeyTooLong { key_len: usize, signer_len: usize },
    /// The data does not fit in the signer's modulus.
    #[error("{what} is {len} bytes; at most {max} fit under a {signer_len}-byte key")]
    DataTooLong {
        what: &'static str,
        len: usize,
        max: usize,
        signer_len: usize,
    },
    /// A field is not in its EMV format (PAN digits, MMYY).
    #[error("{field}: {reason}")]
    InvalidField {
        field: &'static str,
        reason: &'static str,
    },
    /// The RSA operation failed.
    #[error(transparent)]
    Rsa(#[from] RsaError),
}

/// A signed certificate as a card carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCertificate {
    /// The certificate (tag 90 or 9F46), as long as the signer's modulus.
    pub certificate: Vec<u8>,
    /// The public key remainder (tag 92 or 9F48); empty if the key fits in the certificate.
    pub remainder: Vec<u8>,
    /// The public key exponent (tag 9F32 or 9F47).
    pub exponent: Vec<u8>,
}

/// Build `6A | format | body | hash | BC`, padded so the whole is `n` bytes, hash over
/// `format | body | extra...`, and sign it.
fn sign_message(
    signer: &RsaPrivateKey,
    format: u8,
    body: &[u8],
    hashed_extra: &[&[u8]],
) -> Result<Vec<u8>, SignError> {
    let n = signer.modulus_len();
    let mut message = Vec::with_capacity(n);
    message.push(HEADER);
    message.push(format);
    message.extend_from_slice(body);
    let mut sha = openssl::sha::Sha1::new();
    sha.update(message.get(1..).unwrap_or(&[]));
    for part in hashed_extra {
        sha.update(part);
    }
    message.extend_from_slice(&sha.finish());
    message.push(TRAILER);
    if message.len() != n {
        return Err(SignError::DataTooLong {
            what: "signed data",
            len: message.len(),
            max: n,
            signer_len: n,
        });
    }
    Ok(signer.private_op(&message)?)
}

/// Split a key modulus into the part inside the certificate (padded with 'BB' to `field_len`)
/// and the remainder.
fn split_key(modulus: &[u8], field_len: usize) -> (Vec<u8>, Vec<u8>) {
    if modulus.len() <= field_len {
        let mut field = modulus.to_vec();
        field.resize(field_len, 0xBB);
        (field, Vec::new())
    } else {
        let (head, tail) = modulus.split_at(field_len);
        (head.to_vec(), tail.to_vec())
    }
}

fn key_len_byte(key: &RsaPublicKey, signer: &RsaPrivateKey) -> Result<u8, SignError> {
    let key_len = key.modulus_len();
    if key_len > signer.modulus_len() {
        return Err(SignError::KeyTooLong {
            key_len,
            signer_len: signer.modulus_len(),
        });
    }
    u8::try_from(key_len).map_err(|_| SignError::KeyTooLong {
        key_len,
        signer_len: signer.modulus_len(),
    })
}

fn check_mmyy(mmyy: [u8; 2]) -> Result<(), SignError> {
    let ok = |b: u8| (b >> 4) <= 9 && (b & 0x0F) <= 9;
    let month = (mmyy[0] >> 4) * 10 + (mmyy[0] & 0x0F);
    if !ok(mmyy[0]) || !ok(mmyy[1]) || !(1..=12).contains(&month) {
        return Err(SignError::InvalidField {
            field: "expiry",
            reason: "not an MMYY date",
        });
    }
    Ok(())
}

/// The Issuer Identifier for a PAN: its leftmost `digits` (3..=8) digits, 'F' padded
/// (Book 2 Table 6). `pan` is tag 5A (BCD, optionally 'F' padded).
pub fn issuer_identifier_from_pan(pan: &[u8], digits: usize) -> Result<[u8; 4], SignError> {
    if !(3..=8).contains(&digits) {
        return Err(SignError::InvalidField {
            field: "issuer identifier",
            reason: "3..8 digits",
        });
    }
    let nibbles: Vec<u8> = pan
        .iter()
        .flat_map(|b| [b >> 4, b & 0x0F])
        .take(digits)
        .collect();
    if nibbles.len() < digits || nibbles.iter().any(|n| *n > 9) {
        return Err(SignError::InvalidField {
            field: "PAN",
            reason: "fewer digits than asked",
        });
    }
    Ok(f_padded(&nibbles))
}

/// A PAN as 10 bytes of compressed numeric ('F' padded), for the ICC certificate.
fn pan_field(pan: &[u8]) -> Result<[u8; 10], SignError> {
    let mut digits = Vec::new();
    for n in pan.iter().flat_map(|b| [b >> 4, b & 0x0F]) {
        match n {
            0..=9 => digits.push(n),
            0x0F => break,
            _ => {
                return Err(SignError::InvalidField {
                    field: "PAN",
                    reason: "not BCD digits",
                });
            }
        }
    }
    if digits.is_empty() || digits.len() > 19 {
        return Err(SignError::InvalidField {
            field: "PAN",
            reason: "1..19 digits",
        });
    }
    Ok(f_padded(&digits))
}

/// Decimal digits (one per byte, 0-9) as compressed numeric: two per byte, left-justified, the
/// rest of the `N` bytes 'F' padded (EMV Book 3 §4.3, format cn). Digits beyond `2 * N` are
/// dropped; callers check the count first.
fn f_padded<const N: usize>(digits: &[u8]) -> [u8; N] {
    let mut out = [0xFFu8; N];
    for (i, n) in digits.iter().enumerate() {
        if let Some(slot) = out.get_mut(i / 2) {
            *slot = if i % 2 == 0 {
                (*slot & 0x0F) | (n << 4)
            } else {
                (*slot & 0xF0) | n
            };
        }
    }
    out
}

/// Build and sign an Issuer Public Key Certificate (EMV Book 2 §5.2, Table 6) under the CA key.
pub fn sign_issuer_certificate(
    ca_key: &RsaPrivateKey,
    issuer_identifier: [u8; 4],
    expiry_mmyy: [u8; 2],
    serial: [u8; 3],
    issuer_key: &RsaPublicKey,
) -> Result<SignedCertificate, SignError> {
    check_mmyy(expiry_mmyy)?;
    let key_len = key_len_byte(issuer_key, ca_key)?;
    let exponent = issuer_key.exponent().to_vec();
    let (field, remainder) = split_key(issuer_key.modulus(), ca_key.modulus_len() - 36);
    let mut body = Vec::with_capacity(ca_key.modulus_len());
    body.extend_from_slice(&issuer_identifier);
    body.extend_from_slice(&expiry_mmyy);
    body.extend_from_slice(&serial);
    body.push(HASH_ALGORITHM_SHA1);
    body.push(PUBLIC_KEY_ALGORITHM_RSA);
    body.push(key_len);
    body.push(exponent.len() as u8);
    body.extend_from_slice(&field);
    let certificate = sign_message(
        ca_key,
        FORMAT_ISSUER_CERTIFICATE,
        &body,
        &[&remainder, &exponent],
    )?;
    Ok(SignedCertificate {
        certificate,
        remainder,
        exponent,
    })
}

/// Build and sign an ICC Public Key Certificate (EMV Book 2 §6.2, Table 14) under the issuer
/// key; `static_data` is the Static Data to be Authenticated the card will present.
pub fn sign_icc_certificate(
    issuer_key: &RsaPrivateKey,
    pan: &[u8],
    expiry_mmyy: [u8; 2],
    serial: [u8; 3],
    icc_key: &RsaPublicKey,
    static_data: &[u8],
) -> Result<SignedCertificate, SignError> {
    check_mmyy(expiry_mmyy)?;
    let key_len = key_len_byte(icc_key, issuer_key)?;
    if issuer_key.modulus_len() < 42 + 1 {
        return Err(SignError::KeyTooLong {
            key_len: 43,
            signer_len: issuer_key.modulus_len(),
        });
    }
    let exponent = icc_key.exponent().to_vec();
    let (field, remainder) = split_key(icc_key.modulus(), issuer_key.modulus_len() - 42);
    let mut body = Vec::with_capacity(issuer_key.modulus_len());
    body.extend_from_slice(&pan_field(pan)?);
    body.extend_from_slice(&expiry_mmyy);
    body.extend_from_slice(&serial);
    body.push(HASH_ALGORITHM_SHA1);
    body.push(PUBLIC_KEY_ALGORITHM_RSA);
    body.push(key_len);
    body.push(exponent.len() as u8);
    body.extend_from_slice(&field);
    let certificate = sign_message(
        issuer_key,
        FORMAT_ICC_CERTIFICATE,
        &body,
        &[&remainder, &exponent, static_data],
    )?;
    Ok(SignedCertificate {
        certificate,
        remainder,
        exponent,
    })
}

/// Sign Static Application Data (EMV Book 2 §5.4, Table 7) with the issuer key: tag 93.
pub fn sign_static_data(
    issuer_key: &RsaPrivateKey,
    data_authentication_code: [u8; 2],
    static_data: &[u8],
) -> Result<Vec<u8>, SignError> {
    let n = issuer_key.modulus_len();
    let mut body = Vec::with_capacity(n);
    body.push(HASH_ALGORITHM_SHA1);
    body.extend_from_slice(&data_authentication_code);
    body.resize(n.saturating_sub(23), 0xBB);
    sign_message(issuer_key, FORMAT_SIGNED_STATIC_DATA, &body, &[static_data])
}

/// Sign Dynamic Application Data (EMV Book 2 §6.5.1, Table 17) with the ICC key: tag 9F4B.
/// `icc_dynamic_data` is the ICC Dynamic Data (see [`dda_dynamic_data`] / [`cda_dynamic_data`]);
/// `terminal_dynamic_data` is the DDOL data (DDA) or the Unpredictable Number (CDA).
pub fn sign_dynamic_data(
    icc_key: &RsaPrivateKey,
    icc_dynamic_data: &[u8],
    terminal_dynamic_data: &[u8],
) -> Result<Vec<u8>, SignError> {
    let n = icc_key.modulus_len();
    let max = n.saturating_sub(25);
    let l_dd = icc_dynamic_data.len();
    if l_dd > max || l_dd > 255 {
        return Err(SignError::DataTooLong {
            what: "ICC Dynamic Data",
            len: l_dd,
            max: max.min(255),
            signer_len: n,
        });
    }
    let mut body = Vec::with_capacity(n);
    body.push(HASH_ALGORITHM_SHA1);
    body.push(l_dd as u8);
    body.extend_from_slice(icc_dynamic_data);
    body.resize(n - 23, 0xBB);
    sign_message(
        icc_key,
        FORMAT_SIGNED_DYNAMIC_DATA,
        &body,
        &[terminal_dynamic_data],
    )
}

/// ICC Dynamic Data for DDA (Book 2 Table 18 first element): length || ICC Dynamic Number.
pub fn dda_dynamic_data(icc_dynamic_number: &[u8]) -> Result<Vec<u8>, SignError> {
    if !(2..=8).contains(&icc_dynamic_number.len()) {
        return Err(SignError::InvalidField {
            field: "ICC Dynamic Number",
            reason: "must be 2..8 bytes",
        });
    }
    let mut out = vec![icc_dynamic_number.len() as u8];
    out.extend_from_slice(icc_dynamic_number);
    Ok(out)
}

/// ICC Dynamic Data for CDA (Book 2 Table 19): length || ICC Dynamic Number || CID || AC ||
/// SHA-1(transaction data), the transaction data as in [`super::oda::verify_cda`].
pub fn cda_dynamic_data(
    icc_dynamic_number: &[u8],
    cid: u8,
    application_cryptogram: [u8; 8],
    transaction_data: &[u8],
) -> Result<Vec<u8>, SignError> {
    let mut out = dda_dynamic_data(icc_dynamic_number)?;
    out.push(cid);
    out.extend_from_slice(&application_cryptogram);
    out.extend_from_slice(&openssl::sha::sha1(transaction_data));
    Ok(out)
}
