//! The flow of EMV Contactless Book C-2 (Mastercard-style): GET PROCESSING OPTIONS, relay
//! resistance (EXCHANGE RELAY RESISTANCE DATA timed with the injected clock, §5.3), READ
//! RECORD, torn-transaction recovery (RECOVER AC, §4.3/§5.9), processing restrictions, CVM
//! selection with on-device CVM (§3.10/§5.7), terminal action analysis with the DF8120-DF8122
//! TACs and the card's IACs, GENERATE AC with CDA (§5.8, Book 2 §6.6), "see phone" for
//! phones (POS Cardholder Interaction Information DF4B), the outcome parameter set (DF8129)
//! and discretionary data (FF8106), and mag-stripe mode with COMPUTE CRYPTOGRAPHIC CHECKSUM
//! (§5.11: CVC3, UN and ATC digits placed per PCVC3/PUNATC/NATC).

use super::kernel::{RelayResult, Session, see_phone, try_another_interface};
use super::outcome::{CvmKind, Outcome, OutcomeKind};
use super::ui::{MessageId, Status, UiRequest};
use super::{OdaKind, TapEnv, TornRecord};
use crate::apdu::Apdu;
use crate::outcome::EndReason;
use crate::transport::{CardTransport, Channel};
use crate::tvr::{Tvr, TvrBit};
use smartpos_tlv::TlvReader;

const GENERATE_AC: &str = "GENERATE AC";

pub(crate) fn run<T: CardTransport>(
    s: &mut Session,
    ch: &mut Channel<T>,
    env: &mut TapEnv<'_>,
) -> Outcome {
    match run_inner(s, ch, env) {
        Ok(o) | Err(o) => o,
    }
}

