//! Crash recovery: a child process (this test binary re-executed) runs a sale or a void against
//! HostSim and is killed with SIGKILL at each step (the `crash-points` feature makes it stop and
//! wait at `SMARTPOS_DIE_AT`). After a restart on the same journal file nothing is lost, every
//! authorisation whose outcome the terminal never confirmed is reversed exactly once (the
//! simulator's ledger confirms), a refund is repeated as an advice instead (never reversed,
//! never booked twice), and the journal's invariants hold.

mod common;

use common::*;
use smartpos_journal::{TxnId, TxnState};
use smartpos_sim::hostsim::HostSim;
use smartpos_terminal::{CancelToken, SaleRequest, Status};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

const CHILD: &str = "SMARTPOS_CRASH_CHILD";

/// The child: open the terminal on the given journal and run the given operation. Does
/// nothing unless started by `run_child`.
#[test]
fn crash_child() {
    let Ok(op) = std::env::var(CHILD) else {
        return;
    };
    let addr = std::env::var("SMARTPOS_SIM_ADDR").expect("sim address");
    let journal = std::env::var("SMARTPOS_JOURNAL").expect("journal");
    let dir = Path::new(&journal).parent().expect("dir").to_path_buf();
    let mut s = Settings::default();
    s.host.address = addr;
    s.host.response_timeout_ms = 3_000;
    s.risk.duplicate_window_secs = 0;
    let clock = smartpos_journal::ManualClock::new(smartpos_journal::Timestamp(START_MS));
    let (mut term, h) = open_terminal(
        &dir,
        Path::new(&journal),
        &key_store(),
        &clock,
        s,
        Some("1234"),
        None,
    );
    h.reader
        .push(smartpos_terminal::sim_devices::SimPresentation::Card {
            card: Box::new(card("visa-cda-online-pin")),
            contactless: false,
        });
    let out = match op.split_once(':') {
        Some(("void", id)) => term.void(TxnId(id.parse().expect("id")), &CancelToken::new()),
        Some(("refund", id)) => term.refund(
            smartpos_journal::OriginalRef::Local(TxnId(id.parse().expect("id"))),
            4_300,
            &CancelToken::new(),
        ),
        _ => term.sale(&SaleRequest::card(4_200, "c1"), &CancelToken::new()),
    };
    println!("DONE {:?}", out.map(|o| o.status));
}

use smartpos_terminal::Settings;

/// Run the child until it reports `AT <step>` (then SIGKILL it) or finishes.
fn run_child(sim: &HostSim, journal: &Path, op: &str, die_at: &str) -> String {
    let exe = std::env::current_exe().expect("test binary");
    let mut child = Command::new(exe)
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD, op)
        .env("SMARTPOS_DIE_AT", die_at)
        .env("SMARTPOS_SIM_ADDR", sim.addr().to_string())
        .env("SMARTPOS_JOURNAL", journal)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("stdout");
    let mut seen = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        // The harness prints "test crash_child ... " on the same line first.
        if let Some(i) = line.find("AT ").or_else(|| line.find("DONE ")) {
            seen = line.get(i..).unwrap_or_default().to_string();
            break;
        }
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    seen
}

struct After {
    rig: Rig,
    sale_stan: u32,
    state: TxnState,
}

/// Crash a sale at `step`, restart, flush the queues.
fn crash_sale(step: &str) -> After {
    let mut rig = Rig::new(&format!("crash-{step}"));
    // Release the journal for the child: the rig's terminal is reopened after the crash.
    rig.restart_on_spare();
    let at = run_child(&rig.sim, &rig.journal_path, "sale", step);
    assert_eq!(at, format!("AT {step}"), "child reached the step");
    rig.restart(Some("1234"));
    let summary = rig.term.open_summary().clone();
    assert_eq!(summary.violations, 0, "{summary:?}");
    rig.term.flush_queues().expect("flush after restart");
    rig.term
        .flush_queues()
        .expect("second flush sends nothing again");
    let rec = rig.with_journal(|j| {
        let v = j.list(&Default::default(), None, 10).expect("list").items;
        assert_eq!(v.len(), 1, "the sale is in the journal");
        v[0].clone()
    });
    After {
        sale_stan: rec.stan,
        state: rec.state,
        rig,
    }
}

