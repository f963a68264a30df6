//! Virtual card personalisation: what a card holds (EMV Book 3 Annex A data objects), how it
//! authenticates (Book 2 SDA/DDA/CDA), its CVM list (Book 3 §10.5, Annex C3), Issuer Action
//! Codes, CDOL1/CDOL2, PIN and try counter, and the issuer master key its cryptograms derive from.
//!
//! # Test cards and issuer master keys
//!
//! The host simulator verifies ARQCs with the same keys: these are the cards of its default
//! configuration (`hostsim::config`), all TEST data with Luhn-valid PANs:
//!
//! | scheme     | PAN                 | PSN | IMK (AC, 2-key TDES)             | CVN / IAD layout        |
//! |------------|---------------------|-----|----------------------------------|-------------------------|
//! | Visa       | 4761739001010010    | 01  | 0123456789ABCDEFFEDCBA9876543210 | Visa CVN 10 (06 01 0A CVR) |
//! | Mastercard | 5413330089010434    | 00  | 9E15204313F7318ACB79B90BD986AD29 | M/Chip CVN 16 (hex 10)  |
//! | UnionPay   | 6214000000000000019 | 01  | 2315208C9110AD402315208C9110AD40 | Visa CVN 10 layout      |
//!
//! ICC MK: option A (Book 2 A1.4.1); the ARQC per the CVN (smartpos-crypto `emv::Cvn`); the ARPC
//! is method 1 (Book 2 §8.2.1) under the CVN's AC key (`Cvn::ac_key`: the ICC MK for CVN 10,
//! the M/Chip session key for CVN 16), with ARC as the 2 ASCII bytes of 8A. PIN: 1234 (Visa,
//! Mastercard), 123456 (UnionPay).

use super::fault::Fault;
use smartpos_crypto::emv::Cvn;

pub use super::scheme::Scheme;

/// The contact test card of each scheme (see the module table).
impl Scheme {
    pub fn label(self) -> &'static str {
        match self {
            Scheme::Visa => "VISA CREDIT",
            Scheme::Mastercard => "MASTERCARD",
            Scheme::UnionPay => "UNIONPAY DEBIT",
        }
    }
    /// The test card's PAN (see the module table).
    pub fn pan(self) -> &'static str {
        match self {
            Scheme::Visa => "4761739001010010",
            Scheme::Mastercard => "5413330089010434",
            Scheme::UnionPay => "6214000000000000019",
        }
    }
    /// The cardholder's PIN (as the host simulator's card table has it).
    pub fn test_pin(self) -> &'static str {
        match self {
            Scheme::UnionPay => "123456",
            _ => "1234",
        }
    }
    pub fn psn(self) -> u8 {
        match self {
            Scheme::Mastercard => 0x00,
            _ => 0x01,
        }
    }
    /// Issuer master key for application cryptograms (hex, TEST ONLY).
    pub fn imk_hex(self) -> &'static str {
        match self {
            Scheme::Visa => "0123456789ABCDEFFEDCBA9876543210",
            Scheme::Mastercard => "9E15204313F7318ACB79B90BD986AD29",
            Scheme::UnionPay => "2315208C9110AD402315208C9110AD40",
        }
    }
    pub fn cvn(self) -> Cvn {
        match self {
            Scheme::Mastercard => Cvn::Mastercard16,
            _ => Cvn::Visa10,
        }
    }
    /// Issuer authentication by EXTERNAL AUTHENTICATE (AIP bit, Book 3 §10.9) rather than with
    /// 91 in CDOL2 (M/Chip).
    pub fn external_authenticate(self) -> bool {
        self != Scheme::Mastercard
    }
    /// GPO response format 2 (template 77) rather than format 1 (80).
    pub fn gpo_format2(self) -> bool {
        self == Scheme::Mastercard
    }
    pub fn cdol1(self) -> Vec<u8> {
        // 9F02 9F03 9F1A 95 5F2A 9A 9C 9F37 9F35 9F34 (+ 9F45 9F4C for M/Chip style)
        let s = match self {
            Scheme::Mastercard => {
                "9F02069F03069F1A0295055F2A029A039C019F37049F35019F45029F4C089F3403"
            }
            _ => "9F02069F03069F1A0295055F2A029A039C019F37049F35019F3403",
        };
        hex_const(s)
    }
    pub fn cdol2(self) -> Vec<u8> {
        let s = match self {
            Scheme::Mastercard => "910A8A0295059F37049F4C08",
            _ => "8A029F02069F03069F1A0295055F2A029A039C019F3704",
        };
        hex_const(s)
    }
    pub fn pdol(self) -> Vec<u8> {
        hex_const(match self {
            Scheme::Visa => "9F66049F02069F37045F2A02",
            Scheme::Mastercard => "9F1A02",
            Scheme::UnionPay => "9F02069F1A025F2A029F3704",
        })
    }
}

