//! qVSDC (the flow of EMV Contactless Book C-3) and UnionPay qUICS (the flow of Book C-7 /
//! qPBOC, which shares the TTQ/CTQ layout and adds electronic cash): GET PROCESSING OPTIONS
//! with the TTQ in the PDOL, the cryptogram in the GPO response, READ RECORD, fDDA for offline
//! approvals, CTQ-driven CVM and online/offline decisions, and (C-7) the electronic-cash
//! balance (9F79) low-value offline path under the EC Terminal Transaction Limit (9F7B).

use super::config::{KernelId, ttq};
use super::kernel::{Session, try_another_interface};
use super::outcome::{CvmKind, OnlineResponseData, Outcome, OutcomeKind};
use super::ui::{MessageId, Status, UiRequest, UiValue};
use crate::apdu::Apdu;
use crate::outcome::EndReason;
use crate::transport::{CardTransport, Channel};
use crate::tvr::TvrBit;

/// Card Transaction Qualifiers (9F6C) bits (Book C-3 Annex A; qPBOC uses the same).
pub mod ctq {
    /// Byte 1.
    pub const ONLINE_PIN_REQUIRED: u8 = 0x80;
    pub const SIGNATURE_REQUIRED: u8 = 0x40;
    pub const GO_ONLINE_IF_ODA_FAILS: u8 = 0x20;
    pub const SWITCH_INTERFACE_IF_ODA_FAILS: u8 = 0x10;
    pub const GO_ONLINE_IF_EXPIRED: u8 = 0x08;
    /// Byte 2.
    pub const CDCVM_PERFORMED: u8 = 0x80;
    pub const ISSUER_UPDATE_SUPPORTED: u8 = 0x40;
}

/// Cryptogram type from CID (9F27) or, without it, from the Visa IAD CVR byte 2 bits 6-5
/// (Book C-3 §5.4.3): 00 AAC, 01 TC, 10 ARQC.
fn cryptogram_type(s: &Session) -> Option<u8> {
    if let Some(cid) = s.ctx.store.byte(0x9F27, 0) {
        return Some(cid & 0xC0);
    }
    let cvr2 = s.ctx.store.byte(0x9F10, 4)?;
    match (cvr2 >> 4) & 0x03 {
        0 => Some(0x00),
        1 => Some(0x40),
        2 => Some(0x80),
        _ => None,
    }
}

/// Run the kernel after final selection (Book C-3 §5 / C-7 §3).
pub(crate) fn run<T: CardTransport>(s: &mut Session, ch: &mut Channel<T>) -> Outcome {
    match run_inner(s, ch) {
        Ok(o) | Err(o) => o,
    }
}

