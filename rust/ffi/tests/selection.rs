//! Application selection over scripted cards (EMV Book B §3.3, Book 1 §9.3.1 and §12.4), through
//! the same `ApduSession` object Kotlin uses, with a Rust `CardReader`.

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use smartpos_ffi::apdu::hex_upper;
use smartpos_ffi::selection::{SelectionFlow, Step};
use smartpos_ffi::{
    ApduSession, CancellationHandle, CardReader, SelectionEvent, SelectionListener, SmartPosError,
    run_selection,
};
use smartpos_tlv::{Tag, TlvBuilder};

const SELECT_PPSE: &str = "00A404000E325041592E5359532E444446303100";
const SELECT_VISA: &str = "00A4040007A000000003101000";
const SELECT_MC: &str = "00A4040007A000000004101000";

fn hex(text: &str) -> Vec<u8> {
    smartpos_ffi::apdu::parse_hex("test", text).unwrap()
}

/// Visa card with a PDOL. Source: a public Android HCE replay sample (ApduService.java,
/// SELECT_PAY_RESPONSE / SELECT_VISA_RESPONSE).
const VISA_PPSE: &str =
    "6F23840E325041592E5359532E4444463031A511BF0C0E610C4F07A00000000310108701019000";
const VISA_FCI: &str = "6F458407A0000000031010A53A9F381B9F66049F02069F03069F1A0295055F2A029A039C019F37049F4E14BF0C149F5A0531082608269F4D021405BF6304DF2001805F2D02656E9000";
const VISA_PDOL: &str = "9F66049F02069F03069F1A0295055F2A029A039C019F37049F4E14";

/// Debit MasterCard. Source: AndroidCrypto android_hce_emulate_a_creditcard,
/// MastercardSampleCardAab.java (SELECT_PPSE_RESPONSE, SELECT_AID_RESPONSE, 9000 appended).
const MC_PPSE: &str = "6F3C840E325041592E5359532E4444463031A52ABF0C2761254F07A000000004101050104465626974204D6173746572436172648701019F0A04000101019000";
const MC_FCI: &str = "6F528407A0000000041010A54750104465626974204D6173746572436172649F12104465626974204D6173746572436172648701019F1101015F2D046465656EBF0C119F0A04000101019F6E07028000003030009000";

/// PPSE listing Visa (priority 2, label "VC") then Mastercard (priority 1, label "P2M").
const TWO_APP_PPSE: &str = "6F3A840E325041592E5359532E4444463031A528BF0C2561104F07A0000000031010500256438701026111\
4F07A0000000041010500350324D8701019000";

/// A PPSE FCI (EMV Book B §3.3.2) with one `61` entry per slice of (tag, hex value), plus 9000.
fn ppse_with_entries(entries: &[&[(u32, &str)]]) -> String {
    let mut b = TlvBuilder::new();
    b.push_constructed(Tag::FCI_TEMPLATE, |fci| {
        fci.push(Tag::DF_NAME, b"2PAY.SYS.DDF01");
        fci.push_constructed(Tag::FCI_PROPRIETARY_TEMPLATE, |a5| {
            a5.push_constructed(Tag::FCI_ISSUER_DISCRETIONARY_DATA, |dir| {
                for entry in entries {
                    dir.push_constructed(Tag::APPLICATION_TEMPLATE, |app| {
                        for (tag, value) in entry.iter() {
                            app.push(Tag(*tag), &hex(value));
                        }
                    });
                }
            });
        });
    });
    hex_upper(&b.finish()) + "9000"
}

/// A card answering from a table; unknown commands get 6D00. Records what it was sent.
struct ScriptedCard {
    script: HashMap<String, String>,
    sent: Arc<Mutex<Vec<String>>>,
    on_exchange: Box<dyn Fn(usize) + Send + Sync>,
}

impl ScriptedCard {
    fn new(pairs: &[(&str, &str)]) -> (Self, Arc<Mutex<Vec<String>>>) {
        let sent = Arc::new(Mutex::new(Vec::new()));
        let card = ScriptedCard {
            script: pairs
                .iter()
                .map(|(c, r)| (c.to_string(), r.to_string()))
                .collect(),
            sent: sent.clone(),
            on_exchange: Box::new(|_| {}),
        };
        (card, sent)
    }
}

impl CardReader for ScriptedCard {
    fn transceive(&self, apdu: Vec<u8>) -> Result<Vec<u8>, SmartPosError> {
        let command = hex_upper(&apdu);
        let index = {
            let mut sent = self.sent.lock().unwrap();
            sent.push(command.clone());
            sent.len() - 1
        };
        (self.on_exchange)(index);
        Ok(hex(self
            .script
            .get(&command)
            .map_or("6D00", String::as_str)))
    }
}

