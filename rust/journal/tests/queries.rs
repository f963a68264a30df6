//! Velocity, duplicate detection, look-ups, listing and batch totals.

mod common;

use common::*;
use smartpos_journal::*;

fn sale_with(
    j: &mut Journal,
    p: &Pan,
    amount: i64,
    rrn: &str,
    scheme: &str,
    mode: EntryMode,
    op: &str,
) -> TransactionRecord {
    let t = j
        .begin(NewTransaction::new(TxnKind::Sale, amount, "156", op))
        .unwrap();
    let mut c = card(p);
    c.scheme = Some(scheme.into());
    c.entry_mode = mode;
    j.card_read(t.id, &c).unwrap();
    j.online_pending(t.id, &OnlineRequest::mti("0200")).unwrap();
    j.approve(t.id, &approval(rrn)).unwrap();
    j.complete(t.id, &Completion::default()).unwrap()
}

#[test]
fn same_card_sums_and_counts() {
    let f = Fixture::new();
    let (mut j, _) = f.open();
    let p1 = pan(PAN);
    let p2 = pan(PAN2);
    let h1 = j.pan_hash(&p1).unwrap();
    let h2 = j.pan_hash(&p2).unwrap();
    // yesterday (UTC): not today
    f.clock.set(T0.plus_millis(-86_400_000));
    completed_sale(&mut j, &p1, 9_999, "600000000001");
    f.clock.set(T0);
    let a = completed_sale(&mut j, &p1, 1_000, "600000000002");
    f.clock.advance_millis(60_000);
    let b = completed_sale(&mut j, &p1, 2_000, "600000000003");
    completed_sale(&mut j, &p2, 4_000, "600000000004");
    // declined and voided do not count as approved
    let d = j.begin(new_sale(500)).unwrap();
    j.card_read(d.id, &card(&p1)).unwrap();
    j.online_pending(d.id, &OnlineRequest::mti("0200")).unwrap();
    j.decline(d.id, &decline()).unwrap();
    let v = j.begin_void(b.id, "op1").unwrap();
    j.online_pending(v.id, &OnlineRequest::mti("0200")).unwrap();
    j.approve(v.id, &approval("600000000005")).unwrap();
    // offline approval counts
    let off = j.begin(new_sale(300)).unwrap();
    j.card_read(off.id, &card(&p1)).unwrap();
    j.offline_approve(off.id, &offline()).unwrap();

    let today = j.card_approved_today(&h1, 0).unwrap();
    assert_eq!(
        today,
        CardTotal {
            count: 2,
            amount: 1_300
        },
        "a + offline; b voided, d declined, yesterday excluded"
    );
    assert_eq!(
        j.card_approved_today(&h2, 0).unwrap(),
        CardTotal {
            count: 1,
            amount: 4_000
        }
    );
    let window = j
        .card_approved_total(&h1, T0.plus_millis(-86_400_001), T0.plus_millis(1))
        .unwrap();
    assert_eq!(
        window,
        CardTotal {
            count: 2,
            amount: 10_999
        },
        "yesterday's and a"
    );
    // In UTC+14, T0 (10:00Z) is local midnight: the local day starts exactly at a
    assert_eq!(j.card_approved_today(&h1, 14 * 60).unwrap().count, 2);

    // attempts in the last N minutes: a, b, d, off (void is not a debit); yesterday's excluded
    assert_eq!(j.card_attempts_last_minutes(&h1, 5).unwrap(), 4);
    f.clock.advance_millis(90_000);
    assert_eq!(
        j.card_attempts_last_minutes(&h1, 2).unwrap(),
        3,
        "a was 2.5 min ago"
    );
    let _ = a;
}

#[test]
fn duplicate_detection() {
    let f = Fixture::new();
    let (mut j, _) = f.open();
    let p = pan(PAN);
    let h = j.pan_hash(&p).unwrap();
    let first = completed_sale(&mut j, &p, 1_234, "600000000010");
    f.clock.advance_millis(20_000);
    assert_eq!(
        j.find_duplicate(&h, 1_234, 30).unwrap().map(|r| r.id),
        Some(first.id)
    );
    assert!(
        j.find_duplicate(&h, 1_235, 30).unwrap().is_none(),
        "different amount"
    );
    assert!(
        j.find_duplicate(&h, 1_234, 10).unwrap().is_none(),
        "outside the window"
    );
    let other = j.pan_hash(&pan(PAN2)).unwrap();
    assert!(
        j.find_duplicate(&other, 1_234, 30).unwrap().is_none(),
        "different card"
    );
    // a declined attempt is not a duplicate
    let d = j.begin(new_sale(777)).unwrap();
    j.card_read(d.id, &card(&p)).unwrap();
    j.online_pending(d.id, &OnlineRequest::mti("0200")).unwrap();
    j.decline(d.id, &decline()).unwrap();
    assert!(j.find_duplicate(&h, 777, 30).unwrap().is_none());
}

