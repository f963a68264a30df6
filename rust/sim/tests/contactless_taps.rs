//! Whole contactless taps against the virtual cards of smartpos-sim: every profile, every
//! Book A outcome that a card can provoke, real cryptograms recomputed with the card's master
//! key, real fDDA/CDA signatures under the generated test PKI.

use smartpos_crypto::emv::AcData;
use smartpos_emv::contactless::*;
use smartpos_emv::{CaKeyStore, HostResponse, TerminalConfig, TransactionParams};
use smartpos_sim::contactless::pki::TestPki;
use smartpos_sim::contactless::{Profile, Scheme, VirtualCard, icc_master_key};
use std::sync::Arc;

struct Setup {
    reader: ContactlessReader,
    pki: Arc<TestPki>,
}

fn setup(scheme: Scheme, install_ca: bool) -> Setup {
    let pki = Arc::new(TestPki::generate(scheme.rid()).expect("pki"));
    let mut keys = CaKeyStore::new();
    if install_ca {
        pki.install(&mut keys).expect("install");
    }
    let cfg = Arc::new(TerminalConfig::demo().expect("demo config"));
    Setup {
        reader: ContactlessReader::for_terminal(cfg, Arc::new(keys)),
        pki,
    }
}

fn params(amount: u64) -> TransactionParams {
    TransactionParams::new(amount, "261121", "101500", [0x11, 0x22, 0x33, 0x44]).expect("params")
}

fn tap_with(
    s: &Setup,
    card: &mut VirtualCard,
    amount: u64,
    clock: &mut ScriptedClock,
    torn: &mut TornLog,
) -> (TapResult, RecordingUi) {
    let mut ui = RecordingUi::default();
    let mut env = TapEnv {
        clock,
        torn_log: torn,
    };
    let r = run_tap(card, &s.reader, &params(amount), &mut env, &mut ui);
    (r, ui)
}

fn tap(s: &Setup, card: &mut VirtualCard, amount: u64) -> (TapResult, RecordingUi) {
    tap_with(
        s,
        card,
        amount,
        &mut ScriptedClock::default(),
        &mut TornLog::default(),
    )
}

fn card(s: &Setup, p: Profile) -> VirtualCard {
    VirtualCard::new(p, s.pki.clone()).expect("card")
}

fn record(r: &TapResult, tag: u32) -> Option<Vec<u8>> {
    smartpos_tlv::find(&r.data_record, smartpos_tlv::Tag(tag))
        .ok()
        .flatten()
        .map(|t| t.value.to_vec())
}

/// Recompute the card's cryptogram from the field-55 data the terminal would send.
fn assert_cryptogram_verifies(r: &TapResult, c: &VirtualCard) {
    let g = |t| record(r, t).unwrap_or_else(|| panic!("data record lacks {t:X}"));
    let data = AcData {
        amount_authorised: &g(0x9F02),
        amount_other: &g(0x9F03),
        terminal_country_code: &g(0x9F1A),
        tvr: &g(0x95),
        transaction_currency_code: &g(0x5F2A),
        transaction_date: &g(0x9A),
        transaction_type: &g(0x9C),
        unpredictable_number: &g(0x9F37),
        aip: &g(0x82),
        atc: &g(0x9F36),
        iad: &g(0x9F10),
    };
    // Issuer side: the ICC master key derived from the IMK and the PAN, not read off the card.
    let mk = icc_master_key(&c.profile.scheme.pan_digits(), "01").expect("mk");
    assert_eq!(mk.as_bytes(), c.master_key().as_bytes());
    let ac = c.cvn().generate_ac(&mk, &data).expect("ac");
    assert_eq!(
        g(0x9F26),
        ac.to_vec(),
        "cryptogram must verify under the card's key"
    );
}

fn messages(ui: &RecordingUi) -> Vec<u8> {
    ui.requests.iter().map(|r| r.message_code).collect()
}

