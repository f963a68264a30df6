//! QR scan-to-pay end to end: the customer's wallet payment code scanned, paid through HostSim
//! (pending until the simulator's configured number of polls), journalled as a QR sale.

mod common;

use common::*;
use smartpos_journal::{QrState, TxnId, TxnState};
use smartpos_terminal::{
    CancelToken, Event, MessageId, PaymentMethod, SaleRequest, Status, TerminalError,
};

fn qr_sale(amount: u64) -> SaleRequest {
    let mut r = SaleRequest::card(amount, "c1");
    r.method = PaymentMethod::ScanWalletCode;
    r
}

/// A WeChat Pay payment code: 18 digits starting 10-15 (the prefix/length rule smartpos-qr
/// applies to wallet codes).
const WECHAT_CODE: &str = "134567890123456789";

#[test]
fn wallet_code_sale_polls_until_paid() {
    let mut rig = Rig::with(
        "qr-scan",
        smartpos_sim::hostsim::HostSimConfig::default_config(),
        |s| s.qr_poll_interval_ms = 10,
        Some("1234"),
    );
    rig.h
        .scanner
        .0
        .lock()
        .expect("lock")
        .push_back(WECHAT_CODE.into());
    let out = rig
        .term
        .sale(&qr_sale(1_800), &CancelToken::new())
        .expect("qr sale");
    assert_eq!(out.status, Status::Approved, "{out:?}");
    assert_eq!(out.kind, "qr_sale");
    assert!(out.pan_masked.is_none());
    let rec = rig.with_journal(|j| j.get(TxnId(out.txn_id)).expect("rec"));
    assert_eq!(rec.state, TxnState::Completed);
    assert_eq!(rec.qr_state, Some(QrState::Paid));
    assert!(rec.wallet_order_no.is_some());
    let saw_see_phone = rig.h.events.events().iter().any(|e| {
        matches!(
            e,
            Event::Prompt {
                id: MessageId::SeePhone,
                ..
            }
        )
    });
    assert!(saw_see_phone, "pending order shows 'see phone'");
    let l = rig.sim.ledger();
    assert!(l.entries.iter().any(|e| e.approved && e.amount == 1_800));
}

#[test]
fn unpaid_order_is_revoked_when_polling_gives_up() {
    let mut cfg = smartpos_sim::hostsim::HostSimConfig::default_config();
    cfg.qr_polls_until_paid = 50;
    let mut rig = Rig::with(
        "qr-revoke",
        cfg,
        |s| {
            s.qr_poll_interval_ms = 1;
            s.qr_max_polls = 2;
        },
        Some("1234"),
    );
    rig.h
        .scanner
        .0
        .lock()
        .expect("lock")
        .push_back(WECHAT_CODE.into());
    let out = rig
        .term
        .sale(&qr_sale(1_900), &CancelToken::new())
        .expect("qr sale");
    assert_eq!(out.status, Status::Revoked, "{out:?}");
    let rec = rig.with_journal(|j| j.get(TxnId(out.txn_id)).expect("rec"));
    assert_eq!(rec.qr_state, Some(QrState::Revoked));
    assert!(
        !rig.sim
            .ledger()
            .entries
            .iter()
            .any(|e| e.approved && e.amount == 1_900)
    );
}

#[test]
fn a_code_that_is_not_a_wallet_code_is_refused_before_anything_is_journalled() {
    let mut rig = Rig::new("qr-bad");
    rig.h
        .scanner
        .0
        .lock()
        .expect("lock")
        .push_back("hello".into());
    let e = rig
        .term
        .sale(&qr_sale(1_000), &CancelToken::new())
        .unwrap_err();
    assert!(matches!(e, TerminalError::Qr(_)), "{e}");
    let n = rig.with_journal(|j| {
        j.list(&Default::default(), None, 10)
            .expect("list")
            .items
            .len()
    });
    assert_eq!(n, 0);
}

// ---------------------------------------------------------------------------------------------
// Merchant-presented QR (EMV QRCPS-MPM v1.1): the terminal shows the host's order payload and
// polls until a wallet paid it.

use smartpos_sim::hostsim::{Fault, HostSimConfig};
use smartpos_terminal::sim_devices::SimQrDisplay;

fn mpm_sale(amount: u64) -> SaleRequest {
    let mut r = SaleRequest::card(amount, "c1");
    r.method = PaymentMethod::MerchantQr;
    r
}

