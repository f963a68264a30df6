//! The client against a scripted fake host on loopback: the exact request each flow builds
//! (MTI, processing code, entry mode, condition code, field 60/61/63 usage, MAC) round-trips
//! through the cups-pos profile, and responses that do not belong to the request are refused.

use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_crypto::keyhier::{HierarchyAlgorithm, KeyHierarchy};
use smartpos_crypto::pin::{self, Pin, PinBlockFormat};
use smartpos_host::link::{read_frame, write_frame};
use smartpos_host::mac::{self, MacAlgorithm};
use smartpos_host::{
    BatchTotals, CardData, CompletionRequest, HostClient, HostError, LinkConfig, MemoryStore,
    PinInput, QueueKind, RefundRequest, ReversalReason, ReversalStore, SaleRequest, TerminalConfig,
    VoidRequest,
};
use smartpos_iso8583::{Frame, Message, Mti, Profile};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

#[path = "support/scripted.rs"]
mod scripted;
use scripted::{TAK, TMK, TPK, scripted_host};

const PAN: &str = "4761739001010010";

type Tamper = scripted::Answer;

/// A fake host: answers every request with 00, RRN 000000000123 and auth code 654321 (MACed
/// with the TAK), after `tamper` had its way with the response.
fn fake_host(mut tamper: Tamper) -> (String, mpsc::Receiver<Frame>) {
    scripted_host(Box::new(move |req, r| {
        let _ = r.set_response_code("00");
        let _ = r.set_rrn("000000000123");
        let _ = r.set_auth_code("654321");
        tamper(req, r);
    }))
}

fn client(addr: &str) -> HostClient<MemoryStore> {
    let mut keys = KeyHierarchy::new(HierarchyAlgorithm::Tdes);
    keys.install_tmk(SecretKey::from_hex(KeyAlgorithm::Tdes2, TMK).expect("tmk"))
        .expect("install");
    let link = LinkConfig::tcp(addr).with_read_timeout(Duration::from_secs(5));
    let mut c = HostClient::new(
        link,
        TerminalConfig::new("12345678", "123456789012345"),
        keys,
        MemoryStore::new(),
    );
    c.sign_on().expect("sign-on");
    c
}

fn next(rx: &mpsc::Receiver<Frame>) -> Message {
    let f = rx.recv_timeout(Duration::from_secs(5)).expect("a request");
    // Every request round-trips through the profile unchanged.
    let p = Profile::cups_pos();
    let bytes = p.pack_frame(&f).expect("pack");
    assert_eq!(p.unpack_frame(&bytes).expect("unpack"), f);
    assert_eq!(f.header, [0x60, 0x31, 0x00, 0x31, 0x00, 0x00]);
    f.message
}

fn sub<'m>(m: &'m Message, key: &str) -> Option<&'m str> {
    let field: u8 = key
        .split('.')
        .next()
        .and_then(|f| f.parse().ok())
        .expect("field");
    m.subfield(Profile::cups_pos(), field, key)
        .expect("subfield")
}

fn assert_macs(m: &Message) {
    let tak = SecretKey::from_hex(KeyAlgorithm::Tdes2, TAK).expect("tak");
    mac::verify(Profile::cups_pos(), MacAlgorithm::CupEcb, &tak, m).expect("request MAC");
}

fn card() -> CardData {
    CardData::chip(PAN, "01", vec![0x9F, 0x26, 0x02, 0xAB, 0xCD])
}

