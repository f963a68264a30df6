//! Card number protection: masking for display, a keyed hash for velocity and duplicate checks,
//! and authenticated encryption of the full PAN (with expiry) where a later message needs it.
//!
//! PCI DSS v4.0 §3.3 (sensitive authentication data — track 2, CVV, PIN block — is never stored:
//! this API has no place for it), §3.4.1 (PAN masked to at most first six and last four when
//! displayed), §3.5.1 (stored PAN rendered unreadable: keyed cryptographic hash and strong
//! cryptography with key management). Keys come from the caller (the terminal's key store).

use std::fmt;

use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;
use openssl::symm::{Cipher, decrypt_aead, encrypt_aead};
use serde::{Serialize, Serializer};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{JournalError, Result};

/// A full primary account number (ISO/IEC 7812-1: 12 to 19 digits). Zeroized on drop; `Debug`
/// and `Display` show only the mask.
#[derive(Clone)]
pub struct Pan(Zeroizing<String>);

impl Pan {
    /// Parse a PAN of 12 to 19 decimal digits.
    pub fn parse(digits: &str) -> Result<Pan> {
        let len = digits.len();
        if !(12..=19).contains(&len) {
            return Err(JournalError::InvalidField {
                field: "pan",
                reason: format!("length {len}, expected 12 to 19 digits"),
            });
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(JournalError::InvalidField {
                field: "pan",
                reason: "non-digit character".into(),
            });
        }
        Ok(Pan(Zeroizing::new(digits.to_owned())))
    }

    /// The digits (handle with care: never log this).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// First six and last four digits, the rest replaced by `*` (PCI DSS §3.4.1).
    pub fn masked(&self) -> MaskedPan {
        let d = self.0.as_bytes();
        let mut out = String::with_capacity(d.len());
        for (i, b) in d.iter().enumerate() {
            if i < 6 || i + 4 >= d.len() {
                out.push(char::from(*b));
            } else {
                out.push('*');
            }
        }
        MaskedPan(out)
    }
}

impl fmt::Debug for Pan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pan({})", self.masked().0)
    }
}

/// A PAN masked for display: first six, last four.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct MaskedPan(pub(crate) String);

impl MaskedPan {
    /// The masked string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MaskedPan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// HMAC-SHA-256 of the PAN under the terminal's hash key: the same card gives the same value,
/// and without the key the value reveals nothing about the PAN.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PanHash(pub(crate) [u8; 32]);

impl PanHash {
    /// Raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// From raw bytes (as stored).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        PanHash(bytes)
    }
}

impl fmt::Debug for PanHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PanHash(")?;
        for b in &self.0[..4] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "…)")
    }
}

impl Serialize for PanHash {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut hex = String::with_capacity(64);
        for b in &self.0 {
            hex.push_str(&format!("{b:02x}"));
        }
        s.serialize_str(&hex)
    }
}

/// An encrypted card (PAN and optional expiry): `version(1) | key_id(4, BE) | nonce(12) |
/// ciphertext | tag(16)`, AES-256-GCM (NIST SP 800-38D) with the record's UUID as associated data,
/// so a blob cannot be moved to another record. `Debug` shows only its length.
#[derive(Clone, PartialEq, Eq)]
pub struct EncryptedPan(pub(crate) Vec<u8>);

impl EncryptedPan {
    /// The stored bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Key identifier the blob was sealed under (for key rotation).
    pub fn key_id(&self) -> Option<u32> {
        let b = self.0.get(1..5)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

impl fmt::Debug for EncryptedPan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EncryptedPan(<{} bytes>)", self.0.len())
    }
}

/// A decrypted card: PAN and, if it was stored with it, the expiry date (YYMM). Zeroized on drop.
#[derive(Debug, Clone)]
pub struct ProtectedCard {
    /// The PAN.
    pub pan: Pan,
    /// Expiry YYMM, sensitive: stored only inside the encrypted blob.
    pub expiry: Option<Expiry>,
}

/// Card expiry date YYMM (EMV tag 5F24 without the day). Zeroized on drop; `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct Expiry(Zeroizing<String>);

impl Expiry {
    /// Parse four digits YYMM with a month 01-12.
    pub fn parse(yymm: &str) -> Result<Expiry> {
        let ok = yymm.len() == 4
            && yymm.bytes().all(|b| b.is_ascii_digit())
            && matches!(
                yymm.get(2..4).and_then(|m| m.parse::<u8>().ok()),
                Some(1..=12)
            );
        if !ok {
            return Err(JournalError::InvalidField {
                field: "expiry",
                reason: "expected YYMM".into(),
            });
        }
        Ok(Expiry(Zeroizing::new(yymm.to_owned())))
    }

