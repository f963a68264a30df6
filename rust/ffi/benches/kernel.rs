//! Rust-only baselines for the FFI figures of scripts/bench.sh: a whole contactless tap (Visa
//! qVSDC with fDDA, kernel C-3) through `EmvKernel::tap` over a Rust `CardReader` (no FFI at
//! all), and TLV decoding of a PPSE FCI into binding records.

use std::sync::{Arc, Mutex};

use criterion::{Criterion, criterion_group, criterion_main};
use smartpos_emv::{Apdu, CaKeyStore, CardTransport, TerminalConfig};
use smartpos_ffi::apdu::parse_hex;
use smartpos_ffi::{
    CancellationHandle, CardReader, EmvKernel, EmvTransactionRequest, EmvTransactionType,
    SmartPosError, decode_tlv,
};
use smartpos_sim::contactless::pki::TestPki;
use smartpos_sim::contactless::{Profile, VirtualCard};
use std::hint::black_box;

/// Visa PPSE answer (public Android HCE replay sample, ApduService.java).
const PPSE: &str = "6F23840E325041592E5359532E4444463031A511BF0C0E610C4F07A00000000310108701019000";

struct SimReader(Mutex<VirtualCard>);

impl CardReader for SimReader {
    fn transceive(&self, apdu: Vec<u8>) -> Result<Vec<u8>, SmartPosError> {
        let command = Apdu::decode(&apdu).map_err(|e| SmartPosError::InvalidInput {
            field: "apdu".into(),
            reason: e.to_string(),
        })?;
        let mut card = self.0.lock().map_err(|_| SmartPosError::Transport {
            reason: "poisoned".into(),
        })?;
        card.exchange(&command)
            .map(|r| r.to_bytes())
            .map_err(|e| SmartPosError::Transport {
                reason: e.to_string(),
            })
    }
}

fn bench(c: &mut Criterion) {
    let profile = Profile::visa_card();
    let pki = Arc::new(TestPki::generate(profile.scheme.rid()).expect("test PKI"));
    let mut keys = CaKeyStore::new();
    pki.install(&mut keys).expect("install CA key");
    let kernel =
        EmvKernel::from_parts(TerminalConfig::demo().expect("demo"), keys, None).expect("kernel");
    let reader = Arc::new(SimReader(Mutex::new(
        VirtualCard::new(profile, pki).expect("card"),
    )));
    let request = EmvTransactionRequest {
        amount: 1000,
        amount_other: 0,
        transaction_type: EmvTransactionType::Purchase,
        date: "261121".into(),
        time: "101500".into(),
        unpredictable_number: vec![0x11, 0x22, 0x33, 0x44],
        sequence_counter: 1,
        merchant_forced_online: false,
    };
    let cancel = CancellationHandle::new();
    c.bench_function("EmvKernel::tap, Visa fDDA virtual card (no FFI)", |b| {
        b.iter(|| {
            kernel
                .tap(
                    Box::new(SharedReader(reader.clone())),
                    black_box(request.clone()),
                    cancel.clone(),
                )
                .map(|r| r.exchanges)
        })
    });
    let ppse = parse_hex("ppse", PPSE).unwrap_or_default();
    let fci = ppse[..ppse.len() - 2].to_vec();
    c.bench_function("decode_tlv, Visa PPSE FCI into records", |b| {
        b.iter(|| decode_tlv(black_box(fci.clone())).map(|n| n.len()))
    });
}

/// `tap` takes the reader by value (as UniFFI hands it over); share the one card.
struct SharedReader(Arc<SimReader>);

impl CardReader for SharedReader {
    fn transceive(&self, apdu: Vec<u8>) -> Result<Vec<u8>, SmartPosError> {
        self.0.transceive(apdu)
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
