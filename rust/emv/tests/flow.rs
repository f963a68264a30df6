//! Whole-transaction tests on the virtual card (test PKI signed with smartpos-crypto).
mod common;
use common::*;
use smartpos_emv::*;

#[test]
fn happy_path_dda_online_approved() {
    let kernel = kernel_with(config());
    let mut card = VirtualCard::new(Profile::default());
    let mut pin = TestPinPad {
        online: Some(vec![0xEE; 8]),
        ..Default::default()
    };
    let mut svc = TestServices::default();
    let step = start(&kernel, &mut card, params(1000), &mut pin, &mut svc);
    let Step::Online(req) = step else {
        panic!("expected online request, got {step:?}")
    };
    assert_eq!(req.online_pin_block.as_deref(), Some(&[0xEE; 8][..]));
    let tvr = req.tvr();
    assert!(tvr.is_set(TvrBit::FloorLimitExceeded), "{tvr:?}");
    assert!(tvr.is_set(TvrBit::OnlinePinEntered), "{tvr:?}");
    let r = req.complete(&mut card, &host_approve());
    assert_eq!(r.decision, Decision::Approved, "{r:?}");
    assert_eq!(r.oda, OdaMethod::Dda);
    assert!(r.oda_ok, "{:?}", r.oda_failure);
    assert_eq!(r.tvr.hex(), "0000048000");
    assert_eq!(r.tsi.hex(), "F800");
    assert_eq!(r.cvm_results, "420300");
    assert_eq!(r.pan_masked.as_deref(), Some("476173******0119"));
}

/// Architecture principle 1: a transaction replays bit for bit from a scripted card.
#[test]
fn cda_transaction_replays_deterministically_from_its_script() {
    let kernel = kernel_with(config());
    let mut rec = Recorder::new(VirtualCard::new(Profile {
        oda: CardOda::Cda,
        ..Profile::default()
    }));
    let live = run_online(&kernel, &mut rec);
    assert_eq!(live.decision, Decision::Approved);
    assert_eq!(live.oda, OdaMethod::Cda);
    assert!(live.oda_ok, "{:?}", live.oda_failure);
    let json = serde_json::to_string(&rec.script).unwrap();
    for _ in 0..2 {
        let mut card = ScriptedCard::from_json(&json).unwrap();
        let replay = run_online(&kernel, &mut card);
        assert_eq!(replay.summary_json(), live.summary_json());
        assert_eq!(replay.data_record, live.data_record);
        assert_eq!(card.remaining(), 0);
    }
}

fn run_online<T: CardTransport>(kernel: &ContactKernel, card: &mut T) -> TransactionResult {
    let mut pin = TestPinPad {
        online: Some(vec![0xEE; 8]),
        ..Default::default()
    };
    let mut svc = TestServices::default();
    match start(kernel, card, params(1000), &mut pin, &mut svc) {
        Step::Done(r) => *r,
        Step::Online(req) => req.complete(card, &host_approve()),
    }
}
