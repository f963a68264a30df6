//! The devices a terminal drives, as traits the Android shell implements: card reader (contact,
//! contactless, magstripe), PIN pad, printer, QR scanner, merchant-QR display, beeper/LEDs,
//! a confirmation prompt, and the key store.

use crate::cancel::CancelToken;
use crate::events::{EventSink, LedStatus};
use smartpos_crypto::key::SecretKey;
use smartpos_crypto::keyhier::WorkingKeyType;
use smartpos_emv::CardTransport;
use smartpos_emv::contactless::{Activation, ContactlessTransport};
use smartpos_emv::cvm::PlaintextPinBlock;
use smartpos_journal::Timestamp;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use zeroize::Zeroizing;

/// Which interfaces the reader should open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interfaces {
    /// Contact chip slot.
    pub contact: bool,
    /// Contactless field.
    pub contactless: bool,
    /// Magnetic stripe head.
    pub magstripe: bool,
}

impl Interfaces {
    /// All three.
    pub const ALL: Interfaces = Interfaces {
        contact: true,
        contactless: true,
        magstripe: true,
    };
    /// The chip slot only (after a chip card was swiped: chip first).
    pub const CONTACT_ONLY: Interfaces = Interfaces {
        contact: true,
        contactless: false,
        magstripe: false,
    };
    /// The stripe only (fallback after a chip failure).
    pub const MAGSTRIPE_ONLY: Interfaces = Interfaces {
        contact: false,
        contactless: false,
        magstripe: true,
    };
}

/// Data of a swiped card. `Debug` hides the track.
#[derive(Clone)]
pub struct SwipedCard {
    /// Track 2 (ISO 7813), `=` separator, without sentinels.
    pub track2: Zeroizing<String>,
}

impl fmt::Debug for SwipedCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SwipedCard(<track 2 hidden>)")
    }
}

/// A chip or NFC card the reader opened.
pub type CardChannel = Box<dyn CardTransport + Send>;

/// A contactless reader link with protocol activation and field control (EMV Contactless
/// Book D as the reader reports it): what the Entry Point (Book B) polls and restarts on.
pub type ContactlessChannel = Box<dyn ContactlessTransport + Send>;

/// An NFC link the platform already activated (Android `IsoDep`): exactly one card in the field
/// for every activation of the tap, field-off requests left to the platform.
pub struct ActivatedNfcLink(pub CardChannel);

impl CardTransport for ActivatedNfcLink {
    fn atr(&self) -> &[u8] {
        self.0.atr()
    }
    fn exchange(
        &mut self,
        command: &smartpos_emv::Apdu,
    ) -> Result<smartpos_emv::Response, smartpos_emv::TransportError> {
        self.0.exchange(command)
    }
}

impl ContactlessTransport for ActivatedNfcLink {
    fn activate(&mut self) -> Activation {
        Activation::Card
    }
}

/// What the reader saw.
pub enum Presented {
    /// A card in the contact slot.
    Chip(CardChannel),
    /// A card in the contactless field over an NFC link the platform already activated (one
    /// card): runs the contactless Entry Point and kernels through [`ActivatedNfcLink`].
    Contactless(CardChannel),
    /// A card or phone in the contactless field over a reader that reports activation
    /// (collisions, no card) and honours field-off requests: the contactless Entry Point
    /// (EMV Contactless Book B) polls it directly and restarts on it (Start B/C).
    ContactlessField(ContactlessChannel),
    /// A swipe.
    Swipe(SwipedCard),
    /// More than one card in the field (EMV Book D §9.3 collision): "present one card".
    Collision,
}

impl fmt::Debug for Presented {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Presented::Chip(_) => "Presented::Chip",
            Presented::Contactless(_) => "Presented::Contactless",
            Presented::ContactlessField(_) => "Presented::ContactlessField",
            Presented::Swipe(_) => "Presented::Swipe",
            Presented::Collision => "Presented::Collision",
        })
    }
}

/// Reader errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReaderError {
    /// Nothing presented in time.
    #[error("no card within the timeout")]
    Timeout,
    /// Cancelled while waiting.
    #[error("cancelled")]
    Cancelled,
    /// A tap or swipe that could not be read (bad swipe, card left the field too early).
    #[error("read failed: {0}")]
    ReadFailed(String),
    /// The reader is broken.
    #[error("reader hardware: {0}")]
    Hardware(String),
}

/// The card reader.
pub trait CardReader: Send {
    /// Open `interfaces` and wait up to `timeout` for a card (checking `cancel`).
    fn detect(
        &mut self,
        interfaces: Interfaces,
        timeout: Duration,
        cancel: &CancelToken,
    ) -> Result<Presented, ReaderError>;
    /// Wait up to `timeout` for the card to be removed from the slot/field.
    fn wait_for_removal(&mut self, timeout: Duration) -> Result<(), ReaderError>;
}

