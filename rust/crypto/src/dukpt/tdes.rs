//! TDES DUKPT, ANSI X9.24-1:2009 Annex A.
//!
//! * KSN: 10 bytes; the rightmost 21 bits are the encryption counter.
//! * IPEK (A.6 "Derive initial PIN encryption key"): TDES-encrypt the leftmost 8 bytes of the KSN
//!   (counter cleared) under the BDK for the left half, and under BDK XOR
//!   `C0C0C0C000000000C0C0C0C000000000` for the right half.
//! * Non-reversible key generation process (A.2): [`non_reversible_key`].
//! * Receiver derivation (A.6): from the IPEK, one non-reversible step per set counter bit, from
//!   the most significant down.
//! * Originator (A.2): 21 future-key registers, counters with more than 10 one bits skipped, end of
//!   life when the counter overflows 21 bits ([`CryptoError::DukptExhausted`]).
//! * Variants (A.6, and the X9.24-1:2009 table of PIN/MAC/data variant constants): PIN `..00FF`,
//!   MAC request `..FF00`, MAC response `FF000000` positions, data request `0000000000FF0000`, data
//!   response `000000FF00000000` (each on both halves). Data keys additionally go through the
//!   one-way step: the variant key encrypts itself (each half, TDES-ECB).

use zeroize::Zeroizing;

use super::FutureKeys;
use crate::cipher::{self, BlockCipher};
use crate::error::CryptoError;
use crate::key::{KeyAlgorithm, SecretKey};

/// KSN length in bytes.
pub const KSN_LEN: usize = 10;
/// Bits of the encryption counter.
pub const COUNTER_BITS: u32 = 21;
/// Highest number of one bits a counter may have.
pub const MAX_ONES: u32 = 10;
/// Mask of the encryption counter in the KSN's rightmost 3 bytes.
pub const COUNTER_MASK: u32 = 0x1F_FFFF;

const KEY_MASK: [u8; 16] = [
    0xC0, 0xC0, 0xC0, 0xC0, 0, 0, 0, 0, 0xC0, 0xC0, 0xC0, 0xC0, 0, 0, 0, 0,
];

/// The working-key variants of a transaction key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Variant {
    /// PIN encryption: XOR `00000000000000FF` on both halves.
    Pin,
    /// MAC, request (or both ways): XOR `000000000000FF00` on both halves.
    MacRequest,
    /// MAC, response: XOR `00000000FF000000` on both halves.
    MacResponse,
    /// Data encryption, request (or both ways): XOR `0000000000FF0000`, then the one-way step.
    DataRequest,
    /// Data encryption, response: XOR `000000FF00000000`, then the one-way step.
    DataResponse,
}

impl Variant {
    fn mask(self) -> [u8; 16] {
        let pos = match self {
            Variant::Pin => 7,
            Variant::MacRequest => 6,
            Variant::MacResponse => 4,
            Variant::DataRequest => 5,
            Variant::DataResponse => 3,
        };
        let mut m = [0u8; 16];
        m[pos] = 0xFF;
        m[pos + 8] = 0xFF;
        m
    }
}

/// A checked TDES DUKPT key serial number.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ksn([u8; KSN_LEN]);

impl Ksn {
    /// A KSN from 10 bytes.
    pub fn new(bytes: &[u8]) -> Result<Self, CryptoError> {
        let arr: [u8; KSN_LEN] = bytes.try_into().map_err(|_| CryptoError::InvalidKsn {
            reason: format!("length {} bytes, TDES DUKPT needs {KSN_LEN}", bytes.len()),
        })?;
        Ok(Ksn(arr))
    }

    /// A KSN from 20 hex digits.
    pub fn from_hex(text: &str) -> Result<Self, CryptoError> {
        let bytes = hex::decode(text.trim()).map_err(|e| CryptoError::InvalidHex {
            field: "ksn",
            reason: e.to_string(),
        })?;
        Ksn::new(&bytes)
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8; KSN_LEN] {
        &self.0
    }

    /// The 21-bit encryption counter.
    pub fn counter(&self) -> u32 {
        let [.., a, b, c] = self.0;
        u32::from_be_bytes([0, a, b, c]) & COUNTER_MASK
    }

