//! Entry Point (EMV Contactless Book B) step by step with scripted APDUs: pre-processing
//! (§3.1.1), protocol activation and collisions (§3.2), PPSE and combination selection
//! (§3.3), final selection and Select Next (§3.3.3, §3.5), outcome encoding (Book A §6.2)
//! and UI requests (Book A §9).

use smartpos_emv::contactless::entry::{candidates, preprocess};
use smartpos_emv::contactless::*;
use smartpos_emv::{
    Apdu, CaKeyStore, CardTransport, Response, ScriptedCard, TerminalConfig, TransactionParams,
    TransportError,
};
use smartpos_tlv::{Tag, TlvBuilder, encode};
use std::sync::Arc;

fn comb(aid: &str, kernel: KernelId) -> Combination {
    Combination {
        aid: hex::decode(aid).expect("hex"),
        kernel,
        status_check: true,
        extended_selection: false,
        zero_amount_allowed: true,
        transaction_limit: Some(100_000),
        floor_limit: Some(20_000),
        cvm_required_limit: Some(30_000),
        ttq: vec![0x36, 0xC0, 0xC0, 0x00],
        ec_transaction_limit: None,
        kernel2: Kernel2Config::default(),
    }
}

#[test]
fn preprocessing_sets_indicators_and_ttq_per_book_b_3_1_1() {
    let mut c = comb("A0000000031010", KernelId::C3);
    let list = [c.clone()];
    // Configured TTQ byte 2 bits are cleared first (3.1.1.1).
    let p = &preprocess(&list, 1000)[0];
    assert_eq!(p.ttq, [0x36, 0x00, 0xC0, 0x00]);
    assert!(!p.contactless_not_allowed && !p.floor_limit_exceeded);
    // Status check: one unit of currency → online cryptogram required.
    let p = &preprocess(&list, 1)[0];
    assert!(p.status_check_requested);
    assert_eq!(p.ttq[1], 0x80);
    // Zero amount allowed → online cryptogram required; not allowed → contactless not allowed.
    let p = &preprocess(&list, 0)[0];
    assert!(p.zero_amount && p.ttq[1] & 0x80 != 0);
    c.zero_amount_allowed = false;
    assert!(preprocess(&[c.clone()], 0)[0].contactless_not_allowed);
    // Floor limit exceeded (strictly above), CVM required limit (at or above).
    let p = &preprocess(&list, 20_001)[0];
    assert!(p.floor_limit_exceeded && p.ttq[1] == 0x80);
    let p = &preprocess(&list, 20_000)[0];
    assert!(!p.floor_limit_exceeded);
    let p = &preprocess(&list, 30_000)[0];
    assert!(p.cvm_required_limit_exceeded);
    assert_eq!(p.ttq[1], 0xC0);
    // Transaction limit: at or above → not allowed.
    assert!(preprocess(&list, 100_000)[0].contactless_not_allowed);
    assert!(!preprocess(&list, 99_999)[0].contactless_not_allowed);
}

fn ppse(entries: &[(&str, Option<u8>, Option<u8>)]) -> Vec<u8> {
    let mut dir = TlvBuilder::new();
    for (aid, kernel, prio) in entries {
        let mut e = TlvBuilder::new();
        e.push(Tag(0x4F), &hex::decode(aid).expect("hex"));
        if let Some(p) = prio {
            e.push(Tag(0x87), &[*p]);
        }
        if let Some(k) = kernel {
            e.push(Tag(0x9F2A), &[*k]);
        }
        dir.push(Tag(0x61), &e.finish());
    }
    let bf = encode(Tag(0xBF0C), &dir.finish());
    let mut fci = encode(Tag(0x84), b"2PAY.SYS.DDF01");
    fci.extend_from_slice(&encode(Tag(0xA5), &bf));
    encode(Tag(0x6F), &fci)
}

