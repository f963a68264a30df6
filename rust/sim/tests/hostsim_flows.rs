//! End-to-end: smartpos-host's client against the host simulator over loopback TCP.

use smartpos_crypto::emv::Cvn;
use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_crypto::keyhier::{HierarchyAlgorithm, KeyHierarchy, WorkingKeyType};
use smartpos_crypto::pin::Pin;
use smartpos_host::{
    BatchRecord, BatchTotals, CardData, CompletionRequest, HostClient, HostError, LinkConfig,
    MemoryStore, PinInput, QrStatus, QueueKind, RefundRequest, ReversalReason, ReversalStore,
    SaleRequest, SettlementOutcome, TerminalConfig, VoidRequest,
};
use smartpos_sim::hostsim::icc::{self, ArqcInput};
use smartpos_sim::hostsim::{HostSim, TxnKind};
use smartpos_tlv::{Tag, find};
use std::time::Duration;

const TID: &str = "12345678";
const MID: &str = "123456789012345";
const TMK: &str = "11111111111111112222222222222222";
const VISA: &str = "4761739001010010";
const VISA_IMK: &str = "0123456789ABCDEFFEDCBA9876543210";
const MC: &str = "5413330089010434";
const MC_IMK: &str = "9E15204313F7318ACB79B90BD986AD29";
const CUP: &str = "6214000000000000019";

fn client(sim: &HostSim) -> HostClient<MemoryStore> {
    let mut keys = KeyHierarchy::new(HierarchyAlgorithm::Tdes);
    keys.install_tmk(SecretKey::from_hex(KeyAlgorithm::Tdes2, TMK).expect("tmk"))
        .expect("install tmk");
    let link =
        LinkConfig::tcp(sim.addr().to_string()).with_read_timeout(Duration::from_millis(400));
    HostClient::new(
        link,
        TerminalConfig::new(TID, MID),
        keys,
        MemoryStore::new(),
    )
}

fn signed_on(sim: &HostSim) -> HostClient<MemoryStore> {
    let mut c = client(sim);
    c.sign_on().expect("sign-on");
    c
}

fn visa_chip(amount: u64, cvn: Cvn) -> CardData {
    let f55 = icc::field55(&ArqcInput {
        pan: VISA,
        psn: "01",
        imk_hex: VISA_IMK,
        cvn,
        amount,
        atc: 0x0021,
        unpredictable_number: [0x11, 0x22, 0x33, 0x44],
    })
    .expect("field 55");
    CardData::chip(VISA, "01", f55)
}

fn pin(p: &str) -> PinInput {
    PinInput::Clear(Pin::new(p).expect("pin"))
}

fn sale(amount: u64, card: CardData, p: PinInput) -> SaleRequest {
    SaleRequest {
        amount,
        card,
        pin: p,
    }
}

#[test]
fn sign_on_installs_pin_mac_and_data_keys() {
    let sim = HostSim::start_default().expect("sim");
    let mut c = client(&sim);
    assert!(c.keys().key(WorkingKeyType::Mac).is_none());
    c.sign_on().expect("sign-on");
    for k in [
        WorkingKeyType::Pin,
        WorkingKeyType::Mac,
        WorkingKeyType::Data,
    ] {
        assert!(c.keys().key(k).is_some(), "{k} key installed");
    }
    assert_eq!(sim.ledger().sign_ons, 1);
    c.echo().expect("echo");
}