fn select(
    pairs: &[(&str, &str)],
) -> (
    Result<smartpos_ffi::ApplicationSelection, SmartPosError>,
    Vec<String>,
) {
    let (card, sent) = ScriptedCard::new(pairs);
    let session = ApduSession::new(Box::new(card));
    let result = session.select_application();
    let sent = sent.lock().unwrap().clone();
    (result, sent)
}

#[test]
fn debit_mastercard_capture_selects_its_only_application() {
    let (result, sent) = select(&[(SELECT_PPSE, MC_PPSE), (SELECT_MC, MC_FCI)]);
    let selection = result.unwrap();
    assert_eq!(hex_upper(&selection.aid), "A0000000041010");
    assert_eq!(selection.label.as_deref(), Some("Debit MasterCard"));
    assert_eq!(selection.pdol, None);
    assert_eq!(selection.exchanges, 2);
    assert_eq!(hex_upper(&selection.fci), &MC_FCI[..MC_FCI.len() - 4]);
    assert_eq!(sent, vec![SELECT_PPSE, SELECT_MC]);
    assert_eq!(selection.candidates[0].priority, Some(1));
}

#[test]
fn visa_capture_returns_the_pdol() {
    let (result, _) = select(&[(SELECT_PPSE, VISA_PPSE), (SELECT_VISA, VISA_FCI)]);
    let selection = result.unwrap();
    assert_eq!(hex_upper(&selection.aid), "A0000000031010");
    assert_eq!(
        selection.pdol.as_deref().map(hex_upper).as_deref(),
        Some(VISA_PDOL)
    );
    // No 50 in the Visa FCI and none in its PPSE entry.
    assert_eq!(selection.label, None);
}

#[test]
fn candidates_are_tried_by_priority_then_fall_back() {
    // EMV Book 1 §12.4: priority 1 (Mastercard) first although listed second; its refusal
    // (6A82) removes it and the Visa entry is selected.
    let (result, sent) = select(&[
        (SELECT_PPSE, TWO_APP_PPSE),
        (SELECT_MC, "6A82"),
        (SELECT_VISA, VISA_FCI),
    ]);
    let selection = result.unwrap();
    assert_eq!(hex_upper(&selection.aid), "A0000000031010");
    assert_eq!(sent, vec![SELECT_PPSE, SELECT_MC, SELECT_VISA]);
    let labels: Vec<_> = selection
        .candidates
        .iter()
        .map(|c| c.label.clone())
        .collect();
    assert_eq!(
        labels,
        vec![Some("P2M".to_string()), Some("VC".to_string())]
    );
    // The FCI had no label: the PPSE entry's label is used.
    assert_eq!(selection.label.as_deref(), Some("VC"));
}

#[test]
fn entries_without_priority_come_last_in_card_order() {
    // 61 { 4F A0000000031010 } 61 { 4F A0000000041010 87 0F }: the prioritised one goes first
    // (87 b4..b1 = 15, the lowest priority, still before no priority).
    let ppse = ppse_with_entries(&[
        &[(0x4F, "A0000000031010")],
        &[(0x4F, "A0000000041010"), (0x87, "0F")],
    ]);
    let (result, sent) = select(&[
        (SELECT_PPSE, &ppse),
        (SELECT_MC, "6A82"),
        (SELECT_VISA, VISA_FCI),
    ]);
    assert_eq!(hex_upper(&result.unwrap().aid), "A0000000031010");
    assert_eq!(sent[1], SELECT_MC);
}

#[test]
fn all_candidates_refused_is_no_application_with_reasons() {
    let (result, _) = select(&[
        (SELECT_PPSE, TWO_APP_PPSE),
        (SELECT_MC, "6A82"),
        (SELECT_VISA, "6283"),
    ]);
    match result {
        Err(SmartPosError::NoApplication { reason }) => {
            assert!(reason.contains("A0000000041010: SW 6A82"), "{reason}");
            assert!(reason.contains("A0000000031010: SW 6283"), "{reason}");
        }
        other => panic!("expected NoApplication, got {other:?}"),
    }
}

#[test]
fn fci_naming_another_df_rejects_the_candidate() {
    // SELECT Visa answered with the Mastercard FCI (84 = A0000000041010).
    let (result, _) = select(&[(SELECT_PPSE, VISA_PPSE), (SELECT_VISA, MC_FCI)]);
    match result {
        Err(SmartPosError::NoApplication { reason }) => {
            assert!(reason.contains("FCI names A0000000041010"), "{reason}")
        }
        other => panic!("expected NoApplication, got {other:?}"),
    }
}

#[test]
fn get_response_chain_is_joined() {
    // EMV Book 1 §9.3.1.3: 61xx → GET RESPONSE Le=xx; the data of the chain is concatenated.
    let (result, sent) = select(&[
        (SELECT_PPSE, "6125"),
        ("00C0000025", VISA_PPSE),
        (SELECT_VISA, VISA_FCI),
    ]);
    assert_eq!(result.unwrap().exchanges, 3);
    assert_eq!(sent[1], "00C0000025");
}