fn run_inner<T: CardTransport>(
    s: &mut Session,
    ch: &mut Channel<T>,
    env: &mut TapEnv<'_>,
) -> Result<Outcome, Outcome> {
    let resp = s.gpo(ch)?;
    s.store_template(&resp.data, "GET PROCESSING OPTIONS")
        .map_err(|e| s.end(e))?;
    if !s.ctx.store.contains(0x94) {
        return Err(s.end(EndReason::MissingMandatoryData { tag: 0x94 }));
    }
    let k2 = s.comb.kernel2.clone();
    let emv_mode = s.ctx.aip[1] & 0x80 != 0 && k2.emv_mode_supported();
    if !emv_mode && !k2.mag_stripe_supported() {
        return Err(try_another_interface());
    }
    // §5.3 relay resistance: AIP byte 2 b1 and DF811B b5.
    if emv_mode && s.ctx.aip[1] & 0x01 != 0 && k2.relay_resistance_supported() {
        relay_resistance(s, ch, env)?;
    }
    s.read_records(ch).map_err(|e| s.end(e))?;
    if !emv_mode {
        return mag_stripe(s, ch);
    }
    for tag in [0x5A, 0x5F24, 0x8C] {
        if !s.ctx.store.contains(tag) {
            return Err(s.end(EndReason::MissingMandatoryData { tag }));
        }
    }
    restrictions(s);
    let cvm = cvm_selection(s, &k2)?;
    s.cvm = cvm;
    // Torn transaction recovery (§5.9): a log entry for this PAN → RECOVER AC first.
    let pan = s.ctx.store.get(0x5A).unwrap_or(&[]).to_vec();
    let psn = s.ctx.store.get(0x5F34).map(<[u8]>::to_vec);
    let now = env.clock.now_micros();
    env.torn_log
        .expire(now, u64::from(k2.torn_lifetime_s) * 1_000_000);
    let torn = env.torn_log.take(&pan, psn.as_deref());
    // C-2 §5.8: without CDA (card or reader) no offline data authentication takes place.
    let cda_possible = s.ctx.aip[0] & 0x01 != 0 && k2.cda_supported();
    if !cda_possible {
        s.ctx.set(TvrBit::OfflineDataAuthenticationNotPerformed);
    }
    let ac_type = terminal_action_analysis(s, &k2);
    let cda = cda_possible && ac_type != 0x00;
    let mut response = None;
    if let Some(t) = torn {
        let r = ch
            .transmit(&Apdu::new(0x80, 0xD0, 0x00, 0x00, t.drdol_data.clone()).with_le(0))
            .map_err(|e| s.link_error(e))?;
        if r.is_ok() {
            s.torn_recovered = true;
            s.ctx.pdol_data = t.pdol_data.clone();
            s.ctx.cdol1_data = t.cdol1_data.clone();
            s.ctx.tvr = Tvr(t.tvr);
            s.ctx.sync();
            response = Some((r, t.cda));
        }
    }
    let (resp, cda) = match response {
        Some(r) => r,
        None => {
            let cdol1 = s.ctx.store.get(0x8C).unwrap_or(&[]).to_vec();
            s.ctx.sync();
            let cdol1_data = crate::dol::build(&cdol1, &s.ctx.store).map_err(|e| s.end(e))?;
            s.ctx.cdol1_data = cdol1_data.clone();
            let p1 = ac_type | if cda { 0x10 } else { 0x00 };
            match ch.transmit(&Apdu::generate_ac(p1, &cdol1_data)) {
                Ok(r) => (r, cda),
                Err(e) => {
                    // §5.8.3: no answer to GENERATE AC → torn; keep it for RECOVER AC.
                    if let Some(drdol) = s.ctx.store.get(0x9F51).map(<[u8]>::to_vec)
                        && k2.torn_max_records > 0
                    {
                        let drdol_data =
                            crate::dol::build(&drdol, &s.ctx.store).unwrap_or_default();
                        env.torn_log.push(
                            TornRecord {
                                pan: pan.clone(),
                                psn: psn.clone(),
                                drdol_data,
                                pdol_data: s.ctx.pdol_data.clone(),
                                cdol1_data,
                                tvr: s.ctx.tvr.0,
                                cda,
                                logged_at_us: now,
                            },
                            usize::from(k2.torn_max_records),
                        );
                    }
                    return Err(s.link_error(e));
                }
            }
        }
    };
    if !resp.is_ok() {
        return Err(s.end(EndReason::CardError {
            command: GENERATE_AC,
            sw: resp.sw(),
        }));
    }
    s.store_template_ac(&resp.data)?;
    let cid = s.ctx.store.byte(0x9F27, 0).unwrap_or(0);
    let kind = cid & 0xC0;
    // Phones: AAC with POS Cardholder Interaction Information asking for on-device CVM
    // (§3.10: DF4B & 00030F ≠ 0) → see phone, restart at Start B.
    let pcii = s
        .ctx
        .store
        .get(0xDF4B)
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    let pcii_asks =
        pcii.get(1).is_some_and(|b| b & 0x03 != 0) || pcii.get(2).is_some_and(|b| b & 0x0F != 0);
    if kind == 0x00 && pcii_asks {
        let mut o = see_phone(OutcomeKind::EndApplication);
        o.field_off_ms = Some(1300);
        return Ok(o);
    }
    if cda && kind != 0x00 {
        s.oda = OdaKind::Cda;
        let template = match TlvReader::new(&resp.data).next() {
            Some(Ok(t)) if t.tag.0 == 0x77 => t.value.to_vec(),
            _ => Vec::new(),
        };
        match crate::oda::retrieve_icc_key(&mut s.ctx) {
            Ok(k) => {
                s.ctx.oda.icc_key = Some(k);
                match crate::oda::verify_cda_response(&mut s.ctx, &template, cid, &[]) {
                    Ok(()) => s.oda_ok = true,
                    Err(r) => s.oda_failed(r, TvrBit::CdaFailed),
                }
            }
            Err(crate::oda::OdaFailure::Missing(t)) => {
                s.ctx.set(TvrBit::IccDataMissing);
                s.oda_failed(format!("ICC data {t:X} missing"), TvrBit::CdaFailed)
            }
            Err(crate::oda::OdaFailure::Failed(r)) => s.oda_failed(r, TvrBit::CdaFailed),
            Err(crate::oda::OdaFailure::Transport(r)) => return Err(s.end(r)),
        }
        if !s.oda_ok {
            return Ok(declined());
        }
    } else if !s.ctx.store.contains(0x9F26) {
        return Err(s.end(EndReason::MissingMandatoryData { tag: 0x9F26 }));
    }
    let mut o = match kind {
        0x40 => {
            let msg = if cvm == CvmKind::ObtainSignature {
                MessageId::ApprovedPleaseSign
            } else {
                MessageId::Approved
            };
            Outcome::new(OutcomeKind::Approved).ui(UiRequest::new(
                msg,
                Status::CardReadSuccessfully,
            )
            .hold(1300))
        }
        0x80 => Outcome::new(OutcomeKind::OnlineRequest).ui(UiRequest::new(
            MessageId::CardReadOk,
            Status::CardReadSuccessfully,
        )),
        _ => declined(),
    };
    o.cvm = cvm;
    o.receipt = cvm == CvmKind::ObtainSignature;
    o.data_record_present = true;
    o.discretionary_data_present = true;
    Ok(o)
}