#[test]
fn chip_sale_with_pin_is_approved_with_a_verified_arqc_and_an_arpc() {
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    let r = c
        .sale(&sale(12_300, visa_chip(12_300, Cvn::Visa10), pin("1234")))
        .expect("approved");
    assert!(r.code.is_approved());
    assert_eq!(r.rrn.as_deref().map(str::len), Some(12));
    assert_eq!(r.auth_code.as_deref().map(str::len), Some(6));
    let f55 = r.icc_data.expect("field 55 in the response");
    let t91 = find(&f55, Tag(0x91)).expect("tlv").expect("tag 91");
    assert_eq!(t91.value.len(), 10, "ARPC method 1 (8) + ARC (2)");
    assert_eq!(&t91.value[8..], b"00");
    let l = sim.ledger();
    let e = l.by_stan(TID, r.stan).expect("ledger entry");
    assert!(e.approved);
    assert_eq!(e.arqc_verified, Some(true));
    assert_eq!(e.amount, 12_300);
    assert_eq!(e.kind, TxnKind::Sale);
    assert!(
        c.store()
            .pending(QueueKind::Reversal)
            .expect("pending")
            .is_empty()
    );
}

#[test]
fn arpc_method_1_verifies_with_the_card_session_key() {
    // The ARPC in field 91 is E(SK, ARQC xor ARC) (EMV Book 2 §8.2.1): recompute on the card side.
    use smartpos_crypto::emv;
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    let card = visa_chip(500, Cvn::Visa10);
    let arqc: [u8; 8] = find(card.icc_data.as_ref().expect("55"), Tag(0x9F26))
        .expect("tlv")
        .expect("9F26")
        .value
        .try_into()
        .expect("8 bytes");
    let r = c.sale(&sale(500, card, PinInput::None)).expect("approved");
    let f55 = r.icc_data.expect("55");
    let t91 = find(&f55, Tag(0x91)).expect("tlv").expect("91");
    let imk = SecretKey::from_hex(KeyAlgorithm::Tdes2, VISA_IMK).expect("imk");
    let mk = emv::derive_icc_mk(&imk, VISA, "01", emv::MkDerivation::OptionA).expect("mk");
    let expected = emv::arpc_method1(&mk, &arqc, b"00").expect("arpc");
    assert_eq!(&t91.value[..8], &expected);
}

#[test]
fn mastercard_cvn16_cvn17_and_visa_cvn18_arqcs_verify() {
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    let f55 = icc::field55(&ArqcInput {
        pan: MC,
        psn: "00",
        imk_hex: MC_IMK,
        cvn: Cvn::Mastercard16,
        amount: 700,
        atc: 5,
        unpredictable_number: [1, 2, 3, 4],
    })
    .expect("55");
    let r = c
        .sale(&sale(700, CardData::chip(MC, "00", f55), pin("1234")))
        .expect("MC approved");
    assert!(r.code.is_approved());
    let f55 = icc::field55(&ArqcInput {
        pan: MC,
        psn: "00",
        imk_hex: MC_IMK,
        cvn: Cvn::Mastercard17,
        amount: 750,
        atc: 6,
        unpredictable_number: [5, 6, 7, 8],
    })
    .expect("55");
    c.sale(&sale(750, CardData::chip(MC, "00", f55), PinInput::None))
        .expect("MC CVN 17 approved");
    let r = c
        .sale(&sale(800, visa_chip(800, Cvn::Visa18), PinInput::None))
        .expect("Visa 18 approved");
    let t91 = find(r.icc_data.as_ref().expect("55"), Tag(0x91))
        .expect("tlv")
        .expect("91");
    assert_eq!(t91.value.len(), 8, "ARPC method 2: ARPC (4) + CSU (4)");
    let l = sim.ledger();
    assert!(l.entries.iter().all(|e| e.arqc_verified == Some(true)));
}

#[test]
fn tampered_arqc_is_declined_05() {
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    let mut card = visa_chip(900, Cvn::Visa10);
    // 9F26 is the first object: 9F 26 08 <8 bytes>; flip a cryptogram bit.
    if let Some(icc) = card.icc_data.as_mut() {
        icc[3] ^= 0x01;
    }
    let e = c
        .sale(&sale(900, card, PinInput::None))
        .expect_err("declined");
    assert_eq!(
        e.response_code().map(|c| c.to_string()).as_deref(),
        Some("05")
    );
    assert_eq!(sim.ledger().entries[0].arqc_verified, Some(false));
}

