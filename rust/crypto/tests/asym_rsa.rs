//! Raw RSA and EMV offline data authentication (EMV Book 2 §5, §6): round trips through the
//! issuer-side signing functions, and one test per failure reason with crafted certificates.

use smartpos_crypto::rsa::oda::{
    self, OdaError, OdaObject, TransactionDate, recover_icc_public_key, recover_issuer_public_key,
    verify_cda, verify_signed_dynamic_data, verify_signed_static_data,
};
use smartpos_crypto::rsa::sign::{
    self, SignError, cda_dynamic_data, dda_dynamic_data, issuer_identifier_from_pan,
    sign_dynamic_data, sign_icc_certificate, sign_issuer_certificate, sign_static_data,
};
use smartpos_crypto::rsa::{PublicOpStrategy, RsaError, RsaPrivateKey, RsaPublicKey};
use std::sync::OnceLock;

struct Pki {
    ca: RsaPrivateKey,         // 1984 bits, e = 3
    issuer: RsaPrivateKey,     // 1408 bits, e = 3 (fits in the certificate)
    issuer_big: RsaPrivateKey, // 1984 bits, e = 3 (needs a remainder)
    icc: RsaPrivateKey,        // 1024 bits, e = 3
    icc_f4: RsaPrivateKey,     // 1024 bits, e = 65537
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| Pki {
        ca: RsaPrivateKey::generate(1984, 3).unwrap(),
        issuer: RsaPrivateKey::generate(1408, 3).unwrap(),
        issuer_big: RsaPrivateKey::generate(1984, 3).unwrap(),
        icc: RsaPrivateKey::generate(1024, 3).unwrap(),
        icc_f4: RsaPrivateKey::generate(1024, 65537).unwrap(),
    })
}

const PAN: [u8; 8] = [0x54, 0x13, 0x33, 0x00, 0x89, 0x02, 0x00, 0x11];
const STATIC_DATA: &[u8] =
    b"\x5A\x08\x54\x13\x33\x00\x89\x02\x00\x11\x5F\x24\x03\x30\x12\x31\x82\x02\x39\x00";

fn today() -> TransactionDate {
    TransactionDate::new(2026, 11, 21).unwrap()
}

fn issuer_id() -> [u8; 4] {
    issuer_identifier_from_pan(&PAN, 6).unwrap()
}

#[test]
fn raw_public_op_strategies_agree_and_invert_private_op() {
    let p = pki();
    for key in [&p.ca, &p.issuer, &p.icc, &p.icc_f4] {
        let n = key.modulus_len();
        let mut msg = vec![0x6A; n];
        msg[n - 1] = 0xBC;
        let sig = key.private_op(&msg).unwrap();
        let public = key.public_key();
        for strategy in [
            PublicOpStrategy::MulMod,
            PublicOpStrategy::OpensslRsa,
            PublicOpStrategy::ModExp,
            PublicOpStrategy::CubeOneDivision,
        ] {
            assert_eq!(
                public.public_op_using(strategy, &sig).unwrap(),
                msg,
                "{strategy:?}"
            );
        }
        assert_eq!(public.public_op(&sig).unwrap(), msg);
        // Small result keeps its leading zeros.
        let mut small = vec![0u8; n];
        small[n - 1] = 2;
        let s = key.private_op(&small).unwrap();
        assert_eq!(public.public_op(&s).unwrap(), small);
    }
}

