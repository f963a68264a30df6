//! Shared helpers for the journal's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use smartpos_journal::*;

/// 2026-11-21T10:00:00Z.
pub const T0: Timestamp = Timestamp(1_795_255_200_000);
/// A Visa test PAN (EMVCo / scheme test card numbers are public).
pub const PAN: &str = "4761739001010119";
pub const PAN2: &str = "5413330089020011";
pub const HASH_KEY: [u8; 32] = [0x5a; 32];
pub const DATA_KEY: [u8; 32] = [0xa5; 32];

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub clock: ManualClock,
}

impl Fixture {
    pub fn new() -> Self {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
            clock: ManualClock::new(T0),
        }
    }

    /// A fixture on tmpfs when there is one: for tests of logic (not durability) that make
    /// thousands of commits, where an fsync per commit would only add minutes.
    pub fn on_tmpfs() -> Self {
        let dir = if Path::new("/dev/shm").is_dir() {
            tempfile::tempdir_in("/dev/shm").unwrap_or_else(|_| tempfile::tempdir().unwrap())
        } else {
            tempfile::tempdir().unwrap()
        };
        Fixture {
            dir,
            clock: ManualClock::new(T0),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("journal.db")
    }

    pub fn open(&self) -> (Journal, OpenReport) {
        open_at(&self.path(), &self.clock)
    }
}

pub fn protector() -> Box<dyn PanProtector> {
    Box::new(AesGcmPanProtector::new(&HASH_KEY, &DATA_KEY, 1).unwrap())
}

pub fn open_at(path: &Path, clock: &ManualClock) -> (Journal, OpenReport) {
    Journal::open(
        path,
        JournalConfig::default(),
        Box::new(clock.clone()),
        protector(),
    )
    .unwrap()
}

pub fn pan(s: &str) -> Pan {
    Pan::parse(s).unwrap()
}

pub fn card(p: &Pan) -> CardData<'_> {
    CardData {
        scheme: Some("visa".into()),
        aid: Some("A0000000031010".into()),
        app_label: Some("VISA CREDIT".into()),
        tvr: Some("0000008000".into()),
        tsi: Some("E800".into()),
        cvm_result: Some("1F0302".into()),
        ..CardData::new(p, EntryMode::Contact)
    }
}

pub fn approval(rrn: &str) -> HostResponse {
    HostResponse {
        response_code: "00".into(),
        rrn: Some(rrn.into()),
        auth_code: Some("A1B2C3".into()),
        host_time: Some("1121100000".into()),
    }
}

pub fn decline() -> Decline {
    Decline {
        response_code: Some("05".into()),
        rrn: None,
        host_time: None,
        reason: "do not honour".into(),
    }
}

pub fn offline() -> OfflineApproval {
    OfflineApproval {
        response_code: "Y1".into(),
        cryptogram: "1122334455667788".into(),
        tvr: Some("0000000000".into()),
        tsi: Some("E800".into()),
        cvm_result: None,
        icc_data: None,
    }
}

pub fn new_sale(amount: i64) -> NewTransaction {
    NewTransaction::new(TxnKind::Sale, amount, "156", "op1")
}

/// A completed, host-approved sale of `amount` with card `p`.
pub fn completed_sale(j: &mut Journal, p: &Pan, amount: i64, rrn: &str) -> TransactionRecord {
    let t = j.begin(new_sale(amount)).unwrap();
    j.card_read(t.id, &card(p)).unwrap();
    j.online_pending(t.id, &OnlineRequest::mti("0200")).unwrap();
    j.approve(t.id, &approval(rrn)).unwrap();
    j.complete(t.id, &Completion::default()).unwrap()
}

/// Everything observable about a record (and its original), for "unchanged" checks.
pub type Snapshot = (
    TransactionRecord,
    Option<TransactionRecord>,
    u64,
    Vec<QueueEntry>,
    Vec<QueueEntry>,
);

pub fn snapshot(j: &Journal, id: TxnId) -> Snapshot {
    let rec = j.get(id).unwrap();
    let orig = rec.original_id.map(|o| j.get(o).unwrap());
    (
        rec,
        orig,
        j.audit_count().unwrap(),
        j.pending_reversals().unwrap(),
        j.pending_advices().unwrap(),
    )
}
