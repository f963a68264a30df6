//! Checks on caller-supplied fields before they reach the database.

use crate::error::{JournalError, Result};

fn invalid(field: &'static str, reason: impl Into<String>) -> JournalError {
    JournalError::InvalidField {
        field,
        reason: reason.into(),
    }
}

/// Upper-case hex of an allowed length range (in hex characters); normalises to upper case.
pub fn hex(field: &'static str, v: &str, min: usize, max: usize) -> Result<String> {
    if v.len() < min || v.len() > max || v.len() % 2 != 0 {
        return Err(invalid(
            field,
            format!(
                "{} hex characters, expected an even number from {min} to {max}",
                v.len()
            ),
        ));
    }
    if !v.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid(field, "not hexadecimal"));
    }
    Ok(v.to_ascii_uppercase())
}

/// Optional hex.
pub fn opt_hex(
    field: &'static str,
    v: Option<&str>,
    min: usize,
    max: usize,
) -> Result<Option<String>> {
    v.map(|s| hex(field, s, min, max)).transpose()
}

/// Printable ASCII identifier of 1..=max characters (RRN, order numbers, ids). Identifiers are
/// not PAN-screened: wallet transaction ids are long digit strings that may pass Luhn by chance.
pub fn text(field: &'static str, v: &str, max: usize) -> Result<String> {
    if v.is_empty() || v.len() > max {
        return Err(invalid(
            field,
            format!("length {}, expected 1 to {max}", v.len()),
        ));
    }
    if !v.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(invalid(field, "not printable ASCII"));
    }
    Ok(v.to_owned())
}

/// Optional text.
pub fn opt_text(field: &'static str, v: Option<&str>, max: usize) -> Result<Option<String>> {
    v.map(|s| text(field, s, max)).transpose()
}

/// Free UTF-8 text (reasons, labels), 1..=max bytes, no control characters, no PAN.
pub fn free_text(field: &'static str, v: &str, max: usize) -> Result<String> {
    if v.is_empty() || v.len() > max {
        return Err(invalid(
            field,
            format!("length {}, expected 1 to {max}", v.len()),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(invalid(field, "control character"));
    }
    reject_pan_like(field, v)?;
    Ok(v.to_owned())
}

/// Digits only, exactly `len` long (MTI n4, currency n3).
pub fn digits(field: &'static str, v: &str, len: usize) -> Result<String> {
    if v.len() != len || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(field, format!("expected {len} digits")));
    }
    Ok(v.to_owned())
}

/// Response code: two alphanumeric characters (ISO 8583 field 39, an2).
pub fn response_code(v: &str) -> Result<String> {
    if v.len() != 2 || !v.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(invalid(
            "response_code",
            "expected 2 alphanumeric characters",
        ));
    }
    Ok(v.to_owned())
}

/// Amount in minor units: 0..=999 999 999 999 (ISO 8583 field 4, n12).
pub fn amount(field: &'static str, v: i64) -> Result<i64> {
    if !(0..=999_999_999_999).contains(&v) {
        return Err(invalid(field, format!("{v} outside 0..=999999999999")));
    }
    Ok(v)
}

/// Refuse text holding what looks like a PAN: a standalone run of 13 to 19 digits passing the Luhn check
/// (ISO/IEC 7812-1 Annex B). Keeps card numbers out of reasons, references and the audit log.
pub fn reject_pan_like(field: &'static str, v: &str) -> Result<()> {
    let b = v.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let run = &b[start..i];
            if (13..=19).contains(&run.len()) && luhn_ok(run) {
                return Err(invalid(field, "contains what looks like a card number"));
            }
        } else {
            i += 1;
        }
    }
    Ok(())
}

fn luhn_ok(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum % 10 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pan_like_text_is_refused() {
        assert!(reject_pan_like("x", "card 4761739001010119 declined").is_err());
        assert!(
            reject_pan_like("x", "ref 4761739001010118").is_ok(),
            "fails Luhn"
        );
        assert!(
            reject_pan_like("x", "phone 13800138000").is_ok(),
            "11 digits"
        );
        assert!(reject_pan_like("x", "no digits").is_ok());
        assert!(
            reject_pan_like("x", "wallet 4200001234202611210001").is_ok(),
            "22 digits: an id, not a PAN"
        );
        assert!(reject_pan_like("x", "4761739001010119").is_err());
    }

    #[test]
    fn field_checks() {
        assert_eq!(hex("tvr", "0000008000", 10, 10).unwrap(), "0000008000");
        assert_eq!(
            hex("aid", "a0000000031010", 10, 32).unwrap(),
            "A0000000031010"
        );
        assert!(hex("tvr", "00000080", 10, 10).is_err());
        assert!(hex("tvr", "000000800G", 10, 10).is_err());
        assert!(digits("currency", "156", 3).is_ok());
        assert!(digits("currency", "15a", 3).is_err());
        assert!(response_code("00").is_ok());
        assert!(response_code("0").is_err());
        assert!(amount("amount", -1).is_err());
        assert!(amount("amount", 1_000_000_000_000).is_err());
        assert!(text("operator_id", "", 8).is_err());
        assert!(text("operator_id", "op\n", 8).is_err());
        assert!(free_text("reason", "超时", 64).is_ok());
    }
}
