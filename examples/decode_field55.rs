//! Decode an ICC data field (ISO 8583 field 55) and answer a card's PDOL.
//!
//! Run with `cargo run -p smartpos-examples --example decode_field55`.
//!
//! * BER-TLV reading (EMV Book 3 Annex B) with [`smartpos_tlv::TlvReader`]: zero-copy, one
//!   `Result` per object, so a malformed field 55 from a host is an error, never a panic.
//! * Tag names from the EMV dictionary ([`smartpos_tlv::dict`], Book 3 Annex A).
//! * A Data Object List answer (Book 3 §5.4) with [`smartpos_tlv::dol::Dol::build`]: values are
//!   padded or truncated to the lengths the card asked for, by each tag's format.

use std::collections::HashMap;
use std::error::Error;

use smartpos_tlv::dol::Dol;
use smartpos_tlv::{Tag, TlvBuilder, TlvReader, dict, mask};

/// A field 55 as a terminal sends it in an online authorisation request (values from a test card).
const FIELD_55: &str = concat!(
    "9F2608",
    "8E19ED4BCA5C670A", // Application Cryptogram
    "9F2701",
    "80", // Cryptogram Information Data (ARQC)
    "9F1012",
    "0110A00003220000000000000000000000FF", // Issuer Application Data
    "9F3704",
    "9BADBCAB", // Unpredictable Number
    "9F3602",
    "0002", // ATC
    "9505",
    "0000000000", // TVR
    "9A03",
    "261121", // Transaction Date
    "9C01",
    "00", // Transaction Type
    "9F0206",
    "000000001234", // Amount, Authorised
    "5F2A02",
    "0156", // Transaction Currency Code
    "8202",
    "3900", // AIP
    "9F1A02",
    "0156", // Terminal Country Code
    "9F3303",
    "E0F8C8", // Terminal Capabilities
    "5A08",
    "4761739001010010", // PAN (masked when shown)
);

/// A GET PROCESSING OPTIONS response in format 2 (template 77).
const GPO_RESPONSE: &str = "770F820239009404080102009F36020002";

/// One decoded line: tag, dictionary name, value as shown (masked if sensitive).
pub struct Line {
    pub tag: Tag,
    pub name: &'static str,
    pub shown: String,
}

/// Decode a field 55 into printable lines.
pub fn decode(field55: &[u8]) -> Result<Vec<Line>, Box<dyn Error>> {
    let mut lines = Vec::new();
    for tlv in TlvReader::new(field55) {
        // The reader yields one Err for the first malformed object and then stops.
        let tlv = tlv?;
        let name = dict::name(tlv.tag).unwrap_or("(not in the dictionary)");
        // PAN and track data are never printed in clear: first 6 + last 4 only.
        let shown =
            mask::masked_hex(tlv.tag, tlv.value).unwrap_or_else(|| hex::encode_upper(tlv.value));
        lines.push(Line {
            tag: tlv.tag,
            name,
            shown,
        });
    }
    Ok(lines)
}

/// Answer a PDOL (tag 9F38 from the card's FCI) with the terminal's data, EMV Book 3 §5.4.
pub fn answer_pdol(pdol: &[u8]) -> Result<Vec<u8>, Box<dyn Error>> {
    let pdol = Dol::parse(pdol)?;
    // The terminal's data elements, by tag. Anything the card asks for that we do not have is
    // sent as zeros of the requested length.
    let terminal: HashMap<Tag, Vec<u8>> = [
        (Tag(0x9F66), hex::decode("36004000")?), // Terminal Transaction Qualifiers
        (Tag(0x9F02), hex::decode("000000001234")?), // Amount, Authorised
        (Tag(0x5F2A), hex::decode("0156")?),     // Transaction Currency Code
        (Tag(0x9F37), hex::decode("9BADBCAB")?), // Unpredictable Number
    ]
    .into_iter()
    .collect();
    let data = pdol.build(|tag| terminal.get(&tag).map(Vec::as_slice));
    // GET PROCESSING OPTIONS carries it wrapped in tag 83 (Book 3 §6.5.8).
    let mut command_data = TlvBuilder::new();
    command_data.push(Tag(0x83), &data);
    Ok(command_data.finish())
}

