//! Merchant-presented QR orders (`HostClient::qr_create_order`, `qr_query_by_trace`) against a
//! scripted fake host on loopback: the exact request (dialect row "QR order"), the answer the
//! client believes, and every way a host answer is refused with a typed error.

use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_crypto::keyhier::{HierarchyAlgorithm, KeyHierarchy};
use smartpos_host::dialect::{self, QrMerchantOrder};
use smartpos_host::{
    HostClient, HostError, LinkConfig, MemoryStore, QrStatus, QueueKind, ReversalStore,
    TerminalConfig,
};
use smartpos_iso8583::Message;
use std::sync::mpsc;
use std::time::Duration;

#[path = "support/scripted.rs"]
mod scripted;
use scripted::{Answer, TMK, scripted_host};

/// id: qr-mpm-emvco-sample — source: EMVCo QRCPS-MPM specification sample payload (see
/// /work/shared/vectors/published.md; mvallim/emv-qrcode CRCTest.java, dongri/emv-qrcode
/// emv_mpm_test.go). UTF-8 in the Language Template (64), CRC A13A.
const EMVCO_SAMPLE: &str = "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A";

/// A fake host (support/scripted.rs) whose `answer` applies to everything but the sign-on;
/// requests go back to the test on a channel.
fn fake_host(mut answer: Answer) -> (String, mpsc::Receiver<Message>) {
    let (addr, frames) = scripted_host(Box::new(move |req, r| {
        if req.mti().as_str() != "0800" {
            answer(req, r);
        }
    }));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for f in frames {
            if tx.send(f.message).is_err() {
                return;
            }
        }
    });
    (addr, rx)
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

fn next(rx: &mpsc::Receiver<Message>) -> Message {
    rx.recv_timeout(Duration::from_secs(5)).expect("a request")
}

/// A well-formed order answer: 09, RRN, the reference echoed after QRO, `payload` in 62.
fn order_answer(payload: &'static str) -> Answer {
    Box::new(move |req, r| {
        let _ = r.set_response_code("09");
        let _ = r.set_rrn("300000000042");
        let reference = req.text(63).unwrap_or("QRO").to_string();
        let _ = r.set_text(63, &reference);
        let _ = r.set_binary(62, payload.as_bytes());
    })
}

#[test]
fn order_request_follows_the_dialect_row_and_the_answer_is_believed() {
    let (addr, rx) = fake_host(order_answer(EMVCO_SAMPLE));
    let mut c = client(&addr);
    let _sign_on = next(&rx);
    let order = c
        .qr_create_order(2_372, Some("T0000001000123"))
        .expect("order");
    let req = next(&rx);
    assert_eq!(req.mti().as_str(), "0200");
    assert_eq!(req.processing_code(), Some(dialect::PC_QR_ORDER));
    assert_eq!(req.processing_code(), Some("320000"));
    assert_eq!(req.amount().expect("4"), Some(2_372));
    assert_eq!(req.text(22), Some("032"));
    assert_eq!(req.text(25), Some("00"));
    assert_eq!(req.text(49), Some("156"));
    assert_eq!(req.text(63), Some("QROT0000001000123"));
    assert!(
        req.text(60).is_some_and(|t| t.starts_with("22")),
        "60.1 = 22"
    );
    assert!(req.has(64), "the order request is MACed");
    assert!(!req.has(37), "no RRN yet");
    assert_eq!(
        order,
        QrMerchantOrder {
            rrn: "300000000042".into(),
            stan: u32::try_from(req.stan().expect("11").expect("stan")).expect("stan"),
            amount: 2_372,
            qr_payload: EMVCO_SAMPLE.into(),
            order_ref: "T0000001000123".into(),
        }
    );
    // An order moves no funds: nothing is queued for reversal.
    assert!(
        c.store()
            .pending(QueueKind::Reversal)
            .expect("pending")
            .is_empty()
    );
    let o = order.order();
    assert_eq!(o.rrn, "300000000042");
    assert_eq!(o.status, QrStatus::Pending);
}

