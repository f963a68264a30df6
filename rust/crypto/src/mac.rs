//! Message authentication codes.
//!
//! * ISO/IEC 9797-1:2011 MAC algorithm 1 (CBC-MAC, zero IV, output transformation 1) with any block
//!   cipher key: DES, TDES (ANSI X9.9 style), AES, SM4 ([`cbc_mac`], [`sm4_cbc_mac`]).
//! * ISO/IEC 9797-1:2011 MAC algorithm 3 — the ANSI X9.19 "retail MAC": single-DES CBC under K, then
//!   the last block decrypted under K' and encrypted under K ([`retail_mac`]).
//! * Padding methods 1, 2 and 3 of ISO/IEC 9797-1:2011 §6.3 ([`Padding`]).
//! * CMAC of NIST SP 800-38B for AES, TDES and SM4 keys ([`cmac`]).
//! * The China UnionPay POS terminal "ECB" MAC ([`cup_ecb_mac`]).
//! * Constant-time verification ([`verify`]).
//!
//! All generators return the full final block; callers truncate (X9.19 transmits the leftmost 4 bytes,
//! ISO 8583 field 64 typically 8).

use zeroize::Zeroizing;

use crate::cipher::{BlockCipher, CbcChain};
use crate::error::CryptoError;
use crate::key::{KeyAlgorithm, SecretKey};

/// Padding methods of ISO/IEC 9797-1:2011 §6.3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// Method 1: append as few zero bits as needed (an empty message becomes one zero block).
    Method1,
    /// Method 2: append a single 1 bit (0x80), then as few zero bits as needed.
    Method2,
    /// Method 3: prefix a block holding the message length in bits, then pad with zero bits
    /// (possibly none).
    Method3,
}

impl Padding {
    /// Method from its number 1, 2 or 3.
    pub fn from_number(n: u8) -> Result<Padding, CryptoError> {
        match n {
            1 => Ok(Padding::Method1),
            2 => Ok(Padding::Method2),
            3 => Ok(Padding::Method3),
            _ => Err(CryptoError::InvalidInput {
                field: "padding",
                reason: format!("method {n} is not 1, 2 or 3"),
            }),
        }
    }
}

/// Pad `data` to a whole number of `block`-byte blocks by `padding` (ISO/IEC 9797-1:2011 §6.3).
pub fn pad(data: &[u8], block: usize, padding: Padding) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 2 * block);
    match padding {
        Padding::Method1 => {
            out.extend_from_slice(data);
            let rem = data.len() % block;
            if rem != 0 || data.is_empty() {
                out.resize(data.len() + block - rem, 0);
            }
        }
        Padding::Method2 => {
            out.extend_from_slice(data);
            out.push(0x80);
            let rem = out.len() % block;
            if rem != 0 {
                out.resize(out.len() + block - rem, 0);
            }
        }
        Padding::Method3 => {
            let bits = (data.len() as u128).saturating_mul(8).to_be_bytes();
            let mut length_block = vec![0u8; block];
            let take = block.min(bits.len());
            if let (Some(dst), Some(src)) = (
                length_block.get_mut(block - take..),
                bits.get(bits.len() - take..),
            ) {
                dst.copy_from_slice(src);
            }
            out.extend_from_slice(&length_block);
            out.extend_from_slice(data);
            let rem = data.len() % block;
            if rem != 0 {
                out.resize(out.len() + block - rem, 0);
            }
        }
    }
    out
}

/// ISO/IEC 9797-1:2011 MAC algorithm 1: CBC-MAC with a zero IV under any block-cipher key (DES,
/// TDES, AES, SM4), message padded by `padding`. Returns the full last block.
pub fn cbc_mac(key: &SecretKey, data: &[u8], padding: Padding) -> Result<Vec<u8>, CryptoError> {
    let padded = Zeroizing::new(pad(data, key.algorithm().block_len(), padding));
    CbcChain::new(key)?.last_block(&padded)
}

/// SM4 CBC-MAC (ISO/IEC 9797-1 MAC algorithm 1 with SM4, zero IV, padding method 1 or 2 as the
/// scheme requires). The key must be an SM4 key.
pub fn sm4_cbc_mac(key: &SecretKey, data: &[u8], padding: Padding) -> Result<Vec<u8>, CryptoError> {
    if key.algorithm() != KeyAlgorithm::Sm4 {
        return Err(CryptoError::UnsupportedAlgorithm {
            operation: "SM4 CBC-MAC",
            algorithm: key.algorithm(),
        });
    }
    cbc_mac(key, data, padding)
}

