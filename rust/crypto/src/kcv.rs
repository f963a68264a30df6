//! Key check values (ANSI X9.24-1:2017 §7.7.2 and Annex A).
//!
//! * Encrypt-zeros ("legacy") method: encrypt one block of binary zeros under the key; the
//!   convention is to show the leftmost 3 bytes (6 hex digits). Used for DES/TDES and SM4 keys, and
//!   for AES keys where a partner still uses it.
//! * CMAC method (X9.24-1:2017 A.3, the method for AES keys, also used by TR-31/X9.143): the CMAC
//!   (NIST SP 800-38B) under the key of one block of binary zeros (16 bytes for AES); the convention is
//!   the leftmost 5 bytes (openemv/crypto `crypto_aes_kcv.c` cites X9.24-1:2017 A.3 for this; some
//!   services such as AWS Payment Cryptography show 3).
//!
//! The functions return the full block; callers truncate.

use crate::cipher;
use crate::error::CryptoError;
use crate::key::SecretKey;
use crate::mac;

/// How a key check value is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KcvMethod {
    /// Encrypt a block of zeros (X9.24-1:2017 §7.7.2 legacy method).
    Zeros,
    /// CMAC of a block of zeros (X9.24-1:2017 A.3).
    Cmac,
}

impl KcvMethod {
    /// The conventional number of bytes shown: 3 for the zeros method, 5 for the CMAC method.
    pub const fn conventional_len(self) -> usize {
        match self {
            KcvMethod::Zeros => 3,
            KcvMethod::Cmac => 5,
        }
    }
}

/// Encrypt one block of zeros under the key; the full block is returned.
pub fn encrypt_zeros(key: &SecretKey) -> Result<Vec<u8>, CryptoError> {
    let mut block = vec![0u8; key.algorithm().block_len()];
    cipher::encrypt_block(key, &mut block)?;
    Ok(block)
}

/// CMAC (NIST SP 800-38B) of one block of zeros under the key; the full MAC block is returned.
pub fn cmac_zeros(key: &SecretKey) -> Result<Vec<u8>, CryptoError> {
    let zeros = vec![0u8; key.algorithm().block_len()];
    mac::cmac(key, &zeros)
}

/// The full KCV block by `method`.
pub fn compute(key: &SecretKey, method: KcvMethod) -> Result<Vec<u8>, CryptoError> {
    match method {
        KcvMethod::Zeros => encrypt_zeros(key),
        KcvMethod::Cmac => cmac_zeros(key),
    }
}

/// The conventional-length KCV by `method` (3 bytes for zeros, 5 for CMAC).
pub fn conventional(key: &SecretKey, method: KcvMethod) -> Result<Vec<u8>, CryptoError> {
    let mut full = compute(key, method)?;
    full.truncate(method.conventional_len());
    Ok(full)
}

/// Check a key against an expected encrypt-zeros KCV of 2 bytes up to a full block.
pub fn check(key: &SecretKey, expected: &[u8]) -> Result<(), CryptoError> {
    check_with(key, KcvMethod::Zeros, expected)
}

/// Check a key against an expected KCV computed by `method` (2 bytes up to a full block).
pub fn check_with(key: &SecretKey, method: KcvMethod, expected: &[u8]) -> Result<(), CryptoError> {
    let full = compute(key, method)?;
    let bs = full.len();
    let computed = full.get(..expected.len()).filter(|_| expected.len() >= 2);
    match computed {
        None => Err(CryptoError::InvalidInput {
            field: "kcv",
            reason: format!("length {} bytes, expected 2..={bs}", expected.len()),
        }),
        Some(computed) if openssl::memcmp::eq(computed, expected) => Ok(()),
        Some(computed) => Err(CryptoError::KcvMismatch {
            expected: hex::encode_upper(expected),
            computed: hex::encode_upper(computed),
        }),
    }
}
