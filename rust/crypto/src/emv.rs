//! Issuer-side EMV symmetric cryptography (EMV 4.4 Book 2 Annex A1, §8, §9): ICC master key
//! derivation (options A and B), session keys, application cryptograms and the scheme data
//! layouts of common cryptogram versions, ARPC methods 1 and 2, and issuer script secure
//! messaging (integrity MAC and confidentiality encryption). Used by the host simulator, the
//! virtual card and the CLI.
//!
//! All keys are 2-key TDES [`SecretKey`]s; derived keys have odd DES parity set.

use crate::CryptoError;
use crate::cipher;
use crate::key::{KeyAlgorithm, SecretKey};
use crate::mac::{self, Padding};
use zeroize::Zeroizing;

/// Errors of the issuer-side EMV functions.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmvCryptoError {
    /// The PAN is not 1..19 decimal digits.
    #[error("PAN: {0}")]
    InvalidPan(&'static str),
    /// The PAN Sequence Number is not 2 decimal digits.
    #[error("PAN sequence number: must be 2 decimal digits (or empty for 00)")]
    InvalidPsn,
    /// A key of the wrong algorithm was passed.
    #[error("{role}: a 2-key TDES key is required, got {algorithm}")]
    UnsupportedKey {
        role: &'static str,
        algorithm: KeyAlgorithm,
    },
    /// A data element has the wrong length.
    #[error("{field}: {len} bytes, expected {expected}")]
    InvalidLength {
        field: &'static str,
        len: usize,
        expected: &'static str,
    },
    /// Decrypted script data is not in the expected format.
    #[error("script data: {0}")]
    InvalidScriptData(&'static str),
    /// A symmetric primitive failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

fn require_tdes2(role: &'static str, key: &SecretKey) -> Result<(), EmvCryptoError> {
    if key.algorithm() == KeyAlgorithm::Tdes2 {
        Ok(())
    } else {
        Err(EmvCryptoError::UnsupportedKey {
            role,
            algorithm: key.algorithm(),
        })
    }
}

fn digits(field: &str) -> Result<Vec<u8>, EmvCryptoError> {
    if field.is_empty() || field.len() > 19 {
        return Err(EmvCryptoError::InvalidPan("must be 1 to 19 digits"));
    }
    field
        .bytes()
        .map(|c| {
            if c.is_ascii_digit() {
                Ok(c - b'0')
            } else {
                Err(EmvCryptoError::InvalidPan("not decimal digits"))
            }
        })
        .collect()
}

fn psn_digits(psn: &str) -> Result<[u8; 2], EmvCryptoError> {
    match psn.as_bytes() {
        [] => Ok([0, 0]),
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => Ok([a - b'0', b - b'0']),
        _ => Err(EmvCryptoError::InvalidPsn),
    }
}

/// Pack 16 decimal digits into 8 bytes.
fn pack16(d: &[u8]) -> [u8; 8] {
    let mut out = [0u8; 8];
    for (i, pair) in d.chunks(2).take(8).enumerate() {
        let hi = pair.first().copied().unwrap_or(0);
        let lo = pair.get(1).copied().unwrap_or(0);
        out[i] = (hi << 4) | lo;
    }
    out
}

/// ZL = E(K, Y), ZR = E(K, Y ⊕ FF…FF), key = ZL ‖ ZR with odd parity (Book 2 A1.4.1 step 2).
fn derive_from_y(imk: &SecretKey, y: &[u8; 8]) -> Result<SecretKey, EmvCryptoError> {
    let mut block = Zeroizing::new([0u8; 16]);
    block[..8].copy_from_slice(y);
    for (dst, src) in block[8..].iter_mut().zip(y) {
        *dst = src ^ 0xFF;
    }
    let z = Zeroizing::new(cipher::encrypt_ecb(imk, &block[..])?);
    Ok(SecretKey::new(KeyAlgorithm::Tdes2, &z)?.with_odd_parity())
}

/// ICC master key derivation method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MkDerivation {
    /// Option A (Book 2 A1.4.1): the rightmost 16 digits of PAN ‖ PSN.
    OptionA,
    /// Option B (Book 2 A1.4.2): SHA-1 of PAN ‖ PSN decimalised, for PANs over 16 digits
    /// (for up to 16 digits it is option A).
    OptionB,
}

/// Derive the ICC master key from the issuer master key (Book 2 A1.4). `pan` is the decimal
/// PAN (tag 5A without 'F' padding), `psn` the 2-digit PAN Sequence Number (tag 5F34; empty
/// means "00").
pub fn derive_icc_mk(
    imk: &SecretKey,
    pan: &str,
    psn: &str,
    method: MkDerivation,
) -> Result<SecretKey, EmvCryptoError> {
    require_tdes2("issuer master key", imk)?;
    let mut x = digits(pan)?;
    let pan_len = x.len();
    x.extend_from_slice(&psn_digits(psn)?);
    let y = if method == MkDerivation::OptionB && pan_len > 16 {
        if x.len() % 2 == 1 {
            x.insert(0, 0);
        }
        let packed: Vec<u8> = x
            .chunks(2)
            .map(|p| (p[0] << 4) | p.get(1).copied().unwrap_or(0))
            .collect();
        let hash = openssl::sha::sha1(&packed);
        pack16(&decimalise(&hash))
    } else {
        let mut d = vec![0u8; 16usize.saturating_sub(x.len())];
        d.extend_from_slice(&x[x.len().saturating_sub(16)..]);
        pack16(&d)
    };
    derive_from_y(imk, &y)
}

/// Book 2 A1.4.2 step 2: the decimal digits of the hash from left to right, then (if fewer
/// than 16) the hex digits A-F converted to 0-5, from left to right; the first 16.
fn decimalise(hash: &[u8]) -> Vec<u8> {
    let nibbles: Vec<u8> = hash.iter().flat_map(|b| [b >> 4, b & 0x0F]).collect();
    let mut out: Vec<u8> = nibbles
        .iter()
        .copied()
        .filter(|n| *n <= 9)
        .take(16)
        .collect();
    out.extend(
        nibbles
            .iter()
            .filter(|n| **n > 9)
            .map(|n| n - 10)
            .take(16 - out.len()),
    );
    out
}

/// EMV common session key derivation (Book 2 A1.3.1): SK = E(MK, R with byte 3 = F0) ‖
/// E(MK, R with byte 3 = 0F), odd parity.
pub fn common_session_key(mk: &SecretKey, r: &[u8; 8]) -> Result<SecretKey, EmvCryptoError> {
    require_tdes2("ICC master key", mk)?;
    let mut block = Zeroizing::new([0u8; 16]);
    block[..8].copy_from_slice(r);
    block[8..].copy_from_slice(r);
    block[2] = 0xF0;
    block[10] = 0x0F;
    let z = Zeroizing::new(cipher::encrypt_ecb(mk, &block[..])?);
    Ok(SecretKey::new(KeyAlgorithm::Tdes2, &z)?.with_odd_parity())
}

/// The application cryptogram session key for an ATC: R = ATC ‖ 00…00 (Book 2 A1.3.1).
pub fn ac_session_key(mk: &SecretKey, atc: [u8; 2]) -> Result<SecretKey, EmvCryptoError> {
    let mut r = [0u8; 8];
    r[..2].copy_from_slice(&atc);
    common_session_key(mk, &r)
}

/// Mastercard session key derivation (M/Chip "SKD"): R = ATC ‖ 00 00 ‖ UN, then as the common
/// derivation.
pub fn mastercard_session_key(
    mk: &SecretKey,
    atc: [u8; 2],
    unpredictable_number: [u8; 4],
) -> Result<SecretKey, EmvCryptoError> {
    let mut r = [0u8; 8];
    r[..2].copy_from_slice(&atc);
    r[4..].copy_from_slice(&unpredictable_number);
    common_session_key(mk, &r)
}

/// An application cryptogram (ARQC, TC, AAC): ISO 9797-1 MAC algorithm 3 with the session key
/// (or the ICC master key where the scheme uses none) over `data` padded by `padding`
/// (Book 2 A1.2, §8.1.2).
pub fn application_cryptogram(
    sk: &SecretKey,
    data: &[u8],
    padding: Padding,
) -> Result<[u8; 8], EmvCryptoError> {
    require_tdes2("AC session key", sk)?;
    to8(&mac::retail_mac(sk, data, padding)?)
}

fn to8(v: &[u8]) -> Result<[u8; 8], EmvCryptoError> {
    v.get(..8)
        .and_then(|s| <[u8; 8]>::try_from(s).ok())
        .ok_or(EmvCryptoError::InvalidLength {
            field: "MAC",
            len: v.len(),
            expected: "8",
        })
}

/// ARPC method 1 (Book 2 A1.2.1 / §8.2.1): E(SK, ARQC ⊕ (ARC ‖ 00…00)).
pub fn arpc_method1(
    sk: &SecretKey,
    arqc: &[u8; 8],
    arc: &[u8; 2],
) -> Result<[u8; 8], EmvCryptoError> {
    require_tdes2("ARPC key", sk)?;
    let mut block = *arqc;
    block[0] ^= arc[0];
    block[1] ^= arc[1];
    to8(&cipher::encrypt_ecb(sk, &block)?)
}

/// ARPC method 2 (Book 2 A1.2.2 / §8.2.2): the leftmost 4 bytes of ISO 9797-1 MAC algorithm 3
/// (padding method 2) over ARQC ‖ CSU ‖ Proprietary Authentication Data (0-8 bytes).
pub fn arpc_method2(
    sk: &SecretKey,
    arqc: &[u8; 8],
    csu: &[u8; 4],
    proprietary_auth_data: &[u8],
) -> Result<[u8; 4], EmvCryptoError> {
    require_tdes2("ARPC key", sk)?;
    if proprietary_auth_data.len() > 8 {
        return Err(EmvCryptoError::InvalidLength {
            field: "proprietary authentication data",
            len: proprietary_auth_data.len(),
            expected: "0..8",
        });
    }
    let mut data = Vec::with_capacity(20);
    data.extend_from_slice(arqc);
    data.extend_from_slice(csu);
    data.extend_from_slice(proprietary_auth_data);
    let m = mac::retail_mac(sk, &data, Padding::Method2)?;
    let mut out = [0u8; 4];
    out.copy_from_slice(m.get(..4).unwrap_or(&[0; 4]));
    Ok(out)
}

/// Secure messaging session key (Book 2 §9.2.1.3 / §9.2.2.3): the common session key
/// derivation with R = the application cryptogram of the transaction.
pub fn secure_messaging_session_key(
    mk_sm: &SecretKey,
    application_cryptogram: &[u8; 8],
) -> Result<SecretKey, EmvCryptoError> {
    common_session_key(mk_sm, application_cryptogram)
}

/// Visa secure messaging session key (VIS): SK_L = MK_L ⊕ (00…00 ‖ ATC),
/// SK_R = MK_R ⊕ (00…00 ‖ (ATC ⊕ FFFF)), odd parity. Visa cards (CVN 10, 18) derive their script
/// integrity and confidentiality keys this way instead of [`secure_messaging_session_key`].
pub fn visa_secure_messaging_session_key(
    mk_sm: &SecretKey,
    atc: [u8; 2],
) -> Result<SecretKey, EmvCryptoError> {
    require_tdes2("ICC secure messaging master key", mk_sm)?;
    let mut mask = [0u8; 16];
    mask[6..8].copy_from_slice(&atc);
    mask[14] = atc[0] ^ 0xFF;
    mask[15] = atc[1] ^ 0xFF;
    Ok(mk_sm.xor(&mask)?.with_odd_parity())
}

/// Issuer script integrity MAC (Book 2 §9.2.1): ISO 9797-1 MAC algorithm 3 with padding
/// method 2 under the integrity session key; 8 bytes (schemes send the leftmost 4-8).
/// `data` is what the scheme's format MACs, e.g. CLA INS P1 P2 Lc ‖ ATC ‖ AC ‖ command data.
pub fn script_mac(sk_smi: &SecretKey, data: &[u8]) -> Result<[u8; 8], EmvCryptoError> {
    require_tdes2("script MAC session key", sk_smi)?;
    to8(&mac::retail_mac(sk_smi, data, Padding::Method2)?)
}

/// How script command data is framed before encipherment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptEncryptionFormat {
    /// Book 2 §9.2.2.1: data ‖ 80 ‖ 00… to a multiple of 8 (ISO/IEC 9797-1 padding method 2,
    /// always applied).
    Emv,
    /// Data padded with 80 00… only when not already a multiple of 8 (Mastercard, Interac).
    PadIfNeeded,
}

