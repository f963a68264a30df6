//! EMV offline data authentication: recovery and checking of the RSA-signed objects
//! (EMV 4.4 Book 2 §5 SDA and §6 DDA/CDA).
//!
//! Every function is pure: the certificate data, the card's data and the transaction date come
//! in as arguments. Checks run in the order of Book 2 §5.3, §5.4, §6.3, §6.4, §6.5.2 and §6.6.2,
//! and each failure is a distinct [`OdaError`] variant so the kernel can set the right TVR bit
//! and log the right reason.

use super::{RsaError, RsaPublicKey};
use crate::hash::{HashAlgorithm, SHA1_LEN};

/// Recovered Data Header (Book 2 Tables 6, 7, 14, 17).
pub const HEADER: u8 = 0x6A;
/// Recovered Data Trailer.
pub const TRAILER: u8 = 0xBC;
/// Certificate Format of an Issuer Public Key Certificate.
pub const FORMAT_ISSUER_CERTIFICATE: u8 = 0x02;
/// Signed Data Format of Signed Static Application Data.
pub const FORMAT_SIGNED_STATIC_DATA: u8 = 0x03;
/// Certificate Format of an ICC Public Key Certificate.
pub const FORMAT_ICC_CERTIFICATE: u8 = 0x04;
/// Signed Data Format of Signed Dynamic Application Data.
pub const FORMAT_SIGNED_DYNAMIC_DATA: u8 = 0x05;
/// Public key algorithm indicator for RSA (Book 2 Annex B2.2).
pub const PUBLIC_KEY_ALGORITHM_RSA: u8 = 0x01;
/// Hash algorithm indicator for SHA-1 (Book 2 Annex B2.3).
pub const HASH_ALGORITHM_SHA1: u8 = 0x01;

/// Which signed object a check failed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OdaObject {
    /// Issuer Public Key Certificate (tag 90).
    IssuerCertificate,
    /// ICC Public Key Certificate (tag 9F46).
    IccCertificate,
    /// Signed Static Application Data (tag 93).
    SignedStaticData,
    /// Signed Dynamic Application Data (tag 9F4B).
    SignedDynamicData,
}

impl std::fmt::Display for OdaObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OdaObject::IssuerCertificate => "Issuer Public Key Certificate",
            OdaObject::IccCertificate => "ICC Public Key Certificate",
            OdaObject::SignedStaticData => "Signed Static Application Data",
            OdaObject::SignedDynamicData => "Signed Dynamic Application Data",
        })
    }
}