#[test]
fn visa_card_low_amount_is_approved_offline_with_fdda() {
    let s = setup(Scheme::Visa, true);
    let mut c = card(&s, Profile::visa_card());
    let (r, ui) = tap(&s, &mut c, 1000);
    assert_eq!(r.outcome.kind, OutcomeKind::Approved, "{r:?}");
    assert_eq!(r.kernel, Some(KernelId::C3));
    assert_eq!(
        (r.oda, r.oda_ok),
        (OdaKind::Fdda, true),
        "{:?}",
        r.oda_failure
    );
    assert_eq!(r.cvm, CvmKind::NoCvm);
    assert_eq!(record(&r, 0x9F27), Some(vec![0x40]));
    assert_cryptogram_verifies(&r, &c);
    assert_eq!(messages(&ui), vec![0x15, 0x16, 0x03]);
    assert_eq!(ui.requests.last().map(|u| u.lights), Some([true; 4]));
    assert_eq!(r.pan_masked.as_deref(), Some("476173******0010"));
    assert_eq!(r.summary_json()["outcome"], "APPROVED");
    assert_eq!(r.summary_json()["kernel"], "C-3");
}

#[test]
fn visa_above_floor_limit_goes_online_with_a_verifiable_arqc() {
    let s = setup(Scheme::Visa, true);
    let mut c = card(&s, Profile::visa_card());
    let (r, ui) = tap(&s, &mut c, 25_000);
    assert_eq!(r.outcome.kind, OutcomeKind::OnlineRequest);
    assert_eq!(record(&r, 0x9F27), Some(vec![0x80]));
    // TTQ sent with "online cryptogram required" (Book B §3.1.1.8).
    assert_eq!(
        record(&r, 0x9F66).and_then(|t| t.get(1).copied()),
        Some(0x80)
    );
    assert_cryptogram_verifies(&r, &c);
    assert_eq!(messages(&ui).last(), Some(&0x17));
    assert_eq!(r.oda, OdaKind::None);
}

#[test]
fn visa_above_cvm_limit_online_requires_online_pin() {
    let s = setup(Scheme::Visa, true);
    let mut c = card(&s, Profile::visa_card());
    let (r, _) = tap(&s, &mut c, 40_000);
    assert_eq!(r.outcome.kind, OutcomeKind::OnlineRequest);
    assert_eq!(r.cvm, CvmKind::OnlinePin);
    assert_eq!(r.outcome.cvm, CvmKind::OnlinePin);
    assert_eq!(r.cvm_results, "020000");
    assert_eq!(r.outcome.encode()[3], 0x20);
}

#[test]
fn visa_signature_card_offline_is_approved_please_sign() {
    let s = setup(Scheme::Visa, true);
    let mut p = Profile::visa_card();
    p.signature = true;
    let mut c = card(&s, p);
    // 150.00: under the floor limit (200.00), at or above a lowered CVM limit.
    let mut reader = s.reader.clone();
    for comb in &mut reader.contactless.combinations {
        comb.cvm_required_limit = Some(10_000);
    }
    let s2 = Setup {
        reader,
        pki: s.pki.clone(),
    };
    let (r, ui) = tap(&s2, &mut c, 15_000);
    assert_eq!(r.outcome.kind, OutcomeKind::Approved, "{r:?}");
    assert_eq!(r.cvm, CvmKind::ObtainSignature);
    assert!(r.outcome.receipt);
    assert_eq!(messages(&ui).last(), Some(&0x1A));
}

#[test]
fn visa_online_only_card_goes_online_even_for_low_amounts() {
    let s = setup(Scheme::Visa, true);
    let mut c = card(&s, Profile::visa_online_only());
    let (r, _) = tap(&s, &mut c, 500);
    assert_eq!(r.outcome.kind, OutcomeKind::OnlineRequest);
    assert_cryptogram_verifies(&r, &c);
}

#[test]
fn fdda_failure_sends_the_tc_online_when_the_ctq_says_so() {
    // The terminal lacks the CA key: the ICC key cannot be recovered.
    let s = setup(Scheme::Visa, false);
    let mut c = card(&s, Profile::visa_card());
    let (r, _) = tap(&s, &mut c, 1000);
    assert_eq!(r.outcome.kind, OutcomeKind::OnlineRequest);
    assert!(!r.oda_ok);
    assert_eq!(r.tvr.0[0] & 0x08, 0x08, "DDA failed bit: {:?}", r.tvr);
    assert!(r.oda_failure.as_deref().unwrap_or("").contains("CA key"));
}