/// Read the AIP and AFL out of a GET PROCESSING OPTIONS response in format 2 (template 77,
/// EMV Book 3 §6.5.8.4): constructed objects are walked with `children`, or searched
/// depth-first with `find`.
pub fn aip_and_afl(gpo_response: &[u8]) -> Result<(Vec<u8>, Vec<u8>), Box<dyn Error>> {
    let template = smartpos_tlv::parse_one(gpo_response)?;
    if template.tag != Tag(0x77) {
        return Err(format!("expected template 77, got {}", template.tag).into());
    }
    for child in template.children() {
        let child = child?;
        println!(
            "  77 > {} {}",
            child.tag,
            dict::name(child.tag).unwrap_or("?")
        );
    }
    let aip = template.child(Tag::AIP)?.ok_or("AIP (82) missing")?;
    let afl = smartpos_tlv::find(gpo_response, Tag::AFL)?.ok_or("AFL (94) missing")?;
    Ok((aip.value.to_vec(), afl.value.to_vec()))
}

fn main() -> Result<(), Box<dyn Error>> {
    let field55 = hex::decode(FIELD_55)?;
    println!("field 55, {} bytes:", field55.len());
    for line in decode(&field55)? {
        println!(
            "  {:<6} {:<42} {}",
            line.tag.to_string(),
            line.name,
            line.shown
        );
    }

    // A card's PDOL: TTQ (4), amount (6), currency (2), unpredictable number (4), and an unknown
    // proprietary tag DF01 of 3 bytes the terminal does not know.
    let pdol = hex::decode("9F66049F02065F2A029F3704DF0103")?;
    let gpo_data = answer_pdol(&pdol)?;
    println!("GPO command data: {}", hex::encode_upper(&gpo_data));

    // The card's answer, format 2: AIP 3900, AFL of two records of SFI 1, ATC 0002.
    let gpo_response = hex::decode(GPO_RESPONSE)?;
    let (aip, afl) = aip_and_afl(&gpo_response)?;
    println!(
        "AIP {} AFL {}",
        hex::encode_upper(aip),
        hex::encode_upper(afl)
    );
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
    fn names_come_from_the_dictionary_and_the_pan_is_masked() {
        let lines = decode(&hex::decode(FIELD_55).unwrap()).unwrap();
        assert_eq!(lines.len(), 14);
        assert_eq!(lines[0].tag, Tag(0x9F26));
        assert_eq!(lines[0].shown, "8E19ED4BCA5C670A");
        assert!(lines[0].name.contains("Cryptogram"), "{}", lines[0].name);
        let pan = lines.iter().find(|l| l.tag == Tag::PAN).unwrap();
        assert!(!pan.shown.contains("4761739001010010"), "{}", pan.shown);
        assert!(pan.shown.contains("0010"), "{}", pan.shown);
    }

    #[test]
    fn a_truncated_field55_is_an_error() {
        let mut bytes = hex::decode(FIELD_55).unwrap();
        bytes.truncate(bytes.len() - 3);
        assert!(decode(&bytes).is_err());
    }

    #[test]
    fn aip_and_afl_come_out_of_template_77() {
        let (aip, afl) = aip_and_afl(&hex::decode(GPO_RESPONSE).unwrap()).unwrap();
        assert_eq!(aip, vec![0x39, 0x00]);
        assert_eq!(afl, vec![0x08, 0x01, 0x02, 0x00]);
        // Format 1 (template 80) is not what this reader expects: an error, not a panic.
        assert!(aip_and_afl(&hex::decode("8006390008010200").unwrap()).is_err());
    }

    #[test]
    fn pdol_answer_has_the_requested_lengths_in_order() {
        let pdol = hex::decode("9F66049F02065F2A029F3704DF0103").unwrap();
        let answer = answer_pdol(&pdol).unwrap();
        // 83 13 + TTQ + amount + currency + UN + 3 zero bytes for the unknown tag.
        assert_eq!(
            hex::encode_upper(answer),
            concat!(
                "8313",
                "36004000",
                "000000001234",
                "0156",
                "9BADBCAB",
                "000000"
            )
        );
    }
}
