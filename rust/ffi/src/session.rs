//! Device I/O through a foreign card reader: the [`CardReader`] callback, the [`ApduSession`]
//! object that runs APDU flows over it, and [`CancellationHandle`] for the async variant.
//!
//! Principle 8 of ARCHITECTURE.md: callbacks only for device I/O. One callback per APDU; the flow
//! logic ([`crate::selection`]) stays in Rust.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};

use crate::apdu::Response;
use crate::error::SmartPosError;
use crate::selection::{ApplicationSelection, SelectionEvent, SelectionFlow, Step};

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

/// Receives what a selection flow decides, as it decides it (for the UI). Called on the thread
/// running the flow; keep it quick. An error it returns is logged and otherwise ignored: a UI
/// failure never stops a card flow.
#[uniffi::export(callback_interface)]
pub trait SelectionListener: Send + Sync {
    /// One event of the flow.
    fn on_selection_event(&self, event: SelectionEvent) -> Result<(), SmartPosError>;
}

/// A response APDU split into data and status word (ISO/IEC 7816-4 §5.6).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ResponseApdu {
    /// The data field.
    pub data: Vec<u8>,
    /// SW1 SW2.
    pub sw: u16,
}

/// Explicit cancellation for long-running calls. Cancel from any thread; the operation stops
/// before its next APDU and fails with [`SmartPosError::Cancelled`]. A handle stays cancelled.
#[derive(Debug, Default, uniffi::Object)]
pub struct CancellationHandle {
    cancelled: AtomicBool,
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
    }

    /// Whether cancellation was requested.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }
}

/// APDU flows over one card reader. One flow at a time: a second call while one runs fails
/// with `InvalidInput` rather than interleaving commands to the card.
#[derive(uniffi::Object)]
pub struct ApduSession {
    reader: Box<dyn CardReader>,
    listener: Option<Box<dyn SelectionListener>>,
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

    /// Feed one response to the flow and hand its events to the listener, also when the step
    /// fails (the rejections before a `NoApplication` are worth showing).
    fn advance(&self, flow: &mut SelectionFlow, response: &[u8]) -> Result<Step, SmartPosError> {
        let step = flow.on_response(response);
        let events = flow.take_events();
        if let Some(listener) = &self.listener {
            for event in events {
                if let Err(error) = listener.on_selection_event(event) {
                    log::warn!("selection listener failed: {error}");
                }
            }
        }
        step
    }

    fn build(reader: Box<dyn CardReader>, listener: Option<Box<dyn SelectionListener>>) -> Self {
        ApduSession {
            reader,
            listener,
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
        Arc::new(ApduSession::build(reader, None))
    }

    /// A session over `reader` that reports selection events to `listener`.
    #[uniffi::constructor]
    pub fn with_listener(
        reader: Box<dyn CardReader>,
        listener: Box<dyn SelectionListener>,
    ) -> Arc<Self> {
        Arc::new(ApduSession::build(reader, Some(listener)))
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

    /// SELECT PPSE, then SELECT the highest-priority AID it lists, falling back to the next
    /// candidate when the card refuses one (EMV Book B §3.3, Book 1 §12.4). Blocking.
    pub fn select_application(&self) -> Result<ApplicationSelection, SmartPosError> {
        let _busy = Busy::acquire(&self.busy)?;
        let (mut flow, mut command) = SelectionFlow::start();
        loop {
            let response = self.transceive(&command)?;
            match self.advance(&mut flow, &response)? {
                Step::Transmit(next) => command = next,
                Step::Selected(selection) => return Ok(selection),
            }
        }
    }

    /// The same flow as a suspend function. `cancel` is checked before every APDU, and the
    /// future yields between APDUs, so a cancelled Kotlin coroutine (which drops the future) or a
    /// cancelled handle stops the flow at the next step.
    pub async fn select_application_async(
        &self,
        cancel: Arc<CancellationHandle>,
    ) -> Result<ApplicationSelection, SmartPosError> {
        let _busy = Busy::acquire(&self.busy)?;
        let (mut flow, mut command) = SelectionFlow::start();
        loop {
            if cancel.is_cancelled() {
                log::debug!("selection cancelled after {} exchanges", flow.exchanges());
                return Err(SmartPosError::Cancelled {
                    exchanges: flow.exchanges(),
                });
            }
            let response = self.transceive(&command)?;
            match self.advance(&mut flow, &response)? {
                Step::Transmit(next) => command = next,
                Step::Selected(selection) => return Ok(selection),
            }
            YieldNow::default().await;
        }
    }

    /// APDUs exchanged through this session so far.
    pub fn exchange_count(&self) -> u64 {
        self.exchanges.load(Ordering::Relaxed)
    }
}

/// Returns `Pending` once (waking itself), so the caller's executor regains control.
#[derive(Default)]
struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            Poll::Ready(())
        } else {
            self.yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}
