//! Keys, ciphers and KCVs: published vectors and negative cases.

use smartpos_crypto::CryptoError;
use smartpos_crypto::cipher::{self, BlockCipher, Mode};
use smartpos_crypto::kcv::{self, KcvMethod};
use smartpos_crypto::key::{self, KeyAlgorithm, SecretKey};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

// id: sm4-ecb-example1, source: GB/T 32907-2016 Appendix A example 1; bcgit/bc-java SM4Test.java;
// openssl test/recipes/30-test_evp_data/evpciph_sm4.txt
#[test]
fn sm4_ecb_example1() {
    let key = SecretKey::from_hex(KeyAlgorithm::Sm4, "0123456789ABCDEFFEDCBA9876543210").unwrap();
    let pt = h("0123456789ABCDEFFEDCBA9876543210");
    let ct = cipher::encrypt_ecb(&key, &pt).unwrap();
    assert_eq!(ct, h("681EDF34D206965E86B3E94F536E4246"));
    assert_eq!(cipher::decrypt_ecb(&key, &ct).unwrap(), pt);
    let mut block = pt.clone();
    cipher::encrypt_block(&key, &mut block).unwrap();
    assert_eq!(block, ct);
}

// GB/T 32907-2016 Appendix A example 2: the same plaintext encrypted 1,000,000 times under the same key
// gives 595298C7C6FD271F0402F804C33D3F66 (also in openssl evpciph_sm4.txt discussion / bc-java SM4Test).
// Run with the reusable context; 1e6 single-block operations.
#[test]
fn sm4_ecb_example2_million_iterations() {
    let key = SecretKey::sm4(&h("0123456789ABCDEFFEDCBA9876543210")).unwrap();
    let mut bc = BlockCipher::new(&key).unwrap();
    let mut block = h("0123456789ABCDEFFEDCBA9876543210");
    for _ in 0..1_000_000 {
        bc.encrypt_block(&mut block).unwrap();
    }
    assert_eq!(block, h("595298C7C6FD271F0402F804C33D3F66"));
}

// NIST SP 800-38A F.1.1 ECB-AES128.Encrypt, block 1; F.2.1 CBC-AES128.Encrypt blocks 1-2.
#[test]
fn aes128_ecb_cbc_sp800_38a() {
    let key = SecretKey::aes(&h("2B7E151628AED2A6ABF7158809CF4F3C")).unwrap();
    assert_eq!(key.algorithm(), KeyAlgorithm::Aes128);
    let pt = h("6BC1BEE22E409F96E93D7E117393172AAE2D8A571E03AC9C9EB76FAC45AF8E51");
    let ecb = cipher::encrypt_ecb(&key, &pt).unwrap();
    assert_eq!(
        ecb,
        h("3AD77BB40D7A3660A89ECAF32466EF97F5D3D58503B9699DE785895A96FDBAAF")
    );
    let iv = h("000102030405060708090A0B0C0D0E0F");
    let cbc = cipher::encrypt_cbc(&key, &iv, &pt).unwrap();
    assert_eq!(
        cbc,
        h("7649ABAC8119B246CEE98E9B12E9197D5086CB9B507219EE95DB113A917678B2")
    );
    assert_eq!(cipher::decrypt_cbc(&key, &iv, &cbc).unwrap(), pt);
    let mut bc = BlockCipher::new(&key).unwrap();
    assert_eq!(bc.encrypt_cbc(&iv, &pt).unwrap(), cbc);
    assert_eq!(bc.decrypt_ecb(&ecb).unwrap(), pt);
    assert_eq!(
        cipher::encrypt(&key, Mode::Cbc, Some(&iv), &pt).unwrap(),
        cbc
    );
    assert_eq!(cipher::decrypt(&key, Mode::Ecb, None, &ecb).unwrap(), pt);
}

