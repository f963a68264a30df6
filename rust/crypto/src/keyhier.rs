//! The terminal key hierarchy of UnionPay-style POS hosts: a terminal master key (TMK) and the
//! working keys it protects (PIN key TPK/PIK, MAC key TAK/MAK, data key TDK).
//!
//! * The TMK is loaded from a TR-31 key block (ANSI X9.143; usage K0 or K1) or from 2-3 clear
//!   components combined by XOR (ANSI X9.24-1:2017 §7.6 / A.6 dual control), each component's
//!   KCV and the combined KCV checked (encrypt-zeros KCV, X9.24-1:2017 §7.7.2).
//! * Working keys arrive enciphered under the TMK in ECB mode with a KCV (the leftmost 4 bytes
//!   of the key enciphering a block of zeros), as UnionPay sign-on responses carry them in
//!   field 62, in TDES or in SM4. A key whose KCV does not match is never installed.

use crate::CryptoError;
use crate::key::{KeyAlgorithm, SecretKey};
use crate::tr31::{self, KeyUsage, KeyUsageRequirement, ModeOfUse, Tr31Error};
use crate::{cipher, kcv};
use zeroize::Zeroizing;

/// Errors of the key hierarchy. None of them carries key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyHierarchyError {
    /// 2 or 3 components are required.
    #[error("{count} key components given; 2 or 3 are required")]
    ComponentCount { count: usize },
    /// A component has the wrong length for the algorithm.
    #[error("component {index}: {len} bytes, a {algorithm} key needs {expected}")]
    ComponentLength {
        index: usize,
        len: usize,
        algorithm: KeyAlgorithm,
        expected: usize,
    },
    /// A component's KCV does not match.
    #[error("component {index}: check value mismatch ({source})")]
    ComponentKcvMismatch { index: usize, source: CryptoError },
    /// The combined key's KCV does not match.
    #[error("combined terminal master key: check value mismatch ({0})")]
    CombinedKcvMismatch(CryptoError),
    /// No terminal master key is installed.
    #[error("no terminal master key installed")]
    NoMasterKey,
    /// A working key's KCV does not match: the key was not installed.
    #[error("{key} key: check value mismatch, key not installed ({source})")]
    WorkingKeyKcvMismatch {
        key: WorkingKeyType,
        source: CryptoError,
    },
    /// An enciphered working key has the wrong length.
    #[error("{key} key: {len} enciphered bytes, expected {expected}")]
    WorkingKeyLength {
        key: WorkingKeyType,
        len: usize,
        expected: &'static str,
    },
    /// Field 62 of a sign-on response has an unknown layout.
    #[error("sign-on key field: {len} bytes is not a known layout ({expected})")]
    InvalidKeyField { len: usize, expected: &'static str },
    /// The TR-31 block could not be used.
    #[error(transparent)]
    Tr31(#[from] Tr31Error),
    /// A symmetric primitive failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// The working keys a terminal holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WorkingKeyType {
    /// PIN key (TPK / PIK): enciphers PIN blocks.
    Pin,
    /// MAC key (TAK / MAK): MACs host messages.
    Mac,
    /// Data key (TDK / TRK): enciphers track data and sensitive fields.
    Data,
}

impl std::fmt::Display for WorkingKeyType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WorkingKeyType::Pin => "PIN",
            WorkingKeyType::Mac => "MAC",
            WorkingKeyType::Data => "data",
        })
    }
}

/// Which block cipher the hierarchy uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HierarchyAlgorithm {
    /// Triple DES (2-key working keys; single-DES MAC keys accepted).
    Tdes,
    /// SM4 (GB/T 32907-2016), the UnionPay national-algorithm profile.
    Sm4,
}