#[test]
fn visa_phone_above_cvm_limit_asks_see_phone_then_completes_with_cdcvm() {
    let s = setup(Scheme::Visa, true);
    let mut c = card(&s, Profile::visa_phone());
    let (r, ui) = tap(&s, &mut c, 40_000);
    assert_eq!(r.outcome.kind, OutcomeKind::OnlineRequest, "{r:?}");
    assert_eq!(r.restarts, 1);
    assert_eq!(r.cvm, CvmKind::ConfirmationCodeVerified);
    assert_eq!(r.cvm_results, "010002");
    let m = messages(&ui);
    assert!(m.contains(&0x20), "see phone shown: {m:02X?}");
    assert_eq!(c.activations, 2);
}

#[test]
fn visa_declining_card_is_declined() {
    let s = setup(Scheme::Visa, true);
    let mut p = Profile::visa_card();
    p.decline = true;
    let mut c = card(&s, p);
    let (r, ui) = tap(&s, &mut c, 1000);
    assert_eq!(r.outcome.kind, OutcomeKind::Declined);
    assert_eq!(messages(&ui).last(), Some(&0x07));
    assert_cryptogram_verifies(&r, &c);
}

#[test]
fn issuer_update_after_online_restarts_at_start_c() {
    let s = setup(Scheme::Visa, true);
    let mut p = Profile::visa_card();
    p.issuer_update = true;
    let mut c = card(&s, p);
    let (r, _) = tap(&s, &mut c, 25_000);
    assert_eq!(r.outcome.kind, OutcomeKind::OnlineRequest);
    assert_eq!(r.outcome.online_response_data, OnlineResponseData::EmvData);
    let host = HostResponse {
        approved: true,
        arc: "00".into(),
        issuer_authentication_data: vec![0x11; 10],
        scripts: hex::decode("7209860784DA000002AABB").expect("hex"),
    };
    let before = c.commands.len();
    let mut ui = RecordingUi::default();
    let mut clock = ScriptedClock::default();
    let mut torn = TornLog::default();
    let mut env = TapEnv {
        clock: &mut clock,
        torn_log: &mut torn,
    };
    let f = resume_online(&mut c, &s.reader, r, &host, &mut env, &mut ui);
    assert_eq!(f.outcome.kind, OutcomeKind::Approved);
    assert_eq!(f.outcome.start, Some(Start::C));
    assert_eq!(c.commands.get(before..), Some(&[0xA4, 0x82, 0xDA][..]));
    assert_eq!(messages(&ui), vec![0x21, 0x03]);
}

#[test]
fn online_decline_without_issuer_update_needs_no_card() {
    let s = setup(Scheme::Visa, true);
    let mut c = card(&s, Profile::visa_card());
    let (r, _) = tap(&s, &mut c, 25_000);
    let before = c.commands.len();
    let mut ui = RecordingUi::default();
    let mut clock = ScriptedClock::default();
    let mut torn = TornLog::default();
    let mut env = TapEnv {
        clock: &mut clock,
        torn_log: &mut torn,
    };
    let host = HostResponse {
        approved: false,
        arc: "05".into(),
        ..Default::default()
    };
    let f = resume_online(&mut c, &s.reader, r, &host, &mut env, &mut ui);
    assert_eq!(f.outcome.kind, OutcomeKind::Declined);
    assert_eq!(c.commands.len(), before);
}

