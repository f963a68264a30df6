//! `smartpos tlv ...`: BER-TLV tools (EMV Book 3 Annex B).
//!
//! * `smartpos tlv decode HEX --json` → `{"tlv":[{"tag":"6F","name":"File Control Information
//!   (FCI) Template","value":"<hex>","children":[...]}, ...]}`. Every object has `tag` (upper
//!   hex), `name` (from the EMV dictionary, `null` for tags it does not know) and `value` (upper
//!   hex of the value field). Constructed objects also have `children` (always an array, possibly
//!   empty); primitive objects have no `children` key. PAN (`5A`) and track data (`56`, `57`,
//!   `9F1F`, `9F20`, `9F6B`, `DF812A`, `DF812B`) are masked: the PAN keeps its first 6 and last
//!   4 digits, everything else is `*`; such objects carry `"masked": true`.
//!   Without `--json`: an indented tree with names, and text for `a`/`an`/`ans` values.
//! * `smartpos tlv dol HEX --json` → `{"entries":[{"tag","name","format","length"}, ...],
//!   "total_len":N}` for a PDOL/CDOL/DDOL/TDOL value (`name`/`format` `null` for unknown tags).
//! * `smartpos tlv tag TAG --json` → `{"tag","name","format","min_len","max_len","source",
//!   "constructed","class"}` from the dictionary (exit 1 for a tag it does not know).
//!
//! Bad hex is a usage error (exit 2); malformed TLV an error naming offset, tag and reason (exit 1).

use crate::report::{CliResult, Report, UsageError, hex_upper, parse_hex};
use clap::Subcommand;
use serde_json::{Value, json};
use smartpos_tlv::dict::{self, Format};
use smartpos_tlv::dol::Dol;
use smartpos_tlv::{Class, Tag, TlvNode, mask};
use std::fmt::Write as _;

#[derive(Subcommand)]
pub enum Cmd {
    /// Decode BER-TLV data into a tree with EMV names (PAN and track data masked).
    Decode {
        /// The TLV bytes in hex (spaces allowed).
        hex: String,
    },
    /// List the entries of a Data Object List (PDOL, CDOL1/2, DDOL, TDOL).
    Dol {
        /// The DOL value in hex, e.g. 9F66049F02069F37049F1A02.
        hex: String,
    },
    /// Look a tag up in the EMV dictionary.
    Tag {
        /// The tag in hex, e.g. 9F26.
        tag: String,
    },
}

pub fn run(cmd: Cmd) -> CliResult {
    match cmd {
        Cmd::Decode { hex } => decode(&hex),
        Cmd::Dol { hex } => dol(&hex),
        Cmd::Tag { tag } => tag_info(&tag),
    }
}

fn decode(hex: &str) -> CliResult {
    let data = parse_hex("hex", hex)?;
    let nodes = TlvNode::parse_all(&data)?;
    let json = json!({ "tlv": nodes.iter().map(node_json).collect::<Vec<_>>() });
    let mut text = String::new();
    for node in &nodes {
        node_text(node, 0, &mut text);
    }
    if nodes.is_empty() {
        text.push_str("(no data objects)\n");
    }
    Ok(Report::with_text(json, text.trim_end()))
}

fn node_json(node: &TlvNode) -> Value {
    let (value, masked) = shown_value(node);
    let mut obj = json!({
        "tag": node.tag.to_string(),
        "name": dict::name(node.tag),
        "value": value,
    });
    if masked {
        obj["masked"] = Value::Bool(true);
    }
    if node.tag.is_constructed() {
        obj["children"] = Value::Array(node.children.iter().map(node_json).collect());
    }
    obj
}

fn node_text(node: &TlvNode, depth: usize, out: &mut String) {
    let indent = "  ".repeat(depth);
    let name = dict::name(node.tag).unwrap_or("(unknown tag)");
    if node.tag.is_constructed() {
        let _ = writeln!(
            out,
            "{indent}{} {name} ({} bytes)",
            node.tag,
            node.value.len()
        );
        for child in &node.children {
            node_text(child, depth + 1, out);
        }
        return;
    }
    let (value, masked) = shown_value(node);
    let _ = write!(out, "{indent}{} {name}: {value}", node.tag);
    let textual = matches!(
        dict::format(node.tag),
        Some(Format::A | Format::An | Format::Ans)
    );
    if !masked && textual && !node.value.is_empty() {
        if let Ok(s) = std::str::from_utf8(&node.value) {
            if s.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
                let _ = write!(out, " \"{s}\"");
            }
        }
    }
    out.push('\n');
}

/// The value as shown: upper hex, or masked for PAN and track data (principle 5).
fn shown_value(node: &TlvNode) -> (String, bool) {
    match mask::masked_hex(node.tag, &node.value) {
        Some(masked) => (masked, true),
        None => (hex_upper(&node.value), false),
    }
}

fn dol(hex: &str) -> CliResult {
    let data = parse_hex("hex", hex)?;
    let dol = Dol::parse(&data)?;
    let mut text = String::new();
    let entries: Vec<Value> = dol
        .entries()
        .iter()
        .map(|e| {
            let info = dict::lookup(e.tag);
            let _ = writeln!(
                text,
                "{} {} bytes  {}",
                e.tag,
                e.len,
                info.map_or("(unknown tag)", |i| i.name)
            );
            json!({
                "tag": e.tag.to_string(),
                "name": info.map(|i| i.name),
                "format": info.map(|i| i.format.as_str()),
                "length": e.len,
            })
        })
        .collect();
    let _ = write!(text, "total {} bytes", dol.total_len());
    let json = json!({ "entries": entries, "total_len": dol.total_len() });
    Ok(Report::with_text(json, text))
}

fn tag_info(tag: &str) -> CliResult {
    let bytes = parse_hex("tag", tag)?;
    let tag = Tag::from_bytes(&bytes).map_err(|e| UsageError(format!("--tag: {e}")))?;
    let Some(info) = dict::lookup(tag) else {
        return Err(format!("tag {tag} is not in the EMV dictionary").into());
    };
    let class = match tag.class() {
        Class::Universal => "universal",
        Class::Application => "application",
        Class::ContextSpecific => "context-specific",
        Class::Private => "private",
    };
    let json = json!({
        "tag": tag.to_string(),
        "name": info.name,
        "format": info.format.as_str(),
        "min_len": info.min_len,
        "max_len": info.max_len,
        "source": info.source.as_str(),
        "constructed": tag.is_constructed(),
        "class": class,
    });
    let text = format!(
        "{tag} {}\n  format {}, {}..{} bytes, source {}, {class}{}",
        info.name,
        info.format,
        info.min_len,
        info.max_len,
        info.source,
        if tag.is_constructed() {
            ", constructed"
        } else {
            ""
        }
    );
    Ok(Report::with_text(json, text))
}
