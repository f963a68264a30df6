//! Format rules for MPM values (EMV QRCPS-MPM v1.1 §3 data formats "N", "ans", "S", and the
//! per-field lengths of the ID allocation tables in §4).

use crate::error::{FieldId, QrError};

/// Length in characters.
pub(crate) fn char_len(value: &str) -> usize {
    value.chars().count()
}

/// "ans": the Common Character Set of EMV Book 4 (printable ASCII, 0x20-0x7E).
pub(crate) fn is_ans(value: &str) -> bool {
    value.chars().all(|c| (' '..='~').contains(&c))
}

fn length_in(field: FieldId, value: &str, min: usize, max: usize) -> Result<(), QrError> {
    let length = char_len(value);
    if (min..=max).contains(&length) {
        Ok(())
    } else {
        Err(QrError::BadLength {
            field,
            length,
            expected: if min == max {
                format!("exactly {min}")
            } else {
                format!("{min} to {max}")
            },
        })
    }
}

/// "N": digits only, length in `min..=max`.
pub(crate) fn numeric(field: FieldId, value: &str, min: usize, max: usize) -> Result<(), QrError> {
    length_in(field, value, min, max)?;
    if value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(QrError::NonNumeric {
            field,
            value: value.to_owned(),
        })
    }
}

/// "ans": common character set only, length in `min..=max`.
pub(crate) fn ans(field: FieldId, value: &str, min: usize, max: usize) -> Result<(), QrError> {
    length_in(field, value, min, max)?;
    if is_ans(value) {
        Ok(())
    } else {
        Err(QrError::invalid(
            field,
            "only printable ASCII (the EMV QR common character set) is allowed here",
        ))
    }
}

/// "S": any Unicode text, length in `min..=max`.
pub(crate) fn string(field: FieldId, value: &str, min: usize, max: usize) -> Result<(), QrError> {
    length_in(field, value, min, max)?;
    if value.chars().any(char::is_control) {
        return Err(QrError::invalid(
            field,
            "control characters are not allowed",
        ));
    }
    Ok(())
}

/// Parses a decimal amount: digits, optionally one "." followed by at least one digit; returns
/// (integer digits, fraction digits). EMV QRCPS-MPM v1.1 ID 54/56: "." is the only decimal mark,
/// no other characters (no sign, no thousands separator).
fn decimal(field: FieldId, value: &str) -> Result<(&str, &str), QrError> {
    let err = |reason: &'static str| QrError::AmountFormat {
        field,
        value: value.to_owned(),
        reason,
    };
    let (int, frac) = match value.split_once('.') {
        Some((int, frac)) => {
            if frac.is_empty() {
                return Err(err("a decimal mark must be followed by digits"));
            }
            (int, frac)
        }
        None => (value, ""),
    };
    if int.is_empty() {
        return Err(err("digits are required before the decimal mark"));
    }
    if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return Err(err("only digits and one '.' decimal mark are allowed"));
    }
    if int.bytes().chain(frac.bytes()).all(|b| b == b'0') {
        return Err(err("the amount must not be zero"));
    }
    Ok((int, frac))
}

/// Transaction Amount (54) and Convenience Fee Fixed (56): ans up to 13, decimal, non-zero.
pub(crate) fn amount(field: FieldId, value: &str) -> Result<(), QrError> {
    length_in(field, value, 1, 13)?;
    decimal(field, value).map(|_| ())
}

/// Convenience Fee Percentage (57): ans up to 5, a value between "00.01" and "99.99".
pub(crate) fn percentage(field: FieldId, value: &str) -> Result<(), QrError> {
    length_in(field, value, 1, 5)?;
    let (int, frac) = decimal(field, value)?;
    let err = |reason: &'static str| QrError::AmountFormat {
        field,
        value: value.to_owned(),
        reason,
    };
    if int.trim_start_matches('0').len() > 2 {
        return Err(err("a percentage must be below 100"));
    }
    if frac.len() > 2 {
        return Err(err("a percentage has at most two decimals"));
    }
    Ok(())
}

/// Country Code (58): ISO 3166-1 alpha-2, two upper-case letters.
pub(crate) fn country(field: FieldId, value: &str) -> Result<(), QrError> {
    length_in(field, value, 2, 2)?;
    if value.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(QrError::invalid(
            field,
            "country code must be two upper-case ISO 3166-1 alpha-2 letters",
        ))
    }
}

/// Language Preference (64.00): ISO 639-1, two letters.
pub(crate) fn language(field: FieldId, value: &str) -> Result<(), QrError> {
    length_in(field, value, 2, 2)?;
    if value.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(())
    } else {
        Err(QrError::invalid(
            field,
            "language preference must be two ISO 639-1 letters",
        ))
    }
}

/// Additional Consumer Data Request (62.09): one to three of "A", "M", "E", none repeated.
pub(crate) fn consumer_data_request(field: FieldId, value: &str) -> Result<(), QrError> {
    length_in(field, value, 1, 3)?;
    let mut seen = [false; 3];
    for c in value.chars() {
        let slot = match c {
            'A' => 0,
            'M' => 1,
            'E' => 2,
            _ => {
                return Err(QrError::invalid(
                    field,
                    "only 'A' (address), 'M' (mobile) and 'E' (email) are allowed",
                ));
            }
        };
        if seen[slot] {
            return Err(QrError::invalid(field, format!("'{c}' is repeated")));
        }
        seen[slot] = true;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: FieldId = FieldId::root(54);

    #[test]
    fn amounts() {
        for ok in ["1", "23.72", "0.01", "1234567890.12", "10.5"] {
            assert!(amount(F, ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "0",
            "0.00",
            ".5",
            "5.",
            "1,00",
            "-1",
            "1.2.3",
            "12345678901.23",
            "1e3",
        ] {
            assert!(amount(F, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn percentages() {
        for ok in ["00.01", "99.99", "3", "3.5", "0.5"] {
            assert!(percentage(FieldId::root(57), ok).is_ok(), "{ok}");
        }
        for bad in ["100", "0", "00.00", "1.234", "100.0", "12.345"] {
            assert!(percentage(FieldId::root(57), bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn formats() {
        assert!(numeric(F, "4111", 4, 4).is_ok());
        assert!(matches!(
            numeric(F, "41A1", 4, 4),
            Err(QrError::NonNumeric { .. })
        ));
        assert!(matches!(
            numeric(F, "411", 4, 4),
            Err(QrError::BadLength { length: 3, .. })
        ));
        assert!(ans(F, "BEST TRANSPORT", 1, 25).is_ok());
        assert!(ans(F, "最佳运输", 1, 25).is_err());
        assert!(string(F, "最佳运输", 1, 25).is_ok());
        assert!(country(F, "CN").is_ok());
        assert!(country(F, "cn").is_err());
        assert!(consumer_data_request(F, "AME").is_ok());
        assert!(consumer_data_request(F, "AA").is_err());
        assert!(consumer_data_request(F, "X").is_err());
    }
}
