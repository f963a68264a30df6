//! Packing and unpacking (ISO 8583:1987 §4: MTI, bitmaps, data elements in field-number order).

use crate::bcd;
use crate::error::{Error, Part};
use crate::frame::{Frame, Tpdu};
use crate::message::{Message, bit};
use crate::mti::Mti;
use crate::profile::{BitmapEncoding, MtiEncoding, Profile};
use crate::spec::{DataEncoding, FieldKind, FieldSpec, Length, LengthCounts, PrefixEncoding};

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

fn take(input: &[u8], pos: usize, n: usize, part: Part) -> Result<&[u8], Error> {
    input
        .get(pos..pos.saturating_add(n))
        .ok_or_else(|| Error::Truncated {
            part,
            offset: pos,
            needed: n,
            available: input.len().saturating_sub(pos),
        })
}

#[inline]
fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'F' => Some(c - b'A' + 10),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

fn push_hex(bytes: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + bytes.len() * 2, 0);
    if let Some(dst) = out.get_mut(start..) {
        for (d, &b) in dst.chunks_exact_mut(2).zip(bytes) {
            if let [hi, lo] = d {
                *hi = HEX_UPPER[usize::from(b >> 4)];
                *lo = HEX_UPPER[usize::from(b & 0x0F)];
            }
        }
    }
}

/// Decode hex text into `out`; errors name the absolute offset of the bad character.
fn decode_hex(
    text: &[u8],
    part: Part,
    offset: usize,
    kind: FieldKind,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    out.reserve(text.len() / 2);
    for (i, pair) in text.chunks(2).enumerate() {
        let v = match pair {
            [a, b] => match (hex_val(*a), hex_val(*b)) {
                (Some(h), Some(l)) => (h << 4) | l,
                (None, _) => {
                    return Err(Error::BadCharacter {
                        part,
                        offset: offset + i * 2,
                        byte: *a,
                        kind,
                    });
                }
                (_, None) => {
                    return Err(Error::BadCharacter {
                        part,
                        offset: offset + i * 2 + 1,
                        byte: *b,
                        kind,
                    });
                }
            },
            [a] => hex_val(*a).ok_or_else(|| Error::BadCharacter {
                part,
                offset: offset + i * 2,
                byte: *a,
                kind,
            })?,
            _ => 0,
        };
        out.push(v);
    }
    Ok(())
}

impl Profile {
    // ------------------------------------------------------------------ pack

