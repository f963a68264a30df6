//! Merchant-presented QR orders at the host simulator over loopback TCP: the order answer is a
//! real EMVCo MPM payload (parsed back with smartpos-qr, CRC checked), a simulated wallet pays
//! it by scanning the payload, queries see it paid, settlement totals count it, and an order
//! whose RRN the terminal lost is found by its STAN.

use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_crypto::keyhier::{HierarchyAlgorithm, KeyHierarchy};
use smartpos_host::{
    BatchTotals, HostClient, HostError, LinkConfig, MemoryStore, QrStatus, SettlementOutcome,
};
use smartpos_qr::mpm::{self, AccountInfo, PointOfInitiation};
use smartpos_sim::hostsim::{HostSim, HostSimConfig, TxnKind, WalletPayError};
use std::time::Duration;

fn host_client(sim: &HostSim) -> HostClient<MemoryStore> {
    let mut keys = KeyHierarchy::new(HierarchyAlgorithm::Tdes);
    // The host simulator's default terminal 12345678 and its test TMK.
    keys.install_tmk(
        SecretKey::from_hex(KeyAlgorithm::Tdes2, "11111111111111112222222222222222").expect("tmk"),
    )
    .expect("install tmk");
    let link = LinkConfig::tcp(sim.addr().to_string()).with_read_timeout(Duration::from_secs(2));
    let mut c = HostClient::new(
        link,
        smartpos_host::TerminalConfig::new("12345678", "123456789012345"),
        keys,
        MemoryStore::new(),
    );
    c.sign_on().expect("sign-on");
    c
}

/// A simulator whose orders are never paid by polling alone (only a wallet pays them).
fn sim_wallet_only() -> HostSim {
    let mut cfg = HostSimConfig::default_config();
    cfg.qr_polls_until_paid = 1_000;
    HostSim::start(&cfg, "127.0.0.1:0", None).expect("hostsim")
}

#[test]
fn order_payload_is_a_real_mpm_with_the_order_amount_and_reference() {
    let sim = sim_wallet_only();
    let mut c = host_client(&sim);
    let order = c
        .qr_create_order(1_850, Some("12345678000042"))
        .expect("order");
    assert_eq!(order.order_ref, "12345678000042");
    assert_eq!(order.amount, 1_850);
    // CRC enforced by the parser (EMV QRCPS-MPM v1.1 §4.7.1).
    let parsed = mpm::parse(&order.qr_payload).expect("MPM payload");
    let qr = &parsed.qr;
    assert_eq!(qr.point_of_initiation, Some(PointOfInitiation::Dynamic));
    assert_eq!(qr.transaction_amount.as_deref(), Some("18.50"));
    assert_eq!(qr.transaction_currency, "156");
    assert_eq!(qr.country_code, "CN");
    let account = qr
        .merchant_accounts
        .iter()
        .find_map(|a| match &a.info {
            AccountInfo::Template(t) if a.id == 26 => Some(t),
            _ => None,
        })
        .expect("account template 26");
    assert_eq!(account.guid, "cn.smartpos.hostsim");
    assert_eq!(account.field(1), Some("123456789012345"));
    assert_eq!(account.field(2), Some(order.rrn.as_str()));
    assert_eq!(account.field(3), Some("12345678"));
    let extra = qr.additional_data.as_ref().expect("62");
    assert_eq!(extra.reference_label.as_deref(), Some("12345678000042"));
    assert_eq!(extra.terminal_label.as_deref(), Some("12345678"));
    let crc = u16::from_str_radix(
        order
            .qr_payload
            .get(order.qr_payload.len() - 4..)
            .expect("crc"),
        16,
    )
    .expect("hex");
    assert_eq!(parsed.crc, crc);
    // Booked unpaid.
    let l = sim.ledger();
    let e = l.by_stan("12345678", order.stan).expect("ledger entry");
    assert_eq!(e.kind, TxnKind::Qr);
    assert!(!e.approved);
    assert_eq!(e.response_code, "09");
}

#[test]
fn a_wallet_pays_the_scanned_code_and_settlement_counts_it() {
    let sim = sim_wallet_only();
    let mut c = host_client(&sim);
    let order = c.qr_create_order(2_300, Some("R-PAID")).expect("order");
    assert_eq!(
        c.qr_query(&order.order()).expect("query"),
        QrStatus::Pending
    );
    assert_eq!(sim.wallet_pay(&order.qr_payload), Ok(order.rrn.clone()));
    assert_eq!(c.qr_query(&order.order()).expect("query"), QrStatus::Paid);
    // Paying twice is refused.
    assert_eq!(
        sim.wallet_pay(&order.qr_payload),
        Err(WalletPayError::NotPending {
            order: order.rrn.clone()
        })
    );
    let l = sim.ledger();
    let e = l.by_stan("12345678", order.stan).expect("entry");
    assert!(e.approved && e.counts());
    let totals = BatchTotals {
        debit_count: 1,
        debit_amount: 2_300,
        credit_count: 0,
        credit_amount: 0,
    };
    assert!(matches!(
        c.settle(&totals, &[]).expect("settle"),
        SettlementOutcome::Balanced
    ));
}

