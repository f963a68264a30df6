//! Message digests used by payment schemes: SHA-1 (EMV Book 2 Annex B3), SHA-256 (FIPS 180-4)
//! and SM3 (GB/T 32905-2016), one-shot and incremental, all on OpenSSL.
//!
//! SHA-1 and SHA-256 use OpenSSL's low-level digest functions (no provider fetch per call: EMV
//! offline data authentication hashes several short inputs per transaction). SM3 goes through
//! EVP with a digest fetched once from the provider.

use crate::CryptoError;

/// Length of a SHA-1 digest in bytes.
pub const SHA1_LEN: usize = 20;
/// Length of a SHA-256 digest in bytes.
pub const SHA256_LEN: usize = 32;
/// Length of an SM3 digest in bytes.
pub const SM3_LEN: usize = 32;

/// A digest algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// SHA-1 (FIPS 180-4), 20 bytes; EMV hash algorithm indicator '01'.
    Sha1,
    /// SHA-256 (FIPS 180-4), 32 bytes.
    Sha256,
    /// SM3 (GB/T 32905-2016), 32 bytes.
    Sm3,
}

impl HashAlgorithm {
    /// Digest length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            HashAlgorithm::Sha1 => SHA1_LEN,
            HashAlgorithm::Sha256 => SHA256_LEN,
            HashAlgorithm::Sm3 => SM3_LEN,
        }
    }

    /// The EMV hash algorithm indicator (EMV Book 2 Annex B2.3): only SHA-1 ('01') is defined.
    pub fn from_emv_indicator(indicator: u8) -> Option<Self> {
        match indicator {
            0x01 => Some(HashAlgorithm::Sha1),
            _ => None,
        }
    }

    /// Hash `data` in one call.
    pub fn digest(self, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match self {
            HashAlgorithm::Sha1 => Ok(sha1(data).to_vec()),
            HashAlgorithm::Sha256 => Ok(sha256(data).to_vec()),
            HashAlgorithm::Sm3 => Ok(sm3(data)?.to_vec()),
        }
    }
}

/// SHA-1 of `data` (FIPS 180-4 §6.1).
pub fn sha1(data: &[u8]) -> [u8; SHA1_LEN] {
    openssl::sha::sha1(data)
}

/// SHA-256 of `data` (FIPS 180-4 §6.2).
pub fn sha256(data: &[u8]) -> [u8; SHA256_LEN] {
    openssl::sha::sha256(data)
}

/// SM3 of `data` (GB/T 32905-2016 §5).
pub fn sm3(data: &[u8]) -> Result<[u8; SM3_LEN], CryptoError> {
    let mut hasher = Hasher::new(HashAlgorithm::Sm3)?;
    hasher.update(data)?;
    let mut out = [0u8; SM3_LEN];
    hasher.finish_into(&mut out)?;
    Ok(out)
}

enum Inner {
    Sha1(openssl::sha::Sha1),
    Sha256(openssl::sha::Sha256),
    Sm3(openssl::md_ctx::MdCtx),
}

/// SM3 fetched from the default provider once (EVP_MD_fetch), so a digest does not pay the
/// implicit fetch of `EVP_sm3()` on every init; falls back to `EVP_sm3()`.
fn sm3_md() -> &'static openssl::md::MdRef {
    static FETCHED: std::sync::OnceLock<Option<openssl::md::Md>> = std::sync::OnceLock::new();
    match FETCHED.get_or_init(|| openssl::md::Md::fetch(None, "SM3", None).ok()) {
        Some(md) => md,
        None => openssl::md::Md::sm3(),
    }
}

/// An incremental digest: `update` any number of times, then `finish`.
pub struct Hasher {
    algorithm: HashAlgorithm,
    inner: Inner,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl Hasher {
    /// Start a new digest.
    pub fn new(algorithm: HashAlgorithm) -> Result<Self, CryptoError> {
        let inner = match algorithm {
            HashAlgorithm::Sha1 => Inner::Sha1(openssl::sha::Sha1::new()),
            HashAlgorithm::Sha256 => Inner::Sha256(openssl::sha::Sha256::new()),
            HashAlgorithm::Sm3 => {
                let mut ctx = openssl::md_ctx::MdCtx::new()?;
                ctx.digest_init(sm3_md())?;
                Inner::Sm3(ctx)
            }
        };
        Ok(Hasher { algorithm, inner })
    }

    /// The algorithm of this digest.
    pub fn algorithm(&self) -> HashAlgorithm {
        self.algorithm
    }

    /// Feed more data.
    pub fn update(&mut self, data: &[u8]) -> Result<(), CryptoError> {
        match &mut self.inner {
            Inner::Sha1(h) => h.update(data),
            Inner::Sha256(h) => h.update(data),
            Inner::Sm3(h) => h.digest_update(data)?,
        }
        Ok(())
    }

    /// Finish and return the digest.
    pub fn finish(self) -> Result<Vec<u8>, CryptoError> {
        let mut out = vec![0u8; self.algorithm.output_len()];
        self.finish_into(&mut out)?;
        Ok(out)
    }

    /// Finish into `out`, which must be exactly [`HashAlgorithm::output_len`] bytes long
    /// (a shorter or longer buffer receives the common prefix only).
    fn finish_into(self, out: &mut [u8]) -> Result<(), CryptoError> {
        match self.inner {
            Inner::Sha1(h) => copy_prefix(out, &h.finish()),
            Inner::Sha256(h) => copy_prefix(out, &h.finish()),
            Inner::Sm3(mut h) => {
                let mut digest = [0u8; SM3_LEN];
                h.digest_final(&mut digest)?;
                copy_prefix(out, &digest);
            }
        }
        Ok(())
    }
}

fn copy_prefix(out: &mut [u8], digest: &[u8]) {
    for (o, d) in out.iter_mut().zip(digest) {
        *o = *d;
    }
}
