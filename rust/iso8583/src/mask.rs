//! Masking of cardholder and secret data wherever a message is shown (PCI DSS v4.0 §3.4.1: at most
//! the first six and last four PAN digits are displayed).
//!
//! Masked: field 2 (PAN: first 6 + last 4), 34 (extended PAN, same rule), 35/36 (track 2/3: the PAN
//! part as field 2, everything after the separator starred), 45 (track 1, fully starred), 52 (PIN
//! block), 64/128 (MACs), 96 (message security code); inside field 55 the tags 5A, 57, 56, 9F6B,
//! 9F1F, 9F20 and 5F20 (see [`crate::icc`]).

use std::fmt;

/// How a field is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sensitivity {
    /// Shown as is.
    Clear,
    /// A PAN: first 6 and last 4 digits shown.
    Pan,
    /// Track 2/3 data: the PAN part masked as a PAN, the rest starred.
    Track,
    /// Track 1 or other cardholder data: fully starred (length kept).
    Hidden,
    /// A PIN block, MAC or key material: only the length is shown.
    Secret,
    /// ICC data (field 55): BER-TLV decoded with sensitive tags masked.
    Icc,
}

/// How field `field` is shown in Debug and in the pretty printer.
pub fn sensitivity(field: u8) -> Sensitivity {
    match field {
        2 | 34 => Sensitivity::Pan,
        35 | 36 => Sensitivity::Track,
        45 => Sensitivity::Hidden,
        52 | 64 | 96 | 128 => Sensitivity::Secret,
        55 => Sensitivity::Icc,
        _ => Sensitivity::Clear,
    }
}

/// `6222021234567890123` → `622202*********0123`. PANs of 10 characters or fewer are fully starred
/// (`smartpos-tlv`'s rule, shared by every crate that shows card data).
pub use smartpos_tlv::mask::mask_pan;

/// Track 2/3 text (`PAN=YYMM...`): the PAN masked as [`mask_pan`], the separator shown as the
/// ISO/IEC 7813 text separator `=` (also when the host sent the BCD `D`), the rest starred. Masked by
/// [`smartpos_tlv::mask::mask_track`]: only the first `=`/`D` separates, so turning the first `D`
/// into `=` changes nothing but that separator.
pub fn mask_track(track: &str) -> String {
    smartpos_tlv::mask::mask_track(&track.replacen('D', "=", 1))
}

/// The masked display text of a stored value, by field number (text for character fields, hex for
/// non-printable data).
pub fn masked_text(field: u8, value: &[u8]) -> String {
    match sensitivity(field) {
        Sensitivity::Clear => plain_text(value),
        Sensitivity::Pan => match std::str::from_utf8(value) {
            Ok(s) => mask_pan(s),
            Err(_) => format!("<{} bytes, masked>", value.len()),
        },
        Sensitivity::Track => match std::str::from_utf8(value) {
            Ok(s) => mask_track(s),
            Err(_) => format!("<{} bytes, masked>", value.len()),
        },
        Sensitivity::Hidden => "*".repeat(value.len()),
        Sensitivity::Secret => format!("<{} bytes, masked>", value.len()),
        Sensitivity::Icc => crate::icc::masked_hex(value),
    }
}

/// Printable ASCII as is, anything else as upper-case hex.
pub(crate) fn plain_text(value: &[u8]) -> String {
    if value.iter().all(|b| (0x20..=0x7E).contains(b)) {
        value.iter().map(|&b| char::from(b)).collect()
    } else {
        hex::encode_upper(value)
    }
}

/// Debug helper: a value shown masked, quoted when it is text.
pub(crate) struct DebugValue<'a> {
    pub field: u8,
    pub value: &'a [u8],
}

impl fmt::Debug for DebugValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = masked_text(self.field, self.value);
        match sensitivity(self.field) {
            Sensitivity::Secret => f.write_str(&text),
            _ => write!(f, "{text:?}"),
        }
    }
}
