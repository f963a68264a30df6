//! Kernel outcomes (EMV Book 4 §11 / the Outcome of EMV Book A §7) and the reasons a transaction
//! ends without a cryptogram.

use crate::trace::Trace;
use crate::transport::TransportError;
use crate::tvr::{Tsi, Tvr};
use serde::Serialize;

/// Why the application ended without a cryptogram decision.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndReason {
    /// SELECT PSE answered 6A81 or the card answered 6A81 to the final SELECT (Book 1 §12.3.2).
    #[error("card blocked or command not supported (6A81)")]
    CardBlocked,
    /// No application on the card matches a terminal AID (Book 1 §12.4).
    #[error("no mutually supported application (card not accepted)")]
    NotAccepted,
    /// The cardholder or the application cancelled.
    #[error("cancelled by the cardholder or attendant")]
    Cancelled,
    /// The card was removed (transport reports it).
    #[error("card removed")]
    CardRemoved,
    /// The card link failed.
    #[error("card transport: {0}")]
    Transport(TransportError),
    /// The card answered a command with an unexpected status word.
    #[error("{command}: card answered {sw:04X}")]
    CardError { command: &'static str, sw: u16 },
    /// The card's response is malformed (bad TLV, wrong template, wrong lengths).
    #[error("{command}: malformed response: {reason}")]
    FormatError {
        command: &'static str,
        reason: String,
    },
    /// Mandatory data is missing (Book 3 §7.2: 5A, 5F24, 8C, 8D; AIP/AFL in GPO).
    #[error("mandatory data {tag:X} missing")]
    MissingMandatoryData { tag: u32 },
    /// A primitive data object appeared twice in the records (Book 3 §10.2).
    #[error("data object {tag:X} supplied more than once by the card")]
    DuplicateData { tag: u32 },
    /// The cryptogram type the card returned is not allowed (Book 3 §9.3 / §10.8).
    #[error("card returned a cryptogram type that was not requested ({cid:02X})")]
    InvalidCryptogram { cid: u8 },
    /// The kernel was driven with inconsistent parameters by the terminal.
    #[error("terminal parameters: {0}")]
    Parameters(String),
}

impl EndReason {
    /// The chip could not be used (card or reader fault, unreadable data): the terminal may
    /// fall back to the magnetic stripe if its acquirer allows it, flagging the swipe as
    /// fallback (see [`crate::magstripe::swipe_decision`]). Not for cancellations, blocked
    /// cards or "not accepted".
    pub fn allows_fallback(&self) -> bool {
        matches!(
            self,
            EndReason::Transport(_)
                | EndReason::CardError { .. }
                | EndReason::FormatError { .. }
                | EndReason::MissingMandatoryData { .. }
                | EndReason::DuplicateData { .. }
        )
    }
}

impl From<TransportError> for EndReason {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::CardRemoved => EndReason::CardRemoved,
            other => EndReason::Transport(other),
        }
    }
}

/// The final decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The card returned a TC: approved offline (or after online approval).
    Approved,
    /// The card returned an AAC.
    Declined,
    /// The card asked for online authorisation (ARQC); see [`crate::kernel::OnlineRequest`].
    OnlineRequest,
    /// Ended without a cryptogram decision; see [`TransactionResult::end_reason`].
    EndApplication,
}

/// Offline data authentication method used (Book 3 §10.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OdaMethod {
    #[default]
    None,
    Sda,
    Dda,
    Cda,
}

/// Everything the terminal needs after the kernel finished. `Debug` omits the data record
/// bytes (a scheme's field-55 list may name track 2 or the PAN).
#[derive(Clone, Serialize)]
pub struct TransactionResult {
    pub decision: Decision,
    #[serde(serialize_with = "ser_reason")]
    pub end_reason: Option<EndReason>,
    /// Selected application (ADF name, hex).
    pub aid: Option<String>,
    pub application_label: Option<String>,
    pub oda: OdaMethod,
    /// ODA performed and not failed.
    pub oda_ok: bool,
    /// Why ODA failed, if it did.
    pub oda_failure: Option<String>,
    #[serde(serialize_with = "ser_tvr")]
    pub tvr: Tvr,
    #[serde(serialize_with = "ser_tsi")]
    pub tsi: Tsi,
    /// 9F34, hex.
    pub cvm_results: String,
    /// A signature line must be printed on the receipt (Book 4 §6.3.4.5).
    pub signature_required: bool,
    pub pan_masked: Option<String>,
    /// The data record (BER-TLV) for ISO 8583 field 55, in the scheme's tag order.
    #[serde(serialize_with = "ser_hex")]
    pub data_record: Vec<u8>,
    /// CID bit 4 (advice required) was set by the card (Book 3 §10.8 / Annex C.3).
    pub advice_requested: bool,
    /// Issuer script results (9F5B), hex; empty if no script was processed.
    pub script_results: String,
    /// Cardholder language agreed from the card's 5F2D and the terminal's list (Book 1 §12.4).
    pub language: Option<String>,
    /// Masked APDU trace.
    pub trace: Trace,
}

impl TransactionResult {
    /// The JSON object of `smartpos emv run --json`: outcome, aid, kernel, oda, oda_ok, tvr,
    /// tsi, cvm_results, pan_masked, field55 and the masked APDU list.
    pub fn summary_json(&self) -> serde_json::Value {
        let outcome = match self.decision {
            Decision::Approved => "approved",
            Decision::Declined => "declined",
            Decision::OnlineRequest => "online_request",
            Decision::EndApplication => "end_application",
        };
        serde_json::json!({
            "outcome": outcome,
            "end_reason": self.end_reason.as_ref().map(|r| r.to_string()),
            "aid": self.aid,
            "kernel": "contact",
            "oda": self.oda,
            "oda_ok": self.oda_ok,
            "tvr": self.tvr.hex(),
            "tsi": self.tsi.hex(),
            "cvm_results": self.cvm_results,
            "signature_required": self.signature_required,
            "pan_masked": self.pan_masked,
            "field55": crate::trace::hex_upper(&self.data_record),
            "advice": self.advice_requested,
            "script_results": self.script_results,
            "apdus": self.trace.entries,
        })
    }
}

fn ser_reason<S: serde::Serializer>(r: &Option<EndReason>, s: S) -> Result<S::Ok, S::Error> {
    match r {
        Some(r) => s.serialize_str(&r.to_string()),
        None => s.serialize_none(),
    }
}
fn ser_tvr<S: serde::Serializer>(t: &Tvr, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.hex())
}
fn ser_tsi<S: serde::Serializer>(t: &Tsi, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.hex())
}
fn ser_hex<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode_upper(v))
}

impl std::fmt::Debug for TransactionResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransactionResult")
            .field("decision", &self.decision)
            .field("end_reason", &self.end_reason)
            .field("aid", &self.aid)
            .field("oda", &self.oda)
            .field("oda_ok", &self.oda_ok)
            .field("oda_failure", &self.oda_failure)
            .field("tvr", &self.tvr)
            .field("tsi", &self.tsi)
            .field("cvm_results", &self.cvm_results)
            .field("signature_required", &self.signature_required)
            .field("pan_masked", &self.pan_masked)
            .field("data_record_len", &self.data_record.len())
            .field("advice_requested", &self.advice_requested)
            .field("script_results", &self.script_results)
            .field("trace", &self.trace)
            .finish()
    }
}
