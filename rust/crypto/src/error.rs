//! The crate-wide error type (owned by the symmetric side; other modules may wrap it).

/// What went wrong in a cryptographic operation.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// An error reported by OpenSSL.
    #[error("openssl: {0}")]
    OpenSsl(#[from] openssl::error::ErrorStack),
}
