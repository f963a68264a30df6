//! Whole transactions: the contact kernel of smartpos-emv against every virtual card profile
//! and every fault, asserting the outcome, TVR/TSI bits and CVM results (EMV Book 3 §10,
//! Book 4 §6, Annex A5/A6 of Book 3 for the TVR/TSI bit layouts).

use smartpos_emv::{
    ContactKernel, Decision, EndReason, FixedPinPad, HostResponse, Interaction, NoServices,
    OdaMethod, Step, TerminalConfig, TransactionParams, TransactionResult, TsiBit, TvrBit,
};
use smartpos_sim::card::{self, CvmKind, Oda, VirtualCard, issuer};
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

fn oda_method(o: Oda) -> OdaMethod {
    match o {
        Oda::None => OdaMethod::None,
        Oda::Sda => OdaMethod::Sda,
        Oda::Dda => OdaMethod::Dda,
        Oda::Cda => OdaMethod::Cda,
    }
}

/// Every profile: the first half with its PIN gives the documented `expect` outcome; the clean
/// ones authenticate offline with their ODA method and record the CVM of their CVM list.
#[test]
fn every_profile_meets_its_expectation() {
    for p in card::profile::all() {
        let mut c = VirtualCard::new(p.clone()).expect("card");
        let pin = p.cvm.needs_pin().then_some(p.pin.as_str());
        let (outcome, r) = match start(&mut c, 1000, pin) {
            Step::Done(r) => (
                match r.decision {
                    Decision::Approved => "approved",
                    Decision::Declined => "declined",
                    Decision::OnlineRequest => "online_request",
                    Decision::EndApplication => "end_application",
                },
                *r,
            ),
            Step::Online(o) => ("online_request", o.snapshot()),
        };
        assert_eq!(outcome, p.expect, "{}: {r:?}", p.name);
        if p.faults.is_empty() {
            assert_eq!(r.oda, oda_method(p.oda), "{}", p.name);
            assert_eq!(r.oda_ok, p.oda != Oda::None, "{}: {r:?}", p.name);
            let expected_cvm = match p.cvm {
                CvmKind::OfflinePlaintextPin => "010002",
                CvmKind::OfflineEncipheredPin => "040002",
                CvmKind::OnlinePin => "020000",
                CvmKind::Signature => "1E0000",
                CvmKind::NoCvm => "1F0002",
            };
            assert_eq!(r.cvm_results, expected_cvm, "{}", p.name);
            assert_eq!(
                r.tvr.is_set(TvrBit::OnlinePinEntered),
                p.cvm == CvmKind::OnlinePin,
                "{}",
                p.name
            );
            assert_eq!(
                r.signature_required,
                p.cvm == CvmKind::Signature,
                "{}",
                p.name
            );
            assert_eq!(
                r.tvr.is_set(TvrBit::OfflineDataAuthenticationNotPerformed),
                p.oda == Oda::None,
                "{}",
                p.name
            );
            assert!(
                r.tsi.is_set(TsiBit::CardRiskManagementPerformed),
                "{}",
                p.name
            );
        }
    }
}

/// Every clean profile that goes online is approved with a valid ARPC, the ARQC verifies under
/// the scheme's issuer master key, and the second GENERATE AC gives a TC.
#[test]
fn every_online_profile_approves_with_arpc() {
    for p in card::profile::all() {
        if !p.faults.is_empty() || p.expect != "online_request" {
            continue;
        }
        let pin = p.cvm.needs_pin().then_some(p.pin.as_str());
        let (r, card) = online(&p.name, pin, true, Vec::new());
        assert_eq!(r.decision, Decision::Approved, "{}: {r:?}", p.name);
        assert!(
            r.tsi.is_set(TsiBit::IssuerAuthenticationPerformed),
            "{}",
            p.name
        );
        assert!(
            !r.tvr.is_set(TvrBit::IssuerAuthenticationFailed),
            "{}",
            p.name
        );
        assert_eq!(card.issuer_auth(), card::IssuerAuth::Passed, "{}", p.name);
        assert_eq!(card.last_online_atc(), card.atc(), "{}", p.name);
        if p.oda == Oda::Cda {
            assert!(r.oda_ok, "{}: CDA on both GENERATE ACs: {r:?}", p.name);
            assert!(!r.tvr.is_set(TvrBit::CdaFailed), "{}", p.name);
        }
    }
}

#[test]
fn online_decline_gives_aac() {
    let (r, card) = online("mc-cda-online-pin", Some("1234"), false, Vec::new());
    assert_eq!(r.decision, Decision::Declined, "{r:?}");
    assert_eq!(card.issuer_auth(), card::IssuerAuth::Passed);
    // Not approved: the Last Online ATC Register is not updated.
    assert_ne!(card.last_online_atc(), card.atc());
}

