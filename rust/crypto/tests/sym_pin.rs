//! PIN blocks ISO 9564-1 formats 0-4: published vectors, round trips and rejection of bad blocks.

use smartpos_crypto::CryptoError;
use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_crypto::pin::{self, ClearPinBlock, Pin, PinBlockFormat};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// A deterministic fill source: repeats `byte`.
fn fixed(byte: u8) -> impl FnMut(&mut [u8]) -> Result<(), CryptoError> {
    move |buf: &mut [u8]| {
        buf.fill(byte);
        Ok(())
    }
}

/// A deterministic fill source that hands out the given bytes in order.
fn script(bytes: Vec<u8>) -> impl FnMut(&mut [u8]) -> Result<(), CryptoError> {
    let mut pos = 0;
    move |buf: &mut [u8]| {
        for b in buf.iter_mut() {
            *b = bytes[pos % bytes.len()];
            pos += 1;
        }
        Ok(())
    }
}

// id: pin-iso0-1234-4012345678909, source: openemv/pinblock @bb98d90 test/pinblock_format0_test.c
// (ANSI X9.24-1:2009 A.4)
#[test]
fn iso0_published() {
    let p = Pin::new("1234").unwrap();
    let block = pin::encode(
        PinBlockFormat::Iso0,
        &p,
        Some("4012345678909"),
        &mut fixed(0),
    )
    .unwrap();
    assert_eq!(block.as_bytes(), &h("041274EDCBA9876F")[..]);
    let back = pin::decode(
        PinBlockFormat::Iso0,
        &h("041274EDCBA9876F"),
        Some("4012345678909"),
    )
    .unwrap();
    assert_eq!(back.as_str(), "1234");
    assert_eq!(
        pin::pan_field(PinBlockFormat::Iso0, "4012345678909").unwrap(),
        h("0000401234567890")
    );
}

// id: dukpt-tdes-init-01 (enc_pinblock under pin_key), source: openemv/dukpt @1d01dda test/dukpt_tdes_test.c;
// moov-io/dukpt @65ee1a2
#[test]
fn iso0_encrypted_under_dukpt_pin_key() {
    let key = SecretKey::from_hex(KeyAlgorithm::Tdes2, "042666B49184CF5C68DE9628D0397B36").unwrap();
    let p = Pin::new("1234").unwrap();
    let enc = pin::encrypt(
        &key,
        PinBlockFormat::Iso0,
        &p,
        Some("4012345678909"),
        &mut fixed(0),
    )
    .unwrap();
    assert_eq!(enc, h("1B9C1845EB993A7A"));
    let back = pin::decrypt(&key, PinBlockFormat::Iso0, &enc, Some("4012345678909")).unwrap();
    assert_eq!(back.as_str(), "1234");
    // Wrong PAN (a digit inside the PAN field; the check digit is not part of it): the fill comes
    // out wrong and decode rejects the block.
    assert!(matches!(
        pin::decrypt(&key, PinBlockFormat::Iso0, &enc, Some("4012345678919")),
        Err(CryptoError::InvalidPinBlock { .. })
    ));
    // The check digit is excluded from the PAN field.
    assert_eq!(
        pin::decrypt(&key, PinBlockFormat::Iso0, &enc, Some("4012345678900"))
            .unwrap()
            .as_str(),
        "1234"
    );
}

// id: pin-iso2-1234, source: knovichikhin/psec @90ccbf3 tests/test_pinblock.py test_encode_pinblock_iso_2
#[test]
fn iso2_published() {
    let p = Pin::new("1234").unwrap();
    let block = pin::encode(PinBlockFormat::Iso2, &p, None, &mut fixed(0x55)).unwrap();
    assert_eq!(block.as_bytes(), &h("241234FFFFFFFFFF")[..]);
    assert_eq!(
        pin::decode(PinBlockFormat::Iso2, &h("241234FFFFFFFFFF"), None)
            .unwrap()
            .as_str(),
        "1234"
    );
}

