//! Contactless taps through the Entry Point (EMV Contactless Book B) against a virtual Visa card.
//!
//! Run with `cargo run -p smartpos-examples --example contactless_tap`.
//!
//! `run_tap` does pre-processing, PPSE selection, combination selection and the kernel (here
//! C-3, qVSDC) and returns a Book A outcome (§6.2): APPROVED offline for a small amount,
//! ONLINE REQUEST above the reader's floor limit. Every user-interface request (Book A §9:
//! message identifier, status, the four lights) goes to a `UiSink`; the terminal forwards them
//! to the app. After ONLINE REQUEST the terminal asks its host and calls `resume_online`.

use std::error::Error;
use std::sync::Arc;

use smartpos_emv::contactless::ui::{UiRequest, UiSink};
use smartpos_emv::contactless::{
    ContactlessReader, OutcomeKind, ScriptedClock, TapEnv, TapResult, TornLog, resume_online,
    run_tap,
};
use smartpos_emv::{CaKeyStore, HostResponse, TerminalConfig, TransactionParams};
use smartpos_sim::contactless::pki::TestPki;
use smartpos_sim::contactless::{Profile, Scheme, VirtualCard};

/// Prints each UI request as it arrives (an app would update its screen and lights).
#[derive(Default)]
struct ConsoleUi {
    codes: Vec<u8>,
}

impl UiSink for ConsoleUi {
    fn ui_request(&mut self, request: &UiRequest) {
        let lights: String = request
            .lights
            .iter()
            .map(|&on| if on { '●' } else { '○' })
            .collect();
        println!(
            "  UI {:02X} {:?} [{lights}] {:?}",
            request.message_code, request.message, request.status
        );
        self.codes.push(request.message_code);
    }
}

/// A reader configured from the demo terminal config, trusting the simulator's Visa test CA.
fn reader_and_card() -> Result<(ContactlessReader, VirtualCard), Box<dyn Error>> {
    let pki = Arc::new(TestPki::generate(Scheme::Visa.rid())?);
    let mut keys = CaKeyStore::new();
    pki.install(&mut keys)?;
    let reader = ContactlessReader::for_terminal(Arc::new(TerminalConfig::demo()?), Arc::new(keys));
    let card = VirtualCard::new(Profile::visa_card(), pki)?;
    Ok((reader, card))
}

/// One tap of `amount` (minor units); an ONLINE REQUEST is answered "approved" by a stand-in host.
pub fn tap(amount: u64) -> Result<(TapResult, Vec<u8>), Box<dyn Error>> {
    let (reader, mut card) = reader_and_card()?;
    let params = TransactionParams::new(amount, "261121", "101500", [0x11, 0x22, 0x33, 0x44])?;
    // Injected time and the terminal-owned torn-transaction log (pure kernel: no clock inside).
    let mut clock = ScriptedClock::default();
    let mut torn = TornLog::default();
    let mut ui = ConsoleUi::default();
    let mut env = TapEnv {
        clock: &mut clock,
        torn_log: &mut torn,
    };
    let result = run_tap(&mut card, &reader, &params, &mut env, &mut ui);
    println!(
        "  outcome {} via {:?}, ODA {:?} ok={}, CVM {:?}, TVR {}",
        result.outcome.kind.book_a_name(),
        result.kernel,
        result.oda,
        result.oda_ok,
        result.cvm,
        result.tvr.hex()
    );
    if result.outcome.kind != OutcomeKind::OnlineRequest {
        return Ok((result, ui.codes));
    }
    // Here a terminal sends `result.data_record` as field 55 to the acquirer (with the PIN
    // block when `result.cvm` is `CvmKind::OnlinePin`). A qVSDC card
    // needs no issuer authentication data for an approval.
    let host = HostResponse {
        approved: true,
        arc: "00".into(),
        issuer_authentication_data: Vec::new(),
        scripts: Vec::new(),
    };
    let final_result = resume_online(&mut card, &reader, result, &host, &mut env, &mut ui);
    println!(
        "  after the host: {}",
        final_result.outcome.kind.book_a_name()
    );
    Ok((final_result, ui.codes))
}

fn main() -> Result<(), Box<dyn Error>> {
    println!("tap of 10.00 (under the floor limit):");
    tap(1_000)?;
    println!("tap of 250.00 (above the floor limit, under the CVM limit):");
    tap(25_000)?;
    println!("tap of 400.00 (above the CVM limit: the card asks for online PIN):");
    tap(40_000)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use smartpos_emv::contactless::{CvmKind, KernelId, OdaKind};

    #[test]
    fn runs() {
        super::main().unwrap();
    }

    #[test]
    fn small_amount_is_approved_offline_with_fdda() {
        let (r, codes) = tap(1_000).unwrap();
        assert_eq!(r.outcome.kind, OutcomeKind::Approved);
        assert_eq!(r.kernel, Some(KernelId::C3));
        assert_eq!((r.oda, r.oda_ok), (OdaKind::Fdda, true));
        assert_eq!(r.cvm, CvmKind::NoCvm);
        // Book A Table 9-5: present card (15), processing (16), approved (03).
        assert_eq!(codes, vec![0x15, 0x16, 0x03]);
        assert_eq!(r.pan_masked.as_deref(), Some("476173******0010"));
    }

    #[test]
    fn above_cvm_limit_requires_online_pin() {
        let (r, _) = tap(40_000).unwrap();
        // A terminal would now collect the PIN on its PIN pad and send it in field 52.
        assert_eq!(r.cvm, CvmKind::OnlinePin);
        assert_eq!(r.cvm_results, "020000");
    }

    #[test]
    fn above_floor_limit_goes_online_and_the_host_decides() {
        let (r, codes) = tap(25_000).unwrap();
        // Card read OK, remove card (17) is shown before the host is asked.
        assert!(codes.contains(&0x17), "{codes:02X?}");
        assert_eq!(r.outcome.kind, OutcomeKind::Approved, "{:?}", r.end_reason);
        // The ARQC the host saw (9F27 = 80).
        let cid = smartpos_tlv::find(&r.data_record, smartpos_tlv::Tag(0x9F27)).unwrap();
        assert_eq!(cid.map(|t| t.value.to_vec()), Some(vec![0x80]));
    }
}
