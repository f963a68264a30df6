//! End-to-end flows over loopback TCP to HostSim with a real journal file and virtual cards:
//! contactless, declines, magstripe and fallback, repeated failed taps, cancellation, void,
//! refund, pre-authorisation and completion, balance inquiry, settlement with batch upload.

mod common;

use common::*;
use smartpos_journal::{OriginalRef, TxnId, TxnState};
use smartpos_terminal::devices::Interfaces;
use smartpos_terminal::sim_devices::SimPresentation;
use smartpos_terminal::{CancelToken, Event, MessageId, SaleRequest, Status, TerminalError};

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

#[test]
fn contactless_sale_is_approved_with_entry_mode_07() {
    let mut rig = Rig::new("contactless");
    rig.tap(cl_card(
        smartpos_sim::contactless::Profile::mastercard_card(),
    ));
    let out = rig
        .term
        .sale(&SaleRequest::card(25_000, "c1"), &CancelToken::new())
        .expect("sale");
    assert_eq!(out.status, Status::Approved, "{out:?}");
    assert_eq!(out.entry_mode.as_deref(), Some("contactless"));
    assert_eq!(out.scheme.as_deref(), Some("mastercard"));
    let e = rig
        .sim
        .ledger()
        .by_stan("12345678", out.stan)
        .cloned()
        .expect("ledger");
    assert!(e.approved);
    assert_eq!(state(&rig, out.txn_id), TxnState::Completed);
}

#[test]
fn host_decline_is_journalled_declined_and_nothing_is_charged() {
    // HostSim rule: an amount ending in 51 is declined "insufficient funds".
    let mut rig = Rig::new("decline");
    rig.present(card("visa-cda-online-pin"), false);
    let out = rig
        .term
        .sale(&SaleRequest::card(1_051, "c1"), &CancelToken::new())
        .expect("sale");
    assert_eq!(out.status, Status::Declined);
    assert_eq!(out.response_code.as_deref(), Some("51"));
    assert!(!out.is_approved());
    assert_eq!(state(&rig, out.txn_id), TxnState::Declined);
    assert!(prompted(&rig, MessageId::Declined));
}

#[test]
fn card_declining_offline_is_journalled_with_z1() {
    let mut rig = Rig::new("card-decline");
    rig.present(card("visa-dda-card-decline"), false);
    let out = rig
        .term
        .sale(&SaleRequest::card(1_000, "c1"), &CancelToken::new())
        .expect("sale");
    assert_eq!(out.status, Status::Declined);
    assert_eq!(out.response_code.as_deref(), Some("Z1"));
    assert!(
        rig.sim.ledger().entries.is_empty(),
        "nothing went to the host"
    );
}

#[test]
fn magstripe_card_is_accepted_and_chip_card_swipe_asks_for_the_chip() {
    let mut rig = Rig::new("magstripe");
    // Service code 201: chip card -> insert the card (chip first), then the chip is read.
    rig.h.reader.push(SimPresentation::Swipe(
        "4761739001010010=30122011234567890".into(),
    ));
    rig.present(card("visa-cda-online-pin"), false);
    let out = rig
        .term
        .sale(&SaleRequest::card(1_000, "c1"), &CancelToken::new())
        .expect("sale");
    assert_eq!(out.status, Status::Approved, "{out:?}");
    assert_eq!(out.entry_mode.as_deref(), Some("contact"));
    assert!(prompted(&rig, MessageId::InsertCard));
    let opened = rig.h.reader.opened();
    assert_eq!(opened.get(1), Some(&Interfaces::CONTACT_ONLY), "{opened:?}");
}

#[test]
fn chip_failure_falls_back_to_the_stripe_flagged_as_fallback() {
    let mut rig = Rig::new("fallback");
    rig.present(card("fault-record-6a83"), false);
    rig.h.reader.push(SimPresentation::Swipe(
        "4761739001010010=30122011234567890".into(),
    ));
    let out = rig
        .term
        .sale(&SaleRequest::card(1_000, "c1"), &CancelToken::new());
    let opened = rig.h.reader.opened();
    assert_eq!(
        opened.get(1),
        Some(&Interfaces::MAGSTRIPE_ONLY),
        "{opened:?}"
    );
    let out = out.expect("fallback sale");
    assert_eq!(out.entry_mode.as_deref(), Some("fallback"), "{out:?}");
    assert!(rig.sim.ledger().by_stan("12345678", out.stan).is_some());
}

