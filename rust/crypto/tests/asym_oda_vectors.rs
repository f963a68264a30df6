//! EMV ODA recovery against real certificates: openemv/emv-utils
//! @3e314fda26ebf0e0decaa133b801e519d4bbe5f5 tests/emv_rsa_test.c (issuer certificate, SSAD and
//! ICC certificate of a test card, PAN 4761739001010119) under the Visa VSDC CA public TEST key
//! A000000003 #94 (1984 bits, exponent 3; modulus as published in Visa's VSDC test key table and
//! carried by terminal CAPK lists).
//!
//! The test file does not publish the card's Static Data to be Authenticated, so the SSAD and ICC
//! certificate hashes are checked against the published recovered hash results, and the full
//! verification is expected to report a hash mismatch without that data.

use smartpos_crypto::rsa::RsaPublicKey;
use smartpos_crypto::rsa::oda::{self, OdaError, OdaObject, TransactionDate};

const CAPK94: &str = "ACD2B12302EE644F3F835ABD1FC7A6F62CCE48FFEC622AA8EF062BEF6FB8BA8BC68BBF6AB5870EED579BC3973E121303\
     D34841A796D6DCBC41DBF9E52C4609795C0CCF7EE86FA1D5CB041071ED2C51D2202F63F1156C58A92D38BC60BDF424E1\
     776E2BC9648078A03B36FB554375FC53D57C73F5160EA59F3AFC5398EC7B67758D65C9BFF7828B6B82D4BE124A416AB7\
     301914311EA462C19F771F31B3B57336000DFF732D3B83DE07052D730354D297BEC72871DCCF0E193F171ABA27EE464C\
     6A97690943D59BDABB2A27EB71CEEBDAFA1176046478FD62FEC452D5CA393296530AA3F41927ADFE434A2DF2AE3054F8\
     840657A26E0FC617";
const ISSUER_CERT: &str = "665CD65C20DEAE638C7320EA011E5E2B33FC5070FF7D153D74FE9A01ABFF0B9587B3779C524577F8A57C19923B39CD3F\
     5CCDD457D360DC2619CDBB94328777BB905E1CB79E280458F60C8C5593EFD22D6385512B11B7F2EAFE1184CF9066B9B4\
     7A0BF832045066359AE465473D31B9F830A6DE7D88E969CB456033F8073BEC512205920E3DEA773D3E36E1F46C2E8BDD\
     C423FB675CA1710A3D0A06E9C7570919735190BD6ED65BD5EF92C0416BFE4094EA96A218013838EF337151A8BE7222DC\
     F0717399553C4DDA16EBABB2DD386A07BDF313D970C1324CAAB885067691E3EE5E5D8B912799BD53C8E1830237E9EC0A\
     9254D80B2BD3622C";
const ISSUER_MODULUS: &str = "DDD9039ACC0BB00E8D6C1A11BD78C055758C5AB4CC6A3735A23DDFCF16A8F7BA72B7060FD4A77A8F6CA5FB4F11300A67\
     1BF14DF26647DCB2DC1D018A78D0F7CBCA854ECB03D32BEECEDFA849256CCB4B0392F3CC36B838EBFD244C11C58EF44E\
     D63196E6CD55E0AC7BCA87ED2CC4F475DC9999BA88BA0E00FA860D7763996ED8A01701E2AC0D285B1198FC8485AADF04\
     3FAA3848ED869D6EB3D970F4AC08A97474278842C85584E34B6FACC07207BC41";
const SSAD: &str = "30661BC4D33D38F913D48429E6760FD9BDF2D9172A22F30418A29138A2D35A473E2AE42A3A6E6EEDFBF99D6C8C21F12E\
     B96FD717D67AE222DB53863257EC8D7D649E40F2A64D18659B2FB45D893A995B88AEC4209975975E8DB3AC516D4CDF4A\
     26681C524F9EA5C3750283A2B8F4569F9A9672DE9B6ED2C529B9611B38F237C8BDCFF088988CB2DD6599B8E62D4E77EE\
     5386B892BE36B7BFB553A2BFDE900FB774C1A544CEB2C5A6CE9968927ED38B87";
