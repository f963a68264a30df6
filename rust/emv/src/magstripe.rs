//! Magnetic stripe track data (ISO/IEC 7813 tracks 1 and 2) and the EMV track 2 equivalent data
//! (tag 57, EMV Book 3 Annex A), with the service-code rules of ISO/IEC 7813 §10 and the chip-first
//! rule of EMV Book 4 §11.1 (service code 2xx/6xx → use the chip, fallback only after chip failure).

use std::fmt;

/// Errors for a track that cannot be accepted; each names the field and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrackError {
    #[error("track is empty")]
    Empty,
    #[error("track {track}: field separator missing")]
    MissingSeparator { track: u8 },
    #[error("track {track}: end sentinel without a start sentinel (or vice versa)")]
    Sentinels { track: u8 },
    #[error("track 1: format code {0:?} is not 'B'")]
    FormatCode(char),
    #[error("PAN has {0} digits; 12 to 19 are allowed")]
    PanLength(usize),
    #[error("PAN contains a non-digit character")]
    PanNotNumeric,
    #[error("PAN fails the Luhn check")]
    PanLuhn,
    #[error("expiry date {0:?} is not YYMM with month 01-12")]
    Expiry(String),
    #[error("service code {0:?} is not three digits")]
    ServiceCode(String),
    #[error("track {track} contains invalid character {ch:?}")]
    InvalidCharacter { track: u8, ch: char },
    #[error("track {track} is {len} characters; longer than the ISO/IEC 7813 maximum {max}")]
    TooLong { track: u8, len: usize, max: usize },
    #[error("track 1 name field is missing its closing separator")]
    Name,
}

/// Luhn (ISO/IEC 7812-1 Annex B) check over a string of decimal digits.
pub fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0u32;
    let mut count = 0usize;
    for (i, c) in digits.bytes().rev().enumerate() {
        if !c.is_ascii_digit() {
            return false;
        }
        let mut d = u32::from(c - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
        count += 1;
    }
    count > 0 && sum % 10 == 0
}

/// Mask a PAN as first 6 + last 4 (PCI DSS 3.4), `*` in between: `smartpos-tlv`'s rule.
pub use smartpos_tlv::mask::mask_pan;

fn validate_pan(pan: &str) -> Result<(), TrackError> {
    validate_pan_with(pan, true)
}

fn validate_pan_with(pan: &str, check_luhn: bool) -> Result<(), TrackError> {
    if !pan.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TrackError::PanNotNumeric);
    }
    if !(12..=19).contains(&pan.len()) {
        return Err(TrackError::PanLength(pan.len()));
    }
    if check_luhn && !luhn_valid(pan) {
        return Err(TrackError::PanLuhn);
    }
    Ok(())
}

/// Card expiry, YYMM (track data) — the card is valid through the end of that month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expiry {
    pub year: u8,
    pub month: u8,
}

impl Expiry {
    pub fn parse(yymm: &str) -> Result<Expiry, TrackError> {
        let bad = || TrackError::Expiry(yymm.to_string());
        if yymm.len() != 4 || !yymm.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let year: u8 = yymm
            .get(0..2)
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad)?;
        let month: u8 = yymm
            .get(2..4)
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad)?;
        if !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Expiry { year, month })
    }
    /// True if the card is expired on `today` (YYMMDD as three numbers).
    pub fn is_expired(&self, today_yy: u8, today_mm: u8) -> bool {
        (today_yy, today_mm) > (self.year, self.month)
    }
}

/// Service code (ISO/IEC 7813 §10 / ISO/IEC 7811-6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceCode(pub [u8; 3]);

/// Interchange (first digit of the service code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interchange {
    International,
    National,
    Private,
    Test,
    Reserved,
}

/// Authorisation processing (second digit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorisationProcessing {
    Normal,
    ByIssuer,
    ByIssuerExceptBilateral,
    Reserved,
}

/// Allowed services and PIN requirements (third digit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Services {
    NoRestrictionsPinRequired,
    NoRestrictions,
    GoodsAndServicesOnly,
    AtmOnlyPinRequired,
    CashOnly,
    GoodsAndServicesPinRequired,
    NoRestrictionsPromptPinIfPed,
    GoodsAndServicesPromptPinIfPed,
    Reserved,
}