/// Combine 2-3 clear components by XOR into a key of `algorithm`, checking each component's KCV
/// (`kcvs[i]`, 2-8 bytes) and the combined KCV. X9.24-1:2017 §7.6.
pub fn combine_components(
    algorithm: KeyAlgorithm,
    components: &[&[u8]],
    kcvs: &[&[u8]],
    combined_kcv: &[u8],
) -> Result<SecretKey, KeyHierarchyError> {
    let count = components.len();
    if !(2..=3).contains(&count) || kcvs.len() != count {
        return Err(KeyHierarchyError::ComponentCount { count });
    }
    let len = algorithm.key_len();
    let mut combined = Zeroizing::new(vec![0u8; len]);
    for (index, (component, expected)) in components.iter().zip(kcvs).enumerate() {
        if component.len() != len {
            return Err(KeyHierarchyError::ComponentLength {
                index,
                len: component.len(),
                algorithm,
                expected: len,
            });
        }
        let key = SecretKey::new(algorithm, component)?;
        kcv::check(&key, expected)
            .map_err(|source| KeyHierarchyError::ComponentKcvMismatch { index, source })?;
        for (c, b) in combined.iter_mut().zip(component.iter()) {
            *c ^= b;
        }
    }
    let key = SecretKey::new(algorithm, &combined)?;
    kcv::check(&key, combined_kcv).map_err(KeyHierarchyError::CombinedKcvMismatch)?;
    Ok(key)
}

/// Take a TMK out of a TR-31 key block: the block must carry a key-encryption key (usage K0,
/// or K1 for a KBPK) whose mode of use allows unwrapping (D, B or N).
pub fn tmk_from_tr31(kbpk: &SecretKey, block: &str) -> Result<SecretKey, KeyHierarchyError> {
    let (header, _) = tr31::KeyBlockHeader::parse(block)?;
    let usage = if header.usage == KeyUsage::KBPK {
        KeyUsage::KBPK
    } else {
        KeyUsage::KEK
    };
    let requirement = KeyUsageRequirement::new(usage).with_modes(&[
        ModeOfUse::DecryptOnly,
        ModeOfUse::Both,
        ModeOfUse::NoRestrictions,
    ]);
    let unwrapped = tr31::unwrap(kbpk, block, Some(&requirement))?;
    Ok(unwrapped.to_secret_key()?)
}

/// One working key as the host sends it: enciphered under the TMK (ECB) plus its KCV.
#[derive(Debug, Clone, Copy)]
pub struct EncryptedWorkingKey<'a> {
    /// Which key this is.
    pub key_type: WorkingKeyType,
    /// The key enciphered under the TMK (8, 16 or 24 bytes for TDES; 16 for SM4).
    pub enciphered: &'a [u8],
    /// Its check value: the leftmost bytes (usually 4) of the key enciphering zeros.
    pub kcv: &'a [u8],
}

/// The installed working keys. `Debug` shows only which keys are present.
#[derive(Clone, Default)]
pub struct WorkingKeys {
    pin: Option<SecretKey>,
    mac: Option<SecretKey>,
    data: Option<SecretKey>,
}

impl std::fmt::Debug for WorkingKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkingKeys")
            .field("pin", &self.pin.is_some())
            .field("mac", &self.mac.is_some())
            .field("data", &self.data.is_some())
            .finish()
    }
}

impl WorkingKeys {
    /// The key of a type, if installed.
    pub fn get(&self, key_type: WorkingKeyType) -> Option<&SecretKey> {
        match key_type {
            WorkingKeyType::Pin => self.pin.as_ref(),
            WorkingKeyType::Mac => self.mac.as_ref(),
            WorkingKeyType::Data => self.data.as_ref(),
        }
    }

    fn slot(&mut self, key_type: WorkingKeyType) -> &mut Option<SecretKey> {
        match key_type {
            WorkingKeyType::Pin => &mut self.pin,
            WorkingKeyType::Mac => &mut self.mac,
            WorkingKeyType::Data => &mut self.data,
        }
    }
}

/// A terminal's TMK and working keys.
pub struct KeyHierarchy {
    algorithm: HierarchyAlgorithm,
    tmk: Option<SecretKey>,
    working: WorkingKeys,
}

impl std::fmt::Debug for KeyHierarchy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyHierarchy")
            .field("algorithm", &self.algorithm)
            .field("tmk", &self.tmk.is_some())
            .field("working", &self.working)
            .finish()
    }
}

impl KeyHierarchy {
    /// An empty hierarchy for `algorithm`.
    pub fn new(algorithm: HierarchyAlgorithm) -> Self {
        KeyHierarchy {
            algorithm,
            tmk: None,
            working: WorkingKeys::default(),
        }
    }

