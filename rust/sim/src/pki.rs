//! The simulator's test PKI: CA, issuer and ICC RSA keys, and the EMV certificates that chain
//! them (EMV Book 2 §5.1-§5.2 Issuer Public Key Certificate, format 02; §6.1-§6.2 ICC Public Key
//! Certificate, format 04; §7.1 ICC PIN Encipherment Public Key).
//!
//! Keys are derived deterministically from a seed (a SHA-256 counter-mode stream feeds the prime
//! search), so two processes minting the PKI with the same seed hold the same keys: a transaction
//! recorded against the virtual card in one process replays, signatures and all, in another. The
//! default PKI is minted once per process and cached.
//!
//! These are TEST keys: never load them on a production terminal.

use openssl::bn::{BigNum, BigNumContext};
use openssl::rsa::Rsa;
use smartpos_crypto::rsa::RsaPrivateKey;
use smartpos_crypto::rsa::sign::{
    SignError, SignedCertificate, issuer_identifier_from_pan, sign_icc_certificate,
    sign_issuer_certificate,
};
use smartpos_emv::config::{CaPublicKeyRecord, RevokedCertificate};
use smartpos_emv::{CaKeyStore, ConfigError};
use std::sync::OnceLock;

/// Errors minting keys or certificates.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("RSA key generation ({bits} bits): {reason}")]
    KeyGeneration { bits: u32, reason: String },
    #[error("signing {what}: {source}")]
    Sign {
        what: &'static str,
        #[source]
        source: SignError,
    },
    #[error("CA key record: {0}")]
    Config(#[from] ConfigError),
}

/// The CA public key index the simulator uses under every RID (not used by any EMVCo test key
/// shipped in smartpos-emv's `config/capk_*_test.json`).
pub const SIM_CA_INDEX: u8 = 0xD7;
/// Expiry of the simulator CA keys (YYMMDD).
pub const SIM_CA_EXPIRY: &str = "301231";
/// Issuer certificate serial the simulator's revocation list names (Book 2 §5.3 step 10).
pub const REVOKED_SERIAL: [u8; 3] = [0xDE, 0xAD, 0x01];
/// CA key length in bits (Book 2 §5.1: CA keys up to 1984 bits; e = 3).
pub const CA_BITS: u32 = 1408;
/// Issuer key length (must not exceed the CA key's).
pub const ISSUER_BITS: u32 = 1152;
/// ICC key length (must not exceed the issuer key's).
pub const ICC_BITS: u32 = 1024;
/// ICC PIN Encipherment key length.
pub const PIN_KEY_BITS: u32 = 768;
/// Default seed of the simulator PKI.
pub const DEFAULT_SEED: &str = "smartpos-sim test PKI v1";

/// The RIDs the simulator mints CA keys for: Visa, Mastercard, UnionPay.
pub const SIM_RIDS: [[u8; 5]; 3] = [
    [0xA0, 0x00, 0x00, 0x00, 0x03],
    [0xA0, 0x00, 0x00, 0x00, 0x04],
    [0xA0, 0x00, 0x00, 0x03, 0x33],
];

/// SHA-256 in counter mode over a seed and a label: the deterministic byte stream the prime
/// search draws from.
struct SeedStream {
    seed: Vec<u8>,
    counter: u32,
    buf: Vec<u8>,
}

impl SeedStream {
    fn new(seed: &str, label: &str) -> Self {
        let mut s = seed.as_bytes().to_vec();
        s.push(0);
        s.extend_from_slice(label.as_bytes());
        SeedStream {
            seed: s,
            counter: 0,
            buf: Vec::new(),
        }
    }
    fn fill(&mut self, out: &mut [u8]) {
        for b in out.iter_mut() {
            if self.buf.is_empty() {
                let mut h = openssl::sha::Sha256::new();
                h.update(&self.seed);
                h.update(&self.counter.to_be_bytes());
                self.counter = self.counter.wrapping_add(1);
                self.buf = h.finish().to_vec();
            }
            *b = self.buf.remove(0);
        }
    }
}

fn gen_err(bits: u32) -> impl Fn(openssl::error::ErrorStack) -> PkiError {
    move |e| PkiError::KeyGeneration {
        bits,
        reason: e.to_string(),
    }
}

/// A prime of `bits` bits (top two bits set) with p mod 3 = 2, so gcd(p - 1, 3) = 1 and e = 3
/// is a valid public exponent.
fn seeded_prime(stream: &mut SeedStream, bits: u32) -> Result<BigNum, PkiError> {
    let err = gen_err(bits);
    let mut ctx = BigNumContext::new().map_err(&err)?;
    let mut bytes = vec![0u8; (bits as usize).div_ceil(8)];
    loop {
        stream.fill(&mut bytes);
        if let Some(first) = bytes.first_mut() {
            *first |= 0xC0;
        }
        if let Some(last) = bytes.last_mut() {
            *last |= 0x01;
        }
        let mut p = BigNum::from_slice(&bytes).map_err(&err)?;
        // Step to p ≡ 5 (mod 6): odd and ≡ 2 (mod 3).
        while p.mod_word(6).map_err(&err)? != 5 {
            p.add_word(1).map_err(&err)?;
        }
        for _ in 0..2000 {
            if p.num_bits() as u32 != bits {
                break;
            }
            if p.is_prime_fasttest(32, &mut ctx, true).map_err(&err)? {
                return Ok(p);
            }
            p.add_word(6).map_err(&err)?;
        }
    }
}

