//! Unit-level behaviour of smartpos-host: MAC block and tamper detection, response codes, field
//! 48 totals, the in-memory store contract and the framing.

use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_host::dialect::BatchTotals;
use smartpos_host::link::{read_frame, write_frame};
use smartpos_host::mac::{self, MacAlgorithm};
use smartpos_host::{
    Action, HostError, LinkError, MemoryStore, PendingEntry, QueueKind, ResponseCode,
    ReversalReason, ReversalStore,
};
use smartpos_iso8583::{Frame, Message, Mti, Profile, Tpdu};

fn sale_message() -> Message {
    let p = Profile::cups_pos();
    let mut m = Message::new(Mti::new("0200").expect("mti"));
    m.set_pan("4761739001010010").expect("2");
    m.set_processing_code("000000").expect("3");
    m.set_amount(4, 12_345).expect("4");
    m.set_stan(42).expect("11");
    m.set_text(22, "052").expect("22");
    m.set_text(25, "00").expect("25");
    m.set_terminal_id("12345678").expect("41");
    m.set_merchant_id("123456789012345").expect("42");
    m.set_text(49, "156").expect("49");
    m.set_subfields(p, 60, &["22", "000001", "000"])
        .expect("60");
    m
}

fn key(alg: MacAlgorithm) -> SecretKey {
    match alg {
        MacAlgorithm::Sm4Cbc => {
            SecretKey::from_hex(KeyAlgorithm::Sm4, "0123456789ABCDEFFEDCBA9876543210").expect("k")
        }
        _ => {
            SecretKey::from_hex(KeyAlgorithm::Tdes2, "0123456789ABCDEFFEDCBA9876543210").expect("k")
        }
    }
}

const ALGS: [MacAlgorithm; 3] = [
    MacAlgorithm::CupEcb,
    MacAlgorithm::X919,
    MacAlgorithm::Sm4Cbc,
];

#[test]
fn mac_block_is_mti_through_field_63_with_bit_64_set() {
    let p = Profile::cups_pos();
    let m = sale_message();
    let mab = mac::mac_block(p, &m).expect("mab");
    let mut with64 = m.clone();
    with64.set_binary(64, &[0u8; 8]).expect("64");
    let packed = p.pack(&with64).expect("pack");
    assert_eq!(mab, packed[..packed.len() - 8]);
    // MTI (BCD 02 00) first, then the bitmap whose last bit (field 64) is set.
    assert_eq!(&mab[..2], &[0x02, 0x00]);
    assert_eq!(mab[9] & 0x01, 0x01);
    // The TPDU and header are not part of it.
    let frame = Frame::new(Tpdu::new(1, 0), &[0x60, 0x31, 0, 0x31, 0, 0], with64);
    let framed = p.pack_frame(&frame).expect("frame");
    assert_eq!(&framed[11..11 + mab.len()], &mab[..]);
}

#[test]
fn cup_ecb_mac_is_eight_hex_characters() {
    let p = Profile::cups_pos();
    let mut m = sale_message();
    mac::sign(p, MacAlgorithm::CupEcb, &key(MacAlgorithm::CupEcb), &mut m).expect("sign");
    let mac = m.binary(64).expect("64");
    assert!(
        mac.iter()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_lowercase()),
        "{mac:?}"
    );
}

#[test]
fn every_mac_algorithm_verifies_and_detects_tampering() {
    let p = Profile::cups_pos();
    for alg in ALGS {
        let k = key(alg);
        let mut m = sale_message();
        mac::sign(p, alg, &k, &mut m).expect("sign");
        mac::verify(p, alg, &k, &m).expect("untouched message verifies");
        // Any changed field breaks it.
        let mut t = m.clone();
        t.set_amount(4, 12_346).expect("4");
        assert!(
            matches!(mac::verify(p, alg, &k, &t), Err(HostError::BadMac(_))),
            "{alg:?}"
        );
        // A changed MAC byte breaks it.
        let mut t = m.clone();
        let mut bad = t.binary(64).expect("64").to_vec();
        bad[7] ^= 0x01;
        t.set_binary(64, &bad).expect("64");
        assert!(
            matches!(mac::verify(p, alg, &k, &t), Err(HostError::BadMac(_))),
            "{alg:?}"
        );
        // A missing MAC is refused.
        let mut t = m.clone();
        t.remove(64);
        assert!(matches!(
            mac::verify(p, alg, &k, &t),
            Err(HostError::BadMac("missing (no field 64)"))
        ));
        // Another key does not verify.
        let other = match alg {
            MacAlgorithm::Sm4Cbc => SecretKey::sm4(&[7u8; 16]).expect("k"),
            _ => SecretKey::tdes(&[7u8; 16]).expect("k"),
        };
        assert!(mac::verify(p, alg, &other, &m).is_err());
    }
}