    /// The same KSN with another counter value (masked to 21 bits).
    pub fn with_counter(&self, counter: u32) -> Ksn {
        let mut out = self.0;
        let cur = u32::from_be_bytes([0, out[7], out[8], out[9]]);
        let v = (cur & !COUNTER_MASK) | (counter & COUNTER_MASK);
        let [_, a, b, c] = v.to_be_bytes();
        out[7] = a;
        out[8] = b;
        out[9] = c;
        Ksn(out)
    }

    /// The rightmost 8 bytes with the counter cleared, as a number ("KSN register", A.2).
    fn right64_base(&self) -> u64 {
        let mut r = [0u8; 8];
        r.copy_from_slice(&self.0[2..]);
        u64::from_be_bytes(r) & !u64::from(COUNTER_MASK)
    }
}

impl std::fmt::Debug for Ksn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ksn({})", hex::encode_upper(self.0))
    }
}

fn check_bdk(key: &SecretKey, what: &'static str) -> Result<(), CryptoError> {
    if key.algorithm() != KeyAlgorithm::Tdes2 {
        return Err(CryptoError::UnsupportedAlgorithm {
            operation: what,
            algorithm: key.algorithm(),
        });
    }
    Ok(())
}

/// Derive the initial PIN encryption key (IPEK) from the BDK and a KSN (X9.24-1:2009 A.6).
pub fn derive_ipek(bdk: &SecretKey, ksn: &Ksn) -> Result<SecretKey, CryptoError> {
    check_bdk(bdk, "TDES DUKPT BDK (needs a 2-key TDES key)")?;
    let cleared = ksn.with_counter(0);
    let mut left = [0u8; 8];
    left.copy_from_slice(&cleared.0[..8]);
    let mut right = left;
    BlockCipher::new(bdk)?.encrypt_block(&mut left)?;
    BlockCipher::new(&bdk.xor(&KEY_MASK)?)?.encrypt_block(&mut right)?;
    let mut ipek = Zeroizing::new([0u8; 16]);
    ipek[..8].copy_from_slice(&left);
    ipek[8..].copy_from_slice(&right);
    SecretKey::new(KeyAlgorithm::Tdes2, &ipek[..])
}

/// Single-DES engine reused across the many key changes of DUKPT derivation.
struct DesEngine(Option<BlockCipher>);

impl DesEngine {
    fn encrypt(&mut self, key_bytes: &[u8], block: &mut [u8; 8]) -> Result<(), CryptoError> {
        let key = SecretKey::new(KeyAlgorithm::Des, key_bytes)?;
        match &mut self.0 {
            Some(bc) => bc.rekey(&key)?,
            None => self.0 = Some(BlockCipher::new(&key)?),
        }
        match &mut self.0 {
            Some(bc) => bc.encrypt_block(block),
            None => Err(CryptoError::InvalidInput {
                field: "dukpt",
                reason: "DES engine unavailable".into(),
            }),
        }
    }
}

/// The non-reversible key generation process (X9.24-1:2009 A.2): the new key from the current key
/// and the 8-byte "crypto register 1" value (rightmost KSN bytes with the counter bits so far).
fn nrkgp(engine: &mut DesEngine, key: &[u8], cr1: u64) -> Result<SecretKey, CryptoError> {
    let ksn = cr1.to_be_bytes();
    let half = |k: &[u8], engine: &mut DesEngine| -> Result<[u8; 8], CryptoError> {
        let (kl, kr) = k.split_at(8);
        let mut block = [0u8; 8];
        for ((b, s), r) in block.iter_mut().zip(ksn).zip(kr) {
            *b = s ^ r;
        }
        engine.encrypt(kl, &mut block)?;
        for (b, r) in block.iter_mut().zip(kr) {
            *b ^= r;
        }
        Ok(block)
    };
    let right = half(key, engine)?;
    let mut masked = Zeroizing::new([0u8; 16]);
    for ((m, k), x) in masked.iter_mut().zip(key).zip(KEY_MASK) {
        *m = k ^ x;
    }
    let left = half(&masked[..], engine)?;
    let mut out = Zeroizing::new([0u8; 16]);
    out[..8].copy_from_slice(&left);
    out[8..].copy_from_slice(&right);
    SecretKey::new(KeyAlgorithm::Tdes2, &out[..])
}

