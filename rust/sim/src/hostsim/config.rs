//! Host simulator configuration (JSON) and the default configuration that matches the virtual
//! cards the simulator ships.
//!
//! # Format
//!
//! ```json
//! {
//!   "terminals": [{ "terminal_id": "12345678", "merchant_id": "123456789012345",
//!                   "tmk": "<32 hex>", "algorithm": "tdes" | "sm4",
//!                   "mac": "cup-ecb" | "x919" | "sm4-cbc" }],
//!   "cards": [{ "pan": "4761739001010010", "pin": "1234", "imk": "<32 hex>", "psn": "01",
//!               "scheme": "visa" | "mastercard" | "unionpay", "balance": 100000,
//!               "issuer_scripts": "<hex of 71/72 templates>" }],
//!   "rules": [{ "amount_suffix": "51", "response": "51" }],
//!   "faults": [{ "kind": "delay", "ms": 50, "count": 1 }],
//!   "qr_polls_until_paid": 2,
//!   "pin_try_limit": 3,
//!   "dukpt_bdk": "<32 hex, optional>"
//! }
//! ```
//!
//! Keys here are TEST keys only.
//!
//! # Default virtual cards (for the virtual-card engineer: use the same PAN, PSN and IMK so the
//! simulator verifies your ARQCs)
//!
//! | Scheme | PAN | PSN | PIN | IMK (AC, TDES 2-key) | CVN | Balance |
//! |---|---|---|---|---|---|---|
//! | Visa | 4761739001010010 | 01 | 1234 | 0123456789ABCDEFFEDCBA9876543210 | 10 or 18 (from 9F10) | none (credit) |
//! | Mastercard | 5413330089010434 | 00 | 1234 | 9E15204313F7318ACB79B90BD986AD29 | 16 or 17 (from 9F10) | none |
//! | UnionPay (prepaid) | 6214000000000000019 | 01 | 123456 | 2315208C9110AD402315208C9110AD40 | Visa-style 10/18 layouts | 100000 (1000.00) |
//!
//! ICC master keys are derived with EMV Book 2 A1.4.1 option A from the IMK, PAN and PSN.
//! The default terminal is `12345678` / `123456789012345` with TMK
//! `11111111111111112222222222222222` (TDES) and the UnionPay ECB MAC.
//!
//! # Response rules (default table)
//!
//! The last two digits of the amount (field 4) select a decline before any other check:
//!
//! | Amount ends in | Response |
//! |---|---|
//! | 51 | 51 insufficient funds |
//! | 55 | 55 incorrect PIN |
//! | 05 | 05 do not honour |
//! | 91 | 91 issuer inoperative |
//! | 96 | 96 system malfunction |
//!
//! Other checks: unknown PAN 14; wrong PIN 55, and 75 once `pin_try_limit` wrong PINs in a row;
//! ARQC that does not verify 05; prepaid balance too low 51; balance inquiry on a card without
//! balance 40; unknown original (void, completion, refund, reversal) 25; bad request MAC A0;
//! settlement totals differing 95.

use serde::{Deserialize, Serialize};

/// A terminal the simulator knows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TerminalEntry {
    /// Field 41.
    pub terminal_id: String,
    /// Field 42.
    pub merchant_id: String,
    /// Terminal master key, hex (test only).
    pub tmk: String,
    /// `tdes` or `sm4`.
    #[serde(default = "default_algorithm")]
    pub algorithm: String,
    /// `cup-ecb`, `x919` or `sm4-cbc`.
    #[serde(default = "default_mac")]
    pub mac: String,
}

/// A card (issuer account) the simulator knows.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CardEntry {
    /// PAN.
    pub pan: String,
    /// PIN (test only).
    pub pin: String,
    /// Issuer master key for AC, hex (TDES 2-key).
    pub imk: String,
    /// PAN sequence number (2 digits).
    #[serde(default = "default_psn")]
    pub psn: String,
    /// `visa`, `mastercard` or `unionpay`.
    #[serde(default)]
    pub scheme: String,
    /// Prepaid balance in minor units; `None` for a credit card with no balance kept.
    #[serde(default)]
    pub balance: Option<u64>,
    /// Issuer script templates (71/72 TLVs, hex) sent with every approval.
    #[serde(default)]
    pub issuer_scripts: Option<String>,
}

impl std::fmt::Debug for CardEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardEntry")
            .field("pan", &smartpos_iso8583::mask::mask_pan(&self.pan))
            .field("scheme", &self.scheme)
            .field("balance", &self.balance)
            .finish()
    }
}

