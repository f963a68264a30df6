//! smartpos-qr: QR payment codes for a POS terminal.
//!
//! * [`mpm`] — EMVCo Merchant-Presented Mode (EMV QRCPS-MPM v1.1): generate and parse.
//! * [`cpm`] — EMVCo Consumer-Presented Mode (EMV QRCPS-CPM v1.0): decode and encode.
//! * [`wallet`] — WeChat Pay, Alipay, UnionPay and e-CNY payment codes scanned from a phone.
//! * [`image`] — the QR symbol as a module matrix, PNG bytes or terminal text.
//! * [`parse`] — one entry point for whatever the scanner read.
//!
//! A pure codec: no I/O, no clock, no randomness.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cpm;
pub mod crc;
mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod image;
pub mod mpm;
mod scanned;
pub mod wallet;

pub use error::{FieldId, QrError};
pub use scanned::{ScannedCode, looks_like_mpm, parse};
