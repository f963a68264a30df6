//! Entry Point configuration per combination (EMV Contactless Book B §3.1.1, Table 5-2:
//! status check, zero amount, reader contactless transaction/floor/CVM required limits, TTQ)
//! and the Kernel 2 reader configuration (Book C-2 Annex A, DF81xx).

use crate::config::{TerminalConfig, hexbytes};
use serde::{Deserialize, Serialize};

/// Kernel identifiers (Book B §3.3.2, tag 9F2A; Book A §5.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KernelId {
    /// Book C-2 (Mastercard-style).
    #[serde(rename = "C-2")]
    C2,
    /// Book C-3 (Visa-style qVSDC).
    #[serde(rename = "C-3")]
    C3,
    /// Book C-7 (UnionPay qUICS).
    #[serde(rename = "C-7")]
    C7,
}

impl KernelId {
    /// The short kernel id (first byte of 9F2A).
    pub fn number(self) -> u8 {
        match self {
            KernelId::C2 => 2,
            KernelId::C3 => 3,
            KernelId::C7 => 7,
        }
    }
    pub fn from_number(n: u8) -> Option<KernelId> {
        match n {
            2 => Some(KernelId::C2),
            3 => Some(KernelId::C3),
            7 => Some(KernelId::C7),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            KernelId::C2 => "C-2",
            KernelId::C3 => "C-3",
            KernelId::C7 => "C-7",
        }
    }
    /// Book B §3.3.2.5: the default kernel when the directory entry has no 9F2A, by RID.
    pub fn default_for_aid(adf_name: &[u8]) -> Option<KernelId> {
        match adf_name.get(..5)? {
            [0xA0, 0x00, 0x00, 0x00, 0x04] => Some(KernelId::C2),
            [0xA0, 0x00, 0x00, 0x00, 0x03] => Some(KernelId::C3),
            [0xA0, 0x00, 0x00, 0x03, 0x33] => Some(KernelId::C7),
            _ => None,
        }
    }
}

/// Terminal Transaction Qualifiers (9F66) bits, Book C-3 Annex A / qPBOC (same positions).
pub mod ttq {
    /// Byte 1.
    pub const MAG_STRIPE_MODE: u8 = 0x80;
    pub const QVSDC: u8 = 0x20;
    pub const CONTACT_CHIP: u8 = 0x10;
    pub const OFFLINE_ONLY: u8 = 0x08;
    pub const ONLINE_PIN: u8 = 0x04;
    pub const SIGNATURE: u8 = 0x02;
    pub const ODA_FOR_ONLINE: u8 = 0x01;
    /// Byte 2.
    pub const ONLINE_CRYPTOGRAM_REQUIRED: u8 = 0x80;
    pub const CVM_REQUIRED: u8 = 0x40;
    /// Byte 3.
    pub const ISSUER_UPDATE: u8 = 0x80;
    pub const CONSUMER_DEVICE_CVM: u8 = 0x40;
}

/// One Entry Point combination: AID + kernel with its pre-processing parameters
/// (Book B §3.1.1, Table 5-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Combination {
    #[serde(with = "hexbytes")]
    pub aid: Vec<u8>,
    pub kernel: KernelId,
    /// Status Check Support flag.
    #[serde(default)]
    pub status_check: bool,
    /// Extended Selection Support flag (Book B §3.3.2.5): append the card's 9F29 to the ADF
    /// name in the final SELECT.
    #[serde(default)]
    pub extended_selection: bool,
    /// Zero Amount Allowed flag.
    #[serde(default = "yes")]
    pub zero_amount_allowed: bool,
    /// Reader Contactless Transaction Limit (minor units); at or above it contactless is not allowed.
    #[serde(default)]
    pub transaction_limit: Option<u64>,
    /// Reader Contactless Floor Limit; above it an online cryptogram is required.
    #[serde(default)]
    pub floor_limit: Option<u64>,
    /// Reader CVM Required Limit; at or above it a CVM is required.
    #[serde(default)]
    pub cvm_required_limit: Option<u64>,
    /// TTQ (9F66) as configured, 4 bytes (C-3, C-7).
    #[serde(default = "default_ttq", with = "hexbytes")]
    pub ttq: Vec<u8>,
    /// EC Terminal Transaction Limit (9F7B, C-7): electronic cash allowed up to it.
    #[serde(default)]
    pub ec_transaction_limit: Option<u64>,
    /// Kernel 2 reader configuration.
    #[serde(default)]
    pub kernel2: Kernel2Config,
}

fn yes() -> bool {
    true
}
fn default_ttq() -> Vec<u8> {
    vec![0x36, 0x00, 0xC0, 0x00]
}

