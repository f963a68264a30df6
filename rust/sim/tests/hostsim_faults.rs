//! Fault modes of the host simulator and the terminal-side state each one must leave behind.

use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_crypto::keyhier::{HierarchyAlgorithm, KeyHierarchy, WorkingKeyType};
use smartpos_crypto::pin::Pin;
use smartpos_host::{
    CardData, HostClient, HostError, LinkConfig, LinkError, MemoryStore, PinInput, QueueKind,
    ReversalReason, ReversalStore, SaleRequest, TerminalConfig,
};
use smartpos_sim::hostsim::{Fault, HostSim};
use std::time::Duration;

const TID: &str = "12345678";
const MID: &str = "123456789012345";
const TMK: &str = "11111111111111112222222222222222";
const VISA: &str = "4761739001010010";
const CUP: &str = "6214000000000000019";

fn client(sim: &HostSim) -> HostClient<MemoryStore> {
    let mut keys = KeyHierarchy::new(HierarchyAlgorithm::Tdes);
    keys.install_tmk(SecretKey::from_hex(KeyAlgorithm::Tdes2, TMK).expect("tmk"))
        .expect("install");
    let link =
        LinkConfig::tcp(sim.addr().to_string()).with_read_timeout(Duration::from_millis(300));
    HostClient::new(
        link,
        TerminalConfig::new(TID, MID),
        keys,
        MemoryStore::new(),
    )
}

fn signed_on(sim: &HostSim) -> HostClient<MemoryStore> {
    let mut c = client(sim);
    c.sign_on().expect("sign-on");
    c
}

fn prepaid_sale(amount: u64) -> SaleRequest {
    SaleRequest {
        amount,
        card: CardData::manual(CUP),
        pin: PinInput::Clear(Pin::new("123456").expect("pin")),
    }
}

fn visa_sale(amount: u64) -> SaleRequest {
    SaleRequest {
        amount,
        card: CardData::manual(VISA),
        pin: PinInput::None,
    }
}

/// Runs a sale that fails with `fault`, checks the reversal is queued with `reason`, then shows the
/// next transaction flushes it and the host applied it exactly once.
fn fault_leads_to_one_reversal(
    fault: Fault,
    reason: ReversalReason,
    check: fn(&HostError) -> bool,
) {
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    sim.inject(fault, 1);
    let e = c
        .sale(&prepaid_sale(4_000))
        .expect_err("no confirmed answer");
    assert!(check(&e), "unexpected error {e:?}");
    assert!(e.needs_reversal());
    let pending = c.store().pending(QueueKind::Reversal).expect("pending");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].reason, reason);
    let stan = pending[0].stan;
    // The host did approve and debit before the answer was lost.
    assert!(sim.ledger().by_stan(TID, stan).expect("entry").approved);
    assert_eq!(sim.balance(CUP), Some(96_000));
    // The next transaction sends the 0400 first.
    c.sale(&prepaid_sale(1_000)).expect("next sale approved");
    assert!(
        c.store()
            .pending(QueueKind::Reversal)
            .expect("p")
            .is_empty()
    );
    assert!(c.store().is_complete(QueueKind::Reversal, stan));
    let l = sim.ledger();
    let orig = l.by_stan(TID, stan).expect("original");
    assert!(orig.reversed);
    assert_eq!(orig.reversal_requests, 1);
    assert_eq!(l.reversals_applied, 1);
    assert_eq!(sim.balance(CUP), Some(99_000));
}

#[test]
fn no_answer_times_out_and_the_reversal_is_sent_before_the_next_sale() {
    fault_leads_to_one_reversal(Fault::NoAnswer, ReversalReason::NoResponse, |e| {
        matches!(e, HostError::Link(LinkError::Timeout { .. }))
    });
}

#[test]
fn dropped_connection_is_reversed() {
    fault_leads_to_one_reversal(Fault::Drop, ReversalReason::NoResponse, |e| {
        matches!(e, HostError::Link(LinkError::Closed { .. }))
    });
}

#[test]
fn wrong_response_mac_is_not_believed_and_is_reversed() {
    fault_leads_to_one_reversal(Fault::WrongMac, ReversalReason::MacError, |e| {
        matches!(e, HostError::BadMac(_))
    });
}

