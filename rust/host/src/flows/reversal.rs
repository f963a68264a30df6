//! Authorisations under the reversal rules (pending-if-unconfirmed), reversal 0400 and advice
//! 0220 store-and-forward (UnionPay POS convention: a pending reversal is sent before the next
//! transaction and retried until the host acknowledges it with 00, 12 or 25).

use super::{HostClient, build};
use crate::dialect::{self, msg_type};
use crate::error::HostError;
use crate::request::{CardData, HostResponse, PinInput};
use crate::store::{PendingEntry, QueueKind, ReversalReason, ReversalStore};
use smartpos_iso8583::{Message, Mti};

impl<S: ReversalStore> HostClient<S> {
    /// discarded only when a believed response arrives.
    pub(super) fn authorise(&mut self, request: Message) -> Result<HostResponse, HostError> {
        self.flush_reversals()?;
        let stan = request
            .stan()
            .ok()
            .flatten()
            .and_then(|s| u32::try_from(s).ok())
            .unwrap_or(0);
        let original = reversal_original(&request)?;
        let mut entry = PendingEntry {
            kind: QueueKind::Reversal,
            stan,
            reason: ReversalReason::Unconfirmed,
            original: original.clone(),
            attempts: 0,
            last_error: None,
        };
        self.store.save(&entry)?;
        match self.exchange(request, true) {
            Ok(resp) => {
                let r = match HostResponse::from_message(resp) {
                    Ok(r) => r,
                    Err(e) => {
                        entry.reason = ReversalReason::BadResponse;
                        self.store.save(&entry)?;
                        return Err(e);
                    }
                };
                self.store.discard(QueueKind::Reversal, stan)?;
                if r.code.is_approved() {
                    self.last_authorisation = Some(original);
                }
                r.approved()
            }
            Err(e) => {
                entry.reason = match &e {
                    HostError::BadMac(_) => ReversalReason::MacError,
                    HostError::Link(_) | HostError::Cancelled { .. } => ReversalReason::NoResponse,
                    _ => ReversalReason::BadResponse,
                };
                if e.needs_reversal() {
                    self.store.save(&entry)?;
                } else {
                    // Nothing reached the host (e.g. not signed on, request could not be built).
                    self.store.discard(QueueKind::Reversal, stan)?;
                }
                Err(e)
            }
        }
    }

    /// Queue a reversal of the last approved authorisation (e.g. the card declined at the second
    /// GENERATE AC after the host approved); it is sent by the next [`HostClient::flush_reversals`].
    pub fn reverse_last_authorisation(&mut self, reason: ReversalReason) -> Result<u32, HostError> {
        let original = self
            .last_authorisation
            .take()
            .ok_or(HostError::InvalidRequest {
                field: "reversal",
                reason: "no approved authorisation to reverse".into(),
            })?;
        let stan = original
            .stan()
            .ok()
            .flatten()
            .and_then(|s| u32::try_from(s).ok())
            .unwrap_or(0);
        self.store.save(&PendingEntry {
            kind: QueueKind::Reversal,
            stan,
            reason,
            original,
            attempts: 0,
            last_error: None,
        })?;
        Ok(stan)
    }

    /// Send every pending reversal (0400) until acknowledged (0410 with 00, 12 or 25). Called
    /// before each authorisation (the usual POS rule). Entries not acknowledged stay queued.
    pub fn flush_reversals(&mut self) -> Result<usize, HostError> {
        let pending = self.store.pending(QueueKind::Reversal)?;
        let mut done = 0;
        let total = pending.len();
        for entry in pending {
            let result = self.send_reversal(&entry);
            match result {
                Ok(()) => {
                    self.store.complete(QueueKind::Reversal, entry.stan)?;
                    done += 1;
                }
                Err(e) => {
                    self.store
                        .record_attempt(QueueKind::Reversal, entry.stan, &e.to_string())?;
                    return Err(HostError::QueueNotFlushed {
                        kind: "reversal",
                        remaining: total - done,
                        last_error: e.to_string(),
                    });
                }
            }
        }
        Ok(done)
    }

    fn send_reversal(&mut self, entry: &PendingEntry) -> Result<(), HostError> {
        let mut m = Message::new(build(Mti::new("0400"))?);
        for n in [
            2u8, 3, 4, 11, 14, 22, 23, 25, 37, 38, 41, 42, 49, 55, 60, 61,
        ] {
            if let Some(v) = entry.original.get(n) {
                build(m.set_bytes(n, v))?;
            }
        }
        build(m.set_response_code(entry.reason.code()))?;
        let resp = self.exchange(m, true)?;
        let r = HostResponse::from_message(resp)?;
        match r.code.as_str() {
            "00" | "12" | "25" => Ok(()),
            _ => Err(HostError::Declined {
                code: r.code,
                response: Box::new(r),
            }),
        }
    }

    /// Queue an advice (0220) of an offline-approved transaction; it gets the next STAN.
    /// Sent by [`HostClient::flush_advices`] (and before settlement).
    pub fn queue_advice(&mut self, amount: u64, card: &CardData) -> Result<u32, HostError> {
        let (mut m, stan) = self.financial(
            "0220",
            dialect::PC_PURCHASE,
            amount,
            "00",
            msg_type::OFFLINE,
        )?;
        self.card_fields(&mut m, card, &PinInput::None)?;
        m.remove(35);
        self.store.save(&PendingEntry {
            kind: QueueKind::Advice,
            stan,
            reason: ReversalReason::Unconfirmed,
            original: m,
            attempts: 0,
            last_error: None,
        })?;
        Ok(stan)
    }

    /// Send every pending advice until the host answers 00 (or 94 duplicate); the store may
    /// take a decline as final ([`ReversalStore::refused`], e.g. a repeated refund).
    pub fn flush_advices(&mut self) -> Result<usize, HostError> {
        let pending = self.store.pending(QueueKind::Advice)?;
        let total = pending.len();
        let mut done = 0;
        for entry in pending {
            let result = self
                .exchange(entry.original.clone(), true)
                .and_then(HostResponse::from_message);
            match result {
                Ok(r) if r.code.is_approved() || r.code.as_str() == "94" => {
                    self.store.acknowledged(QueueKind::Advice, entry.stan, &r)?;
                    done += 1;
                }
                Ok(r) if self.store.refused(QueueKind::Advice, entry.stan, &r)? => {
                    done += 1;
                }
                other => {
                    let error = match other {
                        Ok(r) => format!("host answered {} ({})", r.code, r.code.meaning()),
                        Err(e) => e.to_string(),
                    };
                    self.store
                        .record_attempt(QueueKind::Advice, entry.stan, &error)?;
                    return Err(HostError::QueueNotFlushed {
                        kind: "advice",
                        remaining: total - done,
                        last_error: error,
                    });
                }
            }
        }
        Ok(done)
    }
}

/// The original data elements kept for a reversal: track 2/3, PIN data and MAC removed; PAN kept.
fn reversal_original(request: &Message) -> Result<Message, HostError> {
    let mut m = request.clone();
    for n in [26u8, 35, 36, 52, 53, 62, 64] {
        m.remove(n);
    }
    Ok(m)
}
