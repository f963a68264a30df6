//! AES DUKPT, ANSI X9.24-3:2017.
//!
//! * KSN: 12 bytes = 8-byte initial key ID (4-byte BDK ID ‖ 4-byte derivation ID) ‖ 32-bit
//!   transaction counter; counters with more than 16 one bits are never used (§6.1, §6.5).
//! * Key derivation function (§6.3.1, NIST SP 800-108 counter mode with AES-ECB as PRF): for
//!   i = 1..=⌈L/128⌉ encrypt the 16-byte derivation data with byte 1 = i; concatenate, keep L bits.
//! * Derivation data (§6.3.2, table 2): version `01`, block counter, key usage (2 bytes), algorithm
//!   (2 bytes: 0 2TDEA, 1 3TDEA, 2 AES-128, 3 AES-192, 4 AES-256), length in bits (2 bytes), then
//!   the full initial key ID for the initial key, or the derivation ID ‖ counter otherwise.
//! * Initial key (§6.3.3): usage `8001` under the BDK. Intermediate derivation keys (§6.3.4, the
//!   "transaction key" of the test vectors): usage `8000`, one step per set counter bit from the
//!   most significant. Working keys (§6.3.5): the usage and the requested key type under the
//!   intermediate key of the transaction.
//! * Working keys may not be stronger than the BDK (an AES-128 BDK gives 2TDEA, 3TDEA and AES-128
//!   keys; security strengths of NIST SP 800-57 part 1 table 2).

use zeroize::Zeroizing;

use super::FutureKeys;
use crate::cipher::BlockCipher;
use crate::error::CryptoError;
use crate::key::{KeyAlgorithm, SecretKey};

/// KSN length in bytes.
pub const KSN_LEN: usize = 12;
/// Bits of the transaction counter.
pub const COUNTER_BITS: u32 = 32;
/// Highest number of one bits a counter may have.
pub const MAX_ONES: u32 = 16;

/// Type (algorithm and length) of a derived key, X9.24-3:2017 table 2 "Key Type".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// Two-key TDES (128 bits).
    Tdes2,
    /// Three-key TDES (192 bits).
    Tdes3,
    /// AES-128.
    Aes128,
    /// AES-192.
    Aes192,
    /// AES-256.
    Aes256,
}

impl KeyType {
    const fn indicator(self) -> u16 {
        match self {
            KeyType::Tdes2 => 0,
            KeyType::Tdes3 => 1,
            KeyType::Aes128 => 2,
            KeyType::Aes192 => 3,
            KeyType::Aes256 => 4,
        }
    }

    /// Key length in bits.
    pub const fn bits(self) -> u16 {
        match self {
            KeyType::Tdes2 | KeyType::Aes128 => 128,
            KeyType::Tdes3 | KeyType::Aes192 => 192,
            KeyType::Aes256 => 256,
        }
    }

    /// Security strength in bits (NIST SP 800-57 part 1).
    const fn strength(self) -> u16 {
        match self {
            KeyType::Tdes2 => 80,
            KeyType::Tdes3 => 112,
            KeyType::Aes128 => 128,
            KeyType::Aes192 => 192,
            KeyType::Aes256 => 256,
        }
    }

    /// The key algorithm of a key of this type.
    pub const fn key_algorithm(self) -> KeyAlgorithm {
        match self {
            KeyType::Tdes2 => KeyAlgorithm::Tdes2,
            KeyType::Tdes3 => KeyAlgorithm::Tdes3,
            KeyType::Aes128 => KeyAlgorithm::Aes128,
            KeyType::Aes192 => KeyAlgorithm::Aes192,
            KeyType::Aes256 => KeyAlgorithm::Aes256,
        }
    }

    /// The key type of an AES BDK / derivation key.
    pub fn of_aes_key(key: &SecretKey) -> Result<KeyType, CryptoError> {
        match key.algorithm() {
            KeyAlgorithm::Aes128 => Ok(KeyType::Aes128),
            KeyAlgorithm::Aes192 => Ok(KeyType::Aes192),
            KeyAlgorithm::Aes256 => Ok(KeyType::Aes256),
            other => Err(CryptoError::UnsupportedAlgorithm {
                operation: "AES DUKPT derivation key (needs an AES key)",
                algorithm: other,
            }),
        }
    }
}

