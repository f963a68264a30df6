//! Configuration as data (EMV Book 4 §4 terminal data, Book 3 §10 per-application parameters,
//! Book 2 §11.2 CA public keys), loaded from JSON with serde and checked on load.

use crate::tvr::Tvr;
use serde::{Deserialize, Serialize};
use smartpos_crypto::rsa::RsaPublicKey;
use std::collections::HashMap;

/// Configuration errors name the field and why it is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration JSON: {0}")]
    Json(String),
    #[error("{field}: expected {expected} bytes, got {actual}")]
    Length {
        field: String,
        expected: usize,
        actual: usize,
    },
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error("CA key {rid}/{index:02X}: checksum mismatch (file {expected}, computed {computed})")]
    Checksum {
        rid: String,
        index: u8,
        expected: String,
        computed: String,
    },
    #[error("CA key {rid}/{index:02X}: {reason}")]
    CaKey {
        rid: String,
        index: u8,
        reason: String,
    },
}

/// Hex (de)serialisation for byte fields.
pub mod hexbytes {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode_upper(v))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        let clean: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        hex::decode(clean).map_err(serde::de::Error::custom)
    }
}

fn check_len(field: &str, v: &[u8], expected: usize) -> Result<(), ConfigError> {
    if v.len() == expected {
        Ok(())
    } else {
        Err(ConfigError::Length {
            field: field.to_string(),
            expected,
            actual: v.len(),
        })
    }
}

/// Terminal-wide data (EMV Book 4 Annex A, Book 3 Annex A tags).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalData {
    /// 9F1A Terminal Country Code, n3 as 2 bytes BCD (e.g. "0156").
    #[serde(with = "hexbytes")]
    pub country_code: Vec<u8>,
    /// 5F2A Transaction Currency Code (2 bytes BCD).
    #[serde(with = "hexbytes")]
    pub currency_code: Vec<u8>,
    /// 5F36 Transaction Currency Exponent.
    #[serde(default = "default_exponent")]
    pub currency_exponent: u8,
    /// 9F33 Terminal Capabilities (3 bytes, Book 4 Annex A2).
    #[serde(with = "hexbytes")]
    pub capabilities: Vec<u8>,
    /// 9F40 Additional Terminal Capabilities (5 bytes, Book 4 Annex A3).
    #[serde(with = "hexbytes")]
    pub additional_capabilities: Vec<u8>,
    /// 9F35 Terminal Type (Book 4 Annex A1), e.g. 0x22 attended merchant offline-capable-with-online.
    pub terminal_type: u8,
    /// 9F1C Terminal Identification (an8).
    pub terminal_id: String,
    /// 9F16 Merchant Identifier (ans15).
    pub merchant_id: String,
    /// 9F15 Merchant Category Code (n4, e.g. "5411").
    pub merchant_category_code: String,
    /// 9F4E Merchant Name and Location.
    pub merchant_name_location: String,
    /// 9F1E Interface Device serial number (an8).
    #[serde(default)]
    pub ifd_serial_number: String,
    /// 9F01 Acquirer Identifier (n6-11, BCD hex).
    #[serde(default, with = "hexbytes")]
    pub acquirer_id: Vec<u8>,
    /// Languages the terminal supports (ISO 639-1, lower case), in preference order.
    #[serde(default = "default_languages")]
    pub languages: Vec<String>,
    /// Whether a PIN pad is present and working (Book 4 §6.3.4).
    #[serde(default = "default_true")]
    pub pin_pad_present: bool,
    /// PIN bypass policy (Book 4 §6.3.4.4): `true` = a bypass applies to every later PIN CVM of
    /// the transaction ("subsequent bypass"); `false` = each PIN CVM prompts again.
    #[serde(default, alias = "pin_bypass_allowed")]
    pub subsequent_pin_bypass: bool,
    /// Terminal can go online (false for an offline-only terminal).
    #[serde(default = "default_true")]
    pub online_capable: bool,
    /// Exception file / CRL checks.
    #[serde(default)]
    pub revoked_certificates: Vec<RevokedCertificate>,
}