/// Why offline data authentication failed.
#[derive(Debug, thiserror::Error)]
pub enum OdaError {
    /// The signed object is not as long as the signer's modulus (Book 2 §5.3 step 1 and alike).
    #[error("{object}: {actual} bytes, expected the signer's modulus length {expected}")]
    LengthMismatch {
        object: OdaObject,
        expected: usize,
        actual: usize,
    },
    /// Recovered Data Trailer is not 'BC'.
    #[error("{object}: recovered data trailer is {found:02X}, expected BC")]
    BadTrailer { object: OdaObject, found: u8 },
    /// Recovered Data Header is not '6A'.
    #[error("{object}: recovered data header is {found:02X}, expected 6A")]
    BadHeader { object: OdaObject, found: u8 },
    /// Certificate / Signed Data Format is not the one expected.
    #[error("{object}: format is {found:02X}, expected {expected:02X}")]
    BadFormat {
        object: OdaObject,
        expected: u8,
        found: u8,
    },
    /// Hash Algorithm Indicator is not a known algorithm (only '01' SHA-1 is).
    #[error("{object}: hash algorithm indicator {indicator:02X} is not supported")]
    UnsupportedHashAlgorithm { object: OdaObject, indicator: u8 },
    /// Public Key Algorithm Indicator is not RSA ('01').
    #[error("{object}: public key algorithm indicator {indicator:02X} is not supported")]
    UnsupportedPublicKeyAlgorithm { object: OdaObject, indicator: u8 },
    /// The hash recomputed over the recovered data differs from the recovered Hash Result.
    #[error("{object}: hash result does not match the recovered data")]
    HashMismatch { object: OdaObject },
    /// The certificate expired before the transaction date.
    #[error("{object}: expired at the end of {expiry_mmyy} (transaction date {today})")]
    Expired {
        object: OdaObject,
        expiry_mmyy: String,
        today: TransactionDate,
    },
    /// The Certificate Expiration Date is not a valid MMYY.
    #[error("{object}: certificate expiration date {expiry_mmyy} is not a valid MMYY")]
    InvalidExpiryDate {
        object: OdaObject,
        expiry_mmyy: String,
    },
    /// Issuer Identifier / recovered PAN does not match the Application PAN.
    #[error("{object}: {field} does not match the Application PAN")]
    PanMismatch {
        object: OdaObject,
        field: &'static str,
    },
    /// A key length field disagrees with the data (key longer than the signer's, remainder
    /// missing / too long / unexpected, exponent length wrong).
    #[error("{object}: key length mismatch: {detail}")]
    KeyLengthMismatch { object: OdaObject, detail: String },
    /// The ICC Dynamic Data inside Signed Dynamic Application Data is malformed.
    #[error("Signed Dynamic Application Data: ICC dynamic data malformed: {0}")]
    MalformedDynamicData(&'static str),
    /// CDA: the recovered Cryptogram Information Data differs from the GENERATE AC's.
    #[error(
        "CDA: recovered CID {recovered:02X} differs from the GENERATE AC response CID {expected:02X}"
    )]
    CidMismatch { recovered: u8, expected: u8 },
    /// CDA: the Transaction Data Hash Code does not match the transaction data.
    #[error("CDA: transaction data hash code does not match the transaction data")]
    TransactionDataHashMismatch,
    /// A date passed in by the caller is invalid.
    #[error("transaction date {0}: invalid")]
    InvalidTransactionDate(String),
    /// The recovered public key itself is unusable (exponent not 3/65537, bad modulus).
    #[error("{object}: recovered key unusable: {source}")]
    RecoveredKey { object: OdaObject, source: RsaError },
    /// The raw RSA operation failed (input not smaller than the modulus).
    #[error("{object}: RSA recovery failed: {source}")]
    Rsa { object: OdaObject, source: RsaError },
}

/// A transaction date (EMV tag 9A), for the certificate expiry checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TransactionDate {
    year: u16,
    month: u8,
    day: u8,
}

impl std::fmt::Display for TransactionDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl TransactionDate {
    /// A date with a four-digit year; month 1..=12, day 1..=31.
    pub fn new(year: u16, month: u8, day: u8) -> Result<Self, OdaError> {
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) || !(1950..=2049).contains(&year)
        {
            return Err(OdaError::InvalidTransactionDate(format!(
                "{year:04}-{month:02}-{day:02}"
            )));
        }
        Ok(TransactionDate { year, month, day })
    }

    /// From tag 9A (YYMMDD, BCD). YY 00-49 is 20YY, 50-99 is 19YY (EMV Book 4 §6.7.3 rule).
    pub fn from_bcd_yymmdd(bcd: &[u8]) -> Result<Self, OdaError> {
        let err = || OdaError::InvalidTransactionDate(hex::encode_upper(bcd));
        let [y, m, d] = <[u8; 3]>::try_from(bcd).map_err(|_| err())?;
        let yy = bcd_byte(y).ok_or_else(err)?;
        let month = bcd_byte(m).ok_or_else(err)?;
        let day = bcd_byte(d).ok_or_else(err)?;
        let year = century(yy);
        Self::new(year, month, day).map_err(|_| err())
    }

    /// Year (four digits).
    pub fn year(&self) -> u16 {
        self.year
    }
    /// Month 1..=12.
    pub fn month(&self) -> u8 {
        self.month
    }
    /// Day 1..=31.
    pub fn day(&self) -> u8 {
        self.day
    }
}