impl ServiceCode {
    pub fn parse(s: &str) -> Result<ServiceCode, TrackError> {
        let b = s.as_bytes();
        match b {
            [a, c, d] if b.iter().all(u8::is_ascii_digit) => {
                Ok(ServiceCode([a - b'0', c - b'0', d - b'0']))
            }
            _ => Err(TrackError::ServiceCode(s.to_string())),
        }
    }
    /// First digit 2 or 6: the card carries an integrated circuit (chip) that must be used.
    pub fn chip_card(&self) -> bool {
        matches!(self.0[0], 2 | 6)
    }
    pub fn interchange(&self) -> Interchange {
        match self.0[0] {
            1 | 2 => Interchange::International,
            5 | 6 => Interchange::National,
            7 => Interchange::Private,
            9 => Interchange::Test,
            _ => Interchange::Reserved,
        }
    }
    pub fn authorisation(&self) -> AuthorisationProcessing {
        match self.0[1] {
            0 => AuthorisationProcessing::Normal,
            2 => AuthorisationProcessing::ByIssuer,
            4 => AuthorisationProcessing::ByIssuerExceptBilateral,
            _ => AuthorisationProcessing::Reserved,
        }
    }
    pub fn services(&self) -> Services {
        match self.0[2] {
            0 => Services::NoRestrictionsPinRequired,
            1 => Services::NoRestrictions,
            2 => Services::GoodsAndServicesOnly,
            3 => Services::AtmOnlyPinRequired,
            4 => Services::CashOnly,
            5 => Services::GoodsAndServicesPinRequired,
            6 => Services::NoRestrictionsPromptPinIfPed,
            7 => Services::GoodsAndServicesPromptPinIfPed,
            _ => Services::Reserved,
        }
    }
    /// PIN required by the third digit (0, 3, 5).
    pub fn pin_required(&self) -> bool {
        matches!(self.0[2], 0 | 3 | 5)
    }
}

impl fmt::Display for ServiceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.0[0], self.0[1], self.0[2])
    }
}

/// Where the card data came from, for the host (ISO 8583 POS entry mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwipeDecision {
    /// Plain magnetic-stripe card (or chip not required): accept as a swipe.
    Accept,
    /// Chip card swiped although the chip works: insert the card instead.
    UseChip,
    /// Chip card swiped after a chip failure, fallback allowed: accept, flagged as fallback
    /// (POS entry mode 80 / 801 on most hosts).
    AcceptAsFallback,
}

impl SwipeDecision {
    /// ISO 8583 POS entry mode (field 22, first two digits) for an accepted swipe: 90 = full
    /// magnetic stripe read, 80 = fallback from chip to magnetic stripe; `None` for UseChip.
    pub fn pos_entry_mode(self) -> Option<u8> {
        match self {
            SwipeDecision::Accept => Some(90),
            SwipeDecision::AcceptAsFallback => Some(80),
            SwipeDecision::UseChip => None,
        }
    }
}

/// EMV Book 4 §11.1: a chip card (service code 2xx/6xx) read by swipe must be sent to the chip,
/// unless the chip failed and the acquirer allows fallback.
pub fn swipe_decision(
    service_code: ServiceCode,
    terminal_has_chip_reader: bool,
    chip_failed: bool,
    fallback_allowed: bool,
) -> SwipeDecision {
    if !service_code.chip_card() || !terminal_has_chip_reader {
        SwipeDecision::Accept
    } else if chip_failed && fallback_allowed {
        SwipeDecision::AcceptAsFallback
    } else {
        SwipeDecision::UseChip
    }
}

/// Track 2 (ISO/IEC 7813 §10), from the stripe or from the EMV track 2 equivalent data (57).
#[derive(Clone, PartialEq, Eq)]
pub struct Track2 {
    pub pan: String,
    pub expiry: Expiry,
    pub service_code: ServiceCode,
    /// Discretionary data (PVV, CVV, ...); never printed.
    pub discretionary: String,
}

impl Track2 {
    /// Parse ASCII track 2: `[;]PAN=YYMMSSS<discretionary>[?[LRC]]`; `D` is accepted for `=`.
    pub fn parse(track: &str) -> Result<Track2, TrackError> {
        let t = track.trim();
        if t.is_empty() {
            return Err(TrackError::Empty);
        }
        if t.len() > 40 {
            return Err(TrackError::TooLong {
                track: 2,
                len: t.len(),
                max: 40,
            });
        }
        let start = t.starts_with(';');
        let body = t.strip_prefix(';').unwrap_or(t);
        let (body, end) = match body.find('?') {
            // Anything after the end sentinel is the LRC character.
            Some(i) => (body.get(..i).unwrap_or(""), true),
            None => (body, false),
        };
        if start != end {
            return Err(TrackError::Sentinels { track: 2 });
        }
        for ch in body.chars() {
            if !(ch.is_ascii_digit() || ch == '=' || ch == 'D' || ch == 'd') {
                return Err(TrackError::InvalidCharacter { track: 2, ch });
            }
        }
        let sep = body
            .find(['=', 'D', 'd'])
            .ok_or(TrackError::MissingSeparator { track: 2 })?;
        let pan = body.get(..sep).unwrap_or("");
        let rest = body.get(sep + 1..).unwrap_or("");
        Self::from_fields(pan, rest, true)
    }

    /// Parse EMV track 2 equivalent data (tag 57): BCD, separator `D`, padded with `F`.
    pub fn from_track2_equivalent(bytes: &[u8]) -> Result<Track2, TrackError> {
        Self::from_track2_equivalent_with(bytes, true)
    }

