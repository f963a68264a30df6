//! Terminal key hierarchy: TMK from components or TR-31, working keys with KCVs (field 62).

use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_crypto::keyhier::{
    self, EncryptedWorkingKey, HierarchyAlgorithm, KeyHierarchy, KeyHierarchyError, WorkingKeyType,
};
use smartpos_crypto::tr31::{self, Algorithm, KeyBlockHeader, KeyUsage, ModeOfUse, Version};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}
fn kcv(key: &SecretKey, n: usize) -> Vec<u8> {
    smartpos_crypto::kcv::encrypt_zeros(key).unwrap()[..n].to_vec()
}

const TMK: &str = "0123456789ABCDEFFEDCBA9876543210";
// id: tr31-openemv-2 expected_key / expected_kcv (TR-31:2018 A.7.2.1): a TDES key with a
// published KCV, used here as the PIN working key.
const TPK: &str = "F039121BEC83D26B169BDCD5B22AAF8F";
const TPK_KCV: &str = "CB9DEA";

#[test]
fn tmk_from_components_checks_every_kcv() {
    let c1 = h("0123456789ABCDEF0123456789ABCDEF");
    let c2 = h("00000000000000000000000000000000");
    let c3 = h("0000000000000000FFFFFFFFFFFFFFFF");
    let tmk = SecretKey::tdes(&h(TMK)).unwrap();
    let k = |b: &[u8]| SecretKey::tdes(b).unwrap();
    let (v1, v2, v3, vt) = (
        kcv(&k(&c1), 3),
        kcv(&k(&c2), 3),
        kcv(&k(&c3), 3),
        kcv(&tmk, 3),
    );
    // 0123456789ABCDEF ^ 0 ^ 0 = 0123456789ABCDEF; 0123456789ABCDEF ^ FFFF.. = FEDCBA9876543210.
    let combined =
        keyhier::combine_components(KeyAlgorithm::Tdes2, &[&c1, &c2, &c3], &[&v1, &v2, &v3], &vt)
            .unwrap();
    assert_eq!(combined, tmk);
    // The well-known KCV of 0123..3210 (pyemv: 08D7).
    assert_eq!(hex::encode_upper(&vt[..2]), "08D7");
    // A wrong component KCV names the component.
    let bad = [0u8, 0, 0];
    assert!(matches!(
        keyhier::combine_components(
            KeyAlgorithm::Tdes2,
            &[&c1, &c2, &c3],
            &[&v1, &bad, &v3],
            &vt
        ),
        Err(KeyHierarchyError::ComponentKcvMismatch { index: 1, .. })
    ));
    assert!(matches!(
        keyhier::combine_components(KeyAlgorithm::Tdes2, &[&c1, &c2, &c3], &[&v1, &v2, &v3], &v1),
        Err(KeyHierarchyError::CombinedKcvMismatch(_))
    ));
    assert!(matches!(
        keyhier::combine_components(KeyAlgorithm::Tdes2, &[&c1], &[&v1], &vt),
        Err(KeyHierarchyError::ComponentCount { count: 1 })
    ));
    assert!(matches!(
        keyhier::combine_components(KeyAlgorithm::Tdes2, &[&c1, &c2[..8]], &[&v1, &v2], &vt),
        Err(KeyHierarchyError::ComponentLength { index: 1, .. })
    ));
}