#[test]
fn raw_rsa_errors() {
    let p = pki();
    let public = p.ca.public_key();
    assert!(matches!(
        public.public_op(&[1u8; 10]),
        Err(RsaError::InputLength {
            expected: 248,
            actual: 10
        })
    ));
    // Input equal to the modulus is out of range, for every strategy.
    for strategy in [
        PublicOpStrategy::MulMod,
        PublicOpStrategy::OpensslRsa,
        PublicOpStrategy::ModExp,
    ] {
        assert!(matches!(
            public.public_op_using(strategy, public.modulus()),
            Err(RsaError::InputOutOfRange)
        ));
    }
    assert!(matches!(
        p.ca.private_op(&[0xFF; 248]),
        Err(RsaError::InputOutOfRange)
    ));
    assert!(matches!(
        RsaPublicKey::new(public.modulus(), &[0x05]),
        Err(RsaError::UnsupportedExponent { .. })
    ));
    let mut even = public.modulus().to_vec();
    even[247] &= 0xFE;
    assert!(matches!(
        RsaPublicKey::new(&even, &[3]),
        Err(RsaError::InvalidModulus { .. })
    ));
    assert!(matches!(
        RsaPublicKey::new(&[0xC1; 20], &[3]),
        Err(RsaError::InvalidModulus { .. })
    ));
    assert!(matches!(
        RsaPublicKey::new(&[0xC1; 257], &[3]),
        Err(RsaError::InvalidModulus { .. })
    ));
    // Exponent with leading zeros is accepted and normalised.
    let k = RsaPublicKey::new(public.modulus(), &[0x00, 0x00, 0x03]).unwrap();
    assert_eq!(k.exponent(), &[0x03]);
    assert!(matches!(
        RsaPrivateKey::generate(1001, 3),
        Err(RsaError::UnsupportedKeySize { bits: 1001 })
    ));
    assert!(matches!(
        RsaPrivateKey::generate(1024, 17),
        Err(RsaError::UnsupportedExponent { .. })
    ));
    // Debug never prints key material.
    let dbg = format!("{:?}", p.icc);
    assert!(
        dbg.contains("1024")
            && !dbg.contains(&hex::encode_upper(&p.icc.public_key().modulus()[..8]))
    );
    // DER round trip.
    let der = p.icc.to_pkcs1_der().unwrap();
    let again = RsaPrivateKey::from_pkcs1_der(&der).unwrap();
    assert_eq!(again.public_key(), p.icc.public_key());
}

#[test]
fn sda_round_trip() {
    let p = pki();
    let cert = sign_issuer_certificate(
        &p.ca,
        issuer_id(),
        [0x12, 0x30],
        [0, 0, 7],
        p.issuer.public_key(),
    )
    .unwrap();
    assert!(cert.remainder.is_empty());
    assert_eq!(cert.certificate.len(), 248);
    let issuer = recover_issuer_public_key(
        p.ca.public_key(),
        &cert.certificate,
        &cert.remainder,
        &cert.exponent,
        &PAN,
        today(),
    )
    .unwrap();
    assert_eq!(&issuer.key, p.issuer.public_key());
    assert_eq!(issuer.serial, [0, 0, 7]);
    assert_eq!(issuer.expiry, [0x12, 0x30]);
    assert_eq!(issuer.issuer_identifier, [0x54, 0x13, 0x33, 0xFF]);

    let ssad = sign_static_data(&p.issuer, [0xDA, 0xC1], STATIC_DATA).unwrap();
    assert_eq!(
        verify_signed_static_data(&issuer.key, &ssad, STATIC_DATA).unwrap(),
        [0xDA, 0xC1]
    );
    let mut other = STATIC_DATA.to_vec();
    other[3] ^= 1;
    assert!(matches!(
        verify_signed_static_data(&issuer.key, &ssad, &other),
        Err(OdaError::HashMismatch {
            object: OdaObject::SignedStaticData
        })
    ));
    assert!(matches!(
        verify_signed_static_data(&issuer.key, &ssad[1..], STATIC_DATA),
        Err(OdaError::LengthMismatch {
            object: OdaObject::SignedStaticData,
            expected: 176,
            actual: 175
        })
    ));
}

