//! Operator credentials of the tool commands and `smartpos operator add|list|unlock`.
//!
//! `sale`, `void`, `refund` and `settle` act as `--operator ID` only after its password was
//! checked against the operator store (smartpos-terminal `operator`: argon2id PHC strings,
//! lock-out after [`OperatorPolicy::max_failed_attempts`] wrong passwords in a row, every
//! sign-in, refusal and grant in the journal's audit log, PCI DSS v4 §8.3.1 and §10.2.1). The
//! password comes from an environment variable (`--password-env VAR`) or the first line of
//! stdin (`--password-stdin`), never from a plain argument, which other users of the machine
//! could read in the process list (PCI DSS v4 §8.3.2: credentials unreadable in transmission and
//! storage). Void, refund and settlement need a supervisor (or admin): either `--operator` is
//! one, or a cashier's command names `--supervisor ID`, whose password comes from
//! `--supervisor-password-env VAR` or the second line of stdin.
//!
//! The operator accounts live in `operators.db` next to the journal (or `--operators FILE`); the
//! first admin is created with `smartpos operator add --role admin` on an empty store.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand};
use serde_json::json;
use smartpos_journal::Journal;
use smartpos_terminal::operator::{
    CredentialPrompt, Credentials, MemoryAudit, NoPrompt, OperatorError, OperatorPolicy,
    OperatorStore, Session, required_role, role_from_str,
};
use smartpos_terminal::{Action, Role};
use zeroize::Zeroizing;

use crate::report::{CliResult, Report, UsageError};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Who acts: `--operator ID` and where their password comes from.
#[derive(Args, Clone, Debug)]
pub struct CredentialArgs {
    /// Operator id (signed in with the password from `--password-env` or `--password-stdin`).
    #[arg(long)]
    pub operator: Option<String>,
    /// Read the operator's password from this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with = "password_stdin")]
    pub password_env: Option<String>,
    /// Read the operator's password from the first line of stdin.
    #[arg(long)]
    pub password_stdin: bool,
}

/// A supervisor authorising a cashier's void, refund or settlement.
#[derive(Args, Clone, Debug)]
pub struct SupervisorArgs {
    /// Supervisor (or admin) id who authorises the action when `--operator` is a cashier.
    #[arg(long)]
    pub supervisor: Option<String>,
    /// Read the supervisor's password from this environment variable (else: the second line
    /// of stdin with `--password-stdin`).
    #[arg(long, value_name = "VAR", requires = "supervisor")]
    pub supervisor_password_env: Option<String>,
}

/// Where the operator store is.
#[derive(Args, Clone, Debug)]
pub struct StoreArgs {
    /// Operator accounts file (default: `operators.db` in the journal's directory).
    #[arg(long)]
    pub operators: Option<PathBuf>,
}

