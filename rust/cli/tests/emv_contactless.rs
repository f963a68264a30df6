//! `smartpos emv run|record --interface contactless` run as a process: Entry Point from SELECT
//! PPSE, the C-2/C-3/C-7 kernels, EMV Contactless Book A outcomes and UI requests. Every
//! contactless virtual card reaches its listed outcome, a recorded tap replays byte for byte,
//! `--set` reaches the PDOL data, `--online-response` resumes an Online Request, bad scripts
//! fail. Each process mints the simulator PKI, so the runs are few and each checks much.

mod common;

use common::{json, run, stdout_line, temp_path};
use serde_json::Value;

const FIXED: [&str; 6] = ["--un", "A1B2C3D4", "--date", "261121", "--time", "101500"];

/// `emv run --interface contactless SOURCE --amount 1000 FIXED EXTRA --json`.
fn tap_args<'a>(source: [&'a str; 2], extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "emv",
        "run",
        "--interface",
        "contactless",
        source[0],
        source[1],
        "--amount",
        "1000",
    ];
    a.extend_from_slice(&FIXED);
    a.extend_from_slice(extra);
    a.push("--json");
    a
}

/// The commands of the APDU trace, hex.
fn commands(r: &Value) -> Vec<String> {
    r["apdus"]
        .as_array()
        .expect("apdus")
        .iter()
        .map(|a| a["c"].as_str().expect("c").to_string())
        .collect()
}

/// The UI message names of the tap, in order.
fn messages(r: &Value) -> Vec<String> {
    r["ui"]
        .as_array()
        .expect("ui")
        .iter()
        .map(|u| u["message"].as_str().expect("message").to_string())
        .collect()
}

/// SELECT '2PAY.SYS.DDF01' (EMV Contactless Book B §3.3.2).
const SELECT_PPSE: &str = "00A404000E325041592E5359532E4444463031";

/// The PDOL data of the first GET PROCESSING OPTIONS (command data after '83' L).
fn gpo_pdol_data(r: &Value) -> String {
    let gpo = commands(r)
        .into_iter()
        .find(|c| c.starts_with("80A8"))
        .expect("GPO sent");
    // CLA INS P1 P2 Lc '83' L data Le
    gpo.get(14..gpo.len() - 2).expect("GPO data").to_string()
}