/// Kernel 2 configuration data (Book C-2 Annex A).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kernel2Config {
    /// DF8117 Card Data Input Capability.
    #[serde(default = "k2_input", with = "hexbytes")]
    pub card_data_input_capability: Vec<u8>,
    /// DF8118 CVM Capability – CVM Required (9F33 byte 2 layout).
    #[serde(default = "k2_cvm_required", with = "hexbytes")]
    pub cvm_capability_cvm_required: Vec<u8>,
    /// DF8119 CVM Capability – No CVM Required.
    #[serde(default = "k2_no_cvm", with = "hexbytes")]
    pub cvm_capability_no_cvm: Vec<u8>,
    /// DF811B Kernel Configuration: b8 mag-stripe not supported, b7 EMV mode not supported,
    /// b6 on-device CVM supported, b5 relay resistance protocol supported.
    #[serde(default = "k2_kernel_cfg", with = "hexbytes")]
    pub kernel_configuration: Vec<u8>,
    /// DF811C Max Lifetime of Torn Transaction Log Record (seconds).
    #[serde(default = "k2_torn_lifetime")]
    pub torn_lifetime_s: u32,
    /// DF811D Max Number of Torn Transaction Log Records.
    #[serde(default = "k2_torn_max")]
    pub torn_max_records: u8,
    /// DF811E Mag-stripe CVM Capability – CVM Required.
    #[serde(default = "k2_ms_cvm", with = "hexbytes")]
    pub mag_stripe_cvm_required: Vec<u8>,
    /// DF811F Security Capability (9F33 byte 3 layout: 08 = CDA).
    #[serde(default = "k2_security", with = "hexbytes")]
    pub security_capability: Vec<u8>,
    /// DF8120/DF8121/DF8122 Terminal Action Codes default / denial / online (empty: use the
    /// AID's TACs from the terminal configuration).
    #[serde(default, with = "hexbytes")]
    pub tac_default: Vec<u8>,
    #[serde(default, with = "hexbytes")]
    pub tac_denial: Vec<u8>,
    #[serde(default, with = "hexbytes")]
    pub tac_online: Vec<u8>,
    /// DF8123 Reader Contactless Floor Limit (None: the combination's floor limit).
    #[serde(default)]
    pub floor_limit: Option<u64>,
    /// DF8124 Reader Contactless Transaction Limit (No On-device CVM).
    #[serde(default)]
    pub no_on_device_cvm_limit: Option<u64>,
    /// DF8125 Reader Contactless Transaction Limit (On-device CVM).
    #[serde(default)]
    pub on_device_cvm_limit: Option<u64>,
    /// DF812C Mag-stripe CVM Capability – No CVM Required.
    #[serde(default = "k2_ms_no_cvm", with = "hexbytes")]
    pub mag_stripe_no_cvm: Vec<u8>,
    /// Relay resistance: Minimum/Maximum Relay Resistance Grace Period (DF8133/DF8132) and
    /// Terminal Expected Transmission Time for C-APDU/R-APDU (DF8134/DF8135), units of 100 µs.
    #[serde(default = "k2_rr")]
    pub relay_resistance: RelayResistanceConfig,
}

/// Relay resistance timing parameters, units of 100 µs (Book C-2 Annex A DF8132-DF8137).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayResistanceConfig {
    pub min_grace_period: u16,
    pub max_grace_period: u16,
    pub expected_time_c_apdu: u16,
    pub expected_time_r_apdu: u16,
    /// DF8136 Relay Resistance Accuracy Threshold.
    pub accuracy_threshold: u16,
    /// DF8137 Relay Resistance Transmission Time Mismatch Threshold (percent).
    pub mismatch_threshold: u8,
}

fn k2_input() -> Vec<u8> {
    vec![0xE0]
}
fn k2_cvm_required() -> Vec<u8> {
    vec![0x60]
}
fn k2_no_cvm() -> Vec<u8> {
    vec![0x08]
}
fn k2_kernel_cfg() -> Vec<u8> {
    vec![0x30]
}
fn k2_torn_lifetime() -> u32 {
    300
}
fn k2_torn_max() -> u8 {
    1
}
fn k2_ms_cvm() -> Vec<u8> {
    vec![0x20]
}
fn k2_ms_no_cvm() -> Vec<u8> {
    vec![0x00]
}
fn k2_security() -> Vec<u8> {
    vec![0x08]
}
fn k2_rr() -> RelayResistanceConfig {
    RelayResistanceConfig {
        min_grace_period: 5,
        max_grace_period: 10,
        expected_time_c_apdu: 18,
        expected_time_r_apdu: 18,
        accuracy_threshold: 300,
        mismatch_threshold: 50,
    }
}