    /// Pack a whole frame: TPDU and header (if the profile has them), then the message.
    pub fn pack_frame(&self, frame: &Frame) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(64 + frame.header.len() + frame.message.wire_estimate());
        self.pack_frame_into(frame, &mut out)?;
        Ok(out)
    }

    /// Pack a frame, appending to `out` (reuse one buffer across messages to avoid allocating).
    pub fn pack_frame_into(&self, frame: &Frame, out: &mut Vec<u8>) -> Result<(), Error> {
        match (self.has_tpdu(), frame.tpdu) {
            (true, Some(t)) => out.extend_from_slice(&t.to_bytes()),
            (true, None) => {
                return Err(Error::EnvelopeMismatch {
                    part: Part::Tpdu,
                    expected: Tpdu::LEN,
                    actual: 0,
                });
            }
            (false, Some(_)) => {
                return Err(Error::EnvelopeMismatch {
                    part: Part::Tpdu,
                    expected: 0,
                    actual: Tpdu::LEN,
                });
            }
            (false, None) => {}
        }
        if frame.header.len() != self.header_len() {
            return Err(Error::EnvelopeMismatch {
                part: Part::Header,
                expected: self.header_len(),
                actual: frame.header.len(),
            });
        }
        out.extend_from_slice(&frame.header);
        self.pack_into(&frame.message, out)
    }

    /// Pack a message (MTI, bitmaps, fields) without envelope.
    pub fn pack(&self, message: &Message) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(64 + message.wire_estimate());
        self.pack_into(message, &mut out)?;
        Ok(out)
    }

    /// Check a message against the profile (defined fields, mandatory fields, types and lengths)
    /// without keeping the bytes.
    pub fn validate(&self, message: &Message) -> Result<(), Error> {
        self.pack(message).map(|_| ())
    }

    /// Pack a message, appending to `out`.
    pub fn pack_into(&self, message: &Message, out: &mut Vec<u8>) -> Result<(), Error> {
        let present = message.present_bits();
        let undefined = present & !self.defined;
        if undefined != 0 {
            let field = (undefined.leading_zeros() + 1) as u8;
            return Err(Error::UndefinedField {
                field,
                profile: self.name().to_string(),
                offset: None,
            });
        }
        let mandatory = self.mandatory_mask(message.mti());
        let missing = mandatory & !present;
        if missing != 0 {
            let field = (missing.leading_zeros() + 1) as u8;
            return Err(Error::MissingMandatory {
                mti: message.mti(),
                field,
            });
        }
        // MTI
        let mti = message.mti();
        match self.mti_encoding() {
            MtiEncoding::Ascii => out.extend_from_slice(mti.as_bytes()),
            MtiEncoding::Bcd => bcd::encode(mti.as_bytes(), crate::spec::Pad::Left0, out),
        }
        // Bitmaps (field 1 set automatically when any of 65..=128 is present).
        let bitmap = message.bitmap();
        let words = if bitmap & bit(1) != 0 { 2 } else { 1 };
        let bytes = bitmap.to_be_bytes();
        let used = bytes.get(..words * 8).unwrap_or(&bytes);
        match self.bitmap_encoding() {
            BitmapEncoding::Binary => out.extend_from_slice(used),
            BitmapEncoding::Hex => push_hex(used, out),
        }
        // Fields in order.
        let mut rest = present;
        while rest != 0 {
            let n = (rest.leading_zeros() + 1) as u8;
            rest &= !bit(n);
            let (Some(spec), Some(value)) = (self.field(n), message.get(n)) else {
                return Err(Error::UndefinedField {
                    field: n,
                    profile: self.name().to_string(),
                    offset: None,
                });
            };
            pack_field(spec, value, out)?;
        }
        Ok(())
    }

    /// The bytes a message authentication code covers (ISO 8583:1987 fields 64/128; China UnionPay
    /// POS: from the MTI to the end of the field before the MAC): the message packed with its MAC
    /// field present (field 128 when a secondary bitmap is needed, else 64), minus the MAC itself.
    /// The MAC field's current value is ignored, so this works before the MAC is known.
    pub fn mac_input(&self, message: &Message) -> Result<Vec<u8>, Error> {
        let field = if message.bitmap() & bit(1) != 0 {
            128
        } else {
            64
        };
        let spec = self.field(field).ok_or_else(|| Error::UndefinedField {
            field,
            profile: self.name().to_string(),
            offset: None,
        })?;
        let Length::Fixed(len) = spec.length else {
            return Err(Error::NotTyped {
                field,
                reason: "a MAC field must have a fixed length".into(),
            });
        };
        let mut with_mac = message.clone();
        with_mac.set_binary(field, &vec![0; len])?;
        let mut out = self.pack(&with_mac)?;
        out.truncate(out.len().saturating_sub(spec.wire_len(len)));
        Ok(out)
    }

    // ------------------------------------------------------------------ unpack

    /// Unpack a whole frame (TPDU and header if the profile has them). Error offsets count from
    /// `input[0]`. Every byte must belong to the message: leftovers are [`Error::TrailingData`].
    pub fn unpack_frame(&self, input: &[u8]) -> Result<Frame, Error> {
        let mut pos = 0;
        let tpdu = if self.has_tpdu() {
            let b = take(input, 0, Tpdu::LEN, Part::Tpdu)?;
            pos += Tpdu::LEN;
            Tpdu::from_bytes(b)
        } else {
            None
        };
        let header = take(input, pos, self.header_len(), Part::Header)?.to_vec();
        pos += self.header_len();
        let message = self.unpack_at(input, pos)?;
        Ok(Frame {
            tpdu,
            header,
            message,
        })
    }

    /// Unpack a message (MTI onwards, no envelope). Error offsets count from `input[0]`.
    pub fn unpack(&self, input: &[u8]) -> Result<Message, Error> {
        self.unpack_at(input, 0)
    }

    fn unpack_at(&self, input: &[u8], mut pos: usize) -> Result<Message, Error> {
        // MTI
        let mti = match self.mti_encoding() {
            MtiEncoding::Ascii => {
                let b = take(input, pos, 4, Part::Mti)?;
                let m = Mti::from_ascii(b).ok_or_else(|| {
                    let (i, &byte) = b
                        .iter()
                        .enumerate()
                        .find(|(_, c)| !c.is_ascii_digit())
                        .unwrap_or((0, &0));
                    Error::BadCharacter {
                        part: Part::Mti,
                        offset: pos + i,
                        byte,
                        kind: FieldKind::N,
                    }
                })?;
                pos += 4;
                m
            }
            MtiEncoding::Bcd => {
                let b = take(input, pos, 2, Part::Mti)?;
                let mut digits = [b'0'; 4];
                for (i, &byte) in b.iter().enumerate() {
                    for (j, nib) in [(0, byte >> 4), (1, byte & 0x0F)] {
                        if nib > 9 {
                            return Err(Error::BadBcdDigit {
                                part: Part::Mti,
                                offset: pos + i,
                                nibble: nib,
                            });
                        }
                        if let Some(d) = digits.get_mut(i * 2 + j) {
                            *d = b'0' + nib;
                        }
                    }
                }
                pos += 2;
                Mti::from_ascii(&digits)
                    .ok_or_else(|| Error::BadMti(String::from_utf8_lossy(&digits).into()))?
            }
        };
        // Bitmaps
        let bitmap_start = pos;
        let primary = self.read_bitmap(input, &mut pos, Part::PrimaryBitmap)?;
        let mut bits = u128::from(primary) << 64;
        if bits & bit(1) != 0 {
            let secondary = self.read_bitmap(input, &mut pos, Part::SecondaryBitmap)?;
            bits |= u128::from(secondary);
        }
        let per_byte_bits = match self.bitmap_encoding() {
            BitmapEncoding::Binary => 8,
            BitmapEncoding::Hex => 4,
        };
        let fields_bits = bits & !bit(1);
        let undefined = fields_bits & !self.defined;
        if undefined != 0 {
            let field = (undefined.leading_zeros() + 1) as u8;
            let offset = bitmap_start + (usize::from(field) - 1) / per_byte_bits;
            return Err(Error::UndefinedField {
                field,
                profile: self.name().to_string(),
                offset: Some(offset),
            });
        }
        let mut message = Message::with_capacity(mti, input.len().saturating_sub(pos) * 2);
        let mut rest = fields_bits;
        while rest != 0 {
            let n = (rest.leading_zeros() + 1) as u8;
            rest &= !bit(n);
            let Some(spec) = self.field(n) else {
                return Err(Error::UndefinedField {
                    field: n,
                    profile: self.name().to_string(),
                    offset: None,
                });
            };
            pos = unpack_field(spec, input, pos, &mut message)?;
        }
        if pos < input.len() {
            return Err(Error::TrailingData {
                offset: pos,
                count: input.len() - pos,
            });
        }
        let missing = self.mandatory_mask(mti) & !message.present_bits();
        if missing != 0 {
            let field = (missing.leading_zeros() + 1) as u8;
            return Err(Error::MissingMandatory { mti, field });
        }
        Ok(message)
    }

    fn read_bitmap(&self, input: &[u8], pos: &mut usize, part: Part) -> Result<u64, Error> {
        match self.bitmap_encoding() {
            BitmapEncoding::Binary => {
                let b = take(input, *pos, 8, part)?;
                let arr: [u8; 8] = b.try_into().map_err(|_| Error::Truncated {
                    part,
                    offset: *pos,
                    needed: 8,
                    available: b.len(),
                })?;
                *pos += 8;
                Ok(u64::from_be_bytes(arr))
            }
            BitmapEncoding::Hex => {
                let b = take(input, *pos, 16, part)?;
                let mut v = 0u64;
                for (i, &c) in b.iter().enumerate() {
                    let n = hex_val(c).ok_or_else(|| Error::BadCharacter {
                        part,
                        offset: *pos + i,
                        byte: c,
                        kind: FieldKind::B,
                    })?;
                    v = (v << 4) | u64::from(n);
                }
                *pos += 16;
                Ok(v)
            }
        }
    }
}

