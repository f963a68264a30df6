//! Refunds whose answer is lost (0220 in this dialect, never reversed): not dropped, not paid
//! twice. The refund stays online, counts against the original, is queued as a store-and-
//! forward advice and repeated with the same STAN by `flush_queues` until HostSim answers;
//! the HostSim ledger ends with exactly one refund.

mod common;

use common::*;
use smartpos_journal::{OriginalRef, TxnId, TxnState};
use smartpos_sim::hostsim::{Fault, TxnKind as HostKind};
use smartpos_terminal::{CancelToken, Reprint, SaleRequest, Status, TerminalError};

fn sale(rig: &mut Rig, amount: u64) -> smartpos_terminal::TransactionOutcome {
    rig.present(card("visa-cda-online-pin"), false);
    let out = rig
        .term
        .sale(&SaleRequest::card(amount, "c1"), &CancelToken::new())
        .expect("sale");
    assert_eq!(out.status, Status::Approved, "{out:?}");
    out
}

fn refunds_at_host(rig: &Rig) -> Vec<smartpos_sim::hostsim::LedgerEntry> {
    rig.sim
        .ledger()
        .entries
        .into_iter()
        .filter(|e| e.kind == HostKind::Refund)
        .collect()
}

fn state(rig: &Rig, id: i64) -> TxnState {
    rig.with_journal(|j| j.get(TxnId(id)).expect("record").state)
}

#[test]
fn refund_answer_lost_is_pending_then_sent_once_by_flush() {
    let mut rig = Rig::new("refund-timeout");
    let s = sale(&mut rig, 3_000);
    // The host refunds, then its answer never comes (read timeout).
    rig.sim.inject(Fault::NoAnswer, 1);
    let r = rig
        .term
        .refund(
            OriginalRef::Local(TxnId(s.txn_id)),
            3_000,
            &CancelToken::new(),
        )
        .expect("refund outcome");
    assert!(r.pending, "{r:?}");
    assert!(!r.is_approved());
    assert!(r.message.contains("pending"), "{}", r.message);
    assert_eq!(state(&rig, r.txn_id), TxnState::OnlinePending);
    let q = rig.with_journal(|j| j.pending_advices().expect("advices"));
    assert_eq!((q.len(), q[0].stan), (1, r.stan));
    // Not paid twice: the pending refund still counts against the original.
    let again = rig
        .term
        .refund(OriginalRef::Local(TxnId(s.txn_id)), 1, &CancelToken::new());
    assert!(again.is_err(), "{again:?}");
    // A reprint tells the same.
    let re = rig
        .term
        .reprint(Reprint::Invoice(r.invoice))
        .expect("reprint");
    assert!(re.pending);

    assert_eq!(rig.term.flush_queues().expect("flush"), 1);
    assert_eq!(rig.term.flush_queues().expect("flush again"), 0);
    let at_host = refunds_at_host(&rig);
    assert_eq!(at_host.len(), 1, "exactly one refund: {at_host:?}");
    assert!(at_host[0].approved && at_host[0].stan == r.stan);
    let rec = rig.with_journal(|j| j.get(TxnId(r.txn_id)).expect("refund"));
    assert_eq!(rec.state, TxnState::Completed);
    assert_eq!(rec.rrn.as_deref(), Some(at_host[0].rrn.as_str()));
    assert_eq!(rec.response_code.as_deref(), Some("00"));
    let audit = rig.with_journal(|j| j.audit_of(TxnId(r.txn_id)).expect("audit"));
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert!(
        actions.contains(&"refund.advice_pending") && actions.contains(&"refund.advice_answered"),
        "{actions:?}"
    );
    // The refunded sale settles with its refund.
    let st = rig.term.settle().expect("settle");
    assert_eq!((st.refunds_count, st.refunds_amount), (1, 3_000));
    assert!(st.balanced_first_time, "{st:?}");
}