#[test]
fn dda_round_trip_with_remainders() {
    let p = pki();
    // 1984-bit issuer key under a 1984-bit CA key: 36 bytes go to the remainder (tag 92).
    let cert = sign_issuer_certificate(
        &p.ca,
        issuer_id(),
        [0x12, 0x30],
        [1, 2, 3],
        p.issuer_big.public_key(),
    )
    .unwrap();
    assert_eq!(cert.remainder.len(), 36);
    let issuer = recover_issuer_public_key(
        p.ca.public_key(),
        &cert.certificate,
        &cert.remainder,
        &cert.exponent,
        &PAN,
        today(),
    )
    .unwrap();
    assert_eq!(&issuer.key, p.issuer_big.public_key());
    // Missing remainder: key length mismatch.
    assert!(matches!(
        recover_issuer_public_key(
            p.ca.public_key(),
            &cert.certificate,
            &[],
            &cert.exponent,
            &PAN,
            today()
        ),
        Err(OdaError::HashMismatch { .. }) | Err(OdaError::KeyLengthMismatch { .. })
    ));

    // ICC key 1024 bits under the 1984-bit issuer key: fits; then SDAD.
    let icc_cert = sign_icc_certificate(
        &p.issuer_big,
        &PAN,
        [0x12, 0x28],
        [0, 0, 1],
        p.icc.public_key(),
        STATIC_DATA,
    )
    .unwrap();
    assert!(icc_cert.remainder.is_empty());
    let icc = recover_icc_public_key(
        &issuer.key,
        &icc_cert.certificate,
        &icc_cert.remainder,
        &icc_cert.exponent,
        &PAN,
        STATIC_DATA,
        today(),
    )
    .unwrap();
    assert_eq!(&icc.key, p.icc.public_key());
    assert_eq!(icc.serial, [0, 0, 1]);

    let ddol_data = [0x12, 0x34, 0x56, 0x78];
    let dyn_data = dda_dynamic_data(&[0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6, 0x07, 0x18]).unwrap();
    let sdad = sign_dynamic_data(&p.icc, &dyn_data, &ddol_data).unwrap();
    let recovered = verify_signed_dynamic_data(&icc.key, &sdad, &ddol_data).unwrap();
    assert_eq!(
        recovered.icc_dynamic_number,
        vec![0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6, 0x07, 0x18]
    );
    assert_eq!(recovered.data, dyn_data);
    // Another unpredictable number: hash mismatch.
    assert!(matches!(
        verify_signed_dynamic_data(&icc.key, &sdad, &[0x12, 0x34, 0x56, 0x79]),
        Err(OdaError::HashMismatch {
            object: OdaObject::SignedDynamicData
        })
    ));
    // Static data changed after the certificate was made: ICC certificate hash mismatch.
    assert!(matches!(
        recover_icc_public_key(
            &issuer.key,
            &icc_cert.certificate,
            &[],
            &icc_cert.exponent,
            &PAN,
            b"other",
            today()
        ),
        Err(OdaError::HashMismatch {
            object: OdaObject::IccCertificate
        })
    ));
}

#[test]
fn icc_certificate_with_remainder_and_f4_exponent() {
    let p = pki();
    // ICC 1024-bit e=65537 key under the 1408-bit issuer key fits (176-42 = 134 >= 128); under a
    // 1024-bit "issuer" it needs a 42-byte remainder.
    let small_issuer = &p.icc;
    let cert = sign_icc_certificate(
        small_issuer,
        &PAN,
        [0x12, 0x28],
        [0, 0, 2],
        p.icc_f4.public_key(),
        STATIC_DATA,
    )
    .unwrap();
    assert_eq!(cert.remainder.len(), 42);
    assert_eq!(cert.exponent, vec![0x01, 0x00, 0x01]);
    let icc = recover_icc_public_key(
        small_issuer.public_key(),
        &cert.certificate,
        &cert.remainder,
        &cert.exponent,
        &PAN,
        STATIC_DATA,
        today(),
    )
    .unwrap();
    assert_eq!(&icc.key, p.icc_f4.public_key());
    // Remainder one byte short.
    assert!(matches!(
        recover_icc_public_key(
            small_issuer.public_key(),
            &cert.certificate,
            &cert.remainder[1..],
            &cert.exponent,
            &PAN,
            STATIC_DATA,
            today()
        ),
        Err(OdaError::HashMismatch { .. })
    ));
    // Exponent tag shorter than the certificate says.
    assert!(matches!(
        recover_icc_public_key(
            small_issuer.public_key(),
            &cert.certificate,
            &cert.remainder,
            &[0x03],
            &PAN,
            STATIC_DATA,
            today()
        ),
        Err(OdaError::HashMismatch { .. })
    ));
    // DDA under the e=65537 key.
    let dyn_data = dda_dynamic_data(&[1, 2]).unwrap();
    let sdad = sign_dynamic_data(&p.icc_f4, &dyn_data, &[9, 9, 9, 9]).unwrap();
    assert_eq!(
        verify_signed_dynamic_data(&icc.key, &sdad, &[9, 9, 9, 9])
            .unwrap()
            .icc_dynamic_number,
        vec![1, 2]
    );
}

