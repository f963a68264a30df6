//! smartpos-sim: what the tests and the demo run against instead of real cards and a real acquirer.
//!
//! Never a dependency of a production crate.
#![forbid(unsafe_code)]

pub mod card;
/// The acquirer/issuer host simulator (a real TCP/TLS server).
pub mod hostsim;
/// The test PKI of every virtual card, contact and contactless (seeded, deterministic).
pub mod pki;

/// The payment scheme of a virtual card (one type for contact and contactless).
pub use card::scheme::Scheme;

/// Virtual contactless cards and phones (kernels C-2, C-3, C-7) and their test PKI.
pub mod contactless;
