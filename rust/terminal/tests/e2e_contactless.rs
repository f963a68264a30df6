//! Contactless sales through the Entry Point and kernels (EMV Contactless Books A/B, C-2, C-3),
//! HostSim on loopback TCP and a real journal: online approvals with the ARQC verified by the
//! host, offline approvals with their advice uploaded, phones with CDCVM ("see phone"), and
//! TRY ANOTHER INTERFACE ending in a chip sale.

mod common;

use common::*;
use smartpos_journal::{TxnId, TxnState};
use smartpos_sim::contactless::Profile;
use smartpos_terminal::devices::Interfaces;
use smartpos_terminal::{CancelToken, Event, MessageId, SaleRequest, Status};

fn state(rig: &Rig, id: i64) -> TxnState {
    rig.with_journal(|j| j.get(TxnId(id)).expect("record").state)
}

fn prompted(rig: &Rig, id: MessageId) -> bool {
    rig.h
        .events
        .events()
        .iter()
        .any(|e| matches!(e, Event::Prompt { id: i, .. } if *i == id))
}

fn sale(rig: &mut Rig, amount: u64) -> smartpos_terminal::TransactionOutcome {
    rig.term
        .sale(&SaleRequest::card(amount, "c1"), &CancelToken::new())
        .expect("sale")
}

#[test]
fn visa_tap_goes_online_through_c3_with_fdda_and_the_host_verifies_the_arqc() {
    let mut rig = Rig::new("cl-visa");
    rig.tap(cl_card(Profile::visa_card()));
    // 250.00: above the reader's floor limit, under the CVM limit (ONLINE REQUEST, no CVM).
    let out = sale(&mut rig, 25_000);
    assert_eq!(out.status, Status::Approved, "{out:?}");
    assert_eq!(out.entry_mode.as_deref(), Some("contactless"));
    assert_eq!(out.scheme.as_deref(), Some("visa"));
    assert_eq!(out.kernel.as_deref(), Some("C-3"));
    let e = rig
        .sim
        .ledger()
        .by_stan("12345678", out.stan)
        .cloned()
        .expect("ledger");
    assert!(e.approved);
    assert_eq!(
        e.arqc_verified,
        Some(true),
        "host could not verify the ARQC"
    );
    assert_eq!(e.masked_pan, "476173******0010");
    assert_eq!(state(&rig, out.txn_id), TxnState::Completed);
    // Book A UI requests reached the app: present card, processing, card read OK, approved.
    assert!(prompted(&rig, MessageId::CardReadOk));
    assert!(prompted(&rig, MessageId::Approved));
    assert!(
        rig.h
            .events
            .events()
            .iter()
            .any(|e| matches!(e, Event::Led { .. }))
    );
}

#[test]
fn mastercard_tap_goes_online_through_c2_and_the_host_verifies_the_arqc() {
    let mut rig = Rig::new("cl-mc");
    rig.tap(cl_card(Profile::mastercard_card()));
    let out = sale(&mut rig, 25_000);
    assert_eq!(out.status, Status::Approved, "{out:?}");
    assert_eq!(out.scheme.as_deref(), Some("mastercard"));
    assert_eq!(out.kernel.as_deref(), Some("C-2"));
    let e = rig
        .sim
        .ledger()
        .by_stan("12345678", out.stan)
        .cloned()
        .expect("ledger");
    assert_eq!(e.arqc_verified, Some(true));
    assert_eq!(e.masked_pan, "541333******0011");
}

#[test]
fn phone_above_the_cvm_limit_asks_to_see_phone_then_approves_with_cdcvm() {
    let mut rig = Rig::new("cl-phone");
    rig.tap(cl_card(Profile::visa_phone()));
    // 400.00: above the CVM limit: the phone asks for CDCVM first ("see phone", Book A '20').
    let out = sale(&mut rig, 40_000);
    assert_eq!(out.status, Status::Approved, "{out:?}");
    assert!(prompted(&rig, MessageId::SeePhone));
    // CDCVM on the phone: no PIN asked by the terminal.
    assert!(!prompted(&rig, MessageId::EnterPin));
    let e = rig
        .sim
        .ledger()
        .by_stan("12345678", out.stan)
        .cloned()
        .expect("ledger");
    assert_eq!(e.arqc_verified, Some(true));
}

