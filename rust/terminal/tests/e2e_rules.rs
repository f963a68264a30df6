//! Reversals, risk rules, tamper and key age, end to end over HostSim with a real journal.

mod common;

use common::*;
use smartpos_journal::{TxnId, TxnState};
use smartpos_sim::hostsim::Fault;
use smartpos_terminal::{
    Action, AuthError, Authoriser, CancelToken, OperatorId, RiskRule, Role, SaleRequest, Status,
    TerminalError,
};

fn sale(
    rig: &mut Rig,
    amount: u64,
    profile: &str,
) -> Result<smartpos_terminal::TransactionOutcome, TerminalError> {
    rig.present(card(profile), false);
    rig.term
        .sale(&SaleRequest::card(amount, "c1"), &CancelToken::new())
}

fn rule_of(e: &TerminalError) -> Option<RiskRule> {
    match e {
        TerminalError::Risk { rule, .. } => Some(*rule),
        _ => None,
    }
}

#[test]
fn host_timeout_queues_a_reversal_sent_exactly_once_before_the_next_sale() {
    let mut rig = Rig::new("timeout");
    rig.term.sign_on().expect("sign-on");
    // The host approves, then never answers: the terminal times out (1.5 s).
    rig.sim.inject(Fault::NoAnswer, 1);
    let lost = sale(&mut rig, 1_000, "visa-cda-online-pin").expect("outcome");
    assert_eq!(lost.status, Status::Reversed, "{lost:?}");
    assert!(!lost.is_approved());
    let st = |rig: &Rig, id| rig.with_journal(|j| j.get(TxnId(id)).expect("rec").state);
    assert_eq!(st(&rig, lost.txn_id), TxnState::ReversalPending);
    let at_host = rig
        .sim
        .ledger()
        .by_stan("12345678", lost.stan)
        .cloned()
        .expect("host saw it");
    assert!(
        at_host.approved && !at_host.reversed,
        "approved at the host, not yet reversed"
    );

    // The next sale sends the reversal first.
    let next = sale(&mut rig, 2_000, "visa-cda-online-pin").expect("next sale");
    assert_eq!(next.status, Status::Approved);
    assert_eq!(st(&rig, lost.txn_id), TxnState::Reversed);
    // And again: nothing more is sent for it.
    rig.term.flush_queues().expect("flush");
    sale(&mut rig, 3_000, "visa-cda-online-pin").expect("third sale");
    let l = rig.sim.ledger();
    let e = l.by_stan("12345678", lost.stan).expect("entry");
    assert!(e.reversed);
    assert_eq!(e.reversal_requests, 1, "reversed exactly once");
    assert_eq!(l.reversals_applied, 1);
}

#[test]
fn bad_response_mac_reverses() {
    let mut rig = Rig::new("bad-mac");
    rig.term.sign_on().expect("sign-on");
    rig.sim.inject(Fault::WrongMac, 1);
    let out = sale(&mut rig, 1_000, "visa-cda-online-pin").expect("outcome");
    assert_eq!(out.status, Status::Reversed);
    let reason = rig.with_journal(|j| j.get(TxnId(out.txn_id)).expect("rec").error_reason);
    assert_eq!(reason.as_deref(), Some("mac-error"));
    rig.term.flush_queues().expect("flush");
    let e = rig
        .sim
        .ledger()
        .by_stan("12345678", out.stan)
        .cloned()
        .expect("entry");
    assert!(e.reversed);
    assert_eq!(e.reversal_requests, 1);
}

