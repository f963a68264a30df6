//! QR payments through the host's QR sub-protocol (`smartpos_host::dialect`):
//!
//! * scan-to-pay: the customer's wallet payment code scanned by the terminal (WeChat Pay,
//!   Alipay, UnionPay, e-CNY codes recognised by smartpos-qr): pay → pending → query until paid;
//! * merchant-presented (EMV QRCPS-MPM v1.1): the host creates an unpaid order and its MPM
//!   payload, the terminal shows it on the [`crate::devices::QrDisplay`] ("scan this code with
//!   your wallet") and queries until the customer's wallet paid it.
//!
//! Both journal the order before the request (`qr_order_placed`: online pending), poll with
//! the configured interval and limit and the cancel token through one loop, and revoke the
//! order when polling gives up or the sale is cancelled. An order whose outcome the terminal
//! could not learn (host unreachable, revoke unanswered) stays `online_pending` with its QR
//! state `pay`/`polling`: the journal flags it for a status query at the next open, and
//! [`Terminal::resolve_qr_orders`] asks the host (by the order request's STAN) and finishes it.

use crate::cancel::CancelToken;
use crate::devices::DeviceError;
use crate::error::{Result, TerminalError};
use crate::events::{self, Event, MessageId, Step as Progress};
use crate::journal_host;
use crate::records::{Status, TransactionOutcome};
use crate::terminal::{Payment, Terminal};
use smartpos_host::dialect::QrMerchantOrder;
use smartpos_host::{HostError, LinkError, QrOrder, QrStatus};
use smartpos_journal::{QrPaid, QrState, TxnId};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// What the host says about an order whose request got no believed answer.
enum Lost {
    /// The host has it (with its RRN and status).
    Found(QrOrder),
    /// The host does not know it (25): the request never arrived.
    NeverArrived,
    /// No believed answer either: left for the status query at the next open.
    Unknown,
}

/// How polling an order ended.
enum PollEnd {
    /// The wallet paid.
    Paid,
    /// The host closed the order (revoked at the poll limit or on cancel, or by the host).
    Revoked,
    /// The order's fate is unknown: the revoke got no believed answer. It stays for a status
    /// query at the next open.
    Unresolved(TerminalError),
}

/// Whether a revoke answer proves the order closed at the host: revoked (00/12), or unknown to
/// it (25). Any other answer (still 09, a MAC failure, no answer) leaves its fate open.
fn revoked(answer: &std::result::Result<QrStatus, HostError>) -> bool {
    match answer {
        Ok(s) => *s == QrStatus::Revoked,
        Err(HostError::Declined { code, .. }) => code.as_str() == "25",
        Err(_) => false,
    }
}

fn still_open() -> TerminalError {
    TerminalError::Qr("the host kept the order open after the revoke (09)".into())
}

fn revoked_because(cancel: &CancelToken) -> &'static str {
    if cancel.is_cancelled() {
        "cancelled"
    } else {
        "not paid in time"
    }
}

/// True when `e` proves the request never left the terminal (nothing to undo at the host).
fn not_sent(e: &HostError) -> bool {
    match e {
        HostError::Link(l) => matches!(
            l,
            LinkError::Address { .. }
                | LinkError::Connect { .. }
                | LinkError::TlsConfig(_)
                | LinkError::TlsHandshake { .. }
                | LinkError::NotConnected
        ),
        HostError::Build(_)
        | HostError::NotSignedOn(_)
        | HostError::InvalidRequest { .. }
        | HostError::Cancelled { sent: false } => true,
        _ => false,
    }
}