#[test]
fn candidates_match_aid_and_kernel_and_sort_by_priority() {
    let combos = vec![
        comb("A0000000031010", KernelId::C3),
        comb("A0000000041010", KernelId::C2),
        comb("A000000333010101", KernelId::C7),
    ];
    let pre = preprocess(&combos, 1000);
    let fci = ppse(&[
        ("A0000000031010", Some(3), Some(2)),
        // No 9F2A: kernel 2 by RID default (Book B §3.3.2.5).
        ("A0000000041010", None, Some(1)),
        // Kernel id 3 on a Mastercard AID: no combination matches.
        ("A0000000043060", Some(3), Some(1)),
        // Unknown kernel.
        ("A000000333010101", Some(0x2A), None),
        // Kernel 7, no priority: last.
        ("A00000033301010102", Some(7), None),
    ]);
    let list = candidates(&fci, &combos, &pre);
    let names: Vec<String> = list
        .iter()
        .map(|c| hex::encode_upper(&c.adf_name))
        .collect();
    assert_eq!(
        names,
        vec!["A0000000041010", "A0000000031010", "A00000033301010102"]
    );
    assert_eq!(list[0].kernel, KernelId::C2);
    assert_eq!(list[2].kernel, KernelId::C7);
    // A combination not allowed for this amount drops out.
    let pre = preprocess(&combos[..1], 100_000);
    assert!(candidates(&fci, &combos[..1], &pre).is_empty());
    // Garbage FCI: no candidates, no panic.
    assert!(candidates(&[0x6F, 0x05, 0xA5], &combos, &preprocess(&combos, 1)).is_empty());
}

fn reader() -> ContactlessReader {
    let cfg = Arc::new(TerminalConfig::demo().expect("demo"));
    ContactlessReader::new(
        cfg,
        Arc::new(CaKeyStore::new()),
        ContactlessConfig {
            combinations: vec![
                comb("A0000000031010", KernelId::C3),
                comb("A0000000041010", KernelId::C2),
            ],
            max_restarts: 2,
            max_collision_polls: 3,
        },
    )
}

fn params(amount: u64) -> TransactionParams {
    TransactionParams::new(amount, "261121", "101500", [0x11, 0x22, 0x33, 0x44]).expect("params")
}

fn run(card: &mut impl ContactlessTransport, amount: u64) -> (TapResult, RecordingUi) {
    let mut ui = RecordingUi::default();
    let mut clock = ScriptedClock::default();
    let mut torn = TornLog::default();
    let mut env = TapEnv {
        clock: &mut clock,
        torn_log: &mut torn,
    };
    let r = run_tap(card, &reader(), &params(amount), &mut env, &mut ui);
    (r, ui)
}

fn hexs(b: &[u8]) -> String {
    hex::encode_upper(b)
}

const SELECT_PPSE: &str = "00A404000E325041592E5359532E444446303100";
const PDOL: &str = "9F66049F02069F3704";

fn adf_fci(aid: &str, pdol: Option<&str>) -> String {
    let mut a5 = TlvBuilder::new();
    a5.push(Tag(0x50), b"TEST");
    if let Some(p) = pdol {
        a5.push(Tag(0x9F38), &hex::decode(p).expect("hex"));
    }
    let mut fci = encode(Tag(0x84), &hex::decode(aid).expect("hex"));
    fci.extend_from_slice(&encode(Tag(0xA5), &a5.finish()));
    hexs(&encode(Tag(0x6F), &fci)) + "9000"
}

/// A C-3 GPO answer with an ARQC (online: no ODA needed).
fn arqc_gpo() -> String {
    let mut t = TlvBuilder::new();
    t.push(Tag(0x82), &[0x00, 0x80]);
    t.push(Tag(0x9F36), &[0x00, 0x21]);
    t.push(Tag(0x9F27), &[0x80]);
    t.push(Tag(0x9F26), &[0xAB; 8]);
    t.push(Tag(0x9F10), &[0x06, 0x01, 0x12, 0x03, 0x20, 0x00, 0x00]);
    t.push(
        Tag(0x57),
        &hex::decode("4761739001010010D30122010000000000000F").expect("hex"),
    );
    t.push(Tag(0x9F6C), &[0x00, 0x00]);
    hexs(&encode(Tag(0x77), &t.finish())) + "9000"
}

