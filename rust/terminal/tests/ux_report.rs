//! Reports: batch totals by payment method, scheme and operator from a real journal, and the
//! settlement report (terminal vs sent totals, batch upload flag), as text and JSON.

mod ux_common;

use ux_common::temp_journal;

use smartpos_journal::{
    CardData, Completion, EntryMode, HostResponse, Journal, NewTransaction, OnlineRequest,
    OriginalRef, Pan, QrPaid, RefundRequest, TxnKind,
};
use smartpos_terminal::SettlementResult;
use smartpos_terminal::prompts::Language;
use smartpos_terminal::receipt::Width;
use smartpos_terminal::report::{SettlementReport, TotalsReport};

fn approve(j: &mut Journal, id: smartpos_journal::TxnId, rrn: &str) {
    j.online_pending(id, &OnlineRequest::mti("0200"))
        .expect("online");
    j.approve(
        id,
        &HostResponse {
            response_code: "00".into(),
            rrn: Some(rrn.into()),
            auth_code: Some("123456".into()),
            host_time: None,
        },
    )
    .expect("approve");
    j.complete(id, &Completion::default()).expect("complete");
}

fn card_sale(
    j: &mut Journal,
    amount: i64,
    op: &str,
    pan: &str,
    mode: EntryMode,
    scheme: &str,
    rrn: &str,
) -> smartpos_journal::TxnId {
    let t = j
        .begin(NewTransaction::new(TxnKind::Sale, amount, "156", op))
        .expect("begin");
    let pan = Pan::parse(pan).expect("pan");
    let mut card = CardData::new(&pan, mode);
    card.scheme = Some(scheme.into());
    j.card_read(t.id, &card).expect("card");
    approve(j, t.id, rrn);
    t.id
}

/// A day: two Visa sales (chip by 001, contactless by 002), a UnionPay contactless sale that is
/// voided, a UnionPay refund, a declined sale and an Alipay QR sale.
fn day() -> (Journal, std::path::PathBuf) {
    let (mut j, dir) = temp_journal("report", 3, 4);
    card_sale(
        &mut j,
        10_000,
        "001",
        "4761739001010119",
        EntryMode::Contact,
        "visa",
        "000000000001",
    );
    card_sale(
        &mut j,
        2_500,
        "002",
        "4761739001010010",
        EntryMode::Contactless,
        "visa",
        "000000000002",
    );
    let up = card_sale(
        &mut j,
        7_700,
        "001",
        "6212345678901234",
        EntryMode::Contactless,
        "unionpay",
        "000000000003",
    );
    let v = j.begin_void(up, "sup").expect("void");
    approve(&mut j, v.id, "000000000004");
    let r = j
        .begin_refund(RefundRequest {
            original: OriginalRef::Host {
                rrn: "999999999999".into(),
                date: "1120".into(),
            },
            amount: 1_200,
            currency: "156".into(),
            operator_id: "sup".into(),
            merchant_order_ref: None,
        })
        .expect("refund");
    let pan = Pan::parse("6212345678901234").expect("pan");
    let mut card = CardData::new(&pan, EntryMode::Contact);
    card.scheme = Some("unionpay".into());
    j.card_read(r.id, &card).expect("card");
    approve(&mut j, r.id, "000000000005");
    // Declined: not counted.
    let d = j
        .begin(NewTransaction::new(TxnKind::Sale, 99_900, "156", "002"))
        .expect("begin");
    let pan = Pan::parse("4761739001010119").expect("pan");
    j.card_read(d.id, &CardData::new(&pan, EntryMode::Contact))
        .expect("card");
    j.online_pending(d.id, &OnlineRequest::mti("0200"))
        .expect("online");
    j.decline(
        d.id,
        &smartpos_journal::Decline {
            response_code: Some("51".into()),
            rrn: None,
            host_time: None,
            reason: "insufficient funds".into(),
        },
    )
    .expect("decline");
    // QR sale.
    let q = j
        .begin(NewTransaction::new(TxnKind::QrSale, 3_300, "156", "002"))
        .expect("begin");
    j.qr_order_placed(q.id, "ORDER-1").expect("order");
    j.qr_paid(
        q.id,
        &QrPaid {
            wallet_txn_id: "W1".into(),
            scheme: Some("alipay".into()),
            host_time: None,
        },
    )
    .expect("paid");
    (j, dir)
}