/// HostSim whose orders become paid at the `polls`-th status query.
fn sim_paying_after(polls: u32) -> HostSimConfig {
    let mut cfg = HostSimConfig::default_config();
    cfg.qr_polls_until_paid = polls;
    cfg
}

/// A rig (PIN 1234) whose host simulator reports a QR order paid after `polls_until_paid`
/// status queries, polling every `poll_interval_ms`, at most `max_polls` times when given.
fn qr_rig(tag: &str, polls_until_paid: u32, poll_interval_ms: u64, max_polls: Option<u32>) -> Rig {
    Rig::with(
        tag,
        sim_paying_after(polls_until_paid),
        |s| {
            s.qr_poll_interval_ms = poll_interval_ms;
            if let Some(n) = max_polls {
                s.qr_max_polls = n;
            }
        },
        Some("1234"),
    )
}

/// Waits (bounded) until the terminal put a payload on the display and returns it.
fn wait_shown(display: &SimQrDisplay) -> String {
    for _ in 0..20_000 {
        let shown = display
            .0
            .lock()
            .expect("display")
            .iter()
            .flatten()
            .next()
            .cloned();
        if let Some(p) = shown {
            return p;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    panic!("no merchant QR was shown");
}

fn shown_log(rig: &Rig) -> Vec<Option<String>> {
    rig.h.display.0.lock().expect("display").clone()
}

fn saw(rig: &Rig, id: MessageId) -> bool {
    rig.h
        .events
        .events()
        .iter()
        .any(|e| matches!(e, Event::Prompt { id: got, .. } if *got == id))
}

#[test]
fn merchant_qr_sale_is_paid_after_polling_and_settled() {
    let mut rig = qr_rig("mpm-paid", 2, 1, None);
    let out = rig
        .term
        .sale(&mpm_sale(2_450), &CancelToken::new())
        .expect("merchant qr sale");
    assert_eq!(out.status, Status::Approved, "{out:?}");
    assert_eq!(out.kind, "qr_sale");
    assert!(out.pan_masked.is_none());
    // Shown once, then cleared.
    let log = shown_log(&rig);
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log.last(), Some(&None));
    let payload = log.first().cloned().flatten().expect("payload shown");
    // The displayed payload is an EMVCo MPM with the sale amount, the currency and a valid CRC.
    let parsed = match smartpos_qr::parse(&payload).expect("scannable") {
        smartpos_qr::ScannedCode::Mpm(m) => m,
        other => panic!("not an MPM: {other:?}"),
    };
    assert_eq!(parsed.qr.transaction_amount.as_deref(), Some("24.50"));
    assert_eq!(parsed.qr.transaction_currency, "156");
    let crc_text = payload.get(payload.len() - 4..).expect("crc");
    assert_eq!(
        u16::from_str_radix(crc_text, 16).expect("hex"),
        smartpos_qr::crc::crc16_ccitt_false(
            payload.get(..payload.len() - 4).expect("body").as_bytes()
        )
    );
    let events = rig.h.events.events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::MerchantQr { payload: p } if *p == payload))
    );
    assert!(saw(&rig, MessageId::ShowMerchantQr));
    assert!(saw(&rig, MessageId::Approved));
    // Journal: completed QR sale, paid, the order RRN as its RRN, reference = TID + invoice.
    let rec = rig.with_journal(|j| j.get(TxnId(out.txn_id)).expect("rec"));
    assert_eq!(rec.state, TxnState::Completed);
    assert_eq!(rec.qr_state, Some(QrState::Paid));
    assert_eq!(
        rec.wallet_order_no.as_deref(),
        Some(format!("{}{:06}", rig.term.settings().terminal_id, rec.invoice).as_str())
    );
    let rrn = rec.rrn.clone().expect("rrn");
    // Host ledger: the order approved under that RRN, at the sale's STAN.
    let l = rig.sim.ledger();
    let e = l
        .by_stan(&rig.term.settings().terminal_id, rec.stan)
        .expect("ledger entry");
    assert!(e.approved && e.amount == 2_450 && e.rrn == rrn, "{e:?}");
    // Settlement totals count it, and the host agrees at once.
    let s = rig.term.settle().expect("settle");
    assert_eq!((s.sales_count, s.sales_amount), (1, 2_450));
    assert!(s.balanced_first_time, "{s:?}");
}

