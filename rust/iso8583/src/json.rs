//! A JSON form of a frame, for tools and test fixtures:
//! `{"mti":"0200","tpdu":"6000010000","header":"603100310000","fields":{"2":"6222...","55":"9F26..."}}`.
//!
//! Values are the profile's text for character and numeric fields (digits for `n` whatever the wire
//! encoding, `=` as the track separator, `C`/`D` + digits for `x+n`) and upper-case hex for binary
//! (`b`) fields. Text that is not UTF-8 (GBK in a `high_bytes` field) is `{"hex":"..."}` with its
//! bytes, which is also accepted for any field on input. `tpdu` and `header` appear when the
//! profile has them. The JSON carries the values in
//! clear (it is the message itself); use [`crate::Profile::pretty`] to show a message to people.

use crate::error::Error;
use crate::frame::{Frame, Tpdu};
use crate::message::Message;
use crate::mti::Mti;
use crate::profile::Profile;
use crate::spec::FieldKind;
use serde_json::{Map, Value, json};

impl Profile {
    /// The JSON form of a frame.
    pub fn frame_to_json(&self, frame: &Frame) -> Value {
        let mut obj = Map::new();
        obj.insert("mti".into(), Value::String(frame.message.mti().to_string()));
        if let Some(t) = frame.tpdu {
            obj.insert(
                "tpdu".into(),
                Value::String(hex::encode_upper(t.to_bytes())),
            );
        }
        if !frame.header.is_empty() {
            obj.insert(
                "header".into(),
                Value::String(hex::encode_upper(&frame.header)),
            );
        }
        obj.insert(
            "fields".into(),
            Value::Object(self.fields_to_json(&frame.message)),
        );
        Value::Object(obj)
    }

    /// The JSON form of a message (no envelope).
    pub fn message_to_json(&self, message: &Message) -> Value {
        self.frame_to_json(&Frame::bare(message.clone()))
    }

    fn fields_to_json(&self, message: &Message) -> Map<String, Value> {
        let mut fields = Map::new();
        for (n, v) in message.fields() {
            let binary = self.field(n).is_none_or(|s| s.kind == FieldKind::B);
            let value = if binary {
                Value::String(hex::encode_upper(v))
            } else {
                match std::str::from_utf8(v) {
                    Ok(s) => Value::String(s.to_string()),
                    // Text that is not UTF-8 (e.g. GBK in a `high_bytes` field): its bytes in hex.
                    Err(_) => json!({ "hex": hex::encode_upper(v) }),
                }
            };
            fields.insert(n.to_string(), value);
        }
        fields
    }

    /// A frame from its JSON form. Missing `tpdu`/`header` are errors when the profile has them.
    /// Field values are only parsed here (text, or hex for binary fields); types and lengths are
    /// checked when the frame is packed.
    pub fn frame_from_json(&self, json: &Value) -> Result<Frame, Error> {
        let obj = json
            .as_object()
            .ok_or_else(|| Error::Json("top level is not an object".into()))?;
        for key in obj.keys() {
            if !matches!(key.as_str(), "mti" | "tpdu" | "header" | "fields") {
                return Err(Error::Json(format!(
                    "unknown key \"{key}\" (mti, tpdu, header, fields)"
                )));
            }
        }
        let mti_text = obj
            .get("mti")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::Json("\"mti\" (a string such as \"0200\") is missing".into()))?;
        let mti = Mti::new(mti_text)?;
        let hex_of = |key: &str| -> Result<Option<Vec<u8>>, Error> {
            match obj.get(key) {
                None => Ok(None),
                Some(Value::String(s)) => hex::decode(s)
                    .map(Some)
                    .map_err(|e| Error::Json(format!("\"{key}\" is not hex: {e}"))),
                Some(_) => Err(Error::Json(format!("\"{key}\" must be a hex string"))),
            }
        };
        let tpdu = match hex_of("tpdu")? {
            Some(b) => Some(
                Tpdu::from_bytes(&b)
                    .ok_or_else(|| Error::Json(format!("\"tpdu\" has {} bytes, not 5", b.len())))?,
            ),
            None => None,
        };
        let header = hex_of("header")?.unwrap_or_default();
        let mut message = Message::new(mti);
        if let Some(fields) = obj.get("fields") {
            let fields = fields
                .as_object()
                .ok_or_else(|| Error::Json("\"fields\" is not an object".into()))?;
            for (key, value) in fields {
                let n: u8 = key
                    .parse()
                    .ok()
                    .filter(|n| (2..=128).contains(n))
                    .ok_or_else(|| {
                        Error::Json(format!("field key \"{key}\" is not a field number 2..=128"))
                    })?;
                let spec = self.field(n).ok_or_else(|| Error::UndefinedField {
                    field: n,
                    profile: self.name().to_string(),
                    offset: None,
                })?;
                if let Some(h) = value
                    .as_object()
                    .and_then(|o| o.get("hex"))
                    .and_then(Value::as_str)
                {
                    let bytes = hex::decode(h)
                        .map_err(|e| Error::Json(format!("field {n}: \"hex\" is not hex ({e})")))?;
                    message.set_bytes(n, &bytes)?;
                    continue;
                }
                let text = value.as_str().ok_or_else(|| {
                    Error::Json(format!(
                        "field {n}: value must be a string or {{\"hex\": ...}}"
                    ))
                })?;
                if spec.kind == FieldKind::B {
                    let bytes = hex::decode(text)
                        .map_err(|e| Error::Json(format!("field {n}: not hex ({e})")))?;
                    message.set_binary(n, &bytes)?;
                } else {
                    message.set_text(n, text)?;
                }
            }
        }
        Ok(Frame {
            tpdu,
            header,
            message,
        })
    }
}
