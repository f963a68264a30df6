//! One error enum per layer: [`LinkError`] for framing, sockets and TLS; [`HostError`] for the
//! ISO 8583 protocol on top (MAC, correlation, response codes); [`StoreError`] for the reversal
//! and advice store the terminal provides.

use crate::response::ResponseCode;
use smartpos_iso8583::Mti;

/// Transport failures: TCP, TLS and the 2-byte length framing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// The host address could not be resolved or parsed.
    #[error("host address {address:?}: {reason}")]
    Address { address: String, reason: String },
    /// TCP connect failed or timed out.
    #[error("connect to {address}: {source}")]
    Connect {
        address: String,
        source: std::io::Error,
    },
    /// No (complete) answer within the read timeout.
    #[error("timed out waiting for the host ({during})")]
    Timeout { during: &'static str },
    /// The host closed the connection.
    #[error("connection closed by the host ({during})")]
    Closed { during: &'static str },
    /// Any other socket error.
    #[error("socket error while {during}: {source}")]
    Io {
        during: &'static str,
        source: std::io::Error,
    },
    /// A frame whose 2-byte length prefix is zero or beyond what the link accepts.
    #[error("frame length {length} is outside 1..={max}")]
    FrameLength { length: usize, max: usize },
    /// The TLS configuration could not be used (bad CA/cert/key PEM, ...).
    #[error("TLS configuration: {0}")]
    TlsConfig(String),
    /// The TLS handshake failed (untrusted certificate, wrong host name, pin mismatch, ...).
    #[error("TLS handshake with {server_name}: {reason}")]
    TlsHandshake { server_name: String, reason: String },
    /// No connection is open.
    #[error("link is not connected")]
    NotConnected,
    /// The caller's [`crate::CancelHook`] was set while the link waited.
    #[error("cancelled while {during}")]
    Cancelled { during: &'static str },
}

impl LinkError {
    /// True when the request may have reached the host but no answer came back (timeout or a
    /// connection lost after sending): the case that calls for a reversal.
    pub fn is_timeout(&self) -> bool {
        matches!(self, LinkError::Timeout { .. })
    }
}

/// Why field 63 value-added data (`VAD` sub-elements, see [`crate::dialect`]) is malformed: what a
/// host answers with 30 (format error). Offsets count from the start of field 63.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueAddedError {
    /// The field does not start with `VAD`.
    #[error("field 63 does not start with the value-added marker VAD")]
    NoMarker,
    /// `VAD` and nothing after it.
    #[error("field 63 value-added data has no sub-element after VAD")]
    Empty,
    /// A sub-element runs past the end of the field.
    #[error("field 63 value-added sub-element at offset {offset}: {what} truncated")]
    Truncated { offset: usize, what: &'static str },
    /// The 2-character length is not two digits, or is 00.
    #[error("field 63 value-added sub-element at offset {offset}: length {length:?} is not 01..99")]
    BadLength { offset: usize, length: String },
    /// A tag other than ORD, MBR, CPN.
    #[error("field 63 value-added sub-element at offset {offset}: unknown tag {tag:?}")]
    UnknownTag { offset: usize, tag: String },
    /// A tag present twice.
    #[error("field 63 value-added tag {tag} appears twice")]
    Duplicate { tag: &'static str },
    /// A value of the wrong length or characters.
    #[error("field 63 value-added {tag}: {reason}")]
    BadValue { tag: &'static str, reason: String },
}

/// Failures of the reversal/advice store (implemented by the terminal's journal).
#[derive(Debug, thiserror::Error)]
#[error("reversal/advice store: {0}")]
pub struct StoreError(pub String);

/// Protocol failures on the acquirer link.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// The transport failed.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// A request could not be packed (a value does not fit the profile).
    #[error("request could not be built: {0}")]
    Build(smartpos_iso8583::Error),
    /// The response bytes are not a valid message of the profile.
    #[error("garbled response: {0}")]
    Garbled(smartpos_iso8583::Error),
    /// The response MAC (field 64) is missing or wrong: the response is not believed.
    #[error("response MAC {0}")]
    BadMac(&'static str),
    /// The response does not belong to the request in flight.
    #[error("response does not match the request: {field} is {received:?}, expected {expected:?}")]
    Mismatch {
        field: &'static str,
        expected: String,
        received: String,
    },
    /// The response has an MTI that is not the response of the request.
    #[error("unexpected MTI {received} in answer to {request}")]
    UnexpectedMti { request: Mti, received: Mti },
    /// The response lacks a field the flow needs.
    #[error("response lacks field {field} ({what})")]
    MissingField { field: u8, what: &'static str },
    /// A response field the flow needs is present but its value is unusable: too long, wrong
    /// characters, or not the layout the dialect gives it (e.g. a merchant-QR payload in 62
    /// that is not framed as an EMVCo MPM). The answer is not used.
    #[error("response field {field} is unusable: {reason}")]
    InvalidField { field: u8, reason: String },
    /// The host declined (any response code other than approved).
    #[error("declined by the host: {code} ({meaning})", meaning = code.meaning())]
    Declined {
        code: ResponseCode,
        /// The whole (MAC-checked) response, e.g. field 55 for the second GENERATE AC.
        response: Box<crate::request::HostResponse>,
    },
    /// A key operation failed (no working key, PIN block, MAC computation).
    #[error("key operation: {0}")]
    Crypto(String),
    /// Sign-on key download failed (bad KCV, bad layout): no key was installed.
    #[error("working key download rejected: {0}")]
    KeyDownload(#[from] smartpos_crypto::keyhier::KeyHierarchyError),
    /// No working keys yet: sign on first.
    #[error("not signed on: no {0} key installed")]
    NotSignedOn(&'static str),
    /// The caller passed something the flow cannot use.
    #[error("invalid request: {field}: {reason}")]
    InvalidRequest { field: &'static str, reason: String },
    /// The reversal/advice store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The caller cancelled (its [`crate::CancelHook`] was set) before the flow had an answer.
    /// `sent: true`: the request had been written to the host, so its outcome there is unknown;
    /// an authorisation is treated like a timeout ([`HostError::needs_reversal`] is true and its
    /// reversal stays queued). `sent: false`: nothing left the terminal; there is nothing to undo.
    #[error("cancelled by the caller ({})", if *sent {
        "the request had been sent: outcome unknown, reverse"
    } else {
        "nothing was sent"
    })]
    Cancelled { sent: bool },
    /// Some pending reversals or advices could not be delivered; they stay queued.
    #[error("{remaining} pending {kind}(s) not acknowledged: {last_error}")]
    QueueNotFlushed {
        kind: &'static str,
        remaining: usize,
        last_error: String,
    },
}

impl HostError {
    /// True when an authorisation that failed this way must be reversed: no confirmed answer
    /// (timeout, lost connection, bad MAC, garbled or mismatched response).
    pub fn needs_reversal(&self) -> bool {
        matches!(
            self,
            HostError::Link(_)
                | HostError::Garbled(_)
                | HostError::BadMac(_)
                | HostError::Mismatch { .. }
                | HostError::UnexpectedMti { .. }
                | HostError::MissingField { .. }
                | HostError::InvalidField { .. }
                | HostError::Cancelled { sent: true }
        )
    }

    /// `Some(sent)` when the caller cancelled the flow (see [`HostError::Cancelled`]).
    pub fn cancelled(&self) -> Option<bool> {
        match self {
            HostError::Cancelled { sent } => Some(*sent),
            _ => None,
        }
    }

    /// The response code of a decline, if this is one.
    pub fn response_code(&self) -> Option<ResponseCode> {
        match self {
            HostError::Declined { code, .. } => Some(*code),
            _ => None,
        }
    }
}

pub(crate) fn crypto_err(e: impl std::fmt::Display) -> HostError {
    HostError::Crypto(e.to_string())
}
