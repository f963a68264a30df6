//! What a subcommand hands back, and how it reaches stdout/stderr.

use std::fmt;
use std::io::Write;

/// The result of one tool invocation: a JSON object for `--json`, and text for people.
pub struct Report {
    pub json: serde_json::Value,
    pub text: String,
}

impl Report {
    /// A report whose text form is the JSON pretty-printed.
    pub fn json(json: serde_json::Value) -> Self {
        let text = serde_json::to_string_pretty(&json).unwrap_or_default();
        Report { json, text }
    }

    /// A report with a separate human-readable text.
    pub fn with_text(json: serde_json::Value, text: impl Into<String>) -> Self {
        Report {
            json,
            text: text.into(),
        }
    }
}

/// Bad input from the command line (not from a library): exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

pub type CliResult = Result<Report, Box<dyn std::error::Error + Send + Sync>>;

/// Parse a hex argument (spaces allowed, either case); the error names the argument.
pub fn parse_hex(name: &str, value: &str) -> Result<Vec<u8>, UsageError> {
    let cleaned: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    hex::decode(&cleaned).map_err(|e| UsageError(format!("--{name}: not valid hex ({e})")))
}

/// Upper-case hex, the form every tool prints.
pub fn hex_upper(bytes: &[u8]) -> String {
    hex::encode_upper(bytes)
}

/// Print the report or the error; returns the process exit code.
pub fn emit(result: CliResult, json: bool) -> i32 {
    match result {
        Ok(report) => {
            let body = if json {
                report.json.to_string()
            } else {
                report.text
            };
            // A closed pipe (`smartpos ... | head`) is not an error of ours: stop quietly.
            let mut out = std::io::stdout().lock();
            match writeln!(out, "{body}").and_then(|()| out.flush()) {
                Ok(()) => 0,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
                Err(e) => {
                    eprintln!("error: writing the output: {e}");
                    1
                }
            }
        }
        Err(err) => {
            eprintln!("error: {err}");
            let mut source = err.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            if err.is::<UsageError>() { 2 } else { 1 }
        }
    }
}
