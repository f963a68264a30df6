//! smartpos-terminal: the one orchestrator. A `Terminal` takes a payment by whatever the customer
//! brings, journals every step, talks to the acquirer, and voids, refunds, reverses, settles and
//! reports. The kernels, the QR codec and the host link stay free of policy; policy lives here.
//!
//! Public API (for the CLI, the demo and the FFI):
//! * [`Terminal::open`] / [`Terminal::open_with`] (config dir, [`Devices`], key store, journal
//!   path, [`Authoriser`]); [`Terminal::sign_on`], [`Terminal::sale`],
//!   [`Terminal::pre_authorise`], [`Terminal::flush_queues`], [`Terminal::tamper_detected`],
//!   [`Terminal::load_master_key`]; operations: `void`, `refund` (a refund with no answer is
//!   pending and repeated by `flush_queues`), `settle` / `retry_settlement` (a batch whose
//!   settlement failed is settled again, same number, before the next one);
//! * result records: [`TransactionOutcome`], [`Status`], [`ValueAdded`], [`SignOnResult`],
//!   [`SettlementResult`];
//! * device traits in [`devices`], UI events in [`events`], cancellation [`CancelToken`],
//!   roles in [`roles`], risk rules in [`risk`], settings in [`config`];
//! * simulated devices in `sim_devices` behind the `sim` feature.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

// Presentation side (owned by the "terminal-ux" work).
pub mod operator;
pub mod prompts;
pub mod receipt;
pub mod report;

// Orchestration (owned by the "terminal-core" work).
pub mod cancel;
pub mod config;
#[doc(hidden)]
pub mod crashpoint;
pub mod devices;
pub mod error;
pub mod events;
pub mod journal_host;
mod operations;
mod qr;
pub mod records;
pub mod risk;
pub mod roles;
#[cfg(feature = "sim")]
pub mod sim_devices;
pub mod store;
mod terminal;

pub use cancel::CancelToken;
pub use config::{HostProfile, RiskConfig, Settings};
pub use devices::{Devices, KeyStore, SharedKeyStore, SoftKeyStore};
pub use error::{Result, TerminalError};
pub use events::{Event, EventSink, LedStatus, MessageId};
pub use operations::Reprint;
pub use records::{SettlementResult, SignOnResult, Status, TransactionOutcome, ValueAdded};
pub use risk::RiskRule;
pub use roles::{Action, AllowAll, AuthError, Authoriser, OperatorId, Role};
pub use terminal::{OpenOptions, OpenSummary, PaymentMethod, SaleRequest, Terminal};
