//! Table-driven tests of the state machine: for every kind and every reachable state, every
//! transition call is tried; legal ones must succeed and land in the expected state, illegal ones
//! must fail with a typed error and leave record, audit log and queues unchanged.

mod common;

use TxnState::*;
use common::*;
use smartpos_journal::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    CardRead,
    OnlinePending,
    Approve,
    Decline,
    OfflineApprove,
    Complete,
    RequireReversal,
    MarkReversed,
    Abort,
    QrPlaced,
    QrPolling,
    QrPaid,
    QrCancelled,
}

const OPS: &[Op] = &[
    Op::CardRead,
    Op::OnlinePending,
    Op::Approve,
    Op::Decline,
    Op::OfflineApprove,
    Op::Complete,
    Op::RequireReversal,
    Op::MarkReversed,
    Op::Abort,
    Op::QrPlaced,
    Op::QrPolling,
    Op::QrPaid,
    Op::QrCancelled,
];

fn target(op: Op) -> TxnState {
    match op {
        Op::CardRead => CardRead,
        Op::OnlinePending | Op::QrPlaced | Op::QrPolling => OnlinePending,
        Op::Approve | Op::QrPaid => Approved,
        Op::Decline | Op::QrCancelled => Declined,
        Op::OfflineApprove => OfflineApproved,
        Op::Complete => Completed,
        Op::RequireReversal => ReversalPending,
        Op::MarkReversed => Reversed,
        Op::Abort => Aborted,
    }
}

fn run(j: &mut Journal, id: TxnId, op: Op) -> Result<TransactionRecord> {
    let p = pan(PAN);
    match op {
        Op::CardRead => j.card_read(id, &card(&p)),
        Op::OnlinePending => j.online_pending(id, &OnlineRequest::mti("0200")),
        Op::Approve => j.approve(id, &approval("600000000001")),
        Op::Decline => j.decline(id, &decline()),
        Op::OfflineApprove => j.offline_approve(id, &offline()),
        Op::Complete => j.complete(id, &Completion::default()),
        Op::RequireReversal => j.require_reversal(id, "no response"),
        Op::MarkReversed => j.mark_reversed(id),
        Op::Abort => j.abort(id, "card removed"),
        Op::QrPlaced => j.qr_order_placed(id, "WX20261121000001"),
        Op::QrPolling => j.qr_polling(id),
        Op::QrPaid => j.qr_paid(
            id,
            &QrPaid {
                wallet_txn_id: "4200001234202611210001".into(),
                scheme: Some("wechat".into()),
                host_time: None,
            },
        ),
        Op::QrCancelled => j.qr_cancelled(id, QrState::Closed, "customer left"),
    }
}

/// The hand-written expectation: which (kind, from, op) succeed. Independent of `state::EDGES`.
fn expected_legal(kind: TxnKind, from: TxnState, op: Op) -> bool {
    use TxnKind as K;
    if kind == K::QrSale {
        return matches!(
            (from, op),
            (Created, Op::QrPlaced | Op::Abort)
                | (OnlinePending, Op::QrPolling | Op::QrPaid | Op::QrCancelled)
                | (Approved, Op::Complete)
        );
    }
    let by_reference = matches!(kind, K::Void | K::PreAuthCompletion);
    match (from, op) {
        (Created, Op::CardRead | Op::Abort) => true,
        (Created, Op::OnlinePending) => by_reference,
        (CardRead, Op::OnlinePending | Op::Decline | Op::Abort) => true,
        (CardRead, Op::OfflineApprove) => kind == K::Sale,
        (OnlinePending, Op::Approve | Op::Decline) => true,
        (OnlinePending, Op::RequireReversal) => kind != K::BalanceInquiry,
        // Balance inquiries (no funds), and any request cancelled before it was written.
        (OnlinePending, Op::Abort) => true,
        (Approved, Op::Complete) => true,
        (Approved, Op::RequireReversal) => kind != K::BalanceInquiry,
        (OfflineApproved, Op::Complete) => true,
        (ReversalPending, Op::MarkReversed) => true,
        _ => false,
    }
}

/// Start a fresh record of `kind` (creating originals as needed).
fn start(j: &mut Journal, kind: TxnKind, n: &mut u32) -> TransactionRecord {
    *n += 1;
    let rrn = format!("7000000{:05}", n);
    match kind {
        TxnKind::Sale | TxnKind::PreAuth | TxnKind::BalanceInquiry | TxnKind::QrSale => j
            .begin(NewTransaction::new(kind, 500, "156", "op1"))
            .unwrap(),
        TxnKind::Void => {
            let o = completed_sale(j, &pan(PAN), 500, &rrn);
            j.begin_void(o.id, "op1").unwrap()
        }
        TxnKind::Refund => {
            let o = completed_sale(j, &pan(PAN), 500, &rrn);
            j.begin_refund(RefundRequest {
                original: OriginalRef::Local(o.id),
                amount: 100,
                currency: "156".into(),
                operator_id: "op1".into(),
                merchant_order_ref: None,
            })
            .unwrap()
        }
        TxnKind::PreAuthCompletion => {
            let p = j
                .begin(NewTransaction::new(TxnKind::PreAuth, 900, "156", "op1"))
                .unwrap();
            j.card_read(p.id, &card(&pan(PAN))).unwrap();
            j.online_pending(p.id, &OnlineRequest::mti("0100")).unwrap();
            j.approve(p.id, &approval(&rrn)).unwrap();
            j.complete(p.id, &Completion::default()).unwrap();
            j.begin_pre_auth_completion(p.id, 800, "op1").unwrap()
        }
    }
}