// NIST SP 800-38A F.1.5 ECB-AES256.Encrypt block 1; F.1.3 ECB-AES192.Encrypt block 1.
#[test]
fn aes192_aes256_ecb_sp800_38a() {
    let k256 = SecretKey::aes(&h(
        "603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4",
    ))
    .unwrap();
    let pt = h("6BC1BEE22E409F96E93D7E117393172A");
    assert_eq!(
        cipher::encrypt_ecb(&k256, &pt).unwrap(),
        h("F3EED1BDB5D2A03C064B5A7E3DB181F8")
    );
    let k192 = SecretKey::aes(&h("8E73B0F7DA0E6452C810F32B809079E562F8EAD2522C6B7B")).unwrap();
    assert_eq!(k192.algorithm(), KeyAlgorithm::Aes192);
    assert_eq!(
        cipher::encrypt_ecb(&k192, &pt).unwrap(),
        h("BD334F1D6E45F25FF712A214571FA5CC")
    );
}

// FIPS 81 Appendix B table B1: DES ECB, key 0123456789ABCDEF, "Now is t" -> 3FA40E8A984D4815.
// A 2-key TDES key with K1 = K2 behaves as single DES.
#[test]
fn des_and_degenerate_tdes_fips81() {
    let des = SecretKey::new(KeyAlgorithm::Des, &h("0123456789ABCDEF")).unwrap();
    let pt = b"Now is t".to_vec();
    assert_eq!(
        cipher::encrypt_ecb(&des, &pt).unwrap(),
        h("3FA40E8A984D4815")
    );
    let tdes = SecretKey::tdes(&h("0123456789ABCDEF0123456789ABCDEF")).unwrap();
    assert_eq!(tdes.algorithm(), KeyAlgorithm::Tdes2);
    assert_eq!(
        cipher::encrypt_ecb(&tdes, &pt).unwrap(),
        h("3FA40E8A984D4815")
    );
    let tdes3 = SecretKey::tdes(&h("0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF")).unwrap();
    assert_eq!(tdes3.algorithm(), KeyAlgorithm::Tdes3);
    assert_eq!(
        cipher::encrypt_ecb(&tdes3, &pt).unwrap(),
        h("3FA40E8A984D4815")
    );
}

// 2-key TDES is K1 K2 K1: encrypting under the 3-key K1 K2 K1 gives the same result, and a different
// K3 gives a different one. TDES CBC round-trips.
#[test]
fn tdes2_is_k1k2k1() {
    let k2 = SecretKey::from_hex(KeyAlgorithm::Tdes2, "0123456789ABCDEFFEDCBA9876543210").unwrap();
    let k3 = SecretKey::from_hex(
        KeyAlgorithm::Tdes3,
        "0123456789ABCDEFFEDCBA98765432100123456789ABCDEF",
    )
    .unwrap();
    let other = SecretKey::from_hex(
        KeyAlgorithm::Tdes3,
        "0123456789ABCDEFFEDCBA987654321089ABCDEF01234567",
    )
    .unwrap();
    let pt = h("0000000000000000");
    let a = cipher::encrypt_ecb(&k2, &pt).unwrap();
    assert_eq!(a, cipher::encrypt_ecb(&k3, &pt).unwrap());
    assert_ne!(a, cipher::encrypt_ecb(&other, &pt).unwrap());
    // Known KCV of this key: 08D7B4 (emv-mk-a vector quotes imk_kcv 08D7, pyemv).
    assert_eq!(&a[..2], &h("08D7")[..]);
    let iv = h("1122334455667788");
    let data = h("00112233445566778899AABBCCDDEEFF");
    let ct = cipher::encrypt_cbc(&k3, &iv, &data).unwrap();
    assert_eq!(cipher::decrypt_cbc(&k3, &iv, &ct).unwrap(), data);
    let mut bc = BlockCipher::new(&k3).unwrap();
    assert_eq!(bc.encrypt_cbc(&iv, &data).unwrap(), ct);
}

#[test]
fn non_block_multiple_is_rejected() {
    let key = SecretKey::from_hex(KeyAlgorithm::Tdes2, "0123456789ABCDEFFEDCBA9876543210").unwrap();
    for len in [1usize, 7, 9, 15] {
        let err = cipher::encrypt_ecb(&key, &vec![0u8; len]).unwrap_err();
        assert!(
            matches!(err, CryptoError::NotBlockMultiple { len: l, block: 8, .. } if l == len),
            "{err:?}"
        );
    }
    let aes = SecretKey::aes(&[0u8; 16]).unwrap();
    assert!(matches!(
        cipher::decrypt_cbc(&aes, &[0u8; 16], &[0u8; 24]),
        Err(CryptoError::NotBlockMultiple { block: 16, .. })
    ));
    assert!(matches!(
        cipher::encrypt_cbc(&aes, &[0u8; 8], &[0u8; 16]),
        Err(CryptoError::InvalidIvLength {
            len: 8,
            expected: 16
        })
    ));
    let mut short = [0u8; 8];
    assert!(
        BlockCipher::new(&aes)
            .unwrap()
            .encrypt_block(&mut short)
            .is_err()
    );
    assert_eq!(cipher::encrypt_ecb(&aes, &[]).unwrap(), Vec::<u8>::new());
}

