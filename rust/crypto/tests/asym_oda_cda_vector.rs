//! EMV CDA recovery against a real test card: openemv/emv-utils
//! @3c30b43df3f567d06dd7e0b8805bb0e59b513130 tests/emv_rsa_cda_test.c (PAN 5413330089020011,
//! transaction date 250506, unpredictable number 8B55633B) under the Mastercard CA public TEST
//! key A000000004 #F1 (1408 bits, exponent 3, checksum D8E68DA167AB5A85D8C3D55ECB9B0517A1A5B4BB
//! as listed in terminal CAPK tables).
//!
//! The test file publishes neither the Static Data to be Authenticated nor the transaction data
//! behind the Transaction Data Hash Code, so those two checks are expected to fail while every
//! check before them passes.

use smartpos_crypto::hash;
use smartpos_crypto::rsa::RsaPublicKey;
use smartpos_crypto::rsa::oda::{self, OdaError, OdaObject, TransactionDate};

const CAPK_F1: &str = "A0DCF4BDE19C3546B4B6F0414D174DDE294AABBB828C5A834D73AAE27C99B0B053A90278007239B6459FF0BBCD7B4B9C\
     6C50AC02CE91368DA1BD21AAEADBC65347337D89B68F5C99A09D05BE02DD1F8C5BA20E2F13FB2A27C41D3F85CAD5CF66\
     68E75851EC66EDBF98851FD4E42C44C1D59F5984703B27D5B9F21B8FA0D93279FBBF69E090642909C9EA27F898959541\
     AA6757F5F624104F6E1D3A9532F2A6E51515AEAD1B43B3D7835088A2FAFA7BE7";
const ISSUER_CERT: &str = "3312205B0EFA6715BA18134BB2168A9CA250D268853506D925DD72B2A2E0CF107518DE182F0089B255B7D70A189D9085\
     9E741E7D79BB5D36339B16D9B1508DDBC35E2A3008B923E14417A42E86D3AD0A1AD6DBB394E7BC0BA812F3D4971412DE\
     4997C8B34BA93F3CE0F5AE27E0A052DB57CD7595C467E831041AC2DBEC91E2EC8D27D4EABAA31322B769415B550B8B18\
     E3B05B32CAE7813AB21D8F3B2BFF3741C6AD967AE694800F5B24A20EF78013E4";
const ISSUER_MODULUS: &str = "99903295DA9DFA7CB84E664E6500E48A5A1D2EDD3F460BE4AD52066435A644C5A803AE5B829C31B21E81889869BF98D7\
     3D9A126F222AC762298808EA0AFB94B33D8FE26AF363FAEACC3B1557CF31F7CCC996E430EA74F6936993C37F638538C0\
     75039AD3A8BAF26E44D25FADD3524107";
const ICC_CERT: &str = "1BA49B6A034309AA5212D5D39EA0861983E295DFD0052FB0543E3743E4DF5D0CD44FC3FABBC163727C2E3F64ACD670E4\
     B8F1D5C5A6F9C42D6A02AD24F1D9220661D78489FC89D3D2F017AE0EE080D43F620B863C25470AE8C2632FDA6421D424\
     C29E21653CC56BBBA65F851EBAF1F8C7";
const ICC_MODULUS: &str = "900000000000000000000000001200000000000000000000000000000000480000000000000000000000000000000010\
     800000000000000000000000019800000000000000000000000000000006600000000000000000000000000000000055";
const ICC_REMAINDER: &str = "0000000000000006600000000000000000000000000000000055";
const SDAD: &str = "7B9F22B297CCEAD536B87C449EEE744C6971AA0EBDD6B611C88E30FFF0A671CC6D6AC45A5555311E30C466863817EA0A\
     A3D13B54BEA6849976592DFC73DED0BB958D506DF7180FAA7A1FD0540859C0E539035BAB64CE8891353DDD3008A0B446";

const PAN: [u8; 8] = [0x54, 0x13, 0x33, 0x00, 0x89, 0x02, 0x00, 0x11];
const UN: [u8; 4] = [0x8B, 0x55, 0x63, 0x3B];

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn today() -> TransactionDate {
    TransactionDate::from_bcd_yymmdd(&[0x25, 0x05, 0x06]).unwrap()
}