/// Key usage indicator of the derivation data (X9.24-3:2017 table 2 "Key Usage Indicator").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyUsage {
    /// Key encryption key (`0002`).
    KeyEncryptionKey,
    /// PIN encryption (`1000`).
    PinEncryption,
    /// MAC generation (`2000`).
    MacGeneration,
    /// MAC verification (`2001`).
    MacVerification,
    /// MAC generation and verification (`2002`).
    MacBoth,
    /// Data encryption, encrypt (`3000`).
    DataEncrypt,
    /// Data encryption, decrypt (`3001`).
    DataDecrypt,
    /// Data encryption, both (`3002`).
    DataBoth,
    /// Intermediate key derivation (`8000`).
    KeyDerivation,
    /// Initial key derivation (`8001`).
    KeyDerivationInitialKey,
}

impl KeyUsage {
    /// The 2-byte indicator.
    pub const fn indicator(self) -> u16 {
        match self {
            KeyUsage::KeyEncryptionKey => 0x0002,
            KeyUsage::PinEncryption => 0x1000,
            KeyUsage::MacGeneration => 0x2000,
            KeyUsage::MacVerification => 0x2001,
            KeyUsage::MacBoth => 0x2002,
            KeyUsage::DataEncrypt => 0x3000,
            KeyUsage::DataDecrypt => 0x3001,
            KeyUsage::DataBoth => 0x3002,
            KeyUsage::KeyDerivation => 0x8000,
            KeyUsage::KeyDerivationInitialKey => 0x8001,
        }
    }
}

/// A checked AES DUKPT key serial number.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ksn([u8; KSN_LEN]);

impl Ksn {
    /// A KSN from 12 bytes.
    pub fn new(bytes: &[u8]) -> Result<Self, CryptoError> {
        let arr: [u8; KSN_LEN] = bytes.try_into().map_err(|_| CryptoError::InvalidKsn {
            reason: format!("length {} bytes, AES DUKPT needs {KSN_LEN}", bytes.len()),
        })?;
        Ok(Ksn(arr))
    }

    /// A KSN from 24 hex digits.
    pub fn from_hex(text: &str) -> Result<Self, CryptoError> {
        let bytes = hex::decode(text.trim()).map_err(|e| CryptoError::InvalidHex {
            field: "ksn",
            reason: e.to_string(),
        })?;
        Ksn::new(&bytes)
    }

    /// A KSN from an initial key ID and a counter.
    pub fn from_parts(initial_key_id: &[u8; 8], counter: u32) -> Ksn {
        let mut b = [0u8; KSN_LEN];
        b[..8].copy_from_slice(initial_key_id);
        b[8..].copy_from_slice(&counter.to_be_bytes());
        Ksn(b)
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8; KSN_LEN] {
        &self.0
    }

    /// The 8-byte initial key ID (BDK ID ‖ derivation ID).
    pub fn initial_key_id(&self) -> [u8; 8] {
        let mut id = [0u8; 8];
        id.copy_from_slice(&self.0[..8]);
        id
    }

    /// The 32-bit transaction counter.
    pub fn counter(&self) -> u32 {
        let [.., a, b, c, d] = self.0;
        u32::from_be_bytes([a, b, c, d])
    }

    /// The same initial key ID with another counter.
    pub fn with_counter(&self, counter: u32) -> Ksn {
        Ksn::from_parts(&self.initial_key_id(), counter)
    }
}

impl std::fmt::Debug for Ksn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ksn({})", hex::encode_upper(self.0))
    }
}

/// The 16-byte derivation data of X9.24-3:2017 §6.3.2 (block counter byte set to 1).
pub fn derivation_data(usage: KeyUsage, key_type: KeyType, tail: &[u8; 8]) -> [u8; 16] {
    let mut d = [0u8; 16];
    d[0] = 0x01;
    d[1] = 0x01;
    d[2..4].copy_from_slice(&usage.indicator().to_be_bytes());
    d[4..6].copy_from_slice(&key_type.indicator().to_be_bytes());
    d[6..8].copy_from_slice(&key_type.bits().to_be_bytes());
    d[8..].copy_from_slice(tail);
    d
}

