//! Operators and the supervisor check: smartpos-terminal's operator store (argon2id password
//! hashes, lock-out after too many wrong passwords, every grant and refusal audited; PCI DSS v4
//! §8.3.4 lock-out, §10.2.1 audit) behind [`PosOperators`], and the terminal's `Authoriser`
//! implemented over the app's [`SupervisorCallback`]: before a void, refund, settlement, large
//! amount or key loading the app asks a supervisor (or admin) for their id and password, which
//! are checked against the store.
//!
//! Passwords cross the FFI as bytes (UTF-8) and are moved into zeroizing buffers at once; the
//! app must clear its `ByteArray` after the call.

use std::sync::{Arc, Mutex};

use smartpos_terminal::operator::{
    MemoryAudit, OperatorError, OperatorPolicy, OperatorRecord, OperatorStore, Session,
};
use smartpos_terminal::{Action, AuthError, Authoriser, OperatorId, Role};
use zeroize::Zeroizing;

use crate::error::SmartPosError;

/// An operator's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PosRole {
    /// Takes sales.
    Cashier,
    /// Voids, refunds, settlement, large amounts.
    Supervisor,
    /// Key loading, operator accounts.
    Admin,
}

impl From<Role> for PosRole {
    fn from(r: Role) -> Self {
        match r {
            Role::Cashier => PosRole::Cashier,
            Role::Supervisor => PosRole::Supervisor,
            Role::Admin => PosRole::Admin,
        }
    }
}

impl From<PosRole> for Role {
    fn from(r: PosRole) -> Self {
        match r {
            PosRole::Cashier => Role::Cashier,
            PosRole::Supervisor => Role::Supervisor,
            PosRole::Admin => Role::Admin,
        }
    }
}

/// What the supervisor is asked to approve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PosAction {
    /// A sale.
    Sale,
    /// Void of a sale.
    Void,
    /// A refund.
    Refund,
    /// Settlement (batch close).
    Settlement,
    /// Loading a terminal master key.
    KeyLoading,
    /// An amount over the supervisor threshold.
    LargeAmount,
}

impl From<Action> for PosAction {
    fn from(a: Action) -> Self {
        match a {
            Action::Sale => PosAction::Sale,
            Action::Void => PosAction::Void,
            Action::Refund => PosAction::Refund,
            Action::Settlement => PosAction::Settlement,
            Action::KeyLoading => PosAction::KeyLoading,
            Action::LargeAmount => PosAction::LargeAmount,
        }
    }
}

/// An operator account as listed (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PosOperator {
    /// Operator id (recorded in the journal).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: PosRole,
    /// Wrong passwords in a row.
    pub failed_attempts: u32,
    /// Locked out until an admin unlocks.
    pub locked: bool,
}

impl From<OperatorRecord> for PosOperator {
    fn from(r: OperatorRecord) -> Self {
        PosOperator {
            id: r.id,
            name: r.name,
            role: r.role.into(),
            failed_attempts: r.failed_attempts,
            locked: r.locked,
        }
    }
}

/// What the supervisor typed. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct PosCredentials {
    /// Operator id.
    pub operator_id: String,
    /// Password, UTF-8 bytes; zeroized by Rust on arrival. Clear the app's array after the call.
    pub password: Vec<u8>,
}

impl std::fmt::Debug for PosCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PosCredentials({}, <password hidden>)", self.operator_id)
    }
}

/// The app's supervisor prompt: a dialog asking an operator of at least `role` to approve
/// `action` with their id and password. Called on the thread running the transaction.
#[uniffi::export(callback_interface)]
pub trait SupervisorCallback: Send + Sync {
    /// The credentials typed, or `None` when the dialog was cancelled.
    fn credentials(
        &self,
        role: PosRole,
        action: PosAction,
    ) -> Result<Option<PosCredentials>, SmartPosError>;
}

pub(crate) fn operator_error(e: OperatorError) -> SmartPosError {
    match e {
        e @ OperatorError::Locked { .. } => SmartPosError::OperatorLocked {
            reason: e.to_string(),
        },
        OperatorError::InvalidField { field, reason } => SmartPosError::InvalidInput {
            field: field.to_string(),
            reason,
        },
        OperatorError::Storage(reason) => SmartPosError::InvalidConfiguration {
            what: "operator store".into(),
            reason,
        },
        other => SmartPosError::NotAuthorised {
            reason: other.to_string(),
        },
    }
}

