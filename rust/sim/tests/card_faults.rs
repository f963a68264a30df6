//! The contact kernel against the virtual card's faults: status words, malformed data,
//! certificates, blocked application/PIN, card removal and silence (EMV Book 1 §9-§12,
//! Book 2 §5.3/§6.3, Book 3 §7.5, §10.3, §10.5).

use smartpos_emv::{
    ContactKernel, Decision, EndReason, FixedPinPad, Interaction, NoServices, Step, TerminalConfig,
    TransactionParams, TransactionResult, TransportError, TvrBit,
};
use smartpos_sim::card::VirtualCard;
use smartpos_sim::pki::TestPki;
use std::sync::Arc;

struct NoUi;
impl smartpos_emv::CardholderInterface for NoUi {
    fn choose_application(&mut self, _c: &[smartpos_emv::Candidate]) -> smartpos_emv::Choice {
        smartpos_emv::Choice::Select(0)
    }
    fn language_selected(&mut self, _l: &str) {}
}

/// First half of a transaction against a fault profile (PIN 1234 entered).
fn run(name: &str) -> (TransactionResult, VirtualCard) {
    let pki = TestPki::shared().expect("pki");
    let mut cfg = TerminalConfig::demo().expect("demo config");
    cfg.terminal.revoked_certificates = pki.revocation_list();
    let k = ContactKernel::new(Arc::new(cfg), Arc::new(pki.key_store().expect("keys")));
    let mut card = VirtualCard::from_profile(name).expect("profile");
    let mut pp = FixedPinPad {
        pin: Some(zeroize::Zeroizing::new("1234".into())),
        online_block: None,
    };
    let params = TransactionParams::new(1000, "261121", "101500", [1, 2, 3, 4]).expect("params");
    let step = k.start(
        &mut card,
        params,
        Interaction {
            ui: &mut NoUi,
            pin_pad: &mut pp,
            services: &mut NoServices,
        },
    );
    let r = match step {
        Step::Done(r) => *r,
        Step::Online(o) => o.snapshot(),
    };
    (r, card)
}

#[test]
fn gpo_conditions_not_satisfied_ends_without_candidates() {
    let (r, _) = run("fault-gpo-6985");
    assert_eq!(r.decision, Decision::EndApplication);
    assert_eq!(r.end_reason, Some(EndReason::NotAccepted), "{r:?}");
}

#[test]
fn select_card_blocked() {
    let (r, _) = run("fault-select-6a81");
    assert_eq!(r.end_reason, Some(EndReason::CardBlocked), "{r:?}");
}

#[test]
fn read_record_error_ends() {
    let (r, _) = run("fault-record-6a83");
    assert_eq!(r.decision, Decision::EndApplication);
    assert!(
        matches!(r.end_reason, Some(EndReason::CardError { sw: 0x6A83, .. })),
        "{r:?}"
    );
}

#[test]
fn generate_ac_error_ends() {
    let (r, _) = run("fault-genac-6985");
    assert!(
        matches!(
            r.end_reason,
            Some(EndReason::CardError {
                command: "GENERATE AC",
                sw: 0x6985
            })
        ),
        "{r:?}"
    );
}

#[test]
fn truncated_record_is_a_format_error() {
    let (r, _) = run("fault-truncated-record");
    assert!(
        matches!(r.end_reason, Some(EndReason::FormatError { .. })),
        "{r:?}"
    );
}

#[test]
fn malformed_gpo_is_a_format_error() {
    let (r, _) = run("fault-malformed-gpo");
    assert!(
        matches!(r.end_reason, Some(EndReason::FormatError { .. })),
        "{r:?}"
    );
}

#[test]
fn duplicate_tag_ends() {
    let (r, _) = run("fault-duplicate-tag");
    assert_eq!(
        r.end_reason,
        Some(EndReason::DuplicateData { tag: 0x5F24 }),
        "{r:?}"
    );
}

#[test]
fn certificate_faults_fail_dda() {
    for (name, why) in [
        ("fault-bad-issuer-cert", ""),
        ("fault-expired-issuer-cert", "expired"),
        ("fault-revoked-issuer-cert", "revocation"),
        ("fault-bad-dda-signature", ""),
    ] {
        let (r, _) = run(name);
        assert_eq!(r.decision, Decision::OnlineRequest, "{name}");
        assert!(!r.oda_ok, "{name}");
        assert!(r.tvr.is_set(TvrBit::DdaFailed), "{name}: {r:?}");
        let failure = r.oda_failure.clone().unwrap_or_default();
        assert!(failure.contains(why), "{name}: {failure}");
    }
}

#[test]
fn blocked_application_is_not_accepted() {
    let (r, _) = run("fault-app-blocked");
    assert_eq!(r.end_reason, Some(EndReason::NotAccepted), "{r:?}");
}

#[test]
fn pin_tries_exhausted_fails_cvm() {
    let (r, card) = run("fault-pin-blocked");
    assert_eq!(r.decision, Decision::OnlineRequest);
    assert!(r.tvr.is_set(TvrBit::PinTryLimitExceeded), "{r:?}");
    assert!(r.tvr.is_set(TvrBit::CardholderVerificationNotSuccessful));
    assert_eq!(r.cvm_results, "010001");
    assert_eq!(card.pin_tries(), 0);
}