fn counter_tail(ksn: &Ksn, counter: u32) -> [u8; 8] {
    let mut t = [0u8; 8];
    t[..4].copy_from_slice(&ksn.0[4..8]);
    t[4..].copy_from_slice(&counter.to_be_bytes());
    t
}

/// The key derivation function (§6.3.1): AES-ECB of the derivation data with block counter
/// 1, 2, ... until `key_type.bits()` bits are produced.
fn derive(
    cipher: &mut BlockCipher,
    data: [u8; 16],
    key_type: KeyType,
) -> Result<SecretKey, CryptoError> {
    let len = usize::from(key_type.bits() / 8);
    let mut out = Zeroizing::new(Vec::with_capacity(32));
    let mut counter = 1u8;
    while out.len() < len {
        let mut block = data;
        block[1] = counter;
        cipher.encrypt_block(&mut block)?;
        out.extend_from_slice(&block);
        counter = counter.wrapping_add(1);
    }
    out.truncate(len);
    SecretKey::new(key_type.key_algorithm(), &out)
}

fn check_strength(derivation_key: &SecretKey, wanted: KeyType) -> Result<KeyType, CryptoError> {
    let have = KeyType::of_aes_key(derivation_key)?;
    if wanted.strength() > have.strength() {
        return Err(CryptoError::UnsupportedAlgorithm {
            operation: "AES DUKPT working key stronger than the BDK",
            algorithm: wanted.key_algorithm(),
        });
    }
    Ok(have)
}

fn check_counter(counter: u32) -> Result<(), CryptoError> {
    if counter == 0 {
        return Err(CryptoError::InvalidKsn {
            reason: "transaction counter is 0 (no transaction key)".into(),
        });
    }
    if counter.count_ones() > MAX_ONES {
        return Err(CryptoError::InvalidKsn {
            reason: format!(
                "transaction counter {counter:#X} has {} one bits (at most {MAX_ONES})",
                counter.count_ones()
            ),
        });
    }
    Ok(())
}

/// The initial key (IK) of a device from the BDK and its initial key ID (§6.3.3).
pub fn derive_initial_key(
    bdk: &SecretKey,
    initial_key_id: &[u8; 8],
) -> Result<SecretKey, CryptoError> {
    let kt = KeyType::of_aes_key(bdk)?;
    let data = derivation_data(KeyUsage::KeyDerivationInitialKey, kt, initial_key_id);
    derive(&mut BlockCipher::new(bdk)?, data, kt)
}

/// Receiver side: the intermediate derivation key of `ksn`'s transaction from the initial key
/// (§6.3.4; the "transaction key" of the X9.24-3 test vectors).
pub fn derive_intermediate_key(
    initial_key: &SecretKey,
    ksn: &Ksn,
) -> Result<SecretKey, CryptoError> {
    let kt = KeyType::of_aes_key(initial_key)?;
    let counter = ksn.counter();
    check_counter(counter)?;
    let mut key = initial_key.clone();
    let mut cipher = BlockCipher::new(initial_key)?;
    let mut working = 0u32;
    for shift in (0..COUNTER_BITS).rev() {
        let bit = 1u32 << shift;
        if counter & bit != 0 {
            working |= bit;
            let data = derivation_data(KeyUsage::KeyDerivation, kt, &counter_tail(ksn, working));
            cipher.rekey(&key)?;
            key = derive(&mut cipher, data, kt)?;
        }
    }
    Ok(key)
}

/// A working key from the transaction's intermediate key (§6.3.5).
pub fn derive_working_key(
    intermediate_key: &SecretKey,
    ksn: &Ksn,
    usage: KeyUsage,
    key_type: KeyType,
) -> Result<SecretKey, CryptoError> {
    check_strength(intermediate_key, key_type)?;
    let data = derivation_data(usage, key_type, &counter_tail(ksn, ksn.counter()));
    derive(&mut BlockCipher::new(intermediate_key)?, data, key_type)
}