    /// The cipher of this hierarchy.
    pub fn algorithm(&self) -> HierarchyAlgorithm {
        self.algorithm
    }

    /// Install a TMK (from [`combine_components`] or [`tmk_from_tr31`]); working keys under the
    /// previous TMK are dropped.
    pub fn install_tmk(&mut self, tmk: SecretKey) -> Result<(), KeyHierarchyError> {
        let ok = match self.algorithm {
            HierarchyAlgorithm::Tdes => {
                matches!(tmk.algorithm(), KeyAlgorithm::Tdes2 | KeyAlgorithm::Tdes3)
            }
            HierarchyAlgorithm::Sm4 => tmk.algorithm() == KeyAlgorithm::Sm4,
        };
        if !ok {
            return Err(KeyHierarchyError::Crypto(
                CryptoError::UnsupportedAlgorithm {
                    operation: "terminal master key for this hierarchy",
                    algorithm: tmk.algorithm(),
                },
            ));
        }
        self.tmk = Some(tmk);
        self.working = WorkingKeys::default();
        Ok(())
    }

    /// Whether a TMK is installed.
    pub fn has_tmk(&self) -> bool {
        self.tmk.is_some()
    }

    /// The installed working keys.
    pub fn working_keys(&self) -> &WorkingKeys {
        &self.working
    }

    /// A working key, if installed.
    pub fn key(&self, key_type: WorkingKeyType) -> Option<&SecretKey> {
        self.working.get(key_type)
    }

    /// Decipher and check one working key without installing it.
    pub fn unwrap_working_key(
        &self,
        wk: &EncryptedWorkingKey<'_>,
    ) -> Result<SecretKey, KeyHierarchyError> {
        let tmk = self.tmk.as_ref().ok_or(KeyHierarchyError::NoMasterKey)?;
        let length_error = |expected| KeyHierarchyError::WorkingKeyLength {
            key: wk.key_type,
            len: wk.enciphered.len(),
            expected,
        };
        let (enciphered, algorithm) = match self.algorithm {
            HierarchyAlgorithm::Sm4 => {
                if wk.enciphered.len() != 16 {
                    return Err(length_error("16"));
                }
                (wk.enciphered, KeyAlgorithm::Sm4)
            }
            HierarchyAlgorithm::Tdes => match wk.enciphered.len() {
                8 => (wk.enciphered, KeyAlgorithm::Des),
                // UnionPay double-length profile: a single-DES MAC key is sent as 8 bytes of
                // cryptogram followed by 8 zero bytes.
                16 if wk.key_type == WorkingKeyType::Mac
                    && wk
                        .enciphered
                        .get(8..)
                        .is_some_and(|r| r.iter().all(|b| *b == 0)) =>
                {
                    (wk.enciphered.get(..8).unwrap_or(&[]), KeyAlgorithm::Des)
                }
                16 => (wk.enciphered, KeyAlgorithm::Tdes2),
                24 => (wk.enciphered, KeyAlgorithm::Tdes3),
                _ => return Err(length_error("8, 16 or 24")),
            },
        };
        let clear = Zeroizing::new(cipher::decrypt_ecb(tmk, enciphered)?);
        let key = SecretKey::new(algorithm, &clear)?;
        kcv::check(&key, wk.kcv).map_err(|source| KeyHierarchyError::WorkingKeyKcvMismatch {
            key: wk.key_type,
            source,
        })?;
        Ok(key)
    }

    /// Decipher, check and install one working key (replacing the previous key of that type).
    pub fn load_working_key(
        &mut self,
        wk: &EncryptedWorkingKey<'_>,
    ) -> Result<(), KeyHierarchyError> {
        let key = self.unwrap_working_key(wk)?;
        *self.working.slot(wk.key_type) = Some(key);
        Ok(())
    }

