//! MACs: ISO 9797-1 algorithms 1 and 3, CMAC, UnionPay ECB MAC, SM4 CBC-MAC, verification.

use smartpos_crypto::CryptoError;
use smartpos_crypto::cipher;
use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_crypto::mac::{self, Padding};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

// id: mac-fips113-des, source: bcgit/bc-java core/src/test/java/org/bouncycastle/crypto/test/MacTest.java
// (vectors from FIPS 81/113)
#[test]
fn fips113_des_cbc_mac() {
    let key = SecretKey::new(KeyAlgorithm::Des, &h("0123456789ABCDEF")).unwrap();
    let data = h("37363534333231204E6F77206973207468652074696D6520666F7220");
    assert_eq!(data, b"7654321 Now is the time for ".to_vec());
    let m = mac::cbc_mac(&key, &data, Padding::Method1).unwrap();
    assert_eq!(m, h("F1D30F6849312CA4"));
    assert_eq!(&m[..4], &h("F1D30F68")[..]);
}

// id: mac-retail-iso9797-B4, source: RustCrypto/MACs @133c6a6f retail-mac/README.md (ISO/IEC 9797-1:2011
// B.4); openemv/crypto @b04aa34 test/crypto_tdes2_retail_mac_test.c
#[test]
fn iso9797_1_b4_algorithm_1_and_3() {
    let k = SecretKey::new(KeyAlgorithm::Des, &h("0123456789ABCDEF")).unwrap();
    let kk = SecretKey::from_hex(KeyAlgorithm::Tdes2, "0123456789ABCDEFFEDCBA9876543210").unwrap();
    let s1 = b"Now is the time for all ";
    let s2 = b"Now is the time for it";
    // MAC algorithm 3 with K, K', padding method 1 (the published B.4 values).
    assert_eq!(
        mac::retail_mac(&kk, s1, Padding::Method1).unwrap(),
        h("A1C72E74EA3FA9B6")
    );
    assert_eq!(
        mac::retail_mac(&kk, s2, Padding::Method1).unwrap(),
        h("2E2B1428CC78254F")
    );
    // MAC algorithm 1 (single DES K) differs from algorithm 3 on the same input.
    assert_ne!(
        mac::cbc_mac(&k, s1, Padding::Method1).unwrap(),
        h("A1C72E74EA3FA9B6")
    );
    // Padding methods 2 and 3 (values marked _computed in published.md).
    assert_eq!(
        mac::retail_mac(&kk, s1, Padding::Method2).unwrap(),
        h("E9086230CA3BE796")
    );
    assert_eq!(
        mac::retail_mac(&kk, s1, Padding::Method3).unwrap(),
        h("AB059463D7A7D170")
    );
    assert_eq!(
        mac::retail_mac(&kk, s2, Padding::Method2).unwrap(),
        h("5A692CE64F404145")
    );
    assert_eq!(
        mac::retail_mac(&kk, s2, Padding::Method3).unwrap(),
        h("C59F7EED328DDD69")
    );
}

// Retail MAC equals its definition: single-DES CBC-MAC under K over all but the last block, then
// E_K(D_K'(E_K(H xor last))). Checked against an independent composition of the cipher module.
#[test]
fn retail_mac_matches_definition_for_many_lengths() {
    let kk = SecretKey::from_hex(KeyAlgorithm::Tdes2, "0123456789ABCDEFFEDCBA9876543210").unwrap();
    let k = SecretKey::new(KeyAlgorithm::Des, &h("0123456789ABCDEF")).unwrap();
    let kp = SecretKey::new(KeyAlgorithm::Des, &h("FEDCBA9876543210")).unwrap();
    for len in 0..40usize {
        let data: Vec<u8> = (0..len as u8).map(|i| i.wrapping_mul(37)).collect();
        let padded = mac::pad(&data, 8, Padding::Method1);
        let ct = cipher::encrypt_cbc(&k, &[0u8; 8], &padded).unwrap();
        let mut last = ct[ct.len() - 8..].to_vec();
        let mut tmp = last.clone();
        tmp = cipher::decrypt_ecb(&kp, &tmp).unwrap();
        last.copy_from_slice(&cipher::encrypt_ecb(&k, &tmp).unwrap());
        assert_eq!(
            mac::retail_mac(&kk, &data, Padding::Method1).unwrap(),
            last,
            "len {len}"
        );
    }
}