/// An online PIN block as the PIN pad produced it (ISO 9564 format 0 under the TPK, or under a
/// DUKPT PIN key). Never a clear PIN.
#[derive(Clone)]
pub struct EncryptedPin {
    /// The enciphered 8-byte block.
    pub block: [u8; 8],
    /// The DUKPT KSN, when DUKPT was used.
    pub ksn: Option<[u8; 10]>,
}

impl fmt::Debug for EncryptedPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncryptedPin(<hidden>)")
    }
}

/// PIN pad errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinPadError {
    /// The cardholder bypassed PIN entry.
    #[error("PIN entry bypassed")]
    Bypassed,
    /// Cancelled.
    #[error("PIN entry cancelled")]
    Cancelled,
    /// No PIN within the timeout.
    #[error("PIN entry timed out")]
    Timeout,
    /// No PIN key in the secure element, or the pad failed.
    #[error("PIN pad failure: {0}")]
    Failure(String),
}

/// The PIN pad (secure device): returns enciphered PIN blocks for online PIN and, for offline
/// PIN, the plaintext block that goes straight to the card (EMV Book 3 §6.5.12).
pub trait PinPad: Send {
    /// Online PIN for `pan` (format 0 needs the PAN), enciphered under the PIN key.
    fn online_pin(&mut self, pan: &str, amount: u64) -> Result<EncryptedPin, PinPadError>;
    /// Offline PIN for the card, with the tries left when known.
    fn offline_pin(&mut self, tries_left: Option<u8>) -> Result<PlaintextPinBlock, PinPadError>;
}

/// A rendered receipt.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PrintJob {
    /// Text lines.
    pub lines: Vec<String>,
    /// ESC/POS bytes, when rendered for a thermal printer.
    pub escpos: Option<Vec<u8>>,
}

/// Generic device error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// Timed out.
    #[error("timed out")]
    Timeout,
    /// Cancelled.
    #[error("cancelled")]
    Cancelled,
    /// Paper out, camera failure...
    #[error("{0}")]
    Failure(String),
}

/// The printer.
pub trait Printer: Send {
    /// Print one receipt.
    fn print(&mut self, job: &PrintJob) -> Result<(), DeviceError>;
}

/// The QR scanner (camera or scan head).
pub trait QrScanner: Send {
    /// Scan one code (the customer's wallet payment code).
    fn scan(&mut self, timeout: Duration, cancel: &CancelToken) -> Result<String, DeviceError>;
}

/// Shows the merchant QR to the customer.
pub trait QrDisplay: Send {
    /// Show `payload` as a QR code.
    fn show(&mut self, payload: &str);
    /// Take it off the screen.
    fn clear(&mut self);
}

/// Beep tones (EMV Book A §8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Beep {
    /// Success tone.
    Success,
    /// Alert tone.
    Alert,
}

/// Beeper and LEDs.
pub trait Indicators: Send {
    /// Beep.
    fn beep(&mut self, beep: Beep);
    /// Set the LEDs.
    fn leds(&mut self, status: LedStatus);
}

/// A question the attendant must answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmation {
    /// Same card and amount within the duplicate window: charge again?
    Duplicate {
        /// Masked PAN.
        pan_masked: String,
        /// Amount.
        amount: u64,
    },
}

/// Answers confirmations (a dialog on the app).
pub trait Confirmer: Send {
    /// `true` to go on.
    fn confirm(&mut self, question: &Confirmation) -> bool;
}

/// The journal's PAN hash key and PAN data key (32 bytes each), zeroized on drop.
pub type JournalKeys = (Zeroizing<Vec<u8>>, Zeroizing<Vec<u8>>);

/// Key store errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyStoreError {
    /// The secure element refused or failed.
    #[error("key store: {0}")]
    Failure(String),
}

/// The keys of the terminal: TMK, working keys and the journal's data-protection keys. On a real
/// device these live in the secure element; [`SoftKeyStore`] keeps them in zeroizing memory.
pub trait KeyStore: Send {
    /// The terminal master key, if loaded.
    fn master_key(&self) -> Option<SecretKey>;
    /// Load the TMK (key loading; drops working keys).
    fn install_master_key(&mut self, tmk: SecretKey) -> Result<(), KeyStoreError>;
    /// A working key from the last sign-on.
    fn working_key(&self, key_type: WorkingKeyType) -> Option<SecretKey>;
    /// Install the working keys of a sign-on, stamped with the time.
    fn install_working_keys(
        &mut self,
        keys: &[(WorkingKeyType, SecretKey)],
        at: Timestamp,
    ) -> Result<(), KeyStoreError>;
    /// When the working keys were installed.
    fn working_keys_installed_at(&self) -> Option<Timestamp>;
    /// The 32-byte PAN hash key and 32-byte PAN data key of the journal (created on first use).
    fn journal_keys(&mut self) -> Result<JournalKeys, KeyStoreError>;
    /// Tamper: erase every key.
    fn erase_all(&mut self);
}

