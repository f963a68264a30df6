//! The transaction state machine. The SQL trigger `transactions_state_guard` enforces the
//! kind-independent edges of [`EDGES`]; [`is_legal`] adds the per-kind rules.
//!
//! ```text
//! created ──► card_read ──► online_pending ──► approved ──► completed
//!    │            │               │   │            └──────► reversal_pending ──► reversed
//!    │            │               │   └─► declined              ▲
//!    │            │               └─────────────────────────────┘
//!    │            ├──► offline_approved ──► completed   (advice queued)
//!    │            ├──► declined (card AAC)
//!    ├────────────┴──► aborted
//!    └──► online_pending (void, pre-auth completion, QR sale: no card read)
//! ```
//!
//! A refund whose answer is lost is never reversed: it stays `online_pending` with an advice
//! queued (`Journal::refund_unanswered`, or crash recovery) and leaves it for `approved →
//! completed` or `declined` when the host answers the repeat (`Journal::refund_answered`).

use crate::model::{TxnKind, TxnState};

use TxnState::*;

/// Every edge allowed for at least one kind.
pub const EDGES: &[(TxnState, TxnState)] = &[
    (Created, CardRead),
    (Created, OnlinePending),
    (Created, Aborted),
    (CardRead, OnlinePending),
    (CardRead, OfflineApproved),
    (CardRead, Declined),
    (CardRead, Aborted),
    (OnlinePending, Approved),
    (OnlinePending, Declined),
    (OnlinePending, ReversalPending),
    (OnlinePending, Aborted),
    (Approved, Completed),
    (Approved, ReversalPending),
    (OfflineApproved, Completed),
    (ReversalPending, Reversed),
];

/// Whether `kind` may go from `from` to `to`.
pub fn is_legal(kind: TxnKind, from: TxnState, to: TxnState) -> bool {
    if !EDGES.contains(&(from, to)) {
        return false;
    }
    match (from, to) {
        // Only transactions referencing an original, and QR orders, go online without a card read.
        (Created, OnlinePending) => matches!(
            kind,
            TxnKind::Void | TxnKind::PreAuthCompletion | TxnKind::QrSale
        ),
        // QR sales have no card.
        (Created, CardRead) => kind != TxnKind::QrSale,
        // Offline approval (EMV Book 3 §10.8, TC at first GENERATE AC) only for purchases.
        (CardRead, OfflineApproved) => kind == TxnKind::Sale,
        // A balance inquiry moves no funds: an unknown outcome is simply abandoned, never
        // reversed. Other kinds: only when the caller cancelled before anything was written to
        // the host (smartpos-host `Cancelled { sent: false }`); QR orders are cancelled with
        // the wallet.
        (OnlinePending, Aborted) => kind != TxnKind::QrSale,
        // QR payments are cancelled with the wallet (revoke/close), not reversed; balance
        // inquiries need no reversal.
        (_, ReversalPending) => !matches!(kind, TxnKind::QrSale | TxnKind::BalanceInquiry),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_states_have_no_outgoing_edges() {
        for (from, _) in EDGES {
            assert!(!from.is_final(), "{from} is final but has an edge");
        }
    }

    #[test]
    fn kind_rules_only_narrow_edges() {
        for k in TxnKind::ALL {
            for f in TxnState::ALL {
                for t in TxnState::ALL {
                    if is_legal(*k, *f, *t) {
                        assert!(EDGES.contains(&(*f, *t)));
                    }
                }
            }
        }
    }
}
