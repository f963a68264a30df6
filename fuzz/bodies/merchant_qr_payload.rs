// Body of the `merchant_qr_payload` fuzz target, shared by `include!` with the stable proptest
// (rust/host/tests/fuzz_merchant_qr_payload.rs). The includer brings `QrMerchantOrder` and
// `HostError` into scope. Returns `Err` with a description when an invariant is broken.

/// Feeds `data` as field 62 of a merchant-QR order answer to `QrMerchantOrder::check_payload`.
/// An accepted payload is exactly the received bytes, at most 512 bytes (EMV QRCPS-MPM v1.1
/// §4.1), UTF-8 without control characters, "000201" first and "6304" + 4 hex digits last
/// (§4.2.1, §4.7.1); a refusal names field 62.
pub fn merchant_qr_payload(data: &[u8]) -> std::result::Result<(), String> {
    match QrMerchantOrder::check_payload(data) {
        Ok(text) => {
            if text.as_bytes() != data {
                return Err("accepted payload differs from the received bytes".into());
            }
            if text.len() > 512 {
                return Err(format!("accepted a {}-byte payload", text.len()));
            }
            if text.chars().any(char::is_control) {
                return Err("accepted a payload with a control character".into());
            }
            let tail = text
                .len()
                .checked_sub(8)
                .and_then(|at| text.get(at..))
                .ok_or("accepted a payload shorter than its CRC")?;
            if !text.starts_with("000201")
                || !tail.starts_with("6304")
                || !tail.bytes().skip(4).all(|b| b.is_ascii_hexdigit())
            {
                return Err(format!("accepted a payload not framed as MPM: {text:?}"));
            }
            Ok(())
        }
        Err(e) => {
            if refusal_names_field62(&e) {
                Ok(())
            } else {
                Err(format!("refusal does not name field 62: {e:?}"))
            }
        }
    }
}

/// True when a refusal of field 62 says so.
fn refusal_names_field62(e: &HostError) -> bool {
    match e {
        HostError::MissingField { field, .. } | HostError::InvalidField { field, .. } => {
            *field == 62
        }
        _ => false,
    }
}
