//! `smartpos qr ...`: decode what a scanner read, generate merchant-presented codes.
//!
//! * `smartpos qr parse PAYLOAD --json` → `{"kind":"mpm|cpm|wallet","crc_ok":bool,"fields":{...}}`
//!   plus `"wallet":"wechat|alipay|unionpay|ecny"` for wallet codes. MPM `fields` are keyed by
//!   the two-digit root ID (templates 26-51, 62, 64, 80-99 as objects keyed by sub-ID); CPM
//!   `fields` by tag hex (templates as nested objects, values upper-case hex, PAN and track 2
//!   masked). A bad MPM CRC still parses and reports `"crc_ok":false` (exit 0); CPM and wallet
//!   codes carry no CRC and report `true`. A malformed payload is an error (exit 1).
//! * `smartpos qr mpm --json-in FILE [--png OUT.png] [--scale N] --json` → `{"payload":"..."}`;
//!   without `--json` prints the payload and the code drawn with half blocks.

use crate::report::{CliResult, Report, UsageError, hex_upper};
use clap::Subcommand;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use smartpos_qr::cpm::{Pan, Track2};
use smartpos_qr::image::{QrMatrix, QrOptions};
use smartpos_qr::mpm::{self, MerchantAccount, MerchantPresentedQr, Template};
use smartpos_qr::{QrError, ScannedCode};
use smartpos_tlv::{Tag, Tlv, TlvReader};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum Cmd {
    /// Decode a scanned payload: EMVCo MPM, EMVCo CPM (base64) or a wallet payment code.
    Parse {
        /// The text the scanner read.
        payload: String,
    },
    /// Generate an EMVCo merchant-presented payload (and optionally a PNG) from a JSON file.
    Mpm {
        /// JSON file: merchant_name, merchant_city, mcc, currency, country, and optionally
        /// amount (makes a dynamic code), reference (62.05), unionpay.merchant_id (ID 15),
        /// templates [{id, guid, fields{"01": ...}}].
        #[arg(long = "json-in")]
        json_in: PathBuf,
        /// Also write the QR code as a PNG here.
        #[arg(long)]
        png: Option<PathBuf>,
        /// Pixels per module in the PNG.
        #[arg(long, default_value_t = 8)]
        scale: u32,
    },
}

pub fn run(cmd: Cmd) -> CliResult {
    match cmd {
        Cmd::Parse { payload } => parse(&payload),
        Cmd::Mpm {
            json_in,
            png,
            scale,
        } => generate_mpm(&json_in, png.as_deref(), scale),
    }
}

fn parse(payload: &str) -> CliResult {
    let (scanned, crc_ok) = match smartpos_qr::parse(payload) {
        Ok(scanned) => (scanned, true),
        Err(QrError::BadCrc { .. }) => {
            let (parsed, _) = mpm::parse_unverified(payload.trim())?;
            (ScannedCode::Mpm(Box::new(parsed)), false)
        }
        Err(e) => return Err(Box::new(e)),
    };
    let mut out = Map::new();
    out.insert("kind".into(), json!(scanned.kind()));
    out.insert("crc_ok".into(), json!(crc_ok));
    let text = match &scanned {
        ScannedCode::Mpm(p) => {
            out.insert("fields".into(), mpm_fields(&p.data_objects));
            format!(
                "EMVCo MPM, CRC {:04X} {}: {} ({}), {} fields",
                p.crc,
                if crc_ok { "ok" } else { "WRONG" },
                p.qr.merchant_name,
                p.qr.merchant_city,
                p.data_objects.len()
            )
        }
        ScannedCode::Cpm(p) => {
            out.insert("fields".into(), cpm_fields(&p.to_bytes())?);
            format!(
                "EMVCo CPM, {} application(s), PAN {}",
                p.applications.len(),
                p.pan().map(Pan::masked).unwrap_or_default()
            )
        }
        ScannedCode::Wallet(code) => {
            out.insert("wallet".into(), json!(code.wallet().as_str()));
            out.insert(
                "fields".into(),
                json!({"code": code.masked(), "length": code.as_str().len()}),
            );
            format!("{} payment code {}", code.wallet(), code.masked())
        }
    };
    let json = Value::Object(out);
    Ok(Report::with_text(
        json.clone(),
        format!(
            "{text}\n{}",
            serde_json::to_string_pretty(&json).unwrap_or_default()
        ),
    ))
}

fn mpm_fields(objects: &[mpm::DataObject]) -> Value {
    let mut fields = Map::new();
    for object in objects {
        let value = if mpm::is_template_id(object.id) {
            match mpm::read_data_objects(&object.value, Some(object.id)) {
                Ok(subs) => Value::Object(
                    subs.into_iter()
                        .map(|s| (format!("{:02}", s.id), Value::String(s.value)))
                        .collect(),
                ),
                Err(_) => Value::String(object.value.clone()),
            }
        } else {
            Value::String(object.value.clone())
        };
        fields.insert(format!("{:02}", object.id), value);
    }
    Value::Object(fields)
}