/// A key store shared between the terminal and the PIN pad (which enciphers under its PIN key).
pub type SharedKeyStore = Arc<Mutex<dyn KeyStore>>;

/// Software key store: keys in zeroizing memory (tests, demo). `Debug` shows only which keys
/// are present.
#[derive(Default)]
pub struct SoftKeyStore {
    tmk: Option<SecretKey>,
    working: Vec<(WorkingKeyType, SecretKey)>,
    installed_at: Option<Timestamp>,
    journal: Option<JournalKeys>,
}

impl fmt::Debug for SoftKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoftKeyStore")
            .field("tmk", &self.tmk.is_some())
            .field("working", &self.working.len())
            .field("installed_at", &self.installed_at)
            .finish()
    }
}

impl SoftKeyStore {
    /// Empty.
    pub fn new() -> SoftKeyStore {
        SoftKeyStore::default()
    }
    /// With a TMK and fixed journal keys (tests: reopening a journal needs the same keys).
    pub fn with_keys(tmk: SecretKey, hash_key: [u8; 32], data_key: [u8; 32]) -> SoftKeyStore {
        SoftKeyStore {
            tmk: Some(tmk),
            working: Vec::new(),
            installed_at: None,
            journal: Some((
                Zeroizing::new(hash_key.to_vec()),
                Zeroizing::new(data_key.to_vec()),
            )),
        }
    }
    /// Back-date the working keys (tests of the key-age rule).
    pub fn set_installed_at(&mut self, at: Timestamp) {
        if self.installed_at.is_some() {
            self.installed_at = Some(at);
        }
    }
}

impl KeyStore for SoftKeyStore {
    fn master_key(&self) -> Option<SecretKey> {
        self.tmk.clone()
    }
    fn install_master_key(&mut self, tmk: SecretKey) -> Result<(), KeyStoreError> {
        self.tmk = Some(tmk);
        self.working.clear();
        self.installed_at = None;
        Ok(())
    }
    fn working_key(&self, key_type: WorkingKeyType) -> Option<SecretKey> {
        self.working
            .iter()
            .find(|(t, _)| *t == key_type)
            .map(|(_, k)| k.clone())
    }
    fn install_working_keys(
        &mut self,
        keys: &[(WorkingKeyType, SecretKey)],
        at: Timestamp,
    ) -> Result<(), KeyStoreError> {
        self.working = keys.to_vec();
        self.installed_at = Some(at);
        Ok(())
    }
    fn working_keys_installed_at(&self) -> Option<Timestamp> {
        self.installed_at
    }
    fn journal_keys(&mut self) -> Result<JournalKeys, KeyStoreError> {
        if self.journal.is_none() {
            let mut h = Zeroizing::new(vec![0u8; 32]);
            let mut d = Zeroizing::new(vec![0u8; 32]);
            openssl::rand::rand_bytes(&mut h)
                .and_then(|_| openssl::rand::rand_bytes(&mut d))
                .map_err(|e| KeyStoreError::Failure(format!("random journal keys: {e}")))?;
            self.journal = Some((h, d));
        }
        match &self.journal {
            Some((h, d)) => Ok((h.clone(), d.clone())),
            None => Err(KeyStoreError::Failure("journal keys missing".into())),
        }
    }
    fn erase_all(&mut self) {
        self.tmk = None;
        self.working.clear();
        self.installed_at = None;
        self.journal = None;
    }
}

/// Every device of the terminal.
pub struct Devices {
    /// Card reader.
    pub card_reader: Box<dyn CardReader>,
    /// PIN pad.
    pub pin_pad: Box<dyn PinPad>,
    /// Printer.
    pub printer: Box<dyn Printer>,
    /// QR scanner.
    pub qr_scanner: Box<dyn QrScanner>,
    /// Merchant QR display.
    pub qr_display: Box<dyn QrDisplay>,
    /// Beeper and LEDs.
    pub indicators: Box<dyn Indicators>,
    /// Attendant confirmations.
    pub confirmer: Box<dyn Confirmer>,
    /// UI events.
    pub events: Arc<dyn EventSink>,
}
