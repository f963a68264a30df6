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