#[test]
fn cda_round_trip_and_failures() {
    let p = pki();
    let icc = p.icc.public_key();
    let un = [0xDE, 0xAD, 0xBE, 0xEF];
    let tx = b"PDOL data || CDOL1 data || 9F2701809F360200019F1007...";
    let ac = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88];
    let dd = cda_dynamic_data(&[0x01, 0x02, 0x03, 0x04], 0x80, ac, tx).unwrap();
    let sdad = sign_dynamic_data(&p.icc, &dd, &un).unwrap();
    let result = verify_cda(icc, &sdad, &un, 0x80, tx).unwrap();
    assert_eq!(result.application_cryptogram, ac);
    assert_eq!(result.cid, 0x80);
    assert_eq!(result.icc_dynamic_number, vec![1, 2, 3, 4]);
    assert!(matches!(
        verify_cda(icc, &sdad, &un, 0x40, tx),
        Err(OdaError::CidMismatch {
            recovered: 0x80,
            expected: 0x40
        })
    ));
    assert!(matches!(
        verify_cda(icc, &sdad, &un, 0x80, b"other data"),
        Err(OdaError::TransactionDataHashMismatch)
    ));
    assert!(matches!(
        verify_cda(icc, &sdad, &[0, 0, 0, 0], 0x80, tx),
        Err(OdaError::HashMismatch {
            object: OdaObject::SignedDynamicData
        })
    ));
    // DDA-style dynamic data is too short for CDA.
    let short = sign_dynamic_data(&p.icc, &dda_dynamic_data(&[1, 2]).unwrap(), &un).unwrap();
    assert!(matches!(
        verify_cda(icc, &short, &un, 0x80, tx),
        Err(OdaError::MalformedDynamicData(_))
    ));
}

/// Sign a hand-made issuer certificate message (Book 2 Table 6) with knobs for each field.
struct IssuerMsg {
    header: u8,
    format: u8,
    issuer_id: [u8; 4],
    expiry: [u8; 2],
    hash_alg: u8,
    pk_alg: u8,
    key_len: Option<u8>,
    exp_len: u8,
    trailer: u8,
    corrupt_hash: bool,
}

impl Default for IssuerMsg {
    fn default() -> Self {
        IssuerMsg {
            header: 0x6A,
            format: 0x02,
            issuer_id: [0x54, 0x13, 0x33, 0xFF],
            expiry: [0x12, 0x30],
            hash_alg: 0x01,
            pk_alg: 0x01,
            key_len: None,
            exp_len: 1,
            trailer: 0xBC,
            corrupt_hash: false,
        }
    }
}

fn signed_issuer_cert(m: IssuerMsg) -> Vec<u8> {
    let p = pki();
    let key = p.issuer.public_key();
    let n = p.ca.modulus_len();
    let mut msg = vec![m.header, m.format];
    msg.extend_from_slice(&m.issuer_id);
    msg.extend_from_slice(&m.expiry);
    msg.extend_from_slice(&[
        0,
        0,
        9,
        m.hash_alg,
        m.pk_alg,
        m.key_len.unwrap_or(key.modulus_len() as u8),
        m.exp_len,
    ]);
    let mut field = key.modulus().to_vec();
    field.resize(n - 36, 0xBB);
    msg.extend_from_slice(&field);
    let mut hash_input = msg[1..].to_vec();
    hash_input.extend_from_slice(&[0x03]); // exponent, no remainder
    let mut hash = smartpos_crypto::hash::sha1(&hash_input);
    if m.corrupt_hash {
        hash[0] ^= 1;
    }
    msg.extend_from_slice(&hash);
    msg.push(m.trailer);
    assert_eq!(msg.len(), n);
    p.ca.private_op(&msg).unwrap()
}

fn recover(cert: &[u8]) -> Result<oda::IssuerPublicKey, OdaError> {
    recover_issuer_public_key(pki().ca.public_key(), cert, &[], &[0x03], &PAN, today())
}

