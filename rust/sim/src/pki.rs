//! The simulator's test PKI, for the contact and the contactless virtual cards: CA, issuer and
//! ICC RSA keys, and the EMV certificates that chain them (EMV Book 2 §5.1-§5.2 Issuer Public
//! Key Certificate, format 02; §6.1-§6.2 ICC Public Key Certificate, format 04; §7.1 ICC PIN
//! Encipherment Public Key), plus the SM2 keys and certificates of the C-7 SM cards.
//!
//! * [`TestPki`]: the contact cards' chains, CA index [`SIM_CA_INDEX`] (D7) under every RID;
//! * [`ContactlessPki`]: one RID's chain for the contactless cards and phones, CA index
//!   [`CONTACTLESS_CA_INDEX`] (F3), smaller keys ([`CONTACTLESS_CA_BITS`]...), SM2 CA and issuer.
//!
//! Every key, RSA and SM2, is derived deterministically from a seed and a label (a SHA-256
//! counter-mode stream feeds the prime search or the SM2 scalar), so two processes minting the
//! PKI with the same seed hold the same keys: a transaction recorded against a virtual card in
//! one process replays, signatures and all, in another. Derived keys are cached per process.
//!
//! These are TEST keys: never load them on a production terminal.

use openssl::bn::{BigNum, BigNumContext};
use openssl::rsa::Rsa;
use smartpos_crypto::rsa::RsaPrivateKey;
use smartpos_crypto::rsa::sign::{
    SignError, SignedCertificate, issuer_identifier_from_pan, sign_icc_certificate,
    sign_issuer_certificate,
};
use smartpos_crypto::sm2::{DEFAULT_ID, Sm2PrivateKey};
use smartpos_emv::config::{CaPublicKeyRecord, RevokedCertificate};
use smartpos_emv::contactless::sm::SmCaKey;
use smartpos_emv::{CaKeyStore, ConfigError};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use zeroize::Zeroizing;

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
    #[error("RSA: {0}")]
    Rsa(#[from] smartpos_crypto::rsa::RsaError),
    /// SM2 keys and signatures, application cryptograms of the contactless cards.
    #[error("cryptography: {0}")]
    Crypto(String),
}

