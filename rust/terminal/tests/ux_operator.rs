//! Operators: argon2id accounts in their own SQLite file, lock-out after repeated failures, admin
//! unlock, supervisor escalation through the terminal's `Authoriser`, everything audited in the
//! journal.

mod ux_common;

use ux_common::{temp_dir, temp_journal};

use std::sync::{Arc, Mutex};

use smartpos_terminal::operator::{
    CredentialPrompt, Credentials, MemoryAudit, NoPrompt, OperatorError, OperatorPolicy,
    OperatorSession, OperatorStore, required_role,
};
use smartpos_terminal::roles::{Action, AuthError, Authoriser, OperatorId, Role};
use zeroize::Zeroizing;

/// Cheap argon2id parameters so the debug-build tests stay fast; the format and algorithm are
/// the production ones.
fn policy() -> OperatorPolicy {
    OperatorPolicy {
        max_failed_attempts: 3,
        min_password_len: 6,
        argon2_memory_kib: 64,
        argon2_iterations: 1,
    }
}

fn store_with_staff(audit: MemoryAudit) -> OperatorStore {
    let s = OperatorStore::open_in_memory(policy(), Box::new(audit)).expect("store");
    s.bootstrap_admin("admin", "Admin", "admin-pass")
        .expect("bootstrap");
    let admin = s.sign_in("admin", "admin-pass").expect("admin");
    s.add_operator(&admin, "001", "Li Lei", Role::Cashier, "111111")
        .expect("cashier");
    s.add_operator(&admin, "sup", "Han Meimei", Role::Supervisor, "999999")
        .expect("supervisor");
    s
}

#[test]
fn passwords_are_argon2id_hashes_in_their_own_file() {
    let dir = temp_dir("ops");
    let path = dir.join("operators.db");
    {
        let s = OperatorStore::open(&path, policy(), Box::new(MemoryAudit::new())).expect("open");
        assert!(s.is_empty().expect("empty"));
        s.bootstrap_admin("admin", "Admin", "admin-pass")
            .expect("bootstrap");
        assert_eq!(
            s.bootstrap_admin("admin2", "Admin", "admin-pass"),
            Err(OperatorError::NotEmpty)
        );
    }
    let conn = rusqlite::Connection::open(&path).expect("sqlite");
    let phc: String = conn
        .query_row(
            "SELECT password_phc FROM operators WHERE id='admin'",
            [],
            |r| r.get(0),
        )
        .expect("row");
    assert!(phc.starts_with("$argon2id$v=19$"), "{phc}");
    assert!(!phc.contains("admin-pass"));
    drop(conn);
    // Reopened, the account is still there and the password still checks.
    let s = OperatorStore::open(&path, policy(), Box::new(MemoryAudit::new())).expect("reopen");
    assert_eq!(
        s.sign_in("admin", "admin-pass").expect("sign in").role(),
        Role::Admin
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn wrong_passwords_lock_the_account_until_an_admin_unlocks() {
    let audit = MemoryAudit::new();
    let s = store_with_staff(audit.clone());
    assert_eq!(
        s.sign_in("001", "000000"),
        Err(OperatorError::WrongPassword {
            id: "001".into(),
            attempts_left: 2
        })
    );
    assert_eq!(
        s.sign_in("001", "000001"),
        Err(OperatorError::WrongPassword {
            id: "001".into(),
            attempts_left: 1
        })
    );
    assert_eq!(
        s.sign_in("001", "000002"),
        Err(OperatorError::Locked { id: "001".into() })
    );
    // Even the right password is refused now.
    assert_eq!(
        s.sign_in("001", "111111"),
        Err(OperatorError::Locked { id: "001".into() })
    );
    assert!(s.get("001").expect("get").locked);
    // A supervisor cannot unlock; an admin can.
    let sup = s.sign_in("sup", "999999").expect("sup");
    assert!(matches!(
        s.unlock(&sup, "001"),
        Err(OperatorError::RoleTooLow { .. })
    ));
    let admin = s.sign_in("admin", "admin-pass").expect("admin");
    s.unlock(&admin, "001").expect("unlock");
    assert_eq!(
        s.sign_in("001", "111111").expect("cashier").role(),
        Role::Cashier
    );
    let actions: Vec<String> = audit.entries().into_iter().map(|e| e.action).collect();
    assert!(actions.contains(&"operator.locked".to_string()));
    assert!(actions.contains(&"operator.unlock".to_string()));
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "operator.sign_in_failed")
            .count(),
        4
    );
}

