//! Store-and-forward of reversals (0400) and advices (0220).
//!
//! The terminal keeps these queues durably (the SQLite journal); this crate only sees the
//! [`ReversalStore`] trait. [`MemoryStore`] is the in-memory implementation for tests and demos.
//!
//! Pending-if-unconfirmed: before an authorisation request is sent, its reversal is saved; it is
//! discarded only once a MAC-checked, matching response is in hand. A crash, a timeout, a lost
//! connection or a response that is not believed therefore always leaves the reversal queued.

use crate::error::StoreError;
use crate::request::HostResponse;
use smartpos_iso8583::{Message, Profile};
use std::collections::{BTreeMap, BTreeSet};

/// Which queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QueueKind {
    /// Reversal of an authorisation (0400).
    Reversal,
    /// Advice of an offline-approved transaction (0220).
    Advice,
}

/// Why an authorisation is reversed; the code goes into field 39 of the 0400.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReversalReason {
    /// Saved before sending: no confirmed response yet (98, "no response").
    Unconfirmed,
    /// The response timed out or the connection was lost (98).
    NoResponse,
    /// The response MAC did not verify (A0).
    MacError,
    /// The response was garbled or did not match the request (96).
    BadResponse,
    /// The host approved but the card declined (second GENERATE AC gave an AAC) or the terminal
    /// could not complete (06).
    TerminalDeclined,
}

impl ReversalReason {
    /// The field 39 value of the reversal request (UnionPay reversal reason codes).
    pub fn code(self) -> &'static str {
        match self {
            ReversalReason::Unconfirmed | ReversalReason::NoResponse => "98",
            ReversalReason::MacError => "A0",
            ReversalReason::BadResponse => "96",
            ReversalReason::TerminalDeclined => "06",
        }
    }

    /// Stable name for persistence.
    pub fn name(self) -> &'static str {
        match self {
            ReversalReason::Unconfirmed => "unconfirmed",
            ReversalReason::NoResponse => "no-response",
            ReversalReason::MacError => "mac-error",
            ReversalReason::BadResponse => "bad-response",
            ReversalReason::TerminalDeclined => "terminal-declined",
        }
    }

    /// From [`ReversalReason::name`].
    pub fn from_name(name: &str) -> Option<ReversalReason> {
        [
            ReversalReason::Unconfirmed,
            ReversalReason::NoResponse,
            ReversalReason::MacError,
            ReversalReason::BadResponse,
            ReversalReason::TerminalDeclined,
        ]
        .into_iter()
        .find(|r| r.name() == name)
    }
}

/// One queued reversal or advice: the original request's data elements (track 2/3, PIN block
/// and MAC removed; PAN kept in field 2) and the bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEntry {
    /// Queue.
    pub kind: QueueKind,
    /// STAN (field 11) of the original request: the idempotency key.
    pub stan: u32,
    /// Reversal reason (advices: [`ReversalReason::Unconfirmed`], unused).
    pub reason: ReversalReason,
    /// The original request (Debug masks PAN and ICC data).
    pub original: Message,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// The last delivery error.
    pub last_error: Option<String>,
}

impl PendingEntry {
    /// The original message packed with `profile` (no envelope), for durable storage.
    pub fn original_bytes(&self, profile: &Profile) -> Result<Vec<u8>, StoreError> {
        profile
            .pack(&self.original)
            .map_err(|e| StoreError(format!("packing the original of STAN {}: {e}", self.stan)))
    }
}

