//! Voids, refunds and pre-auth completions linked to their originals.

mod common;

use common::*;
use smartpos_journal::*;

fn approve_online(j: &mut Journal, id: TxnId, rrn: &str) -> TransactionRecord {
    j.online_pending(id, &OnlineRequest::mti("0200")).unwrap();
    j.approve(id, &approval(rrn)).unwrap();
    j.complete(id, &Completion::default()).unwrap()
}

fn refund(orig: OriginalRef, amount: i64) -> RefundRequest {
    RefundRequest {
        original: orig,
        amount,
        currency: "156".into(),
        operator_id: "op2".into(),
        merchant_order_ref: None,
    }
}

#[test]
fn void_rules() {
    let f = Fixture::new();
    let (mut j, _) = f.open();
    let p = pan(PAN);
    let sale = completed_sale(&mut j, &p, 1000, "600000000001");
    let v = j.begin_void(sale.id, "op2").unwrap();
    assert_eq!(
        (v.kind, v.original_id, v.amount),
        (TxnKind::Void, Some(sale.id), 1000)
    );
    assert_eq!(v.original_rrn.as_deref(), Some("600000000001"));
    assert_eq!(
        v.pan_masked, sale.pan_masked,
        "card identity follows the original"
    );
    assert_eq!(v.pan_hash, sale.pan_hash);
    assert!(v.pan_encrypted.is_none());
    // a second void while the first is in flight
    assert!(matches!(
        j.begin_void(sale.id, "op2"),
        Err(JournalError::VoidRefused { .. })
    ));
    approve_online(&mut j, v.id, "600000000002");
    assert_eq!(j.get(sale.id).unwrap().voided_by, Some(v.id));
    assert!(
        matches!(j.begin_void(sale.id, "op2"), Err(JournalError::VoidRefused { reason, .. }) if reason.contains("already voided"))
    );
    // a voided sale cannot be refunded
    assert!(matches!(
        j.begin_refund(refund(OriginalRef::Local(sale.id), 1)),
        Err(JournalError::OriginalNotEligible { .. })
    ));

    // not approved: declined sale
    let d = j.begin(new_sale(50)).unwrap();
    j.card_read(d.id, &card(&p)).unwrap();
    j.online_pending(d.id, &OnlineRequest::mti("0200")).unwrap();
    j.decline(d.id, &decline()).unwrap();
    assert!(matches!(
        j.begin_void(d.id, "op2"),
        Err(JournalError::VoidRefused { .. })
    ));
    // not a sale: a void cannot be voided
    assert!(matches!(
        j.begin_void(v.id, "op2"),
        Err(JournalError::VoidRefused { .. })
    ));
    // offline approval has no RRN: not voidable online
    let off = j.begin(new_sale(70)).unwrap();
    j.card_read(off.id, &card(&p)).unwrap();
    j.offline_approve(off.id, &offline()).unwrap();
    assert!(matches!(
        j.begin_void(off.id, "op2"),
        Err(JournalError::VoidRefused { .. })
    ));
    // unknown original
    assert!(matches!(
        j.begin_void(TxnId(9999), "op2"),
        Err(JournalError::NotFound { .. })
    ));
}

#[test]
fn reversed_or_declined_void_frees_the_original() {
    let f = Fixture::new();
    let (mut j, _) = f.open();
    let sale = completed_sale(&mut j, &pan(PAN), 1000, "600000000010");
    let v = j.begin_void(sale.id, "op2").unwrap();
    j.online_pending(v.id, &OnlineRequest::mti("0200")).unwrap();
    j.approve(v.id, &approval("600000000011")).unwrap();
    assert_eq!(j.get(sale.id).unwrap().voided_by, Some(v.id));
    j.require_reversal(v.id, "printer failure after approval")
        .unwrap();
    j.mark_reversed(v.id).unwrap();
    assert_eq!(
        j.get(sale.id).unwrap().voided_by,
        None,
        "the reversed void no longer cancels the sale"
    );
    let v2 = j.begin_void(sale.id, "op2").unwrap();
    j.online_pending(v2.id, &OnlineRequest::mti("0200"))
        .unwrap();
    j.decline(v2.id, &decline()).unwrap();
    let v3 = j.begin_void(sale.id, "op2").unwrap();
    assert_ne!(v3.stan, v2.stan);
}