fn century(yy: u8) -> u16 {
    if yy < 50 {
        2000 + u16::from(yy)
    } else {
        1900 + u16::from(yy)
    }
}

fn bcd_byte(b: u8) -> Option<u8> {
    let (hi, lo) = (b >> 4, b & 0x0F);
    (hi <= 9 && lo <= 9).then_some(hi * 10 + lo)
}

/// Check a Certificate Expiration Date (MMYY, BCD): valid through the last day of that month.
fn check_expiry(object: OdaObject, mmyy: [u8; 2], today: TransactionDate) -> Result<(), OdaError> {
    let text = hex::encode_upper(mmyy);
    let invalid = || OdaError::InvalidExpiryDate {
        object,
        expiry_mmyy: text.clone(),
    };
    let month = bcd_byte(mmyy[0]).ok_or_else(invalid)?;
    let yy = bcd_byte(mmyy[1]).ok_or_else(invalid)?;
    if !(1..=12).contains(&month) {
        return Err(invalid());
    }
    let expiry = (century(yy), month);
    if (today.year, today.month) > expiry {
        return Err(OdaError::Expired {
            object,
            expiry_mmyy: text,
            today,
        });
    }
    Ok(())
}

/// The decimal digits of a compressed-numeric field (digits then 'F' padding). `None` if a
/// non-digit nibble appears before the padding or a digit appears after it.
fn cn_digits(field: &[u8]) -> Option<Vec<u8>> {
    let mut digits = Vec::with_capacity(field.len() * 2);
    let mut padding = false;
    for nibble in field.iter().flat_map(|b| [b >> 4, b & 0x0F]) {
        match nibble {
            0..=9 if !padding => digits.push(nibble),
            0x0F => padding = true,
            _ => return None,
        }
    }
    Some(digits)
}

/// Book 2 §5.3 step 8: the Issuer Identifier (leftmost 3-8 PAN digits, 'F' padded) must match
/// the leftmost digits of the Application PAN (tag 5A).
pub fn issuer_identifier_matches(issuer_identifier: &[u8; 4], pan: &[u8]) -> bool {
    let (Some(id), Some(pan)) = (cn_digits(issuer_identifier), cn_digits(pan)) else {
        return false;
    };
    (3..=8).contains(&id.len()) && pan.len() >= id.len() && pan.starts_with(&id)
}

/// Book 2 §6.4 step 10: the recovered Application PAN equals the card's PAN (tag 5A).
fn full_pan_matches(recovered: &[u8], pan: &[u8]) -> bool {
    match (cn_digits(recovered), cn_digits(pan)) {
        (Some(a), Some(b)) => !a.is_empty() && a == b,
        _ => false,
    }
}

/// Recover the message and check length, trailer, header and format (the first steps common
/// to every signed EMV object).
fn recover(
    object: OdaObject,
    key: &RsaPublicKey,
    signed: &[u8],
    format: u8,
) -> Result<Vec<u8>, OdaError> {
    let expected = key.modulus_len();
    if signed.len() != expected {
        return Err(OdaError::LengthMismatch {
            object,
            expected,
            actual: signed.len(),
        });
    }
    let recovered = key
        .public_op(signed)
        .map_err(|source| OdaError::Rsa { object, source })?;
    let trailer = recovered.last().copied().unwrap_or(0);
    if trailer != TRAILER {
        return Err(OdaError::BadTrailer {
            object,
            found: trailer,
        });
    }
    let header = recovered.first().copied().unwrap_or(0);
    if header != HEADER {
        return Err(OdaError::BadHeader {
            object,
            found: header,
        });
    }
    let found = recovered.get(1).copied().unwrap_or(0);
    if found != format {
        return Err(OdaError::BadFormat {
            object,
            expected: format,
            found,
        });
    }
    Ok(recovered)
}

