//! Parse/generate/render timings for the published sample payloads.

use criterion::{Criterion, criterion_group, criterion_main};
use smartpos_qr::cpm::CpmPayload;
use smartpos_qr::image::{QrMatrix, QrOptions};
use std::hint::black_box;

// id: qr-mpm-emvco-sample (EMVCo QRCPS-MPM specification sample payload; see published.md)
const SAMPLE: &str = "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A";
// id: qr-cpm-emvco-example1 (kenmaz/JPQRReader CPMDecoderTests.swift testEMVCPM_Example1)
const CPM: &str = "hQVDUFYwMWEaTwegAAAAVVVVVw8SNFZ4kBI0WNGRIgESNF8=";

fn benches(c: &mut Criterion) {
    c.bench_function("mpm_parse_sample", |b| {
        b.iter(|| smartpos_qr::mpm::parse(black_box(SAMPLE)))
    });
    let qr = smartpos_qr::mpm::parse(SAMPLE).unwrap().qr;
    c.bench_function("mpm_generate_sample", |b| {
        b.iter(|| black_box(&qr).to_payload())
    });
    c.bench_function("cpm_parse_example1", |b| {
        b.iter(|| CpmPayload::parse(black_box(CPM)))
    });
    c.bench_function("top_level_parse_wallet", |b| {
        b.iter(|| smartpos_qr::parse(black_box("134650720866361395")))
    });
    c.bench_function("matrix_encode_sample", |b| {
        b.iter(|| QrMatrix::encode(black_box(SAMPLE), &QrOptions::default()))
    });
    let matrix = QrMatrix::encode(SAMPLE, &QrOptions::default()).unwrap();
    c.bench_function("png_render_sample_scale8", |b| {
        b.iter(|| black_box(&matrix).to_png(8))
    });
}

criterion_group!(qr_benches, benches);
criterion_main!(qr_benches);
