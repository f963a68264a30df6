//! Parsing an MPM payload into [`MpmPayload`] (EMV QRCPS-MPM v1.1 §4 ID allocation, §3 data
//! formats, CRC of ID "63").
//!
//! Checks run in three layers so the error names the first real problem: framing (ID/length/value,
//! duplicate IDs, "00" first and "63" last), then the CRC, then every field's format and the
//! cross-field rules (mandatory fields, at least one merchant account, 55/56/57 consistency).

use super::data_object::{DataObject, read_data_objects};
use super::fields;
use super::model::{
    AccountInfo, AdditionalData, CrcCheck, MerchantAccount, MerchantLanguage, MerchantPresentedQr,
    MpmPayload, PointOfInitiation, Template, TipOrConvenienceFee,
};
use crate::crc::crc16_ccitt_false;
use crate::error::{FieldId, QrError};

/// Root IDs whose value is itself a list of data objects: 26-51, 62, 64 and 80-99.
pub fn is_template_id(id: u8) -> bool {
    matches!(id, 26..=51 | 62 | 64 | 80..=99)
}

/// Parses and fully validates an MPM payload, CRC included.
pub fn parse(payload: &str) -> Result<MpmPayload, QrError> {
    let (objects, crc) = read_framing(payload)?;
    if !crc.is_ok() {
        return Err(QrError::BadCrc {
            found: crc.found,
            computed: crc.computed,
        });
    }
    let qr = model_from_objects(&objects)?;
    Ok(MpmPayload {
        qr,
        data_objects: objects,
        crc: crc.found,
    })
}

/// Parses and validates everything but the CRC, and reports the CRC check beside the result.
/// For diagnostics (the `smartpos qr parse` tool); a payment must use [`parse`].
pub fn parse_unverified(payload: &str) -> Result<(MpmPayload, CrcCheck), QrError> {
    let (objects, crc) = read_framing(payload)?;
    let qr = model_from_objects(&objects)?;
    Ok((
        MpmPayload {
            qr,
            data_objects: objects,
            crc: crc.found,
        },
        crc,
    ))
}

/// Framing only: the root data objects, "00" first with value "01", "63" last with four hex
/// digits, and the CRC computed over the payload up to and including "6304".
pub fn read_framing(payload: &str) -> Result<(Vec<DataObject>, CrcCheck), QrError> {
    if payload.is_empty() {
        return Err(QrError::Empty);
    }
    let objects = read_data_objects(payload, None)?;
    match objects.first() {
        Some(first) if first.id == 0 => {}
        _ if objects.iter().any(|o| o.id == 0) => {
            return Err(QrError::Order {
                field: FieldId::root(0),
                reason: "the Payload Format Indicator must be the first data object",
            });
        }
        _ => {
            return Err(QrError::MissingField {
                field: FieldId::root(0),
                name: "Payload Format Indicator",
            });
        }
    }
    let Some(last) = objects.last().filter(|o| o.id == 63) else {
        return Err(if objects.iter().any(|o| o.id == 63) {
            QrError::Order {
                field: FieldId::root(63),
                reason: "the CRC must be the last data object",
            }
        } else {
            QrError::MissingField {
                field: FieldId::root(63),
                name: "CRC",
            }
        });
    };
    let crc_field = FieldId::root(63);
    if last.value.len() != 4 || !last.value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(if fields::char_len(&last.value) != 4 {
            QrError::BadLength {
                field: crc_field,
                length: fields::char_len(&last.value),
                expected: "exactly 4".into(),
            }
        } else {
            QrError::invalid(crc_field, "the CRC must be four hexadecimal digits")
        });
    }
    let found = u16::from_str_radix(&last.value, 16)
        .map_err(|_| QrError::invalid(crc_field, "the CRC must be four hexadecimal digits"))?;
    // The payload ends with the four ASCII CRC digits, so dropping four bytes stays on a char
    // boundary; the CRC covers everything before them, "6304" included.
    let covered = payload
        .len()
        .checked_sub(4)
        .and_then(|end| payload.get(..end))
        .ok_or_else(|| QrError::malformed("63", "payload too short for a CRC"))?;
    let computed = crc16_ccitt_false(covered.as_bytes());
    Ok((objects, CrcCheck { found, computed }))
}