#[test]
fn a_chip_card_swiped_again_and_again_ends_after_the_attempt_limit() {
    let mut rig = Rig::new("chip-swipes");
    // Service code 201 every time: the first swipe redirects to the chip, the repeats count.
    for _ in 0..4 {
        rig.h.reader.push(SimPresentation::Swipe(
            "4761739001010010=30122011234567890".into(),
        ));
    }
    let err = rig
        .term
        .sale(&SaleRequest::card(1_000, "c1"), &CancelToken::new())
        .unwrap_err();
    assert!(
        matches!(err, TerminalError::CardReadFailed { attempts: 3 }),
        "{err}"
    );
    assert!(prompted(&rig, MessageId::InsertCardOrOtherMethod));
    assert!(rig.sim.ledger().entries.is_empty());
}

#[test]
fn a_chip_that_keeps_failing_after_fallback_was_offered_ends_after_the_attempt_limit() {
    let mut rig = Rig::new("chip-fails");
    // The reader keeps presenting the broken chip although only the stripe was asked for.
    for _ in 0..4 {
        rig.present(card("fault-record-6a83"), false);
    }
    let err = rig
        .term
        .sale(&SaleRequest::card(1_000, "c1"), &CancelToken::new())
        .unwrap_err();
    assert!(
        matches!(err, TerminalError::CardReadFailed { attempts: 3 }),
        "{err}"
    );
    assert!(rig.sim.ledger().entries.is_empty());
}

#[test]
fn repeated_failed_taps_end_with_insert_card_and_nothing_charged() {
    let mut rig = Rig::new("failed-taps");
    for _ in 0..3 {
        rig.h.reader.push(SimPresentation::FailedRead);
    }
    rig.present(card("visa-cda-online-pin"), true); // never reached
    let err = rig
        .term
        .sale(&SaleRequest::card(1_000, "c1"), &CancelToken::new())
        .unwrap_err();
    assert!(
        matches!(err, TerminalError::CardReadFailed { attempts: 3 }),
        "{err}"
    );
    assert!(prompted(&rig, MessageId::InsertCardOrOtherMethod));
    assert!(prompted(&rig, MessageId::TryAgain));
    assert!(rig.sim.ledger().entries.is_empty());
    let aborted = rig.with_journal(|j| {
        j.list(&Default::default(), None, 10)
            .expect("list")
            .items
            .iter()
            .all(|r| r.state == TxnState::Aborted)
    });
    assert!(aborted);
}

#[test]
fn collision_asks_for_one_card_then_the_tap_works() {
    let mut rig = Rig::new("collision");
    rig.h.reader.push(SimPresentation::Collision);
    rig.tap(cl_card(
        smartpos_sim::contactless::Profile::visa_online_only(),
    ));
    let out = rig
        .term
        .sale(&SaleRequest::card(1_000, "c1"), &CancelToken::new())
        .expect("sale");
    assert_eq!(out.status, Status::Approved);
    assert!(prompted(&rig, MessageId::PresentOneCard));
}

#[test]
fn cancellation_while_waiting_for_the_card_aborts_the_journal_entry() {
    let mut rig = Rig::new("cancel");
    let cancel = CancelToken::new();
    cancel.cancel();
    rig.present(card("visa-cda-online-pin"), false);
    // Cancelled before start: nothing journalled.
    let err = rig
        .term
        .sale(&SaleRequest::card(1_000, "c1"), &cancel)
        .unwrap_err();
    assert!(matches!(err, TerminalError::Cancelled { .. }), "{err}");
    assert!(rig.sim.ledger().entries.is_empty());
}

#[test]
fn void_of_a_sale_is_approved_and_marks_the_original() {
    let mut rig = Rig::new("void");
    rig.present(card("visa-cda-online-pin"), false);
    let sale = rig
        .term
        .sale(&SaleRequest::card(3_000, "c1"), &CancelToken::new())
        .expect("sale");
    let void = rig
        .term
        .void(TxnId(sale.txn_id), &CancelToken::new())
        .expect("void");
    assert_eq!(void.status, Status::Approved, "{void:?}");
    assert_eq!(void.kind, "void");
    let voided_by = rig.with_journal(|j| j.get(TxnId(sale.txn_id)).expect("sale").voided_by);
    assert_eq!(voided_by, Some(TxnId(void.txn_id)));
    let l = rig.sim.ledger();
    assert!(l.by_stan("12345678", sale.stan).expect("sale").voided);
}

