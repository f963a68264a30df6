//! Bodies of the fuzz targets (`fuzz/fuzz_targets/tlv_parse.rs`, `dol_parse.rs`), kept here so a
//! proptest runs the same code on stable. Each returns `Err` with the broken invariant instead of
//! panicking; the fuzz targets turn that into a crash.

use crate::dol::Dol;
use crate::node::TlvNode;
use crate::reader::{Padding, TlvReader, find, find_path, validate};
use crate::tag::Tag;
use crate::{dict, parse_all};

fn check(cond: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(what()) }
}

/// Run every reader entry point over `data` and check what they return.
pub fn tlv_parse(data: &[u8]) -> Result<(), String> {
    let mut last_end = 0;
    for tlv in TlvReader::new(data) {
        let Ok(tlv) = tlv else { break };
        let end = tlv.offset + tlv.raw.len();
        check(tlv.offset >= last_end && end <= data.len(), || {
            format!(
                "object {} at {} outside the buffer or overlapping",
                tlv.tag, tlv.offset
            )
        })?;
        check(data.get(tlv.offset..end) == Some(tlv.raw), || {
            format!("raw of {} is not the buffer's bytes", tlv.tag)
        })?;
        check(tlv.raw.ends_with(tlv.value), || {
            format!("value of {} not at the end of raw", tlv.tag)
        })?;
        check(data.get(tlv.value_offset()..end) == Some(tlv.value), || {
            format!("value offset of {} wrong", tlv.tag)
        })?;
        last_end = end;
        let _ = dict::lookup(tlv.tag);
        let _ = tlv.tag.to_string();
    }
    // With `00`-only padding the reader sees at least as many bytes as objects, never fewer.
    let mut zero_only_end = 0;
    for tlv in TlvReader::new(data).padding(Padding::ZeroOnly) {
        let Ok(tlv) = tlv else { break };
        check(tlv.offset >= zero_only_end, || {
            "ZeroOnly objects overlap".to_string()
        })?;
        check(
            data.get(tlv.offset..tlv.offset + tlv.raw.len()) == Some(tlv.raw),
            || format!("ZeroOnly raw of {} is not the buffer's bytes", tlv.tag),
        )?;
        zero_only_end = tlv.offset + tlv.raw.len();
        for child in tlv.children_with(Padding::ZeroOnly) {
            let Ok(child) = child else { break };
            check(
                child.offset >= tlv.value_offset() && child.offset < zero_only_end,
                || format!("child {} outside its parent {}", child.tag, tlv.tag),
            )?;
        }
    }
    let valid = validate(data);
    let nodes = TlvNode::parse_all(data);
    check(valid.is_ok() == nodes.is_ok(), || {
        format!(
            "validate {valid:?} disagrees with TlvNode::parse_all {:?}",
            nodes.as_ref().err()
        )
    })?;
    let top = parse_all(data);
    if valid.is_ok() {
        check(top.is_ok(), || "valid tree but top level fails".to_string())?;
    }
    for tag in [Tag::PAN, Tag(0x9F26), Tag(0xDF8129), Tag(0xBF0C)] {
        let found = find(data, tag);
        if valid.is_ok() {
            let found = found.map_err(|e| format!("find failed on valid data: {e}"))?;
            if let Some(t) = found {
                check(t.tag == tag, || "find returned another tag".to_string())?;
            }
        }
    }
    let _ = find_path(data, &[Tag(0x6F), Tag(0xA5), Tag(0x50)]);
    if let Ok(tags) = crate::parse_tag_list(data) {
        let total: usize = tags.iter().map(|t| t.len()).sum();
        check(total == data.len(), || {
            "tag list does not cover the data".to_string()
        })?;
    }
    if let Ok(nodes) = nodes {
        // Re-encoding is canonical: encoding the re-parsed tree gives the same bytes again.
        let once: Vec<u8> = nodes.iter().flat_map(TlvNode::to_bytes).collect();
        let again = TlvNode::parse_all(&once).map_err(|e| format!("re-encoded data fails: {e}"))?;
        let twice: Vec<u8> = again.iter().flat_map(TlvNode::to_bytes).collect();
        check(once == twice, || "re-encoding is not stable".to_string())?;
        check(again.len() == nodes.len(), || {
            "object count changed".to_string()
        })?;
    }
    Ok(())
}

/// Parse `data` as a DOL, build it from a source that answers from `data` itself, and check
/// lengths and the split.
pub fn dol_parse(data: &[u8]) -> Result<(), String> {
    let Ok(dol) = Dol::parse(data) else {
        return Ok(());
    };
    let reparsed = Dol::parse(&dol.to_bytes()).map_err(|e| format!("re-encoded DOL fails: {e}"))?;
    check(reparsed == dol, || {
        "DOL encoding does not round-trip".to_string()
    })?;
    let built = dol.build(|tag| {
        let n = (tag.0 as usize) % (data.len() + 1);
        data.get(..n)
    });
    check(built.len() == dol.total_len(), || {
        format!(
            "built {} bytes for a DOL of {}",
            built.len(),
            dol.total_len()
        )
    })?;
    let split = dol
        .split(&built)
        .map_err(|e| format!("split of built data fails: {e}"))?;
    for ((tag, value), entry) in split.iter().zip(dol.entries()) {
        check(*tag == entry.tag && value.len() == entry.len, || {
            format!(
                "split entry {tag} has {} bytes, DOL says {}",
                value.len(),
                entry.len
            )
        })?;
    }
    Ok(())
}