/// Check the hash: SHA-1 over `recovered[1 .. len-21]` followed by `extra` parts must equal
/// the recovered Hash Result `recovered[len-21 .. len-1]`.
fn check_hash(
    object: OdaObject,
    indicator: u8,
    recovered: &[u8],
    extra: &[&[u8]],
) -> Result<(), OdaError> {
    if HashAlgorithm::from_emv_indicator(indicator) != Some(HashAlgorithm::Sha1) {
        return Err(OdaError::UnsupportedHashAlgorithm { object, indicator });
    }
    let len = recovered.len();
    let hash_start = len.saturating_sub(1 + SHA1_LEN);
    let (Some(signed_part), Some(hash_result)) = (
        recovered.get(1..hash_start),
        recovered.get(hash_start..len.saturating_sub(1)),
    ) else {
        return Err(OdaError::HashMismatch { object });
    };
    let mut sha = openssl::sha::Sha1::new();
    sha.update(signed_part);
    for part in extra {
        sha.update(part);
    }
    let computed = sha.finish();
    if !ct_eq(&computed, hash_result) {
        return Err(OdaError::HashMismatch { object });
    }
    Ok(())
}

/// Constant-time equality (lengths are public).
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && openssl::memcmp::eq(a, b)
}

fn byte(recovered: &[u8], at: usize) -> u8 {
    recovered.get(at).copied().unwrap_or(0)
}

fn array<const N: usize>(recovered: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(src) = recovered.get(at..at + N) {
        out.copy_from_slice(src);
    }
    out
}

/// Assemble the recovered key modulus from the certificate field and the remainder
/// (Book 2 §5.3 step 12 / §6.4 step 12) and check every length involved.
fn assemble_modulus(
    object: OdaObject,
    key_field: &[u8],
    key_len: usize,
    remainder: &[u8],
    signer_len: usize,
) -> Result<Vec<u8>, OdaError> {
    if key_len > signer_len {
        return Err(OdaError::KeyLengthMismatch {
            object,
            detail: format!(
                "key length {key_len} exceeds the signer's modulus length {signer_len}"
            ),
        });
    }
    if key_len <= key_field.len() {
        if !remainder.is_empty() {
            return Err(OdaError::KeyLengthMismatch {
                object,
                detail: format!(
                    "key length {key_len} fits in the certificate but a {}-byte remainder was given",
                    remainder.len()
                ),
            });
        }
        return Ok(key_field.get(..key_len).unwrap_or(key_field).to_vec());
    }
    let needed = key_len - key_field.len();
    if remainder.len() != needed {
        return Err(OdaError::KeyLengthMismatch {
            object,
            detail: format!(
                "key length {key_len} needs a {needed}-byte remainder, got {}",
                remainder.len()
            ),
        });
    }
    let mut modulus = Vec::with_capacity(key_len);
    modulus.extend_from_slice(key_field);
    modulus.extend_from_slice(remainder);
    Ok(modulus)
}

/// What an Issuer Public Key Certificate certifies.
#[derive(Debug)]
pub struct IssuerPublicKey {
    /// The recovered issuer key, ready for recovering ICC certificates / SSAD.
    pub key: RsaPublicKey,
    /// Issuer Identifier (leftmost 3-8 PAN digits, 'F' padded).
    pub issuer_identifier: [u8; 4],
    /// Certificate Expiration Date, MMYY BCD.
    pub expiry: [u8; 2],
    /// Certificate Serial Number: with the RID and CA key index, what a revocation list lists
    /// (Book 2 §5.3 step 10).
    pub serial: [u8; 3],
}

