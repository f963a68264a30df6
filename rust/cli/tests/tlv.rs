//! `smartpos tlv ...` run as a process.

mod common;

use common::{json, run};
use serde_json::Value;

// Source: javisHuang/Learn emv/Initiate_Application.md, PPSE response of a Visa debit card
// (status word removed).
const PPSE: &str = "6F2F840E325041592E5359532E4444463031A51DBF0C1A61184F07A0000000031010500A56495341204445424954870101";

#[test]
fn decode_json_tree() {
    let v = json(&["tlv", "decode", PPSE, "--json"]);
    let top = v["tlv"].as_array().unwrap();
    assert_eq!(top.len(), 1);
    let fci = &top[0];
    assert_eq!(fci["tag"], "6F");
    assert_eq!(fci["name"], "File Control Information (FCI) Template");
    assert_eq!(fci["value"], &PPSE[4..]);
    let children = fci["children"].as_array().unwrap();
    assert_eq!(children.len(), 2);
    assert_eq!(children[0]["tag"], "84");
    assert_eq!(children[0]["name"], "Dedicated File (DF) Name");
    assert_eq!(children[0]["value"], "325041592E5359532E4444463031");
    assert!(
        children[0].get("children").is_none(),
        "primitive objects have no children key"
    );
    let app = &children[1]["children"][0]["children"][0];
    assert_eq!(app["tag"], "61");
    let app_children = app["children"].as_array().unwrap();
    assert_eq!(app_children[0]["tag"], "4F");
    assert_eq!(app_children[0]["value"], "A0000000031010");
    assert_eq!(app_children[1]["name"], "Application Label");
    assert_eq!(app_children[1]["value"], "56495341204445424954");
    assert_eq!(app_children[2]["tag"], "87");
}

#[test]
fn decode_padding_unknown_and_empty_constructed() {
    let v = json(&["tlv", "decode", "00 DF7F 01 AA FF A5 00 00", "--json"]);
    let top = v["tlv"].as_array().unwrap();
    assert_eq!(top.len(), 2);
    assert_eq!(top[0]["tag"], "DF7F");
    assert!(top[0]["name"].is_null());
    assert_eq!(top[0]["value"], "AA");
    assert_eq!(top[1]["tag"], "A5");
    assert_eq!(top[1]["children"], Value::Array(vec![]));
}

#[test]
fn decode_masks_pan_and_track2() {
    // Source: published.md id qr-cpm-emvco-example1 (kenmaz/JPQRReader CPMDecoderTests.swift
    // testEMVCPM_Example1): 85=4350563031; 61{4F=A0000000555555, 57=1234567890123458D191220112345F}.
    let hex = "85054350563031611A4F07A0000000555555570F1234567890123458D191220112345F";
    let v = json(&["tlv", "decode", hex, "--json"]);
    let top = v["tlv"].as_array().unwrap();
    assert_eq!(top[0]["tag"], "85");
    assert_eq!(top[0]["value"], "4350563031");
    let app = &top[1];
    assert_eq!(app["tag"], "61");
    assert_eq!(app["children"][0]["value"], "A0000000555555");
    let track2 = &app["children"][1];
    assert_eq!(track2["tag"], "57");
    assert_eq!(track2["masked"], true);
    assert_eq!(track2["value"], "123456******3458D*************");
    let out = String::from_utf8(run(&["tlv", "decode", hex]).stdout).unwrap();
    assert!(!out.contains("1234567890123458"), "{out}");

    let v = json(&["tlv", "decode", "5A0847617390010101195F340101", "--json"]);
    assert_eq!(v["tlv"][0]["value"], "476173******0119");
    assert_eq!(v["tlv"][1]["value"], "01");
    assert!(v["tlv"][1].get("masked").is_none());
}

#[test]
fn decode_text_tree() {
    let out = run(&["tlv", "decode", PPSE]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "6F File Control Information (FCI) Template (47 bytes)"
    );
    assert_eq!(
        lines[1],
        "  84 Dedicated File (DF) Name: 325041592E5359532E4444463031"
    );
    assert!(
        lines.contains(&"        50 Application Label: 56495341204445424954 \"VISA DEBIT\""),
        "{text}"
    );
    assert!(
        lines.contains(&"        87 Application Priority Indicator: 01"),
        "{text}"
    );
}

#[test]
fn decode_errors() {
    let bad_hex = run(&["tlv", "decode", "6F0", "--json"]);
    assert_eq!(bad_hex.status.code(), Some(2));
    assert!(bad_hex.stdout.is_empty());
    assert!(String::from_utf8_lossy(&bad_hex.stderr).contains("hex"));

    let overrun = run(&["tlv", "decode", "9F02060000000001", "--json"]);
    assert_eq!(overrun.status.code(), Some(1));
    let err = String::from_utf8_lossy(&overrun.stderr);
    assert!(
        err.contains("9F02") && err.contains("offset 3") && err.contains("6 bytes"),
        "{err}"
    );

    let indefinite = run(&["tlv", "decode", "6F80"]);
    assert_eq!(indefinite.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&indefinite.stderr).contains("indefinite"));

    // A child overrunning its template is found too (the tree is decoded fully).
    let nested = run(&["tlv", "decode", "70035A0512"]);
    assert_eq!(nested.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&nested.stderr).contains("tag 5A"));
}

#[test]
fn tag_lookup() {
    let v = json(&["tlv", "tag", "DF8129", "--json"]);
    assert_eq!(v["name"], "Outcome Parameter Set (Mastercard)");
    assert_eq!(v["format"], "b");
    assert_eq!(v["min_len"], 8);
    assert_eq!(v["class"], "private");
    assert_eq!(v["constructed"], false);
    let v = json(&["tlv", "tag", "9f02", "--json"]);
    assert_eq!(v["format"], "n");
    assert_eq!(v["source"], "Terminal");
    assert_eq!(run(&["tlv", "tag", "DF7F"]).status.code(), Some(1));
    assert_eq!(run(&["tlv", "tag", "9F"]).status.code(), Some(2));
}

#[test]
fn dol_listing() {
    // PDOL of a Visa contactless application (the example).
    let v = json(&[
        "tlv",
        "dol",
        "9F66049F02069F03069F1A0295055F2A029A039C019F3704",
        "--json",
    ]);
    assert_eq!(v["total_len"], 33);
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 9);
    assert_eq!(entries[0]["tag"], "9F66");
    assert_eq!(entries[0]["name"], "Terminal Transaction Qualifiers (TTQ)");
    assert_eq!(entries[0]["length"], 4);
    assert_eq!(entries[1]["format"], "n");
    assert_eq!(entries[8]["tag"], "9F37");
    let bad = run(&["tlv", "dol", "9F6604 9F", "--json"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("offset 3"));
}
