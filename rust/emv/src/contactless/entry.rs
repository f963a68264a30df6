//! Entry Point (EMV Contactless Book B): pre-processing per combination (§3.1), protocol
//! activation with collision handling (§3.2), combination selection from the PPSE by ADF name,
//! kernel identifier (9F2A) and priority (87) (§3.3), final selection and kernel activation
//! (§3.4), and outcome processing with restarts at Start B (§3.5).

use super::config::{Combination, KernelId, ttq};
use super::kernel::{Session, TapEnv};
use super::outcome::{Outcome, OutcomeKind, Start};
use super::ui::{MessageId, Status, UiRequest, UiSink, UiValue};
use super::{Activation, ContactlessReader, ContactlessTransport, TapResult};
use crate::apdu::Apdu;
use crate::kernel::TransactionParams;
use crate::transport::Channel;
use smartpos_tlv::{Tag, TlvReader};

/// The Proximity Payment System Environment name (Book B §3.3.2).
pub const PPSE_NAME: &[u8] = b"2PAY.SYS.DDF01";

/// Pre-processing indicators of one combination (Book B §3.1.1, Table 3-1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preprocessed {
    /// Index into the configuration's combinations.
    pub index: usize,
    pub status_check_requested: bool,
    pub contactless_not_allowed: bool,
    pub zero_amount: bool,
    pub cvm_required_limit_exceeded: bool,
    pub floor_limit_exceeded: bool,
    /// TTQ after pre-processing (byte 2 b8 online cryptogram required, b7 CVM required).
    pub ttq: [u8; 4],
}

/// Whether this build has the kernel (cargo features `kernel-c2`, `kernel-c3`, `kernel-c7`).
pub fn kernel_compiled(k: KernelId) -> bool {
    match k {
        KernelId::C2 => cfg!(feature = "kernel-c2"),
        KernelId::C3 => cfg!(feature = "kernel-c3"),
        KernelId::C7 => cfg!(feature = "kernel-c7"),
    }
}

/// Book B §3.1.1: per combination, the indicators and the TTQ copy.
pub fn preprocess(combinations: &[Combination], amount: u64) -> Vec<Preprocessed> {
    combinations
        .iter()
        .enumerate()
        .map(|(index, c)| {
            let mut t = [0u8; 4];
            for (o, b) in t.iter_mut().zip(&c.ttq) {
                *o = *b;
            }
            // 3.1.1.1: clear the online-cryptogram-required and CVM-required bits.
            t[1] &= !(ttq::ONLINE_CRYPTOGRAM_REQUIRED | ttq::CVM_REQUIRED);
            let mut p = Preprocessed {
                index,
                status_check_requested: false,
                contactless_not_allowed: !kernel_compiled(c.kernel),
                zero_amount: false,
                cvm_required_limit_exceeded: false,
                floor_limit_exceeded: false,
                ttq: t,
            };
            // 3.1.1.3: status check for a single unit of currency.
            if c.status_check && amount == 1 {
                p.status_check_requested = true;
            }
            // 3.1.1.4: zero amount.
            if amount == 0 {
                if c.zero_amount_allowed {
                    p.zero_amount = true;
                } else {
                    p.contactless_not_allowed = true;
                }
            }
            // 3.1.1.5-3.1.1.7: limits.
            if c.transaction_limit.is_some_and(|l| amount >= l) {
                p.contactless_not_allowed = true;
            }
            if c.floor_limit.is_some_and(|l| amount > l) {
                p.floor_limit_exceeded = true;
            }
            if c.cvm_required_limit.is_some_and(|l| amount >= l) {
                p.cvm_required_limit_exceeded = true;
            }
            // 3.1.1.8-3.1.1.12: TTQ.
            if p.floor_limit_exceeded || p.status_check_requested || p.zero_amount {
                p.ttq[1] |= ttq::ONLINE_CRYPTOGRAM_REQUIRED;
            }
            if p.cvm_required_limit_exceeded {
                p.ttq[1] |= ttq::CVM_REQUIRED;
            }
            p
        })
        .collect()
}

/// One entry of the Entry Point candidate list (Book B §3.3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateEntry {
    pub adf_name: Vec<u8>,
    pub kernel: KernelId,
    pub priority: Option<u8>,
    pub label: Option<String>,
    /// Extended Selection (9F29), used when the combination supports it.
    pub extended_selection: Option<Vec<u8>>,
    /// Index into the pre-processed list.
    pub pre: usize,
}