#[test]
fn every_request_carries_the_dialect_fields() {
    let (addr, rx) = fake_host(Box::new(|_, _| {}));
    let mut c = client(&addr);
    let m = next(&rx);
    assert_eq!(m.mti().as_str(), "0800");
    assert_eq!(sub(&m, "60.3"), Some("004"));
    assert!(!m.has(64), "sign-on is not MACed");

    // Sale with a clear PIN enciphered under the downloaded TPK.
    c.sale(&SaleRequest {
        amount: 1_234,
        card: card(),
        pin: PinInput::Clear(Pin::new("1234").expect("pin")),
    })
    .expect("sale");
    let m = next(&rx);
    assert_eq!(m.mti().as_str(), "0200");
    assert_eq!(m.processing_code(), Some("000000"));
    assert_eq!(m.text(22), Some("051"));
    assert_eq!(m.text(23), Some("001"));
    assert_eq!(m.text(25), Some("00"));
    assert_eq!(m.text(26), Some("12"));
    assert_eq!(m.text(53), Some("2600000000000000"));
    assert_eq!(sub(&m, "60.1"), Some("22"));
    assert_eq!(m.binary(55), Some(&[0x9F, 0x26, 0x02, 0xAB, 0xCD][..]));
    let tpk = SecretKey::from_hex(KeyAlgorithm::Tdes2, TPK).expect("tpk");
    let pin = pin::decrypt(
        &tpk,
        PinBlockFormat::Iso0,
        m.binary(52).expect("52"),
        Some(PAN),
    )
    .expect("PIN block under the TPK");
    assert_eq!(pin.as_str(), "1234");
    assert_macs(&m);
    let sale_stan = m.stan().expect("stan").expect("stan");

    // Void.
    c.void(&VoidRequest {
        amount: 1_234,
        card: CardData::manual(PAN),
        pin: PinInput::None,
        original_stan: 5,
        original_rrn: "000000000123".into(),
        original_auth_code: "654321".into(),
    })
    .expect("void");
    let m = next(&rx);
    assert_eq!(
        (m.mti().as_str(), m.processing_code()),
        ("0200", Some("200000"))
    );
    assert_eq!(sub(&m, "60.1"), Some("23"));
    assert_eq!(
        (m.rrn(), m.auth_code()),
        (Some("000000000123"), Some("654321"))
    );
    assert_eq!(
        (sub(&m, "61.1"), sub(&m, "61.2")),
        (Some("000001"), Some("000005"))
    );
    assert_eq!(m.text(22), Some("012"));
    assert_macs(&m);

    // Refund.
    c.refund(&RefundRequest {
        amount: 100,
        card: CardData::manual(PAN),
        original_rrn: "000000000123".into(),
        original_date: "1120".into(),
    })
    .expect("refund");
    let m = next(&rx);
    assert_eq!(
        (m.mti().as_str(), m.processing_code()),
        ("0220", Some("200000"))
    );
    assert_eq!(sub(&m, "60.1"), Some("25"));
    assert_eq!(sub(&m, "61.3"), Some("1120"));
    assert_macs(&m);

    // Pre-authorisation and completion.
    c.pre_authorise(&SaleRequest {
        amount: 5_000,
        card: CardData::manual(PAN),
        pin: PinInput::None,
    })
    .expect("pre-auth");
    let m = next(&rx);
    assert_eq!(
        (m.mti().as_str(), m.processing_code()),
        ("0100", Some("030000"))
    );
    assert_eq!((m.text(25), sub(&m, "60.1")), (Some("06"), Some("10")));
    c.complete_pre_authorisation(&CompletionRequest {
        amount: 5_000,
        card: CardData::manual(PAN),
        original_auth_code: "654321".into(),
        original_stan: 7,
        original_date: "1121".into(),
    })
    .expect("completion");
    let m = next(&rx);
    assert_eq!(
        (m.mti().as_str(), m.processing_code()),
        ("0200", Some("000000"))
    );
    assert_eq!((m.text(25), sub(&m, "60.1")), (Some("06"), Some("20")));
    assert_eq!(
        (m.auth_code(), sub(&m, "61.2")),
        (Some("654321"), Some("000007"))
    );

    // Balance inquiry.
    c.balance_inquiry(&CardData::manual(PAN), &PinInput::None)
        .expect("balance");
    let m = next(&rx);
    assert_eq!(
        (m.processing_code(), sub(&m, "60.1")),
        (Some("310000"), Some("01"))
    );

    // QR pay, query, revoke.
    let order = c.qr_pay(800, "281234567890").expect("qr");
    let m = next(&rx);
    assert_eq!(m.text(63), Some("QRP281234567890"));
    assert_eq!(m.text(22), Some("032"));
    assert!(!m.has(2));
    c.qr_query(&order).expect("query");
    let m = next(&rx);
    assert_eq!(
        (m.processing_code(), m.text(63)),
        (Some("330000"), Some("QRQ"))
    );
    assert_eq!(m.rrn(), Some("000000000123"));
    c.qr_revoke(&order).expect("revoke");
    let m = next(&rx);
    assert_eq!(
        (m.processing_code(), m.text(63)),
        (Some("340000"), Some("QRC"))
    );

    // Advice, then settlement (which flushes it first).
    c.queue_advice(50, &card()).expect("advice");
    c.settle(
        &BatchTotals {
            debit_count: 1,
            debit_amount: 50,
            ..BatchTotals::default()
        },
        &[],
    )
    .expect("settle");
    let m = next(&rx);
    assert_eq!((m.mti().as_str(), sub(&m, "60.1")), ("0220", Some("36")));
    assert!(m.has(55), "advice carries the TC data");
    let m = next(&rx);
    assert_eq!(m.mti().as_str(), "0500");
    assert_eq!(m.text(48), Some("001000000000050000000000000000"));
    assert_eq!(sub(&m, "60.3"), Some("201"));
    assert_macs(&m);

    // Echo.
    c.echo().expect("echo");
    let m = next(&rx);
    assert_eq!((m.mti().as_str(), sub(&m, "60.3")), ("0820", Some("301")));

    // The card declined after approval: the reversal carries the sale's STAN, reason 06.
    let stan = c
        .reverse_last_authorisation(ReversalReason::TerminalDeclined)
        .expect("queued");
    assert_ne!(
        u64::from(stan),
        sale_stan,
        "the last approval was the QR pay, not the sale"
    );
    c.flush_reversals().expect("sent");
    let m = next(&rx);
    assert_eq!((m.mti().as_str(), m.response_code()), ("0400", Some("06")));
    assert_eq!(m.stan().expect("stan"), Some(u64::from(stan)));
}