#[test]
fn card_pulled_mid_transaction() {
    let (r, card) = run("fault-card-pulled");
    assert_eq!(r.end_reason, Some(EndReason::CardRemoved), "{r:?}");
    // Exchange 8 (0-based) failed: 9 exchanges attempted, the last with no response.
    assert_eq!(card.exchanges(), 9);
    assert_eq!(
        r.trace.entries.last().map(|e| e.response.as_str()),
        Some("")
    );
}

#[test]
fn card_stops_answering() {
    let (r, _) = run("fault-no-answer");
    assert_eq!(
        r.end_reason,
        Some(EndReason::Transport(TransportError::Timeout)),
        "{r:?}"
    );
}

/// The vpcd protocol over a real loopback socket: ATR request, power on, SELECT PSE, and a
/// malformed APDU, as vsmartcard's vpcd frames them (2-byte big-endian length + payload).
#[test]
fn vpcd_protocol_round_trip() {
    use smartpos_sim::card::vpcd;
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let server = std::thread::spawn(move || {
        let mut card = VirtualCard::from_profile("visa-dda-offline-pin").expect("card");
        let mut s = vpcd::connect(&addr, std::time::Duration::from_secs(5)).expect("connect");
        vpcd::serve(&mut card, &mut s).expect("serve")
    });
    let (mut vpcd_side, _) = listener.accept().expect("accept");
    let mut roundtrip = |payload: &[u8], answer: bool| -> Vec<u8> {
        let mut m = (payload.len() as u16).to_be_bytes().to_vec();
        m.extend_from_slice(payload);
        vpcd_side.write_all(&m).expect("write");
        if !answer {
            return Vec::new();
        }
        let mut len = [0u8; 2];
        vpcd_side.read_exact(&mut len).expect("len");
        let mut r = vec![0u8; usize::from(u16::from_be_bytes(len))];
        vpcd_side.read_exact(&mut r).expect("payload");
        r
    };
    roundtrip(&[0x01], false);
    assert_eq!(
        roundtrip(&[0x04], true),
        hex::decode("3B65000020 63CB6A00".replace(' ', "")).expect("hex")
    );
    let select = hex::decode("00A404000E315041592E5359532E444446303100").expect("hex");
    let r = roundtrip(&select, true);
    assert_eq!(r.get(r.len() - 2..), Some(&[0x90, 0x00][..]));
    assert_eq!(r.first(), Some(&0x6F));
    assert_eq!(roundtrip(&[0x00, 0xA4], true), vec![0x67, 0x00]);
    roundtrip(&[0x00], false);
    drop(vpcd_side);
    let stats = server.join().expect("join");
    assert_eq!(stats.apdus, 2);
    assert_eq!(stats.resets, 1);
}

#[test]
fn bad_cda_signature_declines_and_closes_with_aac() {
    let (r, card) = run("fault-bad-cda-signature");
    assert_eq!(r.decision, Decision::Declined, "{r:?}");
    assert!(r.tvr.is_set(TvrBit::CdaFailed), "{r:?}");
    assert!(!r.oda_ok);
    // Book 2 §6.6.2: after the failed CDA on an ARQC the terminal asks for an AAC.
    let gen_acs: Vec<_> = r
        .trace
        .entries
        .iter()
        .filter(|e| e.command.starts_with("80AE"))
        .map(|e| e.command.get(4..6).unwrap_or("").to_string())
        .collect();
    assert_eq!(gen_acs, vec!["90".to_string(), "00".to_string()], "{r:?}");
    assert_eq!(
        card.issuer_auth(),
        smartpos_sim::card::IssuerAuth::NotPerformed
    );
}

mod robustness {
    use proptest::prelude::*;
    use smartpos_emv::{Apdu, CardTransport};
    use smartpos_sim::card::VirtualCard;

    fn ins() -> impl Strategy<Value = (u8, u8)> {
        prop_oneof![
            Just((0x00, 0xA4)),
            Just((0x00, 0xB2)),
            Just((0x80, 0xA8)),
            Just((0x80, 0xCA)),
            Just((0x00, 0x88)),
            Just((0x00, 0x84)),
            Just((0x00, 0x20)),
            Just((0x80, 0xAE)),
            Just((0x00, 0x82)),
            Just((0x84, 0x1E)),
            Just((0x84, 0x24)),
            any::<(u8, u8)>(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Whatever the terminal sends, the card answers with a status word and never panics;
        /// a session of random commands after a real selection and GPO included.
        #[test]
        fn random_commands_get_status_words(
            cmds in proptest::collection::vec(
                (ins(), any::<u8>(), any::<u8>(), proptest::collection::vec(any::<u8>(), 0..64)),
                1..12,
            ),
            profile in prop_oneof![Just("mc-cda-online-pin"), Just("visa-dda-enciphered-pin")],
        ) {
            let mut card = VirtualCard::from_profile(profile).expect("card");
            let aid = if profile.starts_with("mc") { "A0000000041010" } else { "A0000000031010" };
            let select = Apdu::new(0x00, 0xA4, 0x04, 0x00, hex::decode(aid).expect("hex")).with_le(0);
            prop_assert!(card.exchange(&select).expect("select").is_ok());
            for ((cla, ins), p1, p2, data) in cmds {
                let r = card.exchange(&Apdu::new(cla, ins, p1, p2, data)).expect("answer");
                prop_assert!(r.sw1 != 0x00);
            }
        }
    }
}