/// Receiver side from the BDK: initial key, intermediate key, working key.
pub fn host_working_key(
    bdk: &SecretKey,
    ksn: &Ksn,
    usage: KeyUsage,
    key_type: KeyType,
) -> Result<SecretKey, CryptoError> {
    check_strength(bdk, key_type)?;
    let ik = derive_initial_key(bdk, &ksn.initial_key_id())?;
    let ik_key = derive_intermediate_key(&ik, ksn)?;
    derive_working_key(&ik_key, ksn, usage, key_type)
}

/// All working keys of one transaction, of one key type.
#[derive(Clone, Debug)]
pub struct SessionKeys {
    /// The KSN these keys belong to.
    pub ksn: Ksn,
    /// The working key type.
    pub key_type: KeyType,
    /// The intermediate derivation key of the transaction.
    pub intermediate_key: SecretKey,
    /// PIN encryption.
    pub pin_key: SecretKey,
    /// MAC generation.
    pub mac_generation_key: SecretKey,
    /// MAC verification.
    pub mac_verification_key: SecretKey,
    /// MAC both ways.
    pub mac_both_key: SecretKey,
    /// Data encryption (encrypt).
    pub data_encrypt_key: SecretKey,
    /// Data encryption (decrypt).
    pub data_decrypt_key: SecretKey,
    /// Data encryption (both).
    pub data_both_key: SecretKey,
    /// Key encryption key.
    pub key_encryption_key: SecretKey,
}

impl SessionKeys {
    /// Every working key of a transaction from its intermediate key.
    pub fn from_intermediate_key(
        ksn: Ksn,
        intermediate_key: SecretKey,
        key_type: KeyType,
    ) -> Result<Self, CryptoError> {
        let w = |usage| derive_working_key(&intermediate_key, &ksn, usage, key_type);
        Ok(SessionKeys {
            ksn,
            key_type,
            pin_key: w(KeyUsage::PinEncryption)?,
            mac_generation_key: w(KeyUsage::MacGeneration)?,
            mac_verification_key: w(KeyUsage::MacVerification)?,
            mac_both_key: w(KeyUsage::MacBoth)?,
            data_encrypt_key: w(KeyUsage::DataEncrypt)?,
            data_decrypt_key: w(KeyUsage::DataDecrypt)?,
            data_both_key: w(KeyUsage::DataBoth)?,
            key_encryption_key: w(KeyUsage::KeyEncryptionKey)?,
            intermediate_key,
        })
    }
}

/// Receiver side, every working key of one KSN from the BDK.
pub fn host_session_keys(
    bdk: &SecretKey,
    ksn: &Ksn,
    key_type: KeyType,
) -> Result<SessionKeys, CryptoError> {
    check_strength(bdk, key_type)?;
    let ik = derive_initial_key(bdk, &ksn.initial_key_id())?;
    SessionKeys::from_intermediate_key(*ksn, derive_intermediate_key(&ik, ksn)?, key_type)
}

/// The originating device of X9.24-3:2017 §6.5: 32 intermediate-key registers, counters with more
/// than 16 one bits skipped, `DukptExhausted` after the last counter (0xFFFF0000).
pub struct Originator {
    initial_key_id: [u8; 8],
    key_type: KeyType,
    keys: FutureKeys,
    cipher: Option<BlockCipher>,
}

impl std::fmt::Debug for Originator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Originator")
            .field("initial_key_id", &hex::encode_upper(self.initial_key_id))
            .field("key_type", &self.key_type)
            .finish_non_exhaustive()
    }
}

fn step(
    cipher: &mut Option<BlockCipher>,
    ksn: &Ksn,
    kt: KeyType,
    key: &SecretKey,
    counter: u64,
) -> Result<SecretKey, CryptoError> {
    let c = u32::try_from(counter).map_err(|_| CryptoError::DukptExhausted)?;
    match cipher {
        Some(bc) => bc.rekey(key)?,
        None => *cipher = Some(BlockCipher::new(key)?),
    }
    let data = derivation_data(KeyUsage::KeyDerivation, kt, &counter_tail(ksn, c));
    match cipher {
        Some(bc) => derive(bc, data, kt),
        None => Err(CryptoError::DukptExhausted),
    }
}

