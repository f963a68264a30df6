//! The QR scan-to-pay sub-protocol (see [`crate::dialect`]): pay with a wallet code, query and
//! revoke the order.

use super::{HostClient, build};
use crate::dialect::{self, msg_type};
use crate::error::HostError;
use crate::request::{HostResponse, QrOrder, QrStatus};
use crate::response::ResponseCode;
use crate::store::ReversalStore;
use smartpos_iso8583::Message;

impl<S: ReversalStore> HostClient<S> {
    fn qr_message(
        &mut self,
        pc: &str,
        amount: u64,
        marker: &str,
        code: &str,
    ) -> Result<(Message, u32), HostError> {
        let (mut m, stan) = self.financial("0200", pc, amount, "00", msg_type::SALE)?;
        build(m.set_text(22, "032"))?;
        build(m.set_text(63, &format!("{marker}{code}")))?;
        Ok((m, stan))
    }

    /// QR scan-to-pay: pay with the scanned wallet payment code (0200 with 63 = `QRP` + code).
    /// The order is paid at once (00) or pending (09) until the wallet confirms.
    pub fn qr_pay(&mut self, amount: u64, wallet_code: &str) -> Result<QrOrder, HostError> {
        if wallet_code.is_empty()
            || wallet_code.len() > 157
            || !wallet_code.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(HostError::InvalidRequest {
                field: "wallet_code",
                reason: "1 to 157 printable ASCII characters".into(),
            });
        }
        let (m, stan) =
            self.qr_message(dialect::PC_PURCHASE, amount, dialect::qr::PAY, wallet_code)?;
        let status = match self.authorise(m) {
            Ok(r) => (QrStatus::Paid, r),
            Err(HostError::Declined { code, response }) if code == ResponseCode::IN_PROGRESS => {
                (QrStatus::Pending, *response)
            }
            Err(e) => return Err(e),
        };
        let rrn = status.1.rrn.clone().ok_or(HostError::MissingField {
            field: 37,
            what: "order reference",
        })?;
        Ok(QrOrder {
            rrn,
            stan,
            amount,
            status: status.0,
        })
    }

    fn qr_follow_up(
        &mut self,
        order: &QrOrder,
        pc: &str,
        marker: &str,
    ) -> Result<QrStatus, HostError> {
        let (mut m, _) = self.qr_message(pc, order.amount, marker, "")?;
        build(m.set_rrn(&order.rrn))?;
        build(m.set_text(61, &format!("{:06}{:06}", self.config.batch, order.stan)))?;
        let r = HostResponse::from_message(self.exchange(m, true)?)?;
        if let Some(rrn) = r.rrn.as_deref().filter(|rrn| *rrn != order.rrn) {
            return Err(HostError::Mismatch {
                field: "order reference (37)",
                expected: order.rrn.clone(),
                received: rrn.to_string(),
            });
        }
        match r.code.as_str() {
            "00" => Ok(QrStatus::Paid),
            "09" => Ok(QrStatus::Pending),
            "12" => Ok(QrStatus::Revoked),
            _ => Err(HostError::Declined {
                code: r.code,
                response: Box::new(r),
            }),
        }
    }

    /// Poll a QR order's status (0200, 330000).
    pub fn qr_query(&mut self, order: &QrOrder) -> Result<QrStatus, HostError> {
        self.qr_follow_up(order, dialect::PC_QR_QUERY, dialect::qr::QUERY)
    }

    /// Revoke/close a QR order (0200, 340000); `Revoked` when the host closed it.
    pub fn qr_revoke(&mut self, order: &QrOrder) -> Result<QrStatus, HostError> {
        match self.qr_follow_up(order, dialect::PC_QR_REVOKE, dialect::qr::REVOKE)? {
            QrStatus::Paid => Ok(QrStatus::Revoked),
            s => Ok(s),
        }
    }
}
