//! Property tests: parsers of outside input (key blocks, certificates, SM2 encodings, sign-on
//! key fields, script data) return typed errors, never panic, on arbitrary input; round trips
//! hold for arbitrary keys and data.

use proptest::prelude::*;
use smartpos_crypto::emv::{self, ScriptEncryptionFormat};
use smartpos_crypto::key::SecretKey;
use smartpos_crypto::keyhier::{self, HierarchyAlgorithm, KeyHierarchy};
use smartpos_crypto::rsa::RsaPrivateKey;
use smartpos_crypto::rsa::oda::{self, TransactionDate};
use smartpos_crypto::sm2::{Sm2PublicKey, Sm2Signature};
use smartpos_crypto::tr31::{self, Algorithm, KeyBlockHeader, KeyUsage, ModeOfUse, Version};
use std::sync::OnceLock;

fn rsa_1024() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::generate(1024, 3).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn tr31_parse_and_unwrap_never_panic(text in "[A-D][0-9]{4}[A-Z0-9]{2}[A-Z][A-Z][0-9]{2}[ENS][0-9]{2}[0-2]0[ -~]{0,120}") {
        let _ = KeyBlockHeader::parse(&text);
        let tdes = SecretKey::tdes(&[0x11; 16]).unwrap();
        let aes = SecretKey::aes(&[0x22; 16]).unwrap();
        prop_assert!(tr31::unwrap(&tdes, &text, None).is_err() || text.starts_with(['A', 'B', 'C']));
        let _ = tr31::unwrap(&aes, &text, None);
    }

    #[test]
    fn tr31_arbitrary_bytes_never_panic(text in "\\PC{0,80}") {
        let tdes = SecretKey::tdes(&[0x11; 16]).unwrap();
        prop_assert!(tr31::unwrap(&tdes, &text, None).is_err());
    }

    #[test]
    fn tr31_round_trip_any_key(key in proptest::collection::vec(any::<u8>(), 16..=16), d in any::<bool>()) {
        let (version, kbpk) = if d {
            (Version::D, SecretKey::aes(&[0x5A; 32]).unwrap())
        } else {
            (Version::B, SecretKey::tdes(&[0xA5; 24]).unwrap())
        };
        let header = KeyBlockHeader::new(version, KeyUsage::DATA_ENCRYPTION, Algorithm::Tdes, ModeOfUse::Both);
        let block = tr31::wrap(&kbpk, &header, &key).unwrap();
        let out = tr31::unwrap(&kbpk, &block, None).unwrap();
        prop_assert_eq!(out.key_bytes(), &key[..]);
    }

    #[test]
    fn oda_recovery_of_garbage_is_an_error(cert in proptest::collection::vec(any::<u8>(), 0..=140), pan in proptest::collection::vec(any::<u8>(), 0..=12)) {
        let key = rsa_1024().public_key();
        let today = TransactionDate::new(2026, 11, 21).unwrap();
        prop_assert!(oda::recover_issuer_public_key(key, &cert, &[], &[3], &pan, today).is_err());
        prop_assert!(oda::recover_icc_public_key(key, &cert, &[1, 2], &[3], &pan, &cert, today).is_err());
        prop_assert!(oda::verify_signed_static_data(key, &cert, &pan).is_err());
        prop_assert!(oda::verify_signed_dynamic_data(key, &cert, &pan).is_err());
        prop_assert!(oda::verify_cda(key, &cert, &pan, 0x80, &cert).is_err());
    }

    #[test]
    fn oda_signed_garbage_messages_never_panic(body in proptest::collection::vec(any::<u8>(), 125..=125), fmt in 0u8..8, hash_alg in 0u8..3) {
        // A correctly signed 6A .. BC message with arbitrary contents: every check must run
        // without panicking on whatever the fields say (lengths beyond the data, etc.).
        let key = rsa_1024();
        let mut msg = vec![0x6A, fmt];
        msg.extend_from_slice(&body);
        msg[2] = hash_alg;
        msg.push(0xBC);
        let sig = key.private_op(&msg).unwrap();
        let today = TransactionDate::new(2026, 11, 21).unwrap();
        let public = key.public_key();
        let _ = oda::recover_issuer_public_key(public, &sig, &[], &[3], &[0x54, 0x13], today);
        let _ = oda::recover_icc_public_key(public, &sig, &[], &[3], &[0x54, 0x13], &[], today);
        let _ = oda::verify_signed_static_data(public, &sig, &[]);
        let _ = oda::verify_signed_dynamic_data(public, &sig, &[]);
        let _ = oda::verify_cda(public, &sig, &[], 0x80, &[]);
    }

    #[test]
    fn sm2_parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..=80)) {
        let _ = Sm2PublicKey::from_bytes(&bytes);
        let _ = Sm2Signature::parse(&bytes);
        let _ = Sm2Signature::from_der(&bytes);
    }

    #[test]
    fn sign_on_field_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..=64)) {
        let mut hier = KeyHierarchy::new(HierarchyAlgorithm::Tdes);
        hier.install_tmk(SecretKey::tdes(&[0x13; 16]).unwrap()).unwrap();
        let _ = keyhier::parse_sign_on_keys(&bytes);
        // Random enciphered keys practically never match their random KCVs.
        prop_assert!(hier.load_sign_on_field(&bytes).is_err());
        prop_assert!(hier.key(keyhier::WorkingKeyType::Pin).is_none());
    }

    #[test]
    fn script_encipherment_round_trip(data in proptest::collection::vec(any::<u8>(), 0..=40)) {
        let sk = SecretKey::tdes(&[0x31; 16]).unwrap();
        let enc = emv::script_encrypt(&sk, &data, ScriptEncryptionFormat::Emv).unwrap();
        prop_assert_eq!(enc.len() % 8, 0);
        prop_assert!(enc.len() > data.len());
        let back = emv::script_decrypt_emv(&sk, &enc).unwrap();
        prop_assert_eq!(&back[..], &data[..]);
        let _ = emv::script_decrypt_emv(&sk, &data);
    }

    #[test]
    fn transaction_date_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..=4)) {
        let _ = TransactionDate::from_bcd_yymmdd(&bytes);
    }
}
