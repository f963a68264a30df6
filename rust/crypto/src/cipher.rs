//! Block ciphers without padding: TDES (2- and 3-key, and single DES as EDE with equal keys),
//! AES-128/192/256 and SM4, in ECB and CBC modes, on OpenSSL.
//!
//! Modes are those of ISO/IEC 10116 (NIST SP 800-38A §6.1 ECB, §6.2 CBC); TDES is TDEA keying
//! options 1 and 2 of NIST SP 800-67; SM4 is GB/T 32907-2016. Input must be a whole number of blocks
//! ([`CryptoError::NotBlockMultiple`] otherwise): padding is the caller's business (see `mac`, `pin`).
//!
//! Speed: OpenSSL 3 ciphers are fetched once per process (`EVP_CIPHER_fetch`) instead of on every
//! initialisation, and [`BlockCipher`] keeps an initialised context so that many single-block
//! operations under one key (PIN blocks, CMAC, DUKPT) pay the key schedule once.

use std::sync::OnceLock;

use openssl::cipher::{Cipher, CipherRef};
use openssl::cipher_ctx::CipherCtx;
use openssl::lib_ctx::LibCtx;
use openssl::provider::Provider;
use zeroize::{Zeroize, Zeroizing};

use crate::error::CryptoError;
use crate::key::{KeyAlgorithm, SecretKey};

/// Block-cipher mode of operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Electronic codebook (NIST SP 800-38A §6.1).
    Ecb,
    /// Cipher block chaining (NIST SP 800-38A §6.2).
    Cbc,
}

/// Largest block length of the supported ciphers.
pub const MAX_BLOCK_LEN: usize = 16;

/// Block length in bytes for a key algorithm (8 for the DES family, 16 for AES and SM4).
pub const fn block_len(algorithm: KeyAlgorithm) -> usize {
    algorithm.block_len()
}

static CIPHERS: [OnceLock<Option<Cipher>>; 10] = [const { OnceLock::new() }; 10];

fn fetched(slot: usize, name: &str, fallback: &'static CipherRef) -> &'static CipherRef {
    match CIPHERS.get(slot).and_then(|cell| {
        cell.get_or_init(|| Cipher::fetch(None, name, None).ok())
            .as_ref()
    }) {
        Some(cipher) => cipher,
        None => fallback,
    }
}

/// Single DES from OpenSSL's legacy provider, loaded into a private library context so that the
/// process-wide default context is left as it is. Single DES has a third of the key schedule and
/// block work of DES-EDE3 with K1 = K2 = K3, which matters for DUKPT (two key changes per step)
/// and the retail MAC. `None` where the legacy provider is not installed: then DES runs as
/// DES-EDE3 with the key repeated, which gives the same results.
struct LegacyDes {
    ecb: Cipher,
    cbc: Cipher,
    _provider: Provider,
    _ctx: LibCtx,
}

static LEGACY_DES: OnceLock<Option<LegacyDes>> = OnceLock::new();

fn legacy_des() -> Option<&'static LegacyDes> {
    LEGACY_DES
        .get_or_init(|| {
            let ctx = LibCtx::new().ok()?;
            let provider = Provider::load(Some(&ctx), "legacy").ok()?;
            let ecb = Cipher::fetch(Some(&ctx), "DES-ECB", None).ok()?;
            let cbc = Cipher::fetch(Some(&ctx), "DES-CBC", None).ok()?;
            Some(LegacyDes {
                ecb,
                cbc,
                _provider: provider,
                _ctx: ctx,
            })
        })
        .as_ref()
}

/// Whether single DES runs on the legacy provider's DES (otherwise on DES-EDE3 with K K K).
pub fn native_single_des() -> bool {
    legacy_des().is_some()
}

/// The key bytes as the chosen OpenSSL cipher wants them: single DES K as K (legacy provider) or
/// K K K (DES-EDE3); 2-key K1 K2 as K1 K2 K1; other algorithms unchanged.
fn cipher_key(key: &SecretKey) -> Zeroizing<Vec<u8>> {
    if key.algorithm() == KeyAlgorithm::Des && legacy_des().is_some() {
        Zeroizing::new(key.as_bytes().to_vec())
    } else {
        key.openssl_key()
    }
}

