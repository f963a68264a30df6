//! Terminal configuration (architecture principle 6: configuration is data): merchant and
//! terminal ids, the host profile, risk rules, key-age limit and card-reading policy, from
//! `terminal.toml` or `terminal.json` in the configuration directory, with working defaults
//! for the demo (the host simulator's default terminal).

use crate::error::{Result, TerminalError};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// The host profile: where the acquirer is and how long to wait.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct HostProfile {
    /// `host:port`.
    pub address: String,
    /// Use TLS.
    pub tls: bool,
    /// PEM file of the CA trusted for the host (relative to the configuration directory).
    pub ca_file: Option<String>,
    /// Name checked against the host certificate.
    pub server_name: Option<String>,
    /// TCP connect timeout, ms.
    pub connect_timeout_ms: u64,
    /// Response timeout, ms.
    pub response_timeout_ms: u64,
}

impl Default for HostProfile {
    fn default() -> Self {
        HostProfile {
            address: "127.0.0.1:5000".into(),
            tls: false,
            ca_file: None,
            server_name: None,
            connect_timeout_ms: 5_000,
            response_timeout_ms: 10_000,
        }
    }
}

/// Risk rules (terminal policy, checked before a card is read and after the PAN is known).
/// A limit of 0 means "no limit".
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct RiskConfig {
    /// Largest amount of one transaction (minor units, amount + tip + cashback).
    pub max_amount: u64,
    /// Largest total of approved sales per local day, terminal-wide.
    pub daily_amount_limit: u64,
    /// Largest number of approved sales per local day, terminal-wide.
    pub daily_count_limit: u32,
    /// Per-card velocity: at most this many attempts...
    pub velocity_count: u32,
    /// ...in this many minutes.
    pub velocity_minutes: u32,
    /// Same card and amount within this many seconds needs the attendant's confirmation.
    pub duplicate_window_secs: u32,
    /// Amounts above this need a supervisor's second confirmation.
    pub supervisor_above: u64,
    /// Largest amount per merchant category code (MCC, 4 digits).
    pub mcc_limits: BTreeMap<String, u64>,
    /// Local time offset from UTC for "today", minutes.
    pub utc_offset_minutes: i32,
}

impl Default for RiskConfig {
    fn default() -> Self {
        RiskConfig {
            max_amount: 0,
            daily_amount_limit: 0,
            daily_count_limit: 0,
            velocity_count: 0,
            velocity_minutes: 0,
            duplicate_window_secs: 60,
            supervisor_above: 0,
            mcc_limits: BTreeMap::new(),
            utc_offset_minutes: 480,
        }
    }
}

/// Everything the terminal reads from its configuration directory.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Terminal id, field 41 (8 characters).
    pub terminal_id: String,
    /// Merchant id, field 42 (15 characters).
    pub merchant_id: String,
    /// Merchant name (receipts, MPM tag 59).
    pub merchant_name: String,
    /// Merchant city (MPM tag 60).
    pub merchant_city: String,
    /// Merchant category code (MPM tag 52, MCC limits).
    pub mcc: String,
    /// ISO 4217 numeric currency.
    pub currency: String,
    /// Host profile.
    pub host: HostProfile,
    /// Risk rules.
    pub risk: RiskConfig,
    /// Working keys older than this force a sign-on before the next payment, seconds.
    pub key_max_age_secs: u64,
    /// Failed taps/swipes before "insert card or use another payment method".
    pub card_read_attempts: u32,
    /// How long to wait for a card, ms.
    pub card_timeout_ms: u64,
    /// Allow the magnetic-stripe fallback after a chip failure.
    pub fallback_allowed: bool,
    /// Merchant QR: status polls before the order is revoked.
    pub qr_max_polls: u32,
    /// Merchant QR: pause between polls, ms.
    pub qr_poll_interval_ms: u64,
    /// Exception file (hot list): PANs refused by the terminal (EMV Book 3 §10.6.1).
    pub exception_file: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            terminal_id: "12345678".into(),
            merchant_id: "123456789012345".into(),
            merchant_name: "SMARTPOS DEMO".into(),
            merchant_city: "SHANGHAI".into(),
            mcc: "5812".into(),
            currency: "156".into(),
            host: HostProfile::default(),
            risk: RiskConfig::default(),
            key_max_age_secs: 86_400,
            card_read_attempts: 3,
            card_timeout_ms: 30_000,
            fallback_allowed: true,
            qr_max_polls: 10,
            qr_poll_interval_ms: 1_000,
            exception_file: Vec::new(),
        }
    }
}

