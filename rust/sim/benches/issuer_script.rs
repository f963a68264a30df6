//! Issuer script secure messaging (EMV Book 2 §9.2.1): deriving the integrity session key and
//! sealing a 71/72 script for a transaction (the host simulator's work per approval), verifying
//! one command (the virtual card's work per script command), and deriving a seeded contactless
//! ICC key (cached after the first derivation).

use criterion::{Criterion, criterion_group, criterion_main};
use smartpos_crypto::emv::{MkDerivation, derive_icc_mk};
use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_sim::Scheme;
use smartpos_sim::card::script::{ScriptMacOption, ScriptSession};
use smartpos_sim::pki::ContactlessPki;
use std::hint::black_box;

fn mk() -> SecretKey {
    let imk =
        SecretKey::from_hex(KeyAlgorithm::Tdes2, "0123456789ABCDEFFEDCBA9876543210").expect("imk");
    derive_icc_mk(&imk, "4761739001010010", "01", MkDerivation::OptionA).expect("mk")
}

fn scripts(c: &mut Criterion) {
    let mk = mk();
    // 71 { 9F18, 86 PUT DATA 9F58 = 11 }, 72 { 9F18, 86 APPLICATION BLOCK }.
    let templates = hex::decode("710F9F180400000001860684DA9F580111720D9F1804000000028604841E0000")
        .expect("hex");
    for option in [ScriptMacOption::Visa, ScriptMacOption::EmvCommon] {
        c.bench_function(&format!("script seal 71+72 {option:?}"), |b| {
            b.iter(|| {
                let s = ScriptSession::new(option, &mk, [0x00, 0x21], [0x5A; 8]).expect("sk");
                black_box(s.seal_scripts(black_box(&templates)).expect("seal"))
            })
        });
        let s = ScriptSession::new(option, &mk, [0x00, 0x21], [0x5A; 8]).expect("sk");
        let sealed = s.seal_command(&[0x84, 0x1E, 0x00, 0x00]).expect("seal");
        let data = sealed.get(5..).unwrap_or(&[]).to_vec();
        c.bench_function(&format!("script verify command {option:?}"), |b| {
            b.iter(|| {
                let s = ScriptSession::new(option, &mk, [0x00, 0x21], [0x5A; 8]).expect("sk");
                black_box(s.verify([0x84, 0x1E, 0x00, 0x00], black_box(&data)).is_ok())
            })
        });
    }
    let pki = ContactlessPki::generate(Scheme::Visa.rid()).expect("pki");
    c.bench_function("contactless ICC key (seeded, cached)", |b| {
        b.iter(|| black_box(pki.icc_key("4761739001010010 card").expect("icc")))
    });
}

criterion_group!(benches, scripts);
criterion_main!(benches);
