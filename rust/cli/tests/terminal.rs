//! `smartpos demo`, `sale`, `void`, `refund`, `settle` and `journal ...` through the built binary,
//! against the host simulator on loopback TCP with a real journal file.

mod common;

use std::process::Output;

use common::{
    json as json_ok, path_arg as p, run_text as smartpos, run_with, start_hostsim,
    stderr_json_error, stdout_json, temp_dir,
};
use serde_json::Value;
use smartpos_sim::hostsim::{HostSim, HostSimConfig};

/// The environment variable the tests put passwords in (`--password-env`).
const PW: &str = "SMARTPOS_TEST_PASSWORD";
/// The supervisor's (`--supervisor-password-env`).
const SUP_PW: &str = "SMARTPOS_TEST_SUPERVISOR_PASSWORD";
/// The new operator's (`--new-password-env`).
const NEW_PW: &str = "SMARTPOS_TEST_NEW_PASSWORD";

/// `smartpos args... --json`, exit 0, one JSON line.
fn json(args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.push("--json");
    json_ok(&a)
}

/// `smartpos args... --json` with the password of `--operator` in [`PW`].
fn as_operator(args: &[&str], password: &str) -> Output {
    let mut a = args.to_vec();
    a.extend_from_slice(&["--password-env", PW, "--json"]);
    run_with(&a, &[(PW, password)], None)
}

