//! Value-added data (field 63 `VAD` + ORD/MBR/CPN, see `smartpos_host::dialect`) through the host
//! simulator over loopback TCP: it arrives and is kept in the ledger next to its transaction; a
//! malformed or hostile 63 from a raw test client is answered 30 (format error) without a panic
//! and without booking anything; a 63 changed after MACing is a MAC failure (A0).

use proptest::prelude::*;
use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_crypto::keyhier::{HierarchyAlgorithm, KeyHierarchy, WorkingKeyType};
use smartpos_host::mac::{self, MacAlgorithm};
use smartpos_host::{
    CardData, HostClient, Link, LinkConfig, MemoryStore, PinInput, ResponseCode, SaleRequest,
    TerminalConfig, ValueAddedData,
};
use smartpos_iso8583::{Frame, Message, Mti, Profile, Tpdu};
use smartpos_sim::hostsim::{HostSim, TxnKind};
use std::time::Duration;

const TID: &str = "12345678";
const MID: &str = "123456789012345";
const TMK: &str = "11111111111111112222222222222222";
const VISA: &str = "4761739001010010";

fn signed_on(sim: &HostSim) -> HostClient<MemoryStore> {
    signed_on_with(sim, Duration::from_secs(5))
}

fn signed_on_with(sim: &HostSim, read_timeout: Duration) -> HostClient<MemoryStore> {
    let mut keys = KeyHierarchy::new(HierarchyAlgorithm::Tdes);
    keys.install_tmk(SecretKey::from_hex(KeyAlgorithm::Tdes2, TMK).expect("tmk"))
        .expect("install tmk");
    let link = LinkConfig::tcp(sim.addr().to_string()).with_read_timeout(read_timeout);
    let mut c = HostClient::new(
        link,
        TerminalConfig::new(TID, MID),
        keys,
        MemoryStore::new(),
    );
    c.sign_on().expect("sign-on");
    c
}

fn sale(amount: u64) -> SaleRequest {
    SaleRequest {
        amount,
        card: CardData::manual(VISA),
        pin: PinInput::None,
    }
}

#[test]
fn value_added_data_arrives_and_is_kept_with_its_sale() {
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    let va = ValueAddedData::new(Some("SO-2026-11-21-0042"), Some("13800138000"), 1_500);
    let r = c
        .sale_with_value_added(&sale(8_500), &va)
        .expect("approved");
    let stan = r.stan;

    let ledger = sim.ledger();
    assert_eq!(ledger.value_added_of(TID, stan), Some(&va));
    let record = ledger.value_added.first().expect("one record");
    let entry = ledger.entries.get(record.entry).expect("its entry");
    assert_eq!(entry.stan, stan);
    assert_eq!(entry.kind, TxnKind::Sale);
    assert_eq!(entry.amount, 8_500);
    assert!(entry.approved);
    assert_eq!(ledger.format_errors, 0);

    // A plain sale carries none; a pre-authorisation carries its own.
    let plain = c.sale(&sale(100)).expect("approved");
    assert_eq!(sim.ledger().value_added_of(TID, plain.stan), None);
    let pa = ValueAddedData::new(Some("HOTEL-ROOM-12"), None, 0);
    let pre = c
        .pre_authorise_with_value_added(&sale(20_000), &pa)
        .expect("approved");
    let ledger = sim.ledger();
    assert_eq!(ledger.value_added_of(TID, pre.stan), Some(&pa));
    assert_eq!(ledger.value_added.len(), 2);
    assert_eq!(
        ledger.by_stan(TID, pre.stan).map(|e| e.kind),
        Some(TxnKind::PreAuth)
    );
}

/// A raw 0200 sale with `f63` in field 63, MACed with the client's working MAC key; `tamper`
/// changes 63 after the MAC.
fn raw_sale(tak: &SecretKey, stan: u32, f63: &[u8], tamper: Option<&[u8]>) -> Vec<u8> {
    let p = Profile::cups_pos();
    let mut m = Message::new(Mti::new("0200").expect("mti"));
    m.set_pan(VISA).expect("2");
    m.set_processing_code("000000").expect("3");
    m.set_amount(4, 1_000).expect("4");
    m.set_stan(stan).expect("11");
    m.set_text(22, "012").expect("22");
    m.set_text(25, "00").expect("25");
    m.set_terminal_id(TID).expect("41");
    m.set_merchant_id(MID).expect("42");
    m.set_text(49, "156").expect("49");
    m.set_text(60, "22000001000").expect("60");
    m.set_bytes(63, f63).expect("63 fits the profile");
    mac::sign(p, MacAlgorithm::CupEcb, tak, &mut m).expect("mac");
    if let Some(t) = tamper {
        m.set_bytes(63, t).expect("63");
    }
    let f = Frame::new(Tpdu::new(1, 0), &[0x60, 0x31, 0, 0x31, 0, 0], m);
    p.pack_frame(&f).expect("pack")
}

