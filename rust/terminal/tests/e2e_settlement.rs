//! Settlement retry: a settlement that fails after the batch was closed (host down, answer
//! lost, bad MAC) leaves the batch closed and unsettled; the next `settle` (or
//! `retry_settlement`) settles that batch again with the same number and its journal totals,
//! uploading the batch when the host's totals differ, never twice; sales made meanwhile go to
//! the next batch. Every attempt is in the audit log.

mod common;

use common::*;
use smartpos_iso8583::Message;
use smartpos_sim::hostsim::{Fault, HostSim};
use smartpos_terminal::{CancelToken, SaleRequest, Status, TerminalError};

fn sale(rig: &mut Rig, amount: u64) -> smartpos_terminal::TransactionOutcome {
    rig.present(card("visa-cda-online-pin"), false);
    let out = rig
        .term
        .sale(&SaleRequest::card(amount, "c1"), &CancelToken::new())
        .expect("sale");
    assert_eq!(out.status, Status::Approved, "{out:?}");
    out
}

fn audit_actions(rig: &Rig) -> Vec<String> {
    rig.with_journal(|j| {
        j.audit_log(None, None, 10_000)
            .expect("audit")
            .into_iter()
            .filter(|a| a.action.starts_with("batch.settle"))
            .map(|a| a.action)
            .collect()
    })
}

fn unsettled(rig: &Rig) -> Vec<u32> {
    rig.with_journal(|j| {
        j.unsettled_batches()
            .expect("batches")
            .iter()
            .map(|b| b.batch_no)
            .collect()
    })
}

fn batch_of(m: &Message) -> Option<String> {
    m.text(60).and_then(|t| t.get(2..8)).map(str::to_string)
}

#[test]
fn host_down_at_settlement_then_up_settles_the_same_batch_while_sales_go_to_the_next() {
    let (mut rig, proxy) = Rig::proxied("settle-down", |_| {});
    let first = sale(&mut rig, 1_000);
    assert_eq!(first.batch_no, 1);
    proxy.set_down(true);
    let err = rig.term.settle().expect_err("host down");
    assert!(matches!(err, TerminalError::Host(_)), "{err:?}");
    assert!(
        rig.sim.ledger().settlements.is_empty(),
        "nothing reached the host"
    );
    assert_eq!(unsettled(&rig), vec![1], "batch 1 closed, not settled");
    proxy.set_down(false);

    // A sale made meanwhile belongs to batch 2, at the terminal and in field 60.2.
    let meanwhile = sale(&mut rig, 2_000);
    assert_eq!(meanwhile.batch_no, 2);
    let sent = proxy
        .requests_of("0200")
        .into_iter()
        .find(|m| m.stan().ok().flatten() == Some(u64::from(meanwhile.stan)))
        .expect("0200 of the second sale");
    assert_eq!(batch_of(&sent).as_deref(), Some("000002"));

    // settle() retries batch 1 first: same number, its own totals, balanced at once.
    let s = rig.term.settle().expect("retry");
    assert_eq!(s.batch_no, 1);
    assert_eq!((s.sales_count, s.sales_amount), (1, 1_000));
    assert!(s.balanced_first_time && s.uploaded == 0, "{s:?}");
    let settlements = proxy.requests_of("0500");
    assert_eq!(
        settlements.iter().map(batch_of).collect::<Vec<_>>(),
        vec![Some("000001".to_string())],
        "the retry names batch 1 (the failed attempt never got through)"
    );
    let l = rig.sim.ledger();
    assert!(l.by_stan("12345678", first.stan).expect("first").settled);
    assert!(
        !l.by_stan("12345678", meanwhile.stan)
            .expect("second")
            .settled
    );

    // Then the batch opened meanwhile.
    let s2 = rig.term.settle().expect("batch 2");
    assert_eq!(
        (s2.batch_no, s2.sales_count, s2.sales_amount),
        (2, 1, 2_000)
    );
    assert!(s2.balanced_first_time);
    assert!(unsettled(&rig).is_empty());
    // Nothing left to retry: nothing is sent.
    assert_eq!(rig.term.retry_settlement().expect("retry"), None);
    assert_eq!(rig.sim.ledger().settlements.len(), 2);
    assert_eq!(
        audit_actions(&rig),
        [
            "batch.settle_attempt",
            "batch.settle_failed",
            "batch.settle_attempt",
            "batch.settled",
            "batch.settle_attempt",
            "batch.settled"
        ]
    );
}

