//! The device's secure key store as a callback: [`KeyStoreCallback`], wrapped into
//! smartpos-terminal's `KeyStore` trait so the terminal master key, the working keys of the last
//! sign-on and the journal's data-protection keys live where the device keeps them (a vendor
//! secure element, Android Keystore-wrapped storage). The software store
//! (`smartpos_terminal::SoftKeyStore`, seeded by [`crate::PosKeys`]) stays the default for tests
//! and the demo.
//!
//! Key hierarchy: ANSI X9.24-1:2009 §7 (master/session keys: the TMK enciphers the working keys
//! of a sign-on); the journal's PAN keys protect stored card data (PCI DSS v4 §3.5).
//!
//! Keys cross the FFI as bytes only where the terminal's trait needs their value (the host
//! link computes MACs and translates PIN blocks in Rust): every `Vec<u8>` that arrives from the
//! app is moved into a zeroizing buffer at once; a key Rust sends to the app (a new TMK, the
//! working keys of a sign-on) is handed to UniFFI's lowering, whose transfer buffer is freed, not
//! cleared, by the generated code. No key is ever in a `Debug` output or a log line. The app must
//! clear the `ByteArray`s it handles.

use std::fmt;
use std::sync::Mutex;

use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_crypto::keyhier::WorkingKeyType;
use smartpos_journal::Timestamp;
use smartpos_terminal::KeyStore;
use smartpos_terminal::devices::{JournalKeys, KeyStoreError};
use zeroize::Zeroizing;

use crate::error::SmartPosError;

/// Algorithm of a key held by the key store (ANSI X9.24-1 TDEA, FIPS 197 AES, GB/T 32907 SM4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PosKeyAlgorithm {
    /// Double-length TDES (16 bytes).
    Tdes2,
    /// Triple-length TDES (24 bytes).
    Tdes3,
    /// AES-128.
    Aes128,
    /// AES-192.
    Aes192,
    /// AES-256.
    Aes256,
    /// SM4 (16 bytes).
    Sm4,
}

impl PosKeyAlgorithm {
    fn from_core(a: KeyAlgorithm) -> Result<Self, KeyStoreError> {
        Ok(match a {
            KeyAlgorithm::Tdes2 => PosKeyAlgorithm::Tdes2,
            KeyAlgorithm::Tdes3 => PosKeyAlgorithm::Tdes3,
            KeyAlgorithm::Aes128 => PosKeyAlgorithm::Aes128,
            KeyAlgorithm::Aes192 => PosKeyAlgorithm::Aes192,
            KeyAlgorithm::Aes256 => PosKeyAlgorithm::Aes256,
            KeyAlgorithm::Sm4 => PosKeyAlgorithm::Sm4,
            KeyAlgorithm::Des => {
                return Err(KeyStoreError::Failure(
                    "single DES keys are not stored".into(),
                ));
            }
        })
    }

    pub(crate) fn core(self) -> KeyAlgorithm {
        match self {
            PosKeyAlgorithm::Tdes2 => KeyAlgorithm::Tdes2,
            PosKeyAlgorithm::Tdes3 => KeyAlgorithm::Tdes3,
            PosKeyAlgorithm::Aes128 => KeyAlgorithm::Aes128,
            PosKeyAlgorithm::Aes192 => KeyAlgorithm::Aes192,
            PosKeyAlgorithm::Aes256 => KeyAlgorithm::Aes256,
            PosKeyAlgorithm::Sm4 => KeyAlgorithm::Sm4,
        }
    }
}

/// Working key types of a sign-on (ANSI X9.24-1 §7: PIN, MAC and data keys under the TMK).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PosWorkingKeyType {
    /// PIN key (TPK/PIK).
    Pin,
    /// MAC key (TAK/MAK).
    Mac,
    /// Data key (TDK).
    Data,
}

impl From<WorkingKeyType> for PosWorkingKeyType {
    fn from(t: WorkingKeyType) -> Self {
        match t {
            WorkingKeyType::Pin => PosWorkingKeyType::Pin,
            WorkingKeyType::Mac => PosWorkingKeyType::Mac,
            WorkingKeyType::Data => PosWorkingKeyType::Data,
        }
    }
}