// id: pin-iso3-decode-1234, source: knovichikhin/psec @90ccbf3 tests/test_pinblock.py test_decode_pinblock_iso_3
#[test]
fn iso3_published_decode() {
    let p = pin::decode(
        PinBlockFormat::Iso3,
        &h("341261AAAAEDCBA9"),
        Some("5555555551234567"),
    )
    .unwrap();
    assert_eq!(p.as_str(), "1234");
}

#[test]
fn iso3_fill_is_a_to_f_and_round_trips() {
    let p = Pin::new("98765").unwrap();
    let pan = "5555555551234567";
    // Random bytes 0..=255 map to fill nibbles A-F.
    let block = pin::encode(
        PinBlockFormat::Iso3,
        &p,
        Some(pan),
        &mut script((0u8..=255).collect()),
    )
    .unwrap();
    let plain: Vec<u8> = block
        .as_bytes()
        .iter()
        .zip(pin::pan_field(PinBlockFormat::Iso3, pan).unwrap())
        .map(|(a, b)| a ^ b)
        .collect();
    let hexs = hex::encode_upper(&plain);
    assert!(hexs.starts_with("3598765"), "{hexs}");
    assert!(
        hexs[7..].chars().all(|c| ('A'..='F').contains(&c)),
        "{hexs}"
    );
    // 0 -> A, 1 -> B, 2 -> C ... 5 -> F, 6 -> A
    assert_eq!(&hexs[7..], "ABCDEFABC");
    assert_eq!(
        pin::decode(PinBlockFormat::Iso3, block.as_bytes(), Some(pan))
            .unwrap()
            .as_str(),
        "98765"
    );
}

#[test]
fn iso1_random_fill_round_trip() {
    let p = Pin::new("123456789012").unwrap();
    let block = pin::encode(PinBlockFormat::Iso1, &p, None, &mut fixed(0x3C)).unwrap();
    assert_eq!(block.as_bytes(), &h("1C123456789012CC")[..]);
    assert_eq!(
        pin::decode(PinBlockFormat::Iso1, block.as_bytes(), None)
            .unwrap()
            .as_str(),
        "123456789012"
    );
    // With the OpenSSL source two encodings differ in the fill (with overwhelming probability over
    // ten tries) but decode to the same PIN.
    let p4 = Pin::new("1234").unwrap();
    let first = pin::encode(PinBlockFormat::Iso1, &p4, None, &mut pin::openssl_random).unwrap();
    let differs = (0..10).any(|_| {
        pin::encode(PinBlockFormat::Iso1, &p4, None, &mut pin::openssl_random)
            .unwrap()
            .as_bytes()
            != first.as_bytes()
    });
    assert!(differs);
    assert_eq!(
        pin::decode(PinBlockFormat::Iso1, first.as_bytes(), None)
            .unwrap()
            .as_str(),
        "1234"
    );
}

// id: pin-iso4-fields, source: openemv/pinblock @bb98d90 test/pinblock_format4_test.c; knovichikhin/psec
// @90ccbf3 tests/test_pinblock.py test_encode_pan_field_iso_4 / test_encode_pin_field_iso_4
#[test]
fn iso4_fields_published() {
    let p = Pin::new("1234").unwrap();
    let f = pin::encode(
        PinBlockFormat::Iso4,
        &p,
        Some("4111111111111111"),
        &mut fixed(0x77),
    )
    .unwrap();
    assert_eq!(f.as_bytes(), &h("441234AAAAAAAAAA7777777777777777")[..]);
    let p5 = Pin::new("12345").unwrap();
    let f5 = pin::encode(
        PinBlockFormat::Iso4,
        &p5,
        Some("4111111111111111"),
        &mut fixed(0),
    )
    .unwrap();
    assert_eq!(&f5.as_bytes()[..8], &h("4512345AAAAAAAAA")[..]);
    for (pan, field) in [
        ("4111111111111111", "44111111111111111000000000000000"),
        ("411111111111111", "34111111111111110000000000000000"),
        ("123456789", "00001234567890000000000000000000"),
        ("112233445566778899", "61122334455667788990000000000000"),
    ] {
        assert_eq!(
            pin::pan_field(PinBlockFormat::Iso4, pan).unwrap(),
            h(field),
            "{pan}"
        );
    }
}

