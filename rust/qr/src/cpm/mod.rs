//! EMVCo Consumer-Presented Mode (EMV QRCPS-CPM v1.0): the consumer's phone shows a QR code
//! holding base64 of BER-TLV data, the POS scans it and sends the card data and the ICC-like
//! data (cryptogram, ATC, IAD, ...) to the acquirer, like a contactless card's data record.
//!
//! Data objects (EMV QRCPS-CPM §5, data object tables):
//!
//! * `85` Payload Format Indicator, "CPV01", first (mandatory).
//! * `61` Application Template, one or more: `4F` ADF Name (mandatory), `50` Application Label,
//!   `57` Track 2 Equivalent Data, `5A` PAN, `5F20` Cardholder Name, `5F2D` Language Preference,
//!   `5F50` Issuer URL, `9F08` Application Version Number, `9F19` Token Requestor ID, `9F24`
//!   Payment Account Reference, `9F25` Last 4 Digits of PAN, `63` Application Specific
//!   Transparent Template (the ICC data: `9F26`, `9F27`, `9F10`, `9F36`, `82`, `9F37`, ...).
//! * `62` Common Data Template (optional): the same data objects common to all applications,
//!   with `64` Common Data Transparent Template.
//!
//! Either `57` or `5A` must be present in the application or the common data.

mod card;

pub use card::{Pan, Track2};

use crate::error::QrError;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use smartpos_tlv::{Tag, Tlv, TlvBuilder, TlvReader};
use std::fmt;

const PFI: Tag = Tag(0x85);
const APPLICATION_TEMPLATE: Tag = Tag(0x61);
const COMMON_DATA_TEMPLATE: Tag = Tag(0x62);
const APP_TRANSPARENT: Tag = Tag(0x63);
const COMMON_TRANSPARENT: Tag = Tag(0x64);

/// The Payload Format Indicator value of this version of the specification.
pub const PAYLOAD_FORMAT_INDICATOR: &str = "CPV01";

/// One primitive data object (tag and value), e.g. for ISO 8583 field 55.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DataObject {
    /// The tag.
    pub tag: Tag,
    /// The value.
    pub value: Vec<u8>,
}

impl DataObject {
    /// A data object.
    pub fn new(tag: Tag, value: impl Into<Vec<u8>>) -> Self {
        DataObject {
            tag,
            value: value.into(),
        }
    }
}

/// An Application Template (61) or the Common Data Template (62).
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct CpmApplication {
    /// 4F ADF Name (AID); mandatory in an Application Template.
    pub aid: Option<Vec<u8>>,
    /// 50 Application Label.
    pub label: Option<String>,
    /// 57 Track 2 Equivalent Data.
    pub track2: Option<Track2>,
    /// 5A Application PAN.
    pub pan: Option<Pan>,
    /// 5F20 Cardholder Name.
    pub cardholder_name: Option<String>,
    /// 5F2D Language Preference (1-4 ISO 639-1 codes).
    pub language_preference: Option<String>,
    /// 5F50 Issuer URL.
    pub issuer_url: Option<String>,
    /// 9F08 Application Version Number.
    pub application_version: Option<Vec<u8>>,
    /// 9F19, 9F24, 9F25 and other identification objects that do not belong in field 55.
    pub identification: Vec<DataObject>,
    /// The transparent template (63 or 64) and any other primitive objects: the ICC-like data
    /// for the authorisation request (ISO 8583 field 55), in payload order.
    pub icc_data: Vec<DataObject>,
}

impl fmt::Debug for CpmApplication {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CpmApplication")
            .field("aid", &self.aid.as_deref().map(hex_upper))
            .field("label", &self.label)
            .field("track2", &self.track2)
            .field("pan", &self.pan)
            .field(
                "cardholder_name",
                &self.cardholder_name.as_ref().map(|_| "<hidden>"),
            )
            .field("language_preference", &self.language_preference)
            .field("icc_data", &self.icc_data.len())
            .finish_non_exhaustive()
    }
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// A decoded consumer-presented payload.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CpmPayload {
    /// The Application Templates (61), in payload order; at least one.
    pub applications: Vec<CpmApplication>,
    /// The Common Data Template (62).
    pub common: Option<CpmApplication>,
}

fn tlv_err(e: smartpos_tlv::TlvError) -> QrError {
    QrError::CpmTlv {
        reason: e.to_string(),
    }
}

fn text(tag: Tag, value: &[u8]) -> Result<String, QrError> {
    let s = std::str::from_utf8(value).map_err(|_| QrError::CpmInvalid {
        tag: tag.to_string(),
        reason: "text is not valid UTF-8".into(),
    })?;
    Ok(s.to_owned())
}