fn declined() -> Outcome {
    Outcome::new(OutcomeKind::Declined).ui(UiRequest::new(
        MessageId::NotAuthorised,
        Status::NotReady,
    )
    .hold(1300))
}

impl Session {
    /// Store a GENERATE AC / RECOVER AC response, format 1 (80: CID, ATC, AC, IAD) or 2 (77).
    fn store_template_ac(&mut self, data: &[u8]) -> Result<(), Outcome> {
        let top = match TlvReader::new(data).next() {
            Some(Ok(t)) => t,
            _ => {
                return Err(self.end(EndReason::FormatError {
                    command: GENERATE_AC,
                    reason: "response is not BER-TLV".into(),
                }));
            }
        };
        if top.tag.0 == 0x80 {
            let v = top.value;
            let (Some(cid), Some(atc), Some(ac)) = (v.first(), v.get(1..3), v.get(3..11)) else {
                return Err(self.end(EndReason::FormatError {
                    command: GENERATE_AC,
                    reason: "format 1 response shorter than 11 bytes".into(),
                }));
            };
            self.ctx.store.set_card(0x9F27, vec![*cid]);
            self.ctx.store.set_card(0x9F36, atc.to_vec());
            self.ctx.store.set_card(0x9F26, ac.to_vec());
            if let Some(iad) = v.get(11..).filter(|i| !i.is_empty()) {
                self.ctx.store.set_card(0x9F10, iad.to_vec());
            }
            return Ok(());
        }
        self.store_template(data, GENERATE_AC)
            .map_err(|e| self.end(e))?;
        if !self.ctx.store.contains(0x9F27) {
            return Err(self.end(EndReason::MissingMandatoryData { tag: 0x9F27 }));
        }
        Ok(())
    }
}

/// Processing restrictions (Book 3 §10.4 as C-2 §5.6 applies them): expiry and effective date.
fn restrictions(s: &mut Session) {
    let today = crate::data::bcd_to_u64(&s.ctx.params.date).unwrap_or(0);
    if s.ctx
        .store
        .get(0x5F24)
        .and_then(crate::data::bcd_to_u64)
        .is_some_and(|e| e < today)
    {
        s.ctx.set(TvrBit::ExpiredApplication);
    }
    if s.ctx
        .store
        .get(0x5F25)
        .and_then(crate::data::bcd_to_u64)
        .is_some_and(|e| e > today)
    {
        s.ctx.set(TvrBit::ApplicationNotYetEffective);
    }
}

