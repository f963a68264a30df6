//! Helpers shared by the CLI process tests: run the built `smartpos` binary and read the one JSON
//! object it prints with `--json` (see ARCHITECTURE.md, "The `smartpos` command").

// Each test crate that declares `mod common;` uses a subset of these.
#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

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

/// Run `smartpos args...` and return its JSON: exit 0, UTF-8, exactly one line, one JSON value
/// (as [`stdout_json`]; a failure names the arguments).
pub fn json(args: &[&str]) -> Value {
    serde_json::from_str(&stdout_line(args)).expect("one JSON object on stdout")
}

/// A `smartpos hostsim` process, killed when dropped.
pub struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `smartpos hostsim --listen 127.0.0.1:0 extra...` and return it with the first line it
/// printed (the bound address, or with `--json` the listener's JSON).
pub fn start_hostsim(extra: &[&str]) -> (Running, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_smartpos"))
        .arg("hostsim")
        .args(["--listen", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn smartpos hostsim");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("first line");
    (Running(child), line.trim().to_string())
}

/// Run `smartpos args...` with extra environment variables and, when given, `stdin` piped in.
pub fn run_with(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_smartpos"));
    cmd.args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    let mut child = cmd.spawn().expect("spawn smartpos");
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes()).expect("write stdin");
    }
    child.wait_with_output().expect("wait for smartpos")
}

/// A fresh directory under the system temp dir, unique per test process and call.
pub fn temp_dir(tag: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let d = std::env::temp_dir().join(format!("smartpos-cli-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// A path as a command-line argument.
pub fn path_arg(path: &std::path::Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// The one-line JSON error a failed `--json` run printed on stderr: `{"error":{...}}`.
pub fn stderr_json_error(out: &Output) -> Value {
    assert!(!out.status.success(), "expected a failure");
    let stderr = std::str::from_utf8(&out.stderr).expect("stderr is UTF-8");
    assert_eq!(
        stderr.lines().count(),
        1,
        "one JSON line on stderr: {stderr}"
    );
    let v: Value = serde_json::from_str(stderr).expect("JSON error on stderr");
    v["error"].clone()
}

/// Run `smartpos args...`: it exits 0 and prints exactly one line of UTF-8 on stdout, returned
/// as printed (for byte-for-byte comparisons of two runs).
pub fn stdout_line(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("stdout is UTF-8");
    assert_eq!(stdout.lines().count(), 1, "one JSON line: {stdout}");
    stdout
}

/// A path in the system temp dir named after the test file (`tag`), the process and `name`.
pub fn temp_path(tag: &str, name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("smartpos-{tag}-{}-{name}", std::process::id()))
}
