//! SM2 signatures (GB/T 32918.2) on sm2p256v1.

use smartpos_crypto::sm2::{DEFAULT_ID, Sm2Error, Sm2PrivateKey, Sm2PublicKey, Sm2Signature};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

// Worked example on the recommended curve: GM/T 0003.5-2012 Annex A (= GB/T 32918.5-2017
// Annex A), as reproduced in GmSSL's sm2 test (test_sm2_sign with gm_group, SM2_DEFAULT_USERID)
// and Tongsuo's python tests: ID "1234567812345678", M "message digest".
const D: &str = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8";
const PUBLIC: &str = "0409F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020\
                      CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13";
const Z: &str = "B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3";
const E: &str = "F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640";
const K: &str = "59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21";
const R: &str = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3";
const S: &str = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA";

fn std_signature() -> Sm2Signature {
    Sm2Signature::from_bytes(&h(&format!("{R}{S}"))).unwrap()
}

#[test]
fn gmt0003_5_public_key_z_and_digest() {
    let private = Sm2PrivateKey::from_bytes(&h(D)).unwrap();
    assert_eq!(hex::encode_upper(private.public_key().to_bytes()), PUBLIC);
    let public = Sm2PublicKey::from_bytes(&h(PUBLIC)).unwrap();
    assert_eq!(hex::encode_upper(public.z_value(DEFAULT_ID).unwrap()), Z);
    assert_eq!(
        hex::encode_upper(
            public
                .message_digest(DEFAULT_ID, b"message digest")
                .unwrap()
        ),
        E
    );
}

#[test]
fn gmt0003_5_sign_with_fixed_k() {
    let private = Sm2PrivateKey::from_bytes(&h(D)).unwrap();
    let sig = private
        .sign_with_k(DEFAULT_ID, b"message digest", &h(K))
        .unwrap()
        .unwrap();
    assert_eq!(hex::encode_upper(sig.r), R);
    assert_eq!(hex::encode_upper(sig.s), S);
}

#[test]
fn gmt0003_5_verify_and_tamper() {
    let public = Sm2PublicKey::from_bytes(&h(PUBLIC)).unwrap();
    let sig = std_signature();
    assert!(public.verify(DEFAULT_ID, b"message digest", &sig).unwrap());
    assert!(!public.verify(DEFAULT_ID, b"message digesT", &sig).unwrap());
    assert!(
        !public
            .verify(b"1234567812345679", b"message digest", &sig)
            .unwrap()
    );
    let mut bad = sig;
    bad.s[31] ^= 1;
    assert!(!public.verify(DEFAULT_ID, b"message digest", &bad).unwrap());
    let mut bad = sig;
    bad.r[0] ^= 0x80;
    assert!(!public.verify(DEFAULT_ID, b"message digest", &bad).unwrap());
    // r = 0 and s >= n are rejected as invalid signatures, not errors.
    let zero_r = Sm2Signature {
        r: [0; 32],
        s: sig.s,
    };
    assert!(
        !public
            .verify(DEFAULT_ID, b"message digest", &zero_r)
            .unwrap()
    );
    let big_s = Sm2Signature {
        r: sig.r,
        s: [0xFF; 32],
    };
    assert!(
        !public
            .verify(DEFAULT_ID, b"message digest", &big_s)
            .unwrap()
    );
    // Another key does not verify it.
    let other = Sm2PrivateKey::generate().unwrap();
    assert!(
        !other
            .public_key()
            .verify(DEFAULT_ID, b"message digest", &sig)
            .unwrap()
    );
}

#[test]
fn der_round_trip() {
    let sig = std_signature();
    let der = sig.to_der().unwrap();
    assert_eq!(der[0], 0x30);
    assert_eq!(Sm2Signature::from_der(&der).unwrap(), sig);
    assert_eq!(Sm2Signature::parse(&der).unwrap(), sig);
    assert_eq!(Sm2Signature::parse(&sig.to_bytes()).unwrap(), sig);
    // r with top bit set gets a leading 00 in DER: 0x30 len 0x02 0x21 0x00 ...
    assert_eq!(&der[2..5], &[0x02, 0x21, 0x00]);
    assert!(matches!(
        Sm2Signature::from_der(&der[..der.len() - 1]),
        Err(Sm2Error::InvalidSignature(_))
    ));
    assert!(matches!(
        Sm2Signature::from_bytes(&[0u8; 63]),
        Err(Sm2Error::InvalidSignature(_))
    ));
}

#[test]
fn generate_sign_verify_round_trip() {
    let key = Sm2PrivateKey::generate().unwrap();
    let id = b"ALICE123@YAHOO.COM";
    let msg = b"UnionPay QR payment";
    let sig = key.sign(id, msg).unwrap();
    let public = Sm2PublicKey::from_bytes(&key.public_key().to_bytes()).unwrap();
    assert!(public.verify(id, msg, &sig).unwrap());
    assert!(!public.verify(DEFAULT_ID, msg, &sig).unwrap());
    assert!(!public.verify(id, b"UnionPay QR paymenT", &sig).unwrap());
    // Two signatures of the same message differ (random k) and both verify.
    let sig2 = key.sign(id, msg).unwrap();
    assert_ne!(sig, sig2);
    assert!(public.verify(id, msg, &sig2).unwrap());
    // Private key bytes round-trip; Debug never shows them.
    let again = Sm2PrivateKey::from_bytes(&key.to_bytes()[..]).unwrap();
    assert_eq!(again.public_key(), key.public_key());
    let dbg = format!("{key:?}");
    assert!(!dbg.contains(&hex::encode_upper(&key.to_bytes()[..])));
    assert!(!dbg.contains(&hex::encode(&key.to_bytes()[..])));
}

#[test]
fn malformed_keys() {
    assert!(matches!(
        Sm2PublicKey::from_bytes(&h(&PUBLIC[..128])),
        Err(Sm2Error::InvalidPublicKey(_))
    ));
    let mut off_curve = h(PUBLIC);
    off_curve[64] ^= 1;
    assert!(matches!(
        Sm2PublicKey::from_bytes(&off_curve),
        Err(Sm2Error::InvalidPublicKey(_))
    ));
    let mut wrong_prefix = h(PUBLIC);
    wrong_prefix[0] = 0x05;
    assert!(matches!(
        Sm2PublicKey::from_bytes(&wrong_prefix),
        Err(Sm2Error::InvalidPublicKey(_))
    ));
    assert!(matches!(
        Sm2PrivateKey::from_bytes(&[0u8; 32]),
        Err(Sm2Error::InvalidPrivateKey(_))
    ));
    assert!(matches!(
        Sm2PrivateKey::from_bytes(&[1u8; 31]),
        Err(Sm2Error::InvalidPrivateKey(_))
    ));
    // n - 1 is not a valid private key (1 + d would be n).
    let n_minus_1 = h("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54122");
    assert!(matches!(
        Sm2PrivateKey::from_bytes(&n_minus_1),
        Err(Sm2Error::InvalidPrivateKey(_))
    ));
    // Compressed form decodes to the same key.
    let public = Sm2PublicKey::from_bytes(&h(PUBLIC)).unwrap();
    let y_odd = h(PUBLIC)[64] & 1;
    let mut compressed = vec![0x02 | y_odd];
    compressed.extend_from_slice(&h(PUBLIC)[1..33]);
    assert_eq!(Sm2PublicKey::from_bytes(&compressed).unwrap(), public);
    assert!(matches!(
        public.z_value(&vec![b'A'; 8192]),
        Err(Sm2Error::IdTooLong { len: 8192 })
    ));
}
