//! Field 64 MACs over a typical sale message, and a request's pack + MAC + unpack.

use criterion::{Criterion, criterion_group, criterion_main};
use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_host::mac::{self, MacAlgorithm};
use smartpos_iso8583::{Frame, Message, Mti, Profile, Tpdu};
use std::hint::black_box;

fn sale() -> Message {
    let p = Profile::cups_pos();
    let mut m = Message::new(Mti::new("0200").expect("mti"));
    m.set_pan("4761739001010010").expect("2");
    m.set_processing_code("000000").expect("3");
    m.set_amount(4, 12_345).expect("4");
    m.set_stan(42).expect("11");
    m.set_text(22, "051").expect("22");
    m.set_text(25, "00").expect("25");
    m.set_terminal_id("12345678").expect("41");
    m.set_merchant_id("123456789012345").expect("42");
    m.set_text(49, "156").expect("49");
    m.set_binary(52, &[0x11; 8]).expect("52");
    m.set_binary(55, &[0x9F; 120]).expect("55");
    m.set_subfields(p, 60, &["22", "000001", "000"])
        .expect("60");
    m
}

fn bench(c: &mut Criterion) {
    let p = Profile::cups_pos();
    let tdes =
        SecretKey::from_hex(KeyAlgorithm::Tdes2, "0123456789ABCDEFFEDCBA9876543210").expect("k");
    let sm4 =
        SecretKey::from_hex(KeyAlgorithm::Sm4, "0123456789ABCDEFFEDCBA9876543210").expect("k");
    let m = sale();
    for (name, alg, key) in [
        ("mac_sign_cup_ecb", MacAlgorithm::CupEcb, &tdes),
        ("mac_sign_x919", MacAlgorithm::X919, &tdes),
        ("mac_sign_sm4", MacAlgorithm::Sm4Cbc, &sm4),
    ] {
        c.bench_function(name, |b| {
            b.iter(|| {
                let mut msg = m.clone();
                mac::sign(p, alg, key, &mut msg).expect("sign");
                black_box(msg)
            })
        });
    }
    let mut signed = m.clone();
    mac::sign(p, MacAlgorithm::CupEcb, &tdes, &mut signed).expect("sign");
    let frame = Frame::new(Tpdu::new(1, 0), &[0x60, 0x31, 0, 0x31, 0, 0], signed);
    c.bench_function("frame_pack_unpack_verify", |b| {
        b.iter(|| {
            let bytes = p.pack_frame(&frame).expect("pack");
            let back = p.unpack_frame(&bytes).expect("unpack");
            mac::verify(p, MacAlgorithm::CupEcb, &tdes, &back.message).expect("verify");
            black_box(back)
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