#[test]
fn tdes_sign_on_field62_installs_keys_after_kcv() {
    let tmk = SecretKey::tdes(&h(TMK)).unwrap();
    let tpk = SecretKey::tdes(&h(TPK)).unwrap();
    let tak = SecretKey::tdes(&h("1111111111111111AAAAAAAAAAAAAAAA")).unwrap();
    let tdk = SecretKey::tdes(&h("2222222222222222BBBBBBBBBBBBBBBB")).unwrap();
    let mut field = Vec::new();
    for key in [&tpk, &tak, &tdk] {
        let (enc, check) = keyhier::encipher_working_key(&tmk, key).unwrap();
        assert_ne!(enc, key.as_bytes());
        field.extend_from_slice(&enc);
        field.extend_from_slice(&check);
    }
    assert_eq!(hex::encode_upper(&field[16..19]), TPK_KCV);
    let mut hier = KeyHierarchy::new(HierarchyAlgorithm::Tdes);
    assert!(matches!(
        hier.load_sign_on_field(&field),
        Err(KeyHierarchyError::NoMasterKey)
    ));
    hier.install_tmk(tmk.clone()).unwrap();
    hier.load_sign_on_field(&field).unwrap();
    assert_eq!(hier.key(WorkingKeyType::Pin), Some(&tpk));
    assert_eq!(hier.key(WorkingKeyType::Mac), Some(&tak));
    assert_eq!(hier.key(WorkingKeyType::Data), Some(&tdk));
    // Debug shows no key material.
    let dbg = format!("{hier:?}");
    assert!(!dbg.contains("F039") && dbg.contains("pin: true"));

    // A field whose MAC key KCV is wrong installs nothing (atomic), and the old keys stay.
    let mut hier2 = KeyHierarchy::new(HierarchyAlgorithm::Tdes);
    hier2.install_tmk(tmk.clone()).unwrap();
    let mut bad = field.clone();
    bad[39] ^= 0x01;
    assert!(matches!(
        hier2.load_sign_on_field(&bad),
        Err(KeyHierarchyError::WorkingKeyKcvMismatch {
            key: WorkingKeyType::Mac,
            ..
        })
    ));
    assert!(hier2.key(WorkingKeyType::Pin).is_none());
    assert!(hier2.key(WorkingKeyType::Mac).is_none());
    // A tampered enciphered key fails its KCV too.
    let mut bad = field.clone();
    bad[0] ^= 0x01;
    assert!(matches!(
        hier2.load_sign_on_field(&bad),
        Err(KeyHierarchyError::WorkingKeyKcvMismatch {
            key: WorkingKeyType::Pin,
            ..
        })
    ));
    assert!(matches!(
        hier2.load_sign_on_field(&field[..39]),
        Err(KeyHierarchyError::InvalidKeyField { len: 39, .. })
    ));
    // 40-byte layout: PIN and MAC only.
    hier2.load_sign_on_field(&field[..40]).unwrap();
    assert_eq!(hier2.key(WorkingKeyType::Mac), Some(&tak));
    assert!(hier2.key(WorkingKeyType::Data).is_none());
    // Installing a new TMK drops the working keys.
    hier2.install_tmk(tmk).unwrap();
    assert!(hier2.key(WorkingKeyType::Pin).is_none());
}

#[test]
fn single_des_mac_key_in_double_length_field() {
    let tmk = SecretKey::tdes(&h(TMK)).unwrap();
    let mak = SecretKey::new(KeyAlgorithm::Des, &h("3131313131313131")).unwrap();
    let (enc, check) = keyhier::encipher_working_key(&tmk, &mak).unwrap();
    let mut enciphered = enc.clone();
    enciphered.extend_from_slice(&[0; 8]);
    let mut hier = KeyHierarchy::new(HierarchyAlgorithm::Tdes);
    hier.install_tmk(tmk).unwrap();
    hier.load_working_key(&EncryptedWorkingKey {
        key_type: WorkingKeyType::Mac,
        enciphered: &enciphered,
        kcv: &check,
    })
    .unwrap();
    assert_eq!(hier.key(WorkingKeyType::Mac), Some(&mak));
    assert!(matches!(
        hier.load_working_key(&EncryptedWorkingKey {
            key_type: WorkingKeyType::Pin,
            enciphered: &enc[..7],
            kcv: &check
        }),
        Err(KeyHierarchyError::WorkingKeyLength { .. })
    ));
}