#[test]
fn wrong_key_length_is_rejected() {
    for (alg, len) in [
        (KeyAlgorithm::Des, 16),
        (KeyAlgorithm::Tdes2, 8),
        (KeyAlgorithm::Tdes3, 16),
        (KeyAlgorithm::Aes128, 24),
        (KeyAlgorithm::Aes256, 16),
        (KeyAlgorithm::Sm4, 32),
    ] {
        let err = SecretKey::new(alg, &vec![0x11; len]).unwrap_err();
        assert!(
            matches!(err, CryptoError::InvalidKeyLength { algorithm, len: l, .. } if algorithm == alg && l == len),
            "{err:?}"
        );
    }
    assert!(matches!(
        SecretKey::tdes(&[0u8; 12]),
        Err(CryptoError::InvalidKeyLengthFor {
            family: "DES/TDES",
            len: 12,
            ..
        })
    ));
    assert!(matches!(
        SecretKey::aes(&[0u8; 20]),
        Err(CryptoError::InvalidKeyLengthFor {
            family: "AES",
            len: 20,
            ..
        })
    ));
    assert!(matches!(
        SecretKey::from_hex(KeyAlgorithm::Aes128, "XYZ"),
        Err(CryptoError::InvalidHex { field: "key", .. })
    ));
}

#[test]
fn des_parity_check_and_fix() {
    let good =
        SecretKey::from_hex(KeyAlgorithm::Tdes2, "0123456789ABCDEFFEDCBA9876543210").unwrap();
    assert!(good.has_odd_parity());
    good.check_parity().unwrap();
    // 0x00 has even parity: byte 0 is reported.
    let bad = SecretKey::from_hex(KeyAlgorithm::Tdes2, "0023456789ABCDEFFEDCBA9876543210").unwrap();
    assert!(!bad.has_odd_parity());
    assert!(matches!(
        bad.check_parity(),
        Err(CryptoError::KeyParity { byte_index: 0 })
    ));
    let bad5 = SecretKey::from_hex(KeyAlgorithm::Des, "0123456789AACDEF").unwrap();
    assert!(matches!(
        bad5.check_parity(),
        Err(CryptoError::KeyParity { byte_index: 5 })
    ));
    let fixed = bad.with_odd_parity();
    fixed.check_parity().unwrap();
    assert_eq!(fixed.as_bytes(), &h("0123456789ABCDEFFEDCBA9876543210")[..]);
    // Parity bits do not change the DES result.
    let pt = h("0000000000000000");
    assert_eq!(
        cipher::encrypt_ecb(&bad, &pt).unwrap(),
        cipher::encrypt_ecb(&fixed, &pt).unwrap()
    );
    let mut bytes = h("FEFE");
    key::set_odd_parity(&mut bytes);
    assert_eq!(bytes, h("FEFE").iter().map(|_| 0xFE).collect::<Vec<u8>>());
    let mut bytes = h("0000");
    key::set_odd_parity(&mut bytes);
    assert_eq!(bytes, h("0101"));
    assert!(key::is_odd_parity(&bytes));
    // AES keys have no parity bits.
    SecretKey::aes(&[0u8; 16]).unwrap().check_parity().unwrap();
}

#[test]
fn debug_never_shows_key_bytes() {
    let key = SecretKey::from_hex(KeyAlgorithm::Tdes2, "0123456789ABCDEFFEDCBA9876543210").unwrap();
    let text = format!("{key:?}");
    assert!(!text.contains("0123456789"), "{text}");
    assert!(!text.to_uppercase().contains("FEDCBA"), "{text}");
    assert!(
        text.contains("Tdes2") && text.contains("16") && text.contains("08D7"),
        "{text}"
    );
}