impl From<PosWorkingKeyType> for WorkingKeyType {
    fn from(t: PosWorkingKeyType) -> Self {
        match t {
            PosWorkingKeyType::Pin => WorkingKeyType::Pin,
            PosWorkingKeyType::Mac => WorkingKeyType::Mac,
            PosWorkingKeyType::Data => WorkingKeyType::Data,
        }
    }
}

/// One key value crossing the FFI. `Debug` shows only the algorithm and length. Coming from the
/// app, the Rust side moves `value` into a zeroizing buffer at once; going to the app, the bytes
/// are handed to UniFFI's lowering (which frees, not clears, its buffer).
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct PosSecretKey {
    /// The algorithm.
    pub algorithm: PosKeyAlgorithm,
    /// The clear key bytes.
    pub value: Vec<u8>,
}

impl fmt::Debug for PosSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PosSecretKey({:?}, {} bytes, <hidden>)",
            self.algorithm,
            self.value.len()
        )
    }
}

/// A working key of a sign-on.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PosWorkingKey {
    /// Which key.
    pub key_type: PosWorkingKeyType,
    /// Its value.
    pub key: PosSecretKey,
}

/// The journal's PAN hash key and PAN data key (32 bytes each). `Debug` hides both; Rust
/// moves both into zeroizing buffers as soon as they arrive.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct PosJournalKeys {
    /// HMAC key of the PAN hash (duplicate and velocity checks).
    pub hash_key: Vec<u8>,
    /// AES-256-GCM key of the encrypted PAN.
    pub data_key: Vec<u8>,
}

impl fmt::Debug for PosJournalKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PosJournalKeys(<hidden>)")
    }
}

/// The device's secure key store, implemented by the app (vendor SDK, Android Keystore-wrapped
/// storage). Every method may be called from a Rust worker thread.
///
/// The app must clear (`fill(0)`) every `ByteArray` it was given or returned once it has stored
/// or sent it: Rust zeroizes its own copies, not the JVM's.
#[uniffi::export(callback_interface)]
pub trait KeyStoreCallback: Send + Sync {
    /// The terminal master key, `None` when none is loaded (or after [`Self::erase_all`]).
    fn master_key(&self) -> Result<Option<PosSecretKey>, SmartPosError>;
    /// Store a new terminal master key; the working keys of the old one are dropped.
    fn install_master_key(&self, key: PosSecretKey) -> Result<(), SmartPosError>;
    /// A working key of the last sign-on, `None` when absent.
    fn working_key(
        &self,
        key_type: PosWorkingKeyType,
    ) -> Result<Option<PosSecretKey>, SmartPosError>;
    /// Store the working keys of a sign-on (replacing the previous ones), installed at
    /// `installed_at_ms` (ms since the Unix epoch).
    fn install_working_keys(
        &self,
        keys: Vec<PosWorkingKey>,
        installed_at_ms: i64,
    ) -> Result<(), SmartPosError>;
    /// When the working keys were installed (ms since the Unix epoch), `None` when there are none.
    fn working_keys_installed_at_ms(&self) -> Result<Option<i64>, SmartPosError>;
    /// The journal's PAN keys, 32 bytes each. The store creates them (random) on the first call
    /// and returns the same two keys for the life of the journal.
    fn journal_keys(&self) -> Result<PosJournalKeys, SmartPosError>;
    /// Tamper: erase every key (master, working, journal). A failure is logged; the terminal
    /// blocks payments either way.
    fn erase_all(&self) -> Result<(), SmartPosError>;
}

fn failure(e: SmartPosError) -> KeyStoreError {
    KeyStoreError::Failure(e.to_string())
}

/// A key from the app's bytes: the bytes are zeroized here, whatever the outcome.
fn take_key(mut key: PosSecretKey) -> Result<SecretKey, KeyStoreError> {
    let value = Zeroizing::new(std::mem::take(&mut key.value));
    SecretKey::new(key.algorithm.core(), &value).map_err(|e| {
        KeyStoreError::Failure(format!(
            "the key store returned an unusable {:?} key: {e}",
            key.algorithm
        ))
    })
}