/// Which OpenSSL cipher object a key uses (keys of the same class can share a context).
fn cipher_class(algorithm: KeyAlgorithm) -> u8 {
    use KeyAlgorithm::*;
    match algorithm {
        Des if legacy_des().is_some() => 0,
        Des | Tdes2 | Tdes3 => 1,
        Aes128 => 2,
        Aes192 => 3,
        Aes256 => 4,
        Sm4 => 5,
    }
}

/// The OpenSSL cipher for an algorithm and mode (2-key DES, and single DES without the legacy
/// provider, go through DES-EDE3 with an expanded key).
fn evp_cipher(algorithm: KeyAlgorithm, mode: Mode) -> &'static CipherRef {
    use KeyAlgorithm::*;
    if algorithm == Des {
        if let Some(l) = legacy_des() {
            return match mode {
                Mode::Ecb => &l.ecb,
                Mode::Cbc => &l.cbc,
            };
        }
    }
    match (algorithm, mode) {
        (Des | Tdes2 | Tdes3, Mode::Ecb) => fetched(0, "DES-EDE3-ECB", Cipher::des_ede3_ecb()),
        (Des | Tdes2 | Tdes3, Mode::Cbc) => fetched(1, "DES-EDE3-CBC", Cipher::des_ede3_cbc()),
        (Aes128, Mode::Ecb) => fetched(2, "AES-128-ECB", Cipher::aes_128_ecb()),
        (Aes128, Mode::Cbc) => fetched(3, "AES-128-CBC", Cipher::aes_128_cbc()),
        (Aes192, Mode::Ecb) => fetched(4, "AES-192-ECB", Cipher::aes_192_ecb()),
        (Aes192, Mode::Cbc) => fetched(5, "AES-192-CBC", Cipher::aes_192_cbc()),
        (Aes256, Mode::Ecb) => fetched(6, "AES-256-ECB", Cipher::aes_256_ecb()),
        (Aes256, Mode::Cbc) => fetched(7, "AES-256-CBC", Cipher::aes_256_cbc()),
        (Sm4, Mode::Ecb) => fetched(8, "SM4-ECB", Cipher::sm4_ecb()),
        (Sm4, Mode::Cbc) => fetched(9, "SM4-CBC", Cipher::sm4_cbc()),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Encrypt,
    Decrypt,
}

fn check_blocks(field: &'static str, data: &[u8], block: usize) -> Result<(), CryptoError> {
    if data.len() % block != 0 {
        return Err(CryptoError::NotBlockMultiple {
            field,
            len: data.len(),
            block,
        });
    }
    Ok(())
}

fn new_ctx(
    key: &SecretKey,
    mode: Mode,
    direction: Direction,
    iv: Option<&[u8]>,
) -> Result<CipherCtx, CryptoError> {
    let algorithm = key.algorithm();
    let bs = algorithm.block_len();
    if let Some(iv) = iv {
        if iv.len() != bs {
            return Err(CryptoError::InvalidIvLength {
                len: iv.len(),
                expected: bs,
            });
        }
    }
    let cipher = evp_cipher(algorithm, mode);
    let okey = cipher_key(key);
    let mut ctx = CipherCtx::new()?;
    match direction {
        Direction::Encrypt => ctx.encrypt_init(Some(cipher), Some(&okey), iv)?,
        Direction::Decrypt => ctx.decrypt_init(Some(cipher), Some(&okey), iv)?,
    }
    ctx.set_padding(false);
    Ok(ctx)
}

fn run_ctx(ctx: &mut CipherCtx, data: &[u8], bs: usize) -> Result<Vec<u8>, CryptoError> {
    let mut out = vec![0u8; data.len() + bs];
    let n = ctx.cipher_update(data, Some(&mut out))?;
    out.truncate(n);
    Ok(out)
}

fn run(
    key: &SecretKey,
    mode: Mode,
    direction: Direction,
    iv: Option<&[u8]>,
    data: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let bs = key.algorithm().block_len();
    check_blocks("data", data, bs)?;
    if mode == Mode::Cbc && iv.is_none() {
        return Err(CryptoError::InvalidIvLength {
            len: 0,
            expected: bs,
        });
    }
    let mut ctx = new_ctx(key, mode, direction, iv)?;
    run_ctx(&mut ctx, data, bs)
}

