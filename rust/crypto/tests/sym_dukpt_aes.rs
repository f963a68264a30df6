//! AES DUKPT (ANSI X9.24-3:2017): published vectors for AES-128 and AES-256 BDKs, originator/receiver
//! agreement, the 16-ones rule and end of life.

use smartpos_crypto::CryptoError;
use smartpos_crypto::dukpt::aes::{self, KeyType, KeyUsage, Ksn, Originator};
use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_crypto::mac;
use smartpos_crypto::pin::{self, Pin, PinBlockFormat};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

const IKID: [u8; 8] = [0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56];

fn bdk128() -> SecretKey {
    SecretKey::from_hex(KeyAlgorithm::Aes128, "FEDCBA9876543210F1F1F1F1F1F1F1F1").unwrap()
}

// ANSI X9.24-3:2017 supplement test vectors for the AES-256 BDK, as carried by openemv/dukpt
// @a0a09627081600c10a56b904b704049e30f4cf99 test/dukpt_aes256_test.c.
fn bdk256() -> SecretKey {
    SecretKey::from_hex(
        KeyAlgorithm::Aes256,
        "FEDCBA9876543210F1F1F1F1F1F1F1F1FEDCBA9876543210F1F1F1F1F1F1F1F1",
    )
    .unwrap()
}

// id: dukpt-aes128-ik, source: openemv/dukpt @1d01ddafa9dac103f4eee2ad1b20483596d83012 test/dukpt_aes128_test.c
#[test]
fn aes128_initial_key() {
    let ik = aes::derive_initial_key(&bdk128(), &IKID).unwrap();
    assert_eq!(ik.as_bytes(), &h("1273671EA26AC29AFA4D1084127652A1")[..]);
    assert_eq!(ik.algorithm(), KeyAlgorithm::Aes128);
}

