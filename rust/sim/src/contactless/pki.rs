//! A test PKI for the virtual contactless cards (EMV Book 2 §5-6 key hierarchy): a CA key
//! pair under a test index, an issuer key certified by it, and per-card ICC keys certified by
//! the issuer, all generated with openssl (via smartpos-crypto) at start-up.

use smartpos_crypto::rsa::RsaPrivateKey;
use smartpos_crypto::rsa::sign::{
    SignedCertificate, issuer_identifier_from_pan, sign_icc_certificate, sign_issuer_certificate,
};
use smartpos_crypto::sm2::{DEFAULT_ID, Sm2PrivateKey};
use smartpos_emv::CaKeyStore;
use smartpos_emv::contactless::sm::SmCaKey;

/// CA public key index of the test PKI (not used by any published test key).
pub const TEST_CA_INDEX: u8 = 0xF3;

/// Errors building the test PKI or a card.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("RSA: {0}")]
    Rsa(#[from] smartpos_crypto::rsa::RsaError),
    #[error("signing: {0}")]
    Sign(#[from] smartpos_crypto::rsa::sign::SignError),
    #[error("cryptogram: {0}")]
    Crypto(String),
}

/// CA + issuer keys of one payment system (RID).
pub struct TestPki {
    pub rid: [u8; 5],
    pub ca: RsaPrivateKey,
    pub issuer: RsaPrivateKey,
    /// SM2 CA and issuer keys (C-7 SM-algorithm cards).
    pub sm_ca: Sm2PrivateKey,
    pub sm_issuer: Sm2PrivateKey,
}

impl std::fmt::Debug for TestPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "TestPki({}/{TEST_CA_INDEX:02X})",
            hex::encode_upper(self.rid)
        )
    }
}

impl TestPki {
    /// CA 1152 bits, issuer 1024 bits (EMV sizes; small enough to generate quickly).
    pub fn generate(rid: [u8; 5]) -> Result<TestPki, PkiError> {
        Ok(TestPki {
            rid,
            ca: RsaPrivateKey::generate(1152, 3)?,
            issuer: RsaPrivateKey::generate(1024, 3)?,
            sm_ca: Sm2PrivateKey::generate().map_err(|e| PkiError::Crypto(e.to_string()))?,
            sm_issuer: Sm2PrivateKey::generate().map_err(|e| PkiError::Crypto(e.to_string()))?,
        })
    }

    /// Put the CA public key into a terminal key store (expiring 2030-12-31).
    pub fn install(&self, store: &mut CaKeyStore) -> Result<(), PkiError> {
        store.insert(
            self.rid,
            TEST_CA_INDEX,
            20301231,
            self.ca.public_key().try_clone()?,
        );
        Ok(())
    }

    /// The SM2 CA public key for the reader (C-7 SM cards).
    pub fn sm_ca_key(&self) -> Result<SmCaKey, PkiError> {
        Ok(SmCaKey {
            rid: self.rid,
            index: TEST_CA_INDEX,
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
