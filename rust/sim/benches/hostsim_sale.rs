//! A full sale round trip over loopback TCP against the host simulator: build, MAC, send, host
//! verifies MAC/PIN/ARQC and answers with an ARPC, client checks MAC and correlation.

use criterion::{Criterion, criterion_group, criterion_main};
use smartpos_crypto::emv::Cvn;
use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_crypto::keyhier::{HierarchyAlgorithm, KeyHierarchy};
use smartpos_crypto::pin::Pin;
use smartpos_host::{
    CardData, HostClient, LinkConfig, MemoryStore, PinInput, SaleRequest, TerminalConfig,
};
use smartpos_sim::hostsim::HostSim;
use smartpos_sim::hostsim::icc::{self, ArqcInput};

fn bench(c: &mut Criterion) {
    let sim = HostSim::start_default().expect("sim");
    let mut keys = KeyHierarchy::new(HierarchyAlgorithm::Tdes);
    keys.install_tmk(
        SecretKey::from_hex(KeyAlgorithm::Tdes2, "11111111111111112222222222222222").expect("tmk"),
    )
    .expect("install");
    let mut client = HostClient::new(
        LinkConfig::tcp(sim.addr().to_string()),
        TerminalConfig::new("12345678", "123456789012345"),
        keys,
        MemoryStore::new(),
    );
    client.sign_on().expect("sign-on");
    let f55 = icc::field55(&ArqcInput {
        pan: "4761739001010010",
        psn: "01",
        imk_hex: "0123456789ABCDEFFEDCBA9876543210",
        cvn: Cvn::Visa10,
        amount: 100,
        atc: 1,
        unpredictable_number: [1, 2, 3, 4],
    })
    .expect("55");
    c.bench_function("sale_round_trip_tcp_pin_arqc", |b| {
        b.iter(|| {
            client
                .sale(&SaleRequest {
                    amount: 100,
                    card: CardData::chip("4761739001010010", "01", f55.clone()),
                    pin: PinInput::Clear(Pin::new("1234").expect("pin")),
                })
                .expect("approved")
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
