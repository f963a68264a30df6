//! Cancellation: a token the app holds and the terminal checks between steps.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A cancel token shared between the caller (who cancels) and the running transaction (which
/// checks it between steps and hands it to the devices so a pending wait ends).
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A fresh, not cancelled token.
    pub fn new() -> CancelToken {
        CancelToken::default()
    }
    /// Ask the transaction to stop at its next step.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    /// Whether cancel was asked.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
