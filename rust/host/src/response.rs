//! Field 39 response codes (ISO 8583:1987 §4.3 field 39 and the UnionPay POS table of meanings).

use std::fmt;

/// A two-character response code from field 39.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResponseCode([u8; 2]);

/// What a terminal should do with a response code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Approved.
    Approve,
    /// Declined: tell the cardholder, do not retry.
    Decline,
    /// Declined for a PIN problem: the cardholder may re-enter the PIN.
    RetryPin,
    /// Host/issuer unavailable or a system error: may retry later.
    RetryLater,
    /// Message or key problem on the terminal side: sign on again.
    SignOnAgain,
}

impl ResponseCode {
    /// 00 approved.
    pub const APPROVED: ResponseCode = ResponseCode(*b"00");
    /// 09 request in progress (used by the QR dialect for a pending wallet order).
    pub const IN_PROGRESS: ResponseCode = ResponseCode(*b"09");
    /// 12 invalid transaction (a reversal of an unknown original is acknowledged with it).
    pub const INVALID_TRANSACTION: ResponseCode = ResponseCode(*b"12");
    /// 25 unable to locate record (also acknowledges a reversal).
    pub const NO_RECORD: ResponseCode = ResponseCode(*b"25");
    /// 30 format error (e.g. a malformed field 63 `VAD`, see [`crate::dialect::value_added`]).
    pub const FORMAT_ERROR: ResponseCode = ResponseCode(*b"30");
    /// 95 reconciliation error (settlement totals differ: batch upload follows).
    pub const RECONCILE_ERROR: ResponseCode = ResponseCode(*b"95");
    /// A0 MAC error (UnionPay): the host could not verify the request MAC.
    pub const MAC_ERROR: ResponseCode = ResponseCode(*b"A0");

    /// From the two characters of field 39.
    pub fn parse(text: &str) -> Option<ResponseCode> {
        let b: [u8; 2] = text.as_bytes().try_into().ok()?;
        b.iter()
            .all(u8::is_ascii_alphanumeric)
            .then_some(ResponseCode(b))
    }

    /// From two ASCII bytes (for constants in tests and tables).
    pub const fn new(code: [u8; 2]) -> ResponseCode {
        ResponseCode(code)
    }

    /// The two characters.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("??")
    }

    /// The two ASCII bytes (e.g. as the authorisation response code 8A for the card).
    pub fn as_bytes(&self) -> [u8; 2] {
        self.0
    }

    /// 00 (and the UnionPay "approved with ID" 11 / partial 10 are not used by this link).
    pub fn is_approved(&self) -> bool {
        *self == ResponseCode::APPROVED
    }

    /// The meaning of the code, for receipts and logs.
    pub fn meaning(&self) -> &'static str {
        match &self.0 {
            b"00" => "approved",
            b"01" => "refer to card issuer",
            b"03" => "invalid merchant",
            b"04" => "pick up card",
            b"05" => "do not honour",
            b"09" => "request in progress",
            b"12" => "invalid transaction",
            b"13" => "invalid amount",
            b"14" => "invalid card number",
            b"15" => "no such issuer",
            b"22" => "suspected malfunction",
            b"25" => "unable to locate original transaction",
            b"30" => "format error",
            b"33" | b"54" => "expired card",
            b"40" => "function not supported",
            b"41" => "lost card, pick up",
            b"43" => "stolen card, pick up",
            b"51" => "insufficient funds",
            b"55" => "incorrect PIN",
            b"57" => "transaction not permitted to cardholder",
            b"58" => "transaction not permitted to terminal",
            b"61" => "exceeds withdrawal amount limit",
            b"64" => "original amount incorrect",
            b"65" => "exceeds withdrawal frequency limit",
            b"75" => "allowable number of PIN tries exceeded",
            b"77" => "batch number mismatch, sign on again",
            b"90" => "cutoff in process",
            b"91" => "issuer or switch inoperative",
            b"92" => "routing error",
            b"94" => "duplicate transmission",
            b"95" => "reconciliation error",
            b"96" => "system malfunction",
            b"97" => "terminal not registered",
            b"98" => "no response from issuer",
            b"99" => "PIN block error",
            b"A0" => "MAC verification failed, sign on again",
            _ => "unknown response code",
        }
    }

    /// What the terminal should do.
    pub fn action(&self) -> Action {
        match &self.0 {
            b"00" => Action::Approve,
            b"55" | b"99" => Action::RetryPin,
            b"90" | b"91" | b"92" | b"96" | b"98" => Action::RetryLater,
            b"77" | b"97" | b"A0" => Action::SignOnAgain,
            _ => Action::Decline,
        }
    }
}

impl fmt::Display for ResponseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ResponseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResponseCode({} {})", self.as_str(), self.meaning())
    }
}
