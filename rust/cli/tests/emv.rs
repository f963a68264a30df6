//! `smartpos emv ...` run as a process: every virtual card gives its documented outcome,
//! a recorded transaction replays to identical output, bad scripts fail.

mod common;

use common::{json, run, temp_path};

const FIXED: [&str; 6] = ["--un", "A1B2C3D4", "--date", "261121", "--time", "101500"];

fn run_args<'a>(source: [&'a str; 2], extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec!["emv", "run", source[0], source[1], "--amount", "1000"];
    a.extend_from_slice(&FIXED);
    a.extend_from_slice(extra);
    a.push("--json");
    a
}

#[test]
fn sims_lists_profiles() {
    let v = json(&["emv", "sims", "--json"]);
    let sims = v["sims"].as_array().expect("sims");
    assert!(sims.len() >= 30, "{}", sims.len());
    for scheme in ["visa", "mastercard", "unionpay"] {
        for oda in ["sda", "dda", "cda"] {
            assert!(
                sims.iter()
                    .any(|s| s["scheme"] == scheme && s["oda"] == oda),
                "{scheme}/{oda}"
            );
        }
    }
    for cvm in [
        "offline_plaintext_pin",
        "offline_enciphered_pin",
        "online_pin",
        "signature",
        "no_cvm",
    ] {
        assert!(sims.iter().any(|s| s["cvm"] == cvm), "{cvm}");
    }
    assert!(
        sims.iter()
            .all(|s| s["interface"] == "contact" || s["interface"] == "contactless")
    );
    assert!(sims.iter().filter(|s| s["interface"] == "contact").count() >= 30);
}

#[test]
fn every_sim_gives_its_expected_outcome() {
    let v = json(&["emv", "sims", "--json"]);
    // The contactless cards are run by tests/emv_contactless.rs.
    for s in v["sims"]
        .as_array()
        .expect("sims")
        .iter()
        .filter(|s| s["interface"] == "contact")
    {
        let name = s["name"].as_str().expect("name");
        let mut extra = Vec::new();
        if let Some(pin) = s["pin"].as_str() {
            extra.extend_from_slice(&["--pin", pin]);
        }
        let r = json(&run_args(["--sim", name], &extra));
        assert_eq!(r["outcome"], s["expect"], "{name}: {r}");
        assert_eq!(r["kernel"], "contact");
        if r["outcome"] != "end_application" {
            assert_eq!(r["oda"], s["oda"], "{name}");
            assert_eq!(r["tvr"].as_str().map(str::len), Some(10));
            assert_eq!(r["tsi"].as_str().map(str::len), Some(4));
            assert!(
                r["field55"].as_str().is_some_and(|f| f.contains("9F2608")),
                "{name}: the data record carries the cryptogram"
            );
        }
        assert!(r["apdus"].as_array().is_some_and(|a| !a.is_empty()));
        assert!(r["ui"].as_array().is_some_and(|a| !a.is_empty()));
    }
}

#[test]
fn pan_is_masked_and_pin_hidden() {
    let r = json(&run_args(
        ["--sim", "visa-dda-offline-pin"],
        &["--pin", "1234"],
    ));
    assert_eq!(r["pan_masked"], "476173******0010");
    assert_eq!(r["cvm_results"], "010002");
    let text = r.to_string();
    assert!(!text.contains("4761739001010010"));
    // The VERIFY data (PIN block 241234FFFFFFFFFF) is masked in the trace.
    assert!(!text.contains("241234"));
}

