//! HostSim keeps value-added data on the ledger entry it came with, and checks a repeated
//! settlement of a batch it already settled against the totals that batch balanced with: the
//! same totals are acknowledged (00), other totals are a reconcile error (95, dialect of
//! smartpos_host::dialect: settlement 0500, totals in 48), and the batch is never settled or
//! booked twice — not even by the batch upload that follows the 95.

use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_crypto::keyhier::{HierarchyAlgorithm, KeyHierarchy};
use smartpos_host::{
    BatchRecord, BatchTotals, CardData, HostClient, HostError, LinkConfig, MemoryStore, PinInput,
    SaleRequest, SettlementOutcome, TerminalConfig, ValueAddedData,
};
use smartpos_sim::hostsim::HostSim;
use std::time::Duration;

const TID: &str = "12345678";
const MID: &str = "123456789012345";
const TMK: &str = "11111111111111112222222222222222";
const VISA: &str = "4761739001010010";

fn signed_on(sim: &HostSim) -> HostClient<MemoryStore> {
    let mut keys = KeyHierarchy::new(HierarchyAlgorithm::Tdes);
    keys.install_tmk(SecretKey::from_hex(KeyAlgorithm::Tdes2, TMK).expect("tmk"))
        .expect("install tmk");
    let link =
        LinkConfig::tcp(sim.addr().to_string()).with_read_timeout(Duration::from_millis(400));
    let mut c = HostClient::new(
        link,
        TerminalConfig::new(TID, MID),
        keys,
        MemoryStore::new(),
    );
    c.sign_on().expect("sign-on");
    c
}

fn sale(amount: u64) -> SaleRequest {
    SaleRequest {
        amount,
        card: CardData::manual(VISA),
        pin: PinInput::None,
    }
}

fn debits(count: u32, amount: u64) -> BatchTotals {
    BatchTotals {
        debit_count: count,
        debit_amount: amount,
        ..BatchTotals::default()
    }
}

fn codes(sim: &HostSim) -> Vec<String> {
    sim.ledger()
        .settlements
        .iter()
        .map(|s| s.response_code.clone())
        .collect()
}

#[test]
fn value_added_data_is_kept_on_its_ledger_entry() {
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    let va = ValueAddedData::new(Some("ORDER-7"), Some("M42"), 300);
    let with = c.sale_with_value_added(&sale(2_700), &va).expect("sale");
    let plain = c.sale(&sale(1_000)).expect("sale");
    let ledger = sim.ledger();
    let entry = ledger.by_stan(TID, with.stan).expect("entry");
    let record = entry.value_added.as_ref().expect("on the entry");
    assert_eq!(record.data, va);
    assert_eq!(record.stan, with.stan);
    assert_eq!(ledger.entries.get(record.entry), Some(entry));
    assert_eq!(
        ledger.by_stan(TID, plain.stan).expect("entry").value_added,
        None
    );
    // The accessor and the snapshot's list read the entries.
    assert_eq!(ledger.value_added_of(TID, with.stan), Some(&va));
    assert_eq!(ledger.value_added_of(TID, plain.stan), None);
    assert_eq!(ledger.value_added, vec![record.clone()]);
}

#[test]
fn a_repeated_settlement_is_checked_against_the_settled_totals() {
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    c.sale(&sale(1_000)).expect("sale");
    c.sale(&sale(500)).expect("sale");
    let totals = debits(2, 1_500);
    assert_eq!(
        c.settle(&totals, &[]).expect("settled"),
        SettlementOutcome::Balanced
    );
    assert_eq!(c.config().batch, 2);
    let ledger = sim.ledger();
    assert_eq!(ledger.settled_totals(TID, 1), Some(totals));
    assert_eq!(ledger.settled_totals(TID, 2), None);
    assert!(ledger.entries.iter().all(|e| e.settled));

    // The terminal never learnt the answer and settles batch 1 again: same totals → 00.
    assert_eq!(
        c.settle_batch(1, &totals, &[]).expect("acknowledged again"),
        SettlementOutcome::Balanced
    );
    assert_eq!(codes(&sim), ["00", "00"]);

    // Other totals for the settled batch: 95, with the totals it was settled with in 48.
    let e = c
        .settle_batch(1, &debits(3, 1_500), &[])
        .expect_err("does not balance");
    match &e {
        HostError::Declined { code, response } => {
            assert_eq!(code.as_str(), "95");
            assert_eq!(
                response
                    .message
                    .text(48)
                    .and_then(BatchTotals::from_field48),
                Some(totals)
            );
        }
        other => panic!("expected a 95 decline, got {other:?}"),
    }
    // The client uploads (nothing) and asks again (202): 95 again.
    assert_eq!(codes(&sim), ["00", "00", "95", "95"]);

    // Nothing was settled or recorded again.
    let after = sim.ledger();
    assert_eq!(after.settled_batches.len(), 1);
    assert_eq!(after.entries, ledger.entries);
}

