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

// ANSI X9.24-3:2017 supplement test vectors (first eight KSNs; counters 1FFFE/20000/20001; last four
// counters) for the AES-128 and AES-256 BDKs, as carried by openemv/dukpt
// @1d01ddafa9dac103f4eee2ad1b20483596d83012 test/dukpt_aes128_test.c and test/dukpt_aes256_test.c.
// Arrays: KSN, intermediate ("transaction") key, and the PIN / MAC-generation / data-encryption
// working keys of counters 1-8.
const A128_KSN: &[&str] = &[
    "123456789012345600000001",
    "123456789012345600000002",
    "123456789012345600000003",
    "123456789012345600000004",
    "123456789012345600000005",
    "123456789012345600000006",
    "123456789012345600000007",
    "123456789012345600000008",
    "12345678901234560001FFFE",
    "123456789012345600020000",
    "123456789012345600020001",
    "1234567890123456FFFE2000",
    "1234567890123456FFFE4000",
    "1234567890123456FFFE8000",
    "1234567890123456FFFF0000",
];
const A128_TXN: &[&str] = &[
    "4F21B565BAD9835E112B6465635EAE44",
    "2F34D68DE10F68D38091A73B9E7C437C",
    "031504E530365CF81264238540518318",
    "0EEFC7ADA628BA68878DA9165A8A1887",
    "C2A7AC328A5DA2D6002D62465BFC028B",
    "D30F7D9351DA58448A2F5E92B4EE3B7D",
    "A8253CEED9AC042C54F75D35C8352278",
    "718EE6CF0B27E53D5F7AF99C4D8146A2",
    "E21E8C8D347F8561A2BE752DAA85A111",
    "F7AE9025468A25D37B7249CFFED224C8",
    "692C8EA4013645135B36497131DF9D2C",
    "48E585B694EB0B18D5C35443E163C0BA",
    "396C2C7CA1EA701C03B86B7D41F0C562",
    "0387625F189B58AE03EF0E8CCA41105E",
    "F6BA59389BD14A9855BE9727E7C52E3C",
];
const A128_PIN128: &[&str] = &[
    "AF8CB133A78F8DC2D1359F18527593FB",
    "D30BDC73EC9714B000BEC66BDB7B6D09",
    "7D69F01F3B45449F62C7816ECE723268",
    "91A0588318EC2673214271F70137896E",
    "35A43BC9EFEB09C756204B57E3FB7D4D",
    "02DCC6CD1201A3A2CA7099559C862123",
    "6ECF912F3B18CA11A7A27BB60705FD09",
    "4D9DF3FBEE3448FC3E676D04320A90F5",
];
const A128_MAC128: &[&str] = &[
    "A2DC23DE6FDE0824A2BC321E08E4B8B7",
    "484C3B06E8562704528CD5B46FB12FB6",
    "A5DF7D9D800CA769766F0C77CA4E6E6C",
    "E6E4679647D8A9057C1FC15537CB4C4E",
    "0588185FE1FF8C7E22FAD78C1C61F065",
    "7B60F72A5639C0EE7EB2100FA80BB793",
    "BAA08CA263C69525BC6B1BA8F4275D69",
    "6FD572E5D59E618875F193484F9178FB",
];
const A128_DATA128: &[&str] = &[
    "A35C412EFD41FDB98B69797C02DCD08F",
    "D639514AA33AC43AD9229E433D6D4E5B",
    "EF17F6AB45B4820C93A3DCB21BC491AD",
    "B3BD44C08BB6BA27C3BB4711D7D70387",
    "CA02DF6F30B39E14BD0B4A30E460920F",
    "C9B8A7C4E486180B2229115164F0B293",
    "0FA8F1F0A2DD7B1005A862D77CDED698",
    "650F34204ABD4E57764D61AC3D266FB1",
];
const A128_ENC_PIN: &[&str] = &[
    "A912150391AB65A67E52883D81CE2D15",
    "52A00503BD34BA1383F6A7EE9FE2547F",
    "A5A27E82B43A9A866A93D7ABE89CEF93",
    "71B3D0528669498777555A8BE6698E44",
    "881A7F77A2E04E5BEA985E342FD0B628",
    "BDC1C3871AFB0B340AA5B5CEFD08695E",
    "4A8E6B8C7DBEE6CBA6DC774F0CB83396",
    "8308BB857C17F390369F761F8EB358FA",
];
const A256_KSN: &[&str] = &[
    "123456789012345600000001",
    "123456789012345600000002",
    "123456789012345600000003",
    "123456789012345600000004",
    "123456789012345600000005",
    "123456789012345600000006",
    "123456789012345600000007",
    "123456789012345600000008",
    "12345678901234560001FFFE",
    "123456789012345600020000",
    "123456789012345600020001",
    "1234567890123456FFFE2000",
    "1234567890123456FFFE4000",
    "1234567890123456FFFE8000",
    "1234567890123456FFFF0000",
];
const A256_TXN: &[&str] = &[
    "54AC2B32B145EA4A554CB8BC44B17467063A799856B1CCC2A138D36E8DBF78B3",
    "5DD5A0253842BBBE1D7C0DA27021412C6F1FAB53FB928DEAE56DA06090A9DE97",
    "8EEEF7C464AE415BB1D73FAED21993CD669F7999092A579EC6DD3CC680C65171",
    "C18CBED570B3B89ECADA7CEC9C224CD5A86ECF3DE377D3EFAB720F8C4D76B9D0",
    "6B3C3C93307151C25DC2309456F01C5C3108DAD571C321899A9B7E0C009FD2EB",
    "B8BB61AE3E2D5CD8C699E0C578FB2C7B89B0C0CF02DBAB60864D8049C986C844",
    "88D0ACA287B3066F5DE0C93396337D4C2DA8D92C1F720A576D62CEB4C979E01E",
    "20A796D5077D51B8E7613893A4F095B134E02917DC84BD391F3661D0873FF308",
    "A289508CBF1228452CD86AB77B15CB35577AC828C18BB66681E5A16D6C9CCED3",
    "D62DDA94A47D7DA5D763443B4ECB15EA8DD62E0E4F915958BA459591F8312E37",
    "44110A1102748D4A3AC326F53D8CAC650212590CA7126D54546DDE0F20E89CEE",
    "4625EB06E4886D4AFCC9AE37ED4F4E4E1653C9E60E3F24742A87A26AA96AB7A6",
    "FF20E1BB575539ACCB44E3111BE8757F83AE8549A2DD71B441A4A424F7FFD4B1",
    "630535C9C53E1EC6524016930B56F6728909C45403536B419AEBCB25B7351C07",
    "6D6DB7AAAE8B3EA90E57A39E4BBA71E173B21B446B30A78D64BFC6A8806C55EE",
];
const A256_PIN128: &[&str] = &[
    "09C9C432966811D6B2C3336BAC1B1202",
    "D632226A80795D13A80AFE66A3E97B01",
    "C2CBD3D766B16F9F82F4EE3F74478918",
    "58A3779C1E24B3EDAF068609E7E56D59",
    "97504C8BB0FD4D4A88D605143BF00025",
    "BF281141609E6CAE7DF10DFA47A8D03D",
    "B7C6BB187134E9D429C3E8B7CCBD8477",
    "53C1C60A65532313141A102AD720E967",
];
const A256_MAC128: &[&str] = &[
    "F04A1FABD4176E15490CEC82E217A96D",
    "DD99D77B4E2AB538B26BB6A8B3FB0BE3",
    "5A742A4A0403B3D7BB30842DAFBB5972",
    "C531F7E08514858C445D5F54BFE7DA8E",
    "E2E25AA7FE6E5DD6042C632A5DFED945",
    "07B215929C5DB4262DECEE4A0336DD4F",
    "3AC9CC5159F96E10FCC5EB64015AC76A",
    "6E94A9283EA9AEB7EAA77C3FF55FF2D1",
];
const A256_DATA128: &[&str] = &[
    "616D59AE91F8CC7016F89FDA29605FA4",
    "07B79D9BFF3633C07A9FDDF132070B30",
    "706E4E629E466BED956548E7B0D90C3D",
    "CF3A4D9CA7E962E4023A84A2FE47DC80",
    "94C28455AEAD970555F326298557FA81",
    "408D3B9A7D1AF109E2F689514BF79AC7",
    "DC2915BF421D617E7725E63A7DACB18D",
    "8950DD50C254C60E26737CA9229F0F18",
];
const A256_PIN256: &[&str] = &[
    "8C1AB7BEE973829E30242E0BBBDD4946D540C98FC1B5BDCF94790001A23FD502",
    "3583D6CD02FC38822CC71A8D7678E04F4A8556335E6CC66863D3DADC5AEE2C62",
    "96A1AB5D37CB7CF81DDE64F66C46E0389B833E7AD5F4E44C791F04FAFDA6DA0E",
    "420AA584BF215C4777E93009B56D08DE80687021D07ED96349FF71379CE5636D",
    "B1E9E3D918952E6E5F67917F0FE77060F865AE27DCAD5742DDF90F61453B98BA",
    "8714EB94E3BFD3018EC99D0434D9C94F071AF2EEBF4332FB14F5179793AA582C",
    "693C893A1E81D280302E0A47E7E634337B9A9B26E7CC6064D807E08FF911AFAC",
    "173A45284262A3E292D86D08FD6DE9167963214450D1D48F6103BD2EB08E61B5",
];
const A256_MAC256: &[&str] = &[
    "61DABDF4B340CF461EE860B1D1AB55357142BD2D6977306859CF49AEFE8F1549",
    "4417356219B2F93CE3F2671623DDCAB58A8B85AD80662A8D628024000956D426",
    "35BD00A46F2A2BD127F565FBF2974B735AE3BB70242C0A415857CF69B2C2691A",
    "D80617C3C5869A8DCF0DA5383D032A0D6E6C51C0BF649BE992BE84AA191AE326",
    "8B047E32C476C0A0AF90A9B8D1C247C433E3D4C1DF1C7FC52E8CB1DC4C8FB275",
    "A2FF6FFB37CB8042B8C9B2F94C90C83D94DD5BECCD9951CFAB0BE7BD865CA403",
    "E8A57085DBE804B8C2767F9F77D54854861E99633A062C700B4E50A865153150",
    "949A3FEF12DBD273DD25BB60E29BBE313C872A9DE3BE03A7E29626ACA0A42880",
];
const A256_DATA256: &[&str] = &[
    "71EB36C9A6B7F801D1D1700C29741FC5A5C4E9B45D742DA7AF6992B8AA29AF58",
    "D0AC9F71F875FFFF3A83778F72F39EBB0924A5A526617AF669665E0A19725465",
    "8E70D5DF53F48ED2F2A0B54FC4F45C844579BE96F6F161222CDD50193E2F737F",
    "41D23F7D78E22A978D726BC71D266374263120EE49146CE5C1291FD0EE7DDD31",
    "813D156C142E5BB8F136427EBD0A1AC4DC9B2B5963C481F5E0A58F4BF33BD185",
    "F1FB0591AA2E45E1CE4C5D970C7396C4A87E53E5900C4A6D95C174140CC0AC9C",
    "69BC5C9AFB2C93CC30C3F7529360B34D7B64B7206E0F0940D8654378C54824F2",
    "0BF8789A21D068410A16C9F7FCBF65A7B4FF73203ADC0F1B4B5E5BF8050E4284",
];

