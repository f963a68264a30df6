//! smartpos-qr: QR payment codes for a POS terminal. A pure codec: no I/O, no clock, no
//! randomness.
//!
//! # API at a glance
//!
//! * [`parse`]`(&str) -> Result<`[`ScannedCode`]`, QrError>`: whatever the scanner read —
//!   `ScannedCode::Mpm(Box<MpmPayload>)`, `ScannedCode::Cpm(Box<CpmPayload>)` or
//!   `ScannedCode::Wallet(WalletCode)`.
//! * [`mpm`] — EMVCo Merchant-Presented Mode (EMV QRCPS-MPM v1.1): [`mpm::parse`] (CRC enforced),
//!   [`mpm::parse_unverified`] (CRC reported, for diagnostics), the typed
//!   [`mpm::MerchantPresentedQr`] with [`mpm::MerchantPresentedQr::builder`] and
//!   [`mpm::MerchantPresentedQr::to_payload`]; unknown and RFU IDs are kept.
//! * [`cpm`] — EMVCo Consumer-Presented Mode (EMV QRCPS-CPM v1.0): [`cpm::CpmPayload::parse`]
//!   (base64) / [`cpm::CpmPayload::from_bytes`], [`cpm::CpmPayload::to_base64`]; for the host:
//!   [`cpm::CpmPayload::pan`], [`cpm::CpmPayload::track2`] (PAN / expiry / service code),
//!   [`cpm::CpmPayload::aid`], [`cpm::CpmPayload::field55`] (ICC data as BER-TLV).
//! * [`wallet`] — [`wallet::WalletCode::parse`] recognises WeChat Pay, Alipay, UnionPay and e-CNY
//!   payment codes; [`wallet::WalletCode::as_str`] is what the acquirer needs.
//! * [`image`] — [`image::QrMatrix::encode`] (byte mode, EC level M by default, quiet zone),
//!   [`image::QrMatrix::to_png`], [`image::QrMatrix::to_terminal`], and a reader for camera
//!   frames: [`image::decode_greyscale`], [`image::decode_png`].
//! * [`QrError`] — one error enum; MPM variants carry the [`FieldId`] ("59", "62.05") at fault.
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
