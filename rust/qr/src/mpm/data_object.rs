//! The ID / length / value framing of EMV QRCPS-MPM §3 ("Data Object" = two-digit ID, two-digit
//! length, value), used both at the root and inside templates. Lengths count characters (Unicode
//! scalar values), not bytes, so a value in template 64 may hold Chinese text (§3, §4).

use crate::error::{FieldId, QrError};

/// One MPM data object as it appears in a payload: ID 00-99 and its value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DataObject {
    /// Two-digit ID, 00-99.
    pub id: u8,
    /// The value as text (its length is counted in characters).
    pub value: String,
}

impl DataObject {
    /// A data object with the given ID and value.
    pub fn new(id: u8, value: impl Into<String>) -> Self {
        DataObject {
            id,
            value: value.into(),
        }
    }
}

fn two_digits(chars: &[char]) -> Option<u8> {
    match chars {
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => {
            Some((*a as u8 - b'0') * 10 + (*b as u8 - b'0'))
        }
        _ => None,
    }
}

/// Reads a sequence of data objects filling all of `text`. `parent` names the template being
/// read (None at the root) so errors point at "62.05" rather than "05".
///
/// Rejects IDs or lengths that are not two digits, a length of 00, a value that runs past the end
/// and the same ID twice at this level (§3).
pub fn read_data_objects(text: &str, parent: Option<u8>) -> Result<Vec<DataObject>, QrError> {
    let chars: Vec<char> = text.chars().collect();
    let mut objects: Vec<DataObject> = Vec::new();
    let mut pos = 0usize;
    let field = |id: u8| match parent {
        None => FieldId::root(id),
        Some(p) => FieldId::sub(p, id),
    };
    let place = |pos: usize| match parent {
        None => format!("at character {pos}"),
        Some(p) => format!("in template {p:02} at character {pos}"),
    };
    while pos < chars.len() {
        let id = chars
            .get(pos..pos + 2)
            .and_then(two_digits)
            .ok_or_else(|| QrError::malformed(place(pos), "ID is not two digits"))?;
        let length = chars
            .get(pos + 2..pos + 4)
            .and_then(two_digits)
            .ok_or_else(|| {
                QrError::malformed(
                    format!("{} ({})", place(pos), field(id)),
                    "length is not two digits",
                )
            })?;
        if length == 0 {
            return Err(QrError::BadLength {
                field: field(id),
                length: 0,
                expected: "01 to 99 characters".into(),
            });
        }
        let start = pos + 4;
        let end = start + usize::from(length);
        let value = chars.get(start..end).ok_or_else(|| {
            QrError::malformed(
                format!("{} ({})", place(pos), field(id)),
                format!(
                    "length {length:02} runs past the end ({} characters left)",
                    chars.len().saturating_sub(start)
                ),
            )
        })?;
        if objects.iter().any(|o| o.id == id) {
            return Err(QrError::DuplicateId { field: field(id) });
        }
        objects.push(DataObject {
            id,
            value: value.iter().collect(),
        });
        pos = end;
    }
    Ok(objects)
}

/// Appends one data object (ID, length in characters, value) to `out`.
/// Fails when the value is empty or longer than 99 characters.
pub fn write_data_object(out: &mut String, field: FieldId, value: &str) -> Result<(), QrError> {
    let length = value.chars().count();
    if !(1..=99).contains(&length) {
        return Err(QrError::BadLength {
            field,
            length,
            expected: "01 to 99 characters".into(),
        });
    }
    let id = field.sub.unwrap_or(field.id);
    out.push_str(&format!("{id:02}{length:02}"));
    out.push_str(value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sequence_and_counts_characters() {
        let objects = read_data_objects("0002ZH0104最佳运输0202北京", Some(64)).unwrap();
        assert_eq!(
            objects,
            vec![
                DataObject::new(0, "ZH"),
                DataObject::new(1, "最佳运输"),
                DataObject::new(2, "北京"),
            ]
        );
    }

    #[test]
    fn rejects_broken_framing() {
        assert!(matches!(
            read_data_objects("0A02ab", None),
            Err(QrError::Malformed { .. })
        ));
        assert!(matches!(
            read_data_objects("00x2ab", None),
            Err(QrError::Malformed { .. })
        ));
        assert!(matches!(
            read_data_objects("0005ab", None),
            Err(QrError::Malformed { .. })
        ));
        assert!(matches!(
            read_data_objects("000", None),
            Err(QrError::Malformed { .. })
        ));
        assert_eq!(
            read_data_objects("0000", Some(62)),
            Err(QrError::BadLength {
                field: FieldId::sub(62, 0),
                length: 0,
                expected: "01 to 99 characters".into()
            })
        );
        assert_eq!(
            read_data_objects("0101a0101b", Some(62)),
            Err(QrError::DuplicateId {
                field: FieldId::sub(62, 1)
            })
        );
    }

    #[test]
    fn writes_length_in_characters() {
        let mut out = String::new();
        write_data_object(&mut out, FieldId::sub(64, 1), "最佳运输").unwrap();
        assert_eq!(out, "0104最佳运输");
        assert!(write_data_object(&mut out, FieldId::root(59), "").is_err());
        assert!(write_data_object(&mut out, FieldId::root(59), &"x".repeat(100)).is_err());
    }
}
