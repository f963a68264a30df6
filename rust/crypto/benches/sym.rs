//! Benchmarks of the symmetric side: DUKPT derivations (host and terminal), PIN blocks, MACs over
//! 1 KiB. Run: `cargo bench -p smartpos-crypto --bench sym -- --warm-up-time 1 --measurement-time 3`.

use criterion::{Criterion, criterion_group, criterion_main};
use smartpos_crypto::cipher::{self, BlockCipher};
use smartpos_crypto::dukpt::aes::{self as dukpt_aes, KeyType, KeyUsage};
use smartpos_crypto::dukpt::tdes::{self, Ksn, Originator, Variant};
use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_crypto::mac::{self, Padding};
use smartpos_crypto::pin::{self, Pin, PinBlockFormat};
use std::hint::black_box;

fn dukpt(c: &mut Criterion) {
    let bdk =
        SecretKey::from_hex(KeyAlgorithm::Tdes2, "0123456789ABCDEFFEDCBA9876543210").expect("bdk");
    // Counter 0x0A5A5 has 8 one bits: 8 non-reversible steps after the IPEK.
    let ksn = Ksn::from_hex("FFFF9876543210E0A5A5").expect("ksn");
    c.bench_function("dukpt_tdes_host_pin_key (BDK+KSN, 8 counter bits)", |b| {
        b.iter(|| {
            let txn = tdes::host_transaction_key(black_box(&bdk), black_box(&ksn)).expect("txn");
            tdes::variant_key(&txn, Variant::Pin).expect("pin key")
        })
    });
    let ksn1 = Ksn::from_hex("FFFF9876543210E00001").expect("ksn");
    c.bench_function("dukpt_tdes_host_pin_key (BDK+KSN, counter 1)", |b| {
        b.iter(|| {
            let txn = tdes::host_transaction_key(black_box(&bdk), black_box(&ksn1)).expect("txn");
            tdes::variant_key(&txn, Variant::Pin).expect("pin key")
        })
    });
    let initial = Ksn::from_hex("FFFF9876543210E00000").expect("ksn");
    let ipek = tdes::derive_ipek(&bdk, &initial).expect("ipek");
    let mut dev = Originator::load_initial_key(&ipek, &initial).expect("load");
    c.bench_function("dukpt_tdes_terminal_next_key", |b| {
        b.iter(|| match dev.next_transaction() {
            Ok(k) => k,
            Err(_) => {
                dev = Originator::load_initial_key(&ipek, &initial).expect("reload");
                dev.next_transaction().expect("first")
            }
        })
    });

    let bdk128 =
        SecretKey::from_hex(KeyAlgorithm::Aes128, "FEDCBA9876543210F1F1F1F1F1F1F1F1").expect("bdk");
    let aksn = dukpt_aes::Ksn::from_hex("1234567890123456000A5A5A").expect("ksn");
    c.bench_function(
        "dukpt_aes128_host_pin_key (BDK+KSN, 12 counter bits)",
        |b| {
            b.iter(|| {
                dukpt_aes::host_working_key(
                    black_box(&bdk128),
                    black_box(&aksn),
                    KeyUsage::PinEncryption,
                    KeyType::Aes128,
                )
                .expect("pin key")
            })
        },
    );
}

fn pin_blocks(c: &mut Criterion) {
    let tdes_key =
        SecretKey::from_hex(KeyAlgorithm::Tdes2, "042666B49184CF5C68DE9628D0397B36").expect("key");
    let aes_key =
        SecretKey::from_hex(KeyAlgorithm::Aes128, "AF8CB133A78F8DC2D1359F18527593FB").expect("key");
    let p = Pin::new("1234").expect("pin");
    c.bench_function("pinblock_iso0_encode_encrypt", |b| {
        b.iter(|| {
            pin::encrypt(
                &tdes_key,
                PinBlockFormat::Iso0,
                black_box(&p),
                Some("4012345678909"),
                &mut pin::openssl_random,
            )
            .expect("iso0")
        })
    });
    c.bench_function("pinblock_iso4_encode_encrypt", |b| {
        b.iter(|| {
            pin::encrypt(
                &aes_key,
                PinBlockFormat::Iso4,
                black_box(&p),
                Some("4111111111111111"),
                &mut pin::openssl_random,
            )
            .expect("iso4")
        })
    });
}

fn macs(c: &mut Criterion) {
    let data: Vec<u8> = (0..1024u32).map(|i| (i * 31 % 251) as u8).collect();
    let retail =
        SecretKey::from_hex(KeyAlgorithm::Tdes2, "0123456789ABCDEFFEDCBA9876543210").expect("key");
    let aes =
        SecretKey::from_hex(KeyAlgorithm::Aes128, "2B7E151628AED2A6ABF7158809CF4F3C").expect("key");
    c.bench_function("retail_mac_1KiB", |b| {
        b.iter(|| mac::retail_mac(&retail, black_box(&data), Padding::Method2).expect("mac"))
    });
    c.bench_function("aes_cmac_1KiB", |b| {
        b.iter(|| mac::cmac(&aes, black_box(&data)).expect("cmac"))
    });
}

/// The single-block fast path: a fresh OpenSSL context per block versus a reused `BlockCipher`,
/// and re-keying a reused context (what DUKPT's non-reversible steps do).
fn single_block(c: &mut Criterion) {
    let aes =
        SecretKey::from_hex(KeyAlgorithm::Aes128, "2B7E151628AED2A6ABF7158809CF4F3C").expect("key");
    let des_a = SecretKey::from_hex(KeyAlgorithm::Des, "0123456789ABCDEF").expect("key");
    let des_b = SecretKey::from_hex(KeyAlgorithm::Des, "FEDCBA9876543210").expect("key");
    c.bench_function("aes_block_fresh_context", |b| {
        b.iter(|| {
            let mut block = [0u8; 16];
            cipher::encrypt_block(&aes, black_box(&mut block)).expect("block");
            block
        })
    });
    let mut bc = BlockCipher::new(&aes).expect("cipher");
    c.bench_function("aes_block_reused_context", |b| {
        b.iter(|| {
            let mut block = [0u8; 16];
            bc.encrypt_block(black_box(&mut block)).expect("block");
            block
        })
    });
    let aes_b =
        SecretKey::from_hex(KeyAlgorithm::Aes128, "000102030405060708090A0B0C0D0E0F").expect("key");
    let mut ac = BlockCipher::new(&aes).expect("cipher");
    let mut aflip = false;
    c.bench_function("aes_block_rekeyed_context", |b| {
        b.iter(|| {
            aflip = !aflip;
            ac.rekey(if aflip { &aes } else { &aes_b }).expect("rekey");
            let mut block = [0u8; 16];
            ac.encrypt_block(black_box(&mut block)).expect("block");
            block
        })
    });
    c.bench_function("des_block_fresh_context", |b| {
        b.iter(|| {
            let mut block = [0u8; 8];
            cipher::encrypt_block(&des_a, black_box(&mut block)).expect("block");
            block
        })
    });
    let mut dc = BlockCipher::new(&des_a).expect("cipher");
    let mut flip = false;
    c.bench_function("des_block_rekeyed_context", |b| {
        b.iter(|| {
            flip = !flip;
            dc.rekey(if flip { &des_a } else { &des_b }).expect("rekey");
            let mut block = [0u8; 8];
            dc.encrypt_block(black_box(&mut block)).expect("block");
            block
        })
    });
}

criterion_group!(benches, dukpt, pin_blocks, macs, single_block);
criterion_main!(benches);
