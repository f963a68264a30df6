//! A void or refund cancelled after it was journalled but before its request was written to
//! the host (`HostError::Cancelled { sent: false }`) is aborted like a sale: journal online
//! pending → aborted, "cancelled" prompted, nothing at the host, nothing queued to reverse or
//! advise, and the original keeps its amount open (a later void or full refund is approved).

mod common;

use common::*;
use smartpos_journal::{OriginalRef, TxnId, TxnKind, TxnState};
use smartpos_sim::hostsim::HostSim;
use smartpos_terminal::events::Step;
use smartpos_terminal::sim_devices::{SimHandles, SimPresentation};
use smartpos_terminal::{
    AllowAll, CancelToken, Event, EventSink, MessageId, OpenOptions, OperatorId, SaleRequest,
    Status, Terminal, TerminalError,
};
use std::sync::{Arc, Mutex};

/// Cancels the armed token when the terminal reports it is going online (after the record is
/// online pending, before the request is built), then disarms; records like the sim sink.
struct CancelAtOnline {
    armed: Mutex<Option<CancelToken>>,
    inner: Arc<dyn EventSink>,
}

impl EventSink for CancelAtOnline {
    fn event(&self, event: &Event) {
        if matches!(event, Event::Progress { step: Step::Online }) {
            if let Some(token) = self.armed.lock().expect("armed").take() {
                token.cancel();
            }
        }
        self.inner.event(event);
    }
}

struct Setup {
    sim: HostSim,
    term: Terminal,
    h: SimHandles,
    sink: Arc<CancelAtOnline>,
}

fn setup(tag: &str) -> Setup {
    let sim = HostSim::start(&host_config(), "127.0.0.1:0", None).expect("hostsim");
    let dir = temp_dir(tag);
    let keys = key_store();
    let clock = smartpos_journal::ManualClock::new(smartpos_journal::Timestamp(START_MS));
    let (emv_config, ca_keys) = emv();
    let (mut devices, h) = smartpos_terminal::sim_devices::sim_devices(Some("1234"), keys.clone());
    let sink = Arc::new(CancelAtOnline {
        armed: Mutex::new(None),
        inner: devices.events.clone(),
    });
    devices.events = sink.clone();
    let mut term = Terminal::open_with(
        &dir,
        devices,
        keys,
        &dir.join("j.db"),
        Box::new(AllowAll(OperatorId("sup1".into()))),
        OpenOptions {
            emv_config: Some(emv_config),
            ca_keys: Some(ca_keys),
            settings: Some(settings(&sim)),
            clock: Some(Arc::new(clock)),
        },
    )
    .expect("open");
    term.sign_on().expect("sign-on");
    Setup { sim, term, h, sink }
}

impl Setup {
    fn sale(&mut self, amount: u64) -> smartpos_terminal::TransactionOutcome {
        self.h.reader.push(SimPresentation::Card {
            card: Box::new(card("visa-cda-online-pin")),
            contactless: false,
        });
        let out = self
            .term
            .sale(&SaleRequest::card(amount, "c1"), &CancelToken::new())
            .expect("sale");
        assert_eq!(out.status, Status::Approved, "{out:?}");
        out
    }

    /// A token the sink cancels at the next "going online".
    fn armed(&self) -> CancelToken {
        let token = CancelToken::new();
        *self.sink.armed.lock().expect("armed") = Some(token.clone());
        token
    }

    fn cancelled_prompts(&self) -> usize {
        self.h
            .events
            .events()
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    Event::Prompt {
                        id: MessageId::Cancelled,
                        ..
                    }
                )
            })
            .count()
    }

    /// The one record of `kind`, which must be aborted with nothing queued for it.
    fn assert_aborted(&self, kind: TxnKind, what: &str) {
        let j = self.term.journal();
        let mut j = j.lock().expect("journal");
        let recs: Vec<_> = j
            .list(&smartpos_journal::TxnFilter::default(), None, 20)
            .expect("list")
            .items
            .into_iter()
            .filter(|r| r.kind == kind)
            .collect();
        assert_eq!(recs.len(), 1, "{recs:?}");
        let rec = &recs[0];
        assert_eq!(rec.state, TxnState::Aborted, "{rec:?}");
        assert_eq!(
            rec.error_reason.as_deref(),
            Some(format!("{what} cancelled before the request was sent").as_str())
        );
        assert!(j.pending_reversals().expect("reversals").is_empty());
        assert!(j.pending_advices().expect("advices").is_empty());
        assert!(j.check_invariants().expect("invariants").is_empty());
    }
}

fn assert_cancelled_before_sending(e: &TerminalError) {
    assert!(
        matches!(
            e,
            TerminalError::Cancelled {
                step: "host request"
            }
        ),
        "{e:?}"
    );
}

#[test]
fn a_void_cancelled_before_sending_is_aborted_and_the_sale_can_still_be_voided() {
    let mut s = setup("cancel-void-unsent");
    let sale = s.sale(2_500);
    let requests = s.sim.ledger().requests;
    let prompts = s.cancelled_prompts();

    let token = s.armed();
    let e = s
        .term
        .void(TxnId(sale.txn_id), &token)
        .expect_err("cancelled");
    assert_cancelled_before_sending(&e);
    assert_eq!(
        s.sim.ledger().requests,
        requests,
        "nothing reached the host"
    );
    assert_eq!(s.cancelled_prompts(), prompts + 1);
    s.assert_aborted(TxnKind::Void, "void");
    let host_sale = s.sim.ledger().by_stan("12345678", sale.stan).cloned();
    assert!(!host_sale.expect("sale at the host").voided);

    // The sale is still approved, not voided, and a void now goes through.
    let orig = s
        .term
        .journal()
        .lock()
        .expect("journal")
        .get(TxnId(sale.txn_id))
        .expect("sale");
    assert_eq!(orig.voided_by, None);
    let void = s
        .term
        .void(TxnId(sale.txn_id), &CancelToken::new())
        .expect("void");
    assert_eq!(void.status, Status::Approved, "{void:?}");
    assert!(
        s.sim
            .ledger()
            .by_stan("12345678", sale.stan)
            .expect("sale")
            .voided
    );
}

#[test]
fn a_refund_cancelled_before_sending_is_aborted_and_does_not_count_against_the_sale() {
    let mut s = setup("cancel-refund-unsent");
    let sale = s.sale(3_000);
    let requests = s.sim.ledger().requests;
    let prompts = s.cancelled_prompts();

    let token = s.armed();
    let e = s
        .term
        .refund(OriginalRef::Local(TxnId(sale.txn_id)), 3_000, &token)
        .expect_err("cancelled");
    assert_cancelled_before_sending(&e);
    assert_eq!(
        s.sim.ledger().requests,
        requests,
        "nothing reached the host"
    );
    assert_eq!(s.cancelled_prompts(), prompts + 1);
    s.assert_aborted(TxnKind::Refund, "refund");

    // The aborted refund does not hold the amount: the full refund is approved, once.
    let r = s
        .term
        .refund(
            OriginalRef::Local(TxnId(sale.txn_id)),
            3_000,
            &CancelToken::new(),
        )
        .expect("refund");
    assert_eq!(r.status, Status::Approved, "{r:?}");
    assert!(!r.pending);
    let refunds = s
        .sim
        .ledger()
        .entries
        .into_iter()
        .filter(|e| e.kind == smartpos_sim::hostsim::TxnKind::Refund)
        .count();
    assert_eq!(refunds, 1);
}
