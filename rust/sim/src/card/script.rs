//! Issuer script secure messaging for integrity (EMV 4.4 Book 2 §9.2.1, Book 3 §6.5 and §10.10):
//! the issuer side seals each script command (71/72 template, tag 86) with a MAC, the virtual
//! card derives the same session key and checks it before executing the command.
//!
//! # What is implemented
//!
//! Two options, chosen by the card's cryptogram version (the same on both sides):
//!
//! * [`ScriptMacOption::EmvCommon`] (M/Chip CVN 16/17/20/21): the integrity session key is the
//!   EMV common session key of Book 2 Annex A1.3.1 with R = the application cryptogram of the
//!   first GENERATE AC (the ARQC), as Book 2 §9.2.1.3 specifies; the MAC covers
//!   `CLA INS P1 P2 Lc'` ‖ command data. The ATC and ARQC are bound through the key.
//! * [`ScriptMacOption::Visa`] (Visa CVN 10/18/22 and the UnionPay cards using the Visa layout):
//!   the integrity session key is the VIS one, `MK ⊕ (00…00 ‖ ATC)` / `(ATC ⊕ FFFF)`; because
//!   that key changes only with the ATC, the MAC covers
//!   `CLA INS P1 P2 Lc'` ‖ ATC ‖ ARQC ‖ command data (Book 2 §9.2.1.3, the data "the option
//!   specifies").
//!
//! In both, the MAC is ISO/IEC 9797-1 MAC algorithm 3 with padding method 2 over that data
//! (Book 2 §9.2.1.3, smartpos-crypto [`script_mac`]), 8 bytes, appended to the command data;
//! `Lc'` is the length of the data plus the MAC. CLA is `84` (secure messaging, Book 3 §6.5).
//!
//! The ICC master key for secure messaging integrity (MK_SMI) of the simulator's cards is the
//! ICC master key derived (Book 2 A1.4.1 option A) from the card's one issuer master key: the
//! host simulator's card table carries a single IMK per card. A real issuer keeps a separate
//! IMK_SMI; nothing here depends on the two being the same key.

use smartpos_crypto::emv::{
    Cvn, EmvCryptoError, script_mac, secure_messaging_session_key,
    visa_secure_messaging_session_key,
};
use smartpos_crypto::key::SecretKey;
use smartpos_tlv::{Tag, TlvBuilder, TlvReader};

/// Length of the script MAC the simulator's issuer sends and its cards expect.
pub const SCRIPT_MAC_LEN: usize = 8;

/// The secure messaging option (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptMacOption {
    /// Book 2 A1.3.1 common session key with R = ARQC; MAC over header ‖ data.
    EmvCommon,
    /// VIS session key from the ATC; MAC over header ‖ ATC ‖ ARQC ‖ data.
    Visa,
}

impl ScriptMacOption {
    /// The option a card of this cryptogram version uses.
    pub fn for_cvn(cvn: Cvn) -> ScriptMacOption {
        match cvn {
            Cvn::Visa10 | Cvn::Visa18 | Cvn::Visa22 => ScriptMacOption::Visa,
            Cvn::Mastercard16 | Cvn::Mastercard17 | Cvn::Mastercard20 | Cvn::Mastercard21 => {
                ScriptMacOption::EmvCommon
            }
        }
    }
}

/// Why a script command could not be sealed or did not verify.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// A script template or command in it is not well formed.
    #[error("issuer script {field}: {reason}")]
    Template { field: &'static str, reason: String },
    /// The command carries fewer bytes than a MAC.
    #[error("script command data: {len} bytes, at least {SCRIPT_MAC_LEN} (the MAC) expected")]
    MissingMac { len: usize },
    /// The MAC does not match (Book 3 §6.5: SW 6988).
    #[error("script command MAC does not verify")]
    BadMac,
    /// Key derivation or MAC computation failed.
    #[error("script secure messaging: {0}")]
    Crypto(#[from] EmvCryptoError),
}

/// The transaction a script is bound to: the card's ATC and the ARQC of the first GENERATE AC.
#[derive(Clone)]
pub struct ScriptSession {
    option: ScriptMacOption,
    key: SecretKey,
    atc: [u8; 2],
    arqc: [u8; 8],
}

impl std::fmt::Debug for ScriptSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptSession")
            .field("option", &self.option)
            .field("atc", &self.atc)
            .finish_non_exhaustive()
    }
}

impl ScriptSession {
    /// Derive the integrity session key SK_SMI from the ICC master key for secure messaging
    /// (Book 2 §9.2.1.3 with A1.3.1, or the VIS derivation; see [`ScriptMacOption`]).
    pub fn new(
        option: ScriptMacOption,
        mk_smi: &SecretKey,
        atc: [u8; 2],
        arqc: [u8; 8],
    ) -> Result<ScriptSession, ScriptError> {
        let key = match option {
            ScriptMacOption::EmvCommon => secure_messaging_session_key(mk_smi, &arqc)?,
            ScriptMacOption::Visa => visa_secure_messaging_session_key(mk_smi, atc)?,
        };
        Ok(ScriptSession {
            option,
            key,
            atc,
            arqc,
        })
    }