#[test]
fn mastercard_card_low_amount_is_approved_with_cda() {
    let s = setup(Scheme::Mastercard, true);
    let mut c = card(&s, Profile::mastercard_card());
    let (r, _) = tap(&s, &mut c, 1000);
    assert_eq!(r.outcome.kind, OutcomeKind::Approved, "{r:?}");
    assert_eq!(r.kernel, Some(KernelId::C2));
    assert_eq!(
        (r.oda, r.oda_ok),
        (OdaKind::Cda, true),
        "{:?}",
        r.oda_failure
    );
    // The AC came out of the CDA signature (Book 2 §6.6.2) and verifies with the card key.
    assert_cryptogram_verifies(&r, &c);
    // Discretionary data FF8106 carries the outcome parameter set DF8129.
    // (FF8106 is read byte-wise: the generic reader treats a leading FF as ISO 7816 padding.)
    let dd = &r.discretionary_data;
    assert_eq!(dd.get(..3), Some(&[0xFF, 0x81, 0x06][..]));
    assert_eq!(dd.get(4..8), Some(&[0xDF, 0x81, 0x29, 0x08][..]));
    assert_eq!(dd.get(8..16), Some(&r.outcome.encode()[..]));
    assert_eq!(dd.get(8), Some(&0x10), "status APPROVED");
}

#[test]
fn mastercard_above_floor_limit_goes_online_with_cda() {
    let s = setup(Scheme::Mastercard, true);
    let mut c = card(&s, Profile::mastercard_card());
    let (r, _) = tap(&s, &mut c, 25_000);
    assert_eq!(r.outcome.kind, OutcomeKind::OnlineRequest);
    assert_eq!(r.tvr.0[3] & 0x80, 0x80, "floor limit exceeded");
    assert!(r.oda_ok);
    assert_cryptogram_verifies(&r, &c);
}

#[test]
fn mastercard_card_above_cvm_limit_takes_online_pin_from_the_cvm_list() {
    let s = setup(Scheme::Mastercard, true);
    let mut c = card(&s, Profile::mastercard_card());
    let (r, _) = tap(&s, &mut c, 35_000);
    assert_eq!(r.cvm, CvmKind::OnlinePin);
    assert_eq!(r.outcome.kind, OutcomeKind::OnlineRequest);
    assert_eq!(r.cvm_results, "420300");
}

#[test]
fn mastercard_phone_asks_see_phone_then_cdcvm() {
    let s = setup(Scheme::Mastercard, true);
    let mut c = card(&s, Profile::mastercard_phone());
    let (r, ui) = tap(&s, &mut c, 35_000);
    assert_eq!(r.outcome.kind, OutcomeKind::OnlineRequest, "{r:?}");
    assert_eq!(r.restarts, 1);
    assert_eq!(r.cvm, CvmKind::ConfirmationCodeVerified);
    assert!(messages(&ui).contains(&0x20));
    assert!(r.oda_ok);
}

#[test]
fn torn_generate_ac_is_recovered_with_recover_ac_on_the_next_presentation() {
    let s = setup(Scheme::Mastercard, true);
    let mut p = Profile::mastercard_card();
    p.tear_first_generate_ac = true;
    let mut c = card(&s, p);
    let mut torn = TornLog::default();
    let (r, ui) = tap_with(
        &s,
        &mut c,
        1000,
        &mut ScriptedClock::new(vec![5_000_000]),
        &mut torn,
    );
    assert_eq!(r.outcome.kind, OutcomeKind::Approved, "{r:?}");
    assert!(r.torn_recovered);
    assert_eq!(r.restarts, 1);
    assert!(torn.is_empty());
    assert!(c.commands.contains(&0xD0), "RECOVER AC sent");
    assert!(messages(&ui).contains(&0x21), "present card again");
    assert!(r.oda_ok, "{:?}", r.oda_failure);
}

#[test]
fn torn_card_without_restarts_ends_with_try_again_and_a_torn_record() {
    let mut s = setup(Scheme::Mastercard, true);
    s.reader.contactless.max_restarts = 0;
    let mut p = Profile::mastercard_card();
    p.tear_first_generate_ac = true;
    let mut c = card(&s, p);
    let mut torn = TornLog::default();
    let (r, _) = tap_with(
        &s,
        &mut c,
        1000,
        &mut ScriptedClock::new(vec![1]),
        &mut torn,
    );
    assert_eq!(r.outcome.kind, OutcomeKind::TryAgain);
    assert_eq!(r.outcome.start, Some(Start::B));
    assert_eq!(torn.len(), 1);
    // An expired torn record is dropped (DF811C lifetime 300 s) and no RECOVER AC is sent.
    let (r2, _) = tap_with(
        &s,
        &mut c,
        1000,
        &mut ScriptedClock::new(vec![400_000_000]),
        &mut torn,
    );
    assert_eq!(r2.outcome.kind, OutcomeKind::Approved);
    assert!(!r2.torn_recovered);
    assert!(torn.is_empty());
}

