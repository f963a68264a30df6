//! Field 55 of a virtual card for host tests: the card side of the ARQC (EMV Book 2 §8.1.1) for
//! the default cards, so tests can send a cryptogram the simulator verifies (or tamper with it).

use smartpos_crypto::emv::{self, AcData, Cvn, MkDerivation};
use smartpos_crypto::key::SecretKey;
use smartpos_tlv::{Tag, TlvBuilder};

/// Inputs of one ARQC.
#[derive(Debug, Clone)]
pub struct ArqcInput<'a> {
    /// PAN.
    pub pan: &'a str,
    /// PSN, two digits.
    pub psn: &'a str,
    /// IMK (AC), hex.
    pub imk_hex: &'a str,
    /// CVN layout.
    pub cvn: Cvn,
    /// Amount authorised, minor units.
    pub amount: u64,
    /// ATC.
    pub atc: u16,
    /// Unpredictable number.
    pub unpredictable_number: [u8; 4],
}

fn bcd6(n: u64) -> [u8; 6] {
    let mut out = [0u8; 6];
    let s = format!("{:012}", n % 1_000_000_000_000);
    for (i, pair) in s.as_bytes().chunks(2).enumerate() {
        if let (Some(o), [a, b]) = (out.get_mut(i), pair) {
            *o = ((a - b'0') << 4) | (b - b'0');
        }
    }
    out
}

/// The IAD (9F10) layout of a CVN: Visa format 0 (06 01 CVN CVR(4)), Visa 18 (06 01 12 03 A0 00
/// 00) padded IAD, or M/Chip (KDI CVN CVR(6) DAC(2) counters(8)).
pub fn iad_for(cvn: Cvn) -> Vec<u8> {
    match cvn {
        Cvn::Visa10 => vec![0x06, 0x01, 0x0A, 0x03, 0xA0, 0x00, 0x00],
        Cvn::Visa18 | Cvn::Visa22 => vec![0x06, 0x01, 0x12, 0x03, 0xA0, 0x00, 0x00],
        Cvn::Mastercard16 | Cvn::Mastercard20 => {
            let mut v = vec![0x01, 0x10, 0xA0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00];
            v.extend_from_slice(&[0u8; 8]);
            v
        }
        Cvn::Mastercard17 | Cvn::Mastercard21 => {
            let mut v = vec![0x01, 0x11, 0xA0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00];
            v.extend_from_slice(&[0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00]);
            v
        }
    }
}

/// Field 55 with a valid ARQC (9F26) and the data it covers.
pub fn field55(input: &ArqcInput<'_>) -> Result<Vec<u8>, emv::EmvCryptoError> {
    let imk = SecretKey::from_hex(smartpos_crypto::key::KeyAlgorithm::Tdes2, input.imk_hex)
        .map_err(emv::EmvCryptoError::from)?;
    let mk = emv::derive_icc_mk(&imk, input.pan, input.psn, MkDerivation::OptionA)?;
    field55_with_mk(&mk, input)
}

/// Field 55 with an ARQC under a given ICC master key (`input.imk_hex` is not used).
pub fn field55_with_mk(
    mk: &SecretKey,
    input: &ArqcInput<'_>,
) -> Result<Vec<u8>, emv::EmvCryptoError> {
    let amount = bcd6(input.amount);
    let other = [0u8; 6];
    let country = [0x01, 0x56];
    let tvr = [0u8; 5];
    let currency = [0x01, 0x56];
    let date = [0x26, 0x11, 0x21];
    let ttype = [0x00];
    let aip = [0x7C, 0x00];
    let atc = input.atc.to_be_bytes();
    let iad = iad_for(input.cvn);
    let data = AcData {
        amount_authorised: &amount,
        amount_other: &other,
        terminal_country_code: &country,
        tvr: &tvr,
        transaction_currency_code: &currency,
        transaction_date: &date,
        transaction_type: &ttype,
        unpredictable_number: &input.unpredictable_number,
        aip: &aip,
        atc: &atc,
        iad: &iad,
    };
    let ac = input.cvn.generate_ac(mk, &data)?;
    let psn = u8::from_str_radix(input.psn, 16).unwrap_or(0);
    let mut b = TlvBuilder::new();
    b.push(Tag(0x9F26), &ac)
        .push(Tag(0x9F27), &[0x80])
        .push(Tag(0x9F10), &iad)
        .push(Tag(0x9F37), &input.unpredictable_number)
        .push(Tag(0x9F36), &atc)
        .push(Tag(0x95), &tvr)
        .push(Tag(0x9A), &date)
        .push(Tag(0x9C), &ttype)
        .push(Tag(0x9F02), &amount)
        .push(Tag(0x5F2A), &currency)
        .push(Tag(0x82), &aip)
        .push(Tag(0x9F1A), &country)
        .push(Tag(0x9F03), &other)
        .push(Tag(0x5F34), &[psn]);
    Ok(b.finish())
}
