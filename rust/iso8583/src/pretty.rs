//! A human-readable, masked rendering of a frame: one line per field with number, name, format and
//! value; sub-fields and the BER-TLV content of field 55 indented below. PAN, tracks, PIN block and
//! MACs are masked as described in [`crate::mask`]; the full PAN never appears.

use crate::frame::Frame;
use crate::icc;
use crate::mask::{Sensitivity, masked_text, sensitivity};
use crate::message::Message;
use crate::profile::Profile;
use crate::spec::{FieldSpec, Length};
use std::fmt::Write;

fn format_of(spec: &FieldSpec) -> String {
    match spec.length {
        Length::Fixed(l) => format!("{}{}", spec.kind, l),
        Length::Variable { max, .. } => format!("{}..{}", spec.kind, max),
    }
}

impl Profile {
    /// The masked, multi-line rendering of a frame.
    pub fn pretty(&self, frame: &Frame) -> String {
        let mut out = String::new();
        if let Some(t) = frame.tpdu {
            let _ = writeln!(out, "TPDU    {}", hex::encode_upper(t.to_bytes()));
        }
        if !frame.header.is_empty() {
            let _ = writeln!(out, "Header  {}", hex::encode_upper(&frame.header));
        }
        out.push_str(&self.pretty_message(&frame.message));
        out
    }

    /// The masked, multi-line rendering of a message.
    pub fn pretty_message(&self, message: &Message) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "MTI     {}", message.mti());
        let bitmap = message.bitmap().to_be_bytes();
        let words = if message.bitmap() & crate::message::bit(1) != 0 {
            16
        } else {
            8
        };
        let _ = writeln!(
            out,
            "Bitmap  {}",
            hex::encode_upper(bitmap.get(..words).unwrap_or(&bitmap))
        );
        for (n, v) in message.fields() {
            let (name, fmt) = match self.field(n) {
                Some(s) => (s.name.as_str(), format_of(s)),
                None => ("(not in profile)", String::from("?")),
            };
            let shown = match sensitivity(n) {
                Sensitivity::Icc => format!("({} bytes)", v.len()),
                _ => masked_text(n, v),
            };
            let _ = writeln!(out, "{n:>4}  {name:<40} {fmt:<9} {shown}");
            if sensitivity(n) == Sensitivity::Icc {
                match icc::icc_lines(v) {
                    Ok(lines) => {
                        for (depth, line) in lines {
                            let _ = writeln!(out, "{:width$}{line}", "", width = 10 + depth * 2);
                        }
                    }
                    Err(e) => {
                        let _ = writeln!(out, "{:10}not BER-TLV ({e}); content hidden", "");
                    }
                }
            } else if sensitivity(n) == Sensitivity::Clear
                && let Ok(subs) = message.subfields(self, n)
            {
                for (sf, text) in subs {
                    let _ = writeln!(out, "{:10}{:<8} {:<38} {text}", "", sf.id, sf.name);
                }
            }
        }
        out
    }
}
