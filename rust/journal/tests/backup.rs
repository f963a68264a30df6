//! Online backup of a live journal while another connection writes, and restore by opening the copy.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::*;
use smartpos_journal::*;

#[test]
fn backup_while_another_connection_writes_then_restore() {
    let f = Fixture::new();
    let (mut j, _) = f.open();
    let p = pan(PAN);
    for i in 0..50 {
        completed_sale(&mut j, &p, 100 + i, &format!("6000000005{i:02}"));
    }
    let pending = j.begin(new_sale(5)).unwrap();
    j.card_read(pending.id, &card(&p)).unwrap();
    j.online_pending(pending.id, &OnlineRequest::mti("0200"))
        .unwrap();

    // The owning journal keeps writing on another thread while backups are taken through
    // separate read-only connections.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let p = pan(PAN2);
            let mut n = 0u32;
            while !stop.load(Ordering::SeqCst) || n < 5 {
                let t = j.begin(new_sale(1)).unwrap();
                j.card_read(t.id, &card(&p)).unwrap();
                j.abort(t.id, "writer").unwrap();
                n += 1;
            }
            (j, n)
        })
    };
    let mut copies = Vec::new();
    for k in 0..5 {
        let dest = f.dir.path().join(format!("backup-{k}.db"));
        let pages = backup_file(f.path(), &dest, std::time::Duration::from_secs(5)).unwrap();
        assert!(pages > 1);
        copies.push(dest);
    }
    stop.store(true, Ordering::SeqCst);
    let (mut j, written) = writer.join().unwrap();
    assert!(written >= 5);
    let own = f.dir.path().join("backup-own.db");
    j.backup(&own).unwrap();
    copies.push(own);

    for dest in &copies {
        // Restore = open the copy. It is a consistent snapshot: invariants hold and every row is
        // in a legal state (a writer transaction caught between commits is recovered like after
        // a crash).
        let (r, rep) = open_at(dest, &f.clock);
        assert!(rep.violations.is_empty(), "{:?}", rep.violations);
        let sales = r
            .list(
                &TxnFilter {
                    states: vec![TxnState::Completed],
                    ..TxnFilter::default()
                },
                None,
                500,
            )
            .unwrap();
        assert_eq!(sales.items.len(), 50);
        assert_eq!(r.get(sales.items[0].id).unwrap().amount, 149);
        // the online-pending sale in the copy is recovered as a reversal, like after a crash
        assert_eq!(rep.recovered_reversals, vec![pending.id]);
        assert_eq!(r.pending_reversals().unwrap().len(), 1);
    }
    // The live journal is unaffected by the backups.
    assert_eq!(j.get(pending.id).unwrap().state, TxnState::OnlinePending);
    let audit = j.audit_log(None, None, u32::MAX).unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|a| a.action == "journal.backup")
            .count(),
        1
    );
}

#[test]
fn only_one_journal_owns_a_file() {
    let f = Fixture::new();
    let (mut j, _) = f.open();
    let t = j.begin(new_sale(5)).unwrap();
    j.card_read(t.id, &card(&pan(PAN))).unwrap();
    j.online_pending(t.id, &OnlineRequest::mti("0200")).unwrap();
    // A second open must not run crash recovery on the owner's in-flight transaction.
    let err = Journal::open(
        f.path(),
        JournalConfig::default(),
        Box::new(f.clock.clone()),
        protector(),
    )
    .unwrap_err();
    assert!(matches!(err, JournalError::InUse { .. }), "{err}");
    assert_eq!(j.get(t.id).unwrap().state, TxnState::OnlinePending);
    drop(j);
    let (_j, r) = f.open();
    assert_eq!(r.recovered_reversals, vec![t.id]);
}