#[test]
fn totals_three_ways() {
    let (mut j, dir) = day();
    let batch = j.current_batch().expect("batch");
    let r = TotalsReport::from_journal(&j, batch.id, "156").expect("report");
    // Sales: 10000 + 2500 + 3300 (the voided 7700 is left out); refund 1200.
    assert_eq!(r.total.sales_count, 3);
    assert_eq!(r.total.sales_amount, 15_800);
    assert_eq!(r.total.refunds_count, 1);
    assert_eq!(r.total.refunds_amount, 1_200);
    assert_eq!(r.total.voids_count, 1);
    assert_eq!(r.total.net, 14_600);
    let find = |v: &Vec<smartpos_terminal::report::ReportLine>, g: &str| {
        v.iter().find(|l| l.group == g).cloned().expect(g)
    };
    assert_eq!(find(&r.by_scheme, "visa").sales_amount, 12_500);
    assert_eq!(find(&r.by_scheme, "alipay").sales_amount, 3_300);
    assert_eq!(find(&r.by_scheme, "unionpay").refunds_amount, 1_200);
    assert_eq!(find(&r.by_method, "contactless").sales_amount, 2_500);
    assert_eq!(find(&r.by_method, "qr").sales_count, 1);
    assert_eq!(find(&r.by_operator, "002").sales_amount, 5_800);
    assert_eq!(find(&r.by_operator, "sup").refunds_count, 1);
    let text = r.to_text(Width::Cols32, Language::En, 480);
    assert!(text.contains("BY PAYMENT METHOD"));
    assert!(text.contains("CONTACTLESS"));
    assert!(text.contains("QR / WALLET"));
    assert!(text.contains("SALES 3               CNY 158.00"));
    assert!(text.contains("NET                   CNY 146.00"));
    for line in text.lines() {
        assert!(smartpos_terminal::receipt::str_width(line) <= 32, "{line}");
    }
    let zh = r.to_text(Width::Cols48, Language::ZhHans, 480);
    assert!(zh.contains("按支付方式"));
    for line in zh.lines() {
        assert!(smartpos_terminal::receipt::str_width(line) <= 48, "{line}");
    }
    let json = r.to_json();
    assert_eq!(json["total"]["net"], 14_600);
    assert_eq!(json["by_scheme"].as_array().map(Vec::len), Some(3));
    drop(j);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn settlement_report_flags_upload_and_mismatch() {
    let (mut j, dir) = day();
    let batch = j.current_batch().expect("batch");
    let totals = TotalsReport::from_journal(&j, batch.id, "156").expect("totals");
    let agreed = SettlementResult {
        batch_no: batch.batch_no,
        sales_count: 3,
        sales_amount: 15_800,
        refunds_count: 1,
        refunds_amount: 1_200,
        balanced_first_time: true,
        uploaded: 0,
    };
    let rep = SettlementReport::new(
        &agreed,
        totals.clone(),
        "123456789012345",
        "12345678",
        1_795_256_103_000,
    );
    assert!(rep.journal_matches_sent);
    assert!(!rep.batch_uploaded);
    let text = rep.to_text(Width::Cols32, Language::En, 480);
    assert!(text.contains("SETTLEMENT REPORT"));
    assert!(text.contains("HOST: TOTALS AGREED"));
    assert!(!text.contains("BATCH UPLOADED"));
    let uploaded = SettlementResult {
        balanced_first_time: false,
        uploaded: 4,
        ..agreed.clone()
    };
    let rep = SettlementReport::new(&uploaded, totals.clone(), "123456789012345", "12345678", 0);
    let text = rep.to_text(Width::Cols32, Language::En, 0);
    assert!(text.contains("HOST: TOTALS DIFFERED"));
    assert!(text.contains("BATCH UPLOADED                 4"));
    assert_eq!(rep.to_json()["batch_uploaded"], true);
    let wrong = SettlementResult {
        sales_amount: 15_000,
        ..agreed
    };
    let rep = SettlementReport::new(&wrong, totals, "123456789012345", "12345678", 0);
    assert!(!rep.journal_matches_sent);
    assert!(
        rep.to_text(Width::Cols48, Language::En, 0)
            .contains("WARNING")
    );
    drop(j);
    let _ = std::fs::remove_dir_all(dir);
}
