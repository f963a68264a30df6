//! smartpos-host: the acquirer link of a smart-POS terminal.
//!
//! * [`link`]: TCP/TLS connection with timeouts and the 2-byte length framing ([`LinkConfig`],
//!   [`TlsConfig`], [`Link`]); [`CancelHook`], the caller's cancel flag polled while the link
//!   waits (a cancelled flow is [`HostError::Cancelled`] with whether the request had been sent).
//! * [`mac`]: field 64 (UnionPay ECB MAC, ANSI X9.19, SM4 CBC-MAC) over the UnionPay MAC block.
//! * [`flows`]: [`HostClient`] with sign-on/key download, echo, sale, void, refund, pre-auth and
//!   completion, balance inquiry, QR pay/query/revoke, advices, reversals and settlement with
//!   batch upload.
//! * [`request`]: the typed requests ([`SaleRequest`], [`VoidRequest`], [`CardData`],
//!   [`PinInput`], ...), [`ValueAddedData`] (order reference, member id, coupon in field 63),
//!   [`TerminalConfig`] and the believed [`HostResponse`].
//! * [`store`]: the [`ReversalStore`] trait the terminal's journal implements, and [`MemoryStore`].
//! * [`dialect`]: the processing codes, field 60 codes, field 48 totals and the QR sub-protocol.
//! * [`response`]: field 39 codes with their meanings ([`ResponseCode`]).
//! * Errors: [`LinkError`] (transport), [`HostError`] (protocol), [`StoreError`],
//!   [`ValueAddedError`] (a malformed field 63 `VAD`, host side).
//!
//! ```no_run
//! use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
//! use smartpos_crypto::keyhier::{HierarchyAlgorithm, KeyHierarchy};
//! use smartpos_host::{CardData, HostClient, LinkConfig, MemoryStore, PinInput, SaleRequest,
//!     TerminalConfig};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut keys = KeyHierarchy::new(HierarchyAlgorithm::Tdes);
//! keys.install_tmk(SecretKey::from_hex(KeyAlgorithm::Tdes2, "11111111111111112222222222222222")?)?;
//! let mut host = HostClient::new(
//!     LinkConfig::tcp("127.0.0.1:5000"),
//!     TerminalConfig::new("12345678", "123456789012345"),
//!     keys,
//!     MemoryStore::new(), // the terminal passes its journal-backed ReversalStore
//! );
//! host.sign_on()?; // working keys installed only if every KCV checks
//! let answer = host.sale(&SaleRequest {
//!     amount: 1_234,
//!     card: CardData::manual("4761739001010010"),
//!     pin: PinInput::None,
//! })?; // a pending reversal is sent first; declines are HostError::Declined
//! println!("approved, RRN {:?}", answer.rrn);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

pub mod dialect;
mod error;
pub mod flows;
pub mod link;
pub mod mac;
pub mod request;
pub mod response;
pub mod store;

pub use dialect::{BatchTotals, QrMerchantOrder};
pub use error::{HostError, LinkError, StoreError, ValueAddedError};
pub use flows::{
    BatchRecord, CardData, CompletionRequest, EntryMode, HostClient, HostResponse, PinInput,
    QrOrder, QrStatus, RefundRequest, SaleRequest, SettlementOutcome, TerminalConfig,
    ValueAddedData, VoidRequest,
};
pub use link::{CancelHook, Link, LinkConfig, TlsConfig};
pub use mac::MacAlgorithm;
pub use response::{Action, ResponseCode};
pub use store::{MemoryStore, PendingEntry, QueueKind, ReversalReason, ReversalStore};