#[test]
fn an_unpaid_order_revoked_is_closed_and_not_counted() {
    let sim = sim_wallet_only();
    let mut c = host_client(&sim);
    let order = c.qr_create_order(700, Some("R-REVOKE")).expect("order");
    assert_eq!(
        c.qr_revoke(&order.order()).expect("revoke"),
        QrStatus::Revoked
    );
    assert_eq!(
        c.qr_query(&order.order()).expect("query"),
        QrStatus::Revoked
    );
    assert_eq!(
        sim.wallet_pay(&order.qr_payload),
        Err(WalletPayError::NotPending {
            order: order.rrn.clone()
        })
    );
    assert!(
        !sim.ledger()
            .by_stan("12345678", order.stan)
            .expect("entry")
            .counts()
    );
}

#[test]
fn polling_alone_pays_after_the_configured_number_of_queries() {
    let mut cfg = HostSimConfig::default_config();
    cfg.qr_polls_until_paid = 3;
    let sim = HostSim::start(&cfg, "127.0.0.1:0", None).expect("hostsim");
    let mut c = host_client(&sim);
    let order = c.qr_create_order(900, None).expect("order");
    assert_eq!(
        order.order_ref, order.rrn,
        "without a reference the RRN names it"
    );
    let statuses: Vec<QrStatus> = (0..3)
        .map(|_| c.qr_query(&order.order()).expect("query"))
        .collect();
    assert_eq!(
        statuses,
        [QrStatus::Pending, QrStatus::Pending, QrStatus::Paid]
    );
    assert!(
        sim.ledger()
            .by_stan("12345678", order.stan)
            .expect("e")
            .approved
    );
}

#[test]
fn an_order_whose_rrn_was_lost_is_found_by_its_stan() {
    let sim = sim_wallet_only();
    let mut c = host_client(&sim);
    let order = c.qr_create_order(1_234, Some("R-LOST")).expect("order");
    sim.wallet_pay(&order.qr_payload).expect("paid");
    let found = c
        .qr_query_by_trace(order.stan, 1_234)
        .expect("query by trace");
    assert_eq!(found.rrn, order.rrn);
    assert_eq!(found.status, QrStatus::Paid);
    // A STAN that placed no order.
    let e = c
        .qr_query_by_trace(order.stan + 500, 1_234)
        .expect_err("no such order");
    assert_eq!(
        e.response_code().map(|c| c.as_str().to_string()),
        Some("25".to_string())
    );
}

#[test]
fn order_refusals_carry_the_hosts_code() {
    let sim = sim_wallet_only();
    let mut c = host_client(&sim);
    // The default rules decline amounts ending in 51 with 51.
    let e = c
        .qr_create_order(1_051, Some("R-51"))
        .expect_err("declined");
    assert!(matches!(e, HostError::Declined { .. }), "{e}");
    assert_eq!(
        e.response_code().map(|c| c.as_str().to_string()),
        Some("51".to_string())
    );
}

#[test]
fn the_wallet_refuses_codes_that_are_not_an_open_order_of_this_host() {
    let sim = sim_wallet_only();
    let mut c = host_client(&sim);
    let order = c.qr_create_order(500, Some("R-W")).expect("order");
    // A corrupted CRC.
    let mut bad = order.qr_payload.clone();
    bad.truncate(bad.len() - 4);
    bad.push_str("0000");
    assert!(matches!(
        sim.wallet_pay(&bad),
        Err(WalletPayError::NotMpm(_))
    ));
    // id: qr-mpm-emvco-sample — source: EMVCo QRCPS-MPM specification sample payload
    // (published.md; mvallim/emv-qrcode CRCTest.java): a valid MPM of another acquirer.
    let emvco = "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A";
    assert_eq!(sim.wallet_pay(emvco), Err(WalletPayError::OtherAcquirer));
    // The right order with another amount (re-built with a valid CRC).
    let mut model = mpm::parse(&order.qr_payload).expect("mpm").qr;
    model.transaction_amount = Some("4.99".into());
    let tampered = model.to_payload().expect("payload");
    assert!(matches!(
        sim.wallet_pay(&tampered),
        Err(WalletPayError::AmountMismatch { .. })
    ));
    // An order RRN this host never issued.
    let mut model = mpm::parse(&order.qr_payload).expect("mpm").qr;
    if let Some(AccountInfo::Template(t)) = model.merchant_accounts.first_mut().map(|a| &mut a.info)
    {
        if let Some(f) = t.fields.iter_mut().find(|f| f.id == 2) {
            f.value = "999999999999".into();
        }
    }
    let unknown = model.to_payload().expect("payload");
    assert_eq!(
        sim.wallet_pay(&unknown),
        Err(WalletPayError::UnknownOrder("999999999999".into()))
    );
    // None of these paid it.
    assert_eq!(
        c.qr_query(&order.order()).expect("query"),
        QrStatus::Pending
    );
}
