//! Symmetric keys: algorithm, length, DES odd parity.
//!
//! Key bytes live in a [`Zeroizing`] buffer that is wiped on drop; `Debug` shows the algorithm, the
//! length and the 3-byte key check value (ANSI X9.24-1:2017 §7.7.2), never the key.
//! DES parity is the odd parity of FIPS 46-3 §3 (the low bit of each byte is the parity bit).

use std::fmt;

pub use zeroize::Zeroizing;

use crate::error::CryptoError;

/// The algorithm (and so the length) a [`SecretKey`] is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// Single DES (8 bytes). Only where a standard needs it, e.g. inside the ISO 9797-1 algorithm 3
    /// retail MAC or the DUKPT non-reversible key generation.
    Des,
    /// Two-key triple DES (16 bytes, K1 K2, used as K1 K2 K1).
    Tdes2,
    /// Three-key triple DES (24 bytes).
    Tdes3,
    /// AES with a 128-bit key.
    Aes128,
    /// AES with a 192-bit key.
    Aes192,
    /// AES with a 256-bit key.
    Aes256,
    /// SM4 (GB/T 32907-2016), 128-bit key.
    Sm4,
}

impl KeyAlgorithm {
    /// Key length in bytes.
    pub const fn key_len(self) -> usize {
        match self {
            KeyAlgorithm::Des => 8,
            KeyAlgorithm::Tdes2 | KeyAlgorithm::Aes128 | KeyAlgorithm::Sm4 => 16,
            KeyAlgorithm::Tdes3 | KeyAlgorithm::Aes192 => 24,
            KeyAlgorithm::Aes256 => 32,
        }
    }

    /// Cipher block length in bytes (8 for the DES family, 16 for AES and SM4).
    pub const fn block_len(self) -> usize {
        if self.is_des_family() { 8 } else { 16 }
    }

    /// True for DES and triple DES.
    pub const fn is_des_family(self) -> bool {
        matches!(
            self,
            KeyAlgorithm::Des | KeyAlgorithm::Tdes2 | KeyAlgorithm::Tdes3
        )
    }

    /// True for the three AES key sizes.
    pub const fn is_aes(self) -> bool {
        matches!(
            self,
            KeyAlgorithm::Aes128 | KeyAlgorithm::Aes192 | KeyAlgorithm::Aes256
        )
    }

    /// The DES-family algorithm for a key length (8, 16 or 24 bytes).
    pub const fn des_for_len(len: usize) -> Option<KeyAlgorithm> {
        match len {
            8 => Some(KeyAlgorithm::Des),
            16 => Some(KeyAlgorithm::Tdes2),
            24 => Some(KeyAlgorithm::Tdes3),
            _ => None,
        }
    }

    /// The AES algorithm for a key length (16, 24 or 32 bytes).
    pub const fn aes_for_len(len: usize) -> Option<KeyAlgorithm> {
        match len {
            16 => Some(KeyAlgorithm::Aes128),
            24 => Some(KeyAlgorithm::Aes192),
            32 => Some(KeyAlgorithm::Aes256),
            _ => None,
        }
    }

