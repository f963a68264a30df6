//! Sensitive data: the full PAN never reaches the database file, the WAL, exports, the audit log
//! or `Debug` output — except encrypted, when the caller asks for it.

mod common;

use common::*;
use smartpos_journal::*;

fn bcd(digits: &str) -> Vec<u8> {
    digits
        .as_bytes()
        .chunks(2)
        .map(|c| ((c[0] - b'0') << 4) | (c.get(1).map_or(0xF, |d| d - b'0')))
        .collect()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn file_bytes(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

fn scan(f: &Fixture, what: &str) -> (bool, bool) {
    let db = f.path();
    let wal = db.with_file_name("journal.db-wal");
    let mut all = file_bytes(&db);
    all.extend(file_bytes(&wal));
    assert!(all.len() > 4096, "{what}: nothing to scan");
    for pan_digits in [PAN, PAN2] {
        assert!(
            !contains(&all, pan_digits.as_bytes()),
            "{what}: ASCII PAN {pan_digits} found in file"
        );
        let b = bcd(pan_digits);
        assert!(!contains(&all, &b), "{what}: BCD PAN found in file");
        // also the right-justified BCD form of an odd-length field and the first 12 digits
        assert!(
            !contains(&all, &bcd(&pan_digits[..12])),
            "{what}: BCD PAN prefix found"
        );
    }
    (
        contains(&all, b"476173******0119"),
        contains(&all, b"541333******0011"),
    )
}

#[test]
fn pan_never_in_database_or_wal_files() {
    let f = Fixture::new();
    let (mut j, _) = f.open();
    let p1 = pan(PAN);
    let p2 = pan(PAN2);
    let exp = Expiry::parse("2912").unwrap();
    for i in 0..20 {
        let p = if i % 2 == 0 { &p1 } else { &p2 };
        let t = j.begin(new_sale(100 + i)).unwrap();
        let mut c = card(p);
        c.keep_encrypted_pan = i % 3 == 0;
        c.expiry = Some(&exp);
        j.card_read(t.id, &c).unwrap();
        j.online_pending(t.id, &OnlineRequest::mti("0200")).unwrap();
        j.approve(t.id, &approval(&format!("6000000003{i:02}")))
            .unwrap();
        j.complete(t.id, &Completion::default()).unwrap();
    }
    // attempts to sneak a PAN into free text are refused
    let t = j.begin(new_sale(1)).unwrap();
    assert!(matches!(
        j.abort(t.id, &format!("bad card {PAN}")),
        Err(JournalError::InvalidField {
            field: "reason",
            ..
        })
    ));
    assert!(
        j.record_audit("op1", "note", None, &serde_json::json!({ "pan": PAN }))
            .is_err()
    );
    j.record_audit(
        "op1",
        "note",
        None,
        &serde_json::json!({ "card": "476173******0119" }),
    )
    .unwrap();
    // while open: main file + WAL
    let (m1, m2) = scan(&f, "live");
    assert!(
        m1 && m2,
        "the masked PANs are there, so the scan does read the records"
    );
    drop(j);
    // after close (WAL checkpointed into the main file)
    scan(&f, "closed");
    // a backup copy too
    let (mut j, _) = f.open();
    let copy = f.dir.path().join("copy.db");
    j.backup(&copy).unwrap();
    let bytes = file_bytes(&copy);
    assert!(!contains(&bytes, PAN.as_bytes()) && !contains(&bytes, &bcd(PAN)));
    assert!(contains(&bytes, b"476173******0119"));
}

#[test]
fn encrypted_pan_round_trips_only_with_the_key_and_its_record() {
    let f = Fixture::new();
    let (mut j, _) = f.open();
    let p = pan(PAN);
    let exp = Expiry::parse("2912").unwrap();
    let t = j.begin(new_sale(100)).unwrap();
    let mut c = card(&p);
    c.keep_encrypted_pan = true;
    c.expiry = Some(&exp);
    let rec = j.card_read(t.id, &c).unwrap();
    assert!(rec.pan_encrypted.is_some());
    let back = j.decrypt_pan(t.id).unwrap();
    assert_eq!(back.pan.expose(), PAN);
    assert_eq!(back.expiry.as_ref().map(Expiry::expose), Some("2912"));
    // without keep_encrypted_pan, no PAN and no expiry are kept at all
    let t2 = j.begin(new_sale(100)).unwrap();
    let mut c2 = card(&p);
    c2.expiry = Some(&exp);
    assert!(j.card_read(t2.id, &c2).unwrap().pan_encrypted.is_none());
    assert!(matches!(
        j.decrypt_pan(t2.id),
        Err(JournalError::NotFound { .. })
    ));
    // a blob moved to another record does not open (bound to the record UUID)
    drop(j);
    let conn = rusqlite::Connection::open(f.path()).unwrap();
    conn.execute("UPDATE transactions SET pan_enc = (SELECT pan_enc FROM transactions WHERE id = ?1) WHERE id = ?2", [t.id.0, t2.id.0])
        .unwrap();
    drop(conn);
    let (j, _) = f.open();
    assert!(matches!(
        j.decrypt_pan(t2.id),
        Err(JournalError::PanDecryption)
    ));
    // the wrong data key does not open it either
    drop(j);
    let wrong = AesGcmPanProtector::new(&HASH_KEY, &[0x01; 32], 1).unwrap();
    let (j2, _) = Journal::open(
        f.path(),
        JournalConfig::default(),
        Box::new(f.clock.clone()),
        Box::new(wrong),
    )
    .unwrap();
    assert!(matches!(
        j2.decrypt_pan(t.id),
        Err(JournalError::PanDecryption)
    ));
    drop(j2);
    let (mut j, _) = f.open();
    j.forget_pan(t.id).unwrap();
    assert!(j.get(t.id).unwrap().pan_encrypted.is_none());
}

#[test]
fn debug_and_exports_show_only_masked_data() {
    let f = Fixture::new();
    let (mut j, _) = f.open();
    let p = pan(PAN);
    let t = j
        .begin(NewTransaction {
            merchant_order_ref: Some("ORD,\"42\"".into()),
            ..new_sale(1_000)
        })
        .unwrap();
    let mut c = card(&p);
    c.keep_encrypted_pan = true;
    j.card_read(t.id, &c).unwrap();
    j.online_pending(t.id, &OnlineRequest::mti("0200")).unwrap();
    j.approve(t.id, &approval("600000000401")).unwrap();
    let rec = j.complete(t.id, &Completion::default()).unwrap();
    let dbg = format!("{rec:?}");
    assert!(!dbg.contains(PAN), "{dbg}");
    assert!(dbg.contains("476173******0119"));
    assert!(dbg.contains("EncryptedPan(<"));
    assert!(!format!("{p:?}").contains(PAN));

    let mut csv = Vec::new();
    assert_eq!(
        j.export_transactions_csv(&TxnFilter::default(), &mut csv)
            .unwrap(),
        1
    );
    let csv = String::from_utf8(csv).unwrap();
    let mut lines = csv.split("\r\n");
    let header = lines.next().unwrap();
    assert!(header.starts_with("id,uuid,created_at"));
    let row = lines.next().unwrap();
    assert!(
        row.contains("476173******0119")
            && row.contains("600000000401")
            && row.contains("\"ORD,\"\"42\"\"\""),
        "{row}"
    );
    assert!(row.contains(",000001,"), "six-digit STAN: {row}");
    assert!(!csv.contains(PAN));

    let mut js = Vec::new();
    j.export_transactions_json(&TxnFilter::default(), &mut js)
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&js).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["pan_masked"], "476173******0119");
    assert_eq!(v[0]["state"], "completed");
    assert_eq!(v[0]["amount"], 1000);
    assert!(v[0].get("pan_hash").is_none() && v[0].get("pan_encrypted").is_none());
    assert!(!String::from_utf8(js).unwrap().contains(PAN));

    let mut a = Vec::new();
    let n = j.export_audit_json(None, None, &mut a).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&a).unwrap();
    assert_eq!(v.as_array().unwrap().len(), n);
    let actions: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for want in [
        "batch.open",
        "txn.created",
        "txn.card_read",
        "txn.online_pending",
        "txn.approved",
        "txn.completed",
    ] {
        assert!(actions.contains(&want), "{want} in {actions:?}");
    }
    assert!(!String::from_utf8(a).unwrap().contains(PAN));
    let mut ac = Vec::new();
    j.export_audit_csv(None, None, &mut ac).unwrap();
    let ac = String::from_utf8(ac).unwrap();
    assert!(ac.starts_with("id,at,operator_id,action,txn_id,details\r\n"));
    assert_eq!(ac.matches("\r\n").count(), n + 1);
}

