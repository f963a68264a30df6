//! Simulated devices for tests and the demo (feature `sim`): a card reader fed with a script of
//! presentations (virtual cards, swipes, failed taps, collisions), a PIN pad that enciphers a
//! configured PIN under the key store's PIN key (ISO 9564-1 format 0), a printer, scanner and
//! display that record what they got, and an event sink that keeps every event.

use crate::cancel::CancelToken;
use crate::devices::{
    Beep, CardReader, Confirmation, Confirmer, DeviceError, Devices, EncryptedPin, Indicators,
    Interfaces, PinPad, PinPadError, Presented, PrintJob, Printer, QrDisplay, QrScanner,
    ReaderError, SharedKeyStore,
};
use crate::events::{Event, EventSink, LedStatus};
use smartpos_crypto::keyhier::WorkingKeyType;
use smartpos_crypto::pin::{self, Pin, PinBlockFormat};
use smartpos_emv::cvm::PlaintextPinBlock;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use zeroize::Zeroizing;

/// One scripted reader event.
pub enum SimPresentation {
    /// A card (chip or NFC transport) — `contactless` picks the interface.
    Card {
        /// The card.
        card: crate::devices::CardChannel,
        /// Tapped rather than inserted.
        contactless: bool,
    },
    /// A contactless card or phone on a reader that reports activation (e.g.
    /// `smartpos_sim::contactless::VirtualCard`): goes through the contactless Entry Point.
    Tap(crate::devices::ContactlessChannel),
    /// A swipe with this track 2.
    Swipe(String),
    /// A tap that could not be read.
    FailedRead,
    /// Two cards in the field.
    Collision,
    /// Nothing until the timeout.
    Timeout,
}

/// Scripted card reader. When the script is empty, `detect` times out.
#[derive(Clone, Default)]
pub struct SimCardReader {
    script: Arc<Mutex<VecDeque<SimPresentation>>>,
    opened: Arc<Mutex<Vec<Interfaces>>>,
}

impl SimCardReader {
    /// Empty.
    pub fn new() -> SimCardReader {
        SimCardReader::default()
    }
    /// Queue a presentation.
    pub fn push(&self, p: SimPresentation) {
        self.script
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(p);
    }
    /// The interfaces of every `detect` call so far.
    pub fn opened(&self) -> Vec<Interfaces> {
        self.opened
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl CardReader for SimCardReader {
    fn detect(
        &mut self,
        interfaces: Interfaces,
        _timeout: Duration,
        cancel: &CancelToken,
    ) -> Result<Presented, ReaderError> {
        self.opened
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(interfaces);
        if cancel.is_cancelled() {
            return Err(ReaderError::Cancelled);
        }
        let next = self
            .script
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front();
        match next {
            None | Some(SimPresentation::Timeout) => Err(ReaderError::Timeout),
            Some(SimPresentation::FailedRead) => {
                Err(ReaderError::ReadFailed("tap too short".into()))
            }
            Some(SimPresentation::Collision) => Ok(Presented::Collision),
            Some(SimPresentation::Tap(link)) => Ok(Presented::ContactlessField(link)),
            Some(SimPresentation::Swipe(t)) => Ok(Presented::Swipe(crate::devices::SwipedCard {
                track2: Zeroizing::new(t),
            })),
            Some(SimPresentation::Card { card, contactless }) => Ok(if contactless {
                Presented::Contactless(card)
            } else {
                Presented::Chip(card)
            }),
        }
    }
    fn wait_for_removal(&mut self, _timeout: Duration) -> Result<(), ReaderError> {
        Ok(())
    }
}

/// PIN pad with a fixed PIN: online PIN blocks enciphered (ISO 9564-1 format 0) under the key
/// store's PIN working key, exactly as a secure PIN pad would.
pub struct SimPinPad {
    pin: Option<Zeroizing<String>>,
    keys: SharedKeyStore,
}

impl SimPinPad {
    /// `pin` = `None` bypasses.
    pub fn new(pin: Option<&str>, keys: SharedKeyStore) -> SimPinPad {
        SimPinPad {
            pin: pin.map(|p| Zeroizing::new(p.to_string())),
            keys,
        }
    }
}

impl PinPad for SimPinPad {
    fn online_pin(&mut self, pan: &str, _amount: u64) -> Result<EncryptedPin, PinPadError> {
        let digits = self.pin.as_ref().ok_or(PinPadError::Bypassed)?;
        let tpk = self
            .keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .working_key(WorkingKeyType::Pin)
            .ok_or_else(|| PinPadError::Failure("no PIN key".into()))?;
        let pin = Pin::new(digits).map_err(|e| PinPadError::Failure(e.to_string()))?;
        let block = pin::encrypt(
            &tpk,
            PinBlockFormat::Iso0,
            &pin,
            Some(pan),
            &mut pin::openssl_random,
        )
        .map_err(|e| PinPadError::Failure(e.to_string()))?;
        let block: [u8; 8] = block
            .try_into()
            .map_err(|_| PinPadError::Failure("PIN block is not 8 bytes".into()))?;
        Ok(EncryptedPin { block, ksn: None })
    }
    fn offline_pin(&mut self, _tries_left: Option<u8>) -> Result<PlaintextPinBlock, PinPadError> {
        let digits = self.pin.as_ref().ok_or(PinPadError::Bypassed)?;
        PlaintextPinBlock::from_digits(digits).ok_or_else(|| PinPadError::Failure("bad PIN".into()))
    }
}

/// Records printed jobs.
#[derive(Clone, Default)]
pub struct SimPrinter(pub Arc<Mutex<Vec<PrintJob>>>);
impl Printer for SimPrinter {
    fn print(&mut self, job: &PrintJob) -> Result<(), DeviceError> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(job.clone());
        Ok(())
    }
}

/// Returns queued codes.
#[derive(Clone, Default)]
pub struct SimQrScanner(pub Arc<Mutex<VecDeque<String>>>);
impl QrScanner for SimQrScanner {
    fn scan(&mut self, _timeout: Duration, cancel: &CancelToken) -> Result<String, DeviceError> {
        if cancel.is_cancelled() {
            return Err(DeviceError::Cancelled);
        }
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front()
            .ok_or(DeviceError::Timeout)
    }
}

/// Records what was shown.
#[derive(Clone, Default)]
pub struct SimQrDisplay(pub Arc<Mutex<Vec<Option<String>>>>);
impl QrDisplay for SimQrDisplay {
    fn show(&mut self, payload: &str) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Some(payload.to_string()));
    }
    fn clear(&mut self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(None);
    }
}