/// CVM selection (C-2 §5.7 / §3.10): above the reader CVM required limit the CVM capability
/// is DF8118, else DF8119; a card that supports on-device CVM (AIP byte 1 b2) with a reader
/// that supports it gets CDCVM; otherwise the CVM list (8E) is walked for online PIN (02),
/// signature (1E) and no CVM (1F). Amounts above the transaction limit for the card's kind
/// (DF8124 / DF8125) → Try Another Interface.
fn cvm_selection(s: &mut Session, k2: &super::config::Kernel2Config) -> Result<CvmKind, Outcome> {
    let amount = s.amount();
    let cvm_required = s.comb.cvm_required_limit.is_some_and(|l| amount >= l);
    let on_device = s.ctx.aip[0] & 0x02 != 0 && k2.on_device_cvm_supported();
    let limit = if on_device {
        k2.on_device_cvm_limit
    } else {
        k2.no_on_device_cvm_limit
    };
    if limit.is_some_and(|l| amount > l) {
        return Err(try_another_interface());
    }
    if on_device && cvm_required {
        s.ctx.cvm_results = [0x01, 0x00, 0x02];
        return Ok(CvmKind::ConfirmationCodeVerified);
    }
    let capability = if cvm_required {
        k2.cvm_capability_cvm_required.first().copied().unwrap_or(0)
    } else {
        k2.cvm_capability_no_cvm.first().copied().unwrap_or(0)
    };
    let Some(list) = s.ctx.store.get(0x8E).map(<[u8]>::to_vec) else {
        s.ctx.set(TvrBit::IccDataMissing);
        s.ctx.cvm_results = [0x3F, 0x00, 0x00];
        return Ok(CvmKind::NoCvm);
    };
    let x = list
        .get(0..4)
        .map_or(0, |v| v.iter().fold(0u64, |a, b| a << 8 | u64::from(*b)));
    let y = list
        .get(4..8)
        .map_or(0, |v| v.iter().fold(0u64, |a, b| a << 8 | u64::from(*b)));
    for rule in list.get(8..).unwrap_or(&[]).chunks_exact(2) {
        let (code, cond) = (
            rule.first().copied().unwrap_or(0),
            rule.get(1).copied().unwrap_or(0),
        );
        let method = code & 0x3F;
        let supported = match method {
            0x02 => capability & 0x40 != 0,
            0x1E => capability & 0x20 != 0,
            0x1F => capability & 0x08 != 0 || !cvm_required,
            _ => false,
        };
        let applies = match cond {
            0x00 => true,
            0x03 => supported,
            0x06 => amount < x,
            0x07 => amount > x,
            0x08 => amount < y,
            0x09 => amount > y,
            _ => false,
        };
        if !applies {
            continue;
        }
        if supported {
            let kind = match method {
                0x02 => {
                    s.ctx.set(TvrBit::OnlinePinEntered);
                    CvmKind::OnlinePin
                }
                0x1E => {
                    s.ctx.signature_required = true;
                    CvmKind::ObtainSignature
                }
                _ => CvmKind::NoCvm,
            };
            s.ctx.cvm_results = [code, cond, if kind == CvmKind::NoCvm { 0x02 } else { 0x00 }];
            return Ok(kind);
        }
        if code & 0x40 == 0 {
            break;
        }
    }
    s.ctx.set(TvrBit::CardholderVerificationNotSuccessful);
    s.ctx.cvm_results = [0x3F, 0x00, 0x01];
    Ok(CvmKind::NoCvm)
}