#[test]
fn a_success_resets_the_failure_count() {
    let s = store_with_staff(MemoryAudit::new());
    assert!(s.sign_in("001", "bad-one").is_err());
    assert!(s.sign_in("001", "bad-two").is_err());
    s.sign_in("001", "111111").expect("ok");
    assert_eq!(s.get("001").expect("get").failed_attempts, 0);
    assert!(matches!(
        s.sign_in("001", "bad-three"),
        Err(OperatorError::WrongPassword {
            attempts_left: 2,
            ..
        })
    ));
}

#[test]
fn supervisor_actions_by_role() {
    assert_eq!(required_role(Action::Sale), Role::Cashier);
    for a in [
        Action::Void,
        Action::Refund,
        Action::Settlement,
        Action::KeyLoading,
    ] {
        assert_eq!(required_role(a), Role::Supervisor, "{a:?}");
    }
    let s = store_with_staff(MemoryAudit::new());
    assert!(matches!(
        s.authorise("001", "111111", Action::Void),
        Err(OperatorError::RoleTooLow {
            has: Role::Cashier,
            needs: Role::Supervisor,
            ..
        })
    ));
    assert_eq!(
        s.authorise("sup", "999999", Action::Refund)
            .expect("sup")
            .operator_id(),
        "sup"
    );
    assert!(
        s.authorise("admin", "admin-pass", Action::KeyLoading)
            .is_ok()
    );
}

struct ScriptedPrompt(Vec<Option<(&'static str, &'static str)>>);

impl CredentialPrompt for ScriptedPrompt {
    fn ask(&mut self, _role: Role, _action: Action) -> Option<Credentials> {
        if self.0.is_empty() {
            return None;
        }
        self.0.remove(0).map(|(id, pw)| Credentials {
            id: id.into(),
            password: Zeroizing::new(pw.into()),
        })
    }
}