/// Recover and check an Issuer Public Key Certificate (EMV Book 2 §5.3 / §6.3, Table 6).
///
/// `certificate` is tag 90, `remainder` tag 92 (empty if absent), `exponent` tag 9F32, `pan` tag
/// 5A; the certificate must not have expired before `today`. The revocation check (step 10)
/// is the caller's, with [`IssuerPublicKey::serial`].
pub fn recover_issuer_public_key(
    ca_key: &RsaPublicKey,
    certificate: &[u8],
    remainder: &[u8],
    exponent: &[u8],
    pan: &[u8],
    today: TransactionDate,
) -> Result<IssuerPublicKey, OdaError> {
    let object = OdaObject::IssuerCertificate;
    let n_ca = ca_key.modulus_len();
    if n_ca < 37 + 1 {
        return Err(OdaError::LengthMismatch {
            object,
            expected: 38,
            actual: n_ca,
        });
    }
    let recovered = recover(object, ca_key, certificate, FORMAT_ISSUER_CERTIFICATE)?;
    // Table 6: 6A | 02 | issuer id(4) | expiry(2) | serial(3) | hash alg | pk alg | N_I | exp len
    //          | key or leftmost digits (N_CA-36) | hash (20) | BC
    check_hash(
        object,
        byte(&recovered, 11),
        &recovered,
        &[remainder, exponent],
    )?;
    let issuer_identifier: [u8; 4] = array(&recovered, 2);
    if !issuer_identifier_matches(&issuer_identifier, pan) {
        return Err(OdaError::PanMismatch {
            object,
            field: "Issuer Identifier",
        });
    }
    let expiry: [u8; 2] = array(&recovered, 6);
    check_expiry(object, expiry, today)?;
    let serial: [u8; 3] = array(&recovered, 8);
    let algorithm = byte(&recovered, 12);
    if algorithm != PUBLIC_KEY_ALGORITHM_RSA {
        return Err(OdaError::UnsupportedPublicKeyAlgorithm {
            object,
            indicator: algorithm,
        });
    }
    let key_len = usize::from(byte(&recovered, 13));
    let exponent_len = usize::from(byte(&recovered, 14));
    if exponent_len != exponent.len() {
        return Err(OdaError::KeyLengthMismatch {
            object,
            detail: format!(
                "certificate says the exponent is {exponent_len} bytes, tag 9F32 has {}",
                exponent.len()
            ),
        });
    }
    let key_field = recovered.get(15..n_ca - 21).unwrap_or(&[]);
    let modulus = assemble_modulus(object, key_field, key_len, remainder, n_ca)?;
    let key = RsaPublicKey::new(&modulus, exponent)
        .map_err(|source| OdaError::RecoveredKey { object, source })?;
    Ok(IssuerPublicKey {
        key,
        issuer_identifier,
        expiry,
        serial,
    })
}

impl IssuerPublicKey {
    /// The entry a certificate revocation list holds for this certificate (Book 2 §5.3 step 10):
    /// RID ‖ CA Public Key Index ‖ Certificate Serial Number.
    pub fn revocation_entry(&self, rid: &[u8; 5], ca_index: u8) -> [u8; 9] {
        let mut entry = [0u8; 9];
        entry[..5].copy_from_slice(rid);
        entry[5] = ca_index;
        entry[6..].copy_from_slice(&self.serial);
        entry
    }
}

/// What an ICC Public Key Certificate certifies.
#[derive(Debug)]
pub struct IccPublicKey {
    /// The recovered ICC key, ready for checking SDAD.
    pub key: RsaPublicKey,
    /// Certificate Expiration Date, MMYY BCD.
    pub expiry: [u8; 2],
    /// Certificate Serial Number.
    pub serial: [u8; 3],
}