/// ECB encryption of whole blocks (NIST SP 800-38A §6.1).
pub fn encrypt_ecb(key: &SecretKey, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    run(key, Mode::Ecb, Direction::Encrypt, None, data)
}

/// ECB decryption of whole blocks.
pub fn decrypt_ecb(key: &SecretKey, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    run(key, Mode::Ecb, Direction::Decrypt, None, data)
}

/// CBC encryption of whole blocks with an IV of one block (NIST SP 800-38A §6.2).
pub fn encrypt_cbc(key: &SecretKey, iv: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    run(key, Mode::Cbc, Direction::Encrypt, Some(iv), data)
}

/// CBC decryption of whole blocks with an IV of one block.
pub fn decrypt_cbc(key: &SecretKey, iv: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    run(key, Mode::Cbc, Direction::Decrypt, Some(iv), data)
}

/// Encrypt in the given mode; `iv` is required for CBC and ignored for ECB.
pub fn encrypt(
    key: &SecretKey,
    mode: Mode,
    iv: Option<&[u8]>,
    data: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    run(
        key,
        mode,
        Direction::Encrypt,
        iv.filter(|_| mode == Mode::Cbc),
        data,
    )
}

/// Decrypt in the given mode; `iv` is required for CBC and ignored for ECB.
pub fn decrypt(
    key: &SecretKey,
    mode: Mode,
    iv: Option<&[u8]>,
    data: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    run(
        key,
        mode,
        Direction::Decrypt,
        iv.filter(|_| mode == Mode::Cbc),
        data,
    )
}

/// Encrypt exactly one block in place (the single-block fast path).
pub fn encrypt_block(key: &SecretKey, block: &mut [u8]) -> Result<(), CryptoError> {
    BlockCipher::new(key)?.encrypt_block(block)
}

/// Decrypt exactly one block in place.
pub fn decrypt_block(key: &SecretKey, block: &mut [u8]) -> Result<(), CryptoError> {
    BlockCipher::new(key)?.decrypt_block(block)
}

/// A CBC encryption context with a zero IV that can be rewound to the zero IV without a new key
/// schedule (used by CBC-MAC and CMAC).
pub(crate) struct CbcChain {
    ctx: CipherCtx,
    bs: usize,
}

impl CbcChain {
    /// CBC encryption under `key`, IV all zeros.
    pub(crate) fn new(key: &SecretKey) -> Result<Self, CryptoError> {
        let bs = key.algorithm().block_len();
        let zero = [0u8; MAX_BLOCK_LEN];
        let iv = zero.get(..bs).unwrap_or_default();
        let ctx = new_ctx(key, Mode::Cbc, Direction::Encrypt, Some(iv))?;
        Ok(CbcChain { ctx, bs })
    }

    /// Restart the chain from the zero IV.
    pub(crate) fn rewind(&mut self) -> Result<(), CryptoError> {
        let zero = [0u8; MAX_BLOCK_LEN];
        let iv = zero.get(..self.bs).unwrap_or_default();
        self.ctx.encrypt_init(None, None, Some(iv))?;
        Ok(())
    }

    /// Encrypt whole blocks, continuing the chain; returns the last ciphertext block (or the
    /// current chaining value's absence as an empty vector for empty input).
    pub(crate) fn last_block(&mut self, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        check_blocks("data", data, self.bs)?;
        let mut out = run_ctx(&mut self.ctx, data, self.bs)?;
        let start = out.len().saturating_sub(self.bs);
        let last = out.split_off(start);
        out.zeroize();
        Ok(last)
    }
}

/// A key bound to initialised OpenSSL ECB contexts, for many block operations under one key.
///
/// The encryption context is set up at construction, the decryption context on first use. The
/// contexts hold the key schedule; they are freed (and OpenSSL cleanses them) on drop.
pub struct BlockCipher {
    key: SecretKey,
    enc: CipherCtx,
    dec: Option<CipherCtx>,
}

impl BlockCipher {
    /// Set up the encryption context for `key`.
    pub fn new(key: &SecretKey) -> Result<Self, CryptoError> {
        let enc = new_ctx(key, Mode::Ecb, Direction::Encrypt, None)?;
        Ok(BlockCipher {
            key: key.clone(),
            enc,
            dec: None,
        })
    }

