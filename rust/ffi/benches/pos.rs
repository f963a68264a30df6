//! `PosTerminal` costs on the Rust side (no JVM): one operation's round trip through the
//! terminal's worker thread (`is_tampered`, the smallest async call), and a receipt of a
//! finished sale (journal read, layout by smartpos-terminal, text + ESC/POS + PNG renderings,
//! binding records). The sale runs once against the host simulator on loopback, with a virtual
//! contact card of smartpos-sim behind a Rust reader callback.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use criterion::{Criterion, criterion_group, criterion_main};
use smartpos_ffi::sim::{
    HostSimulator, SimulatedCard, simulated_master_key, write_simulated_config,
};
use smartpos_ffi::{
    CancellationHandle, CardPresentation, OfflinePinEntry, PosCardReader, PosEvent, PosIndicators,
    PosKeys, PosLanguage, PosOnlinePin, PosPaymentMethod, PosPinPad, PosPrinter, PosQrScanner,
    PosReceiptCopy, PosSaleRequest, PosTerminal, SmartPosError, TransactionEvents,
};

struct ThreadWaker(std::thread::Thread);
impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

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

struct Reader(Mutex<Option<Arc<SimulatedCard>>>);
impl PosCardReader for Reader {
    fn detect(&self, _: bool, _: bool, _: bool, _: u64) -> Result<CardPresentation, SmartPosError> {
        let card = SimulatedCard::contact("visa-dda-offline-pin".into())?;
        *self.0.lock().map_err(|_| SmartPosError::Transport {
            reason: "poisoned".into(),
        })? = Some(card);
        Ok(CardPresentation::Chip)
    }
    fn transceive(&self, apdu: Vec<u8>) -> Result<Vec<u8>, SmartPosError> {
        let card = self
            .0
            .lock()
            .map_err(|_| SmartPosError::Transport {
                reason: "poisoned".into(),
            })?
            .clone()
            .ok_or(SmartPosError::Transport {
                reason: "no card".into(),
            })?;
        card.transceive(apdu)
    }
    fn wait_for_removal(&self, _: u64) -> Result<(), SmartPosError> {
        Ok(())
    }
}

struct Pad;
impl PosPinPad for Pad {
    fn online_pin(&self, _: String, _: u64) -> Result<PosOnlinePin, SmartPosError> {
        Ok(PosOnlinePin::Bypassed)
    }
    fn offline_pin(&self, _: Option<u8>) -> Result<OfflinePinEntry, SmartPosError> {
        Ok(OfflinePinEntry::Entered {
            digits: b"1234".to_vec(),
        })
    }
}

struct Quiet;
impl PosPrinter for Quiet {
    fn print(&self, _: Vec<String>, _: Option<Vec<u8>>) -> Result<(), SmartPosError> {
        Ok(())
    }
}
impl PosQrScanner for Quiet {
    fn scan(&self, _: u64) -> Result<String, SmartPosError> {
        Err(SmartPosError::Device {
            device: "scanner".into(),
            reason: "none".into(),
        })
    }
}
impl PosIndicators for Quiet {
    fn beep(&self, _: bool) {}
    fn leds(&self, _: String) {}
}
impl TransactionEvents for Quiet {
    fn on_event(&self, _: PosEvent) {}
    fn confirm_duplicate(&self, _: String, _: u64) -> bool {
        true
    }
}

fn bench(c: &mut Criterion) {
    let host = HostSimulator::start().expect("host simulator");
    let dir = std::env::temp_dir().join(format!("smartpos-ffi-bench-pos-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    write_simulated_config(dir.display().to_string(), host.address()).expect("config");
    let pos = PosTerminal::open(
        dir.display().to_string(),
        dir.join("journal.db").display().to_string(),
        PosKeys {
            master_key: simulated_master_key(),
            journal_hash_key: vec![7; 32],
            journal_data_key: vec![9; 32],
        },
        "sup1".into(),
        Box::new(Reader(Mutex::new(None))),
        Box::new(Pad),
        Box::new(Quiet),
        Box::new(Quiet),
        Box::new(Quiet),
        Box::new(Quiet),
    )
    .expect("terminal");
    block_on(pos.sign_on()).expect("sign-on");
    let sale = block_on(pos.sale(
        PosSaleRequest {
            amount: 1000,
            tip: 0,
            cashback: 0,
            operator_id: "01".into(),
            order_ref: Some("BENCH-1".into()),
            method: PosPaymentMethod::Card,
            member_id: None,
            coupon_discount: 0,
        },
        CancellationHandle::new(),
    ))
    .expect("sale");

    c.bench_function(
        "PosTerminal round trip through the worker thread (is_tampered)",
        |b| b.iter(|| black_box(block_on(pos.is_tampered()).expect("is_tampered"))),
    );
    c.bench_function(
        "PosTerminal.receipt (journal, layout, text + ESC/POS + PNG)",
        |b| {
            b.iter(|| {
                let r =
                    block_on(pos.receipt(sale.txn_id, PosReceiptCopy::Customer, PosLanguage::En))
                        .expect("receipt");
                black_box(r.png.len() + r.escpos.len())
            })
        },
    );
    drop(pos);
    host.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