/// `ans` with high bytes allowed: printable ASCII or 0x80..=0xFF.
fn first_invalid_high(value: &[u8]) -> Option<usize> {
    value
        .iter()
        .position(|&b| !((0x20..=0x7E).contains(&b) || b >= 0x80))
}

/// Encode one field's value (already in stored form) with its length prefix.
fn pack_field(spec: &FieldSpec, value: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
    let n = spec.number;
    // The first byte the field's character set does not allow (raw nibbles: hex digits and '=').
    let bad = if spec.raw_nibbles {
        value
            .iter()
            .position(|&b| !(b.is_ascii_digit() || (b'A'..=b'F').contains(&b) || b == b'='))
    } else if spec.high_bytes {
        first_invalid_high(value)
    } else if spec.kind.is_text() {
        // An empty x+n value has no sign: reported as a bad byte 0 at position 0.
        let unsigned = spec.kind == FieldKind::XN && value.is_empty();
        spec.kind.first_invalid(value).or(unsigned.then_some(0))
    } else {
        None
    };
    if let Some(i) = bad {
        let byte = value.get(i).copied().unwrap_or(0);
        return Err(Error::InvalidValue {
            field: n,
            position: i,
            byte,
            kind: spec.kind,
        });
    }
    let units = spec.units_of(value.len());
    match spec.length {
        Length::Fixed(len) => {
            if units != len {
                return Err(Error::WrongLength {
                    field: n,
                    length: units,
                    expected: len,
                });
            }
        }
        Length::Variable { digits, max } => {
            let count = match spec.counts {
                LengthCounts::Units => units,
                LengthCounts::Encoded => spec.wire_len(units),
            };
            if count > max {
                return Err(Error::ValueTooLong {
                    field: n,
                    length: count,
                    max,
                });
            }
            write_prefix(spec.prefix, digits, count, out);
        }
    }
    match (spec.encoding, spec.kind) {
        (DataEncoding::Ascii, _) | (DataEncoding::Binary, _) => out.extend_from_slice(value),
        (DataEncoding::Hex, _) => push_hex(value, out),
        (DataEncoding::Bcd, FieldKind::XN) => {
            if let Some((sign, digits)) = value.split_first() {
                out.push(*sign);
                bcd::encode(digits, spec.pad, out);
            }
        }
        (DataEncoding::Bcd, _) if spec.raw_nibbles => bcd::encode_raw(value, spec.pad, out),
        (DataEncoding::Bcd, _) => bcd::encode(value, spec.pad, out),
    }
    Ok(())
}