#[test]
fn card_above_the_cvm_limit_gets_online_pin_from_the_pin_pad() {
    let mut rig = Rig::new("cl-pin");
    rig.tap(cl_card(Profile::visa_card()));
    // 400.00: above the CVM limit, the card asks for online PIN (CTQ), the PIN pad enciphers it.
    let out = sale(&mut rig, 40_000);
    assert!(prompted(&rig, MessageId::EnterPin));
    let e = rig
        .sim
        .ledger()
        .by_stan("12345678", out.stan)
        .cloned()
        .expect("the request reached the host");
    // The PIN block verified at the host (a wrong or missing PIN answers 55).
    assert_ne!(e.response_code, "55", "{out:?}");
    // The TVR in field 55 is the one the card MACed, so the ARQC verifies and the sale is approved.
    assert_eq!(e.arqc_verified, Some(true), "{out:?}");
    assert_eq!(e.response_code, "00", "{out:?}");
    assert_eq!(out.status, Status::Approved, "{out:?}");
}

#[test]
fn low_value_tap_is_approved_offline_and_its_advice_is_uploaded() {
    let mut rig = Rig::new("cl-offline");
    rig.tap(cl_card(Profile::visa_card()));
    // 10.00: under the reader's floor limit, the card answers TC (APPROVED).
    let out = sale(&mut rig, 1_000);
    assert_eq!(out.status, Status::ApprovedOffline, "{out:?}");
    assert_eq!(out.response_code.as_deref(), Some("Y1"));
    assert!(rig.sim.ledger().by_stan("12345678", out.stan).is_none());
    let pending = rig.with_journal(|j| j.pending_advices().expect("q").len());
    assert_eq!(pending, 1);
    assert_eq!(rig.term.flush_queues().expect("flush"), 1);
    assert_eq!(rig.sim.ledger().advice_requests, 1);
    assert!(rig.with_journal(|j| j.pending_advices().expect("q").is_empty()));
    let cryptogram = rig.with_journal(|j| j.get(TxnId(out.txn_id)).expect("rec").cryptogram);
    assert!(cryptogram.is_some());
}

#[test]
fn try_another_interface_then_the_chip_sale_completes() {
    let mut rig = Rig::new("cl-tai");
    rig.tap(cl_card(Profile {
        another_interface: true,
        ..Profile::visa_card()
    }));
    rig.present(card("visa-cda-online-pin"), false);
    let out = sale(&mut rig, 25_000);
    assert_eq!(out.status, Status::Approved, "{out:?}");
    assert_eq!(out.entry_mode.as_deref(), Some("contact"), "{out:?}");
    assert_eq!(out.kernel, None);
    assert!(prompted(&rig, MessageId::InsertCard));
    let opened = rig.h.reader.opened();
    assert_eq!(opened.first(), Some(&Interfaces::ALL));
    assert!(
        opened.get(1).is_some_and(|i| !i.contactless && i.contact),
        "{opened:?}"
    );
}

#[test]
fn card_that_declines_is_journalled_declined() {
    let mut rig = Rig::new("cl-decline");
    rig.tap(cl_card(Profile {
        decline: true,
        ..Profile::visa_card()
    }));
    let out = sale(&mut rig, 25_000);
    assert_eq!(out.status, Status::Declined, "{out:?}");
    assert!(rig.sim.ledger().entries.is_empty());
}

#[test]
fn unionpay_tap_goes_online_through_c7() {
    let mut rig = Rig::new("cl-up");
    rig.tap(cl_card(Profile::unionpay_card()));
    let out = sale(&mut rig, 25_000);
    assert_eq!(out.status, Status::Approved, "{out:?}");
    assert_eq!(out.kernel.as_deref(), Some("C-7"));
    assert_eq!(out.scheme.as_deref(), Some("unionpay"));
    let e = rig
        .sim
        .ledger()
        .by_stan("12345678", out.stan)
        .cloned()
        .expect("ledger");
    assert_eq!(e.arqc_verified, Some(true));
}

#[test]
fn mastercard_phone_above_the_cvm_limit_is_approved_with_cdcvm() {
    let mut rig = Rig::new("cl-mc-phone");
    rig.tap(cl_card(Profile::mastercard_phone()));
    let out = sale(&mut rig, 40_000);
    assert_eq!(out.status, Status::Approved, "{out:?}");
    assert_eq!(out.kernel.as_deref(), Some("C-2"));
    assert!(!prompted(&rig, MessageId::EnterPin));
}