fn template(id: u8, value: &str) -> Result<Template, QrError> {
    let mut guid = None;
    let mut rest = Vec::new();
    for object in read_data_objects(value, Some(id))? {
        let field = FieldId::sub(id, object.id);
        if object.id == 0 {
            fields::ans(field, &object.value, 1, 32)?;
            guid = Some(object.value);
        } else {
            fields::string(field, &object.value, 1, 99)?;
            rest.push(object);
        }
    }
    let guid = guid.ok_or(QrError::MissingField {
        field: FieldId::sub(id, 0),
        name: "Globally Unique Identifier",
    })?;
    Ok(Template {
        id,
        guid,
        fields: rest,
    })
}

fn additional_data(value: &str) -> Result<AdditionalData, QrError> {
    let mut data = AdditionalData::default();
    for object in read_data_objects(value, Some(62))? {
        let field = FieldId::sub(62, object.id);
        match object.id {
            9 => fields::consumer_data_request(field, &object.value)?,
            1..=8 => fields::ans(field, &object.value, 1, 25)?,
            _ => fields::string(field, &object.value, 1, 99)?,
        }
        if let Some(slot) = data.named_mut(object.id) {
            *slot = Some(object.value);
        } else if object.id >= 50 {
            data.payment_system_templates.push(object);
        } else {
            // 00 and 10-49 are RFU for EMVCo.
            data.rfu.push(object);
        }
    }
    Ok(data)
}

fn language(value: &str) -> Result<MerchantLanguage, QrError> {
    let mut preference = None;
    let mut name = None;
    let mut city = None;
    let mut rfu = Vec::new();
    for object in read_data_objects(value, Some(64))? {
        let field = FieldId::sub(64, object.id);
        match object.id {
            0 => {
                fields::language(field, &object.value)?;
                preference = Some(object.value);
            }
            1 => {
                fields::string(field, &object.value, 1, 25)?;
                name = Some(object.value);
            }
            2 => {
                fields::string(field, &object.value, 1, 15)?;
                city = Some(object.value);
            }
            _ => {
                fields::string(field, &object.value, 1, 99)?;
                rfu.push(object);
            }
        }
    }
    Ok(MerchantLanguage {
        language_preference: preference.ok_or(QrError::MissingField {
            field: FieldId::sub(64, 0),
            name: "Language Preference",
        })?,
        merchant_name: name.ok_or(QrError::MissingField {
            field: FieldId::sub(64, 1),
            name: "Merchant Name — Alternate Language",
        })?,
        merchant_city: city,
        rfu,
    })
}

fn mandatory(value: Option<String>, id: u8, name: &'static str) -> Result<String, QrError> {
    value.ok_or(QrError::MissingField {
        field: FieldId::root(id),
        name,
    })
}