impl From<SignError> for PkiError {
    fn from(source: SignError) -> Self {
        PkiError::Sign {
            what: "certificate",
            source,
        }
    }
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

/// Keys derived so far in this process (PKCS#1 DER or SM2 scalar, zeroized on drop), by seed,
/// label and size: deriving a key is a prime search, cloning it is not.
type KeyCache = Mutex<HashMap<(String, String, u32), Zeroizing<Vec<u8>>>>;

fn key_cache() -> &'static KeyCache {
    static CACHE: OnceLock<KeyCache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

fn cached(
    seed: &str,
    label: &str,
    bits: u32,
    derive: impl FnOnce() -> Result<Zeroizing<Vec<u8>>, PkiError>,
) -> Result<Zeroizing<Vec<u8>>, PkiError> {
    let id = (seed.to_string(), label.to_string(), bits);
    if let Some(hit) = key_cache().lock().ok().and_then(|c| c.get(&id).cloned()) {
        return Ok(hit);
    }
    let fresh = derive()?;
    if let Ok(mut c) = key_cache().lock() {
        c.insert(id, fresh.clone());
    }
    Ok(fresh)
}

/// Derive an RSA key pair (e = 3) of `bits` bits from a seed and a label (cached per process).
pub fn seeded_rsa_key(seed: &str, label: &str, bits: u32) -> Result<RsaPrivateKey, PkiError> {
    let der = cached(seed, label, bits, || {
        derive_rsa_key(seed, label, bits)?
            .to_pkcs1_der()
            .map_err(PkiError::from)
    })?;
    Ok(RsaPrivateKey::from_pkcs1_der(&der)?)
}

/// Derive an SM2 private key (GB/T 32918.1 §6.1: d in [1, n-2]) from a seed and a label: the
/// first 32-byte draw of the seeded stream that is a valid scalar (cached per process).
pub fn seeded_sm2_key(seed: &str, label: &str) -> Result<Sm2PrivateKey, PkiError> {
    let d = cached(seed, label, 256, || {
        let mut stream = SeedStream::new(seed, label);
        for _ in 0..64 {
            let mut d = Zeroizing::new(vec![0u8; 32]);
            stream.fill(&mut d);
            if Sm2PrivateKey::from_bytes(&d).is_ok() {
                return Ok(d);
            }
        }
        Err(PkiError::Crypto(format!(
            "SM2 key {label:?}: no valid scalar in 64 draws"
        )))
    })?;
    Sm2PrivateKey::from_bytes(&d).map_err(|e| PkiError::Crypto(e.to_string()))
}

fn derive_rsa_key(seed: &str, label: &str, bits: u32) -> Result<RsaPrivateKey, PkiError> {
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

/// CA public key index of the contactless cards' PKI under each RID (not used by any published
/// test key).
pub const CONTACTLESS_CA_INDEX: u8 = 0xF3;
/// Contactless CA key length (EMV sizes, smaller than the contact chain's).
pub const CONTACTLESS_CA_BITS: u32 = 1152;
/// Contactless issuer key length.
pub const CONTACTLESS_ISSUER_BITS: u32 = 1024;
/// Contactless ICC key length.
pub const CONTACTLESS_ICC_BITS: u32 = 768;

/// One RID's chain for the contactless cards and phones (EMV Book 2 §5-§6 key hierarchy, CA
/// index [`CONTACTLESS_CA_INDEX`]): RSA CA and issuer keys, and the SM2 CA and issuer keys of
/// the C-7 SM cards. ICC keys are per card ([`ContactlessPki::icc_key`]). The fields are public
/// (a caller may assemble a chain from keys of its own, e.g. the contact chain's).
pub struct ContactlessPki {
    pub rid: [u8; 5],
    pub ca: RsaPrivateKey,
    pub issuer: RsaPrivateKey,
    /// SM2 CA and issuer keys (C-7 SM-algorithm cards).
    pub sm_ca: Sm2PrivateKey,
    pub sm_issuer: Sm2PrivateKey,
}

impl std::fmt::Debug for ContactlessPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ContactlessPki({}/{CONTACTLESS_CA_INDEX:02X})",
            hex::encode_upper(self.rid)
        )
    }
}

impl ContactlessPki {
    /// The chain of `rid` from the [`DEFAULT_SEED`]: the same keys in every process.
    pub fn generate(rid: [u8; 5]) -> Result<ContactlessPki, PkiError> {
        ContactlessPki::mint(DEFAULT_SEED, rid)
    }

    /// The chain of `rid` from `seed` (another seed gives another, unrelated CA: tests of a
    /// wrong CA key use one).
    pub fn mint(seed: &str, rid: [u8; 5]) -> Result<ContactlessPki, PkiError> {
        let r = hex::encode_upper(rid);
        Ok(ContactlessPki {
            rid,
            ca: seeded_rsa_key(seed, &format!("contactless CA {r}"), CONTACTLESS_CA_BITS)?,
            issuer: seeded_rsa_key(
                seed,
                &format!("contactless issuer {r}"),
                CONTACTLESS_ISSUER_BITS,
            )?,
            sm_ca: seeded_sm2_key(seed, &format!("contactless SM2 CA {r}"))?,
            sm_issuer: seeded_sm2_key(seed, &format!("contactless SM2 issuer {r}"))?,
        })
    }

    /// The seeded generator's label of a per-card key: the RID, a fingerprint of this chain's
    /// CA public key (so another chain, minted from another seed or assembled by the caller,
    /// gets other card keys) and the card's name.
    fn card_label(&self, kind: &str, card: &str) -> String {
        let fp = openssl::sha::sha256(self.ca.public_key().modulus());
        format!(
            "contactless {kind} {} {} {card}",
            hex::encode_upper(self.rid),
            hex::encode_upper(fp.get(..8).unwrap_or(&[]))
        )
    }