#[test]
fn record_then_replay_is_identical() {
    for (name, extra) in [
        ("visa-cda-no-cvm", vec![]),
        ("fault-card-pulled", vec!["--pin", "1234"]),
        ("mc-cda-enciphered-pin", vec!["--pin", "1234"]),
        (
            "up-dda-offline-pin",
            vec!["--pin", "123456", "--online-response", r#"{"unable":true}"#],
        ),
    ] {
        let path = temp_path("emv", &format!("{name}.json"));
        let p = path.to_str().expect("path");
        let mut rec = vec![
            "emv", "record", "--sim", name, "--out", p, "--amount", "1000",
        ];
        rec.extend_from_slice(&FIXED);
        rec.extend_from_slice(&extra);
        rec.push("--json");
        let recorded = json(&rec);
        let replayed = json(&run_args(["--card", p], &extra));
        assert_eq!(recorded, replayed, "{name}");
        // A different unpredictable number does not match the script: error exit.
        let mut other = run_args(["--card", p], &extra);
        if let Some(i) = other.iter().position(|a| *a == "A1B2C3D4") {
            other[i] = "00000000";
        }
        let out = run(&other);
        assert!(
            !out.status.success(),
            "{name}: a different UN must not replay"
        );
        let _ = std::fs::remove_file(&path);
    }
}

#[test]
fn online_response_completes_the_transaction() {
    // First half: the online request with field 55.
    let first = json(&run_args(
        ["--sim", "mc-cda-online-pin"],
        &["--pin", "1234"],
    ));
    assert_eq!(first["outcome"], "online_request");
    let f55 = hex::decode(first["field55"].as_str().expect("field55")).expect("hex");
    // The issuer (same IMK as the card) answers with a method-1 ARPC.
    let v =
        smartpos_sim::card::issuer::authorise(smartpos_sim::card::Scheme::Mastercard, &f55, *b"00")
            .expect("issuer");
    assert!(v.arqc_valid);
    let resp = format!(
        r#"{{"arc":"3030","iad":"{}"}}"#,
        hex::encode_upper(&v.issuer_authentication_data)
    );
    let done = json(&run_args(
        ["--sim", "mc-cda-online-pin"],
        &["--pin", "1234", "--online-response", &resp],
    ));
    assert_eq!(done["outcome"], "approved", "{done}");
    assert_eq!(done["oda_ok"], true);
    // A wrong ARPC: the card declines in the second GENERATE AC.
    let bad = json(&run_args(
        ["--sim", "mc-cda-online-pin"],
        &[
            "--pin",
            "1234",
            "--online-response",
            r#"{"arc":"3030","iad":"01020304050607083030"}"#,
        ],
    ));
    assert_eq!(bad["outcome"], "declined");
    // Host decline.
    let declined = json(&run_args(
        ["--sim", "visa-sda-signature"],
        &["--online-response", r#"{"arc":"3035"}"#],
    ));
    assert_eq!(declined["outcome"], "declined");
}

#[test]
fn set_fixes_terminal_data() {
    // Floor limit 500.00 and an offline-approving card: TC without going online.
    let r = json(&run_args(
        ["--sim", "visa-dda-offline-approve"],
        &["--set", "9F1B=0000C350"],
    ));
    assert_eq!(r["outcome"], "approved", "{r}");
    let r = json(&run_args(
        ["--sim", "visa-dda-offline-approve"],
        &["--set", "9F1B=0000C350", "--set", "9F33=E0F800"],
    ));
    // Without ODA in the terminal capabilities: ODA not performed, online.
    assert_eq!(r["oda"], "none");
    assert_eq!(r["outcome"], "online_request");
    assert!(
        r["field55"]
            .as_str()
            .is_some_and(|f| f.contains("9F3303E0F800"))
    );
    let out = run(&run_args(
        ["--sim", "visa-cda-no-cvm"],
        &["--set", "DF01=00"],
    ));
    assert_eq!(out.status.code(), Some(2));
    let r = json(&run_args(
        ["--sim", "visa-cda-no-cvm"],
        &["--currency", "840"],
    ));
    assert!(
        r["field55"]
            .as_str()
            .is_some_and(|f| f.contains("5F2A020840"))
    );
}

#[test]
fn bad_inputs_fail() {
    let path = temp_path("emv", "bad.json");
    std::fs::write(
        &path,
        r#"{"atr":"3B00","exchanges":[{"command":"ZZ","response":"9000"}]}"#,
    )
    .expect("write");
    let out = run(&run_args(["--card", path.to_str().expect("p")], &[]));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("exchange 0"));
    std::fs::write(&path, "not json").expect("write");
    assert!(
        !run(&run_args(["--card", path.to_str().expect("p")], &[]))
            .status
            .success()
    );
    // A script that does not match what the terminal sends.
    std::fs::write(
        &path,
        r#"{"atr":"3B00","exchanges":[{"command":"00A4040007A0000000031010*","response":"9000"}]}"#,
    )
    .expect("write");
    let out = run(&run_args(["--card", path.to_str().expect("p")], &[]));
    assert!(!out.status.success());
    let _ = std::fs::remove_file(&path);
    let out = run(&run_args(["--sim", "no-such-card"], &[]));
    assert!(!out.status.success());
    let out = run(&run_args(
        ["--sim", "visa-cda-no-cvm"],
        &["--interface", "contactless"],
    ));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a contactless virtual card"));
    let out = run(&run_args(["--sim", "visa-cda-no-cvm"], &["--un", "XYZ"]));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn sim_ca_keys_load_into_the_kernel_key_store() {
    let v = json(&["emv", "sim-ca-keys", "--json"]);
    let mut store = smartpos_emv::CaKeyStore::new();
    assert_eq!(store.load_json(&v.to_string()).expect("key file"), 3);
    for rid in ["A000000003", "A000000004", "A000000333"] {
        let rid = hex::decode(rid).expect("hex");
        assert!(store.get(&rid, 0xD7).is_some());
    }
}
