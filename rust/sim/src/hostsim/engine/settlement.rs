//! Settlement (0500: totals in field 48 against the ledger, 95 on mismatch) and batch upload
//! (0320).

use super::*;

impl Engine {
    pub(super) fn upload(&mut self, req: &Message, tid: &str) -> Option<Message> {
        self.ledger.uploads += 1;
        let orig: Option<u32> = req
            .subfield(profile(), 61, "61.2")
            .ok()
            .flatten()
            .and_then(|s| s.parse().ok());
        let known = orig.is_some_and(|s| {
            self.ledger
                .entries
                .iter()
                .any(|e| e.terminal_id == tid && e.stan == s && e.counts())
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

    pub(super) fn totals(&self, tid: &str) -> BatchTotals {
        let mut t = BatchTotals::default();
        for e in self
            .ledger
            .entries
            .iter()
            .filter(|e| e.terminal_id == tid && e.counts())
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
        let ours = self.totals(tid);
        let code = match theirs {
            None => "30",
            Some(t) if t == ours => "00",
            Some(_) => "95",
        };
        if code == "00" {
            for e in self
                .ledger
                .entries
                .iter_mut()
                .filter(|e| e.terminal_id == tid)
            {
                if e.counts() {
                    e.settled = true;
                }
            }
            if let Some(t) = self.terminals.get_mut(tid) {
                t.batch = t.batch.saturating_add(1);
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
