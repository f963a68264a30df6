//! `smartpos demo`, `sale`, `void`, `refund`, `settle` and `journal ...` through the built binary,
//! against the host simulator on loopback TCP with a real journal file.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use smartpos_sim::hostsim::{HostSim, HostSimConfig};

fn smartpos(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_smartpos"))
        .args(args)
        .output()
        .expect("run smartpos");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.push("--json");
    let (code, out, err) = smartpos(&a);
    assert_eq!(code, 0, "{args:?}: {err}");
    assert_eq!(out.trim_end().lines().count(), 1, "one JSON line: {out}");
    serde_json::from_str(&out).expect("JSON")
}

fn temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let d = std::env::temp_dir().join(format!(
        "smartpos-cli-terminal-{tag}-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

#[test]
fn demo_runs_a_merchant_day_and_prints_the_settlement_report() {
    let (code, out, err) = smartpos(&["demo"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("SETTLEMENT REPORT"), "{out}");
    assert!(out.contains("HOST: TOTALS AGREED"));
    assert!(out.contains("CUSTOMER COPY"));
    assert!(out.contains("[display] Enter PIN"));
    assert!(out.contains("REVERSED - NOT CHARGED"));
    // No full PAN of the virtual cards anywhere.
    for pan in [
        "4761739001010010",
        "5413330089010434",
        "6214000000000000019",
    ] {
        assert!(!out.contains(pan), "{pan} printed");
    }

    let v = json(&["demo", "--lang", "zh"]);
    let steps = v["steps"].as_array().expect("steps");
    let status = |name: &str| {
        steps
            .iter()
            .find(|s| s["step"].as_str().is_some_and(|n| n.starts_with(name)))
            .map(|s| s["status"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(status("contactless sale"), "approved");
    let step = |name: &str| {
        steps
            .iter()
            .find(|s| s["step"].as_str().is_some_and(|n| n.starts_with(name)))
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(step("contactless sale")["kernel"], "C-2");
    assert_eq!(step("contactless sale")["entry_mode"], "contactless");
    assert_eq!(status("phone tap"), "approved");
    assert_eq!(step("phone tap")["kernel"], "C-3");
    let phone_events = step("phone tap")["events"].to_string();
    assert!(phone_events.contains("see_phone"), "{phone_events}");
    assert_eq!(status("contact sale"), "approved");
    assert_eq!(status("declined card"), "declined");
    assert_eq!(status("host timeout"), "reversed");
    assert_eq!(status("void"), "approved");
    assert_eq!(status("refund"), "approved");
    let s = &v["settlement"];
    // Left after the void: the 20.00 contactless sale, the 400.00 phone tap, the 33.00 QR sale
    // when this build takes QR payments, and the 5.00 refund.
    let qr = status("QR scan sale") == "approved";
    assert_eq!(s["terminal_totals"]["sales_count"], if qr { 3 } else { 2 });
    assert_eq!(
        s["terminal_totals"]["sales_amount"],
        if qr { 45_300 } else { 42_000 }
    );
    assert_eq!(s["terminal_totals"]["refunds_amount"], 500);
    assert_eq!(s["journal_matches_sent"], true);
    assert_eq!(s["batch_uploaded"], false);
    assert!(v["audit_entries"].as_u64().unwrap_or(0) > 10);
    let receipt = steps[1]["receipt"].as_str().unwrap_or("");
    assert!(receipt.contains("持卡人存根"), "{receipt}");
}

#[test]
fn sale_void_refund_settle_and_journal_tools_through_the_cli() {
    let sim = HostSim::start(&HostSimConfig::default_config(), "127.0.0.1:0", None).expect("sim");
    let host = sim.addr().to_string();
    let dir = temp_dir("flow");
    let journal = dir.join("journal.db");
    let j = p(&journal);
    let common = ["--host", host.as_str(), "--journal", j, "--operator", "c7"];

    let png_path = dir.join("receipt.png");
    let escpos_path = dir.join("receipt.bin");
    let mut a = vec![
        "sale",
        "--amount",
        "1000",
        "--card",
        "visa-cda-online-pin",
        "--png",
        p(&png_path),
        "--escpos",
        p(&escpos_path),
    ];
    a.extend_from_slice(&common);
    let sale = json(&a);
    assert_eq!(sale["status"], "approved", "{sale}");
    assert_eq!(sale["kind"], "sale");
    assert_eq!(sale["total"], 1000);
    assert_eq!(sale["pan_masked"], "476173******0010");
    let receipt = sale["receipt"].as_str().expect("receipt");
    assert!(receipt.contains("CNY 10.00"));
    assert!(!receipt.contains("4761739001010010"));
    let sale_id = sale["txn_id"].as_i64().expect("txn id").to_string();
    // The PNG starts with the PNG signature and is 384 pixels wide (IHDR width at bytes 16..20).
    let png = std::fs::read(&png_path).expect("png");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&png[16..20], &384u32.to_be_bytes());
    assert_eq!(sale["png"]["bytes"], png.len());
    let escpos = std::fs::read(&escpos_path).expect("escpos");
    assert_eq!(&escpos[..2], &[0x1B, 0x40]);
    assert_eq!(&escpos[escpos.len() - 4..], &[0x1D, 0x56, 0x42, 0x00]);
    assert!(!escpos.windows(16).any(|w| w == b"4761739001010010"));

    let mut a = vec![
        "sale",
        "--amount",
        "2500",
        "--card",
        "cl-visa-online",
        "--contactless",
    ];
    a.extend_from_slice(&common);
    let second = json(&a);
    assert_eq!(second["status"], "approved");
    assert_eq!(second["entry_mode"], "contactless");
    assert_eq!(second["kernel"], "C-3");
    let second_id = second["txn_id"].as_i64().expect("id").to_string();

    // Void of the first sale in a new process: the journal and its key file carry the card.
    let mut a = vec!["void", "--txn", sale_id.as_str()];
    a.extend_from_slice(&common);
    let void = json(&a);
    assert_eq!(void["status"], "approved", "{void}");
    assert_eq!(void["kind"], "void");
    assert_eq!(void["amount"], 1000);

    let mut a = vec!["refund", "--txn", second_id.as_str(), "--amount", "700"];
    a.extend_from_slice(&common);
    let refund = json(&a);
    assert_eq!(refund["status"], "approved", "{refund}");
    assert_eq!(refund["kind"], "refund");

    // Voiding the same sale again is refused with an error, not a crash.
    let mut a = vec!["void", "--txn", sale_id.as_str()];
    a.extend_from_slice(&common);
    let (code, _, err) = smartpos(&a);
    assert_ne!(code, 0);
    assert!(err.contains("error"), "{err}");

    let list = json(&["journal", "list", "--journal", j]);
    let items = list["transactions"].as_array().expect("list");
    let original = items
        .iter()
        .find(|t| t["id"].as_i64().map(|i| i.to_string()).as_deref() == Some(sale_id.as_str()))
        .expect("original listed");
    assert!(original["voided_by"].is_number(), "{original}");
    assert!(
        items
            .iter()
            .any(|t| t["kind"] == "void" && t["state"] == "completed")
    );

    let show = json(&["journal", "show", "--journal", j, &sale_id]);
    assert_eq!(show["transaction"]["kind"], "sale");
    assert!(!show["audit"].as_array().expect("audit").is_empty());

    let csv = dir.join("export.csv");
    let e = json(&[
        "journal",
        "export",
        "--journal",
        j,
        "--format",
        "csv",
        "--out",
        p(&csv),
    ]);
    assert!(e["rows"].as_u64().unwrap_or(0) >= 4);
    let text = std::fs::read_to_string(&csv).expect("csv");
    assert!(text.starts_with("id,"));
    assert!(!text.contains("4761739001010010"));

    let backup = dir.join("backup.db");
    let b = json(&["journal", "backup", "--journal", j, p(&backup)]);
    assert!(b["pages"].as_i64().unwrap_or(0) > 0);
    assert!(backup.is_file());

    let mut a = vec!["settle"];
    a.extend_from_slice(&common);
    let s = json(&a);
    assert_eq!(s["terminal_totals"]["sales_count"], 1, "{s}");
    assert_eq!(s["terminal_totals"]["sales_amount"], 2500);
    assert_eq!(s["terminal_totals"]["refunds_amount"], 700);
    assert_eq!(s["host_balanced_first_time"], true);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_arguments_are_usage_errors() {
    let dir = temp_dir("usage");
    let journal = dir.join("journal.db");
    let (code, _, err) = smartpos(&[
        "sale",
        "--amount",
        "100",
        "--card",
        "no-such-card",
        "--host",
        "127.0.0.1:9",
        "--journal",
        p(&journal),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--card"), "{err}");
    let (code, _, err) = smartpos(&["journal", "list", "--journal", p(&dir.join("missing.db"))]);
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = smartpos(&["demo", "--width", "40"]);
    assert_eq!(code, 2);
    let _ = std::fs::remove_dir_all(dir);
}