#[test]
fn merchant_qr_is_paid_by_a_wallet_scanning_the_shown_code() {
    let mut rig = qr_rig("mpm-wallet", 100_000, 2, Some(100_000));
    let display = rig.h.display.clone();
    let sim = &rig.sim;
    let term = &mut rig.term;
    let (out, paid_rrn) = std::thread::scope(|scope| {
        let wallet = scope.spawn(|| {
            let payload = wait_shown(&display);
            sim.wallet_pay(&payload).expect("wallet pays")
        });
        let out = term.sale(&mpm_sale(990), &CancelToken::new());
        (out, wallet.join().expect("wallet thread"))
    });
    let out = out.expect("sale");
    assert_eq!(out.status, Status::Approved, "{out:?}");
    let rec = rig.with_journal(|j| j.get(TxnId(out.txn_id)).expect("rec"));
    assert_eq!(rec.state, TxnState::Completed);
    assert_eq!(rec.rrn.as_deref(), Some(paid_rrn.as_str()));
}

#[test]
fn merchant_qr_never_paid_is_revoked_at_the_poll_limit() {
    let mut rig = qr_rig("mpm-unpaid", 100_000, 1, Some(3));
    let out = rig
        .term
        .sale(&mpm_sale(1_200), &CancelToken::new())
        .expect("sale");
    assert_eq!(out.status, Status::Revoked, "{out:?}");
    let rec = rig.with_journal(|j| j.get(TxnId(out.txn_id)).expect("rec"));
    assert_eq!(rec.state, TxnState::Declined);
    assert_eq!(rec.qr_state, Some(QrState::Revoked));
    assert_eq!(rec.error_reason.as_deref(), Some("not paid in time"));
    assert_eq!(shown_log(&rig).last(), Some(&None), "display cleared");
    let l = rig.sim.ledger();
    let e = l
        .by_stan(&rig.term.settings().terminal_id, rec.stan)
        .expect("entry");
    assert!(!e.counts(), "{e:?}");
    // Three queries and one revoke after the order, each with its own STAN.
    let follow_ups = l.requests;
    assert!(follow_ups >= 5, "order + 3 queries + revoke: {follow_ups}");
    // The next sale gets a STAN no follow-up used: the host does not answer it from its cache.
    let again = rig
        .term
        .sale(&mpm_sale(1_300), &CancelToken::new())
        .expect("second sale");
    assert_eq!(again.status, Status::Revoked);
    assert!(
        rig.sim.ledger().entries.iter().any(|e| e.amount == 1_300),
        "the second order reached the host"
    );
}

#[test]
fn merchant_qr_cancelled_mid_poll_is_revoked() {
    let mut rig = qr_rig("mpm-cancel", 100_000, 2, Some(100_000));
    let display = rig.h.display.clone();
    let cancel = CancelToken::new();
    let term = &mut rig.term;
    let out = std::thread::scope(|scope| {
        let c = cancel.clone();
        scope.spawn(move || {
            wait_shown(&display);
            c.cancel();
        });
        term.sale(&mpm_sale(1_500), &cancel)
    });
    let out = out.expect("sale");
    assert_eq!(out.status, Status::Revoked, "{out:?}");
    let rec = rig.with_journal(|j| j.get(TxnId(out.txn_id)).expect("rec"));
    assert_eq!(rec.qr_state, Some(QrState::Revoked));
    assert_eq!(rec.error_reason.as_deref(), Some("cancelled"));
    assert!(saw(&rig, MessageId::Cancelled));
    assert_eq!(shown_log(&rig).last(), Some(&None), "display cleared");
    assert!(
        !rig.sim
            .ledger()
            .by_stan(&rig.term.settings().terminal_id, rec.stan)
            .expect("entry")
            .counts()
    );
}