#[test]
fn amount_rules_decline_with_their_codes() {
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    for (amount, code) in [(1051u64, "51"), (1055, "55"), (1005, "05")] {
        let e = c
            .sale(&sale(amount, CardData::manual(VISA), PinInput::None))
            .expect_err("declined");
        match &e {
            HostError::Declined { code: got, .. } => assert_eq!(got.as_str(), code),
            other => panic!("expected a decline, got {other:?}"),
        }
    }
    // Declines with a believed response leave no reversal behind.
    assert!(
        c.store()
            .pending(QueueKind::Reversal)
            .expect("p")
            .is_empty()
    );
}

#[test]
fn wrong_pin_gives_55_then_75_after_the_try_limit() {
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    let codes: Vec<String> = (0..3)
        .map(|_| {
            c.sale(&sale(100, CardData::manual(MC), pin("9999")))
                .expect_err("declined")
                .response_code()
                .map(|c| c.to_string())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(codes, ["55", "55", "75"]);
    // Even the right PIN is refused once blocked.
    let e = c
        .sale(&sale(100, CardData::manual(MC), pin("1234")))
        .expect_err("blocked");
    assert_eq!(
        e.response_code().map(|c| c.to_string()).as_deref(),
        Some("75")
    );
}

#[test]
fn dukpt_pin_block_is_verified_by_the_host() {
    use smartpos_crypto::dukpt::tdes::{Ksn, Originator, derive_ipek};
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    // BDK of the default config and the X9.24-1:2009 A.4 initial KSN.
    let bdk =
        SecretKey::from_hex(KeyAlgorithm::Tdes2, "0123456789ABCDEFFEDCBA9876543210").expect("bdk");
    let ksn = Ksn::from_hex("FFFF9876543210E00000").expect("ksn");
    let ipek = derive_ipek(&bdk, &ksn).expect("ipek");
    c.set_dukpt(Originator::load_initial_key(&ipek, &ksn).expect("originator"));
    c.sale(&sale(200, CardData::manual(VISA), pin("1234")))
        .expect("approved with DUKPT PIN");
    let e = c
        .sale(&sale(200, CardData::manual(VISA), pin("4321")))
        .expect_err("wrong PIN");
    assert_eq!(
        e.response_code().map(|c| c.to_string()).as_deref(),
        Some("55")
    );
}

#[test]
fn prepaid_balance_sale_refund_and_inquiry() {
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    let card = CardData::manual(CUP);
    let b = c.balance_inquiry(&card, &pin("123456")).expect("balance");
    assert_eq!(b.amount, Some(100_000));
    let s = c
        .sale(&sale(30_000, card.clone(), pin("123456")))
        .expect("sale");
    assert_eq!(sim.balance(CUP), Some(70_000));
    let e = c
        .sale(&sale(80_000, card.clone(), pin("123456")))
        .expect_err("over the balance");
    assert_eq!(
        e.response_code().map(|c| c.to_string()).as_deref(),
        Some("51")
    );
    c.refund(&RefundRequest {
        amount: 10_000,
        card: card.clone(),
        original_rrn: s.rrn.clone().expect("rrn"),
        original_date: "1121".into(),
    })
    .expect("refund");
    let b = c.balance_inquiry(&card, &pin("123456")).expect("balance");
    assert_eq!(b.amount, Some(80_000));
    // A credit card keeps no balance.
    let e = c
        .balance_inquiry(&CardData::manual(VISA), &PinInput::None)
        .expect_err("no balance");
    assert_eq!(
        e.response_code().map(|c| c.to_string()).as_deref(),
        Some("40")
    );
}

#[test]
fn refund_of_an_unknown_sale_is_25() {
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    let e = c
        .refund(&RefundRequest {
            amount: 100,
            card: CardData::manual(VISA),
            original_rrn: "999999999999".into(),
            original_date: "1121".into(),
        })
        .expect_err("unknown");
    assert_eq!(
        e.response_code().map(|c| c.to_string()).as_deref(),
        Some("25")
    );
}

#[test]
fn void_marks_the_sale_voided_and_restores_the_balance() {
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    let card = CardData::manual(CUP);
    let s = c
        .sale(&sale(5_000, card.clone(), pin("123456")))
        .expect("sale");
    assert_eq!(sim.balance(CUP), Some(95_000));
    c.void(&VoidRequest {
        amount: 5_000,
        card,
        pin: PinInput::None,
        original_stan: s.stan,
        original_rrn: s.rrn.clone().expect("rrn"),
        original_auth_code: s.auth_code.clone().expect("auth"),
    })
    .expect("void");
    assert_eq!(sim.balance(CUP), Some(100_000));
    let l = sim.ledger();
    assert!(l.by_stan(TID, s.stan).expect("sale").voided);
}

#[test]
fn pre_authorisation_and_completion() {
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    let card = CardData::manual(CUP);
    let p = c
        .pre_authorise(&sale(20_000, card.clone(), pin("123456")))
        .expect("pre-auth");
    assert_eq!(sim.balance(CUP), Some(100_000), "a pre-auth does not debit");
    let auth = p.auth_code.clone().expect("auth code");
    c.complete_pre_authorisation(&CompletionRequest {
        amount: 21_000,
        card: card.clone(),
        original_auth_code: auth.clone(),
        original_stan: p.stan,
        original_date: "1121".into(),
    })
    .expect("completion within 115%");
    assert_eq!(sim.balance(CUP), Some(79_000));
    let e = c
        .complete_pre_authorisation(&CompletionRequest {
            amount: 100,
            card,
            original_auth_code: "000000".into(),
            original_stan: p.stan,
            original_date: "1121".into(),
        })
        .expect_err("wrong auth code");
    assert_eq!(
        e.response_code().map(|c| c.to_string()).as_deref(),
        Some("25")
    );
}

#[test]
fn qr_order_becomes_paid_after_two_polls() {
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    let order = c.qr_pay(1_234, "281234567890123456").expect("qr pay");
    assert_eq!(order.status, QrStatus::Pending);
    assert_eq!(c.qr_query(&order).expect("poll 1"), QrStatus::Pending);
    assert_eq!(c.qr_query(&order).expect("poll 2"), QrStatus::Paid);
    let l = sim.ledger();
    let e = l.by_stan(TID, order.stan).expect("order");
    assert!(e.approved);
    assert_eq!(e.kind, TxnKind::Qr);
}

#[test]
fn qr_order_revoked_while_pending_stays_unpaid() {
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    let order = c.qr_pay(2_000, "281111222233334444").expect("qr pay");
    assert_eq!(c.qr_revoke(&order).expect("revoke"), QrStatus::Revoked);
    assert_eq!(c.qr_query(&order).expect("poll"), QrStatus::Revoked);
    assert!(
        !sim.ledger()
            .by_stan(TID, order.stan)
            .expect("order")
            .approved
    );
}

#[test]
fn offline_advice_is_delivered_once_and_counted_in_settlement() {
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    let s = c
        .sale(&sale(1_000, CardData::manual(VISA), PinInput::None))
        .expect("sale");
    let adv = c
        .queue_advice(400, &visa_chip(400, Cvn::Visa10))
        .expect("queued");
    assert_eq!(c.store().pending(QueueKind::Advice).expect("p").len(), 1);
    assert_eq!(c.flush_advices().expect("flushed"), 1);
    assert!(c.store().is_complete(QueueKind::Advice, adv));
    assert_eq!(c.flush_advices().expect("nothing left"), 0);
    let l = sim.ledger();
    assert_eq!(l.advice_requests, 1);
    assert_eq!(l.by_stan(TID, adv).expect("advice").kind, TxnKind::Offline);
    let totals = BatchTotals {
        debit_count: 2,
        debit_amount: 1_400,
        ..BatchTotals::default()
    };
    let out = c.settle(&totals, &[]).expect("settled");
    assert_eq!(out, SettlementOutcome::Balanced);
    assert_eq!(c.config().batch, 2);
    let _ = s;
}

#[test]
fn settlement_mismatch_uploads_the_batch_then_settles() {
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    let s = c
        .sale(&sale(1_000, CardData::manual(VISA), PinInput::None))
        .expect("sale");
    // The terminal also holds an offline sale the host never heard of (advice lost).
    let records = vec![
        BatchRecord {
            stan: s.stan,
            processing_code: "000000".into(),
            amount: 1_000,
            pan: VISA.into(),
            rrn: s.rrn.clone(),
            auth_code: s.auth_code.clone(),
        },
        BatchRecord {
            stan: 777,
            processing_code: "000000".into(),
            amount: 250,
            pan: MC.into(),
            rrn: None,
            auth_code: None,
        },
    ];
    let totals = BatchTotals {
        debit_count: 2,
        debit_amount: 1_250,
        ..BatchTotals::default()
    };
    let out = c.settle(&totals, &records).expect("settled after upload");
    assert_eq!(out, SettlementOutcome::BalancedAfterUpload { uploaded: 2 });
    let l = sim.ledger();
    let codes: Vec<_> = l
        .settlements
        .iter()
        .map(|s| (s.network_code.as_str(), s.response_code.as_str()))
        .collect();
    assert_eq!(codes, [("201", "95"), ("202", "00")]);
    assert_eq!(l.uploads, 2);
}

#[test]
fn settlement_with_wrong_totals_and_nothing_to_upload_fails_with_95() {
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    c.sale(&sale(1_000, CardData::manual(VISA), PinInput::None))
        .expect("sale");
    let e = c
        .settle(&BatchTotals::default(), &[])
        .expect_err("still differs");
    assert_eq!(
        e.response_code().map(|c| c.to_string()).as_deref(),
        Some("95")
    );
    assert_eq!(c.config().batch, 1, "batch not closed");
}

#[test]
fn card_declined_after_host_approval_is_reversed_exactly_once() {
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    let card = CardData::manual(CUP);
    let s = c.sale(&sale(3_000, card, pin("123456"))).expect("approved");
    assert_eq!(sim.balance(CUP), Some(97_000));
    let stan = c
        .reverse_last_authorisation(ReversalReason::TerminalDeclined)
        .expect("queued");
    assert_eq!(stan, s.stan);
    assert_eq!(c.flush_reversals().expect("flushed"), 1);
    // Queuing the same original again is a no-op: it was already acknowledged.
    c.store_mut()
        .save(&smartpos_host::PendingEntry {
            kind: QueueKind::Reversal,
            stan,
            reason: ReversalReason::TerminalDeclined,
            original: smartpos_iso8583::Message::new(
                smartpos_iso8583::Mti::new("0200").expect("mti"),
            ),
            attempts: 0,
            last_error: None,
        })
        .expect("save");
    assert_eq!(c.flush_reversals().expect("nothing"), 0);
    let l = sim.ledger();
    let e = l.by_stan(TID, s.stan).expect("entry");
    assert!(e.reversed);
    assert_eq!(e.reversal_requests, 1);
    assert_eq!(l.reversals_applied, 1);
    assert_eq!(sim.balance(CUP), Some(100_000));
}

#[test]
fn pin_block_that_does_not_decipher_is_99_not_accepted() {
    let sim = HostSim::start_default().expect("sim");
    let mut c = signed_on(&sim);
    for ksn in [None, Some([0xFF; 10])] {
        let e = c
            .sale(&sale(
                100,
                CardData::manual(VISA),
                PinInput::Encrypted {
                    block: [0x12; 8],
                    ksn,
                },
            ))
            .expect_err("PIN block error");
        assert_eq!(
            e.response_code().map(|c| c.to_string()).as_deref(),
            Some("99")
        );
    }
    assert!(sim.ledger().entries.iter().all(|e| !e.approved));
}
