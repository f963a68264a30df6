//! `smartpos qr ...` run as a real process; JSON checked field by field.

mod common;

use common::{json, run_text};

// id: qr-mpm-emvco-sample
// source: EMVCo QRCPS-MPM specification sample payload; mvallim/emv-qrcode @328ae292 CRCTest.java;
// dongri/emv-qrcode @d0be31ef emv/mpm/emv_mpm_test.go (Decode test)
const SAMPLE: &str = "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A";

#[test]
fn parse_mpm_sample() {
    let v = json(&["qr", "parse", SAMPLE, "--json"]);
    assert_eq!(v["kind"], "mpm");
    assert_eq!(v["crc_ok"], true);
    assert!(v.get("wallet").is_none());
    let f = &v["fields"];
    assert_eq!(f["00"], "01");
    assert_eq!(f["01"], "12");
    assert_eq!(f["52"], "4111");
    assert_eq!(f["53"], "156");
    assert_eq!(f["54"], "23.72");
    assert_eq!(f["59"], "BEST TRANSPORT");
    assert_eq!(f["63"], "A13A");
    assert_eq!(f["29"]["00"], "D15600000000");
    assert_eq!(f["29"]["05"], "A93FO3230Q");
    assert_eq!(f["62"]["07"], "A6008667");
    assert_eq!(f["64"]["01"], "最佳运输");
    assert_eq!(f["64"]["02"], "北京");
    assert_eq!(f["91"]["07"], "12345678");
    assert_eq!(f.as_object().unwrap().len(), 15);
}

#[test]
fn parse_mpm_with_bad_crc_reports_it() {
    let tampered = SAMPLE.replace("6304A13A", "6304FFFF");
    let v = json(&["qr", "parse", &tampered, "--json"]);
    assert_eq!(v["kind"], "mpm");
    assert_eq!(v["crc_ok"], false);
    assert_eq!(v["fields"]["63"], "FFFF");
}

#[test]
fn parse_malformed_mpm_fails() {
    let broken = SAMPLE.replace("5802CN", "5802C");
    let (code, stdout, stderr) = run_text(&["qr", "parse", &broken, "--json"]);
    assert_ne!(code, 0);
    assert!(stdout.is_empty());
    assert!(stderr.contains("error"), "{stderr}");
}

#[test]
fn parse_cpm_example() {
    // id: qr-cpm-emvco-example1
    // source: kenmaz/JPQRReader JPQRReaderTests/CPMDecoderTests.swift testEMVCPM_Example1
    let v = json(&[
        "qr",
        "parse",
        "hQVDUFYwMWEaTwegAAAAVVVVVw8SNFZ4kBI0WNGRIgESNF8=",
        "--json",
    ]);
    assert_eq!(v["kind"], "cpm");
    assert_eq!(v["fields"]["85"], "4350563031");
    assert_eq!(v["fields"]["61"]["4F"], "A0000000555555");
    // track 2 is shown masked: first 6 and last 4 of the PAN only
    let t2 = v["fields"]["61"]["57"].as_str().unwrap();
    assert!(t2.starts_with("123456******3458D"), "{t2}");
    assert!(!t2.contains("1912"));
}

