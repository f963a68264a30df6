//! A refund with no answer (0220 in this dialect, never reversed): queued as an advice while it
//! stays online_pending, repeated until the host answers; crash recovery queues it the same
//! way instead of reversing it; the answer completes or declines it, once.

mod common;

use common::*;
use smartpos_journal::*;

fn online_refund(j: &mut Journal, amount: i64) -> (TransactionRecord, TransactionRecord) {
    let p = pan(PAN);
    let sale = completed_sale(j, &p, 5_000, "600000000501");
    let r = j
        .begin_refund(RefundRequest {
            original: OriginalRef::Local(sale.id),
            amount,
            currency: "156".into(),
            operator_id: "sup".into(),
            merchant_order_ref: None,
        })
        .unwrap();
    j.card_read(r.id, &CardData::new(&p, EntryMode::Manual))
        .unwrap();
    let r = j.online_pending(r.id, &OnlineRequest::mti("0220")).unwrap();
    (sale, r)
}

#[test]
fn unanswered_refund_is_an_advice_that_blocks_over_refund_until_answered() {
    let f = Fixture::new();
    let (mut j, _) = f.open();
    let (sale, r) = online_refund(&mut j, 5_000);
    let rec = j
        .refund_unanswered(r.id, "timed out waiting for the host")
        .unwrap();
    assert_eq!(rec.state, TxnState::OnlinePending);
    let q = j.pending_advices().unwrap();
    assert_eq!((q.len(), q[0].txn_id), (1, r.id));
    assert!(j.pending_reversals().unwrap().is_empty());
    // Still counts: no second refund of the same amount.
    let over = j.begin_refund(RefundRequest {
        original: OriginalRef::Local(sale.id),
        amount: 1,
        currency: "156".into(),
        operator_id: "sup".into(),
        merchant_order_ref: None,
    });
    assert!(
        matches!(over, Err(JournalError::AmountExceedsOriginal { .. })),
        "{over:?}"
    );
    // The batch cannot close while it is unanswered.
    assert!(matches!(
        j.close_batch("sup"),
        Err(JournalError::BatchNotClosable { .. })
    ));
    let done = j
        .refund_answered(r.id, true, &approval("600000000777"))
        .unwrap();
    assert_eq!(done.state, TxnState::Completed);
    assert_eq!(done.rrn.as_deref(), Some("600000000777"));
    assert!(j.pending_advices().unwrap().is_empty());
    // Answered once only.
    assert!(matches!(
        j.refund_answered(r.id, true, &approval("600000000777")),
        Err(JournalError::QueueEntryDone { .. })
    ));
    assert!(j.check_invariants().unwrap().is_empty());
}

#[test]
fn a_declined_repeat_ends_the_refund_declined() {
    let f = Fixture::new();
    let (mut j, _) = f.open();
    let (_, r) = online_refund(&mut j, 1_000);
    j.refund_unanswered(r.id, "bad MAC").unwrap();
    let declined = HostResponse {
        response_code: "25".into(),
        rrn: Some("600000000778".into()),
        auth_code: None,
        host_time: None,
    };
    let rec = j.refund_answered(r.id, false, &declined).unwrap();
    assert_eq!(rec.state, TxnState::Declined);
    assert_eq!(rec.response_code.as_deref(), Some("25"));
    assert!(j.pending_advices().unwrap().is_empty());
}

#[test]
fn only_an_online_refund_can_be_left_unanswered() {
    let f = Fixture::new();
    let (mut j, _) = f.open();
    let s = completed_sale(&mut j, &pan(PAN), 1_000, "600000000502");
    assert!(matches!(
        j.refund_unanswered(s.id, "x"),
        Err(JournalError::WrongKind { .. })
    ));
    let t = j.begin(new_sale(100)).unwrap();
    j.card_read(t.id, &card(&pan(PAN))).unwrap();
    j.online_pending(t.id, &OnlineRequest::mti("0200")).unwrap();
    assert!(
        j.refund_answered(t.id, true, &approval("600000000503"))
            .is_err()
    );
}

#[test]
fn crash_while_a_refund_is_online_queues_its_advice_not_a_reversal() {
    let f = Fixture::new();
    let id = {
        let (mut j, _) = f.open();
        let (_, r) = online_refund(&mut j, 2_000);
        r.id
    };
    let (j, report) = f.open();
    assert!(report.recovered_reversals.is_empty(), "{report:?}");
    assert_eq!(report.recovered_refund_advices, vec![id]);
    assert_eq!(report.pending_advices, 1);
    assert_eq!(j.get(id).unwrap().state, TxnState::OnlinePending);
    drop(j);
    // A second open does not queue it again.
    let (mut j, report) = f.open();
    assert!(report.recovered_refund_advices.is_empty());
    assert_eq!(j.pending_advices().unwrap().len(), 1);
    j.refund_answered(id, true, &approval("600000000504"))
        .unwrap();
    assert!(j.check_invariants().unwrap().is_empty());
}