// id: dukpt-aes128-ik (pin_field_plain, pan_field) with dukpt-aes128-01/02 (pin_key, enc_pinblock_fmt4),
// source: openemv/dukpt @1d01dda test/dukpt_aes128_test.c
#[test]
fn iso4_encrypted_under_aes_dukpt_pin_keys() {
    let p = Pin::new("1234").unwrap();
    let pan = "4111111111111111";
    let random_half = h("2F69ADDE2E9E7ACE");
    for (key_hex, expected) in [
        (
            "AF8CB133A78F8DC2D1359F18527593FB",
            "A912150391AB65A67E52883D81CE2D15",
        ),
        (
            "D30BDC73EC9714B000BEC66BDB7B6D09",
            "52A00503BD34BA1383F6A7EE9FE2547F",
        ),
    ] {
        let key = SecretKey::from_hex(KeyAlgorithm::Aes128, key_hex).unwrap();
        let clear = pin::encode(
            PinBlockFormat::Iso4,
            &p,
            Some(pan),
            &mut script(random_half.clone()),
        )
        .unwrap();
        assert_eq!(clear.as_bytes(), &h("441234AAAAAAAAAA2F69ADDE2E9E7ACE")[..]);
        let enc = pin::encipher(&key, &clear, Some(pan)).unwrap();
        assert_eq!(enc, h(expected));
        let back = pin::decipher(&key, PinBlockFormat::Iso4, &enc, Some(pan)).unwrap();
        assert_eq!(back.as_bytes(), clear.as_bytes());
        assert_eq!(
            pin::decrypt(&key, PinBlockFormat::Iso4, &enc, Some(pan))
                .unwrap()
                .as_str(),
            "1234"
        );
        // Another PAN yields a different block and does not decrypt to a valid field.
        let enc_other = pin::encipher(&key, &clear, Some("4111111111111112")).unwrap();
        assert_ne!(enc_other, enc);
        assert!(pin::decrypt(&key, PinBlockFormat::Iso4, &enc, Some("4111111111111112")).is_err());
    }
}

#[test]
fn round_trip_all_formats_all_lengths() {
    let tdes = SecretKey::from_hex(
        KeyAlgorithm::Tdes3,
        "0123456789ABCDEFFEDCBA987654321089ABCDEF01234567",
    )
    .unwrap();
    let aes = SecretKey::aes(&h(
        "603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4",
    ))
    .unwrap();
    let sm4 = SecretKey::sm4(&h("0123456789ABCDEFFEDCBA9876543210")).unwrap();
    let pan = "6222021234567890123";
    for len in 4..=12usize {
        let digits: String = (0..len)
            .map(|i| char::from(b'0' + ((i * 7 + 3) % 10) as u8))
            .collect();
        let p = Pin::new(&digits).unwrap();
        for n in 0..=4u8 {
            let format = PinBlockFormat::from_number(n).unwrap();
            let keys: Vec<&SecretKey> = if n == 4 {
                vec![&aes, &sm4]
            } else {
                vec![&tdes]
            };
            for key in keys {
                let enc =
                    pin::encrypt(key, format, &p, Some(pan), &mut pin::openssl_random).unwrap();
                assert_eq!(enc.len(), format.block_len());
                let back = pin::decrypt(key, format, &enc, Some(pan)).unwrap();
                assert_eq!(back.as_str(), digits, "format {n} len {len}");
            }
        }
    }
}