/// A password from the app's bytes, zeroized whatever happens.
fn password(bytes: Vec<u8>) -> Result<Zeroizing<String>, SmartPosError> {
    let bytes = Zeroizing::new(bytes);
    std::str::from_utf8(&bytes)
        .map(|s| Zeroizing::new(s.to_string()))
        .map_err(|_| SmartPosError::InvalidInput {
            field: "password".into(),
            reason: "not UTF-8".into(),
        })
}

/// The operator accounts of the terminal: their own SQLite file (conventionally `operators.db`
/// next to the journal). Audit entries are kept in memory until a [`crate::PosTerminal`] opens
/// with this store, then written to its journal's audit log.
#[derive(uniffi::Object)]
pub struct PosOperators {
    pub(crate) store: Arc<OperatorStore>,
    pub(crate) pending_audit: Mutex<Option<MemoryAudit>>,
}

impl std::fmt::Debug for PosOperators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PosOperators")
    }
}

impl PosOperators {
    fn admin(&self, admin_id: &str, admin_password: Vec<u8>) -> Result<Session, SmartPosError> {
        let pw = password(admin_password)?;
        self.store.sign_in(admin_id, &pw).map_err(operator_error)
    }
}

/// Lock-out and hashing policy of the operator store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct PosOperatorPolicy {
    /// Wrong passwords in a row before the account locks (at least 1).
    pub max_failed_attempts: u32,
    /// Minimum password length.
    pub min_password_len: u32,
    /// argon2id memory cost, KiB (RFC 9106 §4 second recommendation / OWASP: 19456).
    pub argon2_memory_kib: u32,
    /// argon2id iterations (OWASP: 2).
    pub argon2_iterations: u32,
}

impl From<PosOperatorPolicy> for OperatorPolicy {
    fn from(p: PosOperatorPolicy) -> Self {
        OperatorPolicy {
            max_failed_attempts: p.max_failed_attempts,
            min_password_len: usize::try_from(p.min_password_len).unwrap_or(usize::MAX),
            argon2_memory_kib: p.argon2_memory_kib,
            argon2_iterations: p.argon2_iterations,
        }
    }
}

#[uniffi::export]
impl PosOperators {
    /// Open (or create) the operator file at `path`; an account locks after
    /// `max_failed_attempts` wrong passwords in a row (at least 1); argon2id with m = 19 MiB,
    /// t = 2, passwords of at least 6 characters.
    #[uniffi::constructor]
    pub fn open(path: String, max_failed_attempts: u32) -> Result<Arc<Self>, SmartPosError> {
        let d = OperatorPolicy::default();
        Self::open_with_policy(
            path,
            PosOperatorPolicy {
                max_failed_attempts,
                min_password_len: u32::try_from(d.min_password_len).unwrap_or(u32::MAX),
                argon2_memory_kib: d.argon2_memory_kib,
                argon2_iterations: d.argon2_iterations,
            },
        )
    }

    /// [`PosOperators::open`] with the whole policy (a lighter argon2 cost for tests).
    #[uniffi::constructor]
    pub fn open_with_policy(
        path: String,
        policy: PosOperatorPolicy,
    ) -> Result<Arc<Self>, SmartPosError> {
        let audit = MemoryAudit::new();
        let policy = OperatorPolicy::from(policy);
        let store =
            OperatorStore::open(&path, policy, Box::new(audit.clone())).map_err(operator_error)?;
        Ok(Arc::new(PosOperators {
            store: Arc::new(store),
            pending_audit: Mutex::new(Some(audit)),
        }))
    }

    /// Whether no operator exists yet (first start: create the admin).
    pub fn is_empty(&self) -> Result<bool, SmartPosError> {
        self.store.is_empty().map_err(operator_error)
    }

    /// Create the first admin of an empty store.
    pub fn bootstrap_admin(
        &self,
        id: String,
        name: String,
        password: Vec<u8>,
    ) -> Result<(), SmartPosError> {
        let pw = self::password(password)?;
        self.store
            .bootstrap_admin(&id, &name, &pw)
            .map_err(operator_error)
    }