    /// Decipher and check all keys, then install all of them; if any fails, none is installed.
    pub fn load_working_keys(
        &mut self,
        keys: &[EncryptedWorkingKey<'_>],
    ) -> Result<(), KeyHierarchyError> {
        let mut checked = Vec::with_capacity(keys.len());
        for wk in keys {
            checked.push((wk.key_type, self.unwrap_working_key(wk)?));
        }
        for (key_type, key) in checked {
            *self.working.slot(key_type) = Some(key);
        }
        Ok(())
    }

    /// Take a working key out of a TR-31 key block protected by the TMK (ANSI X9.143), check
    /// that the block's usage fits the slot (PIN: P0; MAC: M0, M1, M3 or M6; data: D0) and that
    /// its mode of use allows what the terminal does with it, then install it.
    pub fn load_working_key_tr31(
        &mut self,
        key_type: WorkingKeyType,
        block: &str,
    ) -> Result<(), KeyHierarchyError> {
        let tmk = self.tmk.as_ref().ok_or(KeyHierarchyError::NoMasterKey)?;
        let (header, _) = tr31::KeyBlockHeader::parse(block)?;
        let requirement = match key_type {
            WorkingKeyType::Pin => KeyUsageRequirement::pin_encryption(),
            WorkingKeyType::Mac => {
                let usage = [
                    KeyUsage::MAC_ISO16609,
                    KeyUsage::MAC_ALG1,
                    KeyUsage::MAC_ALG3,
                    KeyUsage::MAC_CMAC,
                ]
                .into_iter()
                .find(|u| *u == header.usage)
                .unwrap_or(KeyUsage::MAC_ALG3);
                KeyUsageRequirement::new(usage).with_modes(&[
                    ModeOfUse::GenerateVerify,
                    ModeOfUse::GenerateOnly,
                    ModeOfUse::NoRestrictions,
                ])
            }
            WorkingKeyType::Data => {
                KeyUsageRequirement::new(KeyUsage::DATA_ENCRYPTION).with_modes(&[
                    ModeOfUse::Both,
                    ModeOfUse::EncryptOnly,
                    ModeOfUse::DecryptOnly,
                    ModeOfUse::NoRestrictions,
                ])
            }
        };
        let key = tr31::unwrap(tmk, block, Some(&requirement))?.to_secret_key()?;
        *self.working.slot(key_type) = Some(key);
        Ok(())
    }

    /// Load the keys of a UnionPay sign-on response field 62 (see [`parse_sign_on_keys`]).
    pub fn load_sign_on_field(&mut self, field62: &[u8]) -> Result<(), KeyHierarchyError> {
        let keys = parse_sign_on_keys(field62)?;
        self.load_working_keys(&keys)
    }
}

/// Split UnionPay sign-on field 62 into enciphered working keys with 4-byte KCVs:
/// 24 bytes = PIN(8)+KCV(4) MAC(8)+KCV(4) (single DES); 40 bytes = PIN(16)+KCV(4)
/// MAC(16)+KCV(4); 60 bytes = PIN, MAC and data keys of 16+4 bytes each (TDES or SM4).
pub fn parse_sign_on_keys(
    field62: &[u8],
) -> Result<Vec<EncryptedWorkingKey<'_>>, KeyHierarchyError> {
    let (chunk, types): (usize, &[WorkingKeyType]) = match field62.len() {
        24 => (12, &[WorkingKeyType::Pin, WorkingKeyType::Mac]),
        40 => (20, &[WorkingKeyType::Pin, WorkingKeyType::Mac]),
        60 => (
            20,
            &[
                WorkingKeyType::Pin,
                WorkingKeyType::Mac,
                WorkingKeyType::Data,
            ],
        ),
        len => {
            return Err(KeyHierarchyError::InvalidKeyField {
                len,
                expected: "24, 40 or 60 bytes",
            });
        }
    };
    Ok(field62
        .chunks(chunk)
        .zip(types)
        .map(|(c, key_type)| {
            let (enciphered, kcv) = c.split_at(chunk - 4);
            EncryptedWorkingKey {
                key_type: *key_type,
                enciphered,
                kcv,
            }
        })
        .collect())
}

/// Host side: encipher a working key under the TMK (ECB) and compute its 4-byte KCV, as a
/// host simulator puts it in field 62.
pub fn encipher_working_key(
    tmk: &SecretKey,
    key: &SecretKey,
) -> Result<(Vec<u8>, Vec<u8>), KeyHierarchyError> {
    let enciphered = cipher::encrypt_ecb(tmk, key.as_bytes())?;
    let mut check = kcv::encrypt_zeros(key)?;
    check.truncate(4);
    Ok((enciphered, check))
}