#[test]
fn cashier_session_escalates_to_a_supervisor_and_audits_in_the_journal() {
    let (journal, dir) = temp_journal("ops-journal", 1, 2);
    let journal = Arc::new(Mutex::new(journal));
    let store = OperatorStore::open_in_memory(policy(), Box::new(journal.clone())).expect("store");
    store
        .bootstrap_admin("admin", "Admin", "admin-pass")
        .expect("admin");
    let admin = store.sign_in("admin", "admin-pass").expect("admin");
    store
        .add_operator(&admin, "001", "Li", Role::Cashier, "111111")
        .expect("add");
    store
        .add_operator(&admin, "sup", "Han", Role::Supervisor, "999999")
        .expect("add");
    let store = Arc::new(store);
    let cashier = store.sign_in("001", "111111").expect("cashier");
    let session = OperatorSession::new(
        store.clone(),
        cashier,
        Box::new(ScriptedPrompt(vec![
            Some(("sup", "wrong-pw")),
            Some(("sup", "999999")),
            Some(("001", "111111")),
            None,
        ])),
    );
    // A sale is within the cashier's role.
    assert_eq!(
        session.require(Role::Cashier, Action::Sale),
        Ok(OperatorId("001".into()))
    );
    // Void: the supervisor mistypes, then succeeds.
    assert!(matches!(
        session.require(Role::Supervisor, Action::Void),
        Err(AuthError::Refused {
            role: Role::Supervisor,
            action: Action::Void,
            ..
        })
    ));
    assert_eq!(
        session.require(Role::Supervisor, Action::Void),
        Ok(OperatorId("sup".into()))
    );
    // The cashier types their own password at the supervisor prompt: refused by role.
    assert!(matches!(
        session.require(Role::Supervisor, Action::Refund),
        Err(AuthError::Refused { .. })
    ));
    // Prompt cancelled.
    assert_eq!(
        session.require(Role::Supervisor, Action::Settlement),
        Err(AuthError::Cancelled)
    );
    let j = journal.lock().expect("journal");
    let audit = j.audit_log(None, None, 1000).expect("audit");
    let actions: Vec<(String, String)> = audit
        .iter()
        .map(|e| (e.operator_id.clone(), e.action.clone()))
        .collect();
    assert!(actions.contains(&("sup".into(), "auth.granted".into())));
    assert!(actions.contains(&("sup".into(), "operator.sign_in_failed".into())));
    assert!(actions.contains(&("001".into(), "auth.refused".into())));
    assert!(actions.contains(&("001".into(), "auth.cancelled".into())));
    assert!(actions.contains(&("admin".into(), "operator.add".into())));
    drop(j);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_lone_cashier_cannot_escalate_and_lock_out_maps_to_locked() {
    let s = Arc::new(store_with_staff(MemoryAudit::new()));
    let cashier = s.sign_in("001", "111111").expect("cashier");
    let session = OperatorSession::new(s.clone(), cashier, Box::new(NoPrompt));
    assert_eq!(
        session.require(Role::Supervisor, Action::Void),
        Err(AuthError::Cancelled)
    );
    let cashier = s.sign_in("001", "111111").expect("cashier");
    let session = OperatorSession::new(
        s.clone(),
        cashier,
        Box::new(ScriptedPrompt(vec![
            Some(("sup", "x-wrong-1")),
            Some(("sup", "x-wrong-2")),
            Some(("sup", "x-wrong-3")),
        ])),
    );
    assert!(matches!(
        session.require(Role::Supervisor, Action::Void),
        Err(AuthError::Refused { .. })
    ));
    assert!(matches!(
        session.require(Role::Supervisor, Action::Void),
        Err(AuthError::Refused { .. })
    ));
    assert_eq!(
        session.require(Role::Supervisor, Action::Void),
        Err(AuthError::Locked)
    );
}

#[test]
fn account_management_rules() {
    let s = store_with_staff(MemoryAudit::new());
    let admin = s.sign_in("admin", "admin-pass").expect("admin");
    let cashier = s.sign_in("001", "111111").expect("cashier");
    assert!(matches!(
        s.add_operator(&cashier, "002", "X", Role::Admin, "123456"),
        Err(OperatorError::RoleTooLow { .. })
    ));
    assert!(matches!(
        s.add_operator(&admin, "001", "dup", Role::Cashier, "123456"),
        Err(OperatorError::AlreadyExists { .. })
    ));
    assert!(matches!(
        s.add_operator(&admin, "bad id", "X", Role::Cashier, "123456"),
        Err(OperatorError::InvalidField {
            field: "operator id",
            ..
        })
    ));
    assert!(matches!(
        s.add_operator(&admin, "003", "X", Role::Cashier, "123"),
        Err(OperatorError::InvalidField {
            field: "password",
            ..
        })
    ));
    assert_eq!(
        s.remove(&admin, "admin"),
        Err(OperatorError::LastAdmin { id: "admin".into() })
    );
    s.change_password("001", "111111", "222222")
        .expect("change");
    assert!(s.sign_in("001", "111111").is_err());
    s.sign_in("001", "222222").expect("new password");
    s.reset_password(&admin, "001", "333333").expect("reset");
    s.sign_in("001", "333333").expect("reset password");
    s.remove(&admin, "001").expect("remove");
    assert_eq!(
        s.sign_in("001", "333333"),
        Err(OperatorError::UnknownOperator { id: "001".into() })
    );
    let ids: Vec<String> = s.list().expect("list").into_iter().map(|o| o.id).collect();
    assert_eq!(ids, vec!["admin".to_string(), "sup".to_string()]);
}

#[test]
fn memory_audit_drains_into_the_journal() {
    let audit = MemoryAudit::new();
    let _s = store_with_staff(audit.clone());
    let n = audit.entries().len();
    assert!(n >= 4);
    let (mut j, dir) = temp_journal("ops-drain", 1, 2);
    let before = j.audit_count().expect("count");
    assert_eq!(audit.drain_into(&mut j).expect("drain"), n);
    assert_eq!(j.audit_count().expect("count"), before + n as u64);
    assert!(audit.entries().is_empty());
    drop(j);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn credentials_debug_hides_the_password() {
    let c = Credentials {
        id: "sup".into(),
        password: Zeroizing::new("999999".into()),
    };
    let d = format!("{c:?}");
    assert!(!d.contains("999999"));
    assert!(d.contains("sup"));
}
