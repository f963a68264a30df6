//! Operators (cashier, supervisor, admin): accounts, sign-in, lock-out and the
//! [`Authoriser`](crate::roles::Authoriser) the terminal asks before a void, refund, settlement or
//! key loading.
//!
//! Storage: the accounts live in their own small SQLite file (conventionally `operators.db` next to
//! the journal), never in the journal's file: the journal is a financial record, the operator table
//! is configuration. Passwords are stored only as argon2id PHC strings (RFC 9106, the `argon2`
//! crate; salt 16 random bytes; OWASP parameters m = 19 MiB, t = 2, p = 1 by default). After
//! [`OperatorPolicy::max_failed_attempts`] wrong passwords in a row the account is locked until an
//! admin unlocks it. Every sign-in, refusal, grant, lock and account change is written to the
//! journal's audit log through [`AuditLog`] (PCI DSS v4 §10.2.1: individual user access and
//! actions), so the audit trail of operators and payments is one.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::json;
use zeroize::Zeroizing;

use crate::roles::{Action, AuthError, Authoriser, OperatorId, Role};

/// Why an operator call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperatorError {
    /// The operator file cannot be opened, read or written.
    #[error("operator store: {0}")]
    Storage(String),
    /// No operator with this id.
    #[error("unknown operator `{id}`")]
    UnknownOperator {
        /// The id given.
        id: String,
    },
    /// Wrong password; `attempts_left` before the account locks.
    #[error("wrong password for operator `{id}` ({attempts_left} attempts left)")]
    WrongPassword {
        /// The operator.
        id: String,
        /// Attempts left before lock-out.
        attempts_left: u32,
    },
    /// Locked after too many wrong passwords: an admin must unlock.
    #[error("operator `{id}` is locked: an admin must unlock it")]
    Locked {
        /// The operator.
        id: String,
    },
    /// The operator's role is too low for the action.
    #[error("operator `{id}` is {has:?}, {needs:?} needed")]
    RoleTooLow {
        /// The operator.
        id: String,
        /// Role held.
        has: Role,
        /// Role needed.
        needs: Role,
    },
    /// A field of the request is not acceptable.
    #[error("{field}: {reason}")]
    InvalidField {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// An operator with this id exists already.
    #[error("operator `{id}` exists already")]
    AlreadyExists {
        /// The id.
        id: String,
    },
    /// Bootstrap of the first admin refused: operators exist already.
    #[error("operators exist already: the first admin can only be created in an empty store")]
    NotEmpty,
    /// Removing, demoting or locking out the last admin is refused.
    #[error("`{id}` is the last admin")]
    LastAdmin {
        /// The id.
        id: String,
    },
    /// The stored hash is unreadable or hashing failed.
    #[error("password hash: {0}")]
    Hash(String),
    /// The audit log refused the entry; the action was not done.
    #[error("audit log: {0}")]
    Audit(String),
}

impl From<rusqlite::Error> for OperatorError {
    fn from(e: rusqlite::Error) -> Self {
        OperatorError::Storage(e.to_string())
    }
}

/// Where operator actions are audited (the journal's audit log, PCI DSS v4 §10.2).
pub trait AuditLog: Send {
    /// Append one entry; an error means the entry was not written.
    fn record(
        &mut self,
        operator_id: &str,
        action: &str,
        details: &serde_json::Value,
    ) -> Result<(), String>;
}

impl AuditLog for smartpos_journal::Journal {
    fn record(
        &mut self,
        operator_id: &str,
        action: &str,
        details: &serde_json::Value,
    ) -> Result<(), String> {
        self.record_audit(operator_id, action, None, details)
            .map_err(|e| e.to_string())
    }
}

impl<T: AuditLog> AuditLog for Arc<Mutex<T>> {
    fn record(
        &mut self,
        operator_id: &str,
        action: &str,
        details: &serde_json::Value,
    ) -> Result<(), String> {
        let mut inner = self
            .lock()
            .map_err(|_| "audit log lock poisoned".to_string())?;
        inner.record(operator_id, action, details)
    }
}

/// One audit entry held in memory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PendingAudit {
    /// Operator (or the id that tried to sign in).
    pub operator_id: String,
    /// Action, e.g. `operator.sign_in`.
    pub action: String,
    /// Details.
    pub details: serde_json::Value,
}