/// Walk the originator through the published KSNs (rebuilding it at the start of each of the three
/// runs) and compare KSNs and keys; after the last published counter the device is exhausted.
fn check_supplement(bdk: &SecretKey, ksns: &[&str], txns: &[&str]) {
    let ik = aes::derive_initial_key(bdk, &IKID).unwrap();
    let mut dev = Originator::load_initial_key(&ik, &IKID).unwrap();
    for (i, (ksn_hex, txn_hex)) in ksns.iter().zip(txns).enumerate() {
        let ksn = Ksn::from_hex(ksn_hex).unwrap();
        if i == 8 || i == 11 {
            dev = Originator::at_ksn_for_simulation(&ik, &ksn).unwrap();
        }
        let (got, key) = dev.next_transaction().unwrap();
        assert_eq!(got, ksn, "{ksn_hex}");
        assert_eq!(key.as_bytes(), &h(txn_hex)[..], "{ksn_hex}");
        assert_eq!(key, aes::derive_intermediate_key(&ik, &ksn).unwrap());
    }
    assert!(matches!(
        dev.next_transaction(),
        Err(CryptoError::DukptExhausted)
    ));
}

fn check_working(bdk: &SecretKey, usage: KeyUsage, kt: KeyType, expected: &[&str]) {
    for (i, e) in expected.iter().enumerate() {
        let ksn = Ksn::from_parts(&IKID, i as u32 + 1);
        let k = aes::host_working_key(bdk, &ksn, usage, kt).unwrap();
        assert_eq!(
            k.as_bytes(),
            &h(e)[..],
            "{usage:?} {kt:?} counter {}",
            i + 1
        );
    }
}

