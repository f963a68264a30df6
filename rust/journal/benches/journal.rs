//! Journal benchmarks: a whole sale (five durable transitions, `synchronous = FULL`, temp file)
//! on an empty journal and on one already holding 100 000 transactions, and the same-card sum
//! query at 100 000. Run: `cargo bench -p smartpos-journal -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use rusqlite::params;
use smartpos_journal::*;

const T0: Timestamp = Timestamp(1_795_255_200_000);
/// Card whose history the queries read (100 of the 100 000 prefilled transactions).
const PAN: &str = "4761739001010119";
/// Card used by the lifecycle benchmark, so its sales do not grow the queried card's history.
const SALE_PAN: &str = "5413330089020011";

fn open(path: &Path, clock: &ManualClock) -> Journal {
    let protector = AesGcmPanProtector::new(&[0x5a; 32], &[0xa5; 32], 1).unwrap();
    let config = JournalConfig {
        integrity_check: false,
        ..JournalConfig::default()
    };
    Journal::open(path, config, Box::new(clock.clone()), Box::new(protector))
        .unwrap()
        .0
}

fn sale(j: &mut Journal, pan: &Pan, n: u64) {
    let t = j
        .begin(NewTransaction::new(TxnKind::Sale, 1_000, "156", "op1"))
        .unwrap();
    let card = CardData {
        scheme: Some("visa".into()),
        aid: Some("A0000000031010".into()),
        tvr: Some("0000008000".into()),
        ..CardData::new(pan, EntryMode::Contactless)
    };
    j.card_read(t.id, &card).unwrap();
    j.online_pending(t.id, &OnlineRequest::mti("0200")).unwrap();
    let resp = HostResponse {
        response_code: "00".into(),
        rrn: Some(format!("{:012}", n % 1_000_000_000_000)),
        auth_code: Some("A1B2C3".into()),
        host_time: None,
    };
    j.approve(t.id, &resp).unwrap();
    black_box(j.complete(t.id, &Completion::default()).unwrap());
}

/// Fill a journal with `n` completed sales in one SQLite transaction: 1 000 distinct cards
/// (keyed hashes), one of them `PAN`, spread over the last 30 days.
fn prefill(path: &Path, clock: &ManualClock, n: i64) -> PanHash {
    let hash = {
        let j = open(path, clock);
        j.pan_hash(&Pan::parse(PAN).unwrap()).unwrap()
    };
    let mut conn = rusqlite::Connection::open(path).unwrap();
    let tx = conn.transaction().unwrap();
    let batch_id: i64 = tx
        .query_row("SELECT id FROM batches WHERE closed_at IS NULL", [], |r| {
            r.get(0)
        })
        .unwrap();
    {
        let mut ins = tx
            .prepare(
                "INSERT INTO transactions(uuid, kind, state, stan, invoice, batch_id, batch_no, amount, currency, \
                 operator_id, pan_masked, pan_hash, scheme, entry_mode, created_at, updated_at) \
                 VALUES (?1, 'sale', 'created', ?2, ?2, ?3, 1, ?4, '156', 'op1', '476173******0119', ?5, 'visa', \
                 'contactless', ?6, ?6)",
            )
            .unwrap();
        for i in 0..n {
            let card = i % 1_000;
            let h: Vec<u8> = if card == 0 {
                hash.as_bytes().to_vec()
            } else {
                let mut b = [0u8; 32];
                b[..8].copy_from_slice(&(card as u64).to_be_bytes());
                b.to_vec()
            };
            let at = T0.0 - (n - i) * (30 * 86_400_000 / n);
            ins.execute(params![
                format!("bench-{i}"),
                (i % 999_999) + 1,
                batch_id,
                100 + i % 5_000,
                h,
                at
            ])
            .unwrap();
        }
    }
    tx.execute_batch(
        "UPDATE transactions SET state = 'card_read'; UPDATE transactions SET state = 'online_pending', mti = '0200'; \
         UPDATE transactions SET state = 'approved', response_code = '00', auth_code = 'A1B2C3', rrn = printf('%012d', id); \
         UPDATE transactions SET state = 'completed';",
    )
    .unwrap();
    tx.execute(
        "UPDATE counters SET issued = ?1 WHERE name IN ('stan','invoice')",
        [n],
    )
    .unwrap();
    tx.commit().unwrap();
    hash
}

