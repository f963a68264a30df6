//! smartpos-ffi: the UniFFI surface of smartpos (ARCHITECTURE.md principle 8: coarse bindings).
//!
//! Proc-macro interface, no UDL. The scaffolding is linked into `libsmartpos` by smartpos-jni,
//! the crate that builds the cdylib; Kotlin is generated in library mode from that cdylib with
//! the pinned `uniffi-bindgen` binary of this crate (feature `bindgen-cli`).
//!
//! Surface today:
//! * [`version`]
//! * [`decode_tlv`], [`decode_tlv_hex`], [`encode_tlv`] over smartpos-tlv
//! * [`CardReader`] (callback, device I/O), [`ApduSession`] (transmit, application selection,
//!   blocking and async), [`CancellationHandle`], [`SelectionListener`] (callback, UI events)
//! * [`SmartPosError`]: one exception class per variant in Kotlin
//!
//! The pure flow logic ([`selection`], [`apdu`]) is public so the raw-JNI fast path of
//! smartpos-jni runs exactly the same steps.

// UniFFI's generated scaffolding contains `unsafe extern "C"` functions; allowed only in ffi/ and
// jni/ (ARCHITECTURE.md principle 4). This crate's own code has no unsafe block.
#![deny(unsafe_op_in_unsafe_fn)]

uniffi::setup_scaffolding!("smartpos");

pub mod apdu;
mod error;
pub mod selection;
mod session;
mod tlv;

pub use error::SmartPosError;
pub use selection::{ApplicationCandidate, ApplicationSelection, SelectionEvent, run_selection};
pub use session::{ApduSession, CancellationHandle, CardReader, ResponseApdu, SelectionListener};
pub use tlv::{TlvNode, decode_tlv, decode_tlv_hex, encode_tlv};

/// The smartpos core version (the workspace version of this crate).
#[uniffi::export]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
