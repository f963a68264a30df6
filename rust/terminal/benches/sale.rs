//! A whole contactless sale: virtual contactless card through the Entry Point and kernel C-3, HostSim on loopback TCP, journal
//! on disk with fsync (WAL, synchronous = FULL). Criterion gives the median; a plain loop of 200
//! sales prints median and p99. Then the same with 100,000 completed sales already journalled.

use criterion::{Criterion, criterion_group, criterion_main};
use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_journal::{
    AesGcmPanProtector, CardData, Completion, EntryMode, HostResponse, Journal, JournalConfig,
    ManualClock, NewTransaction, OnlineRequest, Pan, Timestamp, TxnKind,
};
use smartpos_sim::contactless::pki::TestPki as ClPki;
use smartpos_sim::contactless::{Profile, Scheme, VirtualCard};
use smartpos_sim::hostsim::HostSim;
use smartpos_sim::pki::TestPki;
use smartpos_terminal::sim_devices::{SimHandles, SimPresentation, sim_devices};
use smartpos_terminal::{
    AllowAll, CancelToken, OpenOptions, OperatorId, SaleRequest, Settings, SoftKeyStore, Terminal,
};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The Visa contactless test PKI (generated once).
fn visa_pki() -> Arc<ClPki> {
    static PKI: OnceLock<Arc<ClPki>> = OnceLock::new();
    PKI.get_or_init(|| Arc::new(ClPki::generate(Scheme::Visa.rid()).expect("contactless pki")))
        .clone()
}

const HASH_KEY: [u8; 32] = [7; 32];
const DATA_KEY: [u8; 32] = [9; 32];