const ICC_CERT: &str = "A6CDB529A1D8CB538E19A277764C633F3C2F468A6A7CC3B5EF3F5B9838B7900316A627927569F679EAE367E10160D7A1\
     E08D9F20399F8B6FFE77A564B108DD924458A89D966C980D1E52A0093CA1CFA44CB3FCCF102632A799486B409C34C1F6\
     A3DCC3C1C0EE1C0F6E1EA7A33C1CDAEA9852AAA4B954D429C9EEDBF8803D6D159CAB6B8DCAB0694B5850D5F3C4014B45\
     ABCB5B8F69BFC647D94F9E0039439A2D5584DEAD27729C894615F62AE7AC8216";
const ICC_MODULUS: &str = "AB02DC02F1CB7D30113FE87A17D38D67A47CA6EC7A7AE10E6FE5B7D5800547B1B21A2413DD18136126D8B00F021DC7E1\
     9CF513DD87149673B3764FF701454347CCA9C8E310F9DB651DFDC9364F121002E5A795E3ECFB50678177CF4C15A11067\
     C1006E13AE77122934A38C11F429137A9AA9AF98610BC8B4979B3FC6BC85C34CAFA2E1B818F54DD8A50B21B9CBF62BFA\
     D4BB3F4CF6B5239F3FD23F8B93E96C84C9CE67DFD70359153855A8F735CAFBE5";
const ICC_REMAINDER: &str =
    "4DD8A50B21B9CBF62BFAD4BB3F4CF6B5239F3FD23F8B93E96C84C9CE67DFD70359153855A8F735CAFBE5";

const PAN: [u8; 8] = [0x47, 0x61, 0x73, 0x90, 0x01, 0x01, 0x01, 0x19];

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn ca() -> RsaPublicKey {
    RsaPublicKey::new(&h(CAPK94), &[0x03]).unwrap()
}

fn date(y: u16, m: u8) -> TransactionDate {
    TransactionDate::new(y, m, 1).unwrap()
}

#[test]
fn issuer_certificate_recovers_published_key() {
    let issuer =
        oda::recover_issuer_public_key(&ca(), &h(ISSUER_CERT), &[], &[0x03], &PAN, date(2026, 11))
            .unwrap();
    assert_eq!(hex::encode_upper(issuer.key.modulus()), ISSUER_MODULUS);
    assert_eq!(issuer.key.exponent(), &[0x03]);
    assert_eq!(issuer.issuer_identifier, [0x47, 0x61, 0x73, 0xFF]);
    assert_eq!(issuer.expiry, [0x12, 0x31]);
    assert_eq!(issuer.serial, [0x03, 0xDA, 0x0A]);
    assert_eq!(
        issuer.revocation_entry(&[0xA0, 0, 0, 0, 0x03], 0x94),
        [0xA0, 0, 0, 0, 0x03, 0x94, 0x03, 0xDA, 0x0A]
    );
    // Valid through December 2031, expired in January 2032.
    assert!(
        oda::recover_issuer_public_key(&ca(), &h(ISSUER_CERT), &[], &[0x03], &PAN, date(2031, 12))
            .is_ok()
    );
    assert!(matches!(
        oda::recover_issuer_public_key(&ca(), &h(ISSUER_CERT), &[], &[0x03], &PAN, date(2032, 1)),
        Err(OdaError::Expired {
            object: OdaObject::IssuerCertificate,
            ..
        })
    ));
}

