//! Helpers shared by the CLI process tests: run the built `smartpos` binary and read the one JSON
//! object it prints with `--json` (see ARCHITECTURE.md, "The `smartpos` command").

// Each test crate that declares `mod common;` uses a subset of these.
#![allow(dead_code)]

use serde_json::Value;
use std::process::{Command, Output};

/// Run `smartpos args...` to completion.
pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_smartpos"))
        .args(args)
        .output()
        .expect("run smartpos")
}

/// Run `smartpos args...`: (exit code, -1 when killed by a signal; stdout; stderr), the streams
/// decoded lossily.
pub fn run_text(args: &[&str]) -> (i32, String, String) {
    let out = run(args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The JSON a finished run printed: the run exited 0, and stdout is UTF-8 holding exactly one
/// line, one JSON value.
pub fn stdout_json(out: &Output) -> Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = std::str::from_utf8(&out.stdout).expect("stdout is UTF-8");
    assert_eq!(stdout.lines().count(), 1, "one JSON line: {stdout}");
    serde_json::from_str(stdout).expect("one JSON object on stdout")
}

/// Run `smartpos args...` and return its JSON (as [`stdout_json`]; a failure names the arguments).
pub fn json(args: &[&str]) -> Value {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout_json(&out)
}