    /// The YYMM digits.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Expiry(****)")
    }
}

/// Protects PANs for storage. The journal calls it; the keys stay with the implementation.
pub trait PanProtector: Send {
    /// Keyed hash of the PAN, stable for a given key.
    fn keyed_hash(&self, pan: &Pan) -> Result<PanHash>;
    /// Seal a PAN (and optional expiry) bound to `context` (the record UUID).
    fn seal(&self, card: &ProtectedCard, context: &[u8]) -> Result<EncryptedPan>;
    /// Open a sealed PAN bound to `context`.
    fn open(&self, sealed: &EncryptedPan, context: &[u8]) -> Result<ProtectedCard>;
}

const BLOB_VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + 4 + NONCE_LEN;

/// [`PanProtector`] with HMAC-SHA-256 (RFC 2104, FIPS 198-1) for the keyed hash and AES-256-GCM
/// (NIST SP 800-38D, random 96-bit nonce) for encryption, using two independent 256-bit keys.
pub struct AesGcmPanProtector {
    hash_key: Zeroizing<[u8; 32]>,
    data_key: Zeroizing<[u8; 32]>,
    key_id: u32,
}

impl AesGcmPanProtector {
    /// Build from the hash key and the data key (32 bytes each) and the data key's identifier.
    pub fn new(hash_key: &[u8], data_key: &[u8], key_id: u32) -> Result<Self> {
        Ok(AesGcmPanProtector {
            hash_key: key32("hash_key", hash_key)?,
            data_key: key32("data_key", data_key)?,
            key_id,
        })
    }
}

impl fmt::Debug for AesGcmPanProtector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AesGcmPanProtector")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

fn key32(name: &'static str, k: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
    let mut out = Zeroizing::new([0u8; 32]);
    if k.len() != 32 {
        return Err(JournalError::InvalidKey {
            name,
            reason: format!("{} bytes, expected 32", k.len()),
        });
    }
    out.copy_from_slice(k);
    Ok(out)
}

impl PanProtector for AesGcmPanProtector {
    fn keyed_hash(&self, pan: &Pan) -> Result<PanHash> {
        let key = PKey::hmac(&self.hash_key[..])?;
        let mut signer = Signer::new(MessageDigest::sha256(), &key)?;
        signer.update(pan.expose().as_bytes())?;
        let mac = Zeroizing::new(signer.sign_to_vec()?);
        let mut out = [0u8; 32];
        if mac.len() != 32 {
            return Err(JournalError::Corrupt {
                column: "pan_hash",
                value: format!("HMAC length {}", mac.len()),
            });
        }
        out.copy_from_slice(&mac);
        Ok(PanHash(out))
    }

