//! Key hierarchy and MAC variants (SM4, X9.19), issuer scripts, and a host that survives
//! garbage requests.

use smartpos_crypto::emv::Cvn;
use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_crypto::keyhier::{HierarchyAlgorithm, KeyHierarchy, WorkingKeyType};
use smartpos_crypto::pin::Pin;
use smartpos_host::link::{read_frame, write_frame};
use smartpos_host::{
    CardData, HostClient, HostError, LinkConfig, MacAlgorithm, MemoryStore, PinInput, SaleRequest,
    TerminalConfig,
};
use smartpos_sim::hostsim::config::TerminalEntry;
use smartpos_sim::hostsim::icc::{self, ArqcInput};
use smartpos_sim::hostsim::{HostSim, HostSimConfig};
use smartpos_tlv::{Tag, find};
use std::io::Write;
use std::time::Duration;

const SM4_TMK: &str = "0123456789ABCDEFFEDCBA9876543210";

fn sim_with_terminal(t: TerminalEntry) -> HostSim {
    let mut cfg = HostSimConfig::default_config();
    cfg.terminals.push(t);
    HostSim::start(&cfg, "127.0.0.1:0", None).expect("sim")
}

fn client(
    sim: &HostSim,
    tid: &str,
    hierarchy: HierarchyAlgorithm,
    tmk: SecretKey,
    mac: MacAlgorithm,
) -> HostClient<MemoryStore> {
    let mut keys = KeyHierarchy::new(hierarchy);
    keys.install_tmk(tmk).expect("install");
    let mut cfg = TerminalConfig::new(tid, "123456789012345");
    cfg.mac_algorithm = mac;
    let link = LinkConfig::tcp(sim.addr().to_string()).with_read_timeout(Duration::from_secs(5));
    HostClient::new(link, cfg, keys, MemoryStore::new())
}

#[test]
fn sm4_sign_on_and_sm4_mac_sale() {
    let sim = sim_with_terminal(TerminalEntry {
        terminal_id: "SM400001".into(),
        merchant_id: "123456789012345".into(),
        tmk: SM4_TMK.into(),
        algorithm: "sm4".into(),
        mac: "sm4-cbc".into(),
    });
    let tmk = SecretKey::from_hex(KeyAlgorithm::Sm4, SM4_TMK).expect("tmk");
    let mut c = client(
        &sim,
        "SM400001",
        HierarchyAlgorithm::Sm4,
        tmk,
        MacAlgorithm::Sm4Cbc,
    );
    c.sign_on().expect("SM4 sign-on");
    let mac_key = c.keys().key(WorkingKeyType::Mac).expect("MAC key");
    assert_eq!(mac_key.algorithm(), KeyAlgorithm::Sm4);
    c.sale(&SaleRequest {
        amount: 600,
        card: CardData::manual("4761739001010010"),
        pin: PinInput::None,
    })
    .expect("SM4-MACed sale");
    let e = c
        .sale(&SaleRequest {
            amount: 600,
            card: CardData::manual("4761739001010010"),
            pin: PinInput::Clear(Pin::new("1234").expect("pin")),
        })
        .expect_err("SM4 PIN block does not fit field 52");
    assert!(
        matches!(e, HostError::InvalidRequest { field: "pin", .. }),
        "{e:?}"
    );
}

#[test]
fn x919_mac_terminal() {
    let tmk_hex = "33333333333333334444444444444444";
    let sim = sim_with_terminal(TerminalEntry {
        terminal_id: "X9190001".into(),
        merchant_id: "123456789012345".into(),
        tmk: tmk_hex.into(),
        algorithm: "tdes".into(),
        mac: "x919".into(),
    });
    let tmk = SecretKey::from_hex(KeyAlgorithm::Tdes2, tmk_hex).expect("tmk");
    let mut c = client(
        &sim,
        "X9190001",
        HierarchyAlgorithm::Tdes,
        tmk,
        MacAlgorithm::X919,
    );
    c.sign_on().expect("sign-on");
    c.sale(&SaleRequest {
        amount: 900,
        card: CardData::manual("5413330089010434"),
        pin: PinInput::Clear(Pin::new("1234").expect("pin")),
    })
    .expect("X9.19-MACed sale");
    // The same terminal talking ECB MACs is refused with A0 (and cannot believe the answer).
    let tmk = SecretKey::from_hex(KeyAlgorithm::Tdes2, tmk_hex).expect("tmk");
    let mut wrong = client(
        &sim,
        "X9190001",
        HierarchyAlgorithm::Tdes,
        tmk,
        MacAlgorithm::CupEcb,
    );
    wrong.sign_on().expect("sign-on");
    wrong.set_last_stan(10);
    assert!(matches!(
        wrong.sale(&SaleRequest {
            amount: 900,
            card: CardData::manual("5413330089010434"),
            pin: PinInput::None,
        }),
        Err(HostError::BadMac(_))
    ));
    let l = sim.ledger();
    assert_eq!(l.mac_failures, 1, "{l:?}");
}