#[test]
fn refund_total_never_exceeds_original() {
    let f = Fixture::new();
    let (mut j, _) = f.open();
    let p = pan(PAN);
    let mut t = NewTransaction::new(TxnKind::Sale, 1000, "156", "op1");
    t.tip = 100;
    let sale = j.begin(t).unwrap();
    j.card_read(sale.id, &card(&p)).unwrap();
    approve_online(&mut j, sale.id, "600000000020");
    let r1 = j
        .begin_refund(refund(OriginalRef::Local(sale.id), 600))
        .unwrap();
    assert_eq!(
        (r1.original_id, r1.original_rrn.as_deref()),
        (Some(sale.id), Some("600000000020"))
    );
    j.card_read(r1.id, &card(&p)).unwrap();
    approve_online(&mut j, r1.id, "600000000021");
    // 1100 total, 600 refunded: 500 remain (even a pending refund counts)
    let r2 = j
        .begin_refund(refund(OriginalRef::Local(sale.id), 400))
        .unwrap();
    let err = j
        .begin_refund(refund(OriginalRef::Local(sale.id), 101))
        .unwrap_err();
    assert!(
        matches!(
            err,
            JournalError::AmountExceedsOriginal {
                requested: 101,
                remaining: 100,
                ..
            }
        ),
        "{err}"
    );
    // an aborted refund frees its amount
    j.abort(r2.id, "customer changed mind").unwrap();
    let r3 = j
        .begin_refund(refund(OriginalRef::Local(sale.id), 500))
        .unwrap();
    assert_eq!(r3.amount, 500);
    // by RRN and date: found locally and linked, limit enforced
    let err = j
        .begin_refund(refund(
            OriginalRef::Host {
                rrn: "600000000020".into(),
                date: "1121".into(),
            },
            1,
        ))
        .unwrap_err();
    assert!(
        matches!(
            err,
            JournalError::AmountExceedsOriginal { remaining: 0, .. }
        ),
        "{err}"
    );
    // by RRN of a transaction from elsewhere: journalled with the reference, not linked
    let ext = j
        .begin_refund(refund(
            OriginalRef::Host {
                rrn: "999999999999".into(),
                date: "20261101".into(),
            },
            5000,
        ))
        .unwrap();
    assert_eq!(
        (
            ext.original_id,
            ext.original_rrn.as_deref(),
            ext.original_date.as_deref()
        ),
        (None, Some("999999999999"), Some("20261101"))
    );
    assert!(matches!(
        j.begin_refund(refund(
            OriginalRef::Host {
                rrn: "1".into(),
                date: "11".into()
            },
            1
        )),
        Err(JournalError::InvalidField {
            field: "original_date",
            ..
        })
    ));
    // currency must match
    let mut bad = refund(OriginalRef::Local(sale.id), 0);
    bad.currency = "840".into();
    assert!(matches!(
        j.begin_refund(bad),
        Err(JournalError::InvalidField {
            field: "currency",
            ..
        })
    ));
}

#[test]
fn pre_auth_completion_rules() {
    let f = Fixture::new();
    let (mut j, _) = f.open();
    let p = pan(PAN);
    let pa = j
        .begin(NewTransaction::new(TxnKind::PreAuth, 5000, "156", "op1"))
        .unwrap();
    // not approved yet
    assert!(matches!(
        j.begin_pre_auth_completion(pa.id, 100, "op1"),
        Err(JournalError::OriginalNotEligible { .. })
    ));
    j.card_read(pa.id, &card(&p)).unwrap();
    approve_online(&mut j, pa.id, "600000000030");
    assert!(matches!(
        j.begin_pre_auth_completion(pa.id, 5001, "op1"),
        Err(JournalError::AmountExceedsOriginal {
            requested: 5001,
            remaining: 5000,
            ..
        })
    ));
    let c = j.begin_pre_auth_completion(pa.id, 4500, "op1").unwrap();
    assert_eq!(
        (c.kind, c.original_id, c.amount),
        (TxnKind::PreAuthCompletion, Some(pa.id), 4500)
    );
    assert!(matches!(
        j.begin_pre_auth_completion(pa.id, 1, "op1"),
        Err(JournalError::OriginalNotEligible { .. })
    ));
    // completion of a sale is refused
    let sale = completed_sale(&mut j, &p, 100, "600000000031");
    assert!(matches!(
        j.begin_pre_auth_completion(sale.id, 1, "op1"),
        Err(JournalError::OriginalNotEligible { .. })
    ));
    // begin() refuses kinds that need an original
    assert!(matches!(
        j.begin(NewTransaction::new(TxnKind::Void, 1, "156", "op1")),
        Err(JournalError::InvalidField { field: "kind", .. })
    ));
}
