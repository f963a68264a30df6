//! The app's [`CardReader`] as smartpos-emv's [`CardTransport`] (EMV Book 1 §9: the terminal
//! exchanges command and response APDUs; the kernel applies the T=0 rules itself).
//!
//! The adapter only moves bytes and bookkeeping: it checks the [`CancellationHandle`] before every
//! command, counts exchanges, and keeps the first [`SmartPosError`] the reader threw so the
//! binding call can raise exactly that error once the kernel has ended its flow (the kernel sees
//! a [`TransportError`] and ends the transaction the way EMV says it must).

use smartpos_emv::contactless::{Activation, Clock, ContactlessTransport};
use smartpos_emv::{Apdu, CardTransport, Response, TransportError};

use crate::error::SmartPosError;
use crate::session::{CancellationHandle, CardReader};

/// A borrowed reader seen by a kernel as a card link.
pub(crate) struct ReaderLink<'a> {
    reader: &'a dyn CardReader,
    cancel: &'a CancellationHandle,
    failure: Option<SmartPosError>,
    exchanges: u32,
}

impl<'a> ReaderLink<'a> {
    pub(crate) fn new(reader: &'a dyn CardReader, cancel: &'a CancellationHandle) -> Self {
        ReaderLink {
            reader,
            cancel,
            failure: None,
            exchanges: 0,
        }
    }

    /// Exchanges completed so far.
    pub(crate) fn exchanges(&self) -> u32 {
        self.exchanges
    }

    /// The error that stopped the flow, if the reader failed or the call was cancelled.
    pub(crate) fn take_failure(&mut self) -> Option<SmartPosError> {
        self.failure.take()
    }

    fn fail(&mut self, error: SmartPosError) -> TransportError {
        let reason = error.to_string();
        // Keep the first failure: later refusals are consequences of it.
        self.failure.get_or_insert(error);
        TransportError::Io(reason)
    }
}

impl CardTransport for ReaderLink<'_> {
    /// The app's reader does not report an ATR/ATS; the kernels do not use it.
    fn atr(&self) -> &[u8] {
        &[]
    }

    fn exchange(&mut self, command: &Apdu) -> Result<Response, TransportError> {
        if let Some(failure) = &self.failure {
            // After a failure the card link is gone for this call: never send again.
            return Err(TransportError::Io(failure.to_string()));
        }
        if self.cancel.is_cancelled() {
            let cancelled = SmartPosError::Cancelled {
                exchanges: self.exchanges,
                step: format!("before APDU {}", self.exchanges.saturating_add(1)),
            };
            return Err(self.fail(cancelled));
        }
        let bytes = command.encode()?;
        match self.reader.transceive(bytes) {
            Ok(raw) => {
                self.exchanges = self.exchanges.saturating_add(1);
                Response::from_bytes(&raw).ok_or(TransportError::MalformedResponse(raw.len()))
            }
            Err(error) => Err(self.fail(error)),
        }
    }
}

/// The app activated the card before handing over its reader (Android `IsoDep.connect`, a POS
/// vendor's contactless poll): one card in the field (EMV Book D §9 as the reader reports it).
impl ContactlessTransport for ReaderLink<'_> {
    fn activate(&mut self) -> Activation {
        Activation::Card
    }
}

/// Monotonic time for relay-resistance timing and torn-log ageing (EMV Contactless C-2 §5.3,
/// §4.3), read from the platform clock: the kernel itself has none (principle 1).
pub(crate) struct MonotonicClock {
    origin: std::time::Instant,
}

impl MonotonicClock {
    pub(crate) fn new() -> Self {
        MonotonicClock {
            origin: std::time::Instant::now(),
        }
    }
}

impl Clock for MonotonicClock {
    fn now_micros(&mut self) -> u64 {
        u64::try_from(self.origin.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    struct Scripted(Mutex<Vec<Result<Vec<u8>, SmartPosError>>>);

    impl CardReader for Scripted {
        fn transceive(&self, _apdu: Vec<u8>) -> Result<Vec<u8>, SmartPosError> {
            self.0
                .lock()
                .map_err(|_| SmartPosError::Transport {
                    reason: "poisoned".into(),
                })?
                .pop()
                .unwrap_or(Ok(vec![0x6D, 0x00]))
        }
    }

    fn select() -> Apdu {
        Apdu::select(b"2PAY.SYS.DDF01", false)
    }

    #[test]
    fn passes_bytes_and_counts_exchanges() {
        let reader = Scripted(Mutex::new(vec![Ok(vec![0x6F, 0x00, 0x90, 0x00])]));
        let cancel = CancellationHandle::default();
        let mut link = ReaderLink::new(&reader, &cancel);
        let r = link.exchange(&select()).unwrap();
        assert_eq!(r.sw(), 0x9000);
        assert_eq!(r.data, vec![0x6F, 0x00]);
        assert_eq!(link.exchanges(), 1);
        assert!(link.take_failure().is_none());
    }

    #[test]
    fn a_short_answer_is_malformed_not_a_panic() {
        let reader = Scripted(Mutex::new(vec![Ok(vec![0x90])]));
        let cancel = CancellationHandle::default();
        let mut link = ReaderLink::new(&reader, &cancel);
        assert_eq!(
            link.exchange(&select()),
            Err(TransportError::MalformedResponse(1))
        );
    }

    #[test]
    fn reader_error_is_kept_and_the_link_stays_closed() {
        let reader = Scripted(Mutex::new(vec![
            Ok(vec![0x90, 0x00]),
            Err(SmartPosError::Transport {
                reason: "tag lost".into(),
            }),
        ]));
        let cancel = CancellationHandle::default();
        let mut link = ReaderLink::new(&reader, &cancel);
        assert!(matches!(
            link.exchange(&select()),
            Err(TransportError::Io(_))
        ));
        // The queued 9000 is never requested: the link refuses after the failure.
        assert!(matches!(
            link.exchange(&select()),
            Err(TransportError::Io(_))
        ));
        assert_eq!(link.exchanges(), 0);
        assert_eq!(
            link.take_failure(),
            Some(SmartPosError::Transport {
                reason: "tag lost".into()
            })
        );
    }

    #[test]
    fn cancellation_is_seen_before_the_next_command() {
        let reader = Scripted(Mutex::new(vec![Ok(vec![0x90, 0x00]), Ok(vec![0x90, 0x00])]));
        let cancel = CancellationHandle::default();
        let mut link = ReaderLink::new(&reader, &cancel);
        assert!(link.exchange(&select()).is_ok());
        cancel.cancel();
        assert!(link.exchange(&select()).is_err());
        assert_eq!(
            link.take_failure(),
            Some(SmartPosError::Cancelled {
                exchanges: 1,
                step: "before APDU 2".into()
            })
        );
    }
}