#[test]
fn issuer_authentication_failure_declines() {
    for name in ["visa-dda-offline-pin", "mc-dda-signature"] {
        let mut card = VirtualCard::from_profile(name).expect("profile");
        let Step::Online(req) = start(&mut card, 1000, Some("1234")) else {
            panic!("online expected");
        };
        let resp = HostResponse {
            approved: true,
            arc: "00".into(),
            issuer_authentication_data: vec![
                0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x30, 0x30,
            ],
            scripts: Vec::new(),
        };
        let r = req.complete(&mut card, &resp);
        assert_eq!(card.issuer_auth(), card::IssuerAuth::Failed, "{name}");
        assert_eq!(r.decision, Decision::Declined, "{name}: {r:?}");
        if name.starts_with("visa") {
            // EXTERNAL AUTHENTICATE answered 6300: the terminal sets the TVR bit.
            assert!(r.tvr.is_set(TvrBit::IssuerAuthenticationFailed), "{r:?}");
        }
    }
}

#[test]
fn unable_to_go_online_declines_by_default_action() {
    let mut card = VirtualCard::from_profile("visa-sda-signature").expect("profile");
    let Step::Online(req) = start(&mut card, 1000, None) else {
        panic!("online expected");
    };
    let r = req.unable_to_go_online(&mut card);
    // TAC-default DC4000A800 has "exceeds floor limit" (byte 4 bit 8): AAC.
    assert_eq!(r.decision, Decision::Declined, "{r:?}");
}

/// Issuer scripts 71 (before) and 72 (after the final GENERATE AC) reach the card with the MAC
/// of Book 2 §9.2.1 (sealed for this transaction's ATC and ARQC), are verified and counted, and
/// APPLICATION BLOCK blocks the application for the next transaction.
#[test]
fn issuer_scripts_are_executed_and_block_the_application() {
    // 71 { 9F18 id, 86 PUT DATA 9F58 = 11 }, 72 { 9F18 id, 86 APPLICATION BLOCK }
    let s71 = hex::decode("710F 9F180400000001 8606 84DA9F580111".replace(' ', "")).expect("hex");
    let s72 = hex::decode("720D 9F180400000002 8604 841E0000".replace(' ', "")).expect("hex");
    let mut templates = s71.clone();
    templates.extend_from_slice(&s72);
    let mut card = VirtualCard::from_profile("visa-dda-offline-pin").expect("profile");
    let Step::Online(req) = start(&mut card, 1000, Some("1234")) else {
        panic!("expected an online request");
    };
    let resp = issuer::host_response_with_scripts(
        card.profile().scheme,
        &req.data_record,
        true,
        &templates,
    )
    .expect("resp");
    let r = req.complete(&mut card, &resp);
    assert_eq!(r.decision, Decision::Approved, "{r:?}");
    assert_eq!(card.scripts_executed(), 2);
    assert!(card.is_blocked());
    assert!(r.tsi.is_set(TsiBit::ScriptProcessingPerformed));
    assert!(!r.tvr.is_set(TvrBit::ScriptFailedBeforeFinalGenerateAc));
    assert!(!r.tvr.is_set(TvrBit::ScriptFailedAfterFinalGenerateAc));
    // Script results 9F5B: performed (2x), sequence 0, with the script identifiers.
    assert_eq!(r.script_results, "20000000012000000002");
    // Next transaction: SELECT answers 6283, the only application is not accepted.
    let r2 = done(start(&mut card, 1000, Some("1234")));
    assert_eq!(r2.decision, Decision::EndApplication);
    assert_eq!(r2.end_reason, Some(EndReason::NotAccepted), "{r2:?}");
}

/// Script commands without a valid MAC (the old static "MAC" bytes) are refused with 6988 and
/// not executed: the first command of each script fails, 9F5B says so, the TVR has both script
/// failure bits and the card stays unblocked.
#[test]
fn issuer_scripts_with_a_wrong_mac_are_not_executed() {
    let s71 =
        hex::decode("7112 9F180400000001 8609 84DA9F5804 11223344".replace(' ', "")).expect("hex");
    let s72 = hex::decode("7216 9F180400000002 860D 841E000008 AABBCCDDEEFF0011".replace(' ', ""))
        .expect("hex");
    let mut scripts = s71.clone();
    scripts.extend_from_slice(&s72);
    let (r, card) = online("visa-dda-offline-pin", Some("1234"), true, scripts);
    assert_eq!(r.decision, Decision::Approved, "{r:?}");
    assert_eq!(card.scripts_executed(), 0);
    assert!(!card.is_blocked());
    assert!(r.tsi.is_set(TsiBit::ScriptProcessingPerformed));
    assert!(r.tvr.is_set(TvrBit::ScriptFailedBeforeFinalGenerateAc));
    assert!(r.tvr.is_set(TvrBit::ScriptFailedAfterFinalGenerateAc));
    // 9F5B: script failed (1), at command 1, with the identifiers.
    assert_eq!(r.script_results, "11000000011100000002");
}