#[test]
fn padding_methods() {
    assert_eq!(mac::pad(b"", 8, Padding::Method1), vec![0u8; 8]);
    assert_eq!(mac::pad(&[1; 8], 8, Padding::Method1), vec![1u8; 8]);
    assert_eq!(
        mac::pad(&[1; 3], 8, Padding::Method1),
        h("0101010000000000")
    );
    assert_eq!(mac::pad(b"", 8, Padding::Method2), h("8000000000000000"));
    assert_eq!(
        mac::pad(&[1; 8], 8, Padding::Method2),
        h("01010101010101018000000000000000")
    );
    assert_eq!(
        mac::pad(&[1; 3], 8, Padding::Method3),
        h("00000000000000180101010000000000")
    );
    assert_eq!(mac::pad(b"", 16, Padding::Method3), vec![0u8; 16]);
    assert!(Padding::from_number(4).is_err());
    assert_eq!(Padding::from_number(2).unwrap(), Padding::Method2);
}

// id: cmac-aes128-1, cmac-aes128-2, source: openemv/crypto @b04aa34 test/crypto_aes_cmac_test.c
// (NIST SP 800-38B App. D). The 20- and 64-byte cases are SP 800-38B D.1 examples 3 and 4.
#[test]
fn aes_cmac_nist() {
    let key = SecretKey::aes(&h("2B7E151628AED2A6ABF7158809CF4F3C")).unwrap();
    assert_eq!(
        mac::cmac(&key, b"").unwrap(),
        h("BB1D6929E95937287FA37D129B756746")
    );
    assert_eq!(
        mac::cmac(&key, &h("6BC1BEE22E409F96E93D7E117393172A")).unwrap(),
        h("070A16B46B4D4144F79BDD9DD04A287C")
    );
    assert_eq!(
        mac::cmac(&key, &h("6BC1BEE22E409F96E93D7E117393172AAE2D8A57")).unwrap(),
        h("7D85449EA6EA19C823A7BF78837DFADE")
    );
    let m64 = h(concat!(
        "6BC1BEE22E409F96E93D7E117393172AAE2D8A571E03AC9C9EB76FAC45AF8E51",
        "30C81C46A35CE411E5FBC1191A0A52EFF69F2445DF4F9B17AD2B417BE66C3710"
    ));
    assert_eq!(
        mac::cmac(&key, &m64).unwrap(),
        h("51F0BEBF7E3B9D92FC49741779363CFE")
    );
}

// id: cmac-tdes2-1, source: openemv/crypto @b04aa34 test/crypto_tdes_cmac_test.c (NIST SP 800-38B App. D)
#[test]
fn tdes_cmac_nist() {
    let key = SecretKey::from_hex(KeyAlgorithm::Tdes2, "0123456789ABCDEF23456789ABCDEF01").unwrap();
    assert_eq!(mac::cmac(&key, b"").unwrap(), h("79CE52A7F786A960"));
}

#[test]
fn sm4_cbc_mac_is_last_cbc_block() {
    let key = SecretKey::sm4(&h("0123456789ABCDEFFEDCBA9876543210")).unwrap();
    // One full block, method 1: the MAC is the SM4 encryption of the block (sm4-ecb-example1).
    assert_eq!(
        mac::sm4_cbc_mac(
            &key,
            &h("0123456789ABCDEFFEDCBA9876543210"),
            Padding::Method1
        )
        .unwrap(),
        h("681EDF34D206965E86B3E94F536E4246")
    );
    let data = b"UnionPay SM4 MAC input of 35 bytes.";
    for padding in [Padding::Method1, Padding::Method2] {
        let padded = mac::pad(data, 16, padding);
        let ct = cipher::encrypt_cbc(&key, &[0u8; 16], &padded).unwrap();
        assert_eq!(
            mac::sm4_cbc_mac(&key, data, padding).unwrap(),
            ct[ct.len() - 16..].to_vec()
        );
    }
    let aes = SecretKey::aes(&[0u8; 16]).unwrap();
    assert!(matches!(
        mac::sm4_cbc_mac(&aes, data, Padding::Method1),
        Err(CryptoError::UnsupportedAlgorithm { .. })
    ));
}

