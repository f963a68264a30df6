//! Card data carried in a CPM payload: the PAN (tag 5A) and the Track 2 Equivalent Data (tag 57),
//! EMV Book 3 Annex A. Both are masked in `Debug` (first 6, last 4) and wiped on drop.

use crate::error::QrError;
use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A primary account number: 12 to 19 digits (ISO/IEC 7812-1).
#[derive(Clone, PartialEq, Eq, Hash, Zeroize, ZeroizeOnDrop)]
pub struct Pan(String);

impl Pan {
    /// Checks that `digits` is 12-19 decimal digits.
    pub fn new(digits: &str, tag: &str) -> Result<Self, QrError> {
        if !(12..=19).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(QrError::CpmInvalid {
                tag: tag.into(),
                reason: format!(
                    "a PAN is 12 to 19 decimal digits (got {} characters)",
                    digits.len()
                ),
            });
        }
        Ok(Pan(digits.to_owned()))
    }

    /// From tag 5A: compressed numeric (cn), right-padded with 'F' nibbles.
    pub fn from_cn(bytes: &[u8]) -> Result<Self, QrError> {
        let digits = cn_digits(bytes, "5A")?;
        Pan::new(&digits, "5A")
    }

    /// The full PAN, for the authorisation message only.
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// First 6 and last 4 digits, the rest as '*'.
    pub fn masked(&self) -> String {
        smartpos_tlv::mask::mask_pan(&self.0)
    }

    /// The PAN as compressed numeric (tag 5A form).
    pub fn to_cn(&self) -> Vec<u8> {
        pack_nibbles(&self.0)
    }
}

impl fmt::Debug for Pan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pan({})", self.masked())
    }
}

fn cn_digits(bytes: &[u8], tag: &str) -> Result<String, QrError> {
    let mut digits = String::with_capacity(bytes.len() * 2);
    let mut padding = false;
    for nibble in bytes.iter().flat_map(|b| [b >> 4, b & 0x0F]) {
        match nibble {
            0..=9 if !padding => digits.push(char::from(b'0' + nibble)),
            0x0F => padding = true,
            _ => {
                return Err(QrError::CpmInvalid {
                    tag: tag.into(),
                    reason: "compressed numeric holds digits then 'F' padding only".into(),
                });
            }
        }
    }
    Ok(digits)
}

/// Packs hex-nibble characters ('0'-'9', 'D') two per byte, padding with 'F'.
fn pack_nibbles(text: &str) -> Vec<u8> {
    let nibble = |c: u8| match c {
        b'0'..=b'9' => c - b'0',
        b'D' => 0x0D,
        _ => 0x0F,
    };
    text.as_bytes()
        .chunks(2)
        .map(|pair| match pair {
            [hi, lo] => (nibble(*hi) << 4) | nibble(*lo),
            [hi] => (nibble(*hi) << 4) | 0x0F,
            _ => 0xFF,
        })
        .collect()
}

/// Track 2 Equivalent Data, tag 57 (EMV Book 3 Annex A): PAN, separator 'D', expiry YYMM,
/// service code (3 digits), discretionary data, 'F'-padded to whole bytes.
#[derive(Clone, PartialEq, Eq, Hash, Zeroize, ZeroizeOnDrop)]
pub struct Track2 {
    pan: Pan,
    expiry: String,
    service_code: String,
    discretionary: String,
}

impl Track2 {
    /// Builds track 2 data from its parts (all decimal digits; expiry YYMM with month 01-12).
    pub fn new(
        pan: Pan,
        expiry: &str,
        service_code: &str,
        discretionary: &str,
    ) -> Result<Self, QrError> {
        let bad = |reason: &str| QrError::CpmInvalid {
            tag: "57".into(),
            reason: reason.into(),
        };
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if expiry.len() != 4 || !digits(expiry) {
            return Err(bad("expiry date must be four digits YYMM"));
        }
        let month = expiry.get(2..).and_then(|m| m.parse::<u8>().ok());
        if !matches!(month, Some(1..=12)) {
            return Err(bad("expiry month must be 01 to 12"));
        }
        if service_code.len() != 3 || !digits(service_code) {
            return Err(bad("service code must be three digits"));
        }
        if !digits(discretionary) {
            return Err(bad("discretionary data must be decimal digits"));
        }
        let track = Track2 {
            pan,
            expiry: expiry.to_owned(),
            service_code: service_code.to_owned(),
            discretionary: discretionary.to_owned(),
        };
        if track.to_bytes().len() > 19 {
            return Err(bad("track 2 equivalent data is at most 19 bytes"));
        }
        Ok(track)
    }