#[test]
fn without_a_reference_the_host_echoes_the_rrn() {
    let (addr, rx) = fake_host(Box::new(|_, r| {
        let _ = r.set_response_code("09");
        let _ = r.set_rrn("300000000077");
        let _ = r.set_text(63, "QRO300000000077");
        let _ = r.set_binary(62, EMVCO_SAMPLE.as_bytes());
    }));
    let mut c = client(&addr);
    let order = c.qr_create_order(100, None).expect("order");
    let _ = next(&rx);
    assert_eq!(next(&rx).text(63), Some("QRO"));
    assert_eq!(order.order_ref, "300000000077");
}

#[test]
fn a_refused_order_is_a_decline_with_its_code() {
    let (addr, _rx) = fake_host(Box::new(|_, r| {
        let _ = r.set_response_code("13");
        let _ = r.set_rrn("300000000001");
    }));
    let mut c = client(&addr);
    let e = c.qr_create_order(100, Some("R1")).expect_err("refused");
    assert_eq!(
        e.response_code().map(|c| c.as_str().to_string()),
        Some("13".into())
    );
    assert!(!e.needs_reversal());
}

fn refused(answer: Answer) -> HostError {
    let (addr, _rx) = fake_host(answer);
    let mut c = client(&addr);
    c.qr_create_order(100, Some("R1")).expect_err("refused")
}

#[test]
fn a_malformed_payload_is_a_typed_error() {
    // Not an MPM at all.
    let e = refused(Box::new(|_, r| {
        let _ = r.set_response_code("09");
        let _ = r.set_rrn("300000000001");
        let _ = r.set_text(63, "QROR1");
        let _ = r.set_binary(62, b"https://pay.example/o/1");
    }));
    assert!(
        matches!(&e, HostError::InvalidField { field: 62, reason } if reason.contains("000201")),
        "{e}"
    );
    // A control character inside (offset 6).
    let e = refused(Box::new(|_, r| {
        let _ = r.set_response_code("09");
        let _ = r.set_rrn("300000000001");
        let _ = r.set_text(63, "QROR1");
        let _ = r.set_binary(62, b"000201\n1021263040000");
    }));
    assert!(
        matches!(&e, HostError::InvalidField { field: 62, reason }
            if reason.contains("U+000A at offset 6")),
        "{e}"
    );
    // Not UTF-8.
    let e = refused(Box::new(|_, r| {
        let _ = r.set_response_code("09");
        let _ = r.set_rrn("300000000001");
        let _ = r.set_text(63, "QROR1");
        let _ = r.set_binary(62, b"000201\xFF\xFE6304ABCD");
    }));
    assert!(
        matches!(&e, HostError::InvalidField { field: 62, reason }
            if reason.contains("not UTF-8 at offset 6 (byte FF)")),
        "{e}"
    );
    // The CRC object missing from the end.
    let e = refused(Box::new(|_, r| {
        let _ = r.set_response_code("09");
        let _ = r.set_rrn("300000000001");
        let _ = r.set_text(63, "QROR1");
        let _ = r.set_binary(62, b"00020101021253031566304");
    }));
    assert!(
        matches!(&e, HostError::InvalidField { field: 62, reason } if reason.contains("6304")),
        "{e}"
    );
    // No payload.
    let e = refused(Box::new(|_, r| {
        let _ = r.set_response_code("09");
        let _ = r.set_rrn("300000000001");
        let _ = r.set_text(63, "QROR1");
    }));
    assert!(
        matches!(e, HostError::MissingField { field: 62, .. }),
        "{e}"
    );
}

