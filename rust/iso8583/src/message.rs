//! [`Message`]: an MTI and up to 127 data elements (fields 2..=128), independent of any profile.
//!
//! Values are kept in their *text form* for character and numeric fields (ASCII digits for `n` even
//! when the wire form is BCD, `=` as the track-2 separator, `C`/`D` + digits for `x+n`) and as raw
//! bytes for binary (`b`) fields. All values live in one buffer, so building or unpacking a message
//! costs one allocation, not one per field. A profile checks values against its field specs when the
//! message is packed ([`crate::Profile::pack`]) or validated ([`crate::Profile::validate`]).

use crate::error::Error;
use crate::mask;
use crate::mti::Mti;
use std::fmt;

#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Span {
    start: u32,
    len: u32,
}

/// An ISO 8583 message: MTI plus data elements 2..=128.
///
/// Field 1 (the secondary bitmap) is never stored: packing sets it when any field 65..=128 is present.
#[derive(Clone)]
pub struct Message {
    mti: Mti,
    /// Bit `128 - n` set when field `n` is present (so `present.to_be_bytes()` is the bitmap pair).
    present: u128,
    spans: [Span; 129],
    data: Vec<u8>,
    live: usize,
}

#[inline]
pub(crate) fn bit(field: u8) -> u128 {
    1u128 << (128 - u32::from(field))
}

fn check_number(field: u8) -> Result<(), Error> {
    if (2..=128).contains(&field) {
        Ok(())
    } else {
        Err(Error::BadFieldNumber(u16::from(field)))
    }
}

impl Message {
    /// An empty message of this type.
    pub fn new(mti: Mti) -> Message {
        Message::with_capacity(mti, 128)
    }

    /// An empty message whose value buffer has room for `bytes` bytes of field data.
    pub fn with_capacity(mti: Mti, bytes: usize) -> Message {
        Message {
            mti,
            present: 0,
            spans: [Span::default(); 129],
            data: Vec::with_capacity(bytes),
            live: 0,
        }
    }

    /// The message type.
    pub fn mti(&self) -> Mti {
        self.mti
    }

    /// Change the message type (e.g. to build a response from a request).
    pub fn set_mti(&mut self, mti: Mti) -> &mut Self {
        self.mti = mti;
        self
    }

    /// The presence bits as the 128-bit bitmap (field 1 is the most significant bit), with field 1
    /// set when any of fields 65..=128 is present.
    pub fn bitmap(&self) -> u128 {
        let mut b = self.present;
        if b & u128::from(u64::MAX) != 0 {
            b |= bit(1);
        }
        b
    }

    /// Whether field `field` is present.
    pub fn has(&self, field: u8) -> bool {
        (2..=128).contains(&field) && self.present & bit(field) != 0
    }

    /// Number of fields present.
    pub fn len(&self) -> usize {
        self.present.count_ones() as usize
    }

    /// True when no field is present.
    pub fn is_empty(&self) -> bool {
        self.present == 0
    }

    /// The stored value of a field: text bytes for character/numeric fields, raw bytes for `b`.
    pub fn get(&self, field: u8) -> Option<&[u8]> {
        if !self.has(field) {
            return None;
        }
        let span = self.spans.get(usize::from(field))?;
        let start = span.start as usize;
        self.data.get(start..start + span.len as usize)
    }

    /// A character/numeric field as text (None if absent or not UTF-8, e.g. a binary field).
    pub fn text(&self, field: u8) -> Option<&str> {
        self.get(field).and_then(|b| std::str::from_utf8(b).ok())
    }

    /// A binary field's bytes (same as [`Message::get`]; reads better for `b` fields).
    pub fn binary(&self, field: u8) -> Option<&[u8]> {
        self.get(field)
    }

    /// A numeric field as an integer: `Ok(None)` when absent, an error when not all digits or too large.
    pub fn numeric(&self, field: u8) -> Result<Option<u64>, Error> {
        let Some(v) = self.get(field) else {
            return Ok(None);
        };
        parse_u64(v).map(Some).ok_or_else(|| Error::NotTyped {
            field,
            reason: format!(
                "value of {} byte(s) is not a decimal number that fits 64 bits",
                v.len()
            ),
        })
    }

