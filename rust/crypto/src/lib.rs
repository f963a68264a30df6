//! smartpos-crypto: payment cryptography on OpenSSL.
//!
//! Symmetric side (keys, ciphers, KCVs, MACs, PIN blocks, DUKPT) and asymmetric / scheme side
//! (hashes, EMV RSA recovery, SM2, TR-31 key blocks, the terminal key hierarchy, issuer-side EMV
//! cryptograms). Keys live in zeroizing types whose `Debug` never shows the value.
#![forbid(unsafe_code)]

// Symmetric side.
pub mod cipher;
pub mod dukpt;
pub mod error;
pub mod kcv;
pub mod key;
pub mod mac;
pub mod pin;

// Asymmetric and scheme side.
pub mod emv;
pub mod hash;
pub mod keyhier;
pub mod rsa;
pub mod sm2;
pub mod tr31;

pub use error::CryptoError;
