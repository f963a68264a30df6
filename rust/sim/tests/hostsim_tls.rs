//! The acquirer link over TLS against the host simulator, with a PKI made at run time.

use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_crypto::keyhier::{HierarchyAlgorithm, KeyHierarchy};
use smartpos_host::link::spki_sha256;
use smartpos_host::{
    CardData, HostClient, HostError, LinkConfig, LinkError, MemoryStore, PinInput, SaleRequest,
    TerminalConfig, TlsConfig,
};
use smartpos_sim::hostsim::{HostSim, HostSimConfig, ServerTls, TestCa};
use std::time::Duration;
use zeroize::Zeroizing;

const TID: &str = "12345678";
const MID: &str = "123456789012345";
const TMK: &str = "11111111111111112222222222222222";

fn tls_sim(ca: &TestCa, client_ca: Option<Vec<u8>>) -> HostSim {
    let identity = ca
        .issue_server(&["localhost", "127.0.0.1"])
        .expect("server cert");
    HostSim::start(
        &HostSimConfig::default_config(),
        "127.0.0.1:0",
        Some(&ServerTls {
            identity,
            client_ca_pem: client_ca,
        }),
    )
    .expect("sim")
}

fn client(sim: &HostSim, tls: TlsConfig) -> HostClient<MemoryStore> {
    let mut keys = KeyHierarchy::new(HierarchyAlgorithm::Tdes);
    keys.install_tmk(SecretKey::from_hex(KeyAlgorithm::Tdes2, TMK).expect("tmk"))
        .expect("install");
    let link = LinkConfig::tcp(sim.addr().to_string())
        .with_read_timeout(Duration::from_secs(5))
        .with_tls(tls);
    HostClient::new(
        link,
        TerminalConfig::new(TID, MID),
        keys,
        MemoryStore::new(),
    )
}

fn tls(ca: &TestCa, name: &str) -> TlsConfig {
    TlsConfig {
        ca_cert_pem: ca.cert_pem().expect("ca pem"),
        server_name: name.to_string(),
        pinned_spki_sha256: None,
        client_identity: None,
    }
}

fn handshake_refused(r: Result<smartpos_host::HostResponse, HostError>) -> bool {
    matches!(r, Err(HostError::Link(LinkError::TlsHandshake { .. })))
}

#[test]
fn sign_on_and_sale_over_tls() {
    let ca = TestCa::new("smartpos test acquirer CA").expect("ca");
    let sim = tls_sim(&ca, None);
    let mut c = client(&sim, tls(&ca, "localhost"));
    c.sign_on().expect("sign-on over TLS");
    let r = c
        .sale(&SaleRequest {
            amount: 4_200,
            card: CardData::manual("4761739001010010"),
            pin: PinInput::None,
        })
        .expect("sale over TLS");
    assert!(r.code.is_approved());
    assert_eq!(sim.ledger().entries.len(), 1);
}

#[test]
fn server_certificate_from_another_ca_is_refused() {
    let ca = TestCa::new("the host's CA").expect("ca");
    let rogue = TestCa::new("some other CA").expect("rogue");
    let sim = tls_sim(&rogue, None);
    let mut c = client(&sim, tls(&ca, "localhost"));
    assert!(handshake_refused(c.sign_on()));
    assert_eq!(sim.ledger().requests, 0, "nothing was sent");
}

#[test]
fn wrong_host_name_is_refused() {
    let ca = TestCa::new("ca").expect("ca");
    let sim = tls_sim(&ca, None);
    let mut c = client(&sim, tls(&ca, "acquirer.example.com"));
    assert!(handshake_refused(c.sign_on()));
}

#[test]
fn pinned_server_key_must_match() {
    let ca = TestCa::new("ca").expect("ca");
    let identity = ca.issue_server(&["localhost"]).expect("server");
    let leaf = openssl::x509::X509::from_pem(&identity.cert_pem).expect("leaf");
    let pin = spki_sha256(&leaf).expect("spki");
    let sim = HostSim::start(
        &HostSimConfig::default_config(),
        "127.0.0.1:0",
        Some(&ServerTls {
            identity,
            client_ca_pem: None,
        }),
    )
    .expect("sim");
    let mut good = tls(&ca, "localhost");
    good.pinned_spki_sha256 = Some(pin);
    client(&sim, good).sign_on().expect("pinned key matches");
    let mut bad = tls(&ca, "localhost");
    let mut wrong = pin;
    wrong[0] ^= 1;
    bad.pinned_spki_sha256 = Some(wrong);
    assert!(handshake_refused(client(&sim, bad).sign_on()));
}

#[test]
fn client_certificate_required_by_the_host() {
    let ca = TestCa::new("ca").expect("ca");
    let sim = tls_sim(&ca, Some(ca.cert_pem().expect("pem")));
    let mut without = client(&sim, tls(&ca, "localhost"));
    assert!(without.sign_on().is_err(), "no client certificate");
    let id = ca.issue_client("terminal 12345678").expect("client cert");
    let mut with = tls(&ca, "localhost");
    with.client_identity = Some((id.cert_pem.clone(), Zeroizing::new(id.key_pem.clone())));
    client(&sim, with).sign_on().expect("mutual TLS");
}