/// An audit log in memory, for when the journal is owned elsewhere: entries are kept until
/// [`MemoryAudit::drain_into`] writes them to the journal. Clones share the entries.
#[derive(Debug, Clone, Default)]
pub struct MemoryAudit(Arc<Mutex<Vec<PendingAudit>>>);

impl MemoryAudit {
    /// Empty.
    pub fn new() -> MemoryAudit {
        MemoryAudit::default()
    }
    /// A copy of the entries so far.
    pub fn entries(&self) -> Vec<PendingAudit> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
    /// Write every pending entry to `journal`'s audit log, oldest first; entries written are
    /// removed, the first failure stops and leaves the rest pending.
    pub fn drain_into(
        &self,
        journal: &mut smartpos_journal::Journal,
    ) -> Result<usize, smartpos_journal::JournalError> {
        let Ok(mut v) = self.0.lock() else {
            return Ok(0);
        };
        let mut written = 0;
        while let Some(first) = v.first() {
            journal.record_audit(&first.operator_id, &first.action, None, &first.details)?;
            v.remove(0);
            written += 1;
        }
        Ok(written)
    }
}

impl AuditLog for MemoryAudit {
    fn record(
        &mut self,
        operator_id: &str,
        action: &str,
        details: &serde_json::Value,
    ) -> Result<(), String> {
        let mut v = self
            .0
            .lock()
            .map_err(|_| "audit log lock poisoned".to_string())?;
        v.push(PendingAudit {
            operator_id: operator_id.to_string(),
            action: action.to_string(),
            details: details.clone(),
        });
        Ok(())
    }
}

/// Lock-out and hashing policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperatorPolicy {
    /// Wrong passwords in a row before the account locks (default 5).
    pub max_failed_attempts: u32,
    /// Minimum password length (default 6: POS terminals use numeric operator passwords).
    pub min_password_len: usize,
    /// argon2id memory cost in KiB (default 19456, RFC 9106 / OWASP).
    pub argon2_memory_kib: u32,
    /// argon2id iterations (default 2).
    pub argon2_iterations: u32,
}

impl Default for OperatorPolicy {
    fn default() -> Self {
        OperatorPolicy {
            max_failed_attempts: 5,
            min_password_len: 6,
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
        }
    }
}

/// The role an action needs: sales by any cashier; void, refund, settlement, large amounts and
/// key loading by a supervisor (or an admin, who is above a supervisor).
pub fn required_role(action: Action) -> Role {
    match action {
        Action::Sale => Role::Cashier,
        Action::Void
        | Action::Refund
        | Action::Settlement
        | Action::LargeAmount
        | Action::KeyLoading => Role::Supervisor,
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Cashier => "cashier",
        Role::Supervisor => "supervisor",
        Role::Admin => "admin",
    }
}

fn parse_role(s: &str) -> Result<Role, OperatorError> {
    match s {
        "cashier" => Ok(Role::Cashier),
        "supervisor" => Ok(Role::Supervisor),
        "admin" => Ok(Role::Admin),
        other => Err(OperatorError::Storage(format!(
            "stored role `{other}` is not cashier, supervisor or admin"
        ))),
    }
}

/// Parse a role name given by a caller.
pub fn role_from_str(s: &str) -> Result<Role, OperatorError> {
    parse_role(s).map_err(|_| OperatorError::InvalidField {
        field: "role",
        reason: format!("`{s}` is not cashier, supervisor or admin"),
    })
}

/// An operator account as listed (never the hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperatorRecord {
    /// Id (what the journal records as `operator_id`).
    pub id: String,
    /// Display name (printed on receipts).
    pub name: String,
    /// Role.
    pub role: Role,
    /// Wrong passwords in a row.
    pub failed_attempts: u32,
    /// Locked out.
    pub locked: bool,
}

/// A signed-in operator. Only [`OperatorStore::sign_in`] makes one, so holding a session proves
/// the password was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    id: String,
    name: String,
    role: Role,
}

impl Session {
    /// Operator id.
    pub fn operator_id(&self) -> &str {
        &self.id
    }
    /// Display name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Role.
    pub fn role(&self) -> Role {
        self.role
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS operators (
    id              TEXT PRIMARY KEY NOT NULL CHECK (length(id) BETWEEN 1 AND 32),
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('cashier','supervisor','admin')),
    password_phc    TEXT NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked          INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0,1))
);
PRAGMA user_version = 1;
";

