//! The message type indicator (ISO 8583:1987 §4.1.1): four digits for version, class, function and
//! origin, e.g. `0200` (financial request) and `0210` (its response).

use crate::error::Error;
use std::fmt;

/// A message type indicator: four ASCII decimal digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mti([u8; 4]);

impl Mti {
    /// Parse `"0200"`-style text.
    pub fn new(text: &str) -> Result<Mti, Error> {
        Mti::from_ascii(text.as_bytes())
            .ok_or_else(|| Error::BadMti(text.chars().take(16).collect()))
    }

    /// From four ASCII digits, if they are digits.
    pub fn from_ascii(bytes: &[u8]) -> Option<Mti> {
        let arr: [u8; 4] = bytes.try_into().ok()?;
        arr.iter().all(u8::is_ascii_digit).then_some(Mti(arr))
    }

    /// The four digits as text.
    pub fn as_str(&self) -> &str {
        // Always four ASCII digits by construction.
        std::str::from_utf8(&self.0).unwrap_or("????")
    }

    /// The four ASCII digits.
    pub fn as_bytes(&self) -> &[u8; 4] {
        &self.0
    }

    /// The response MTI for a request: function digit + 1 (`0200` → `0210`, `0800` → `0810`,
    /// `0420` → `0430`). Returns `None` for a response or advice-response already (odd function digit).
    pub fn response(&self) -> Option<Mti> {
        let f = self.0[2];
        if (f - b'0') % 2 == 1 || f == b'9' {
            return None;
        }
        let mut r = self.0;
        r[2] = f + 1;
        Some(Mti(r))
    }

    /// True for responses (function digit 1, 3, 5...): 0210, 0430, 0810.
    pub fn is_response(&self) -> bool {
        (self.0[2] - b'0') % 2 == 1
    }

    /// The message class digit (ISO 8583:1987 §4.1.1.2): 1 authorization, 2 financial,
    /// 4 reversal, 5 reconciliation, 8 network management.
    pub fn class(&self) -> u8 {
        self.0[1] - b'0'
    }
}

impl fmt::Display for Mti {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Mti {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mti({})", self.as_str())
    }
}

impl std::str::FromStr for Mti {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mti::new(s)
    }
}