fn run_inner<T: CardTransport>(s: &mut Session, ch: &mut Channel<T>) -> Result<Outcome, Outcome> {
    // C-3 §5.2.2: the card must ask for the TTQ, else it is not a qVSDC/qUICS application.
    let pdol_has_ttq = s
        .ctx
        .store
        .get(0x9F38)
        .is_some_and(|p| crate::dol::contains(p, 0x9F66));
    if !pdol_has_ttq {
        return Err(s.end(EndReason::MissingMandatoryData { tag: 0x9F66 }));
    }
    let resp = s.gpo(ch)?;
    s.store_template(&resp.data, "GET PROCESSING OPTIONS")
        .map_err(|e| s.end(e))?;
    s.read_records(ch).map_err(|e| s.end(e))?;
    for tag in [0x82, 0x9F36, 0x9F26, 0x9F10] {
        if !s.ctx.store.contains(tag) {
            return Err(s.end(EndReason::MissingMandatoryData { tag }));
        }
    }
    if !s.ctx.store.contains(0x57) && !s.ctx.store.contains(0x5A) {
        return Err(s.end(EndReason::MissingMandatoryData { tag: 0x57 }));
    }
    if !s.ctx.store.contains(0x5A)
        && let Some(pan) = s.ctx.store.get(0x57).and_then(pan_from_track2)
    {
        s.ctx.store.set_card(0x5A, pan);
    }
    let Some(ac_type) = cryptogram_type(s) else {
        return Err(s.end(EndReason::FormatError {
            command: "GET PROCESSING OPTIONS",
            reason: "cryptogram type neither in 9F27 nor in the IAD".into(),
        }));
    };
    let ctq = s
        .ctx
        .store
        .get(0x9F6C)
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    let ctq1 = ctq.first().copied().unwrap_or(0);
    let ctq2 = ctq.get(1).copied().unwrap_or(0);
    s.issuer_update =
        ctq2 & ctq::ISSUER_UPDATE_SUPPORTED != 0 && s.ttq[2] & ttq::ISSUER_UPDATE != 0;
    if s.kernel == KernelId::C7
        && let Some(b) = s.ctx.store.bcd_u64(0x9F79)
    {
        s.balance = Some(b);
    }
    // Expiry (C-3 §5.5): an expired card is declined offline or sent online if the CTQ says so.
    let expired = s
        .ctx
        .store
        .get(0x5F24)
        .and_then(crate::data::bcd_to_u64)
        .is_some_and(|e| {
            let d = crate::data::bcd_to_u64(&s.ctx.params.date).unwrap_or(0);
            e < d
        });
    if expired {
        s.ctx.set(TvrBit::ExpiredApplication);
    }
    let cvm = select_cvm(s, ctq1, ctq2, ac_type);
    let mut outcome = match ac_type {
        0x00 => declined(s),
        0x80 => online(s),
        _ => {
            if expired {
                if ctq1 & ctq::GO_ONLINE_IF_EXPIRED != 0 && s.ttq[0] & ttq::OFFLINE_ONLY == 0 {
                    online(s)
                } else {
                    declined(s)
                }
            } else {
                offline(s, ch, ctq1)?
            }
        }
    };
    let cvm = match cvm {
        Some(c) => c,
        None => return Ok(declined(s)),
    };
    s.cvm = cvm;
    outcome.cvm = cvm;
    if outcome.kind == OutcomeKind::Approved && cvm == CvmKind::ObtainSignature {
        outcome.ui_on_outcome = Some(UiRequest::new(
            MessageId::ApprovedPleaseSign,
            Status::CardReadSuccessfully,
        ));
        outcome.receipt = true;
    }
    if outcome.kind == OutcomeKind::OnlineRequest && s.issuer_update {
        outcome.online_response_data = OnlineResponseData::EmvData;
    }
    outcome.data_record_present = matches!(
        outcome.kind,
        OutcomeKind::Approved | OutcomeKind::Declined | OutcomeKind::OnlineRequest
    );
    Ok(outcome)
}

/// The PAN digits of Track 2 Equivalent Data (57) up to the separator D, as cn BCD.
fn pan_from_track2(t2: &[u8]) -> Option<Vec<u8>> {
    let digits: String = hex::encode_upper(t2);
    let pan = digits.split('D').next()?;
    if pan.len() < 12 {
        return None;
    }
    let padded = if pan.len() % 2 == 1 {
        format!("{pan}F")
    } else {
        pan.to_string()
    };
    hex::decode(padded).ok()
}

/// CVM (C-3 §5.7): CDCVM performed (CTQ byte 2) → confirmation code verified; online PIN if
/// the card requires it and the reader supports it (online only); signature if required and
/// supported; if the reader requires a CVM and none applies → `None` (decline).
fn select_cvm(s: &mut Session, ctq1: u8, ctq2: u8, ac_type: u8) -> Option<CvmKind> {
    let ttq1 = s.ttq[0];
    let cvm_required = s.ttq[1] & ttq::CVM_REQUIRED != 0;
    let cvm = if ctq2 & ctq::CDCVM_PERFORMED != 0 && s.ttq[2] & ttq::CONSUMER_DEVICE_CVM != 0 {
        s.ctx.cvm_results = [0x01, 0x00, 0x02];
        CvmKind::ConfirmationCodeVerified
    } else if ctq1 & ctq::ONLINE_PIN_REQUIRED != 0 && ttq1 & ttq::ONLINE_PIN != 0 && ac_type == 0x80
    {
        // Online PIN shows in the CVM results only: the card computed its ARQC over the TVR
        // it received in the PDOL, so changing the TVR now would break the issuer's check.
        s.ctx.cvm_results = [0x02, 0x00, 0x00];
        CvmKind::OnlinePin
    } else if ctq1 & ctq::SIGNATURE_REQUIRED != 0 && ttq1 & ttq::SIGNATURE != 0 {
        s.ctx.cvm_results = [0x1E, 0x00, 0x00];
        s.ctx.signature_required = true;
        CvmKind::ObtainSignature
    } else if cvm_required {
        // No card preference: the reader's own (C-3 §5.7.2): online PIN when going online,
        // else signature.
        if ac_type == 0x80 && ttq1 & ttq::ONLINE_PIN != 0 {
            s.ctx.cvm_results = [0x02, 0x00, 0x00];
            CvmKind::OnlinePin
        } else if ttq1 & ttq::SIGNATURE != 0 {
            s.ctx.cvm_results = [0x1E, 0x00, 0x00];
            s.ctx.signature_required = true;
            CvmKind::ObtainSignature
        } else {
            s.ctx.set(TvrBit::CardholderVerificationNotSuccessful);
            s.ctx.cvm_results = [0x3F, 0x00, 0x01];
            return None;
        }
    } else {
        s.ctx.cvm_results = [0x1F, 0x00, 0x02];
        CvmKind::NoCvm
    };
    Some(cvm)
}

