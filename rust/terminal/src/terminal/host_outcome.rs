//! The host outcome of a card authorisation, shared by the contact (chip) and contactless
//! paths: journal the answer, then let the kernel finish the card (EMV Book 3 §10.9 second
//! GENERATE AC; EMV Contactless Book A §7.1 online response / Book C issuer update) and decide
//! between completed and reversed (EMV Book 4 §12.2.5: a card refusal after a host approval is
//! reversed).
//!
//! ```text
//! approved ─► journal.approve ─► card completion ─► accepted: journal.complete (Approved)
//!                                                └► refused: reversal queued (Reversed)
//! declined ─► journal.decline ─► card told the decline                       (Declined)
//! unknown (timeout, bad MAC, lost link, cancelled after sending)
//!          ─► reversal already queued by the host crate ─► card told "Z3"     (Reversed)
//!             (a balance inquiry moves no funds: aborted, never reversed)
//! not sent ─► journal.decline "not sent" ─► error
//! cancelled before sending (HostError::Cancelled { sent: false }) ─► journal.abort ─► Cancelled
//! cancelled while awaiting the answer ({ sent: true }) ─► as unknown: reversal queued
//! ```

use super::*;

/// What the kernel is told after the host request: the one card-specific step of
/// [`Terminal::host_outcome`].
pub(super) enum CardStep<'a> {
    /// The host approved: issuer authentication data and scripts for the card. The step
    /// returns the card's final data when the card accepted, `None` when it refused.
    Approved(&'a smartpos_emv::HostResponse),
    /// The host declined.
    Declined(&'a smartpos_emv::HostResponse),
    /// The host's outcome is unknown (reversal queued): the card declines (EMV Book 4 §A.6 `Z3`,
    /// unable to go online after the request was sent).
    Unknown,
    /// Nothing reached the host, or there is nothing to reverse: the kernel ends the
    /// transaction as unable to go online.
    NotSent,
}

/// The kernel's completion step: told how the host request ended, it finishes the card and,
/// for [`CardStep::Approved`], returns the final card data when the card accepted.
pub(super) type CompleteCard<'c> =
    Box<dyn FnOnce(&mut Terminal, CardStep<'_>) -> Option<smartpos_journal::Completion> + 'c>;

/// The kernel's view of a host response (ARC, issuer authentication data 91, scripts 71/72
/// from field 55).
pub(super) fn kernel_response(approved: bool, arc: &str, icc: &[u8]) -> smartpos_emv::HostResponse {
    let (iad, scripts) = if approved {
        issuer_data(icc)
    } else {
        (Vec::new(), Vec::new())
    };
    smartpos_emv::HostResponse {
        approved,
        arc: arc.to_string(),
        issuer_authentication_data: iad,
        scripts,
    }
}

impl Terminal {
    /// The caller cancelled before the request was written to the host
    /// (`HostError::Cancelled { sent: false }`): nothing to reverse, the payment is aborted.
    pub(super) fn cancelled_before_sending(&mut self, id: TxnId) -> Result<TerminalError> {
        journal_host::lock(&self.journal).abort(id, "cancelled before the request was sent")?;
        events::prompt(&*self.events(), MessageId::Cancelled);
        Ok(TerminalError::Cancelled {
            step: "host request",
        })
    }

    /// Journal the host's `answer` to the authorisation of `p` and finish the card through
    /// `complete` (the kernel's completion step). Returns the status of the payment; `Err`
    /// when nothing reached the host, or a balance inquiry got no answer (nothing to reverse).
    pub(super) fn host_outcome(
        &mut self,
        p: &Payment<'_>,
        answer: std::result::Result<smartpos_host::HostResponse, HostError>,
        complete: CompleteCard<'_>,
    ) -> Result<Status> {
        match answer {
            Ok(resp) => {
                journal_host::lock(&self.journal).approve(
                    p.id,
                    &smartpos_journal::HostResponse {
                        response_code: resp.code.as_str().to_string(),
                        rrn: resp.rrn.clone(),
                        auth_code: resp.auth_code.clone(),
                        host_time: None,
                    },
                )?;
                crate::crashpoint::hit("approved");
                self.events().event(&Event::Progress {
                    step: Progress::Completing,
                });
                let host = kernel_response(
                    true,
                    resp.code.as_str(),
                    resp.icc_data.as_deref().unwrap_or(&[]),
                );
                match complete(self, CardStep::Approved(&host)) {
                    Some(done) => {
                        journal_host::lock(&self.journal).complete(p.id, &done)?;
                        crate::crashpoint::hit("completed");
                        Ok(Status::Approved)
                    }
                    None => {
                        // The card refused after the host approved: reverse (EMV Book 4
                        // §12.2.5).
                        self.host
                            .reverse_last_authorisation(ReversalReason::TerminalDeclined)?;
                        if let Err(e) = self.host.flush_reversals() {
                            log::warn!("reversal queued, not yet sent: {e}");
                        }
                        Ok(Status::Reversed)
                    }
                }
            }
            Err(HostError::Declined { code, response }) => {
                self.journal_decline(
                    p.id,
                    Some(code.as_str()),
                    response.rrn.clone(),
                    code.meaning(),
                )?;
                let host = kernel_response(false, code.as_str(), &[]);
                let _ = complete(self, CardStep::Declined(&host));
                Ok(Status::Declined)
            }
            Err(HostError::Cancelled { sent: false }) => {
                let _ = complete(self, CardStep::NotSent);
                Err(self.cancelled_before_sending(p.id)?)
            }
            Err(e) if e.needs_reversal() && p.kind == TxnKind::BalanceInquiry => {
                // Nothing to reverse: a balance inquiry moves no funds.
                journal_host::lock(&self.journal)
                    .abort(p.id, "no answer to the balance inquiry")?;
                let _ = complete(self, CardStep::NotSent);
                Err(TerminalError::Host(e))
            }
            Err(e) if e.needs_reversal() => {
                // The host crate saved the reversal through JournalQueues (reversal_pending);
                // the card is declined (no offline approval after an unknown outcome). A
                // cancel while the answer was awaited is the same unknown outcome.
                if e.cancelled() == Some(true) {
                    events::prompt(&*self.events(), MessageId::Cancelled);
                }
                let _ = complete(self, CardStep::Unknown);
                log::warn!("authorisation outcome unknown, reversal queued: {e}");
                Ok(Status::Reversed)
            }
            Err(e) => {
                // Nothing reached the host.
                self.journal_decline(p.id, None, None, &format!("not sent: {e}"))?;
                let _ = complete(self, CardStep::NotSent);
                Err(TerminalError::Host(e))
            }
        }
    }
}