/// One non-reversible key generation step, public for tests and tools.
pub fn non_reversible_key(
    key: &SecretKey,
    crypto_register: &[u8; 8],
) -> Result<SecretKey, CryptoError> {
    check_bdk(
        key,
        "DUKPT non-reversible key generation (needs a 2-key TDES key)",
    )?;
    nrkgp(
        &mut DesEngine(None),
        key.as_bytes(),
        u64::from_be_bytes(*crypto_register),
    )
}

fn check_counter(counter: u32) -> Result<(), CryptoError> {
    if counter == 0 {
        return Err(CryptoError::InvalidKsn {
            reason: "encryption counter is 0 (no transaction key)".into(),
        });
    }
    if counter.count_ones() > MAX_ONES {
        return Err(CryptoError::InvalidKsn {
            reason: format!(
                "encryption counter {counter:#X} has {} one bits (at most {MAX_ONES})",
                counter.count_ones()
            ),
        });
    }
    Ok(())
}

/// Receiver side (X9.24-1:2009 A.6): the transaction key for `ksn` from the IPEK.
pub fn derive_transaction_key(ipek: &SecretKey, ksn: &Ksn) -> Result<SecretKey, CryptoError> {
    check_bdk(ipek, "TDES DUKPT IPEK (needs a 2-key TDES key)")?;
    let counter = ksn.counter();
    check_counter(counter)?;
    let mut engine = DesEngine(None);
    let mut reg = ksn.right64_base();
    let mut key = ipek.clone();
    for shift in (0..COUNTER_BITS).rev() {
        let bit = 1u32 << shift;
        if counter & bit != 0 {
            reg |= u64::from(bit);
            key = nrkgp(&mut engine, key.as_bytes(), reg)?;
        }
    }
    Ok(key)
}

/// Receiver side from the BDK: IPEK, then the transaction key.
pub fn host_transaction_key(bdk: &SecretKey, ksn: &Ksn) -> Result<SecretKey, CryptoError> {
    derive_transaction_key(&derive_ipek(bdk, ksn)?, ksn)
}

/// A working key from a transaction key: the variant, plus the one-way step for data keys.
pub fn variant_key(
    transaction_key: &SecretKey,
    variant: Variant,
) -> Result<SecretKey, CryptoError> {
    check_bdk(
        transaction_key,
        "TDES DUKPT variant (needs a 2-key TDES key)",
    )?;
    let key = transaction_key.xor(&variant.mask())?;
    match variant {
        Variant::DataRequest | Variant::DataResponse => {
            let out = Zeroizing::new(cipher::encrypt_ecb(&key, key.as_bytes())?);
            SecretKey::new(KeyAlgorithm::Tdes2, &out)
        }
        _ => Ok(key),
    }
}

/// All working keys of one transaction.
#[derive(Clone, Debug)]
pub struct SessionKeys {
    /// The KSN these keys belong to.
    pub ksn: Ksn,
    /// The transaction key (before any variant).
    pub transaction_key: SecretKey,
    /// PIN encryption key.
    pub pin_key: SecretKey,
    /// MAC key, request.
    pub mac_request_key: SecretKey,
    /// MAC key, response.
    pub mac_response_key: SecretKey,
    /// Data encryption key, request.
    pub data_request_key: SecretKey,
    /// Data encryption key, response.
    pub data_response_key: SecretKey,
}

impl SessionKeys {
    /// All variants of a transaction key.
    pub fn from_transaction_key(ksn: Ksn, transaction_key: SecretKey) -> Result<Self, CryptoError> {
        Ok(SessionKeys {
            ksn,
            pin_key: variant_key(&transaction_key, Variant::Pin)?,
            mac_request_key: variant_key(&transaction_key, Variant::MacRequest)?,
            mac_response_key: variant_key(&transaction_key, Variant::MacResponse)?,
            data_request_key: variant_key(&transaction_key, Variant::DataRequest)?,
            data_response_key: variant_key(&transaction_key, Variant::DataResponse)?,
            transaction_key,
        })
    }
}