/// Decode a hex literal of this module (they are all valid; an invalid one decodes empty).
fn hex_const(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap_or_default()
}

/// Offline data authentication the card supports (AIP byte 1, Book 3 Annex C1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Oda {
    None,
    Sda,
    Dda,
    Cda,
}

impl Oda {
    pub fn name(self) -> &'static str {
        match self {
            Oda::None => "none",
            Oda::Sda => "sda",
            Oda::Dda => "dda",
            Oda::Cda => "cda",
        }
    }
}

/// The card's preferred cardholder verification method (first CVM rule, Book 3 Annex C3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CvmKind {
    OfflinePlaintextPin,
    OfflineEncipheredPin,
    OnlinePin,
    Signature,
    NoCvm,
}

impl CvmKind {
    pub fn name(self) -> &'static str {
        match self {
            CvmKind::OfflinePlaintextPin => "offline_plaintext_pin",
            CvmKind::OfflineEncipheredPin => "offline_enciphered_pin",
            CvmKind::OnlinePin => "online_pin",
            CvmKind::Signature => "signature",
            CvmKind::NoCvm => "no_cvm",
        }
    }
    /// CVM list (8E): amount X, amount Y (both 0), then the rules. The PIN rules fail
    /// cardholder verification when unsuccessful (b7 of the CVM code clear), so a wrong or
    /// blocked PIN shows in the TVR and CVM results.
    pub fn cvm_list(self) -> Vec<u8> {
        let rules: &[u8] = match self {
            CvmKind::OfflinePlaintextPin => &[0x01, 0x00, 0x1E, 0x03],
            CvmKind::OfflineEncipheredPin => &[0x04, 0x00, 0x1E, 0x03],
            CvmKind::OnlinePin => &[0x02, 0x00, 0x1E, 0x03],
            CvmKind::Signature => &[0x1E, 0x00],
            CvmKind::NoCvm => &[0x1F, 0x00],
        };
        let mut v = vec![0u8; 8];
        v.extend_from_slice(rules);
        v
    }
    pub fn needs_pin(self) -> bool {
        matches!(
            self,
            CvmKind::OfflinePlaintextPin | CvmKind::OfflineEncipheredPin | CvmKind::OnlinePin
        )
    }
}

/// The card's own risk rules (card risk management, Book 3 §10.8 and the scheme specifications,
/// simplified).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CardRisk {
    /// Approve offline (TC) when the terminal asks for a TC and the amount is at most this.
    /// `None`: the card always wants to go online.
    pub offline_limit: Option<u64>,
    /// Answer AAC to any first GENERATE AC for amounts above this.
    pub decline_above: Option<u64>,
    /// Answer AAC in the second GENERATE AC when issuer authentication failed.
    pub decline_if_issuer_auth_fails: bool,
}

/// Everything a virtual card is personalised with. `Debug` does not show the PIN.
#[derive(Clone, PartialEq, Eq)]
pub struct CardProfile {
    pub name: String,
    pub scheme: Scheme,
    pub oda: Oda,
    pub cvm: CvmKind,
    /// Reference PIN (4-12 digits).
    pub pin: String,
    /// PIN Try Limit (and the counter's start value).
    pub pin_try_limit: u8,
    /// Application Expiration Date 5F24, YYMMDD BCD.
    pub expiry: [u8; 3],
    /// Application Effective Date 5F25, YYMMDD BCD.
    pub effective: [u8; 3],
    pub iac_default: [u8; 5],
    pub iac_denial: [u8; 5],
    pub iac_online: [u8; 5],
    /// Application Usage Control 9F07.
    pub auc: [u8; 2],
    /// Starting Application Transaction Counter.
    pub atc: u16,
    /// Last Online ATC Register (9F13).
    pub last_online_atc: u16,
    pub risk: CardRisk,
    /// Personalise a separate ICC PIN Encipherment key (9F2D/9F2E/9F2F, Book 2 §7.1).
    pub pin_key: bool,
    /// Put the directory in a PSE (Book 1 §12.2.2); without it the terminal selects by AID list.
    pub pse: bool,
    pub faults: Vec<Fault>,
    /// Outcome of `smartpos emv run --sim NAME --amount 1000 --pin <pin>` with the demo terminal
    /// and no host answer.
    pub expect: &'static str,
    pub description: &'static str,
}