/// The operator accounts (their own SQLite file) and the audit log they report to.
pub struct OperatorStore {
    conn: Mutex<Connection>,
    policy: OperatorPolicy,
    audit: Mutex<Box<dyn AuditLog>>,
}

impl std::fmt::Debug for OperatorStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorStore")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

fn check_id(id: &str) -> Result<(), OperatorError> {
    if id.is_empty() || id.len() > 32 {
        return Err(OperatorError::InvalidField {
            field: "operator id",
            reason: format!("length {}, expected 1 to 32", id.len()),
        });
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
    {
        return Err(OperatorError::InvalidField {
            field: "operator id",
            reason: "only letters, digits, '_', '-' and '.' are allowed".into(),
        });
    }
    Ok(())
}

impl OperatorStore {
    /// Open (or create) the operator file at `path`.
    pub fn open(
        path: impl AsRef<Path>,
        policy: OperatorPolicy,
        audit: Box<dyn AuditLog>,
    ) -> Result<OperatorStore, OperatorError> {
        let conn = Connection::open(path)?;
        Self::with_connection(conn, policy, audit)
    }

    /// An operator store in memory (tests, demo).
    pub fn open_in_memory(
        policy: OperatorPolicy,
        audit: Box<dyn AuditLog>,
    ) -> Result<OperatorStore, OperatorError> {
        Self::with_connection(Connection::open_in_memory()?, policy, audit)
    }

    fn with_connection(
        conn: Connection,
        policy: OperatorPolicy,
        audit: Box<dyn AuditLog>,
    ) -> Result<OperatorStore, OperatorError> {
        if policy.max_failed_attempts == 0 {
            return Err(OperatorError::InvalidField {
                field: "max_failed_attempts",
                reason: "must be at least 1".into(),
            });
        }
        conn.pragma_update(None, "secure_delete", true)?;
        conn.execute_batch(SCHEMA)?;
        Ok(OperatorStore {
            conn: Mutex::new(conn),
            policy,
            audit: Mutex::new(audit),
        })
    }

    /// Send audit entries to `audit` from now on (e.g. the terminal's journal once it is open);
    /// returns the previous log (drain a [`MemoryAudit`] into the journal).
    pub fn set_audit(&self, audit: Box<dyn AuditLog>) -> Result<Box<dyn AuditLog>, OperatorError> {
        let mut a = self
            .audit
            .lock()
            .map_err(|_| OperatorError::Audit("audit lock poisoned".into()))?;
        Ok(std::mem::replace(&mut *a, audit))
    }

    /// The policy in force.
    pub fn policy(&self) -> OperatorPolicy {
        self.policy
    }

    fn conn(&self) -> Result<MutexGuard<'_, Connection>, OperatorError> {
        self.conn
            .lock()
            .map_err(|_| OperatorError::Storage("operator store lock poisoned".into()))
    }

    fn audit(
        &self,
        operator: &str,
        action: &str,
        details: serde_json::Value,
    ) -> Result<(), OperatorError> {
        let mut a = self
            .audit
            .lock()
            .map_err(|_| OperatorError::Audit("audit lock poisoned".into()))?;
        a.record(operator, action, &details)
            .map_err(OperatorError::Audit)
    }

    fn hash(&self, password: &str) -> Result<String, OperatorError> {
        if password.chars().count() < self.policy.min_password_len {
            return Err(OperatorError::InvalidField {
                field: "password",
                reason: format!("shorter than {} characters", self.policy.min_password_len),
            });
        }
        let params = Params::new(
            self.policy.argon2_memory_kib,
            self.policy.argon2_iterations,
            1,
            None,
        )
        .map_err(|e| OperatorError::Hash(e.to_string()))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = SaltString::generate(&mut OsRng);
        argon
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| OperatorError::Hash(e.to_string()))
    }

    fn load(&self, conn: &Connection, id: &str) -> Result<(OperatorRecord, String), OperatorError> {
        let row = conn
            .query_row(
                "SELECT id, name, role, failed_attempts, locked, password_phc FROM operators WHERE id = ?1",
                params![id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, u32>(3)?,
                        r.get::<_, bool>(4)?,
                        r.get::<_, String>(5)?,
                    ))
                },
            )
            .optional()?;
        let Some((id, name, role, failed_attempts, locked, phc)) = row else {
            return Err(OperatorError::UnknownOperator { id: id.to_string() });
        };
        Ok((
            OperatorRecord {
                id,
                name,
                role: parse_role(&role)?,
                failed_attempts,
                locked,
            },
            phc,
        ))
    }

    /// Whether no operator exists yet (first start: create the admin).
    pub fn is_empty(&self) -> Result<bool, OperatorError> {
        let conn = self.conn()?;
        let n: i64 = conn.query_row("SELECT count(*) FROM operators", [], |r| r.get(0))?;
        Ok(n == 0)
    }

    /// Create the first admin of an empty store (first start of the terminal).
    pub fn bootstrap_admin(
        &self,
        id: &str,
        name: &str,
        password: &str,
    ) -> Result<(), OperatorError> {
        check_id(id)?;
        if !self.is_empty()? {
            return Err(OperatorError::NotEmpty);
        }
        let phc = self.hash(password)?;
        self.audit(id, "operator.bootstrap_admin", json!({ "id": id }))?;
        let conn = self.conn()?;
        conn.execute(
            "INSERT INTO operators (id, name, role, password_phc) VALUES (?1, ?2, 'admin', ?3)",
            params![id, name, phc],
        )?;
        Ok(())
    }

    fn require_admin(&self, by: &Session, what: &str) -> Result<(), OperatorError> {
        if by.role < Role::Admin {
            self.audit(
                &by.id,
                "operator.refused",
                json!({ "action": what, "role": role_name(by.role) }),
            )?;
            return Err(OperatorError::RoleTooLow {
                id: by.id.clone(),
                has: by.role,
                needs: Role::Admin,
            });
        }
        Ok(())
    }

    /// Add an operator (admin only).
    pub fn add_operator(
        &self,
        by: &Session,
        id: &str,
        name: &str,
        role: Role,
        password: &str,
    ) -> Result<OperatorRecord, OperatorError> {
        self.require_admin(by, "operator.add")?;
        check_id(id)?;
        if name.chars().count() > 32 {
            return Err(OperatorError::InvalidField {
                field: "name",
                reason: "longer than 32 characters".into(),
            });
        }
        let phc = self.hash(password)?;
        {
            let conn = self.conn()?;
            let exists: i64 = conn.query_row(
                "SELECT count(*) FROM operators WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )?;
            if exists > 0 {
                return Err(OperatorError::AlreadyExists { id: id.to_string() });
            }
        }
        self.audit(
            &by.id,
            "operator.add",
            json!({ "id": id, "role": role_name(role) }),
        )?;
        let conn = self.conn()?;
        conn.execute(
            "INSERT INTO operators (id, name, role, password_phc) VALUES (?1, ?2, ?3, ?4)",
            params![id, name, role_name(role), phc],
        )?;
        Ok(OperatorRecord {
            id: id.to_string(),
            name: name.to_string(),
            role,
            failed_attempts: 0,
            locked: false,
        })
    }

    /// One operator.
    pub fn get(&self, id: &str) -> Result<OperatorRecord, OperatorError> {
        let conn = self.conn()?;
        self.load(&conn, id).map(|(r, _)| r)
    }

    /// Every operator, by id.
    pub fn list(&self) -> Result<Vec<OperatorRecord>, OperatorError> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare("SELECT id, name, role, failed_attempts, locked FROM operators ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, u32>(3)?,
                r.get::<_, bool>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, name, role, failed_attempts, locked) = row?;
            out.push(OperatorRecord {
                id,
                name,
                role: parse_role(&role)?,
                failed_attempts,
                locked,
            });
        }
        Ok(out)
    }

    /// Check `id`'s password: counts failures, locks at the policy's limit, resets the count on
    /// success. Every outcome is audited.
    fn verify(&self, id: &str, password: &str) -> Result<OperatorRecord, OperatorError> {
        check_id(id)?;
        let conn = self.conn()?;
        let (rec, phc) = match self.load(&conn, id) {
            Ok(x) => x,
            Err(e @ OperatorError::UnknownOperator { .. }) => {
                drop(conn);
                self.audit(
                    id,
                    "operator.sign_in_failed",
                    json!({ "reason": "unknown operator" }),
                )?;
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        if rec.locked {
            drop(conn);
            self.audit(id, "operator.sign_in_failed", json!({ "reason": "locked" }))?;
            return Err(OperatorError::Locked { id: id.to_string() });
        }
        let parsed = PasswordHash::new(&phc).map_err(|e| OperatorError::Hash(e.to_string()))?;
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        if ok {
            conn.execute(
                "UPDATE operators SET failed_attempts = 0 WHERE id = ?1",
                params![id],
            )?;
            drop(conn);
            self.audit(
                id,
                "operator.sign_in",
                json!({ "role": role_name(rec.role) }),
            )?;
            return Ok(OperatorRecord {
                failed_attempts: 0,
                ..rec
            });
        }
        let failed = rec.failed_attempts.saturating_add(1);
        let lock = failed >= self.policy.max_failed_attempts;
        conn.execute(
            "UPDATE operators SET failed_attempts = ?2, locked = ?3 WHERE id = ?1",
            params![id, failed, lock],
        )?;
        drop(conn);
        self.audit(
            id,
            "operator.sign_in_failed",
            json!({ "reason": "wrong password", "failed_attempts": failed }),
        )?;
        if lock {
            self.audit(id, "operator.locked", json!({ "failed_attempts": failed }))?;
            return Err(OperatorError::Locked { id: id.to_string() });
        }
        Err(OperatorError::WrongPassword {
            id: id.to_string(),
            attempts_left: self.policy.max_failed_attempts - failed,
        })
    }

    /// Sign in: the password is checked (argon2id) and a [`Session`] returned.
    pub fn sign_in(&self, id: &str, password: &str) -> Result<Session, OperatorError> {
        let rec = self.verify(id, password)?;
        Ok(Session {
            id: rec.id,
            name: rec.name,
            role: rec.role,
        })
    }

    /// Check `id`/`password` and that the operator may do `action` (the supervisor prompt).
    pub fn authorise(
        &self,
        id: &str,
        password: &str,
        action: Action,
    ) -> Result<Session, OperatorError> {
        let session = self.sign_in(id, password)?;
        self.check_role(&session, required_role(action), action)?;
        Ok(session)
    }

    /// Whether `session` may do `action` needing `role`; audits the grant or the refusal.
    pub fn check_role(
        &self,
        session: &Session,
        role: Role,
        action: Action,
    ) -> Result<(), OperatorError> {
        let action_name = serde_json::to_value(action).unwrap_or_default();
        if session.role < role {
            self.audit(
                &session.id,
                "auth.refused",
                json!({ "action": action_name, "needs": role_name(role), "has": role_name(session.role) }),
            )?;
            return Err(OperatorError::RoleTooLow {
                id: session.id.clone(),
                has: session.role,
                needs: role,
            });
        }
        self.audit(
            &session.id,
            "auth.granted",
            json!({ "action": action_name, "needs": role_name(role) }),
        )
    }

    /// Unlock a locked operator (admin only); the failure count starts again.
    pub fn unlock(&self, by: &Session, id: &str) -> Result<(), OperatorError> {
        self.require_admin(by, "operator.unlock")?;
        check_id(id)?;
        {
            let conn = self.conn()?;
            self.load(&conn, id)?;
        }
        self.audit(&by.id, "operator.unlock", json!({ "id": id }))?;
        let conn = self.conn()?;
        conn.execute(
            "UPDATE operators SET locked = 0, failed_attempts = 0 WHERE id = ?1",
            params![id],
        )?;
        Ok(())
    }

    /// Change one's own password (the old one is checked like a sign-in).
    pub fn change_password(&self, id: &str, old: &str, new: &str) -> Result<(), OperatorError> {
        let session = self.sign_in(id, old)?;
        let phc = self.hash(new)?;
        self.audit(&session.id, "operator.change_password", json!({}))?;
        let conn = self.conn()?;
        conn.execute(
            "UPDATE operators SET password_phc = ?2 WHERE id = ?1",
            params![id, phc],
        )?;
        Ok(())
    }

    /// Set another operator's password (admin only); also unlocks.
    pub fn reset_password(&self, by: &Session, id: &str, new: &str) -> Result<(), OperatorError> {
        self.require_admin(by, "operator.reset_password")?;
        check_id(id)?;
        {
            let conn = self.conn()?;
            self.load(&conn, id)?;
        }
        let phc = self.hash(new)?;
        self.audit(&by.id, "operator.reset_password", json!({ "id": id }))?;
        let conn = self.conn()?;
        conn.execute(
            "UPDATE operators SET password_phc = ?2, locked = 0, failed_attempts = 0 WHERE id = ?1",
            params![id, phc],
        )?;
        Ok(())
    }

    /// Remove an operator (admin only); the last admin cannot be removed.
    pub fn remove(&self, by: &Session, id: &str) -> Result<(), OperatorError> {
        self.require_admin(by, "operator.remove")?;
        check_id(id)?;
        {
            let conn = self.conn()?;
            let (rec, _) = self.load(&conn, id)?;
            if rec.role == Role::Admin {
                let admins: i64 = conn.query_row(
                    "SELECT count(*) FROM operators WHERE role = 'admin'",
                    [],
                    |r| r.get(0),
                )?;
                if admins <= 1 {
                    return Err(OperatorError::LastAdmin { id: id.to_string() });
                }
            }
        }
        self.audit(&by.id, "operator.remove", json!({ "id": id }))?;
        let conn = self.conn()?;
        conn.execute("DELETE FROM operators WHERE id = ?1", params![id])?;
        Ok(())
    }
}

/// Credentials typed at the "supervisor password" prompt. `Debug` hides the password.
pub struct Credentials {
    /// Operator id.
    pub id: String,
    /// Password (zeroized on drop).
    pub password: Zeroizing<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, <password hidden>)", self.id)
    }
}

