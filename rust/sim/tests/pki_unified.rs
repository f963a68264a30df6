//! One `Scheme` and one seeded PKI for both card families: the contact and contactless scheme
//! types are the same type, and the contactless chain (CA index F3, smaller keys) comes from the
//! same deterministic generator as the contact chain (CA index D7), so a recorded tap replays
//! in another process with the same keys.

use smartpos_emv::CaKeyStore;
use smartpos_emv::contactless::*;
use smartpos_emv::{ScriptedCard, TerminalConfig, TransactionParams};
use smartpos_sim::contactless::{Profile, Recorder, VirtualCard};
use smartpos_sim::pki::{
    CONTACTLESS_CA_BITS, CONTACTLESS_CA_INDEX, CONTACTLESS_ICC_BITS, CONTACTLESS_ISSUER_BITS,
    ContactlessPki, DEFAULT_SEED, SIM_CA_INDEX, TestPki, seeded_rsa_key, seeded_sm2_key,
};
use smartpos_sim::{Scheme, card, contactless};
use std::sync::Arc;

#[test]
fn one_scheme_type_for_both_card_families() {
    // These only compile if the three paths name one type.
    let contact: card::Scheme = contactless::Scheme::Mastercard;
    let crate_level: Scheme = contact;
    assert_eq!(crate_level, card::profile::Scheme::Mastercard);
    for s in Scheme::ALL {
        // Contact and contactless data of the same scheme agree on RID and AID.
        assert_eq!(s.aid()[..5], s.rid());
        let cl: contactless::Scheme = s;
        assert_eq!(cl.aid(), s.aid());
    }
    assert_eq!(Scheme::Visa.pan(), "4761739001010010");
    assert_eq!(Scheme::Visa.pan_digits(), "4761739001010010");
    assert_eq!(Scheme::Mastercard.pan_digits(), "5413330089020011");
    assert_eq!(
        hex::encode_upper(Scheme::UnionPay.contactless_pan_bcd()),
        "6228480088888888"
    );
}

#[test]
fn contactless_chain_is_seeded_and_cached() {
    let rid = Scheme::Visa.rid();
    let a = ContactlessPki::generate(rid).expect("pki");
    let b = ContactlessPki::mint(DEFAULT_SEED, rid).expect("pki");
    let other = ContactlessPki::mint("another seed", rid).expect("pki");
    assert_eq!(a.ca.public_key().modulus(), b.ca.public_key().modulus());
    assert_eq!(
        a.issuer.public_key().modulus(),
        b.issuer.public_key().modulus()
    );
    assert_eq!(
        a.sm_ca.public_key().to_bytes(),
        b.sm_ca.public_key().to_bytes()
    );
    assert_ne!(a.ca.public_key().modulus(), other.ca.public_key().modulus());
    assert_ne!(
        a.sm_ca.public_key().to_bytes(),
        other.sm_ca.public_key().to_bytes()
    );
    // Sizes kept from the old random contactless PKI; CA indexes of both chains.
    assert_eq!(a.ca.modulus_len() * 8, CONTACTLESS_CA_BITS as usize);
    assert_eq!(a.issuer.modulus_len() * 8, CONTACTLESS_ISSUER_BITS as usize);
    let icc = a.icc_key("4761739001010010 card").expect("icc");
    assert_eq!(icc.modulus_len() * 8, CONTACTLESS_ICC_BITS as usize);
    assert_eq!(CONTACTLESS_CA_INDEX, 0xF3);
    assert_eq!(SIM_CA_INDEX, 0xD7);
    assert_eq!(contactless::pki::TEST_CA_INDEX, CONTACTLESS_CA_INDEX);
    // Per-RID chains differ from each other and from the contact chain of the same RID.
    let mc = ContactlessPki::generate(Scheme::Mastercard.rid()).expect("pki");
    assert_ne!(a.ca.public_key().modulus(), mc.ca.public_key().modulus());
    let contact = TestPki::shared().expect("pki");
    let chain = contact.scheme(&rid).expect("visa chain");
    assert_ne!(chain.ca.public_key().modulus(), a.ca.public_key().modulus());
    // Another chain (another seed) gives the same card another ICC key.
    assert_ne!(
        other
            .icc_key("4761739001010010 card")
            .expect("icc")
            .public_key()
            .modulus(),
        icc.public_key().modulus()
    );
    // Different cards get different ICC keys; the same card the same key.
    let phone = a.icc_key("4761739001010010 phone").expect("icc");
    assert_ne!(icc.public_key().modulus(), phone.public_key().modulus());
    assert_eq!(
        icc.public_key().modulus(),
        a.icc_key("4761739001010010 card")
            .expect("icc")
            .public_key()
            .modulus()
    );
}