/// Minor units of an MPM Transaction Amount (ID 54, EMV QRCPS-MPM v1.1 §4.6.3: digits with an
/// optional "." and at most `exponent` decimals).
fn mpm_minor_units(text: &str, exponent: u32) -> Option<u64> {
    let (units, fraction) = text.split_once('.').unwrap_or((text, ""));
    if units.is_empty()
        || !units.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || fraction.len() > exponent as usize
    {
        return None;
    }
    let scale = 10u64.checked_pow(exponent)?;
    let frac_scale = 10u64.checked_pow(exponent - fraction.len() as u32)?;
    let frac: u64 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().ok()?
    };
    units
        .parse::<u64>()
        .ok()?
        .checked_mul(scale)?
        .checked_add(frac.checked_mul(frac_scale)?)
}

/// What the terminal checks before it shows the host's payload to a customer: an EMVCo MPM
/// (CRC verified, EMV QRCPS-MPM v1.1 §4.7.1) whose Transaction Currency (53) is the terminal's,
/// whose Transaction Amount (54) is the sale total — a code without an amount would let the
/// wallet pay any amount — and whose Reference Label (62.05), when present, is this order's.
fn check_payload(
    order: &QrMerchantOrder,
    total: u64,
    currency: &str,
) -> std::result::Result<(), String> {
    let parsed = smartpos_qr::mpm::parse(&order.qr_payload)
        .map_err(|e| format!("the host's order payload is not a valid EMVCo MPM: {e}"))?;
    let qr = &parsed.qr;
    if qr.transaction_currency != currency {
        return Err(format!(
            "the host's order payload has currency {} (ID 53), the terminal uses {currency}",
            qr.transaction_currency
        ));
    }
    let (_, exponent) = crate::receipt::currency(currency);
    let amount = qr
        .transaction_amount
        .as_deref()
        .ok_or("the host's order payload has no amount (ID 54)")?;
    match mpm_minor_units(amount, exponent) {
        Some(a) if a == total => {}
        _ => {
            return Err(format!(
                "the host's order payload asks for {amount:?} (ID 54), the sale total is {total} minor units"
            ));
        }
    }
    let label = qr
        .additional_data
        .as_ref()
        .and_then(|d| d.reference_label.as_deref());
    match label {
        Some(l) if l != order.order_ref => Err(format!(
            "the host's order payload is labelled {l:?} (ID 62.05), the order is {:?}",
            order.order_ref
        )),
        _ => Ok(()),
    }
}

impl Terminal {
    /// Scan and classify the customer's payment code.
    pub(crate) fn scan_wallet_code(&mut self, cancel: &CancelToken) -> Result<Zeroizing<String>> {
        events::prompt(&*self.events(), MessageId::ScanCode);
        let timeout = Duration::from_millis(self.settings.card_timeout_ms);
        let code = match self.devices.qr_scanner.scan(timeout, cancel) {
            Ok(c) => Zeroizing::new(c),
            Err(DeviceError::Cancelled) => {
                return Err(TerminalError::Cancelled {
                    step: "scanning the wallet code",
                });
            }
            Err(e) => {
                return Err(TerminalError::Device {
                    device: "QR scanner",
                    reason: e.to_string(),
                });
            }
        };
        smartpos_qr::wallet::WalletCode::parse(code.trim())
            .map_err(|e| TerminalError::Qr(format!("not a wallet payment code: {e}")))?;
        Ok(code)
    }