    /// Add an operator; `admin_id`/`admin_password` are checked first (admin role needed).
    pub fn add_operator(
        &self,
        admin_id: String,
        admin_password: Vec<u8>,
        id: String,
        name: String,
        role: PosRole,
        password: Vec<u8>,
    ) -> Result<PosOperator, SmartPosError> {
        let by = self.admin(&admin_id, admin_password)?;
        let pw = self::password(password)?;
        self.store
            .add_operator(&by, &id, &name, role.into(), &pw)
            .map(PosOperator::from)
            .map_err(operator_error)
    }

    /// Unlock a locked operator (admin credentials checked first).
    pub fn unlock(
        &self,
        admin_id: String,
        admin_password: Vec<u8>,
        id: String,
    ) -> Result<(), SmartPosError> {
        let by = self.admin(&admin_id, admin_password)?;
        self.store.unlock(&by, &id).map_err(operator_error)
    }

    /// One operator's account.
    pub fn operator(&self, id: String) -> Result<PosOperator, SmartPosError> {
        self.store
            .get(&id)
            .map(PosOperator::from)
            .map_err(operator_error)
    }
}

/// The terminal's `Authoriser` over the app's supervisor prompt: the credentials are checked
/// against the operator store (argon2id, lock-out) and the role against the action.
pub(crate) struct SupervisorAuthoriser {
    pub(crate) store: Arc<OperatorStore>,
    pub(crate) prompt: Box<dyn SupervisorCallback>,
}