#[test]
fn parse_wallet_codes() {
    for (code, wallet) in [
        ("134650720866361395", "wechat"),
        ("28763443825664394", "alipay"),
        ("6212345678901234567", "unionpay"),
        ("0112345678901234567", "ecny"),
    ] {
        let v = json(&["qr", "parse", code, "--json"]);
        assert_eq!(v["kind"], "wallet", "{code}");
        assert_eq!(v["wallet"], wallet, "{code}");
    }
    let (code, _, stderr) = run_text(&["qr", "parse", "164650720866361395", "--json"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("unknown wallet payment code"), "{stderr}");
}

#[test]
fn mpm_generation_with_png_that_decodes_back() {
    let dir = std::env::temp_dir().join(format!("smartpos-qr-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("merchant.json");
    let png = dir.join("code.png");
    std::fs::write(
        &input,
        r#"{"merchant_name":"NOODLE BAR","merchant_city":"SHANGHAI","mcc":"5812","currency":"156",
            "country":"CN","amount":"35.00","reference":"INV0001",
            "unionpay":{"merchant_id":"102510000000001"},
            "templates":[{"id":"26","guid":"A000000333010101","fields":{"01":"M123"}}]}"#,
    )
    .unwrap();
    let v = json(&[
        "qr",
        "mpm",
        "--json-in",
        input.to_str().unwrap(),
        "--png",
        png.to_str().unwrap(),
        "--json",
    ]);
    let payload = v["payload"].as_str().unwrap();
    assert!(payload.starts_with("000201010212"), "{payload}");
    assert!(payload.contains("1515102510000000001"), "{payload}");
    assert!(
        payload.contains("26280016A0000003330101010104M123"),
        "{payload}"
    );
    assert!(payload.contains("540535.00"), "{payload}");
    assert!(payload.contains("62110507INV0001"), "{payload}");
    // The payload parses back with a good CRC.
    let parsed = json(&["qr", "parse", payload, "--json"]);
    assert_eq!(parsed["crc_ok"], true);
    assert_eq!(parsed["fields"]["59"], "NOODLE BAR");
    // The PNG was written and a QR decoder reads the same payload from it.
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG"));
    assert_eq!(
        smartpos_qr::image::decode_png(&bytes).unwrap(),
        vec![payload.to_owned()]
    );

    // Without an amount the code is static (01 = 11).
    std::fs::write(
        &input,
        r#"{"merchant_name":"NOODLE BAR","merchant_city":"SHANGHAI","mcc":"5812","currency":"156",
            "country":"CN","unionpay":{"merchant_id":"102510000000001"}}"#,
    )
    .unwrap();
    let v = json(&["qr", "mpm", "--json-in", input.to_str().unwrap(), "--json"]);
    assert!(v["payload"].as_str().unwrap().starts_with("000201010211"));

    // Text mode prints the payload and a half-block drawing.
    let (code, stdout, _) = run_text(&["qr", "mpm", "--json-in", input.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(stdout.lines().next().unwrap().starts_with("000201010211"));
    assert!(stdout.contains('█') && stdout.contains('▀'));

    // Bad input: missing merchant account, unknown key, bad MCC.
    std::fs::write(
        &input,
        r#"{"merchant_name":"X","merchant_city":"Y","mcc":"5812","currency":"156","country":"CN"}"#,
    )
    .unwrap();
    let (code, _, stderr) =
        run_text(&["qr", "mpm", "--json-in", input.to_str().unwrap(), "--json"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("02"), "{stderr}");
    std::fs::write(&input, r#"{"merchant_nam":"X"}"#).unwrap();
    let (code, _, _) = run_text(&["qr", "mpm", "--json-in", input.to_str().unwrap(), "--json"]);
    assert_eq!(code, 2);
    std::fs::write(
        &input,
        r#"{"merchant_name":"X","merchant_city":"Y","mcc":"58A2","currency":"156","country":"CN",
            "unionpay":{"merchant_id":"1"}}"#,
    )
    .unwrap();
    let (code, _, stderr) =
        run_text(&["qr", "mpm", "--json-in", input.to_str().unwrap(), "--json"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("52"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn parse_cpm_with_two_applications_keys_templates_in_order() {
    // EMVCo QRCPS-CPM example, source: mvallim/emv-qrcode @0ee851ab10851b62e339302f4b90ba28f3a653c2
    // src/test/java/com/emv/qrcode/decoder/cpm/ConsumerPresentedModeDecoderTest.java testSuccessDecode
    let v = json(&[
        "qr",
        "parse",
        "hQVDUFYwMWETTwegAAAAVVVVUAhQcm9kdWN0MWETTwegAAAAZmZmUAhQcm9kdWN0MmJJWggSNFZ4kBI0WF8gDkNBUkRIT0xERVIvRU1WXy0IcnVlc2RlZW5kIZ8QBwYBCgMAAACfJghYT9OF+iNLzJ82AgABnzcEbVjvEw==",
        "--json",
    ]);
    assert_eq!(v["kind"], "cpm");
    let f = &v["fields"];
    assert_eq!(f["61"]["4F"], "A0000000555555");
    assert_eq!(f["61"]["50"], "50726F6475637431");
    assert_eq!(f["61#2"]["4F"], "A0000000666666");
    assert_eq!(f["62"]["5A"], "123456******3458");
    assert_eq!(f["62"]["64"]["9F26"], "584FD385FA234BCC");
    assert_eq!(f["62"]["64"]["9F36"], "0001");
}

#[test]
fn mpm_unreserved_templates_and_bad_template_ids() {
    let dir = std::env::temp_dir().join(format!("smartpos-qr-cli-t-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("merchant.json");
    std::fs::write(
        &input,
        r#"{"merchant_name":"TEA","merchant_city":"HANGZHOU","mcc":"5814","currency":"156",
            "country":"CN","templates":[{"id":"27","guid":"com.example.pay","fields":{"01":"X1"}},
            {"id":"85","guid":"A011223344998877","fields":{"07":"12345678","01":"Z"}}]}"#,
    )
    .unwrap();
    let v = json(&["qr", "mpm", "--json-in", input.to_str().unwrap(), "--json"]);
    let payload = v["payload"].as_str().unwrap();
    let parsed = json(&["qr", "parse", payload, "--json"]);
    assert_eq!(parsed["fields"]["27"]["00"], "com.example.pay");
    assert_eq!(parsed["fields"]["27"]["01"], "X1");
    assert_eq!(parsed["fields"]["85"]["00"], "A011223344998877");
    assert_eq!(parsed["fields"]["85"]["01"], "Z");
    assert_eq!(parsed["fields"]["85"]["07"], "12345678");
    // 60 is Merchant City, not a template: a usage error (exit 2)
    std::fs::write(
        &input,
        r#"{"merchant_name":"TEA","merchant_city":"HANGZHOU","mcc":"5814","currency":"156",
            "country":"CN","templates":[{"id":"60","guid":"x"}]}"#,
    )
    .unwrap();
    let (code, _, stderr) =
        run_text(&["qr", "mpm", "--json-in", input.to_str().unwrap(), "--json"]);
    assert_eq!(code, 2, "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}
