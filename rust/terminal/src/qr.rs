//! QR payments: the customer's wallet payment code scanned by the terminal (WeChat Pay, Alipay,
//! UnionPay, e-CNY codes recognised by smartpos-qr), paid through the host's QR sub-protocol
//! (pay → pending → query until paid, revoke when polling gives up or the sale is cancelled).

use crate::cancel::CancelToken;
use crate::devices::DeviceError;
use crate::error::{Result, TerminalError};
use crate::events::{self, Event, MessageId, Step as Progress};
use crate::journal_host;
use crate::records::{Status, TransactionOutcome};
use crate::terminal::{Payment, Terminal};
use smartpos_host::{HostError, QrStatus};
use smartpos_journal::{QrPaid, QrState};
use std::time::Duration;
use zeroize::Zeroizing;

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
            Err(e) => {
                journal_host::lock(&self.journal).qr_cancelled(
                    p.id,
                    QrState::Closed,
                    "no answer to the order",
                )?;
                return Err(TerminalError::Host(e));
            }
        };
        let mut status = order.status.clone();
        let mut polls = 0u32;
        while status == QrStatus::Pending {
            if polls == 0 {
                events::prompt(&*self.events(), MessageId::SeePhone);
                journal_host::lock(&self.journal).qr_polling(p.id)?;
            }
            if cancel.is_cancelled() || polls >= self.settings.qr_max_polls {
                status = match self.host.qr_revoke(&order) {
                    Ok(QrStatus::Paid) => QrStatus::Paid,
                    _ => QrStatus::Revoked,
                };
                break;
            }
            std::thread::sleep(Duration::from_millis(self.settings.qr_poll_interval_ms));
            polls += 1;
            status = self.host.qr_query(&order).unwrap_or(QrStatus::Pending);
        }
        let result = match status {
            QrStatus::Paid => {
                journal_host::lock(&self.journal).qr_paid(
                    p.id,
                    &QrPaid {
                        wallet_txn_id: order.rrn.clone(),
                        scheme: wallet,
                        host_time: None,
                    },
                )?;
                journal_host::lock(&self.journal)
                    .complete(p.id, &smartpos_journal::Completion::default())?;
                events::prompt(&*self.events(), MessageId::Approved);
                Status::Approved
            }
            _ => {
                journal_host::lock(&self.journal).qr_cancelled(
                    p.id,
                    QrState::Revoked,
                    if cancel.is_cancelled() {
                        "cancelled"
                    } else {
                        "not paid in time"
                    },
                )?;
                events::prompt(&*self.events(), MessageId::Cancelled);
                Status::Revoked
            }
        };
        self.outcome(p.id, result)
    }
}