fn write_prefix(enc: PrefixEncoding, digits: u8, count: usize, out: &mut Vec<u8>) {
    match enc {
        PrefixEncoding::Ascii => {
            let mut buf = [b'0'; 4];
            let mut c = count;
            for slot in buf.iter_mut().take(usize::from(digits)).rev() {
                *slot = b'0' + (c % 10) as u8;
                c /= 10;
            }
            out.extend_from_slice(buf.get(..usize::from(digits)).unwrap_or(&buf));
        }
        PrefixEncoding::Bcd => {
            let nbytes = usize::from(digits).div_ceil(2);
            let mut c = count;
            let mut buf = [0u8; 2];
            for slot in buf.iter_mut().take(nbytes).rev() {
                let lo = (c % 10) as u8;
                c /= 10;
                let hi = (c % 10) as u8;
                c /= 10;
                *slot = (hi << 4) | lo;
            }
            out.extend_from_slice(buf.get(..nbytes).unwrap_or(&buf));
        }
        PrefixEncoding::Binary => {
            if digits <= 2 {
                out.push(count as u8);
            } else {
                out.extend_from_slice(&(count as u16).to_be_bytes());
            }
        }
    }
}

fn rules(spec: &FieldSpec, separator: bool) -> bcd::Rules {
    bcd::Rules {
        pad: spec.pad,
        lenient: spec.lenient_pad,
        separator,
    }
}

