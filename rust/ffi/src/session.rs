//! Device I/O through a foreign card reader: the [`CardReader`] callback, the [`ApduSession`]
//! object for single raw exchanges (diagnostics), and [`CancellationHandle`].
//!
//! Principle 8 of ARCHITECTURE.md: callbacks only for device I/O. One callback per APDU; the
//! flows (selection, the kernels) are smartpos-emv's, run by [`crate::EmvKernel`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::apdu::Response;
use crate::error::SmartPosError;

/// Longest command APDU accepted: extended Lc and Le (ISO/IEC 7816-4 §5.1): 4 + 3 + 65535 + 3.
pub const MAX_COMMAND_LEN: usize = 4 + 3 + 65_535 + 3;

/// The card reader the app provides (Android `IsoDep`, a POS vendor's contact reader, a simulated
/// card). `transceive` sends one command APDU and returns the raw response, data + SW1 SW2.
///
/// Throw `SmartPosException.Transport` (or any exception: it arrives as `Transport` too) when
/// the card is lost or the reader fails.
#[uniffi::export(callback_interface)]
pub trait CardReader: Send + Sync {
    /// Exchange one APDU (ISO/IEC 7816-4 §5.1 command, §5.6 response).
    fn transceive(&self, apdu: Vec<u8>) -> Result<Vec<u8>, SmartPosError>;
}

/// A response APDU split into data and status word (ISO/IEC 7816-4 §5.6).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ResponseApdu {
    /// The data field.
    pub data: Vec<u8>,
    /// SW1 SW2.
    pub sw: u16,
}

/// Explicit cancellation for long-running calls. Cancel from any thread; a kernel run stops
/// before its next APDU, a terminal operation at its next check (card wait, card link, host
/// link), and the call fails with [`SmartPosError::Cancelled`]. A handle stays cancelled.
#[derive(Debug, Default, uniffi::Object)]
pub struct CancellationHandle {
    cancelled: AtomicBool,
    /// The terminal's tokens of the operations this handle was passed to.
    linked: std::sync::Mutex<Vec<smartpos_terminal::CancelToken>>,
}

impl CancellationHandle {
    /// Make `token` follow this handle (cancelled now if the handle already is).
    pub(crate) fn link(&self, token: smartpos_terminal::CancelToken) {
        let mut linked = self.linked.lock().unwrap_or_else(|p| p.into_inner());
        if self.is_cancelled() {
            token.cancel();
        }
        linked.push(token);
    }
}

#[uniffi::export]
impl CancellationHandle {
    /// A fresh, not cancelled handle.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(CancellationHandle::default())
    }

    /// Request cancellation.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        let linked = self.linked.lock().unwrap_or_else(|p| p.into_inner());
        for token in linked.iter() {
            token.cancel();
        }
    }

    /// Whether cancellation was requested.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }
}

/// Raw exchanges over one card reader (diagnostics, reader checks). One exchange at a time: a
/// second call while one runs fails with `InvalidInput` rather than interleaving commands.
#[derive(uniffi::Object)]
pub struct ApduSession {
    reader: Box<dyn CardReader>,
    busy: AtomicBool,
    exchanges: AtomicU64,
}

/// Marks the session busy for as long as it lives.
struct Busy<'a>(&'a AtomicBool);

impl<'a> Busy<'a> {
    fn acquire(flag: &'a AtomicBool) -> Result<Self, SmartPosError> {
        flag.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| Busy(flag))
            .map_err(|_| SmartPosError::InvalidInput {
                field: "session".into(),
                reason: "another APDU flow is running on this card reader".into(),
            })
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl ApduSession {
    fn transceive(&self, command: &[u8]) -> Result<Vec<u8>, SmartPosError> {
        let response = self.reader.transceive(command.to_vec())?;
        self.exchanges.fetch_add(1, Ordering::Relaxed);
        Ok(response)
    }

    fn build(reader: Box<dyn CardReader>) -> Self {
        ApduSession {
            reader,
            busy: AtomicBool::new(false),
            exchanges: AtomicU64::new(0),
        }
    }
}

#[uniffi::export]
impl ApduSession {
    /// A session over `reader`.
    #[uniffi::constructor]
    pub fn new(reader: Box<dyn CardReader>) -> Arc<Self> {
        Arc::new(ApduSession::build(reader))
    }

    /// Send one command APDU and split the answer. The command must have at least the four
    /// header bytes (ISO/IEC 7816-4 §5.1); the answer must carry SW1 SW2.
    pub fn transmit(&self, apdu: Vec<u8>) -> Result<ResponseApdu, SmartPosError> {
        if apdu.len() < 4 || apdu.len() > MAX_COMMAND_LEN {
            return Err(SmartPosError::InvalidInput {
                field: "apdu".into(),
                reason: format!(
                    "a command APDU has 4 to {MAX_COMMAND_LEN} bytes, got {}",
                    apdu.len()
                ),
            });
        }
        let _busy = Busy::acquire(&self.busy)?;
        let raw = self.transceive(&apdu)?;
        let response = Response::parse(&raw)?;
        Ok(ResponseApdu {
            data: response.data.to_vec(),
            sw: response.sw,
        })
    }

    /// APDUs exchanged through this session so far.
    pub fn exchange_count(&self) -> u64 {
        self.exchanges.load(Ordering::Relaxed)
    }
}