impl Authoriser for SupervisorAuthoriser {
    fn require(&self, role: Role, action: Action) -> Result<OperatorId, AuthError> {
        let refused = |reason: String| AuthError::Refused {
            role,
            action,
            reason,
        };
        let creds = self
            .prompt
            .credentials(role.into(), action.into())
            .map_err(|e| refused(format!("supervisor prompt failed: {e}")))?;
        let Some(creds) = creds else {
            return Err(AuthError::Cancelled);
        };
        let PosCredentials {
            operator_id,
            password: bytes,
        } = creds;
        let pw = password(bytes).map_err(|e| refused(e.to_string()))?;
        let session = self.store.sign_in(&operator_id, &pw).map_err(|e| match e {
            OperatorError::Locked { .. } => AuthError::Locked,
            other => refused(other.to_string()),
        })?;
        self.store
            .check_role(&session, role, action)
            .map_err(|e| refused(e.to_string()))?;
        Ok(OperatorId(session.operator_id().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(tag: &str, max_failed_attempts: u32) -> Arc<PosOperators> {
        let path = std::env::temp_dir().join(format!(
            "smartpos-ffi-operators-{tag}-{}.db",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        let ops = PosOperators::open_with_policy(
            path.display().to_string(),
            PosOperatorPolicy {
                max_failed_attempts,
                min_password_len: 6,
                argon2_memory_kib: 256,
                argon2_iterations: 1,
            },
        )
        .expect("operator store");
        ops.bootstrap_admin("admin".into(), "Admin".into(), b"admin-pass".to_vec())
            .expect("admin");
        ops.add_operator(
            "admin".into(),
            b"admin-pass".to_vec(),
            "sup1".into(),
            "Sup".into(),
            PosRole::Supervisor,
            b"sup-pass".to_vec(),
        )
        .expect("supervisor");
        ops.add_operator(
            "admin".into(),
            b"admin-pass".to_vec(),
            "cash1".into(),
            "Cash".into(),
            PosRole::Cashier,
            b"cash-pass".to_vec(),
        )
        .expect("cashier");
        ops
    }

    /// Answers with fixed credentials (`None`: cancelled).
    struct Fixed(Option<(&'static str, &'static [u8])>);
    impl SupervisorCallback for Fixed {
        fn credentials(
            &self,
            _role: PosRole,
            _action: PosAction,
        ) -> Result<Option<PosCredentials>, SmartPosError> {
            Ok(self.0.map(|(id, pw)| PosCredentials {
                operator_id: id.into(),
                password: pw.to_vec(),
            }))
        }
    }

    fn authoriser(
        ops: &PosOperators,
        answer: Option<(&'static str, &'static [u8])>,
    ) -> SupervisorAuthoriser {
        SupervisorAuthoriser {
            store: ops.store.clone(),
            prompt: Box::new(Fixed(answer)),
        }
    }

    #[test]
    fn the_supervisor_prompt_is_checked_against_the_store() {
        let ops = store("auth", 2);
        let ok = authoriser(&ops, Some(("sup1", b"sup-pass")));
        assert_eq!(
            ok.require(Role::Supervisor, Action::Void),
            Ok(OperatorId("sup1".into()))
        );
        // The supervisor is not an admin: key loading is refused, with the roles named.
        match ok.require(Role::Admin, Action::KeyLoading) {
            Err(AuthError::Refused { reason, .. }) => assert!(reason.contains("Admin"), "{reason}"),
            other => panic!("expected Refused, got {other:?}"),
        }
        let cashier = authoriser(&ops, Some(("cash1", b"cash-pass")));
        assert!(matches!(
            cashier.require(Role::Supervisor, Action::Refund),
            Err(AuthError::Refused { .. })
        ));
        assert_eq!(
            authoriser(&ops, None).require(Role::Supervisor, Action::Void),
            Err(AuthError::Cancelled)
        );
        // Not UTF-8: refused before the store is asked (no failed attempt counted).
        let garbage = authoriser(&ops, Some(("sup1", &[0xFF, 0xFE, 0x00, 0x01, 0x02, 0x03])));
        assert!(matches!(
            garbage.require(Role::Supervisor, Action::Void),
            Err(AuthError::Refused { .. })
        ));
        assert_eq!(ops.operator("sup1".into()).unwrap().failed_attempts, 0);
    }

    #[test]
    fn wrong_passwords_lock_the_account_until_an_admin_unlocks_it() {
        let ops = store("lock", 2);
        let wrong = authoriser(&ops, Some(("sup1", b"wrong-pass")));
        assert!(matches!(
            wrong.require(Role::Supervisor, Action::Void),
            Err(AuthError::Refused { .. })
        ));
        assert_eq!(ops.operator("sup1".into()).unwrap().failed_attempts, 1);
        assert_eq!(
            wrong.require(Role::Supervisor, Action::Void),
            Err(AuthError::Locked)
        );
        let right = authoriser(&ops, Some(("sup1", b"sup-pass")));
        assert_eq!(
            right.require(Role::Supervisor, Action::Void),
            Err(AuthError::Locked)
        );
        // The locked supervisor cannot unlock itself; the admin can.
        assert!(matches!(
            ops.unlock("sup1".into(), b"sup-pass".to_vec(), "sup1".into()),
            Err(SmartPosError::OperatorLocked { .. })
        ));
        assert!(matches!(
            ops.unlock("cash1".into(), b"cash-pass".to_vec(), "sup1".into()),
            Err(SmartPosError::NotAuthorised { .. })
        ));
        ops.unlock("admin".into(), b"admin-pass".to_vec(), "sup1".into())
            .expect("unlock");
        assert!(!ops.operator("sup1".into()).unwrap().locked);
        assert_eq!(
            right.require(Role::Supervisor, Action::Void),
            Ok(OperatorId("sup1".into()))
        );
    }

    #[test]
    fn bad_requests_are_typed() {
        let ops = store("bad", 3);
        assert!(matches!(
            ops.bootstrap_admin("x".into(), "X".into(), b"another-pass".to_vec()),
            Err(SmartPosError::NotAuthorised { .. })
        ));
        match ops.add_operator(
            "admin".into(),
            b"admin-pass".to_vec(),
            "sup2".into(),
            "Sup".into(),
            PosRole::Supervisor,
            b"123".to_vec(),
        ) {
            Err(SmartPosError::InvalidInput { field, .. }) => assert_eq!(field, "password"),
            other => panic!("expected InvalidInput, got {other:?}"),
        }
        let zero = PosOperators::open_with_policy(
            std::env::temp_dir()
                .join(format!(
                    "smartpos-ffi-operators-zero-{}.db",
                    std::process::id()
                ))
                .display()
                .to_string(),
            PosOperatorPolicy {
                max_failed_attempts: 0,
                min_password_len: 6,
                argon2_memory_kib: 256,
                argon2_iterations: 1,
            },
        );
        assert!(matches!(zero, Err(SmartPosError::InvalidInput { .. })));
        let creds = PosCredentials {
            operator_id: "sup1".into(),
            password: b"sup-pass".to_vec(),
        };
        assert_eq!(
            format!("{creds:?}"),
            "PosCredentials(sup1, <password hidden>)"
        );
    }
}
