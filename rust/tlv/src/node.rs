//! Owned BER-TLV tree, for tools and tests that want to keep or edit decoded data.

use crate::builder::TlvBuilder;
use crate::error::TlvError;
use crate::reader::{Tlv, TlvReader, check_depth};
use crate::tag::Tag;

/// One owned BER-TLV object and, for a constructed tag, its decoded children.
///
/// `value` is the value field as read (for a constructed tag: its encoded children, padding
/// included). `children` is empty for a primitive tag. When encoding ([`TlvNode::encode`]), a
/// constructed node is written from `children` and a primitive one from `value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlvNode {
    /// The tag.
    pub tag: Tag,
    /// The value field.
    pub value: Vec<u8>,
    /// Decoded children of a constructed tag (empty for a primitive one).
    pub children: Vec<TlvNode>,
}

impl TlvNode {
    /// A primitive node.
    pub fn primitive(tag: Tag, value: impl Into<Vec<u8>>) -> Self {
        TlvNode {
            tag,
            value: value.into(),
            children: Vec::new(),
        }
    }

    /// A constructed node; `value` is set to the encoding of `children`.
    pub fn constructed(tag: Tag, children: Vec<TlvNode>) -> Self {
        let mut b = TlvBuilder::new();
        for child in &children {
            child.encode(&mut b);
        }
        TlvNode {
            tag,
            value: b.finish(),
            children,
        }
    }

    /// Decode every object of `data`, descending into constructed ones (up to
    /// [`crate::MAX_DEPTH`] levels).
    pub fn parse_all(data: &[u8]) -> Result<Vec<TlvNode>, TlvError> {
        collect(TlvReader::new(data), 0)
    }

    /// An owned copy of `tlv` and everything under it.
    pub fn from_tlv(tlv: &Tlv<'_>) -> Result<TlvNode, TlvError> {
        from_tlv_at(tlv, 0)
    }

    /// Append this node's encoding to `builder`.
    pub fn encode(&self, builder: &mut TlvBuilder) {
        if self.tag.is_constructed() {
            builder.push_constructed(self.tag, |b| {
                for child in &self.children {
                    child.encode(b);
                }
            });
        } else {
            builder.push(self.tag, &self.value);
        }
    }

    /// This node's encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = TlvBuilder::new();
        self.encode(&mut b);
        b.finish()
    }

    /// First node with `tag` in this subtree, depth-first (this node first).
    pub fn find(&self, tag: Tag) -> Option<&TlvNode> {
        if self.tag == tag {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(tag))
    }
}

fn collect(reader: TlvReader<'_>, depth: usize) -> Result<Vec<TlvNode>, TlvError> {
    reader.map(|tlv| from_tlv_at(&tlv?, depth)).collect()
}

fn from_tlv_at(tlv: &Tlv<'_>, depth: usize) -> Result<TlvNode, TlvError> {
    let children = if tlv.is_constructed() {
        check_depth(tlv, depth)?;
        collect(tlv.children(), depth + 1)?
    } else {
        Vec::new()
    };
    Ok(TlvNode {
        tag: tlv.tag,
        value: tlv.value.to_vec(),
        children,
    })
}
