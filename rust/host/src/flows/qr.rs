//! The QR sub-protocol (see [`crate::dialect`]): pay with a wallet code (scan-to-pay), create a
//! merchant-presented order (the customer scans the terminal's code), query and revoke either.

use super::{HostClient, build};
use crate::dialect::{self, QrMerchantOrder, msg_type};
use crate::error::HostError;
use crate::request::{HostResponse, QrOrder, QrStatus};
use crate::response::ResponseCode;
use crate::store::ReversalStore;
use smartpos_iso8583::Message;

impl QrMerchantOrder {
    /// The payload the host sent for a merchant-presented order (field 62), checked as far as
    /// the link can: present, at most [`dialect::qr::PAYLOAD_MAX`] bytes (EMV QRCPS-MPM v1.1
    /// §4.1), UTF-8 without control characters (the Language Template, ID 64, may hold any
    /// script), and framed as an MPM payload — Payload Format Indicator "000201" first and the
    /// CRC "6304" + 4 hex digits last (§4.2.1, §4.7.1). The CRC value and the content are the
    /// terminal's to check. Returns the payload text, exactly the bytes received.
    pub fn check_payload(field62: &[u8]) -> Result<&str, HostError> {
        let bytes = field62;
        if bytes.is_empty() {
            return Err(HostError::MissingField {
                field: 62,
                what: "merchant QR payload",
            });
        }
        let invalid = |reason: String| HostError::InvalidField { field: 62, reason };
        if bytes.len() > dialect::qr::PAYLOAD_MAX {
            return Err(invalid(format!(
                "merchant QR payload of {} bytes, more than {}",
                bytes.len(),
                dialect::qr::PAYLOAD_MAX
            )));
        }
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let offset = e.valid_up_to();
            invalid(format!(
                "merchant QR payload is not UTF-8 at offset {offset} (byte {:02X})",
                bytes.get(offset).copied().unwrap_or(0)
            ))
        })?;
        if let Some((offset, c)) = text.char_indices().find(|(_, c)| c.is_control()) {
            return Err(invalid(format!(
                "merchant QR payload has control character U+{:04X} at offset {offset}",
                u32::from(c)
            )));
        }
        let crc_ok = text
            .len()
            .checked_sub(8)
            .and_then(|at| text.get(at..))
            .is_some_and(|t| {
                t.starts_with("6304") && t.bytes().skip(4).all(|b| b.is_ascii_hexdigit())
            });
        if !text.starts_with("000201") {
            return Err(invalid(format!(
                "merchant QR payload does not start with the Payload Format Indicator 000201: {:?}",
                text.chars().take(24).collect::<String>()
            )));
        }
        if !crc_ok {
            return Err(invalid(format!(
                "merchant QR payload does not end with the CRC object 6304 + 4 hex digits: {:?}",
                text.chars()
                    .rev()
                    .take(12)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<String>()
            )));
        }
        Ok(text)
    }
}

/// The order payload of an answer (field 62), see [`QrMerchantOrder::check_payload`].
fn order_payload(r: &HostResponse) -> Result<String, HostError> {
    QrMerchantOrder::check_payload(r.message.binary(62).unwrap_or_default()).map(str::to_string)
}