// id: sm4-ecb-example1, source: GB/T 32907-2016 Appendix A example 1: under the SM4 TMK
// 0123456789ABCDEFFEDCBA9876543210 the cryptogram 681EDF34D206965E86B3E94F536E4246 deciphers to
// the working key 0123456789ABCDEFFEDCBA9876543210.
#[test]
fn sm4_working_key_from_published_cryptogram() {
    let tmk = SecretKey::sm4(&h(TMK)).unwrap();
    let expected = SecretKey::sm4(&h(TMK)).unwrap();
    let check = kcv(&expected, 4);
    let mut hier = KeyHierarchy::new(HierarchyAlgorithm::Sm4);
    assert!(hier.install_tmk(SecretKey::tdes(&h(TMK)).unwrap()).is_err());
    hier.install_tmk(tmk).unwrap();
    let enc = h("681EDF34D206965E86B3E94F536E4246");
    hier.load_working_key(&EncryptedWorkingKey {
        key_type: WorkingKeyType::Pin,
        enciphered: &enc,
        kcv: &check,
    })
    .unwrap();
    assert_eq!(hier.key(WorkingKeyType::Pin), Some(&expected));
    assert_eq!(
        hier.key(WorkingKeyType::Pin).unwrap().algorithm(),
        KeyAlgorithm::Sm4
    );
    let wrong = [0u8; 4];
    assert!(matches!(
        hier.load_working_key(&EncryptedWorkingKey {
            key_type: WorkingKeyType::Data,
            enciphered: &enc,
            kcv: &wrong
        }),
        Err(KeyHierarchyError::WorkingKeyKcvMismatch {
            key: WorkingKeyType::Data,
            ..
        })
    ));
    assert!(hier.key(WorkingKeyType::Data).is_none());
}

#[test]
fn tmk_from_tr31_requires_a_kek() {
    let kbpk = SecretKey::aes(&[0x42; 32]).unwrap();
    let tmk = h(TMK);
    let header = KeyBlockHeader::new(
        Version::D,
        KeyUsage::KEK,
        Algorithm::Tdes,
        ModeOfUse::DecryptOnly,
    );
    let block = tr31::wrap(&kbpk, &header, &tmk).unwrap();
    let key = keyhier::tmk_from_tr31(&kbpk, &block).unwrap();
    assert_eq!(key.as_bytes(), &tmk[..]);
    // A PIN key block is refused as a TMK.
    let pin_header = KeyBlockHeader::new(
        Version::D,
        KeyUsage::PIN_ENCRYPTION,
        Algorithm::Tdes,
        ModeOfUse::EncryptOnly,
    );
    let pin_block = tr31::wrap(&kbpk, &pin_header, &tmk).unwrap();
    assert!(matches!(
        keyhier::tmk_from_tr31(&kbpk, &pin_block),
        Err(KeyHierarchyError::Tr31(_))
    ));
    // An encrypt-only KEK cannot unwrap working keys.
    let enc_only = KeyBlockHeader::new(
        Version::D,
        KeyUsage::KEK,
        Algorithm::Tdes,
        ModeOfUse::EncryptOnly,
    );
    let block = tr31::wrap(&kbpk, &enc_only, &tmk).unwrap();
    assert!(matches!(
        keyhier::tmk_from_tr31(&kbpk, &block),
        Err(KeyHierarchyError::Tr31(_))
    ));
}

