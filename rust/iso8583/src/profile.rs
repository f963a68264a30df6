//! Profiles: a named message layout (envelope, MTI and bitmap encoding, field table, mandatory
//! fields per MTI), loaded from JSON and compiled once into [`FieldSpec`]s.
//!
//! Two profiles are built in (the JSON files under `profiles/`, embedded at compile time):
//! `cups-pos` (a China UnionPay-style POS layout) and `iso87-ascii` (ISO 8583:1987 in ASCII, the
//! field table of pyiso8583's `default_ascii` spec). Users can load their own with
//! [`Profile::from_json_str`] / [`Profile::from_file`]; `docs` in the JSON describe the format.
//!
//! JSON format (unknown keys are rejected):
//! ```json
//! { "name": "my-host", "description": "...",
//!   "envelope": { "tpdu": true, "header_len": 6 },          // optional
//!   "mti": "bcd" | "ascii", "bitmap": "binary" | "hex",
//!   "defaults": { "numeric": "bcd" | "ascii", "text": "ascii", "binary": "binary" | "hex",
//!                 "prefix": "bcd" | "ascii" | "binary", "fixed_pad": "left-0", "var_pad": "right-0",
//!                 "counts": "units" | "encoded", "lenient_pad": false },
//!   "fields": { "2": { "name": "PAN", "type": "n", "length": "LLVAR", "max": 19 },
//!               "4": { "name": "Amount", "type": "n", "length": "fixed", "len": 12 },
//!               "60": { "type": "n", "length": "LLLVAR", "max": 17,
//!                       "subfields": [ { "id": "60.1", "name": "...", "type": "n", "len": 2 } ] } },
//!   "mandatory": { "0200": [3, 11, 41] } }
//! ```
//! A field may override `encoding`, `prefix`, `pad`, `counts` and `lenient_pad` (accept a 0 or F pad
//! nibble on unpack whatever `pad` says; pack always writes `pad`); a `z` field in BCD may set
//! `"raw_nibbles": true` to carry partly encrypted track data (nibbles as hex characters); an `ans`
//! field may set `"high_bytes": true` to allow bytes 0x80..=0xFF (GBK or UTF-8 text). `counts: "units"` means lengths
//! (fixed `len`, `max`, and the prefix value) count digits for n/z/x+n, characters for an/ans and
//! bytes for b; `"encoded"` counts bytes on the wire (not allowed with BCD data).

use crate::error::ProfileError;
use crate::message::bit;
use crate::mti::Mti;
use crate::spec::{
    DataEncoding, FieldKind, FieldSpec, Length, LengthCounts, Pad, PrefixEncoding, SubfieldSpec,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// How the MTI is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MtiEncoding {
    /// Four ASCII digits.
    Ascii,
    /// Two bytes of packed BCD.
    Bcd,
}

/// How the bitmaps are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitmapEncoding {
    /// 8 bytes per bitmap.
    Binary,
    /// 16 hex-ASCII characters per bitmap (upper-case when packed; either case accepted).
    Hex,
}

/// A compiled message layout. Cheap to share (`&'static` for the built-ins); no JSON at pack time.
#[derive(Debug, Clone)]
pub struct Profile {
    name: String,
    description: String,
    tpdu: bool,
    header_len: usize,
    mti: MtiEncoding,
    bitmap: BitmapEncoding,
    pub(crate) fields: Vec<Option<FieldSpec>>,
    pub(crate) defined: u128,
    mandatory: Vec<(Mti, u128)>,
}

const CUPS_POS_JSON: &str = include_str!("../profiles/cups-pos.json");
const ISO87_ASCII_JSON: &str = include_str!("../profiles/iso87-ascii.json");

/// Names of the built-in profiles.
pub const BUILTIN_PROFILES: [&str; 2] = ["cups-pos", "iso87-ascii"];

