//! Response APDUs and hex helpers of the binding surface (ISO/IEC 7816-4 §5.1, §5.6). Commands
//! are built by the kernels of smartpos-emv, never here.

use crate::error::SmartPosError;

/// Status word: normal processing (ISO/IEC 7816-4 §5.6).
pub const SW_OK: u16 = 0x9000;

/// A response APDU split into its data field and SW1 SW2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response<'a> {
    /// Response data field (may be empty).
    pub data: &'a [u8],
    /// SW1 SW2.
    pub sw: u16,
}

impl<'a> Response<'a> {
    /// Split `raw` (data || SW1 || SW2). A response shorter than two bytes has no status word.
    pub fn parse(raw: &'a [u8]) -> Result<Self, SmartPosError> {
        match raw.len().checked_sub(2) {
            Some(split) => {
                let (data, sw) = raw.split_at(split);
                match sw {
                    [sw1, sw2] => Ok(Response {
                        data,
                        sw: u16::from_be_bytes([*sw1, *sw2]),
                    }),
                    _ => Err(no_status_word(raw.len())),
                }
            }
            None => Err(no_status_word(raw.len())),
        }
    }

    /// SW1.
    pub fn sw1(&self) -> u8 {
        (self.sw >> 8) as u8
    }

    /// SW2.
    pub fn sw2(&self) -> u8 {
        (self.sw & 0xFF) as u8
    }
}

fn no_status_word(len: usize) -> SmartPosError {
    SmartPosError::Protocol {
        reason: format!("response of {len} byte(s) has no status word (needs at least SW1 SW2)"),
    }
}

/// Upper-case hex, for command names in errors and logs.
pub fn hex_upper(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02X}");
            s
        })
}

/// Decode hex (upper or lower case, no separators) from a caller.
pub fn parse_hex(field: &str, text: &str) -> Result<Vec<u8>, SmartPosError> {
    let invalid = |reason: String| SmartPosError::InvalidInput {
        field: field.to_string(),
        reason,
    };
    let text = text.trim();
    if text.len() % 2 != 0 {
        return Err(invalid(format!(
            "hex needs an even number of digits, got {}",
            text.len()
        )));
    }
    let digit = |c: u8, at: usize| -> Result<u8, SmartPosError> {
        match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            b'A'..=b'F' => Ok(c - b'A' + 10),
            _ => Err(invalid(format!(
                "character {:?} at position {at} is not a hex digit",
                char::from(c)
            ))),
        }
    };
    text.as_bytes()
        .chunks_exact(2)
        .enumerate()
        .map(|(i, pair)| match pair {
            [hi, lo] => Ok(digit(*hi, 2 * i)? << 4 | digit(*lo, 2 * i + 1)?),
            _ => Err(invalid("odd digit".into())),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_split_and_short_responses() {
        let r = Response::parse(&[0x6F, 0x00, 0x90, 0x00]).unwrap();
        assert_eq!(r.data, &[0x6F, 0x00]);
        assert_eq!(r.sw, SW_OK);
        let r = Response::parse(&[0x61, 0x1C]).unwrap();
        assert_eq!((r.sw1(), r.sw2()), (0x61, 0x1C));
        assert!(matches!(
            Response::parse(&[0x90]),
            Err(SmartPosError::Protocol { .. })
        ));
        assert!(matches!(
            Response::parse(&[]),
            Err(SmartPosError::Protocol { .. })
        ));
    }

    #[test]
    fn hex_round_trip_and_errors() {
        assert_eq!(parse_hex("x", "00a0FF").unwrap(), vec![0x00, 0xA0, 0xFF]);
        assert_eq!(hex_upper(&[0x0a, 0xbc]), "0ABC");
        let err = parse_hex("data", "0G").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid input `data`: character 'G' at position 1 is not a hex digit"
        );
        assert!(parse_hex("data", "ABC").is_err());
    }
}