#[test]
fn select_next_after_gpo_6985_moves_to_the_next_candidate() {
    let ppse_hex = hexs(&ppse(&[
        ("A0000000031010", Some(3), Some(1)),
        ("A000000003101001", Some(3), Some(2)),
    ])) + "9000";
    let mut card = ScriptedCard::from_pairs(
        "3B00",
        &[
            (SELECT_PPSE, &ppse_hex),
            (
                "00A4040007A000000003101000",
                &adf_fci("A0000000031010", Some(PDOL)),
            ),
            ("80A8000010830E*", "6985"),
            (
                "00A4040008A00000000310100100",
                &adf_fci("A000000003101001", Some(PDOL)),
            ),
            // PDOL data: TTQ 3600C000 | amount 000000001000 | UN 11223344.
            ("80A8000010830E3600C0000000000010001122334400", &arqc_gpo()),
        ],
    )
    .expect("script");
    let (r, ui) = run(&mut card, 1000);
    assert_eq!(r.outcome.kind, OutcomeKind::OnlineRequest, "{r:?}");
    assert_eq!(r.aid.as_deref(), Some("A000000003101001"));
    assert_eq!(card.remaining(), 0);
    // Data record carries the TTQ as sent and the ARQC.
    let rec = &r.data_record;
    assert!(hexs(rec).contains("9F66043600C000"), "{}", hexs(rec));
    assert!(hexs(rec).contains("9F2608ABABABABABABABAB"));
    let codes: Vec<u8> = ui.requests.iter().map(|u| u.message_code).collect();
    assert_eq!(codes, vec![0x15, 0x16, 0x17]);
    assert_eq!(r.pan_masked.as_deref(), Some("476173******0010"));
}

#[test]
fn ppse_not_found_ends_the_application_with_insert_swipe_or_try_another_card() {
    let mut card = ScriptedCard::from_pairs("3B00", &[(SELECT_PPSE, "6A82")]).expect("script");
    let (r, ui) = run(&mut card, 1000);
    assert_eq!(r.outcome.kind, OutcomeKind::EndApplication);
    assert_eq!(
        ui.requests.last().map(|u| u.message),
        Some(MessageId::InsertSwipeOrTryAnotherCard)
    );
    assert!(r.end_reason.as_deref().unwrap_or("").contains("6A82"));
}

#[test]
fn gpo_status_words_map_to_book_a_outcomes() {
    let ppse_hex = hexs(&ppse(&[("A0000000031010", Some(3), Some(1))])) + "9000";
    let fci = adf_fci("A0000000031010", Some(PDOL));
    // 6984 → Try Another Interface.
    let mut card = ScriptedCard::from_pairs(
        "3B00",
        &[
            (SELECT_PPSE, &ppse_hex),
            ("00A40400*", &fci),
            ("80A8*", "6984"),
        ],
    )
    .expect("script");
    let (r, _) = run(&mut card, 1000);
    assert_eq!(r.outcome.kind, OutcomeKind::TryAnotherInterface);
    assert_eq!(r.outcome.encode()[0], 0x60);
    assert_eq!(
        r.outcome.encode()[5],
        0x10,
        "alternate interface: contact chip"
    );
    // 6986 → see phone; with a scripted card that keeps answering 6986, the restarts run out
    // and the Try Again outcome (Start B) is returned.
    let mut pairs = Vec::new();
    for _ in 0..3 {
        pairs.push((SELECT_PPSE, ppse_hex.as_str()));
        pairs.push(("00A40400*", fci.as_str()));
        pairs.push(("80A8*", "6986"));
    }
    let mut card = ScriptedCard::from_pairs("3B00", &pairs).expect("script");
    let (r, ui) = run(&mut card, 1000);
    assert_eq!(r.outcome.kind, OutcomeKind::TryAgain);
    assert_eq!(r.outcome.start, Some(Start::B));
    assert_eq!(r.restarts, 2);
    assert_eq!(r.outcome.encode()[1], 0x10, "Start B");
    let see_phone = ui
        .requests
        .iter()
        .filter(|u| u.message_code == 0x20)
        .count();
    assert_eq!(see_phone, 3);
    // Other SW → End Application with the SW in the error indication (DF8115).
    let mut card = ScriptedCard::from_pairs(
        "3B00",
        &[
            (SELECT_PPSE, &ppse_hex),
            ("00A40400*", &fci),
            ("80A8*", "6A80"),
        ],
    )
    .expect("script");
    let (r, _) = run(&mut card, 1000);
    assert_eq!(r.outcome.kind, OutcomeKind::EndApplication);
    assert!(hexs(&r.discretionary_data).contains("DF8115060003006A80"));
}

