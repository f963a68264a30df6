//! Property tests of the symmetric side: independent cross-checks against OpenSSL's own CMAC and
//! `openssl::symm`, round trips, and DUKPT originator/receiver agreement at random counters.

use openssl::pkey::PKey;
use openssl::sign::Signer;
use openssl::symm::{Cipher, Crypter, Mode as SymMode};
use proptest::prelude::*;
use smartpos_crypto::cipher::{self, BlockCipher};
use smartpos_crypto::dukpt::{aes as dukpt_aes, tdes};
use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_crypto::mac::{self, Padding};
use smartpos_crypto::pin::{self, Pin, PinBlockFormat};

fn openssl_cmac(cipher: Cipher, key: &[u8], data: &[u8]) -> Vec<u8> {
    let pkey = PKey::cmac(&cipher, key).unwrap();
    let mut signer = Signer::new_without_digest(&pkey).unwrap();
    signer.update(data).unwrap();
    signer.sign_to_vec().unwrap()
}

fn symm(cipher: Cipher, mode: SymMode, key: &[u8], iv: Option<&[u8]>, data: &[u8]) -> Vec<u8> {
    let mut c = Crypter::new(cipher, mode, key, iv).unwrap();
    c.pad(false);
    let mut out = vec![0u8; data.len() + 32];
    let n = c.update(data, &mut out).unwrap();
    let m = c.finalize(&mut out[n..]).unwrap();
    out.truncate(n + m);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    // Our CMAC (SP 800-38B over the block cipher) equals OpenSSL's EVP CMAC for AES-128/256 and
    // 3-key TDES.
    #[test]
    fn cmac_matches_openssl(key in proptest::collection::vec(any::<u8>(), 32), data in proptest::collection::vec(any::<u8>(), 0..80)) {
        let k128 = SecretKey::aes(&key[..16]).unwrap();
        prop_assert_eq!(mac::cmac(&k128, &data).unwrap(), openssl_cmac(Cipher::aes_128_cbc(), &key[..16], &data));
        let k256 = SecretKey::aes(&key).unwrap();
        prop_assert_eq!(mac::cmac(&k256, &data).unwrap(), openssl_cmac(Cipher::aes_256_cbc(), &key, &data));
        let k3 = SecretKey::tdes(&key[..24]).unwrap();
        prop_assert_eq!(mac::cmac(&k3, &data).unwrap(), openssl_cmac(Cipher::des_ede3_cbc(), &key[..24], &data));
    }

    // ECB/CBC through our API equal openssl::symm, and decrypt inverts encrypt.
    #[test]
    fn ciphers_match_symm(key in proptest::collection::vec(any::<u8>(), 24), iv in proptest::collection::vec(any::<u8>(), 16), blocks in 0usize..6) {
        let data: Vec<u8> = (0..blocks * 16).map(|i| (i as u8).wrapping_mul(13) ^ key[i % 24]).collect();
        let aes = SecretKey::aes(&key[..16]).unwrap();
        prop_assert_eq!(cipher::encrypt_ecb(&aes, &data).unwrap(), symm(Cipher::aes_128_ecb(), SymMode::Encrypt, &key[..16], None, &data));
        let ct = cipher::encrypt_cbc(&aes, &iv, &data).unwrap();
        prop_assert_eq!(&ct, &symm(Cipher::aes_128_cbc(), SymMode::Encrypt, &key[..16], Some(&iv), &data));
        prop_assert_eq!(cipher::decrypt_cbc(&aes, &iv, &ct).unwrap(), data.clone());
        let t3 = SecretKey::tdes(&key).unwrap();
        let ct3 = cipher::encrypt_cbc(&t3, &iv[..8], &data).unwrap();
        prop_assert_eq!(&ct3, &symm(Cipher::des_ede3_cbc(), SymMode::Encrypt, &key, Some(&iv[..8]), &data));
        let mut bc = BlockCipher::new(&t3).unwrap();
        prop_assert_eq!(bc.encrypt_cbc(&iv[..8], &data).unwrap(), ct3.clone());
        let ecb = bc.encrypt_ecb(&data).unwrap();
        prop_assert_eq!(bc.decrypt_ecb(&ecb).unwrap(), data.clone());
        let sm4 = SecretKey::sm4(&key[..16]).unwrap();
        prop_assert_eq!(cipher::decrypt_ecb(&sm4, &cipher::encrypt_ecb(&sm4, &data).unwrap()).unwrap(), data);
    }

    // Retail MAC (ISO 9797-1 alg 3) equals TDES-CBC-MAC only when K = K' (then it is single-DES
    // CBC-MAC), for every padding method.
    #[test]
    fn retail_mac_degenerates_to_des_cbc_mac(k in proptest::collection::vec(any::<u8>(), 8), data in proptest::collection::vec(any::<u8>(), 0..50), p in 1u8..=3) {
        let padding = Padding::from_number(p).unwrap();
        let mut kk = k.clone();
        kk.extend_from_slice(&k);
        let retail = mac::retail_mac(&SecretKey::tdes(&kk).unwrap(), &data, padding).unwrap();
        let des = mac::cbc_mac(&SecretKey::new(KeyAlgorithm::Des, &k).unwrap(), &data, padding).unwrap();
        prop_assert_eq!(retail, des);
    }

    // PIN blocks: encode/decode and encrypt/decrypt round trips for random PINs and PANs.
    #[test]
    fn pin_round_trips(pin_digits in "[0-9]{4,12}", pan in "[0-9]{12,19}", fmt in 0u8..=4, seed in any::<u8>()) {
        let p = Pin::new(&pin_digits).unwrap();
        let format = PinBlockFormat::from_number(fmt).unwrap();
        let mut counter = seed;
        let mut fill = |buf: &mut [u8]| { for b in buf.iter_mut() { counter = counter.wrapping_mul(37).wrapping_add(11); *b = counter; } Ok(()) };
        let clear = pin::encode(format, &p, Some(&pan), &mut fill).unwrap();
        let decoded = pin::decode(format, clear.as_bytes(), Some(&pan)).unwrap();
        prop_assert_eq!(decoded.as_str(), pin_digits.as_str());
        let key = if fmt == 4 { SecretKey::aes(&[seed; 16]).unwrap() } else { SecretKey::tdes(&[seed; 16]).unwrap() };
        let enc = pin::encipher(&key, &clear, Some(&pan)).unwrap();
        let decrypted = pin::decrypt(&key, format, &enc, Some(&pan)).unwrap();
        prop_assert_eq!(decrypted.as_str(), pin_digits.as_str());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    // TDES DUKPT: an originator rebuilt at a random valid counter hands out exactly the keys the
    // receiver derives, for the next 40 transactions (crossing register refills and skips).
    #[test]
    fn tdes_originator_agrees_with_receiver(counter in 1u32..0x1F_0000) {
        prop_assume!(counter.count_ones() <= 10);
        let bdk = SecretKey::from_hex(KeyAlgorithm::Tdes2, "0123456789ABCDEFFEDCBA9876543210").unwrap();
        let ksn = tdes::Ksn::from_hex("FFFF9876543210E00000").unwrap().with_counter(counter);
        let ipek = tdes::derive_ipek(&bdk, &ksn).unwrap();
        let mut dev = tdes::Originator::at_ksn_for_simulation(&ipek, &ksn).unwrap();
        let mut last = 0;
        for _ in 0..40 {
            let (k, key) = dev.next_transaction().unwrap();
            prop_assert!(k.counter() > last && k.counter().count_ones() <= 10);
            last = k.counter();
            prop_assert_eq!(key, tdes::host_transaction_key(&bdk, &k).unwrap());
        }
    }

    // AES DUKPT: the same at random 32-bit counters (at most 16 one bits).
    #[test]
    fn aes_originator_agrees_with_receiver(counter in 1u32..0xFFF0_0000) {
        prop_assume!(counter.count_ones() <= 16);
        let bdk = SecretKey::from_hex(KeyAlgorithm::Aes128, "FEDCBA9876543210F1F1F1F1F1F1F1F1").unwrap();
        let ikid = [0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56];
        let ik = dukpt_aes::derive_initial_key(&bdk, &ikid).unwrap();
        let ksn = dukpt_aes::Ksn::from_parts(&ikid, counter);
        let mut dev = dukpt_aes::Originator::at_ksn_for_simulation(&ik, &ksn).unwrap();
        let mut last = 0;
        for _ in 0..20 {
            let (k, key) = dev.next_transaction().unwrap();
            prop_assert!(k.counter() > last && k.counter().count_ones() <= 16);
            last = k.counter();
            prop_assert_eq!(key, dukpt_aes::derive_intermediate_key(&ik, &k).unwrap());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    // Outside input never panics: PIN block decode/decrypt, DUKPT state import, KSN parsing, MAC
    // verification and ciphers with arbitrary lengths all return values or typed errors.
    #[test]
    fn outside_input_never_panics(
        bytes in proptest::collection::vec(any::<u8>(), 0..80),
        pan in "[0-9A-F]{0,21}",
        fmt in 0u8..=6,
    ) {
        if let Ok(format) = PinBlockFormat::from_number(fmt) {
            let _ = pin::decode(format, &bytes, Some(&pan));
            let _ = pin::decode(format, &bytes, None);
            let key = SecretKey::aes(&[7u8; 16]).unwrap();
            let _ = pin::decrypt(&key, format, &bytes, Some(&pan));
            let tkey = SecretKey::tdes(&[7u8; 16]).unwrap();
            let _ = pin::decrypt(&tkey, format, &bytes, Some(&pan));
        }
        let _ = tdes::Originator::import_state(&bytes);
        let _ = dukpt_aes::Originator::import_state(&bytes);
        let _ = tdes::Ksn::new(&bytes);
        let _ = dukpt_aes::Ksn::new(&bytes);
        let _ = mac::verify(&[1u8; 8], &bytes);
        let _ = SecretKey::tdes(&bytes);
        let _ = SecretKey::aes(&bytes);
        let aes = SecretKey::aes(&[9u8; 16]).unwrap();
        let _ = cipher::encrypt_ecb(&aes, &bytes);
        let _ = cipher::decrypt_cbc(&aes, &bytes, &bytes);
        let _ = mac::cup_ecb_mac(&SecretKey::tdes(&[3u8; 8]).unwrap(), &bytes);
        let _ = smartpos_crypto::kcv::check(&aes, &bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    // A damaged DUKPT state either fails to import or gives a device that keeps working without
    // panicking (it may hand out wrong keys; the host will then reject them).
    #[test]
    fn damaged_state_never_panics(pos in any::<prop::sample::Index>(), xor in 1u8..=255, steps in 0usize..40) {
        let bdk = SecretKey::from_hex(KeyAlgorithm::Tdes2, "0123456789ABCDEFFEDCBA9876543210").unwrap();
        let ksn = tdes::Ksn::from_hex("FFFF9876543210E00000").unwrap();
        let ipek = tdes::derive_ipek(&bdk, &ksn).unwrap();
        let mut dev = tdes::Originator::load_initial_key(&ipek, &ksn).unwrap();
        for _ in 0..steps {
            dev.next_transaction().unwrap();
        }
        let mut state = dev.export_state().to_vec();
        let i = pos.index(state.len());
        state[i] ^= xor;
        if let Ok(mut d) = tdes::Originator::import_state(&state) {
            for _ in 0..5 {
                let _ = d.next_transaction();
            }
        }
    }
}