#[test]
fn reversal_message_keeps_the_original_data_elements() {
    let (addr, rx) = fake_host(Box::new(|req, resp| {
        // Lose the sale's answer by answering with another STAN.
        if req.mti().as_str() == "0200" {
            let _ = resp.set_stan(999_999);
        }
    }));
    let mut c = client(&addr);
    let _ = next(&rx);
    let e = c
        .sale(&SaleRequest {
            amount: 777,
            card: card(),
            pin: PinInput::Clear(Pin::new("1234").expect("pin")),
        })
        .expect_err("mismatch");
    assert!(
        matches!(
            &e,
            HostError::Mismatch {
                field: "STAN (11)",
                ..
            }
        ),
        "{e:?}"
    );
    let sale = next(&rx);
    let pending = c.store().pending(QueueKind::Reversal).expect("p");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].reason, ReversalReason::BadResponse);
    c.flush_reversals().expect("reversed");
    let rev = next(&rx);
    assert_eq!(rev.mti().as_str(), "0400");
    assert_eq!(rev.stan().expect("stan"), sale.stan().expect("stan"));
    for f in [2u8, 3, 4, 22, 23, 25, 41, 42, 49, 55, 60] {
        assert_eq!(rev.get(f), sale.get(f), "field {f}");
    }
    assert_eq!(rev.response_code(), Some("96"));
    assert!(!rev.has(52) && !rev.has(35), "no PIN block or track data");
    assert_macs(&rev);
    assert!(c.store().is_complete(QueueKind::Reversal, pending[0].stan));
}

fn refused_with(tamper: Tamper, check: fn(&HostError) -> bool) {
    let (addr, _rx) = fake_host(tamper);
    let mut c = client(&addr);
    let e = c
        .sale(&SaleRequest {
            amount: 100,
            card: CardData::manual(PAN),
            pin: PinInput::None,
        })
        .expect_err("refused");
    assert!(check(&e), "{e:?}");
    assert!(e.needs_reversal());
    assert_eq!(c.store().pending(QueueKind::Reversal).expect("p").len(), 1);
}

#[test]
fn response_for_another_terminal_is_refused() {
    refused_with(
        Box::new(|req, resp| {
            if req.mti().as_str() == "0200" {
                let _ = resp.set_terminal_id("87654321");
            }
        }),
        |e| {
            matches!(
                e,
                HostError::Mismatch {
                    field: "terminal ID (41)",
                    ..
                }
            )
        },
    );
}

#[test]
fn response_for_another_merchant_is_refused() {
    refused_with(
        Box::new(|req, resp| {
            if req.mti().as_str() == "0200" {
                let _ = resp.set_merchant_id("999999999999999");
            }
        }),
        |e| {
            matches!(
                e,
                HostError::Mismatch {
                    field: "merchant ID (42)",
                    ..
                }
            )
        },
    );
}

#[test]
fn response_with_the_wrong_mti_is_refused() {
    refused_with(
        Box::new(|req, resp| {
            if req.mti().as_str() == "0200" {
                resp.set_mti(Mti::new("0110").expect("mti"));
            }
        }),
        |e| matches!(e, HostError::UnexpectedMti { .. }),
    );
}

#[test]
fn response_without_a_mac_is_refused() {
    refused_with(
        Box::new(|req, resp| {
            if req.mti().as_str() == "0200" {
                let _ = resp.set_binary(64, b"NOMAC!!!");
            }
        }),
        |e| matches!(e, HostError::BadMac(_)),
    );
}

#[test]
fn unknown_response_code_is_a_believed_decline_without_reversal() {
    let (addr, _rx) = fake_host(Box::new(|req, resp| {
        if req.mti().as_str() == "0200" {
            let _ = resp.set_response_code("Z9");
        }
    }));
    let mut c = client(&addr);
    let e = c
        .sale(&SaleRequest {
            amount: 100,
            card: CardData::manual(PAN),
            pin: PinInput::None,
        })
        .expect_err("declined");
    match &e {
        HostError::Declined { code, response } => {
            assert_eq!(code.as_str(), "Z9");
            assert_eq!(code.meaning(), "unknown response code");
            assert_eq!(response.rrn.as_deref(), Some("000000000123"));
        }
        other => panic!("expected a decline, got {other:?}"),
    }
    assert!(!e.needs_reversal());
    assert!(
        c.store()
            .pending(QueueKind::Reversal)
            .expect("p")
            .is_empty()
    );
}