#[test]
fn lost_answer_and_bad_mac_then_retry_is_acknowledged_without_settling_twice() {
    let mut rig = Rig::new("settle-lost");
    rig.term.sign_on().expect("sign-on");
    let s1 = sale(&mut rig, 1_500);
    // The host settles, then its answer is lost (read timeout).
    rig.sim.inject(Fault::NoAnswer, 1);
    assert!(rig.term.settle().is_err());
    assert_eq!(unsettled(&rig), vec![1]);
    let codes = |rig: &Rig| -> Vec<String> {
        rig.sim
            .ledger()
            .settlements
            .iter()
            .map(|s| s.response_code.clone())
            .collect()
    };
    assert_eq!(codes(&rig), ["00"], "the host did settle");
    // The retry's answer fails its MAC: still unsettled.
    rig.sim.inject(Fault::WrongMac, 1);
    let err = rig.term.retry_settlement().expect_err("bad MAC");
    assert!(matches!(err, TerminalError::Host(_)), "{err:?}");
    assert_eq!(unsettled(&rig), vec![1]);
    // Then it works: the host acknowledges the batch it already settled, nothing uploaded.
    let s = rig
        .term
        .retry_settlement()
        .expect("retry")
        .expect("a batch to retry");
    assert_eq!((s.batch_no, s.sales_count, s.sales_amount), (1, 1, 1_500));
    assert!(s.balanced_first_time && s.uploaded == 0);
    let l = rig.sim.ledger();
    assert_eq!(l.uploads, 0);
    let e = l.by_stan("12345678", s1.stan).expect("entry");
    assert!(e.settled && e.approved && !e.reversed);
    assert_eq!(codes(&rig), ["00", "00", "00"]);
    assert!(unsettled(&rig).is_empty());
    assert_eq!(rig.term.retry_settlement().expect("again"), None);
    let failed = audit_actions(&rig)
        .iter()
        .filter(|a| *a == "batch.settle_failed")
        .count();
    assert_eq!(failed, 2);
}

#[test]
fn retry_against_a_host_that_lost_the_batch_uploads_it() {
    let (mut rig, proxy) = Rig::proxied("settle-upload", |_| {});
    sale(&mut rig, 1_000);
    sale(&mut rig, 2_500);
    proxy.set_down(true);
    assert!(rig.term.settle().is_err());
    // The acquirer comes back without the records (a fresh host).
    let fresh = HostSim::start(&host_config(), "127.0.0.1:0", None).expect("fresh host");
    let addr = fresh.addr().to_string();
    rig.sim = fresh;
    rig.restart_with(Some("1234"), |s| s.host.address = addr);
    assert_eq!(unsettled(&rig), vec![1], "survives the restart");
    let s = rig.term.settle().expect("retry with upload");
    assert_eq!(s.batch_no, 1);
    assert!(!s.balanced_first_time);
    assert_eq!(s.uploaded, 2);
    assert_eq!((s.sales_count, s.sales_amount), (2, 3_500));
    let l = rig.sim.ledger();
    assert_eq!(l.uploads, 2);
    let codes: Vec<&str> = l
        .settlements
        .iter()
        .map(|s| s.response_code.as_str())
        .collect();
    assert_eq!(codes, ["95", "00"]);
}

#[test]
fn after_a_restart_and_sign_on_sales_still_go_to_the_next_batch() {
    let (mut rig, proxy) = Rig::proxied("settle-restart", |_| {});
    sale(&mut rig, 1_000);
    proxy.set_down(true);
    assert!(rig.term.settle().is_err());
    proxy.set_down(false);
    // A restart signs on again: the host, which never got the settlement, still names batch
    // 1; the terminal keeps new requests out of it.
    rig.restart(Some("1234"));
    let s2 = sale(&mut rig, 2_000);
    assert_eq!(s2.batch_no, 2);
    let sent = proxy
        .requests_of("0200")
        .into_iter()
        .find(|m| m.stan().ok().flatten() == Some(u64::from(s2.stan)))
        .expect("0200 of the sale after the restart");
    assert_eq!(batch_of(&sent).as_deref(), Some("000002"));
    let r = rig.term.settle().expect("retry of batch 1");
    assert_eq!((r.batch_no, r.sales_amount), (1, 1_000));
    assert!(r.balanced_first_time, "{r:?}");
    let r2 = rig.term.settle().expect("batch 2");
    assert_eq!((r2.batch_no, r2.sales_amount), (2, 2_000));
    assert!(r2.balanced_first_time, "{r2:?}");
}