#[test]
fn terminal_with_another_tmk_cannot_sign_on() {
    let sim = HostSim::start_default().expect("sim");
    let tmk =
        SecretKey::from_hex(KeyAlgorithm::Tdes2, "55555555555555556666666666666666").expect("tmk");
    let mut c = client(
        &sim,
        "12345678",
        HierarchyAlgorithm::Tdes,
        tmk,
        MacAlgorithm::CupEcb,
    );
    assert!(matches!(c.sign_on(), Err(HostError::KeyDownload(_))));
    assert!(c.keys().key(WorkingKeyType::Pin).is_none());
}

#[test]
fn issuer_scripts_are_sent_with_approvals() {
    let mut cfg = HostSimConfig::default_config();
    // 72 { 9F18 script ID, 86 PIN CHANGE/UNBLOCK-style command }.
    cfg.cards[0].issuer_scripts = Some("720C9F1804000000018603841E00".into());
    let sim = HostSim::start(&cfg, "127.0.0.1:0", None).expect("sim");
    let tmk =
        SecretKey::from_hex(KeyAlgorithm::Tdes2, "11111111111111112222222222222222").expect("tmk");
    let mut c = client(
        &sim,
        "12345678",
        HierarchyAlgorithm::Tdes,
        tmk,
        MacAlgorithm::CupEcb,
    );
    c.sign_on().expect("sign-on");
    let f55 = icc::field55(&ArqcInput {
        pan: "4761739001010010",
        psn: "01",
        imk_hex: "0123456789ABCDEFFEDCBA9876543210",
        cvn: Cvn::Visa10,
        amount: 1_000,
        atc: 9,
        unpredictable_number: [9, 9, 9, 9],
    })
    .expect("55");
    let r = c
        .sale(&SaleRequest {
            amount: 1_000,
            card: CardData::chip("4761739001010010", "01", f55),
            pin: PinInput::None,
        })
        .expect("approved");
    let icc = r.icc_data.expect("55");
    let script = find(&icc, Tag(0x72)).expect("tlv").expect("72");
    assert_eq!(
        find(script.value, Tag(0x9F18))
            .expect("tlv")
            .expect("9F18")
            .value,
        &[0, 0, 0, 1]
    );
    assert_eq!(
        find(&icc, Tag(0x8A)).expect("tlv").expect("8A").value,
        b"00"
    );
}

#[test]
fn garbage_requests_close_that_connection_only() {
    let sim = HostSim::start_default().expect("sim");
    for junk in [
        vec![0u8; 3],
        vec![0xFF; 40],
        b"GET / HTTP/1.1\r\n\r\n".to_vec(),
    ] {
        let mut s = std::net::TcpStream::connect(sim.addr()).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let _ = write_frame(&mut s, &junk);
        let _ = s.write_all(&junk);
        assert!(read_frame(&mut s).is_err(), "no answer to junk");
    }
    let tmk =
        SecretKey::from_hex(KeyAlgorithm::Tdes2, "11111111111111112222222222222222").expect("tmk");
    let mut c = client(
        &sim,
        "12345678",
        HierarchyAlgorithm::Tdes,
        tmk,
        MacAlgorithm::CupEcb,
    );
    c.sign_on().expect("still serving");
    c.echo().expect("echo");
}

#[test]
fn unknown_terminal_is_told_97() {
    let sim = HostSim::start_default().expect("sim");
    let tmk =
        SecretKey::from_hex(KeyAlgorithm::Tdes2, "11111111111111112222222222222222").expect("tmk");
    let mut c = client(
        &sim,
        "99999999",
        HierarchyAlgorithm::Tdes,
        tmk,
        MacAlgorithm::CupEcb,
    );
    let e = c.sign_on().expect_err("unknown terminal");
    assert_eq!(
        e.response_code().map(|c| c.to_string()).as_deref(),
        Some("97")
    );
}

#[test]
fn qr_paid_at_once_and_qr_decline_rules() {
    let mut cfg = HostSimConfig::default_config();
    cfg.qr_polls_until_paid = 0;
    let sim = HostSim::start(&cfg, "127.0.0.1:0", None).expect("sim");
    let tmk =
        SecretKey::from_hex(KeyAlgorithm::Tdes2, "11111111111111112222222222222222").expect("tmk");
    let mut c = client(
        &sim,
        "12345678",
        HierarchyAlgorithm::Tdes,
        tmk,
        MacAlgorithm::CupEcb,
    );
    c.sign_on().expect("sign-on");
    let order = c.qr_pay(1_000, "280000111122223333").expect("paid");
    assert_eq!(order.status, smartpos_host::QrStatus::Paid);
    let e = c.qr_pay(1_051, "280000111122224444").expect_err("rule 51");
    assert_eq!(
        e.response_code().map(|c| c.to_string()).as_deref(),
        Some("51")
    );
    let totals = smartpos_host::BatchTotals {
        debit_count: 1,
        debit_amount: 1_000,
        ..Default::default()
    };
    assert_eq!(
        c.settle(&totals, &[]).expect("settled"),
        smartpos_host::SettlementOutcome::Balanced
    );
}

