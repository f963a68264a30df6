//! An ISO 8583 sale request (0200) in the UnionPay-style `cups-pos` profile: chip data in
//! field 55, MAC in field 64, packed into a TPDU frame, unpacked again and printed masked.
//!
//! Run with `cargo run -p smartpos-examples --example iso8583_sale`.
//!
//! In a terminal [`smartpos_host::HostClient::sale`] builds this message for you; this example
//! shows the pieces an integrator meets when reading a host trace:
//! * [`smartpos_iso8583::Message`] with typed setters, [`smartpos_iso8583::Profile::cups_pos`]
//!   to pack and unpack (binary bitmap, BCD numerics, LLVAR/LLLVAR lengths);
//! * [`smartpos_host::mac`]: the UnionPay MAC block (MTI through the field before 64) and the
//!   ANSI X9.19 retail MAC over it;
//! * [`smartpos_iso8583::Profile::pretty`]: PAN, track 2, PIN block and MAC masked.

use std::error::Error;

use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_host::dialect::{self, msg_type};
use smartpos_host::{MacAlgorithm, mac};
use smartpos_iso8583::{Frame, Message, Mti, Profile, Tpdu};

/// A MAC working key (in a terminal it comes enciphered under the TMK at sign-on).
const MAK: &str = "0123456789ABCDEFFEDCBA9876543210";
const PAN: &str = "6212345678901232";

/// Field 55: the kernel's online data record (ARQC and what it covers), BER-TLV.
const FIELD_55: &str = concat!(
    "9F2608",
    "8E19ED4BCA5C670A",
    "9F2701",
    "80",
    "9F3704",
    "9BADBCAB",
    "9F3602",
    "0002",
    "9505",
    "0000000000",
    "9A03",
    "261121",
    "9C01",
    "00",
    "9F0206",
    "000000001234",
    "5F2A02",
    "0156",
    "8202",
    "7C00",
    "9F1A02",
    "0156",
);

/// Build, MAC and frame a chip sale of `amount` fen.
pub fn build_sale(amount: u64, stan: u32) -> Result<Frame, Box<dyn Error>> {
    let profile = Profile::cups_pos();
    let mut m = Message::new(Mti::new("0200")?);
    m.set_pan(PAN)?
        .set_processing_code(dialect::PC_PURCHASE)?
        .set_amount(4, amount)?
        .set_stan(stan)?
        .set_text(14, "3012")? // expiry YYMM
        .set_text(22, "052")? // chip read, no PIN
        .set_numeric(23, 1, 3)? // PAN sequence number
        .set_text(25, "00")? // normal presentment
        .set_terminal_id("12345678")?
        .set_merchant_id("123456789012345")?
        .set_text(49, "156")? // CNY
        .set_binary(55, &hex::decode(FIELD_55)?)?
        // 60: message type, batch number, network code (UnionPay POS convention).
        .set_text(60, &format!("{}{:06}000", msg_type::SALE, 1))?;
    // Field 64 last: the MAC covers everything before it.
    let mak = SecretKey::from_hex(KeyAlgorithm::Tdes2, MAK)?;
    mac::sign(profile, MacAlgorithm::X919, &mak, &mut m)?;
    // TPDU (ID 60, destination 0001, origin 0000) and the 6-byte application header.
    Ok(Frame::new(
        Tpdu::new(0x0001, 0x0000),
        &[0x60, 0x31, 0x00, 0x31, 0x00, 0x00],
        m,
    ))
}

fn main() -> Result<(), Box<dyn Error>> {
    let profile = Profile::cups_pos();
    let frame = build_sale(1_234, 42)?;
    let wire = profile.pack_frame(&frame)?;
    println!(
        "{} bytes on the wire (before the 2-byte length)",
        wire.len()
    );

    // The host side: unpack, check the MAC, read the fields.
    let received = profile.unpack_frame(&wire)?;
    let mak = SecretKey::from_hex(KeyAlgorithm::Tdes2, MAK)?;
    mac::verify(profile, MacAlgorithm::X919, &mak, &received.message)?;
    println!("MAC verified; amount {:?}", received.message.amount()?);
    // Masked rendering: the full PAN, the PIN block and the MAC never appear.
    print!("{}", profile.pretty(&received));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs() {
        super::main().unwrap();
    }

    #[test]
    fn round_trips_and_the_mac_covers_the_amount() {
        let profile = Profile::cups_pos();
        let frame = build_sale(1_234, 42).unwrap();
        let back = profile
            .unpack_frame(&profile.pack_frame(&frame).unwrap())
            .unwrap();
        assert_eq!(back, frame);
        assert_eq!(back.message.mti().to_string(), "0200");
        assert_eq!(back.message.amount().unwrap(), Some(1_234));
        assert_eq!(
            back.message.binary(55),
            Some(hex::decode(FIELD_55).unwrap().as_slice())
        );

        let mak = SecretKey::from_hex(KeyAlgorithm::Tdes2, MAK).unwrap();
        mac::verify(profile, MacAlgorithm::X919, &mak, &back.message).unwrap();
        // Change the amount after MACing: the host must refuse it.
        let mut tampered = back.message.clone();
        tampered.set_amount(4, 99_999).unwrap();
        assert!(mac::verify(profile, MacAlgorithm::X919, &mak, &tampered).is_err());
    }

    #[test]
    fn pretty_print_masks_the_pan() {
        let profile = Profile::cups_pos();
        let text = profile.pretty(&build_sale(1_234, 42).unwrap());
        assert!(!text.contains(PAN), "{text}");
        assert!(text.contains("621234"), "{text}");
        assert!(text.contains("9F26"), "field 55 is decoded: {text}");
    }
}
