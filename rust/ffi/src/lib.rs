//! smartpos-ffi: the UniFFI surface of smartpos (ARCHITECTURE.md principle 8: coarse bindings).
//!
//! Proc-macro interface, no UDL. The scaffolding is linked into `libsmartpos` by smartpos-jni,
//! the crate that builds the cdylib; Kotlin is generated in library mode from that cdylib with
//! the pinned `uniffi-bindgen` binary of this crate (feature `bindgen-cli`).
//!
//! Surface today:
//! * [`version`]
//! * [`decode_tlv`], [`decode_tlv_hex`], [`encode_tlv`] over smartpos-tlv
//! * [`CardReader`] and [`PinPad`] (callbacks, device I/O), [`CancellationHandle`],
//!   [`ApduSession`] (single raw exchanges)
//! * [`EmvKernel`]: the kernels of smartpos-emv over the app's reader: a contactless
//!   [`EmvKernel::tap`], a contact [`EmvKernel::start_contact`] → [`ContactTransaction`]
//!   (complete with the host's answer), each also over a JNI-registered reader ([`native`])
//! * [`PosTerminal`]: smartpos-terminal's `Terminal` (sale by card, wallet code or merchant QR,
//!   pre-authorisation and completion, void, refund, balance, settlement, receipts and reports,
//!   tamper, key loading) over device callbacks (reader, PIN pad, printer, QR scanner and
//!   display, indicators, events) run on one worker thread per terminal; its keys in the app's [`KeyStoreCallback`] or
//!   the software store, supervisor actions through [`SupervisorCallback`] checked against
//!   [`PosOperators`]
//! * [`SmartPosError`]: one exception class per variant in Kotlin
//! * feature `sim` (tests only): [`sim::SimulatedCard`], [`sim::simulated_emv_kernel`],
//!   [`sim::HostSimulator`] (wallet payments of merchant QRs, withheld answers),
//!   [`sim::write_simulated_config`], [`sim::CallbackWorker`] (callback cost from a Rust thread)
//!
//! Application selection, the kernels and every EMV decision are smartpos-emv's; this crate
//! converts types only.

// UniFFI's generated scaffolding contains `unsafe extern "C"` functions; allowed only in ffi/ and
// jni/ (ARCHITECTURE.md principle 4). This crate's own code has no unsafe block.
#![deny(unsafe_op_in_unsafe_fn)]

uniffi::setup_scaffolding!("smartpos");

pub mod apdu;
mod error;
mod kernel;
mod keystore;
pub mod native;
mod operators;
mod pos;
mod receipts;
mod session;
#[cfg(feature = "sim")]
pub mod sim;
mod tlv;
mod transport;

pub use error::SmartPosError;
pub use kernel::{
    ContactTransaction, EmvInterface, EmvKernel, EmvOutcome, EmvResult, EmvTransactionRequest,
    EmvTransactionType, HostAuthorisation, OfflinePinEntry, OnlinePinEntry, PinPad,
};
pub use keystore::{
    KeyStoreCallback, PosJournalKeys, PosKeyAlgorithm, PosSecretKey, PosWorkingKey,
    PosWorkingKeyType,
};
pub use operators::{
    PosAction, PosCredentials, PosOperator, PosOperatorPolicy, PosOperators, PosRole,
    SupervisorCallback,
};
pub use pos::{
    CardPresentation, PosCardReader, PosEvent, PosIndicators, PosKeys, PosOnlinePin,
    PosPaymentMethod, PosPinPad, PosPrinter, PosQrDisplay, PosQrScanner, PosSaleRequest,
    PosSettlement, PosSignOn, PosStatus, PosTerminal, PosTransaction, TransactionEvents,
};
pub use receipts::{
    PosLanguage, PosReceipt, PosReceiptCopy, PosReceiptData, PosReportLine, PosSettlementReport,
    PosTotalsReport,
};
pub use session::{ApduSession, CancellationHandle, CardReader, ResponseApdu};
pub use tlv::{TlvNode, decode_tlv, decode_tlv_hex, encode_tlv};

/// The smartpos core version (the workspace version of this crate).
#[uniffi::export]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