/// The files of `smartpos operator ...`: the journal (its audit log records every change and
/// refusal; created when missing) and the operator store next to it.
#[derive(Args, Clone, Debug)]
pub struct OperatorFiles {
    /// Journal file (locates `operators.db`; its audit log records the change).
    #[arg(long)]
    pub journal: PathBuf,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `smartpos operator ...`.
#[derive(Subcommand)]
pub enum OperatorCmd {
    /// Add an operator (by an admin; the first admin of an empty store needs no credentials).
    Add {
        #[command(flatten)]
        files: OperatorFiles,
        #[command(flatten)]
        by: CredentialArgs,
        /// Id of the new operator (1-32 of A-Z a-z 0-9 _ - .).
        #[arg(long)]
        id: String,
        /// Display name (printed on receipts).
        #[arg(long)]
        name: String,
        /// `cashier`, `supervisor` or `admin`.
        #[arg(long)]
        role: String,
        /// Read the new operator's password from this environment variable.
        #[arg(long, value_name = "VAR", conflicts_with = "new_password_stdin")]
        new_password_env: Option<String>,
        /// Read the new operator's password from stdin (the line after the admin's password
        /// when both come from stdin).
        #[arg(long)]
        new_password_stdin: bool,
    },
    /// List the operators (id, name, role, failed attempts, locked); never a hash.
    List {
        #[command(flatten)]
        files: OperatorFiles,
    },
    /// Unlock an operator locked out after wrong passwords (by an admin).
    Unlock {
        #[command(flatten)]
        files: OperatorFiles,
        #[command(flatten)]
        by: CredentialArgs,
        /// Operator to unlock.
        #[arg(long)]
        id: String,
    },
}

/// `operators.db` next to `journal`, or `--operators`.
pub fn store_path(journal: &Path, store: &StoreArgs) -> PathBuf {
    if let Some(p) = &store.operators {
        return p.clone();
    }
    journal
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
        .join("operators.db")
}

/// The operator store of `journal` with its audit entries held in memory until a journal takes
/// them ([`flush_audit`], or the terminal's journal).
pub fn open_store(
    journal: &Path,
    store: &StoreArgs,
) -> Result<(Arc<OperatorStore>, MemoryAudit), BoxError> {
    let path = store_path(journal, store);
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let audit = MemoryAudit::new();
    let s = OperatorStore::open(&path, OperatorPolicy::default(), Box::new(audit.clone()))?;
    // The password hashes are for the terminal's user only (PCI DSS v4 §8.3.2).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok((Arc::new(s), audit))
}

/// Write the pending audit entries to the journal's audit log (the journal is created when
/// missing, with its key file).
pub fn flush_audit(journal: &Path, audit: &MemoryAudit) -> Result<(), BoxError> {
    if audit.entries().is_empty() {
        return Ok(());
    }
    let mut j: Journal = crate::terminal::open_or_create_journal(journal)?;
    audit.drain_into(&mut j)?;
    Ok(())
}

/// Passwords read from stdin, line by line, once per process.
struct Stdin {
    lines: Option<Vec<Zeroizing<String>>>,
    next: usize,
}

impl Stdin {
    fn new() -> Stdin {
        Stdin {
            lines: None,
            next: 0,
        }
    }