/// Recover and check an ICC Public Key Certificate (EMV Book 2 §6.4, Table 14).
///
/// `certificate` is tag 9F46, `remainder` tag 9F48 (empty if absent), `exponent` tag 9F47, `pan`
/// tag 5A, `static_data` the Static Data to be Authenticated (Book 3 §10.3: records flagged for
/// ODA, plus the tags of the Static Data Authentication Tag List).
pub fn recover_icc_public_key(
    issuer_key: &RsaPublicKey,
    certificate: &[u8],
    remainder: &[u8],
    exponent: &[u8],
    pan: &[u8],
    static_data: &[u8],
    today: TransactionDate,
) -> Result<IccPublicKey, OdaError> {
    let object = OdaObject::IccCertificate;
    let n_i = issuer_key.modulus_len();
    let recovered = recover(object, issuer_key, certificate, FORMAT_ICC_CERTIFICATE)?;
    // Table 14: 6A | 04 | PAN(10) | expiry(2) | serial(3) | hash alg | pk alg | N_IC | exp len
    //           | key or leftmost digits (N_I-42) | hash (20) | BC
    check_hash(
        object,
        byte(&recovered, 17),
        &recovered,
        &[remainder, exponent, static_data],
    )?;
    let recovered_pan = recovered.get(2..12).unwrap_or(&[]);
    if !full_pan_matches(recovered_pan, pan) {
        return Err(OdaError::PanMismatch {
            object,
            field: "recovered Application PAN",
        });
    }
    let expiry: [u8; 2] = array(&recovered, 12);
    check_expiry(object, expiry, today)?;
    let serial: [u8; 3] = array(&recovered, 14);
    let algorithm = byte(&recovered, 18);
    if algorithm != PUBLIC_KEY_ALGORITHM_RSA {
        return Err(OdaError::UnsupportedPublicKeyAlgorithm {
            object,
            indicator: algorithm,
        });
    }
    let key_len = usize::from(byte(&recovered, 19));
    let exponent_len = usize::from(byte(&recovered, 20));
    if exponent_len != exponent.len() {
        return Err(OdaError::KeyLengthMismatch {
            object,
            detail: format!(
                "certificate says the exponent is {exponent_len} bytes, tag 9F47 has {}",
                exponent.len()
            ),
        });
    }
    let key_field = recovered.get(21..n_i - 21).unwrap_or(&[]);
    let modulus = assemble_modulus(object, key_field, key_len, remainder, n_i)?;
    let key = RsaPublicKey::new(&modulus, exponent)
        .map_err(|source| OdaError::RecoveredKey { object, source })?;
    Ok(IccPublicKey {
        key,
        expiry,
        serial,
    })
}

/// Check Signed Static Application Data (EMV Book 2 §5.4, Table 7) and return the Data
/// Authentication Code (tag 9F45).
pub fn verify_signed_static_data(
    issuer_key: &RsaPublicKey,
    signed_static_data: &[u8],
    static_data: &[u8],
) -> Result<[u8; 2], OdaError> {
    let object = OdaObject::SignedStaticData;
    let recovered = recover(
        object,
        issuer_key,
        signed_static_data,
        FORMAT_SIGNED_STATIC_DATA,
    )?;
    // Table 7: 6A | 03 | hash alg | DAC(2) | pad BB (N_I-26) | hash (20) | BC
    check_hash(object, byte(&recovered, 2), &recovered, &[static_data])?;
    Ok(array(&recovered, 3))
}

/// The ICC Dynamic Data recovered from Signed Dynamic Application Data (Book 2 Table 17/19).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IccDynamicData {
    /// The whole ICC Dynamic Data field (length L_DD).
    pub data: Vec<u8>,
    /// ICC Dynamic Number (tag 9F4C), 2-8 bytes.
    pub icc_dynamic_number: Vec<u8>,
}

impl IccDynamicData {
    fn parse(data: &[u8]) -> Result<Self, OdaError> {
        let len = usize::from(*data.first().ok_or(OdaError::MalformedDynamicData(
            "empty: no ICC Dynamic Number length",
        ))?);
        if !(2..=8).contains(&len) {
            return Err(OdaError::MalformedDynamicData(
                "ICC Dynamic Number length not 2..8",
            ));
        }
        let number = data.get(1..1 + len).ok_or(OdaError::MalformedDynamicData(
            "ICC Dynamic Number longer than the data",
        ))?;
        Ok(IccDynamicData {
            data: data.to_vec(),
            icc_dynamic_number: number.to_vec(),
        })
    }
}

