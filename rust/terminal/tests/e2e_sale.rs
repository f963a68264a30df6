//! End-to-end sales over loopback TCP to smartpos-sim's HostSim, with a real journal file and
//! the virtual cards: the journal discipline (begin → card_read → online_pending → approved →
//! completed) checked in the journal's audit trail and against the simulator's ledger.

mod common;

use common::*;
use smartpos_journal::{TxnKind, TxnState};
use smartpos_terminal::{CancelToken, SaleRequest, Status};

#[test]
fn contact_sale_with_online_pin_is_approved_journalled_and_in_the_host_ledger() {
    let mut rig = Rig::new("contact-online-pin");
    rig.present(card("visa-cda-online-pin"), false);
    let out = rig
        .term
        .sale(&SaleRequest::card(1_000, "cashier1"), &CancelToken::new())
        .expect("sale");
    assert_eq!(out.status, Status::Approved, "{out:?}");
    assert_eq!(out.response_code.as_deref(), Some("00"));
    assert_eq!(out.pan_masked.as_deref(), Some("476173******0010"));
    assert_eq!(out.entry_mode.as_deref(), Some("contact"));
    assert_eq!(out.scheme.as_deref(), Some("visa"));
    assert!(out.rrn.is_some() && out.auth_code.is_some());
    let ledger = rig.sim.ledger();
    let e = ledger
        .by_stan("12345678", out.stan)
        .expect("host saw the sale");
    assert!(e.approved && !e.reversed);
    assert_eq!(e.amount, 1_000);
    assert_eq!(
        e.arqc_verified,
        Some(true),
        "the ARQC from the virtual card verified"
    );
    assert_eq!(Some(e.rrn.as_str()), out.rrn.as_deref());
    let (record, actions) = rig.with_journal(|j| {
        let r = j.get(smartpos_journal::TxnId(out.txn_id)).expect("record");
        let a: Vec<String> = j
            .audit_of(r.id)
            .expect("audit")
            .into_iter()
            .map(|a| a.action)
            .collect();
        (r, a)
    });
    assert_eq!(record.state, TxnState::Completed);
    assert_eq!(record.kind, TxnKind::Sale);
    assert!(record.cryptogram.is_some());
    let order: Vec<&str> = actions.iter().map(String::as_str).collect();
    let pos = |name: &str| {
        order
            .iter()
            .position(|a| a.contains(name))
            .unwrap_or_else(|| panic!("{name} missing from {order:?}"))
    };
    assert!(pos("created") < pos("card_read"));
    assert!(pos("card_read") < pos("online_pending"));
    assert!(pos("online_pending") < pos("approved"));
    assert!(pos("approved") < pos("completed"));
}