fn builtin_cell(cell: &'static OnceLock<Profile>, name: &str, json: &str) -> &'static Profile {
    cell.get_or_init(|| match Profile::from_json_str(name, json) {
        Ok(p) => p,
        // The built-in JSON is part of this crate and covered by tests; failing here is a build defect.
        Err(e) => panic!("built-in profile {name} is invalid: {e}"),
    })
}

impl Profile {
    /// The UnionPay-style POS profile (TPDU + 6-byte header, BCD MTI, binary bitmaps).
    pub fn cups_pos() -> &'static Profile {
        static CELL: OnceLock<Profile> = OnceLock::new();
        builtin_cell(&CELL, "cups-pos", CUPS_POS_JSON)
    }

    /// ISO 8583:1987 all-ASCII profile, field table of pyiso8583 4.0.1 `specs.default_ascii`.
    pub fn iso87_ascii() -> &'static Profile {
        static CELL: OnceLock<Profile> = OnceLock::new();
        builtin_cell(&CELL, "iso87-ascii", ISO87_ASCII_JSON)
    }

    /// A built-in profile by name.
    pub fn builtin(name: &str) -> Option<&'static Profile> {
        match name {
            "cups-pos" => Some(Profile::cups_pos()),
            "iso87-ascii" => Some(Profile::iso87_ascii()),
            _ => None,
        }
    }

    /// A built-in profile by name, or else a JSON profile file at that path.
    pub fn load(name_or_path: &str) -> Result<Profile, ProfileError> {
        if let Some(p) = Profile::builtin(name_or_path) {
            return Ok(p.clone());
        }
        let path = std::path::Path::new(name_or_path);
        if path.exists() {
            Profile::from_file(path)
        } else {
            Err(ProfileError::Unknown(name_or_path.to_string()))
        }
    }

    /// Load a JSON profile file.
    pub fn from_file(path: &std::path::Path) -> Result<Profile, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|error| ProfileError::Io {
            path: path.display().to_string(),
            error,
        })?;
        Profile::from_json_str(&path.display().to_string(), &text)
    }

    /// Compile a JSON profile; `source_name` is used in error messages.
    pub fn from_json_str(source_name: &str, json: &str) -> Result<Profile, ProfileError> {
        let doc: ProfileJson = serde_json::from_str(json).map_err(|error| ProfileError::Json {
            source_name: source_name.to_string(),
            error,
        })?;
        compile(source_name, doc)
    }

    /// The profile's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The profile's description.
    pub fn description(&self) -> &str {
        &self.description
    }
    /// Whether messages carry a 5-byte TPDU in front.
    pub fn has_tpdu(&self) -> bool {
        self.tpdu
    }
    /// Length of the fixed header after the TPDU (0 for none).
    pub fn header_len(&self) -> usize {
        self.header_len
    }
    /// MTI encoding.
    pub fn mti_encoding(&self) -> MtiEncoding {
        self.mti
    }
    /// Bitmap encoding.
    pub fn bitmap_encoding(&self) -> BitmapEncoding {
        self.bitmap
    }
    /// The spec of field `n`, if the profile defines it.
    pub fn field(&self, n: u8) -> Option<&FieldSpec> {
        self.fields.get(usize::from(n)).and_then(Option::as_ref)
    }
    /// All defined fields, ascending.
    pub fn field_specs(&self) -> impl Iterator<Item = &FieldSpec> {
        self.fields.iter().flatten()
    }
    /// Fields the profile requires for `mti` (ascending).
    pub fn mandatory_fields(&self, mti: Mti) -> Vec<u8> {
        let mask = self.mandatory_mask(mti);
        (2u8..=128).filter(|&n| mask & bit(n) != 0).collect()
    }
    pub(crate) fn mandatory_mask(&self, mti: Mti) -> u128 {
        self.mandatory
            .iter()
            .find(|(m, _)| *m == mti)
            .map_or(0, |(_, mask)| *mask)
    }
}