impl std::fmt::Debug for CardProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardProfile")
            .field("name", &self.name)
            .field("scheme", &self.scheme)
            .field("oda", &self.oda)
            .field("cvm", &self.cvm)
            .field("pin", &"<hidden>")
            .field("pin_try_limit", &self.pin_try_limit)
            .field("risk", &self.risk)
            .field("faults", &self.faults)
            .field("expect", &self.expect)
            .finish_non_exhaustive()
    }
}

impl CardProfile {
    /// A clean card of a scheme.
    pub fn new(name: &str, scheme: Scheme, oda: Oda, cvm: CvmKind) -> CardProfile {
        CardProfile {
            name: name.to_string(),
            scheme,
            oda,
            cvm,
            pin: scheme.test_pin().into(),
            pin_try_limit: 3,
            expiry: [0x29, 0x12, 0x31],
            effective: [0x20, 0x01, 0x01],
            iac_default: [0x00; 5],
            iac_denial: [0x00; 5],
            iac_online: [0x00; 5],
            auc: [0xFF, 0x00],
            atc: 0x0020,
            last_online_atc: 0x001F,
            risk: CardRisk {
                offline_limit: None,
                decline_above: None,
                decline_if_issuer_auth_fails: true,
            },
            pin_key: false,
            pse: true,
            faults: Vec::new(),
            expect: "online_request",
            description: "",
        }
    }

    /// Application Interchange Profile (82), Book 3 Annex C1: ODA bits, cardholder
    /// verification supported, terminal risk management to be performed, issuer authentication
    /// supported (EXTERNAL AUTHENTICATE schemes).
    pub fn aip(&self) -> [u8; 2] {
        let mut b1 = 0x10 | 0x08; // CVM supported, TRM to be performed
        b1 |= match self.oda {
            Oda::None => 0,
            Oda::Sda => 0x40,
            Oda::Dda => 0x20,
            Oda::Cda => 0x01,
        };
        if self.scheme.external_authenticate() {
            b1 |= 0x04;
        }
        [b1, 0x00]
    }

    pub fn has(&self, f: &Fault) -> bool {
        self.faults.contains(f)
    }
    fn with(mut self, f: impl FnOnce(&mut CardProfile)) -> CardProfile {
        f(&mut self);
        self
    }
}

/// What `smartpos emv sims` lists.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProfileInfo {
    pub name: String,
    pub interface: &'static str,
    pub scheme: &'static str,
    pub oda: &'static str,
    pub cvm: &'static str,
    /// The PIN to enter, for PIN CVMs.
    pub pin: Option<String>,
    pub expect: &'static str,
}

impl From<&CardProfile> for ProfileInfo {
    fn from(p: &CardProfile) -> Self {
        ProfileInfo {
            name: p.name.clone(),
            interface: "contact",
            scheme: p.scheme.name(),
            oda: p.oda.name(),
            cvm: p.cvm.name(),
            pin: p.cvm.needs_pin().then(|| p.pin.clone()),
            expect: p.expect,
        }
    }
}