#[test]
fn wrong_le_is_resent_with_the_cards_le() {
    // EMV Book 1 §9.3.1.4: 6Cxx → the same command with Le = xx.
    let (result, sent) = select(&[
        (SELECT_PPSE, VISA_PPSE),
        (SELECT_VISA, "6C47"),
        ("00A4040007A000000003101047", VISA_FCI),
    ]);
    assert_eq!(hex_upper(&result.unwrap().aid), "A0000000031010");
    assert_eq!(sent.len(), 3);
}

#[test]
fn endless_chaining_is_a_protocol_error() {
    let (result, sent) = select(&[(SELECT_PPSE, "6101"), ("00C0000001", "6101")]);
    assert!(
        matches!(result, Err(SmartPosError::Protocol { .. })),
        "{result:?}"
    );
    assert_eq!(sent.len(), smartpos_ffi::selection::MAX_CHAINED + 1);
}

#[test]
fn ppse_refusal_is_card_status() {
    let (result, _) = select(&[(SELECT_PPSE, "6A82")]);
    assert_eq!(
        result.unwrap_err(),
        SmartPosError::CardStatus {
            command: "SELECT PPSE".into(),
            sw: 0x6A82
        }
    );
}

#[test]
fn malformed_and_missing_fci() {
    let (result, _) = select(&[(SELECT_PPSE, "6F10840E9000")]);
    assert!(
        matches!(result, Err(SmartPosError::MalformedTlv { .. })),
        "{result:?}"
    );
    let (result, _) = select(&[(SELECT_PPSE, "9000")]);
    assert!(
        matches!(result, Err(SmartPosError::Protocol { .. })),
        "{result:?}"
    );
    let (result, _) = select(&[(SELECT_PPSE, "6F10840E325041592E5359532E44444630319000")]);
    assert!(
        matches!(result, Err(SmartPosError::NoApplication { .. })),
        "{result:?}"
    );
}

#[test]
fn entries_with_bad_aids_are_ignored() {
    // 61 { 4F 0102 }: a 2-byte AID is not an AID (ISO/IEC 7816-5: RID is 5 bytes);
    // 61 { 50 "NOAID" }: no ADF name at all.
    let ppse = ppse_with_entries(&[&[(0x4F, "0102")], &[(0x50, "4E4F414944")]]);
    let (result, sent) = select(&[(SELECT_PPSE, &ppse)]);
    assert!(
        matches!(result, Err(SmartPosError::NoApplication { .. })),
        "{result:?}"
    );
    assert_eq!(sent.len(), 1);
}

#[test]
fn transport_error_stops_the_flow() {
    let mut calls = 0;
    let result = run_selection(
        |_| {
            calls += 1;
            Err(SmartPosError::Transport {
                reason: "card removed".into(),
            })
        },
        || false,
    );
    assert_eq!(
        result.unwrap_err(),
        SmartPosError::Transport {
            reason: "card removed".into()
        }
    );
    assert_eq!(calls, 1);
}

#[test]
fn step_machine_refuses_responses_after_the_end() {
    let (mut flow, first) = SelectionFlow::start();
    assert_eq!(hex_upper(&first), SELECT_PPSE);
    let Step::Transmit(next) = flow.on_response(&hex(VISA_PPSE)).unwrap() else {
        panic!("expected SELECT AID");
    };
    assert_eq!(hex_upper(&next), SELECT_VISA);
    assert!(matches!(
        flow.on_response(&hex(VISA_FCI)),
        Ok(Step::Selected(_))
    ));
    assert!(matches!(
        flow.on_response(&hex("9000")),
        Err(SmartPosError::Protocol { .. })
    ));
}

#[test]
fn transmit_validates_both_sides() {
    let (card, _) = ScriptedCard::new(&[(SELECT_PPSE, VISA_PPSE), ("80CA9F1700", "90")]);
    let session = ApduSession::new(Box::new(card));
    let response = session.transmit(hex(SELECT_PPSE)).unwrap();
    assert_eq!(response.sw, 0x9000);
    assert_eq!(response.data.len(), VISA_PPSE.len() / 2 - 2);
    assert!(matches!(
        session.transmit(hex("00A4")),
        Err(SmartPosError::InvalidInput { .. })
    ));
    assert!(matches!(
        session.transmit(hex("80CA9F1700")),
        Err(SmartPosError::Protocol { .. })
    ));
    assert_eq!(session.exchange_count(), 2);
}

/// Poll a future to completion on this thread, counting how often it returned Pending.
fn block_on<F: Future>(future: F) -> (F::Output, usize) {
    struct Flag;
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {}
    }
    let waker = Waker::from(Arc::new(Flag));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    let mut pending = 0;
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(out) => return (out, pending),
            Poll::Pending => pending += 1,
        }
    }
}