// ----- JSON schema -----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileJson {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    notes: Vec<String>,
    #[serde(default)]
    envelope: Option<EnvelopeJson>,
    mti: String,
    bitmap: String,
    #[serde(default)]
    defaults: DefaultsJson,
    fields: BTreeMap<String, FieldJson>,
    #[serde(default)]
    mandatory: BTreeMap<String, Vec<u16>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvelopeJson {
    #[serde(default)]
    tpdu: bool,
    #[serde(default)]
    header_len: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DefaultsJson {
    #[serde(default = "d_numeric")]
    numeric: String,
    #[serde(default = "d_text")]
    text: String,
    #[serde(default = "d_binary")]
    binary: String,
    #[serde(default = "d_prefix")]
    prefix: String,
    #[serde(default = "d_pad")]
    fixed_pad: String,
    #[serde(default = "d_pad")]
    var_pad: String,
    #[serde(default = "d_counts")]
    counts: String,
    #[serde(default)]
    lenient_pad: bool,
}

fn d_numeric() -> String {
    "ascii".into()
}
fn d_text() -> String {
    "ascii".into()
}
fn d_binary() -> String {
    "binary".into()
}
fn d_prefix() -> String {
    "ascii".into()
}
fn d_pad() -> String {
    "left-0".into()
}
fn d_counts() -> String {
    "units".into()
}

impl Default for DefaultsJson {
    fn default() -> Self {
        DefaultsJson {
            numeric: d_numeric(),
            text: d_text(),
            binary: d_binary(),
            prefix: d_prefix(),
            fixed_pad: d_pad(),
            var_pad: d_pad(),
            counts: d_counts(),
            lenient_pad: false,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldJson {
    #[serde(default)]
    name: String,
    #[serde(rename = "type")]
    kind: String,
    length: String,
    #[serde(default)]
    len: Option<usize>,
    #[serde(default)]
    max: Option<usize>,
    #[serde(default)]
    encoding: Option<String>,
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    pad: Option<String>,
    #[serde(default)]
    counts: Option<String>,
    #[serde(default)]
    lenient_pad: Option<bool>,
    #[serde(default)]
    raw_nibbles: bool,
    #[serde(default)]
    high_bytes: bool,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    subfields: Vec<SubfieldJson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubfieldJson {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    len: Option<usize>,
    #[serde(default)]
    max: Option<usize>,
}

// ----- compilation -----

struct Ctx<'a> {
    source: &'a str,
}

impl Ctx<'_> {
    fn err(&self, what: impl Into<String>, reason: impl Into<String>) -> ProfileError {
        ProfileError::Invalid {
            source_name: self.source.to_string(),
            what: what.into(),
            reason: reason.into(),
        }
    }
}

fn parse_encoding(s: &str) -> Option<DataEncoding> {
    Some(match s {
        "ascii" => DataEncoding::Ascii,
        "bcd" => DataEncoding::Bcd,
        "binary" => DataEncoding::Binary,
        "hex" => DataEncoding::Hex,
        _ => return None,
    })
}

fn parse_prefix(s: &str) -> Option<PrefixEncoding> {
    Some(match s {
        "ascii" => PrefixEncoding::Ascii,
        "bcd" => PrefixEncoding::Bcd,
        "binary" => PrefixEncoding::Binary,
        _ => return None,
    })
}

fn parse_pad(s: &str) -> Option<Pad> {
    Some(match s {
        "left-0" => Pad::Left0,
        "left-f" | "left-F" => Pad::LeftF,
        "right-0" => Pad::Right0,
        "right-f" | "right-F" => Pad::RightF,
        _ => return None,
    })
}

fn parse_counts(s: &str) -> Option<LengthCounts> {
    Some(match s {
        "units" => LengthCounts::Units,
        "encoded" => LengthCounts::Encoded,
        _ => return None,
    })
}

fn compile(source: &str, doc: ProfileJson) -> Result<Profile, ProfileError> {
    let cx = Ctx { source };
    // `notes` (and a field's `note`) are documentation for people reading the JSON; not compiled.
    let _ = &doc.notes;
    let mti = match doc.mti.as_str() {
        "ascii" => MtiEncoding::Ascii,
        "bcd" => MtiEncoding::Bcd,
        other => return Err(cx.err("mti", format!("'{other}' is not ascii or bcd"))),
    };
    let bitmap = match doc.bitmap.as_str() {
        "binary" => BitmapEncoding::Binary,
        "hex" => BitmapEncoding::Hex,
        other => return Err(cx.err("bitmap", format!("'{other}' is not binary or hex"))),
    };
    let (tpdu, header_len) = doc
        .envelope
        .as_ref()
        .map_or((false, 0), |e| (e.tpdu, e.header_len));
    if header_len > 64 {
        return Err(cx.err("envelope.header_len", "over 64 bytes"));
    }
    let d = &doc.defaults;
    let dn =
        parse_encoding(&d.numeric).ok_or_else(|| cx.err("defaults.numeric", "unknown encoding"))?;
    let dt = parse_encoding(&d.text).ok_or_else(|| cx.err("defaults.text", "unknown encoding"))?;
    let db =
        parse_encoding(&d.binary).ok_or_else(|| cx.err("defaults.binary", "unknown encoding"))?;
    let dp = parse_prefix(&d.prefix)
        .ok_or_else(|| cx.err("defaults.prefix", "unknown prefix encoding"))?;
    let dfp = parse_pad(&d.fixed_pad).ok_or_else(|| cx.err("defaults.fixed_pad", "unknown pad"))?;
    let dvp = parse_pad(&d.var_pad).ok_or_else(|| cx.err("defaults.var_pad", "unknown pad"))?;
    let dc =
        parse_counts(&d.counts).ok_or_else(|| cx.err("defaults.counts", "not units or encoded"))?;

    let mut fields: Vec<Option<FieldSpec>> = vec![None; 129];
    let mut defined = 0u128;
    for (key, f) in &doc.fields {
        let what = format!("field {key}");
        let number: u8 = key
            .parse()
            .ok()
            .filter(|n| (2..=128).contains(n))
            .ok_or_else(|| {
                cx.err(
                    &what,
                    "field numbers are 2..=128 (1 is the secondary bitmap)",
                )
            })?;
        let kind = FieldKind::parse(&f.kind)
            .ok_or_else(|| cx.err(&what, format!("unknown type '{}'", f.kind)))?;
        let length = match f.length.as_str() {
            "fixed" => {
                let len = f
                    .len
                    .ok_or_else(|| cx.err(&what, "fixed length needs \"len\""))?;
                if len == 0 || len > 9999 {
                    return Err(cx.err(&what, "len must be 1..=9999"));
                }
                Length::Fixed(len)
            }
            "LLVAR" | "LLLVAR" | "LLLLVAR" => {
                let digits = (f.length.len() - 3) as u8;
                let max = f
                    .max
                    .ok_or_else(|| cx.err(&what, "variable length needs \"max\""))?;
                let binary_prefix = f.prefix.as_deref().unwrap_or(&d.prefix) == "binary";
                let limit = match (binary_prefix, digits) {
                    (true, 2) => 255,
                    (true, _) => 65535,
                    (false, _) => 10usize.pow(u32::from(digits)) - 1,
                };
                if max == 0 || max > limit {
                    return Err(cx.err(&what, format!("max must be 1..={limit} for {}", f.length)));
                }
                Length::Variable { digits, max }
            }
            other => {
                return Err(cx.err(
                    &what,
                    format!("length '{other}' is not fixed, LLVAR, LLLVAR or LLLLVAR"),
                ));
            }
        };
        let encoding = match &f.encoding {
            Some(e) => {
                parse_encoding(e).ok_or_else(|| cx.err(&what, format!("unknown encoding '{e}'")))?
            }
            None => match kind {
                FieldKind::N | FieldKind::Z | FieldKind::XN => dn,
                FieldKind::An | FieldKind::Ans => dt,
                FieldKind::B => db,
            },
        };
        let compatible = match kind {
            FieldKind::N | FieldKind::Z | FieldKind::XN => {
                matches!(encoding, DataEncoding::Ascii | DataEncoding::Bcd)
            }
            FieldKind::An | FieldKind::Ans => encoding == DataEncoding::Ascii,
            FieldKind::B => matches!(encoding, DataEncoding::Binary | DataEncoding::Hex),
        };
        if !compatible {
            return Err(cx.err(
                &what,
                format!("type {kind} cannot use encoding {encoding:?}"),
            ));
        }
        let prefix = match &f.prefix {
            Some(p) => {
                parse_prefix(p).ok_or_else(|| cx.err(&what, format!("unknown prefix '{p}'")))?
            }
            None => dp,
        };
        let pad = match &f.pad {
            Some(p) => parse_pad(p).ok_or_else(|| cx.err(&what, format!("unknown pad '{p}'")))?,
            None => match length {
                Length::Fixed(_) => dfp,
                Length::Variable { .. } => dvp,
            },
        };
        let counts = match &f.counts {
            Some(c) => parse_counts(c)
                .ok_or_else(|| cx.err(&what, format!("counts '{c}' is not units or encoded")))?,
            None => dc,
        };
        if counts == LengthCounts::Encoded
            && (encoding == DataEncoding::Bcd || kind == FieldKind::XN)
        {
            return Err(cx.err(
                &what,
                "counts \"encoded\" is not allowed for BCD data or x+n",
            ));
        }
        if let (Length::Variable { digits, max }, PrefixEncoding::Binary) = (length, prefix) {
            let limit = if digits <= 2 { 255 } else { 65535 };
            if max > limit {
                return Err(cx.err(
                    &what,
                    format!("max {max} does not fit a binary prefix of this size"),
                ));
            }
        }
        if f.raw_nibbles && (kind != FieldKind::Z || encoding != DataEncoding::Bcd) {
            return Err(cx.err(&what, "raw_nibbles is for z fields in BCD only"));
        }
        if f.high_bytes && kind != FieldKind::Ans {
            return Err(cx.err(&what, "high_bytes is for ans fields only"));
        }
        let _ = &f.note;
        let subfields = compile_subfields(&cx, &what, number, kind, length, &f.subfields)?;
        fields[usize::from(number)] = Some(FieldSpec {
            number,
            name: f.name.clone(),
            kind,
            length,
            encoding,
            prefix,
            pad,
            lenient_pad: f.lenient_pad.unwrap_or(d.lenient_pad),
            raw_nibbles: f.raw_nibbles,
            high_bytes: f.high_bytes,
            counts,
            subfields,
        });
        defined |= bit(number);
    }

    let mut mandatory = Vec::new();
    for (mti_text, list) in &doc.mandatory {
        let m = Mti::new(mti_text)
            .map_err(|_| cx.err("mandatory", format!("'{mti_text}' is not an MTI")))?;
        let mut mask = 0u128;
        for &n in list {
            let n8 = u8::try_from(n)
                .ok()
                .filter(|n| (2..=128).contains(n) && defined & bit(*n) != 0);
            let n8 = n8.ok_or_else(|| {
                cx.err(
                    format!("mandatory {mti_text}"),
                    format!("field {n} is not defined"),
                )
            })?;
            mask |= bit(n8);
        }
        mandatory.push((m, mask));
    }

    Ok(Profile {
        name: doc.name,
        description: doc.description,
        tpdu,
        header_len,
        mti,
        bitmap,
        fields,
        defined,
        mandatory,
    })
}

fn compile_subfields(
    cx: &Ctx<'_>,
    what: &str,
    number: u8,
    kind: FieldKind,
    length: Length,
    subs: &[SubfieldJson],
) -> Result<Vec<SubfieldSpec>, ProfileError> {
    let mut out = Vec::with_capacity(subs.len());
    let mut total = 0usize;
    for (i, s) in subs.iter().enumerate() {
        let sw = format!("{what} sub-field {}", s.id);
        if !s.id.starts_with(&format!("{number}.")) {
            return Err(cx.err(&sw, format!("ids are \"{number}.<index>\"")));
        }
        let sk = FieldKind::parse(&s.kind)
            .ok_or_else(|| cx.err(&sw, format!("unknown type '{}'", s.kind)))?;
        if kind == FieldKind::B || sk == FieldKind::B {
            return Err(cx.err(&sw, "sub-fields are supported for text fields only"));
        }
        let slen = match (s.len, s.max) {
            (Some(l), None) if l > 0 => {
                total += l;
                Length::Fixed(l)
            }
            (None, Some(m)) if m > 0 && i + 1 == subs.len() => {
                total += m;
                Length::Variable { digits: 0, max: m }
            }
            _ => {
                return Err(cx.err(
                    &sw,
                    "give \"len\" (> 0), or \"max\" for the last sub-field only",
                ));
            }
        };
        out.push(SubfieldSpec {
            id: s.id.clone(),
            name: s.name.clone(),
            kind: sk,
            length: slen,
        });
    }
    let cap = match length {
        Length::Fixed(l) => l,
        Length::Variable { max, .. } => max,
    };
    if !out.is_empty() && total > cap {
        return Err(cx.err(
            what,
            format!("sub-fields add up to {total}, over the field's {cap}"),
        ));
    }
    Ok(out)
}