/// Two cards for the first `collisions` polls, then the scripted card.
struct Crowded {
    card: ScriptedCard,
    collisions: u8,
    field_offs: Vec<u32>,
}
impl CardTransport for Crowded {
    fn atr(&self) -> &[u8] {
        self.card.atr()
    }
    fn exchange(&mut self, c: &Apdu) -> Result<Response, TransportError> {
        self.card.exchange(c)
    }
}
impl ContactlessTransport for Crowded {
    fn activate(&mut self) -> Activation {
        if self.collisions > 0 {
            self.collisions -= 1;
            Activation::Collision
        } else {
            Activation::Card
        }
    }
    fn field_off(&mut self, ms: u32) {
        self.field_offs.push(ms);
    }
}

#[test]
fn collision_shows_present_one_card_only_and_polls_again() {
    let card = ScriptedCard::from_pairs("3B00", &[(SELECT_PPSE, "6A82")]).expect("script");
    let mut t = Crowded {
        card,
        collisions: 2,
        field_offs: Vec::new(),
    };
    let (_, ui) = run(&mut t, 1000);
    let codes: Vec<u8> = ui.requests.iter().map(|u| u.message_code).collect();
    assert_eq!(codes, vec![0x15, 0x19, 0x19, 0x16, 0x1C]);
    let card = ScriptedCard::from_pairs("3B00", &[]).expect("script");
    let mut t = Crowded {
        card,
        collisions: 3,
        field_offs: Vec::new(),
    };
    let (r, _) = run(&mut t, 1000);
    assert_eq!(r.outcome.kind, OutcomeKind::EndApplication);
}

#[test]
fn card_removed_mid_tap_restarts_and_field_off_is_requested() {
    let ppse_hex = hexs(&ppse(&[("A0000000031010", Some(3), Some(1))])) + "9000";
    let fci = adf_fci("A0000000031010", Some(PDOL));
    let card = ScriptedCard::from_pairs(
        "3B00",
        &[
            (SELECT_PPSE, &ppse_hex),
            ("00A40400*", &fci),
            ("80A8*", "REMOVED"),
            (SELECT_PPSE, &ppse_hex),
            ("00A40400*", &fci),
            ("80A8*", &arqc_gpo()),
        ],
    )
    .expect("script");
    let mut t = Crowded {
        card,
        collisions: 0,
        field_offs: Vec::new(),
    };
    let (r, ui) = run(&mut t, 1000);
    assert_eq!(r.outcome.kind, OutcomeKind::OnlineRequest);
    assert_eq!(r.restarts, 1);
    assert_eq!(t.field_offs, vec![0]);
    assert!(
        ui.requests
            .iter()
            .any(|u| u.message == MessageId::PresentCardAgain)
    );
}

