//! ISO/IEC 7816-4 §5.1 command/response APDUs and EMV Book 1 §11 / Book 3 §6.3.5 status words.

use std::fmt;

/// A command APDU (ISO/IEC 7816-4 §5.1). Short length fields only, as EMV Book 1 §9.4 requires.
#[derive(Clone, PartialEq, Eq)]
pub struct Apdu {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    /// Command data (Lc is its length; empty means no Lc field).
    pub data: Vec<u8>,
    /// Expected response length: `None` = no Le field, `Some(0)` = Le `00` (up to 256 bytes).
    pub le: Option<u8>,
}

/// The four command cases of ISO/IEC 7816-4 §5.1 (EMV Book 1 §9.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApduCase {
    /// No data, no response data.
    Case1,
    /// No data, response data expected.
    Case2,
    /// Data, no response data.
    Case3,
    /// Data and response data.
    Case4,
}

/// Command APDU errors (caller input, never card input).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApduError {
    #[error("command data is {0} bytes; short APDUs carry at most 255")]
    DataTooLong(usize),
    #[error("command APDU is {0} bytes; at least 4 (CLA INS P1 P2) are needed")]
    TooShort(usize),
    #[error("command APDU Lc={lc} does not match the {actual} bytes that follow")]
    LengthMismatch { lc: usize, actual: usize },
}

impl Apdu {
    /// A case 1 or case 3 command (no Le).
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8, data: Vec<u8>) -> Self {
        Apdu {
            cla,
            ins,
            p1,
            p2,
            data,
            le: None,
        }
    }

    /// Builder-style: set Le.
    pub fn with_le(mut self, le: u8) -> Self {
        self.le = Some(le);
        self
    }

    /// The ISO 7816-4 case of this command.
    pub fn case(&self) -> ApduCase {
        match (self.data.is_empty(), self.le.is_some()) {
            (true, false) => ApduCase::Case1,
            (true, true) => ApduCase::Case2,
            (false, false) => ApduCase::Case3,
            (false, true) => ApduCase::Case4,
        }
    }

    /// Encode as bytes: `CLA INS P1 P2 [Lc data] [Le]` (ISO/IEC 7816-4 §5.1, short form).
    pub fn encode(&self) -> Result<Vec<u8>, ApduError> {
        if self.data.len() > 255 {
            return Err(ApduError::DataTooLong(self.data.len()));
        }
        let mut out = Vec::with_capacity(6 + self.data.len());
        out.extend_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        if !self.data.is_empty() {
            out.push(self.data.len() as u8);
            out.extend_from_slice(&self.data);
        }
        if let Some(le) = self.le {
            out.push(le);
        }
        Ok(out)
    }

    /// Parse a short command APDU (for traces and scripted cards).
    pub fn decode(bytes: &[u8]) -> Result<Apdu, ApduError> {
        let [cla, ins, p1, p2, rest @ ..] = bytes else {
            return Err(ApduError::TooShort(bytes.len()));
        };
        let (data, le) = match rest {
            [] => (Vec::new(), None),
            [le] => (Vec::new(), Some(*le)),
            [lc, body @ ..] => {
                let lc = usize::from(*lc);
                if body.len() == lc {
                    (body.to_vec(), None)
                } else if body.len() == lc + 1 {
                    let (d, le) = body.split_at(lc);
                    (d.to_vec(), le.first().copied())
                } else {
                    return Err(ApduError::LengthMismatch {
                        lc,
                        actual: body.len(),
                    });
                }
            }
        };
        Ok(Apdu {
            cla: *cla,
            ins: *ins,
            p1: *p1,
            p2: *p2,
            data,
            le,
        })
    }

    // ---- EMV Book 3 §6.5 commands ----

    /// SELECT by name (Book 1 §11.3): P2=00 first occurrence, 02 next occurrence.
    pub fn select(name: &[u8], next: bool) -> Self {
        Apdu::new(
            0x00,
            0xA4,
            0x04,
            if next { 0x02 } else { 0x00 },
            name.to_vec(),
        )
        .with_le(0)
    }
    /// READ RECORD (Book 1 §11.2): P2 = SFI<<3 | 4.
    pub fn read_record(sfi: u8, record: u8) -> Self {
        Apdu::new(0x00, 0xB2, record, (sfi << 3) | 0x04, Vec::new()).with_le(0)
    }
    /// GET PROCESSING OPTIONS (Book 3 §6.5.8) with the command template 83.
    pub fn get_processing_options(pdol_data: &[u8]) -> Self {
        let mut data = Vec::with_capacity(pdol_data.len() + 3);
        data.push(0x83);
        push_len(&mut data, pdol_data.len());
        data.extend_from_slice(pdol_data);
        Apdu::new(0x80, 0xA8, 0x00, 0x00, data).with_le(0)
    }
    /// GET DATA (Book 3 §6.5.7) for a two-byte tag (9F36, 9F13, 9F17, 9F4F).
    pub fn get_data(tag: u16) -> Self {
        Apdu::new(0x80, 0xCA, (tag >> 8) as u8, tag as u8, Vec::new()).with_le(0)
    }
    /// INTERNAL AUTHENTICATE (Book 3 §6.5.9).
    pub fn internal_authenticate(ddol_data: &[u8]) -> Self {
        Apdu::new(0x00, 0x88, 0x00, 0x00, ddol_data.to_vec()).with_le(0)
    }
    /// GENERATE AC (Book 3 §6.5.5): P1 = reference control parameter.
    pub fn generate_ac(p1: u8, cdol_data: &[u8]) -> Self {
        Apdu::new(0x80, 0xAE, p1, 0x00, cdol_data.to_vec()).with_le(0)
    }
    /// EXTERNAL AUTHENTICATE (Book 3 §6.5.4).
    pub fn external_authenticate(issuer_auth_data: &[u8]) -> Self {
        Apdu::new(0x00, 0x82, 0x00, 0x00, issuer_auth_data.to_vec())
    }
    /// GET CHALLENGE (Book 3 §6.5.6).
    pub fn get_challenge() -> Self {
        Apdu::new(0x00, 0x84, 0x00, 0x00, Vec::new()).with_le(0)
    }
    /// VERIFY (Book 3 §6.5.12): P2=80 plaintext PIN, 88 enciphered PIN.
    pub fn verify(p2: u8, pin_data: Vec<u8>) -> Self {
        Apdu::new(0x00, 0x20, 0x00, p2, pin_data)
    }
}

