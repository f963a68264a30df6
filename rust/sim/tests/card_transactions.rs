//! Whole transactions: the contact kernel of smartpos-emv against every virtual card profile
//! and every fault, asserting the outcome, TVR/TSI bits and CVM results (EMV Book 3 §10,
//! Book 4 §6, Annex A5/A6 of Book 3 for the TVR/TSI bit layouts).

use smartpos_emv::{
    CardTransport, ContactKernel, Decision, FixedPinPad, HostResponse, Interaction, NoServices,
    OdaMethod, Step, TerminalConfig, TransactionParams, TransactionResult, TsiBit, TvrBit,
};
use smartpos_sim::card::{self, CvmKind, Oda, Scheme, VirtualCard, issuer};
use smartpos_sim::pki::TestPki;
use std::sync::Arc;

struct NoUi;
impl smartpos_emv::CardholderInterface for NoUi {
    fn choose_application(&mut self, _c: &[smartpos_emv::Candidate]) -> smartpos_emv::Choice {
        smartpos_emv::Choice::Select(0)
    }
    fn language_selected(&mut self, _l: &str) {}
}

fn kernel() -> ContactKernel {
    let pki = TestPki::shared().expect("pki");
    let mut cfg = TerminalConfig::demo().expect("demo config");
    cfg.terminal.revoked_certificates = pki.revocation_list();
    ContactKernel::new(Arc::new(cfg), Arc::new(pki.key_store().expect("keys")))
}

fn params(amount: u64) -> TransactionParams {
    TransactionParams::new(amount, "261121", "101500", [0x12, 0x34, 0x56, 0x78]).expect("params")
}

fn pin_pad(pin: Option<&str>) -> FixedPinPad {
    FixedPinPad {
        pin: pin.map(|p| zeroize::Zeroizing::new(p.to_string())),
        online_block: pin.map(|_| vec![0x11; 8]),
    }
}

/// Run the first half of a transaction.
fn start(card: &mut VirtualCard, amount: u64, pin: Option<&str>) -> Step {
    let k = kernel();
    let mut pp = pin_pad(pin);
    k.start(
        card,
        params(amount),
        Interaction {
            ui: &mut NoUi,
            pin_pad: &mut pp,
            services: &mut NoServices,
        },
    )
}

fn done(step: Step) -> TransactionResult {
    match step {
        Step::Done(r) => *r,
        Step::Online(o) => panic!("unexpected online request, TVR {}", o.tvr().hex()),
    }
}

/// Run to the online request, answer with the issuer's canned response for the scheme.
fn online(
    name: &str,
    pin: Option<&str>,
    approve: bool,
    scripts: Vec<u8>,
) -> (TransactionResult, VirtualCard) {
    let mut card = VirtualCard::from_profile(name).expect("profile");
    let scheme = card.profile().scheme;
    let Step::Online(req) = start(&mut card, 1000, pin) else {
        panic!("{name}: expected an online request");
    };
    let verdict = issuer::authorise(scheme, &req.data_record, *b"00").expect("issuer");
    assert!(
        verdict.arqc_valid,
        "{name}: ARQC must verify under the issuer master key"
    );
    let resp = issuer::host_response(scheme, &req.data_record, approve, scripts).expect("resp");
    let r = req.complete(&mut card, &resp);
    (r, card)
}

#[test]
fn visa_dda_offline_pin_online_approved() {
    let (r, card) = online("visa-dda-offline-pin", Some("1234"), true, Vec::new());
    assert_eq!(r.decision, Decision::Approved, "{r:?}");
    assert_eq!(r.oda, OdaMethod::Dda);
    assert!(r.oda_ok, "{r:?}");
    // CVM results: plaintext PIN (01), always (00), successful (02).
    assert_eq!(r.cvm_results, "010002");
    assert!(r.tsi.is_set(TsiBit::OfflineDataAuthenticationPerformed));
    assert!(r.tsi.is_set(TsiBit::CardholderVerificationPerformed));
    assert!(r.tsi.is_set(TsiBit::IssuerAuthenticationPerformed));
    assert!(!r.tvr.is_set(TvrBit::DdaFailed));
    assert!(!r.tvr.is_set(TvrBit::IssuerAuthenticationFailed));
    assert!(r.tvr.is_set(TvrBit::FloorLimitExceeded));
    assert_eq!(card.pin_tries(), 3);
    assert_eq!(card.atc(), 0x21);
    assert_eq!(card.last_online_atc(), 0x21);
    assert_eq!(r.pan_masked.as_deref(), Some("476173******0010"));
}
