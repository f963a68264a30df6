//! Records the scripted-card answers the contactless benchmark of smartpos-emv replays
//! (`cargo test -p smartpos-sim --test contactless_record -- --ignored --nocapture`), and
//! checks that a recorded tap replays to the same result through a ScriptedCard.

use smartpos_emv::contactless::*;
use smartpos_emv::{CaKeyStore, ScriptedCard, TerminalConfig, TransactionParams};
use smartpos_sim::contactless::pki::{TEST_CA_INDEX, TestPki};
use smartpos_sim::contactless::{Profile, Recorder, VirtualCard};
use std::sync::Arc;

fn record(
    profile: Profile,
) -> (
    serde_json::Value,
    TapResult,
    smartpos_emv::CardScript,
    ContactlessReader,
) {
    let scheme = profile.scheme;
    let pki = Arc::new(TestPki::generate(scheme.rid()).expect("pki"));
    let mut keys = CaKeyStore::new();
    pki.install(&mut keys).expect("install");
    let cfg = Arc::new(TerminalConfig::demo().expect("demo"));
    let reader = ContactlessReader::for_terminal(cfg, Arc::new(keys));
    let card = VirtualCard::new(profile, pki.clone()).expect("card");
    let mut rec = Recorder::new(card);
    let params =
        TransactionParams::new(1000, "261121", "101500", [0x11, 0x22, 0x33, 0x44]).expect("params");
    let mut clock = ScriptedClock::default();
    let mut torn = TornLog::default();
    let mut env = TapEnv {
        clock: &mut clock,
        torn_log: &mut torn,
    };
    let r = run_tap(&mut rec, &reader, &params, &mut env, &mut NoUi);
    let ca = pki.ca.public_key();
    let json = serde_json::json!({
        "rid": hex::encode_upper(scheme.rid()),
        "index": TEST_CA_INDEX,
        "modulus": hex::encode_upper(ca.modulus()),
        "exponent": hex::encode_upper(ca.exponent()),
        "script": rec.script,
    });
    (json, r, rec.script, reader)
}

#[test]
fn recorded_taps_replay_identically() {
    for p in [Profile::visa_card(), Profile::mastercard_card()] {
        let (_, live, script, reader) = record(p);
        assert_eq!(live.outcome.kind, OutcomeKind::Approved);
        let mut card = ScriptedCard::new(&script).expect("script");
        let params = TransactionParams::new(1000, "261121", "101500", [0x11, 0x22, 0x33, 0x44])
            .expect("params");
        let mut clock = ScriptedClock::default();
        let mut torn = TornLog::default();
        let mut env = TapEnv {
            clock: &mut clock,
            torn_log: &mut torn,
        };
        let replay = run_tap(&mut card, &reader, &params, &mut env, &mut NoUi);
        assert_eq!(replay.outcome, live.outcome);
        assert_eq!(replay.data_record, live.data_record);
        assert!(replay.oda_ok);
        assert_eq!(card.remaining(), 0);
    }
}

#[test]
#[ignore = "prints the benchmark scripts"]
fn print_benchmark_scripts() {
    let (fdda, _, _, _) = record(Profile::visa_card());
    let (cda, _, _, _) = record(Profile::mastercard_card());
    println!("FDDA_JSON {}", fdda);
    println!("CDA_JSON {}", cda);
}
