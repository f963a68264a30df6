// Body of the `value_added_field63` fuzz target, shared by `include!` with the stable proptest
// (rust/host/tests/fuzz_value_added.rs). The includer brings `ValueAddedData` into scope.
// Returns `Err` with a description when an invariant is broken; a panic is a bug as well.

/// Feeds `data` to `ValueAddedData::from_field63` (field 63 `VAD` sub-elements, see
/// smartpos_host::dialect "Value-added data"). What parses is valid, not empty, re-encodes to
/// a field of the same length (the same sub-elements, in canonical ORD, MBR, CPN order) that
/// parses back to the same data, and re-encoding that gives the same text again.
pub fn value_added_field63(data: &[u8]) -> std::result::Result<(), String> {
    let Ok(parsed) = ValueAddedData::from_field63(data) else {
        return Ok(());
    };
    parsed
        .validate()
        .map_err(|e| format!("parsed value-added data does not validate: {e}"))?;
    if parsed.is_empty() {
        return Err("empty value-added data parsed from a field".into());
    }
    let text = parsed
        .to_field63()
        .map_err(|e| format!("parsed value-added data does not re-encode: {e}"))?
        .ok_or("non-empty value-added data re-encoded to nothing")?;
    if text.len() != data.len() {
        return Err(format!(
            "re-encoded field is {} bytes, the parsed one {}",
            text.len(),
            data.len()
        ));
    }
    let again = ValueAddedData::from_field63(text.as_bytes())
        .map_err(|e| format!("re-encoded field does not parse: {e}"))?;
    if again != parsed {
        return Err("value-added data changed across to_field63/from_field63".into());
    }
    match again.to_field63() {
        Ok(Some(t)) if t == text => Ok(()),
        _ => Err("re-encoding is not stable".into()),
    }
}
