//! Benchmarks of the asymmetric / scheme side: EMV ODA recovery (the 15 µs goal for issuer key,
//! ICC key and SDAD under a 1984-bit CA key with e = 3), raw RSA strategies, SM2, SM3, TR-31
//! unwrap and EMV cryptograms.

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use smartpos_crypto::emv::{self, AcData, Cvn, MkDerivation};
use smartpos_crypto::key::SecretKey;
use smartpos_crypto::rsa::oda::{self, TransactionDate};
use smartpos_crypto::rsa::sign;
use smartpos_crypto::rsa::{PublicOpStrategy, RsaPrivateKey, RsaPublicKey};
use smartpos_crypto::sm2::{DEFAULT_ID, Sm2PrivateKey, Sm2PublicKey};
use smartpos_crypto::{hash, tr31};
use std::hint::black_box;

/// On-CPU time of the benchmark thread, from /proc/thread-self/schedstat (first field, ns).
/// On this shared 2-core machine the load average is often far above 2, so wall-clock times
/// include time spent waiting for a core; this measurement excludes it. The kernel updates the
/// counter at scheduler ticks, so this group uses few, long samples (10 per benchmark).
struct CpuTime;

fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

struct NsFormatter;

impl ValueFormatter for NsFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = if typical < 1e3 {
            (1.0, "ns")
        } else if typical < 1e6 {
            (1e-3, "µs")
        } else {
            (1e-6, "ms")
        };
        for v in values.iter_mut() {
            *v *= factor;
        }
        unit
    }
    fn scale_throughputs(
        &self,
        _typical: f64,
        _t: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        for v in values.iter_mut() {
            *v = 0.0;
        }
        "n/a"
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

impl Measurement for CpuTime {
    type Intermediate = u64;
    type Value = u64;
    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, start: u64) -> u64 {
        thread_cpu_ns().saturating_sub(start)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &NsFormatter
    }
}

const PAN: [u8; 8] = [0x54, 0x13, 0x33, 0x00, 0x89, 0x02, 0x00, 0x11];

struct Chain {
    ca: RsaPublicKey,
    issuer_cert: sign::SignedCertificate,
    icc_cert: sign::SignedCertificate,
    sdad: Vec<u8>,
    static_data: Vec<u8>,
    ddol_data: Vec<u8>,
}

fn chain(issuer_bits: u32) -> (Chain, RsaPrivateKey) {
    let ca = RsaPrivateKey::generate(1984, 3).expect("CA key");
    let issuer = RsaPrivateKey::generate(issuer_bits, 3).expect("issuer key");
    let icc = RsaPrivateKey::generate(1024, 3).expect("ICC key");
    let static_data =
        b"\x5A\x08\x54\x13\x33\x00\x89\x02\x00\x11\x5F\x24\x03\x30\x12\x31\x82\x02\x39\x00"
            .to_vec();
    let issuer_id = sign::issuer_identifier_from_pan(&PAN, 6).expect("issuer id");
    let issuer_cert =
        sign::sign_issuer_certificate(&ca, issuer_id, [0x12, 0x30], [0, 0, 1], issuer.public_key())
            .expect("issuer cert");
    let icc_cert = sign::sign_icc_certificate(
        &issuer,
        &PAN,
        [0x12, 0x29],
        [0, 0, 2],
        icc.public_key(),
        &static_data,
    )
    .expect("icc cert");
    let ddol_data = vec![0x12, 0x34, 0x56, 0x78];
    let dd = sign::dda_dynamic_data(&[1, 2, 3, 4, 5, 6, 7, 8]).expect("dynamic data");
    let sdad = sign::sign_dynamic_data(&icc, &dd, &ddol_data).expect("sdad");
    let ca_public = ca.public_key().try_clone().expect("ca public");
    (
        Chain {
            ca: ca_public,
            issuer_cert,
            icc_cert,
            sdad,
            static_data,
            ddol_data,
        },
        ca,
    )
}

fn run_chain(c: &Chain, today: TransactionDate) -> Vec<u8> {
    let issuer = oda::recover_issuer_public_key(
        &c.ca,
        &c.issuer_cert.certificate,
        &c.issuer_cert.remainder,
        &c.issuer_cert.exponent,
        &PAN,
        today,
    )
    .expect("issuer");
    let icc = oda::recover_icc_public_key(
        &issuer.key,
        &c.icc_cert.certificate,
        &c.icc_cert.remainder,
        &c.icc_cert.exponent,
        &PAN,
        &c.static_data,
        today,
    )
    .expect("icc");
    oda::verify_signed_dynamic_data(&icc.key, &c.sdad, &c.ddol_data)
        .expect("sdad")
        .icc_dynamic_number
}

