//! User interface requests of EMV Contactless Book A §9 (User Interface Requests): standard
//! message identifiers (Book A §9.4), reader status (§9.2), hold time, language and the four
//! status lights (§9.3). The kernel never draws anything: requests go to a [`UiSink`] the
//! terminal forwards to the app.

use serde::Serialize;

/// Standard message identifiers (EMV Contactless Book A §9.4, Table 9-5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageId {
    /// '03' Approved.
    Approved,
    /// '07' Not authorised.
    NotAuthorised,
    /// '09' Please enter your PIN.
    EnterPin,
    /// '0F' Processing error.
    ProcessingError,
    /// '10' Remove card.
    RemoveCard,
    /// '14' Welcome.
    Welcome,
    /// '15' Present card.
    PresentCard,
    /// '16' Processing.
    Processing,
    /// '17' Card read OK, please remove card.
    CardReadOk,
    /// '18' Please insert or swipe card.
    InsertOrSwipeCard,
    /// '19' Please present one card only.
    PresentOneCardOnly,
    /// '1A' Approved, please sign.
    ApprovedPleaseSign,
    /// '1B' Authorising, please wait.
    AuthorisingPleaseWait,
    /// '1C' Insert, swipe or try another card.
    InsertSwipeOrTryAnotherCard,
    /// '1D' Please insert card.
    InsertCard,
    /// '1E' Clear display.
    ClearDisplay,
    /// '20' See phone for instructions.
    SeePhone,
    /// '21' Present card again.
    PresentCardAgain,
}

impl MessageId {
    /// The one-byte identifier of Book A Table 9-5.
    pub fn code(self) -> u8 {
        use MessageId::*;
        match self {
            Approved => 0x03,
            NotAuthorised => 0x07,
            EnterPin => 0x09,
            ProcessingError => 0x0F,
            RemoveCard => 0x10,
            Welcome => 0x14,
            PresentCard => 0x15,
            Processing => 0x16,
            CardReadOk => 0x17,
            InsertOrSwipeCard => 0x18,
            PresentOneCardOnly => 0x19,
            ApprovedPleaseSign => 0x1A,
            AuthorisingPleaseWait => 0x1B,
            InsertSwipeOrTryAnotherCard => 0x1C,
            InsertCard => 0x1D,
            ClearDisplay => 0x1E,
            SeePhone => 0x20,
            PresentCardAgain => 0x21,
        }
    }
}

/// Reader status (Book A §9.2, Table 9-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    NotReady,
    Idle,
    ReadyToRead,
    Processing,
    CardReadSuccessfully,
    ProcessingError,
}

impl Status {
    /// The four status lights of Book A §9.3 (Table 9-4, "option 1" sequence): light 1 on when
    /// idle/ready, 1-2 while processing, all four when the card was read, none on error.
    pub fn lights(self) -> [bool; 4] {
        match self {
            Status::NotReady | Status::ProcessingError => [false; 4],
            Status::Idle | Status::ReadyToRead => [true, false, false, false],
            Status::Processing => [true, true, false, false],
            Status::CardReadSuccessfully => [true; 4],
        }
    }
}

/// One User Interface Request (Book A §9.1, Table 9-1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UiRequest {
    pub message: MessageId,
    /// Message identifier byte (Table 9-5), for integrators that map codes themselves.
    pub message_code: u8,
    pub status: Status,
    /// The four status lights for `status`.
    pub lights: [bool; 4],
    /// How long the message stays, in milliseconds (Book A: Hold Time, units of 100 ms).
    pub hold_time_ms: u32,
    /// Language preference (ISO 639-1), from the card's 5F2D when known.
    pub language: Option<String>,
    /// Amount or balance to show (minor units), with its qualifier.
    pub value: Option<UiValue>,
}

/// Value qualifier of a UI request (Book A Table 9-1: Amount or Balance).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UiValue {
    Amount(u64),
    Balance(u64),
}

impl UiRequest {
    pub fn new(message: MessageId, status: Status) -> UiRequest {
        UiRequest {
            message,
            message_code: message.code(),
            status,
            lights: status.lights(),
            hold_time_ms: 0,
            language: None,
            value: None,
        }
    }
    pub fn hold(mut self, ms: u32) -> UiRequest {
        self.hold_time_ms = ms;
        self
    }
    pub fn with_value(mut self, value: UiValue) -> UiRequest {
        self.value = Some(value);
        self
    }
}

/// Where UI requests go: the terminal forwards them to the app (Book A §9).
pub trait UiSink {
    fn ui_request(&mut self, request: &UiRequest);
}

/// A sink that keeps every request (tests, replays, the CLI's report).
#[derive(Debug, Default, Clone)]
pub struct RecordingUi {
    pub requests: Vec<UiRequest>,
}

impl UiSink for RecordingUi {
    fn ui_request(&mut self, request: &UiRequest) {
        self.requests.push(request.clone());
    }
}

/// A sink that drops everything (benchmarks).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoUi;
impl UiSink for NoUi {
    fn ui_request(&mut self, _request: &UiRequest) {}
}
