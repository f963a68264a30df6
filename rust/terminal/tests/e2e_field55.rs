//! Reversals (0400) and advices (0220) keep field 55: the terminal reaches HostSim through a
//! recording proxy, so each test compares the ICC data the host received in the original
//! request with the one in the message the queue repeated (rebuilt from the journal, across a
//! restart), and checks that no PAN or track data object travels in it.

mod common;

use common::*;
use smartpos_iso8583::Message;
use smartpos_sim::hostsim::Fault;
use smartpos_terminal::{CancelToken, SaleRequest, Status};
use smartpos_tlv::Tag;

fn stan_of(m: &Message) -> Option<u32> {
    m.stan().ok().flatten().and_then(|s| u32::try_from(s).ok())
}

fn by_stan(msgs: &[Message], stan: u32) -> Vec<Message> {
    msgs.iter()
        .filter(|m| stan_of(m) == Some(stan))
        .cloned()
        .collect()
}

/// No data object carrying the PAN, track data or the name (smartpos-journal icc).
fn assert_no_card_data(f55: &[u8]) {
    for t in smartpos_journal::icc::CARD_DATA_TAGS {
        assert!(
            smartpos_tlv::find(f55, Tag(t)).ok().flatten().is_none(),
            "tag {t:X} in field 55"
        );
    }
}

fn tag(f55: &[u8], t: u32) -> Option<Vec<u8>> {
    smartpos_tlv::find(f55, Tag(t))
        .ok()
        .flatten()
        .map(|x| x.value.to_vec())
}

#[test]
fn chip_reversal_after_a_lost_answer_repeats_the_field_55_of_the_request() {
    let (mut rig, proxy) = Rig::proxied("f55-chip", |_| {});
    rig.term.sign_on().expect("sign-on");
    rig.present(card("visa-cda-online-pin"), false);
    rig.sim.inject(Fault::NoAnswer, 1);
    let out = rig
        .term
        .sale(&SaleRequest::card(4_200, "c1"), &CancelToken::new())
        .expect("sale");
    assert_eq!(out.status, Status::Reversed, "{out:?}");
    // Rebuilt from the journal after a restart: the field 55 must come from the file.
    rig.restart(Some("1234"));
    assert_eq!(rig.term.flush_queues().expect("flush"), 1);
    let seen = proxy.requests();
    let msgs = by_stan(&seen, out.stan);
    let sale = msgs
        .iter()
        .find(|m| m.mti().as_str() == "0200")
        .expect("0200 seen");
    let reversal = msgs
        .iter()
        .find(|m| m.mti().as_str() == "0400")
        .expect("0400 seen");
    let sent = sale.binary(55).expect("field 55 in the 0200");
    assert!(tag(sent, 0x9F26).is_some(), "ARQC in the 0200");
    assert_eq!(
        reversal.binary(55),
        Some(sent),
        "the 0400 carries the 0200's field 55"
    );
    assert_no_card_data(sent);
    let e = rig
        .sim
        .ledger()
        .by_stan("12345678", out.stan)
        .cloned()
        .expect("ledger");
    assert!(e.reversed && e.reversal_requests == 1, "{e:?}");
}

#[test]
fn contactless_reversal_repeats_field_55_without_the_pan_the_reader_added() {
    let (mut rig, proxy) = Rig::proxied("f55-tap", |_| {});
    rig.term.sign_on().expect("sign-on");
    rig.tap(cl_card(
        smartpos_sim::contactless::Profile::visa_online_only(),
    ));
    rig.sim.inject(Fault::WrongMac, 1);
    let out = rig
        .term
        .sale(&SaleRequest::card(25_000, "c1"), &CancelToken::new())
        .expect("tap");
    assert_eq!(out.status, Status::Reversed, "{out:?}");
    let pending = rig.with_journal(|j| j.pending_reversals().expect("queue"));
    let stored = pending[0].icc_data.clone().expect("field 55 stored");
    assert_no_card_data(&stored);
    assert_eq!(rig.term.flush_queues().expect("flush"), 1);
    let msgs = by_stan(&proxy.requests(), out.stan);
    let sent = msgs
        .iter()
        .find(|m| m.mti().as_str() == "0200")
        .and_then(|m| m.binary(55).map(<[u8]>::to_vec))
        .expect("field 55 in the 0200");
    let repeated = msgs
        .iter()
        .find(|m| m.mti().as_str() == "0400")
        .and_then(|m| m.binary(55).map(<[u8]>::to_vec))
        .expect("field 55 in the 0400");
    assert_eq!(repeated, sent);
    assert_eq!(stored, sent);
    assert!(tag(&sent, 0x9F26).is_some() && tag(&sent, 0x9F36).is_some());
}

#[test]
fn offline_advice_carries_the_tc_and_the_host_verifies_it() {
    let (mut rig, proxy) = Rig::proxied("f55-advice", |cfg| {
        for aid in &mut cfg.aids {
            aid.floor_limit = 100_000;
        }
    });
    rig.present(card("visa-dda-offline-approve"), false);
    let out = rig
        .term
        .sale(&SaleRequest::card(1_000, "c1"), &CancelToken::new())
        .expect("sale");
    assert_eq!(out.status, Status::ApprovedOffline, "{out:?}");
    rig.restart(Some("1234"));
    assert_eq!(rig.term.flush_queues().expect("flush"), 1);
    let advices = proxy.requests_of("0220");
    assert_eq!(advices.len(), 1);
    let f55 = advices[0].binary(55).expect("field 55 in the advice");
    assert_no_card_data(f55);
    // The TC of the first GENERATE AC, as journalled.
    assert_eq!(
        tag(f55, 0x9F26).map(hex::encode_upper),
        out.cryptogram.clone(),
        "the advice carries the journalled TC"
    );
    let l = rig.sim.ledger();
    let e = l
        .entries
        .iter()
        .find(|e| e.kind == smartpos_sim::hostsim::TxnKind::Offline)
        .expect("advice booked");
    assert_eq!(
        e.arqc_verified,
        Some(true),
        "HostSim verified the TC: {e:?}"
    );
}