#[test]
fn issuer_certificate_failure_reasons() {
    assert!(recover(&signed_issuer_cert(IssuerMsg::default())).is_ok());
    assert!(matches!(
        recover(&signed_issuer_cert(IssuerMsg {
            trailer: 0xBD,
            ..Default::default()
        })),
        Err(OdaError::BadTrailer {
            object: OdaObject::IssuerCertificate,
            found: 0xBD
        })
    ));
    assert!(matches!(
        recover(&signed_issuer_cert(IssuerMsg {
            header: 0x6B,
            ..Default::default()
        })),
        Err(OdaError::BadHeader { found: 0x6B, .. })
    ));
    assert!(matches!(
        recover(&signed_issuer_cert(IssuerMsg {
            format: 0x04,
            ..Default::default()
        })),
        Err(OdaError::BadFormat {
            expected: 0x02,
            found: 0x04,
            ..
        })
    ));
    assert!(matches!(
        recover(&signed_issuer_cert(IssuerMsg {
            hash_alg: 0x02,
            ..Default::default()
        })),
        Err(OdaError::UnsupportedHashAlgorithm {
            indicator: 0x02,
            ..
        })
    ));
    assert!(matches!(
        recover(&signed_issuer_cert(IssuerMsg {
            corrupt_hash: true,
            ..Default::default()
        })),
        Err(OdaError::HashMismatch {
            object: OdaObject::IssuerCertificate
        })
    ));
    assert!(matches!(
        recover(&signed_issuer_cert(IssuerMsg {
            issuer_id: [0x54, 0x13, 0x34, 0xFF],
            ..Default::default()
        })),
        Err(OdaError::PanMismatch {
            object: OdaObject::IssuerCertificate,
            ..
        })
    ));
    // Only 2 digits: not a valid issuer identifier.
    assert!(matches!(
        recover(&signed_issuer_cert(IssuerMsg {
            issuer_id: [0x54, 0xFF, 0xFF, 0xFF],
            ..Default::default()
        })),
        Err(OdaError::PanMismatch { .. })
    ));
    // 8 digits, no padding: matches.
    assert!(
        recover(&signed_issuer_cert(IssuerMsg {
            issuer_id: [0x54, 0x13, 0x33, 0x00],
            ..Default::default()
        }))
        .is_ok()
    );
    // Expired last month; valid through the end of this month.
    assert!(matches!(
        recover(&signed_issuer_cert(IssuerMsg {
            expiry: [0x10, 0x26],
            ..Default::default()
        })),
        Err(OdaError::Expired { .. })
    ));
    assert!(
        recover(&signed_issuer_cert(IssuerMsg {
            expiry: [0x11, 0x26],
            ..Default::default()
        }))
        .is_ok()
    );
    assert!(matches!(
        recover(&signed_issuer_cert(IssuerMsg {
            expiry: [0x13, 0x26],
            ..Default::default()
        })),
        Err(OdaError::InvalidExpiryDate { .. })
    ));
    assert!(matches!(
        recover(&signed_issuer_cert(IssuerMsg {
            pk_alg: 0x02,
            ..Default::default()
        })),
        Err(OdaError::UnsupportedPublicKeyAlgorithm {
            indicator: 0x02,
            ..
        })
    ));
    // Key length claims more than the certificate holds, and no remainder.
    assert!(matches!(
        recover(&signed_issuer_cert(IssuerMsg {
            key_len: Some(240),
            ..Default::default()
        })),
        Err(OdaError::KeyLengthMismatch { .. })
    ));
    // Key longer than the CA key.
    assert!(matches!(
        recover(&signed_issuer_cert(IssuerMsg {
            key_len: Some(250),
            ..Default::default()
        })),
        Err(OdaError::KeyLengthMismatch { .. })
    ));
    assert!(matches!(
        recover(&signed_issuer_cert(IssuerMsg {
            exp_len: 3,
            ..Default::default()
        })),
        Err(OdaError::KeyLengthMismatch { .. })
    ));
    // A remainder given although the key fits: hash covers it, so the hash fails first.
    let good = signed_issuer_cert(IssuerMsg::default());
    assert!(
        recover_issuer_public_key(
            pki().ca.public_key(),
            &good,
            &[1, 2],
            &[0x03],
            &PAN,
            today()
        )
        .is_err()
    );
    // Wrong length and garbage.
    assert!(matches!(
        recover(&good[1..]),
        Err(OdaError::LengthMismatch {
            expected: 248,
            actual: 247,
            ..
        })
    ));
    let mut garbage = good.clone();
    garbage[100] ^= 0x01;
    assert!(recover(&garbage).is_err());
    assert!(matches!(
        recover(&vec![0xFF; 248]),
        Err(OdaError::Rsa { .. })
    ));
}

