//! The host-link work wired into payments: a cancel while the answer is awaited ends the wait
//! (`HostError::Cancelled { sent: true }`) and is an unknown outcome (reversal queued and sent
//! once, journal consistent); a cancel before the request is written (`sent: false`) aborts
//! with nothing to reverse; the sale's value-added data (order reference, member id, coupon)
//! reaches the host in field 63 from the chip, the stripe, the contactless path and a
//! pre-authorisation; invalid value-added data is refused before anything is journalled.

mod common;

use common::*;
use smartpos_journal::{TxnFilter, TxnId, TxnState};
use smartpos_sim::hostsim::Fault;
use smartpos_terminal::events::Step;
use smartpos_terminal::{
    CancelToken, Event, EventSink, MessageId, OpenOptions, SaleRequest, Status, Terminal,
    TerminalError, ValueAdded,
};
use std::sync::Arc;

fn prompted(rig: &Rig, id: MessageId) -> bool {
    rig.h
        .events
        .events()
        .iter()
        .any(|e| matches!(e, Event::Prompt { id: i, .. } if *i == id))
}

fn value_added() -> ValueAdded {
    ValueAdded {
        merchant_order_ref: Some("ORD-2026-1121-0042".into()),
        member_id: Some("13800138000".into()),
        coupon_discount: 500,
    }
}

fn request(amount: u64) -> SaleRequest {
    SaleRequest {
        value_added: value_added(),
        ..SaleRequest::card(amount, "c1")
    }
}

#[test]
fn cancel_while_the_answer_is_awaited_is_an_unknown_outcome_reversed_once() {
    // A read timeout far beyond the test: only the cancel can end the wait.
    let mut rig = Rig::with(
        "cancel-sent",
        host_config(),
        |s| {
            s.host.response_timeout_ms = 600_000;
        },
        Some("1234"),
    );
    rig.term.sign_on().expect("sign-on");
    rig.sim.inject(Fault::NoAnswer, 1);
    rig.present(card("visa-cda-online-pin"), false);
    let token = CancelToken::new();
    let out = cancel_after_booking(&mut rig, 0, &token, |t| {
        t.sale(&SaleRequest::card(4_321, "c1"), &token)
    })
    .expect("outcome");
    assert_eq!(out.status, Status::Reversed, "{out:?}");
    assert!(prompted(&rig, MessageId::Cancelled));
    let rec = rig.with_journal(|j| j.get(TxnId(out.txn_id)).expect("rec"));
    assert_eq!(rec.state, TxnState::ReversalPending);
    assert_eq!(rec.error_reason.as_deref(), Some("no-response"));
    // The cancelled token does not stop what follows: the reversal goes out, once.
    assert_eq!(rig.term.flush_queues().expect("flush"), 1);
    assert_eq!(rig.term.flush_queues().expect("flush again"), 0);
    let e = rig
        .sim
        .ledger()
        .by_stan("12345678", out.stan)
        .cloned()
        .expect("entry");
    assert!(
        e.approved && e.reversed && e.reversal_requests == 1,
        "{e:?}"
    );
    assert_eq!(
        rig.with_journal(|j| j.get(TxnId(out.txn_id)).expect("rec").state),
        TxnState::Reversed
    );
    assert!(
        rig.with_journal(|j| j.check_invariants().expect("inv"))
            .is_empty()
    );
}

/// Cancels its token when the terminal reports it is going online (after `online_pending`,
/// before the request is built), and records everything like the simulated sink.
struct CancelAtOnline {
    token: CancelToken,
    inner: Arc<dyn EventSink>,
}

impl EventSink for CancelAtOnline {
    fn event(&self, event: &Event) {
        if matches!(event, Event::Progress { step: Step::Online }) {
            self.token.cancel();
        }
        self.inner.event(event);
    }
}