    fn seal(&self, card: &ProtectedCard, context: &[u8]) -> Result<EncryptedPan> {
        let mut plain = Zeroizing::new(String::with_capacity(24));
        plain.push_str(card.pan.expose());
        if let Some(e) = &card.expiry {
            plain.push('=');
            plain.push_str(e.expose());
        }
        let mut nonce = [0u8; NONCE_LEN];
        openssl::rand::rand_bytes(&mut nonce)?;
        let mut tag = [0u8; TAG_LEN];
        let ct = encrypt_aead(
            Cipher::aes_256_gcm(),
            &self.data_key[..],
            Some(&nonce),
            context,
            plain.as_bytes(),
            &mut tag,
        )?;
        let mut out = Vec::with_capacity(HEADER_LEN + ct.len() + TAG_LEN);
        out.push(BLOB_VERSION);
        out.extend_from_slice(&self.key_id.to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out.extend_from_slice(&tag);
        Ok(EncryptedPan(out))
    }

    fn open(&self, sealed: &EncryptedPan, context: &[u8]) -> Result<ProtectedCard> {
        let b = &sealed.0;
        if b.len() < HEADER_LEN + TAG_LEN || b.first() != Some(&BLOB_VERSION) {
            return Err(JournalError::Corrupt {
                column: "pan_enc",
                value: format!("blob of {} bytes", b.len()),
            });
        }
        if sealed.key_id() != Some(self.key_id) {
            return Err(JournalError::InvalidKey {
                name: "data_key",
                reason: format!(
                    "blob sealed under key id {:?}, protector has {}",
                    sealed.key_id(),
                    self.key_id
                ),
            });
        }
        let (head, rest) = b.split_at(HEADER_LEN);
        let (ct, tag) = rest.split_at(rest.len() - TAG_LEN);
        let nonce = &head[5..HEADER_LEN];
        let mut plain = Zeroizing::new(
            decrypt_aead(
                Cipher::aes_256_gcm(),
                &self.data_key[..],
                Some(nonce),
                context,
                ct,
                tag,
            )
            .map_err(|_| JournalError::PanDecryption)?,
        );
        let text = std::str::from_utf8(&plain).map_err(|_| JournalError::PanDecryption)?;
        let (pan, expiry) = match text.split_once('=') {
            Some((p, e)) => (Pan::parse(p)?, Some(Expiry::parse(e)?)),
            None => (Pan::parse(text)?, None),
        };
        plain.zeroize();
        Ok(ProtectedCard { pan, expiry })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn protector() -> AesGcmPanProtector {
        AesGcmPanProtector::new(&[0x11; 32], &[0x22; 32], 7).unwrap()
    }

    #[test]
    fn mask_keeps_first_six_last_four() {
        let p = Pan::parse("4761739001010119").unwrap();
        assert_eq!(p.masked().as_str(), "476173******0119");
        assert_eq!(format!("{p:?}"), "Pan(476173******0119)");
        let short = Pan::parse("123456789012").unwrap();
        assert_eq!(short.masked().as_str(), "123456**9012");
    }

    #[test]
    fn pan_rejects_bad_input() {
        assert!(Pan::parse("12345678901").is_err());
        assert!(Pan::parse("12345678901234567890").is_err());
        assert!(Pan::parse("47617390010101a9").is_err());
    }

    /// RFC 4231 test case 2 checks our HMAC-SHA-256 wiring against a published vector
    /// (id: RFC4231-TC2, source: RFC 4231 §4.3): key "Jefe", data "what do ya want for nothing?".
    /// Our hash keys are 32 bytes, so here we check the same primitive directly.
    #[test]
    fn hmac_sha256_matches_rfc4231_case2() {
        let key = PKey::hmac(b"Jefe").unwrap();
        let mut s = Signer::new(MessageDigest::sha256(), &key).unwrap();
        s.update(b"what do ya want for nothing?").unwrap();
        let mac = s.sign_to_vec().unwrap();
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn keyed_hash_is_stable_and_key_dependent() {
        let p = Pan::parse("4761739001010119").unwrap();
        let a = protector().keyed_hash(&p).unwrap();
        assert_eq!(a, protector().keyed_hash(&p).unwrap());
        let other = AesGcmPanProtector::new(&[0x12; 32], &[0x22; 32], 7).unwrap();
        assert_ne!(a, other.keyed_hash(&p).unwrap());
        assert_ne!(
            a,
            protector()
                .keyed_hash(&Pan::parse("4761739001010127").unwrap())
                .unwrap()
        );
        assert!(format!("{a:?}").len() < 24);
    }

    #[test]
    fn seal_open_round_trip_and_binding() {
        let pr = protector();
        let card = ProtectedCard {
            pan: Pan::parse("5413330089020011").unwrap(),
            expiry: Some(Expiry::parse("2912").unwrap()),
        };
        let s1 = pr.seal(&card, b"uuid-1").unwrap();
        let s2 = pr.seal(&card, b"uuid-1").unwrap();
        assert_ne!(s1, s2, "random nonce");
        assert_eq!(s1.key_id(), Some(7));
        let back = pr.open(&s1, b"uuid-1").unwrap();
        assert_eq!(back.pan.expose(), "5413330089020011");
        assert_eq!(back.expiry.unwrap().expose(), "2912");
        assert!(matches!(
            pr.open(&s1, b"uuid-2"),
            Err(JournalError::PanDecryption)
        ));
        let mut t = s1.clone();
        let last = t.0.len() - 1;
        t.0[last] ^= 1;
        assert!(matches!(
            pr.open(&t, b"uuid-1"),
            Err(JournalError::PanDecryption)
        ));
        let wrong = AesGcmPanProtector::new(&[0x11; 32], &[0x23; 32], 7).unwrap();
        assert!(matches!(
            wrong.open(&s1, b"uuid-1"),
            Err(JournalError::PanDecryption)
        ));
        assert!(matches!(
            pr.open(&EncryptedPan(vec![1, 2]), b"x"),
            Err(JournalError::Corrupt { .. })
        ));
        assert!(format!("{s1:?}").starts_with("EncryptedPan(<"));
    }

    #[test]
    fn keys_must_be_32_bytes() {
        assert!(matches!(
            AesGcmPanProtector::new(&[0; 16], &[0; 32], 1),
            Err(JournalError::InvalidKey {
                name: "hash_key",
                ..
            })
        ));
        assert!(Expiry::parse("2913").is_err());
        assert!(Expiry::parse("29a2").is_err());
    }
}
