//! Field 64 MACs of the cups-pos profile.
//!
//! MAC block (MAB): per the China UnionPay POS terminal convention (UnionPay "POS终端应用规范",
//! MAC calculation), the bytes of the packed message from the MTI up to and including the last
//! field before field 64 — the TPDU and header are excluded, the bitmap (with bit 64 set) is
//! included. [`mac_block`] produces exactly those bytes with smartpos-iso8583's
//! [`Profile::mac_input`] (the message packed with a placeholder in field 64, the placeholder
//! dropped).
//!
//! Algorithms ([`MacAlgorithm`]): the UnionPay "ECB" MAC (smartpos-crypto `cup_ecb_mac`), the ANSI
//! X9.19 retail MAC (ISO/IEC 9797-1 MAC algorithm 3, padding method 1, full 8 bytes), and for SM4
//! hierarchies ISO/IEC 9797-1 MAC algorithm 1 under SM4 (padding method 1, leftmost 8 bytes).

use crate::error::{HostError, crypto_err};
use smartpos_crypto::key::SecretKey;
use smartpos_crypto::mac::{self, Padding};
use smartpos_iso8583::{Message, Profile};

/// MAC algorithm of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MacAlgorithm {
    /// UnionPay POS ECB MAC (8 ASCII hex characters in field 64).
    CupEcb,
    /// ANSI X9.19 retail MAC with a double-length key (8 bytes).
    X919,
    /// ISO/IEC 9797-1 algorithm 1 with SM4 (UnionPay national-algorithm profile), leftmost 8 bytes.
    Sm4Cbc,
}

/// The MAC input of a message: MTI through the last field before 64 (see the module doc).
pub fn mac_block(profile: &Profile, message: &Message) -> Result<Vec<u8>, HostError> {
    if message.field_numbers().any(|n| n > 64) {
        return Err(HostError::InvalidRequest {
            field: "message",
            reason: "fields beyond 64 are not MACed by field 64 in cups-pos".into(),
        });
    }
    profile.mac_input(message).map_err(HostError::Build)
}

/// The 8-byte MAC of `data` under `key`.
pub fn compute(alg: MacAlgorithm, key: &SecretKey, data: &[u8]) -> Result<[u8; 8], HostError> {
    let full = match alg {
        MacAlgorithm::CupEcb => return mac::cup_ecb_mac(key, data).map_err(crypto_err),
        MacAlgorithm::X919 => mac::retail_mac(key, data, Padding::Method1).map_err(crypto_err)?,
        MacAlgorithm::Sm4Cbc => {
            mac::sm4_cbc_mac(key, data, Padding::Method1).map_err(crypto_err)?
        }
    };
    let mut out = [0u8; 8];
    match full.get(..8) {
        Some(s) => out.copy_from_slice(s),
        None => return Err(HostError::Crypto("MAC shorter than 8 bytes".into())),
    }
    Ok(out)
}

/// Set field 64 of `message` to its MAC.
pub fn sign(
    profile: &Profile,
    alg: MacAlgorithm,
    key: &SecretKey,
    message: &mut Message,
) -> Result<(), HostError> {
    let mab = mac_block(profile, message)?;
    let m = compute(alg, key, &mab)?;
    message.set_binary(64, &m).map_err(HostError::Build)?;
    Ok(())
}

/// Check field 64 of `message` (constant-time compare). [`HostError::BadMac`] when absent or wrong.
pub fn verify(
    profile: &Profile,
    alg: MacAlgorithm,
    key: &SecretKey,
    message: &Message,
) -> Result<(), HostError> {
    let received = message
        .binary(64)
        .ok_or(HostError::BadMac("missing (no field 64)"))?;
    let mab = mac_block(profile, message)?;
    let computed = compute(alg, key, &mab)?;
    mac::verify(&computed, received).map_err(|_| HostError::BadMac("does not verify"))
}
