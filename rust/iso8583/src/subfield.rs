//! Structured fields: a field's text split into consecutive sub-fields (e.g. UnionPay POS field 60:
//! 60.1 message type code n2, 60.2 batch number n6, 60.3 network management information code n3, ...).
//! Trailing sub-fields may be absent: the field simply ends earlier.

use crate::error::Error;
use crate::message::Message;
use crate::profile::Profile;
use crate::spec::{FieldSpec, Length, SubfieldSpec};

/// Which sub-field: by dotted id (`"60.2"`), by name (case-insensitive, e.g. `"Batch number"`), or by
/// 1-based index (`2` is `60.2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubfieldKey<'a> {
    /// Dotted id or name.
    Name(&'a str),
    /// 1-based position.
    Index(usize),
}

impl<'a> From<&'a str> for SubfieldKey<'a> {
    fn from(s: &'a str) -> Self {
        SubfieldKey::Name(s)
    }
}

impl From<usize> for SubfieldKey<'_> {
    fn from(i: usize) -> Self {
        SubfieldKey::Index(i)
    }
}

impl std::fmt::Display for SubfieldKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SubfieldKey::Name(s) => f.write_str(s),
            SubfieldKey::Index(i) => write!(f, "#{i}"),
        }
    }
}

fn structured(profile: &Profile, field: u8) -> Result<&FieldSpec, Error> {
    match profile.field(field) {
        Some(spec) if !spec.subfields.is_empty() => Ok(spec),
        Some(_) => Err(Error::NoSubfields {
            field,
            profile: profile.name().to_string(),
        }),
        None => Err(Error::UndefinedField {
            field,
            profile: profile.name().to_string(),
            offset: None,
        }),
    }
}

fn position(spec: &FieldSpec, key: SubfieldKey<'_>) -> Result<usize, Error> {
    let found = match key {
        SubfieldKey::Index(i) => (1..=spec.subfields.len()).contains(&i).then(|| i - 1),
        SubfieldKey::Name(s) => spec
            .subfields
            .iter()
            .position(|sf| sf.id == s || sf.name.eq_ignore_ascii_case(s)),
    };
    found.ok_or_else(|| Error::UnknownSubfield {
        field: spec.number,
        key: key.to_string(),
    })
}

/// Split a field's stored value into its present sub-fields (byte lengths).
fn split<'v>(spec: &FieldSpec, value: &'v [u8]) -> Result<Vec<&'v [u8]>, Error> {
    let mut parts = Vec::with_capacity(spec.subfields.len());
    let mut rest = value;
    for sf in &spec.subfields {
        if rest.is_empty() {
            break;
        }
        match sf.length {
            Length::Fixed(l) => {
                let (Some(head), Some(tail)) = (rest.get(..l), rest.get(l..)) else {
                    return Err(Error::InvalidSubfield {
                        field: spec.number,
                        key: sf.id.clone(),
                        reason: format!("has {} of its {l} characters", rest.len()),
                    });
                };
                parts.push(head);
                rest = tail;
            }
            Length::Variable { max, .. } => {
                if rest.len() > max {
                    return Err(Error::InvalidSubfield {
                        field: spec.number,
                        key: sf.id.clone(),
                        reason: format!("length {} is over the maximum {max}", rest.len()),
                    });
                }
                parts.push(rest);
                rest = &[];
            }
        }
    }
    if !rest.is_empty() {
        return Err(Error::InvalidSubfield {
            field: spec.number,
            key: spec
                .subfields
                .last()
                .map(|s| s.id.clone())
                .unwrap_or_default(),
            reason: format!(
                "{} unexpected character(s) after the last sub-field",
                rest.len()
            ),
        });
    }
    Ok(parts)
}

fn as_text<'v>(field: u8, sf: &SubfieldSpec, part: &'v [u8]) -> Result<&'v str, Error> {
    std::str::from_utf8(part).map_err(|_| Error::NotTyped {
        field,
        reason: format!(
            "sub-field {} is not UTF-8 text (read the field's bytes instead)",
            sf.id
        ),
    })
}