/// Receiver side, everything for one KSN from the BDK.
pub fn host_session_keys(bdk: &SecretKey, ksn: &Ksn) -> Result<SessionKeys, CryptoError> {
    SessionKeys::from_transaction_key(*ksn, host_transaction_key(bdk, ksn)?)
}

/// The originating (PIN entry) device of X9.24-1:2009 A.2: future-key registers and the KSN.
pub struct Originator {
    ksn: Ksn,
    keys: FutureKeys,
    engine: DesEngine,
}

impl std::fmt::Debug for Originator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Originator")
            .field("ksn", &self.ksn)
            .finish_non_exhaustive()
    }
}

impl Originator {
    /// "Load initial key": the IPEK and the initial KSN (counter 0). Fills the 21 future-key
    /// registers; the IPEK itself is not kept.
    pub fn load_initial_key(ipek: &SecretKey, initial_ksn: &Ksn) -> Result<Self, CryptoError> {
        check_bdk(ipek, "TDES DUKPT IPEK (needs a 2-key TDES key)")?;
        if initial_ksn.counter() != 0 {
            return Err(CryptoError::InvalidKsn {
                reason: "the initial KSN must have a zero encryption counter".into(),
            });
        }
        let base = initial_ksn.right64_base();
        let mut engine = DesEngine(None);
        let keys = FutureKeys::load(ipek, COUNTER_BITS, MAX_ONES, &mut |k, c| {
            nrkgp(&mut engine, k.as_bytes(), base | c)
        })?;
        Ok(Originator {
            ksn: *initial_ksn,
            keys,
            engine,
        })
    }

    /// An originator in the state it has just before the transaction at `ksn`'s counter, rebuilt
    /// from the IPEK by receiver-side derivation. For simulators and tests only: a real device never
    /// keeps its IPEK.
    pub fn at_ksn_for_simulation(ipek: &SecretKey, ksn: &Ksn) -> Result<Self, CryptoError> {
        check_bdk(ipek, "TDES DUKPT IPEK (needs a 2-key TDES key)")?;
        let keys =
            FutureKeys::at_counter(u64::from(ksn.counter()), COUNTER_BITS, MAX_ONES, &mut |c| {
                derive_transaction_key(ipek, &ksn.with_counter(c as u32))
            })?;
        Ok(Originator {
            ksn: ksn.with_counter(0),
            keys,
            engine: DesEngine(None),
        })
    }

    /// The device state to persist between power cycles (KSN, counter and the future keys; never
    /// past keys). **Sensitive**: store it as securely as the keys themselves.
    pub fn export_state(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(self.ksn.with_counter(0).0.to_vec());
        out.extend_from_slice(&self.keys.export());
        out
    }

    /// Restore a state written by [`Originator::export_state`].
    pub fn import_state(state: &[u8]) -> Result<Self, CryptoError> {
        let ksn = Ksn::new(state.get(..KSN_LEN).unwrap_or_default())?;
        let keys = FutureKeys::import(
            state.get(KSN_LEN..).unwrap_or_default(),
            COUNTER_BITS,
            MAX_ONES,
            KeyAlgorithm::Tdes2,
        )?;
        Ok(Originator {
            ksn,
            keys,
            engine: DesEngine(None),
        })
    }

    /// The KSN the next transaction will use, or `DukptExhausted`.
    pub fn next_ksn(&self) -> Result<Ksn, CryptoError> {
        Ok(self.ksn.with_counter(self.keys.counter()? as u32))
    }

    /// Start a transaction: returns its KSN and transaction key, erases that key from the
    /// registers, prepares the future keys and advances the counter (skipping counters with more
    /// than 10 one bits). After the last key (counter overflow) every call returns `DukptExhausted`.
    pub fn next_transaction(&mut self) -> Result<(Ksn, SecretKey), CryptoError> {
        let base = self.ksn.right64_base();
        let engine = &mut self.engine;
        let (counter, key) = self
            .keys
            .next(&mut |k, c| nrkgp(engine, k.as_bytes(), base | c))?;
        Ok((self.ksn.with_counter(counter as u32), key))
    }

    /// Start a transaction and return all its working keys.
    pub fn next_session_keys(&mut self) -> Result<SessionKeys, CryptoError> {
        let (ksn, key) = self.next_transaction()?;
        SessionKeys::from_transaction_key(ksn, key)
    }
}