fn default_exponent() -> u8 {
    2
}
fn default_true() -> bool {
    true
}
fn default_languages() -> Vec<String> {
    vec!["en".to_string()]
}

/// Terminal Capabilities (9F33) bits used by the kernel (Book 4 Annex A2).
impl TerminalData {
    fn cap(&self, byte: usize, mask: u8) -> bool {
        self.capabilities.get(byte).is_some_and(|b| b & mask != 0)
    }
    pub fn supports_plaintext_pin(&self) -> bool {
        self.cap(1, 0x80)
    }
    pub fn supports_enciphered_online_pin(&self) -> bool {
        self.cap(1, 0x40)
    }
    pub fn supports_signature(&self) -> bool {
        self.cap(1, 0x20)
    }
    pub fn supports_enciphered_offline_pin(&self) -> bool {
        self.cap(1, 0x10)
    }
    pub fn supports_no_cvm(&self) -> bool {
        self.cap(1, 0x08)
    }
    pub fn supports_sda(&self) -> bool {
        self.cap(2, 0x80)
    }
    pub fn supports_dda(&self) -> bool {
        self.cap(2, 0x40)
    }
    pub fn supports_card_capture(&self) -> bool {
        self.cap(2, 0x20)
    }
    pub fn supports_cda(&self) -> bool {
        self.cap(2, 0x08)
    }
    /// Terminal type 14/15/16, 24/25/26, 34/35/36: unattended (Book 4 Annex A1).
    pub fn is_unattended(&self) -> bool {
        matches!(self.terminal_type & 0x0F, 4..=6)
    }
    /// Additional Terminal Capabilities byte 1 bit 8: cash.
    pub fn is_atm(&self) -> bool {
        self.is_unattended()
            && self
                .additional_capabilities
                .first()
                .is_some_and(|b| b & 0x80 != 0)
            && matches!(self.terminal_type >> 4, 1)
    }
    /// Terminal type x3 / x6 = offline only.
    pub fn is_offline_only(&self) -> bool {
        matches!(self.terminal_type & 0x0F, 3 | 6) || !self.online_capable
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        check_len("terminal.country_code (9F1A)", &self.country_code, 2)?;
        check_len("terminal.currency_code (5F2A)", &self.currency_code, 2)?;
        check_len("terminal.capabilities (9F33)", &self.capabilities, 3)?;
        check_len(
            "terminal.additional_capabilities (9F40)",
            &self.additional_capabilities,
            5,
        )?;
        if self.terminal_id.len() != 8 {
            return Err(ConfigError::Invalid {
                field: "terminal.terminal_id (9F1C)".into(),
                reason: format!("must be 8 characters, got {}", self.terminal_id.len()),
            });
        }
        if self.merchant_id.len() > 15 {
            return Err(ConfigError::Invalid {
                field: "terminal.merchant_id (9F16)".into(),
                reason: "longer than 15 characters".into(),
            });
        }
        if self.merchant_category_code.len() != 4
            || !self
                .merchant_category_code
                .bytes()
                .all(|b| b.is_ascii_digit())
        {
            return Err(ConfigError::Invalid {
                field: "terminal.merchant_category_code (9F15)".into(),
                reason: "must be 4 digits".into(),
            });
        }
        Ok(())
    }
}

/// An entry of the certification revocation list (Book 2 §5.3 step 10, §6.3 step 10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedCertificate {
    #[serde(with = "hexbytes")]
    pub rid: Vec<u8>,
    pub index: u8,
    /// Certificate serial number (3 bytes).
    #[serde(with = "hexbytes")]
    pub serial: Vec<u8>,
}

