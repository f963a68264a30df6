//! Masked APDU trace for diagnostics.
//!
//! Every exchange is recorded as upper-case hex with sensitive values replaced by `*`: the PAN
//! (5A, first 6 and last 4 digits kept), track 2 equivalent data (57) and track 1/2 data of the
//! contactless kernels (56, 9F6B) (first 6 digits kept), and the data field of VERIFY commands
//! (PIN blocks). A response that does not parse as BER-TLV (format 1 responses excepted) is
//! replaced by its length only, so a broken or chained answer can never leak a PAN.

use serde::Serialize;

/// Upper-case hex without a per-character iterator (the trace encodes every APDU).
pub fn hex_upper(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 0x0F)]);
    }
    String::from_utf8(out).unwrap_or_default()
}
use smartpos_tlv::{Tag, TlvReader};

/// One recorded exchange, already masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraceEntry {
    /// Command APDU, hex (masked).
    #[serde(rename = "c")]
    pub command: String,
    /// Response APDU (data + SW), hex (masked); empty when the transport failed.
    #[serde(rename = "r")]
    pub response: String,
}

/// The list of exchanges of one transaction, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Trace {
    pub entries: Vec<TraceEntry>,
}

impl Trace {
    pub(crate) fn record(&mut self, command: &[u8], response: &[u8]) {
        self.entries.push(TraceEntry {
            command: mask_command_hex(command),
            response: mask_response_hex(response),
        });
    }
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Hex of a command APDU; VERIFY (INS 20) data is masked.
pub fn mask_command_hex(command: &[u8]) -> String {
    let mut hex = hex_upper(command);
    if command.get(1) == Some(&0x20) && command.len() > 5 {
        // CLA INS P1 P2 Lc | data... | [Le]: mask everything after Lc.
        let start = 10;
        let end = if command.len() > 5 + usize::from(command.get(4).copied().unwrap_or(0)) {
            hex.len() - 2
        } else {
            hex.len()
        };
        mask_range(&mut hex, start, end);
    }
    hex
}

/// Hex of a response APDU (data + SW) with sensitive TLV values masked.
pub fn mask_response_hex(response: &[u8]) -> String {
    if response.len() <= 2 {
        return hex_upper(response);
    }
    let (data, sw) = response.split_at(response.len() - 2);
    let mut hex = hex_upper(data);
    let mut ranges = Vec::new();
    if collect_sensitive(data, 0, 0, &mut ranges).is_err() {
        return format!("<{} bytes not TLV, masked>{}", data.len(), hex_upper(sw));
    }
    for (start, end, keep_front, keep_back) in ranges {
        let s = (start * 2 + keep_front).min(end * 2);
        let e = (end * 2).saturating_sub(keep_back).max(s);
        mask_range(&mut hex, s, e);
    }
    hex.push_str(&hex_upper(sw));
    hex
}

fn mask_range(hex: &mut String, start: usize, end: usize) {
    // Hex text is ASCII, so byte positions are character positions.
    let mut bytes = std::mem::take(hex).into_bytes();
    let end = end.min(bytes.len());
    if let Some(range) = bytes.get_mut(start.min(end)..end) {
        range.fill(b'*');
    }
    *hex = String::from_utf8(bytes).unwrap_or_default();
}

/// (value start, value end, hex digits kept at the front, hex digits kept at the back).
type Range = (usize, usize, usize, usize);

fn collect_sensitive(
    data: &[u8],
    base: usize,
    depth: usize,
    out: &mut Vec<Range>,
) -> Result<(), smartpos_tlv::TlvError> {
    if depth > 8 {
        return Ok(());
    }
    for tlv in TlvReader::with_base(data, base) {
        let tlv = tlv?;
        let start = tlv.value_offset();
        let end = start + tlv.value.len();
        match tlv.tag {
            Tag(0x5A) => {
                // Keep the first 6 digits and the last 4 (F padding counts as a digit slot).
                let digits = pan_digits(tlv.value);
                let back = tlv.value.len() * 2 - digits + 4;
                out.push((start, end, 6, back.min(tlv.value.len() * 2)));
            }
            Tag(0x57) | Tag(0x9F6B) => out.push((start, end, 6, 0)),
            Tag(0x56) | Tag(0x5F20) => out.push((start, end, 0, 0)),
            // ICC public key certificates (Book 2 §6.4) carry the full PAN: an RSA one is
            // recoverable by anyone holding the issuer public key (tag 90 is in the same trace),
            // and an SM2 one (PBOC 3.0 SM) holds it in clear. Neither belongs in a trace.
            Tag(0x9F46) | Tag(0x9F2D) => out.push((start, end, 0, 0)),
            _ if tlv.is_constructed() => {
                collect_sensitive(tlv.value, start, depth + 1, out)?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn pan_digits(bcd: &[u8]) -> usize {
    let mut n = 0;
    for b in bcd {
        for nib in [b >> 4, b & 0x0F] {
            if nib <= 9 {
                n += 1;
            } else {
                return n;
            }
        }
    }
    n
}