/// A key's bytes for the app (the `PosSecretKey` zeroizes its copy when UniFFI has lowered it).
fn give_key(key: &SecretKey) -> Result<PosSecretKey, KeyStoreError> {
    Ok(PosSecretKey {
        algorithm: PosKeyAlgorithm::from_core(key.algorithm())?,
        value: key.as_bytes().to_vec(),
    })
}

/// smartpos-terminal's `KeyStore` over the app's [`KeyStoreCallback`].
pub(crate) struct CallbackKeyStore {
    inner: Mutex<Box<dyn KeyStoreCallback>>,
}

impl CallbackKeyStore {
    pub(crate) fn new(inner: Box<dyn KeyStoreCallback>) -> Self {
        CallbackKeyStore {
            inner: Mutex::new(inner),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&dyn KeyStoreCallback) -> T) -> T {
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(guard.as_ref())
    }
}

impl fmt::Debug for CallbackKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallbackKeyStore(<device key store>)")
    }
}

impl KeyStore for CallbackKeyStore {
    fn master_key(&self) -> Option<SecretKey> {
        match self.with(|s| s.master_key()) {
            Ok(Some(k)) => match take_key(k) {
                Ok(k) => Some(k),
                Err(e) => {
                    log::warn!("terminal master key refused: {e}");
                    None
                }
            },
            Ok(None) => None,
            Err(e) => {
                log::warn!("key store: master key not readable: {e}");
                None
            }
        }
    }

    fn install_master_key(&mut self, tmk: SecretKey) -> Result<(), KeyStoreError> {
        let key = give_key(&tmk)?;
        self.with(|s| s.install_master_key(key)).map_err(failure)
    }

    fn working_key(&self, key_type: WorkingKeyType) -> Option<SecretKey> {
        match self.with(|s| s.working_key(key_type.into())) {
            Ok(Some(k)) => take_key(k)
                .map_err(|e| log::warn!("working key {key_type} refused: {e}"))
                .ok(),
            Ok(None) => None,
            Err(e) => {
                log::warn!("key store: working key {key_type} not readable: {e}");
                None
            }
        }
    }

    fn install_working_keys(
        &mut self,
        keys: &[(WorkingKeyType, SecretKey)],
        at: Timestamp,
    ) -> Result<(), KeyStoreError> {
        let keys = keys
            .iter()
            .map(|(t, k)| {
                Ok(PosWorkingKey {
                    key_type: (*t).into(),
                    key: give_key(k)?,
                })
            })
            .collect::<Result<Vec<_>, KeyStoreError>>()?;
        self.with(|s| s.install_working_keys(keys, at.0))
            .map_err(failure)
    }

    fn working_keys_installed_at(&self) -> Option<Timestamp> {
        match self.with(|s| s.working_keys_installed_at_ms()) {
            Ok(at) => at.map(Timestamp),
            Err(e) => {
                // Unknown age: treated as no working keys, so the next payment signs on.
                log::warn!("key store: working key time not readable: {e}");
                None
            }
        }
    }

    fn journal_keys(&mut self) -> Result<JournalKeys, KeyStoreError> {
        let mut keys = self.with(|s| s.journal_keys()).map_err(failure)?;
        let hash = Zeroizing::new(std::mem::take(&mut keys.hash_key));
        let data = Zeroizing::new(std::mem::take(&mut keys.data_key));
        for (name, k) in [("hash", &hash), ("data", &data)] {
            if k.len() != 32 {
                return Err(KeyStoreError::Failure(format!(
                    "journal {name} key has {} bytes, 32 expected",
                    k.len()
                )));
            }
        }
        Ok((hash, data))
    }