#[test]
fn audit_entry_is_atomic_with_its_action() {
    let f = Fixture::new();
    let (mut j, _) = f.open();
    let t = j.begin(new_sale(10)).unwrap();
    let n = j.audit_log(None, None, u32::MAX).unwrap().len();
    // refused transition: no audit entry
    assert!(j.complete(t.id, &Completion::default()).is_err());
    assert_eq!(j.audit_log(None, None, u32::MAX).unwrap().len(), n);
    // accepted transition: exactly one
    j.abort(t.id, "operator cancelled").unwrap();
    let log = j.audit_of(t.id).unwrap();
    assert_eq!(
        log.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        vec!["txn.created", "txn.aborted"]
    );
    assert_eq!(log[1].operator_id, "op1");
    assert!(log[1].details.contains("operator cancelled"));
    // the audit log is append-only
    drop(j);
    let conn = rusqlite::Connection::open(f.path()).unwrap();
    assert!(conn.execute("DELETE FROM audit_log", []).is_err());
    assert!(
        conn.execute("UPDATE audit_log SET action = 'x'", [])
            .is_err()
    );
}

#[test]
fn blob_sealed_under_another_key_id_is_refused_by_id() {
    let f = Fixture::new();
    let (mut j, _) = f.open();
    let p = pan(PAN);
    let t = j.begin(new_sale(100)).unwrap();
    let mut c = card(&p);
    c.keep_encrypted_pan = true;
    let rec = j.card_read(t.id, &c).unwrap();
    assert_eq!(
        rec.pan_encrypted.as_ref().and_then(EncryptedPan::key_id),
        Some(1)
    );
    drop(j);
    let rotated = AesGcmPanProtector::new(&HASH_KEY, &DATA_KEY, 2).unwrap();
    let (j, _) = Journal::open(
        f.path(),
        JournalConfig::default(),
        Box::new(f.clock.clone()),
        Box::new(rotated),
    )
    .unwrap();
    assert!(matches!(
        j.decrypt_pan(t.id),
        Err(JournalError::InvalidKey {
            name: "data_key",
            ..
        })
    ));
    // the keyed hash does not depend on the data key: velocity keeps working across rotation
    assert_eq!(j.pan_hash(&p).unwrap(), rec.pan_hash.unwrap());
}