#[test]
fn cancel_before_the_request_is_written_aborts_with_nothing_to_reverse() {
    let sim = smartpos_sim::hostsim::HostSim::start(&host_config(), "127.0.0.1:0", None)
        .expect("hostsim");
    let dir = temp_dir("cancel-unsent");
    let keys = key_store();
    let clock = smartpos_journal::ManualClock::new(smartpos_journal::Timestamp(START_MS));
    let (emv_config, ca_keys) = emv();
    let (mut devices, h) = smartpos_terminal::sim_devices::sim_devices(Some("1234"), keys.clone());
    let token = CancelToken::new();
    devices.events = Arc::new(CancelAtOnline {
        token: token.clone(),
        inner: devices.events.clone(),
    });
    let mut term = Terminal::open_with(
        &dir,
        devices,
        keys,
        &dir.join("j.db"),
        Box::new(smartpos_terminal::AllowAll(smartpos_terminal::OperatorId(
            "s".into(),
        ))),
        OpenOptions {
            emv_config: Some(emv_config),
            ca_keys: Some(ca_keys),
            settings: Some(settings(&sim)),
            clock: Some(Arc::new(clock)),
        },
    )
    .expect("open");
    term.sign_on().expect("sign-on");
    let requests_before = sim.ledger().requests;
    h.reader
        .push(smartpos_terminal::sim_devices::SimPresentation::Card {
            card: Box::new(card("visa-cda-online-pin")),
            contactless: false,
        });
    let err = term
        .sale(&SaleRequest::card(1_000, "c1"), &token)
        .expect_err("cancelled");
    assert!(
        matches!(
            err,
            TerminalError::Cancelled {
                step: "host request"
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        sim.ledger().requests,
        requests_before,
        "nothing reached the host"
    );
    let j = term.journal();
    let mut j = j.lock().expect("journal");
    let recs = j.list(&TxnFilter::default(), None, 10).expect("list").items;
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].state, TxnState::Aborted);
    assert!(
        j.pending_reversals().expect("q").is_empty(),
        "nothing to reverse"
    );
    assert!(j.check_invariants().expect("inv").is_empty());
}

#[test]
fn value_added_data_reaches_the_host_from_chip_stripe_tap_and_pre_auth() {
    let mut rig = Rig::new("vad");
    let expected =
        smartpos_host::ValueAddedData::new(Some("ORD-2026-1121-0042"), Some("13800138000"), 500);
    let mut stans = Vec::new();
    rig.present(card("visa-cda-online-pin"), false);
    let chip = rig
        .term
        .sale(&request(2_000), &CancelToken::new())
        .expect("chip");
    assert_eq!(chip.status, Status::Approved, "{chip:?}");
    stans.push(chip.stan);
    // Service code 101: a stripe-only card, accepted as swiped.
    rig.h
        .reader
        .push(smartpos_terminal::sim_devices::SimPresentation::Swipe(
            "4761739001010010=30121011234567890".into(),
        ));
    let stripe = rig
        .term
        .sale(&request(2_100), &CancelToken::new())
        .expect("stripe");
    assert_eq!(stripe.status, Status::Approved, "{stripe:?}");
    assert_eq!(stripe.entry_mode.as_deref(), Some("magstripe"));
    stans.push(stripe.stan);
    rig.tap(cl_card(
        smartpos_sim::contactless::Profile::visa_online_only(),
    ));
    let tap = rig
        .term
        .sale(&request(25_000), &CancelToken::new())
        .expect("tap");
    assert_eq!(tap.status, Status::Approved, "{tap:?}");
    stans.push(tap.stan);
    rig.present(card("visa-cda-online-pin"), false);
    let pre = rig
        .term
        .pre_authorise(&request(3_000), &CancelToken::new())
        .expect("pre-auth");
    assert_eq!(pre.status, Status::Approved, "{pre:?}");
    stans.push(pre.stan);
    let l = rig.sim.ledger();
    for stan in &stans {
        assert_eq!(
            l.value_added_of("12345678", *stan),
            Some(&expected),
            "field 63 of STAN {stan}"
        );
    }
    assert_eq!(
        chip.value_added.merchant_order_ref.as_deref(),
        Some("ORD-2026-1121-0042")
    );
}