/// Derive an RSA key pair (e = 3) of `bits` bits from a seed and a label.
pub fn seeded_rsa_key(seed: &str, label: &str, bits: u32) -> Result<RsaPrivateKey, PkiError> {
    let err = gen_err(bits);
    if bits % 16 != 0 || !(512..=2048).contains(&bits) {
        return Err(PkiError::KeyGeneration {
            bits,
            reason: "must be a multiple of 16 between 512 and 2048".into(),
        });
    }
    let mut stream = SeedStream::new(seed, label);
    let mut ctx = BigNumContext::new().map_err(&err)?;
    loop {
        let p = seeded_prime(&mut stream, bits / 2)?;
        let q = seeded_prime(&mut stream, bits / 2)?;
        if p == q {
            continue;
        }
        let mut n = BigNum::new().map_err(&err)?;
        n.checked_mul(&p, &q, &mut ctx).map_err(&err)?;
        if n.num_bits() as u32 != bits {
            continue;
        }
        let one = BigNum::from_u32(1).map_err(&err)?;
        let e = BigNum::from_u32(3).map_err(&err)?;
        let mut p1 = BigNum::new().map_err(&err)?;
        p1.checked_sub(&p, &one).map_err(&err)?;
        let mut q1 = BigNum::new().map_err(&err)?;
        q1.checked_sub(&q, &one).map_err(&err)?;
        let mut phi = BigNum::new().map_err(&err)?;
        phi.checked_mul(&p1, &q1, &mut ctx).map_err(&err)?;
        let mut d = BigNum::new().map_err(&err)?;
        d.mod_inverse(&e, &phi, &mut ctx).map_err(&err)?;
        let mut dmp1 = BigNum::new().map_err(&err)?;
        dmp1.checked_rem(&d, &p1, &mut ctx).map_err(&err)?;
        let mut dmq1 = BigNum::new().map_err(&err)?;
        dmq1.checked_rem(&d, &q1, &mut ctx).map_err(&err)?;
        let mut iqmp = BigNum::new().map_err(&err)?;
        iqmp.mod_inverse(&q, &p, &mut ctx).map_err(&err)?;
        let rsa = Rsa::from_private_components(n, e, d, p, q, dmp1, dmq1, iqmp).map_err(&err)?;
        let der = zeroize::Zeroizing::new(rsa.private_key_to_der().map_err(&err)?);
        return RsaPrivateKey::from_pkcs1_der(&der).map_err(|e| PkiError::KeyGeneration {
            bits,
            reason: e.to_string(),
        });
    }
}

/// One scheme's chain: CA key (under a RID and index), issuer key, ICC key.
pub struct SchemePki {
    pub rid: [u8; 5],
    pub ca_index: u8,
    pub ca: RsaPrivateKey,
    pub issuer: RsaPrivateKey,
    pub icc: RsaPrivateKey,
}

impl std::fmt::Debug for SchemePki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemePki")
            .field("rid", &hex::encode_upper(self.rid))
            .field("ca_index", &self.ca_index)
            .finish_non_exhaustive()
    }
}

/// What goes into the issuer certificate (Book 2 Table 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IssuerCertFields {
    /// Certificate expiration date MMYY (BCD).
    pub expiry_mmyy: [u8; 2],
    /// Certificate serial number.
    pub serial: [u8; 3],
    /// Issuer identifier length in PAN digits (3..=8).
    pub issuer_id_digits: usize,
}

impl Default for IssuerCertFields {
    fn default() -> Self {
        IssuerCertFields {
            expiry_mmyy: [0x12, 0x30],
            serial: [0x00, 0x10, 0x01],
            issuer_id_digits: 6,
        }
    }
}

impl SchemePki {
    /// The CA public key in the kernel's key-file format (RID, index, modulus, exponent,
    /// expiry, SHA-1 checksum over RID || index || modulus || exponent, Book 2 §11.2.2).
    pub fn ca_key_record(&self) -> CaPublicKeyRecord {
        let pk = self.ca.public_key();
        let mut hashed = self.rid.to_vec();
        hashed.push(self.ca_index);
        hashed.extend_from_slice(pk.modulus());
        hashed.extend_from_slice(pk.exponent());
        CaPublicKeyRecord {
            rid: self.rid.to_vec(),
            index: format!("{:02X}", self.ca_index),
            modulus: pk.modulus().to_vec(),
            exponent: pk.exponent().to_vec(),
            expiry: SIM_CA_EXPIRY.to_string(),
            checksum: openssl::sha::sha1(&hashed).to_vec(),
            source: "smartpos-sim test PKI (test only)".to_string(),
            modulus_bits: pk.modulus_len() * 8,
        }
    }