#[test]
fn garbage_response_is_an_error_not_a_panic_and_is_reversed() {
    fault_leads_to_one_reversal(Fault::Garbage, ReversalReason::BadResponse, |e| {
        matches!(e, HostError::Garbled(_))
    });
}

#[test]
fn answer_later_than_the_read_timeout_is_reversed() {
    fault_leads_to_one_reversal(
        Fault::Delay(Duration::from_millis(1_500)),
        ReversalReason::NoResponse,
        |e| matches!(e, HostError::Link(LinkError::Timeout { .. })),
    );
}

#[test]
fn answer_within_the_read_timeout_is_accepted() {
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    sim.inject(Fault::Delay(Duration::from_millis(20)), 1);
    c.sale(&visa_sale(100)).expect("approved");
    assert!(
        c.store()
            .pending(QueueKind::Reversal)
            .expect("p")
            .is_empty()
    );
    assert_eq!(sim.ledger().reversals_applied, 0);
}

#[test]
fn duplicated_response_is_ignored_by_the_next_exchange() {
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    sim.inject(Fault::Duplicate, 1);
    let first = c.sale(&visa_sale(100)).expect("first approved");
    // The second copy of the first 0210 is still in the socket: the next sale must skip it and
    // take its own answer.
    let second = c.sale(&visa_sale(200)).expect("second approved");
    assert_ne!(first.stan, second.stan);
    assert_eq!(second.amount, Some(200));
    let l = sim.ledger();
    assert_eq!(l.entries.len(), 2);
    assert!(l.entries.iter().all(|e| e.approved && !e.reversed));
    assert!(
        c.store()
            .pending(QueueKind::Reversal)
            .expect("p")
            .is_empty()
    );
}

#[test]
fn lost_reversal_answer_is_retried_and_applied_once() {
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    sim.inject(Fault::NoAnswer, 2); // the sale's answer and the first 0410
    let e = c.sale(&prepaid_sale(2_500)).expect_err("timeout");
    assert!(e.needs_reversal());
    let stan = c.last_stan();
    let e = c.flush_reversals().expect_err("0410 lost");
    assert!(
        matches!(e, HostError::QueueNotFlushed { remaining: 1, .. }),
        "{e:?}"
    );
    let pending = c.store().pending(QueueKind::Reversal).expect("p");
    assert_eq!(pending[0].attempts, 1);
    assert_eq!(c.flush_reversals().expect("acknowledged"), 1);
    let l = sim.ledger();
    let orig = l.by_stan(TID, stan).expect("original");
    assert!(orig.reversed);
    assert_eq!(orig.reversal_requests, 2, "two 0400s arrived");
    assert_eq!(l.reversals_applied, 1, "applied once");
    assert!(l.duplicates >= 1, "the repeat was answered from the cache");
    assert_eq!(sim.balance(CUP), Some(100_000));
}

#[test]
fn unreachable_host_keeps_the_reversal_and_blocks_the_next_sale() {
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    sim.inject(Fault::NoAnswer, 1);
    c.sale(&visa_sale(300)).expect_err("timeout");
    sim.inject(Fault::Drop, 1);
    let e = c
        .sale(&visa_sale(400))
        .expect_err("reversal could not be sent");
    assert!(
        matches!(
            e,
            HostError::QueueNotFlushed {
                kind: "reversal",
                ..
            }
        ),
        "{e:?}"
    );
    // The new sale never went out.
    assert_eq!(sim.ledger().entries.len(), 1);
    c.sale(&visa_sale(500))
        .expect("after the reversal went through");
    let l = sim.ledger();
    assert_eq!(l.reversals_applied, 1);
    assert_eq!(l.entries.len(), 2);
}

#[test]
fn duplicate_request_with_the_same_stan_is_answered_from_the_cache() {
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    let first = c.sale(&prepaid_sale(1_000)).expect("approved");
    c.set_last_stan(first.stan - 1);
    let again = c.sale(&prepaid_sale(1_000)).expect("same answer");
    assert_eq!(again.rrn, first.rrn);
    assert_eq!(again.auth_code, first.auth_code);
    let l = sim.ledger();
    assert_eq!(l.entries.len(), 1, "not re-authorised");
    assert_eq!(l.duplicates, 1);
    assert_eq!(sim.balance(CUP), Some(99_000), "debited once");
}