#[test]
fn unparseable_ca_is_a_config_error() {
    let ca = TestCa::new("ca").expect("ca");
    let sim = tls_sim(&ca, None);
    let mut cfg = tls(&ca, "localhost");
    cfg.ca_cert_pem = b"not a certificate".to_vec();
    assert!(matches!(
        client(&sim, cfg).sign_on(),
        Err(HostError::Link(LinkError::TlsConfig(_)))
    ));
}

#[test]
fn every_flow_over_tls() {
    use smartpos_crypto::pin::Pin;
    use smartpos_host::{
        BatchTotals, CompletionRequest, QrStatus, RefundRequest, SettlementOutcome, VoidRequest,
    };
    let ca = TestCa::new("ca").expect("ca");
    let sim = tls_sim(&ca, None);
    let mut c = client(&sim, tls(&ca, "localhost"));
    c.sign_on().expect("sign-on");
    c.echo().expect("echo");
    let cup = "6214000000000000019";
    let card = CardData::manual(cup);
    let pin = || PinInput::Clear(Pin::new("123456").expect("pin"));
    let s = c
        .sale(&SaleRequest {
            amount: 1_000,
            card: card.clone(),
            pin: pin(),
        })
        .expect("sale");
    let v = c
        .sale(&SaleRequest {
            amount: 500,
            card: card.clone(),
            pin: pin(),
        })
        .expect("sale to void");
    c.void(&VoidRequest {
        amount: 500,
        card: card.clone(),
        pin: PinInput::None,
        original_stan: v.stan,
        original_rrn: v.rrn.clone().expect("rrn"),
        original_auth_code: v.auth_code.clone().expect("auth"),
    })
    .expect("void");
    c.refund(&RefundRequest {
        amount: 300,
        card: card.clone(),
        original_rrn: s.rrn.clone().expect("rrn"),
        original_date: "1121".into(),
    })
    .expect("refund");
    let p = c
        .pre_authorise(&SaleRequest {
            amount: 2_000,
            card: card.clone(),
            pin: pin(),
        })
        .expect("pre-auth");
    c.complete_pre_authorisation(&CompletionRequest {
        amount: 2_000,
        card: card.clone(),
        original_auth_code: p.auth_code.clone().expect("auth"),
        original_stan: p.stan,
        original_date: "1121".into(),
    })
    .expect("completion");
    let b = c.balance_inquiry(&card, &pin()).expect("balance");
    assert_eq!(b.amount, Some(100_000 - 1_000 + 300 - 2_000));
    let order = c.qr_pay(700, "287777888899990000").expect("qr");
    assert_eq!(c.qr_query(&order).expect("poll"), QrStatus::Pending);
    assert_eq!(c.qr_query(&order).expect("poll"), QrStatus::Paid);
    c.queue_advice(50, &card).expect("advice queued");
    // Debits: sale 1000, completion 2000, QR 700, offline 50; credit: refund 300.
    let totals = BatchTotals {
        debit_count: 4,
        debit_amount: 3_750,
        credit_count: 1,
        credit_amount: 300,
    };
    assert_eq!(
        c.settle(&totals, &[]).expect("settle"),
        SettlementOutcome::Balanced
    );
    assert_eq!(sim.ledger().advice_requests, 1);
}

#[test]
fn pin_only_mode_trusts_the_pinned_leaf_of_an_unknown_ca() {
    let unknown = TestCa::new("a CA the terminal does not carry").expect("ca");
    let identity = unknown.issue_server(&["localhost"]).expect("server");
    let leaf = openssl::x509::X509::from_pem(&identity.cert_pem).expect("leaf");
    let pin = spki_sha256(&leaf).expect("spki");
    let sim = HostSim::start(
        &HostSimConfig::default_config(),
        "127.0.0.1:0",
        Some(&ServerTls {
            identity,
            client_ca_pem: None,
        }),
    )
    .expect("sim");
    let pin_only = |name: &str, pin: [u8; 32]| TlsConfig {
        ca_cert_pem: Vec::new(),
        server_name: name.into(),
        pinned_spki_sha256: Some(pin),
        client_identity: None,
    };
    client(&sim, pin_only("localhost", pin))
        .sign_on()
        .expect("the pin is the trust");
    let mut wrong = pin;
    wrong[31] ^= 0x80;
    assert!(handshake_refused(
        client(&sim, pin_only("localhost", wrong)).sign_on()
    ));
    // The host name is still checked.
    assert!(handshake_refused(
        client(&sim, pin_only("other.example", pin)).sign_on()
    ));
    // Neither a CA nor a pin: refused before connecting.
    let mut none = pin_only("localhost", pin);
    none.pinned_spki_sha256 = None;
    assert!(matches!(
        client(&sim, none).sign_on(),
        Err(HostError::Link(LinkError::TlsConfig(_)))
    ));
}