#[test]
fn xor_variant_and_equality() {
    let key = SecretKey::from_hex(KeyAlgorithm::Tdes2, "0123456789ABCDEFFEDCBA9876543210").unwrap();
    let v = key.xor(&h("C0C0C0C000000000C0C0C0C000000000")).unwrap();
    assert_eq!(v.as_bytes(), &h("C1E385A789ABCDEF3E1C7A5876543210")[..]);
    assert_ne!(v, key);
    assert_eq!(v.xor(&h("C0C0C0C000000000C0C0C0C000000000")).unwrap(), key);
    assert!(key.xor(&[0u8; 8]).is_err());
}

// KCV, encrypt-zeros method: tr31-openemv-1a / tr31-openemv-2 (openemv/tr31 @d230c28 test/tr31_decrypt_test.c)
// give the KCVs of their TDES keys; emv-mk-a (pyemv kd.py) gives 08D7 for 0123...3210.
#[test]
fn kcv_encrypt_zeros_published() {
    let k = SecretKey::from_hex(KeyAlgorithm::Tdes2, "5DB50B454F8389ADCE573BE50861F2BF").unwrap();
    assert_eq!(&kcv::encrypt_zeros(&k).unwrap()[..3], &h("5C9405")[..]);
    kcv::check(&k, &h("5C9405")).unwrap();
    let k2 = SecretKey::from_hex(KeyAlgorithm::Tdes2, "F039121BEC83D26B169BDCD5B22AAF8F").unwrap();
    assert_eq!(
        kcv::conventional(&k2, KcvMethod::Zeros).unwrap(),
        h("CB9DEA")
    );
    assert_eq!(kcv::encrypt_zeros(&k2).unwrap().len(), 8);
    let imk = SecretKey::from_hex(KeyAlgorithm::Tdes2, "0123456789ABCDEFFEDCBA9876543210").unwrap();
    kcv::check(&imk, &h("08D7")).unwrap();
}

#[test]
fn kcv_mismatch_and_bad_length() {
    let k = SecretKey::from_hex(KeyAlgorithm::Tdes2, "5DB50B454F8389ADCE573BE50861F2BF").unwrap();
    match kcv::check(&k, &h("5C9406")) {
        Err(CryptoError::KcvMismatch { expected, computed }) => {
            assert_eq!(expected, "5C9406");
            assert_eq!(computed, "5C9405");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        kcv::check(&k, &h("5C")),
        Err(CryptoError::InvalidInput { field: "kcv", .. })
    ));
    assert!(kcv::check(&k, &[0u8; 9]).is_err());
}

// KCV, CMAC method (ANSI X9.24-1:2017 A.3): CMAC of 16 zero bytes; for the NIST key 2B7E..4F3C the
// CMAC of one zero block is computed independently here from NIST SP 800-38B's definition:
// the AES-CMAC of a complete one-block message M is E_K(M XOR K1), K1 = 0xFBEED618357133667C85E08F7236A8DE
// (SP 800-38B D.1 subkey), i.e. E_K(K1).
#[test]
fn kcv_cmac_method_aes() {
    let key = SecretKey::aes(&h("2B7E151628AED2A6ABF7158809CF4F3C")).unwrap();
    let mut expected = h("FBEED618357133667C85E08F7236A8DE");
    cipher::encrypt_block(&key, &mut expected).unwrap();
    let full = kcv::compute(&key, KcvMethod::Cmac).unwrap();
    assert_eq!(full, expected);
    assert_eq!(
        kcv::conventional(&key, KcvMethod::Cmac).unwrap(),
        expected[..5].to_vec()
    );
    kcv::check_with(&key, KcvMethod::Cmac, &expected[..5]).unwrap();
    assert!(kcv::check_with(&key, KcvMethod::Zeros, &expected[..5]).is_err());
}

// The types other layers keep in long-lived objects (UniFFI objects, the terminal's PIN pad state)
// can move between threads.
#[test]
fn long_lived_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<SecretKey>();
    send_sync::<BlockCipher>();
    send_sync::<smartpos_crypto::dukpt::tdes::Originator>();
    send_sync::<smartpos_crypto::dukpt::aes::Originator>();
    send_sync::<smartpos_crypto::pin::Pin>();
    send_sync::<CryptoError>();
}