#[test]
fn the_upload_after_a_95_on_a_settled_batch_books_nothing_twice() {
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    let s = c.sale(&sale(1_000)).expect("sale");
    let settled = debits(1, 1_000);
    c.settle(&settled, &[]).expect("settled");
    let before = sim.ledger();

    // The terminal believes batch 1 also held an offline sale: 95, upload both, 95 again.
    let records = vec![
        BatchRecord {
            stan: s.stan,
            processing_code: "000000".into(),
            amount: 1_000,
            pan: VISA.into(),
            rrn: s.rrn.clone(),
            auth_code: s.auth_code.clone(),
        },
        BatchRecord {
            stan: 777,
            processing_code: "000000".into(),
            amount: 250,
            pan: VISA.into(),
            rrn: None,
            auth_code: None,
        },
    ];
    let e = c
        .settle_batch(1, &debits(2, 1_250), &records)
        .expect_err("the settled batch does not change");
    assert_eq!(
        e.response_code().map(|r| r.as_str().to_string()).as_deref(),
        Some("95")
    );
    let after = sim.ledger();
    assert_eq!(codes(&sim), ["00", "95", "95"]);
    assert_eq!(after.uploads, 2);
    // The settled sale is not booked again; the unknown record is booked once, unsettled.
    assert_eq!(after.entries.len(), before.entries.len() + 1);
    let sold: Vec<_> = after.entries.iter().filter(|e| e.stan == s.stan).collect();
    assert_eq!(sold.len(), 1);
    assert!(sold.iter().all(|e| e.settled));
    assert_eq!(after.settled_totals(TID, 1), Some(settled));
    assert_eq!(after.settled_batches.len(), 1);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(12))]

    /// Whatever the batch held, a repeat of its settlement is 00 exactly when its totals are
    /// the settled ones, and never settles anything again.
    #[test]
    fn a_repeat_balances_only_with_the_settled_totals(
        // Whole hundreds: HostSim's amount rules decline amounts ending in 05, 51, 55, 91, 96.
        amounts in proptest::collection::vec(proptest::strategy::Strategy::prop_map(1u64..500, |a| a * 100), 0..4),
        count_delta in 0u32..2,
        amount_delta in 0u64..3,
    ) {
        let sim = HostSim::start_default().expect("sim");
        let mut c = signed_on(&sim);
        for a in &amounts {
            c.sale(&sale(*a)).expect("sale");
        }
        let totals = debits(amounts.len() as u32, amounts.iter().sum());
        proptest::prop_assert_eq!(c.settle(&totals, &[]).expect("settled"), SettlementOutcome::Balanced);
        let claimed = debits(totals.debit_count + count_delta, totals.debit_amount + amount_delta);
        let repeat = c.settle_batch(1, &claimed, &[]);
        if claimed == totals {
            proptest::prop_assert_eq!(repeat.expect("acknowledged"), SettlementOutcome::Balanced);
        } else {
            let code = repeat.expect_err("mismatch").response_code().map(|r| r.as_str().to_string());
            proptest::prop_assert_eq!(code.as_deref(), Some("95"));
        }
        let ledger = sim.ledger();
        proptest::prop_assert_eq!(ledger.settled_batches.len(), 1);
        proptest::prop_assert_eq!(ledger.settled_totals(TID, 1), Some(totals));
        proptest::prop_assert!(ledger.entries.iter().all(|e| e.settled));
    }
}