#[test]
fn x9_24_3_supplement_aes128_bdk() {
    check_supplement(&bdk128(), A128_KSN, A128_TXN);
    check_working(
        &bdk128(),
        KeyUsage::PinEncryption,
        KeyType::Aes128,
        A128_PIN128,
    );
    check_working(
        &bdk128(),
        KeyUsage::MacGeneration,
        KeyType::Aes128,
        A128_MAC128,
    );
    check_working(
        &bdk128(),
        KeyUsage::DataEncrypt,
        KeyType::Aes128,
        A128_DATA128,
    );
    // Encrypted format 4 PIN blocks (PIN 1234, PAN 4111111111111111, random half 2F69ADDE2E9E7ACE).
    let fill = h("2F69ADDE2E9E7ACE");
    for (i, e) in A128_ENC_PIN.iter().enumerate() {
        let ksn = Ksn::from_parts(&IKID, i as u32 + 1);
        let key = aes::host_working_key(&bdk128(), &ksn, KeyUsage::PinEncryption, KeyType::Aes128)
            .unwrap();
        let mut src = |buf: &mut [u8]| {
            buf.copy_from_slice(&fill);
            Ok(())
        };
        let p = Pin::new("1234").unwrap();
        let enc = pin::encrypt(
            &key,
            PinBlockFormat::Iso4,
            &p,
            Some("4111111111111111"),
            &mut src,
        )
        .unwrap();
        assert_eq!(enc, h(e), "counter {}", i + 1);
    }
}

#[test]
fn x9_24_3_supplement_aes256_bdk() {
    check_supplement(&bdk256(), A256_KSN, A256_TXN);
    check_working(
        &bdk256(),
        KeyUsage::PinEncryption,
        KeyType::Aes128,
        A256_PIN128,
    );
    check_working(
        &bdk256(),
        KeyUsage::PinEncryption,
        KeyType::Aes256,
        A256_PIN256,
    );
    check_working(
        &bdk256(),
        KeyUsage::MacGeneration,
        KeyType::Aes128,
        A256_MAC128,
    );
    check_working(
        &bdk256(),
        KeyUsage::MacGeneration,
        KeyType::Aes256,
        A256_MAC256,
    );
    check_working(
        &bdk256(),
        KeyUsage::DataEncrypt,
        KeyType::Aes128,
        A256_DATA128,
    );
    check_working(
        &bdk256(),
        KeyUsage::DataEncrypt,
        KeyType::Aes256,
        A256_DATA256,
    );
}