fn check_value(spec: &FieldSpec, sf: &SubfieldSpec, value: &str) -> Result<(), Error> {
    let field = spec.number;
    let bad = |reason: String| Error::InvalidSubfield {
        field,
        key: sf.id.clone(),
        reason,
    };
    match sf.length {
        Length::Fixed(l) if value.len() != l => {
            return Err(bad(format!(
                "length {} differs from the fixed length {l}",
                value.len()
            )));
        }
        Length::Variable { max, .. } if value.len() > max => {
            return Err(bad(format!(
                "length {} is over the maximum {max}",
                value.len()
            )));
        }
        _ => {}
    }
    let high_ok = spec.high_bytes && sf.kind == crate::spec::FieldKind::Ans;
    if let Some((i, b)) = value
        .bytes()
        .enumerate()
        .find(|&(i, b)| !(sf.kind.allows(i, b) || (high_ok && b >= 0x80)))
    {
        return Err(bad(format!(
            "character 0x{b:02X} at position {i} is not allowed in type {}",
            sf.kind
        )));
    }
    Ok(())
}

impl Message {
    /// One sub-field's text: `Ok(None)` when the field or that (trailing) sub-field is absent.
    pub fn subfield<'m, 'k>(
        &'m self,
        profile: &Profile,
        field: u8,
        key: impl Into<SubfieldKey<'k>>,
    ) -> Result<Option<&'m str>, Error> {
        let spec = structured(profile, field)?;
        let i = position(spec, key.into())?;
        let Some(value) = self.get(field) else {
            return Ok(None);
        };
        match (split(spec, value)?.get(i), spec.subfields.get(i)) {
            (Some(part), Some(sf)) => as_text(field, sf, part).map(Some),
            _ => Ok(None),
        }
    }

    /// The present sub-fields of a field, with their specs, in order (empty when the field is absent).
    pub fn subfields<'m, 'p>(
        &'m self,
        profile: &'p Profile,
        field: u8,
    ) -> Result<Vec<(&'p SubfieldSpec, &'m str)>, Error> {
        let spec = structured(profile, field)?;
        let Some(value) = self.get(field) else {
            return Ok(Vec::new());
        };
        spec.subfields
            .iter()
            .zip(split(spec, value)?)
            .map(|(sf, part)| as_text(field, sf, part).map(|t| (sf, t)))
            .collect()
    }

    /// Set one sub-field, keeping the others. Every earlier sub-field must already be present
    /// ([`Error::SubfieldGap`] otherwise); setting one past the current end appends it.
    pub fn set_subfield<'k>(
        &mut self,
        profile: &Profile,
        field: u8,
        key: impl Into<SubfieldKey<'k>>,
        value: &str,
    ) -> Result<&mut Self, Error> {
        let spec = structured(profile, field)?;
        let i = position(spec, key.into())?;
        let sf = spec
            .subfields
            .get(i)
            .ok_or_else(|| Error::UnknownSubfield {
                field,
                key: format!("#{}", i + 1),
            })?;
        check_value(spec, sf, value)?;
        let current = self.get(field).unwrap_or(&[]);
        let mut parts: Vec<&[u8]> = split(spec, current)?;
        if i > parts.len() {
            let missing = spec
                .subfields
                .get(parts.len())
                .map(|s| s.id.clone())
                .unwrap_or_default();
            return Err(Error::SubfieldGap {
                field,
                key: sf.id.clone(),
                missing,
            });
        }
        if i == parts.len() {
            parts.push(value.as_bytes());
        } else if let Some(slot) = parts.get_mut(i) {
            *slot = value.as_bytes();
        }
        let bytes = parts.concat();
        self.set_bytes(field, &bytes)
    }

    /// Set a field from its sub-fields in order (`values[0]` is sub-field 1); fewer values than
    /// sub-fields leave the trailing ones absent.
    pub fn set_subfields(
        &mut self,
        profile: &Profile,
        field: u8,
        values: &[&str],
    ) -> Result<&mut Self, Error> {
        let spec = structured(profile, field)?;
        if values.len() > spec.subfields.len() {
            return Err(Error::UnknownSubfield {
                field,
                key: format!("#{}", values.len()),
            });
        }
        for (sf, v) in spec.subfields.iter().zip(values) {
            check_value(spec, sf, v)?;
        }
        let text = values.concat();
        self.set_text(field, &text)
    }
}