fn bench_oda<M: Measurement + 'static>(c: &mut Criterion<M>, prefix: &str) {
    let today = TransactionDate::new(2026, 11, 21).expect("date");
    for bits in [1408u32, 1984] {
        let (ch, ca_private) = chain(bits);
        c.bench_function(
            &format!("{prefix}oda_dda_chain_ca1984_issuer{bits}_icc1024_e3"),
            |b| b.iter(|| black_box(run_chain(black_box(&ch), today))),
        );
        if bits == 1984 {
            let sig = ca_private.private_op(&vec![0x6A; 248]).expect("sig");
            for (name, strategy) in [
                ("mulmod", PublicOpStrategy::MulMod),
                ("openssl_rsa_cached", PublicOpStrategy::OpensslRsa),
                ("bn_mod_exp", PublicOpStrategy::ModExp),
                ("cube_one_division", PublicOpStrategy::CubeOneDivision),
            ] {
                c.bench_function(&format!("{prefix}rsa1984_e3_public_op_{name}"), |b| {
                    b.iter(|| {
                        black_box(
                            ch.ca
                                .public_op_using(strategy, black_box(&sig))
                                .expect("op"),
                        )
                    })
                });
            }
            c.bench_function(&format!("{prefix}rsa1984_e3_context_build"), |b| {
                b.iter(|| {
                    black_box(RsaPublicKey::new(black_box(ch.ca.modulus()), &[3]).expect("key"))
                })
            });
        }
    }
    let f4 = RsaPrivateKey::generate(2048, 65537).expect("f4 key");
    let sig = f4.private_op(&vec![0x6A; 256]).expect("sig");
    let public = f4.public_key();
    for (name, strategy) in [
        ("openssl_rsa_cached", PublicOpStrategy::OpensslRsa),
        ("bn_mod_exp", PublicOpStrategy::ModExp),
    ] {
        c.bench_function(&format!("{prefix}rsa2048_f4_public_op_{name}"), |b| {
            b.iter(|| {
                black_box(
                    public
                        .public_op_using(strategy, black_box(&sig))
                        .expect("op"),
                )
            })
        });
    }
}

fn bench_sm<M: Measurement + 'static>(c: &mut Criterion<M>, prefix: &str) {
    let key = Sm2PrivateKey::generate().expect("sm2 key");
    let public = Sm2PublicKey::from_bytes(&key.public_key().to_bytes()).expect("public");
    let msg = b"UnionPay QR code payment payload 0123456789";
    let sig = key.sign(DEFAULT_ID, msg).expect("sign");
    c.bench_function(&format!("{prefix}sm2_verify_with_z"), |b| {
        b.iter(|| {
            black_box(
                public
                    .verify(DEFAULT_ID, black_box(msg), &sig)
                    .expect("verify"),
            )
        })
    });
    c.bench_function(&format!("{prefix}sm2_sign_with_z"), |b| {
        b.iter(|| black_box(key.sign(DEFAULT_ID, black_box(msg)).expect("sign")))
    });
    let data = vec![0x61u8; 64];
    c.bench_function(&format!("{prefix}sm3_64_bytes"), |b| {
        b.iter(|| black_box(hash::sm3(black_box(&data)).expect("sm3")))
    });
}

fn bench_sym_schemes(c: &mut Criterion) {
    let kbpk = SecretKey::aes(&[0x41; 32]).expect("kbpk");
    let block = "D0112B0TN00N000037DB9B046B7B0048785690759580ABC3B9842AB4BB7717B49E92528E575785D8123559376A2553B27BE94F054F4E971C";
    c.bench_function("tr31_unwrap_d_aes256", |b| {
        b.iter(|| black_box(tr31::unwrap(&kbpk, black_box(block), None).expect("unwrap")))
    });
    let imk = SecretKey::tdes(&[
        0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32,
        0x10,
    ])
    .expect("imk");
    let iad = [0x06, 0x01, 0x12, 0x03, 0xA0, 0xB8, 0x00];
    let d = AcData {
        amount_authorised: &[0, 0, 0, 0, 0x40, 0],
        amount_other: &[0; 6],
        terminal_country_code: &[0x01, 0x24],
        tvr: &[0x80, 0, 4, 0x80, 0],
        transaction_currency_code: &[0x01, 0x24],
        transaction_date: &[0x19, 0x11, 0x05],
        transaction_type: &[0x01],
        unpredictable_number: &[0x52, 0xBF, 0x45, 0x85],
        aip: &[0x18, 0x00],
        atc: &[0x00, 0x1C],
        iad: &iad,
    };
    c.bench_function("emv_mk_derive_and_cvn18_arqc", |b| {
        b.iter(|| {
            let mk = emv::derive_icc_mk(&imk, "1234567890123456", "00", MkDerivation::OptionA)
                .expect("mk");
            black_box(Cvn::Visa18.generate_ac(&mk, black_box(&d)).expect("ac"))
        })
    });
}

fn bench_wall(c: &mut Criterion) {
    bench_oda(c, "");
    bench_sm(c, "");
    bench_sym_schemes(c);
}

fn bench_cpu(c: &mut Criterion<CpuTime>) {
    bench_oda(c, "cpu_");
    bench_sm(c, "cpu_");
}

criterion_group!(benches, bench_wall);
criterion_group! {
    name = cpu_benches;
    config = Criterion::default().with_measurement(CpuTime).sample_size(10);
    targets = bench_cpu
}
criterion_main!(benches, cpu_benches);
