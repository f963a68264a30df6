//! smartpos-terminal: the one orchestrator. A `Terminal` takes a payment by whatever the customer
//! brings, journals every step, talks to the acquirer, and voids, refunds, reverses, settles and
//! reports. The kernels, the QR codec and the host link stay free of policy; policy lives here.
#![forbid(unsafe_code)]

// Presentation side (owned by the "terminal-ux" work).
pub mod operator;
pub mod prompts;
pub mod receipt;
pub mod report;
