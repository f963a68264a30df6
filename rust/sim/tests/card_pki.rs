//! The simulator's test PKI: deterministic keys, CA key records the kernel accepts, and
//! certificates that recover under EMV Book 2 §5.3 / §6.4 with smartpos-crypto.

use smartpos_crypto::rsa::oda::{
    TransactionDate, recover_icc_public_key, recover_issuer_public_key,
};
use smartpos_emv::CaKeyStore;
use smartpos_sim::card::pan_bcd;
use smartpos_sim::pki::{
    CA_BITS, ICC_BITS, ISSUER_BITS, IssuerCertFields, SIM_CA_INDEX, TestPki, seeded_rsa_key,
};

#[test]
fn seeded_keys_are_deterministic_and_distinct() {
    let a = seeded_rsa_key("seed", "label", 768).expect("key");
    let b = seeded_rsa_key("seed", "label", 768).expect("key");
    let c = seeded_rsa_key("seed", "other", 768).expect("key");
    assert_eq!(a.public_key().modulus(), b.public_key().modulus());
    assert_ne!(a.public_key().modulus(), c.public_key().modulus());
    assert_eq!(a.public_key().modulus_len(), 96);
    assert_eq!(a.public_key().exponent(), &[0x03]);
    // The private key really inverts the public one.
    let mut m = vec![0x00u8; 96];
    m[1] = 0x6A;
    m[95] = 0xBC;
    let s = a.private_op(&m).expect("sign");
    assert_eq!(a.public_key().public_op(&s).expect("verify"), m);
    assert!(seeded_rsa_key("seed", "label", 700).is_err());
}

#[test]
fn key_sizes_and_ca_records() {
    let pki = TestPki::shared().expect("pki");
    for s in &pki.schemes {
        assert_eq!(s.ca.modulus_len() * 8, CA_BITS as usize);
        assert_eq!(s.issuer.modulus_len() * 8, ISSUER_BITS as usize);
        assert_eq!(s.icc.modulus_len() * 8, ICC_BITS as usize);
        let rec = s.ca_key_record();
        assert_eq!(rec.index, format!("{SIM_CA_INDEX:02X}"));
        let mut store = CaKeyStore::new();
        store.insert_record(&rec).expect("checksum must verify");
        assert!(store.get(&s.rid, SIM_CA_INDEX).is_some());
        // A wrong checksum is refused.
        let mut bad = rec.clone();
        bad.checksum[0] ^= 1;
        assert!(store.insert_record(&bad).is_err());
    }
    // JSON round trip in the kernel's key-file format.
    let json = serde_json::json!({ "keys": pki.ca_key_records() }).to_string();
    let mut store = CaKeyStore::new();
    assert_eq!(store.load_json(&json).expect("load"), 3);
}

#[test]
fn certificates_recover_with_fields() {
    let pki = TestPki::shared().expect("pki");
    let s = pki.scheme(&[0xA0, 0, 0, 0, 3]).expect("visa");
    let pan = pan_bcd("4761739001010010").expect("pan");
    let fields = IssuerCertFields {
        expiry_mmyy: [0x12, 0x30],
        serial: [0x12, 0x34, 0x56],
        issuer_id_digits: 6,
    };
    let ic = s.issuer_certificate(&pan, fields).expect("issuer cert");
    assert_eq!(ic.certificate.len(), CA_BITS as usize / 8);
    let today = TransactionDate::new(2026, 11, 21).expect("date");
    let issuer = recover_issuer_public_key(
        s.ca.public_key(),
        &ic.certificate,
        &ic.remainder,
        &ic.exponent,
        &pan,
        today,
    )
    .expect("recover issuer key");
    assert_eq!(issuer.serial, [0x12, 0x34, 0x56]);
    assert_eq!(issuer.issuer_identifier, [0x47, 0x61, 0x73, 0xFF]);
    assert_eq!(issuer.key.modulus(), s.issuer.public_key().modulus());
    let static_data = b"static data to be authenticated";
    let cc = s
        .icc_certificate(&pan, [0x12, 0x29], [0, 0, 1], static_data)
        .expect("icc cert");
    let icc = recover_icc_public_key(
        &issuer.key,
        &cc.certificate,
        &cc.remainder,
        &cc.exponent,
        &pan,
        static_data,
        today,
    )
    .expect("recover icc key");
    assert_eq!(icc.key.modulus(), s.icc.public_key().modulus());
    // Other static data: the hash check fails.
    assert!(
        recover_icc_public_key(
            &issuer.key,
            &cc.certificate,
            &cc.remainder,
            &cc.exponent,
            &pan,
            b"tampered",
            today
        )
        .is_err()
    );
    // Expired certificate (01/24).
    let old = s
        .issuer_certificate(
            &pan,
            IssuerCertFields {
                expiry_mmyy: [0x01, 0x24],
                ..fields
            },
        )
        .expect("cert");
    assert!(
        recover_issuer_public_key(
            s.ca.public_key(),
            &old.certificate,
            &old.remainder,
            &old.exponent,
            &pan,
            today
        )
        .is_err()
    );
}

#[test]
fn revocation_list_names_every_sim_ca() {
    let pki = TestPki::shared().expect("pki");
    let crl = pki.revocation_list();
    assert_eq!(crl.len(), 3);
    assert!(
        crl.iter()
            .all(|r| r.index == SIM_CA_INDEX && r.serial == [0xDE, 0xAD, 0x01])
    );
}

#[test]
fn debug_output_hides_pin_and_keys() {
    let card = smartpos_sim::card::VirtualCard::from_profile("up-dda-offline-pin").expect("card");
    let p = card.profile().clone();
    let text = format!("{p:?} {card:?} {:?}", TestPki::shared().expect("pki"));
    assert!(!text.contains(&p.pin), "{text}");
    assert!(!text.contains("6214000000000000019"), "{text}");
    assert!(!text.to_uppercase().contains("2315208C9110AD40"), "{text}");
}