#[test]
fn crash_after_begin_aborts_and_nothing_reaches_the_host() {
    let a = crash_sale("begin");
    assert_eq!(a.state, TxnState::Aborted);
    assert!(
        a.rig
            .sim
            .ledger()
            .by_stan("12345678", a.sale_stan)
            .is_none()
    );
}

#[test]
fn crash_after_the_kernel_aborts() {
    let a = crash_sale("kernel_done");
    assert_eq!(a.state, TxnState::Aborted);
    assert!(
        a.rig
            .sim
            .ledger()
            .by_stan("12345678", a.sale_stan)
            .is_none()
    );
}

#[test]
fn crash_after_online_pending_before_sending_is_reversed_once() {
    let a = crash_sale("online_pending");
    assert_eq!(a.state, TxnState::Reversed);
    // Never reached the host: the reversal was acknowledged as "no such original".
    assert!(
        a.rig
            .sim
            .ledger()
            .by_stan("12345678", a.sale_stan)
            .is_none()
    );
}

#[test]
fn crash_after_the_host_approved_is_reversed_exactly_once() {
    let a = crash_sale("host_answered");
    assert_eq!(a.state, TxnState::Reversed);
    let l = a.rig.sim.ledger();
    let e = l
        .by_stan("12345678", a.sale_stan)
        .expect("host approved it");
    assert!(e.approved && e.reversed);
    assert_eq!(e.reversal_requests, 1);
}

#[test]
fn crash_after_journal_approval_before_card_completion_is_reversed_once() {
    let a = crash_sale("approved");
    assert_eq!(a.state, TxnState::Reversed);
    let l = a.rig.sim.ledger();
    let e = l
        .by_stan("12345678", a.sale_stan)
        .expect("host approved it");
    assert!(e.reversed);
    assert_eq!(e.reversal_requests, 1);
}

#[test]
fn crash_after_completion_keeps_the_sale() {
    let a = crash_sale("completed");
    assert_eq!(a.state, TxnState::Completed);
    let l = a.rig.sim.ledger();
    let e = l.by_stan("12345678", a.sale_stan).expect("sale");
    assert!(e.approved && !e.reversed);
    assert_eq!(e.reversal_requests, 0);
}

/// A completed sale, then a void crashed at `step`.
fn crash_void(step: &str) -> (Rig, u32, TxnState, Option<TxnState>) {
    let mut rig = Rig::new(&format!("crash-void-{step}"));
    rig.present(card("visa-cda-online-pin"), false);
    let sale = rig
        .term
        .sale(&SaleRequest::card(4_300, "c1"), &CancelToken::new())
        .expect("sale");
    assert_eq!(sale.status, Status::Approved);
    rig.restart_on_spare();
    let at = run_child(
        &rig.sim,
        &rig.journal_path,
        &format!("void:{}", sale.txn_id),
        step,
    );
    assert_eq!(at, format!("AT {step}"));
    rig.restart(Some("1234"));
    assert_eq!(rig.term.open_summary().violations, 0);
    rig.term.flush_queues().expect("flush");
    let (sale_state, void_state) = rig.with_journal(|j| {
        let items = j.list(&Default::default(), None, 10).expect("list").items;
        let s = j.get(TxnId(sale.txn_id)).expect("sale").state;
        let v = items
            .iter()
            .find(|r| r.id.0 != sale.txn_id)
            .map(|r| r.state);
        (s, v)
    });
    (rig, sale.stan, sale_state, void_state)
}