#[test]
fn host_lost_after_the_order_was_shown_leaves_it_for_the_query_at_next_open() {
    let mut rig = qr_rig("mpm-hostdown", 100_000, 1, Some(2));
    rig.term.sign_on().expect("sign-on");
    // The order is answered (a zero delay passes its answer through); from then on every
    // answer is lost (the host processes the requests but the line drops): two queries and
    // the revoke go unanswered.
    rig.sim.inject(Fault::Delay(std::time::Duration::ZERO), 1);
    rig.sim.inject(Fault::Drop, 1_000);
    let out = rig.term.sale(&mpm_sale(1_700), &CancelToken::new());
    let e = out.expect_err("outcome unknown");
    assert!(matches!(e, TerminalError::Host(_)), "{e}");
    assert_eq!(shown_log(&rig).last(), Some(&None), "display cleared");
    let id = rig.with_journal(|j| {
        let page = j.list(&Default::default(), None, 10).expect("list");
        let rec = page.items.first().expect("the QR sale").clone();
        assert_eq!(rec.state, TxnState::OnlinePending);
        assert_eq!(rec.qr_state, Some(QrState::Polling));
        rec.id
    });
    rig.sim.clear_faults();
    // Next open: the journal flags the order; the terminal asks the host by its STAN.
    rig.restart(Some("1234"));
    let flagged = rig.with_journal(|j| j.pending_qr_queries().expect("flagged"));
    assert_eq!(flagged.len(), 1);
    assert_eq!(flagged.first().map(|r| r.id), Some(id));
    let done = rig.term.resolve_qr_orders().expect("resolved");
    assert_eq!(done.len(), 1);
    let outcome = done.first().expect("outcome");
    assert_eq!(outcome.txn_id, id.0);
    // The lost revoke had reached the host: the order is closed there and in the journal.
    assert_eq!(outcome.status, Status::Revoked);
    let rec = rig.with_journal(|j| j.get(id).expect("rec"));
    assert_eq!(rec.state, TxnState::Declined);
    assert_eq!(rec.qr_state, Some(QrState::Revoked));
    assert!(!rec.qr_query_needed);
    assert!(
        rig.with_journal(|j| j.pending_qr_queries().expect("none"))
            .is_empty()
    );
    assert!(
        rig.term
            .resolve_qr_orders()
            .expect("nothing left")
            .is_empty()
    );
}

#[test]
fn an_order_answer_lost_is_closed_by_its_stan_or_queried_at_next_open() {
    // Only the order's answer is lost: the terminal finds the order by its STAN and revokes it.
    let mut rig = qr_rig("mpm-lost-answer", 100_000, 1, None);
    rig.term.sign_on().expect("sign-on");
    rig.sim.inject(Fault::Drop, 1);
    let e = rig
        .term
        .sale(&mpm_sale(800), &CancelToken::new())
        .expect_err("no answer");
    assert!(matches!(e, TerminalError::Host(_)), "{e}");
    assert!(shown_log(&rig).is_empty(), "nothing shown");
    let rec = rig.with_journal(|j| {
        j.list(&Default::default(), None, 1)
            .expect("list")
            .items
            .first()
            .cloned()
            .expect("rec")
    });
    assert_eq!(rec.state, TxnState::Declined);
    assert_eq!(rec.qr_state, Some(QrState::Closed));
    let l = rig.sim.ledger();
    assert!(
        !l.by_stan(&rig.term.settings().terminal_id, rec.stan)
            .expect("order at the host")
            .counts()
    );

    // The order's answer and the search for it both lost: left for the next open, which
    // revokes the order still pending at the host.
    rig.sim.inject(Fault::Drop, 2);
    let e = rig
        .term
        .sale(&mpm_sale(810), &CancelToken::new())
        .expect_err("no answer");
    assert!(matches!(e, TerminalError::Host(_)), "{e}");
    let id = rig.with_journal(|j| {
        let rec = j
            .list(&Default::default(), None, 1)
            .expect("list")
            .items
            .first()
            .cloned()
            .expect("rec");
        assert_eq!(rec.state, TxnState::OnlinePending);
        assert_eq!(rec.qr_state, Some(QrState::Pay));
        rec.id
    });
    // The next QR sale after the restart finishes it first.
    rig.restart(Some("1234"));
    assert_eq!(
        rig.with_journal(|j| j.pending_qr_queries().expect("flagged"))
            .len(),
        1
    );
    let next = rig
        .term
        .sale(&mpm_sale(820), &CancelToken::new())
        .expect("next sale");
    // (Nobody pays this one: revoked after the default 10 polls.)
    assert_eq!(next.status, Status::Revoked);
    assert_ne!(next.txn_id, id.0);
    assert!(
        rig.with_journal(|j| j.pending_qr_queries().expect("none"))
            .is_empty()
    );
    let rec = rig.with_journal(|j| j.get(id).expect("rec"));
    assert_eq!(rec.qr_state, Some(QrState::Revoked));
    assert_eq!(
        rec.error_reason.as_deref(),
        Some("still unpaid after a restart: revoked")
    );
}

