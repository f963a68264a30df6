//! Rust-only baselines for the FFI figures of scripts/bench.sh: the selection flow over an
//! in-process card (no FFI at all) and TLV decoding of a PPSE FCI into binding records.

use criterion::{Criterion, criterion_group, criterion_main};
use smartpos_ffi::apdu::parse_hex;
use smartpos_ffi::{ApduSession, CardReader, SmartPosError, decode_tlv, run_selection};
use std::hint::black_box;

/// Visa PPSE and FCI answers (public Android HCE replay sample, ApduService.java).
const PPSE: &str = "6F23840E325041592E5359532E4444463031A511BF0C0E610C4F07A00000000310108701019000";
const FCI: &str = "6F458407A0000000031010A53A9F381B9F66049F02069F03069F1A0295055F2A029A039C019F37049F4E14BF0C149F5A0531082608269F4D021405BF6304DF2001805F2D02656E9000";

struct MemoryCard {
    ppse: Vec<u8>,
    fci: Vec<u8>,
}

impl CardReader for MemoryCard {
    fn transceive(&self, apdu: Vec<u8>) -> Result<Vec<u8>, SmartPosError> {
        Ok(if apdu.len() == 20 {
            self.ppse.clone()
        } else {
            self.fci.clone()
        })
    }
}

fn bench(c: &mut Criterion) {
    let card = MemoryCard {
        ppse: parse_hex("ppse", PPSE).unwrap_or_default(),
        fci: parse_hex("fci", FCI).unwrap_or_default(),
    };
    c.bench_function("selection flow, in-process card (no FFI)", |b| {
        b.iter(|| {
            run_selection(|cmd| card.transceive(black_box(cmd.to_vec())), || false)
                .map(|s| s.exchanges)
        })
    });
    let session = ApduSession::new(Box::new(MemoryCard {
        ppse: card.ppse.clone(),
        fci: card.fci.clone(),
    }));
    c.bench_function("ApduSession::select_application, Rust CardReader", |b| {
        b.iter(|| session.select_application().map(|s| s.exchanges))
    });
    let fci = card.fci[..card.fci.len() - 2].to_vec();
    c.bench_function("decode_tlv, Visa FCI into records", |b| {
        b.iter(|| decode_tlv(black_box(fci.clone())).map(|n| n.len()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
