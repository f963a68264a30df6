//! smartpos-emv: EMV level-2 kernels as pure state machines (EMV 4.4 Books 1-4).
//!
//! # Design: a resumable kernel over injected I/O
//!
//! The kernel owns no socket, file, clock or random source (architecture principle 1):
//!
//! * the card is a [`transport::CardTransport`] (`atr()`, `exchange(&Apdu)`); [`transport::Channel`]
//!   adds the T=0 rules (61xx GET RESPONSE, 6Cxx re-send) and a masked [`trace::Trace`];
//!   [`transport::ScriptedCard`] replays a JSON script of (command pattern, response) pairs;
//! * the date, time, unpredictable number (9F37) and the random-selection draw come in
//!   [`kernel::TransactionParams`];
//! * the cardholder, the PIN pad and the terminal's journal/exception file are callback traits
//!   ([`selection::CardholderInterface`], [`cvm::PinPad`], [`kernel::TerminalServices`]).
//!
//! Card exchanges are synchronous calls on the transport (the card is local and answers in
//! milliseconds); the one slow, remote step — the host — is a suspension point:
//! [`kernel::ContactKernel::start`] returns a [`kernel::Step`], either `Done(TransactionResult)`
//! or `Online(OnlineRequest)`. An [`kernel::OnlineRequest`] is an owned value (`Send`) holding
//! the whole suspended transaction and the field-55 data record; the terminal awaits its host
//! however it likes and resumes with [`kernel::OnlineRequest::complete`] (issuer
//! authentication, scripts 71/72, second GENERATE AC) or
//! [`kernel::OnlineRequest::unable_to_go_online`]. With the same script and parameters a
//! transaction replays bit for bit.
//!
//! ```text
//! selection (Book 1 §12) → GPO (B3 §10.1) → READ RECORD (§10.2) → ODA (Book 2, §10.3)
//!   → processing restrictions (§10.4) → CVM (§10.5) → terminal risk management (§10.6)
//!   → terminal action analysis + GENERATE AC 1 (§10.7) → card action analysis (§10.8)
//!   → [Online: host] → issuer authentication, scripts, GENERATE AC 2 (§10.9-10.11)
//! ```
//!
//! The transport, selection, ODA and magstripe modules are independent of the contact flow so
//! the contactless entry point and kernels can reuse them.
#![forbid(unsafe_code)]

pub mod action;
pub mod apdu;
pub mod completion;
pub mod config;
pub mod contactless;
pub mod cvm;
pub mod data;
mod dol;
pub mod gpo;
pub mod kernel;
pub mod magstripe;
pub mod oda;
pub mod outcome;
#[cfg(feature = "pcsc")]
pub mod pcsc;
pub mod restrictions;
pub mod risk;
pub mod selection;
pub mod trace;
pub mod transport;
pub mod tvr;

pub use apdu::{Apdu, Response, StatusWord};
pub use config::{AidConfig, CaKeyStore, ConfigError, TerminalConfig, TerminalData};
pub use cvm::{
    FixedPinPad, NoPinPad, OfflinePinPrompt, OnlinePinEntry, PinEntry, PinPad, PlaintextPinBlock,
};
pub use kernel::{
    ContactKernel, HostResponse, Interaction, NoServices, OnlineRequest, Step, TerminalServices,
    TransactionParams, TransactionType,
};
pub use outcome::{Decision, EndReason, OdaMethod, TransactionResult};
pub use selection::{Candidate, CardholderInterface, Choice};
pub use transport::{CardScript, CardTransport, Channel, ScriptedCard, TransportError};
pub use tvr::{Tsi, TsiBit, Tvr, TvrBit};
