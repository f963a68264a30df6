//! Body of the fuzz target `fuzz/fuzz_targets/iso8583_unpack.rs`, kept here so a proptest runs the
//! same code on stable. Returns `Err` with the broken invariant instead of panicking; the fuzz target
//! turns that into a crash.

use crate::profile::Profile;

/// Unpack `data` with every built-in profile; whatever unpacks must pack again, unpack to the same
/// frame, survive the JSON form, and render (Debug, pretty) without panicking.
pub fn iso8583_unpack(data: &[u8]) -> Result<(), String> {
    for p in [Profile::cups_pos(), Profile::iso87_ascii()] {
        let _ = p.unpack(data);
        let Ok(frame) = p.unpack_frame(data) else {
            continue;
        };
        let packed = p
            .pack_frame(&frame)
            .map_err(|e| format!("{}: unpacked frame does not pack: {e}", p.name()))?;
        let again = p
            .unpack_frame(&packed)
            .map_err(|e| format!("{}: re-packed frame does not unpack: {e}", p.name()))?;
        if again != frame {
            return Err(format!("{}: pack/unpack changed the frame", p.name()));
        }
        let from_json = p
            .frame_from_json(&p.frame_to_json(&frame))
            .map_err(|e| format!("{}: JSON form does not parse back: {e}", p.name()))?;
        if from_json != frame {
            return Err(format!("{}: JSON round trip changed the frame", p.name()));
        }
        let _ = format!("{frame:?}");
        let _ = p.pretty(&frame);
    }
    Ok(())
}
