//! QR orders: scan-to-pay (pay with a wallet code, pending until N polls), merchant-presented
//! orders (created unpaid with an EMVCo MPM payload; paid by a simulated wallet scanning it, or
//! after N polls), query (by RRN, or by batch + STAN after a terminal restart) and revoke.

use super::*;
use smartpos_qr::mpm::{self, MerchantAccount, MerchantPresentedQr, Template};

/// GUID of the simulator's Merchant Account Information template (ID 26, EMV QRCPS-MPM v1.1
/// §4.5.1: a reverse domain name). Sub-IDs: 01 merchant ID (field 42), 02 order RRN, 03
/// terminal ID (field 41).
pub(crate) const ACCOUNT_GUID: &str = "cn.smartpos.hostsim";
/// Template ID the simulator's orders use.
const ACCOUNT_ID: u8 = 26;

/// Why the simulated wallet could not pay the code it scanned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WalletPayError {
    /// The text is not an EMVCo MPM payload (bad framing, bad CRC, bad field).
    #[error("not a merchant-presented QR payload: {0}")]
    NotMpm(String),
    /// The payload has no account template of this host (GUID `cn.smartpos.hostsim`).
    #[error("no merchant account template of this host (ID 26, GUID {ACCOUNT_GUID})")]
    OtherAcquirer,
    /// The order RRN in the template names no order of this host.
    #[error("unknown order {0:?}")]
    UnknownOrder(String),
    /// The amount in the payload (ID 54) is not the order's.
    #[error("order {order}: payload amount {payload:?} is not the order amount {expected:?}")]
    AmountMismatch {
        /// Order RRN.
        order: String,
        /// ID 54 as found.
        payload: String,
        /// The order's amount, formatted.
        expected: String,
    },
    /// The order is already paid or was revoked.
    #[error("order {order} is not waiting for a payment (already paid or revoked)")]
    NotPending {
        /// Order RRN.
        order: String,
    },
}

