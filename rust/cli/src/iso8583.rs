//! `smartpos iso8583 ...`: ISO 8583 tools over the profiles of smartpos-iso8583.
//!
//! * `smartpos iso8583 unpack --profile P HEX --json` → `{"mti":"0200","tpdu":"6000030000",
//!   "header":"603100310000","fields":{"2":"6222...","55":"9F26..."}}`. Values are the profile's text
//!   for character and numeric fields (digits for BCD numerics, `=` as the track separator) and
//!   upper-case hex for binary fields (`{"hex":"..."}` for text that is not UTF-8, e.g. GBK in
//!   cups-pos field 63); `tpdu`/`header` appear for profiles that have them. The JSON is
//!   the message itself, so it carries the PAN in clear. Without `--json`: the masked pretty print
//!   (PAN first 6 + last 4, tracks, PIN block and MACs masked, field 55 decoded as BER-TLV).
//! * `smartpos iso8583 pack --profile P --json-in FILE` → the message as upper-case hex (with
//!   `--json`: `{"hex":"..."}`), from the JSON form above (`-` reads stdin), so unpack → pack
//!   round-trips.
//!
//! `--profile` is a built-in name (`cups-pos`, `iso87-ascii`) or a path to a JSON profile file.
//! Bad hex, unreadable files and unknown profiles are usage errors (exit 2); messages that do not fit
//! the profile are errors naming the field, byte offset and reason (exit 1).

use crate::report::{CliResult, Report, UsageError, hex_upper, parse_hex};
use clap::Subcommand;
use serde_json::json;
use smartpos_iso8583::Profile;
use std::io::Read as _;

#[derive(Subcommand)]
pub enum Cmd {
    /// Unpack a message (hex) into JSON, or a masked field listing without --json.
    Unpack {
        /// Built-in profile (cups-pos, iso87-ascii) or path to a JSON profile file.
        #[arg(long)]
        profile: String,
        /// The whole message in hex (TPDU and header included for cups-pos); spaces allowed.
        hex: String,
    },
    /// Pack a message from its JSON form (as `unpack --json` prints it) into hex.
    Pack {
        /// Built-in profile (cups-pos, iso87-ascii) or path to a JSON profile file.
        #[arg(long)]
        profile: String,
        /// JSON file with {"mti", "fields", and "tpdu"/"header" for cups-pos}; `-` for stdin.
        #[arg(long = "json-in")]
        json_in: String,
    },
}

pub fn run(cmd: Cmd) -> CliResult {
    match cmd {
        Cmd::Unpack { profile, hex } => unpack(&profile, &hex),
        Cmd::Pack { profile, json_in } => pack(&profile, &json_in),
    }
}

fn load_profile(name: &str) -> Result<Profile, UsageError> {
    Profile::load(name).map_err(|e| UsageError(format!("--profile: {e}")))
}

fn unpack(profile: &str, hex: &str) -> CliResult {
    let p = load_profile(profile)?;
    let bytes = parse_hex("hex", hex)?;
    let frame = p.unpack_frame(&bytes)?;
    let text = p.pretty(&frame);
    Ok(Report::with_text(p.frame_to_json(&frame), text.trim_end()))
}

fn pack(profile: &str, json_in: &str) -> CliResult {
    let p = load_profile(profile)?;
    let text = if json_in == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| UsageError(format!("--json-in -: cannot read stdin ({e})")))?;
        s
    } else {
        std::fs::read_to_string(json_in)
            .map_err(|e| UsageError(format!("--json-in {json_in}: {e}")))?
    };
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| UsageError(format!("--json-in {json_in}: not JSON ({e})")))?;
    let frame = p.frame_from_json(&value)?;
    let hex = hex_upper(&p.pack_frame(&frame)?);
    Ok(Report::with_text(json!({ "hex": hex }), hex))
}