#[test]
fn transaction_and_merchant_category_limits_refuse_before_the_card() {
    let mut rig = Rig::with(
        "limits",
        smartpos_sim::hostsim::HostSimConfig::default_config(),
        |s| {
            s.risk.max_amount = 50_000;
            s.risk.mcc_limits.insert("5812".into(), 20_000);
        },
        Some("1234"),
    );
    let e = sale(&mut rig, 60_000, "visa-cda-online-pin").unwrap_err();
    assert_eq!(rule_of(&e), Some(RiskRule::TransactionLimit), "{e}");
    let e = rig
        .term
        .sale(&SaleRequest::card(30_000, "c1"), &CancelToken::new())
        .unwrap_err();
    assert_eq!(rule_of(&e), Some(RiskRule::MerchantCategoryLimit), "{e}");
    assert!(rig.sim.ledger().entries.is_empty());
    // Under both limits: goes through (the queued card is still in the reader).
    let ok = rig
        .term
        .sale(&SaleRequest::card(10_000, "c1"), &CancelToken::new())
        .expect("sale");
    assert_eq!(ok.status, Status::Approved);
}

#[test]
fn daily_count_and_amount_limits() {
    let mut rig = Rig::with(
        "daily",
        smartpos_sim::hostsim::HostSimConfig::default_config(),
        |s| {
            s.risk.daily_count_limit = 2;
            s.risk.daily_amount_limit = 5_000;
        },
        Some("1234"),
    );
    sale(&mut rig, 1_000, "visa-cda-online-pin").expect("1");
    // Refused before the card is read: the presented card stays for the next attempt.
    let e = sale(&mut rig, 4_500, "visa-cda-online-pin").unwrap_err();
    assert_eq!(rule_of(&e), Some(RiskRule::DailyAmountLimit), "{e}");
    rig.term
        .sale(&SaleRequest::card(2_000, "c1"), &CancelToken::new())
        .expect("2");
    let e = sale(&mut rig, 100, "visa-cda-online-pin").unwrap_err();
    assert_eq!(rule_of(&e), Some(RiskRule::DailyCountLimit), "{e}");
    // The next local day the count starts again.
    rig.clock.advance_millis(86_400_000);
    assert!(
        rig.term
            .sale(&SaleRequest::card(100, "c1"), &CancelToken::new())
            .is_ok()
    );
}

#[test]
fn card_velocity_refuses_the_same_card_too_often() {
    let mut rig = Rig::with(
        "velocity",
        smartpos_sim::hostsim::HostSimConfig::default_config(),
        |s| {
            s.risk.velocity_count = 2;
            s.risk.velocity_minutes = 10;
        },
        Some("1234"),
    );
    sale(&mut rig, 1_000, "visa-cda-online-pin").expect("1");
    sale(&mut rig, 1_100, "visa-cda-online-pin").expect("2");
    let e = sale(&mut rig, 1_200, "visa-cda-online-pin").unwrap_err();
    assert_eq!(rule_of(&e), Some(RiskRule::CardVelocity), "{e}");
    // Another card is fine.
    sale(&mut rig, 1_200, "mc-cda-online-pin").expect("other card");
    // Eleven minutes later the first card is fine again.
    rig.clock.advance_millis(11 * 60_000);
    sale(&mut rig, 1_300, "visa-cda-online-pin").expect("later");
}

#[test]
fn duplicate_needs_the_attendants_confirmation() {
    let mut rig = Rig::with(
        "duplicate",
        smartpos_sim::hostsim::HostSimConfig::default_config(),
        |s| s.risk.duplicate_window_secs = 60,
        Some("1234"),
    );
    sale(&mut rig, 1_000, "visa-cda-online-pin").expect("first");
    *rig.h.confirmer.answer.lock().expect("lock") = false;
    let e = sale(&mut rig, 1_000, "visa-cda-online-pin").unwrap_err();
    assert_eq!(rule_of(&e), Some(RiskRule::Duplicate), "{e}");
    assert_eq!(rig.h.confirmer.asked.lock().expect("lock").len(), 1);
    *rig.h.confirmer.answer.lock().expect("lock") = true;
    let ok = sale(&mut rig, 1_000, "visa-cda-online-pin").expect("confirmed duplicate");
    assert_eq!(ok.status, Status::Approved);
    assert_eq!(
        rig.sim
            .ledger()
            .entries
            .iter()
            .filter(|e| e.approved)
            .count(),
        2
    );
}

