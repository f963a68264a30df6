//! SM-algorithm fDDA (Book C-7 / PBOC 3.0 SM, `contactless::sm`): the SM2 certificate chain
//! and SDAD built with smartpos-crypto's SM2 signer, then every field that the verifier must
//! check changed in turn.

use smartpos_crypto::sm2::{DEFAULT_ID, Sm2PrivateKey};
use smartpos_emv::contactless::sm::{SmCaKey, is_sm_certificate, verify_sm_fdda};

const PAN: [u8; 8] = [0x62, 0x28, 0x48, 0x00, 0x88, 0x88, 0x88, 0x88];
const TODAY: [u8; 3] = [0x26, 0x11, 0x21];

struct Chain {
    ca: SmCaKey,
    issuer_cert: Vec<u8>,
    icc_cert: Vec<u8>,
    sdad: Vec<u8>,
    static_data: Vec<u8>,
    tdd: Vec<u8>,
}

fn sign(key: &Sm2PrivateKey, parts: &[&[u8]]) -> Vec<u8> {
    key.sign(DEFAULT_ID, &parts.concat())
        .expect("sign")
        .to_bytes()
        .to_vec()
}

fn chain(expiry: [u8; 2]) -> Chain {
    let ca = Sm2PrivateKey::generate().expect("ca");
    let issuer = Sm2PrivateKey::generate().expect("issuer");
    let icc = Sm2PrivateKey::generate().expect("icc");
    let mut ic = vec![
        0x12, 0x62, 0x28, 0x48, 0xFF, expiry[0], expiry[1], 0, 0, 1, 4, 4, 0x40,
    ];
    ic.extend_from_slice(&issuer.public_key().to_bytes()[1..]);
    let sig = sign(&ca, &[&ic]);
    ic.extend_from_slice(&sig);
    let static_data = b"static data to be authenticated".to_vec();
    let mut cc = vec![0x14];
    cc.extend_from_slice(&PAN);
    cc.extend_from_slice(&[0xFF, 0xFF, expiry[0], expiry[1], 0, 0, 2, 4, 4, 0x40]);
    cc.extend_from_slice(&icc.public_key().to_bytes()[1..]);
    let sig = sign(&issuer, &[&cc, &static_data]);
    cc.extend_from_slice(&sig);
    let tdd = vec![0x11, 0x22, 0x33, 0x44, 0, 0, 0, 0, 0x10, 0x00, 0x01, 0x56];
    let mut sd = vec![0x15, 0x04, 0x05, 0x04, 0xAA, 0xBB, 0xCC, 0xDD];
    let sig = sign(&icc, &[&sd, &tdd]);
    sd.extend_from_slice(&sig);
    Chain {
        ca: SmCaKey {
            rid: [0xA0, 0, 0, 0x03, 0x33],
            index: 0xF3,
            key: ca.public_key().try_clone().expect("key"),
        },
        issuer_cert: ic,
        icc_cert: cc,
        sdad: sd,
        static_data,
        tdd,
    }
}

fn verify(c: &Chain) -> Result<Vec<u8>, String> {
    verify_sm_fdda(
        &c.ca,
        &c.issuer_cert,
        &c.icc_cert,
        &PAN,
        &c.static_data,
        &c.sdad,
        &c.tdd,
        &TODAY,
    )
}

#[test]
fn a_valid_sm_chain_verifies_and_returns_the_icc_dynamic_data() {
    let c = chain([0x12, 0x30]);
    assert!(is_sm_certificate(&c.issuer_cert));
    assert_eq!(
        verify(&c).expect("valid"),
        vec![0x04, 0xAA, 0xBB, 0xCC, 0xDD]
    );
}

/// A change to a chain, and the error text it must produce.
type Change = Box<dyn Fn(&mut Chain)>;

#[test]
fn each_changed_field_is_rejected() {
    let base = chain([0x12, 0x30]);
    let cases: Vec<(&str, Change)> = vec![
        ("issuer certificate", Box::new(|c| c.issuer_cert[20] ^= 1)),
        ("ICC certificate", Box::new(|c| c.icc_cert[30] ^= 1)),
        ("ICC certificate", Box::new(|c| c.static_data[0] ^= 1)),
        ("SDAD", Box::new(|c| c.tdd[0] ^= 1)),
        ("SDAD", Box::new(|c| c.sdad[4] ^= 1)),
        ("not SM format", Box::new(|c| c.sdad[0] = 0x05)),
        (
            "64 bytes",
            Box::new(|c| {
                c.sdad.pop();
            }),
        ),
        ("too short", Box::new(|c| c.icc_cert.truncate(40))),
    ];
    for (expect, change) in cases {
        let mut c = Chain {
            ca: SmCaKey {
                rid: base.ca.rid,
                index: base.ca.index,
                key: base.ca.key.try_clone().expect("key"),
            },
            issuer_cert: base.issuer_cert.clone(),
            icc_cert: base.icc_cert.clone(),
            sdad: base.sdad.clone(),
            static_data: base.static_data.clone(),
            tdd: base.tdd.clone(),
        };
        change(&mut c);
        let e = verify(&c).expect_err(expect);
        assert!(e.contains(expect), "{expect}: got {e}");
    }
}

#[test]
fn expired_certificates_and_a_foreign_pan_are_rejected() {
    let c = chain([0x10, 0x26]); // October 2026, before the November 2026 transaction
    assert!(verify(&c).expect_err("expired").contains("expired"));
    let c = chain([0x12, 0x30]);
    let other_pan = [0x62, 0x28, 0x48, 0x00, 0x88, 0x88, 0x88, 0x89];
    let e = verify_sm_fdda(
        &c.ca,
        &c.issuer_cert,
        &c.icc_cert,
        &other_pan,
        &c.static_data,
        &c.sdad,
        &c.tdd,
        &TODAY,
    )
    .expect_err("pan");
    assert!(e.contains("PAN"), "{e}");
}
