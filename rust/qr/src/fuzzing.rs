//! Bodies of the fuzz targets (fuzz/fuzz_targets/qr_parse.rs), kept here so a proptest runs the
//! same code on stable. Each returns `Err` with a description when an invariant is broken; a
//! panic inside is a bug as well.

use crate::ScannedCode;
use crate::cpm::CpmPayload;
use crate::mpm;

/// Feeds `data` to every parser of outside input (top-level [`crate::parse`], MPM without CRC
/// check, CPM from raw bytes) and checks that whatever parses regenerates to the same model.
pub fn qr_parse(data: &[u8]) -> Result<(), String> {
    if let Ok(text) = std::str::from_utf8(data) {
        match crate::parse(text) {
            Ok(ScannedCode::Mpm(parsed)) => {
                let payload = parsed
                    .qr
                    .to_payload()
                    .map_err(|e| format!("parsed MPM does not regenerate: {e}"))?;
                let again = mpm::parse(&payload)
                    .map_err(|e| format!("regenerated MPM does not parse: {e}"))?;
                if again.qr != parsed.qr {
                    return Err("MPM model changed across generate/parse".into());
                }
            }
            Ok(ScannedCode::Cpm(parsed)) => {
                let text = parsed
                    .to_base64()
                    .map_err(|e| format!("parsed CPM does not re-encode: {e}"))?;
                let again = CpmPayload::parse(&text)
                    .map_err(|e| format!("re-encoded CPM does not parse: {e}"))?;
                if again != *parsed {
                    return Err("CPM model changed across encode/decode".into());
                }
            }
            Ok(ScannedCode::Wallet(code)) => {
                if code.as_str() != text.trim() {
                    return Err("wallet code differs from the scanned digits".into());
                }
            }
            Err(_) => {}
        }
        if let Ok((parsed, crc)) = mpm::parse_unverified(text) {
            if crc.is_ok() != mpm::parse(text).is_ok() {
                return Err("strict and unverified MPM parsing disagree on a good CRC".into());
            }
            let _ = parsed;
        }
    }
    if let Ok(parsed) = CpmPayload::from_bytes(data) {
        let again = CpmPayload::from_bytes(&parsed.to_bytes())
            .map_err(|e| format!("re-encoded CPM bytes do not parse: {e}"))?;
        if again != parsed {
            return Err("CPM model changed across to_bytes/from_bytes".into());
        }
    }
    Ok(())
}
