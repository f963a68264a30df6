//! Merchant-presented QR over loopback TCP against the host simulator: the order round trip
//! (client builds and MACs 0200 320000, the host builds the EMVCo MPM payload with smartpos-qr,
//! the client checks MAC, correlation and the payload framing) and a whole paid cycle (order,
//! a simulated wallet parses the payload and pays, the status query answers paid).

use criterion::{Criterion, criterion_group, criterion_main};
use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_crypto::keyhier::{HierarchyAlgorithm, KeyHierarchy};
use smartpos_host::{HostClient, LinkConfig, MemoryStore, QrStatus, TerminalConfig};
use smartpos_sim::hostsim::{HostSim, HostSimConfig};

fn bench(c: &mut Criterion) {
    let mut cfg = HostSimConfig::default_config();
    cfg.qr_polls_until_paid = 1_000_000;
    let sim = HostSim::start(&cfg, "127.0.0.1:0", None).expect("sim");
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
    c.bench_function("mpm_order_round_trip_tcp", |b| {
        b.iter(|| {
            client
                .qr_create_order(2_450, Some("12345678000001"))
                .expect("order")
        })
    });
    c.bench_function("mpm_order_wallet_pays_query_paid", |b| {
        b.iter(|| {
            let order = client
                .qr_create_order(2_450, Some("12345678000002"))
                .expect("order");
            sim.wallet_pay(&order.qr_payload).expect("paid");
            assert_eq!(
                client.qr_query(&order.order()).expect("query"),
                QrStatus::Paid
            );
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