#[test]
fn x919_mac_equals_the_retail_mac_of_the_mac_block() {
    // ISO 9797-1 MAC algorithm 3, padding method 1, over the UnionPay MAC block.
    let p = Profile::cups_pos();
    let k = key(MacAlgorithm::X919);
    let mut m = sale_message();
    mac::sign(p, MacAlgorithm::X919, &k, &mut m).expect("sign");
    let mab = mac::mac_block(p, &m).expect("mab");
    let expected =
        smartpos_crypto::mac::retail_mac(&k, &mab, smartpos_crypto::mac::Padding::Method1)
            .expect("retail");
    assert_eq!(m.binary(64), Some(&expected[..8]));
}

#[test]
fn response_codes_have_meanings_and_actions() {
    let table = [
        ("00", "approved", Action::Approve),
        ("05", "do not honour", Action::Decline),
        ("51", "insufficient funds", Action::Decline),
        ("55", "incorrect PIN", Action::RetryPin),
        (
            "75",
            "allowable number of PIN tries exceeded",
            Action::Decline,
        ),
        ("91", "issuer or switch inoperative", Action::RetryLater),
        ("94", "duplicate transmission", Action::Decline),
        ("96", "system malfunction", Action::RetryLater),
        (
            "A0",
            "MAC verification failed, sign on again",
            Action::SignOnAgain,
        ),
        ("12", "invalid transaction", Action::Decline),
        ("13", "invalid amount", Action::Decline),
        ("14", "invalid card number", Action::Decline),
        (
            "25",
            "unable to locate original transaction",
            Action::Decline,
        ),
        ("30", "format error", Action::Decline),
        ("54", "expired card", Action::Decline),
        ("61", "exceeds withdrawal amount limit", Action::Decline),
    ];
    for (code, meaning, action) in table {
        let c = ResponseCode::parse(code).expect("code");
        assert_eq!(c.meaning(), meaning);
        assert_eq!(c.action(), action, "{code}");
        assert_eq!(c.is_approved(), code == "00");
    }
    assert_eq!(
        ResponseCode::parse("ZZ").expect("zz").meaning(),
        "unknown response code"
    );
    assert!(ResponseCode::parse("0").is_none());
    assert!(ResponseCode::parse("0 ").is_none());
    assert!(ResponseCode::parse("000").is_none());
}

#[test]
fn field48_totals_round_trip_and_reject_bad_input() {
    let t = BatchTotals {
        debit_count: 12,
        debit_amount: 345_678,
        credit_count: 1,
        credit_amount: 99,
    };
    let text = t.to_field48().expect("fits");
    assert_eq!(text, "012000000345678001000000000099");
    assert_eq!(BatchTotals::from_field48(&text), Some(t));
    assert!(BatchTotals::from_field48("01200000034567800100000000009").is_none());
    assert!(BatchTotals::from_field48("01200000034567800100000000009X").is_none());
    let too_many = BatchTotals {
        debit_count: 1000,
        ..t
    };
    assert!(too_many.to_field48().is_none());
}

fn entry(kind: QueueKind, stan: u32) -> PendingEntry {
    PendingEntry {
        kind,
        stan,
        reason: ReversalReason::Unconfirmed,
        original: sale_message(),
        attempts: 0,
        last_error: None,
    }
}