#[test]
fn async_selection_yields_between_apdus() {
    let (card, _) = ScriptedCard::new(&[(SELECT_PPSE, VISA_PPSE), (SELECT_VISA, VISA_FCI)]);
    let session = ApduSession::new(Box::new(card));
    let (result, pending) = block_on(session.select_application_async(CancellationHandle::new()));
    assert_eq!(hex_upper(&result.unwrap().aid), "A0000000031010");
    // One yield after SELECT PPSE: the executor got control between the two APDUs.
    assert_eq!(pending, 1);
}

#[test]
fn async_selection_stops_at_the_next_step_once_cancelled() {
    let handle = CancellationHandle::new();
    let (mut card, sent) = ScriptedCard::new(&[(SELECT_PPSE, VISA_PPSE), (SELECT_VISA, VISA_FCI)]);
    let in_card = handle.clone();
    card.on_exchange = Box::new(move |index| {
        if index == 0 {
            in_card.cancel();
        }
    });
    let session = ApduSession::new(Box::new(card));
    let (result, _) = block_on(session.select_application_async(handle));
    assert_eq!(
        result.unwrap_err(),
        SmartPosError::Cancelled { exchanges: 1 }
    );
    assert_eq!(sent.lock().unwrap().len(), 1);
}

#[test]
fn busy_session_refuses_a_second_flow() {
    let (card, _) = ScriptedCard::new(&[(SELECT_PPSE, VISA_PPSE), (SELECT_VISA, VISA_FCI)]);
    let session = ApduSession::new(Box::new(card));
    let handle = CancellationHandle::new();
    let waker = Waker::from(Arc::new(Noop));
    let mut cx = Context::from_waker(&waker);
    let mut first = Box::pin(session.select_application_async(handle));
    // First poll: SELECT PPSE done, the future is parked between APDUs and holds the session.
    assert!(first.as_mut().poll(&mut cx).is_pending());
    assert!(matches!(
        session.select_application(),
        Err(SmartPosError::InvalidInput { .. })
    ));
    drop(first);
    // Dropping the future (what a cancelled Kotlin coroutine does) frees the session.
    assert!(session.select_application().is_ok());
}

struct Noop;
impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

#[test]
fn unexpected_callback_error_becomes_transport() {
    let error: SmartPosError =
        uniffi::UnexpectedUniFFICallbackError::new("java.io.IOException: Tag was lost.").into();
    assert_eq!(
        error,
        SmartPosError::Transport {
            reason: "java.io.IOException: Tag was lost.".into()
        }
    );
}

struct Recorder(Arc<Mutex<Vec<SelectionEvent>>>, bool);

impl SelectionListener for Recorder {
    fn on_selection_event(&self, event: SelectionEvent) -> Result<(), SmartPosError> {
        self.0.lock().unwrap().push(event);
        if self.1 {
            Err(SmartPosError::Transport {
                reason: "UI gone".into(),
            })
        } else {
            Ok(())
        }
    }
}

#[test]
fn listener_sees_candidates_rejections_and_the_selection() {
    let (card, _) = ScriptedCard::new(&[
        (SELECT_PPSE, TWO_APP_PPSE),
        (SELECT_MC, "6A82"),
        (SELECT_VISA, VISA_FCI),
    ]);
    let events = Arc::new(Mutex::new(Vec::new()));
    let session =
        ApduSession::with_listener(Box::new(card), Box::new(Recorder(events.clone(), false)));
    session.select_application().unwrap();
    let events = events.lock().unwrap().clone();
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(
        matches!(&events[0], SelectionEvent::CandidatesFound { candidates } if candidates.len() == 2)
    );
    assert_eq!(
        events[1],
        SelectionEvent::CandidateRejected {
            aid: hex("A0000000041010"),
            reason: "SW 6A82".into()
        }
    );
    assert_eq!(
        events[2],
        SelectionEvent::ApplicationSelected {
            aid: hex("A0000000031010"),
            label: Some("VC".into())
        }
    );
}

#[test]
fn failing_listener_does_not_stop_the_flow_and_sees_rejections_before_an_error() {
    let (card, _) = ScriptedCard::new(&[(SELECT_PPSE, VISA_PPSE), (SELECT_VISA, "6A82")]);
    let events = Arc::new(Mutex::new(Vec::new()));
    let session =
        ApduSession::with_listener(Box::new(card), Box::new(Recorder(events.clone(), true)));
    assert!(matches!(
        session.select_application(),
        Err(SmartPosError::NoApplication { .. })
    ));
    // CandidatesFound, then the rejection, even though the listener failed on every event.
    assert_eq!(events.lock().unwrap().len(), 2);
}