fn read_template(template: &Tlv<'_>, transparent: Tag) -> Result<CpmApplication, QrError> {
    let mut app = CpmApplication::default();
    let mut seen: Vec<Tag> = Vec::new();
    for child in template.children() {
        let child = child.map_err(tlv_err)?;
        if seen.contains(&child.tag) {
            return Err(QrError::CpmInvalid {
                tag: child.tag.to_string(),
                reason: format!("appears twice in template {}", template.tag),
            });
        }
        seen.push(child.tag);
        let v = child.value;
        match child.tag.0 {
            0x4F => {
                if !(5..=16).contains(&v.len()) {
                    return Err(QrError::CpmInvalid {
                        tag: "4F".into(),
                        reason: format!("an AID is 5 to 16 bytes, found {}", v.len()),
                    });
                }
                app.aid = Some(v.to_vec());
            }
            0x50 => app.label = Some(text(child.tag, v)?),
            0x57 => app.track2 = Some(Track2::from_bytes(v)?),
            0x5A => app.pan = Some(Pan::from_cn(v)?),
            0x5F20 => app.cardholder_name = Some(text(child.tag, v)?),
            0x5F2D => app.language_preference = Some(text(child.tag, v)?),
            0x5F50 => app.issuer_url = Some(text(child.tag, v)?),
            0x9F08 => app.application_version = Some(v.to_vec()),
            0x9F19 | 0x9F24 | 0x9F25 => app.identification.push(DataObject::new(child.tag, v)),
            _ if child.tag == transparent => {
                for inner in child.children() {
                    let inner = inner.map_err(tlv_err)?;
                    if inner.is_constructed() {
                        return Err(QrError::CpmInvalid {
                            tag: inner.tag.to_string(),
                            reason: format!("template {transparent} holds primitive objects only"),
                        });
                    }
                    if app.icc_data.iter().any(|d| d.tag == inner.tag) {
                        return Err(QrError::CpmInvalid {
                            tag: inner.tag.to_string(),
                            reason: "appears twice in the ICC data".into(),
                        });
                    }
                    app.icc_data.push(DataObject::new(inner.tag, inner.value));
                }
            }
            _ if child.is_constructed() => {
                return Err(QrError::CpmInvalid {
                    tag: child.tag.to_string(),
                    reason: format!("unexpected template inside {}", template.tag),
                });
            }
            _ => {
                if app.icc_data.iter().any(|d| d.tag == child.tag) {
                    return Err(QrError::CpmInvalid {
                        tag: child.tag.to_string(),
                        reason: "appears twice in the ICC data".into(),
                    });
                }
                app.icc_data.push(DataObject::new(child.tag, v));
            }
        }
    }
    Ok(app)
}

impl CpmPayload {
    /// Decodes the text read from the QR code: base64 (RFC 4648 §4, with padding) of BER-TLV.
    pub fn parse(payload: &str) -> Result<Self, QrError> {
        if payload.is_empty() {
            return Err(QrError::Empty);
        }
        let bytes = STANDARD.decode(payload).map_err(|e| QrError::CpmBase64 {
            reason: e.to_string(),
        })?;
        Self::from_bytes(&bytes)
    }

