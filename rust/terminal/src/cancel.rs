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
    /// The same flag as a smartpos-host cancel hook: give it to
    /// `HostClient::set_cancel(Some(token.host_hook()))` so a cancel also ends a pending host
    /// wait (connect, TLS handshake, response) with `HostError::Cancelled { sent }`.
    pub fn host_hook(&self) -> smartpos_host::CancelHook {
        smartpos_host::CancelHook::from_flag(Arc::clone(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::CancelToken;

    #[test]
    fn the_host_hook_shares_the_token_flag() {
        let token = CancelToken::new();
        let hook = token.host_hook();
        assert!(!hook.is_cancelled());
        token.cancel();
        assert!(hook.is_cancelled());
        // A clone of the token (the app's copy) cancels the same hook.
        let other = CancelToken::new();
        let hook = other.host_hook();
        other.clone().cancel();
        assert!(hook.is_cancelled());
    }
}
