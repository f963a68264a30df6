//! Field 55 kept with queued reversals and advices (schema 5): stored with `online_pending` /
//! `offline_approve`, card data objects stripped before storing (never in the file), carried by
//! the queue entry, dropped once nothing will repeat it; a journal file of schema 4 upgrades.

mod common;

use common::*;
use rusqlite::params;
use smartpos_journal::*;

/// ICC data as a kernel hands it over: ARQC (9F26), PAN (5A), TVR (95), track 2 (57), ATC
/// (9F36), cardholder name (5F20), track 1 (56), Mastercard track 2 (9F6B), track 1/2
/// discretionary data (9F1F, 9F20), IAD (9F10). PAN = common::PAN.
const F55_WITH_CARD_DATA: &str = concat!(
    "9F2608A1B2C3D4E5F60718",
    "5A084761739001010119",
    "95050000008000",
    "57134761739001010119D29122011234500000001F",
    "9F36020042",
    "5F200A534D495448204A4F484E",
    "56114234373631373339303031303130313139",
    "9F6B084761739001010119",
    "9F1F0431323334",
    "9F200135",
    "9F100706010A03A00000"
);
/// What must be kept of it.
const F55_KEPT: &str = "9F2608A1B2C3D4E5F60718950500000080009F360200429F100706010A03A00000";

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn online(icc: &str) -> OnlineRequest {
    OnlineRequest {
        icc_data: Some(h(icc)),
        cryptogram: Some("A1B2C3D4E5F60718".into()),
        ..OnlineRequest::mti("0200")
    }
}

#[test]
fn reversal_entry_carries_field_55_without_card_data() {
    let f = Fixture::new();
    let (mut j, _) = f.open();
    let p = pan(PAN);
    let t = j.begin(new_sale(1_000)).unwrap();
    j.card_read(t.id, &card(&p)).unwrap();
    j.online_pending(t.id, &online(F55_WITH_CARD_DATA)).unwrap();
    j.require_reversal(t.id, "no-response").unwrap();
    let q = j.pending_reversals().unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].icc_data.as_deref(), Some(&h(F55_KEPT)[..]));
    // Nothing of the card data objects reached the file (PAN, track 2 in BCD, name).
    drop(j);
    let mut all = std::fs::read(f.path()).unwrap();
    all.extend(std::fs::read(f.path().with_file_name("journal.db-wal")).unwrap_or_default());
    for needle in [
        h("4761739001010119"),
        h("D29122011234500000001F"),
        b"SMITH JOHN".to_vec(),
        b"B4761739001010119".to_vec(),
    ] {
        assert!(
            !contains(&all, &needle),
            "{needle:02X?} found in the journal file"
        );
    }
    assert!(
        contains(&all, &h(F55_KEPT)),
        "the kept field 55 is in the file"
    );
}

#[test]
fn crash_recovery_reversal_has_the_field_55_sent() {
    let f = Fixture::new();
    let id = {
        let (mut j, _) = f.open();
        let t = j.begin(new_sale(2_000)).unwrap();
        j.card_read(t.id, &card(&pan(PAN))).unwrap();
        j.online_pending(t.id, &online(F55_KEPT)).unwrap();
        t.id
    };
    let (j, report) = f.open();
    assert_eq!(report.recovered_reversals, vec![id]);
    let q = j.pending_reversals().unwrap();
    assert_eq!(q[0].icc_data.as_deref(), Some(&h(F55_KEPT)[..]));
}

#[test]
fn advice_entry_carries_the_tc_and_is_dropped_once_sent() {
    let f = Fixture::new();
    let (mut j, _) = f.open();
    let t = j.begin(new_sale(500)).unwrap();
    j.card_read(t.id, &card(&pan(PAN))).unwrap();
    j.offline_approve(
        t.id,
        &OfflineApproval {
            icc_data: Some(h(F55_WITH_CARD_DATA)),
            ..offline()
        },
    )
    .unwrap();
    j.complete(t.id, &Completion::default()).unwrap();
    let q = j.pending_advices().unwrap();
    assert_eq!(
        q[0].icc_data.as_deref(),
        Some(&h(F55_KEPT)[..]),
        "kept while the advice is pending, though the sale is completed"
    );
    j.mark_advice_sent(t.id).unwrap();
    let (n,): (i64,) = {
        drop(j);
        let c = rusqlite::Connection::open(f.path()).unwrap();
        c.query_row("SELECT count(*) FROM queue_icc", [], |r| Ok((r.get(0)?,)))
            .unwrap()
    };
    assert_eq!(n, 0, "field 55 dropped once nothing will repeat it");
}

