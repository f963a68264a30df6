//! Property test: any sequence of API calls (legal or not, with restarts in between) leaves a
//! journal without invariant violations; every refusal is a typed domain error, never a
//! database constraint failure (which would mean the Rust-side checks missed a case); refunds
//! never exceed their original and an original is voided at most once.

mod common;

use common::*;
use proptest::prelude::*;
use smartpos_journal::*;

#[derive(Debug, Clone)]
enum Call {
    Begin(u8),
    CardRead(u8),
    Online(u8),
    Approve(u8),
    Decline(u8),
    Offline(u8),
    Complete(u8),
    Reverse(u8),
    Reversed(u8),
    Abort(u8),
    Void(u8),
    Refund(u8, i64),
    Completion(u8, i64),
    QrPlace(u8),
    QrPoll(u8),
    QrPaid(u8),
    QrClose(u8),
    AdviceSent(u8),
    CloseBatch,
    Reopen,
    /// The next step of a normal lifecycle for a recent record.
    Advance(u8),
}

fn call() -> impl Strategy<Value = Call> {
    let i = 0u8..4;
    prop_oneof![
        3 => (0u8..4).prop_map(Call::Begin),
        2 => i.clone().prop_map(Call::CardRead),
        2 => i.clone().prop_map(Call::Online),
        2 => i.clone().prop_map(Call::Approve),
        1 => i.clone().prop_map(Call::Decline),
        1 => i.clone().prop_map(Call::Offline),
        2 => i.clone().prop_map(Call::Complete),
        1 => i.clone().prop_map(Call::Reverse),
        1 => i.clone().prop_map(Call::Reversed),
        1 => i.clone().prop_map(Call::Abort),
        1 => i.clone().prop_map(Call::Void),
        1 => (i.clone(), 0i64..3_000).prop_map(|(a, b)| Call::Refund(a, b)),
        1 => (i.clone(), 0i64..3_000).prop_map(|(a, b)| Call::Completion(a, b)),
        1 => i.clone().prop_map(Call::QrPlace),
        1 => i.clone().prop_map(Call::QrPoll),
        1 => i.clone().prop_map(Call::QrPaid),
        1 => i.clone().prop_map(Call::QrClose),
        1 => i.prop_map(Call::AdviceSent),
        1 => Just(Call::CloseBatch),
        8 => (0u8..3).prop_map(Call::Advance),
        1 => Just(Call::Reopen),
    ]
}