    /// Decodes the tag 57 value.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, QrError> {
        let bad = |reason: &str| QrError::CpmInvalid {
            tag: "57".into(),
            reason: reason.into(),
        };
        if bytes.len() > 19 {
            return Err(bad("track 2 equivalent data is at most 19 bytes"));
        }
        let mut nibbles: Vec<u8> = bytes.iter().flat_map(|b| [b >> 4, b & 0x0F]).collect();
        if nibbles.last() == Some(&0x0F) {
            nibbles.pop();
        }
        let separator = nibbles
            .iter()
            .position(|&n| n == 0x0D)
            .ok_or_else(|| bad("field separator 'D' missing"))?;
        let text = |ns: &[u8]| -> Result<String, QrError> {
            ns.iter()
                .map(|&n| {
                    if n <= 9 {
                        Ok(char::from(b'0' + n))
                    } else {
                        Err(bad("only digits may follow the PAN and the separator"))
                    }
                })
                .collect()
        };
        let pan_digits = text(nibbles.get(..separator).unwrap_or_default())?;
        let pan = Pan::new(&pan_digits, "57")?;
        let rest = text(nibbles.get(separator + 1..).unwrap_or_default())?;
        if rest.len() < 7 {
            return Err(bad(
                "expiry date and service code missing after the separator",
            ));
        }
        let (expiry, rest) = rest.split_at(4);
        let (service_code, discretionary) = rest.split_at(3);
        Track2::new(pan, expiry, service_code, discretionary)
    }

    /// The tag 57 value.
    pub fn to_bytes(&self) -> Vec<u8> {
        pack_nibbles(&self.as_text())
    }

    /// "PAN D YYMM SSS discretionary" without padding, e.g. `1234567890123458D191220112345`,
    /// the form ISO 8583 field 35 carries (a host profile may want '=' for 'D').
    pub fn as_text(&self) -> String {
        format!(
            "{}D{}{}{}",
            self.pan.digits(),
            self.expiry,
            self.service_code,
            self.discretionary
        )
    }

    /// The PAN.
    pub fn pan(&self) -> &Pan {
        &self.pan
    }

    /// Expiry date, YYMM.
    pub fn expiry(&self) -> &str {
        &self.expiry
    }

    /// Service code (ISO/IEC 7813), three digits.
    pub fn service_code(&self) -> &str {
        &self.service_code
    }

    /// Discretionary data.
    pub fn discretionary(&self) -> &str {
        &self.discretionary
    }
}

impl fmt::Debug for Track2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Track2")
            .field("pan", &self.pan)
            .field("expiry", &"****")
            .field("service_code", &self.service_code)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn track2_from_the_cpm_vector() {
        // id: qr-cpm-emvco-example1 (kenmaz/JPQRReader CPMDecoderTests.swift testEMVCPM_Example1):
        // 57=1234567890123458D191220112345F -> PAN 1234567890123458, expiry 1912, service code
        // 201, discretionary 12345
        let bytes = [
            0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x58, 0xD1, 0x91, 0x22, 0x01, 0x12, 0x34,
            0x5F,
        ];
        let t = Track2::from_bytes(&bytes).unwrap();
        assert_eq!(t.pan().digits(), "1234567890123458");
        assert_eq!(t.expiry(), "1912");
        assert_eq!(t.service_code(), "201");
        assert_eq!(t.discretionary(), "12345");
        assert_eq!(t.to_bytes(), bytes);
        assert_eq!(t.as_text(), "1234567890123458D191220112345");
        let debug = format!("{t:?}");
        assert!(!debug.contains("1234567890123458"), "{debug}");
        assert!(debug.contains("123456******3458"), "{debug}");
        assert!(!debug.contains("1912"), "{debug}");
    }

    #[test]
    fn track2_rejects_bad_data() {
        for bytes in [
            &[0x12, 0x34, 0x56][..],                         // no separator
            &[0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0xD1][..], // nothing after D
            &[0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0xD1, 0x91, 0x32, 0x01][..], // month 13
            &[0x12, 0x34, 0xD1, 0x91, 0x22, 0x01][..],       // PAN too short
            &[0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0xD1, 0x91, 0x22, 0x0A][..], // non-digit
            &[0x11; 20][..],                                 // too long
        ] {
            assert!(Track2::from_bytes(bytes).is_err(), "{bytes:02X?}");
        }
    }

    #[test]
    fn pan_cn_and_masking() {
        let pan = Pan::from_cn(&[0x62, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x5F]).unwrap();
        assert_eq!(pan.digits(), "62123456789012345");
        assert_eq!(pan.masked(), "621234*******2345");
        assert_eq!(
            pan.to_cn(),
            [0x62, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x5F]
        );
        assert!(Pan::from_cn(&[0x12, 0xF3]).is_err());
        assert!(Pan::from_cn(&[0x12, 0x34]).is_err());
    }
}