fn exchange(sim: &HostSim, bytes: &[u8]) -> Message {
    let mut link = Link::connect(
        &LinkConfig::tcp(sim.addr().to_string()).with_read_timeout(Duration::from_secs(5)),
    )
    .expect("connect");
    link.send(bytes).expect("send");
    let answer = link.receive().expect("an answer");
    Profile::cups_pos()
        .unpack_frame(&answer)
        .expect("a valid answer")
        .message
}

fn working_mac_key(c: &HostClient<MemoryStore>) -> SecretKey {
    c.keys()
        .key(WorkingKeyType::Mac)
        .expect("MAC key after sign-on")
        .clone()
}

#[test]
fn a_malformed_field_63_is_a_format_error_not_a_panic_and_nothing_is_booked() {
    let sim = HostSim::start_default().expect("sim");
    let c = signed_on(&sim);
    let tak = working_mac_key(&c);
    let hostile: &[&[u8]] = &[
        b"VAD",
        b"VADOR",
        b"VADORD0",
        b"VADORD99A",
        b"VADORDxxA",
        b"VADORD00",
        b"VADXYZ01A",
        b"VADORD01AORD01B",
        b"VADCPN12000000000000",
        b"VADCPN12ABCDEFGHIJKL",
        b"VADORD02\xE8\xAE",
        b"VADMBR02M1trailing",
    ];
    let before = sim.ledger();
    for (i, f63) in hostile.iter().enumerate() {
        let stan = 500 + i as u32;
        let r = exchange(&sim, &raw_sale(&tak, stan, f63, None));
        assert_eq!(
            r.response_code(),
            Some(ResponseCode::FORMAT_ERROR.as_str()),
            "{:?}",
            String::from_utf8_lossy(f63)
        );
        assert_eq!(r.stan().ok().flatten(), Some(u64::from(stan)));
        // The 30 is a MACed answer like any other.
        mac::verify(Profile::cups_pos(), MacAlgorithm::CupEcb, &tak, &r).expect("answer MAC");
        assert!(sim.ledger().by_stan(TID, stan).is_none(), "nothing booked");
    }
    let after = sim.ledger();
    assert_eq!(after.format_errors, hostile.len() as u32);
    assert_eq!(after.entries.len(), before.entries.len());
    assert!(after.value_added.is_empty());
    // The simulator still serves: a good raw sale is approved and its data kept.
    let good = b"VADORD05R-001CPN12000000000250";
    let r = exchange(&sim, &raw_sale(&tak, 900, good, None));
    assert_eq!(r.response_code(), Some("00"));
    let kept = sim.ledger();
    let v = kept.value_added_of(TID, 900).expect("kept");
    assert_eq!(v.merchant_order_ref.as_deref(), Some("R-001"));
    assert_eq!(v.coupon_discount, 250);
}

