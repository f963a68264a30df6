//! DOL-related data from the kernel's data store (EMV Book 3 §5.4), on smartpos-tlv's DOL
//! builder.

use crate::data::TagStore;
use crate::outcome::EndReason;
use smartpos_tlv::Tag;
use smartpos_tlv::dol::Dol;

/// Build the data answering `dol` from the store; a malformed DOL ends the transaction.
pub(crate) fn build(dol: &[u8], store: &TagStore) -> Result<Vec<u8>, EndReason> {
    let dol = Dol::parse(dol).map_err(|e| EndReason::FormatError {
        command: "DOL",
        reason: e.to_string(),
    })?;
    Ok(dol.build(|tag: Tag| store.get(tag.0)))
}

/// Whether a (possibly malformed) DOL asks for `tag`.
pub(crate) fn contains(dol: &[u8], tag: u32) -> bool {
    Dol::parse(dol).is_ok_and(|d| d.contains(Tag(tag)))
}