/// Records beeps and LED changes.
#[derive(Clone, Default)]
pub struct SimIndicators {
    /// Beeps.
    pub beeps: Arc<Mutex<Vec<Beep>>>,
    /// LEDs.
    pub leds: Arc<Mutex<Vec<LedStatus>>>,
}
impl Indicators for SimIndicators {
    fn beep(&mut self, beep: Beep) {
        self.beeps
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(beep);
    }
    fn leds(&mut self, status: LedStatus) {
        self.leds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(status);
    }
}

/// Answers confirmations with a fixed answer and records the questions.
#[derive(Clone, Default)]
pub struct SimConfirmer {
    /// The answer.
    pub answer: Arc<Mutex<bool>>,
    /// Questions asked.
    pub asked: Arc<Mutex<Vec<Confirmation>>>,
}
impl Confirmer for SimConfirmer {
    fn confirm(&mut self, question: &Confirmation) -> bool {
        self.asked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(question.clone());
        *self.answer.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Keeps every event.
#[derive(Default)]
pub struct RecordingEvents(pub Mutex<Vec<Event>>);
impl EventSink for RecordingEvents {
    fn event(&self, event: &Event) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event.clone());
    }
}
impl RecordingEvents {
    /// A copy of the events so far.
    pub fn events(&self) -> Vec<Event> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Handles on every simulated device, kept by the test after the [`Devices`] moved into the
/// terminal.
#[derive(Clone)]
pub struct SimHandles {
    /// Reader script.
    pub reader: SimCardReader,
    /// Printed jobs.
    pub printer: SimPrinter,
    /// Scanner queue.
    pub scanner: SimQrScanner,
    /// Display log.
    pub display: SimQrDisplay,
    /// Beeps and LEDs.
    pub indicators: SimIndicators,
    /// Confirmations.
    pub confirmer: SimConfirmer,
    /// Events.
    pub events: Arc<RecordingEvents>,
}

/// Simulated devices with `pin` on the PIN pad, and their handles.
pub fn sim_devices(pin: Option<&str>, keys: SharedKeyStore) -> (Devices, SimHandles) {
    let h = SimHandles {
        reader: SimCardReader::new(),
        printer: SimPrinter::default(),
        scanner: SimQrScanner::default(),
        display: SimQrDisplay::default(),
        indicators: SimIndicators::default(),
        confirmer: SimConfirmer::default(),
        events: Arc::new(RecordingEvents::default()),
    };
    let d = Devices {
        card_reader: Box::new(h.reader.clone()),
        pin_pad: Box::new(SimPinPad::new(pin, keys)),
        printer: Box::new(h.printer.clone()),
        qr_scanner: Box::new(h.scanner.clone()),
        qr_display: Box::new(h.display.clone()),
        indicators: Box::new(h.indicators.clone()),
        confirmer: Box::new(h.confirmer.clone()),
        events: h.events.clone(),
    };
    (d, h)
}
