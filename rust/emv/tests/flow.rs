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