fn benches(c: &mut Criterion) {
    let pan = Pan::parse(SALE_PAN).unwrap();
    let clock = ManualClock::new(T0);

    let empty_dir = tempfile::tempdir().unwrap();
    let mut empty = open(&empty_dir.path().join("empty.db"), &clock);
    let mut n = 0u64;
    c.bench_function("sale_lifecycle/empty_journal", |b| {
        b.iter(|| {
            n += 1;
            sale(&mut empty, &pan, n)
        })
    });
    drop(empty);

    let big_dir = tempfile::tempdir().unwrap();
    let big_path = big_dir.path().join("big.db");
    let hash = prefill(&big_path, &clock, 100_000);
    let mut big = open(&big_path, &clock);
    c.bench_function("sale_lifecycle/100k_journal", |b| {
        b.iter(|| {
            n += 1;
            sale(&mut big, &pan, n)
        })
    });
    c.bench_function("card_approved_total_30d/100k_journal", |b| {
        b.iter(|| {
            black_box(
                big.card_approved_total(&hash, T0.plus_millis(-30 * 86_400_000), T0.plus_millis(1))
                    .unwrap(),
            )
        })
    });
    c.bench_function("card_approved_today/100k_journal", |b| {
        b.iter(|| black_box(big.card_approved_today(&hash, 480).unwrap()))
    });
    c.bench_function("find_duplicate_60s/100k_journal", |b| {
        b.iter(|| black_box(big.find_duplicate(&hash, 1_000, 60).unwrap()))
    });
    c.bench_function("find_by_rrn/100k_journal", |b| {
        b.iter(|| black_box(big.find_by_rrn("000000050000").unwrap()))
    });
    drop(big);

    // The same lifecycle on tmpfs, where fsync is free: isolates the CPU and index cost, which
    // the disk's fsync latency otherwise hides.
    if Path::new("/dev/shm").is_dir() {
        let dir = tempfile::tempdir_in("/dev/shm").unwrap();
        let mut small = open(&dir.path().join("empty.db"), &clock);
        c.bench_function("sale_lifecycle_tmpfs/empty_journal", |b| {
            b.iter(|| {
                n += 1;
                sale(&mut small, &pan, n)
            })
        });
        drop(small);
        let path = dir.path().join("big.db");
        prefill(&path, &clock, 100_000);
        let mut big = open(&path, &clock);
        c.bench_function("sale_lifecycle_tmpfs/100k_journal", |b| {
            b.iter(|| {
                n += 1;
                sale(&mut big, &pan, n)
            })
        });
    }
    let big = open(&big_path, &clock);
    let total = big
        .card_approved_total(&hash, T0.plus_millis(-30 * 86_400_000), T0.plus_millis(1))
        .unwrap();
    assert_eq!(
        total.count, 100,
        "the bench card has its prefilled history only: {total:?}"
    );
}

/// Field 55 of a contact ARQC request as a kernel hands it over, with the PAN (5A) and track 2
/// (57) the journal strips before storing (EMV Book 4 §6.5.6 data elements).
const F55: &str = concat!(
    "9F2608A1B2C3D4E5F607189F2701809F100706010A03A000009F3704A1B2C3D4",
    "9F36020042950500000080009A032611219C01009F02060000000042005F2A020156",
    "820219809F1A0201569F33036028C89F34031E0300",
    "5A084761739001010119",
    "57134761739001010119D29122011234500000001F"
);

/// Field 55 kept with queued reversals: the strip itself, and a reversal's whole journal path
/// with its field 55 (online_pending with ICC data, require_reversal, the queue read that
/// rebuilds the 0400, mark_reversed) on tmpfs where fsync is free.
fn queue_benches(c: &mut Criterion) {
    let f55: Vec<u8> = (0..F55.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&F55[i..i + 2], 16).unwrap())
        .collect();
    c.bench_function("icc/strip_card_data_field55", |b| {
        b.iter(|| black_box(icc::strip_card_data(black_box(&f55)).unwrap()))
    });
    let dir = if Path::new("/dev/shm").is_dir() {
        tempfile::tempdir_in("/dev/shm").unwrap()
    } else {
        tempfile::tempdir().unwrap()
    };
    let clock = ManualClock::new(T0);
    let mut j = open(&dir.path().join("queue.db"), &clock);
    let pan = Pan::parse(SALE_PAN).unwrap();
    c.bench_function("reversal_queue_with_field55/tmpfs", |b| {
        b.iter(|| {
            let t = j
                .begin(NewTransaction::new(TxnKind::Sale, 1_000, "156", "op1"))
                .unwrap();
            j.card_read(t.id, &CardData::new(&pan, EntryMode::Contact))
                .unwrap();
            let req = OnlineRequest {
                icc_data: Some(f55.clone()),
                ..OnlineRequest::mti("0200")
            };
            j.online_pending(t.id, &req).unwrap();
            j.require_reversal(t.id, "no-response").unwrap();
            let q = j.pending_reversals().unwrap();
            black_box(q.first().and_then(|e| e.icc_data.as_ref()).map(Vec::len));
            j.mark_reversed(t.id).unwrap();
        })
    });
}

criterion_group!(journal, benches, queue_benches);
criterion_main!(journal);
