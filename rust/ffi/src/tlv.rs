//! BER-TLV decoding and encoding for apps (EMV Book 3 Annex B), over smartpos-tlv.

use smartpos_tlv::Tag;

use crate::apdu::{hex_upper, parse_hex};
use crate::error::SmartPosError;

/// One decoded BER-TLV object.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TlvNode {
    /// The tag, upper-case hex (`9F26`).
    pub tag: String,
    /// The tag's name from the EMV dictionary (EMV Book 3 Annex A and scheme tags), if known.
    /// Ignored by [`encode_tlv`].
    pub name: Option<String>,
    /// Whether the tag is constructed (b6 of the first tag byte, EMV Book 3 Annex B1).
    pub constructed: bool,
    /// The value field as read.
    pub value: Vec<u8>,
    /// Children of a constructed object, in order (empty for a primitive one).
    pub children: Vec<TlvNode>,
}

impl From<&smartpos_tlv::TlvNode> for TlvNode {
    fn from(node: &smartpos_tlv::TlvNode) -> Self {
        TlvNode {
            tag: node.tag.to_string(),
            name: smartpos_tlv::dict::name(node.tag).map(str::to_string),
            constructed: node.tag.is_constructed(),
            value: node.value.clone(),
            children: node.children.iter().map(TlvNode::from).collect(),
        }
    }
}

fn to_core(node: &TlvNode) -> Result<smartpos_tlv::TlvNode, SmartPosError> {
    let tag_bytes = parse_hex("tag", &node.tag)?;
    let tag = Tag::from_bytes(&tag_bytes).map_err(|e| SmartPosError::InvalidInput {
        field: "tag".into(),
        reason: format!("{} is not a BER-TLV tag: {e}", hex_upper(&tag_bytes)),
    })?;
    if tag.is_constructed() {
        let children = node
            .children
            .iter()
            .map(to_core)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(smartpos_tlv::TlvNode::constructed(tag, children))
    } else if node.children.is_empty() {
        Ok(smartpos_tlv::TlvNode::primitive(tag, node.value.clone()))
    } else {
        Err(SmartPosError::InvalidInput {
            field: "children".into(),
            reason: format!("tag {tag} is primitive but has children"),
        })
    }
}

/// Decode every BER-TLV object in `data`, descending into constructed ones.
#[uniffi::export]
pub fn decode_tlv(data: Vec<u8>) -> Result<Vec<TlvNode>, SmartPosError> {
    smartpos_tlv::TlvNode::parse_all(&data)
        .map(|nodes| nodes.iter().map(TlvNode::from).collect())
        .map_err(|e| SmartPosError::malformed("decode_tlv", e))
}

/// [`decode_tlv`] of hex text (upper or lower case, surrounding spaces ignored).
#[uniffi::export]
pub fn decode_tlv_hex(hex: String) -> Result<Vec<TlvNode>, SmartPosError> {
    decode_tlv(parse_hex("hex", &hex)?)
}

/// Encode `nodes` in order; a constructed node is written from its children, a primitive one
/// from its value, always with minimal lengths (EMV Book 3 Annex B2).
#[uniffi::export]
pub fn encode_tlv(nodes: Vec<TlvNode>) -> Result<Vec<u8>, SmartPosError> {
    let mut out = Vec::new();
    for node in &nodes {
        out.extend_from_slice(&to_core(node)?.to_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// moov-io/bertlv bertlv_test.go TestEncodeDecode: a PPSE FCI with one Mastercard entry.
    const MOOV_PPSE_FCI: &str = "6F2F840E325041592E5359532E4444463031A51DBF0C1A61184F07A0000000041010500A4D617374657263617264870101";

    #[test]
    fn decodes_the_tree_with_names() {
        let nodes = decode_tlv_hex(MOOV_PPSE_FCI.to_lowercase()).unwrap();
        assert_eq!(nodes.len(), 1);
        let fci = &nodes[0];
        assert_eq!(fci.tag, "6F");
        assert!(fci.constructed);
        assert_eq!(
            fci.name.as_deref(),
            Some("File Control Information (FCI) Template")
        );
        let entry = &fci.children[1].children[0].children[0];
        assert_eq!(entry.tag, "61");
        let aid = &entry.children[0];
        assert_eq!(
            (aid.tag.as_str(), hex_upper(&aid.value)),
            ("4F", "A0000000041010".to_string())
        );
        assert_eq!(
            aid.name.as_deref(),
            Some("Application Dedicated File (ADF) Name")
        );
        assert!(!aid.constructed && aid.children.is_empty());
    }

    #[test]
    fn encode_round_trips_and_ignores_names() {
        let bytes = parse_hex("t", MOOV_PPSE_FCI).unwrap();
        let mut nodes = decode_tlv(bytes.clone()).unwrap();
        nodes[0].name = Some("anything".into());
        assert_eq!(encode_tlv(nodes).unwrap(), bytes);
    }

    #[test]
    fn encode_rejects_bad_tags_and_children_of_primitives() {
        let node = |tag: &str, children| TlvNode {
            tag: tag.into(),
            name: None,
            constructed: false,
            value: vec![1],
            children,
        };
        // 9F alone announces a second tag byte that is missing.
        assert!(matches!(
            encode_tlv(vec![node("9F", vec![])]),
            Err(SmartPosError::InvalidInput { field, .. }) if field == "tag"
        ));
        assert!(matches!(
            encode_tlv(vec![node("5A", vec![node("50", vec![])])]),
            Err(SmartPosError::InvalidInput { field, .. }) if field == "children"
        ));
    }

    #[test]
    fn malformed_input_names_the_context() {
        match decode_tlv(vec![0x6F, 0x2F, 0x84]) {
            Err(SmartPosError::MalformedTlv { context, reason }) => {
                assert_eq!(context, "decode_tlv");
                assert!(reason.contains("6F"), "{reason}");
            }
            other => panic!("expected MalformedTlv, got {other:?}"),
        }
        assert!(matches!(
            decode_tlv_hex("6F0".into()),
            Err(SmartPosError::InvalidInput { .. })
        ));
    }
}