    /// A short name: `DES`, `TDES-2key`, `TDES-3key`, `AES-128`, `AES-192`, `AES-256`, `SM4`.
    pub const fn name(self) -> &'static str {
        match self {
            KeyAlgorithm::Des => "DES",
            KeyAlgorithm::Tdes2 => "TDES-2key",
            KeyAlgorithm::Tdes3 => "TDES-3key",
            KeyAlgorithm::Aes128 => "AES-128",
            KeyAlgorithm::Aes192 => "AES-192",
            KeyAlgorithm::Aes256 => "AES-256",
            KeyAlgorithm::Sm4 => "SM4",
        }
    }

    const fn expected_len_text(self) -> &'static str {
        match self {
            KeyAlgorithm::Des => "8 bytes",
            KeyAlgorithm::Tdes2 | KeyAlgorithm::Aes128 | KeyAlgorithm::Sm4 => "16 bytes",
            KeyAlgorithm::Tdes3 | KeyAlgorithm::Aes192 => "24 bytes",
            KeyAlgorithm::Aes256 => "32 bytes",
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A symmetric secret key: algorithm plus key bytes in a zeroizing buffer.
///
/// `Clone` copies into another zeroizing buffer. Equality is constant-time over the bytes.
#[derive(Clone)]
pub struct SecretKey {
    algorithm: KeyAlgorithm,
    bytes: Zeroizing<Vec<u8>>,
}

impl SecretKey {
    /// A key for `algorithm` from raw bytes; the length must match the algorithm.
    ///
    /// DES parity is not enforced here (derived keys such as DUKPT session keys do not have it); use
    /// [`SecretKey::check_parity`] where a standard requires it.
    pub fn new(algorithm: KeyAlgorithm, bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != algorithm.key_len() {
            return Err(CryptoError::InvalidKeyLength {
                algorithm,
                len: bytes.len(),
                expected: algorithm.expected_len_text(),
            });
        }
        Ok(SecretKey {
            algorithm,
            bytes: Zeroizing::new(bytes.to_vec()),
        })
    }

    /// A key from hex (either case, no separators); the decoded buffer is zeroized.
    pub fn from_hex(algorithm: KeyAlgorithm, hex_text: &str) -> Result<Self, CryptoError> {
        let bytes = decode_hex_secret("key", hex_text)?;
        SecretKey::new(algorithm, &bytes)
    }

    /// A DES-family key whose algorithm follows from its length: 8 → DES, 16 → 2-key TDES,
    /// 24 → 3-key TDES.
    pub fn tdes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let algorithm =
            KeyAlgorithm::des_for_len(bytes.len()).ok_or(CryptoError::InvalidKeyLengthFor {
                family: "DES/TDES",
                len: bytes.len(),
                expected: "8, 16 or 24 bytes",
            })?;
        SecretKey::new(algorithm, bytes)
    }

    /// An AES key whose size follows from its length (16, 24 or 32 bytes).
    pub fn aes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let algorithm =
            KeyAlgorithm::aes_for_len(bytes.len()).ok_or(CryptoError::InvalidKeyLengthFor {
                family: "AES",
                len: bytes.len(),
                expected: "16, 24 or 32 bytes",
            })?;
        SecretKey::new(algorithm, bytes)
    }

    /// An SM4 key (16 bytes).
    pub fn sm4(bytes: &[u8]) -> Result<Self, CryptoError> {
        SecretKey::new(KeyAlgorithm::Sm4, bytes)
    }

    /// The algorithm this key is for.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// Key length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Always false: a key has at least 8 bytes.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The raw key bytes. **Sensitive**: do not log, print or persist them unprotected; copies made
    /// from this slice are the caller's to zeroize.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Whether every byte of a DES-family key has odd parity. Keys of other algorithms have no
    /// parity bits and always pass.
    pub fn has_odd_parity(&self) -> bool {
        !self.algorithm.is_des_family() || is_odd_parity(&self.bytes)
    }

    /// `Err(KeyParity)` naming the first byte of a DES-family key without odd parity.
    pub fn check_parity(&self) -> Result<(), CryptoError> {
        if !self.algorithm.is_des_family() {
            return Ok(());
        }
        match self.bytes.iter().position(|b| b.count_ones() % 2 == 0) {
            Some(byte_index) => Err(CryptoError::KeyParity { byte_index }),
            None => Ok(()),
        }
    }

    /// A copy with the DES parity bits set to odd parity (other algorithms: an unchanged copy).
    pub fn with_odd_parity(&self) -> SecretKey {
        let mut key = self.clone();
        if key.algorithm.is_des_family() {
            set_odd_parity(&mut key.bytes);
        }
        key
    }

    /// A new key of the same algorithm: these bytes XOR `mask` (e.g. a key variant, ANSI X9.24-1:2009
    /// A.6 or a key-usage variant). `mask` must have the key's length.
    pub fn xor(&self, mask: &[u8]) -> Result<SecretKey, CryptoError> {
        if mask.len() != self.bytes.len() {
            return Err(CryptoError::InvalidInput {
                field: "mask",
                reason: format!(
                    "length {} does not match key length {}",
                    mask.len(),
                    self.len()
                ),
            });
        }
        let mut bytes = Zeroizing::new(self.bytes.to_vec());
        for (b, m) in bytes.iter_mut().zip(mask) {
            *b ^= m;
        }
        Ok(SecretKey {
            algorithm: self.algorithm,
            bytes,
        })
    }

    /// The key as OpenSSL's three-key EDE wants it: DES K → K K K (EDE with equal keys is DES),
    /// 2-key K1 K2 → K1 K2 K1; other algorithms unchanged.
    pub(crate) fn openssl_key(&self) -> Zeroizing<Vec<u8>> {
        let b = &self.bytes;
        let mut out = Zeroizing::new(Vec::with_capacity(32));
        match self.algorithm {
            KeyAlgorithm::Des => {
                for _ in 0..3 {
                    out.extend_from_slice(b);
                }
            }
            KeyAlgorithm::Tdes2 => {
                out.extend_from_slice(b);
                out.extend_from_slice(b.get(..8).unwrap_or_default());
            }
            _ => out.extend_from_slice(b),
        }
        out
    }
}

impl PartialEq for SecretKey {
    fn eq(&self, other: &Self) -> bool {
        self.algorithm == other.algorithm
            && self.bytes.len() == other.bytes.len()
            && openssl::memcmp::eq(&self.bytes, &other.bytes)
    }
}

impl Eq for SecretKey {}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kcv = crate::kcv::encrypt_zeros(self)
            .map(|k| hex::encode_upper(k.get(..3).unwrap_or_default()))
            .unwrap_or_else(|_| "?".to_string());
        f.debug_struct("SecretKey")
            .field("algorithm", &self.algorithm)
            .field("len", &self.bytes.len())
            .field("kcv", &kcv)
            .finish()
    }
}

/// Whether every byte has odd parity (FIPS 46-3 §3).
pub fn is_odd_parity(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| b.count_ones() % 2 == 1)
}

/// Set the low bit of every byte so the byte has odd parity.
pub fn set_odd_parity(bytes: &mut [u8]) {
    for b in bytes {
        if b.count_ones() % 2 == 0 {
            *b ^= 0x01;
        }
    }
}

/// Decode hex into a zeroizing buffer, naming `field` on error.
pub fn decode_hex_secret(
    field: &'static str,
    text: &str,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    hex::decode(text.trim())
        .map(Zeroizing::new)
        .map_err(|e| CryptoError::InvalidHex {
            field,
            reason: e.to_string(),
        })
}
