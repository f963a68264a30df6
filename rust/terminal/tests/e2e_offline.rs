//! Offline approval (EMV Book 3 §10.8: TC at the first GENERATE AC under the floor limit):
//! journalled as offline approved with its advice queued, and the advice (0220) uploaded to
//! HostSim by the next flush, once.

mod common;

use common::*;
use smartpos_journal::TxnId;
use smartpos_terminal::{CancelToken, SaleRequest, Status};

#[test]
fn offline_approval_queues_an_advice_sent_once() {
    let sim = smartpos_sim::hostsim::HostSim::start_default().expect("sim");
    let dir = temp_dir("offline");
    let keys = key_store();
    let clock = smartpos_journal::ManualClock::new(smartpos_journal::Timestamp(START_MS));
    let (mut emv_config, ca_keys) = emv();
    for aid in &mut emv_config.aids {
        aid.floor_limit = 100_000;
    }
    let (devices, h) = smartpos_terminal::sim_devices::sim_devices(Some("1234"), keys.clone());
    let mut s = settings(&sim);
    s.risk.duplicate_window_secs = 0;
    let mut term = smartpos_terminal::Terminal::open_with(
        &dir,
        devices,
        keys,
        &dir.join("j.db"),
        Box::new(smartpos_terminal::AllowAll(smartpos_terminal::OperatorId(
            "s".into(),
        ))),
        smartpos_terminal::OpenOptions {
            emv_config: Some(emv_config),
            ca_keys: Some(ca_keys),
            settings: Some(s),
            clock: Some(std::sync::Arc::new(clock)),
        },
    )
    .expect("open");
    h.reader
        .push(smartpos_terminal::sim_devices::SimPresentation::Card {
            card: Box::new(card("visa-dda-offline-approve")),
            contactless: false,
        });
    let out = term
        .sale(&SaleRequest::card(1_000, "c1"), &CancelToken::new())
        .expect("sale");
    assert_eq!(out.status, Status::ApprovedOffline, "{out:?}");
    assert_eq!(out.response_code.as_deref(), Some("Y1"));
    let pending = term
        .journal()
        .lock()
        .expect("j")
        .pending_advices()
        .expect("q")
        .len();
    assert_eq!(pending, 1);
    assert_eq!(sim.ledger().advice_requests, 0);
    assert_eq!(term.flush_queues().expect("flush"), 1);
    assert_eq!(term.flush_queues().expect("flush again"), 0);
    assert_eq!(sim.ledger().advice_requests, 1);
    let j = term.journal();
    let g = j.lock().expect("j");
    assert!(g.pending_advices().expect("q").is_empty());
    assert!(g.get(TxnId(out.txn_id)).expect("rec").cryptogram.is_some());
}