#[test]
fn field_63_changed_after_the_mac_is_a_mac_failure() {
    let sim = HostSim::start_default().expect("sim");
    let c = signed_on(&sim);
    let tak = working_mac_key(&c);
    let bytes = raw_sale(
        &tak,
        77,
        b"VADCPN12000000000100",
        Some(b"VADCPN12000000009900"),
    );
    let r = exchange(&sim, &bytes);
    assert_eq!(r.response_code(), Some("A0"));
    let ledger = sim.ledger();
    assert_eq!(ledger.mac_failures, 1);
    assert!(ledger.value_added.is_empty());
    assert_eq!(ledger.format_errors, 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn random_value_added_bytes_get_an_answer(
        // Every byte the profile's 63 (ans with high bytes) can carry.
        tail in proptest::collection::vec(prop_oneof![0x20u8..=0x7E, 0x80u8..=0xFF], 0..120),
    ) {
        let sim = HostSim::start_default().expect("sim");
        let c = signed_on(&sim);
        let tak = working_mac_key(&c);
        let mut f63 = b"VAD".to_vec();
        f63.extend_from_slice(&tail);
        let r = exchange(&sim, &raw_sale(&tak, 42, &f63, None));
        let code = r.response_code().map(str::to_string);
        let parsed = ValueAddedData::from_field63(&f63);
        let ledger = sim.ledger();
        match parsed {
            Ok(v) => {
                prop_assert_ne!(code.as_deref(), Some("30"));
                prop_assert_eq!(ledger.value_added_of(TID, 42), Some(&v));
            }
            Err(_) => {
                prop_assert_eq!(code.as_deref(), Some("30"));
                prop_assert_eq!(ledger.format_errors, 1);
            }
        }
    }
}

#[test]
fn with_a_dukpt_pin_block_fields_62_and_63_travel_together() {
    use smartpos_crypto::dukpt::tdes::{Ksn, Originator, derive_ipek};
    use smartpos_crypto::pin::Pin;
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    // BDK of the default config and the X9.24-1:2009 A.4 initial KSN (as hostsim_flows).
    let bdk =
        SecretKey::from_hex(KeyAlgorithm::Tdes2, "0123456789ABCDEFFEDCBA9876543210").expect("bdk");
    let ksn = Ksn::from_hex("FFFF9876543210E00000").expect("ksn");
    let ipek = derive_ipek(&bdk, &ksn).expect("ipek");
    c.set_dukpt(Originator::load_initial_key(&ipek, &ksn).expect("originator"));
    let va = ValueAddedData::new(Some("POS-77"), Some("VIP0099"), 300);
    let with_pin = |p: &str| SaleRequest {
        amount: 2_700,
        card: CardData::manual(VISA),
        pin: PinInput::Clear(Pin::new(p).expect("pin")),
    };
    let ok = c
        .sale_with_value_added(&with_pin("1234"), &va)
        .expect("approved: KSN in 62, VAD in 63");
    assert_eq!(sim.ledger().value_added_of(TID, ok.stan), Some(&va));
    // A declined sale (wrong PIN) still delivered its value-added data; the entry is declined.
    let e = c
        .sale_with_value_added(&with_pin("4321"), &va)
        .expect_err("wrong PIN");
    let stan = c.last_stan();
    assert_eq!(
        e.response_code().map(|r| r.to_string()).as_deref(),
        Some("55")
    );
    let ledger = sim.ledger();
    assert_eq!(ledger.value_added_of(TID, stan), Some(&va));
    assert_eq!(ledger.by_stan(TID, stan).map(|e| e.approved), Some(false));
}

#[test]
fn a_value_added_sale_cancelled_while_the_host_is_silent_is_reversed_at_the_host() {
    use smartpos_host::{CancelHook, HostError, QueueKind, ReversalReason, ReversalStore};
    use smartpos_sim::hostsim::Fault;
    let sim = HostSim::start_default().expect("sim");
    // A response timeout the test would never reach: only the cancel can end the wait.
    let mut c = signed_on_with(&sim, Duration::from_secs(60));
    sim.inject(Fault::NoAnswer, 1);
    let requests_before = sim.ledger().requests;
    let hook = CancelHook::new();
    let va = ValueAddedData::new(Some("CANCEL-ME"), None, 0);
    let err = std::thread::scope(|s| {
        let (sim, canceller) = (&sim, hook.clone());
        s.spawn(move || {
            // Cancel once the host has the sale (it books it and stays silent): a wait on the
            // host's state, then the cashier's ~100 ms.
            while sim.ledger().requests == requests_before {
                std::thread::sleep(Duration::from_millis(10));
            }
            std::thread::sleep(Duration::from_millis(100));
            canceller.cancel();
        });
        c.with_cancel(hook, |c| c.sale_with_value_added(&sale(4_200), &va))
    })
    .expect_err("cancelled");
    assert!(
        matches!(err, HostError::Cancelled { sent: true }),
        "got {err:?}"
    );
    let stan = c.last_stan();
    let ledger = sim.ledger();
    let entry = ledger.by_stan(TID, stan).expect("the host booked the sale");
    assert!(entry.approved && !entry.reversed);
    assert_eq!(ledger.value_added_of(TID, stan), Some(&va));
    let queued = c.store().pending(QueueKind::Reversal).expect("store");
    assert_eq!(
        queued
            .iter()
            .map(|e| (e.stan, e.reason))
            .collect::<Vec<_>>(),
        [(stan, ReversalReason::NoResponse)]
    );

    // The next transaction first sends the queued reversal (39 = 98): the host reverses the sale.
    c.sale(&sale(100)).expect("next sale approved");
    let ledger = sim.ledger();
    assert!(ledger.by_stan(TID, stan).expect("entry").reversed);
    assert_eq!(ledger.reversals_applied, 1);
}