    /// Switch to another key, keeping the OpenSSL context when the underlying cipher is the same
    /// (any DES-family key, or the same AES/SM4 size): cheaper than a new [`BlockCipher`] when the key
    /// changes on every block, as in DUKPT key generation.
    pub fn rekey(&mut self, key: &SecretKey) -> Result<(), CryptoError> {
        if cipher_class(self.key.algorithm()) != cipher_class(key.algorithm()) {
            *self = BlockCipher::new(key)?;
            return Ok(());
        }
        let okey = cipher_key(key);
        self.enc.encrypt_init(None, Some(&okey), None)?;
        self.enc.set_padding(false);
        self.dec = None;
        self.key = key.clone();
        Ok(())
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.key.algorithm()
    }

    /// Block length in bytes.
    pub fn block_len(&self) -> usize {
        self.key.algorithm().block_len()
    }

    fn one_block(
        ctx: &mut CipherCtx,
        bs: usize,
        block: &mut [u8],
        field: &'static str,
    ) -> Result<(), CryptoError> {
        if block.len() != bs {
            return Err(CryptoError::NotBlockMultiple {
                field,
                len: block.len(),
                block: bs,
            });
        }
        let mut buf = [0u8; 2 * MAX_BLOCK_LEN];
        let out = buf.get_mut(..2 * bs).ok_or(CryptoError::NotBlockMultiple {
            field,
            len: block.len(),
            block: bs,
        })?;
        let n = ctx.cipher_update(block, Some(out))?;
        let result = match buf.get(..n) {
            Some(res) if n == bs => {
                block.copy_from_slice(res);
                Ok(())
            }
            _ => Err(CryptoError::InvalidInput {
                field,
                reason: format!("cipher produced {n} bytes for a {bs}-byte block"),
            }),
        };
        buf.zeroize();
        result
    }

    fn dec_ctx(&mut self) -> Result<&mut CipherCtx, CryptoError> {
        if self.dec.is_none() {
            self.dec = Some(new_ctx(&self.key, Mode::Ecb, Direction::Decrypt, None)?);
        }
        self.dec.as_mut().ok_or(CryptoError::InvalidInput {
            field: "cipher",
            reason: "decryption context unavailable".into(),
        })
    }

    /// Encrypt exactly one block in place.
    pub fn encrypt_block(&mut self, block: &mut [u8]) -> Result<(), CryptoError> {
        let bs = self.block_len();
        Self::one_block(&mut self.enc, bs, block, "block")
    }

    /// Decrypt exactly one block in place.
    pub fn decrypt_block(&mut self, block: &mut [u8]) -> Result<(), CryptoError> {
        let bs = self.block_len();
        let ctx = self.dec_ctx()?;
        Self::one_block(ctx, bs, block, "block")
    }

    /// ECB-encrypt whole blocks.
    pub fn encrypt_ecb(&mut self, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let bs = self.block_len();
        check_blocks("data", data, bs)?;
        run_ctx(&mut self.enc, data, bs)
    }

    /// ECB-decrypt whole blocks.
    pub fn decrypt_ecb(&mut self, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let bs = self.block_len();
        check_blocks("data", data, bs)?;
        let ctx = self.dec_ctx()?;
        run_ctx(ctx, data, bs)
    }

    /// CBC-encrypt whole blocks with `iv` (built on the ECB context: C_i = E(P_i XOR C_{i-1})).
    pub fn encrypt_cbc(&mut self, iv: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let bs = self.block_len();
        check_blocks("data", data, bs)?;
        if iv.len() != bs {
            return Err(CryptoError::InvalidIvLength {
                len: iv.len(),
                expected: bs,
            });
        }
        let mut chain = [0u8; MAX_BLOCK_LEN];
        let chain = chain.get_mut(..bs).unwrap_or_default();
        chain.copy_from_slice(iv);
        let mut out = Vec::with_capacity(data.len());
        for block in data.chunks_exact(bs) {
            for (c, p) in chain.iter_mut().zip(block) {
                *c ^= p;
            }
            Self::one_block(&mut self.enc, bs, chain, "data")?;
            out.extend_from_slice(chain);
        }
        Ok(out)
    }
}