    fn erase_all(&mut self) {
        if let Err(e) = self.with(|s| s.erase_all()) {
            log::error!("key store: erasing the keys after tamper failed: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A key store in memory that records what it was asked to do.
    #[derive(Default)]
    struct Memory {
        tmk: Mutex<Option<PosSecretKey>>,
        working: Mutex<Vec<PosWorkingKey>>,
        at: Mutex<Option<i64>>,
        erased: Mutex<u32>,
        journal_len: usize,
    }

    impl KeyStoreCallback for Arc<Memory> {
        fn master_key(&self) -> Result<Option<PosSecretKey>, SmartPosError> {
            Ok(self.tmk.lock().unwrap().clone())
        }
        fn install_master_key(&self, key: PosSecretKey) -> Result<(), SmartPosError> {
            *self.tmk.lock().unwrap() = Some(key);
            self.working.lock().unwrap().clear();
            Ok(())
        }
        fn working_key(
            &self,
            key_type: PosWorkingKeyType,
        ) -> Result<Option<PosSecretKey>, SmartPosError> {
            Ok(self
                .working
                .lock()
                .unwrap()
                .iter()
                .find(|k| k.key_type == key_type)
                .map(|k| k.key.clone()))
        }
        fn install_working_keys(
            &self,
            keys: Vec<PosWorkingKey>,
            installed_at_ms: i64,
        ) -> Result<(), SmartPosError> {
            *self.working.lock().unwrap() = keys;
            *self.at.lock().unwrap() = Some(installed_at_ms);
            Ok(())
        }
        fn working_keys_installed_at_ms(&self) -> Result<Option<i64>, SmartPosError> {
            Ok(*self.at.lock().unwrap())
        }
        fn journal_keys(&self) -> Result<PosJournalKeys, SmartPosError> {
            Ok(PosJournalKeys {
                hash_key: vec![7; self.journal_len],
                data_key: vec![9; 32],
            })
        }
        fn erase_all(&self) -> Result<(), SmartPosError> {
            *self.tmk.lock().unwrap() = None;
            self.working.lock().unwrap().clear();
            *self.erased.lock().unwrap() += 1;
            Ok(())
        }
    }

    fn store(journal_len: usize) -> (Arc<Memory>, CallbackKeyStore) {
        let m = Arc::new(Memory {
            journal_len,
            ..Memory::default()
        });
        (m.clone(), CallbackKeyStore::new(Box::new(m)))
    }

    #[test]
    fn keys_round_trip_through_the_callback_with_their_algorithm() {
        let (m, mut s) = store(32);
        assert!(s.master_key().is_none());
        let tmk = SecretKey::new(KeyAlgorithm::Tdes2, &[0x11; 16]).unwrap();
        s.install_master_key(tmk.clone()).unwrap();
        assert_eq!(s.master_key(), Some(tmk));
        let mac = SecretKey::new(KeyAlgorithm::Aes128, &[0x22; 16]).unwrap();
        s.install_working_keys(&[(WorkingKeyType::Mac, mac.clone())], Timestamp(1234))
            .unwrap();
        assert_eq!(s.working_key(WorkingKeyType::Mac), Some(mac));
        assert_eq!(
            s.working_key(WorkingKeyType::Mac).unwrap().algorithm(),
            KeyAlgorithm::Aes128
        );
        assert!(s.working_key(WorkingKeyType::Pin).is_none());
        assert_eq!(s.working_keys_installed_at(), Some(Timestamp(1234)));
        let (h, d) = s.journal_keys().unwrap();
        assert_eq!((h[0], d[0], h.len()), (7, 9, 32));
        s.erase_all();
        assert_eq!(*m.erased.lock().unwrap(), 1);
        assert!(s.master_key().is_none());
    }

    #[test]
    fn a_short_journal_key_or_a_bad_master_key_is_refused() {
        let (m, mut s) = store(16);
        let e = s.journal_keys().unwrap_err();
        assert!(
            e.to_string().contains("journal hash key has 16 bytes"),
            "{e}"
        );
        // A 5-byte "TDES" key from the app: no usable master key, no panic.
        *m.tmk.lock().unwrap() = Some(PosSecretKey {
            algorithm: PosKeyAlgorithm::Tdes2,
            value: vec![1; 5],
        });
        assert!(s.master_key().is_none());
    }

    #[test]
    fn debug_never_shows_key_bytes() {
        let k = PosSecretKey {
            algorithm: PosKeyAlgorithm::Tdes2,
            value: vec![0xAB; 16],
        };
        let text = format!("{k:?}");
        assert!(!text.contains("AB") && !text.contains("171"), "{text}");
        let j = PosJournalKeys {
            hash_key: vec![0xCD; 32],
            data_key: vec![0xEF; 32],
        };
        assert_eq!(format!("{j:?}"), "PosJournalKeys(<hidden>)");
    }
}
