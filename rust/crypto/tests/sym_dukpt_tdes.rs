//! TDES DUKPT (ANSI X9.24-1:2009): published vectors, originator/receiver agreement, the 10-ones
//! skip and end of life.

use smartpos_crypto::CryptoError;
use smartpos_crypto::cipher;
use smartpos_crypto::dukpt::tdes::{self, Ksn, Originator, Variant};
use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_crypto::mac::{self, Padding};
use smartpos_crypto::pin::{self, Pin, PinBlockFormat};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn bdk() -> SecretKey {
    SecretKey::from_hex(KeyAlgorithm::Tdes2, "0123456789ABCDEFFEDCBA9876543210").unwrap()
}

fn initial_ksn() -> Ksn {
    Ksn::from_hex("FFFF9876543210E00000").unwrap()
}

struct Vector {
    id: &'static str,
    ksn: &'static str,
    txn_key: &'static str,
    pin_key: &'static str,
    mac_req_key: &'static str,
    mac_rsp_key: &'static str,
    data_req_key: &'static str,
    data_rsp_key: &'static str,
    enc_pinblock: &'static str,
    mac_req: &'static str,
    mac_rsp: &'static str,
    cmac_req: &'static str,
    cmac_rsp: &'static str,
    enc_data_req: &'static str,
    enc_data_rsp: &'static str,
}

// ids: dukpt-tdes-init-01, -02, -03, -10; source: openemv/dukpt @1d01ddafa9dac103f4eee2ad1b20483596d83012
// test/dukpt_tdes_test.c; moov-io/dukpt @65ee1a27dfd564dbb0fb89af2ca42035d06af34e pkg/des/des_test.go.
// (init-10's enc_data_rsp is marked _computed in published.md.)
const VECTORS: &[Vector] = &[
    Vector {
        id: "dukpt-tdes-init-01",
        ksn: "FFFF9876543210E00001",
        txn_key: "042666B49184CFA368DE9628D0397BC9",
        pin_key: "042666B49184CF5C68DE9628D0397B36",
        mac_req_key: "042666B4918430A368DE9628D03984C9",
        mac_rsp_key: "042666B46E84CFA368DE96282F397BC9",
        data_req_key: "448D3F076D8304036A55A3D7E0055A78",
        data_rsp_key: "AD7BFC8B06AD3A08A560B4105CF8D9E5",
        enc_pinblock: "1B9C1845EB993A7A",
        mac_req: "9CCC78173FC4FB64",
        mac_rsp: "20364223C1FF00FA",
        cmac_req: "211003F1D5B79DD7",
        cmac_rsp: "82CC2B9B9EC710A6",
        enc_data_req: "FC0D53B7EA1FDA9EE68AAF2E70D9B9506229BE2AA993F04F",
        enc_data_rsp: "1FCC89AF66222F27B903898BB2BC8589CDBFDE5EC6AFCC25",
    },
    Vector {
        id: "dukpt-tdes-init-02",
        ksn: "FFFF9876543210E00002",
        txn_key: "C46551CEF9FD24B0AA9AD834130D3BC7",
        pin_key: "C46551CEF9FD244FAA9AD834130D3B38",
        mac_req_key: "C46551CEF9FDDBB0AA9AD834130DC4C7",
        mac_rsp_key: "C46551CE06FD24B0AA9AD834EC0D3BC7",
        data_req_key: "F1BE73B36135C5C26CF937D50ABBE5AF",
        data_rsp_key: "C1C0E2D663C50EE9C001E56D3793A479",
        enc_pinblock: "10A01C8D02C69107",
        mac_req: "F608A9BCA6FFC311",
        mac_rsp: "D1FCA6BEF05D24D2",
        cmac_req: "4BA08A38CEEAF378",
        cmac_rsp: "85E93BAC519203AC",
        enc_data_req: "A2B4E70F846E63D68775B7215EB4563DFD3037244C61CC13",
        enc_data_rsp: "5B692A6B1FDD5E25B0DEFAFDE1672E402F8011360CFF3508",
    },
    Vector {
        id: "dukpt-tdes-init-03",
        ksn: "FFFF9876543210E00003",
        txn_key: "0DF3D9422ACA56E547676D07AD6BADFA",
        pin_key: "0DF3D9422ACA561A47676D07AD6BAD05",
        mac_req_key: "0DF3D9422ACAA9E547676D07AD6B52FA",
        mac_rsp_key: "0DF3D942D5CA56E547676D07526BADFA",
        data_req_key: "EEEEF522C67239E4A2A65FEBF4C511F4",
        data_rsp_key: "6A21701227FA12E8952E89A0F6695862",
        enc_pinblock: "18DC07B94797B466",
        mac_req: "20B59A4FEAC937E3",
        mac_rsp: "BAD4CC9CC2AE326C",
        cmac_req: "011D64E245203501",
        cmac_rsp: "1D64CC655C4ABAEF",
        enc_data_req: "BD751E65F10E75B6C1D5B1D283496A36C2DE21D993C387A7",
        enc_data_rsp: "345992D4163E4926C927BFD8ABD5D76F087A9CE81D5A27B8",
    },
    Vector {
        id: "dukpt-tdes-init-10",
        ksn: "FFFF9876543210E0000A",
        txn_key: "6CF2500A22507C7CC776CEADC1E33014",
        pin_key: "6CF2500A22507C83C776CEADC1E330EB",
        mac_req_key: "6CF2500A2250837CC776CEADC1E3CF14",
        mac_rsp_key: "6CF2500ADD507C7CC776CEAD3EE33014",
        data_req_key: "BC9C848366B1F9997656DD8004C5C43B",
        data_rsp_key: "01F25D09CDD396711E72F37D22A1600E",
        enc_pinblock: "EDABBA23221833FE",
        mac_req: "1632621C",
        mac_rsp: "CE038CC9",
        cmac_req: "6B2D74E69A28ED7B",
        cmac_rsp: "8A7D022E0AF9FF26",
        enc_data_req: "C221F5A8CA5DA909BE04938E0FB8DFCFB30ED0D62B590663",
        enc_data_rsp: "752A73BE721368376788582C1105775F2A3137B9C5F44B78",
    },
];