#[test]
fn advice_without_answer_is_retried_and_booked_once() {
    use smartpos_host::{QueueKind, ReversalStore};
    use smartpos_sim::hostsim::Fault;
    let sim = HostSim::start_default().expect("sim");
    let tmk =
        SecretKey::from_hex(KeyAlgorithm::Tdes2, "11111111111111112222222222222222").expect("tmk");
    let mut c = client(
        &sim,
        "12345678",
        HierarchyAlgorithm::Tdes,
        tmk,
        MacAlgorithm::CupEcb,
    );
    c.sign_on().expect("sign-on");
    let stan = c
        .queue_advice(321, &CardData::manual("4761739001010010"))
        .expect("queued");
    sim.inject(Fault::Drop, 1);
    let e = c.flush_advices().expect_err("lost");
    assert!(
        matches!(
            e,
            HostError::QueueNotFlushed {
                kind: "advice",
                remaining: 1,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        c.store().pending(QueueKind::Advice).expect("p")[0].attempts,
        1
    );
    assert_eq!(c.flush_advices().expect("delivered"), 1);
    let l = sim.ledger();
    assert_eq!(l.advice_requests, 2, "two 0220s arrived");
    assert_eq!(
        l.entries.iter().filter(|e| e.stan == stan).count(),
        1,
        "booked once"
    );
    assert_eq!(l.duplicates, 1);
}

#[test]
fn bad_configurations_are_typed_errors() {
    use smartpos_sim::hostsim::SimError;
    let mut cfg = HostSimConfig::default_config();
    cfg.terminals[0].tmk = "XYZ".into();
    assert!(matches!(
        HostSim::start(&cfg, "127.0.0.1:0", None),
        Err(SimError::Config(_))
    ));
    let mut cfg = HostSimConfig::default_config();
    cfg.terminals[0].mac = "crc32".into();
    let e = HostSim::start(&cfg, "127.0.0.1:0", None).expect_err("unknown MAC");
    assert!(e.to_string().contains("crc32"), "{e}");
    let mut cfg = HostSimConfig::default_config();
    cfg.cards[0].imk = "0011".into();
    assert!(HostSim::start(&cfg, "127.0.0.1:0", None).is_err());
    assert!(
        HostSimConfig::from_json("{\"terminals\": []}").is_err(),
        "cards are required"
    );
    assert!(HostSim::start(&HostSimConfig::default_config(), "not an address", None).is_err());
}

#[test]
fn terminals_in_parallel_each_get_their_own_answers() {
    let mut cfg = HostSimConfig::default_config();
    for i in 0..4 {
        cfg.terminals.push(TerminalEntry {
            terminal_id: format!("PAR0000{i}"),
            merchant_id: "123456789012345".into(),
            tmk: "11111111111111112222222222222222".into(),
            algorithm: "tdes".into(),
            mac: "cup-ecb".into(),
        });
    }
    let sim = HostSim::start(&cfg, "127.0.0.1:0", None).expect("sim");
    std::thread::scope(|scope| {
        for i in 0..4 {
            let sim = &sim;
            scope.spawn(move || {
                let tmk =
                    SecretKey::from_hex(KeyAlgorithm::Tdes2, "11111111111111112222222222222222")
                        .expect("tmk");
                let tid = format!("PAR0000{i}");
                let mut c = client(
                    sim,
                    &tid,
                    HierarchyAlgorithm::Tdes,
                    tmk,
                    MacAlgorithm::CupEcb,
                );
                c.sign_on().expect("sign-on");
                for n in 0..10u64 {
                    let amount = 1_000 + 100 * n + i;
                    let r = c
                        .sale(&SaleRequest {
                            amount,
                            card: CardData::manual("4761739001010010"),
                            pin: PinInput::None,
                        })
                        .expect("approved");
                    assert_eq!(r.amount, Some(amount));
                }
            });
        }
    });
    let l = sim.ledger();
    assert_eq!(l.entries.len(), 40);
    for i in 0..4 {
        let tid = format!("PAR0000{i}");
        let mine: Vec<_> = l.entries.iter().filter(|e| e.terminal_id == tid).collect();
        assert_eq!(mine.len(), 10);
        assert!(mine.iter().all(|e| e.approved && e.amount % 100 == i));
    }
}