#[test]
fn connection_refused_is_a_link_error_and_nothing_is_queued() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    drop(listener);
    let mut keys = KeyHierarchy::new(HierarchyAlgorithm::Tdes);
    keys.install_tmk(SecretKey::from_hex(KeyAlgorithm::Tdes2, TMK).expect("tmk"))
        .expect("install");
    let mut c = HostClient::new(
        LinkConfig::tcp(addr),
        TerminalConfig::new("12345678", "123456789012345"),
        keys,
        MemoryStore::new(),
    );
    assert!(matches!(
        c.sign_on(),
        Err(HostError::Link(smartpos_host::LinkError::Connect { .. }))
    ));
    assert!(matches!(
        c.sale(&SaleRequest {
            amount: 1,
            card: CardData::manual(PAN),
            pin: PinInput::None
        }),
        Err(HostError::NotSignedOn("MAC"))
    ));
    assert!(
        c.store()
            .pending(QueueKind::Reversal)
            .expect("p")
            .is_empty()
    );
}

#[test]
fn bad_caller_input_is_a_typed_error() {
    let (addr, _rx) = fake_host(Box::new(|_, _| {}));
    let mut c = client(&addr);
    let e = c
        .sale(&SaleRequest {
            amount: 1,
            card: CardData::manual("12AB"),
            pin: PinInput::None,
        })
        .expect_err("bad PAN");
    assert!(
        matches!(e, HostError::InvalidRequest { field: "pan", .. }),
        "{e:?}"
    );
    assert!(
        c.store()
            .pending(QueueKind::Reversal)
            .expect("p")
            .is_empty()
    );
    let e = c.qr_pay(1, "").expect_err("empty code");
    assert!(matches!(
        e,
        HostError::InvalidRequest {
            field: "wallet_code",
            ..
        }
    ));
    let e = c
        .sale(&SaleRequest {
            amount: 10_000_000_000_000,
            card: CardData::manual(PAN),
            pin: PinInput::None,
        })
        .expect_err("amount too long");
    assert!(matches!(e, HostError::Build(_)), "{e:?}");
}

#[test]
fn debug_output_hides_pan_track_and_pin() {
    let mut card = CardData::manual(PAN);
    card.track2 = Some(format!("{PAN}=2512201"));
    let s = format!(
        "{:?}",
        SaleRequest {
            amount: 1,
            card,
            pin: PinInput::Clear(Pin::new("1234").expect("pin")),
        }
    );
    assert!(
        !s.contains(PAN) && !s.contains("2512201") && !s.contains("1234"),
        "{s}"
    );
    assert!(s.contains("476173******0010"), "{s}");
}

#[test]
fn qr_status_for_another_order_is_refused() {
    let (addr, _rx) = fake_host(Box::new(|req, resp| {
        if req.processing_code() == Some("330000") {
            let _ = resp.set_rrn("999999999999");
        }
    }));
    let mut c = client(&addr);
    let order = c.qr_pay(100, "281234").expect("paid");
    let e = c.qr_query(&order).expect_err("other order");
    assert!(
        matches!(
            e,
            HostError::Mismatch {
                field: "order reference (37)",
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn a_connection_the_host_closed_while_idle_is_replaced_not_reversed() {
    // This host answers one request per connection, then hangs up.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let (closed_tx, closed_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let p = Profile::cups_pos();
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            let Ok(payload) = read_frame(&mut s) else {
                continue;
            };
            let Ok(frame) = p.unpack_frame(&payload) else {
                continue;
            };
            let Ok(mut r) = frame.message.respond(&[11, 41, 42, 60]) else {
                continue;
            };
            let _ = r.set_response_code("00");
            let out = Frame {
                tpdu: frame.tpdu.map(|t| t.reply()),
                header: frame.header.clone(),
                message: r,
            };
            if let Ok(bytes) = p.pack_frame(&out) {
                let _ = write_frame(&mut s, &bytes);
            }
            drop(s);
            let _ = closed_tx.send(());
        }
    });
    let mut keys = KeyHierarchy::new(HierarchyAlgorithm::Tdes);
    keys.install_tmk(SecretKey::from_hex(KeyAlgorithm::Tdes2, TMK).expect("tmk"))
        .expect("install");
    let mut c = HostClient::new(
        LinkConfig::tcp(addr).with_read_timeout(Duration::from_secs(5)),
        TerminalConfig::new("12345678", "123456789012345"),
        keys,
        MemoryStore::new(),
    );
    for _ in 0..3 {
        c.echo().expect("each echo on a fresh connection");
        // The host has closed the connection before the next request is made.
        closed_rx
            .recv_timeout(Duration::from_secs(5))
            .expect("host closed");
    }
}