#[test]
fn issuer_certificate_failures_from_the_test_file() {
    // invalid_issuer_cert: last byte 2D instead of 2C.
    let mut bad = h(ISSUER_CERT);
    let last = bad.len() - 1;
    bad[last] = 0x2D;
    assert!(
        oda::recover_issuer_public_key(&ca(), &bad, &[], &[0x03], &PAN, date(2026, 11)).is_err()
    );
    // invalid_icc_data: exponent 010001 instead of 03 (the hash covers the exponent).
    assert!(matches!(
        oda::recover_issuer_public_key(
            &ca(),
            &h(ISSUER_CERT),
            &[],
            &[0x01, 0x00, 0x01],
            &PAN,
            date(2026, 11)
        ),
        Err(OdaError::HashMismatch {
            object: OdaObject::IssuerCertificate
        })
    ));
    // A PAN of another issuer.
    let other = [0x47, 0x61, 0x74, 0x90, 0x01, 0x01, 0x01, 0x19];
    assert!(matches!(
        oda::recover_issuer_public_key(
            &ca(),
            &h(ISSUER_CERT),
            &[],
            &[0x03],
            &other,
            date(2026, 11)
        ),
        Err(OdaError::PanMismatch { .. })
    ));
}

#[test]
fn ssad_recovers_published_fields() {
    let issuer = RsaPublicKey::new(&h(ISSUER_MODULUS), &[0x03]).unwrap();
    let recovered = issuer.public_op(&h(SSAD)).unwrap();
    // 6A | 03 | hash 01 | DAC DAC0 | pad BB.. | hash | BC
    assert_eq!(&recovered[..5], &[0x6A, 0x03, 0x01, 0xDA, 0xC0]);
    assert!(recovered[5..176 - 21].iter().all(|b| *b == 0xBB));
    assert_eq!(
        hex::encode_upper(&recovered[176 - 21..175]),
        "4E2821974D704E338E7218F887763F7BDCE2B814"
    );
    assert_eq!(recovered[175], 0xBC);
    // Without the card's static data the hash cannot match.
    assert!(matches!(
        oda::verify_signed_static_data(&issuer, &h(SSAD), &[]),
        Err(OdaError::HashMismatch {
            object: OdaObject::SignedStaticData
        })
    ));
    // invalid_ssad: last byte 88 instead of 87.
    let mut bad = h(SSAD);
    bad[175] = 0x88;
    assert!(oda::verify_signed_static_data(&issuer, &bad, &[]).is_err());
}

#[test]
fn icc_certificate_recovers_published_fields() {
    let issuer = RsaPublicKey::new(&h(ISSUER_MODULUS), &[0x03]).unwrap();
    let recovered = issuer.public_op(&h(ICC_CERT)).unwrap();
    assert_eq!(&recovered[..2], &[0x6A, 0x04]);
    assert_eq!(hex::encode_upper(&recovered[2..12]), "4761739001010119FFFF");
    assert_eq!(
        &recovered[12..21],
        &[0x12, 0x22, 0x00, 0x00, 0x01, 0x01, 0x01, 176, 0x01]
    );
    // Leftmost 134 digits of the key in the certificate, the rest in tag 9F48.
    let mut modulus = recovered[21..176 - 21].to_vec();
    modulus.extend_from_slice(&h(ICC_REMAINDER));
    assert_eq!(hex::encode_upper(&modulus), ICC_MODULUS);
    assert_eq!(
        hex::encode_upper(&recovered[155..175]),
        "B8D9B5F7A12DC0D77FC0B2F7BBACA514939CAD60"
    );
    // Full verification needs the card's static data (not published): hash mismatch, and the
    // expiry (December 2022) is checked only after the hash.
    assert!(matches!(
        oda::recover_icc_public_key(
            &issuer,
            &h(ICC_CERT),
            &h(ICC_REMAINDER),
            &[0x03],
            &PAN,
            &[],
            date(2022, 6)
        ),
        Err(OdaError::HashMismatch {
            object: OdaObject::IccCertificate
        })
    ));
    // invalid ICC remainder (last byte E6): still a hash mismatch; a short one too.
    let mut rem = h(ICC_REMAINDER);
    rem[41] = 0xE6;
    assert!(
        oda::recover_icc_public_key(
            &issuer,
            &h(ICC_CERT),
            &rem,
            &[0x03],
            &PAN,
            &[],
            date(2022, 6)
        )
        .is_err()
    );
}