/// Per-application parameters (Book 3 §10.4-10.7, Book 1 §12.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AidConfig {
    /// Scheme label (for diagnostics and field-55 profiles): "visa", "mastercard", "unionpay".
    #[serde(default)]
    pub scheme: String,
    /// The terminal's AID (5-16 bytes).
    #[serde(with = "hexbytes")]
    pub aid: Vec<u8>,
    /// Application Selection Indicator: partial name selection allowed (Book 1 §12.3.1).
    #[serde(default = "default_true")]
    pub partial_selection: bool,
    /// 9F09 Application Version Number (terminal), 2 bytes.
    #[serde(with = "hexbytes")]
    pub application_version: Vec<u8>,
    #[serde(with = "hexbytes")]
    pub tac_default: Vec<u8>,
    #[serde(with = "hexbytes")]
    pub tac_denial: Vec<u8>,
    #[serde(with = "hexbytes")]
    pub tac_online: Vec<u8>,
    /// 9F1B Terminal Floor Limit, minor units.
    pub floor_limit: u64,
    /// Threshold value for biased random selection (minor units).
    #[serde(default)]
    pub random_selection_threshold: u64,
    /// Target percentage for random selection (0-99).
    #[serde(default)]
    pub target_percent: u8,
    /// Maximum target percentage for biased random selection (0-99).
    #[serde(default)]
    pub max_target_percent: u8,
    /// Default TDOL (DOL encoding).
    #[serde(default, with = "hexbytes")]
    pub default_tdol: Vec<u8>,
    /// Default DDOL (DOL encoding), used when the card has no 9F49 (Book 2 §6.5.1).
    #[serde(default, with = "hexbytes")]
    pub default_ddol: Vec<u8>,
    /// Tags of the data record for the host (ISO 8583 field 55), hex, in order.
    #[serde(default = "default_data_record_tags")]
    pub data_record_tags: Vec<String>,
}

/// A common field-55 tag list (ISO 8583 field 55 as most acquirers require).
pub fn default_data_record_tags() -> Vec<String> {
    [
        "9F26", "9F27", "9F10", "9F37", "9F36", "95", "9A", "9C", "9F02", "5F2A", "82", "9F1A",
        "9F03", "9F33", "9F34", "9F35", "9F1E", "84", "9F09", "9F41", "5F34", "9F53",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

impl AidConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let name = hex::encode_upper(&self.aid);
        if !(5..=16).contains(&self.aid.len()) {
            return Err(ConfigError::Invalid {
                field: format!("aid {name}"),
                reason: format!("AID must be 5-16 bytes, got {}", self.aid.len()),
            });
        }
        check_len(
            &format!("aid {name} application_version (9F09)"),
            &self.application_version,
            2,
        )?;
        check_len(&format!("aid {name} tac_default"), &self.tac_default, 5)?;
        check_len(&format!("aid {name} tac_denial"), &self.tac_denial, 5)?;
        check_len(&format!("aid {name} tac_online"), &self.tac_online, 5)?;
        if self.target_percent > 99 || self.max_target_percent > 99 {
            return Err(ConfigError::Invalid {
                field: format!("aid {name} target_percent"),
                reason: "percentages must be 0-99".into(),
            });
        }
        if self.target_percent > self.max_target_percent && self.max_target_percent != 0 {
            return Err(ConfigError::Invalid {
                field: format!("aid {name} target_percent"),
                reason: "target percentage exceeds the maximum target percentage".into(),
            });
        }
        for t in &self.data_record_tags {
            parse_tag_hex(t).ok_or_else(|| ConfigError::Invalid {
                field: format!("aid {name} data_record_tags"),
                reason: format!("{t:?} is not a hex tag"),
            })?;
        }
        Ok(())
    }

    pub(crate) fn action_code(v: &[u8]) -> [u8; 5] {
        let mut out = [0u8; 5];
        for (o, b) in out.iter_mut().zip(v) {
            *o = *b;
        }
        out
    }

    /// Parsed data-record tags.
    pub fn data_record_tag_values(&self) -> Vec<u32> {
        self.data_record_tags
            .iter()
            .filter_map(|t| parse_tag_hex(t))
            .collect()
    }

    /// TAC as an action-code array; `Tvr` is the matching type.
    pub fn tacs(&self) -> (Tvr, Tvr, Tvr) {
        (
            Tvr(Self::action_code(&self.tac_denial)),
            Tvr(Self::action_code(&self.tac_online)),
            Tvr(Self::action_code(&self.tac_default)),
        )
    }
}