#[test]
fn relay_resistance_within_limits_and_exceeded() {
    let s = setup(Scheme::Mastercard, true);
    let mut p = Profile::mastercard_card();
    p.relay_resistance = Some((10, 40, 18));
    let mut c = card(&s, p.clone());
    // 7.0 ms measured: 70 - 18 - 18 = 34 units, inside [10-5, 40+10].
    let (r, _) = tap_with(
        &s,
        &mut c,
        1000,
        &mut ScriptedClock::new(vec![1_000, 8_000, 9_000]),
        &mut TornLog::default(),
    );
    let rr = r.relay_resistance.expect("measured");
    assert_eq!(rr.measured_processing_time, 34);
    assert!(!rr.time_limits_exceeded);
    assert_eq!(r.tvr.0[4] & 0x06, 0x02);
    assert_eq!(r.outcome.kind, OutcomeKind::Approved);
    // 20 ms: 164 units > 50 → "relay resistance time limits exceeded".
    let mut c = card(&s, p.clone());
    let (r, _) = tap_with(
        &s,
        &mut c,
        1000,
        &mut ScriptedClock::new(vec![1_000, 21_000, 21_000]),
        &mut TornLog::default(),
    );
    assert!(r.relay_resistance.expect("measured").time_limits_exceeded);
    assert_eq!(r.tvr.0[4] & 0x04, 0x04);
    // Faster than physically possible for the card: End Application.
    let mut c = card(&s, p);
    let (r, _) = tap_with(
        &s,
        &mut c,
        1000,
        &mut ScriptedClock::new(vec![1_000, 1_100]),
        &mut TornLog::default(),
    );
    assert_eq!(r.outcome.kind, OutcomeKind::EndApplication);
}

#[test]
fn mag_stripe_mode_builds_track2_with_cvc3_un_and_atc() {
    let s = setup(Scheme::Mastercard, true);
    let mut p = Profile::mastercard_card();
    p.mag_stripe = true;
    p.oda = false;
    let mut c = card(&s, p);
    let (r, _) = tap(&s, &mut c, 1000);
    assert_eq!(r.outcome.kind, OutcomeKind::OnlineRequest, "{r:?}");
    assert!(
        c.commands.contains(&0x2A),
        "COMPUTE CRYPTOGRAPHIC CHECKSUM sent"
    );
    let t2 = hex::encode_upper(record(&r, 0x9F6B).expect("track 2 in field 55"));
    // The CLI report masks the track data; the host record keeps it.
    let shown = r.summary_json()["field55"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        !shown.contains(&t2[6..]),
        "track 2 must be masked in the report"
    );
    assert!(shown.contains("9F6B"));
    let dd = &t2[t2.find('D').expect("separator") + 8..].trim_end_matches('F');
    assert_eq!(dd.len(), 13);
    // Last digit = nUN = 5 PUNATC bits - NATC 2 = 3.
    assert!(dd.ends_with('3'), "{dd}");
    // UN numeric digits: UN 11223344 → digits 1,1,2,2,3,3,4,4; last 3 = 3,4,4 at PUNATC positions.
    let atc = format!("{:05}", c.atc());
    let unatc: String = dd
        .chars()
        .rev()
        .skip(4)
        .take(5)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    assert_eq!(unatc, format!("344{}", &atc[3..]), "{dd}");
}

#[test]
fn unionpay_card_fdda_offline_approved() {
    let s = setup(Scheme::UnionPay, true);
    let mut c = card(&s, Profile::unionpay_card());
    let (r, _) = tap(&s, &mut c, 1000);
    assert_eq!(r.outcome.kind, OutcomeKind::Approved, "{r:?}");
    assert_eq!(r.kernel, Some(KernelId::C7));
    assert!(r.oda_ok);
    assert_cryptogram_verifies(&r, &c);
}