    /// Pay with a scanned wallet code: order placed in the journal before the request, then
    /// paid, or polled while the customer confirms on the phone ("see phone"), or revoked.
    pub(crate) fn wallet_payment(
        &mut self,
        p: Payment<'_>,
        code: &str,
        cancel: &CancelToken,
    ) -> Result<TransactionOutcome> {
        let wallet = smartpos_qr::wallet::WalletCode::parse(code.trim())
            .map(|w| w.wallet().as_str().to_string())
            .ok();
        self.resolve_qr_orders_first();
        let order_ref = format!("{}{:06}", self.settings.terminal_id, p.record.invoice);
        journal_host::lock(&self.journal).qr_order_placed(p.id, &order_ref)?;
        self.devices.events.event(&Event::Progress {
            step: Progress::Online,
        });
        self.host.set_last_stan(p.record.stan.saturating_sub(1));
        let order = match self.host.qr_pay(p.total, code.trim()) {
            Ok(o) => o,
            Err(HostError::Declined { code, .. }) => {
                journal_host::lock(&self.journal).qr_cancelled(
                    p.id,
                    QrState::Closed,
                    &format!("declined {}", code.as_str()),
                )?;
                events::prompt(&*self.events(), MessageId::Declined);
                return self.outcome(p.id, Status::Declined);
            }
            Err(e) if not_sent(&e) => {
                journal_host::lock(&self.journal).qr_cancelled(
                    p.id,
                    QrState::Closed,
                    "order not sent: host unreachable",
                )?;
                events::prompt(&*self.events(), MessageId::NotAuthorised);
                return Err(TerminalError::Host(e));
            }
            // Sent without a believed answer: the wallet may have paid. Ask the host.
            Err(e) => match self.find_lost_order(p.record.stan, p.total)? {
                Lost::Found(order) => order,
                Lost::NeverArrived => {
                    journal_host::lock(&self.journal).qr_cancelled(
                        p.id,
                        QrState::Closed,
                        "order unknown at the host",
                    )?;
                    events::prompt(&*self.events(), MessageId::NotAuthorised);
                    return Err(TerminalError::Host(e));
                }
                Lost::Unknown => {
                    events::prompt(&*self.events(), MessageId::NotAuthorised);
                    return Err(TerminalError::Host(e));
                }
            },
        };
        let end = match order.status {
            QrStatus::Pending => {
                events::prompt(&*self.events(), MessageId::SeePhone);
                journal_host::lock(&self.journal).qr_polling(p.id)?;
                self.poll_order(&order, cancel)?
            }
            QrStatus::Paid => PollEnd::Paid,
            QrStatus::Revoked => PollEnd::Revoked,
        };
        self.finish_order(p.id, &order.rrn, wallet, end, revoked_because(cancel))
    }

    /// Point the host client's next STAN at a fresh journal STAN: follow-up messages (query,
    /// revoke) are not journalled transactions but must not reuse a trace number a later
    /// transaction will get (ISO 8583 field 11 is unique per terminal and day).
    fn fresh_stan(&mut self) -> Result<()> {
        let stan = journal_host::lock(&self.journal).next_stan()?;
        self.host.set_last_stan(stan.saturating_sub(1));
        Ok(())
    }

    /// Query `order` every `qr_poll_interval_ms` until it is no longer pending; at
    /// `qr_max_polls` queries, or as soon as `cancel` is set, revoke it. A query without a
    /// believed answer counts as still pending.
    fn poll_order(&mut self, order: &QrOrder, cancel: &CancelToken) -> Result<PollEnd> {
        let interval = Duration::from_millis(self.settings.qr_poll_interval_ms);
        let mut polls = 0u32;
        loop {
            if cancel.is_cancelled() || polls >= self.settings.qr_max_polls {
                self.fresh_stan()?;
                let answer = self.host.qr_revoke(order);
                return Ok(match answer {
                    _ if revoked(&answer) => PollEnd::Revoked,
                    Ok(QrStatus::Paid) => PollEnd::Paid,
                    Ok(_) => PollEnd::Unresolved(still_open()),
                    Err(e) => PollEnd::Unresolved(TerminalError::Host(e)),
                });
            }
            // Sleep in short slices so a cancel is seen within 50 ms.
            let until = Instant::now() + interval;
            while !cancel.is_cancelled() {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                std::thread::sleep(left.min(Duration::from_millis(50)));
            }
            if cancel.is_cancelled() {
                continue;
            }
            polls += 1;
            self.fresh_stan()?;
            // A cancel also ends the wait for this query's answer (the revoke after it is sent
            // without the hook, so it is not cancelled too).
            self.host.set_cancel(Some(cancel.host_hook()));
            let answer = self.host.qr_query(order);
            self.host.set_cancel(None);
            match answer {
                Ok(QrStatus::Pending) => {}
                Ok(QrStatus::Paid) => return Ok(PollEnd::Paid),
                Ok(QrStatus::Revoked) => return Ok(PollEnd::Revoked),
                Err(e) => log::info!("QR order query {polls}: {e}; still pending"),
            }
        }
    }

