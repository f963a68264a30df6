//! Settlement (0500: totals in field 48 against the ledger, 95 on mismatch) and batch upload
//! (0320).
//!
//! A settlement covers the terminal's batch named in 60.2 and any earlier unsettled one: a
//! transaction sent in a later batch (60.2 of its request, kept with the cached response) is
//! left for the next settlement, so a terminal that settles a closed batch again after a
//! failure while it already sells in the next batch still agrees. A settlement of a batch the
//! host has already settled (its batch counter moved past it and nothing of that batch is
//! left to count) changes nothing: the terminal never learnt the first answer. It is checked
//! against the totals the batch was settled with ([`crate::hostsim::ledger::SettledBatch`]):
//! the same totals are acknowledged again with 00 (UnionPay-style acquirers answer a repeated
//! settlement the same way), other totals get 95 (reconcile error, as for any settlement that
//! does not balance) with the settled totals in 48. A batch settled before the host kept
//! totals per batch (none recorded) is acknowledged with 00. Batch upload (0320) books no
//! record the host already settled, so an upload after that 95 never books it twice.

use super::*;
use crate::hostsim::ledger::SettledBatch;

impl Engine {
    pub(super) fn upload(&mut self, req: &Message, tid: &str) -> Option<Message> {
        self.ledger.uploads += 1;
        let orig: Option<u32> = req
            .subfield(profile(), 61, "61.2")
            .ok()
            .flatten()
            .and_then(|s| s.parse().ok());
        let known = orig.is_some_and(|s| {
            self.ledger.entries.iter().any(|e| {
                e.terminal_id == tid
                    && e.stan == s
                    && (e.counts() || (e.settled && e.approved && !e.reversed && !e.voided))
            })
        });
        let r = self.reply(req, "00")?;
        if !known {
            let amount = req.amount().ok().flatten().unwrap_or(0);
            let credit = req.processing_code().is_some_and(|p| p.starts_with("20"));
            let i = self.push_entry(
                tid,
                req,
                &r,
                Booking {
                    kind: TxnKind::Uploaded,
                    amount,
                    approved: true,
                    arqc: None,
                },
            );
            if let Some(e) = self.ledger.entries.get_mut(i) {
                e.stan = orig.unwrap_or(0);
                e.credit = credit;
                e.rrn = req.rrn().unwrap_or("").to_string();
            }
        }
        Some(r)
    }

    /// The batch number (60.2) an entry's request carried, from the cached response (which
    /// echoes field 60); `None` when unknown (uploaded records, never-cached requests).
    fn entry_batch(&self, tid: &str, e: &LedgerEntry) -> Option<u32> {
        let mtis: &[&str] = match e.kind {
            TxnKind::PreAuth => &["0100"],
            TxnKind::Refund | TxnKind::Offline => &["0220"],
            TxnKind::Uploaded => &[],
            _ => &["0200"],
        };
        mtis.iter().find_map(|m| {
            let mti = Mti::new(m).ok()?;
            let r = self.cache.get(&(tid.to_string(), mti, e.stan))?;
            if r.rrn() != Some(e.rrn.as_str()) {
                return None;
            }
            r.subfield(profile(), 60, "60.2")
                .ok()
                .flatten()?
                .parse()
                .ok()
        })
    }

    /// Whether `e` is counted by a settlement of `batch` (its own batch or an earlier one).
    fn in_settlement(&self, tid: &str, e: &LedgerEntry, batch: Option<u32>) -> bool {
        e.terminal_id == tid
            && e.counts()
            && match (batch, self.entry_batch(tid, e)) {
                (Some(b), Some(own)) => own <= b,
                _ => true,
            }
    }

    pub(super) fn totals(&self, tid: &str, batch: Option<u32>) -> BatchTotals {
        let mut t = BatchTotals::default();
        for e in self
            .ledger
            .entries
            .iter()
            .filter(|e| self.in_settlement(tid, e, batch))
        {
            if e.credit {
                t.credit_count += 1;
                t.credit_amount += e.amount;
            } else {
                t.debit_count += 1;
                t.debit_amount += e.amount;
            }
        }
        t
    }

    pub(super) fn settlement(&mut self, req: &Message, tid: &str) -> Option<Message> {
        let theirs = req.text(48).and_then(BatchTotals::from_field48);
        let batch: Option<u32> = req
            .subfield(profile(), 60, "60.2")
            .ok()
            .flatten()
            .and_then(|b| b.parse().ok());
        let ours = self.totals(tid, batch);
        let already_settled = batch.is_some_and(|b| {
            self.terminals.get(tid).is_some_and(|t| b < t.batch) && ours == BatchTotals::default()
        });
        // A repeat of a settled batch answers with (and is checked against) its settled totals.
        let settled_totals = batch
            .filter(|_| already_settled)
            .and_then(|b| self.ledger.settled_totals(tid, b));
        let ours = settled_totals.unwrap_or(ours);
        let code = match theirs {
            None => "30",
            Some(t) if already_settled && settled_totals.is_some_and(|s| s != t) => "95",
            Some(_) if already_settled => "00",
            Some(t) if t == ours => "00",
            Some(_) => "95",
        };
        if code == "00" && !already_settled {
            let settled: Vec<usize> = (0..self.ledger.entries.len())
                .filter(|i| {
                    self.ledger
                        .entries
                        .get(*i)
                        .is_some_and(|e| self.in_settlement(tid, e, batch))
                })
                .collect();
            for i in settled {
                if let Some(e) = self.ledger.entries.get_mut(i) {
                    e.settled = true;
                }
            }
            if let Some(t) = self.terminals.get_mut(tid) {
                t.batch = t.batch.saturating_add(1);
            }
            if let Some(b) = batch {
                self.ledger.settled_batches.push(SettledBatch {
                    terminal_id: tid.to_string(),
                    batch: b,
                    totals: ours,
                });
            }
        }
        self.ledger.settlements.push(SettlementRecord {
            terminal_id: tid.to_string(),
            network_code: req
                .subfield(profile(), 60, "60.3")
                .ok()
                .flatten()
                .unwrap_or("")
                .to_string(),
            response_code: code.to_string(),
        });
        let mut r = self.reply(req, code)?;
        if let Some(f) = ours.to_field48() {
            r.set_text(48, &f).ok()?;
        }
        Some(r)
    }
}