#[test]
fn every_contactless_sim_reaches_its_expected_outcome() {
    let v = json(&["emv", "sims", "--json"]);
    let sims: Vec<&Value> = v["sims"]
        .as_array()
        .expect("sims")
        .iter()
        .filter(|s| s["interface"] == "contactless")
        .collect();
    assert!(sims.len() >= 16, "{}", sims.len());
    for scheme in ["visa", "mastercard", "unionpay"] {
        assert!(
            sims.iter()
                .any(|s| s["scheme"] == scheme && s["phone"] == true),
            "a {scheme} phone is listed"
        );
    }
    for s in sims {
        let name = s["name"].as_str().expect("name");
        let stdout = stdout_line(&tap_args(["--sim", name], &[]));
        let r: Value = serde_json::from_str(&stdout).expect("JSON");
        assert_eq!(r["outcome"], s["expect"], "{name}: {r}");
        assert_eq!(r["interface"], "contactless");
        // Entry Point starts at SELECT PPSE.
        let cmds = commands(&r);
        assert!(cmds[0].starts_with(SELECT_PPSE), "{name}: {cmds:?}");
        // Every UI request carries the Book A message id, status and hold time.
        let ui = r["ui"].as_array().expect("ui");
        assert_eq!(ui[0]["message"], "present_card", "{name}");
        for u in ui {
            assert!(u["message_code"].as_u64().is_some_and(|c| c > 0), "{u}");
            assert!(u["status"].is_string() && u["hold_time_ms"].is_u64(), "{u}");
        }
        let last = messages(&r).last().cloned().expect("a message");
        let kernel = match s["scheme"].as_str() {
            Some("visa") => "C-3",
            Some("mastercard") => "C-2",
            _ => "C-7",
        };
        match r["outcome"].as_str().expect("outcome") {
            "APPROVED" => {
                assert_eq!(last, "approved", "{name}");
                assert_eq!(r["kernel"], kernel, "{name}");
                assert_eq!(r["oda"], s["oda"], "{name}");
                assert_eq!(r["oda_ok"], true, "{name}: {}", r["oda_failure"]);
                assert!(
                    r["field55"].as_str().is_some_and(|f| f.contains("9F2608")),
                    "{name}: the data record carries the cryptogram"
                );
                assert_eq!(r["tvr"].as_str().map(str::len), Some(10));
            }
            "DECLINED" => {
                assert_eq!(last, "not_authorised", "{name}");
                assert_eq!(r["kernel"], kernel, "{name}");
            }
            "ONLINE REQUEST" => {
                assert_eq!(last, "card_read_ok", "{name}");
                assert_eq!(r["kernel"], kernel, "{name}");
                assert!(r["field55"].as_str().is_some_and(|f| !f.is_empty()));
            }
            "TRY ANOTHER INTERFACE" => assert_eq!(last, "insert_or_swipe_card", "{name}"),
            "END APPLICATION" => assert!(r["end_reason"].is_string(), "{name}"),
            other => panic!("{name}: unexpected outcome {other}"),
        }
        // PAN masked (first 6, last 4); the full PAN appears nowhere in the output.
        if let Some(pan) = r["pan_masked"].as_str() {
            assert!(pan.contains("******"), "{name}: {pan}");
        }
        for pan in ["4761739001010010", "5413330089020011", "6228480088888888"] {
            assert!(!stdout.contains(pan), "{name}: full PAN in the output");
        }
        // Two cards in the field: "present one card only" (Book A message '19'), then the
        // tap completes with one card.
        let one_card_only = ui
            .iter()
            .any(|u| u["message"] == "present_one_card_only" && u["message_code"] == 0x19);
        assert_eq!(one_card_only, name == "cl-visa-two-cards", "{name}");
        match name {
            "cl-mc-torn" => {
                assert!(cmds.iter().any(|c| c.starts_with("80D0")), "RECOVER AC");
                assert_eq!(r["torn_recovered"], true);
                assert!(messages(&r).contains(&"present_card_again".to_string()));
            }
            "cl-up-ec" => assert_eq!(r["balance"], 29_000),
            "cl-mc-mag-stripe" => assert!(cmds.iter().any(|c| c.starts_with("802A"))),
            "cl-mc-relay" => {
                // EXCHANGE RELAY RESISTANCE DATA after GPO; TVR byte 5: RRP performed, within
                // limits (default clock: 7 ms round trip).
                assert!(
                    cmds.get(3).is_some_and(|c| c.starts_with("80EA")),
                    "{cmds:?}"
                );
                assert!(r["tvr"].as_str().is_some_and(|t| t.ends_with("02")), "{r}");
                assert_eq!(r["relay_resistance"]["time_limits_exceeded"], false);
            }
            _ => {}
        }
    }
}