    /// The Issuer Public Key Certificate (tag 90, remainder 92, exponent 9F32) for a PAN.
    pub fn issuer_certificate(
        &self,
        pan_bcd: &[u8],
        fields: IssuerCertFields,
    ) -> Result<SignedCertificate, PkiError> {
        let id = issuer_identifier_from_pan(pan_bcd, fields.issuer_id_digits).map_err(|e| {
            PkiError::Sign {
                what: "issuer identifier",
                source: e,
            }
        })?;
        sign_issuer_certificate(
            &self.ca,
            id,
            fields.expiry_mmyy,
            fields.serial,
            self.issuer.public_key(),
        )
        .map_err(|e| PkiError::Sign {
            what: "issuer certificate",
            source: e,
        })
    }

    /// The ICC Public Key Certificate (9F46/9F48/9F47) over the card's static data.
    pub fn icc_certificate(
        &self,
        pan_bcd: &[u8],
        expiry_mmyy: [u8; 2],
        serial: [u8; 3],
        static_data: &[u8],
    ) -> Result<SignedCertificate, PkiError> {
        sign_icc_certificate(
            &self.issuer,
            pan_bcd,
            expiry_mmyy,
            serial,
            self.icc.public_key(),
            static_data,
        )
        .map_err(|e| PkiError::Sign {
            what: "ICC certificate",
            source: e,
        })
    }

    /// The ICC PIN Encipherment Public Key Certificate (9F2D/9F2F/9F2E), Book 2 §7.1: same
    /// format as the ICC certificate with no static data.
    pub fn pin_key_certificate(
        &self,
        pin_key: &RsaPrivateKey,
        pan_bcd: &[u8],
        expiry_mmyy: [u8; 2],
    ) -> Result<SignedCertificate, PkiError> {
        sign_icc_certificate(
            &self.issuer,
            pan_bcd,
            expiry_mmyy,
            [0x00, 0x00, 0x03],
            pin_key.public_key(),
            &[],
        )
        .map_err(|e| PkiError::Sign {
            what: "PIN key certificate",
            source: e,
        })
    }
}

/// The whole simulator PKI: one chain per RID plus the ICC PIN encipherment key.
pub struct TestPki {
    pub schemes: Vec<SchemePki>,
    pub pin_key: RsaPrivateKey,
}

impl std::fmt::Debug for TestPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPki")
            .field("schemes", &self.schemes)
            .finish_non_exhaustive()
    }
}

impl TestPki {
    /// Mint the PKI from a seed (deterministic: the same seed gives the same keys).
    pub fn mint(seed: &str) -> Result<TestPki, PkiError> {
        let mut schemes = Vec::with_capacity(SIM_RIDS.len());
        for rid in SIM_RIDS {
            let r = hex::encode_upper(rid);
            schemes.push(SchemePki {
                rid,
                ca_index: SIM_CA_INDEX,
                ca: seeded_rsa_key(seed, &format!("CA {r}"), CA_BITS)?,
                issuer: seeded_rsa_key(seed, &format!("issuer {r}"), ISSUER_BITS)?,
                icc: seeded_rsa_key(seed, &format!("ICC {r}"), ICC_BITS)?,
            });
        }
        Ok(TestPki {
            schemes,
            pin_key: seeded_rsa_key(seed, "ICC PIN encipherment", PIN_KEY_BITS)?,
        })
    }

    /// The default PKI ([`DEFAULT_SEED`]), minted once per process.
    pub fn shared() -> Result<&'static TestPki, PkiError> {
        static PKI: OnceLock<Result<TestPki, String>> = OnceLock::new();
        PKI.get_or_init(|| TestPki::mint(DEFAULT_SEED).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| PkiError::KeyGeneration {
                bits: 0,
                reason: e.clone(),
            })
    }

    /// The chain for a RID.
    pub fn scheme(&self, rid: &[u8]) -> Option<&SchemePki> {
        self.schemes.iter().find(|s| s.rid.as_slice() == rid)
    }

    /// The CA key records (kernel key-file format) of every RID.
    pub fn ca_key_records(&self) -> Vec<CaPublicKeyRecord> {
        self.schemes.iter().map(SchemePki::ca_key_record).collect()
    }

    /// Add the simulator CA keys to a kernel key store (checksums verified on insert).
    pub fn install(&self, store: &mut CaKeyStore) -> Result<(), PkiError> {
        for rec in self.ca_key_records() {
            store.insert_record(&rec)?;
        }
        Ok(())
    }

    /// A key store with the shipped EMVCo test keys plus the simulator's CA keys.
    pub fn key_store(&self) -> Result<CaKeyStore, PkiError> {
        let mut s = CaKeyStore::with_test_keys()?;
        self.install(&mut s)?;
        Ok(s)
    }

    /// The simulator's certification revocation list: the [`REVOKED_SERIAL`] issuer
    /// certificate under every simulator CA key (Book 2 §5.3 step 10).
    pub fn revocation_list(&self) -> Vec<RevokedCertificate> {
        self.schemes
            .iter()
            .map(|s| RevokedCertificate {
                rid: s.rid.to_vec(),
                index: s.ca_index,
                serial: REVOKED_SERIAL.to_vec(),
            })
            .collect()
    }
}
