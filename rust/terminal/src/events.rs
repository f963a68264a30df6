//! Events for the app at every step of a transaction (EMV Book A §9 user interface requests,
//! adapted): prompts with a stable message id, LED status, progress.

/// Stable ids of the messages the app shows (the app maps them to its own texts/translations).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageId {
    /// "Insert, tap or swipe card".
    PresentCard,
    /// "Present one card only" (contactless collision).
    PresentOneCard,
    /// "Try again" after a failed tap/swipe.
    TryAgain,
    /// "Insert card" (chip-first: a chip card was swiped).
    InsertCard,
    /// "Insert card or use another payment method" (too many failed attempts).
    InsertCardOrOtherMethod,
    /// "Enter PIN".
    EnterPin,
    /// "Incorrect PIN".
    IncorrectPin,
    /// "Processing, please wait".
    Processing,
    /// "Remove card".
    RemoveCard,
    /// "See phone" (the wallet asks the customer to confirm on the phone).
    SeePhone,
    /// "Scan the customer's payment code".
    ScanCode,
    /// "Scan this code with your wallet".
    ShowMerchantQr,
    /// "Approved".
    Approved,
    /// "Declined".
    Declined,
    /// "Cancelled".
    Cancelled,
    /// "Not authorised" (host unavailable or reversal).
    NotAuthorised,
    /// "Signature required".
    SignatureRequired,
    /// "Confirm duplicate?".
    ConfirmDuplicate,
    /// "Signing on".
    SigningOn,
    /// "Terminal blocked: tamper".
    Tampered,
    /// Book A '0F' "Processing error".
    ProcessingError,
    /// Book A '14' "Welcome".
    Welcome,
    /// Book A '17' "Card read OK".
    CardReadOk,
    /// Book A '18' "Please insert or swipe card".
    InsertOrSwipeCard,
    /// Book A '1A' "Approved, please sign".
    ApprovedPleaseSign,
    /// Book A '1B' "Authorising, please wait".
    AuthorisingPleaseWait,
    /// Book A '1C' "Insert, swipe or try another card".
    InsertSwipeOrTryAnotherCard,
    /// Book A '1E' clear display.
    ClearDisplay,
    /// Book A '21' "Present card again".
    PresentCardAgain,
}

/// LED status (contactless reader lights, EMV Book A §8.3 status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LedStatus {
    /// Idle.
    Off,
    /// Ready to read (first LED).
    ReadyToRead,
    /// Card read, processing.
    Processing,
    /// Card read successfully (all four).
    CardReadOk,
    /// Error / not authorised.
    Error,
}

/// Progress steps of a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Risk checks.
    RiskCheck,
    /// Journalled (durable).
    Journalled,
    /// Waiting for the card.
    WaitingForCard,
    /// Kernel running.
    ReadingCard,
    /// Sent to the host.
    Online,
    /// Card completion (second GENERATE AC).
    Completing,
    /// Sending reversals/advices.
    Flushing,
    /// Finished.
    Done,
}

/// What a contactless kernel's User Interface Request carried beyond the message (EMV
/// Contactless Book A §9.1, Table 9-1): the raw message identifier and the hold time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct BookAMessage {
    /// Message Identifier (Book A Table 9-5), e.g. `0x1B` "Authorising, please wait".
    pub code: u8,
    /// Hold Time: how long the message stays on the display, ms.
    pub hold_time_ms: u32,
}

/// One event to the app.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// Show a message.
    Prompt {
        /// Stable id.
        id: MessageId,
        /// PIN tries left, when known (`EnterPin`, `IncorrectPin`).
        tries_left: Option<u8>,
        /// The contactless kernel's UI request details, for prompts a kernel raised (`None`
        /// for the terminal's own prompts).
        #[serde(skip_serializing_if = "Option::is_none")]
        book_a: Option<BookAMessage>,
    },
    /// LEDs.
    Led {
        /// Status.
        status: LedStatus,
    },
    /// Progress.
    Progress {
        /// Step reached.
        step: Step,
    },
    /// The merchant QR to display (MPM payload).
    MerchantQr {
        /// The EMVCo MPM string.
        payload: String,
    },
}

/// Where events go (the app's UI).
pub trait EventSink: Send + Sync {
    /// One event; must not block.
    fn event(&self, event: &Event);
}

/// Ignores events.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoEvents;
impl EventSink for NoEvents {
    fn event(&self, _event: &Event) {}
}

pub(crate) fn prompt(sink: &dyn EventSink, id: MessageId) {
    sink.event(&Event::Prompt {
        id,
        tries_left: None,
        book_a: None,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kernel_prompt_carries_its_book_a_code_and_hold_time_the_terminals_own_none() {
        // Book A Table 9-5: '1B' "Authorising, please wait"; Hold Time in ms.
        let kernel = Event::Prompt {
            id: MessageId::AuthorisingPleaseWait,
            tries_left: None,
            book_a: Some(BookAMessage {
                code: 0x1B,
                hold_time_ms: 1300,
            }),
        };
        let json = serde_json::to_value(&kernel).unwrap();
        assert_eq!(json["book_a"]["code"], 0x1B);
        assert_eq!(json["book_a"]["hold_time_ms"], 1300);
        assert_eq!(json["id"], "authorising_please_wait");
        // The terminal's own prompts serialise as before (no `book_a` key).
        let own = Event::Prompt {
            id: MessageId::PresentCard,
            tries_left: None,
            book_a: None,
        };
        let json = serde_json::to_value(&own).unwrap();
        assert!(json.get("book_a").is_none(), "{json}");
        assert_eq!(json["type"], "prompt");
    }
}