#[test]
fn online_completion_drops_field_55_and_malformed_icc_is_refused() {
    let f = Fixture::new();
    let (mut j, _) = f.open();
    let t = j.begin(new_sale(700)).unwrap();
    j.card_read(t.id, &card(&pan(PAN))).unwrap();
    // A template longer than the data cannot be shown to hold no PAN: refused, state unchanged.
    let bad = j.online_pending(t.id, &online("700E9F1F03313233"));
    assert!(
        matches!(
            bad,
            Err(JournalError::InvalidField {
                field: "icc_data",
                ..
            })
        ),
        "{bad:?}"
    );
    assert_eq!(j.get(t.id).unwrap().state, TxnState::CardRead);
    j.online_pending(t.id, &online(F55_KEPT)).unwrap();
    j.approve(t.id, &approval("000000000701")).unwrap();
    j.complete(t.id, &Completion::default()).unwrap();
    drop(j);
    let c = rusqlite::Connection::open(f.path()).unwrap();
    let n: i64 = c
        .query_row("SELECT count(*) FROM queue_icc", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
}

/// A journal file written by the previous schema (version 4) with a sale left online and an
/// offline approval whose advice is pending: opening it applies migrations 5 and 6 only, recovers the
/// sale (reversal queued, no field 55: it was never stored), keeps the advice, and new
/// transactions keep their field 55.
#[test]
fn a_schema_4_journal_file_upgrades() {
    let f = Fixture::new();
    {
        let mut c = rusqlite::Connection::open(f.path()).unwrap();
        let tx = c.transaction().unwrap();
        for m in schema::MIGRATIONS.iter().filter(|m| m.version <= 4) {
            tx.execute_batch(m.sql).unwrap();
            tx.execute(
                "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?1, ?2, 0)",
                params![m.version, m.name],
            )
            .unwrap();
        }
        tx.pragma_update(None, "user_version", 4).unwrap();
        tx.execute(
            "UPDATE counters SET issued = CASE name WHEN 'batch' THEN 1 ELSE 2 END",
            [],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO batches(id, batch_no, opened_at) VALUES (1, 1, ?1)",
            [T0.0],
        )
        .unwrap();
        for (id, stan) in [(1, 1), (2, 2)] {
            tx.execute(
                "INSERT INTO transactions(id, uuid, kind, state, stan, invoice, batch_id, batch_no, amount, currency, \
                 operator_id, created_at, updated_at) VALUES (?1, ?2, 'sale', 'created', ?3, ?3, 1, 1, 1000, '156', 'op1', ?4, ?4)",
                params![id, format!("00000000-0000-4000-8000-00000000000{id}"), stan, T0.0],
            )
            .unwrap();
        }
        // Through the legal edges (the state guard trigger of schema 2 is live).
        for sql in [
            "UPDATE transactions SET state = 'card_read', pan_masked = '476173******0119' WHERE id IN (1, 2)",
            "UPDATE transactions SET state = 'online_pending', mti = '0200' WHERE id = 1",
            "UPDATE transactions SET state = 'offline_approved', response_code = 'Y1', cryptogram = '1122334455667788' WHERE id = 2",
            "UPDATE transactions SET state = 'completed' WHERE id = 2",
        ] {
            tx.execute(sql, []).unwrap();
        }
        tx.execute(
            "INSERT INTO queue(txn_id, kind, created_at) VALUES (2, 'advice', ?1)",
            [T0.0],
        )
        .unwrap();
        tx.commit().unwrap();
    }
    let (mut j, report) = f.open();
    assert_eq!(report.schema_version_before, 4);
    assert_eq!(report.migrations_applied, vec![5, 6]);
    assert_eq!(report.schema_version, schema::LATEST);
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    assert_eq!(report.recovered_reversals, vec![TxnId(1)]);
    let r = j.pending_reversals().unwrap();
    assert_eq!((r.len(), r[0].icc_data.clone()), (1, None));
    let a = j.pending_advices().unwrap();
    assert_eq!((a.len(), a[0].stan, a[0].icc_data.clone()), (1, 2, None));
    // The upgraded file takes field 55 for new transactions.
    let t = j.begin(new_sale(300)).unwrap();
    assert_eq!(t.stan, 3, "counters carried over");
    j.card_read(t.id, &card(&pan(PAN))).unwrap();
    j.online_pending(t.id, &online(F55_WITH_CARD_DATA)).unwrap();
    j.require_reversal(t.id, "no-response").unwrap();
    let r = j.pending_reversals().unwrap();
    assert_eq!(r[1].icc_data.as_deref(), Some(&h(F55_KEPT)[..]));
    j.mark_reversed(TxnId(1)).unwrap();
    j.mark_advice_sent(TxnId(2)).unwrap();
}
