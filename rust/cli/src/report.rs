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

/// Print the report or the error; returns the process exit code. With `--json` an error is one
/// line of JSON on stderr: `{"error":{"code","message","causes",...}}`.
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
            let (code, exit, details) = classify(err.as_ref());
            if json {
                let mut causes = Vec::new();
                let mut source = err.source();
                while let Some(cause) = source {
                    causes.push(serde_json::Value::from(cause.to_string()));
                    source = cause.source();
                }
                let mut e = serde_json::json!({
                    "code": code,
                    "message": err.to_string(),
                    "causes": causes,
                });
                if let (Some(o), serde_json::Value::Object(d)) = (e.as_object_mut(), details) {
                    o.extend(d);
                }
                eprintln!("{}", serde_json::json!({ "error": e }));
                return exit;
            }
            eprintln!("error: {err}");
            let mut source = err.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            exit
        }
    }
}

/// The stable `code`, the exit code and the extra JSON fields of an error: 2 for bad input,
/// 3 for an operator who is not authorised (unknown, wrong password, locked, role too low),
/// 1 otherwise.
fn classify(
    err: &(dyn std::error::Error + Send + Sync + 'static),
) -> (&'static str, i32, serde_json::Value) {
    use smartpos_terminal::TerminalError;
    use smartpos_terminal::operator::OperatorError;
    if err.is::<UsageError>() {
        return ("usage", 2, serde_json::Value::Null);
    }
    if let Some(e) = err.downcast_ref::<OperatorError>() {
        return crate::operator::error_info(e);
    }
    if let Some(TerminalError::Operator(_)) = err.downcast_ref::<TerminalError>() {
        return ("not_authorised", 3, serde_json::Value::Null);
    }
    ("failed", 1, serde_json::Value::Null)
}

/// A command line clap refused: help and version go out as clap prints them; with `--json`
/// anywhere in the arguments the refusal is the one-line JSON error on stderr (code `usage`),
/// else clap's own message. Returns the exit code (2 for a refusal).
pub fn argument_error(e: &clap::Error) -> i32 {
    use clap::error::ErrorKind;
    let wants_json = std::env::args_os().any(|a| a == "--json");
    if !wants_json
        || matches!(
            e.kind(),
            ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        )
    {
        let _ = e.print();
        return e.exit_code();
    }
    let message = e.render().to_string();
    let first = message
        .lines()
        .next()
        .unwrap_or("")
        .trim_start_matches("error: ")
        .to_string();
    eprintln!(
        "{}",
        serde_json::json!({ "error": { "code": "usage", "message": first, "causes": [] } })
    );
    2
}