/// ID 54 text of `minor` units: ISO 4217 exponent 0 for JPY (392) and KRW (410), else 2; "."
/// as the decimal mark (EMV QRCPS-MPM v1.1 §4.6.3).
pub(crate) fn mpm_amount(minor: u64, currency: &str) -> String {
    match currency {
        "392" | "410" => minor.to_string(),
        _ => format!("{}.{:02}", minor / 100, minor % 100),
    }
}

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

    /// A merchant-presented order (0200 320000, 63 = `QRO` + reference): amount rules decline
    /// it, else it is created unpaid (09) with its MPM payload in 62 and the reference echoed in
    /// 63; the ledger holds it as an unapproved QR entry until a wallet pays.
    pub(super) fn qr_order(&mut self, req: &Message, tid: &str) -> Option<Message> {
        let amount = req.amount().ok().flatten().unwrap_or(0);
        let reference = req
            .text(63)
            .and_then(|t| t.get(dialect::qr::ORDER.len()..))
            .unwrap_or("")
            .to_string();
        let code = if amount == 0 {
            "13"
        } else if reference.len() > dialect::qr::ORDER_REF_MAX {
            "30"
        } else {
            self.rule_for(amount).unwrap_or("09")
        };
        let mut r = self.reply(req, code)?;
        let i = self.push_entry(
            tid,
            req,
            &r,
            Booking {
                kind: TxnKind::Qr,
                amount,
                approved: false,
                arqc: None,
            },
        );
        if code != "09" {
            return Some(r);
        }
        let rrn = r.rrn().unwrap_or("").to_string();
        let reference = if reference.is_empty() {
            rrn.clone()
        } else {
            reference
        };
        let currency = req.text(49).unwrap_or("156").to_string();
        let merchant = req.merchant_id().unwrap_or("").to_string();
        let payload = match order_payload(&merchant, tid, &rrn, &reference, amount, &currency) {
            Ok(p) => p,
            Err(e) => {
                log::info!("hostsim: order payload not built: {e}");
                let mut r = self.reply(req, "96")?;
                if let Some(entry) = self.ledger.entries.get_mut(i) {
                    entry.response_code = "96".into();
                }
                r.remove(62);
                return Some(r);
            }
        };
        r.set_binary(62, payload.as_bytes()).ok()?;
        r.set_text(63, &format!("{}{reference}", dialect::qr::ORDER))
            .ok()?;
        self.qr_orders.insert(
            rrn,
            QrOrder {
                polls_left: self.qr_polls,
                state: QrState::Pending,
                entry: i,
            },
        );
        Some(r)
    }

    /// The simulated customer's wallet scanned `payload` and pays: the order named in this
    /// host's account template becomes paid (the next query answers 00) and its ledger entry
    /// approved, so settlement totals count it.
    pub(crate) fn wallet_pay(&mut self, payload: &str) -> Result<String, WalletPayError> {
        let parsed = mpm::parse(payload).map_err(|e| WalletPayError::NotMpm(e.to_string()))?;
        let template = parsed
            .qr
            .merchant_accounts
            .iter()
            .find_map(|a| match &a.info {
                mpm::AccountInfo::Template(t) if t.guid == ACCOUNT_GUID => Some(t),
                _ => None,
            })
            .ok_or(WalletPayError::OtherAcquirer)?;
        let rrn = template.field(2).unwrap_or("").to_string();
        let currency = parsed.qr.transaction_currency.clone();
        let found = parsed.qr.transaction_amount.clone().unwrap_or_default();
        let Some(order) = self.qr_orders.get_mut(&rrn) else {
            return Err(WalletPayError::UnknownOrder(rrn));
        };
        let entry = self.ledger.entries.get_mut(order.entry);
        let expected = entry
            .as_ref()
            .map(|e| mpm_amount(e.amount, &currency))
            .unwrap_or_default();
        if found != expected {
            return Err(WalletPayError::AmountMismatch {
                order: rrn,
                payload: found,
                expected,
            });
        }
        if order.state != QrState::Pending {
            return Err(WalletPayError::NotPending { order: rrn });
        }
        order.state = QrState::Paid;
        if let Some(e) = entry {
            e.approved = true;
            e.response_code = "00".into();
        }
        Ok(rrn)
    }

    /// The order a query or revoke names: by RRN (37), or, without 37, by 61 = batch + STAN of
    /// the order request from this terminal (the newest unsettled one).
    fn qr_order_named(&self, req: &Message, tid: &str) -> Option<String> {
        if let Some(rrn) = req.rrn() {
            return Some(rrn.to_string());
        }
        let stan: u32 = req.text(61).and_then(|t| t.get(6..12))?.parse().ok()?;
        self.qr_orders
            .iter()
            .filter(|(_, o)| {
                self.ledger
                    .entries
                    .get(o.entry)
                    .is_some_and(|e| e.terminal_id == tid && e.stan == stan && !e.settled)
            })
            .max_by_key(|(_, o)| o.entry)
            .map(|(rrn, _)| rrn.clone())
    }

    pub(super) fn qr_follow_up(&mut self, req: &Message, revoke: bool) -> Option<Message> {
        let tid = req.terminal_id().unwrap_or("").to_string();
        let rrn = self.qr_order_named(req, &tid).unwrap_or_default();
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
        if rrn.is_empty() {
            r.remove(37);
        } else {
            r.set_rrn(&rrn).ok()?;
        }
        Some(r)
    }
}

/// The EMVCo MPM payload of an order (EMV QRCPS-MPM v1.1 §4): dynamic (01 = 12), this host's
/// account template (26) with the merchant ID, order RRN and terminal ID, MCC 5999, currency
/// (53) and amount (54) of the order, CN / SHANGHAI, and the terminal's order reference as the
/// Reference Label (62.05) with the terminal ID as Terminal Label (62.07); CRC added by the
/// builder.
fn order_payload(
    merchant_id: &str,
    tid: &str,
    rrn: &str,
    reference: &str,
    amount: u64,
    currency: &str,
) -> Result<String, smartpos_qr::QrError> {
    let account = Template::new(ACCOUNT_ID, ACCOUNT_GUID)
        .with_field(1, merchant_id)
        .with_field(2, rrn)
        .with_field(3, tid);
    MerchantPresentedQr::builder()
        .point_of_initiation(mpm::PointOfInitiation::Dynamic)
        .merchant_account(MerchantAccount::template(account))
        .merchant_category_code("5999")
        .transaction_currency(currency)
        .transaction_amount(mpm_amount(amount, currency))
        .country_code("CN")
        .merchant_name("SMARTPOS HOSTSIM MERCHANT")
        .merchant_city("SHANGHAI")
        .reference_label(reference)
        .terminal_label(tid)
        .build()?
        .to_payload()
}
