//! RSA for EMV offline data authentication (EMV Book 2 §5, §6, Annex A2.1).
//!
//! [`RsaPublicKey`] is the per-key recovery context: it is built once per key (the CA key store
//! keeps one per CA public key) and then each call costs only the modular exponentiation
//! `m^e mod n`. For the EMV exponent 3 the exponentiation is one modular squaring and one
//! modular multiplication with a per-thread cached `BN_CTX`, which avoids OpenSSL's per-call
//! Montgomery setup; for 65537 the key keeps an OpenSSL `RSA` object whose Montgomery context
//! OpenSSL caches on first use.
//!
//! Measured on the 2-core development machine (benches/asym.rs, thread CPU time, 1984-bit
//! modulus, e = 3): BN_mod_sqr + BN_mod_mul 5.8 µs; the cached OpenSSL `RSA` object 7.6 µs;
//! m²·m with one division 7.0 µs; BN_mod_exp 12.2 µs. A safe-Rust Montgomery product with a
//! per-key R³ mod n was also tried (7.1 µs) and dropped.
//!
//! [`RsaPrivateKey`] is the issuer / CA side used by the test PKI and simulators: key generation
//! and the raw private operation (no padding), which signs EMV certificates and signed data.
//!
//! The EMV-specific recovery and signing formats live in [`oda`] and [`sign`].

pub mod oda;
pub mod sign;

use crate::CryptoError;
use openssl::bn::{BigNum, BigNumContext};
use openssl::rsa::{Padding, Rsa};
use std::cell::RefCell;
use std::sync::OnceLock;
use zeroize::Zeroizing;

/// Largest modulus supported, in bytes (2048 bits; EMV CA keys go up to 1984 bits).
pub const MAX_MODULUS_LEN: usize = 256;
/// Smallest modulus accepted, in bytes (512 bits; EMV keys are at least 512 bits).
pub const MIN_MODULUS_LEN: usize = 64;

/// Errors of the raw RSA layer.
#[derive(Debug, thiserror::Error)]
pub enum RsaError {
    /// The modulus is empty, too short, too long, even, or has a leading zero byte.
    #[error("RSA modulus ({len} bytes): {reason}")]
    InvalidModulus { len: usize, reason: &'static str },
    /// EMV Book 2 §5.1 / §6.1 allow only the public exponents 3 and 2^16+1.
    #[error(
        "RSA public exponent {exponent_hex}: only 03 and 010001 are supported (EMV Book 2 §5.1)"
    )]
    UnsupportedExponent { exponent_hex: String },
    /// The input to an RSA operation must be exactly as long as the modulus.
    #[error("RSA input is {actual} bytes but the modulus is {expected} bytes")]
    InputLength { expected: usize, actual: usize },
    /// The input, read as an integer, is not smaller than the modulus.
    #[error("RSA input is not smaller than the modulus")]
    InputOutOfRange,
    /// Requested key size not supported for generation.
    #[error("RSA key size {bits} bits: must be a multiple of 8 between 512 and 2048")]
    UnsupportedKeySize { bits: u32 },
    /// OpenSSL failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

impl From<openssl::error::ErrorStack> for RsaError {
    fn from(e: openssl::error::ErrorStack) -> Self {
        RsaError::Crypto(CryptoError::OpenSsl(e))
    }
}

/// Per-thread scratch space for the public operation: a `BN_CTX` and the three numbers the
/// square-and-multiply needs, so a call allocates only its output.
struct Scratch {
    ctx: BigNumContext,
    m: BigNum,
    sq: BigNum,
    r: BigNum,
}

impl Scratch {
    fn new() -> Result<Self, openssl::error::ErrorStack> {
        Ok(Scratch {
            ctx: BigNumContext::new()?,
            m: BigNum::new()?,
            sq: BigNum::new()?,
            r: BigNum::new()?,
        })
    }
}

thread_local! {
    static SCRATCH: RefCell<Option<Scratch>> = const { RefCell::new(None) };
}

/// Run `f` with this thread's scratch space (created on first use).
fn with_scratch<T>(f: impl FnOnce(&mut Scratch) -> Result<T, RsaError>) -> Result<T, RsaError> {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut slot) => {
            if slot.is_none() {
                *slot = Some(Scratch::new()?);
            }
            match slot.as_mut() {
                Some(scratch) => f(scratch),
                None => f(&mut Scratch::new()?),
            }
        }
        // Re-entered on this thread (not expected): use fresh scratch space.
        Err(_) => f(&mut Scratch::new()?),
    })
}

/// How the public operation is computed; exposed for the benchmarks that compare them.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicOpStrategy {
    /// Square-and-multiply with `BN_mod_sqr`/`BN_mod_mul` (no Montgomery setup).
    MulMod,
    /// OpenSSL `RSA_public_decrypt` with `RSA_NO_PADDING` on a cached `RSA` object.
    OpensslRsa,
    /// `BN_mod_exp` (sets up a Montgomery context per call).
    ModExp,
    /// e = 3 only: m² · m unreduced, then one division.
    CubeOneDivision,
}