#[test]
fn recorded_tap_replays_identically() {
    for (name, extra) in [
        ("cl-mc-torn", vec![]),
        ("cl-up-sm", vec![]),
        // Recorded on a reader with another TTQ and country: --set fixes them for the replay.
        (
            "cl-visa-card",
            vec!["--set", "9F66=B6004000", "--set", "9F1A=0276"],
        ),
    ] {
        let path = temp_path("emv-cl", &format!("{name}.json"));
        let p = path.to_str().expect("path");
        let mut rec = vec![
            "emv",
            "record",
            "--interface",
            "contactless",
            "--sim",
            name,
            "--out",
            p,
            "--amount",
            "1000",
        ];
        rec.extend_from_slice(&FIXED);
        rec.extend_from_slice(&extra);
        rec.push("--json");
        let recorded = stdout_line(&rec);
        let script: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("script")).expect("JSON");
        assert!(script["atr"].is_string() && script["exchanges"].is_array());
        let replayed = stdout_line(&tap_args(["--card", p], &extra));
        assert_eq!(recorded, replayed, "{name}: replay differs");
        if !extra.is_empty() {
            // Without the recording reader's data objects the PDOL data differs: the replay
            // fails on the script instead of giving another outcome.
            let out = run(&tap_args(["--card", p], &[]));
            assert!(!out.status.success(), "{name}");
            assert!(
                String::from_utf8_lossy(&out.stderr).contains("scripted card"),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let _ = std::fs::remove_file(&path);
    }
}

#[test]
fn set_changes_the_ttq_and_country_in_the_pdol_data() {
    let plain = json(&tap_args(["--sim", "cl-visa-card"], &[]));
    let set = json(&tap_args(
        ["--sim", "cl-visa-card"],
        &["--set", "9F66=B6004000", "--set", "9F1A=0840"],
    ));
    // C-3 PDOL of the virtual card: 9F66(4) 9F02(6) 9F03(6) 9F1A(2) 95(5) 5F2A(2) 9A(3) 9C(1)
    // 9F37(4).
    let (a, b) = (gpo_pdol_data(&plain), gpo_pdol_data(&set));
    assert_ne!(&a[..8], "B6004000");
    assert_eq!(&b[..8], "B6004000", "{b}");
    assert_eq!(&b[32..36], "0840", "{b}");
    assert_ne!(&a[32..36], "0840", "{a}");
    assert_eq!(&a[8..32], &b[8..32], "amounts unchanged");
    assert_eq!(&b[b.len() - 8..], "A1B2C3D4", "unpredictable number last");
    // Before the GPO the taps are the same (PPSE, SELECT AID).
    assert_eq!(commands(&plain)[..2], commands(&set)[..2]);
    // Text mode: one line with the outcome, the kernel and the UI message ids.
    let mut text_args = tap_args(["--sim", "cl-visa-two-cards"], &[]);
    text_args.pop();
    let out = run(&text_args);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("outcome APPROVED  kernel C-3  aid A0000000031010"),
        "{text}"
    );
    assert!(text.contains("ui [15 19 16 03]"), "{text}");
    // Bad --set values are command-line errors.
    for bad in ["9F66=B600", "DF01=00", "DF8124=12", "9F66"] {
        let out = run(&tap_args(["--sim", "cl-visa-card"], &["--set", bad]));
        assert_eq!(out.status.code(), Some(2), "--set {bad}");
    }
}