    /// Journal the end of a polled order and tell the customer.
    fn finish_order(
        &mut self,
        id: TxnId,
        rrn: &str,
        scheme: Option<String>,
        end: PollEnd,
        revoked_because: &str,
    ) -> Result<TransactionOutcome> {
        let result = match end {
            PollEnd::Paid => {
                journal_host::lock(&self.journal).qr_paid(
                    id,
                    &QrPaid {
                        wallet_txn_id: rrn.to_string(),
                        scheme,
                        host_time: None,
                    },
                )?;
                journal_host::lock(&self.journal)
                    .complete(id, &smartpos_journal::Completion::default())?;
                events::prompt(&*self.events(), MessageId::Approved);
                Status::Approved
            }
            PollEnd::Revoked => {
                journal_host::lock(&self.journal).qr_cancelled(
                    id,
                    QrState::Revoked,
                    revoked_because,
                )?;
                events::prompt(&*self.events(), MessageId::Cancelled);
                Status::Revoked
            }
            PollEnd::Unresolved(e) => {
                events::prompt(&*self.events(), MessageId::NotAuthorised);
                return Err(e);
            }
        };
        self.events().event(&Event::Progress {
            step: Progress::Done,
        });
        self.outcome(id, result)
    }

    /// Merchant-presented QR sale (EMV QRCPS-MPM v1.1): the journalled QR sale becomes online
    /// pending with its order reference (terminal ID + invoice) before the order request; the
    /// host's order payload is checked ([`check_payload`]) and shown on the QR display with
    /// the "scan this code with your wallet" prompt and an [`Event::MerchantQr`]; the order is
    /// polled until paid (approved, completed), revoked at the poll limit or on cancel
    /// (declined, `Status::Revoked`), or left for a status query at the next open when the
    /// host stops answering. The display is cleared at the end.
    pub(crate) fn merchant_qr_payment(
        &mut self,
        p: Payment<'_>,
        cancel: &CancelToken,
    ) -> Result<TransactionOutcome> {
        self.resolve_qr_orders_first();
        let order_ref = format!("{}{:06}", self.settings.terminal_id, p.record.invoice);
        journal_host::lock(&self.journal).qr_order_placed(p.id, &order_ref)?;
        crate::crashpoint::hit("qr_order_placed");
        self.devices.events.event(&Event::Progress {
            step: Progress::Online,
        });
        self.host.set_last_stan(p.record.stan.saturating_sub(1));
        // A cancel ends the wait for the order's answer: nothing sent → closed; sent → the
        // order is looked up and closed as after a lost answer.
        self.host.set_cancel(Some(cancel.host_hook()));
        let created = self.host.qr_create_order(p.total, Some(&order_ref));
        self.host.set_cancel(None);
        let order = match created {
            Ok(o) => o,
            Err(HostError::Declined { code, .. }) => {
                journal_host::lock(&self.journal).qr_cancelled(
                    p.id,
                    QrState::Closed,
                    &format!("order refused: {}", code.as_str()),
                )?;
                events::prompt(&*self.events(), MessageId::Declined);
                return self.outcome(p.id, Status::Declined);
            }
            Err(HostError::Cancelled { sent: false }) => {
                journal_host::lock(&self.journal).qr_cancelled(
                    p.id,
                    QrState::Closed,
                    "cancelled before the order was sent",
                )?;
                events::prompt(&*self.events(), MessageId::Cancelled);
                return Err(TerminalError::Cancelled {
                    step: "placing the QR order",
                });
            }
            Err(e) if not_sent(&e) => {
                journal_host::lock(&self.journal).qr_cancelled(
                    p.id,
                    QrState::Closed,
                    "order not sent: host unreachable",
                )?;
                events::prompt(&*self.events(), MessageId::NotAuthorised);
                return Err(TerminalError::Host(e));
            }
            // Sent, but no believed answer (or cancelled while waiting for it): the order may
            // exist at the host. Nobody saw its
            // code, so close it (revoke by the RRN the host names); a paid one is kept as paid.
            Err(e) => {
                let closed = match self.find_lost_order(p.record.stan, p.total)? {
                    Lost::Found(found) if found.status == QrStatus::Paid => {
                        return self.finish_order(
                            p.id,
                            &found.rrn,
                            None,
                            PollEnd::Paid,
                            "not paid in time",
                        );
                    }
                    Lost::Found(found) if found.status == QrStatus::Pending => {
                        self.fresh_stan()?;
                        revoked(&self.host.qr_revoke(&found))
                    }
                    Lost::Found(_) | Lost::NeverArrived => true,
                    Lost::Unknown => false,
                };
                let cancelled = e.cancelled().is_some();
                if closed {
                    journal_host::lock(&self.journal).qr_cancelled(
                        p.id,
                        QrState::Closed,
                        if cancelled {
                            "cancelled while the order was on its way; closed at the host"
                        } else {
                            "no usable answer to the order; closed at the host"
                        },
                    )?;
                }
                if cancelled {
                    events::prompt(&*self.events(), MessageId::Cancelled);
                    return Err(TerminalError::Cancelled {
                        step: "placing the QR order",
                    });
                }
                events::prompt(&*self.events(), MessageId::NotAuthorised);
                return Err(TerminalError::Host(e));
            }
        };
        if let Err(reason) = check_payload(&order, p.total, &self.settings.currency) {
            self.fresh_stan()?;
            if revoked(&self.host.qr_revoke(&order.order())) {
                journal_host::lock(&self.journal).qr_cancelled(
                    p.id,
                    QrState::Closed,
                    "unusable order payload",
                )?;
            } else {
                log::warn!("order with an unusable payload not revoked: left for a status query");
            }
            events::prompt(&*self.events(), MessageId::ProcessingError);
            return Err(TerminalError::Qr(reason));
        }
        self.devices.qr_display.show(&order.qr_payload);
        self.devices.events.event(&Event::MerchantQr {
            payload: order.qr_payload.clone(),
        });
        events::prompt(&*self.events(), MessageId::ShowMerchantQr);
        let polling = journal_host::lock(&self.journal).qr_polling(p.id);
        crate::crashpoint::hit("qr_order_shown");
        let polled = match polling {
            Ok(_) => self.poll_order(&order.order(), cancel),
            Err(e) => Err(e.into()),
        };
        self.devices.qr_display.clear();
        let end = polled?;
        self.finish_order(p.id, &order.rrn, None, end, revoked_because(cancel))
    }

