//! Settlement (0500, totals in field 48) and batch upload (0320) when the host's totals differ.

use super::{HostClient, build, field60};
use crate::dialect::{BatchTotals, msg_type, network};
use crate::error::HostError;
use crate::request::{BatchRecord, HostResponse, SettlementOutcome};
use crate::response::ResponseCode;
use crate::store::ReversalStore;
use smartpos_iso8583::Message;

impl<S: ReversalStore> HostClient<S> {
    fn settlement_message(
        &mut self,
        batch: u32,
        totals: &BatchTotals,
        code: &str,
    ) -> Result<Message, HostError> {
        let (mut m, _) = self.base("0500")?;
        let f48 = totals.to_field48().ok_or(HostError::InvalidRequest {
            field: "totals",
            reason: "a count is over 999 or an amount over 12 digits".into(),
        })?;
        build(m.set_text(48, &f48))?;
        build(m.set_text(49, &self.config.currency))?;
        build(m.set_text(60, &field60(batch, msg_type::NONE, code)))?;
        build(m.set_text(63, "001"))?;
        Ok(m)
    }

    /// Use `batch` (60.2) for the requests that follow, e.g. the next batch once the terminal
    /// closed one for settlement, whatever that settlement's outcome.
    pub fn set_batch(&mut self, batch: u32) {
        self.config.batch = batch.clamp(1, 999_999);
    }

    /// Settlement (0500 with the totals in field 48). On 95 (totals differ) every record is
    /// uploaded (0320) and the settlement repeated; on success the batch number advances.
    /// Pending advices are flushed first.
    pub fn settle(
        &mut self,
        totals: &BatchTotals,
        records: &[BatchRecord],
    ) -> Result<SettlementOutcome, HostError> {
        let outcome = self.settle_batch(self.config.batch, totals, records)?;
        self.config.batch = if self.config.batch >= 999_999 {
            1
        } else {
            self.config.batch + 1
        };
        Ok(outcome)
    }

    /// Settle batch `batch` (60.2 of the 0500 and the 0320s), which need not be the batch the
    /// client numbers its requests with: a closed batch settled again after a failed attempt,
    /// with the same number, while new sales already go to the next batch. Same flow as
    /// [`HostClient::settle`] (flush, 0500, on 95 upload then 0500 again); the client's batch
    /// number is left as it is. Repeating it is safe: the acquirer answers a settlement of a
    /// batch it already settled with 00 when the totals are the ones it settled, else 95 (and
    /// settles nothing twice).
    pub fn settle_batch(
        &mut self,
        batch: u32,
        totals: &BatchTotals,
        records: &[BatchRecord],
    ) -> Result<SettlementOutcome, HostError> {
        self.flush_reversals()?;
        self.flush_advices()?;
        let m = self.settlement_message(batch, totals, network::SETTLE)?;
        let first = HostResponse::from_message(self.exchange(m, true)?)?;
        if first.code.is_approved() {
            return Ok(SettlementOutcome::Balanced);
        }
        if first.code != ResponseCode::RECONCILE_ERROR {
            return first.approved().map(|_| SettlementOutcome::Balanced);
        }
        for r in records {
            let (mut u, _) = self.base("0320")?;
            if !r.pan.is_empty() {
                build(u.set_pan(&r.pan))?;
            }
            build(u.set_processing_code(&r.processing_code))?;
            build(u.set_amount(4, r.amount))?;
            if let Some(rrn) = &r.rrn {
                build(u.set_rrn(rrn))?;
            }
            if let Some(a) = &r.auth_code {
                build(u.set_auth_code(a))?;
            }
            build(u.set_text(49, &self.config.currency))?;
            build(u.set_text(60, &field60(batch, msg_type::NONE, network::SETTLE)))?;
            build(u.set_text(61, &format!("{batch:06}{:06}", r.stan)))?;
            HostResponse::from_message(self.exchange(u, true)?)?.approved()?;
        }
        let m = self.settlement_message(batch, totals, network::SETTLE_AFTER_UPLOAD)?;
        HostResponse::from_message(self.exchange(m, true)?)?.approved()?;
        Ok(SettlementOutcome::BalancedAfterUpload {
            uploaded: records.len(),
        })
    }
}