#[test]
fn outcome_parameter_set_encoding() {
    let mut o = Outcome::new(OutcomeKind::OnlineRequest);
    o.cvm = CvmKind::OnlinePin;
    o.data_record_present = true;
    o.online_response_data = OnlineResponseData::EmvData;
    o.field_off_ms = Some(1300);
    o = o.ui(UiRequest::new(
        MessageId::CardReadOk,
        Status::CardReadSuccessfully,
    ));
    assert_eq!(o.encode(), [0x30, 0xF0, 0x10, 0x20, 0xA0, 0xF0, 0x0D, 0x00]);
    let o = Outcome::new(OutcomeKind::EndApplication).restart(Start::B, None);
    assert_eq!(o.encode(), [0x40, 0x10, 0xF0, 0xF0, 0x00, 0xF0, 0xFF, 0x00]);
    assert_eq!(
        OutcomeKind::TryAnotherInterface.book_a_name(),
        "TRY ANOTHER INTERFACE"
    );
}

#[test]
fn ui_message_codes_and_status_lights_follow_book_a() {
    let table = [
        (MessageId::Approved, 0x03),
        (MessageId::NotAuthorised, 0x07),
        (MessageId::CardReadOk, 0x17),
        (MessageId::PresentOneCardOnly, 0x19),
        (MessageId::AuthorisingPleaseWait, 0x1B),
        (MessageId::SeePhone, 0x20),
        (MessageId::PresentCardAgain, 0x21),
    ];
    for (m, code) in table {
        assert_eq!(m.code(), code, "{m:?}");
    }
    assert_eq!(Status::Idle.lights(), [true, false, false, false]);
    assert_eq!(Status::Processing.lights(), [true, true, false, false]);
    assert_eq!(Status::CardReadSuccessfully.lights(), [true; 4]);
    assert_eq!(Status::ProcessingError.lights(), [false; 4]);
}

#[test]
fn contactless_config_json_round_trip_and_validation() {
    let json = r#"{"combinations":[{"aid":"A0000000031010","kernel":"C-3","ttq":"3600C000","floor_limit":5000}]}"#;
    let c = ContactlessConfig::from_json(json).expect("config");
    assert_eq!(c.combinations[0].kernel, KernelId::C3);
    assert_eq!(c.max_restarts, 3);
    assert!(c.combinations[0].kernel2.cda_supported());
    let bad = r#"{"combinations":[{"aid":"A0000000031010","kernel":"C-3","ttq":"3600"}]}"#;
    assert!(ContactlessConfig::from_json(bad).is_err());
    let bad = r#"{"combinations":[{"aid":"A0","kernel":"C-3"}]}"#;
    assert!(ContactlessConfig::from_json(bad).is_err());
    let bad = r#"{"combinations":[{"aid":"A0000000031010","kernel":"C-9"}]}"#;
    assert!(ContactlessConfig::from_json(bad).is_err());
    let demo = ContactlessConfig::for_terminal(&TerminalConfig::demo().expect("demo"));
    let kernels: Vec<KernelId> = demo.combinations.iter().map(|c| c.kernel).collect();
    assert_eq!(
        kernels,
        vec![KernelId::C3, KernelId::C2, KernelId::C7, KernelId::C7]
    );
}

#[test]
fn select_next_with_no_candidate_left_ends_the_application() {
    let ppse_hex = hexs(&ppse(&[("A0000000031010", Some(3), Some(1))])) + "9000";
    let mut card = ScriptedCard::from_pairs(
        "3B00",
        &[
            (SELECT_PPSE, &ppse_hex),
            ("00A40400*", &adf_fci("A0000000031010", Some(PDOL))),
            ("80A8*", "6985"),
        ],
    )
    .expect("script");
    let (r, ui) = run(&mut card, 1000);
    assert_eq!(r.outcome.kind, OutcomeKind::EndApplication);
    assert!(
        r.end_reason
            .as_deref()
            .unwrap_or("")
            .contains("select the next application")
    );
    assert_eq!(ui.requests.last().map(|u| u.message_code), Some(0x1C));
}

