//! Merchant-facing rendering and operator checks: receipt layout and its three renderings,
//! the totals report, prompt lookup, and an argon2id password check at the default parameters.

use criterion::{Criterion, criterion_group, criterion_main};
use smartpos_terminal::operator::{MemoryAudit, OperatorPolicy, OperatorStore};
use smartpos_terminal::prompts::{Language, Prompt};
use smartpos_terminal::receipt::{CodePage, Copy, MerchantInfo, Receipt, ReceiptData, Width};
use std::hint::black_box;

// The receipt fixture of the ux tests, shared rather than copied.
#[path = "../tests/ux_common/mod.rs"]
mod ux_common;

/// The tests' sample sale, from a merchant with a Chinese name and an address.
fn sale() -> ReceiptData {
    ReceiptData {
        merchant: MerchantInfo {
            name: "智能收银演示店".into(),
            address: Some("SHANGHAI".into()),
            e_invoice_url: Some(
                "https://einv.example.cn/i?m={merchant_id}&n={invoice}&a={amount}".into(),
            ),
            ..ux_common::merchant()
        },
        ..ux_common::sale()
    }
}

fn receipts(c: &mut Criterion) {
    let data = sale();
    let r = Receipt::build(&data, Copy::Customer, Language::ZhHans);
    c.bench_function("receipt_build", |b| {
        b.iter(|| Receipt::build(black_box(&data), Copy::Customer, Language::ZhHans))
    });
    c.bench_function("receipt_text_32", |b| {
        b.iter(|| black_box(&r).to_text(Width::Cols32))
    });
    c.bench_function("receipt_escpos_gbk_48", |b| {
        b.iter(|| black_box(&r).to_escpos(Width::Cols48, CodePage::Gbk))
    });
    c.bench_function("receipt_png_32", |b| {
        b.iter(|| black_box(&r).to_png(Width::Cols32))
    });
    c.bench_function("prompt_text", |b| {
        b.iter(|| Prompt::from_id(black_box("see_phone")).map(|p| p.text(Language::ZhHans, None)))
    });
}

fn operators(c: &mut Criterion) {
    let store = match OperatorStore::open_in_memory(
        OperatorPolicy::default(),
        Box::new(MemoryAudit::new()),
    ) {
        Ok(s) => s,
        Err(e) => panic!("store: {e}"),
    };
    if let Err(e) = store.bootstrap_admin("admin", "Admin", "admin-pass") {
        panic!("bootstrap: {e}");
    }
    let mut g = c.benchmark_group("operator");
    g.sample_size(10);
    g.bench_function("sign_in_argon2id_19MiB_t2", |b| {
        b.iter(|| store.sign_in(black_box("admin"), black_box("admin-pass")))
    });
    g.finish();
}

criterion_group!(benches, receipts, operators);
criterion_main!(benches);