    /// Set a field's stored value as given (text bytes, or raw bytes for binary fields).
    ///
    /// Only the field number is checked here; the profile checks type and length when packing.
    pub fn set_bytes(&mut self, field: u8, value: &[u8]) -> Result<&mut Self, Error> {
        check_number(field)?;
        let idx = usize::from(field);
        let old = self.spans[idx];
        if self.present & bit(field) != 0 && value.len() <= old.len as usize {
            let start = old.start as usize;
            self.data[start..start + value.len()].copy_from_slice(value);
            self.live -= old.len as usize - value.len();
            self.spans[idx].len = value.len() as u32;
            return Ok(self);
        }
        self.remove(field);
        if self.data.len() > 256 && self.data.len() > 2 * self.live {
            self.compact();
        }
        let start = self.data.len();
        self.data.extend_from_slice(value);
        self.spans[idx] = Span {
            start: start as u32,
            len: value.len() as u32,
        };
        self.present |= bit(field);
        self.live += value.len();
        Ok(self)
    }

    /// Set a character or numeric field from text.
    pub fn set_text(&mut self, field: u8, value: &str) -> Result<&mut Self, Error> {
        self.set_bytes(field, value.as_bytes())
    }

    /// Set a binary (`b`) field.
    pub fn set_binary(&mut self, field: u8, value: &[u8]) -> Result<&mut Self, Error> {
        self.set_bytes(field, value)
    }

    /// Set a numeric field to `value`, zero-padded on the left to `width` digits.
    pub fn set_numeric(&mut self, field: u8, value: u64, width: usize) -> Result<&mut Self, Error> {
        let mut buf = [b'0'; 20];
        let mut n = value;
        let mut i = buf.len();
        loop {
            i -= 1;
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let digits = buf.len() - i;
        if digits > width {
            return Err(Error::ValueTooLong {
                field,
                length: digits,
                max: width,
            });
        }
        if width <= buf.len() {
            let start = buf.len() - width;
            let text = buf.get(start..).unwrap_or(&[]);
            self.set_bytes(field, text)
        } else {
            let mut text = vec![b'0'; width - digits];
            text.extend_from_slice(&buf[i..]);
            self.set_bytes(field, &text)
        }
    }

    /// Set an ISO 8583 amount field (n12, minor units: 12.34 CNY is 1234) such as field 4.
    pub fn set_amount(&mut self, field: u8, minor_units: u64) -> Result<&mut Self, Error> {
        self.set_numeric(field, minor_units, 12)
    }

    /// Remove a field; true if it was present.
    pub fn remove(&mut self, field: u8) -> bool {
        if !self.has(field) {
            return false;
        }
        self.present &= !bit(field);
        self.live -= self.spans[usize::from(field)].len as usize;
        true
    }

    /// Present fields in ascending order, with their stored values.
    pub fn fields(&self) -> impl Iterator<Item = (u8, &[u8])> + '_ {
        let present = self.present;
        (2u8..=128)
            .filter(move |&n| present & bit(n) != 0)
            .filter_map(move |n| self.get(n).map(|v| (n, v)))
    }