/// Encipher issuer script command data (Book 2 §9.2.2) under the confidentiality session key:
/// TDES CBC with a zero IV.
pub fn script_encrypt(
    sk_smc: &SecretKey,
    data: &[u8],
    format: ScriptEncryptionFormat,
) -> Result<Vec<u8>, EmvCryptoError> {
    require_tdes2("script encryption session key", sk_smc)?;
    let mut framed = Zeroizing::new(Vec::with_capacity(data.len() + 9));
    match format {
        ScriptEncryptionFormat::Emv => {
            framed.extend_from_slice(data);
            framed.push(0x80);
        }
        ScriptEncryptionFormat::PadIfNeeded => {
            framed.extend_from_slice(data);
            if framed.len() % 8 != 0 {
                framed.push(0x80);
            }
        }
    }
    while framed.len() % 8 != 0 {
        framed.push(0x00);
    }
    Ok(cipher::encrypt_cbc(sk_smc, &[0u8; 8], &framed)?)
}

/// Decipher script data enciphered with [`script_encrypt`] in the [`ScriptEncryptionFormat::Emv`]
/// format and return the data (the card side).
pub fn script_decrypt_emv(
    sk_smc: &SecretKey,
    enciphered: &[u8],
) -> Result<Zeroizing<Vec<u8>>, EmvCryptoError> {
    require_tdes2("script encryption session key", sk_smc)?;
    if enciphered.is_empty() || enciphered.len() % 8 != 0 {
        return Err(EmvCryptoError::InvalidLength {
            field: "enciphered script data",
            len: enciphered.len(),
            expected: "a positive multiple of 8",
        });
    }
    let plain = Zeroizing::new(cipher::decrypt_cbc(sk_smc, &[0u8; 8], enciphered)?);
    // Strip padding method 2: trailing zeros, then the 80 marker (within the last block).
    let marker = plain
        .iter()
        .rposition(|b| *b != 0)
        .filter(|at| plain.get(*at) == Some(&0x80) && plain.len() - at <= 8)
        .ok_or(EmvCryptoError::InvalidScriptData("padding is not 80 00..."))?;
    Ok(Zeroizing::new(plain.get(..marker).unwrap_or(&[]).to_vec()))
}