#[test]
fn void_crashes_leave_the_sale_or_the_void_consistent() {
    let (rig, stan, sale, void) = crash_void("void_begin");
    assert_eq!((sale, void), (TxnState::Completed, Some(TxnState::Aborted)));
    assert!(
        !rig.sim
            .ledger()
            .by_stan("12345678", stan)
            .expect("sale")
            .voided
    );

    let (rig, stan, sale, void) = crash_void("void_answered");
    assert_eq!(
        (sale, void),
        (TxnState::Completed, Some(TxnState::Reversed))
    );
    let l = rig.sim.ledger();
    assert!(
        !l.by_stan("12345678", stan).expect("sale").voided,
        "void reversed at the host"
    );
    assert_eq!(l.reversals_applied, 1);

    let (rig, stan, sale, void) = crash_void("void_completed");
    assert_eq!(
        (sale, void),
        (TxnState::Completed, Some(TxnState::Completed))
    );
    assert!(
        rig.sim
            .ledger()
            .by_stan("12345678", stan)
            .expect("sale")
            .voided
    );
}

/// A completed sale, then its refund crashed at `step`: after the restart the refund is
/// queued as an advice (never reversed) and flushed twice; returns the refund's journal state
/// and how many refunds the host booked.
fn crash_refund(step: &str) -> (Rig, TxnState, usize) {
    let mut rig = Rig::new(&format!("crash-refund-{step}"));
    rig.present(card("visa-cda-online-pin"), false);
    let sale = rig
        .term
        .sale(&SaleRequest::card(4_300, "c1"), &CancelToken::new())
        .expect("sale");
    assert_eq!(sale.status, Status::Approved);
    rig.restart_on_spare();
    let at = run_child(
        &rig.sim,
        &rig.journal_path,
        &format!("refund:{}", sale.txn_id),
        step,
    );
    assert_eq!(at, format!("AT {step}"));
    rig.restart(Some("1234"));
    let summary = rig.term.open_summary().clone();
    assert_eq!(summary.violations, 0);
    assert_eq!(
        (summary.recovered_reversals, summary.pending_advices),
        (0, 1),
        "{summary:?}"
    );
    // Two flushes: the second must never send a refund again.
    let _ = rig.term.flush_queues();
    let _ = rig.term.flush_queues();
    let state = rig.with_journal(|j| {
        let items = j.list(&Default::default(), None, 10).expect("list").items;
        items
            .iter()
            .find(|r| r.id.0 != sale.txn_id)
            .map(|r| r.state)
            .expect("the refund is journalled")
    });
    let refunds = rig
        .sim
        .ledger()
        .entries
        .iter()
        .filter(|e| e.kind == smartpos_sim::hostsim::TxnKind::Refund)
        .count();
    (rig, state, refunds)
}

#[test]
fn refund_crash_before_sending_is_repeated_once_never_reversed() {
    // Crashed after online_pending, before the request left: the host gets the refund for the
    // first time from the repeat, and refunds once.
    let (rig, state, refunds) = crash_refund("refund_online_pending");
    assert_eq!((state, refunds), (TxnState::Completed, 1));
    assert_eq!(
        rig.sim.ledger().reversals_applied,
        0,
        "a refund is never reversed"
    );
}

#[test]
fn refund_crash_after_the_host_refunded_is_never_paid_twice() {
    // Crashed after the host refunded: the repeat reaches HostSim's duplicate check, which
    // replays its first answer MACed under the keys of the terminal's new sign-on, so the
    // refund completes from the replay; the host has exactly one refund and nothing is reversed.
    let (rig, state, refunds) = crash_refund("refund_answered");
    assert_eq!((state, refunds), (TxnState::Completed, 1));
    let l = rig.sim.ledger();
    assert_eq!(l.reversals_applied, 0);
    assert!(
        l.duplicates >= 1,
        "the repeat was recognised as a duplicate"
    );
}