impl Settings {
    /// Parse TOML text.
    pub fn from_toml(text: &str) -> Result<Settings> {
        let s: Settings = toml::from_str(text)
            .map_err(|e| TerminalError::config("terminal.toml", e.to_string()))?;
        s.validate("terminal.toml")?;
        Ok(s)
    }

    /// Parse JSON text.
    pub fn from_json(text: &str) -> Result<Settings> {
        let s: Settings = serde_json::from_str(text)
            .map_err(|e| TerminalError::config("terminal.json", e.to_string()))?;
        s.validate("terminal.json")?;
        Ok(s)
    }

    /// `terminal.toml`, else `terminal.json`, else the defaults.
    pub fn load(dir: &Path) -> Result<Settings> {
        let toml_path = dir.join("terminal.toml");
        let json_path = dir.join("terminal.json");
        let read = |p: &Path| {
            std::fs::read_to_string(p)
                .map_err(|e| TerminalError::config(p.display().to_string(), e.to_string()))
        };
        if toml_path.is_file() {
            Settings::from_toml(&read(&toml_path)?)
        } else if json_path.is_file() {
            Settings::from_json(&read(&json_path)?)
        } else {
            Ok(Settings::default())
        }
    }

    /// Field checks: ids of the right length, currency and MCC digits, non-zero timeouts.
    pub fn validate(&self, file: &str) -> Result<()> {
        let bad = |reason: String| Err(TerminalError::config(file, reason));
        if self.terminal_id.len() != 8 || !self.terminal_id.is_ascii() {
            return bad(format!(
                "terminal_id must be 8 ASCII characters, got {:?}",
                self.terminal_id
            ));
        }
        if self.merchant_id.len() != 15 || !self.merchant_id.is_ascii() {
            return bad(format!(
                "merchant_id must be 15 ASCII characters, got {:?}",
                self.merchant_id
            ));
        }
        if self.currency.len() != 3 || !self.currency.bytes().all(|b| b.is_ascii_digit()) {
            return bad(format!(
                "currency must be 3 digits (ISO 4217), got {:?}",
                self.currency
            ));
        }
        if self.mcc.len() != 4 || !self.mcc.bytes().all(|b| b.is_ascii_digit()) {
            return bad(format!("mcc must be 4 digits, got {:?}", self.mcc));
        }
        if self.host.response_timeout_ms == 0 || self.host.connect_timeout_ms == 0 {
            return bad("host timeouts must be > 0 ms".into());
        }
        if self.card_read_attempts == 0 {
            return bad("card_read_attempts must be at least 1".into());
        }
        if self.host.tls && self.host.ca_file.is_none() {
            return bad("host.tls needs host.ca_file".into());
        }
        Ok(())
    }

    /// Response timeout.
    pub fn response_timeout(&self) -> Duration {
        Duration::from_millis(self.host.response_timeout_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_overrides_defaults_and_keeps_the_rest() {
        let s = Settings::from_toml(
            "terminal_id = \"87654321\"\n[risk]\nmax_amount = 5000\n[risk.mcc_limits]\n\"5812\" = 300\n",
        )
        .unwrap();
        assert_eq!(s.terminal_id, "87654321");
        assert_eq!(s.risk.max_amount, 5000);
        assert_eq!(s.risk.mcc_limits.get("5812"), Some(&300));
        assert_eq!(s.merchant_id, Settings::default().merchant_id);
    }

    #[test]
    fn bad_values_name_the_field() {
        let e = Settings::from_toml("terminal_id = \"123\"").unwrap_err();
        assert!(e.to_string().contains("terminal_id"), "{e}");
        let e = Settings::from_json("{\"currency\": \"CNY\"}").unwrap_err();
        assert!(e.to_string().contains("currency"), "{e}");
        let e = Settings::from_toml("no_such_key = 1").unwrap_err();
        assert!(e.to_string().contains("no_such_key"), "{e}");
    }

    #[test]
    fn missing_directory_files_give_defaults() {
        let s = Settings::load(Path::new("/nonexistent-dir-smartpos")).unwrap();
        assert_eq!(s, Settings::default());
    }
}