impl Originator {
    /// Load the initial key and its initial key ID (§6.5 "Load initial key"); the initial key itself
    /// is not kept.
    pub fn load_initial_key(
        initial_key: &SecretKey,
        initial_key_id: &[u8; 8],
    ) -> Result<Self, CryptoError> {
        let kt = KeyType::of_aes_key(initial_key)?;
        let ksn = Ksn::from_parts(initial_key_id, 0);
        let mut cipher = None;
        let keys = FutureKeys::load(initial_key, COUNTER_BITS, MAX_ONES, &mut |k, c| {
            step(&mut cipher, &ksn, kt, k, c)
        })?;
        Ok(Originator {
            initial_key_id: *initial_key_id,
            key_type: kt,
            keys,
            cipher,
        })
    }

    /// An originator in the state it has just before the transaction at `ksn`, rebuilt from the
    /// initial key by receiver-side derivation. For simulators and tests only.
    pub fn at_ksn_for_simulation(initial_key: &SecretKey, ksn: &Ksn) -> Result<Self, CryptoError> {
        let kt = KeyType::of_aes_key(initial_key)?;
        let keys =
            FutureKeys::at_counter(u64::from(ksn.counter()), COUNTER_BITS, MAX_ONES, &mut |c| {
                derive_intermediate_key(initial_key, &ksn.with_counter(c as u32))
            })?;
        Ok(Originator {
            initial_key_id: ksn.initial_key_id(),
            key_type: kt,
            keys,
            cipher: None,
        })
    }

    /// The device state to persist between power cycles (initial key ID, counter and the future
    /// intermediate keys). **Sensitive**: store it as securely as the keys themselves.
    pub fn export_state(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(self.initial_key_id.to_vec());
        out.push(self.key_type.indicator() as u8);
        out.extend_from_slice(&self.keys.export());
        out
    }

    /// Restore a state written by [`Originator::export_state`].
    pub fn import_state(state: &[u8]) -> Result<Self, CryptoError> {
        let bad = |reason: &str| CryptoError::InvalidInput {
            field: "dukpt state",
            reason: reason.to_string(),
        };
        let mut initial_key_id = [0u8; 8];
        initial_key_id.copy_from_slice(state.get(..8).ok_or_else(|| bad("too short"))?);
        let key_type = match state.get(8) {
            Some(2) => KeyType::Aes128,
            Some(3) => KeyType::Aes192,
            Some(4) => KeyType::Aes256,
            _ => return Err(bad("unknown derivation key type")),
        };
        let keys = FutureKeys::import(
            state.get(9..).unwrap_or_default(),
            COUNTER_BITS,
            MAX_ONES,
            key_type.key_algorithm(),
        )?;
        Ok(Originator {
            initial_key_id,
            key_type,
            keys,
            cipher: None,
        })
    }

    /// The KSN of the next transaction, or `DukptExhausted`.
    pub fn next_ksn(&self) -> Result<Ksn, CryptoError> {
        let c = u32::try_from(self.keys.counter()?).map_err(|_| CryptoError::DukptExhausted)?;
        Ok(Ksn::from_parts(&self.initial_key_id, c))
    }

    /// Start a transaction: its KSN and intermediate derivation key; the key is erased from the
    /// registers and the counter advances.
    pub fn next_transaction(&mut self) -> Result<(Ksn, SecretKey), CryptoError> {
        let ksn0 = Ksn::from_parts(&self.initial_key_id, 0);
        let kt = self.key_type;
        let cipher = &mut self.cipher;
        let (counter, key) = self.keys.next(&mut |k, c| step(cipher, &ksn0, kt, k, c))?;
        let c = u32::try_from(counter).map_err(|_| CryptoError::DukptExhausted)?;
        Ok((Ksn::from_parts(&self.initial_key_id, c), key))
    }

    /// Start a transaction and derive all its working keys of `key_type`.
    pub fn next_session_keys(&mut self, key_type: KeyType) -> Result<SessionKeys, CryptoError> {
        let (ksn, key) = self.next_transaction()?;
        SessionKeys::from_intermediate_key(ksn, key, key_type)
    }
}