/// Scheme cryptogram versions (CVN) whose data layout and keys this module knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cvn {
    /// Visa CVN 10 (VIS 1.4): ICC MK (no session key), padding method 1, CVR (4 bytes from the
    /// IAD) appended.
    Visa10,
    /// Visa CVN 18 (VIS 1.5): common session key, padding method 2, the whole IAD appended.
    Visa18,
    /// Visa CVN 22 (VIS 1.6, IAD format 2): common session key, padding method 2, whole IAD.
    Visa22,
    /// Mastercard CVN 16 (M/Chip 4, hex 10): Mastercard SKD, padding 2, CVR (6 bytes from the
    /// IAD) appended, counters not included.
    Mastercard16,
    /// Mastercard CVN 17 (M/Chip 4, hex 11): as 16 with the IAD counters (8 bytes) included.
    Mastercard17,
    /// Mastercard CVN 20 (M/Chip Advance, hex 14): EMV common session key, CVR, no counters.
    Mastercard20,
    /// Mastercard CVN 21 (M/Chip Advance, hex 15): EMV common session key, CVR and counters.
    Mastercard21,
}

/// The terminal and card data an application cryptogram covers (Book 2 §8.1.1, Table 26).
#[derive(Debug, Clone, Copy)]
pub struct AcData<'a> {
    /// 9F02 Amount, Authorised (6 bytes).
    pub amount_authorised: &'a [u8],
    /// 9F03 Amount, Other (6 bytes).
    pub amount_other: &'a [u8],
    /// 9F1A Terminal Country Code (2 bytes).
    pub terminal_country_code: &'a [u8],
    /// 95 Terminal Verification Results (5 bytes).
    pub tvr: &'a [u8],
    /// 5F2A Transaction Currency Code (2 bytes).
    pub transaction_currency_code: &'a [u8],
    /// 9A Transaction Date (3 bytes).
    pub transaction_date: &'a [u8],
    /// 9C Transaction Type (1 byte).
    pub transaction_type: &'a [u8],
    /// 9F37 Unpredictable Number (4 bytes).
    pub unpredictable_number: &'a [u8],
    /// 82 Application Interchange Profile (2 bytes).
    pub aip: &'a [u8],
    /// 9F36 Application Transaction Counter (2 bytes).
    pub atc: &'a [u8],
    /// 9F10 Issuer Application Data (value only).
    pub iad: &'a [u8],
}