// id: dukpt-tdes-ipek, source: openemv/dukpt @1d01dda test/dukpt_tdes_test.c; moov-io/dukpt @65ee1a2
// pkg/des/des_test.go TestDerivationOfInitialKey
#[test]
fn ipek_published() {
    let ipek = tdes::derive_ipek(&bdk(), &initial_ksn()).unwrap();
    assert_eq!(ipek.as_bytes(), &h("6AC292FAA1315B4D858AB3A3D7D5933A")[..]);
    // The counter bits of the KSN do not influence the IPEK.
    let ipek2 = tdes::derive_ipek(&bdk(), &Ksn::from_hex("FFFF9876543210E0000A").unwrap()).unwrap();
    assert_eq!(ipek, ipek2);
}

#[test]
fn host_side_published_keys_and_usage() {
    // mac_and_data_input_ascii of dukpt-tdes-ipek.
    let data = b"4012345678909D987";
    assert_eq!(data.to_vec(), h("3430313233343536373839303944393837"));
    for v in VECTORS {
        let ksn = Ksn::from_hex(v.ksn).unwrap();
        let keys = tdes::host_session_keys(&bdk(), &ksn).unwrap();
        assert_eq!(
            keys.transaction_key.as_bytes(),
            &h(v.txn_key)[..],
            "{}",
            v.id
        );
        assert_eq!(keys.pin_key.as_bytes(), &h(v.pin_key)[..], "{}", v.id);
        assert_eq!(
            keys.mac_request_key.as_bytes(),
            &h(v.mac_req_key)[..],
            "{}",
            v.id
        );
        assert_eq!(
            keys.mac_response_key.as_bytes(),
            &h(v.mac_rsp_key)[..],
            "{}",
            v.id
        );
        assert_eq!(
            keys.data_request_key.as_bytes(),
            &h(v.data_req_key)[..],
            "{}",
            v.id
        );
        assert_eq!(
            keys.data_response_key.as_bytes(),
            &h(v.data_rsp_key)[..],
            "{}",
            v.id
        );

        // PIN block ISO 0 (PIN 1234, PAN 4012345678909) under the PIN key.
        let p = Pin::new("1234").unwrap();
        let enc = pin::encrypt(
            &keys.pin_key,
            PinBlockFormat::Iso0,
            &p,
            Some("4012345678909"),
            &mut |_| Ok(()),
        )
        .unwrap();
        assert_eq!(enc, h(v.enc_pinblock), "{}", v.id);

        // Retail MAC (ISO 9797-1 alg 3, padding 1); vectors give 8 or 4 leftmost bytes.
        let m = mac::retail_mac(&keys.mac_request_key, data, Padding::Method1).unwrap();
        mac::verify(&m, &h(v.mac_req)).unwrap_or_else(|e| panic!("{} mac_req: {e}", v.id));
        let m = mac::retail_mac(&keys.mac_response_key, data, Padding::Method1).unwrap();
        mac::verify(&m, &h(v.mac_rsp)).unwrap_or_else(|e| panic!("{} mac_rsp: {e}", v.id));

        // TDES-CMAC.
        assert_eq!(
            mac::cmac(&keys.mac_request_key, data).unwrap(),
            h(v.cmac_req),
            "{}",
            v.id
        );
        assert_eq!(
            mac::cmac(&keys.mac_response_key, data).unwrap(),
            h(v.cmac_rsp),
            "{}",
            v.id
        );

        // Data encryption: TDES-CBC, zero IV, zero padding.
        let padded = mac::pad(data, 8, Padding::Method1);
        let enc = cipher::encrypt_cbc(&keys.data_request_key, &[0u8; 8], &padded).unwrap();
        assert_eq!(enc, h(v.enc_data_req), "{}", v.id);
        let enc = cipher::encrypt_cbc(&keys.data_response_key, &[0u8; 8], &padded).unwrap();
        assert_eq!(enc, h(v.enc_data_rsp), "{}", v.id);
    }
}

