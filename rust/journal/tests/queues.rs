//! Reversal and advice queues: durable across restarts, attempts recorded, never completed twice.

mod common;

use common::*;
use smartpos_journal::*;

fn online_sale(j: &mut Journal, amount: i64) -> TransactionRecord {
    let t = j.begin(new_sale(amount)).unwrap();
    j.card_read(t.id, &card(&pan(PAN))).unwrap();
    j.online_pending(t.id, &OnlineRequest::mti("0200")).unwrap()
}

#[test]
fn reversal_queue_survives_restart_and_completes_once() {
    let f = Fixture::new();
    let (mut j, _) = f.open();
    let a = online_sale(&mut j, 100);
    let b = online_sale(&mut j, 200);
    j.approve(b.id, &approval("600000000100")).unwrap();
    j.require_reversal(a.id, "no response within 60 s").unwrap();
    j.require_reversal(b.id, "card declined at second GENERATE AC")
        .unwrap();
    drop(j);

    f.clock.advance_millis(5_000);
    let (mut j, r) = f.open();
    assert_eq!(r.pending_reversals, 2);
    let q = j.pending_reversals().unwrap();
    assert_eq!(
        q.iter()
            .map(|e| (e.txn_id, e.amount, e.attempts))
            .collect::<Vec<_>>(),
        vec![(a.id, 100, 0), (b.id, 200, 0)]
    );
    let e = j.mark_reversal_attempt(a.id, "connect timeout").unwrap();
    assert_eq!(
        (e.attempts, e.last_attempt_at, e.last_error.as_deref()),
        (1, Some(f.clock.now()), Some("connect timeout"))
    );
    f.clock.advance_millis(30_000);
    j.mark_reversal_attempt(a.id, "host busy").unwrap();
    drop(j);

    let (mut j, _) = f.open();
    let q = j.pending_reversals().unwrap();
    assert_eq!(
        (
            q[0].attempts,
            q[0].last_error.as_deref(),
            q[0].last_attempt_at
        ),
        (2, Some("host busy"), Some(f.clock.now()))
    );
    let rec = j.mark_reversed(a.id).unwrap();
    assert_eq!(rec.state, TxnState::Reversed);
    // never reversed twice
    let before = snapshot(&j, a.id);
    assert!(matches!(
        j.mark_reversed(a.id),
        Err(JournalError::IllegalTransition {
            from: TxnState::Reversed,
            to: TxnState::Reversed,
            ..
        })
    ));
    assert!(matches!(
        j.mark_reversal_attempt(a.id, "x"),
        Err(JournalError::QueueEntryDone { .. })
    ));
    assert!(matches!(
        j.require_reversal(a.id, "again"),
        Err(JournalError::IllegalTransition { .. })
    ));
    assert_eq!(snapshot(&j, a.id), before);
    drop(j);

    let (mut j, r) = f.open();
    assert_eq!(r.pending_reversals, 1);
    assert_eq!(j.pending_reversals().unwrap()[0].txn_id, b.id);
    // a transaction that was never queued
    let c = online_sale(&mut j, 300);
    assert!(matches!(
        j.mark_reversal_attempt(c.id, "x"),
        Err(JournalError::NotQueued { .. })
    ));
    assert!(matches!(
        j.mark_reversed(c.id),
        Err(JournalError::IllegalTransition { .. })
    ));
    // the database refuses re-opening a done entry even without the API
    drop(j);
    let conn = rusqlite::Connection::open(f.path()).unwrap();
    let err = conn
        .execute("UPDATE queue SET done = 0 WHERE txn_id = ?1", [a.id.0])
        .unwrap_err();
    assert!(err.to_string().contains("already done"));
    let err = conn
        .execute(
            "INSERT INTO queue(txn_id, kind, created_at) VALUES (?1, 'reversal', 0)",
            [a.id.0],
        )
        .unwrap_err();
    assert!(err.to_string().contains("UNIQUE"), "{err}");
}

#[test]
fn advice_queue_for_offline_approvals() {
    let f = Fixture::new();
    let (mut j, _) = f.open();
    let t = j.begin(new_sale(150)).unwrap();
    j.card_read(t.id, &card(&pan(PAN))).unwrap();
    let rec = j.offline_approve(t.id, &offline()).unwrap();
    assert_eq!(
        (rec.state, rec.response_code.as_deref()),
        (TxnState::OfflineApproved, Some("Y1"))
    );
    j.complete(t.id, &Completion::default()).unwrap();
    drop(j);

    let (mut j, r) = f.open();
    assert_eq!(r.pending_advices, 1);
    j.mark_advice_attempt(t.id, "no line").unwrap();
    drop(j);
    let (mut j, _) = f.open();
    let q = j.pending_advices().unwrap();
    assert_eq!(
        (q[0].txn_id, q[0].attempts, q[0].kind),
        (t.id, 1, QueueKind::Advice)
    );
    let rec = j.mark_advice_sent(t.id).unwrap();
    assert_eq!(
        rec.state,
        TxnState::Completed,
        "advice does not change the payment state"
    );
    assert!(matches!(
        j.mark_advice_sent(t.id),
        Err(JournalError::QueueEntryDone { .. })
    ));
    drop(j);
    let (j, r) = f.open();
    assert_eq!(r.pending_advices, 0);
    assert!(j.pending_advices().unwrap().is_empty());
    assert_eq!(
        j.audit_of(t.id)
            .unwrap()
            .iter()
            .filter(|a| a.action == "advice.sent")
            .count(),
        1
    );
}

#[test]
fn batch_close_waits_for_queues_then_rolls_batch_number() {
    let f = Fixture::new();
    let (mut j, _) = f.open();
    let s = completed_sale(&mut j, &pan(PAN), 1000, "600000000200");
    let a = online_sale(&mut j, 100);
    j.require_reversal(a.id, "timeout").unwrap();
    let err = j.close_batch("op1").unwrap_err();
    assert!(
        matches!(err, JournalError::BatchNotClosable { batch_no: 1, .. }),
        "{err}"
    );
    j.mark_reversed(a.id).unwrap();
    let closed = j.close_batch("op1").unwrap();
    assert_eq!(closed.totals.batch.batch_no, 1);
    assert!(closed.totals.batch.closed_at.is_some());
    assert_eq!(
        (
            closed.totals.total.sales_count,
            closed.totals.total.sales_amount
        ),
        (1, 1000)
    );
    assert_eq!(closed.opened.batch_no, 2);
    let next = j.begin(new_sale(5)).unwrap();
    assert_eq!(next.batch_no, 2);
    // void of a sale in a closed batch is refused
    assert!(matches!(
        j.begin_void(s.id, "op1"),
        Err(JournalError::VoidRefused { .. })
    ));
    let settled = j.mark_batch_settled(closed.totals.batch.id, "op1").unwrap();
    assert!(settled.settled);
    assert!(matches!(
        j.mark_batch_settled(closed.opened.id, "op1"),
        Err(JournalError::BatchNotClosable { .. })
    ));
    drop(j);
    let (j, r) = f.open();
    assert_eq!(r.current_batch.batch_no, 2);
    assert!(j.batch(closed.totals.batch.id).unwrap().settled);
}
