//! The sample card script shipped for `smartpos emv run --card` (config/sample_card_visa.json):
//! a Visa card without ODA, offline plaintext PIN 1234, going online. It was recorded from the
//! virtual card with amount 1000, UN 11223344, date 261121, time 101500 and the demo terminal
//! configuration; set EMV_WRITE_SAMPLE=1 to re-record it.
mod common;
use common::*;
use smartpos_emv::*;

const SAMPLE: &str = include_str!("../config/sample_card_visa.json");

fn profile() -> Profile {
    let mut p = Profile {
        oda: CardOda::None,
        ..Profile::default()
    };
    for (t, v) in p.record1.iter_mut() {
        if *t == 0x8E {
            *v = hex::decode("00000000000000000103").unwrap();
        }
    }
    p
}

fn run<T: CardTransport>(card: &mut T) -> TransactionResult {
    let kernel = kernel_with(config());
    let mut pin = TestPinPad {
        offline: vec![Some("1234")].into(),
        ..Default::default()
    };
    let mut svc = TestServices::default();
    let host = HostResponse {
        approved: true,
        arc: "00".into(),
        issuer_authentication_data: ARPC.to_vec(),
        scripts: Vec::new(),
    };
    match start(&kernel, card, params(1000), &mut pin, &mut svc) {
        Step::Done(r) => *r,
        Step::Online(req) => req.complete(card, &host),
    }
}

#[test]
fn sample_script_replays() {
    if std::env::var_os("EMV_WRITE_SAMPLE").is_some() {
        let mut rec = Recorder::new(VirtualCard::new(profile()));
        let r = run(&mut rec);
        assert_eq!(r.decision, Decision::Approved);
        let json = serde_json::to_string_pretty(&rec.script).unwrap();
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/config/sample_card_visa.json"),
            json + "\n",
        )
        .unwrap();
        return;
    }
    let mut card = ScriptedCard::from_json(SAMPLE).unwrap();
    let r = run(&mut card);
    assert_eq!(r.decision, Decision::Approved, "{:?}", r.end_reason);
    assert_eq!(card.remaining(), 0);
    assert_eq!(r.oda, OdaMethod::None);
    assert_eq!(r.cvm_results, "010302");
    assert_eq!(r.tvr.hex(), "8000008000");
    assert_eq!(r.tsi.hex(), "7800");
    // The VERIFY command is masked in the trace.
    let verify = r
        .trace
        .entries
        .iter()
        .find(|e| e.command.starts_with("00200080"))
        .unwrap();
    assert_eq!(verify.command, "0020008008****************");
}