#[test]
fn originator_matches_published_keys() {
    let ipek = tdes::derive_ipek(&bdk(), &initial_ksn()).unwrap();
    let mut dev = Originator::load_initial_key(&ipek, &initial_ksn()).unwrap();
    let mut seen = Vec::new();
    for _ in 0..10 {
        let keys = dev.next_session_keys().unwrap();
        seen.push(keys);
    }
    for v in VECTORS {
        let ksn = Ksn::from_hex(v.ksn).unwrap();
        let keys = seen.iter().find(|k| k.ksn == ksn).unwrap();
        assert_eq!(
            keys.transaction_key.as_bytes(),
            &h(v.txn_key)[..],
            "{}",
            v.id
        );
        assert_eq!(keys.pin_key.as_bytes(), &h(v.pin_key)[..], "{}", v.id);
        assert_eq!(
            keys.data_response_key.as_bytes(),
            &h(v.data_rsp_key)[..],
            "{}",
            v.id
        );
    }
    assert_eq!(
        dev.next_ksn().unwrap(),
        Ksn::from_hex("FFFF9876543210E0000B").unwrap()
    );
}

// Originator and receiver agree for the first 3000 transactions (covers many register refills).
#[test]
fn originator_and_receiver_agree() {
    let ksn0 = Ksn::from_hex("0102030405060708E000")
        .unwrap()
        .with_counter(0);
    let ipek = tdes::derive_ipek(&bdk(), &ksn0).unwrap();
    let mut dev = Originator::load_initial_key(&ipek, &ksn0).unwrap();
    let mut expected_counter = 0u32;
    for _ in 0..3000 {
        // The next counter value with at most 10 one bits (0x7FF, 0xBFF, 0xDFF... are skipped).
        expected_counter += 1;
        while expected_counter.count_ones() > 10 {
            expected_counter += 1;
        }
        let (ksn, key) = dev.next_transaction().unwrap();
        assert_eq!(ksn.counter(), expected_counter);
        assert_eq!(
            key,
            tdes::derive_transaction_key(&ipek, &ksn).unwrap(),
            "counter {expected_counter}"
        );
    }
}