#[test]
fn unionpay_ec_low_value_is_offline_and_debits_the_balance() {
    let s = setup(Scheme::UnionPay, true);
    let mut c = card(&s, Profile::unionpay_ec(30_000));
    // 250.00 is above the contactless floor limit but under the EC limit (500.00).
    let (r, ui) = tap(&s, &mut c, 25_000);
    assert_eq!(r.outcome.kind, OutcomeKind::Approved, "{r:?}");
    assert_eq!(r.balance, Some(5_000));
    assert_eq!(c.balance(), Some(5_000));
    assert_eq!(
        ui.requests.last().and_then(|u| u.value),
        Some(UiValue::Balance(5_000))
    );
    // Balance too low for the next one: the card goes online instead.
    let (r, _) = tap(&s, &mut c, 25_000);
    assert_eq!(r.outcome.kind, OutcomeKind::OnlineRequest);
    assert_eq!(c.balance(), Some(5_000));
}

#[test]
fn unionpay_quickpass_phone_see_phone() {
    let s = setup(Scheme::UnionPay, true);
    let mut c = card(&s, Profile::unionpay_phone());
    let (r, _) = tap(&s, &mut c, 40_000);
    assert_eq!(r.restarts, 1);
    assert_eq!(r.cvm, CvmKind::ConfirmationCodeVerified);
}

#[test]
fn two_cards_in_the_field_show_present_one_card_only() {
    let s = setup(Scheme::Visa, true);
    let mut p = Profile::visa_card();
    p.collisions = 1;
    let mut c = card(&s, p);
    let (r, ui) = tap(&s, &mut c, 1000);
    assert_eq!(r.outcome.kind, OutcomeKind::Approved);
    assert!(messages(&ui).contains(&0x19));
    let mut p = Profile::visa_card();
    p.collisions = 10;
    let mut c = card(&s, p);
    let (r, ui) = tap(&s, &mut c, 1000);
    assert_eq!(r.outcome.kind, OutcomeKind::EndApplication);
    assert_eq!(messages(&ui).last(), Some(&0x19));
    assert!(c.commands.is_empty());
}

#[test]
fn card_asking_for_another_interface() {
    for (scheme, p) in [
        (Scheme::Visa, Profile::visa_card()),
        (Scheme::Mastercard, Profile::mastercard_card()),
    ] {
        let s = setup(scheme, true);
        let mut p = p;
        p.another_interface = true;
        let mut c = card(&s, p);
        let (r, ui) = tap(&s, &mut c, 1000);
        assert_eq!(r.outcome.kind, OutcomeKind::TryAnotherInterface);
        assert_eq!(r.outcome.alternate_interface, Some(Interface::ContactChip));
        assert_eq!(messages(&ui).last(), Some(&0x18));
    }
}

#[test]
fn blocked_card_ends_the_application() {
    let s = setup(Scheme::Visa, true);
    let mut p = Profile::visa_card();
    p.blocked = true;
    let mut c = card(&s, p);
    let (r, ui) = tap(&s, &mut c, 1000);
    assert_eq!(r.outcome.kind, OutcomeKind::EndApplication);
    assert_eq!(messages(&ui).last(), Some(&0x1C));
    assert!(r.end_reason.as_deref().unwrap_or("").contains("6283"));
}

#[test]
fn amount_over_the_contactless_limit_never_touches_the_card() {
    let s = setup(Scheme::Visa, true);
    let mut c = card(&s, Profile::visa_card());
    let (r, ui) = tap(&s, &mut c, 100_000);
    assert_eq!(r.outcome.kind, OutcomeKind::TryAnotherInterface);
    assert_eq!(c.activations, 0);
    assert_eq!(messages(&ui), vec![0x18]);
}

