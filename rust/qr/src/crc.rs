//! CRC-16/CCITT-FALSE as EMV QRCPS-MPM §4 prescribes for data object ID "63": polynomial
//! 0x1021, initial value 0xFFFF, no reflection, no final XOR, computed over the UTF-8 bytes of the
//! payload up to and including "6304".

/// CRC-16/CCITT-FALSE over `data` (check value of "123456789" is 0x29B1).
pub fn crc16_ccitt_false(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &byte in data {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    // Check value from the CRC catalogue (reveng.sourceforge.io/crc-catalogue), CRC-16/IBM-3740
    // (alias CRC-16/CCITT-FALSE): check=0x29b1 over "123456789".
    #[test]
    fn catalogue_check_value() {
        assert_eq!(crc16_ccitt_false(b"123456789"), 0x29B1);
    }

    #[test]
    fn empty_input_is_initial_value() {
        assert_eq!(crc16_ccitt_false(b""), 0xFFFF);
    }
}