#[test]
fn export_respects_filters() {
    let f = Fixture::new();
    let (mut j, r) = f.open();
    let p = pan(PAN);
    completed_sale(&mut j, &p, 100, "600000000501");
    completed_sale(&mut j, &p, 200, "600000000502");
    let closed = j.close_batch("op1").unwrap();
    completed_sale(&mut j, &p, 300, "600000000503");
    let first = TxnFilter {
        batch_id: Some(r.current_batch.id),
        ..TxnFilter::default()
    };
    let mut out = Vec::new();
    assert_eq!(j.export_transactions_json(&first, &mut out).unwrap(), 2);
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let amounts: Vec<i64> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["amount"].as_i64().unwrap())
        .collect();
    assert_eq!(amounts, vec![200, 100]);
    let second = TxnFilter {
        batch_id: Some(closed.opened.id),
        ..TxnFilter::default()
    };
    let mut csv = Vec::new();
    assert_eq!(j.export_transactions_csv(&second, &mut csv).unwrap(), 1);
    assert_eq!(String::from_utf8(csv).unwrap().matches("\r\n").count(), 2);
    let mut empty = Vec::new();
    let none = TxnFilter {
        kinds: vec![TxnKind::Refund],
        ..TxnFilter::default()
    };
    assert_eq!(j.export_transactions_json(&none, &mut empty).unwrap(), 0);
    assert_eq!(empty, b"[]");
}