#[test]
fn sm4_tmk_from_two_components() {
    let c1 = h("00112233445566778899AABBCCDDEEFF");
    let c2 = h("0132547698BADCFE67452301EFCDAB89");
    let combined: Vec<u8> = c1.iter().zip(&c2).map(|(a, b)| a ^ b).collect();
    let k = |b: &[u8]| SecretKey::sm4(b).unwrap();
    let (v1, v2, vt) = (kcv(&k(&c1), 4), kcv(&k(&c2), 4), kcv(&k(&combined), 4));
    let tmk =
        keyhier::combine_components(KeyAlgorithm::Sm4, &[&c1, &c2], &[&v1, &v2], &vt).unwrap();
    assert_eq!(tmk.as_bytes(), &combined[..]);
    assert_eq!(tmk.algorithm(), KeyAlgorithm::Sm4);
    let mut hier = KeyHierarchy::new(HierarchyAlgorithm::Sm4);
    hier.install_tmk(tmk.clone()).unwrap();
    // A 60-byte SM4 field 62 built by the host side loads all three keys.
    let keys = [k(&[0x10; 16]), k(&[0x20; 16]), k(&[0x30; 16])];
    let mut field = Vec::new();
    for key in &keys {
        let (enc, check) = keyhier::encipher_working_key(&tmk, key).unwrap();
        field.extend_from_slice(&enc);
        field.extend_from_slice(&check);
    }
    hier.load_sign_on_field(&field).unwrap();
    assert_eq!(hier.key(WorkingKeyType::Data), Some(&keys[2]));
    // Swapped components' KCVs are caught.
    assert!(matches!(
        keyhier::combine_components(KeyAlgorithm::Sm4, &[&c1, &c2], &[&v2, &v1], &vt),
        Err(KeyHierarchyError::ComponentKcvMismatch { index: 0, .. })
    ));
}

#[test]
fn working_keys_from_tr31_blocks_under_the_tmk() {
    let tmk = SecretKey::tdes(&h(TMK)).unwrap();
    let mut hier = KeyHierarchy::new(HierarchyAlgorithm::Tdes);
    assert!(matches!(
        hier.load_working_key_tr31(WorkingKeyType::Pin, "B0016P0TE00E0000"),
        Err(KeyHierarchyError::NoMasterKey)
    ));
    hier.install_tmk(tmk.clone()).unwrap();
    let tpk = h(TPK);
    let pin_block = tr31::wrap(
        &tmk,
        &KeyBlockHeader::new(
            Version::B,
            KeyUsage::PIN_ENCRYPTION,
            Algorithm::Tdes,
            ModeOfUse::EncryptOnly,
        ),
        &tpk,
    )
    .unwrap();
    hier.load_working_key_tr31(WorkingKeyType::Pin, &pin_block)
        .unwrap();
    assert_eq!(hier.key(WorkingKeyType::Pin).unwrap().as_bytes(), &tpk[..]);
    let mac_block = tr31::wrap(
        &tmk,
        &KeyBlockHeader::new(
            Version::B,
            KeyUsage::MAC_ALG3,
            Algorithm::Tdes,
            ModeOfUse::GenerateVerify,
        ),
        &[0x31; 16],
    )
    .unwrap();
    hier.load_working_key_tr31(WorkingKeyType::Mac, &mac_block)
        .unwrap();
    assert_eq!(
        hier.key(WorkingKeyType::Mac).unwrap().as_bytes(),
        &[0x31; 16]
    );
    // A PIN key block offered as the MAC key, or a MAC block for the PIN slot: refused, and the
    // slot keeps its key.
    assert!(matches!(
        hier.load_working_key_tr31(WorkingKeyType::Mac, &pin_block),
        Err(KeyHierarchyError::Tr31(_))
    ));
    assert!(matches!(
        hier.load_working_key_tr31(WorkingKeyType::Pin, &mac_block),
        Err(KeyHierarchyError::Tr31(_))
    ));
    assert_eq!(hier.key(WorkingKeyType::Pin).unwrap().as_bytes(), &tpk[..]);
    // A data key block that may only be used to verify is not a data key.
    let verify_only = tr31::wrap(
        &tmk,
        &KeyBlockHeader::new(
            Version::B,
            KeyUsage::DATA_ENCRYPTION,
            Algorithm::Tdes,
            ModeOfUse::VerifyOnly,
        ),
        &[0x32; 16],
    )
    .unwrap();
    assert!(
        hier.load_working_key_tr31(WorkingKeyType::Data, &verify_only)
            .is_err()
    );
    assert!(hier.key(WorkingKeyType::Data).is_none());
}
