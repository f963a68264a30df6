//! One whole CDA transaction (selection → GPO → records → CDA key recovery → restrictions →
//! online PIN → risk management → GENERATE AC 1 with CDA → online approval with issuer
//! authentication → GENERATE AC 2 with CDA) replayed from a scripted card. The card's answers
//! (and its RSA signing) are recorded once in setup with a fixed unpredictable number and date,
//! so only the kernel's CPU time is measured.
#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use criterion::{Criterion, criterion_group, criterion_main};
use smartpos_emv::*;
use std::hint::black_box;

fn record_script() -> CardScript {
    let kernel = kernel_with(config());
    let profile = Profile {
        oda: CardOda::Cda,
        ..Profile::default()
    };
    let mut rec = Recorder::new(VirtualCard::new(profile));
    let mut pin = TestPinPad {
        online: Some(vec![0xEE; 8]),
        ..Default::default()
    };
    let mut svc = TestServices::default();
    let Step::Online(req) = start(&kernel, &mut rec, params(1000), &mut pin, &mut svc) else {
        panic!("setup: expected an online request")
    };
    let r = req.complete(&mut rec, &host_approve());
    assert_eq!(r.decision, Decision::Approved);
    assert!(
        r.oda_ok && r.oda == OdaMethod::Cda,
        "setup: CDA must succeed: {:?}",
        r.oda_failure
    );
    rec.script
}

fn bench(c: &mut Criterion) {
    let script = record_script();
    let kernel = kernel_with(config());
    let mut card = ScriptedCard::new(&script).expect("script");
    let host = host_approve();
    c.bench_function("contact_cda_transaction_replay", |b| {
        b.iter(|| {
            card.rewind();
            let mut pin = TestPinPad {
                online: Some(vec![0xEE; 8]),
                ..Default::default()
            };
            let mut svc = TestServices::default();
            let step = start(&kernel, &mut card, params(1000), &mut pin, &mut svc);
            let Step::Online(req) = step else {
                panic!("online expected")
            };
            let r = req.complete(&mut card, &host);
            assert_eq!(r.decision, Decision::Approved);
            black_box(r)
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
