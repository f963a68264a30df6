//! No panic on outside input (architecture principle 4): whatever a card answers at any step,
//! the kernel returns a Step. Also: the suspended transaction can cross threads (async hosts).
mod common;
use common::*;
use proptest::prelude::*;
use smartpos_emv::*;

fn assert_send<T: Send>() {}

#[test]
fn online_request_is_send() {
    assert_send::<OnlineRequest>();
    assert_send::<ContactKernel>();
}

/// Record a real session, then replace the response at `index` with arbitrary bytes (+9000).
fn mutated_script(index: usize, garbage: &[u8], sw: u16) -> CardScript {
    let kernel = kernel_with(config());
    let mut rec = Recorder::new(VirtualCard::new(Profile {
        oda: CardOda::Cda,
        ..Profile::default()
    }));
    let mut pin = TestPinPad {
        online: Some(vec![0xEE; 8]),
        ..Default::default()
    };
    let mut svc = TestServices::default();
    if let Step::Online(req) = start(&kernel, &mut rec, params(1000), &mut pin, &mut svc) {
        let _ = req.complete(&mut rec, &host_approve());
    }
    let mut script = rec.script;
    let n = script.exchanges.len();
    if let Some(ex) = script.exchanges.get_mut(index % n) {
        let mut r = garbage.to_vec();
        r.extend_from_slice(&sw.to_be_bytes());
        ex.response = hex::encode_upper(r);
        // Every later command may differ now: accept anything.
    }
    for ex in script.exchanges.iter_mut().skip(index % n) {
        ex.command = "*".into();
    }
    script
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]
    #[test]
    fn garbage_responses_never_panic(index in 0usize..40, garbage in proptest::collection::vec(any::<u8>(), 0..300), sw in prop_oneof![Just(0x9000u16), any::<u16>()]) {
        let script = mutated_script(index, &garbage, sw);
        let mut card = ScriptedCard::new(&script).unwrap();
        let kernel = kernel_with(config());
        let mut pin = TestPinPad { online: Some(vec![0xEE; 8]), offline: vec![Some("1234")].into(), ..Default::default() };
        let mut svc = TestServices::default();
        let r = match start(&kernel, &mut card, params(1000), &mut pin, &mut svc) {
            Step::Done(r) => *r,
            Step::Online(req) => req.complete(&mut card, &host_approve()),
        };
        // Whatever happened, the trace never shows the PAN in clear.
        for e in &r.trace.entries {
            prop_assert!(!e.response.contains("4761739001010119"));
        }
    }

    #[test]
    fn track_parsers_never_panic(s in "\\PC{0,60}", b in proptest::collection::vec(any::<u8>(), 0..40)) {
        let _ = smartpos_emv::magstripe::Track2::parse(&s);
        let _ = smartpos_emv::magstripe::Track1::parse(&s);
        let _ = smartpos_emv::magstripe::Track2::from_track2_equivalent(&b);
        let _ = smartpos_emv::trace::mask_response_hex(&b);
        let _ = smartpos_emv::Apdu::decode(&b);
        let _ = smartpos_emv::gpo::parse_afl(&b);
        let _ = smartpos_emv::gpo::parse_gpo_response(&b);
        let _ = smartpos_emv::action::parse_ac_response(&b);
        let _ = smartpos_emv::selection::parse_adf_fci(&b);
    }
}