#[test]
fn bad_pins_and_pans_are_rejected() {
    for bad in ["123", "1234567890123", "12a4", "", "12 4"] {
        assert!(
            matches!(Pin::new(bad), Err(CryptoError::InvalidPin { .. })),
            "{bad:?}"
        );
    }
    let p = Pin::new("1234").unwrap();
    assert!(matches!(
        pin::encode(PinBlockFormat::Iso0, &p, None, &mut fixed(0)),
        Err(CryptoError::InvalidPan { .. })
    ));
    for bad_pan in ["1234567", "40123456789012345678", "40123456789O9"] {
        assert!(matches!(
            pin::encode(PinBlockFormat::Iso3, &p, Some(bad_pan), &mut fixed(0)),
            Err(CryptoError::InvalidPan { .. })
        ));
    }
    assert!(pin::pan_field(PinBlockFormat::Iso1, "4012345678909").is_err());
    assert!(PinBlockFormat::from_number(5).is_err());
    assert_eq!(format!("{p:?}"), "Pin(<redacted>)");
    let clear = pin::encode(PinBlockFormat::Iso2, &p, None, &mut fixed(0)).unwrap();
    assert!(!format!("{clear:?}").contains("1234"));
}

#[test]
fn bad_clear_blocks_are_rejected() {
    let pan = Some("4012345678909");
    let cases: &[(PinBlockFormat, &str, &str)] = &[
        // format 2: fill must be F
        (PinBlockFormat::Iso2, "241234FFFFFFFFFE", "fill"),
        // format 2: control nibble
        (PinBlockFormat::Iso2, "341234FFFFFFFFFF", "control"),
        // format 2: length 3 and 13
        (PinBlockFormat::Iso2, "23123FFFFFFFFFFF", "length"),
        (PinBlockFormat::Iso2, "2D1234567890123F", "length"),
        // format 2: non-digit PIN nibble
        (PinBlockFormat::Iso2, "2412B4FFFFFFFFFF", "digit"),
        // format 4: fill must be A
        (
            PinBlockFormat::Iso4,
            "441234AAAAAAAAAB2F69ADDE2E9E7ACE",
            "fill",
        ),
        (
            PinBlockFormat::Iso4,
            "041234AAAAAAAAAA2F69ADDE2E9E7ACE",
            "control",
        ),
    ];
    for (format, block, what) in cases {
        match pin::decode(*format, &h(block), None) {
            Err(CryptoError::InvalidPinBlock { reason }) => {
                assert!(reason.contains(what), "{block}: {reason}")
            }
            other => panic!("{block}: {other:?}"),
        }
    }
    // Format 0: take a good block and break the fill (XOR with PAN applied by decode).
    let mut b = h("041274EDCBA9876F");
    b[7] ^= 0x01;
    assert!(matches!(
        pin::decode(PinBlockFormat::Iso0, &b, pan),
        Err(CryptoError::InvalidPinBlock { .. })
    ));
    // Format 3: the published block's plain fill is F (fine, A-F); a 9 in the fill is not.
    let pan3 = Some("5555555551234567");
    let mut b3 = h("341261AAAAEDCBA9");
    b3[7] ^= 0x06; // last fill nibble F (after PAN XOR) becomes 9
    assert!(matches!(
        pin::decode(PinBlockFormat::Iso3, &b3, pan3),
        Err(CryptoError::InvalidPinBlock { .. })
    ));
    // Wrong length.
    assert!(matches!(
        pin::decode(PinBlockFormat::Iso0, &h("041274EDCBA987"), pan),
        Err(CryptoError::InvalidPinBlock { .. })
    ));
    assert!(ClearPinBlock::from_bytes(PinBlockFormat::Iso4, &[0u8; 8]).is_err());
}