    /// Decodes the BER-TLV bytes (after base64).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, QrError> {
        let mut reader = TlvReader::new(bytes);
        let first = reader
            .next()
            .transpose()
            .map_err(tlv_err)?
            .ok_or(QrError::CpmMissingTag {
                tag: "85",
                name: "Payload Format Indicator",
            })?;
        if first.tag != PFI {
            return Err(QrError::CpmInvalid {
                tag: first.tag.to_string(),
                reason: "the Payload Format Indicator (85) must come first".into(),
            });
        }
        if first.value != PAYLOAD_FORMAT_INDICATOR.as_bytes() {
            return Err(QrError::CpmInvalid {
                tag: "85".into(),
                reason: format!(
                    "payload format indicator must be \"CPV01\", found {:?}",
                    String::from_utf8_lossy(first.value)
                ),
            });
        }
        let mut applications = Vec::new();
        let mut common = None;
        for object in reader {
            let object = object.map_err(tlv_err)?;
            match object.tag {
                APPLICATION_TEMPLATE => {
                    let app = read_template(&object, APP_TRANSPARENT)?;
                    if app.aid.is_none() {
                        return Err(QrError::CpmMissingTag {
                            tag: "4F",
                            name: "ADF Name in the Application Template",
                        });
                    }
                    applications.push(app);
                }
                COMMON_DATA_TEMPLATE if common.is_none() => {
                    common = Some(read_template(&object, COMMON_TRANSPARENT)?);
                }
                COMMON_DATA_TEMPLATE => {
                    return Err(QrError::CpmInvalid {
                        tag: "62".into(),
                        reason: "appears twice".into(),
                    });
                }
                PFI => {
                    return Err(QrError::CpmInvalid {
                        tag: "85".into(),
                        reason: "appears twice".into(),
                    });
                }
                other => {
                    return Err(QrError::CpmInvalid {
                        tag: other.to_string(),
                        reason: "not allowed at the top level (85, 61, 62 only)".into(),
                    });
                }
            }
        }
        if applications.is_empty() {
            return Err(QrError::CpmMissingTag {
                tag: "61",
                name: "Application Template",
            });
        }
        let payload = CpmPayload {
            applications,
            common,
        };
        if payload.track2().is_none() && payload.pan().is_none() {
            return Err(QrError::CpmMissingTag {
                tag: "57",
                name: "Track 2 Equivalent Data or Application PAN (5A)",
            });
        }
        Ok(payload)
    }

    /// Track 2 of the first application, else of the common data.
    pub fn track2(&self) -> Option<&Track2> {
        self.sources().find_map(|a| a.track2.as_ref())
    }

    /// PAN from tag 5A, else from track 2 (first application first, then the common data).
    pub fn pan(&self) -> Option<&Pan> {
        self.sources()
            .find_map(|a| a.pan.as_ref())
            .or_else(|| self.track2().map(Track2::pan))
    }

    /// AID of the first application.
    pub fn aid(&self) -> Option<&[u8]> {
        self.applications.first().and_then(|a| a.aid.as_deref())
    }

    fn sources(&self) -> impl Iterator<Item = &CpmApplication> {
        self.applications
            .first()
            .into_iter()
            .chain(self.common.as_ref())
    }

    /// The ICC-like data of the first application followed by the common data's (a tag in both
    /// is taken from the application), ready for ISO 8583 field 55.
    pub fn icc_data(&self) -> Vec<DataObject> {
        let mut out: Vec<DataObject> = Vec::new();
        for app in self.sources() {
            for object in &app.icc_data {
                if !out.iter().any(|o| o.tag == object.tag) {
                    out.push(object.clone());
                }
            }
        }
        out
    }

    /// [`Self::icc_data`] as concatenated BER-TLV (the value of ISO 8583 field 55).
    pub fn field55(&self) -> Vec<u8> {
        let mut builder = TlvBuilder::new();
        for object in self.icc_data() {
            builder.push(object.tag, &object.value);
        }
        builder.finish()
    }

    /// The BER-TLV bytes of this payload (85 first, then each 61, then 62).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut builder = TlvBuilder::new();
        builder.push(PFI, PAYLOAD_FORMAT_INDICATOR.as_bytes());
        for app in &self.applications {
            builder.push_constructed(APPLICATION_TEMPLATE, |b| {
                write_template(b, app, APP_TRANSPARENT)
            });
        }
        if let Some(common) = &self.common {
            builder.push_constructed(COMMON_DATA_TEMPLATE, |b| {
                write_template(b, common, COMMON_TRANSPARENT)
            });
        }
        builder.finish()
    }

    /// The text to put in the QR code: base64 of [`Self::to_bytes`]. Validated by decoding it
    /// back, so an inconsistent model gives the error a scanner would report.
    pub fn to_base64(&self) -> Result<String, QrError> {
        let text = STANDARD.encode(self.to_bytes());
        CpmPayload::parse(&text)?;
        Ok(text)
    }
}

fn write_template(b: &mut TlvBuilder, app: &CpmApplication, transparent: Tag) {
    if let Some(aid) = &app.aid {
        b.push(Tag(0x4F), aid);
    }
    if let Some(label) = &app.label {
        b.push(Tag(0x50), label.as_bytes());
    }
    if let Some(track2) = &app.track2 {
        b.push(Tag(0x57), &track2.to_bytes());
    }
    if let Some(pan) = &app.pan {
        b.push(Tag(0x5A), &pan.to_cn());
    }
    if let Some(name) = &app.cardholder_name {
        b.push(Tag(0x5F20), name.as_bytes());
    }
    if let Some(lang) = &app.language_preference {
        b.push(Tag(0x5F2D), lang.as_bytes());
    }
    if let Some(url) = &app.issuer_url {
        b.push(Tag(0x5F50), url.as_bytes());
    }
    if let Some(version) = &app.application_version {
        b.push(Tag(0x9F08), version);
    }
    for object in &app.identification {
        b.push(object.tag, &object.value);
    }
    if !app.icc_data.is_empty() {
        b.push_constructed(transparent, |t| {
            for object in &app.icc_data {
                t.push(object.tag, &object.value);
            }
        });
    }
}
