//! libsmartpos: the one shared library of smartpos for Android and the host JVM.
//!
//! This crate builds the cdylib `smartpos` (`libsmartpos.so`). It links smartpos-ffi, so the
//! UniFFI scaffolding (`uniffi_smartpos_ffi_fn_*`, `ffi_smartpos_ffi_*`, the metadata the bindgen
//! reads in library mode) is exported from this same library, and adds the raw JNI side:
//!
//! * [`JNI_OnLoad`](cache): caches the `JavaVM`, the `ApduTransceiver` class and its
//!   `transceive([B)[B` method ID, and the exception class, as global references; initialises
//!   `android_logger` on Android, a stderr `log` backend elsewhere (`SMARTPOS_LOG=debug`).
//! * The APDU fast path (ARCHITECTURE.md principle 8): Rust calls the Kotlin reader's
//!   `transceive(byte[]): byte[]` through the cached method ID, without JNA.
//! * [`transport::JniCardReader`]: the fast path as a `smartpos_ffi::CardReader`, usable from any
//!   thread (it attaches through the cached `JavaVM`). `NativeApdu.openReader` registers one with
//!   smartpos-ffi, and `EmvKernel.tapNative` / `startContactNative` run the smartpos-emv kernels
//!   over it: the same kernel call as over a UniFFI `CardReader`, with one JNI call per APDU.
//! * Natives of `io.smartpos.jni.NativeApdu` ([`natives`]).
//!
//! No panic crosses into the JVM: every `extern "system"` function runs its body under
//! `catch_unwind` and turns a panic into a `java.lang.RuntimeException`.
//!
//! Unsafe code is allowed here (ARCHITECTURE.md principle 4) and limited to the method call
//! through a cached ID, with its safety argument next to it.
#![deny(unsafe_op_in_unsafe_fn)]

/// Re-exported so the linker keeps smartpos-ffi, and with it every UniFFI symbol, in the cdylib.
pub use smartpos_ffi;

pub mod cache;
mod logging;
pub mod natives;
pub mod transport;

/// Name of the library for `System.loadLibrary` and JNA (`libsmartpos.so`).
pub const LIBRARY_NAME: &str = "smartpos";