// Counters with more than 10 one bits are skipped: from 0x0007FE (10 ones) the next is 0x000800.
#[test]
fn ten_ones_skip() {
    let ipek = tdes::derive_ipek(&bdk(), &initial_ksn()).unwrap();
    let start = initial_ksn().with_counter(0x0003FF); // 10 ones
    let mut dev = Originator::at_ksn_for_simulation(&ipek, &start).unwrap();
    let (ksn, key) = dev.next_transaction().unwrap();
    assert_eq!(ksn.counter(), 0x3FF);
    assert_eq!(key, tdes::derive_transaction_key(&ipek, &ksn).unwrap());
    // 0x3FF + 1 = 0x400 (one bit): normal increment after carry.
    assert_eq!(dev.next_ksn().unwrap().counter(), 0x400);
    let mut dev =
        Originator::at_ksn_for_simulation(&ipek, &initial_ksn().with_counter(0x0007FE)).unwrap();
    let (ksn, _) = dev.next_transaction().unwrap();
    assert_eq!(ksn.counter(), 0x7FE);
    // 0x7FF would have 11 ones: the counter jumps by its lowest set bit to 0x800.
    let (ksn, key) = dev.next_transaction().unwrap();
    assert_eq!(ksn.counter(), 0x800);
    assert_eq!(key, tdes::derive_transaction_key(&ipek, &ksn).unwrap());
    // The host rejects a KSN whose counter has 11 ones.
    assert!(matches!(
        tdes::derive_transaction_key(&ipek, &initial_ksn().with_counter(0x7FF)),
        Err(CryptoError::InvalidKsn { .. })
    ));
    assert!(matches!(
        tdes::derive_transaction_key(&ipek, &initial_ksn()),
        Err(CryptoError::InvalidKsn { .. })
    ));
}

// The last counter is 0x1FF800 (ten ones at the top); after it the device is exhausted. Near the end
// every counter has ten ones, so each step adds the lowest set bit.
#[test]
fn end_of_life_near_the_end() {
    let ipek = tdes::derive_ipek(&bdk(), &initial_ksn()).unwrap();
    let mut dev =
        Originator::at_ksn_for_simulation(&ipek, &initial_ksn().with_counter(0x1FF100)).unwrap();
    let mut counters = Vec::new();
    loop {
        match dev.next_transaction() {
            Ok((ksn, key)) => {
                assert_eq!(key, tdes::derive_transaction_key(&ipek, &ksn).unwrap());
                counters.push(ksn.counter());
            }
            Err(CryptoError::DukptExhausted) => break,
            Err(e) => panic!("{e}"),
        }
        assert!(counters.len() < 100);
    }
    assert_eq!(counters, vec![0x1FF100, 0x1FF200, 0x1FF400, 0x1FF800]);
    assert!(matches!(dev.next_ksn(), Err(CryptoError::DukptExhausted)));
    assert!(matches!(
        dev.next_transaction(),
        Err(CryptoError::DukptExhausted)
    ));
}