#[test]
fn key_algorithm_must_fit_the_format() {
    let p = Pin::new("1234").unwrap();
    let aes = SecretKey::aes(&[1u8; 16]).unwrap();
    let tdes = SecretKey::tdes(&[1u8; 16]).unwrap();
    assert!(matches!(
        pin::encrypt(
            &aes,
            PinBlockFormat::Iso0,
            &p,
            Some("4012345678909"),
            &mut fixed(0)
        ),
        Err(CryptoError::UnsupportedAlgorithm { .. })
    ));
    assert!(matches!(
        pin::encrypt(
            &tdes,
            PinBlockFormat::Iso4,
            &p,
            Some("4012345678909"),
            &mut fixed(0)
        ),
        Err(CryptoError::UnsupportedAlgorithm { .. })
    ));
    assert!(
        pin::decrypt(
            &tdes,
            PinBlockFormat::Iso0,
            &[0u8; 16],
            Some("4012345678909")
        )
        .is_err()
    );
}

// knovichikhin/psec tests/test_pinblock.py (repository test file as stored; see published.md for the
// pinned commit @90ccbf3): test_encode_pinblock_iso_0, test_encode_pinblock_iso_2,
// test_decode_pinblock_iso_0/2/3.
#[test]
fn psec_clear_block_vectors() {
    let pan = Some("5555555551234567");
    for (digits, block) in [
        ("1234", "041261AAAAEDCBA9"),
        ("123456789012", "0C1261032D8226A9"),
    ] {
        let p = Pin::new(digits).unwrap();
        let b = pin::encode(PinBlockFormat::Iso0, &p, pan, &mut fixed(0)).unwrap();
        assert_eq!(b.as_bytes(), &h(block)[..]);
    }
    for (digits, block) in [
        ("1234", "241234FFFFFFFFFF"),
        ("123456789", "29123456789FFFFF"),
        ("1234567890", "2A1234567890FFFF"),
        ("123456789012", "2C123456789012FF"),
    ] {
        let p = Pin::new(digits).unwrap();
        assert_eq!(
            pin::encode(PinBlockFormat::Iso2, &p, None, &mut fixed(0))
                .unwrap()
                .as_bytes(),
            &h(block)[..]
        );
        assert_eq!(
            pin::decode(PinBlockFormat::Iso2, &h(block), None)
                .unwrap()
                .as_str(),
            digits
        );
    }
    for (digits, b0, b3) in [
        ("1234", "041261AAAAEDCBA9", "341261AAAAEDCBA9"),
        ("123456789", "091261032D8DCBA9", "391261032D8DCBA9"),
        ("1234567890", "0A1261032D82CBA9", "3A1261032D82CBA9"),
        ("123456789012", "0C1261032D8226A9", "3C1261032D8226A9"),
    ] {
        assert_eq!(
            pin::decode(PinBlockFormat::Iso0, &h(b0), pan)
                .unwrap()
                .as_str(),
            digits
        );
        assert_eq!(
            pin::decode(PinBlockFormat::Iso3, &h(b3), pan)
                .unwrap()
                .as_str(),
            digits
        );
    }
    // psec's rejected blocks (test_decode_pinblock_iso_0/2/3_exception).
    for (format, block) in [
        (PinBlockFormat::Iso0, "241261AAAAEDCBA9"),
        (PinBlockFormat::Iso0, "0F1261AAAAEDCBA9"),
        (PinBlockFormat::Iso0, "021261AAAAEDCBA9"),
        (PinBlockFormat::Iso0, "041261AAAAEDCBAA"),
        (PinBlockFormat::Iso0, "051261AAAAEDCBA9"),
        (PinBlockFormat::Iso3, "3F1261AAAAEDCBA9"),
        (PinBlockFormat::Iso3, "341261AAAAEDCBA2"),
        (PinBlockFormat::Iso3, "351261AAAAEDCBA9"),
    ] {
        assert!(
            matches!(
                pin::decode(format, &h(block), pan),
                Err(CryptoError::InvalidPinBlock { .. })
            ),
            "{block}"
        );
    }
    for block in [
        "041234FFFFFFFFFF",
        "2F123456789012FF",
        "22123456789012FF",
        "2C123456789012CF",
        "2C12345678901FFF",
    ] {
        assert!(
            matches!(
                pin::decode(PinBlockFormat::Iso2, &h(block), None),
                Err(CryptoError::InvalidPinBlock { .. })
            ),
            "{block}"
        );
    }
}