/// Every built-in profile.
pub fn all() -> Vec<CardProfile> {
    use CvmKind::*;
    use Oda::*;
    use Scheme::*;
    let base = |n: &str, s, o, c| CardProfile::new(n, s, o, c);
    vec![
        // Visa
        base("visa-sda-signature", Visa, Sda, Signature),
        base("visa-dda-offline-pin", Visa, Dda, OfflinePlaintextPin),
        base("visa-dda-enciphered-pin", Visa, Dda, OfflineEncipheredPin),
        base("visa-cda-online-pin", Visa, Cda, OnlinePin),
        base("visa-cda-no-cvm", Visa, Cda, NoCvm),
        base("visa-none-signature", Visa, None, Signature),
        base("visa-dda-card-decline", Visa, Dda, Signature).with(|p| {
            p.risk.decline_above = Some(0);
            p.expect = "declined";
            p.description = "card risk management answers AAC to every first GENERATE AC";
        }),
        base("visa-dda-offline-approve", Visa, Dda, NoCvm).with(|p| {
            p.risk.offline_limit = Some(100_000);
            p.description = "card approves offline (TC) when the terminal asks for a TC";
        }),
        // Mastercard
        base("mc-sda-no-cvm", Mastercard, Sda, NoCvm),
        base("mc-dda-signature", Mastercard, Dda, Signature),
        base("mc-cda-offline-pin", Mastercard, Cda, OfflinePlaintextPin),
        base(
            "mc-cda-enciphered-pin",
            Mastercard,
            Cda,
            OfflineEncipheredPin,
        )
        .with(|p| {
            p.pin_key = true;
            p.description = "separate ICC PIN encipherment key (9F2D)";
        }),
        base("mc-cda-online-pin", Mastercard, Cda, OnlinePin),
        base("mc-dda-iac-denial", Mastercard, Dda, NoCvm).with(|p| {
            p.iac_denial = [0x00, 0x00, 0x00, 0x80, 0x00];
            p.expect = "declined";
            p.description = "IAC-denial on 'exceeds floor limit': terminal asks for an AAC";
        }),
        // UnionPay
        base("up-sda-signature", UnionPay, Sda, Signature),
        base("up-dda-offline-pin", UnionPay, Dda, OfflinePlaintextPin),
        base("up-dda-enciphered-pin", UnionPay, Dda, OfflineEncipheredPin),
        base("up-cda-online-pin", UnionPay, Cda, OnlinePin),
        base("up-cda-no-cvm", UnionPay, Cda, NoCvm),
        // Faults
        fault(
            "fault-gpo-6985",
            Fault::StatusWord {
                ins: 0xA8,
                sw: 0x6985,
            },
            "end_application",
        ),
        fault(
            "fault-select-6a81",
            Fault::StatusWord {
                ins: 0xA4,
                sw: 0x6A81,
            },
            "end_application",
        ),
        fault(
            "fault-record-6a83",
            Fault::StatusWord {
                ins: 0xB2,
                sw: 0x6A83,
            },
            "end_application",
        ),
        fault(
            "fault-genac-6985",
            Fault::StatusWord {
                ins: 0xAE,
                sw: 0x6985,
            },
            "end_application",
        ),
        fault(
            "fault-truncated-record",
            Fault::TruncatedRecord,
            "end_application",
        ),
        fault(
            "fault-malformed-gpo",
            Fault::MalformedGpo,
            "end_application",
        ),
        fault(
            "fault-duplicate-tag",
            Fault::DuplicateTag,
            "end_application",
        ),
        fault(
            "fault-bad-issuer-cert",
            Fault::BadIssuerCertificate,
            "online_request",
        ),
        fault(
            "fault-expired-issuer-cert",
            Fault::ExpiredIssuerCertificate,
            "online_request",
        ),
        fault(
            "fault-revoked-issuer-cert",
            Fault::RevokedIssuerCertificate,
            "online_request",
        ),
        fault(
            "fault-bad-dda-signature",
            Fault::BadDynamicSignature,
            "online_request",
        ),
        fault(
            "fault-bad-cda-signature",
            Fault::BadDynamicSignature,
            "declined",
        )
        .with(|p| {
            p.oda = Oda::Cda;
            p.description = "CDA signature of GENERATE AC corrupted: the terminal declines";
        }),
        fault(
            "fault-app-blocked",
            Fault::ApplicationBlocked,
            "end_application",
        ),
        fault(
            "fault-pin-blocked",
            Fault::PinTriesExhausted,
            "online_request",
        ),
        fault(
            "fault-card-pulled",
            Fault::CardPulled { at: 8 },
            "end_application",
        ),
        fault(
            "fault-no-answer",
            Fault::NoAnswer { at: 5 },
            "end_application",
        ),
    ]
}

/// A Visa DDA offline-PIN card with one fault.
fn fault(name: &str, f: Fault, expect: &'static str) -> CardProfile {
    let mut p = CardProfile::new(name, Scheme::Visa, Oda::Dda, CvmKind::OfflinePlaintextPin);
    p.faults.push(f);
    p.expect = expect;
    p
}

/// A built-in profile by name.
pub fn by_name(name: &str) -> Option<CardProfile> {
    all().into_iter().find(|p| p.name == name)
}

/// The registry as `smartpos emv sims` prints it.
pub fn profiles() -> Vec<ProfileInfo> {
    all().iter().map(ProfileInfo::from).collect()
}