/// Terminal action analysis (Book 3 §10.7 as C-2 §5.8.1 uses it) with DF8120-DF8122 (or the
/// AID's TACs) and the card's IACs 9F0D/9F0E/9F0F; the reader contactless floor limit (DF8123)
/// sets "floor limit exceeded". Returns the GENERATE AC reference control (00/40/80).
fn terminal_action_analysis(s: &mut Session, k2: &super::config::Kernel2Config) -> u8 {
    let floor = k2.floor_limit.or(s.comb.floor_limit);
    if floor.is_some_and(|f| s.amount() > f) {
        s.ctx.set(TvrBit::FloorLimitExceeded);
    }
    s.ctx.sync();
    let aid = s.ctx.aid();
    let pick = |own: &[u8], fallback: &[u8]| {
        crate::config::AidConfig::action_code(if own.len() == 5 { own } else { fallback })
    };
    let tac_denial = pick(&k2.tac_denial, &aid.tac_denial);
    let tac_online = pick(&k2.tac_online, &aid.tac_online);
    let tac_default = pick(&k2.tac_default, &aid.tac_default);
    let iac = |tag: u32, dflt: u8| {
        s.ctx
            .store
            .get(tag)
            .map_or([dflt; 5], crate::config::AidConfig::action_code)
    };
    let (iac_default, iac_denial, iac_online) =
        (iac(0x9F0D, 0xFF), iac(0x9F0E, 0x00), iac(0x9F0F, 0xFF));
    let tvr = s.ctx.tvr;
    if tvr.matches_action_code(&tac_denial) || tvr.matches_action_code(&iac_denial) {
        return 0x00;
    }
    let online_capable = !s.ctx.cfg.terminal.is_offline_only();
    if online_capable {
        if tvr.matches_action_code(&tac_online) || tvr.matches_action_code(&iac_online) {
            return 0x80;
        }
        0x40
    } else if tvr.matches_action_code(&tac_default) || tvr.matches_action_code(&iac_default) {
        0x00
    } else {
        0x40
    }
}

/// EXCHANGE RELAY RESISTANCE DATA (C-2 §5.3): send the Terminal Relay Resistance Entropy (the
/// UN), time the exchange with the injected clock, and compare the measured processing time
/// with the card's min/max bounds and the grace periods. Too fast → End Application (the
/// card's timing is inconsistent); too slow → TVR byte 5 b2 "relay resistance time limits
/// exceeded". TVR byte 5 b1-b0 record that the protocol was performed.
fn relay_resistance<T: CardTransport>(
    s: &mut Session,
    ch: &mut Channel<T>,
    env: &mut TapEnv<'_>,
) -> Result<(), Outcome> {
    let entropy = s.ctx.params.unpredictable_number;
    s.ctx.store.set_terminal(0xDF8301, entropy.to_vec());
    let start = env.clock.now_micros();
    let r = ch
        .transmit(&Apdu::new(0x80, 0xEA, 0x00, 0x00, entropy.to_vec()).with_le(0))
        .map_err(|e| s.link_error(e))?;
    let elapsed = env.clock.now_micros().saturating_sub(start);
    if !r.is_ok() {
        return Err(s.end(EndReason::CardError {
            command: "EXCHANGE RELAY RESISTANCE DATA",
            sw: r.sw(),
        }));
    }
    let v = match TlvReader::new(&r.data).next() {
        Some(Ok(t)) if t.tag.0 == 0x80 && t.value.len() == 10 => t.value.to_vec(),
        _ => {
            return Err(s.end(EndReason::FormatError {
                command: "EXCHANGE RELAY RESISTANCE DATA",
                reason: "response is not 80 with 10 bytes".into(),
            }));
        }
    };
    let u16_at = |i: usize| {
        u16::from(v.get(i).copied().unwrap_or(0)) << 8
            | u16::from(v.get(i + 1).copied().unwrap_or(0))
    };
    let (min_t, max_t, device_tx) = (u16_at(4), u16_at(6), u16_at(8));
    s.ctx
        .store
        .set_card(0xDF8302, v.get(0..4).unwrap_or(&[]).to_vec());
    let rr = s.comb.kernel2.relay_resistance;
    let measured_units = u32::try_from(elapsed / 100).unwrap_or(u32::MAX);
    let measured = measured_units
        .saturating_sub(u32::from(rr.expected_time_c_apdu))
        .saturating_sub(u32::from(device_tx.min(rr.expected_time_r_apdu)));
    if measured < u32::from(min_t.saturating_sub(rr.min_grace_period)) {
        return Err(s.end(EndReason::FormatError {
            command: "EXCHANGE RELAY RESISTANCE DATA",
            reason: format!("processing time {measured} below the card's minimum {min_t}"),
        }));
    }
    let exceeded = measured > u32::from(max_t) + u32::from(rr.max_grace_period);
    s.ctx.tvr.0[4] |= 0x02; // RRP performed (b2-b1 = 10)
    if exceeded {
        s.ctx.tvr.0[4] |= 0x04;
    }
    s.relay_resistance = Some(RelayResult {
        measured_processing_time: measured,
        min_time_for_processing: min_t,
        max_time_for_processing: max_t,
        time_limits_exceeded: exceeded,
    });
    Ok(())
}

