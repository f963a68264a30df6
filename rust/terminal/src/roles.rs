//! Operators and roles: which actions need a supervisor. The terminal only asks; the
//! implementation (password/argon2 sessions) lives in [`crate::operator`].

/// An operator's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Takes sales.
    Cashier,
    /// Voids, refunds, settlement, large amounts.
    Supervisor,
    /// Key loading and configuration.
    Admin,
}

/// An action that needs an operator of a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// A sale (cashier).
    Sale,
    /// Void of a sale.
    Void,
    /// Refund.
    Refund,
    /// Settlement / batch close.
    Settlement,
    /// Loading keys (TMK) into the key store.
    KeyLoading,
    /// Second confirmation of an amount over the supervisor threshold.
    LargeAmount,
}

/// The operator the authoriser vouched for (recorded in the journal).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct OperatorId(pub String);

/// Why an operator was not authorised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Wrong credentials or insufficient role.
    #[error("{action:?} needs {role:?}: {reason}")]
    Refused {
        /// Role needed.
        role: Role,
        /// Action asked.
        action: Action,
        /// Why (no PIN match, role too low...).
        reason: String,
    },
    /// The operator cancelled the prompt.
    #[error("operator prompt cancelled")]
    Cancelled,
    /// Too many failed attempts: locked.
    #[error("operator locked")]
    Locked,
}

/// Asks for an operator of `role` for `action` (e.g. prompts for a supervisor password).
/// Implemented by the operator session in [`crate::operator`]; tests use [`AllowAll`] or a
/// refusing implementation.
pub trait Authoriser: Send {
    /// `Ok(operator)` when an operator with at least `role` approved `action`.
    fn require(&self, role: Role, action: Action) -> Result<OperatorId, AuthError>;
}

/// Approves everything as a fixed operator (demo and tests only).
#[derive(Debug, Clone)]
pub struct AllowAll(pub OperatorId);

impl Authoriser for AllowAll {
    fn require(&self, _role: Role, _action: Action) -> Result<OperatorId, AuthError> {
        Ok(self.0.clone())
    }
}