    /// The option in use.
    pub fn option(&self) -> ScriptMacOption {
        self.option
    }

    /// The MAC of a command whose header is `header` (CLA INS P1 P2), `lc` the Lc' it is sent
    /// with (data + MAC) and `data` its plaintext command data (Book 2 §9.2.1.3).
    pub fn mac(&self, header: [u8; 4], lc: u8, data: &[u8]) -> Result<[u8; 8], ScriptError> {
        let mut input = Vec::with_capacity(5 + 10 + data.len());
        input.extend_from_slice(&header);
        input.push(lc);
        if self.option == ScriptMacOption::Visa {
            input.extend_from_slice(&self.atc);
            input.extend_from_slice(&self.arqc);
        }
        input.extend_from_slice(data);
        Ok(script_mac(&self.key, &input)?)
    }

    /// Seal one command template `CLA INS P1 P2 [Lc data]` (Lc equal to the data length):
    /// returns `CLA INS P1 P2 Lc' data MAC` with Lc' = Lc + 8.
    pub fn seal_command(&self, template: &[u8]) -> Result<Vec<u8>, ScriptError> {
        let (header, data) = parse_template(template)?;
        let lc = u8::try_from(data.len() + SCRIPT_MAC_LEN).map_err(|_| ScriptError::Template {
            field: "command data",
            reason: format!("{} bytes leave no room for the MAC", data.len()),
        })?;
        let mac = self.mac(header, lc, data)?;
        let mut out = header.to_vec();
        out.push(lc);
        out.extend_from_slice(data);
        out.extend_from_slice(&mac);
        Ok(out)
    }

    /// The card side: check the MAC at the end of `command_data` (what followed Lc' in the
    /// APDU) and return the plaintext data before it.
    pub fn verify<'a>(
        &self,
        header: [u8; 4],
        command_data: &'a [u8],
    ) -> Result<&'a [u8], ScriptError> {
        let len = command_data.len();
        let split = len
            .checked_sub(SCRIPT_MAC_LEN)
            .ok_or(ScriptError::MissingMac { len })?;
        let (data, mac) = command_data.split_at(split);
        let lc = u8::try_from(len).map_err(|_| ScriptError::Template {
            field: "Lc",
            reason: format!("{len} bytes do not fit a short APDU"),
        })?;
        let expected = self.mac(header, lc, data)?;
        if openssl::memcmp::eq(&expected, mac) {
            Ok(data)
        } else {
            Err(ScriptError::BadMac)
        }
    }

    /// Seal every command (86) of the issuer script templates 71/72 in `scripts`, keeping the
    /// script identifiers (9F18) and the template order (Book 3 §10.10).
    pub fn seal_scripts(&self, scripts: &[u8]) -> Result<Vec<u8>, ScriptError> {
        let mut out = TlvBuilder::new();
        for template in TlvReader::new(scripts) {
            let template = template.map_err(|e| ScriptError::Template {
                field: "template",
                reason: e.to_string(),
            })?;
            if !matches!(template.tag, Tag(0x71) | Tag(0x72)) {
                return Err(ScriptError::Template {
                    field: "template",
                    reason: format!("tag {:X} is not 71 or 72", template.tag.0),
                });
            }
            let mut inner = TlvBuilder::new();
            for obj in template.children() {
                let obj = obj.map_err(|e| ScriptError::Template {
                    field: "template content",
                    reason: e.to_string(),
                })?;
                if obj.tag == Tag(0x86) {
                    inner.push(Tag(0x86), &self.seal_command(obj.value)?);
                } else {
                    inner.push(obj.tag, obj.value);
                }
            }
            out.push(template.tag, inner.as_bytes());
        }
        Ok(out.finish())
    }
}

/// `CLA INS P1 P2` and the data of a command template (`Lc` absent or equal to the data length).
fn parse_template(template: &[u8]) -> Result<([u8; 4], &[u8]), ScriptError> {
    let (header, rest) =
        template
            .split_first_chunk::<4>()
            .ok_or_else(|| ScriptError::Template {
                field: "command",
                reason: format!("{} bytes, CLA INS P1 P2 expected", template.len()),
            })?;
    let data = match rest.split_first() {
        None => &[][..],
        Some((lc, data)) if usize::from(*lc) == data.len() => data,
        Some((lc, data)) => {
            return Err(ScriptError::Template {
                field: "Lc",
                reason: format!("{lc} but {} bytes of data follow", data.len()),
            });
        }
    };
    Ok((*header, data))
}
