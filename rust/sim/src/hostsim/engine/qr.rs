//! QR wallet orders: pay (pending until N polls), query, revoke.

use super::*;

impl Engine {
    pub(super) fn qr_pay(&mut self, req: &Message, tid: &str) -> Option<Message> {
        let amount = req.amount().ok().flatten().unwrap_or(0);
        let code_text = req.text(63).and_then(|t| t.get(3..)).unwrap_or("");
        let code = if code_text.is_empty() {
            "14"
        } else if let Some(c) = self.rule_for(amount) {
            c
        } else if self.qr_polls == 0 {
            "00"
        } else {
            "09"
        };
        let r = self.reply(req, code)?;
        let approved = code == "00";
        let i = self.push_entry(
            tid,
            req,
            &r,
            Booking {
                kind: TxnKind::Qr,
                amount,
                approved,
                arqc: None,
            },
        );
        if code == "00" || code == "09" {
            let rrn = r.rrn().unwrap_or("").to_string();
            self.qr_orders.insert(
                rrn,
                QrOrder {
                    polls_left: self.qr_polls,
                    state: if approved {
                        QrState::Paid
                    } else {
                        QrState::Pending
                    },
                    entry: i,
                },
            );
        }
        Some(r)
    }

    pub(super) fn qr_follow_up(&mut self, req: &Message, revoke: bool) -> Option<Message> {
        let rrn = req.rrn().unwrap_or("").to_string();
        let code = match self.qr_orders.get_mut(&rrn) {
            None => "25",
            Some(o) if revoke => {
                if o.state == QrState::Paid {
                    if let Some(e) = self.ledger.entries.get_mut(o.entry) {
                        e.voided = true;
                    }
                }
                o.state = QrState::Revoked;
                "00"
            }
            Some(o) => match o.state {
                QrState::Revoked => "12",
                QrState::Paid => "00",
                QrState::Pending => {
                    o.polls_left = o.polls_left.saturating_sub(1);
                    if o.polls_left == 0 {
                        o.state = QrState::Paid;
                        if let Some(e) = self.ledger.entries.get_mut(o.entry) {
                            e.approved = true;
                            e.response_code = "00".into();
                        }
                        "00"
                    } else {
                        "09"
                    }
                }
            },
        };
        let mut r = self.reply(req, code)?;
        r.set_rrn(&rrn).ok()?;
        Some(r)
    }
}