#[test]
fn icc_certificate_pan_must_match_fully() {
    let p = pki();
    let cert = sign_icc_certificate(
        &p.issuer,
        &PAN,
        [0x12, 0x28],
        [0, 0, 1],
        p.icc.public_key(),
        STATIC_DATA,
    )
    .unwrap();
    let other_pan = [0x54, 0x13, 0x33, 0x00, 0x89, 0x02, 0x00, 0x12];
    assert!(matches!(
        recover_icc_public_key(
            p.issuer.public_key(),
            &cert.certificate,
            &[],
            &cert.exponent,
            &other_pan,
            STATIC_DATA,
            today()
        ),
        Err(OdaError::PanMismatch {
            object: OdaObject::IccCertificate,
            ..
        })
    ));
    // Same digits with F padding in tag 5A still match.
    let padded = [0x54, 0x13, 0x33, 0x00, 0x89, 0x02, 0x00, 0x11, 0xFF];
    assert!(
        recover_icc_public_key(
            p.issuer.public_key(),
            &cert.certificate,
            &[],
            &cert.exponent,
            &padded,
            STATIC_DATA,
            today()
        )
        .is_ok()
    );
    // Expired ICC certificate.
    let late = TransactionDate::from_bcd_yymmdd(&[0x29, 0x01, 0x01]).unwrap();
    assert!(matches!(
        recover_icc_public_key(
            p.issuer.public_key(),
            &cert.certificate,
            &[],
            &cert.exponent,
            &PAN,
            STATIC_DATA,
            late
        ),
        Err(OdaError::Expired {
            object: OdaObject::IccCertificate,
            ..
        })
    ));
    // Wrong certificate type under the issuer key (SSAD presented as an ICC certificate).
    let ssad = sign_static_data(&p.issuer, [0, 0], STATIC_DATA).unwrap();
    assert!(matches!(
        recover_icc_public_key(
            p.issuer.public_key(),
            &ssad,
            &[],
            &cert.exponent,
            &PAN,
            STATIC_DATA,
            today()
        ),
        Err(OdaError::BadFormat {
            expected: 0x04,
            found: 0x03,
            ..
        })
    ));
}

#[test]
fn signing_input_checks() {
    let p = pki();
    assert!(matches!(
        sign_issuer_certificate(
            &p.issuer,
            issuer_id(),
            [0x12, 0x30],
            [0, 0, 1],
            p.ca.public_key()
        ),
        Err(SignError::KeyTooLong { .. })
    ));
    assert!(matches!(
        sign_issuer_certificate(
            &p.ca,
            issuer_id(),
            [0x13, 0x30],
            [0, 0, 1],
            p.issuer.public_key()
        ),
        Err(SignError::InvalidField { .. })
    ));
    assert!(matches!(
        dda_dynamic_data(&[1]),
        Err(SignError::InvalidField { .. })
    ));
    assert!(matches!(
        sign_dynamic_data(&p.icc, &[0u8; 104], &[]),
        Err(SignError::DataTooLong { .. })
    ));
    assert!(sign_dynamic_data(&p.icc, &[2, 1, 2], &[]).is_ok());
    assert!(matches!(
        issuer_identifier_from_pan(&PAN, 2),
        Err(SignError::InvalidField { .. })
    ));
    assert_eq!(
        issuer_identifier_from_pan(&PAN, 3).unwrap(),
        [0x54, 0x1F, 0xFF, 0xFF]
    );
    assert!(oda::issuer_identifier_matches(
        &[0x54, 0x1F, 0xFF, 0xFF],
        &PAN
    ));
    assert!(!oda::issuer_identifier_matches(
        &[0x54, 0x1F, 0x3F, 0xFF],
        &PAN
    ));
    let _ = sign::SignedCertificate {
        certificate: vec![],
        remainder: vec![],
        exponent: vec![],
    };
}

#[test]
fn transaction_dates() {
    assert_eq!(
        TransactionDate::from_bcd_yymmdd(&[0x26, 0x11, 0x21]).unwrap(),
        today()
    );
    assert_eq!(
        TransactionDate::from_bcd_yymmdd(&[0x99, 0x12, 0x31])
            .unwrap()
            .year(),
        1999
    );
    assert!(TransactionDate::from_bcd_yymmdd(&[0x26, 0x13, 0x01]).is_err());
    assert!(TransactionDate::from_bcd_yymmdd(&[0x26, 0x1A, 0x01]).is_err());
    assert!(TransactionDate::from_bcd_yymmdd(&[0x26, 0x11]).is_err());
    assert!(TransactionDate::new(2026, 0, 1).is_err());
}

#[test]
fn keys_can_be_shared_across_threads() {
    // The CA key store shares recovery contexts between threads.
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<RsaPublicKey>();
    assert_send_sync::<RsaPrivateKey>();
    let p = pki();
    let n = p.ca.modulus_len();
    let mut msg = vec![0x6A; n];
    msg[n - 1] = 0xBC;
    let sig = p.ca.private_op(&msg).unwrap();
    let key = p.ca.public_key();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| key.public_op(&sig).unwrap()))
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), msg);
        }
    });
}