/// A terminal order reference: 1 to 25 printable ASCII characters, no space at either end.
fn check_order_ref(order_ref: &str) -> Result<(), HostError> {
    if order_ref.is_empty()
        || order_ref.len() > dialect::qr::ORDER_REF_MAX
        || !order_ref.bytes().all(|b| (0x20..=0x7E).contains(&b))
        || order_ref.trim() != order_ref
    {
        return Err(HostError::InvalidRequest {
            field: "order_ref",
            reason: format!(
                "1 to {} printable ASCII characters without leading or trailing spaces",
                dialect::qr::ORDER_REF_MAX
            ),
        });
    }
    Ok(())
}

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

    /// A query or revoke of `order`. An order with an empty RRN is named by 61 alone (batch +
    /// STAN of the order request) and the host's answer must then name it in 37; otherwise an
    /// answer for another RRN is refused. Returns the status and the order RRN.
    fn qr_follow_up(
        &mut self,
        order: &QrOrder,
        pc: &str,
        marker: &str,
    ) -> Result<(QrStatus, String), HostError> {
        let (mut m, _) = self.qr_message(pc, order.amount, marker, "")?;
        if !order.rrn.is_empty() {
            build(m.set_rrn(&order.rrn))?;
        }
        build(m.set_text(61, &format!("{:06}{:06}", self.config.batch, order.stan)))?;
        let r = HostResponse::from_message(self.exchange(m, true)?)?;
        let rrn = match r.rrn.as_deref() {
            Some(rrn) if !order.rrn.is_empty() && rrn != order.rrn => {
                return Err(HostError::Mismatch {
                    field: "order reference (37)",
                    expected: order.rrn.clone(),
                    received: rrn.to_string(),
                });
            }
            Some(rrn) => rrn.to_string(),
            None if order.rrn.is_empty() && r.code.as_str() != "25" => {
                return Err(HostError::MissingField {
                    field: 37,
                    what: "order reference of an order named by its STAN",
                });
            }
            None => order.rrn.clone(),
        };
        match r.code.as_str() {
            "00" => Ok((QrStatus::Paid, rrn)),
            "09" => Ok((QrStatus::Pending, rrn)),
            "12" => Ok((QrStatus::Revoked, rrn)),
            _ => Err(HostError::Declined {
                code: r.code,
                response: Box::new(r),
            }),
        }
    }

    /// Poll a QR order's status (0200, 330000).
    pub fn qr_query(&mut self, order: &QrOrder) -> Result<QrStatus, HostError> {
        self.qr_follow_up(order, dialect::PC_QR_QUERY, dialect::qr::QUERY)
            .map(|(s, _)| s)
    }

    /// Revoke/close a QR order (0200, 340000); `Revoked` when the host closed it.
    pub fn qr_revoke(&mut self, order: &QrOrder) -> Result<QrStatus, HostError> {
        match self.qr_follow_up(order, dialect::PC_QR_REVOKE, dialect::qr::REVOKE)? {
            (QrStatus::Paid, _) => Ok(QrStatus::Revoked),
            (s, _) => Ok(s),
        }
    }

    /// Query the QR order placed by the request with STAN `stan` in the current batch when its
    /// RRN is unknown (the terminal restarted before it learnt it): 0200 330000 without 37.
    /// The answer names the order: the returned [`QrOrder`] has the host's RRN and status, ready
    /// for [`HostClient::qr_revoke`]. An order the host does not know is `Declined` with 25.
    pub fn qr_query_by_trace(&mut self, stan: u32, amount: u64) -> Result<QrOrder, HostError> {
        if stan == 0 || stan > 999_999 {
            return Err(HostError::InvalidRequest {
                field: "stan",
                reason: "1 to 999999".into(),
            });
        }
        let unknown = QrOrder {
            rrn: String::new(),
            stan,
            amount,
            status: QrStatus::Pending,
        };
        let (status, rrn) =
            self.qr_follow_up(&unknown, dialect::PC_QR_QUERY, dialect::qr::QUERY)?;
        Ok(QrOrder {
            rrn,
            stan,
            amount,
            status,
        })
    }

    /// Merchant-presented QR: create an unpaid order of `amount` for the customer to scan (0200
    /// 320000, 63 = `QRO` + `order_ref`). The host answers 09 with the order RRN (37), the
    /// reference echoed (63, the RRN when none was sent) and the EMVCo MPM payload to show (62,
    /// checked by [`QrMerchantOrder::check_payload`]); the response MAC is verified as for every financial
    /// message. Any other response code is `Declined` (no order exists). No reversal is queued:
    /// an order moves no funds until a wallet pays it, and an order whose answer was lost is
    /// found again with [`HostClient::qr_query_by_trace`] and closed with `qr_revoke`.
    pub fn qr_create_order(
        &mut self,
        amount: u64,
        order_ref: Option<&str>,
    ) -> Result<QrMerchantOrder, HostError> {
        if amount == 0 || amount > 999_999_999_999 {
            return Err(HostError::InvalidRequest {
                field: "amount",
                reason: "1 to 999999999999 minor units".into(),
            });
        }
        if let Some(r) = order_ref {
            check_order_ref(r)?;
        }
        let (m, stan) = self.qr_message(
            dialect::PC_QR_ORDER,
            amount,
            dialect::qr::ORDER,
            order_ref.unwrap_or(""),
        )?;
        let r = HostResponse::from_message(self.exchange(m, true)?)?;
        match r.code.as_str() {
            "09" => {}
            "00" => {
                return Err(HostError::Mismatch {
                    field: "response code (39)",
                    expected: "09 (order created, unpaid)".into(),
                    received: "00 (paid before the code was shown)".into(),
                });
            }
            _ => {
                return Err(HostError::Declined {
                    code: r.code,
                    response: Box::new(r),
                });
            }
        }
        let rrn =
            r.rrn
                .clone()
                .filter(|rrn| !rrn.trim().is_empty())
                .ok_or(HostError::MissingField {
                    field: 37,
                    what: "order reference",
                })?;
        let echoed = r.message.text(63).ok_or(HostError::MissingField {
            field: 63,
            what: "order reference echoed after QRO",
        })?;
        let expected_ref = order_ref.unwrap_or(&rrn).to_string();
        if echoed.strip_prefix(dialect::qr::ORDER) != Some(expected_ref.as_str()) {
            return Err(HostError::Mismatch {
                field: "order reference (63)",
                expected: format!("{}{expected_ref}", dialect::qr::ORDER),
                received: echoed.to_string(),
            });
        }
        let qr_payload = order_payload(&r)?;
        Ok(QrMerchantOrder {
            rrn,
            stan,
            amount,
            qr_payload,
            order_ref: expected_ref,
        })
    }
}