#[test]
fn online_response_resumes_the_online_request() {
    // Issuer update card: the host's 91 and script take Entry Point to Start C.
    let resp = r#"{"arc":"3030","iad":"11111111111111111111","scripts":"7209860784DA000002AABB"}"#;
    let r = json(&tap_args(
        ["--sim", "cl-visa-issuer-update"],
        &["--online-response", resp],
    ));
    assert_eq!(r["outcome"], "APPROVED", "{r}");
    assert_eq!(r["start"], "C");
    assert_eq!(r["online"]["arc"], "00");
    let cmds = commands(&r);
    assert!(
        cmds.iter().any(|c| c.starts_with("00820000")),
        "EXTERNAL AUTHENTICATE"
    );
    assert!(cmds.iter().any(|c| c.starts_with("84DA")), "issuer script");
    let m = messages(&r);
    assert_eq!(
        m.get(m.len() - 2..),
        Some(&["present_card_again".to_string(), "approved".to_string()][..])
    );
    // A decline needs no second presentment; "unable to go online" declines too.
    let online = json(&tap_args(["--sim", "cl-visa-online-only"], &[]));
    assert_eq!(online["outcome"], "ONLINE REQUEST");
    assert_eq!(online["online"], Value::Null);
    for answer in [r#"{"arc":"3035"}"#, r#"{"unable":true}"#] {
        let r = json(&tap_args(
            ["--sim", "cl-visa-online-only"],
            &["--online-response", answer],
        ));
        assert_eq!(r["outcome"], "DECLINED", "{answer}: {r}");
        assert_eq!(
            messages(&r).last().map(String::as_str),
            Some("not_authorised")
        );
        assert_eq!(
            commands(&r),
            commands(&online),
            "no card command after the tap"
        );
    }
    // An offline approval ignores the host's answer.
    let r = json(&tap_args(
        ["--sim", "cl-visa-card"],
        &["--online-response", r#"{"arc":"3035"}"#],
    ));
    assert_eq!(r["outcome"], "APPROVED");
    assert_eq!(r["online"], Value::Null);
}

#[test]
fn bad_scripts_and_arguments_fail() {
    let path = temp_path("emv-cl", "bad.json");
    let p = path.to_str().expect("path");
    // Not JSON, no status word, a script that does not answer SELECT PPSE as recorded.
    for text in [
        "{not json",
        r#"{"atr":"3B00","exchanges":[{"command":"00A404000E325041592E5359532E4444463031*","response":"6F"}]}"#,
        r#"{"atr":"3B00","exchanges":[{"command":"00A4040007A0000000031010*","response":"9000"}]}"#,
    ] {
        std::fs::write(&path, text).expect("write");
        let out = run(&tap_args(["--card", p], &[]));
        assert!(!out.status.success(), "{text}");
        assert!(out.stdout.is_empty(), "no outcome printed for {text}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("scripted card"));
    }
    let _ = std::fs::remove_file(&path);
    let out = run(&tap_args(["--card", "/nonexistent/tap.json"], &[]));
    assert!(!out.status.success());
    // A contact card is no contactless sim; unknown interface and a PIN are usage errors.
    let out = run(&tap_args(["--sim", "visa-cda-no-cvm"], &[]));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a contactless virtual card"));
    let out = run(&[
        "emv",
        "run",
        "--interface",
        "nfc",
        "--sim",
        "cl-visa-card",
        "--amount",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&tap_args(["--sim", "cl-visa-card"], &["--pin", "1234"]));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn relay_resistance_follows_the_reader_clock() {
    // 20 ms round trip: 164 units of 100 us over the card's 4.0 ms maximum (+ grace): TVR byte
    // 5 "relay resistance time limits exceeded", the tap still completes (Book C-2 §5.3).
    let slow = json(&tap_args(
        ["--sim", "cl-mc-relay"],
        &["--clock", "1000,21000,21000"],
    ));
    assert_eq!(slow["outcome"], "APPROVED", "{slow}");
    assert!(
        slow["tvr"].as_str().is_some_and(|t| t.ends_with("06")),
        "{slow}"
    );
    assert_eq!(slow["relay_resistance"]["time_limits_exceeded"], true);
    // 0.1 ms: faster than the card can answer: END APPLICATION.
    let fast = json(&tap_args(
        ["--sim", "cl-mc-relay"],
        &["--clock", "1000,1100"],
    ));
    assert_eq!(fast["outcome"], "END APPLICATION", "{fast}");
    let out = run(&tap_args(["--sim", "cl-mc-relay"], &["--clock", "soon"]));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn phones_above_the_cvm_limit_ask_see_phone_then_verify_on_the_device() {
    // 350.00 is above the demo CVM required limit (300.00) and floor limit: the phone asks the
    // cardholder to verify on it ("see phone", Book A message '20'), Entry Point restarts and
    // the second tap carries the on-device CVM.
    for name in ["cl-visa-phone", "cl-mc-phone", "cl-up-phone"] {
        let mut args = tap_args(["--sim", name], &[]);
        args[7] = "35000";
        let r = json(&args);
        assert_eq!(r["outcome"], "ONLINE REQUEST", "{name}: {r}");
        assert_eq!(r["cvm"], "confirmation_code_verified", "{name}");
        assert_eq!(r["restarts"], 1, "{name}");
        let m = messages(&r);
        let see_phone = m.iter().position(|x| x == "see_phone").expect("see phone");
        assert_eq!(
            m.get(see_phone + 1).map(String::as_str),
            Some("present_card")
        );
        assert_eq!(m.last().map(String::as_str), Some("card_read_ok"));
        // Two SELECT PPSE: one per presentation.
        let ppse = commands(&r)
            .iter()
            .filter(|c| c.starts_with(SELECT_PPSE))
            .count();
        assert_eq!(ppse, 2, "{name}");
    }
}