#[test]
fn a_refused_order_is_declined_and_nothing_is_shown() {
    // The simulator's default rules decline amounts ending in 51 with 51.
    let mut rig = Rig::new("mpm-declined");
    let out = rig
        .term
        .sale(&mpm_sale(2_051), &CancelToken::new())
        .expect("declined outcome");
    assert_eq!(out.status, Status::Declined, "{out:?}");
    let rec = rig.with_journal(|j| j.get(TxnId(out.txn_id)).expect("rec"));
    assert_eq!(rec.state, TxnState::Declined);
    assert_eq!(rec.qr_state, Some(QrState::Closed));
    assert!(shown_log(&rig).is_empty());
    assert!(saw(&rig, MessageId::Declined));
}

#[test]
fn a_wallet_payment_whose_answer_was_lost_is_found_paid_by_its_stan() {
    // The host pays wallet codes at once; the answer to the pay request is lost on the line.
    let mut rig = qr_rig("qr-lost-paid", 0, 1, None);
    rig.term.sign_on().expect("sign-on");
    rig.h
        .scanner
        .0
        .lock()
        .expect("lock")
        .push_back(WECHAT_CODE.into());
    rig.sim.inject(Fault::Drop, 1);
    let out = rig
        .term
        .sale(&qr_sale(2_600), &CancelToken::new())
        .expect("the paid order is found");
    assert_eq!(out.status, Status::Approved, "{out:?}");
    let rec = rig.with_journal(|j| j.get(TxnId(out.txn_id)).expect("rec"));
    assert_eq!(rec.state, TxnState::Completed);
    assert_eq!(rec.qr_state, Some(QrState::Paid));
    let l = rig.sim.ledger();
    let e = l
        .by_stan(&rig.term.settings().terminal_id, rec.stan)
        .expect("the pay request");
    assert!(e.approved, "{e:?}");
    assert_eq!(rec.rrn.as_deref(), Some(e.rrn.as_str()));
}

#[test]
fn a_merchant_order_whose_answer_was_lost_and_was_paid_is_kept_paid() {
    // Only the order's answer is lost; by the time the terminal asks (by STAN), a wallet has
    // paid it (the simulator pays at the first query): the sale is approved, not closed.
    let mut rig = qr_rig("mpm-lost-paid", 0, 1, None);
    rig.term.sign_on().expect("sign-on");
    rig.sim.inject(Fault::Drop, 1);
    let out = rig
        .term
        .sale(&mpm_sale(2_700), &CancelToken::new())
        .expect("paid");
    assert_eq!(out.status, Status::Approved, "{out:?}");
    assert!(shown_log(&rig).is_empty(), "nothing was shown");
    let rec = rig.with_journal(|j| j.get(TxnId(out.txn_id)).expect("rec"));
    assert_eq!(rec.state, TxnState::Completed);
    assert!(
        rig.sim
            .ledger()
            .by_stan(&rig.term.settings().terminal_id, rec.stan)
            .expect("order")
            .counts()
    );
}