fn apply(j: &mut Journal, ids: &mut Vec<TxnId>, c: &Call, n: &mut u32) -> Result<()> {
    *n += 1;
    let id = |k: &u8| {
        ids.get(usize::from(*k) % ids.len().max(1))
            .copied()
            .unwrap_or(TxnId(1))
    };
    let p = pan(if *n % 2 == 0 { PAN } else { PAN2 });
    let rrn = format!("8{:011}", n);
    match c {
        Call::Begin(k) => {
            let kind = [
                TxnKind::Sale,
                TxnKind::PreAuth,
                TxnKind::BalanceInquiry,
                TxnKind::QrSale,
            ][usize::from(*k)];
            let mut t = NewTransaction::new(kind, 1_000, "156", "op1");
            t.tip = 100;
            ids.push(j.begin(t)?.id);
        }
        Call::CardRead(k) => drop(j.card_read(id(k), &card(&p))?),
        Call::Online(k) => drop(j.online_pending(id(k), &OnlineRequest::mti("0200"))?),
        Call::Approve(k) => drop(j.approve(id(k), &approval(&rrn))?),
        Call::Decline(k) => drop(j.decline(id(k), &decline())?),
        Call::Offline(k) => drop(j.offline_approve(id(k), &offline())?),
        Call::Complete(k) => drop(j.complete(id(k), &Completion::default())?),
        Call::Reverse(k) => drop(j.require_reversal(id(k), "timeout")?),
        Call::Reversed(k) => drop(j.mark_reversed(id(k))?),
        Call::Abort(k) => drop(j.abort(id(k), "cancel")?),
        Call::Void(k) => ids.push(j.begin_void(id(k), "op1")?.id),
        Call::Refund(k, a) => ids.push(
            j.begin_refund(RefundRequest {
                original: OriginalRef::Local(id(k)),
                amount: *a,
                currency: "156".into(),
                operator_id: "op1".into(),
                merchant_order_ref: None,
            })?
            .id,
        ),
        Call::Completion(k, a) => ids.push(j.begin_pre_auth_completion(id(k), *a, "op1")?.id),
        Call::QrPlace(k) => drop(j.qr_order_placed(id(k), &format!("WX{n}"))?),
        Call::QrPoll(k) => drop(j.qr_polling(id(k))?),
        Call::QrPaid(k) => drop(j.qr_paid(
            id(k),
            &QrPaid {
                wallet_txn_id: rrn,
                scheme: Some("wechat".into()),
                host_time: None,
            },
        )?),
        Call::QrClose(k) => drop(j.qr_cancelled(id(k), QrState::Closed, "closed")?),
        Call::AdviceSent(k) => drop(j.mark_advice_sent(id(k))?),
        Call::CloseBatch => drop(j.close_batch("op1")?),
        Call::Advance(k) => {
            let r = j.get(id(k))?;
            match (r.kind, r.state) {
                (TxnKind::QrSale, TxnState::Created) => {
                    drop(j.qr_order_placed(r.id, &format!("WX{n}"))?)
                }
                (TxnKind::QrSale, TxnState::OnlinePending) => drop(j.qr_paid(
                    r.id,
                    &QrPaid {
                        wallet_txn_id: rrn,
                        scheme: None,
                        host_time: None,
                    },
                )?),
                (TxnKind::Void | TxnKind::PreAuthCompletion, TxnState::Created) => {
                    drop(j.online_pending(r.id, &OnlineRequest::mti("0200"))?)
                }
                (_, TxnState::Created) => drop(j.card_read(r.id, &card(&p))?),
                (_, TxnState::CardRead) => {
                    drop(j.online_pending(r.id, &OnlineRequest::mti("0200"))?)
                }
                (_, TxnState::OnlinePending) => drop(j.approve(r.id, &approval(&rrn))?),
                (_, TxnState::Approved | TxnState::OfflineApproved) => {
                    drop(j.complete(r.id, &Completion::default())?)
                }
                (_, TxnState::ReversalPending) => drop(j.mark_reversed(r.id)?),
                (TxnKind::Sale, TxnState::Completed) => ids.push(j.begin_void(r.id, "op1")?.id),
                (TxnKind::PreAuth, TxnState::Completed) => {
                    ids.push(j.begin_pre_auth_completion(r.id, 900, "op1")?.id)
                }
                _ => {}
            }
        }
        Call::Reopen => unreachable!(),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_call_sequences_keep_invariants(calls in proptest::collection::vec(call(), 1..60)) {
        let f = Fixture::on_tmpfs();
        let (mut j, _) = f.open();
        let mut ids = Vec::new();
        let mut n = 0;
        for c in &calls {
            f.clock.advance_millis(1_000);
            if let Call::Reopen = c {
                drop(j);
                let (j2, r) = f.open();
                prop_assert!(r.violations.is_empty(), "{:?}", r.violations);
                j = j2;
                continue;
            }
            if let Err(e) = apply(&mut j, &mut ids, c, &mut n) {
                prop_assert!(
                    !matches!(e, JournalError::Sqlite(_) | JournalError::Corrupt { .. } | JournalError::Crypto(_)),
                    "{:?} ended in a database/crypto error: {}", c, e
                );
            }
        }
        prop_assert!(j.check_invariants().unwrap().is_empty());
        // refunds within the original, at most one live void per original
        let all = j.list(&TxnFilter::default(), None, 500).unwrap().items;
        for o in &all {
            let live = |r: &&TransactionRecord| !matches!(r.state, TxnState::Declined | TxnState::Aborted | TxnState::Reversed);
            let refunded: i64 = all.iter().filter(|r| r.kind == TxnKind::Refund && r.original_id == Some(o.id)).filter(live).map(|r| r.amount).sum();
            prop_assert!(refunded <= o.total(), "refunds {} > total {} of {}", refunded, o.total(), o.id);
            let voids = all.iter().filter(|r| r.kind == TxnKind::Void && r.original_id == Some(o.id)).filter(live).count();
            prop_assert!(voids <= 1);
            if let Some(v) = o.voided_by {
                let vr = all.iter().find(|r| r.id == v).unwrap();
                prop_assert!(vr.kind == TxnKind::Void && TxnState::APPROVED.contains(&vr.state));
            }
        }
        drop(j);
        let (_j, r) = f.open();
        prop_assert!(r.violations.is_empty(), "{:?}", r.violations);
    }
}
