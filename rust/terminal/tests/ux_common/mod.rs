//! Fixtures shared by the terminal-ux tests (`tests/ux_*.rs`) and the `ux` benchmark
//! (`benches/ux.rs`, through `#[path]`): the sample receipt data, temp directories and a journal
//! on a fixed clock.

// Each includer uses a subset.
#![allow(dead_code)]

use smartpos_journal::{
    AesGcmPanProtector, EntryMode, Journal, JournalConfig, ManualClock, Timestamp, TxnKind,
    TxnState,
};
use smartpos_terminal::receipt::{CvmLine, MerchantInfo, ReceiptData};

/// 2026-11-21 10:15:03 UTC, the fixed clock of the fixtures.
pub const T0_MS: i64 = 1_795_256_103_000;

/// A fresh directory under the system temp dir, unique per process and call.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let d = std::env::temp_dir().join(format!("smartpos-ux-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// A journal in a fresh temp dir `name`, on a clock stopped at [`T0_MS`], its PANs protected
/// with the hash key `[hash_key; 32]` and data key `[data_key; 32]`; returns it and the dir.
pub fn temp_journal(name: &str, hash_key: u8, data_key: u8) -> (Journal, std::path::PathBuf) {
    let dir = temp_dir(name);
    let protector =
        AesGcmPanProtector::new(&[hash_key; 32], &[data_key; 32], 1).expect("journal keys");
    let (j, _) = Journal::open(
        dir.join("journal.db"),
        JournalConfig::default(),
        Box::new(ManualClock::new(Timestamp(T0_MS))),
        Box::new(protector),
    )
    .expect("journal");
    (j, dir)
}

/// The merchant of the receipt tests: Latin name, no address, an e-invoice URL template.
pub fn merchant() -> MerchantInfo {
    MerchantInfo {
        name: "SMARTPOS DEMO SHOP".into(),
        merchant_id: "123456789012345".into(),
        terminal_id: "12345678".into(),
        address: None,
        e_invoice_url: Some(
            "https://einv.example.cn/i?m={merchant_id}&t={terminal_id}&n={invoice}&a={amount}&d={date}"
                .into(),
        ),
        utc_offset_minutes: 480,
    }
}

/// A completed contact Visa sale of CNY 123.45 with PIN, member id and order reference
/// (2026-11-21 10:15:03 UTC, printed at +08:00).
pub fn sale() -> ReceiptData {
    ReceiptData {
        merchant: merchant(),
        operator: "001".into(),
        // 2026-11-21 10:15:03 UTC, printed at +08:00.
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