/// An RSA public key prepared for repeated raw public operations (the recovery context).
pub struct RsaPublicKey {
    modulus: Vec<u8>,
    exponent: Vec<u8>,
    n: BigNum,
    e: BigNum,
    exponent_is_three: bool,
    rsa: OnceLock<Rsa<openssl::pkey::Public>>,
}

impl std::fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RsaPublicKey")
            .field("bits", &(self.modulus.len() * 8))
            .field("exponent", &hex::encode_upper(&self.exponent))
            .finish_non_exhaustive()
    }
}

impl PartialEq for RsaPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.modulus == other.modulus && self.exponent == other.exponent
    }
}
impl Eq for RsaPublicKey {}

impl RsaPublicKey {
    /// Build the context for modulus `n` and exponent `e` (both big-endian unsigned).
    ///
    /// The modulus must be 64..=256 bytes, odd, without a leading zero byte; the exponent must
    /// be 3 or 65537 (leading zero bytes allowed: EMV carries '03' or '010001').
    pub fn new(modulus: &[u8], exponent: &[u8]) -> Result<Self, RsaError> {
        let len = modulus.len();
        if len < MIN_MODULUS_LEN {
            return Err(RsaError::InvalidModulus {
                len,
                reason: "shorter than 512 bits",
            });
        }
        if len > MAX_MODULUS_LEN {
            return Err(RsaError::InvalidModulus {
                len,
                reason: "longer than 2048 bits",
            });
        }
        if modulus.first() == Some(&0) {
            return Err(RsaError::InvalidModulus {
                len,
                reason: "leading zero byte",
            });
        }
        if modulus.last().is_some_and(|b| b & 1 == 0) {
            return Err(RsaError::InvalidModulus {
                len,
                reason: "even",
            });
        }
        let trimmed: Vec<u8> = exponent.iter().copied().skip_while(|b| *b == 0).collect();
        let exponent_is_three = match trimmed.as_slice() {
            [0x03] => true,
            [0x01, 0x00, 0x01] => false,
            _ => {
                return Err(RsaError::UnsupportedExponent {
                    exponent_hex: hex::encode_upper(exponent),
                });
            }
        };
        Ok(RsaPublicKey {
            modulus: modulus.to_vec(),
            exponent: trimmed.clone(),
            n: BigNum::from_slice(modulus)?,
            e: BigNum::from_slice(&trimmed)?,
            exponent_is_three,
            rsa: OnceLock::new(),
        })
    }

    /// A second context for the same key (OpenSSL objects are rebuilt).
    pub fn try_clone(&self) -> Result<Self, RsaError> {
        Self::new(&self.modulus, &self.exponent)
    }

    /// Modulus length in bytes (EMV's N_CA, N_I, N_IC).
    pub fn modulus_len(&self) -> usize {
        self.modulus.len()
    }

    /// The modulus, big-endian.
    pub fn modulus(&self) -> &[u8] {
        &self.modulus
    }

    /// The public exponent, big-endian without leading zeros ('03' or '010001').
    pub fn exponent(&self) -> &[u8] {
        &self.exponent
    }

    /// The raw public operation `input^e mod n` (EMV Book 2 Annex A2.1 recovery function).
    /// `input` must be exactly [`modulus_len`](Self::modulus_len) bytes and smaller than `n`;
    /// the result is left-padded with zeros to the modulus length.
    pub fn public_op(&self, input: &[u8]) -> Result<Vec<u8>, RsaError> {
        let strategy = if self.exponent_is_three {
            PublicOpStrategy::MulMod
        } else {
            PublicOpStrategy::OpensslRsa
        };
        self.public_op_using(strategy, input)
    }