#[test]
fn outcome_ui_request_carries_the_card_language() {
    let ppse_hex = hexs(&ppse(&[("A0000000031010", Some(3), Some(1))])) + "9000";
    // FCI with 5F2D "zhen": Chinese first, which the demo terminal supports.
    let mut a5 = TlvBuilder::new();
    a5.push(Tag(0x9F38), &hex::decode(PDOL).expect("hex"));
    a5.push(Tag(0x5F2D), b"zhen");
    let mut fci = encode(Tag(0x84), &hex::decode("A0000000031010").expect("hex"));
    fci.extend_from_slice(&encode(Tag(0xA5), &a5.finish()));
    let fci = hexs(&encode(Tag(0x6F), &fci)) + "9000";
    let mut card = ScriptedCard::from_pairs(
        "3B00",
        &[
            (SELECT_PPSE, &ppse_hex),
            ("00A40400*", &fci),
            ("80A8*", &arqc_gpo()),
        ],
    )
    .expect("script");
    let (r, ui) = run(&mut card, 1000);
    assert_eq!(r.language.as_deref(), Some("zh"));
    assert_eq!(
        ui.requests
            .last()
            .and_then(|u| u.language.clone())
            .as_deref(),
        Some("zh")
    );
}

fn torn(pan: u8, psn: Option<u8>, at: u64) -> TornRecord {
    TornRecord {
        pan: vec![0x54, 0x13, pan],
        psn: psn.map(|p| vec![p]),
        drdol_data: vec![1, 2, 3, 4],
        pdol_data: Vec::new(),
        cdol1_data: Vec::new(),
        tvr: [0; 5],
        cda: true,
        logged_at_us: at,
    }
}

#[test]
fn torn_log_keeps_the_newest_records_matches_pan_and_psn_and_ages_out() {
    let mut log = TornLog::default();
    log.push(torn(1, Some(1), 0), 2);
    log.push(torn(2, Some(1), 10), 2);
    log.push(torn(3, None, 20), 2);
    assert_eq!(log.len(), 2, "DF811D: at most 2 records");
    assert!(
        log.take(&[0x54, 0x13, 1], Some(&[1])).is_none(),
        "oldest dropped"
    );
    assert!(
        log.take(&[0x54, 0x13, 2], Some(&[2])).is_none(),
        "PSN must match"
    );
    assert!(log.take(&[0x54, 0x13, 2], Some(&[1])).is_some());
    assert_eq!(log.len(), 1);
    log.expire(1_000_020, 1_000_000);
    assert_eq!(log.len(), 1, "exactly at the lifetime: kept");
    log.expire(1_000_021, 1_000_000);
    assert!(log.is_empty());
    // Debug shows a masked PAN only.
    let d = format!("{:?}", torn(9, None, 0));
    assert!(!d.contains("drdol"), "{d}");
}

#[test]
fn scripted_clock_repeats_its_last_reading() {
    let mut c = ScriptedClock::new(vec![5, 7]);
    assert_eq!([c.now_micros(), c.now_micros(), c.now_micros()], [5, 7, 7]);
    assert_eq!(ScriptedClock::default().now_micros(), 0);
}

#[test]
fn extended_selection_appends_9f29_to_the_final_select() {
    let mut e = TlvBuilder::new();
    e.push(Tag(0x4F), &hex::decode("A0000000031010").expect("hex"));
    e.push(Tag(0x9F2A), &[0x03]);
    e.push(Tag(0x9F29), &[0x01, 0x02]);
    let bf = encode(Tag(0xBF0C), &encode(Tag(0x61), &e.finish()));
    let mut fci = encode(Tag(0x84), b"2PAY.SYS.DDF01");
    fci.extend_from_slice(&encode(Tag(0xA5), &bf));
    let fci = encode(Tag(0x6F), &fci);
    let mut c = comb("A0000000031010", KernelId::C3);
    let pre = preprocess(std::slice::from_ref(&c), 1000);
    let list = candidates(&fci, std::slice::from_ref(&c), &pre);
    assert_eq!(hexs(&list[0].select_name()), "A0000000031010");
    c.extended_selection = true;
    let list = candidates(&fci, std::slice::from_ref(&c), &pre);
    assert_eq!(hexs(&list[0].select_name()), "A00000000310100102");
}