/// Amount rule: amounts whose last two digits equal `amount_suffix` get `response`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AmountRule {
    /// Two digits.
    pub amount_suffix: String,
    /// Two-character response code.
    pub response: String,
}

/// A fault from the config file (see [`super::Fault`]).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FaultEntry {
    /// `delay`, `drop`, `no-answer`, `garbage`, `wrong-mac`, `duplicate`, `bad-kcv`.
    pub kind: String,
    /// Delay in ms (for `delay`).
    #[serde(default)]
    pub ms: u64,
    /// How many of the next requests it applies to.
    #[serde(default = "one")]
    pub count: u32,
}

/// The whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct HostSimConfig {
    /// Terminals.
    pub terminals: Vec<TerminalEntry>,
    /// Cards.
    pub cards: Vec<CardEntry>,
    /// Amount rules.
    #[serde(default = "default_rules")]
    pub rules: Vec<AmountRule>,
    /// Faults active from the start.
    #[serde(default)]
    pub faults: Vec<FaultEntry>,
    /// Polls before a pending QR order becomes paid (0: paid at once).
    #[serde(default = "default_polls")]
    pub qr_polls_until_paid: u32,
    /// Wrong PINs in a row before 75.
    #[serde(default = "default_tries")]
    pub pin_try_limit: u32,
    /// DUKPT base derivation key (hex), for PIN blocks under DUKPT.
    #[serde(default)]
    pub dukpt_bdk: Option<String>,
}

fn default_algorithm() -> String {
    "tdes".into()
}
fn default_mac() -> String {
    "cup-ecb".into()
}
fn default_psn() -> String {
    "00".into()
}
fn one() -> u32 {
    1
}
fn default_polls() -> u32 {
    2
}
fn default_tries() -> u32 {
    3
}

/// The default amount rules (see the module doc).
pub fn default_rules() -> Vec<AmountRule> {
    ["51", "55", "05", "91", "96"]
        .iter()
        .map(|c| AmountRule {
            amount_suffix: (*c).to_string(),
            response: (*c).to_string(),
        })
        .collect()
}

/// The default configuration as JSON (embedded; `smartpos hostsim` uses it without `--config`).
pub const DEFAULT_CONFIG_JSON: &str = r#"{
  "terminals": [
    { "terminal_id": "12345678", "merchant_id": "123456789012345",
      "tmk": "11111111111111112222222222222222", "algorithm": "tdes", "mac": "cup-ecb" }
  ],
  "cards": [
    { "pan": "4761739001010010", "pin": "1234", "psn": "01", "scheme": "visa",
      "imk": "0123456789ABCDEFFEDCBA9876543210" },
    { "pan": "5413330089010434", "pin": "1234", "psn": "00", "scheme": "mastercard",
      "imk": "9E15204313F7318ACB79B90BD986AD29" },
    { "pan": "6214000000000000019", "pin": "123456", "psn": "01", "scheme": "unionpay",
      "imk": "2315208C9110AD402315208C9110AD40", "balance": 100000 }
  ],
  "qr_polls_until_paid": 2,
  "pin_try_limit": 3,
  "dukpt_bdk": "0123456789ABCDEFFEDCBA9876543210"
}"#;

impl HostSimConfig {
    /// Parse a JSON configuration.
    pub fn from_json(text: &str) -> Result<HostSimConfig, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The default configuration.
    pub fn default_config() -> HostSimConfig {
        // The embedded JSON is a constant checked by a unit test.
        serde_json::from_str(DEFAULT_CONFIG_JSON).unwrap_or_else(|_| HostSimConfig {
            terminals: Vec::new(),
            cards: Vec::new(),
            rules: default_rules(),
            faults: Vec::new(),
            qr_polls_until_paid: 2,
            pin_try_limit: 3,
            dukpt_bdk: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_parses_with_three_cards_and_rules() {
        let c = HostSimConfig::from_json(DEFAULT_CONFIG_JSON).expect("default config");
        assert_eq!(c.cards.len(), 3);
        assert_eq!(c.terminals[0].terminal_id, "12345678");
        assert_eq!(c.rules, default_rules());
        assert_eq!(c.cards[2].balance, Some(100000));
    }

    #[test]
    fn card_debug_masks_the_pan() {
        let c = HostSimConfig::default_config();
        let s = format!("{:?}", c.cards[0]);
        assert!(!s.contains("4761739001010010"), "{s}");
        assert!(s.contains("476173******0010"), "{s}");
    }
}