/// Asks someone with a higher role to type their credentials (the app's dialog).
pub trait CredentialPrompt: Send {
    /// `None` when the prompt was cancelled.
    fn ask(&mut self, role: Role, action: Action) -> Option<Credentials>;
}

/// Never answers (a cashier alone at the till: escalation is refused).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoPrompt;

impl CredentialPrompt for NoPrompt {
    fn ask(&mut self, _role: Role, _action: Action) -> Option<Credentials> {
        None
    }
}

/// The signed-in operator at the terminal, as the terminal's [`Authoriser`]: actions within the
/// operator's role are granted at once; above it the [`CredentialPrompt`] asks for a supervisor
/// (or admin), whose password is checked against the store. Every grant and refusal is audited.
pub struct OperatorSession {
    store: Arc<OperatorStore>,
    session: Session,
    prompt: Mutex<Box<dyn CredentialPrompt>>,
}

impl std::fmt::Debug for OperatorSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorSession")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

impl OperatorSession {
    /// The session of a signed-in operator, escalating through `prompt`.
    pub fn new(
        store: Arc<OperatorStore>,
        session: Session,
        prompt: Box<dyn CredentialPrompt>,
    ) -> OperatorSession {
        OperatorSession {
            store,
            session,
            prompt: Mutex::new(prompt),
        }
    }