    fn line(&mut self, what: &str) -> Result<Zeroizing<String>, UsageError> {
        if self.lines.is_none() {
            let mut all = Zeroizing::new(String::new());
            std::io::stdin()
                .read_to_string(&mut all)
                .map_err(|e| UsageError(format!("{what}: reading stdin: {e}")))?;
            self.lines = Some(
                all.lines()
                    .map(|l| Zeroizing::new(l.trim_end_matches('\r').to_string()))
                    .collect(),
            );
        }
        let n = self.next;
        self.next += 1;
        self.lines
            .as_ref()
            .and_then(|l| l.get(n))
            .cloned()
            .ok_or_else(|| UsageError(format!("{what}: stdin has no line {}", n + 1)))
    }
}

fn from_env(flag: &str, var: &str) -> Result<Zeroizing<String>, UsageError> {
    match std::env::var(var) {
        Ok(v) => Ok(Zeroizing::new(v)),
        Err(std::env::VarError::NotPresent) => Err(UsageError(format!(
            "--{flag}: environment variable {var} is not set"
        ))),
        Err(std::env::VarError::NotUnicode(_)) => Err(UsageError(format!(
            "--{flag}: environment variable {var} is not UTF-8"
        ))),
    }
}

fn password(c: &CredentialArgs, stdin: &mut Stdin) -> Result<Zeroizing<String>, UsageError> {
    match (&c.password_env, c.password_stdin) {
        (Some(var), _) => from_env("password-env", var),
        (None, true) => stdin.line("--password-stdin"),
        (None, false) => Err(UsageError(
            "the operator's password is needed: --password-env VAR or --password-stdin (never a plain argument)".into(),
        )),
    }
}

fn operator_id(c: &CredentialArgs) -> Result<&str, UsageError> {
    c.operator
        .as_deref()
        .ok_or_else(|| UsageError("--operator: which operator acts (an operator id)".into()))
}

/// A supervisor's credentials, typed at the terminal's supervisor prompt whenever it asks.
pub struct SupervisorPrompt(Credentials);

impl SupervisorPrompt {
    /// The supervisor `id` with `password`.
    pub fn new(id: &str, password: Zeroizing<String>) -> SupervisorPrompt {
        SupervisorPrompt(Credentials {
            id: id.to_string(),
            password,
        })
    }
}

impl CredentialPrompt for SupervisorPrompt {
    fn ask(&mut self, _role: Role, _action: Action) -> Option<Credentials> {
        Some(Credentials {
            id: self.0.id.clone(),
            password: self.0.password.clone(),
        })
    }
}

/// A checked operator: the session, and the supervisor prompt for actions above its role.
pub struct SignedIn {
    pub store: Arc<OperatorStore>,
    pub audit: MemoryAudit,
    pub session: Session,
    pub prompt: Box<dyn CredentialPrompt>,
}

/// Sign `--operator` in and, for `action` above its role, check `--supervisor`'s credentials
/// too, before the terminal is opened. Refusals are audited in the journal and come back as
/// [`OperatorError`]s (wrong password with the attempts left, locked, role too low).
pub fn sign_in(
    journal: &Path,
    store_args: &StoreArgs,
    creds: &CredentialArgs,
    supervisor: &SupervisorArgs,
    action: Option<Action>,
) -> Result<SignedIn, BoxError> {
    let id = operator_id(creds)?;
    let mut stdin = Stdin::new();
    let pw = password(creds, &mut stdin)?;
    let sup_pw = match (&supervisor.supervisor, &supervisor.supervisor_password_env) {
        (None, _) => None,
        (Some(_), Some(var)) => Some(from_env("supervisor-password-env", var)?),
        (Some(_), None) if creds.password_stdin => Some(stdin.line("--supervisor")?),
        (Some(_), None) => {
            return Err(Box::new(UsageError(
                "--supervisor: the password comes from --supervisor-password-env VAR or the second line of stdin with --password-stdin".into(),
            )));
        }
    };
    let (store, audit) = open_store(journal, store_args)?;
    if store.is_empty()? {
        return Err(Box::new(UsageError(format!(
            "no operators in {}: create the first admin with `smartpos operator add --role admin`",
            store_path(journal, store_args).display()
        ))));
    }
    let result = check(&store, id, &pw, supervisor, sup_pw, action);
    match result {
        Ok((session, prompt)) => Ok(SignedIn {
            store,
            audit,
            session,
            prompt,
        }),
        Err(e) => {
            // The refusal is part of the audit trail even though nothing else happens.
            flush_audit(journal, &audit)?;
            Err(e)
        }
    }
}

type Checked = (Session, Box<dyn CredentialPrompt>);

fn check(
    store: &OperatorStore,
    id: &str,
    pw: &str,
    supervisor: &SupervisorArgs,
    sup_pw: Option<Zeroizing<String>>,
    action: Option<Action>,
) -> Result<Checked, BoxError> {
    let session = store.sign_in(id, pw)?;
    if let (Some(sup), Some(sup_pw)) = (&supervisor.supervisor, sup_pw) {
        // The supervisor vouches for the action above the operator's role, or (for a sale)
        // for an amount over the supervisor threshold.
        let act = match action {
            Some(a) if session.role() < required_role(a) => a,
            _ => Action::LargeAmount,
        };
        store.authorise(sup, &sup_pw, act)?;
        let prompt = SupervisorPrompt::new(sup, sup_pw);
        return Ok((session, Box::new(prompt)));
    }
    if let Some(action) = action {
        let needs = required_role(action);
        if session.role() < needs {
            // Audited as a refusal; the error names the role needed.
            store.check_role(&session, needs, action)?;
        }
    }
    Ok((session, Box::new(NoPrompt)))
}

fn record_json(r: &smartpos_terminal::operator::OperatorRecord) -> serde_json::Value {
    json!({
        "id": r.id,
        "name": r.name,
        "role": role_str(r.role),
        "failed_attempts": r.failed_attempts,
        "locked": r.locked,
    })
}

fn role_str(r: Role) -> &'static str {
    match r {
        Role::Cashier => "cashier",
        Role::Supervisor => "supervisor",
        Role::Admin => "admin",
    }
}

/// An admin's session for an account change; refusals are audited.
fn admin_session(
    journal: &Path,
    store: &OperatorStore,
    audit: &MemoryAudit,
    by: &CredentialArgs,
    stdin: &mut Stdin,
) -> Result<Session, BoxError> {
    let id = operator_id(by)?;
    let pw = password(by, stdin)?;
    match store.sign_in(id, &pw) {
        Ok(s) => Ok(s),
        Err(e) => {
            flush_audit(journal, audit)?;
            Err(Box::new(e))
        }
    }
}