#[test]
fn a_cancel_while_the_order_is_on_its_way_ends_the_wait_and_closes_the_order() {
    let mut rig = Rig::with(
        "mpm-cancel-create",
        sim_paying_after(100_000),
        |s| {
            s.qr_poll_interval_ms = 1;
            // Longer than the test would ever wait: only the cancel can end the wait.
            s.host.response_timeout_ms = 60_000;
        },
        Some("1234"),
    );
    rig.term.sign_on().expect("sign-on");
    // The host books the order at once but holds its answer back for a minute.
    rig.sim
        .inject(Fault::Delay(std::time::Duration::from_secs(60)), 1);
    let sim = &rig.sim;
    let term = &mut rig.term;
    let cancel = CancelToken::new();
    let out = std::thread::scope(|scope| {
        let c = cancel.clone();
        scope.spawn(move || {
            for _ in 0..20_000 {
                if sim.ledger().entries.iter().any(|e| e.amount == 3_100) {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            c.cancel();
        });
        term.sale(&mpm_sale(3_100), &cancel)
    });
    let e = out.expect_err("cancelled");
    assert!(matches!(e, TerminalError::Cancelled { .. }), "{e}");
    assert!(shown_log(&rig).is_empty(), "nothing shown");
    let rec = rig.with_journal(|j| {
        j.list(&Default::default(), None, 1)
            .expect("list")
            .items
            .first()
            .cloned()
            .expect("rec")
    });
    assert_eq!(rec.state, TxnState::Declined);
    assert_eq!(rec.qr_state, Some(QrState::Closed));
    // Found by its STAN and revoked at the host.
    let l = rig.sim.ledger();
    let order = l
        .by_stan(&rig.term.settings().terminal_id, rec.stan)
        .expect("order at the host");
    assert!(!order.counts());
}

// ---------------------------------------------------------------------------------------------
// Crash recovery of merchant QR orders: a child process (this test binary re-executed) runs a
// merchant QR sale against HostSim and is killed with SIGKILL at a crash point; the terminal
// reopened on the same journal finds the order flagged and asks the host by its STAN.

const QR_CHILD: &str = "SMARTPOS_QR_CRASH_CHILD";

/// The child: does nothing unless started by `crash_merchant_qr_sale`.
#[test]
fn qr_crash_child() {
    let Ok(journal) = std::env::var(QR_CHILD) else {
        return;
    };
    let addr = std::env::var("SMARTPOS_SIM_ADDR").expect("sim address");
    let dir = std::path::Path::new(&journal)
        .parent()
        .expect("dir")
        .to_path_buf();
    let mut s = smartpos_terminal::Settings::default();
    s.host.address = addr;
    s.host.response_timeout_ms = 3_000;
    s.risk.duplicate_window_secs = 0;
    let clock = smartpos_journal::ManualClock::new(smartpos_journal::Timestamp(START_MS));
    let (mut term, _h) = open_terminal(
        &dir,
        std::path::Path::new(&journal),
        &key_store(),
        &clock,
        s,
        Some("1234"),
        None,
    );
    let out = term.sale(&mpm_sale(4_400), &CancelToken::new());
    println!("DONE {:?}", out.map(|o| o.status));
}

/// Run the child until it stops at `step`, SIGKILL it, reopen the terminal on its journal.
fn crash_merchant_qr_sale(tag: &str, sim: HostSimConfig, step: &str) -> Rig {
    use std::io::BufRead;
    let mut rig = Rig::with(tag, sim, |_| {}, Some("1234"));
    rig.restart_on_spare();
    let exe = std::env::current_exe().expect("test binary");
    let mut child = std::process::Command::new(exe)
        .args([
            "--exact",
            "qr_crash_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(QR_CHILD, &rig.journal_path)
        .env("SMARTPOS_DIE_AT", step)
        .env("SMARTPOS_SIM_ADDR", rig.sim.addr().to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("stdout");
    let mut seen = String::new();
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.expect("line");
        if let Some(i) = line.find("AT ").or_else(|| line.find("DONE ")) {
            seen = line.get(i..).unwrap_or_default().to_string();
            break;
        }
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert_eq!(seen, format!("AT {step}"), "the child reached the step");
    rig.restart(Some("1234"));
    assert_eq!(rig.term.open_summary().violations, 0);
    rig
}

fn only_record(rig: &Rig) -> smartpos_journal::TransactionRecord {
    rig.with_journal(|j| {
        let v = j.list(&Default::default(), None, 10).expect("list").items;
        assert_eq!(v.len(), 1, "{v:?}");
        v.first().cloned().expect("record")
    })
}

#[test]
fn crash_before_the_order_was_sent_closes_it_at_the_next_open() {
    let mut rig =
        crash_merchant_qr_sale("mpm-crash-placed", sim_paying_after(1), "qr_order_placed");
    let rec = only_record(&rig);
    assert_eq!(rec.state, TxnState::OnlinePending);
    assert!(rec.qr_query_needed, "flagged for a status query");
    let done = rig.term.resolve_qr_orders().expect("resolved");
    assert_eq!(
        done.iter().map(|o| o.status).collect::<Vec<_>>(),
        vec![Status::Declined]
    );
    let rec = only_record(&rig);
    assert_eq!(rec.state, TxnState::Declined);
    assert_eq!(rec.qr_state, Some(QrState::Closed));
    assert_eq!(
        rec.error_reason.as_deref(),
        Some("unknown at the host after restart")
    );
    assert!(
        rig.sim
            .ledger()
            .by_stan(&rig.term.settings().terminal_id, rec.stan)
            .is_none(),
        "the order never reached the host"
    );
}

#[test]
fn crash_while_the_code_was_shown_finds_the_order_paid_at_the_next_open() {
    // The host pays the order at its first status query: the customer paid while the
    // terminal was down.
    let mut rig = crash_merchant_qr_sale("mpm-crash-shown", sim_paying_after(1), "qr_order_shown");
    let rec = only_record(&rig);
    assert_eq!(rec.state, TxnState::OnlinePending);
    assert_eq!(rec.qr_state, Some(QrState::Polling));
    assert!(rec.qr_query_needed);
    let done = rig.term.resolve_qr_orders().expect("resolved");
    assert_eq!(
        done.iter().map(|o| o.status).collect::<Vec<_>>(),
        vec![Status::Approved]
    );
    let rec = only_record(&rig);
    assert_eq!(rec.state, TxnState::Completed);
    assert_eq!(rec.qr_state, Some(QrState::Paid));
    let l = rig.sim.ledger();
    let order = l
        .by_stan(&rig.term.settings().terminal_id, rec.stan)
        .expect("order at the host");
    assert!(order.approved && order.counts());
    assert_eq!(rec.rrn.as_deref(), Some(order.rrn.as_str()));
    let s = rig.term.settle().expect("settle");
    assert_eq!((s.sales_count, s.sales_amount), (1, 4_400));
    assert!(s.balanced_first_time, "{s:?}");
}

#[test]
fn merchant_and_wallet_qr_sales_settle_together_and_a_revoked_one_is_left_out() {
    let mut rig = qr_rig("mpm-settle-mix", 1, 1, Some(3));
    let a = rig
        .term
        .sale(&mpm_sale(1_111), &CancelToken::new())
        .expect("mpm");
    assert_eq!(a.status, Status::Approved);
    rig.h
        .scanner
        .0
        .lock()
        .expect("lock")
        .push_back(WECHAT_CODE.into());
    let b = rig
        .term
        .sale(&qr_sale(2_222), &CancelToken::new())
        .expect("wallet");
    assert_eq!(b.status, Status::Approved);
    // A third one, cancelled while the terminal waits a minute before its first poll:
    // revoked, not counted.
    rig.restart_with(Some("1234"), |s| s.qr_poll_interval_ms = 60_000);
    let cancel = CancelToken::new();
    let display = rig.h.display.clone();
    let term = &mut rig.term;
    let c = std::thread::scope(|scope| {
        let token = cancel.clone();
        scope.spawn(move || {
            wait_shown(&display);
            token.cancel();
        });
        term.sale(&mpm_sale(3_333), &cancel)
    })
    .expect("cancelled sale");
    assert_eq!(c.status, Status::Revoked);
    let expected = (2, 1_111 + 2_222);
    let s = rig.term.settle().expect("settle");
    assert_eq!((s.sales_count, s.sales_amount), expected);
    assert!(s.balanced_first_time, "host and terminal agree: {s:?}");
}

#[test]
fn a_revoke_the_host_refuses_leaves_the_order_for_the_next_open() {
    let mut rig = qr_rig("mpm-revoke-refused", 100_000, 1, Some(1));
    rig.term.sign_on().expect("sign-on");
    // Order and the one query answered; the revoke's answer carries a wrong MAC (not believed).
    rig.sim.inject(Fault::Delay(std::time::Duration::ZERO), 2);
    rig.sim.inject(Fault::WrongMac, 1);
    let e = rig
        .term
        .sale(&mpm_sale(1_900), &CancelToken::new())
        .expect_err("revoke not believed");
    assert!(matches!(e, TerminalError::Host(_)), "{e}");
    let rec = only_record(&rig);
    assert_eq!(rec.state, TxnState::OnlinePending);
    assert_eq!(rec.qr_state, Some(QrState::Polling));
    rig.restart(Some("1234"));
    let done = rig.term.resolve_qr_orders().expect("resolved");
    // The revoke had reached the host: closed there, revoked in the journal.
    assert_eq!(
        done.iter().map(|o| o.status).collect::<Vec<_>>(),
        vec![Status::Revoked]
    );
    assert_eq!(only_record(&rig).qr_state, Some(QrState::Revoked));
}