/// A path of operations from `created` to `state` for `kind`, or None if unreachable.
fn path_to(kind: TxnKind, state: TxnState) -> Option<Vec<Op>> {
    if kind == TxnKind::QrSale {
        return match state {
            TxnState::Created => Some(vec![]),
            TxnState::OnlinePending => Some(vec![Op::QrPlaced]),
            TxnState::Approved => Some(vec![Op::QrPlaced, Op::QrPaid]),
            TxnState::Declined => Some(vec![Op::QrPlaced, Op::QrCancelled]),
            TxnState::Completed => Some(vec![Op::QrPlaced, Op::QrPaid, Op::Complete]),
            TxnState::Aborted => Some(vec![Op::Abort]),
            _ => None,
        };
    }
    let online = if matches!(kind, TxnKind::Void | TxnKind::PreAuthCompletion) {
        vec![Op::OnlinePending]
    } else {
        vec![Op::CardRead, Op::OnlinePending]
    };
    let with = |extra: &[Op]| {
        let mut v = online.clone();
        v.extend_from_slice(extra);
        Some(v)
    };
    match state {
        TxnState::Created => Some(vec![]),
        TxnState::CardRead => Some(vec![Op::CardRead]),
        TxnState::OnlinePending => with(&[]),
        TxnState::Approved => with(&[Op::Approve]),
        TxnState::Declined => with(&[Op::Decline]),
        TxnState::OfflineApproved => {
            (kind == TxnKind::Sale).then(|| vec![Op::CardRead, Op::OfflineApprove])
        }
        TxnState::Completed => with(&[Op::Approve, Op::Complete]),
        TxnState::ReversalPending => (kind != TxnKind::BalanceInquiry)
            .then(|| with(&[Op::RequireReversal]))
            .flatten(),
        TxnState::Reversed => (kind != TxnKind::BalanceInquiry)
            .then(|| with(&[Op::RequireReversal, Op::MarkReversed]))
            .flatten(),
        TxnState::Aborted => Some(vec![Op::Abort]),
    }
}

#[test]
fn every_transition_for_every_kind() {
    let f = Fixture::on_tmpfs();
    let (mut j, _) = f.open();
    let mut n = 0u32;
    let mut legal_seen = 0;
    let mut illegal_seen = 0;
    for &kind in TxnKind::ALL {
        for &from in TxnState::ALL {
            let Some(path) = path_to(kind, from) else {
                continue;
            };
            for &op in OPS {
                let rec = start(&mut j, kind, &mut n);
                for step in &path {
                    run(&mut j, rec.id, *step)
                        .unwrap_or_else(|e| panic!("{kind} path to {from}: {step:?}: {e}"));
                }
                assert_eq!(j.get(rec.id).unwrap().state, from, "{kind} reached {from}");
                let before = snapshot(&j, rec.id);
                f.clock.advance_millis(1);
                let res = run(&mut j, rec.id, op);
                if expected_legal(kind, from, op) {
                    let after = res.unwrap_or_else(|e| {
                        panic!("{kind}: {from} --{op:?}--> should be legal: {e}")
                    });
                    assert_eq!(after.state, target(op), "{kind}: {from} --{op:?}");
                    assert_eq!(after.updated_at, f.clock.now());
                    assert!(j.audit_count().unwrap() > before.2, "audited");
                    legal_seen += 1;
                } else {
                    let err = match res {
                        Ok(r) => panic!(
                            "{kind}: {from} --{op:?}--> should be illegal, got {}",
                            r.state
                        ),
                        Err(e) => e,
                    };
                    let qr_op = matches!(
                        op,
                        Op::QrPlaced | Op::QrPolling | Op::QrPaid | Op::QrCancelled
                    );
                    match &err {
                        JournalError::IllegalTransition { id, from: f0, to } => {
                            assert_eq!((*id, *f0, *to), (rec.id, from, target(op)));
                        }
                        JournalError::WrongKind { id, kind: k, .. } => {
                            assert_eq!((*id, *k), (rec.id, kind));
                            assert!(
                                qr_op != (kind == TxnKind::QrSale),
                                "WrongKind only for a kind/op mismatch"
                            );
                        }
                        JournalError::IllegalQrTransition { id, .. } => {
                            assert!(kind == TxnKind::QrSale && qr_op, "{err}");
                            assert_eq!(*id, rec.id);
                        }
                        other => panic!("{kind}: {from} --{op:?}: unexpected error {other}"),
                    }
                    assert_eq!(
                        snapshot(&j, rec.id),
                        before,
                        "{kind}: {from} --{op:?}: database changed"
                    );
                    illegal_seen += 1;
                }
            }
        }
    }
    assert!(legal_seen >= 40, "{legal_seen}");
    assert!(illegal_seen >= 300, "{illegal_seen}");
}