#[test]
fn two_cards_in_the_field_ask_for_one_card_then_the_tap_completes() {
    let mut rig = Rig::new("cl-collision");
    rig.tap(cl_card(Profile {
        collisions: 1,
        offline_capable: false,
        ..Profile::visa_card()
    }));
    let out = sale(&mut rig, 1_000);
    assert_eq!(out.status, Status::Approved, "{out:?}");
    assert!(prompted(&rig, MessageId::PresentOneCard));
}

#[test]
fn torn_mastercard_tap_is_recovered_and_approved() {
    let mut rig = Rig::new("cl-torn");
    rig.tap(cl_card(Profile {
        tear_first_generate_ac: true,
        ..Profile::mastercard_card()
    }));
    let out = sale(&mut rig, 25_000);
    assert_eq!(out.status, Status::Approved, "{out:?}");
    let e = rig
        .sim
        .ledger()
        .by_stan("12345678", out.stan)
        .cloned()
        .expect("ledger");
    assert_eq!(e.arqc_verified, Some(true));
    // One authorisation only.
    assert_eq!(rig.sim.ledger().entries.len(), 1);
    // Recovered within the one presentation: torn log (Book C-2 §4.3), Start B restart,
    // RECOVER AC.
    assert_eq!(rig.h.reader.opened().len(), 1);
}

#[test]
fn tap_with_no_host_answer_is_reversed_before_the_next_tap() {
    use smartpos_sim::hostsim::Fault;
    let mut rig = Rig::new("cl-timeout");
    rig.term.sign_on().expect("sign-on");
    // The host approves, then never answers: the terminal times out and queues a reversal.
    rig.sim.inject(Fault::NoAnswer, 1);
    rig.tap(cl_card(Profile::visa_online_only()));
    let lost = sale(&mut rig, 25_000);
    assert_eq!(lost.status, Status::Reversed, "{lost:?}");
    assert_eq!(state(&rig, lost.txn_id), TxnState::ReversalPending);
    // The next tap sends the reversal first, then its own authorisation.
    rig.tap(cl_card(Profile::visa_online_only()));
    let next = sale(&mut rig, 26_000);
    assert_eq!(next.status, Status::Approved, "{next:?}");
    assert_eq!(state(&rig, lost.txn_id), TxnState::Reversed);
    let l = rig.sim.ledger();
    let e = l.by_stan("12345678", lost.stan).expect("entry");
    assert!(e.reversed);
    assert_eq!(e.reversal_requests, 1);
}

/// A card pulled out of the field at once: every APDU fails with "card removed".
struct PulledCard;

impl smartpos_emv::CardTransport for PulledCard {
    fn atr(&self) -> &[u8] {
        &[]
    }
    fn exchange(
        &mut self,
        _command: &smartpos_emv::Apdu,
    ) -> Result<smartpos_emv::Response, smartpos_emv::TransportError> {
        Err(smartpos_emv::TransportError::CardRemoved)
    }
}

impl smartpos_emv::contactless::ContactlessTransport for PulledCard {
    fn activate(&mut self) -> smartpos_emv::contactless::Activation {
        smartpos_emv::contactless::Activation::Card
    }
}

#[test]
fn taps_pulled_away_count_as_failed_reads_then_a_good_tap_completes() {
    let mut rig = Rig::new("cl-pulled");
    rig.h
        .reader
        .push(smartpos_terminal::sim_devices::SimPresentation::Tap(
            Box::new(PulledCard),
        ));
    rig.tap(cl_card(Profile::visa_online_only()));
    let out = sale(&mut rig, 25_000);
    assert_eq!(out.status, Status::Approved, "{out:?}");
    assert_eq!(rig.h.reader.opened().len(), 2);
    assert!(prompted(&rig, MessageId::TryAgain));
}

#[test]
fn too_many_pulled_taps_end_with_card_read_failed() {
    let mut rig = Rig::new("cl-pulled-3");
    for _ in 0..3 {
        rig.h
            .reader
            .push(smartpos_terminal::sim_devices::SimPresentation::Tap(
                Box::new(PulledCard),
            ));
    }
    let err = rig
        .term
        .sale(&SaleRequest::card(25_000, "c1"), &CancelToken::new())
        .unwrap_err();
    assert!(
        matches!(
            err,
            smartpos_terminal::TerminalError::CardReadFailed { attempts: 3 }
        ),
        "{err}"
    );
    assert!(rig.sim.ledger().entries.is_empty());
}