fn dir(tag: &str) -> PathBuf {
    let d = std::env::current_dir()
        .unwrap_or_else(|_| std::env::temp_dir())
        .join(format!(
            "target-bench-terminal-{tag}-{}",
            std::process::id()
        ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("bench dir");
    d
}

fn open(sim: &HostSim, d: &Path, journal: &Path) -> (Terminal, SimHandles) {
    let tmk =
        SecretKey::from_hex(KeyAlgorithm::Tdes2, "11111111111111112222222222222222").expect("tmk");
    let keys = Arc::new(Mutex::new(SoftKeyStore::with_keys(tmk, HASH_KEY, DATA_KEY)));
    let pki = TestPki::shared().expect("pki");
    let mut cfg = smartpos_emv::TerminalConfig::demo().expect("emv");
    cfg.terminal.revoked_certificates = pki.revocation_list();
    let mut s = Settings::default();
    s.host.address = sim.addr().to_string();
    // Contactless amounts repeat (they stay between the floor and the CVM limit).
    s.risk.duplicate_window_secs = 0;
    let (devices, h) = sim_devices(Some("1234"), keys.clone());
    let t = Terminal::open_with(
        d,
        devices,
        keys,
        journal,
        Box::new(AllowAll(OperatorId("sup".into()))),
        OpenOptions {
            emv_config: Some(cfg),
            ca_keys: Some({
                let mut k = pki.key_store().expect("ca");
                visa_pki().install(&mut k).expect("contactless ca");
                k
            }),
            settings: Some(s),
            clock: None,
        },
    )
    .expect("terminal");
    (t, h)
}

/// Amounts end in 00: none of HostSim's decline rules (amounts ending 51, 55, 05, 91, 96) applies.
/// 200.00-299.00: above the reader's floor limit (ONLINE REQUEST), under the CVM limit, ending
/// in 00 (none of HostSim's decline rules applies).
fn contactless_amount(n: u64) -> u64 {
    20_000 + (n % 100) * 100
}

fn one_sale(t: &mut Terminal, h: &SimHandles, amount: u64) {
    // An online-only card: every tap is an ONLINE REQUEST (ARQC to HostSim).
    h.reader.push(SimPresentation::Tap(Box::new(
        VirtualCard::new(Profile::visa_online_only(), visa_pki()).expect("card"),
    )));
    let out = t
        .sale(
            &SaleRequest::card(contactless_amount(amount), "c1"),
            &CancelToken::new(),
        )
        .expect("sale");
    assert!(out.is_approved());
}

/// 100,000 completed sales, written through the journal API (on tmpfs when available, then
/// copied next to the bench) dated 30 days back.
fn populate(journal: &Path, n: u32) {
    let shm = Path::new("/dev/shm");
    let work = if shm.is_dir() {
        shm.join(format!("smartpos-bench-{}.db", std::process::id()))
    } else {
        journal.to_path_buf()
    };
    {
        let clock = ManualClock::new(Timestamp(1_792_600_000_000));
        let protector = AesGcmPanProtector::new(&HASH_KEY, &DATA_KEY, 1).expect("protector");
        let (mut j, _) = Journal::open(
            &work,
            JournalConfig::default(),
            Box::new(clock.clone()),
            Box::new(protector),
        )
        .expect("journal");
        let pans = [
            "4761739001010010",
            "5413330089010434",
            "6214000000000000019",
        ];
        for i in 0..n {
            clock.advance_millis(20);
            let r = j
                .begin(NewTransaction::new(
                    TxnKind::Sale,
                    100 + i64::from(i % 5000),
                    "156",
                    "c1",
                ))
                .expect("begin");
            let pan = Pan::parse(pans[(i % 3) as usize]).expect("pan");
            j.card_read(r.id, &CardData::new(&pan, EntryMode::Contactless))
                .expect("card");
            j.online_pending(r.id, &OnlineRequest::mti("0200"))
                .expect("pending");
            j.approve(
                r.id,
                &HostResponse {
                    response_code: "00".into(),
                    rrn: Some(format!("{:012}", i)),
                    auth_code: Some("A1B2C3".into()),
                    host_time: None,
                },
            )
            .expect("approve");
            j.complete(r.id, &Completion::default()).expect("complete");
        }
    }
    if work != journal {
        for suffix in ["", "-wal", "-shm"] {
            let from = PathBuf::from(format!("{}{suffix}", work.display()));
            let to = PathBuf::from(format!("{}{suffix}", journal.display()));
            if from.exists() {
                std::fs::copy(&from, &to).expect("copy journal");
                let _ = std::fs::remove_file(&from);
            }
        }
        let _ = std::fs::remove_file(format!("{}-owner", work.display()));
    }
}

fn percentiles(t: &mut Terminal, h: &SimHandles, label: &str, base: u64) {
    let mut v: Vec<Duration> = (0..200u64)
        .map(|i| {
            let start = Instant::now();
            one_sale(t, h, base + i);
            start.elapsed()
        })
        .collect();
    v.sort();
    println!(
        "{label}: 200 sales, median {:?}, p99 {:?}",
        v[v.len() / 2],
        v[v.len() * 99 / 100]
    );
}

fn bench(c: &mut Criterion) {
    let sim = HostSim::start_default().expect("sim");
    let d = dir("empty");
    let (mut t, h) = open(&sim, &d, &d.join("journal.db"));
    let mut amount = 1_000u64;
    c.bench_function("contactless_sale_empty_journal", |b| {
        b.iter(|| {
            amount += 1;
            one_sale(&mut t, &h, amount)
        })
    });
    percentiles(&mut t, &h, "empty journal", 500_000);
    drop(t);

    let d2 = dir("100k");
    let jp = d2.join("journal.db");
    populate(&jp, 100_000);
    let (mut t2, h2) = open(&sim, &d2, &jp);
    let mut amount = 2_000u64;
    c.bench_function("contactless_sale_100k_journal", |b| {
        b.iter(|| {
            amount += 1;
            one_sale(&mut t2, &h2, amount)
        })
    });
    percentiles(&mut t2, &h2, "100k journal", 600_000);
    drop(t2);
    let _ = std::fs::remove_dir_all(&d);
    let _ = std::fs::remove_dir_all(&d2);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