#[test]
fn refund_of_a_sale_is_approved() {
    let mut rig = Rig::new("refund");
    rig.present(card("visa-cda-online-pin"), false);
    let sale = rig
        .term
        .sale(&SaleRequest::card(3_000, "c1"), &CancelToken::new())
        .expect("sale");
    let refund = rig
        .term
        .refund(
            OriginalRef::Local(TxnId(sale.txn_id)),
            1_000,
            &CancelToken::new(),
        )
        .expect("refund");
    assert_eq!(refund.status, Status::Approved, "{refund:?}");
    assert_eq!(refund.amount, 1_000);
    let over = rig.term.refund(
        OriginalRef::Local(TxnId(sale.txn_id)),
        5_000,
        &CancelToken::new(),
    );
    assert!(over.is_err(), "a refund over the original is refused");
}

#[test]
fn pre_authorisation_then_completion() {
    let mut rig = Rig::new("preauth");
    rig.present(card("visa-cda-online-pin"), false);
    let pa = rig
        .term
        .pre_authorise(&SaleRequest::card(10_000, "c1"), &CancelToken::new())
        .expect("pre-auth");
    assert_eq!(pa.status, Status::Approved, "{pa:?}");
    assert_eq!(pa.kind, "pre_auth");
    let done = rig
        .term
        .complete_pre_authorisation(TxnId(pa.txn_id), 8_000, "c1")
        .expect("completion");
    assert_eq!(done.status, Status::Approved, "{done:?}");
    assert_eq!(done.amount, 8_000);
    assert!(
        rig.term
            .complete_pre_authorisation(TxnId(pa.txn_id), 20_000, "c1")
            .is_err()
    );
}

#[test]
fn balance_inquiry_of_the_prepaid_card() {
    let mut rig = Rig::with(
        "balance",
        smartpos_sim::hostsim::HostSimConfig::default_config(),
        |_| {},
        Some("123456"),
    );
    rig.present(card("up-cda-online-pin"), false);
    let out = rig
        .term
        .balance_inquiry("c1", &CancelToken::new())
        .expect("balance inquiry");
    assert_eq!(out.status, Status::Approved, "{out:?}");
    assert_eq!(out.balance, rig.sim.balance("6214000000000000019"));
    assert_eq!(out.balance, Some(100_000));
}

#[test]
fn settlement_balanced_then_with_a_mismatch_uploads_the_batch() {
    let mut rig = Rig::new("settle");
    rig.present(card("visa-cda-online-pin"), false);
    rig.term
        .sale(&SaleRequest::card(1_000, "c1"), &CancelToken::new())
        .expect("sale 1");
    let s = rig.term.settle().expect("settle");
    assert!(s.balanced_first_time, "{s:?}");
    assert_eq!((s.sales_count, s.sales_amount), (1, 1_000));
    assert_eq!(s.uploaded, 0);

    rig.present(card("visa-cda-online-pin"), false);
    rig.term
        .sale(&SaleRequest::card(2_000, "c1"), &CancelToken::new())
        .expect("sale 2");
    // The acquirer lost its records (a fresh host): the totals differ (95), the terminal
    // uploads its batch (0320) and the second settlement agrees.
    let fresh = smartpos_sim::hostsim::HostSim::start_default().expect("fresh host");
    let addr = fresh.addr().to_string();
    rig.sim = fresh;
    rig.restart_with(Some("1234"), |s| s.host.address = addr);
    let s = rig.term.settle().expect("second settlement");
    assert!(!s.balanced_first_time, "{s:?}");
    assert_eq!(s.uploaded, 1);
    assert_eq!((s.sales_count, s.sales_amount), (1, 2_000));
    let l = rig.sim.ledger();
    assert_eq!(l.uploads, 1);
    let codes: Vec<&str> = l
        .settlements
        .iter()
        .map(|s| s.response_code.as_str())
        .collect();
    assert_eq!(codes, ["95", "00"]);
}