#[test]
fn wrong_offline_pin_counts_down_and_blocks() {
    let mut card = VirtualCard::from_profile("up-dda-offline-pin").expect("profile");
    let Step::Online(req) = start(&mut card, 1000, Some("9999")) else {
        panic!("online expected");
    };
    let r = req.snapshot();
    // FixedPinPad repeats the wrong PIN until the card blocks it (3 tries).
    assert_eq!(card.pin_tries(), 0);
    assert!(r.tvr.is_set(TvrBit::PinTryLimitExceeded), "{r:?}");
    assert!(r.tvr.is_set(TvrBit::CardholderVerificationNotSuccessful));
    assert_eq!(r.cvm_results, "010001");
}

#[test]
fn enciphered_pin_with_separate_pin_key_verifies() {
    let mut card = VirtualCard::from_profile("mc-cda-enciphered-pin").expect("profile");
    let Step::Online(req) = start(&mut card, 1000, Some("1234")) else {
        panic!("online expected");
    };
    assert_eq!(req.snapshot().cvm_results, "040002");
    assert_eq!(card.pin_tries(), 3);
    let mut card = VirtualCard::from_profile("mc-cda-enciphered-pin").expect("profile");
    let Step::Online(req) = start(&mut card, 1000, Some("4321")) else {
        panic!("online expected");
    };
    assert_eq!(req.snapshot().cvm_results, "040001");
    assert_eq!(card.pin_tries(), 0);
}

#[test]
fn card_approves_offline_when_terminal_asks_for_tc() {
    let pki = TestPki::shared().expect("pki");
    let mut cfg = TerminalConfig::demo().expect("demo");
    for a in &mut cfg.aids {
        a.floor_limit = 50_000;
    }
    let k = ContactKernel::new(Arc::new(cfg), Arc::new(pki.key_store().expect("keys")));
    let mut card = VirtualCard::from_profile("visa-dda-offline-approve").expect("profile");
    let mut pp = pin_pad(None);
    let r = done(k.start(
        &mut card,
        params(1000),
        Interaction {
            ui: &mut NoUi,
            pin_pad: &mut pp,
            services: &mut NoServices,
        },
    ));
    assert_eq!(r.decision, Decision::Approved, "{r:?}");
    assert!(r.oda_ok);
    assert!(!r.tvr.is_set(TvrBit::FloorLimitExceeded));
    // The same card over its own offline limit asks to go online.
    let mut card = VirtualCard::from_profile("visa-dda-offline-approve").expect("profile");
    let cfg2 = {
        let mut c = TerminalConfig::demo().expect("demo");
        c.aids.iter_mut().for_each(|a| a.floor_limit = 500_000);
        c
    };
    let k2 = ContactKernel::new(Arc::new(cfg2), Arc::new(pki.key_store().expect("keys")));
    let mut pp = pin_pad(None);
    let step = k2.start(
        &mut card,
        params(200_000),
        Interaction {
            ui: &mut NoUi,
            pin_pad: &mut pp,
            services: &mut NoServices,
        },
    );
    assert!(matches!(step, Step::Online(_)));
}

#[test]
fn atc_increments_per_transaction() {
    let mut card = VirtualCard::from_profile("mc-sda-no-cvm").expect("profile");
    let before = card.atc();
    for i in 1..=3u16 {
        let _ = start(&mut card, 1000, None);
        assert_eq!(card.atc(), before + i);
    }
}

/// The virtual cards and the host simulator's default card table agree on PAN, PSN, PIN and
/// issuer master key, so the host verifies the virtual cards' ARQCs.
#[test]
fn virtual_cards_match_the_host_simulator_card_table() {
    let cfg = smartpos_sim::hostsim::HostSimConfig::default_config();
    for scheme in [
        card::Scheme::Visa,
        card::Scheme::Mastercard,
        card::Scheme::UnionPay,
    ] {
        let entry = cfg
            .cards
            .iter()
            .find(|c| c.pan == scheme.pan())
            .unwrap_or_else(|| panic!("{} test PAN not in the host table", scheme.name()));
        assert_eq!(
            entry.imk.to_uppercase(),
            scheme.imk_hex(),
            "{}",
            scheme.name()
        );
        assert_eq!(
            entry.psn,
            format!("{:02}", scheme.psn()),
            "{}",
            scheme.name()
        );
        assert_eq!(entry.pin, scheme.test_pin(), "{}", scheme.name());
        assert_eq!(entry.scheme, scheme.name());
    }
}