impl CandidateEntry {
    /// The name for the final SELECT (Book B §3.3.3): ADF name, plus 9F29 with extended
    /// selection.
    pub fn select_name(&self) -> Vec<u8> {
        let mut n = self.adf_name.clone();
        if let Some(x) = &self.extended_selection {
            n.extend_from_slice(x);
        }
        n
    }
}

/// Book B §3.3.2: parse the PPSE FCI and build the candidate list — for each directory entry
/// (61) with an ADF name (4F), the kernel from 9F2A (or the RID default), matched against the
/// allowed combinations whose AID is a prefix of the ADF name; ordered by priority (87 b4-b1,
/// 1 highest; none last), stable otherwise.
pub fn candidates(
    ppse_fci: &[u8],
    combinations: &[Combination],
    pre: &[Preprocessed],
) -> Vec<CandidateEntry> {
    let mut out = Vec::new();
    let Ok(Some(dir)) = smartpos_tlv::find_path(ppse_fci, &[Tag(0x6F), Tag(0xA5), Tag(0xBF0C)])
    else {
        return out;
    };
    for entry in dir.children().flatten() {
        if entry.tag != Tag(0x61) {
            continue;
        }
        let mut adf = None;
        let mut kid = None;
        let mut prio = None;
        let mut label = None;
        let mut extended = None;
        for d in entry.children().flatten() {
            match d.tag.0 {
                0x4F => adf = Some(d.value.to_vec()),
                0x9F2A => kid = d.value.first().copied(),
                0x87 => prio = d.value.first().copied(),
                0x50 => label = Some(String::from_utf8_lossy(d.value).into_owned()),
                0x9F29 => extended = Some(d.value.to_vec()),
                _ => {}
            }
        }
        let Some(adf) = adf.filter(|a| (5..=16).contains(&a.len())) else {
            continue;
        };
        // 9F2A byte 1: b8-b7 kernel type, b6-b1 short kernel id; 0 → default by RID.
        let kernel = match kid.map(|k| k & 0x3F) {
            Some(0) | None => KernelId::default_for_aid(&adf),
            Some(n) => KernelId::from_number(n),
        };
        let Some(kernel) = kernel else { continue };
        for p in pre.iter().filter(|p| !p.contactless_not_allowed) {
            let Some(c) = combinations.get(p.index) else {
                continue;
            };
            if c.kernel == kernel && adf.starts_with(&c.aid) {
                out.push(CandidateEntry {
                    adf_name: adf.clone(),
                    kernel,
                    priority: prio.map(|v| v & 0x0F).filter(|v| *v != 0),
                    label: label.clone(),
                    extended_selection: extended
                        .clone()
                        .filter(|x| c.extended_selection && adf.len() + x.len() <= 16),
                    pre: p.index,
                });
                break;
            }
        }
    }
    out.sort_by_key(|c| c.priority.unwrap_or(16));
    out
}

pub(crate) fn send_ui(ui: &mut dyn UiSink, log: &mut Vec<UiRequest>, req: UiRequest) {
    ui.ui_request(&req);
    log.push(req);
}