#[test]
fn sql_trigger_refuses_illegal_update_even_without_the_api() {
    let f = Fixture::new();
    let (mut j, _) = f.open();
    let t = j.begin(new_sale(100)).unwrap();
    drop(j);
    let conn = rusqlite::Connection::open(f.path()).unwrap();
    let err = conn
        .execute(
            "UPDATE transactions SET state = 'completed' WHERE id = ?1",
            [t.id.0],
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("illegal state transition"),
        "{err}"
    );
    // approved without RRN is refused by a CHECK constraint
    conn.execute(
        "UPDATE transactions SET state = 'card_read' WHERE id = ?1",
        [t.id.0],
    )
    .unwrap();
    conn.execute(
        "UPDATE transactions SET state = 'online_pending' WHERE id = ?1",
        [t.id.0],
    )
    .unwrap();
    let err = conn.execute(
        "UPDATE transactions SET state = 'approved', response_code = '00' WHERE id = ?1",
        [t.id.0],
    );
    assert!(err.is_err());
    let err = conn
        .execute(
            "INSERT INTO transactions(uuid, kind, state, stan, invoice, batch_id, batch_no, amount, currency, operator_id, created_at, updated_at) \
             VALUES ('x', 'sale', 'approved', 1, 1, 1, 1, 1, '156', 'op', 0, 0)",
            [],
        )
        .unwrap_err();
    assert!(err.to_string().contains("start in state created"), "{err}");
}

#[test]
fn approval_requires_rrn_and_auth_code() {
    let f = Fixture::new();
    let (mut j, _) = f.open();
    let t = j.begin(new_sale(100)).unwrap();
    j.card_read(t.id, &card(&pan(PAN))).unwrap();
    j.online_pending(t.id, &OnlineRequest::mti("0200")).unwrap();
    let before = snapshot(&j, t.id);
    let no_rrn = HostResponse {
        rrn: None,
        ..approval("x")
    };
    assert!(matches!(
        j.approve(t.id, &no_rrn),
        Err(JournalError::MissingField { field: "rrn", .. })
    ));
    let no_auth = HostResponse {
        auth_code: None,
        ..approval("600000000009")
    };
    assert!(matches!(
        j.approve(t.id, &no_auth),
        Err(JournalError::MissingField {
            field: "auth_code",
            ..
        })
    ));
    let bad_rc = HostResponse {
        response_code: "0".into(),
        ..approval("600000000009")
    };
    assert!(matches!(
        j.approve(t.id, &bad_rc),
        Err(JournalError::InvalidField {
            field: "response_code",
            ..
        })
    ));
    assert_eq!(snapshot(&j, t.id), before);
    // offline approval needs Y1/Y3 and a TC
    let t2 = j.begin(new_sale(100)).unwrap();
    j.card_read(t2.id, &card(&pan(PAN))).unwrap();
    let bad = OfflineApproval {
        response_code: "00".into(),
        ..offline()
    };
    assert!(matches!(
        j.offline_approve(t2.id, &bad),
        Err(JournalError::InvalidField {
            field: "response_code",
            ..
        })
    ));
    let bad = OfflineApproval {
        cryptogram: "11".into(),
        ..offline()
    };
    assert!(matches!(
        j.offline_approve(t2.id, &bad),
        Err(JournalError::InvalidField {
            field: "cryptogram",
            ..
        })
    ));
}

#[test]
fn counters_are_six_digit_and_distinct() {
    let f = Fixture::new();
    let (mut j, r) = f.open();
    assert_eq!(r.current_batch.batch_no, 1);
    let a = j.begin(new_sale(1)).unwrap();
    let s = j.next_stan().unwrap();
    let b = j.begin(new_sale(1)).unwrap();
    assert_eq!((a.stan, s, b.stan), (1, 2, 3));
    assert_eq!((a.invoice, b.invoice), (1, 2));
    assert_eq!(a.batch_no, 1);
    assert_ne!(a.uuid, b.uuid);
    assert_eq!(a.uuid.len(), 36);
    assert_eq!(a.uuid.as_bytes()[14], b'4', "UUID v4");
}

#[test]
fn stan_wraps_from_999999_to_000001() {
    let f = Fixture::new();
    let (j, _) = f.open();
    drop(j);
    let conn = rusqlite::Connection::open(f.path()).unwrap();
    conn.execute(
        "UPDATE counters SET issued = 999998 WHERE name = 'stan'",
        [],
    )
    .unwrap();
    drop(conn);
    let (mut j, _) = f.open();
    assert_eq!(j.next_stan().unwrap(), 999_999);
    assert_eq!(j.next_stan().unwrap(), 1);
    assert_eq!(j.begin(new_sale(1)).unwrap().stan, 2);
    // the counter itself never decreases
    drop(j);
    let conn = rusqlite::Connection::open(f.path()).unwrap();
    let err = conn
        .execute("UPDATE counters SET issued = 5 WHERE name = 'stan'", [])
        .unwrap_err();
    assert!(err.to_string().contains("must not decrease"));
}
