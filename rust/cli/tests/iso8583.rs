//! `smartpos iso8583 unpack|pack` end to end through the built binary.

mod common;

use common::{run, stdout_json};
use std::io::Write;
use std::process::{Command, Stdio};

/// The hand-assembled cups-pos sale 0200 of rust/iso8583/tests/cups_pos.rs.
const SALE: &str = "60000300006031003100000200702406C020C09A1119622202123456789012300000000000000012340001232512051000010012316222021234567890123D25122200000031303030303030313839383331303034383939303030313135361122334455667788260000000000000000159F260811223344556677889F270180001322000001000500A1A2A3A4A5A6A7A8";
const PAN: &str = "6222021234567890123";

fn temp_file(name: &str, contents: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("smartpos-cli-iso8583-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn unpack_json_of_a_cups_pos_sale() {
    let v = stdout_json(&run(&[
        "iso8583",
        "unpack",
        "--profile",
        "cups-pos",
        SALE,
        "--json",
    ]));
    assert_eq!(v["mti"], "0200");
    assert_eq!(v["tpdu"], "6000030000");
    assert_eq!(v["header"], "603100310000");
    let f = &v["fields"];
    assert_eq!(f["2"], PAN);
    assert_eq!(f["4"], "000000001234");
    assert_eq!(f["22"], "051");
    assert_eq!(f["35"], "6222021234567890123=25122200000");
    assert_eq!(f["41"], "10000001");
    assert_eq!(f["52"], "1122334455667788");
    assert_eq!(f["55"], "9F260811223344556677889F270180");
    assert_eq!(f["60"], "2200000100050");
    assert_eq!(f["64"], "A1A2A3A4A5A6A7A8");
    assert_eq!(f.as_object().unwrap().len(), 18);
}

#[test]
fn unpack_text_is_masked() {
    let out = run(&["iso8583", "unpack", "--profile", "cups-pos", SALE]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("622202*********0123"), "{text}");
    assert!(!text.contains(PAN), "{text}");
    assert!(!text.contains("A1A2A3A4A5A6A7A8"), "{text}");
    // The PIN block (52) is masked; the same bytes appear only as the cryptogram 9F26 in field 55.
    let line_52 = text
        .lines()
        .find(|l| l.trim_start().starts_with("52 "))
        .unwrap();
    assert!(line_52.contains("<8 bytes, masked>"), "{line_52}");
    assert_eq!(text.matches("1122334455667788").count(), 1, "{text}");
    assert!(text.contains("9F26 = 1122334455667788"), "{text}");
    assert!(text.contains("60.2"), "{text}");
}

#[test]
fn unpack_then_pack_round_trips_both_profiles() {
    // pyiso8583 4.0.1's encoding of "signon-0800-secondary" (rust/iso8583/tests/fixtures).
    let iso_hex = "30383030383232303030303038303030303030303034303030303031303030303030303131313231313031353330303030303031313131323334353637383930313030313030313132323333343435353636414130303131323233333434353536363737";
    for (profile, hex) in [("cups-pos", SALE), ("iso87-ascii", iso_hex)] {
        let out = run(&["iso8583", "unpack", "--profile", profile, hex, "--json"]);
        let json = String::from_utf8(out.stdout.clone()).unwrap();
        assert!(
            out.status.success(),
            "{profile}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let path = temp_file(&format!("{profile}.json"), &json);
        let out = run(&[
            "iso8583",
            "pack",
            "--profile",
            profile,
            "--json-in",
            path.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{profile}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8(out.stdout).unwrap().trim(),
            hex,
            "{profile}"
        );
        let v = stdout_json(&run(&[
            "iso8583",
            "pack",
            "--profile",
            profile,
            "--json-in",
            path.to_str().unwrap(),
            "--json",
        ]));
        assert_eq!(v["hex"], hex);
    }
}

#[test]
fn pack_reads_stdin_and_profile_files() {
    let profile_path = temp_file(
        "tiny-profile.json",
        r#"{"name":"tiny","mti":"ascii","bitmap":"hex","fields":{"3":{"type":"n","length":"fixed","len":6},"4":{"type":"n","length":"fixed","len":12}}}"#,
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_smartpos"))
        .args([
            "iso8583",
            "pack",
            "--profile",
            profile_path.to_str().unwrap(),
            "--json-in",
            "-",
            "--json",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"mti":"0200","fields":{"3":"000000","4":"000000000100"}}"#)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let v = stdout_json(&out);
    // "0200" + bitmap 3000000000000000 + fields
    assert_eq!(
        v["hex"],
        hex::encode_upper(b"02003000000000000000000000000000000100")
    );
}

#[test]
fn errors_name_the_field_and_exit_codes_differ() {
    // Truncated inside field 64: a message error, exit 1.
    let cut = &SALE[..SALE.len() - 2];
    let out = run(&["iso8583", "unpack", "--profile", "cups-pos", cut, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("field 64") && err.contains("byte 137") && err.contains("truncated"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    // Bad hex and unknown profile: usage errors, exit 2.
    let out = run(&["iso8583", "unpack", "--profile", "cups-pos", "0G"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["iso8583", "unpack", "--profile", "no-such", SALE]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such"));
    // A JSON message with a bad value: exit 1, naming the field.
    let path = temp_file(
        "bad.json",
        r#"{"mti":"0800","fields":{"11":"00000A","41":"x","42":"y","60":"1"}}"#,
    );
    let out = run(&[
        "iso8583",
        "pack",
        "--profile",
        "iso87-ascii",
        "--json-in",
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("field 11"));
    let out = run(&[
        "iso8583",
        "pack",
        "--profile",
        "cups-pos",
        "--json-in",
        "/nonexistent.json",
    ]);
    assert_eq!(out.status.code(), Some(2));
}