/// The whole tap (Book B §2: Start A/B).
pub(crate) fn tap<T: ContactlessTransport>(
    reader: &ContactlessReader,
    transport: &mut T,
    params: &TransactionParams,
    env: &mut TapEnv<'_>,
    ui: &mut dyn UiSink,
) -> TapResult {
    let mut log = Vec::new();
    let cl = &reader.contactless;
    let pre = preprocess(&cl.combinations, params.amount);
    let mut result = TapResult::empty();
    if pre.iter().all(|p| p.contactless_not_allowed) {
        // 3.1.1.13: no combination allows contactless → Try Another Interface.
        let o = super::kernel::try_another_interface();
        if let Some(u) = &o.ui_on_outcome {
            send_ui(ui, &mut log, u.clone());
        }
        result.outcome = o;
        result.ui = log;
        return result;
    }
    send_ui(
        ui,
        &mut log,
        UiRequest::new(MessageId::PresentCard, Status::ReadyToRead)
            .with_value(UiValue::Amount(params.amount)),
    );
    let mut restarts = 0u8;
    loop {
        // Protocol activation (Book B §3.2): one card, or "present one card only".
        let mut polls = 0u8;
        loop {
            match transport.activate() {
                Activation::Card => break,
                Activation::Collision => {
                    polls += 1;
                    send_ui(
                        ui,
                        &mut log,
                        UiRequest::new(MessageId::PresentOneCardOnly, Status::ReadyToRead),
                    );
                    if polls >= cl.max_collision_polls {
                        let o = Outcome::new(OutcomeKind::EndApplication).ui(UiRequest::new(
                            MessageId::PresentOneCardOnly,
                            Status::ProcessingError,
                        ));
                        result.outcome = o;
                        result.ui = log;
                        return result;
                    }
                }
                Activation::NoCard => {
                    let o = Outcome::new(OutcomeKind::EndApplication)
                        .ui(UiRequest::new(MessageId::ClearDisplay, Status::Idle));
                    result.outcome = o;
                    result.ui = log;
                    return result;
                }
            }
        }
        send_ui(
            ui,
            &mut log,
            UiRequest::new(MessageId::Processing, Status::Processing),
        );
        let mut ch = Channel::new(&mut *transport);
        let outcome = select_and_run(reader, &mut ch, params, &pre, env, &mut result);
        result.trace.entries.extend(ch.take_trace().entries);
        if let Some(u) = &outcome.ui_on_outcome {
            send_ui(ui, &mut log, u.clone());
        }
        let restart = outcome.start == Some(Start::B)
            && matches!(
                outcome.kind,
                OutcomeKind::TryAgain | OutcomeKind::EndApplication
            );
        if restart && restarts < cl.max_restarts {
            restarts += 1;
            transport.field_off(outcome.field_off_ms.unwrap_or(0));
            if let Some(u) = &outcome.ui_on_restart {
                send_ui(ui, &mut log, u.clone());
            }
            result.restarts = restarts;
            continue;
        }
        result.outcome = outcome;
        result.ui = log;
        return result;
    }
}

/// A SELECT that got no answer (card lost, L1 error): Try Again, "present card again", restart at
/// Start B (Book B §3.3-§3.4, as for the other SELECTs of this module).
fn card_lost() -> Outcome {
    Outcome::new(OutcomeKind::TryAgain)
        .ui(UiRequest::new(
            MessageId::PresentCardAgain,
            Status::ReadyToRead,
        ))
        .restart(Start::B, None)
}

/// Book B §3.3-§3.4: SELECT PPSE, candidate list, final selection (removing a candidate whose
/// SELECT fails or whose kernel says Select Next), kernel activation.
fn select_and_run<T: ContactlessTransport>(
    reader: &ContactlessReader,
    ch: &mut Channel<&mut T>,
    params: &TransactionParams,
    pre: &[Preprocessed],
    env: &mut TapEnv<'_>,
    result: &mut TapResult,
) -> Outcome {
    let cl = &reader.contactless;
    let not_accepted = || {
        Outcome::new(OutcomeKind::EndApplication).ui(UiRequest::new(
            MessageId::InsertSwipeOrTryAnotherCard,
            Status::ProcessingError,
        ))
    };
    let ppse = match ch.transmit(&Apdu::select(PPSE_NAME, false)) {
        Ok(r) => r,
        Err(e) => {
            result.end_reason = Some(e.to_string());
            return card_lost();
        }
    };
    if !ppse.is_ok() {
        result.end_reason = Some(format!("SELECT PPSE answered {:04X}", ppse.sw()));
        return not_accepted();
    }
    let mut list = candidates(&ppse.data, &cl.combinations, pre);
    while !list.is_empty() {
        let cand = list.remove(0);
        let (Some(p), Some(comb)) = (pre.get(cand.pre), cl.combinations.get(cand.pre)) else {
            continue;
        };
        let sel = match ch.transmit(&Apdu::select(&cand.select_name(), false)) {
            Ok(r) => r,
            Err(e) => {
                result.end_reason = Some(e.to_string());
                return card_lost();
            }
        };
        if !sel.is_ok() {
            result.end_reason = Some(format!(
                "SELECT {} answered {:04X}",
                hex::encode_upper(&cand.adf_name),
                sel.sw()
            ));
            continue;
        }
        let mut s = Session::new(reader, params, comb, p.ttq, &cand.adf_name);
        if let Err(e) = s.store_fci(&sel.data) {
            result.end_reason = Some(e.to_string());
            continue;
        }
        let outcome = run_kernel(&mut s, ch, env);
        if outcome.kind == OutcomeKind::SelectNext {
            result.end_reason = Some(format!(
                "kernel {} asked to select the next application",
                cand.kernel.name()
            ));
            continue;
        }
        result.absorb(s, &outcome);
        let mut outcome = outcome;
        // Book A §9: the UI request carries the cardholder's language when known.
        if let Some(u) = outcome.ui_on_outcome.as_mut() {
            u.language = result.language.clone();
        }
        return outcome;
    }
    not_accepted()
}