pub(crate) fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
}

impl fmt::Debug for Apdu {
    /// Never prints VERIFY data (PIN blocks); other data is shown in hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let data = if self.ins == 0x20 && !self.data.is_empty() {
            "<masked>".to_string()
        } else {
            hex::encode_upper(&self.data)
        };
        write!(
            f,
            "Apdu({:02X} {:02X} {:02X} {:02X} data={} le={:?})",
            self.cla, self.ins, self.p1, self.p2, data, self.le
        )
    }
}

/// A response APDU: data and the status word (ISO/IEC 7816-4 §5.1.3).
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    pub data: Vec<u8>,
    pub sw1: u8,
    pub sw2: u8,
}

impl Response {
    /// Split raw response bytes into data and SW1 SW2; `None` if fewer than 2 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<Response> {
        let split = bytes.len().checked_sub(2)?;
        let (data, sw) = bytes.split_at(split);
        match sw {
            [sw1, sw2] => Some(Response {
                data: data.to_vec(),
                sw1: *sw1,
                sw2: *sw2,
            }),
            _ => None,
        }
    }
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = self.data.clone();
        v.extend_from_slice(&[self.sw1, self.sw2]);
        v
    }
    pub fn sw(&self) -> u16 {
        u16::from(self.sw1) << 8 | u16::from(self.sw2)
    }
    pub fn status(&self) -> StatusWord {
        StatusWord::from_sw(self.sw1, self.sw2)
    }
    pub fn is_ok(&self) -> bool {
        self.sw1 == 0x90 && self.sw2 == 0x00
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Response({} bytes, SW={:02X}{:02X})",
            self.data.len(),
            self.sw1,
            self.sw2
        )
    }
}