// ids: dukpt-aes128-01, dukpt-aes128-02 (txn_key, pin_key, mac_gen_key, data_enc_key, enc_pinblock_fmt4),
// source: openemv/dukpt @1d01dda test/dukpt_aes128_test.c
#[test]
fn aes128_published_transactions() {
    let cases = [
        (
            "123456789012345600000001",
            "4F21B565BAD9835E112B6465635EAE44",
            "AF8CB133A78F8DC2D1359F18527593FB",
            "A2DC23DE6FDE0824A2BC321E08E4B8B7",
            "A35C412EFD41FDB98B69797C02DCD08F",
            "A912150391AB65A67E52883D81CE2D15",
        ),
        (
            "123456789012345600000002",
            "2F34D68DE10F68D38091A73B9E7C437C",
            "D30BDC73EC9714B000BEC66BDB7B6D09",
            "484C3B06E8562704528CD5B46FB12FB6",
            "D639514AA33AC43AD9229E433D6D4E5B",
            "52A00503BD34BA1383F6A7EE9FE2547F",
        ),
    ];
    for (ksn, txn, pin_key, mac_key, data_key, enc_pin) in cases {
        let ksn = Ksn::from_hex(ksn).unwrap();
        let keys = aes::host_session_keys(&bdk128(), &ksn, KeyType::Aes128).unwrap();
        assert_eq!(keys.intermediate_key.as_bytes(), &h(txn)[..]);
        assert_eq!(keys.pin_key.as_bytes(), &h(pin_key)[..]);
        assert_eq!(keys.mac_generation_key.as_bytes(), &h(mac_key)[..]);
        assert_eq!(keys.data_encrypt_key.as_bytes(), &h(data_key)[..]);
        assert_eq!(
            aes::host_working_key(&bdk128(), &ksn, KeyUsage::PinEncryption, KeyType::Aes128)
                .unwrap(),
            keys.pin_key
        );
        // Format 4 PIN block with the published random half of the PIN field.
        let p = Pin::new("1234").unwrap();
        let fill = h("2F69ADDE2E9E7ACE");
        let mut src = |buf: &mut [u8]| {
            buf.copy_from_slice(&fill);
            Ok(())
        };
        let enc = pin::encrypt(
            &keys.pin_key,
            PinBlockFormat::Iso4,
            &p,
            Some("4111111111111111"),
            &mut src,
        )
        .unwrap();
        assert_eq!(enc, h(enc_pin));
        // The usages give distinct keys.
        let all = [
            &keys.pin_key,
            &keys.mac_generation_key,
            &keys.mac_verification_key,
            &keys.mac_both_key,
            &keys.data_encrypt_key,
            &keys.data_decrypt_key,
            &keys.data_both_key,
            &keys.key_encryption_key,
        ];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}

#[test]
fn aes256_published_keys() {
    let ik = aes::derive_initial_key(&bdk256(), &IKID).unwrap();
    assert_eq!(
        ik.as_bytes(),
        &h("CE9CE0C101D1138F97FB6CAD4DF045A7083D4EAE2D35A31789D01CCF0949550F")[..]
    );
    let txn = [
        (
            1u32,
            "54AC2B32B145EA4A554CB8BC44B17467063A799856B1CCC2A138D36E8DBF78B3",
        ),
        (
            2,
            "5DD5A0253842BBBE1D7C0DA27021412C6F1FAB53FB928DEAE56DA06090A9DE97",
        ),
        (
            8,
            "20A796D5077D51B8E7613893A4F095B134E02917DC84BD391F3661D0873FF308",
        ),
        (
            0x1FFFE,
            "A289508CBF1228452CD86AB77B15CB35577AC828C18BB66681E5A16D6C9CCED3",
        ),
        (
            0x20000,
            "D62DDA94A47D7DA5D763443B4ECB15EA8DD62E0E4F915958BA459591F8312E37",
        ),
        (
            0x20001,
            "44110A1102748D4A3AC326F53D8CAC650212590CA7126D54546DDE0F20E89CEE",
        ),
        (
            0xFFFE2000,
            "4625EB06E4886D4AFCC9AE37ED4F4E4E1653C9E60E3F24742A87A26AA96AB7A6",
        ),
        (
            0xFFFE4000,
            "FF20E1BB575539ACCB44E3111BE8757F83AE8549A2DD71B441A4A424F7FFD4B1",
        ),
        (
            0xFFFF0000,
            "6D6DB7AAAE8B3EA90E57A39E4BBA71E173B21B446B30A78D64BFC6A8806C55EE",
        ),
    ];
    for (counter, expected) in txn {
        let ksn = Ksn::from_parts(&IKID, counter);
        let key = aes::derive_intermediate_key(&ik, &ksn).unwrap();
        assert_eq!(key.as_bytes(), &h(expected)[..], "counter {counter:#X}");
    }
    // Working keys for counters 1 and 2 (AES-128 and AES-256 types from the AES-256 BDK).
    let k1 = Ksn::from_parts(&IKID, 1);
    let k2 = Ksn::from_parts(&IKID, 2);
    let w = |ksn: &Ksn, usage, kt| aes::host_working_key(&bdk256(), ksn, usage, kt).unwrap();
    assert_eq!(
        w(&k1, KeyUsage::PinEncryption, KeyType::Aes128).as_bytes(),
        &h("09C9C432966811D6B2C3336BAC1B1202")[..]
    );
    assert_eq!(
        w(&k2, KeyUsage::PinEncryption, KeyType::Aes128).as_bytes(),
        &h("D632226A80795D13A80AFE66A3E97B01")[..]
    );
    assert_eq!(
        w(&k1, KeyUsage::PinEncryption, KeyType::Aes256).as_bytes(),
        &h("8C1AB7BEE973829E30242E0BBBDD4946D540C98FC1B5BDCF94790001A23FD502")[..]
    );
    assert_eq!(
        w(&k2, KeyUsage::PinEncryption, KeyType::Aes256).as_bytes(),
        &h("3583D6CD02FC38822CC71A8D7678E04F4A8556335E6CC66863D3DADC5AEE2C62")[..]
    );
    assert_eq!(
        w(&k1, KeyUsage::MacGeneration, KeyType::Aes128).as_bytes(),
        &h("F04A1FABD4176E15490CEC82E217A96D")[..]
    );
    assert_eq!(
        w(&k1, KeyUsage::MacGeneration, KeyType::Aes256).as_bytes(),
        &h("61DABDF4B340CF461EE860B1D1AB55357142BD2D6977306859CF49AEFE8F1549")[..]
    );
    assert_eq!(
        w(&k1, KeyUsage::DataEncrypt, KeyType::Aes128).as_bytes(),
        &h("616D59AE91F8CC7016F89FDA29605FA4")[..]
    );
    assert_eq!(
        w(&k1, KeyUsage::DataEncrypt, KeyType::Aes256).as_bytes(),
        &h("71EB36C9A6B7F801D1D1700C29741FC5A5C4E9B45D742DA7AF6992B8AA29AF58")[..]
    );
    // The host rejects 0x1FFFF (17 one bits).
    assert!(matches!(
        aes::derive_intermediate_key(&ik, &Ksn::from_parts(&IKID, 0x1FFFF)),
        Err(CryptoError::InvalidKsn { .. })
    ));
}

#[test]
fn derived_key_types_and_lengths() {
    let ksn = Ksn::from_parts(&IKID, 5);
    for (kt, alg, len) in [
        (KeyType::Tdes2, KeyAlgorithm::Tdes2, 16),
        (KeyType::Tdes3, KeyAlgorithm::Tdes3, 24),
        (KeyType::Aes128, KeyAlgorithm::Aes128, 16),
        (KeyType::Aes192, KeyAlgorithm::Aes192, 24),
        (KeyType::Aes256, KeyAlgorithm::Aes256, 32),
    ] {
        let k = aes::host_working_key(&bdk256(), &ksn, KeyUsage::MacBoth, kt).unwrap();
        assert_eq!((k.algorithm(), k.len()), (alg, len));
    }
    // The first 16 bytes of a 2-block key equal the 1-block key of the same usage only if the
    // derivation data were the same; the key type is part of the data, so they differ.
    let a128 = aes::host_working_key(&bdk256(), &ksn, KeyUsage::MacBoth, KeyType::Aes128).unwrap();
    let a256 = aes::host_working_key(&bdk256(), &ksn, KeyUsage::MacBoth, KeyType::Aes256).unwrap();
    assert_ne!(&a256.as_bytes()[..16], a128.as_bytes());
    // An AES-128 BDK cannot give AES-192/256 working keys; it can give TDES keys.
    for kt in [KeyType::Aes192, KeyType::Aes256] {
        assert!(matches!(
            aes::host_working_key(&bdk128(), &ksn, KeyUsage::PinEncryption, kt),
            Err(CryptoError::UnsupportedAlgorithm { .. })
        ));
    }
    let t =
        aes::host_working_key(&bdk128(), &ksn, KeyUsage::PinEncryption, KeyType::Tdes3).unwrap();
    assert_eq!(t.algorithm(), KeyAlgorithm::Tdes3);
    // Derivation data layout (X9.24-3:2017 §6.3.2).
    let d = aes::derivation_data(
        KeyUsage::PinEncryption,
        KeyType::Aes256,
        &[9, 0, 1, 2, 0, 0, 0, 5],
    );
    assert_eq!(
        d.to_vec(),
        h("0101100000040100")
            .into_iter()
            .chain([9, 0, 1, 2, 0, 0, 0, 5])
            .collect::<Vec<u8>>()
    );
}

#[test]
fn originator_matches_receiver() {
    for bdk in [bdk128(), bdk256()] {
        let ik = aes::derive_initial_key(&bdk, &IKID).unwrap();
        let mut dev = Originator::load_initial_key(&ik, &IKID).unwrap();
        for counter in 1..=600u32 {
            let (ksn, key) = dev.next_transaction().unwrap();
            assert_eq!(ksn.counter(), counter);
            assert_eq!(
                key,
                aes::derive_intermediate_key(&ik, &ksn).unwrap(),
                "counter {counter}"
            );
        }
        let keys = dev.next_session_keys(KeyType::Aes128).unwrap();
        assert_eq!(keys.ksn.counter(), 601);
        assert_eq!(
            keys.pin_key,
            aes::host_working_key(&bdk, &keys.ksn, KeyUsage::PinEncryption, KeyType::Aes128)
                .unwrap()
        );
    }
    // Published: the originator's first key for the AES-128 BDK (dukpt-aes128-01).
    let ik = aes::derive_initial_key(&bdk128(), &IKID).unwrap();
    let mut dev = Originator::load_initial_key(&ik, &IKID).unwrap();
    let (ksn, key) = dev.next_transaction().unwrap();
    assert_eq!(ksn, Ksn::from_hex("123456789012345600000001").unwrap());
    assert_eq!(key.as_bytes(), &h("4F21B565BAD9835E112B6465635EAE44")[..]);
}

// 16-ones rule: 0x1FFFE (16 ones) is followed by 0x20000 (0x1FFFF has 17), matching the published
// sequence 1FFFE, 20000, 20001; and the last counter 0xFFFF0000 is followed by end of life.
#[test]
fn sixteen_ones_skip_and_end_of_life() {
    let ik = aes::derive_initial_key(&bdk256(), &IKID).unwrap();
    let mut dev = Originator::at_ksn_for_simulation(&ik, &Ksn::from_parts(&IKID, 0x1FFFE)).unwrap();
    let mut got = Vec::new();
    for _ in 0..3 {
        let (ksn, key) = dev.next_transaction().unwrap();
        assert_eq!(key, aes::derive_intermediate_key(&ik, &ksn).unwrap());
        got.push(ksn.counter());
    }
    assert_eq!(got, vec![0x1FFFE, 0x20000, 0x20001]);

    let mut dev =
        Originator::at_ksn_for_simulation(&ik, &Ksn::from_parts(&IKID, 0xFFFE2000)).unwrap();
    let mut got = Vec::new();
    loop {
        match dev.next_transaction() {
            Ok((ksn, key)) => {
                assert_eq!(key, aes::derive_intermediate_key(&ik, &ksn).unwrap());
                got.push(ksn.counter());
            }
            Err(CryptoError::DukptExhausted) => break,
            Err(e) => panic!("{e}"),
        }
        assert!(got.len() < 10);
    }
    assert_eq!(got, vec![0xFFFE2000, 0xFFFE4000, 0xFFFE8000, 0xFFFF0000]);
    assert_eq!(got.last().map(|_| dev.next_ksn().is_err()), Some(true));
    // Last published key, through the originator path above, equals the vector.
    let last = aes::derive_intermediate_key(&ik, &Ksn::from_parts(&IKID, 0xFFFF0000)).unwrap();
    assert_eq!(
        last.as_bytes(),
        &h("6D6DB7AAAE8B3EA90E57A39E4BBA71E173B21B446B30A78D64BFC6A8806C55EE")[..]
    );
}

#[test]
fn bad_inputs() {
    assert!(matches!(
        Ksn::new(&[0u8; 10]),
        Err(CryptoError::InvalidKsn { .. })
    ));
    let tdes = SecretKey::tdes(&[1u8; 16]).unwrap();
    assert!(matches!(
        aes::derive_initial_key(&tdes, &IKID),
        Err(CryptoError::UnsupportedAlgorithm { .. })
    ));
    let ik = aes::derive_initial_key(&bdk128(), &IKID).unwrap();
    assert!(matches!(
        aes::derive_intermediate_key(&ik, &Ksn::from_parts(&IKID, 0)),
        Err(CryptoError::InvalidKsn { .. })
    ));
    assert!(Originator::at_ksn_for_simulation(&ik, &Ksn::from_parts(&IKID, 0x1FFFF)).is_err());
    // MAC with a derived AES key works through the mac module (CMAC).
    let k = aes::host_working_key(
        &bdk128(),
        &Ksn::from_parts(&IKID, 1),
        KeyUsage::MacGeneration,
        KeyType::Aes128,
    )
    .unwrap();
    assert_eq!(mac::cmac(&k, b"4012345678909D987").unwrap().len(), 16);
}

#[test]
fn state_export_import() {
    let ik = aes::derive_initial_key(&bdk256(), &IKID).unwrap();
    let mut dev = Originator::load_initial_key(&ik, &IKID).unwrap();
    for _ in 0..21 {
        dev.next_transaction().unwrap();
    }
    let mut restored = Originator::import_state(&dev.export_state()).unwrap();
    for _ in 0..30 {
        let a = dev.next_transaction().unwrap();
        let b = restored.next_transaction().unwrap();
        assert_eq!(a.0, b.0);
        assert_eq!(a.1, b.1);
    }
    let state = dev.export_state();
    let mut bad = state.to_vec();
    bad[8] = 9; // key type
    assert!(Originator::import_state(&bad).is_err());
    assert!(Originator::import_state(&state[..state.len() - 3]).is_err());
}