// The whole life of one device: exactly sum_{k=1}^{10} C(21, k) = 1,048,575 keys, every counter with at
// most 10 ones, strictly increasing, then DukptExhausted.
#[test]
fn full_lifetime_key_count() {
    let ipek = tdes::derive_ipek(&bdk(), &initial_ksn()).unwrap();
    let mut dev = Originator::load_initial_key(&ipek, &initial_ksn()).unwrap();
    let mut count = 0u32;
    let mut last = 0u32;
    loop {
        match dev.next_transaction() {
            Ok((ksn, _)) => {
                let c = ksn.counter();
                assert!(c > last && c.count_ones() <= 10);
                last = c;
                count += 1;
            }
            Err(CryptoError::DukptExhausted) => break,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(count, 1_048_575);
    assert_eq!(last, 0x1FF800);
}

#[test]
fn bad_inputs() {
    assert!(matches!(
        Ksn::new(&[0u8; 9]),
        Err(CryptoError::InvalidKsn { .. })
    ));
    assert!(Ksn::from_hex("ZZ").is_err());
    let aes = SecretKey::aes(&[0u8; 16]).unwrap();
    assert!(matches!(
        tdes::derive_ipek(&aes, &initial_ksn()),
        Err(CryptoError::UnsupportedAlgorithm { .. })
    ));
    let ipek = tdes::derive_ipek(&bdk(), &initial_ksn()).unwrap();
    assert!(matches!(
        Originator::load_initial_key(&ipek, &initial_ksn().with_counter(5)),
        Err(CryptoError::InvalidKsn { .. })
    ));
    let k = tdes::variant_key(&ipek, Variant::Pin).unwrap();
    assert_ne!(k, ipek);
    // Debug of the originator and the keys never shows key bytes.
    let dev = Originator::load_initial_key(&ipek, &initial_ksn()).unwrap();
    let text = format!(
        "{dev:?} {:?}",
        tdes::host_session_keys(&bdk(), &initial_ksn().with_counter(1)).unwrap()
    );
    assert!(!text.contains("042666B4"), "{text}");
}

// Persisted state: export after some transactions, import, and the restored device continues with
// the same keys as the original; damaged states are rejected.
#[test]
fn state_export_import() {
    let ipek = tdes::derive_ipek(&bdk(), &initial_ksn()).unwrap();
    let mut dev = Originator::load_initial_key(&ipek, &initial_ksn()).unwrap();
    for _ in 0..37 {
        dev.next_transaction().unwrap();
    }
    let state = dev.export_state();
    let mut restored = Originator::import_state(&state).unwrap();
    assert_eq!(restored.next_ksn().unwrap(), dev.next_ksn().unwrap());
    for _ in 0..50 {
        let a = dev.next_transaction().unwrap();
        let b = restored.next_transaction().unwrap();
        assert_eq!(a.0, b.0);
        assert_eq!(a.1, b.1);
    }
    // The state holds no key for a past counter: the transaction key just used is not in it.
    let (_, used) = dev.next_transaction().unwrap();
    let state = dev.export_state();
    assert!(!state.windows(16).any(|w| w == used.as_bytes()));
    // Damaged states.
    assert!(Originator::import_state(&state[..state.len() - 1]).is_err());
    assert!(Originator::import_state(&state[..12]).is_err());
    let mut bad = state.to_vec();
    bad[10 + 8] = 7; // exhausted flag
    assert!(Originator::import_state(&bad).is_err());
    let mut bad = state.to_vec();
    bad[10 + 7] = 0; // counter low byte: the current register may be missing / counter changes
    bad[10 + 6] = 0;
    bad[10 + 5] = 0;
    assert!(Originator::import_state(&bad).is_err());
    // An exhausted device stays exhausted after a round trip.
    let mut end =
        Originator::at_ksn_for_simulation(&ipek, &initial_ksn().with_counter(0x1FF800)).unwrap();
    end.next_transaction().unwrap();
    let mut end2 = Originator::import_state(&end.export_state()).unwrap();
    assert!(matches!(
        end2.next_transaction(),
        Err(CryptoError::DukptExhausted)
    ));
}

// One non-reversible step from the IPEK with the KSN register for counter 1 gives the published
// transaction key of dukpt-tdes-init-01 (X9.24-1:2009 A.2 "non-reversible key generation process").
#[test]
fn single_non_reversible_step() {
    let ipek = tdes::derive_ipek(&bdk(), &initial_ksn()).unwrap();
    let reg: [u8; 8] = h("9876543210E00001").try_into().unwrap();
    let k = tdes::non_reversible_key(&ipek, &reg).unwrap();
    assert_eq!(k.as_bytes(), &h("042666B49184CFA368DE9628D0397BC9")[..]);
    let aes = SecretKey::aes(&[0u8; 16]).unwrap();
    assert!(tdes::non_reversible_key(&aes, &reg).is_err());
}

// ANSI X9.24-1:2009 A.4.2 (initial sequence, counters 1..=0x15) and A.4.3 (rollover sequence from
// EFF800, through the 10-ones skips to F00000): KSN, transaction key and the ISO 0 PIN block
// 041274EDCBA9876F enciphered under the PIN variant. Source: openemv/dukpt
// @1d01ddafa9dac103f4eee2ad1b20483596d83012 test/dukpt_tdes_test.c.
const A42: &[(&str, &str, &str)] = &[
    (
        "FFFF9876543210E00001",
        "042666B49184CFA368DE9628D0397BC9",
        "1B9C1845EB993A7A",
    ),
    (
        "FFFF9876543210E00002",
        "C46551CEF9FD24B0AA9AD834130D3BC7",
        "10A01C8D02C69107",
    ),
    (
        "FFFF9876543210E00003",
        "0DF3D9422ACA56E547676D07AD6BADFA",
        "18DC07B94797B466",
    ),
    (
        "FFFF9876543210E00004",
        "279C0F6AEED0BE652B2C733E1383AE91",
        "0BC79509D5645DF7",
    ),
    (
        "FFFF9876543210E00005",
        "5F8DC6D2C845C125508DDC048093B83F",
        "5BC0AF22AD87B327",
    ),
    (
        "FFFF9876543210E00006",
        "5E415CB0BAF9F03CD0C14B63FB62FF43",
        "A16DF70AE36158D8",
    ),
    (
        "FFFF9876543210E00007",
        "0C8F780B7C8B49D0AE84A9EB2A6CE660",
        "27711C16CB257F8E",
    ),
    (
        "FFFF9876543210E00008",
        "27F66D5244FF62E1AA6F6120EDEB4280",
        "50E55547A5027551",
    ),
    (
        "FFFF9876543210E00009",
        "27E31064FDC565698900E2057F658E7E",
        "536CF7F678ACFC8D",
    ),
    (
        "FFFF9876543210E0000A",
        "6CF2500A22507C7CC776CEADC1E33014",
        "EDABBA23221833FE",
    ),
    (
        "FFFF9876543210E0000B",
        "3E8260BA04B2D620C01482B3819A18B7",
        "2328981C57B4BDBA",
    ),
    (
        "FFFF9876543210E0000C",
        "B716E1E11CF53D80726CAEE75C3A624F",
        "038D03CC926CF286",
    ),
    (
        "FFFF9876543210E0000D",
        "E072EDF95340535FB6C581C58FBF2533",
        "6C8AA97088B62C68",
    ),
    (
        "FFFF9876543210E0000E",
        "A80046087F5B8F245AAD95E18429084F",
        "F17C9E1D72CD4950",
    ),
    (
        "FFFF9876543210E0000F",
        "93DD5B956C4878472E453AAEFD32A5AA",
        "B170F6E7F7F2F64A",
    ),
    (
        "FFFF9876543210E00010",
        "59598DCBD9BD94C094165CE453585F57",
        "D5D9638559EF53D6",
    ),
    (
        "FFFF9876543210E00011",
        "2B5F01F4F0CC05EA639D523231BF1BA2",
        "D544F8CDD292C863",
    ),
    (
        "FFFF9876543210E00012",
        "9CF640F279C2AEE615F725EEEAC2CBAF",
        "7A21BD10F36DC41D",
    ),
    (
        "FFFF9876543210E00013",
        "C3DF489FDF1153B4F03DE97C27DC4C2F",
        "78649BD17D0DFA60",
    ),
    (
        "FFFF9876543210E00014",
        "658488507721B3F14737FA93F923CBD2",
        "7E7E16EA0C31AD56",
    ),
    (
        "FFFF9876543210E00015",
        "E161D1956A61F6D2F37AFD7F9CC3699A",
        "72105C22EBC791E6",
    ),
];

const A43: &[(&str, &str, &str)] = &[
    (
        "FFFF9876543210EFF800",
        "F9CDFEBF4F5B1D9EB3EC12454527E176",
        "33365F5CC6F23C35",
    ),
    (
        "FFFF9876543210EFF801",
        "5BEE92627E97825C911BF619DF72CA3B",
        "3A86BF003F835C9D",
    ),
    (
        "FFFF9876543210EFF802",
        "64CA2F8AB93F61B01620B00BF77C7301",
        "3DB977D05C36DF3F",
    ),
    (
        "FFFF9876543210EFF804",
        "35A168695B3BA83307E871C42021DD37",
        "BA83243305712099",
    ),
    (
        "FFFF9876543210EFF808",
        "12C380FCB72ED3C26FC6079AF63F4787",
        "B0DA04AC90A36D85",
    ),
    (
        "FFFF9876543210EFF810",
        "D8007C833A1E3C49C6889B97A68C54FF",
        "2CF02BD9C309EEDA",
    ),
    (
        "FFFF9876543210EFF820",
        "A9C9FF9B735FDD49591F296B0BF0FD70",
        "9D1E2F77AEEE81C6",
    ),
    (
        "FFFF9876543210EFF840",
        "0E3E221062CB5E03A384602783A004FA",
        "40870B0F8BA2011C",
    ),
    (
        "FFFF9876543210EFF880",
        "CA8225C587124DFBB87F279C0BE29727",
        "22E340D6ABB40981",
    ),
    (
        "FFFF9876543210EFF900",
        "906AAC1751D4971A144D52C76C6E1F97",
        "1A4C10AFBA03A430",
    ),
    (
        "FFFF9876543210EFFA00",
        "2B9E2CE7C2750337E10B54D2989EA6AF",
        "849763B43E5F9CFF",
    ),
    (
        "FFFF9876543210EFFC00",
        "F9430DF975082491C77BE4EF4FDB91EE",
        "DEFC6F09F8927B71",
    ),
    (
        "FFFF9876543210F00000",
        "AA4D58DB653EC74A48C75F2F047DD2B5",
        "73EC88AD0AC5830E",
    ),
];

fn check_sequence(dev: &mut Originator, ipek: &SecretKey, table: &[(&str, &str, &str)]) {
    let clear = h("041274EDCBA9876F");
    for (ksn_hex, key_hex, enc_hex) in table {
        let ksn = Ksn::from_hex(ksn_hex).unwrap();
        let (got_ksn, key) = dev.next_transaction().unwrap();
        assert_eq!(got_ksn, ksn);
        assert_eq!(key.as_bytes(), &h(key_hex)[..], "{ksn_hex}");
        assert_eq!(
            key,
            tdes::derive_transaction_key(ipek, &ksn).unwrap(),
            "{ksn_hex}"
        );
        let pin_key = tdes::variant_key(&key, Variant::Pin).unwrap();
        assert_eq!(
            cipher::encrypt_ecb(&pin_key, &clear).unwrap(),
            h(enc_hex),
            "{ksn_hex}"
        );
    }
}

#[test]
fn x9_24_1_annex_a4_sequences() {
    let ipek = tdes::derive_ipek(&bdk(), &initial_ksn()).unwrap();
    let mut dev = Originator::load_initial_key(&ipek, &initial_ksn()).unwrap();
    check_sequence(&mut dev, &ipek, A42);
    // Rollover: EFF800 (9 ones), EFF801 (10 ones), then each step adds the lowest set bit.
    let start = Ksn::from_hex("FFFF9876543210EFF800").unwrap();
    let mut dev = Originator::at_ksn_for_simulation(&ipek, &start).unwrap();
    check_sequence(&mut dev, &ipek, A43);
}