#[test]
fn memory_store_is_idempotent_on_the_original_stan() {
    let mut s = MemoryStore::new();
    s.save(&entry(QueueKind::Reversal, 1)).expect("save");
    s.save(&entry(QueueKind::Reversal, 2)).expect("save");
    s.record_attempt(QueueKind::Reversal, 1, "timeout")
        .expect("attempt");
    let mut again = entry(QueueKind::Reversal, 1);
    again.reason = ReversalReason::MacError;
    s.save(&again).expect("save again");
    let p = s.pending(QueueKind::Reversal).expect("pending");
    assert_eq!(
        p.iter().map(|e| e.stan).collect::<Vec<_>>(),
        [1, 2],
        "oldest first, one per STAN"
    );
    assert_eq!(p[0].attempts, 1, "attempts survive an update");
    assert_eq!(p[0].reason, ReversalReason::MacError);
    assert!(s.pending(QueueKind::Advice).expect("advices").is_empty());
    s.complete(QueueKind::Reversal, 1).expect("complete");
    s.save(&entry(QueueKind::Reversal, 1))
        .expect("save after completion");
    assert_eq!(
        s.pending(QueueKind::Reversal).expect("p").len(),
        1,
        "never reversed twice"
    );
    s.discard(QueueKind::Reversal, 2).expect("discard");
    s.save(&entry(QueueKind::Reversal, 2))
        .expect("save after discard");
    assert_eq!(
        s.pending(QueueKind::Reversal).expect("p").len(),
        1,
        "discard is not final"
    );
}

#[test]
fn reversal_reasons_have_codes_and_stable_names() {
    for r in [
        ReversalReason::Unconfirmed,
        ReversalReason::NoResponse,
        ReversalReason::MacError,
        ReversalReason::BadResponse,
        ReversalReason::TerminalDeclined,
    ] {
        assert_eq!(ReversalReason::from_name(r.name()), Some(r));
        assert_eq!(r.code().len(), 2);
    }
    assert_eq!(ReversalReason::NoResponse.code(), "98");
    assert_eq!(ReversalReason::MacError.code(), "A0");
    assert!(ReversalReason::from_name("other").is_none());
}

#[test]
fn pending_entry_debug_masks_the_pan() {
    let e = entry(QueueKind::Reversal, 9);
    let s = format!("{e:?}");
    assert!(!s.contains("4761739001010010"), "{s}");
    let bytes = e
        .original_bytes(Profile::cups_pos())
        .expect("packs for storage");
    assert_eq!(
        Profile::cups_pos().unpack(&bytes).expect("unpack"),
        e.original
    );
}

#[test]
fn framing_round_trip_and_errors() {
    let mut buf = Vec::new();
    write_frame(&mut buf, b"hello").expect("write");
    assert_eq!(buf, b"\x00\x05hello");
    let mut r = &buf[..];
    assert_eq!(read_frame(&mut r).expect("read"), b"hello");
    // Zero length.
    let mut r = &b"\x00\x00"[..];
    assert!(matches!(
        read_frame(&mut r),
        Err(LinkError::FrameLength { length: 0, .. })
    ));
    // Truncated body.
    let mut r = &b"\x00\x09abc"[..];
    assert!(matches!(read_frame(&mut r), Err(LinkError::Closed { .. })));
    // Empty and oversized payloads are refused on write.
    assert!(write_frame(&mut Vec::new(), b"").is_err());
    assert!(write_frame(&mut Vec::new(), &vec![0u8; 70_000]).is_err());
}

proptest::proptest! {
    #[test]
    fn read_frame_never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
        let mut r = &data[..];
        let _ = read_frame(&mut r);
    }
}

// id: mac-retail-iso9797-B4
// source: RustCrypto/MACs @133c6a6f retail-mac/README.md (ISO/IEC 9797-1:2011 B.4);
// openemv/crypto @b04aa34f6449e5afabedaa88fc63b2c4ca3f4d17 test/crypto_tdes2_retail_mac_test.c
#[test]
fn x919_link_mac_matches_the_published_retail_mac() {
    let k =
        SecretKey::from_hex(KeyAlgorithm::Tdes2, "0123456789ABCDEFFEDCBA9876543210").expect("key");
    for (data, mac_hex) in [
        (&b"Now is the time for all "[..], "A1C72E74EA3FA9B6"),
        (&b"Now is the time for it"[..], "2E2B1428CC78254F"),
    ] {
        let m = mac::compute(MacAlgorithm::X919, &k, data).expect("mac");
        assert_eq!(hex::encode_upper(m), mac_hex);
    }
}