fn fixed<const N: usize>(field: &'static str, v: &[u8]) -> Result<[u8; N], EmvCryptoError> {
    <[u8; N]>::try_from(v).map_err(|_| EmvCryptoError::InvalidLength {
        field,
        len: v.len(),
        expected: match N {
            1 => "1",
            2 => "2",
            3 => "3",
            4 => "4",
            5 => "5",
            6 => "6",
            _ => "fixed",
        },
    })
}

impl Cvn {
    /// The padding method of the cryptogram.
    pub fn padding(self) -> Padding {
        if self == Cvn::Visa10 {
            Padding::Method1
        } else {
            Padding::Method2
        }
    }

    /// The key the cryptogram is computed with, from the ICC master key for AC.
    pub fn ac_key(
        self,
        icc_mk_ac: &SecretKey,
        data: &AcData<'_>,
    ) -> Result<SecretKey, EmvCryptoError> {
        let atc = fixed::<2>("9F36 ATC", data.atc)?;
        match self {
            Cvn::Visa10 => {
                require_tdes2("ICC master key", icc_mk_ac)?;
                Ok(icc_mk_ac.clone())
            }
            Cvn::Visa18 | Cvn::Visa22 | Cvn::Mastercard20 | Cvn::Mastercard21 => {
                ac_session_key(icc_mk_ac, atc)
            }
            Cvn::Mastercard16 | Cvn::Mastercard17 => {
                let un = fixed::<4>("9F37 unpredictable number", data.unpredictable_number)?;
                mastercard_session_key(icc_mk_ac, atc, un)
            }
        }
    }