/// Mag-stripe mode (C-2 §5.11): UN numeric (9F6A) with nUN digits from the injected UN,
/// COMPUTE CRYPTOGRAPHIC CHECKSUM over the UDOL (default 9F6A04), then Track 2 Data (9F6B)
/// rebuilt: CVC3 digits at the PCVC3 positions, UN and ATC digits at the PUNATC positions, and
/// nUN in the last discretionary digit. Always an online request.
fn mag_stripe<T: CardTransport>(s: &mut Session, ch: &mut Channel<T>) -> Result<Outcome, Outcome> {
    for tag in [0x9F6B, 0x9F65, 0x9F66, 0x9F67] {
        if !s.ctx.store.contains(tag) {
            return Err(s.end(EndReason::MissingMandatoryData { tag }));
        }
    }
    let bitmap = |tag: u32| s.ctx.store.bin_u64(tag).unwrap_or(0);
    let pcvc3 = bitmap(0x9F65);
    let punatc = bitmap(0x9F66);
    let natc = u32::from(s.ctx.store.byte(0x9F67, 0).unwrap_or(0));
    let n_un = punatc.count_ones().saturating_sub(natc);
    if n_un > 8 {
        return Err(s.end(EndReason::FormatError {
            command: "READ RECORD",
            reason: "PUNATC leaves more than 8 UN digits".into(),
        }));
    }
    // UN numeric: the last nUN decimal digits come from the injected UN bytes (each mod 10).
    let un_digits: Vec<u8> = s
        .ctx
        .params
        .unpredictable_number
        .iter()
        .flat_map(|b| [b >> 4, b & 0x0F])
        .map(|d| d % 10)
        .collect();
    let mut un_num = [0u8; 8];
    for i in 0..(n_un as usize) {
        if let (Some(d), Some(slot)) = (un_digits.get(7 - i), un_num.get_mut(7 - i)) {
            *slot = *d;
        }
    }
    let un_bcd: Vec<u8> = un_num
        .chunks(2)
        .map(|p| p.first().copied().unwrap_or(0) << 4 | p.get(1).copied().unwrap_or(0))
        .collect();
    s.ctx.store.set_terminal(0x9F6A, un_bcd);
    let udol = s
        .ctx
        .store
        .get(0x9F69)
        .map(<[u8]>::to_vec)
        .unwrap_or_else(|| vec![0x9F, 0x6A, 0x04]);
    let udol_data = crate::dol::build(&udol, &s.ctx.store).map_err(|e| s.end(e))?;
    let r = ch
        .transmit(&Apdu::new(0x80, 0x2A, 0x8E, 0x80, udol_data).with_le(0))
        .map_err(|e| s.link_error(e))?;
    if !r.is_ok() {
        return Err(s.end(EndReason::CardError {
            command: "COMPUTE CRYPTOGRAPHIC CHECKSUM",
            sw: r.sw(),
        }));
    }
    s.store_template(&r.data, "COMPUTE CRYPTOGRAPHIC CHECKSUM")
        .map_err(|e| s.end(e))?;
    let (Some(cvc3), Some(atc)) = (s.ctx.store.bin_u64(0x9F61), s.ctx.store.bin_u64(0x9F36)) else {
        return Err(s.end(EndReason::MissingMandatoryData { tag: 0x9F61 }));
    };
    let track = s.ctx.store.get(0x9F6B).unwrap_or(&[]).to_vec();
    let t2 = hex::encode_upper(&track);
    let t2 = t2.trim_end_matches('F');
    let Some(sep) = t2.find('D') else {
        return Err(s.end(EndReason::FormatError {
            command: "READ RECORD",
            reason: "Track 2 Data 9F6B has no separator".into(),
        }));
    };
    // discretionary data starts after PAN, D, expiry (4) and service code (3).
    let dd_start = sep + 8;
    let mut digits: Vec<u8> = t2.bytes().collect();
    let dd_len = digits.len().saturating_sub(dd_start);
    let place = |digits: &mut Vec<u8>, bitmap: u64, value: &[u8]| {
        // bit k (from the right) of the bitmap ↔ the k-th discretionary digit from the right.
        let mut vi = value.len();
        for k in 0..dd_len {
            if bitmap >> k & 1 == 1 && vi > 0 {
                vi -= 1;
                if let (Some(slot), Some(v)) =
                    (digits.get_mut(dd_start + dd_len - 1 - k), value.get(vi))
                {
                    *slot = *v;
                }
            }
        }
    };
    let n_cvc3 = pcvc3.count_ones() as usize;
    let cvc3_s = format!("{:05}", cvc3 % 100_000);
    let cvc3_digits = cvc3_s
        .as_bytes()
        .get(5usize.saturating_sub(n_cvc3)..)
        .unwrap_or(&[])
        .to_vec();
    place(&mut digits, pcvc3, &cvc3_digits);
    let un_str: String = un_num.iter().map(|d| char::from(b'0' + d)).collect();
    let atc_s = format!("{:05}", atc);
    let mut unatc = un_str
        .as_bytes()
        .get(8 - n_un as usize..)
        .unwrap_or(&[])
        .to_vec();
    unatc.extend_from_slice(
        atc_s
            .as_bytes()
            .get(5usize.saturating_sub(natc as usize)..)
            .unwrap_or(&[]),
    );
    place(&mut digits, punatc, &unatc);
    if let Some(last) = digits.last_mut() {
        *last = b'0' + (n_un as u8 % 10);
    }
    let mut new_t2 = String::from_utf8(digits).unwrap_or_default();
    if new_t2.len() % 2 == 1 {
        new_t2.push('F');
    }
    s.ctx
        .store
        .set_card(0x9F6B, hex::decode(&new_t2).unwrap_or_default());
    s.ctx.record_tags.push(0x9F6B);
    let amount = s.amount();
    let cvm_required = s.comb.cvm_required_limit.is_some_and(|l| amount >= l);
    let cap = if cvm_required {
        s.comb
            .kernel2
            .mag_stripe_cvm_required
            .first()
            .copied()
            .unwrap_or(0)
    } else {
        s.comb
            .kernel2
            .mag_stripe_no_cvm
            .first()
            .copied()
            .unwrap_or(0)
    };
    let cvm = match cap & 0xF0 {
        0x10 => CvmKind::ObtainSignature,
        0x20 => CvmKind::OnlinePin,
        _ => CvmKind::NoCvm,
    };
    s.cvm = cvm;
    s.oda = OdaKind::None;
    let mut o = Outcome::new(OutcomeKind::OnlineRequest).ui(UiRequest::new(
        MessageId::CardReadOk,
        Status::CardReadSuccessfully,
    ));
    o.cvm = cvm;
    o.data_record_present = true;
    o.discretionary_data_present = true;
    Ok(o)
}
