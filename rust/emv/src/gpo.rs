//! Initiate application processing and read application data (EMV Book 3 §10.1, §10.2):
//! GET PROCESSING OPTIONS (formats 1 and 2), AIP/AFL checks, READ RECORD per the AFL with the
//! records for offline data authentication kept as Book 3 §10.3 requires.

use crate::apdu::{Apdu, StatusWord};
use crate::outcome::EndReason;
use crate::transport::{CardTransport, Channel};
use smartpos_tlv::{Tag, TlvReader};

/// One Application File Locator entry (Book 3 §10.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AflEntry {
    pub sfi: u8,
    pub first: u8,
    pub last: u8,
    /// Number of records, from `first`, that take part in offline data authentication.
    pub oda_count: u8,
}

/// Parse and check an AFL: a multiple of 4 bytes, SFI 1-30, first record ≥ 1, last ≥ first,
/// ODA count ≤ number of records (Book 3 §10.2).
pub fn parse_afl(afl: &[u8]) -> Result<Vec<AflEntry>, String> {
    if afl.is_empty() || afl.len() % 4 != 0 {
        return Err(format!(
            "AFL is {} bytes; a non-zero multiple of 4 is required",
            afl.len()
        ));
    }
    let mut out = Vec::with_capacity(afl.len() / 4);
    for (i, e) in afl.chunks_exact(4).enumerate() {
        let (b0, first, last, oda) = match e {
            [a, b, c, d] => (*a, *b, *c, *d),
            _ => return Err("AFL entry truncated".into()),
        };
        let sfi = b0 >> 3;
        if b0 & 0x07 != 0 || !(1..=30).contains(&sfi) {
            return Err(format!(
                "AFL entry {i}: SFI byte {b0:02X} invalid (SFI must be 1-30)"
            ));
        }
        if first == 0 || last < first {
            return Err(format!("AFL entry {i}: records {first}..{last} invalid"));
        }
        if u16::from(oda) > u16::from(last) - u16::from(first) + 1 {
            return Err(format!(
                "AFL entry {i}: {oda} ODA records exceed the {} records",
                last - first + 1
            ));
        }
        out.push(AflEntry {
            sfi,
            first,
            last,
            oda_count: oda,
        });
    }
    Ok(out)
}

/// The GPO answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessingOptions {
    pub aip: [u8; 2],
    pub afl: Vec<u8>,
    /// Other data objects of a format 2 response (tag, value).
    pub other: Vec<(u32, Vec<u8>)>,
}

/// GPO result: either processing options, or 6985 (select another application, Book 3 §10.1).
#[derive(Debug)]
pub enum GpoResult {
    Options(ProcessingOptions),
    ConditionsNotSatisfied,
}

/// Send GET PROCESSING OPTIONS with the PDOL-related data and parse the answer (Book 3 §6.5.8.4).
pub fn get_processing_options<T: CardTransport>(
    ch: &mut Channel<T>,
    pdol_data: &[u8],
) -> Result<GpoResult, EndReason> {
    let resp = ch.transmit(&Apdu::get_processing_options(pdol_data))?;
    match resp.status() {
        StatusWord::Success => {}
        StatusWord::ConditionsNotSatisfied => return Ok(GpoResult::ConditionsNotSatisfied),
        _ => {
            return Err(EndReason::CardError {
                command: "GET PROCESSING OPTIONS",
                sw: resp.sw(),
            });
        }
    }
    parse_gpo_response(&resp.data).map(GpoResult::Options)
}

const GPO: &str = "GET PROCESSING OPTIONS";

fn fmt_err(reason: impl Into<String>) -> EndReason {
    EndReason::FormatError {
        command: GPO,
        reason: reason.into(),
    }
}