#[test]
fn refund_with_the_host_down_survives_a_restart_and_is_sent_when_it_is_back() {
    let (mut rig, proxy) = Rig::proxied("refund-down", |_| {});
    let s = sale(&mut rig, 5_000);
    proxy.set_down(true);
    let r = rig
        .term
        .refund(
            OriginalRef::Local(TxnId(s.txn_id)),
            2_000,
            &CancelToken::new(),
        )
        .expect("refund outcome");
    assert!(r.pending && r.status == Status::Reversed, "{r:?}");
    assert!(refunds_at_host(&rig).is_empty());
    // While the host is down the advice stays queued.
    assert!(matches!(
        rig.term.flush_queues(),
        Err(TerminalError::Host(_))
    ));
    rig.restart(Some("1234"));
    assert_eq!(state(&rig, r.txn_id), TxnState::OnlinePending);
    assert_eq!(
        rig.term.open_summary().pending_advices,
        1,
        "no reversal: {:?}",
        rig.term.open_summary()
    );
    proxy.set_down(false);
    assert_eq!(rig.term.flush_queues().expect("flush"), 1);
    let at_host = refunds_at_host(&rig);
    assert_eq!(at_host.len(), 1);
    assert_eq!((at_host[0].amount, at_host[0].stan), (2_000, r.stan));
    assert!(at_host[0].approved);
    assert_eq!(state(&rig, r.txn_id), TxnState::Completed);
    // The repeat was the refund itself: original RRN and refund message type, same STAN.
    let advices = proxy.requests_of("0220");
    let last = advices.last().expect("0220");
    assert_eq!(last.rrn(), s.rrn.as_deref());
    assert_eq!(last.text(60).and_then(|t| t.get(..2)), Some("25"));
    // The rest can still be refunded, but not more.
    let rest = rig
        .term
        .refund(
            OriginalRef::Local(TxnId(s.txn_id)),
            3_000,
            &CancelToken::new(),
        )
        .expect("rest");
    assert_eq!(rest.status, Status::Approved, "{rest:?}");
    assert_eq!(refunds_at_host(&rig).len(), 2);
}

#[test]
fn a_repeated_refund_the_host_refuses_ends_declined_and_frees_the_amount() {
    let mut rig = Rig::new("refund-refused");
    let s = sale(&mut rig, 4_000);
    // An acquirer that does not know the sale (a fresh host): it answers the refund 25, and
    // that answer is lost the first time.
    let fresh = smartpos_sim::hostsim::HostSim::start(&host_config(), "127.0.0.1:0", None)
        .expect("fresh host");
    let addr = fresh.addr().to_string();
    rig.sim = fresh;
    rig.restart_with(Some("1234"), |st| st.host.address = addr);
    rig.term.sign_on().expect("sign-on");
    rig.sim.inject(Fault::NoAnswer, 1);
    let r = rig
        .term
        .refund(
            OriginalRef::Local(TxnId(s.txn_id)),
            4_000,
            &CancelToken::new(),
        )
        .expect("refund outcome");
    assert!(r.pending, "{r:?}");
    assert_eq!(rig.term.flush_queues().expect("flush"), 1);
    let rec = rig.with_journal(|j| j.get(TxnId(r.txn_id)).expect("refund"));
    assert_eq!(rec.state, TxnState::Declined);
    assert_eq!(rec.response_code.as_deref(), Some("25"));
    assert!(
        rig.with_journal(|j| j.pending_advices().expect("q"))
            .is_empty()
    );
    let at_host = refunds_at_host(&rig);
    assert_eq!(at_host.len(), 1);
    assert!(!at_host[0].approved);
    // Declined, it no longer counts against the original: the journal lets it be tried again.
    let again = rig
        .term
        .refund(
            OriginalRef::Local(TxnId(s.txn_id)),
            4_000,
            &CancelToken::new(),
        )
        .expect("the full amount may be refunded again");
    assert_eq!(again.status, Status::Declined, "{again:?}");
}
