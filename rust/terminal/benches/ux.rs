//! Merchant-facing rendering and operator checks: receipt layout and its three renderings,
//! the totals report, prompt lookup, and an argon2id password check at the default parameters.

use criterion::{Criterion, criterion_group, criterion_main};
use smartpos_journal::{EntryMode, TxnKind, TxnState};
use smartpos_terminal::operator::{MemoryAudit, OperatorPolicy, OperatorStore};
use smartpos_terminal::prompts::{Language, Prompt};
use smartpos_terminal::receipt::{
    CodePage, Copy, CvmLine, MerchantInfo, Receipt, ReceiptData, Width,
};
use std::hint::black_box;

fn sale() -> ReceiptData {
    ReceiptData {
        merchant: MerchantInfo {
            name: "智能收银演示店".into(),
            merchant_id: "123456789012345".into(),
            terminal_id: "12345678".into(),
            address: Some("SHANGHAI".into()),
            e_invoice_url: Some(
                "https://einv.example.cn/i?m={merchant_id}&n={invoice}&a={amount}".into(),
            ),
            utc_offset_minutes: 480,
        },
        operator: "001".into(),
        date_time: "2026-11-21 18:15:03".into(),
        date: "20261121".into(),
        kind: TxnKind::Sale,
        state: TxnState::Completed,
        pan_masked: Some("476173******0119".into()),
        entry_mode: Some(EntryMode::Contact),
        scheme: Some("visa".into()),
        aid: Some("A0000000031010".into()),
        app_label: Some("VISA CREDIT".into()),
        tvr: Some("0000008000".into()),
        tsi: Some("E800".into()),
        cryptogram: Some("1A2B3C4D5E6F7081".into()),
        cryptogram_type: Some("TC".into()),
        auth_code: Some("A1B2C3".into()),
        response_code: Some("00".into()),
        rrn: Some("632510000012".into()),
        stan: 12,
        batch_no: 1,
        invoice: 12,
        original_rrn: None,
        amount: 12_345,
        tip: 0,
        cashback: 0,
        coupon_discount: 0,
        currency: "156".into(),
        cvm: CvmLine::PinVerified,
        member_id: Some("M0042".into()),
        order_ref: Some("ORD-7".into()),
        wallet_order_no: None,
        uuid: "00000000-0000-4000-8000-000000000001".into(),
        reprint: false,
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
