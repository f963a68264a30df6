//! Financial messages: sale and pre-authorisation, completion, void, refund, balance inquiry,
//! offline advice and reversal.

use super::*;
use crate::hostsim::ledger::ValueAddedRecord;
use smartpos_host::{ResponseCode, ValueAddedData};

impl Engine {
    pub(super) fn sale(&mut self, req: &Message, tid: &str, kind: TxnKind) -> Option<Message> {
        // Value-added data (dialect: 63 = VAD + ORD/MBR/CPN): malformed → 30, nothing booked.
        let value_added = match req.get(63) {
            Some(f63) if f63.starts_with(dialect::value_added::MARKER.as_bytes()) => {
                match ValueAddedData::from_field63(f63) {
                    Ok(v) => Some(v),
                    Err(e) => {
                        log::info!("hostsim: format error in field 63: {e}");
                        self.ledger.format_errors += 1;
                        return self.reply(req, ResponseCode::FORMAT_ERROR.as_str());
                    }
                }
            }
            _ => None,
        };
        let amount = req.amount().ok().flatten().unwrap_or(0);
        let out = self.authorise_card(req, tid, amount, true);
        let mut r = self.reply(req, out.code)?;
        let approved = out.code == "00";
        if approved {
            let seq = self.next_seq();
            r.set_auth_code(&format!("{:06}", seq % 1_000_000)).ok()?;
            if kind != TxnKind::PreAuth {
                if let Some(p) = &out.pan {
                    self.adjust_balance(p, amount, 0);
                }
            }
        }
        if let (Some(ctx), Some(pan)) = (&out.arpc, &out.pan) {
            if let Some(d) = self.issuer_data(ctx, out.code, pan) {
                r.set_binary(55, &d).ok()?;
            }
        }
        let entry = self.push_entry(
            tid,
            req,
            &r,
            Booking {
                kind,
                amount,
                approved,
                arqc: out.arqc_verified,
            },
        );
        if let Some(e) = self.ledger.entries.get_mut(entry) {
            e.value_added = value_added.map(|data| ValueAddedRecord {
                terminal_id: tid.to_string(),
                stan: stan_of(req).unwrap_or(0),
                entry,
                data,
            });
        }
        Some(r)
    }

    pub(super) fn original(&self, tid: &str, req: &Message, kind: TxnKind) -> Option<usize> {
        let stan: u32 = req
            .subfield(profile(), 61, "61.2")
            .ok()
            .flatten()?
            .parse()
            .ok()?;
        self.ledger.entries.iter().rposition(|e| {
            e.terminal_id == tid
                && e.stan == stan
                && e.kind == kind
                && e.approved
                && !e.reversed
                && !e.voided
        })
    }

    pub(super) fn void(&mut self, req: &Message, tid: &str) -> Option<Message> {
        let amount = req.amount().ok().flatten().unwrap_or(0);
        let found = self.original(tid, req, TxnKind::Sale).filter(|i| {
            self.ledger
                .entries
                .get(*i)
                .is_some_and(|e| Some(e.rrn.as_str()) == req.rrn() && e.amount == amount)
        });
        let Some(i) = found else {
            let r = self.reply(req, "25")?;
            self.push_entry(
                tid,
                req,
                &r,
                Booking {
                    kind: TxnKind::Void,
                    amount,
                    approved: false,
                    arqc: None,
                },
            );
            return Some(r);
        };
        let mut r = self.reply(req, "00")?;
        r.set_auth_code(req.auth_code().unwrap_or("000000")).ok()?;
        if let Some(e) = self.ledger.entries.get_mut(i) {
            e.voided = true;
        }
        if let Some(p) = pan_of(req) {
            self.adjust_balance(&p, 0, amount);
        }
        let v = self.push_entry(
            tid,
            req,
            &r,
            Booking {
                kind: TxnKind::Void,
                amount,
                approved: true,
                arqc: None,
            },
        );
        self.void_of.insert(v, i);
        Some(r)
    }