impl Default for Kernel2Config {
    fn default() -> Self {
        Kernel2Config {
            card_data_input_capability: k2_input(),
            cvm_capability_cvm_required: k2_cvm_required(),
            cvm_capability_no_cvm: k2_no_cvm(),
            kernel_configuration: k2_kernel_cfg(),
            torn_lifetime_s: k2_torn_lifetime(),
            torn_max_records: k2_torn_max(),
            mag_stripe_cvm_required: k2_ms_cvm(),
            security_capability: k2_security(),
            tac_default: Vec::new(),
            tac_denial: Vec::new(),
            tac_online: Vec::new(),
            floor_limit: None,
            no_on_device_cvm_limit: None,
            on_device_cvm_limit: None,
            mag_stripe_no_cvm: k2_ms_no_cvm(),
            relay_resistance: k2_rr(),
        }
    }
}

impl Kernel2Config {
    fn bit(v: &[u8], mask: u8) -> bool {
        v.first().is_some_and(|b| b & mask != 0)
    }
    pub fn on_device_cvm_supported(&self) -> bool {
        Self::bit(&self.kernel_configuration, 0x20)
    }
    pub fn relay_resistance_supported(&self) -> bool {
        Self::bit(&self.kernel_configuration, 0x10)
    }
    pub fn mag_stripe_supported(&self) -> bool {
        !Self::bit(&self.kernel_configuration, 0x80)
    }
    pub fn emv_mode_supported(&self) -> bool {
        !Self::bit(&self.kernel_configuration, 0x40)
    }
    pub fn cda_supported(&self) -> bool {
        Self::bit(&self.security_capability, 0x08)
    }
}

/// The reader's contactless configuration: the combinations in preference order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactlessConfig {
    pub combinations: Vec<Combination>,
    /// How many Entry Point restarts (Start B, see phone, torn) one tap may take.
    #[serde(default = "default_restarts")]
    pub max_restarts: u8,
    /// How many activations Entry Point polls through a collision before giving up.
    #[serde(default = "default_polls")]
    pub max_collision_polls: u8,
}

fn default_restarts() -> u8 {
    3
}
fn default_polls() -> u8 {
    3
}

impl ContactlessConfig {
    /// Parse and check a JSON configuration.
    pub fn from_json(json: &str) -> Result<ContactlessConfig, crate::ConfigError> {
        let c: ContactlessConfig =
            serde_json::from_str(json).map_err(|e| crate::ConfigError::Json(e.to_string()))?;
        c.validate()?;
        Ok(c)
    }

    pub fn validate(&self) -> Result<(), crate::ConfigError> {
        for c in &self.combinations {
            let name = hex::encode_upper(&c.aid);
            if !(5..=16).contains(&c.aid.len()) {
                return Err(crate::ConfigError::Invalid {
                    field: format!("combination {name} aid"),
                    reason: "AID must be 5-16 bytes".into(),
                });
            }
            if c.ttq.len() != 4 {
                return Err(crate::ConfigError::Length {
                    field: format!("combination {name} ttq (9F66)"),
                    expected: 4,
                    actual: c.ttq.len(),
                });
            }
        }
        Ok(())
    }

    /// Combinations for every AID of a terminal configuration, by scheme (visa → C-3,
    /// mastercard → C-2, unionpay → C-7), with demo limits: transaction limit 1000.00, floor
    /// limit 200.00 (C-7 EC limit 500.00), CVM required limit 300.00.
    pub fn for_terminal(cfg: &TerminalConfig) -> ContactlessConfig {
        let combinations = cfg
            .aids
            .iter()
            .filter_map(|a| {
                let kernel = match a.scheme.as_str() {
                    "visa" => KernelId::C3,
                    "mastercard" => KernelId::C2,
                    "unionpay" => KernelId::C7,
                    _ => return None,
                };
                Some(Combination {
                    aid: a.aid.clone(),
                    kernel,
                    status_check: false,
                    extended_selection: false,
                    zero_amount_allowed: true,
                    transaction_limit: Some(100_000),
                    floor_limit: Some(20_000),
                    cvm_required_limit: Some(30_000),
                    ttq: default_ttq(),
                    ec_transaction_limit: (kernel == KernelId::C7).then_some(50_000),
                    kernel2: Kernel2Config::default(),
                })
            })
            .collect();
        ContactlessConfig {
            combinations,
            max_restarts: default_restarts(),
            max_collision_polls: default_polls(),
        }
    }
}
