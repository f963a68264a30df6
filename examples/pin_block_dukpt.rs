//! A PIN pad's DUKPT (TDES) PIN block and the host that decrypts it.
//!
//! Run with `cargo run -p smartpos-examples --example pin_block_dukpt`.
//!
//! * Originator (the PIN pad): loads the IPEK and initial KSN once ("load initial key", ANSI
//!   X9.24-1:2009 A.2), then takes one transaction key per PIN entry and applies the PIN variant
//!   (X9.24-1:2009 A.6).
//! * PIN block ISO 9564-1 format 0 (ISO 9564-1:2017 §9.3.1) for PIN 1234 and the card's PAN,
//!   enciphered under that PIN key.
//! * Receiver (the host): derives the same key from the BDK and the KSN sent with the request
//!   (X9.24-1:2009 A.4), deciphers and checks the PIN block.
//!
//! The numbers are the published vector `dukpt-tdes-init-01` (/work/shared/vectors/published.md),
//! source: openemv/dukpt @1d01ddafa9dac103f4eee2ad1b20483596d83012 test/dukpt_tdes_test.c and
//! moov-io/dukpt @65ee1a27dfd564dbb0fb89af2ca42035d06af34e pkg/des/des_test.go.

use std::error::Error;

use smartpos_crypto::dukpt::tdes::{self, Ksn, Originator};
use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_crypto::pin::{self, Pin, PinBlockFormat};

/// Base derivation key (at the host / HSM only). Vector `dukpt-tdes-ipek`.
const BDK: &str = "0123456789ABCDEFFEDCBA9876543210";
/// Initial key serial number injected with the IPEK.
const INITIAL_KSN: &str = "FFFF9876543210E00000";
const PAN: &str = "4012345678909";

/// What travels to the host: the KSN (field 53 / 62 depending on the profile) and the
/// enciphered PIN block (field 52).
pub struct OnlinePin {
    pub ksn: Ksn,
    pub enciphered_pin_block: Vec<u8>,
}

/// The PIN pad side.
pub fn pin_pad(
    originator: &mut Originator,
    pin: &Pin,
    pan: &str,
) -> Result<OnlinePin, Box<dyn Error>> {
    // One transaction: the counter advances and the used key is erased from the registers.
    let keys = originator.next_session_keys()?;
    // Format 0 needs no random fill, so the fill source is never called.
    let mut no_fill = |_: &mut [u8]| Ok(());
    let clear = pin::encode(PinBlockFormat::Iso0, pin, Some(pan), &mut no_fill)?;
    let enciphered_pin_block = pin::encipher(&keys.pin_key, &clear, Some(pan))?;
    Ok(OnlinePin {
        ksn: keys.ksn,
        enciphered_pin_block,
    })
}

/// The host side: BDK + KSN → PIN key → clear PIN (which an HSM would then verify).
pub fn host_decrypt(
    bdk: &SecretKey,
    request: &OnlinePin,
    pan: &str,
) -> Result<Pin, Box<dyn Error>> {
    let keys = tdes::host_session_keys(bdk, &request.ksn)?;
    let clear = pin::decipher(
        &keys.pin_key,
        PinBlockFormat::Iso0,
        &request.enciphered_pin_block,
        Some(pan),
    )?;
    Ok(pin::decode(
        PinBlockFormat::Iso0,
        clear.as_bytes(),
        Some(pan),
    )?)
}

/// Run both sides once; returns the request and the PIN the host recovered.
pub fn run() -> Result<(OnlinePin, Pin), Box<dyn Error>> {
    let bdk = SecretKey::from_hex(KeyAlgorithm::Tdes2, BDK)?;
    let initial_ksn = Ksn::from_hex(INITIAL_KSN)?;

    // Key injection facility: IPEK = f(BDK, initial KSN); only the IPEK goes into the PIN pad.
    let ipek = tdes::derive_ipek(&bdk, &initial_ksn)?;
    let mut originator = Originator::load_initial_key(&ipek, &initial_ksn)?;
    drop(ipek); // a real device never keeps it

    let pin = Pin::new("1234")?;
    let request = pin_pad(&mut originator, &pin, PAN)?;
    let recovered = host_decrypt(&bdk, &request, PAN)?;
    Ok((request, recovered))
}

fn main() -> Result<(), Box<dyn Error>> {
    let (request, recovered) = run()?;
    println!(
        "KSN:                {}",
        hex::encode_upper(request.ksn.as_bytes())
    );
    println!(
        "PIN block (field 52): {}",
        hex::encode_upper(&request.enciphered_pin_block)
    );
    // Printing a PIN is for this demo only; a real host hands the block to its HSM.
    println!("host recovered a {}-digit PIN", recovered.len());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Published vector id: dukpt-tdes-init-01, source: openemv/dukpt
    // @1d01ddafa9dac103f4eee2ad1b20483596d83012 test/dukpt_tdes_test.c; moov-io/dukpt
    // @65ee1a27dfd564dbb0fb89af2ca42035d06af34e pkg/des/des_test.go
    // (ksn FFFF9876543210E00001, enc_pinblock 1B9C1845EB993A7A).
    #[test]
    fn first_transaction_matches_dukpt_tdes_init_01() {
        let (request, recovered) = run().unwrap();
        assert_eq!(
            hex::encode_upper(request.ksn.as_bytes()),
            "FFFF9876543210E00001"
        );
        assert_eq!(
            hex::encode_upper(&request.enciphered_pin_block),
            "1B9C1845EB993A7A"
        );
        assert_eq!(recovered.as_str(), "1234");
    }

    #[test]
    fn runs() {
        super::main().unwrap();
    }

    #[test]
    fn a_wrong_pan_does_not_give_back_the_pin() {
        let (request, _) = run().unwrap();
        let bdk = SecretKey::from_hex(KeyAlgorithm::Tdes2, BDK).unwrap();
        // The PAN field is XORed in: with another PAN the fill nibbles are no longer all F,
        // so the host refuses the block instead of recovering a wrong PIN.
        assert!(host_decrypt(&bdk, &request, "4761739001010010").is_err());
    }
}