    /// The concatenated cryptogram input (before padding).
    pub fn ac_input(self, d: &AcData<'_>) -> Result<Vec<u8>, EmvCryptoError> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(&fixed::<6>("9F02 amount authorised", d.amount_authorised)?);
        out.extend_from_slice(&fixed::<6>("9F03 amount other", d.amount_other)?);
        out.extend_from_slice(&fixed::<2>(
            "9F1A terminal country code",
            d.terminal_country_code,
        )?);
        out.extend_from_slice(&fixed::<5>("95 TVR", d.tvr)?);
        out.extend_from_slice(&fixed::<2>(
            "5F2A currency code",
            d.transaction_currency_code,
        )?);
        out.extend_from_slice(&fixed::<3>("9A transaction date", d.transaction_date)?);
        out.extend_from_slice(&fixed::<1>("9C transaction type", d.transaction_type)?);
        out.extend_from_slice(&fixed::<4>(
            "9F37 unpredictable number",
            d.unpredictable_number,
        )?);
        out.extend_from_slice(&fixed::<2>("82 AIP", d.aip)?);
        out.extend_from_slice(&fixed::<2>("9F36 ATC", d.atc)?);
        let iad_part = |range: std::ops::Range<usize>, expected: &'static str| {
            d.iad.get(range).ok_or(EmvCryptoError::InvalidLength {
                field: "9F10 IAD",
                len: d.iad.len(),
                expected,
            })
        };
        match self {
            // Visa IAD format 0/1/3: length, DKI, CVN, CVR (4 bytes: bytes 4-7).
            Cvn::Visa10 => out.extend_from_slice(iad_part(3..7, "at least 7")?),
            Cvn::Visa18 | Cvn::Visa22 => out.extend_from_slice(d.iad),
            // M/Chip IAD: KDI, CVN, CVR (6, bytes 3-8), DAC/IDN (2), counters (8, bytes 11-18).
            Cvn::Mastercard16 | Cvn::Mastercard20 => {
                out.extend_from_slice(iad_part(2..8, "at least 8")?)
            }
            Cvn::Mastercard17 | Cvn::Mastercard21 => {
                out.extend_from_slice(iad_part(2..8, "at least 18")?);
                out.extend_from_slice(iad_part(10..18, "at least 18")?);
            }
        }
        Ok(out)
    }

    /// Generate (or, on the host, recompute to verify) the application cryptogram.
    pub fn generate_ac(
        self,
        icc_mk_ac: &SecretKey,
        data: &AcData<'_>,
    ) -> Result<[u8; 8], EmvCryptoError> {
        let key = self.ac_key(icc_mk_ac, data)?;
        let input = self.ac_input(data)?;
        application_cryptogram(&key, &input, self.padding())
    }
}