    /// The RSA ICC key of the card named `card` (e.g. its PAN and form factor), from the
    /// [`DEFAULT_SEED`] generator: the same card of the same chain has the same key everywhere.
    pub fn icc_key(&self, card: &str) -> Result<RsaPrivateKey, PkiError> {
        seeded_rsa_key(
            DEFAULT_SEED,
            &self.card_label("ICC", card),
            CONTACTLESS_ICC_BITS,
        )
    }

    /// The SM2 ICC key of the card named `card` (see [`ContactlessPki::icc_key`]).
    pub fn sm_icc_key(&self, card: &str) -> Result<Sm2PrivateKey, PkiError> {
        seeded_sm2_key(DEFAULT_SEED, &self.card_label("SM2 ICC", card))
    }

    /// Put the CA public key into a terminal key store (expiring 2030-12-31).
    pub fn install(&self, store: &mut CaKeyStore) -> Result<(), PkiError> {
        store.insert(
            self.rid,
            CONTACTLESS_CA_INDEX,
            20301231,
            self.ca.public_key().try_clone()?,
        );
        Ok(())
    }

    /// The SM2 CA public key for the reader (C-7 SM cards).
    pub fn sm_ca_key(&self) -> Result<SmCaKey, PkiError> {
        Ok(SmCaKey {
            rid: self.rid,
            index: CONTACTLESS_CA_INDEX,
            key: self
                .sm_ca
                .public_key()
                .try_clone()
                .map_err(|e| PkiError::Crypto(e.to_string()))?,
        })
    }

    /// SM issuer certificate (format 12, see `smartpos_emv::contactless::sm`).
    pub fn sm_issuer_certificate(&self, pan: &[u8]) -> Result<Vec<u8>, PkiError> {
        let id = issuer_identifier_from_pan(pan, 6)?;
        let mut c = vec![0x12];
        c.extend_from_slice(&id);
        c.extend_from_slice(&[0x12, 0x30, 0x00, 0x00, 0x03, 0x04, 0x04, 0x40]);
        c.extend_from_slice(
            self.sm_issuer
                .public_key()
                .to_bytes()
                .get(1..)
                .unwrap_or(&[]),
        );
        let sig = self
            .sm_ca
            .sign(DEFAULT_ID, &c)
            .map_err(|e| PkiError::Crypto(e.to_string()))?;
        c.extend_from_slice(&sig.to_bytes());
        Ok(c)
    }

    /// SM ICC certificate (format 14) over the static data.
    pub fn sm_icc_certificate(
        &self,
        icc: &Sm2PrivateKey,
        pan: &[u8],
        static_data: &[u8],
    ) -> Result<Vec<u8>, PkiError> {
        let mut c = vec![0x14];
        let mut p = pan.to_vec();
        p.resize(10, 0xFF);
        c.extend_from_slice(&p);
        c.extend_from_slice(&[0x12, 0x30, 0x00, 0x00, 0x04, 0x04, 0x04, 0x40]);
        c.extend_from_slice(icc.public_key().to_bytes().get(1..).unwrap_or(&[]));
        let signed = [c.as_slice(), static_data].concat();
        let sig = self
            .sm_issuer
            .sign(DEFAULT_ID, &signed)
            .map_err(|e| PkiError::Crypto(e.to_string()))?;
        c.extend_from_slice(&sig.to_bytes());
        Ok(c)
    }

    /// The Issuer Public Key Certificate for cards whose PAN starts like `pan`.
    pub fn issuer_certificate(&self, pan: &[u8]) -> Result<SignedCertificate, PkiError> {
        let id = issuer_identifier_from_pan(pan, 6)?;
        Ok(sign_issuer_certificate(
            &self.ca,
            id,
            [0x12, 0x30],
            [0x00, 0x00, 0x01],
            self.issuer.public_key(),
        )?)
    }

    /// An ICC Public Key Certificate binding `icc` to the PAN and the static data.
    pub fn icc_certificate(
        &self,
        icc: &RsaPrivateKey,
        pan: &[u8],
        static_data: &[u8],
    ) -> Result<SignedCertificate, PkiError> {
        Ok(sign_icc_certificate(
            &self.issuer,
            pan,
            [0x12, 0x30],
            [0x00, 0x00, 0x02],
            icc.public_key(),
            static_data,
        )?)
    }
}