#[test]
fn verify_is_exact_and_length_checked() {
    let computed = h("A1C72E74EA3FA9B6");
    mac::verify(&computed, &computed).unwrap();
    mac::verify(&computed, &h("A1C72E74")).unwrap();
    assert!(matches!(
        mac::verify(&computed, &h("A1C72E75")),
        Err(CryptoError::MacMismatch)
    ));
    assert!(matches!(
        mac::verify(&computed, &h("A1C72E")),
        Err(CryptoError::InvalidMacLength { len: 3, .. })
    ));
    assert!(matches!(
        mac::verify(&computed, &h("A1C72E74EA3FA9B600")),
        Err(CryptoError::InvalidMacLength { len: 9, .. })
    ));
}

#[test]
fn retail_mac_needs_two_key_tdes() {
    let k3 = SecretKey::tdes(&[0x11; 24]).unwrap();
    assert!(matches!(
        mac::retail_mac(&k3, b"x", Padding::Method1),
        Err(CryptoError::UnsupportedAlgorithm { .. })
    ));
}

// China UnionPay POS "ECB" MAC. Example from solo123/pgate test/integration/pos_mac_test.rb (worked example
// in its comment): MAB 1234567890ABCDEFABCDEF1234567890, single-DES MAK 2222222222222222, XOR
// B9F9B96AA4FDB57F, first half encrypted 9FDE90A34CF73B2E, second encryption E267B6E21913D339,
// MAC "E267B6E2". Algorithm per the 中国银联直联POS终端规范 description (laitimes.com/article/oxbu_pf06).
#[test]
fn cup_ecb_mac_published_example() {
    let des = SecretKey::new(KeyAlgorithm::Des, &h("2222222222222222")).unwrap();
    let mab = h("1234567890ABCDEFABCDEF1234567890");
    let m = mac::cup_ecb_mac(&des, &mab).unwrap();
    assert_eq!(&m, b"E267B6E2");
    // The same key as a 2-key TDES key K||K gives the same MAC (TDES variant of the algorithm).
    let tdes = SecretKey::tdes(&h("22222222222222222222222222222222")).unwrap();
    assert_eq!(&mac::cup_ecb_mac(&tdes, &mab).unwrap(), b"E267B6E2");
    // A real TDES key differs, and flipping one data bit changes the MAC.
    let other =
        SecretKey::tdes(&hex::decode("2222222222222222333333333333333").unwrap_or_default()).ok();
    assert!(other.is_none(), "31 hex digits is not a key");
    let k2 = SecretKey::tdes(&h("22222222222222223333333333333333")).unwrap();
    assert_ne!(&mac::cup_ecb_mac(&k2, &mab).unwrap(), b"E267B6E2");
    let mut flipped = mab.clone();
    flipped[15] ^= 1;
    assert_ne!(&mac::cup_ecb_mac(&des, &flipped).unwrap(), b"E267B6E2");
    // Zero padding: a trailing partial block is padded with 0x00, so appending zero bytes to a
    // partial block leaves the MAC unchanged.
    let partial = h("1234567890ABCDEFABCD");
    assert_eq!(
        mac::cup_ecb_mac(&des, &partial).unwrap(),
        mac::cup_ecb_mac(&des, &h("1234567890ABCDEFABCD000000000000")).unwrap()
    );
    let aes = SecretKey::aes(&[0u8; 16]).unwrap();
    assert!(mac::cup_ecb_mac(&aes, &mab).is_err());
}