    /// [`public_op`](Self::public_op) with an explicit strategy (for benchmarks).
    #[doc(hidden)]
    pub fn public_op_using(
        &self,
        strategy: PublicOpStrategy,
        input: &[u8],
    ) -> Result<Vec<u8>, RsaError> {
        let len = self.modulus.len();
        if input.len() != len {
            return Err(RsaError::InputLength {
                expected: len,
                actual: input.len(),
            });
        }
        match strategy {
            PublicOpStrategy::OpensslRsa => {
                // Equal lengths: big-endian byte order is numeric order.
                if input >= self.modulus.as_slice() {
                    return Err(RsaError::InputOutOfRange);
                }
                let rsa = self.openssl_rsa()?;
                let mut out = vec![0u8; len];
                let n = rsa.public_decrypt(input, &mut out, Padding::NONE)?;
                // OpenSSL strips nothing with RSA_NO_PADDING, but be exact anyway.
                Ok(left_pad(out, n, len))
            }
            PublicOpStrategy::MulMod
            | PublicOpStrategy::ModExp
            | PublicOpStrategy::CubeOneDivision => with_scratch(|s| {
                s.m.copy_from_slice(input)?;
                if s.m.ucmp(&self.n) != std::cmp::Ordering::Less {
                    return Err(RsaError::InputOutOfRange);
                }
                if strategy == PublicOpStrategy::MulMod && self.exponent_is_three {
                    s.sq.mod_sqr(&s.m, &self.n, &mut s.ctx)?;
                    s.r.mod_mul(&s.sq, &s.m, &self.n, &mut s.ctx)?;
                } else if strategy == PublicOpStrategy::CubeOneDivision && self.exponent_is_three {
                    s.sq.sqr(&s.m, &mut s.ctx)?;
                    s.r.checked_mul(&s.sq, &s.m, &mut s.ctx)?;
                    s.sq.nnmod(&s.r, &self.n, &mut s.ctx)?;
                    return Ok(s.sq.to_vec_padded(len as i32)?);
                } else {
                    s.r.mod_exp(&s.m, &self.e, &self.n, &mut s.ctx)?;
                }
                Ok(s.r.to_vec_padded(len as i32)?)
            }),
        }
    }

    fn openssl_rsa(&self) -> Result<&Rsa<openssl::pkey::Public>, RsaError> {
        if let Some(rsa) = self.rsa.get() {
            return Ok(rsa);
        }
        let rsa = Rsa::from_public_components(self.n.to_owned()?, self.e.to_owned()?)?;
        Ok(self.rsa.get_or_init(|| rsa))
    }
}

/// An RSA private key (issuer or CA side of the test PKI). `Debug` shows only its size.
pub struct RsaPrivateKey {
    rsa: Rsa<openssl::pkey::Private>,
    public: RsaPublicKey,
}

impl std::fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RsaPrivateKey")
            .field("bits", &(self.public.modulus_len() * 8))
            .finish_non_exhaustive()
    }
}

impl RsaPrivateKey {
    /// Generate a key of `bits` bits (a multiple of 8, 512..=2048) with public exponent 3 or
    /// 65537.
    pub fn generate(bits: u32, exponent: u32) -> Result<Self, RsaError> {
        if !(512..=2048).contains(&bits) || bits % 8 != 0 {
            return Err(RsaError::UnsupportedKeySize { bits });
        }
        if exponent != 3 && exponent != 65537 {
            return Err(RsaError::UnsupportedExponent {
                exponent_hex: format!("{exponent:X}"),
            });
        }
        let e = BigNum::from_u32(exponent)?;
        let rsa = Rsa::generate_with_e(bits, &e)?;
        Self::from_rsa(rsa)
    }

    /// Load a PKCS#1 `RSAPrivateKey` DER encoding.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, RsaError> {
        Self::from_rsa(Rsa::private_key_from_der(der)?)
    }

    /// The PKCS#1 `RSAPrivateKey` DER encoding (secret: zeroized on drop).
    pub fn to_pkcs1_der(&self) -> Result<Zeroizing<Vec<u8>>, RsaError> {
        Ok(Zeroizing::new(self.rsa.private_key_to_der()?))
    }

    fn from_rsa(rsa: Rsa<openssl::pkey::Private>) -> Result<Self, RsaError> {
        let public = RsaPublicKey::new(&rsa.n().to_vec(), &rsa.e().to_vec())?;
        Ok(RsaPrivateKey { rsa, public })
    }

    /// The matching public key.
    pub fn public_key(&self) -> &RsaPublicKey {
        &self.public
    }

    /// Modulus length in bytes.
    pub fn modulus_len(&self) -> usize {
        self.public.modulus_len()
    }

    /// The raw private operation `input^d mod n` (EMV Book 2 Annex A2.1 signature function).
    /// `input` must be exactly the modulus length and smaller than the modulus.
    pub fn private_op(&self, input: &[u8]) -> Result<Vec<u8>, RsaError> {
        let len = self.public.modulus_len();
        if input.len() != len {
            return Err(RsaError::InputLength {
                expected: len,
                actual: input.len(),
            });
        }
        let m = BigNum::from_slice(input)?;
        if m.ucmp(&self.public.n) != std::cmp::Ordering::Less {
            return Err(RsaError::InputOutOfRange);
        }
        let mut out = vec![0u8; len];
        let n = self.rsa.private_decrypt(input, &mut out, Padding::NONE)?;
        Ok(left_pad(out, n, len))
    }
}

/// The first `used` bytes of `out`, left-padded with zeros to `len` bytes.
fn left_pad(mut out: Vec<u8>, used: usize, len: usize) -> Vec<u8> {
    if used >= len {
        out.truncate(len);
        return out;
    }
    out.truncate(used);
    let mut padded = vec![0u8; len - used];
    padded.extend_from_slice(&out);
    padded
}
