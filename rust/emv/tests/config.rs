//! Configuration loading: the demo terminal file, AID parameters, and the shipped EMVCo test CA
//! public keys with their SHA-1 checksums verified on load (EMV Book 2 §11.2.2).
use smartpos_emv::config::*;

/// The shipped test keys. Visa, Mastercard and Amex keys and checksums are from
/// openemv/emv-utils src/emv_capk_static_data.h (checksums published there, verified here);
/// UnionPay, JCB and Discover keys are from dayonaart/topwiseclient StaticEmvData.java, which
/// publishes no checksum: the file holds the SHA-1 we computed, so for those the test proves
/// the file is self-consistent and the loader's check works.
#[test]
fn shipped_test_ca_keys_load_with_checksums() {
    let mut total = 0;
    for (scheme, json) in TEST_CA_KEY_FILES {
        let mut store = CaKeyStore::new();
        let n = store
            .load_json(json)
            .unwrap_or_else(|e| panic!("{scheme}: {e}"));
        assert!(n > 0, "{scheme} has keys");
        assert_eq!(store.len(), n, "{scheme}: unique (RID, index)");
        total += n;
    }
    let store = CaKeyStore::with_test_keys().unwrap();
    assert_eq!(store.len(), total);
    // Visa test key 92 (1408 bits) and Mastercard F1 are present.
    let k = store.get(&[0xA0, 0, 0, 0, 0x03], 0x92).expect("Visa 92");
    assert_eq!(k.key.modulus_len(), 176);
    assert!(store.get(&[0xA0, 0, 0, 0, 0x04], 0xF1).is_some());
    assert!(store.get(&[0xA0, 0, 0, 0, 0x25], 0xC8).is_some());
    assert!(store.get(&[0xA0, 0, 0, 0x03, 0x33], 0x08).is_some());
    assert!(store.get(&[0xA0, 0, 0, 0, 0x65], 0x0F).is_some());
    assert!(store.get(&[0xA0, 0, 0, 0x01, 0x52], 0xD0).is_some());
    assert!(store.get(&[0xA0, 0, 0, 0, 0x03], 0x01).is_none());
}

#[test]
fn tampered_key_is_rejected() {
    let (_, json) = TEST_CA_KEY_FILES[0];
    let mut file: CaKeyFile = serde_json::from_str(json).unwrap();
    file.keys[0].modulus[10] ^= 1;
    let err = CaKeyStore::new()
        .load_json(&serde_json::to_string(&file).unwrap())
        .unwrap_err();
    assert!(matches!(err, ConfigError::Checksum { .. }), "{err}");
    let mut file: CaKeyFile = serde_json::from_str(json).unwrap();
    file.keys[0].expiry = "311331".into();
    assert!(matches!(
        CaKeyStore::new().load_json(&serde_json::to_string(&file).unwrap()),
        Err(ConfigError::CaKey { .. })
    ));
    assert!(matches!(
        CaKeyStore::new().load_json("[]"),
        Err(ConfigError::Json(_))
    ));
}

#[test]
fn demo_terminal_config() {
    let cfg = TerminalConfig::demo().unwrap();
    assert_eq!(cfg.terminal.country_code, vec![0x01, 0x56]);
    assert!(
        cfg.terminal.supports_cda() && cfg.terminal.supports_dda() && cfg.terminal.supports_sda()
    );
    assert!(cfg.terminal.supports_enciphered_online_pin());
    assert!(!cfg.terminal.is_unattended());
    assert!(cfg.aids.len() >= 6);
    // Partial selection: a longer card ADF name matches the terminal AID.
    let a = cfg
        .aid_for(&[0xA0, 0, 0, 0, 0x03, 0x10, 0x10, 0x01])
        .unwrap();
    assert_eq!(a.scheme, "visa");
    assert!(cfg.aid_for(&[0xA0, 0, 0, 0, 0x99]).is_none());
    // Serde round trip.
    let back = TerminalConfig::from_json(&serde_json::to_string(&cfg).unwrap()).unwrap();
    assert_eq!(back, cfg);
}

#[test]
fn invalid_configs_name_the_field() {
    let cfg = TerminalConfig::demo().unwrap();
    let mut bad = cfg.clone();
    bad.terminal.capabilities = vec![0xE0];
    assert!(
        matches!(bad.validate(), Err(ConfigError::Length { ref field, .. }) if field.contains("9F33"))
    );
    let mut bad = cfg.clone();
    bad.aids[0].tac_online = vec![0; 4];
    assert!(
        bad.validate()
            .unwrap_err()
            .to_string()
            .contains("tac_online")
    );
    let mut bad = cfg.clone();
    bad.aids[0].target_percent = 120;
    assert!(bad.validate().is_err());
    let mut bad = cfg.clone();
    bad.terminal.terminal_id = "123".into();
    assert!(bad.validate().unwrap_err().to_string().contains("9F1C"));
    let mut bad = cfg;
    bad.aids.clear();
    assert!(bad.validate().is_err());
    assert!(matches!(
        TerminalConfig::from_json("{\"terminal\":1}"),
        Err(ConfigError::Json(_))
    ));
}