/// Builds the typed model from root data objects (framing already checked), validating each
/// field's format and the cross-field rules.
pub(crate) fn model_from_objects(objects: &[DataObject]) -> Result<MerchantPresentedQr, QrError> {
    let mut point_of_initiation = None;
    let mut merchant_accounts = Vec::new();
    let (mut mcc, mut currency, mut amount, mut indicator, mut fixed, mut pct) =
        (None, None, None, None, None, None);
    let (mut country, mut name, mut city, mut postal) = (None, None, None, None);
    let mut additional = None;
    let mut lang = None;
    let mut rfu = Vec::new();
    let mut unreserved = Vec::new();

    for object in objects {
        let field = FieldId::root(object.id);
        let value = object.value.as_str();
        match object.id {
            0 => {
                fields::numeric(field, value, 2, 2)?;
                if value != "01" {
                    return Err(QrError::invalid(
                        field,
                        format!("payload format indicator must be \"01\", found {value:?}"),
                    ));
                }
            }
            1 => {
                fields::numeric(field, value, 2, 2)?;
                point_of_initiation = Some(match value {
                    "11" => PointOfInitiation::Static,
                    "12" => PointOfInitiation::Dynamic,
                    _ => {
                        return Err(QrError::invalid(
                            field,
                            format!(
                                "point of initiation must be \"11\" (static) or \"12\" (dynamic), found {value:?}"
                            ),
                        ));
                    }
                });
            }
            2..=25 => {
                fields::ans(field, value, 1, 99)?;
                merchant_accounts.push(MerchantAccount::primitive(object.id, value));
            }
            26..=51 => {
                merchant_accounts.push(MerchantAccount {
                    id: object.id,
                    info: AccountInfo::Template(template(object.id, value)?),
                });
            }
            52 => {
                fields::numeric(field, value, 4, 4)?;
                mcc = Some(value.to_owned());
            }
            53 => {
                fields::numeric(field, value, 3, 3)?;
                currency = Some(value.to_owned());
            }
            54 => {
                fields::amount(field, value)?;
                amount = Some(value.to_owned());
            }
            55 => {
                fields::numeric(field, value, 2, 2)?;
                if !matches!(value, "01" | "02" | "03") {
                    return Err(QrError::invalid(
                        field,
                        format!(
                            "tip or convenience indicator must be \"01\", \"02\" or \"03\", found {value:?}"
                        ),
                    ));
                }
                indicator = Some(value);
            }
            56 => {
                fields::amount(field, value)?;
                fixed = Some(value.to_owned());
            }
            57 => {
                fields::percentage(field, value)?;
                pct = Some(value.to_owned());
            }
            58 => {
                fields::country(field, value)?;
                country = Some(value.to_owned());
            }
            59 => {
                fields::ans(field, value, 1, 25)?;
                name = Some(value.to_owned());
            }
            60 => {
                fields::ans(field, value, 1, 15)?;
                city = Some(value.to_owned());
            }
            61 => {
                fields::ans(field, value, 1, 10)?;
                postal = Some(value.to_owned());
            }
            62 => additional = Some(additional_data(value)?),
            63 => {}
            64 => lang = Some(language(value)?),
            65..=79 => {
                fields::string(field, value, 1, 99)?;
                rfu.push(object.clone());
            }
            _ => unreserved.push(template(object.id, value)?),
        }
    }

    let tip = match (indicator, fixed, pct) {
        (None, None, None) => None,
        (None, Some(_), _) => {
            return Err(QrError::TipConsistency {
                reason: "56 (fixed convenience fee) requires 55 = \"02\"",
            });
        }
        (None, None, Some(_)) => {
            return Err(QrError::TipConsistency {
                reason: "57 (percentage convenience fee) requires 55 = \"03\"",
            });
        }
        (Some("01"), None, None) => Some(TipOrConvenienceFee::PromptConsumer),
        (Some("01"), _, _) => {
            return Err(QrError::TipConsistency {
                reason: "55 = \"01\" (prompt for tip) allows neither 56 nor 57",
            });
        }
        (Some("02"), Some(fee), None) => Some(TipOrConvenienceFee::FixedFee(fee)),
        (Some("02"), None, _) => {
            return Err(QrError::TipConsistency {
                reason: "55 = \"02\" requires 56 (fixed convenience fee)",
            });
        }
        (Some("02"), Some(_), Some(_)) => {
            return Err(QrError::TipConsistency {
                reason: "55 = \"02\" does not allow 57 (percentage convenience fee)",
            });
        }
        (Some(_), None, Some(p)) => Some(TipOrConvenienceFee::PercentageFee(p)),
        (Some(_), None, None) => {
            return Err(QrError::TipConsistency {
                reason: "55 = \"03\" requires 57 (percentage convenience fee)",
            });
        }
        (Some(_), Some(_), _) => {
            return Err(QrError::TipConsistency {
                reason: "55 = \"03\" does not allow 56 (fixed convenience fee)",
            });
        }
    };

    if merchant_accounts.is_empty() {
        return Err(QrError::MissingField {
            field: FieldId::root(2),
            name: "Merchant Account Information (at least one of IDs 02-51)",
        });
    }

    Ok(MerchantPresentedQr {
        point_of_initiation,
        merchant_accounts,
        merchant_category_code: mandatory(mcc, 52, "Merchant Category Code")?,
        transaction_currency: mandatory(currency, 53, "Transaction Currency")?,
        transaction_amount: amount,
        tip,
        country_code: mandatory(country, 58, "Country Code")?,
        merchant_name: mandatory(name, 59, "Merchant Name")?,
        merchant_city: mandatory(city, 60, "Merchant City")?,
        postal_code: postal,
        additional_data: additional,
        language: lang,
        rfu,
        unreserved_templates: unreserved,
    })
}
