//! `PosTerminal` end to end with device callbacks written in Rust (the way Kotlin implements
//! them): HostSim on loopback TCP, a real SQLite journal, a virtual contact card of smartpos-sim.
//! Sale, decline, void, refund, settlement, cancellation, host unavailable, each error typed;
//! receipts; the device key store and the supervisor check (wrong password, lock-out, unlock,
//! tamper).

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use smartpos_ffi::sim::{
    HostSimulator, SimulatedCard, simulated_master_key, write_simulated_config,
};
use smartpos_ffi::{
    CancellationHandle, CardPresentation, KeyStoreCallback, OfflinePinEntry, PosAction,
    PosCardReader, PosCredentials, PosEvent, PosIndicators, PosJournalKeys, PosKeyAlgorithm,
    PosKeys, PosLanguage, PosOnlinePin, PosOperatorPolicy, PosOperators, PosPaymentMethod,
    PosPinPad, PosPrinter, PosQrScanner, PosReceiptCopy, PosRole, PosSaleRequest, PosSecretKey,
    PosStatus, PosTerminal, PosWorkingKey, PosWorkingKeyType, SmartPosError, SupervisorCallback,
    TransactionEvents,
};

struct ThreadWaker(std::thread::Thread);
impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Drive a future on this thread (the binding's futures complete from worker threads).
fn block_on<F: Future>(f: F) -> F::Output {
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

struct Reader {
    card: Mutex<Option<Arc<SimulatedCard>>>,
    profile: String,
    apdus: AtomicU32,
    cancel_at: Mutex<Option<(u32, Arc<CancellationHandle>)>>,
}

impl PosCardReader for Reader {
    fn detect(
        &self,
        contact: bool,
        _contactless: bool,
        _magstripe: bool,
        _timeout_ms: u64,
    ) -> Result<CardPresentation, SmartPosError> {
        assert!(contact);
        *self.card.lock().unwrap() = Some(SimulatedCard::contact(self.profile.clone())?);
        Ok(CardPresentation::Chip)
    }
    fn transceive(&self, apdu: Vec<u8>) -> Result<Vec<u8>, SmartPosError> {
        let n = self.apdus.fetch_add(1, Ordering::SeqCst);
        if let Some((at, h)) = &*self.cancel_at.lock().unwrap() {
            if *at == n {
                h.cancel();
            }
        }
        let card = self
            .card
            .lock()
            .unwrap()
            .clone()
            .ok_or(SmartPosError::Transport {
                reason: "no card".into(),
            })?;
        card.transceive(apdu)
    }
    fn wait_for_removal(&self, _timeout_ms: u64) -> Result<(), SmartPosError> {
        Ok(())
    }
}

struct Pad;
impl PosPinPad for Pad {
    fn online_pin(&self, _pan: String, _amount: u64) -> Result<PosOnlinePin, SmartPosError> {
        Ok(PosOnlinePin::Bypassed)
    }
    fn offline_pin(&self, _tries_left: Option<u8>) -> Result<OfflinePinEntry, SmartPosError> {
        Ok(OfflinePinEntry::Entered {
            digits: "1234".into(),
        })
    }
}

struct Paper(Arc<Mutex<Vec<Vec<String>>>>);
impl PosPrinter for Paper {
    fn print(&self, lines: Vec<String>, _escpos: Option<Vec<u8>>) -> Result<(), SmartPosError> {
        self.0.lock().unwrap().push(lines);
        Ok(())
    }
}

struct NoScanner;
impl PosQrScanner for NoScanner {
    fn scan(&self, _timeout_ms: u64) -> Result<String, SmartPosError> {
        Err(SmartPosError::Device {
            device: "scanner".into(),
            reason: "none".into(),
        })
    }
}

struct Leds;
impl PosIndicators for Leds {
    fn beep(&self, _success: bool) {}
    fn leds(&self, _status: String) {}
}

struct Events(Arc<Mutex<Vec<PosEvent>>>);
impl TransactionEvents for Events {
    fn on_event(&self, event: PosEvent) {
        self.0.lock().unwrap().push(event);
    }
    fn confirm_duplicate(&self, _pan_masked: String, _amount: u64) -> bool {
        true
    }
}

struct Rig {
    host: Arc<HostSimulator>,
    pos: Arc<PosTerminal>,
    reader: Arc<Reader>,
    printed: Arc<Mutex<Vec<Vec<String>>>>,
    events: Arc<Mutex<Vec<PosEvent>>>,
}

struct SharedReader(Arc<Reader>);
impl PosCardReader for SharedReader {
    fn detect(&self, a: bool, b: bool, c: bool, t: u64) -> Result<CardPresentation, SmartPosError> {
        self.0.detect(a, b, c, t)
    }
    fn transceive(&self, apdu: Vec<u8>) -> Result<Vec<u8>, SmartPosError> {
        self.0.transceive(apdu)
    }
    fn wait_for_removal(&self, t: u64) -> Result<(), SmartPosError> {
        self.0.wait_for_removal(t)
    }
}

fn rig(tag: &str, profile: &str) -> Rig {
    let host = HostSimulator::start().expect("hostsim");
    let dir = std::env::temp_dir().join(format!("smartpos-ffi-pos-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    write_simulated_config(dir.display().to_string(), host.address()).expect("config");
    let reader = Arc::new(Reader {
        card: Mutex::new(None),
        profile: profile.into(),
        apdus: AtomicU32::new(0),
        cancel_at: Mutex::new(None),
    });
    let printed = Arc::new(Mutex::new(Vec::new()));
    let events = Arc::new(Mutex::new(Vec::new()));
    let pos = PosTerminal::open(
        dir.display().to_string(),
        dir.join("journal.db").display().to_string(),
        PosKeys {
            master_key: simulated_master_key(),
            journal_hash_key: vec![7; 32],
            journal_data_key: vec![9; 32],
        },
        "sup1".into(),
        Box::new(SharedReader(reader.clone())),
        Box::new(Pad),
        Box::new(Paper(printed.clone())),
        Box::new(NoScanner),
        Box::new(Leds),
        Box::new(Events(events.clone())),
    )
    .expect("terminal opens");
    Rig {
        host,
        pos,
        reader,
        printed,
        events,
    }
}

fn sale(amount: u64) -> PosSaleRequest {
    PosSaleRequest {
        amount,
        tip: 0,
        cashback: 0,
        operator_id: "01".into(),
        order_ref: Some("ORDER-1".into()),
        method: PosPaymentMethod::Card,
        member_id: None,
        coupon_discount: 0,
    }
}

#[test]
fn sale_void_refund_settle_over_the_host_simulator() {
    let r = rig("flow", "visa-dda-offline-pin");
    let signed = block_on(r.pos.sign_on()).expect("sign-on");
    assert!(signed.batch_no >= 1);
    let tx = block_on(r.pos.sale(sale(1000), CancellationHandle::new())).expect("sale");
    assert_eq!(tx.status, PosStatus::Approved, "{tx:?}");
    assert_eq!(tx.response_code.as_deref(), Some("00"));
    assert_eq!(tx.pan_masked.as_deref(), Some("476173******0010"));
    assert!(tx.rrn.is_some() && tx.auth_code.is_some());
    assert_eq!(tx.total, 1000);
    assert!(r.host.approved_count() >= 1);
    // The terminal prints nothing by itself (receipts are the app's call via the records).
    assert!(r.printed.lock().unwrap().is_empty());
    let names: Vec<String> = r
        .events
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.name.clone())
        .collect();
    assert!(names.iter().any(|n| n == "online"), "{names:?}");

    let void = block_on(r.pos.void(tx.txn_id, CancellationHandle::new())).expect("void");
    assert_eq!(void.kind, "void");
    assert_eq!(void.status, PosStatus::Approved);

    let sale2 = block_on(r.pos.sale(sale(2000), CancellationHandle::new())).expect("sale 2");
    let refund =
        block_on(r.pos.refund(sale2.txn_id, 500, CancellationHandle::new())).expect("refund");
    assert_eq!(refund.kind, "refund");
    assert_eq!(refund.total, 500);

    let settlement = block_on(r.pos.settle()).expect("settle");
    assert_eq!(settlement.batch_no, signed.batch_no);
    assert!(settlement.sales_count >= 1, "{settlement:?}");
}

#[test]
fn decline_and_errors_are_typed() {
    let r = rig("errors", "visa-dda-offline-pin");
    block_on(r.pos.sign_on()).expect("sign-on");
    // HostSim rule: an amount ending in 05 is declined with 05 (do not honour).
    match block_on(r.pos.sale(sale(1005), CancellationHandle::new())) {
        Err(SmartPosError::Declined { response_code, .. }) => assert_eq!(response_code, "05"),
        other => panic!("expected Declined, got {other:?}"),
    }
    // Cancelled mid-transaction, from the reader's thread, at the third APDU.
    let handle = CancellationHandle::new();
    *r.reader.cancel_at.lock().unwrap() =
        Some((r.reader.apdus.load(Ordering::SeqCst) + 2, handle.clone()));
    match block_on(r.pos.sale(sale(1000), handle)) {
        Err(SmartPosError::Cancelled { .. }) => {}
        other => panic!("expected Cancelled, got {other:?}"),
    }
    *r.reader.cancel_at.lock().unwrap() = None;
    // A void of something that does not exist.
    let missing = block_on(r.pos.void(999_999, CancellationHandle::new()));
    assert!(
        matches!(
            missing,
            Err(SmartPosError::InvalidInput { .. }) | Err(SmartPosError::Journal { .. })
        ),
        "{missing:?}"
    );
    // Host gone: the sale cannot be authorised.
    r.host.stop();
    match block_on(r.pos.sale(sale(1000), CancellationHandle::new())) {
        Err(SmartPosError::HostUnavailable { reason }) => {
            assert!(reason.contains("reversal queued"), "{reason}")
        }
        other => panic!("expected HostUnavailable, got {other:?}"),
    }
}

#[test]
fn bad_keys_and_config_are_typed() {
    let dir = std::env::temp_dir().join(format!("smartpos-ffi-pos-bad-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("terminal.toml"), "[host]\nnot_a_field = 1\n").unwrap();
    let open = |keys: PosKeys| {
        PosTerminal::open(
            dir.display().to_string(),
            dir.join("j.db").display().to_string(),
            keys,
            "sup1".into(),
            Box::new(SharedReader(Arc::new(Reader {
                card: Mutex::new(None),
                profile: "visa-dda-offline-pin".into(),
                apdus: AtomicU32::new(0),
                cancel_at: Mutex::new(None),
            }))),
            Box::new(Pad),
            Box::new(Paper(Arc::default())),
            Box::new(NoScanner),
            Box::new(Leds),
            Box::new(Events(Arc::default())),
        )
    };
    let short = PosKeys {
        master_key: vec![1; 8],
        journal_hash_key: vec![7; 32],
        journal_data_key: vec![9; 32],
    };
    assert!(matches!(
        open(short).err(),
        Some(SmartPosError::InvalidInput { field, .. }) if field == "master_key"
    ));
    let good = PosKeys {
        master_key: simulated_master_key(),
        journal_hash_key: vec![7; 32],
        journal_data_key: vec![9; 32],
    };
    assert!(matches!(
        open(good).err(),
        Some(SmartPosError::InvalidConfiguration { .. })
    ));
}

#[test]
fn receipt_records_and_renderings_carry_the_masked_pan_only() {
    let r = rig("receipt", "visa-dda-offline-pin");
    block_on(r.pos.sign_on()).expect("sign-on");
    let tx = block_on(r.pos.sale(sale(1000), CancellationHandle::new())).expect("sale");
    let receipt = block_on(
        r.pos
            .receipt(tx.txn_id, PosReceiptCopy::Customer, PosLanguage::En),
    )
    .expect("receipt");
    assert_eq!(receipt.data.pan_masked.as_deref(), Some("476173******0010"));
    assert_eq!(receipt.data.auth_code, tx.auth_code);
    assert_eq!(receipt.data.rrn, tx.rrn);
    assert_eq!(receipt.data.order_ref.as_deref(), Some("ORDER-1"));
    assert!(
        receipt.text.contains("476173******0010"),
        "{}",
        receipt.text
    );
    assert!(!receipt.text.contains("4761739001010010"));
    assert!(receipt.text.contains(tx.rrn.as_deref().unwrap_or("?")));
    // ESC @ first (ESC/POS initialise), PNG signature (ISO/IEC 15948 §5.2).
    assert_eq!(receipt.escpos.get(..2), Some(&[0x1B, 0x40][..]));
    assert_eq!(receipt.png.get(..4), Some(&[0x89, b'P', b'N', b'G'][..]));
    // Printed through the printer callback; the second print of the copy is a reprint.
    let first = block_on(r.pos.print_receipt(tx.txn_id, PosReceiptCopy::Customer)).expect("print");
    assert!(!first.reprint);
    let again = block_on(r.pos.print_receipt(tx.txn_id, PosReceiptCopy::Customer)).expect("print");
    assert!(again.reprint);
    let printed = r.printed.lock().unwrap().clone();
    assert_eq!(printed.len(), 2);
    assert!(
        printed[1].iter().any(|l| l.contains("REPRINT")),
        "{printed:?}"
    );
}

/// A device key store in memory, counting erasures.
#[derive(Default)]
struct DeviceKeys {
    tmk: Mutex<Option<PosSecretKey>>,
    working: Mutex<Vec<PosWorkingKey>>,
    at: Mutex<Option<i64>>,
    erased: AtomicU32,
}

struct SharedKeys(Arc<DeviceKeys>);
impl KeyStoreCallback for SharedKeys {
    fn master_key(&self) -> Result<Option<PosSecretKey>, SmartPosError> {
        Ok(self.0.tmk.lock().unwrap().clone())
    }
    fn install_master_key(&self, key: PosSecretKey) -> Result<(), SmartPosError> {
        *self.0.tmk.lock().unwrap() = Some(key);
        Ok(())
    }
    fn working_key(
        &self,
        key_type: PosWorkingKeyType,
    ) -> Result<Option<PosSecretKey>, SmartPosError> {
        let w = self.0.working.lock().unwrap();
        Ok(w.iter()
            .find(|k| k.key_type == key_type)
            .map(|k| k.key.clone()))
    }
    fn install_working_keys(&self, keys: Vec<PosWorkingKey>, at: i64) -> Result<(), SmartPosError> {
        *self.0.working.lock().unwrap() = keys;
        *self.0.at.lock().unwrap() = Some(at);
        Ok(())
    }
    fn working_keys_installed_at_ms(&self) -> Result<Option<i64>, SmartPosError> {
        Ok(*self.0.at.lock().unwrap())
    }
    fn journal_keys(&self) -> Result<PosJournalKeys, SmartPosError> {
        Ok(PosJournalKeys {
            hash_key: vec![3; 32],
            data_key: vec![4; 32],
        })
    }
    fn erase_all(&self) -> Result<(), SmartPosError> {
        *self.0.tmk.lock().unwrap() = None;
        self.0.working.lock().unwrap().clear();
        *self.0.at.lock().unwrap() = None;
        self.0.erased.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// One answer of the supervisor dialog: id and password, `None` when cancelled.
type Answer = Option<(String, String)>;

/// The supervisor dialog: answers from a queue.
struct Dialog(Arc<Mutex<Vec<Answer>>>);
impl SupervisorCallback for Dialog {
    fn credentials(
        &self,
        _role: PosRole,
        _action: PosAction,
    ) -> Result<Option<PosCredentials>, SmartPosError> {
        let mut q = self.0.lock().unwrap();
        let next = if q.is_empty() { None } else { q.remove(0) };
        Ok(next.map(|(id, pw)| PosCredentials {
            operator_id: id,
            password: pw.into_bytes(),
        }))
    }
}

#[test]
fn device_key_store_and_supervisor_check_with_lock_out() {
    let host = HostSimulator::start().expect("hostsim");
    let dir = std::env::temp_dir().join(format!("smartpos-ffi-secured-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    write_simulated_config(dir.display().to_string(), host.address()).expect("config");
    let keys = Arc::new(DeviceKeys::default());
    *keys.tmk.lock().unwrap() = Some(PosSecretKey {
        algorithm: PosKeyAlgorithm::Tdes2,
        value: simulated_master_key(),
    });
    let ops = PosOperators::open_with_policy(
        dir.join("operators.db").display().to_string(),
        PosOperatorPolicy {
            max_failed_attempts: 2,
            min_password_len: 6,
            argon2_memory_kib: 256,
            argon2_iterations: 1,
        },
    )
    .expect("operators");
    ops.bootstrap_admin("admin".into(), "Admin".into(), b"admin-pass".to_vec())
        .expect("admin");
    ops.add_operator(
        "admin".into(),
        b"admin-pass".to_vec(),
        "sup1".into(),
        "Sup".into(),
        PosRole::Supervisor,
        b"sup-pass".to_vec(),
    )
    .expect("supervisor");
    let answers = Arc::new(Mutex::new(Vec::new()));
    let reader = Arc::new(Reader {
        card: Mutex::new(None),
        profile: "visa-dda-offline-pin".into(),
        apdus: AtomicU32::new(0),
        cancel_at: Mutex::new(None),
    });
    let pos = PosTerminal::open_secured(
        dir.display().to_string(),
        dir.join("journal.db").display().to_string(),
        Box::new(SharedKeys(keys.clone())),
        ops.clone(),
        Box::new(Dialog(answers.clone())),
        Box::new(SharedReader(reader)),
        Box::new(Pad),
        Box::new(Paper(Arc::default())),
        Box::new(NoScanner),
        Box::new(Leds),
        Box::new(Events(Arc::default())),
    )
    .expect("terminal opens");
    block_on(pos.sign_on()).expect("sign-on");
    assert_eq!(
        keys.working.lock().unwrap().len(),
        3,
        "PIN, MAC and data keys stored"
    );
    let tx = block_on(pos.sale(sale(1000), CancellationHandle::new())).expect("sale");

    answers
        .lock()
        .unwrap()
        .push(Some(("sup1".into(), "wrong-1".into())));
    match block_on(pos.void(tx.txn_id, CancellationHandle::new())) {
        Err(SmartPosError::NotAuthorised { reason }) => {
            assert!(reason.contains("wrong password"), "{reason}")
        }
        other => panic!("expected NotAuthorised, got {other:?}"),
    }
    answers
        .lock()
        .unwrap()
        .push(Some(("sup1".into(), "wrong-2".into())));
    assert!(matches!(
        block_on(pos.void(tx.txn_id, CancellationHandle::new())),
        Err(SmartPosError::OperatorLocked { .. })
    ));
    answers
        .lock()
        .unwrap()
        .push(Some(("sup1".into(), "sup-pass".into())));
    assert!(matches!(
        block_on(pos.void(tx.txn_id, CancellationHandle::new())),
        Err(SmartPosError::OperatorLocked { .. })
    ));
    ops.unlock("admin".into(), b"admin-pass".to_vec(), "sup1".into())
        .expect("unlock");
    answers
        .lock()
        .unwrap()
        .push(Some(("sup1".into(), "sup-pass".into())));
    let void = block_on(pos.void(tx.txn_id, CancellationHandle::new())).expect("void");
    assert_eq!(void.operator_id, "sup1");

    block_on(pos.tamper()).expect("tamper");
    assert_eq!(keys.erased.load(Ordering::SeqCst), 1);
    assert!(keys.tmk.lock().unwrap().is_none());
    assert!(matches!(
        block_on(pos.sale(sale(1000), CancellationHandle::new())),
        Err(SmartPosError::KeyMissing { .. })
    ));
}