pub(crate) fn parse_tag_hex(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 8 || s.len() % 2 != 0 {
        return None;
    }
    u32::from_str_radix(s, 16).ok()
}

/// The terminal configuration file: terminal data and the AID list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalConfig {
    pub terminal: TerminalData,
    pub aids: Vec<AidConfig>,
}

impl TerminalConfig {
    pub fn from_json(json: &str) -> Result<TerminalConfig, ConfigError> {
        let cfg: TerminalConfig =
            serde_json::from_str(json).map_err(|e| ConfigError::Json(e.to_string()))?;
        cfg.validate()?;
        Ok(cfg)
    }
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.terminal.validate()?;
        if self.aids.is_empty() {
            return Err(ConfigError::Invalid {
                field: "aids".into(),
                reason: "at least one AID must be configured".into(),
            });
        }
        for a in &self.aids {
            a.validate()?;
        }
        Ok(())
    }
    /// The configured AID that matches the card's ADF name (exact, or partial if allowed).
    pub fn aid_for(&self, adf_name: &[u8]) -> Option<&AidConfig> {
        self.aids.iter().find(|a| a.aid == adf_name).or_else(|| {
            self.aids
                .iter()
                .find(|a| a.partial_selection && adf_name.starts_with(&a.aid))
        })
    }

    /// The demo configuration shipped in `config/terminal_demo.json`.
    pub fn demo() -> Result<TerminalConfig, ConfigError> {
        TerminalConfig::from_json(DEMO_TERMINAL_JSON)
    }
}

/// The demo terminal configuration (JSON).
pub const DEMO_TERMINAL_JSON: &str = include_str!("../config/terminal_demo.json");

/// A CA public key as stored in the key files (Book 2 §11.2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaPublicKeyRecord {
    #[serde(with = "hexbytes")]
    pub rid: Vec<u8>,
    /// Index, hex ("92").
    pub index: String,
    #[serde(with = "hexbytes")]
    pub modulus: Vec<u8>,
    #[serde(with = "hexbytes")]
    pub exponent: Vec<u8>,
    /// Expiry date YYMMDD; the key is not used after it.
    pub expiry: String,
    /// SHA-1 over RID || index || modulus || exponent.
    #[serde(with = "hexbytes")]
    pub checksum: Vec<u8>,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub modulus_bits: usize,
}

/// A key file: `{"comment": "...", "keys": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaKeyFile {
    #[serde(default)]
    pub comment: String,
    pub keys: Vec<CaPublicKeyRecord>,
}

/// A loaded and checked CA public key.
pub struct CaPublicKey {
    pub rid: [u8; 5],
    pub index: u8,
    /// Expiry YYMMDD as a comparable number (YYMMDD, century-windowed to 20YY).
    pub expiry: u32,
    pub key: RsaPublicKey,
}

impl std::fmt::Debug for CaPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CaPublicKey({}/{:02X}, {} bits, expires {:06})",
            hex::encode_upper(self.rid),
            self.index,
            self.key.modulus_len() * 8,
            self.expiry
        )
    }
}

/// CA public keys by (RID, index), checksums verified on load.
#[derive(Debug, Default)]
pub struct CaKeyStore {
    keys: HashMap<([u8; 5], u8), CaPublicKey>,
}

/// The public EMVCo test CA keys shipped with the crate (`config/capk_*_test.json`).
pub const TEST_CA_KEY_FILES: [(&str, &str); 6] = [
    ("visa", include_str!("../config/capk_visa_test.json")),
    (
        "mastercard",
        include_str!("../config/capk_mastercard_test.json"),
    ),
    ("amex", include_str!("../config/capk_amex_test.json")),
    (
        "unionpay",
        include_str!("../config/capk_unionpay_test.json"),
    ),
    ("jcb", include_str!("../config/capk_jcb_test.json")),
    (
        "discover",
        include_str!("../config/capk_discover_test.json"),
    ),
];

impl CaKeyStore {
    pub fn new() -> Self {
        CaKeyStore::default()
    }