/// Recover SDAD and check everything but the content of the ICC Dynamic Data.
fn recover_sdad(
    icc_key: &RsaPublicKey,
    sdad: &[u8],
    terminal_dynamic_data: &[u8],
) -> Result<IccDynamicData, OdaError> {
    let object = OdaObject::SignedDynamicData;
    let n_ic = icc_key.modulus_len();
    let recovered = recover(object, icc_key, sdad, FORMAT_SIGNED_DYNAMIC_DATA)?;
    // Table 17: 6A | 05 | hash alg | L_DD | ICC dynamic data (L_DD) | pad BB (N_IC-L_DD-25)
    //           | hash (20) | BC
    let l_dd = usize::from(byte(&recovered, 3));
    if l_dd + 25 > n_ic {
        return Err(OdaError::MalformedDynamicData(
            "ICC Dynamic Data length exceeds the signature",
        ));
    }
    check_hash(
        object,
        byte(&recovered, 2),
        &recovered,
        &[terminal_dynamic_data],
    )?;
    IccDynamicData::parse(recovered.get(4..4 + l_dd).unwrap_or(&[]))
}

/// DDA: check Signed Dynamic Application Data from INTERNAL AUTHENTICATE (EMV Book 2 §6.5.2).
/// `terminal_dynamic_data` is the DDOL-related data sent in the command.
pub fn verify_signed_dynamic_data(
    icc_key: &RsaPublicKey,
    sdad: &[u8],
    terminal_dynamic_data: &[u8],
) -> Result<IccDynamicData, OdaError> {
    recover_sdad(icc_key, sdad, terminal_dynamic_data)
}

/// What CDA recovers (EMV Book 2 §6.6.2, Table 19).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdaResult {
    /// ICC Dynamic Number (tag 9F4C).
    pub icc_dynamic_number: Vec<u8>,
    /// Cryptogram Information Data.
    pub cid: u8,
    /// The Application Cryptogram (tag 9F26 is not in the response under CDA: this is it).
    pub application_cryptogram: [u8; 8],
}

/// CDA: check the SDAD of a GENERATE AC response (EMV Book 2 §6.6.2).
///
/// `unpredictable_number` is tag 9F37 as sent; `cid` is the CID (9F27) of the response;
/// `transaction_data` is the concatenation hashed into the Transaction Data Hash Code: the
/// PDOL-related data, the CDOL1-related data (and CDOL2 data for the second GENERATE AC), then
/// the TLV data objects of the response except the SDAD (Book 2 §6.6.2 step 10).
pub fn verify_cda(
    icc_key: &RsaPublicKey,
    sdad: &[u8],
    unpredictable_number: &[u8],
    cid: u8,
    transaction_data: &[u8],
) -> Result<CdaResult, OdaError> {
    let dynamic = recover_sdad(icc_key, sdad, unpredictable_number)?;
    let n = dynamic.icc_dynamic_number.len();
    // ICC Dynamic Data: len | number | CID | AC(8) | TDHC(20)
    let rest = dynamic
        .data
        .get(1 + n..1 + n + 29)
        .ok_or(OdaError::MalformedDynamicData(
            "too short for CID, cryptogram and hash code",
        ))?;
    let recovered_cid = rest.first().copied().unwrap_or(0);
    if recovered_cid != cid {
        return Err(OdaError::CidMismatch {
            recovered: recovered_cid,
            expected: cid,
        });
    }
    let application_cryptogram: [u8; 8] = array(rest, 1);
    let hash_code = rest.get(9..29).unwrap_or(&[]);
    let computed = openssl::sha::sha1(transaction_data);
    if !ct_eq(&computed, hash_code) {
        return Err(OdaError::TransactionDataHashMismatch);
    }
    Ok(CdaResult {
        icc_dynamic_number: dynamic.icc_dynamic_number,
        cid,
        application_cryptogram,
    })
}