#[test]
fn unionpay_sm_card_fdda_with_sm2_and_sm3() {
    let s = setup(Scheme::UnionPay, true);
    let sm_reader = s
        .reader
        .clone()
        .with_sm_keys(vec![s.pki.sm_ca_key().expect("sm key")]);
    let s_sm = Setup {
        reader: sm_reader,
        pki: s.pki.clone(),
    };
    let mut c = card(&s_sm, Profile::unionpay_sm());
    let (r, _) = tap(&s_sm, &mut c, 1000);
    assert_eq!(r.outcome.kind, OutcomeKind::Approved, "{r:?}");
    assert_eq!(
        (r.oda, r.oda_ok),
        (OdaKind::Fdda, true),
        "{:?}",
        r.oda_failure
    );
    assert_eq!(record(&r, 0x9F66).map(|t| t.len()), Some(4));
    // A reader without SM keys does not announce SM (DF69 = 00): no SM signature, ODA fails,
    // the CTQ sends the card online.
    let mut c = card(&s, Profile::unionpay_sm());
    let (r, _) = tap(&s, &mut c, 1000);
    assert_eq!(r.outcome.kind, OutcomeKind::OnlineRequest);
    assert!(!r.oda_ok);
    // An SM CA key of another CA (another seed): the issuer certificate does not verify.
    let other = TestPki::mint("another CA", Scheme::UnionPay.rid()).expect("pki");
    let wrong = Setup {
        reader: s
            .reader
            .clone()
            .with_sm_keys(vec![other.sm_ca_key().expect("sm key")]),
        pki: s.pki.clone(),
    };
    let mut c = card(&wrong, Profile::unionpay_sm());
    let (r, _) = tap(&wrong, &mut c, 1000);
    assert!(!r.oda_ok);
    assert!(
        r.oda_failure
            .as_deref()
            .unwrap_or("")
            .contains("issuer certificate"),
        "{:?}",
        r.oda_failure
    );
}

/// id: emv-mk-a-12345678901234567-01; source: knovichikhin/pyemv
/// @cf6b82d7a1e1b57c87d18a2caae2115f8b3e4309 pyemv/kd.py derive_icc_mk_a docstring.
#[test]
fn virtual_card_key_hierarchy_matches_the_published_option_a_vector() {
    let mk = icc_master_key("12345678901234567", "01").expect("mk");
    assert_eq!(
        hex::encode_upper(mk.as_bytes()),
        "73AD54688CEF2934B0979857E3C719F1"
    );
}

#[test]
fn offline_only_reader_never_asks_for_an_online_cryptogram() {
    let mut s = setup(Scheme::Visa, true);
    for c in &mut s.reader.contactless.combinations {
        c.ttq = vec![0x2E, 0x00, 0xC0, 0x00]; // qVSDC, contact, offline-only, PIN, signature
    }
    // Above the floor limit an offline-capable card still approves offline (with fDDA).
    let mut c = card(&s, Profile::visa_card());
    let (r, _) = tap(&s, &mut c, 25_000);
    assert_eq!(r.outcome.kind, OutcomeKind::Approved, "{r:?}");
    assert!(r.oda_ok);
    // An online-only card has nothing to offer an offline-only reader: AAC, declined.
    let mut c = card(&s, Profile::visa_online_only());
    let (r, _) = tap(&s, &mut c, 500);
    assert_eq!(r.outcome.kind, OutcomeKind::Declined);
}

#[test]
fn kernel2_transaction_limits_depend_on_on_device_cvm() {
    let mut s = setup(Scheme::Mastercard, true);
    for c in &mut s.reader.contactless.combinations {
        c.kernel2.no_on_device_cvm_limit = Some(50_000);
        c.kernel2.on_device_cvm_limit = Some(90_000);
    }
    // A plastic card above DF8124: another interface.
    let mut c = card(&s, Profile::mastercard_card());
    let (r, _) = tap(&s, &mut c, 60_000);
    assert_eq!(r.outcome.kind, OutcomeKind::TryAnotherInterface);
    // A phone (on-device CVM) under DF8125: goes through with CDCVM.
    let mut c = card(&s, Profile::mastercard_phone());
    let (r, _) = tap(&s, &mut c, 60_000);
    assert_eq!(r.outcome.kind, OutcomeKind::OnlineRequest, "{r:?}");
    assert_eq!(r.cvm, CvmKind::ConfirmationCodeVerified);
}