fn declined(s: &mut Session) -> Outcome {
    let _ = s;
    Outcome::new(OutcomeKind::Declined).ui(UiRequest::new(
        MessageId::NotAuthorised,
        Status::NotReady,
    )
    .hold(1300))
}

fn online(s: &mut Session) -> Outcome {
    let mut o = Outcome::new(OutcomeKind::OnlineRequest).ui(UiRequest::new(
        MessageId::CardReadOk,
        Status::CardReadSuccessfully,
    ));
    o.removal_timeout_ms = 0;
    if s.ttq[0] & ttq::OFFLINE_ONLY != 0 {
        // An offline-only reader cannot go online: decline (C-3 §5.4.2).
        return declined(s);
    }
    o
}

/// TC: offline approval only after fDDA (C-3 §5.6); on failure the CTQ decides between going
/// online, switching interface, or declining.
fn offline<T: CardTransport>(
    s: &mut Session,
    ch: &mut Channel<T>,
    ctq1: u8,
) -> Result<Outcome, Outcome> {
    match s.fdda() {
        Ok(()) => {
            s.oda_ok = true;
            if s.kernel == KernelId::C7 && s.ctx.store.get(0x9F7A) == Some(&[0x01]) {
                // qPBOC: the card debited its EC balance; read the new one if it was not sent.
                if s.balance.is_none() {
                    let r = ch
                        .transmit(&Apdu::get_data(0x9F79))
                        .map_err(|e| s.link_error(e))?;
                    if r.is_ok()
                        && let Some(t) = smartpos_tlv::TlvReader::new(&r.data)
                            .next()
                            .and_then(Result::ok)
                        && t.tag.0 == 0x9F79
                    {
                        s.ctx.store.set_card(0x9F79, t.value.to_vec());
                        s.balance = crate::data::bcd_to_u64(t.value);
                    }
                }
            }
            let mut ui =
                UiRequest::new(MessageId::Approved, Status::CardReadSuccessfully).hold(1300);
            if let Some(b) = s.balance {
                ui = ui.with_value(UiValue::Balance(b));
            }
            Ok(Outcome::new(OutcomeKind::Approved).ui(ui))
        }
        Err(reason) => {
            s.oda_failed(reason, TvrBit::DdaFailed);
            if ctq1 & ctq::GO_ONLINE_IF_ODA_FAILS != 0 && s.ttq[0] & ttq::OFFLINE_ONLY == 0 {
                Ok(online(s))
            } else if ctq1 & ctq::SWITCH_INTERFACE_IF_ODA_FAILS != 0
                && s.ttq[0] & ttq::CONTACT_CHIP != 0
            {
                Ok(try_another_interface())
            } else {
                Ok(declined(s))
            }
        }
    }
}

/// Issuer update processing after an online response (C-3 §5.9, restart at Start C):
/// EXTERNAL AUTHENTICATE with the Issuer Authentication Data (91), then the issuer script
/// commands of templates 71/72.
pub(crate) fn issuer_update<T: CardTransport>(
    s: &mut Session,
    ch: &mut Channel<T>,
    host: &crate::kernel::HostResponse,
) -> Result<(), Outcome> {
    if !host.issuer_authentication_data.is_empty() {
        let r = ch
            .transmit(&Apdu::external_authenticate(
                &host.issuer_authentication_data,
            ))
            .map_err(|e| s.link_error(e))?;
        if !r.is_ok() {
            s.ctx.set(TvrBit::IssuerAuthenticationFailed);
        }
    }
    let mut results = Vec::new();
    for template in smartpos_tlv::TlvReader::new(&host.scripts).flatten() {
        let mut n = 0u8;
        let mut ok = true;
        for cmd in template.children().flatten() {
            if cmd.tag.0 != 0x86 {
                continue;
            }
            n = n.saturating_add(1);
            let Ok(apdu) = Apdu::decode(cmd.value) else {
                ok = false;
                break;
            };
            let r = ch.transmit(&apdu).map_err(|e| s.link_error(e))?;
            if !(r.is_ok() || r.sw1 == 0x62 || r.sw1 == 0x63) {
                ok = false;
                break;
            }
        }
        results.push(if ok { 0x20 } else { 0x10 | n.min(15) });
    }
    s.ctx.script_results = results;
    Ok(())
}