/// Parse response formats 1 (80) and 2 (77).
pub fn parse_gpo_response(data: &[u8]) -> Result<ProcessingOptions, EndReason> {
    let mut objs = TlvReader::new(data);
    let top = objs
        .next()
        .ok_or_else(|| fmt_err("empty response"))?
        .map_err(|e| fmt_err(e.to_string()))?;
    if let Some(extra) = objs.next() {
        let _ = extra.map_err(|e| fmt_err(e.to_string()))?;
        return Err(fmt_err("data after the response template"));
    }
    match top.tag.0 {
        0x80 => {
            let v = top.value;
            if v.len() < 2 || (v.len() - 2) % 4 != 0 {
                return Err(fmt_err(format!(
                    "format 1 value is {} bytes; 2 + 4n expected",
                    v.len()
                )));
            }
            let (aip, afl) = v.split_at(2);
            let aip = [
                aip.first().copied().unwrap_or(0),
                aip.get(1).copied().unwrap_or(0),
            ];
            Ok(ProcessingOptions {
                aip,
                afl: afl.to_vec(),
                other: Vec::new(),
            })
        }
        0x77 => {
            let mut aip = None;
            let mut afl = None;
            let mut other = Vec::new();
            for obj in top.children() {
                let obj = obj.map_err(|e| fmt_err(e.to_string()))?;
                match obj.tag.0 {
                    0x82 => {
                        if aip.is_some() {
                            return Err(EndReason::DuplicateData { tag: 0x82 });
                        }
                        aip = Some(obj.value)
                    }
                    0x94 => {
                        if afl.is_some() {
                            return Err(EndReason::DuplicateData { tag: 0x94 });
                        }
                        afl = Some(obj.value)
                    }
                    t => other.push((t, obj.value.to_vec())),
                }
            }
            let aip = aip.ok_or(EndReason::MissingMandatoryData { tag: 0x82 })?;
            let afl = afl.ok_or(EndReason::MissingMandatoryData { tag: 0x94 })?;
            let aip: [u8; 2] = aip
                .try_into()
                .map_err(|_| fmt_err(format!("AIP is {} bytes, 2 expected", aip.len())))?;
            Ok(ProcessingOptions {
                aip,
                afl: afl.to_vec(),
                other,
            })
        }
        t => Err(fmt_err(format!(
            "response template {t:X}; 80 or 77 expected"
        ))),
    }
}

/// Records read per the AFL.
#[derive(Debug, Default, Clone)]
pub struct RecordData {
    /// Primitive data objects of the records (tag, value), in order.
    pub objects: Vec<(u32, Vec<u8>)>,
    /// Static data to be authenticated (Book 3 §10.3).
    pub oda_data: Vec<u8>,
    /// A record flagged for ODA was not a template 70: ODA fails (Book 3 §10.3).
    pub oda_record_invalid: bool,
}

const READ_RECORD: &str = "READ RECORD";

/// READ RECORD every record the AFL names (Book 3 §10.2).
pub fn read_records<T: CardTransport>(
    ch: &mut Channel<T>,
    afl: &[AflEntry],
) -> Result<RecordData, EndReason> {
    let mut out = RecordData::default();
    for e in afl {
        for rec in e.first..=e.last {
            let resp = ch.transmit(&Apdu::read_record(e.sfi, rec))?;
            if !resp.is_ok() {
                return Err(EndReason::CardError {
                    command: READ_RECORD,
                    sw: resp.sw(),
                });
            }
            let for_oda = u16::from(rec) < u16::from(e.first) + u16::from(e.oda_count);
            let mut objs = TlvReader::new(&resp.data);
            let first = match objs.next().transpose() {
                Ok(first) => first,
                // Records in SFI 11-30 need not be BER-TLV (Book 3 §10.2); only ODA cares.
                Err(_) if e.sfi > 10 => None,
                Err(err) => {
                    return Err(EndReason::FormatError {
                        command: READ_RECORD,
                        reason: format!("SFI {} record {rec}: {err}", e.sfi),
                    });
                }
            };
            let trailing = objs.next().is_some();
            let template = match first {
                Some(t) if t.tag == Tag(0x70) && !trailing => Some(t),
                _ => None,
            };
            let Some(template) = template else {
                if e.sfi <= 10 {
                    // Book 3 §10.2: records in SFI 1-10 are template 70; otherwise terminate.
                    return Err(EndReason::FormatError {
                        command: READ_RECORD,
                        reason: format!("SFI {} record {rec} is not a template 70", e.sfi),
                    });
                }
                if for_oda {
                    out.oda_record_invalid = true;
                }
                continue;
            };
            if for_oda {
                if e.sfi <= 10 {
                    out.oda_data.extend_from_slice(template.value);
                } else {
                    out.oda_data.extend_from_slice(template.raw);
                }
            }
            if e.sfi <= 10 {
                for obj in template.children() {
                    let obj = obj.map_err(|err| EndReason::FormatError {
                        command: READ_RECORD,
                        reason: format!("SFI {} record {rec}: {err}", e.sfi),
                    })?;
                    out.objects.push((obj.tag.0, obj.value.to_vec()));
                }
            }
        }
    }
    Ok(out)
}