    /// As [`Track2::from_track2_equivalent`]; `check_luhn = false` accepts PANs without a Luhn
    /// check digit (some private-label and sample cards).
    pub fn from_track2_equivalent_with(
        bytes: &[u8],
        check_luhn: bool,
    ) -> Result<Track2, TrackError> {
        if bytes.is_empty() {
            return Err(TrackError::Empty);
        }
        if bytes.len() > 19 {
            return Err(TrackError::TooLong {
                track: 2,
                len: bytes.len() * 2,
                max: 38,
            });
        }
        let mut s = String::with_capacity(bytes.len() * 2);
        for b in bytes {
            for nib in [b >> 4, b & 0x0F] {
                match nib {
                    0..=9 => s.push(char::from(b'0' + nib)),
                    0x0D => s.push('D'),
                    0x0F => {}
                    _ => {
                        return Err(TrackError::InvalidCharacter {
                            track: 2,
                            ch: char::from_digit(u32::from(nib), 16).unwrap_or('?'),
                        });
                    }
                }
            }
        }
        let sep = s
            .find('D')
            .ok_or(TrackError::MissingSeparator { track: 2 })?;
        Self::from_fields(
            s.get(..sep).unwrap_or(""),
            s.get(sep + 1..).unwrap_or(""),
            check_luhn,
        )
    }

    fn from_fields(pan: &str, rest: &str, check_luhn: bool) -> Result<Track2, TrackError> {
        validate_pan_with(pan, check_luhn)?;
        let expiry = Expiry::parse(rest.get(0..4).unwrap_or(rest))?;
        let sc = rest
            .get(4..7)
            .unwrap_or_else(|| rest.get(4..).unwrap_or(""));
        let service_code = ServiceCode::parse(sc)?;
        let discretionary = rest.get(7..).unwrap_or("").to_string();
        if discretionary.contains(['=', 'D']) {
            return Err(TrackError::InvalidCharacter { track: 2, ch: '=' });
        }
        Ok(Track2 {
            pan: pan.to_string(),
            expiry,
            service_code,
            discretionary,
        })
    }

    pub fn masked_pan(&self) -> String {
        mask_pan(&self.pan)
    }
}

impl fmt::Debug for Track2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Track2")
            .field("pan", &self.masked_pan())
            .field("expiry", &self.expiry)
            .field("service_code", &self.service_code.to_string())
            .field("discretionary", &"<masked>")
            .finish()
    }
}

/// Track 1 (ISO/IEC 7813 §9, format B).
#[derive(Clone, PartialEq, Eq)]
pub struct Track1 {
    pub pan: String,
    pub name: String,
    pub expiry: Expiry,
    pub service_code: ServiceCode,
    pub discretionary: String,
}

impl Track1 {
    /// Parse `[%]B<PAN>^<NAME>^YYMMSSS<discretionary>[?[LRC]]`.
    pub fn parse(track: &str) -> Result<Track1, TrackError> {
        let t = track.trim();
        if t.is_empty() {
            return Err(TrackError::Empty);
        }
        if t.len() > 79 {
            return Err(TrackError::TooLong {
                track: 1,
                len: t.len(),
                max: 79,
            });
        }
        let start = t.starts_with('%');
        let body = t.strip_prefix('%').unwrap_or(t);
        let (body, end) = match body.find('?') {
            Some(i) => (body.get(..i).unwrap_or(""), true),
            None => (body, false),
        };
        if start != end {
            return Err(TrackError::Sentinels { track: 1 });
        }
        for ch in body.chars() {
            // ISO/IEC 7811-2 6-bit alphabet: 0x20..=0x5F.
            if !(' '..='_').contains(&ch) {
                return Err(TrackError::InvalidCharacter { track: 1, ch });
            }
        }
        let mut chars = body.chars();
        match chars.next() {
            Some('B') => {}
            Some(c) => return Err(TrackError::FormatCode(c)),
            None => return Err(TrackError::Empty),
        }
        let body = chars.as_str();
        let mut parts = body.splitn(3, '^');
        let pan = parts.next().unwrap_or("").replace(' ', "");
        let name = parts
            .next()
            .ok_or(TrackError::MissingSeparator { track: 1 })?;
        let rest = parts.next().ok_or(TrackError::Name)?;
        validate_pan(&pan)?;
        let expiry = Expiry::parse(rest.get(0..4).unwrap_or(rest))?;
        let service_code = ServiceCode::parse(rest.get(4..7).unwrap_or(""))?;
        Ok(Track1 {
            pan,
            name: name.trim().to_string(),
            expiry,
            service_code,
            discretionary: rest.get(7..).unwrap_or("").to_string(),
        })
    }

    pub fn masked_pan(&self) -> String {
        mask_pan(&self.pan)
    }
}

impl fmt::Debug for Track1 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Track1")
            .field("pan", &self.masked_pan())
            .field("name", &self.name)
            .field("expiry", &self.expiry)
            .field("service_code", &self.service_code.to_string())
            .field("discretionary", &"<masked>")
            .finish()
    }
}