#[test]
fn invalid_value_added_data_is_refused_before_anything_is_journalled() {
    let mut rig = Rig::new("vad-bad");
    rig.present(card("visa-cda-online-pin"), false);
    let mut req = request(1_000);
    req.value_added.merchant_order_ref = Some("ORDER 42".into());
    let err = rig
        .term
        .sale(&req, &CancelToken::new())
        .expect_err("refused");
    assert!(
        matches!(
            err,
            TerminalError::InvalidRequest {
                field: "value_added",
                ..
            }
        ),
        "{err:?}"
    );
    let n = rig.with_journal(|j| {
        j.list(&TxnFilter::default(), None, 10)
            .expect("list")
            .items
            .len()
    });
    assert_eq!(n, 0);
    assert!(rig.sim.ledger().entries.is_empty());
}

/// Run `op` on the rig's terminal and cancel `token` once HostSim has booked a request
/// beyond the first `booked` ledger entries (it then never answers: NoAnswer injected).
fn cancel_after_booking<T>(
    rig: &mut Rig,
    booked: usize,
    token: &CancelToken,
    op: impl FnOnce(&mut Terminal) -> T,
) -> T {
    std::thread::scope(|s| {
        let sim = &rig.sim;
        let t = token.clone();
        s.spawn(move || {
            while sim.ledger().entries.len() <= booked {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            t.cancel();
        });
        op(&mut rig.term)
    })
}

#[test]
fn cancel_while_a_tap_awaits_its_answer_reverses_it() {
    let mut rig = Rig::with(
        "cancel-tap",
        host_config(),
        |s| s.host.response_timeout_ms = 600_000,
        Some("1234"),
    );
    rig.term.sign_on().expect("sign-on");
    rig.sim.inject(Fault::NoAnswer, 1);
    rig.tap(cl_card(
        smartpos_sim::contactless::Profile::visa_online_only(),
    ));
    let token = CancelToken::new();
    let out = cancel_after_booking(&mut rig, 0, &token, |t| {
        t.sale(&SaleRequest::card(25_000, "c1"), &token)
    })
    .expect("outcome");
    assert_eq!(out.status, Status::Reversed, "{out:?}");
    assert!(prompted(&rig, MessageId::Cancelled));
    assert_eq!(rig.term.flush_queues().expect("flush"), 1);
    let e = rig
        .sim
        .ledger()
        .by_stan("12345678", out.stan)
        .cloned()
        .expect("entry");
    assert!(e.reversed && e.reversal_requests == 1, "{e:?}");
}

#[test]
fn cancel_while_a_refund_awaits_its_answer_leaves_it_pending_then_sent_once() {
    let mut rig = Rig::with(
        "cancel-refund",
        host_config(),
        |s| s.host.response_timeout_ms = 600_000,
        Some("1234"),
    );
    rig.present(card("visa-cda-online-pin"), false);
    let sale = rig
        .term
        .sale(&SaleRequest::card(3_000, "c1"), &CancelToken::new())
        .expect("sale");
    rig.sim.inject(Fault::NoAnswer, 1);
    let token = CancelToken::new();
    let booked = rig.sim.ledger().entries.len();
    let r = cancel_after_booking(&mut rig, booked, &token, |t| {
        t.refund(
            smartpos_journal::OriginalRef::Local(TxnId(sale.txn_id)),
            3_000,
            &token,
        )
    })
    .expect("refund outcome");
    assert!(r.pending, "{r:?}");
    assert_eq!(rig.term.flush_queues().expect("flush"), 1);
    let refunds = rig
        .sim
        .ledger()
        .entries
        .iter()
        .filter(|e| e.kind == smartpos_sim::hostsim::TxnKind::Refund)
        .count();
    assert_eq!(refunds, 1);
    assert_eq!(
        rig.with_journal(|j| j.get(TxnId(r.txn_id)).expect("rec").state),
        TxnState::Completed
    );
}