#[test]
fn look_ups_and_paging() {
    let f = Fixture::new();
    let (mut j, _) = f.open();
    let p = pan(PAN);
    let mut ids = Vec::new();
    for i in 0..25 {
        f.clock.advance_millis(1_000);
        let op = if i % 2 == 0 { "op1" } else { "op2" };
        ids.push(sale_with(
            &mut j,
            &p,
            100 + i,
            &format!("6000000001{i:02}"),
            "visa",
            EntryMode::Contact,
            op,
        ));
    }
    let t = &ids[7];
    assert_eq!(
        j.find_by_stan(t.stan)
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>(),
        vec![t.id]
    );
    assert_eq!(j.find_by_invoice(t.invoice).unwrap()[0].id, t.id);
    assert_eq!(j.find_by_rrn("600000000107").unwrap()[0].id, t.id);
    assert_eq!(j.find_by_uuid(&t.uuid).unwrap().unwrap().id, t.id);
    assert!(j.find_by_rrn("nope").unwrap().is_empty());
    assert!(matches!(
        j.get(TxnId(10_000)),
        Err(JournalError::NotFound { .. })
    ));

    // paging: all 25, 10 per page, newest first, no overlap
    let filter = TxnFilter::default();
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = j.list(&filter, before, 10).unwrap();
        assert!(page.items.len() <= 10);
        seen.extend(page.items.iter().map(|r| r.id));
        match page.next_before {
            Some(b) => before = Some(b),
            None => break,
        }
    }
    let mut expect: Vec<TxnId> = ids.iter().map(|r| r.id).collect();
    expect.reverse();
    assert_eq!(seen, expect);

    // filters
    let op2 = TxnFilter {
        operator_id: Some("op2".into()),
        ..TxnFilter::default()
    };
    assert_eq!(j.list(&op2, None, 100).unwrap().items.len(), 12);
    let window = TxnFilter {
        from: Some(ids[5].created_at),
        until: Some(ids[10].created_at),
        ..TxnFilter::default()
    };
    assert_eq!(j.list(&window, None, 100).unwrap().items.len(), 5);
    let none = TxnFilter {
        states: vec![TxnState::Declined],
        kinds: vec![TxnKind::Sale],
        ..TxnFilter::default()
    };
    assert!(j.list(&none, None, 100).unwrap().items.is_empty());
}

#[test]
fn batch_totals_by_scheme_entry_mode_operator() {
    let f = Fixture::new();
    let (mut j, r) = f.open();
    let p = pan(PAN);
    let v1 = sale_with(
        &mut j,
        &p,
        1_000,
        "600000000201",
        "visa",
        EntryMode::Contact,
        "op1",
    );
    sale_with(
        &mut j,
        &p,
        2_000,
        "600000000202",
        "visa",
        EntryMode::Contactless,
        "op2",
    );
    let u = sale_with(
        &mut j,
        &p,
        3_000,
        "600000000203",
        "unionpay",
        EntryMode::Contactless,
        "op1",
    );
    let voided = sale_with(
        &mut j,
        &p,
        500,
        "600000000204",
        "visa",
        EntryMode::Contact,
        "op1",
    );
    let v = j.begin_void(voided.id, "op1").unwrap();
    j.online_pending(v.id, &OnlineRequest::mti("0200")).unwrap();
    j.approve(v.id, &approval("600000000205")).unwrap();
    j.complete(v.id, &Completion::default()).unwrap();
    let rf = j
        .begin_refund(RefundRequest {
            original: OriginalRef::Local(u.id),
            amount: 700,
            currency: "156".into(),
            operator_id: "op2".into(),
            merchant_order_ref: None,
        })
        .unwrap();
    j.card_read(
        rf.id,
        &CardData {
            scheme: Some("unionpay".into()),
            ..card(&p)
        },
    )
    .unwrap();
    j.online_pending(rf.id, &OnlineRequest::mti("0200"))
        .unwrap();
    j.approve(rf.id, &approval("600000000206")).unwrap();
    j.complete(rf.id, &Completion::default()).unwrap();
    let qr = j
        .begin(NewTransaction::new(TxnKind::QrSale, 800, "156", "op2"))
        .unwrap();
    j.qr_order_placed(qr.id, "WX1").unwrap();
    j.qr_paid(
        qr.id,
        &QrPaid {
            wallet_txn_id: "4200000001".into(),
            scheme: Some("wechat".into()),
            host_time: None,
        },
    )
    .unwrap();
    // a declined sale does not count
    let d = j.begin(new_sale(9_000)).unwrap();
    j.card_read(d.id, &card(&p)).unwrap();
    j.online_pending(d.id, &OnlineRequest::mti("0200")).unwrap();
    j.decline(d.id, &decline()).unwrap();

    let b = r.current_batch.id;
    let t = j.batch_totals(b, TotalsBy::Scheme).unwrap();
    let line = |g: &str| t.lines.iter().find(|l| l.group == g).cloned().unwrap();
    let visa = line("visa");
    assert_eq!(
        (
            visa.sales_count,
            visa.sales_amount,
            visa.voids_count,
            visa.voids_amount
        ),
        (2, 3_000, 1, 500)
    );
    let up = line("unionpay");
    assert_eq!(
        (
            up.sales_count,
            up.sales_amount,
            up.refunds_count,
            up.refunds_amount
        ),
        (1, 3_000, 1, 700)
    );
    assert_eq!(line("wechat").sales_amount, 800);
    assert_eq!((t.total.sales_count, t.total.sales_amount), (4, 6_800));
    assert_eq!(t.total.net(), 6_100);

    let by_mode = j.batch_totals(b, TotalsBy::EntryMode).unwrap();
    let m = |g: &str| {
        by_mode
            .lines
            .iter()
            .find(|l| l.group == g)
            .map(|l| l.sales_amount)
    };
    assert_eq!(
        (m("contact"), m("contactless"), m("qr")),
        (Some(1_000), Some(5_000), Some(800))
    );
    let by_op = j.batch_totals(b, TotalsBy::Operator).unwrap();
    let o = |g: &str| by_op.lines.iter().find(|l| l.group == g).cloned().unwrap();
    assert_eq!(
        (
            o("op1").sales_amount,
            o("op2").sales_amount,
            o("op2").refunds_amount
        ),
        (4_000, 2_800, 700)
    );
    let _ = v1;
}