    /// Load every key of a key file, verifying each checksum (Book 2 §11.2.2).
    pub fn load_json(&mut self, json: &str) -> Result<usize, ConfigError> {
        let file: CaKeyFile =
            serde_json::from_str(json).map_err(|e| ConfigError::Json(e.to_string()))?;
        let n = file.keys.len();
        for rec in &file.keys {
            self.insert_record(rec)?;
        }
        Ok(n)
    }

    /// The shipped EMVCo test keys of Visa, Mastercard, Amex, UnionPay, JCB and Discover.
    pub fn with_test_keys() -> Result<CaKeyStore, ConfigError> {
        let mut s = CaKeyStore::new();
        for (_, json) in TEST_CA_KEY_FILES {
            s.load_json(json)?;
        }
        Ok(s)
    }

    /// Check and add one key record.
    pub fn insert_record(&mut self, rec: &CaPublicKeyRecord) -> Result<(), ConfigError> {
        let rid_hex = hex::encode_upper(&rec.rid);
        let index = u8::from_str_radix(&rec.index, 16).map_err(|_| ConfigError::CaKey {
            rid: rid_hex.clone(),
            index: 0,
            reason: format!("index {:?} is not one hex byte", rec.index),
        })?;
        let rid: [u8; 5] = rec
            .rid
            .as_slice()
            .try_into()
            .map_err(|_| ConfigError::CaKey {
                rid: rid_hex.clone(),
                index,
                reason: "RID must be 5 bytes".into(),
            })?;
        let mut hashed = Vec::with_capacity(6 + rec.modulus.len() + rec.exponent.len());
        hashed.extend_from_slice(&rid);
        hashed.push(index);
        hashed.extend_from_slice(&rec.modulus);
        hashed.extend_from_slice(&rec.exponent);
        let computed = smartpos_crypto::hash::sha1(&hashed);
        if computed.as_slice() != rec.checksum.as_slice() {
            return Err(ConfigError::Checksum {
                rid: rid_hex,
                index,
                expected: hex::encode_upper(&rec.checksum),
                computed: hex::encode_upper(computed),
            });
        }
        let expiry = parse_yymmdd(&rec.expiry).ok_or_else(|| ConfigError::CaKey {
            rid: rid_hex.clone(),
            index,
            reason: format!("expiry {:?} is not YYMMDD", rec.expiry),
        })?;
        let key =
            RsaPublicKey::new(&rec.modulus, &rec.exponent).map_err(|e| ConfigError::CaKey {
                rid: rid_hex.clone(),
                index,
                reason: e.to_string(),
            })?;
        self.keys.insert(
            (rid, index),
            CaPublicKey {
                rid,
                index,
                expiry,
                key,
            },
        );
        Ok(())
    }

    /// Add a key directly (tests, the simulator's PKI).
    pub fn insert(&mut self, rid: [u8; 5], index: u8, expiry_yymmdd: u32, key: RsaPublicKey) {
        self.keys.insert(
            (rid, index),
            CaPublicKey {
                rid,
                index,
                expiry: expiry_yymmdd,
                key,
            },
        );
    }

    pub fn get(&self, rid: &[u8], index: u8) -> Option<&CaPublicKey> {
        let rid: [u8; 5] = rid.get(..5)?.try_into().ok()?;
        self.keys.get(&(rid, index))
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// YYMMDD → comparable 20YYMMDD-style number (all EMV dates here are 2000-2099 per Book 4 §6.7.3
/// windowing for the years the terminal meets: YY < 50 → 20YY, else 19YY).
pub(crate) fn parse_yymmdd(s: &str) -> Option<u32> {
    if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: u32 = s.parse().ok()?;
    let (yy, mm, dd) = (v / 10000, v / 100 % 100, v % 100);
    if !(1..=12).contains(&mm) || !(1..=31).contains(&dd) {
        return None;
    }
    Some(window_year(yy) * 10000 + mm * 100 + dd)
}

/// Book 3 Annex A / Book 4 §6.7.3: YY 00-49 → 20YY, 50-99 → 19YY.
pub(crate) fn window_year(yy: u32) -> u32 {
    if yy < 50 { 2000 + yy } else { 1900 + yy }
}