#[test]
fn bad_kcv_at_sign_on_installs_no_key() {
    let sim = HostSim::start_default().expect("sim");
    let mut c = client(&sim);
    sim.inject(Fault::BadKcv, 1);
    let e = c.sign_on().expect_err("KCV mismatch");
    assert!(matches!(e, HostError::KeyDownload(_)), "{e:?}");
    for k in [
        WorkingKeyType::Pin,
        WorkingKeyType::Mac,
        WorkingKeyType::Data,
    ] {
        assert!(c.keys().key(k).is_none(), "{k} key must not be installed");
    }
    let e = c.sale(&visa_sale(100)).expect_err("not signed on");
    assert!(matches!(e, HostError::NotSignedOn("MAC")), "{e:?}");
    assert!(
        c.store()
            .pending(QueueKind::Reversal)
            .expect("p")
            .is_empty()
    );
    c.sign_on().expect("second sign-on");
    c.sale(&visa_sale(100)).expect("approved");
}

#[test]
fn stale_mac_key_gets_a0_and_a_new_sign_on_recovers() {
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    // Another sign-on of the same terminal ID replaces the keys at the host.
    let mut other = client(&sim);
    other.sign_on().expect("sign-on");
    let e = c.sale(&visa_sale(100)).expect_err("MAC error");
    // The A0 answer is MACed with the new key, so this terminal cannot believe it either.
    assert!(matches!(e, HostError::BadMac(_)), "{e:?}");
    assert_eq!(sim.ledger().mac_failures, 1);
    assert!(sim.ledger().entries.is_empty(), "nothing authorised");
    c.sign_on().expect("sign-on again");
    // The queued reversal of the unconfirmed request goes out and is acknowledged (25: unknown).
    c.sale(&visa_sale(200)).expect("approved");
    assert!(
        c.store()
            .pending(QueueKind::Reversal)
            .expect("p")
            .is_empty()
    );
    assert_eq!(sim.ledger().reversals_applied, 0);
}

#[test]
fn faults_from_the_config_file_apply_to_the_first_requests() {
    let mut cfg = smartpos_sim::hostsim::HostSimConfig::default_config();
    cfg.faults.push(smartpos_sim::hostsim::config::FaultEntry {
        kind: "bad-kcv".into(),
        ms: 0,
        count: 1,
    });
    let sim = HostSim::start(&cfg, "127.0.0.1:0", None).expect("sim");
    let mut c = client(&sim);
    assert!(matches!(c.sign_on(), Err(HostError::KeyDownload(_))));
    c.sign_on().expect("second sign-on");
    cfg.faults[0].kind = "lightning".into();
    assert!(HostSim::start(&cfg, "127.0.0.1:0", None).is_err());
}

#[test]
fn reversed_void_puts_the_sale_back() {
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    let s = c.sale(&prepaid_sale(6_000)).expect("sale");
    assert_eq!(sim.balance(CUP), Some(94_000));
    sim.inject(Fault::NoAnswer, 1);
    let e = c
        .void(&smartpos_host::VoidRequest {
            amount: 6_000,
            card: CardData::manual(CUP),
            pin: PinInput::None,
            original_stan: s.stan,
            original_rrn: s.rrn.clone().expect("rrn"),
            original_auth_code: s.auth_code.clone().expect("auth"),
        })
        .expect_err("void answer lost");
    assert!(e.needs_reversal());
    assert!(sim.ledger().by_stan(TID, s.stan).expect("sale").voided);
    assert_eq!(sim.balance(CUP), Some(100_000));
    assert_eq!(c.flush_reversals().expect("void reversed"), 1);
    let l = sim.ledger();
    assert!(
        !l.by_stan(TID, s.stan).expect("sale").voided,
        "the sale stands again"
    );
    assert_eq!(sim.balance(CUP), Some(94_000));
    assert_eq!(l.reversals_applied, 1);
}