/// Decode one field at `pos` into the message; returns the position after it.
fn unpack_field(
    spec: &FieldSpec,
    input: &[u8],
    mut pos: usize,
    message: &mut Message,
) -> Result<usize, Error> {
    let part = Part::Field(spec.number);
    let prefix_at = pos;
    let count = match spec.length {
        Length::Fixed(len) => len,
        Length::Variable { max, .. } => {
            let plen = spec.prefix_len();
            let p = take(input, pos, plen, part)?;
            let v = match spec.prefix {
                PrefixEncoding::Ascii => {
                    let mut v = 0usize;
                    for (i, &c) in p.iter().enumerate() {
                        if !c.is_ascii_digit() {
                            return Err(Error::BadLengthPrefix {
                                part,
                                offset: pos + i,
                                byte: c,
                            });
                        }
                        v = v * 10 + usize::from(c - b'0');
                    }
                    v
                }
                PrefixEncoding::Bcd => bcd::decode_number(p, part, pos)?,
                PrefixEncoding::Binary => {
                    p.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
                }
            };
            pos += plen;
            if v > max {
                return Err(Error::LengthOverMax {
                    part,
                    offset: prefix_at,
                    length: v,
                    max,
                });
            }
            v
        }
    };
    let (units, wire) = match spec.counts {
        LengthCounts::Units => (count, spec.wire_len(count)),
        LengthCounts::Encoded => match spec.encoding {
            DataEncoding::Hex => {
                if count % 2 == 1 {
                    return Err(Error::OddHexLength {
                        part,
                        offset: prefix_at,
                        length: count,
                    });
                }
                (count / 2, count)
            }
            _ => (count, count),
        },
    };
    let data = take(input, pos, wire, part)?;
    let start = message.buffer().len();
    let buf = message.buffer();
    match (spec.encoding, spec.kind) {
        (DataEncoding::Ascii, kind) => {
            let invalid = if spec.high_bytes {
                first_invalid_high(data)
            } else {
                kind.first_invalid(data)
            };
            if let Some(i) = invalid {
                let byte = data.get(i).copied().unwrap_or(0);
                return Err(Error::BadCharacter {
                    part,
                    offset: pos + i,
                    byte,
                    kind,
                });
            }
            buf.extend_from_slice(data);
        }
        (DataEncoding::Binary, _) => buf.extend_from_slice(data),
        (DataEncoding::Hex, kind) => {
            if let Err(e) = decode_hex(data, part, pos, kind, buf) {
                buf.truncate(start);
                return Err(e);
            }
        }
        (DataEncoding::Bcd, FieldKind::XN) => {
            let (sign, digits) = data.split_first().ok_or(Error::Truncated {
                part,
                offset: pos,
                needed: 1,
                available: 0,
            })?;
            if !FieldKind::XN.allows(0, *sign) {
                return Err(Error::BadCharacter {
                    part,
                    offset: pos,
                    byte: *sign,
                    kind: FieldKind::XN,
                });
            }
            buf.push(*sign);
            if let Err(e) = bcd::decode(digits, units, rules(spec, false), part, pos + 1, buf) {
                buf.truncate(start);
                return Err(e);
            }
        }
        (DataEncoding::Bcd, _) if spec.raw_nibbles => {
            bcd::decode_raw(data, units, rules(spec, true), part, pos, buf)?;
        }
        (DataEncoding::Bcd, kind) => {
            if let Err(e) = bcd::decode(
                data,
                units,
                rules(spec, kind == FieldKind::Z),
                part,
                pos,
                buf,
            ) {
                buf.truncate(start);
                return Err(e);
            }
        }
    }
    message.commit_field(spec.number, start);
    Ok(pos + wire)
}
