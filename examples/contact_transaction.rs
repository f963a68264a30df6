//! A contact chip sale: smartpos-emv's contact kernel against a virtual card from smartpos-sim,
//! online to a simulated issuer, then issuer authentication and the second GENERATE AC.
//!
//! Run with `cargo run -p smartpos-examples --example contact_transaction`.
//!
//! The kernel is a pure state machine (EMV 4.4 Books 1-4): the card is a `CardTransport`, the
//! date, time and unpredictable number come in `TransactionParams`, and the cardholder and PIN
//! pad are callbacks. `start` runs selection → GPO → READ RECORD → ODA → restrictions → CVM →
//! risk management → GENERATE AC 1 (Book 3 §10.1-§10.8) and either ends or hands back an
//! `OnlineRequest` holding the field-55 data record. The terminal sends that to its host and
//! resumes with `complete` (Book 3 §10.9-§10.11).

use std::error::Error;
use std::sync::Arc;

use smartpos_emv::{
    Candidate, CardholderInterface, Choice, ContactKernel, FixedPinPad, Interaction, NoServices,
    Step, TerminalConfig, TransactionParams, TransactionResult,
};
use smartpos_sim::card::{VirtualCard, issuer};
use smartpos_sim::pki::TestPki;
use smartpos_tlv::{Tag, TlvReader, dict};

/// The cardholder's side of the screen: take the first application, ignore the language.
struct FirstApplication;

impl CardholderInterface for FirstApplication {
    fn choose_application(&mut self, candidates: &[Candidate]) -> Choice {
        println!(
            "{} application(s) on the card, taking the first",
            candidates.len()
        );
        Choice::Select(0)
    }
    fn language_selected(&mut self, language: &str) {
        println!("language preference from the card: {language}");
    }
}

/// One online sale of `amount` (minor units) with the Visa test card and offline PIN 1234.
pub fn chip_sale(
    amount: u64,
    approve: bool,
) -> Result<(TransactionResult, VirtualCard), Box<dyn Error>> {
    // The simulator's test PKI: CA keys the kernel trusts, certificates in the card.
    let pki = TestPki::shared()?;
    let kernel = ContactKernel::new(
        Arc::new(TerminalConfig::demo()?),
        Arc::new(pki.key_store()?),
    );

    let mut card = VirtualCard::from_profile("visa-dda-offline-pin")?;
    let scheme = card.profile().scheme;
    // A PIN pad that "enters" 1234 (offline PIN is verified by the card itself).
    let mut pin_pad = FixedPinPad {
        pin: Some(zeroize::Zeroizing::new("1234".into())),
        online_block: None,
    };
    // Injected: amount, date YYMMDD, time HHMMSS, unpredictable number (9F37).
    let params = TransactionParams::new(amount, "261121", "101500", [0x12, 0x34, 0x56, 0x78])?;

    let step = kernel.start(
        &mut card,
        params,
        Interaction {
            ui: &mut FirstApplication,
            pin_pad: &mut pin_pad,
            services: &mut NoServices,
        },
    );
    let result = match step {
        Step::Done(result) => *result, // offline approval or decline
        Step::Online(request) => {
            println!("ARQC; TVR so far {}", request.tvr().hex());
            println!("field 55 for the host:");
            for tlv in TlvReader::new(&request.data_record) {
                let tlv = tlv?;
                let name = dict::name(tlv.tag).unwrap_or("?");
                if tlv.tag == Tag(0x9F26) || tlv.tag == Tag(0x9F36) {
                    println!("  {} {name}: {}", tlv.tag, hex::encode_upper(tlv.value));
                }
            }
            // The issuer (simulated): checks the ARQC under its master key and answers with an
            // ARPC (EMV Book 2 §8.2, method 1) in tag 91 and the response code.
            let verdict = issuer::authorise(scheme, &request.data_record, *b"00")?;
            println!("issuer: ARQC valid = {}", verdict.arqc_valid);
            let answer = issuer::host_response(scheme, &request.data_record, approve, Vec::new())?;
            request.complete(&mut card, &answer)
        }
    };
    Ok((result, card))
}

fn main() -> Result<(), Box<dyn Error>> {
    let (result, card) = chip_sale(1_000, true)?;
    println!("outcome:     {:?}", result.decision);
    println!(
        "application: {:?} {:?}",
        result.aid, result.application_label
    );
    println!(
        "PAN:         {}",
        result.pan_masked.as_deref().unwrap_or("-")
    );
    println!("ODA:         {:?} ok={}", result.oda, result.oda_ok);
    println!("CVM results: {}", result.cvm_results);
    println!("TVR:         {} {:?}", result.tvr.hex(), result.tvr.bits());
    println!("TSI:         {}", result.tsi.hex());
    println!("card ATC now {:#06X}", card.atc());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use smartpos_emv::{Decision, OdaMethod, TsiBit, TvrBit};

    #[test]
    fn runs() {
        super::main().unwrap();
    }

    #[test]
    fn approved_online_with_issuer_authentication() {
        let (r, card) = chip_sale(1_000, true).unwrap();
        assert_eq!(r.decision, Decision::Approved, "{r:?}");
        assert_eq!(r.oda, OdaMethod::Dda);
        assert!(r.oda_ok);
        // Plaintext offline PIN (01), condition "always" (00), successful (02): Book 3 Annex A4.
        assert_eq!(r.cvm_results, "010002");
        assert!(r.tsi.is_set(TsiBit::IssuerAuthenticationPerformed));
        assert!(!r.tvr.is_set(TvrBit::IssuerAuthenticationFailed));
        assert_eq!(r.pan_masked.as_deref(), Some("476173******0010"));
        assert_eq!(card.pin_tries(), 3);
    }

    #[test]
    fn issuer_decline_is_a_decline() {
        let (r, _) = chip_sale(1_000, false).unwrap();
        assert_eq!(r.decision, Decision::Declined, "{r:?}");
    }
}