#[test]
fn answers_that_do_not_name_this_order_are_refused() {
    // Another order reference echoed.
    let e = refused(Box::new(|_, r| {
        let _ = r.set_response_code("09");
        let _ = r.set_rrn("300000000001");
        let _ = r.set_text(63, "QROR2");
        let _ = r.set_binary(62, EMVCO_SAMPLE.as_bytes());
    }));
    assert!(
        matches!(&e, HostError::Mismatch { field, received, .. } if field.contains("63") && received == "QROR2"),
        "{e}"
    );
    // No RRN.
    let e = refused(Box::new(|_, r| {
        let _ = r.set_response_code("09");
        r.remove(37);
        let _ = r.set_text(63, "QROR1");
        let _ = r.set_binary(62, EMVCO_SAMPLE.as_bytes());
    }));
    assert!(
        matches!(e, HostError::MissingField { field: 37, .. }),
        "{e}"
    );
    // "Paid" before anyone saw the code.
    let e = refused(Box::new(|_, r| {
        let _ = r.set_response_code("00");
        let _ = r.set_rrn("300000000001");
        let _ = r.set_text(63, "QROR1");
        let _ = r.set_binary(62, EMVCO_SAMPLE.as_bytes());
    }));
    assert!(matches!(e, HostError::Mismatch { .. }), "{e}");
    // A wrong MAC: not believed.
    let e = refused(Box::new(|_, r| {
        let _ = r.set_response_code("09");
        let _ = r.set_rrn("300000000001");
        let _ = r.set_text(63, "QROR1");
        let _ = r.set_binary(62, EMVCO_SAMPLE.as_bytes());
        let _ = r.set_binary(64, &[0u8; 8]);
    }));
    assert!(matches!(e, HostError::BadMac(_)), "{e}");
}

#[test]
fn bad_caller_input_is_refused_before_anything_is_sent() {
    let (addr, rx) = fake_host(order_answer(EMVCO_SAMPLE));
    let mut c = client(&addr);
    let _ = next(&rx);
    for (amount, reference) in [
        (0, Some("R1")),
        (1_000_000_000_000, Some("R1")),
        (100, Some("")),
        (100, Some("12345678901234567890123456")),
        (100, Some(" R1")),
        (100, Some("R\u{7}1")),
    ] {
        let e = c.qr_create_order(amount, reference).expect_err("bad input");
        assert!(
            matches!(e, HostError::InvalidRequest { .. }),
            "{amount} {reference:?}: {e}"
        );
    }
    assert!(c.qr_query_by_trace(0, 100).is_err());
    assert!(c.qr_query_by_trace(1_000_000, 100).is_err());
    // Nothing was sent: the next request the host sees is the next valid one.
    c.qr_create_order(100, Some("R1")).expect("valid order");
    assert_eq!(next(&rx).text(63), Some("QROR1"));
}

#[test]
fn an_order_is_found_by_its_stan_when_the_rrn_is_unknown() {
    let (addr, rx) = fake_host(Box::new(|req, r| {
        assert!(!req.has(37), "no RRN in a query by trace");
        let _ = r.set_response_code("00");
        let _ = r.set_rrn("300000000099");
    }));
    let mut c = client(&addr);
    let _ = next(&rx);
    let order = c.qr_query_by_trace(17, 1_800).expect("query");
    let req = next(&rx);
    assert_eq!(req.processing_code(), Some(dialect::PC_QR_QUERY));
    assert_eq!(
        req.text(61),
        Some("000001000017"),
        "61 = batch + STAN of the order"
    );
    assert_eq!(req.text(63), Some("QRQ"));
    assert_eq!(order.rrn, "300000000099");
    assert_eq!(order.stan, 17);
    assert_eq!(order.status, QrStatus::Paid);
}

#[test]
fn a_query_by_stan_the_host_cannot_name_is_refused() {
    let (addr, _rx) = fake_host(Box::new(|_, r| {
        let _ = r.set_response_code("09");
        r.remove(37);
    }));
    let mut c = client(&addr);
    let e = c.qr_query_by_trace(17, 1_800).expect_err("no RRN");
    assert!(
        matches!(e, HostError::MissingField { field: 37, .. }),
        "{e}"
    );
    let (addr, _rx) = fake_host(Box::new(|_, r| {
        let _ = r.set_response_code("25");
        r.remove(37);
    }));
    let mut c = client(&addr);
    let e = c.qr_query_by_trace(17, 1_800).expect_err("unknown");
    assert_eq!(
        e.response_code().map(|c| c.as_str().to_string()),
        Some("25".into())
    );
}