    /// Field numbers present, ascending.
    pub fn field_numbers(&self) -> impl Iterator<Item = u8> + '_ {
        let present = self.present;
        (2u8..=128).filter(move |&n| present & bit(n) != 0)
    }

    // --- domain getters for the data elements every ISO 8583 variant shares (ISO 8583:1987 §4.3) ---

    /// Field 2, primary account number.
    pub fn pan(&self) -> Option<&str> {
        self.text(2)
    }
    /// Field 3, processing code.
    pub fn processing_code(&self) -> Option<&str> {
        self.text(3)
    }
    /// Field 4, transaction amount in minor units.
    pub fn amount(&self) -> Result<Option<u64>, Error> {
        self.numeric(4)
    }
    /// Field 11, system trace audit number.
    pub fn stan(&self) -> Result<Option<u64>, Error> {
        self.numeric(11)
    }
    /// Field 37, retrieval reference number.
    pub fn rrn(&self) -> Option<&str> {
        self.text(37)
    }
    /// Field 38, authorization identification response.
    pub fn auth_code(&self) -> Option<&str> {
        self.text(38)
    }
    /// Field 39, response code.
    pub fn response_code(&self) -> Option<&str> {
        self.text(39)
    }
    /// Field 41, card acceptor terminal identification.
    pub fn terminal_id(&self) -> Option<&str> {
        self.text(41)
    }
    /// Field 42, card acceptor identification code (merchant id).
    pub fn merchant_id(&self) -> Option<&str> {
        self.text(42)
    }

    /// Set field 2, primary account number.
    pub fn set_pan(&mut self, pan: &str) -> Result<&mut Self, Error> {
        self.set_text(2, pan)
    }
    /// Set field 3, processing code (n6, e.g. `"000000"` purchase).
    pub fn set_processing_code(&mut self, code: &str) -> Result<&mut Self, Error> {
        self.set_text(3, code)
    }
    /// Set field 11, system trace audit number (n6).
    pub fn set_stan(&mut self, stan: u32) -> Result<&mut Self, Error> {
        self.set_numeric(11, u64::from(stan), 6)
    }
    /// Set field 37, retrieval reference number (an12).
    pub fn set_rrn(&mut self, rrn: &str) -> Result<&mut Self, Error> {
        self.set_text(37, rrn)
    }
    /// Set field 38, authorization identification response (an6).
    pub fn set_auth_code(&mut self, code: &str) -> Result<&mut Self, Error> {
        self.set_text(38, code)
    }
    /// Set field 39, response code (an2).
    pub fn set_response_code(&mut self, code: &str) -> Result<&mut Self, Error> {
        self.set_text(39, code)
    }
    /// Set field 41, card acceptor terminal identification (ans8).
    pub fn set_terminal_id(&mut self, tid: &str) -> Result<&mut Self, Error> {
        self.set_text(41, tid)
    }
    /// Set field 42, card acceptor identification code (ans15).
    pub fn set_merchant_id(&mut self, mid: &str) -> Result<&mut Self, Error> {
        self.set_text(42, mid)
    }

    /// The response to this request (MTI function digit + 1, ISO 8583:1987 §4.1.1.3) with the
    /// `echo` fields copied over as they are (e.g. `[3, 4, 11, 41, 42]`); absent ones are skipped.
    pub fn respond(&self, echo: &[u8]) -> Result<Message, Error> {
        let mti = self
            .mti
            .response()
            .ok_or_else(|| Error::BadMti(format!("{} has no response type", self.mti)))?;
        let mut r = Message::with_capacity(mti, self.live);
        for &n in echo {
            if let Some(v) = self.get(n) {
                r.set_bytes(n, v)?;
            }
        }
        Ok(r)
    }

    // --- crate-internal fast path for the unpacker ---

    /// The value buffer, to decode a field straight into it; follow with [`Message::commit_field`].
    pub(crate) fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.data
    }

    /// Record that bytes `start..` of the buffer are field `field`'s value.
    pub(crate) fn commit_field(&mut self, field: u8, start: usize) {
        let len = self.data.len() - start;
        self.spans[usize::from(field)] = Span {
            start: start as u32,
            len: len as u32,
        };
        self.present |= bit(field);
        self.live += len;
    }

    /// An upper bound of the packed size of the fields for any profile (hex doubles, prefixes add).
    pub(crate) fn wire_estimate(&self) -> usize {
        2 * self.live + 4 * self.len() + 16
    }

    pub(crate) fn present_bits(&self) -> u128 {
        self.present
    }

    fn compact(&mut self) {
        let mut data = Vec::with_capacity(self.live.max(128));
        for n in 2u8..=128 {
            if self.present & bit(n) != 0 {
                let span = self.spans[usize::from(n)];
                let start = span.start as usize;
                let new_start = data.len();
                data.extend_from_slice(&self.data[start..start + span.len as usize]);
                self.spans[usize::from(n)].start = new_start as u32;
            }
        }
        self.data = data;
    }
}

pub(crate) fn parse_u64(v: &[u8]) -> Option<u64> {
    if v.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &b in v {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(n)
}

impl PartialEq for Message {
    fn eq(&self, other: &Self) -> bool {
        self.mti == other.mti && self.present == other.present && self.fields().eq(other.fields())
    }
}

impl Eq for Message {}

/// Masks field 2 (first 6 + last 4), tracks 1/2/3 (34, 35, 36, 45), PIN block (52), MACs (64, 128),
/// and sensitive tags inside field 55; see [`crate::mask`].
impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Fields<'a>(&'a Message);
        impl fmt::Debug for Fields<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut map = f.debug_map();
                for (n, v) in self.0.fields() {
                    map.entry(&n, &mask::DebugValue { field: n, value: v });
                }
                map.finish()
            }
        }
        f.debug_struct("Message")
            .field("mti", &self.mti.as_str())
            .field("fields", &Fields(self))
            .finish()
    }
}