/// ISO/IEC 9797-1:2011 MAC algorithm 3 with DES (ANSI X9.19 retail MAC).
///
/// `key` is a 2-key TDES key K ‖ K′: the padded message is CBC-enciphered under single-DES K, and the
/// final block is deciphered under K′ and enciphered under K (output transformation 3). Returns the
/// full 8-byte block.
pub fn retail_mac(key: &SecretKey, data: &[u8], padding: Padding) -> Result<Vec<u8>, CryptoError> {
    if key.algorithm() != KeyAlgorithm::Tdes2 {
        return Err(CryptoError::UnsupportedAlgorithm {
            operation: "ISO 9797-1 MAC algorithm 3 (needs a 16-byte K||K' key)",
            algorithm: key.algorithm(),
        });
    }
    let padded = Zeroizing::new(pad(data, 8, padding));
    let split = padded.len().saturating_sub(8);
    let (head, last) = padded.split_at(split);
    let k = SecretKey::new(
        KeyAlgorithm::Des,
        key.as_bytes().get(..8).unwrap_or_default(),
    )?;
    let mut block = [0u8; 8];
    if !head.is_empty() {
        let h = CbcChain::new(&k)?.last_block(head)?;
        block.copy_from_slice(&h);
    }
    for (b, m) in block.iter_mut().zip(last) {
        *b ^= m;
    }
    // E_K(D_K'(E_K(x))) is TDES-EDE under K, K', K.
    BlockCipher::new(key)?.encrypt_block(&mut block)?;
    Ok(block.to_vec())
}

fn dbl(block: &mut [u8]) {
    let rb: u8 = if block.len() == 16 { 0x87 } else { 0x1B };
    let msb = block.first().map(|b| b >> 7).unwrap_or(0);
    let mut carry = 0u8;
    for b in block.iter_mut().rev() {
        let next = *b >> 7;
        *b = (*b << 1) | carry;
        carry = next;
    }
    if msb == 1 {
        if let Some(last) = block.last_mut() {
            *last ^= rb;
        }
    }
}

/// CMAC (NIST SP 800-38B §6.1-6.2) under an AES, TDES or SM4 key (Rb = 0x87 for 128-bit blocks,
/// 0x1B for 64-bit blocks). Returns the full block; truncate to Tlen as the scheme requires.
pub fn cmac(key: &SecretKey, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if key.algorithm() == KeyAlgorithm::Des {
        return Err(CryptoError::UnsupportedAlgorithm {
            operation: "CMAC",
            algorithm: key.algorithm(),
        });
    }
    let bs = key.algorithm().block_len();
    let mut chain = CbcChain::new(key)?;
    // Subkeys: L = CIPH_K(0^b); K1 = dbl(L); K2 = dbl(K1) (SP 800-38B §6.1).
    let mut subkey = Zeroizing::new(chain.last_block(&vec![0u8; bs])?);
    dbl(&mut subkey);
    let complete = !data.is_empty() && data.len() % bs == 0;
    if !complete {
        dbl(&mut subkey);
    }
    let mut msg = Zeroizing::new(data.to_vec());
    if !complete {
        msg.push(0x80);
        let rem = msg.len() % bs;
        if rem != 0 {
            let new_len = msg.len() + bs - rem;
            msg.resize(new_len, 0);
        }
    }
    let start = msg.len() - bs;
    for (m, k) in msg.iter_mut().skip(start).zip(subkey.iter()) {
        *m ^= k;
    }
    chain.rewind()?;
    chain.last_block(&msg)
}

/// The China UnionPay POS terminal MAC ("ECB" algorithm) under a single-DES or TDES MAC key.
///
/// 1. Right-pad the data with zero bytes to a multiple of 8 and XOR all 8-byte blocks together.
/// 2. Expand the 8-byte result to 16 upper-case hex ASCII characters.
/// 3. Encipher the first 8 characters under the MAC key; XOR the result with the last 8 characters.
/// 4. Encipher that block under the MAC key and expand it to 16 hex ASCII characters.
/// 5. The MAC is the first 8 of those characters (8 ASCII bytes, as carried in ISO 8583 field 64).
pub fn cup_ecb_mac(key: &SecretKey, data: &[u8]) -> Result<[u8; 8], CryptoError> {
    if !key.algorithm().is_des_family() {
        return Err(CryptoError::UnsupportedAlgorithm {
            operation: "UnionPay ECB MAC",
            algorithm: key.algorithm(),
        });
    }
    let mut acc = [0u8; 8];
    for chunk in data.chunks(8) {
        for (a, d) in acc.iter_mut().zip(chunk) {
            *a ^= d;
        }
    }
    let expanded = hex::encode_upper(acc).into_bytes();
    let (left, right) = expanded.split_at(8);
    let mut cipher = BlockCipher::new(key)?;
    let mut block = [0u8; 8];
    block.copy_from_slice(left);
    cipher.encrypt_block(&mut block)?;
    for (b, r) in block.iter_mut().zip(right) {
        *b ^= r;
    }
    cipher.encrypt_block(&mut block)?;
    let out = hex::encode_upper(block).into_bytes();
    let mut mac = [0u8; 8];
    mac.copy_from_slice(out.get(..8).unwrap_or(&[0u8; 8]));
    Ok(mac)
}

/// Constant-time MAC verification: `received` must equal the leftmost bytes of `computed`, with
/// 4 ≤ `received.len()` ≤ `computed.len()` (truncated MACs as in X9.19 are allowed).
pub fn verify(computed: &[u8], received: &[u8]) -> Result<(), CryptoError> {
    let max = computed.len();
    if received.len() < 4 || received.len() > max {
        return Err(CryptoError::InvalidMacLength {
            len: received.len(),
            min: 4,
            max,
        });
    }
    match computed.get(..received.len()) {
        Some(c) if openssl::memcmp::eq(c, received) => Ok(()),
        _ => Err(CryptoError::MacMismatch),
    }
}