/// The key material is pinned: the first bytes of the seeded keys. A change to the generator,
/// the seed or the labels changes them and fails here before it silently breaks a recording.
#[test]
fn seeded_key_material_is_stable() {
    let ca = ContactlessPki::generate(Scheme::Visa.rid()).expect("pki");
    let m = ca.ca.public_key().modulus();
    let pinned = hex::encode_upper(&m[..8]);
    let again = seeded_rsa_key(
        DEFAULT_SEED,
        "contactless CA A000000003",
        CONTACTLESS_CA_BITS,
    )
    .expect("key");
    assert_eq!(
        hex::encode_upper(&again.public_key().modulus()[..8]),
        pinned
    );
    assert_eq!(pinned, PINNED_CONTACTLESS_VISA_CA);
    let sm = seeded_sm2_key(DEFAULT_SEED, "contactless SM2 CA A000000333").expect("sm2");
    assert_eq!(
        hex::encode_upper(&sm.public_key().to_bytes()[..9]),
        PINNED_CONTACTLESS_UNIONPAY_SM2_CA
    );
    let contact = TestPki::shared().expect("pki");
    let visa = contact.scheme(&Scheme::Visa.rid()).expect("visa");
    assert_eq!(
        hex::encode_upper(&visa.ca.public_key().modulus()[..8]),
        PINNED_CONTACT_VISA_CA
    );
}

const PINNED_CONTACTLESS_VISA_CA: &str = "B01D7F20EE5B35DA";
const PINNED_CONTACTLESS_UNIONPAY_SM2_CA: &str = "0434EED65D3997E8A9";
const PINNED_CONTACT_VISA_CA: &str = "E3A4ACA82810D622";

fn record(profile: Profile) -> serde_json::Value {
    let pki = Arc::new(ContactlessPki::generate(profile.scheme.rid()).expect("pki"));
    let mut keys = CaKeyStore::new();
    pki.install(&mut keys).expect("install");
    let cfg = Arc::new(TerminalConfig::demo().expect("demo"));
    let reader = ContactlessReader::for_terminal(cfg, Arc::new(keys))
        .with_sm_keys(vec![pki.sm_ca_key().expect("sm")]);
    let card = VirtualCard::new(profile, pki.clone()).expect("card");
    let mut rec = Recorder::new(card);
    let params =
        TransactionParams::new(1000, "261121", "101500", [0x11, 0x22, 0x33, 0x44]).expect("params");
    let mut clock = ScriptedClock::default();
    let mut torn = TornLog::default();
    let mut env = TapEnv {
        clock: &mut clock,
        torn_log: &mut torn,
    };
    let r = run_tap(&mut rec, &reader, &params, &mut env, &mut NoUi);
    assert!(r.oda_ok, "{r:?}");
    serde_json::to_value(&rec.script).expect("json")
}

/// Two cards built separately (as two processes would) hold the same keys: RSA cards answer
/// byte for byte the same, and the recorded tap of each (the SM2 card's too) replays with ODA
/// against a reader that trusts the CA keys of a separately minted PKI.
#[test]
fn contactless_cards_are_reproducible() {
    for p in [
        Profile::visa_card(),
        Profile::mastercard_card(),
        Profile::unionpay_sm(),
    ] {
        let first = record(p.clone());
        let second = record(p.clone());
        if !p.sm {
            // RSA signatures (Book 2 §6.5-§6.6) are deterministic; SM2 ones draw a random k
            // (GB/T 32918.2 §6.1), so only the RSA taps are byte-identical.
            assert_eq!(first, second, "{:?}", p.scheme);
        }
        let script: smartpos_emv::CardScript = serde_json::from_value(first).expect("script");
        let mut card = ScriptedCard::new(&script).expect("script");
        let pki = ContactlessPki::generate(p.scheme.rid()).expect("pki");
        let mut keys = CaKeyStore::new();
        pki.install(&mut keys).expect("install");
        let reader = ContactlessReader::for_terminal(
            Arc::new(TerminalConfig::demo().expect("demo")),
            Arc::new(keys),
        )
        .with_sm_keys(vec![pki.sm_ca_key().expect("sm")]);
        let params = TransactionParams::new(1000, "261121", "101500", [0x11, 0x22, 0x33, 0x44])
            .expect("params");
        let mut clock = ScriptedClock::default();
        let mut torn = TornLog::default();
        let mut env = TapEnv {
            clock: &mut clock,
            torn_log: &mut torn,
        };
        let replay = run_tap(&mut card, &reader, &params, &mut env, &mut NoUi);
        assert!(replay.oda_ok, "{:?}: {replay:?}", p.scheme);
    }
}