    /// The signed-in operator.
    pub fn session(&self) -> &Session {
        &self.session
    }
}

fn to_auth_error(e: OperatorError, role: Role, action: Action) -> AuthError {
    match e {
        OperatorError::Locked { .. } => AuthError::Locked,
        other => AuthError::Refused {
            role,
            action,
            reason: other.to_string(),
        },
    }
}

impl Authoriser for OperatorSession {
    fn require(&self, role: Role, action: Action) -> Result<OperatorId, AuthError> {
        if self.session.role >= role {
            self.store
                .check_role(&self.session, role, action)
                .map_err(|e| to_auth_error(e, role, action))?;
            return Ok(OperatorId(self.session.id.clone()));
        }
        let creds = {
            let mut p = self.prompt.lock().map_err(|_| AuthError::Cancelled)?;
            p.ask(role, action)
        };
        let Some(creds) = creds else {
            // Best effort: the refusal itself is the answer even if the audit fails.
            let _ = self.store.audit(
                &self.session.id,
                "auth.cancelled",
                json!({ "action": serde_json::to_value(action).unwrap_or_default() }),
            );
            return Err(AuthError::Cancelled);
        };
        let supervisor = self
            .store
            .sign_in(&creds.id, &creds.password)
            .map_err(|e| to_auth_error(e, role, action))?;
        self.store
            .check_role(&supervisor, role, action)
            .map_err(|e| to_auth_error(e, role, action))?;
        Ok(OperatorId(supervisor.id))
    }
}