/// `smartpos operator ...`.
pub fn run(cmd: OperatorCmd) -> CliResult {
    match cmd {
        OperatorCmd::Add {
            files: OperatorFiles { journal, store },
            by,
            id,
            name,
            role,
            new_password_env,
            new_password_stdin,
        } => {
            let role = role_from_str(&role).map_err(|e| UsageError(format!("--role: {e}")))?;
            let (s, audit) = open_store(&journal, &store)?;
            let mut stdin = Stdin::new();
            let bootstrap = s.is_empty()?;
            let admin = if bootstrap {
                if role != Role::Admin {
                    return Err(Box::new(UsageError(
                        "the store is empty: the first operator must be an admin (--role admin)"
                            .into(),
                    )));
                }
                None
            } else {
                Some(admin_session(&journal, &s, &audit, &by, &mut stdin)?)
            };
            let new_pw = match (&new_password_env, new_password_stdin) {
                (Some(var), _) => from_env("new-password-env", var)?,
                (None, true) => stdin.line("--new-password-stdin")?,
                (None, false) => {
                    return Err(Box::new(UsageError(
                        "the new operator's password is needed: --new-password-env VAR or --new-password-stdin".into(),
                    )));
                }
            };
            let rec = match &admin {
                None => {
                    s.bootstrap_admin(&id, &name, &new_pw)?;
                    s.get(&id)?
                }
                Some(a) => match s.add_operator(a, &id, &name, role, &new_pw) {
                    Ok(r) => r,
                    Err(e) => {
                        flush_audit(&journal, &audit)?;
                        return Err(Box::new(e));
                    }
                },
            };
            flush_audit(&journal, &audit)?;
            let text = format!(
                "operator {} ({}) added as {}{}",
                rec.id,
                rec.name,
                role_str(rec.role),
                if bootstrap { " (first admin)" } else { "" }
            );
            let mut v = record_json(&rec);
            v["bootstrap"] = json!(bootstrap);
            Ok(Report::with_text(v, text))
        }
        OperatorCmd::List {
            files: OperatorFiles { journal, store },
        } => {
            let (s, _) = open_store(&journal, &store)?;
            let list = s.list()?;
            let mut text = String::new();
            for r in &list {
                text.push_str(&format!(
                    "{:<12} {:<10} {:<20} failed {}{}\n",
                    r.id,
                    role_str(r.role),
                    r.name,
                    r.failed_attempts,
                    if r.locked { " LOCKED" } else { "" }
                ));
            }
            Ok(Report::with_text(
                json!({
                    "operators": list.iter().map(record_json).collect::<Vec<_>>(),
                    "count": list.len(),
                }),
                text.trim_end().to_string(),
            ))
        }
        OperatorCmd::Unlock {
            files: OperatorFiles { journal, store },
            by,
            id,
        } => {
            let (s, audit) = open_store(&journal, &store)?;
            let mut stdin = Stdin::new();
            let admin = admin_session(&journal, &s, &audit, &by, &mut stdin)?;
            let done = s.unlock(&admin, &id);
            flush_audit(&journal, &audit)?;
            done?;
            let rec = s.get(&id)?;
            Ok(Report::with_text(
                record_json(&rec),
                format!("operator {} unlocked", rec.id),
            ))
        }
    }
}

/// The `--json` error object and exit code of an operator refusal (exit 3: not authorised).
pub fn error_info(e: &OperatorError) -> (&'static str, i32, serde_json::Value) {
    match e {
        OperatorError::UnknownOperator { id } => ("unknown_operator", 3, json!({ "operator": id })),
        OperatorError::WrongPassword { id, attempts_left } => (
            "wrong_password",
            3,
            json!({ "operator": id, "attempts_left": attempts_left }),
        ),
        OperatorError::Locked { id } => ("operator_locked", 3, json!({ "operator": id })),
        OperatorError::RoleTooLow { id, has, needs } => (
            "role_too_low",
            3,
            json!({ "operator": id, "has": role_str(*has), "needs": role_str(*needs) }),
        ),
        OperatorError::InvalidField { field, .. } => {
            ("invalid_field", 2, json!({ "field": field }))
        }
        OperatorError::AlreadyExists { id } => ("operator_exists", 1, json!({ "operator": id })),
        OperatorError::NotEmpty => ("operators_exist", 1, json!({})),
        OperatorError::LastAdmin { id } => ("last_admin", 1, json!({ "operator": id })),
        OperatorError::Storage(_) | OperatorError::Hash(_) | OperatorError::Audit(_) => {
            ("operator_store", 1, json!({}))
        }
    }
}