// knovichikhin/psec tests/test_pinblock.py test_encipher_pinblock_iso_4_det (random half all FF),
// test_decipher_pinblock_iso_4 (first case from the ep2 EFT/POS 2000 Security Specification 8.0.0
// §8.4; second with a 1-digit PAN) and test_decipher_pinblock_iso_4_exception.
#[test]
fn psec_format4_vectors() {
    let key =
        SecretKey::from_hex(KeyAlgorithm::Aes128, "00112233445566778899AABBCCDDEEFF").unwrap();
    let p = Pin::new("1234").unwrap();
    let enc = pin::encrypt(
        &key,
        PinBlockFormat::Iso4,
        &p,
        Some("1234567890123456789"),
        &mut fixed(0xFF),
    )
    .unwrap();
    assert_eq!(enc, h("28B41FDDD29B743E93124BD8E32D921E"));

    let ep2 =
        SecretKey::from_hex(KeyAlgorithm::Aes128, "C1D0F8FB4958670DBA40AB1F3752EF0D").unwrap();
    let got = pin::decrypt(
        &ep2,
        PinBlockFormat::Iso4,
        &h("CC17F65586BFD0953010226C4FC5B3CA"),
        Some("432198765432109870"),
    )
    .unwrap();
    assert_eq!(got.as_str(), "1234");
    let got = pin::decrypt(
        &key,
        PinBlockFormat::Iso4,
        &h("39B69B1B91FE05D48F7EF0D68EB2CBD6"),
        Some("1"),
    )
    .unwrap();
    assert_eq!(got.as_str(), "123456");

    for (key_hex, block, pan, what) in [
        (
            "E60B15B90ABDF14CEE337C97440F0D6E",
            "7D5AF4C33667A2098626027FB7A9A1B7",
            "4266229809609384667",
            "control",
        ),
        (
            "C7BBEBA16C5AD97D5866450718C03750",
            "2F9C910447F17293EC95DEDE1E3CA201",
            "8220499325458689523",
            "digit",
        ),
        (
            "820F6C7C12355BDFF1AB6CE12E8EED89",
            "CCF310A8300B46C925A86B1098089301",
            "939589847393485609",
            "fill",
        ),
        (
            "4FE3F0311936FBCE44F17159F1659CF09B2BF8913BB514A1",
            "51334B00A6CBA3EC7B1C6F871F060AFC",
            "2129100799029059903",
            "length",
        ),
    ] {
        let k = SecretKey::aes(&h(key_hex)).unwrap();
        match pin::decrypt(&k, PinBlockFormat::Iso4, &h(block), Some(pan)) {
            Err(CryptoError::InvalidPinBlock { reason }) => {
                assert!(reason.contains(what), "{reason}")
            }
            other => panic!("{block}: {other:?}"),
        }
    }
    // 17-byte block and 20-digit PAN are rejected.
    assert!(
        pin::decrypt(
            &ep2,
            PinBlockFormat::Iso4,
            &h("CC17F65586BFD0953010226C4FC5B3CA00"),
            Some("432198765432109870")
        )
        .is_err()
    );
    assert!(matches!(
        pin::decrypt(
            &ep2,
            PinBlockFormat::Iso4,
            &h("CC17F65586BFD0953010226C4FC5B3CA"),
            Some("43219876543210987099")
        ),
        Err(CryptoError::InvalidPan { .. })
    ));
}