fn icc_key() -> RsaPublicKey {
    RsaPublicKey::new(&h(ICC_MODULUS), &[0x03]).unwrap()
}

#[test]
fn ca_key_checksum_matches_the_published_one() {
    // EMV Book 2 §11.2.2: SHA-1(RID || index || modulus || exponent).
    let mut data = vec![0xA0, 0x00, 0x00, 0x00, 0x04, 0xF1];
    data.extend_from_slice(&h(CAPK_F1));
    data.push(0x03);
    assert_eq!(
        hex::encode_upper(hash::sha1(&data)),
        "D8E68DA167AB5A85D8C3D55ECB9B0517A1A5B4BB"
    );
}

#[test]
fn issuer_and_icc_keys() {
    let ca = RsaPublicKey::new(&h(CAPK_F1), &[0x03]).unwrap();
    let issuer =
        oda::recover_issuer_public_key(&ca, &h(ISSUER_CERT), &[], &[0x03], &PAN, today()).unwrap();
    assert_eq!(hex::encode_upper(issuer.key.modulus()), ISSUER_MODULUS);
    assert_eq!(issuer.issuer_identifier, [0x54, 0x13, 0x33, 0xFF]);
    assert_eq!(issuer.expiry, [0x12, 0x27]);
    assert_eq!(issuer.serial, [0x00, 0x00, 0x01]);
    // ICC certificate: the key assembles from the certificate and the 26-byte remainder.
    let recovered = issuer.key.public_op(&h(ICC_CERT)).unwrap();
    assert_eq!(
        hex::encode_upper(&recovered[..21]),
        "6A045413330089020011FFFF122700000101016001"
    );
    let mut modulus = recovered[21..112 - 21].to_vec();
    modulus.extend_from_slice(&h(ICC_REMAINDER));
    assert_eq!(hex::encode_upper(&modulus), ICC_MODULUS);
    // Without the (unpublished) static data the certificate hash cannot match.
    assert!(matches!(
        oda::recover_icc_public_key(
            &issuer.key,
            &h(ICC_CERT),
            &h(ICC_REMAINDER),
            &[0x03],
            &PAN,
            &[],
            today()
        ),
        Err(OdaError::HashMismatch {
            object: OdaObject::IccCertificate
        })
    ));
}

#[test]
fn cda_signed_dynamic_data() {
    let icc = icc_key();
    // The SDAD hash (over the dynamic data and the unpredictable number) verifies.
    let dynamic = oda::verify_signed_dynamic_data(&icc, &h(SDAD), &UN).unwrap();
    assert_eq!(
        hex::encode_upper(&dynamic.icc_dynamic_number),
        "537EB5E03CC433C8"
    );
    assert_eq!(
        hex::encode_upper(&dynamic.data),
        "08537EB5E03CC433C80055B6408DBC985131A04620C52455EA8F2370647AF36748A2CA4AA9F6"
    );
    // CDA: CID (AAC, 00) and the hash pass; the transaction data is not published, so the
    // Transaction Data Hash Code is the first check to fail.
    assert!(matches!(
        oda::verify_cda(&icc, &h(SDAD), &UN, 0x00, b"unpublished transaction data"),
        Err(OdaError::TransactionDataHashMismatch)
    ));
    assert!(matches!(
        oda::verify_cda(&icc, &h(SDAD), &UN, 0x80, b""),
        Err(OdaError::CidMismatch {
            recovered: 0x00,
            expected: 0x80
        })
    ));
    assert!(matches!(
        oda::verify_cda(&icc, &h(SDAD), &[0x8B, 0x55, 0x63, 0x3C], 0x00, b""),
        Err(OdaError::HashMismatch {
            object: OdaObject::SignedDynamicData
        })
    ));
    // invalid_enc_sdad: last byte 47 instead of 46.
    let mut bad = h(SDAD);
    bad[95] = 0x47;
    assert!(oda::verify_signed_dynamic_data(&icc, &bad, &UN).is_err());
}