    /// An order request that got no believed answer: ask the host for the order by the
    /// request's STAN (`HostClient::qr_query_by_trace`). The journal is not touched.
    fn find_lost_order(&mut self, stan: u32, amount: u64) -> Result<Lost> {
        self.fresh_stan()?;
        Ok(match self.host.qr_query_by_trace(stan, amount) {
            Ok(found) => Lost::Found(found),
            Err(HostError::Declined { code, .. }) if code.as_str() == "25" => Lost::NeverArrived,
            Err(e) => {
                log::info!("order {stan:06} left for a status query at the next open: {e}");
                Lost::Unknown
            }
        })
    }

    /// Before a new QR order: finish the orders flagged at open (as reversals are flushed
    /// before a new authorisation). A failure only delays them to the next attempt.
    fn resolve_qr_orders_first(&mut self) {
        match self.resolve_qr_orders() {
            Ok(done) if !done.is_empty() => {
                log::info!("{} earlier QR order(s) finished", done.len())
            }
            Ok(_) => {}
            Err(e) => log::warn!("earlier QR orders still waiting for a status query: {e}"),
        }
    }

    /// Finish the QR orders the journal flagged at open for a status query (their outcome was
    /// unknown when the terminal stopped): each is found at the host by the STAN of its order
    /// request (`HostClient::qr_query_by_trace`); paid → approved and completed, revoked or
    /// unknown to the host → declined (closed), still pending → revoked (nobody sees its code
    /// any more). Returns the outcome of every order finished; an order the host does not
    /// answer for stays flagged and the host error is returned.
    pub fn resolve_qr_orders(&mut self) -> Result<Vec<TransactionOutcome>> {
        let pending = journal_host::lock(&self.journal).pending_qr_queries()?;
        if pending.is_empty() {
            return Ok(Vec::new());
        }
        self.ensure_keys()?;
        let mut done = Vec::new();
        for rec in pending {
            let amount = u64::try_from(rec.total()).unwrap_or(0);
            self.fresh_stan()?;
            let found = match self.host.qr_query_by_trace(rec.stan, amount) {
                Ok(found) => found,
                Err(HostError::Declined { code, .. }) if code.as_str() == "25" => {
                    journal_host::lock(&self.journal).qr_cancelled(
                        rec.id,
                        QrState::Closed,
                        "unknown at the host after restart",
                    )?;
                    done.push(self.outcome(rec.id, Status::Declined)?);
                    continue;
                }
                Err(e) => return Err(TerminalError::Host(e)),
            };
            let end = match found.status {
                QrStatus::Paid => PollEnd::Paid,
                QrStatus::Revoked => PollEnd::Revoked,
                QrStatus::Pending => {
                    self.fresh_stan()?;
                    let answer = self.host.qr_revoke(&found);
                    match answer {
                        _ if revoked(&answer) => PollEnd::Revoked,
                        Ok(_) => return Err(still_open()),
                        Err(e) => return Err(TerminalError::Host(e)),
                    }
                }
            };
            done.push(self.finish_order(
                rec.id,
                &found.rrn,
                rec.scheme.clone(),
                end,
                "still unpaid after a restart: revoked",
            )?);
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smartpos_qr::mpm::{MerchantAccount, MerchantPresentedQr, Template};

    fn order_with(payload: String) -> QrMerchantOrder {
        QrMerchantOrder {
            rrn: "300000000001".into(),
            stan: 1,
            amount: 2_372,
            qr_payload: payload,
            order_ref: "12345678000001".into(),
        }
    }

    fn payload(amount: Option<&str>, currency: &str) -> String {
        let mut b = MerchantPresentedQr::builder()
            .merchant_account(MerchantAccount::template(
                Template::new(26, "cn.smartpos.hostsim").with_field(2, "300000000001"),
            ))
            .merchant_category_code("5999")
            .transaction_currency(currency)
            .country_code("CN")
            .merchant_name("SHOP")
            .merchant_city("SHANGHAI");
        if let Some(a) = amount {
            b = b.transaction_amount(a);
        }
        b.build().expect("model").to_payload().expect("payload")
    }

    #[test]
    fn amount_text_to_minor_units() {
        assert_eq!(mpm_minor_units("23.72", 2), Some(2_372));
        assert_eq!(mpm_minor_units("23.7", 2), Some(2_370));
        assert_eq!(mpm_minor_units("23", 2), Some(2_300));
        assert_eq!(mpm_minor_units("23.", 2), Some(2_300));
        assert_eq!(mpm_minor_units("1500", 0), Some(1_500));
        for bad in [
            "",
            ".5",
            "2.345",
            "-1",
            "1,00",
            "1.0a",
            "99999999999999999999",
        ] {
            assert_eq!(mpm_minor_units(bad, 2), None, "{bad:?}");
        }
        assert_eq!(mpm_minor_units("15.5", 0), None);
    }

    proptest::proptest! {
        /// Any amount written as ID 54 with its currency's exponent reads back to itself.
        #[test]
        fn amount_text_round_trips(minor in 0u64..=999_999_999_999, exponent in 0u32..=3) {
            let scale = 10u64.pow(exponent);
            let text = if exponent == 0 {
                minor.to_string()
            } else {
                format!("{}.{:0w$}", minor / scale, minor % scale, w = exponent as usize)
            };
            proptest::prop_assert_eq!(mpm_minor_units(&text, exponent), Some(minor));
        }

        /// Arbitrary text never panics and is only accepted when it is digits with at most
        /// `exponent` decimals.
        #[test]
        fn amount_text_never_panics(text in "\\PC{0,16}", exponent in 0u32..=3) {
            if let Some(v) = mpm_minor_units(&text, exponent) {
                let (units, fraction) = text.split_once('.').unwrap_or((text.as_str(), ""));
                proptest::prop_assert!(units.bytes().all(|b| b.is_ascii_digit()));
                proptest::prop_assert!(fraction.len() <= exponent as usize);
                proptest::prop_assert!(v / 10u64.pow(exponent) == units.parse::<u64>().unwrap_or(u64::MAX));
            }
        }
    }

    #[test]
    fn the_payload_must_ask_for_the_sale_total_in_the_terminal_currency() {
        assert_eq!(
            check_payload(&order_with(payload(Some("23.72"), "156")), 2_372, "156"),
            Ok(())
        );
        let wrong_amount = check_payload(&order_with(payload(Some("23.73"), "156")), 2_372, "156");
        assert!(wrong_amount.is_err_and(|e| e.contains("ID 54")));
        let no_amount = check_payload(&order_with(payload(None, "156")), 2_372, "156");
        assert!(no_amount.is_err_and(|e| e.contains("no amount")));
        let currency = check_payload(&order_with(payload(Some("23.72"), "840")), 2_372, "156");
        assert!(currency.is_err_and(|e| e.contains("ID 53")));
        let labelled = |label: &str| {
            let mut qr = smartpos_qr::mpm::parse(&payload(Some("23.72"), "156"))
                .expect("mpm")
                .qr;
            qr.additional_data = Some(smartpos_qr::mpm::AdditionalData {
                reference_label: Some(label.into()),
                ..Default::default()
            });
            order_with(qr.to_payload().expect("payload"))
        };
        assert_eq!(
            check_payload(&labelled("12345678000001"), 2_372, "156"),
            Ok(())
        );
        let other = check_payload(&labelled("12345678000002"), 2_372, "156");
        assert!(other.is_err_and(|e| e.contains("62.05")));
        let currency = check_payload(&order_with(payload(Some("23.72"), "840")), 2_372, "156");
        assert!(currency.is_err_and(|e| e.contains("ID 53")));
        // A CRC that does not match its payload (EMV QRCPS-MPM v1.1 §4.7.1).
        let mut bad_crc = payload(Some("23.72"), "156");
        let last = bad_crc.pop().map(|c| if c == '0' { '1' } else { '0' });
        bad_crc.extend(last);
        let crc = check_payload(&order_with(bad_crc), 2_372, "156");
        assert!(crc.is_err_and(|e| e.contains("not a valid EMVCo MPM")));
        // id: qr-mpm-emvco-sample — source: EMVCo QRCPS-MPM specification sample payload
        // (published.md; mvallim/emv-qrcode CRCTest.java, dongri/emv-qrcode emv_mpm_test.go):
        // 54 = 23.72, 53 = 156.
        let sample = "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A";
        assert_eq!(
            check_payload(&order_with(sample.into()), 2_372, "156"),
            Ok(())
        );
        assert!(check_payload(&order_with(sample.into()), 2_373, "156").is_err());
    }
}