/// Admin `adm` (admin-pass), cashier `c7` (cashier-77) and supervisor `s9` (super-99) in the
/// operator store next to `journal`, created through `smartpos operator add`.
fn operators(journal: &str) {
    let first = run_with(
        &[
            "operator",
            "add",
            "--journal",
            journal,
            "--id",
            "adm",
            "--name",
            "Admin",
            "--role",
            "admin",
            "--new-password-env",
            NEW_PW,
            "--json",
        ],
        &[(NEW_PW, "admin-pass")],
        None,
    );
    let v = stdout_json(&first);
    assert_eq!(v["bootstrap"], true, "{v}");
    assert_eq!(v["role"], "admin");
    for (id, name, role, pw) in [
        ("c7", "Cashier Wang", "cashier", "cashier-77"),
        ("s9", "Supervisor Zhao", "supervisor", "super-99"),
    ] {
        let out = run_with(
            &[
                "operator",
                "add",
                "--journal",
                journal,
                "--operator",
                "adm",
                "--password-env",
                PW,
                "--id",
                id,
                "--name",
                name,
                "--role",
                role,
                "--new-password-env",
                NEW_PW,
                "--json",
            ],
            &[(PW, "admin-pass"), (NEW_PW, pw)],
            None,
        );
        let v = stdout_json(&out);
        assert_eq!(v["id"], id);
        assert_eq!(v["role"], role);
        assert_eq!(v["bootstrap"], false);
    }
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
    // The merchant QR is drawn in the terminal (half blocks), followed by its payload.
    let qr_at = out
        .find("shown on the customer display")
        .expect("merchant QR step");
    let drawn = &out[qr_at..];
    assert!(drawn.contains('▀') && drawn.contains('▄'), "{drawn}");
    assert!(drawn.contains("000201"), "payload printed: {drawn}");
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
    // Merchant-presented QR: the payload the terminal showed is an EMVCo MPM for 66.00 that the
    // simulated wallet paid; the terminal's poll then saw it paid.
    let mpm = step("merchant QR sale");
    assert_eq!(mpm["status"], "approved", "{mpm}");
    assert_eq!(mpm["kind"], "qr_sale");
    let shown = mpm["shown_qr"].as_str().expect("payload shown");
    match smartpos_qr::parse(shown).expect("the shown code parses") {
        smartpos_qr::ScannedCode::Mpm(m) => {
            assert_eq!(m.qr.transaction_amount.as_deref(), Some("66.00"));
            assert_eq!(m.qr.transaction_currency, "156");
        }
        other => panic!("not an MPM: {other:?}"),
    }
    assert_eq!(mpm["wallet_rrn"], mpm["rrn"]);
    let s = &v["settlement"];
    // Left after the void: the 20.00 contactless sale, the 400.00 phone tap, the 66.00 merchant
    // QR sale, the 33.00 QR scan sale when this build takes wallet codes, and the 5.00 refund.
    let qr = status("QR scan sale") == "approved";
    assert_eq!(s["terminal_totals"]["sales_count"], if qr { 4 } else { 3 });
    assert_eq!(
        s["terminal_totals"]["sales_amount"],
        if qr { 51_900 } else { 48_600 }
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
    operators(j);
    let common = ["--host", host.as_str(), "--journal", j];
    let cashier = ["--operator", "c7"];

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
    a.extend_from_slice(&cashier);
    let sale = stdout_json(&as_operator(&a, "cashier-77"));
    assert_eq!(sale["status"], "approved", "{sale}");
    assert_eq!(sale["kind"], "sale");
    assert_eq!(sale["total"], 1000);
    assert_eq!(sale["pan_masked"], "476173******0010");
    let receipt = sale["receipt"].as_str().expect("receipt");
    assert!(receipt.contains("CNY 10.00"));
    assert!(
        receipt.contains("c7"),
        "the signed-in operator is on the receipt: {receipt}"
    );
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

    // The password may also come from stdin.
    let mut a = vec![
        "sale",
        "--amount",
        "2500",
        "--card",
        "cl-visa-online",
        "--contactless",
        "--password-stdin",
        "--json",
    ];
    a.extend_from_slice(&common);
    a.extend_from_slice(&cashier);
    let second = stdout_json(&run_with(&a, &[], Some("cashier-77\n")));
    assert_eq!(second["status"], "approved");
    assert_eq!(second["entry_mode"], "contactless");
    assert_eq!(second["kernel"], "C-3");
    let second_id = second["txn_id"].as_i64().expect("id").to_string();

    // A cashier alone may not void: typed refusal, exit 3, nothing sent.
    let mut a = vec!["void", "--txn", sale_id.as_str()];
    a.extend_from_slice(&common);
    a.extend_from_slice(&cashier);
    let refused = as_operator(&a, "cashier-77");
    assert_eq!(refused.status.code(), Some(3));
    let e = stderr_json_error(&refused);
    assert_eq!(e["code"], "role_too_low", "{e}");
    assert_eq!(e["needs"], "supervisor");
    assert_eq!(e["has"], "cashier");

    // Void of the first sale in a new process, the cashier's with supervisor s9 authorising:
    // the journal and its key file carry the card. A wrong supervisor password is refused first
    // (counted on the supervisor's account), before anything reaches the host.
    a.extend_from_slice(&["--supervisor", "s9", "--supervisor-password-env", SUP_PW]);
    a.extend_from_slice(&["--password-env", PW, "--json"]);
    let wrong = run_with(&a, &[(PW, "cashier-77"), (SUP_PW, "super-98")], None);
    assert_eq!(wrong.status.code(), Some(3));
    let e = stderr_json_error(&wrong);
    assert_eq!(e["code"], "wrong_password", "{e}");
    assert_eq!(e["operator"], "s9");
    assert_eq!(e["attempts_left"], 4);
    // A supervisor without a source for their password is a usage error.
    let mut no_sup_pw = vec!["void", "--txn", sale_id.as_str(), "--supervisor", "s9"];
    no_sup_pw.extend_from_slice(&common);
    no_sup_pw.extend_from_slice(&cashier);
    no_sup_pw.extend_from_slice(&["--password-env", PW]);
    let out = run_with(&no_sup_pw, &[(PW, "cashier-77")], None);
    assert_eq!(out.status.code(), Some(2));
    let void = stdout_json(&run_with(
        &a,
        &[(PW, "cashier-77"), (SUP_PW, "super-99")],
        None,
    ));
    assert_eq!(void["status"], "approved", "{void}");
    assert_eq!(void["kind"], "void");
    assert_eq!(void["amount"], 1000);

    // The cashier refunds with the supervisor: both passwords on stdin, one a line.
    let mut a = vec!["refund", "--txn", second_id.as_str(), "--amount", "700"];
    a.extend_from_slice(&common);
    a.extend_from_slice(&cashier);
    a.extend_from_slice(&["--supervisor", "s9", "--password-stdin", "--json"]);
    let refund = stdout_json(&run_with(&a, &[], Some("cashier-77\nsuper-99\n")));
    assert_eq!(refund["status"], "approved", "{refund}");
    assert_eq!(refund["kind"], "refund");

    // Voiding the same sale again is refused with an error, not a crash.
    let mut a = vec!["void", "--txn", sale_id.as_str(), "--operator", "s9"];
    a.extend_from_slice(&common);
    let again = as_operator(&a, "super-99");
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(stderr_json_error(&again)["code"], "failed");

    let list = json(&["journal", "list", "--journal", j]);
    let items = list["transactions"].as_array().expect("list");
    let original = items
        .iter()
        .find(|t| t["id"].as_i64().map(|i| i.to_string()).as_deref() == Some(sale_id.as_str()))
        .expect("original listed");
    assert!(original["voided_by"].is_number(), "{original}");
    assert_eq!(original["operator_id"], "c7", "{original}");
    let void_row = items
        .iter()
        .find(|t| t["kind"] == "void" && t["state"] == "completed")
        .expect("void listed");
    // The supervisor who authorised it is the void's operator.
    assert_eq!(void_row["operator_id"], "s9", "{void_row}");

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

    let mut a = vec!["settle", "--operator", "s9"];
    a.extend_from_slice(&common);
    let s = stdout_json(&as_operator(&a, "super-99"));
    assert_eq!(s["terminal_totals"]["sales_count"], 1, "{s}");
    assert_eq!(s["terminal_totals"]["sales_amount"], 2500);
    assert_eq!(s["terminal_totals"]["refunds_amount"], 700);
    assert_eq!(s["host_balanced_first_time"], true);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn wrong_passwords_are_refused_counted_and_lock_the_operator_until_an_admin_unlocks() {
    // No host is needed: credentials are checked before the terminal connects.
    let dir = temp_dir("lockout");
    let journal = dir.join("journal.db");
    let j = p(&journal);
    operators(j);
    let sale = [
        "sale",
        "--amount",
        "100",
        "--card",
        "visa-cda-online-pin",
        "--host",
        "127.0.0.1:9",
        "--journal",
        j,
        "--operator",
        "c7",
    ];

    // The default policy locks after 5 wrong passwords in a row.
    for left in (1..=4).rev() {
        let out = as_operator(&sale, "not-the-password");
        assert_eq!(out.status.code(), Some(3));
        let e = stderr_json_error(&out);
        assert_eq!(e["code"], "wrong_password", "{e}");
        assert_eq!(e["operator"], "c7");
        assert_eq!(e["attempts_left"], left);
        assert!(!e.to_string().contains("not-the-password"), "{e}");
    }
    let out = as_operator(&sale, "still-wrong");
    assert_eq!(stderr_json_error(&out)["code"], "operator_locked");
    // Locked: even the right password is refused now.
    let out = as_operator(&sale, "cashier-77");
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(stderr_json_error(&out)["code"], "operator_locked");

    // The operator file holds password hashes: readable by its owner only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("operators.db"))
            .expect("operators.db next to the journal")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "mode {mode:o}");
    }
    let list = json(&["operator", "list", "--journal", j]);
    let c7 = list["operators"]
        .as_array()
        .expect("operators")
        .iter()
        .find(|o| o["id"] == "c7")
        .cloned()
        .expect("c7 listed");
    assert_eq!(c7["locked"], true, "{c7}");
    assert_eq!(c7["failed_attempts"], 5);
    assert!(
        !list.to_string().contains("argon2"),
        "no hash listed: {list}"
    );

    // A supervisor cannot unlock; an admin can.
    let unlock = ["operator", "unlock", "--journal", j, "--id", "c7"];
    let mut a = unlock.to_vec();
    a.extend_from_slice(&["--operator", "s9"]);
    let out = as_operator(&a, "super-99");
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(stderr_json_error(&out)["code"], "role_too_low");
    let mut a = unlock.to_vec();
    a.extend_from_slice(&["--operator", "adm"]);
    let v = stdout_json(&as_operator(&a, "admin-pass"));
    assert_eq!(v["locked"], false);
    assert_eq!(v["failed_attempts"], 0);

    // Unknown operators are refused the same way.
    let mut a = sale.to_vec();
    let last = a.len() - 1;
    a[last] = "nobody";
    let out = as_operator(&a, "whatever-1");
    assert_eq!(stderr_json_error(&out)["code"], "unknown_operator");

    // Sign-ins, refusals, the lock and the unlock are in the journal's audit log (its file and
    // any write-ahead log left beside it).
    let mut db = std::fs::read(&journal).expect("journal file");
    let mut wal = journal.as_os_str().to_owned();
    wal.push("-wal");
    db.extend(std::fs::read(std::path::PathBuf::from(wal)).unwrap_or_default());
    for action in [
        "operator.sign_in_failed",
        "operator.locked",
        "operator.unlock",
    ] {
        assert!(
            db.windows(action.len()).any(|w| w == action.as_bytes()),
            "{action} audited"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn passwords_never_come_from_a_plain_argument_and_the_store_must_exist() {
    let dir = temp_dir("pwargs");
    let journal = dir.join("journal.db");
    let j = p(&journal);
    let base = [
        "settle",
        "--host",
        "127.0.0.1:9",
        "--journal",
        j,
        "--operator",
        "s9",
    ];
    // There is no --password option at all; with --json the refusal is the JSON error too.
    let mut a = base.to_vec();
    a.extend_from_slice(&["--password", "super-99"]);
    let (code, _, err) = smartpos(&a);
    assert_eq!(code, 2, "{err}");
    a.push("--json");
    let out = run_with(&a, &[], None);
    assert_eq!(out.status.code(), Some(2));
    let e = stderr_json_error(&out);
    assert_eq!(e["code"], "usage");
    assert!(
        e["message"].as_str().unwrap_or("").contains("--password"),
        "{e}"
    );
    assert!(
        !e.to_string().contains("super-99"),
        "the value is not echoed: {e}"
    );
    // No password source: a usage error naming the two ways.
    let (code, _, err) = smartpos(&base);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--password-env"), "{err}");
    // A variable that is not set.
    let mut a = base.to_vec();
    a.extend_from_slice(&["--password-env", "SMARTPOS_TEST_UNSET_VARIABLE", "--json"]);
    let out = run_with(&a, &[], None);
    assert_eq!(out.status.code(), Some(2));
    let e = stderr_json_error(&out);
    assert_eq!(e["code"], "usage");
    assert!(
        e["message"]
            .as_str()
            .unwrap_or("")
            .contains("SMARTPOS_TEST_UNSET_VARIABLE")
    );
    // An empty store: the first admin must be created first.
    let out = as_operator(&base, "super-99");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_json_error(&out)["message"]
            .as_str()
            .unwrap_or("")
            .contains("operator add --role admin")
    );
    // The first operator of an empty store must be an admin.
    let out = run_with(
        &[
            "operator",
            "add",
            "--journal",
            j,
            "--id",
            "c1",
            "--name",
            "C",
            "--role",
            "cashier",
            "--new-password-env",
            NEW_PW,
            "--json",
        ],
        &[(NEW_PW, "cashier-11")],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn operator_accounts_are_changed_by_admins_only() {
    let dir = temp_dir("accounts");
    let journal = dir.join("journal.db");
    let j = p(&journal);
    operators(j);
    let add = |by: &str, pw: &str, id: &str| {
        run_with(
            &[
                "operator",
                "add",
                "--journal",
                j,
                "--operator",
                by,
                "--password-stdin",
                "--id",
                id,
                "--name",
                "New",
                "--role",
                "cashier",
                "--new-password-stdin",
                "--json",
            ],
            &[],
            // The admin's password, then the new operator's, one a line.
            Some(&format!("{pw}\nnew-pass-1\n")),
        )
    };
    // A supervisor may not add operators.
    let out = add("s9", "super-99", "c8");
    assert_eq!(out.status.code(), Some(3));
    let e = stderr_json_error(&out);
    assert_eq!(
        (e["code"].as_str(), e["needs"].as_str()),
        (Some("role_too_low"), Some("admin"))
    );
    // The admin may, once per id.
    let v = stdout_json(&add("adm", "admin-pass", "c8"));
    assert_eq!(
        (v["id"].as_str(), v["role"].as_str()),
        (Some("c8"), Some("cashier"))
    );
    let out = add("adm", "admin-pass", "c8");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr_json_error(&out)["code"], "operator_exists");
    // A wrong admin password changes nothing.
    let out = add("adm", "admin-pasz", "c9");
    assert_eq!(stderr_json_error(&out)["code"], "wrong_password");
    // The new cashier signs in with the password given on stdin (a sale refused only for the
    // missing host shows the sign-in passed: exit 1, not 3).
    let out = as_operator(
        &[
            "sale",
            "--amount",
            "100",
            "--card",
            "visa-cda-online-pin",
            "--host",
            "127.0.0.1:9",
            "--journal",
            j,
            "--operator",
            "c8",
        ],
        "new-pass-1",
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = json(&["operator", "list", "--journal", j]);
    let ids: Vec<&str> = list["operators"]
        .as_array()
        .expect("operators")
        .iter()
        .filter_map(|o| o["id"].as_str())
        .collect();
    assert_eq!(ids, ["adm", "c7", "c8", "s9"]);
    assert_eq!(list["count"], 4);
    // A second bootstrap of a non-empty store needs an admin like any other add.
    let out = run_with(
        &[
            "operator",
            "add",
            "--journal",
            j,
            "--id",
            "adm2",
            "--name",
            "A2",
            "--role",
            "admin",
            "--new-password-env",
            NEW_PW,
            "--json",
        ],
        &[(NEW_PW, "admin2-pass")],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn plain_hostsim_knows_every_contactless_virtual_card() {
    // `smartpos hostsim` with its default table, as a merchant would start it.
    let (_sim, host) = start_hostsim(&[]);
    let dir = temp_dir("cl-cards");
    let journal = dir.join("journal.db");
    let j = p(&journal);
    operators(j);
    // Online-only cards and phones go to the host, which must know the account to verify the
    // ARQC and approve with 00 (an unknown PAN would be 14, a bad ARQC 05). Amounts differ so
    // the duplicate-sale rule stays out of the way.
    for (i, card) in [
        "cl-mc-online",
        "cl-mc",
        "cl-mc-phone",
        "cl-visa-online",
        "cl-unionpay-phone",
    ]
    .into_iter()
    .enumerate()
    {
        let amount = (20_000 + 100 * i).to_string();
        let a = [
            "sale",
            "--amount",
            &amount,
            "--card",
            card,
            "--contactless",
            "--host",
            &host,
            "--journal",
            j,
            "--operator",
            "c7",
        ];
        let v = stdout_json(&as_operator(&a, "cashier-77"));
        assert_eq!(v["status"], "approved", "{card}: {v}");
        assert_eq!(v["response_code"], "00", "{card} approved online: {v}");
    }
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