fn masked_track2(value: &[u8]) -> String {
    match Track2::from_bytes(value) {
        Ok(t) => {
            let rest = t.as_text().len() - t.pan().digits().len() - 1;
            format!("{}D{}", t.pan().masked(), "*".repeat(rest))
        }
        Err(_) => "*".repeat(value.len() * 2),
    }
}

fn cpm_value(tlv: &Tlv<'_>) -> Result<Value, QrError> {
    if tlv.is_constructed() {
        let mut map = Map::new();
        for child in tlv.children() {
            let child = child.map_err(|e| QrError::CpmTlv {
                reason: e.to_string(),
            })?;
            map.insert(child.tag.to_string(), cpm_value(&child)?);
        }
        return Ok(Value::Object(map));
    }
    Ok(Value::String(match tlv.tag {
        Tag(0x57) => masked_track2(tlv.value),
        Tag(0x5A) => Pan::from_cn(tlv.value)
            .map(|p| p.masked())
            .unwrap_or_else(|_| "*".repeat(tlv.value.len() * 2)),
        _ => hex_upper(tlv.value),
    }))
}

fn cpm_fields(bytes: &[u8]) -> Result<Value, QrError> {
    let mut map = Map::new();
    for tlv in TlvReader::new(bytes) {
        let tlv = tlv.map_err(|e| QrError::CpmTlv {
            reason: e.to_string(),
        })?;
        let key = tlv.tag.to_string();
        let value = cpm_value(&tlv)?;
        // Several application templates: "61", "61#2", ... keep payload order.
        let mut slot = key.clone();
        let mut n = 1;
        while map.contains_key(&slot) {
            n += 1;
            slot = format!("{key}#{n}");
        }
        map.insert(slot, value);
    }
    Ok(Value::Object(map))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MerchantInput {
    merchant_name: String,
    merchant_city: String,
    mcc: String,
    currency: String,
    country: String,
    amount: Option<String>,
    reference: Option<String>,
    unionpay: Option<UnionPayInput>,
    #[serde(default)]
    templates: Vec<TemplateInput>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnionPayInput {
    merchant_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateInput {
    id: String,
    guid: String,
    #[serde(default)]
    fields: BTreeMap<String, String>,
}

fn two_digit_id(what: &str, text: &str) -> Result<u8, UsageError> {
    match text.as_bytes() {
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => Ok((a - b'0') * 10 + (b - b'0')),
        _ => Err(UsageError(format!(
            "--json-in: {what} {text:?} is not a two-digit ID"
        ))),
    }
}

fn merchant_from_json(
    text: &str,
) -> Result<MerchantPresentedQr, Box<dyn std::error::Error + Send + Sync>> {
    let input: MerchantInput = serde_json::from_str(text)
        .map_err(|e| UsageError(format!("--json-in: not a merchant description ({e})")))?;
    let mut builder = MerchantPresentedQr::builder()
        .merchant_name(input.merchant_name)
        .merchant_city(input.merchant_city)
        .merchant_category_code(input.mcc)
        .transaction_currency(input.currency)
        .country_code(input.country);
    builder = match input.amount {
        Some(amount) => builder.dynamic_amount(amount),
        None => builder.point_of_initiation(mpm::PointOfInitiation::Static),
    };
    if let Some(reference) = input.reference {
        builder = builder.reference_label(reference);
    }
    if let Some(unionpay) = input.unionpay {
        builder = builder.merchant_account(MerchantAccount::primitive(15, unionpay.merchant_id));
    }
    for t in input.templates {
        let id = two_digit_id("template id", &t.id)?;
        let mut template = Template::new(id, t.guid);
        for (sub, value) in t.fields {
            template = template.with_field(two_digit_id("template field", &sub)?, value);
        }
        builder = match id {
            26..=51 => builder.merchant_account_template(template),
            80..=99 => builder.unreserved_template(template),
            _ => {
                return Err(Box::new(UsageError(format!(
                    "--json-in: template id {id:02} must be 26-51 (merchant account) or 80-99 (unreserved)"
                ))));
            }
        };
    }
    Ok(builder.build()?)
}

fn generate_mpm(json_in: &std::path::Path, png: Option<&std::path::Path>, scale: u32) -> CliResult {
    let text = std::fs::read_to_string(json_in)
        .map_err(|e| UsageError(format!("--json-in {}: {e}", json_in.display())))?;
    let qr = merchant_from_json(&text)?;
    let payload = qr.to_payload()?;
    let matrix = QrMatrix::encode(&payload, &QrOptions::default())?;
    let mut json = Map::new();
    json.insert("payload".into(), json!(payload));
    if let Some(path) = png {
        let bytes = matrix.to_png(scale)?;
        std::fs::write(path, bytes).map_err(|e| format!("writing PNG {}: {e}", path.display()))?;
        json.insert("png".into(), json!(path.display().to_string()));
    }
    let text = format!("{payload}\n\n{}", matrix.to_terminal(true));
    Ok(Report::with_text(Value::Object(json), text))
}
