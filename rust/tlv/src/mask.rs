//! Masking of cardholder data in EMV objects for display and logs (PCI DSS 3.4: the PAN shows at
//! most its first 6 and last 4 digits; track data is never shown).

use crate::tag::Tag;

/// Whether `tag` holds a PAN or track data, which must never be shown in full: `5A` (PAN), `56`
/// (Track 1 Data), `57` (Track 2 Equivalent Data), `9F1F`/`9F20` (Track 1/2 Discretionary Data),
/// `9F6B` (Mastercard Track 2 Data), `DF812A`/`DF812B` (Mastercard DD Card Track 1/2).
pub fn is_sensitive(tag: Tag) -> bool {
    matches!(
        tag.0,
        0x5A | 0x56 | 0x57 | 0x9F1F | 0x9F20 | 0x9F6B | 0xDF812A | 0xDF812B
    )
}

/// `6222021234567890123` → `622202*********0123`; PANs of 10 digits or fewer are fully starred.
pub fn mask_pan(pan: &str) -> String {
    let n = pan.chars().count();
    if n <= 10 {
        return "*".repeat(n);
    }
    pan.chars()
        .enumerate()
        .map(|(i, c)| if i < 6 || i >= n - 4 { c } else { '*' })
        .collect()
}

/// Track 2/3 text (`PAN=YYMM...`, or `PAN D YYMM...` as in the hex of tag `57`): the PAN masked by
/// [`mask_pan`], the separator (the first `=` or `D`) kept, every character after it `*`; with no
/// separator every character is `*` (ISO/IEC 7813 §10 track 2 layout).
pub fn mask_track(track: &str) -> String {
    match track.find(['=', 'D']) {
        Some(sep) => {
            let (pan, rest) = track.split_at(sep);
            let mut out = mask_pan(pan);
            let mut rest = rest.chars();
            out.extend(rest.next());
            out.extend(rest.map(|_| '*'));
            out
        }
        None => "*".repeat(track.chars().count()),
    }
}

/// The upper-case hex to show for a sensitive object's value, or `None` if `tag` is not
/// sensitive (see [`is_sensitive`]):
/// * `5A`: the PAN digits (trailing `F` padding dropped) masked by [`mask_pan`];
/// * `57`, `9F6B` (PAN `D` expiry, service code, discretionary data): the PAN masked, the `D`
///   kept, every digit after it `*`;
/// * the others: every hex digit `*`.
pub fn masked_hex(tag: Tag, value: &[u8]) -> Option<String> {
    if !is_sensitive(tag) {
        return None;
    }
    let hex: String = value.iter().map(|b| format!("{b:02X}")).collect();
    Some(match tag.0 {
        0x5A => mask_pan(hex.trim_end_matches('F')),
        0x57 | 0x9F6B => mask_track(&hex),
        _ => "*".repeat(hex.len()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pan_and_tracks() {
        assert_eq!(mask_pan("6222021234567890123"), "622202*********0123");
        assert_eq!(mask_pan("1234567890"), "**********");
        assert_eq!(mask_pan(""), "");
        assert_eq!(
            mask_track("6222021234567890123=2512101"),
            "622202*********0123=*******"
        );
        assert_eq!(mask_track("4761739001010119D2512"), "476173******0119D****");
        assert_eq!(mask_track("12345"), "*****");
        assert_eq!(mask_track(""), "");
        let pan = [0x47, 0x61, 0x73, 0x90, 0x01, 0x01, 0x01, 0x19];
        assert_eq!(masked_hex(Tag::PAN, &pan).unwrap(), "476173******0119");
        // 19-digit PAN padded with F.
        let pan19 = [0x62, 0x22, 0x02, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x3F];
        assert_eq!(masked_hex(Tag::PAN, &pan19).unwrap(), "622202*********0123");
        let track2 = [
            0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x58, 0xD1, 0x91, 0x22, 0x01,
        ];
        assert_eq!(
            masked_hex(Tag::TRACK2, &track2).unwrap(),
            "123456******3458D*******"
        );
        assert_eq!(masked_hex(Tag(0x57), &[0x12, 0x34]).unwrap(), "****");
        assert_eq!(masked_hex(Tag(0x56), b"B4").unwrap(), "****");
        assert_eq!(masked_hex(Tag(0x9F26), &[1, 2]), None);
        assert!(is_sensitive(Tag(0xDF812B)));
        assert!(!is_sensitive(Tag(0x5F24)));
    }
}