fn run_kernel<T: ContactlessTransport>(
    s: &mut Session,
    ch: &mut Channel<&mut T>,
    env: &mut TapEnv<'_>,
) -> Outcome {
    let _ = &env;
    match s.kernel {
        #[cfg(feature = "kernel-c2")]
        KernelId::C2 => super::c2::run(s, ch, env),
        #[cfg(any(feature = "kernel-c3", feature = "kernel-c7"))]
        KernelId::C3 | KernelId::C7 => super::c3::run(s, ch),
        #[allow(unreachable_patterns)]
        _ => super::kernel::try_another_interface(),
    }
}

/// Start C (Book B §2.2, C-3 §5.9): after the online response, re-activate the card, select
/// the same application and let the kernel run issuer update processing.
pub(crate) fn resume<T: ContactlessTransport>(
    _reader: &ContactlessReader,
    transport: &mut T,
    online: TapResult,
    host: &crate::kernel::HostResponse,
    _env: &mut TapEnv<'_>,
    ui: &mut dyn UiSink,
) -> TapResult {
    let mut result = online;
    let mut log = std::mem::take(&mut result.ui);
    let final_outcome = |approved: bool| {
        if approved {
            Outcome::new(OutcomeKind::Approved).ui(UiRequest::new(
                MessageId::Approved,
                Status::CardReadSuccessfully,
            )
            .hold(1300))
        } else {
            Outcome::new(OutcomeKind::Declined).ui(UiRequest::new(
                MessageId::NotAuthorised,
                Status::NotReady,
            )
            .hold(1300))
        }
    };
    let needs_update = result.outcome.online_response_data
        == super::outcome::OnlineResponseData::EmvData
        && (!host.issuer_authentication_data.is_empty() || !host.scripts.is_empty());
    let mut outcome = final_outcome(host.approved);
    outcome.cvm = result.outcome.cvm;
    outcome.data_record_present = true;
    if needs_update && let Some(state) = result.session.take() {
        let mut s = *state;
        send_ui(
            ui,
            &mut log,
            UiRequest::new(MessageId::PresentCardAgain, Status::ReadyToRead),
        );
        if transport.activate() == Activation::Card {
            let mut ch = Channel::new(&mut *transport);
            let adf = s.ctx.adf_name.clone().unwrap_or_default();
            let selected = ch.transmit(&Apdu::select(&adf, false)).map(|r| r.is_ok());
            if selected == Ok(true) {
                outcome.start = Some(Start::C);
                #[cfg(any(feature = "kernel-c3", feature = "kernel-c7"))]
                if let Err(o) = super::c3::issuer_update(&mut s, &mut ch, host) {
                    outcome = o;
                }
            }
            result.trace.entries.extend(ch.take_trace().entries);
        }
        result.absorb(s, &outcome);
    }
    if let Some(u) = &outcome.ui_on_outcome {
        send_ui(ui, &mut log, u.clone());
    }
    result.outcome = outcome;
    result.ui = log;
    result
}

/// Find the first ADF name in a PPSE FCI (diagnostics).
pub fn first_adf_name(ppse_fci: &[u8]) -> Option<Vec<u8>> {
    let dir = smartpos_tlv::find_path(ppse_fci, &[Tag(0x6F), Tag(0xA5), Tag(0xBF0C)]).ok()??;
    TlvReader::new(dir.value)
        .flatten()
        .find_map(|e| e.child(Tag(0x4F)).ok().flatten().map(|t| t.value.to_vec()))
}