struct Refuse;
impl Authoriser for Refuse {
    fn require(&self, role: Role, action: Action) -> Result<OperatorId, AuthError> {
        Err(AuthError::Refused {
            role,
            action,
            reason: "no supervisor present".into(),
        })
    }
}

#[test]
fn large_amounts_and_voids_need_a_supervisor() {
    let sim = smartpos_sim::hostsim::HostSim::start_default().expect("sim");
    let dir = temp_dir("supervisor");
    let keys = key_store();
    let clock = smartpos_journal::ManualClock::new(smartpos_journal::Timestamp(START_MS));
    let mut s = settings(&sim);
    s.risk.supervisor_above = 10_000;
    let (mut term, h) = open_terminal(
        &dir,
        &dir.join("j.db"),
        &keys,
        &clock,
        s,
        Some("1234"),
        Some(Box::new(Refuse)),
    );
    let e = term
        .sale(&SaleRequest::card(20_000, "c1"), &CancelToken::new())
        .unwrap_err();
    assert_eq!(rule_of(&e), Some(RiskRule::SupervisorRequired), "{e}");
    h.reader
        .push(smartpos_terminal::sim_devices::SimPresentation::Card {
            card: Box::new(card("visa-cda-online-pin")),
            contactless: false,
        });
    let ok = term
        .sale(&SaleRequest::card(5_000, "c1"), &CancelToken::new())
        .expect("small sale needs no supervisor");
    let e = term
        .void(TxnId(ok.txn_id), &CancelToken::new())
        .unwrap_err();
    assert!(
        matches!(e, TerminalError::Operator(AuthError::Refused { .. })),
        "{e}"
    );
    assert!(matches!(term.settle(), Err(TerminalError::Operator(_))));
}

#[test]
fn tamper_erases_keys_and_blocks_payments_until_keys_are_loaded() {
    let mut rig = Rig::new("tamper");
    let first = sale(&mut rig, 1_000, "visa-cda-online-pin").expect("sale");
    rig.term.tamper_detected();
    assert!(rig.term.is_tampered());
    {
        use smartpos_terminal::KeyStore;
        let k = rig.keys.lock().expect("keys");
        assert!(k.master_key().is_none());
        assert!(
            k.working_key(smartpos_crypto::keyhier::WorkingKeyType::Pin)
                .is_none()
        );
    }
    let e = sale(&mut rig, 1_000, "visa-cda-online-pin").unwrap_err();
    assert!(matches!(e, TerminalError::Tampered), "{e}");
    // The journal is intact.
    let kept = rig.with_journal(|j| j.get(TxnId(first.txn_id)).expect("record").state);
    assert_eq!(kept, TxnState::Completed);
    rig.term.load_master_key(tmk()).expect("key loading");
    let again = rig
        .term
        .sale(&SaleRequest::card(1_000, "c1"), &CancelToken::new())
        .expect("payments again");
    assert_eq!(again.status, Status::Approved);
}

#[test]
fn old_working_keys_force_a_sign_on() {
    let mut rig = Rig::with(
        "key-age",
        smartpos_sim::hostsim::HostSimConfig::default_config(),
        |s| s.key_max_age_secs = 3_600,
        Some("1234"),
    );
    sale(&mut rig, 1_000, "visa-cda-online-pin").expect("1");
    sale(&mut rig, 1_000 + 1, "visa-cda-online-pin").expect("2");
    assert_eq!(rig.sim.ledger().sign_ons, 1, "keys fresh: one sign-on");
    rig.clock.advance_millis(3_601_000);
    sale(&mut rig, 1_002, "visa-cda-online-pin").expect("3");
    assert_eq!(
        rig.sim.ledger().sign_ons,
        2,
        "keys older than the limit: sign-on forced"
    );
}
