//! Whole contact transactions against the virtual card (kernel + card, including the card's RSA
//! signatures and TDES cryptograms), and personalising a card.

use criterion::{Criterion, criterion_group, criterion_main};
use smartpos_emv::{
    ContactKernel, FixedPinPad, Interaction, NoServices, Step, TerminalConfig, TransactionParams,
};
use smartpos_sim::card::{VirtualCard, issuer};
use smartpos_sim::pki::TestPki;
use std::hint::black_box;
use std::sync::Arc;

struct NoUi;
impl smartpos_emv::CardholderInterface for NoUi {
    fn choose_application(&mut self, _c: &[smartpos_emv::Candidate]) -> smartpos_emv::Choice {
        smartpos_emv::Choice::Select(0)
    }
    fn language_selected(&mut self, _l: &str) {}
}

fn transaction(c: &mut Criterion) {
    let pki = TestPki::shared().expect("pki");
    let kernel = ContactKernel::new(
        Arc::new(TerminalConfig::demo().expect("config")),
        Arc::new(pki.key_store().expect("keys")),
    );
    for name in ["visa-dda-offline-pin", "mc-cda-online-pin"] {
        c.bench_function(&format!("online sale {name}"), |b| {
            b.iter(|| {
                let mut card = VirtualCard::from_profile(name).expect("card");
                let scheme = card.profile().scheme;
                let mut pp = FixedPinPad {
                    pin: Some(zeroize::Zeroizing::new("1234".into())),
                    online_block: Some(vec![0x11; 8]),
                };
                let params =
                    TransactionParams::new(1000, "261121", "101500", [1, 2, 3, 4]).expect("params");
                let step = kernel.start(
                    &mut card,
                    params,
                    Interaction {
                        ui: &mut NoUi,
                        pin_pad: &mut pp,
                        services: &mut NoServices,
                    },
                );
                let Step::Online(req) = step else {
                    panic!("online expected")
                };
                let resp = issuer::host_response(scheme, &req.data_record, true, Vec::new())
                    .expect("issuer");
                black_box(req.complete(&mut card, &resp))
            })
        });
    }
    c.bench_function("personalise visa-dda-offline-pin", |b| {
        b.iter(|| black_box(VirtualCard::from_profile("visa-dda-offline-pin").expect("card")))
    });
}

criterion_group!(benches, transaction);
criterion_main!(benches);