/// The durable queues the terminal provides (the journal implements it).
///
/// Contract: entries are keyed on (kind, original STAN); [`ReversalStore::save`] of a key that
/// is pending replaces it (attempts kept), of a key that is already complete does nothing (a
/// transaction is never reversed twice); [`ReversalStore::complete`] is final.
pub trait ReversalStore {
    /// Insert or update an entry.
    fn save(&mut self, entry: &PendingEntry) -> Result<(), StoreError>;
    /// Pending entries of a queue, oldest first.
    fn pending(&self, kind: QueueKind) -> Result<Vec<PendingEntry>, StoreError>;
    /// Count a failed delivery attempt.
    fn record_attempt(&mut self, kind: QueueKind, stan: u32, error: &str)
    -> Result<(), StoreError>;
    /// The host acknowledged it: done for good.
    fn complete(&mut self, kind: QueueKind, stan: u32) -> Result<(), StoreError>;
    /// The authorisation was confirmed: the pending-if-unconfirmed reversal is dropped (not
    /// final: it can be saved again, e.g. when the card declines after host approval).
    fn discard(&mut self, kind: QueueKind, stan: u32) -> Result<(), StoreError>;

    /// The host acknowledged a queued entry with this MAC-checked `response` (its RRN and
    /// authorisation code, e.g. for a refund repeated as an advice). Default:
    /// [`ReversalStore::complete`].
    fn acknowledged(
        &mut self,
        kind: QueueKind,
        stan: u32,
        response: &HostResponse,
    ) -> Result<(), StoreError> {
        let _ = response;
        self.complete(kind, stan)
    }

    /// The host answered a queued advice with a decline. `Ok(true)`: the decline is final for
    /// this entry (e.g. a repeated refund the issuer refuses: the store records the decline and
    /// the entry is done); `Ok(false)` (the default): keep it queued and retry.
    fn refused(
        &mut self,
        kind: QueueKind,
        stan: u32,
        response: &HostResponse,
    ) -> Result<bool, StoreError> {
        let _ = (kind, stan, response);
        Ok(false)
    }
}

/// In-memory [`ReversalStore`].
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    seq: u64,
    pending: BTreeMap<(QueueKind, u32), (u64, PendingEntry)>,
    done: BTreeSet<(QueueKind, u32)>,
}

impl MemoryStore {
    /// Empty.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Whether an entry was completed (acknowledged by the host).
    pub fn is_complete(&self, kind: QueueKind, stan: u32) -> bool {
        self.done.contains(&(kind, stan))
    }
}

impl ReversalStore for MemoryStore {
    fn save(&mut self, entry: &PendingEntry) -> Result<(), StoreError> {
        let key = (entry.kind, entry.stan);
        if self.done.contains(&key) {
            return Ok(());
        }
        self.seq += 1;
        let seq = self.seq;
        match self.pending.get_mut(&key) {
            Some((_, e)) => {
                let attempts = e.attempts;
                let last_error = e.last_error.take();
                *e = entry.clone();
                e.attempts = attempts;
                e.last_error = last_error;
            }
            None => {
                self.pending.insert(key, (seq, entry.clone()));
            }
        }
        Ok(())
    }

    fn pending(&self, kind: QueueKind) -> Result<Vec<PendingEntry>, StoreError> {
        let mut v: Vec<_> = self
            .pending
            .iter()
            .filter(|((k, _), _)| *k == kind)
            .map(|(_, (seq, e))| (*seq, e.clone()))
            .collect();
        v.sort_by_key(|(s, _)| *s);
        Ok(v.into_iter().map(|(_, e)| e).collect())
    }

    fn record_attempt(
        &mut self,
        kind: QueueKind,
        stan: u32,
        error: &str,
    ) -> Result<(), StoreError> {
        if let Some((_, e)) = self.pending.get_mut(&(kind, stan)) {
            e.attempts += 1;
            e.last_error = Some(error.chars().take(200).collect());
        }
        Ok(())
    }

    fn complete(&mut self, kind: QueueKind, stan: u32) -> Result<(), StoreError> {
        self.pending.remove(&(kind, stan));
        self.done.insert((kind, stan));
        Ok(())
    }

    fn discard(&mut self, kind: QueueKind, stan: u32) -> Result<(), StoreError> {
        self.pending.remove(&(kind, stan));
        Ok(())
    }
}