/// Status word meanings used by EMV (Book 1 §11, Book 3 §6.3.5, ISO/IEC 7816-4 §5.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusWord {
    /// 9000: normal processing.
    Success,
    /// 61xx: more data available (T=0), xx bytes.
    MoreData(u8),
    /// 6283: selected file invalidated (application blocked on SELECT).
    SelectedFileInvalidated,
    /// 62xx/63xx other warnings (state of non-volatile memory unchanged/changed).
    Warning(u8, u8),
    /// 63Cx: verification failed, x tries left (VERIFY).
    PinTriesLeft(u8),
    /// 6700: wrong length.
    WrongLength,
    /// 6983: authentication method blocked (PIN blocked).
    AuthenticationBlocked,
    /// 6984: referenced data invalidated (PIN blocked on some cards; reference data unusable).
    ReferenceDataInvalidated,
    /// 6985: conditions of use not satisfied.
    ConditionsNotSatisfied,
    /// 6A81: function not supported (card blocked on SELECT PSE).
    FunctionNotSupported,
    /// 6A82: file or application not found.
    FileNotFound,
    /// 6A83: record not found.
    RecordNotFound,
    /// 6A88: referenced data (data object) not found.
    ReferencedDataNotFound,
    /// 6Cxx: wrong Le, xx is the exact length (T=0).
    WrongLe(u8),
    /// 6D00: instruction not supported.
    InsNotSupported,
    /// 6E00: class not supported.
    ClaNotSupported,
    /// Anything else.
    Other(u8, u8),
}

impl StatusWord {
    pub fn from_sw(sw1: u8, sw2: u8) -> StatusWord {
        match (sw1, sw2) {
            (0x90, 0x00) => StatusWord::Success,
            (0x61, n) => StatusWord::MoreData(n),
            (0x62, 0x83) => StatusWord::SelectedFileInvalidated,
            (0x63, n) if n & 0xF0 == 0xC0 => StatusWord::PinTriesLeft(n & 0x0F),
            (0x62 | 0x63, _) => StatusWord::Warning(sw1, sw2),
            (0x67, 0x00) => StatusWord::WrongLength,
            (0x69, 0x83) => StatusWord::AuthenticationBlocked,
            (0x69, 0x84) => StatusWord::ReferenceDataInvalidated,
            (0x69, 0x85) => StatusWord::ConditionsNotSatisfied,
            (0x6A, 0x81) => StatusWord::FunctionNotSupported,
            (0x6A, 0x82) => StatusWord::FileNotFound,
            (0x6A, 0x83) => StatusWord::RecordNotFound,
            (0x6A, 0x88) => StatusWord::ReferencedDataNotFound,
            (0x6C, n) => StatusWord::WrongLe(n),
            (0x6D, 0x00) => StatusWord::InsNotSupported,
            (0x6E, 0x00) => StatusWord::ClaNotSupported,
            _ => StatusWord::Other(sw1, sw2),
        }
    }
}

impl fmt::Display for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatusWord::Success => write!(f, "9000 success"),
            StatusWord::MoreData(n) => write!(f, "61{n:02X} more data"),
            StatusWord::SelectedFileInvalidated => write!(f, "6283 selected file invalidated"),
            StatusWord::Warning(a, b) => write!(f, "{a:02X}{b:02X} warning"),
            StatusWord::PinTriesLeft(n) => {
                write!(f, "63C{n:X} PIN verification failed, {n} tries left")
            }
            StatusWord::WrongLength => write!(f, "6700 wrong length"),
            StatusWord::AuthenticationBlocked => write!(f, "6983 authentication method blocked"),
            StatusWord::ReferenceDataInvalidated => write!(f, "6984 referenced data invalidated"),
            StatusWord::ConditionsNotSatisfied => write!(f, "6985 conditions of use not satisfied"),
            StatusWord::FunctionNotSupported => write!(f, "6A81 function not supported"),
            StatusWord::FileNotFound => write!(f, "6A82 file not found"),
            StatusWord::RecordNotFound => write!(f, "6A83 record not found"),
            StatusWord::ReferencedDataNotFound => write!(f, "6A88 referenced data not found"),
            StatusWord::WrongLe(n) => write!(f, "6C{n:02X} wrong Le"),
            StatusWord::InsNotSupported => write!(f, "6D00 instruction not supported"),
            StatusWord::ClaNotSupported => write!(f, "6E00 class not supported"),
            StatusWord::Other(a, b) => write!(f, "{a:02X}{b:02X}"),
        }
    }
}