    pub(super) fn completion(&mut self, req: &Message, tid: &str) -> Option<Message> {
        let amount = req.amount().ok().flatten().unwrap_or(0);
        let found = self.original(tid, req, TxnKind::PreAuth).filter(|i| {
            self.ledger.entries.get(*i).is_some_and(|e| {
                Some(e.auth_code.as_str()) == req.auth_code()
                    && amount <= e.amount.saturating_mul(115) / 100
            })
        });
        let code = if found.is_none() {
            "25"
        } else {
            let pan = pan_of(req).unwrap_or_default();
            match self.cards.get(&pan).and_then(|c| c.balance) {
                Some(b) if amount > b => "51",
                _ => "00",
            }
        };
        let mut r = self.reply(req, code)?;
        let approved = code == "00";
        if approved {
            r.set_auth_code(req.auth_code().unwrap_or("000000")).ok()?;
            if let Some(p) = pan_of(req) {
                self.adjust_balance(&p, amount, 0);
            }
        }
        self.push_entry(
            tid,
            req,
            &r,
            Booking {
                kind: TxnKind::Completion,
                amount,
                approved,
                arqc: None,
            },
        );
        Some(r)
    }

    pub(super) fn refund(&mut self, req: &Message, tid: &str) -> Option<Message> {
        let amount = req.amount().ok().flatten().unwrap_or(0);
        let rrn = req.rrn().unwrap_or("");
        let found = self.ledger.entries.iter().position(|e| {
            e.rrn == rrn
                && e.approved
                && !e.reversed
                && !e.voided
                && matches!(e.kind, TxnKind::Sale | TxnKind::Completion | TxnKind::Qr)
        });
        let code = match found.and_then(|i| self.ledger.entries.get(i)) {
            None => "25",
            Some(e) if amount > e.amount => "13",
            Some(_) => "00",
        };
        let r = self.reply(req, code)?;
        let approved = code == "00";
        if approved {
            if let Some(p) = pan_of(req) {
                self.adjust_balance(&p, 0, amount);
            }
        }
        self.push_entry(
            tid,
            req,
            &r,
            Booking {
                kind: TxnKind::Refund,
                amount,
                approved,
                arqc: None,
            },
        );
        Some(r)
    }

    pub(super) fn balance_inquiry(&mut self, req: &Message, tid: &str) -> Option<Message> {
        let out = self.authorise_card(req, tid, 0, false);
        let balance = out
            .pan
            .as_ref()
            .and_then(|p| self.cards.get(p))
            .and_then(|c| c.balance);
        let code = match (out.code, balance) {
            ("00", None) => "40",
            (c, _) => c,
        };
        let mut r = self.reply(req, code)?;
        if let (Some(b), "00") = (balance, code) {
            r.set_amount(4, b).ok()?;
        }
        Some(r)
    }

    pub(super) fn advice(&mut self, req: &Message, tid: &str) -> Option<Message> {
        self.ledger.advice_requests += 1;
        let amount = req.amount().ok().flatten().unwrap_or(0);
        let pan = pan_of(req).unwrap_or_default();
        let verified = self.check_arqc(req, &pan).map(|(ok, _)| ok);
        let r = self.reply(req, "00")?;
        self.adjust_balance(&pan, amount, 0);
        self.push_entry(
            tid,
            req,
            &r,
            Booking {
                kind: TxnKind::Offline,
                amount,
                approved: true,
                arqc: verified,
            },
        );
        Some(r)
    }

    pub(super) fn reversal(&mut self, req: &Message, tid: &str) -> Option<Message> {
        let stan = stan_of(req)?;
        let idx = self
            .ledger
            .entries
            .iter()
            .rposition(|e| e.terminal_id == tid && e.stan == stan);
        let Some(i) = idx else {
            return self.reply(req, "25");
        };
        let (apply, kind, amount, rrn) = {
            let e = self.ledger.entries.get_mut(i)?;
            e.reversal_requests += 1;
            let apply = e.approved && !e.reversed;
            if apply {
                e.reversed = true;
            }
            (apply, e.kind, e.amount, e.rrn.clone())
        };
        if apply {
            self.ledger.reversals_applied += 1;
            let pan = pan_of(req).unwrap_or_default();
            match kind {
                TxnKind::Sale | TxnKind::Completion | TxnKind::Offline => {
                    self.adjust_balance(&pan, 0, amount)
                }
                TxnKind::Void => {
                    if let Some(orig) = self.void_of.get(&i).copied() {
                        if let Some(o) = self.ledger.entries.get_mut(orig) {
                            o.voided = false;
                        }
                        self.adjust_balance(&pan, amount, 0);
                    }
                }
                TxnKind::Qr => {
                    if let Some(o) = self.qr_orders.get_mut(&rrn) {
                        o.state = QrState::Revoked;
                    }
                }
                _ => {}
            }
        }
        self.reply(req, "00")
    }
}
