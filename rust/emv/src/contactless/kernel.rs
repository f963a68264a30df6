//! What the contactless kernels share: the transaction context (the contact kernel's
//! `Ctx` of `crate::kernel` and data store, reused), FCI storage, GET PROCESSING OPTIONS with
//! the contactless status words, record reading per the AFL (reusing [`crate::gpo`]) and fast
//! DDA (EMV Contactless Book C-3 Annex C / Book C-7: SDAD over UN, amount, currency and the
//! Card Authentication Related Data).

use super::config::{Combination, KernelId};
use super::outcome::{CvmKind, Outcome, OutcomeKind, Start};
use super::ui::{MessageId, Status, UiRequest};
use super::{Clock, ContactlessReader, OdaKind, TornLog};
use crate::apdu::{Apdu, Response};
use crate::data::u64_to_bcd;
use crate::kernel::{Ctx, TransactionParams};
use crate::outcome::EndReason;
use crate::transport::{CardTransport, Channel};
use crate::tvr::TvrBit;
use smartpos_crypto::rsa::oda::verify_signed_dynamic_data;
use smartpos_tlv::{Tag, TlvReader};

/// Extra field-55 tags of contactless transactions (appended to the AID's list).
pub(crate) const CONTACTLESS_RECORD_TAGS: [u32; 6] =
    [0x9F66, 0x9F6C, 0x9F6E, 0x9F7C, 0x9F79, 0x9F5D];

/// The injected environment of a tap: clock (relay resistance, torn-log ageing) and the
/// terminal's torn transaction log.
pub struct TapEnv<'a> {
    pub clock: &'a mut dyn Clock,
    pub torn_log: &'a mut TornLog,
}

/// One kernel run: the reused contact context plus the contactless results.
pub(crate) struct Session {
    pub ctx: Ctx,
    pub kernel: KernelId,
    pub comb: Combination,
    /// TTQ after pre-processing (C-3/C-7).
    pub ttq: [u8; 4],
    pub oda: OdaKind,
    pub oda_ok: bool,
    pub cvm: CvmKind,
    /// Discretionary data objects (FF8106 for C-2; balance etc.).
    pub discretionary: Vec<(u32, Vec<u8>)>,
    pub balance: Option<u64>,
    pub relay_resistance: Option<RelayResult>,
    pub torn_recovered: bool,
    pub issuer_update: bool,
    pub end_reason: Option<EndReason>,
    #[cfg(feature = "kernel-c7")]
    pub sm_keys: std::sync::Arc<Vec<super::sm::SmCaKey>>,
}

/// Relay resistance measurement (Book C-2 §5.3, EXCHANGE RELAY RESISTANCE DATA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RelayResult {
    /// Measured processing time, units of 100 µs.
    pub measured_processing_time: u32,
    pub min_time_for_processing: u16,
    pub max_time_for_processing: u16,
    pub time_limits_exceeded: bool,
}

impl Session {
    pub fn new(
        reader: &ContactlessReader,
        params: &TransactionParams,
        comb: &Combination,
        ttq: [u8; 4],
        adf_name: &[u8],
    ) -> Session {
        let aid_index = reader
            .config
            .aids
            .iter()
            .position(|a| adf_name.starts_with(&a.aid))
            .unwrap_or(usize::MAX);
        let record_tags = match reader.record_tags(aid_index) {
            Some(t) => t.clone(),
            None => {
                let mut tags: Vec<u32> = crate::config::default_data_record_tags()
                    .iter()
                    .filter_map(|t| u32::from_str_radix(t, 16).ok())
                    .collect();
                tags.extend_from_slice(&CONTACTLESS_RECORD_TAGS);
                tags
            }
        };
        let mut ctx = Ctx::new(reader.config.clone(), reader.keys.clone(), params.clone());
        ctx.aid_index = aid_index;
        ctx.record_tags = record_tags;
        ctx.adf_name = Some(adf_name.to_vec());
        let mut s = Session {
            ctx,
            kernel: comb.kernel,
            comb: comb.clone(),
            ttq,
            oda: OdaKind::None,
            oda_ok: false,
            cvm: CvmKind::NotApplicable,
            discretionary: Vec::new(),
            balance: None,
            relay_resistance: None,
            torn_recovered: false,
            issuer_update: false,
            end_reason: None,
            #[cfg(feature = "kernel-c7")]
            sm_keys: reader.sm_keys.clone(),
        };
        s.load_terminal_data();
        s
    }

    /// Terminal data objects (Book 3 Annex A, plus TTQ 9F66 and 9F7A/9F7B for C-7).
    fn load_terminal_data(&mut self) {
        self.ctx.load_terminal_config_data();
        let p = &self.ctx.params;
        let s = &mut self.ctx.store;
        s.set_terminal(0x9F02, u64_to_bcd(p.amount, 6));
        s.set_terminal(0x9F03, u64_to_bcd(p.amount_other, 6));
        s.set_terminal(0x9A, p.date.to_vec());
        s.set_terminal(0x9F21, p.time.to_vec());
        s.set_terminal(0x9C, vec![p.transaction_type.code()]);
        s.set_terminal(0x9F37, p.unpredictable_number.to_vec());
        s.set_terminal(0x9F41, u64_to_bcd(u64::from(p.sequence_counter), 4));
        s.set_terminal(0x9F39, vec![0x07]);
        if self.kernel != KernelId::C2 {
            s.set_terminal(0x9F66, self.ttq.to_vec());
        }
        if let Some(a) = self.ctx.cfg.aids.get(self.ctx.aid_index) {
            s.set_terminal(0x9F09, a.application_version.clone());
        }
        if self.kernel == KernelId::C7 {
            let ec_ok = self
                .comb
                .ec_transaction_limit
                .is_some_and(|l| p.amount > 0 && p.amount <= l);
            s.set_terminal(0x9F7A, vec![u8::from(ec_ok)]);
            if let Some(l) = self.comb.ec_transaction_limit {
                s.set_terminal(0x9F7B, u64_to_bcd(l, 6));
            }
            #[cfg(feature = "kernel-c7")]
            s.set_terminal(0xDF69, vec![u8::from(!self.sm_keys.is_empty())]);
        }
        if self.kernel == KernelId::C2 {
            let k = &self.comb.kernel2;
            s.set_terminal(0xDF8117, k.card_data_input_capability.clone());
            s.set_terminal(0xDF8118, k.cvm_capability_cvm_required.clone());
            s.set_terminal(0xDF8119, k.cvm_capability_no_cvm.clone());
            s.set_terminal(0xDF811F, k.security_capability.clone());
        }
        self.ctx.sync();
    }

    /// Store the FCI of the selected application (Book 1 §11.3.4; Book B §3.3.3).
    pub fn store_fci(&mut self, fci: &[u8]) -> Result<(), EndReason> {
        let fmt = |r: String| EndReason::FormatError {
            command: "SELECT",
            reason: r,
        };
        let top = TlvReader::new(fci)
            .next()
            .ok_or_else(|| fmt("empty FCI".into()))?
            .map_err(|e| fmt(e.to_string()))?;
        if top.tag != Tag(0x6F) {
            return Err(fmt(format!("FCI template {:X}; 6F expected", top.tag.0)));
        }
        for obj in top.children() {
            let obj = obj.map_err(|e| fmt(e.to_string()))?;
            match obj.tag.0 {
                0x84 => self.ctx.store.set_card(0x84, obj.value.to_vec()),
                0xA5 => {
                    for inner in obj.children() {
                        let inner = inner.map_err(|e| fmt(e.to_string()))?;
                        if inner.tag.0 == 0xBF0C {
                            for d in inner.children().flatten() {
                                self.ctx.store.set_card(d.tag.0, d.value.to_vec());
                            }
                        } else if !inner.is_constructed() {
                            self.ctx.store.set_card(inner.tag.0, inner.value.to_vec());
                        }
                    }
                }
                _ => {}
            }
        }
        self.ctx.label = self
            .ctx
            .store
            .get(0x50)
            .map(|v| String::from_utf8_lossy(v).into_owned());
        if let Some(pref) = self.ctx.store.get(0x5F2D) {
            let pref = String::from_utf8_lossy(pref).to_ascii_lowercase();
            self.ctx.language =
                crate::selection::negotiate_language(&pref, &self.ctx.cfg.terminal.languages);
        }
        Ok(())
    }

    /// Build the PDOL data (Book 3 §5.4) and send GET PROCESSING OPTIONS; map the contactless
    /// status words (Book C-2 §3.5, C-3 §5.2): 6985 → Select Next, 6984 → Try Another
    /// Interface, 6986 → see phone (Try Again, Start B).
    pub fn gpo<T: CardTransport>(&mut self, ch: &mut Channel<T>) -> Result<Response, Outcome> {
        let pdol = self.ctx.store.get(0x9F38).map(<[u8]>::to_vec);
        let pdol_data = match pdol {
            Some(p) => crate::dol::build(&p, &self.ctx.store).map_err(|e| self.end(e))?,
            None => Vec::new(),
        };
        self.ctx.pdol_data = pdol_data;
        let resp = ch
            .transmit(&Apdu::get_processing_options(&self.ctx.pdol_data))
            .map_err(|e| self.link_error(e))?;
        match resp.sw() {
            0x9000 => Ok(resp),
            0x6985 => Err(Outcome::new(OutcomeKind::SelectNext)),
            0x6984 => Err(try_another_interface()),
            0x6986 => Err(see_phone(OutcomeKind::TryAgain)),
            sw => Err(self.end(EndReason::CardError {
                command: "GET PROCESSING OPTIONS",
                sw,
            })),
        }
    }

    /// Store the objects of a response template 77 (or format 1 80 for GPO).
    pub fn store_template(&mut self, data: &[u8], command: &'static str) -> Result<(), EndReason> {
        let fmt = |r: String| EndReason::FormatError { command, reason: r };
        let top = TlvReader::new(data)
            .next()
            .ok_or_else(|| fmt("empty response".into()))?
            .map_err(|e| fmt(e.to_string()))?;
        match top.tag.0 {
            0x77 => {
                for obj in top.children() {
                    let obj = obj.map_err(|e| fmt(e.to_string()))?;
                    if obj.tag.0 == 0x82 && obj.value.len() == 2 {
                        self.ctx.aip = [
                            obj.value.first().copied().unwrap_or(0),
                            obj.value.get(1).copied().unwrap_or(0),
                        ];
                    }
                    self.ctx.store.set_card(obj.tag.0, obj.value.to_vec());
                }
                Ok(())
            }
            0x80 if command == "GET PROCESSING OPTIONS" => {
                let po = crate::gpo::parse_gpo_response(data)?;
                self.ctx.aip = po.aip;
                self.ctx.store.set_card(0x82, po.aip.to_vec());
                self.ctx.store.set_card(0x94, po.afl);
                Ok(())
            }
            t => Err(fmt(format!("template {t:X}; 77 expected"))),
        }
    }

    /// READ RECORD per the AFL (94) if any, adding objects once (Book 3 §10.2).
    pub fn read_records<T: CardTransport>(&mut self, ch: &mut Channel<T>) -> Result<(), EndReason> {
        let Some(afl) = self.ctx.store.get(0x94).map(<[u8]>::to_vec) else {
            return Ok(());
        };
        if afl.is_empty() {
            return Ok(());
        }
        let entries = crate::gpo::parse_afl(&afl).map_err(|r| EndReason::FormatError {
            command: "GET PROCESSING OPTIONS",
            reason: r,
        })?;
        let records = crate::gpo::read_records(ch, &entries)?;
        for (tag, value) in &records.objects {
            if !self.ctx.store.add_card_once(*tag, value) {
                return Err(EndReason::DuplicateData { tag: *tag });
            }
        }
        self.ctx.oda.static_data = records.oda_data;
        self.ctx.oda.record_invalid = records.oda_record_invalid;
        Ok(())
    }

    /// Fast DDA (Book C-3 Annex C.2 / Book C-7): recover the ICC key through the issuer
    /// certificate (the contact ODA code, Book 2 §6.3-6.4) and check the SDAD (9F4B) over the
    /// terminal dynamic data UN (9F37) || amount (9F02) || currency (5F2A) || Card
    /// Authentication Related Data (9F69).
    pub fn fdda(&mut self) -> Result<(), String> {
        self.oda = OdaKind::Fdda;
        let cad = self
            .ctx
            .store
            .get(0x9F69)
            .ok_or("Card Authentication Related Data 9F69 missing")?
            .to_vec();
        if cad.first() != Some(&0x01) {
            return Err(format!(
                "fDDA version {:02X} not supported (01 expected)",
                cad.first().copied().unwrap_or(0)
            ));
        }
        let sdad = self
            .ctx
            .store
            .get(0x9F4B)
            .ok_or("Signed Dynamic Application Data 9F4B missing")?
            .to_vec();
        let mut tdd = Vec::with_capacity(16 + cad.len());
        tdd.extend_from_slice(&self.ctx.params.unpredictable_number);
        tdd.extend_from_slice(self.ctx.store.get(0x9F02).unwrap_or(&[]));
        tdd.extend_from_slice(self.ctx.store.get(0x5F2A).unwrap_or(&[]));
        tdd.extend_from_slice(&cad);
        #[cfg(feature = "kernel-c7")]
        if self.kernel == KernelId::C7
            && self.ctx.store.get(0xDF69) == Some(&[0x01])
            && self
                .ctx
                .store
                .get(0x90)
                .is_some_and(super::sm::is_sm_certificate)
        {
            return self.sm_fdda(&sdad, &tdd);
        }
        let icc_key = crate::oda::retrieve_icc_key(&mut self.ctx).map_err(|e| match e {
            crate::oda::OdaFailure::Missing(t) => format!("ICC data {t:X} missing"),
            crate::oda::OdaFailure::Failed(r) => r,
            crate::oda::OdaFailure::Transport(r) => r.to_string(),
        })?;
        let dynamic =
            verify_signed_dynamic_data(&icc_key, &sdad, &tdd).map_err(|e| e.to_string())?;
        self.ctx.store.set_card(0x9F4C, dynamic.icc_dynamic_number);
        self.ctx.oda.icc_key = Some(icc_key);
        Ok(())
    }

    /// fDDA for an SM card (Book C-7 / PBOC 3.0 SM): SM2 certificate chain and SDAD.
    #[cfg(feature = "kernel-c7")]
    fn sm_fdda(&mut self, sdad: &[u8], tdd: &[u8]) -> Result<(), String> {
        let need = |tag: u32| {
            self.ctx
                .store
                .get(tag)
                .map(<[u8]>::to_vec)
                .ok_or_else(|| format!("ICC data {tag:X} missing"))
        };
        let index = *need(0x8F)?.first().ok_or("8F empty")?;
        let rid = self
            .ctx
            .adf_name
            .as_deref()
            .and_then(|a| a.get(..5))
            .ok_or("no RID")?
            .to_vec();
        let ca = self
            .sm_keys
            .iter()
            .find(|k| k.rid.as_slice() == rid && k.index == index)
            .ok_or_else(|| format!("SM CA key {}/{index:02X} unknown", hex::encode_upper(&rid)))?;
        if self.ctx.oda.record_invalid {
            return Err("a record flagged for ODA is not a template 70".into());
        }
        let mut static_data = self.ctx.oda.static_data.clone();
        if self.ctx.store.get(0x9F4A) == Some(&[0x82]) {
            static_data.extend_from_slice(&self.ctx.aip);
        }
        let dd = super::sm::verify_sm_fdda(
            ca,
            &need(0x90)?,
            &need(0x9F46)?,
            &need(0x5A)?,
            &static_data,
            sdad,
            tdd,
            &self.ctx.params.date,
        )?;
        let n = usize::from(dd.first().copied().unwrap_or(0));
        if let Some(idn) = dd.get(1..1 + n) {
            self.ctx.store.set_card(0x9F4C, idn.to_vec());
        }
        Ok(())
    }

    /// Record an fDDA/CDA failure in the TVR (Book C-3: "DDA failed"; C-2: "CDA failed").
    pub fn oda_failed(&mut self, reason: String, bit: TvrBit) {
        self.ctx.oda.failed = true;
        self.ctx.oda.failure = Some(reason);
        self.ctx.set(bit);
        self.oda_ok = false;
    }

    /// End Application with "Insert, swipe or try another card" for a card error.
    pub fn end(&mut self, reason: EndReason) -> Outcome {
        self.discretionary
            .push((0xDF8115, error_indication(&reason).to_vec()));
        let mut o = Outcome::new(OutcomeKind::EndApplication).ui(UiRequest::new(
            MessageId::InsertSwipeOrTryAnotherCard,
            Status::ProcessingError,
        ));
        o.discretionary_data_present = true;
        self.end_reason = Some(reason);
        o
    }

    /// A failed exchange: card removed/timeout → Try Again (present card again), Book A §6.2.
    pub fn link_error(&mut self, e: crate::transport::TransportError) -> Outcome {
        let reason: EndReason = e.into();
        match reason {
            EndReason::CardRemoved
            | EndReason::Transport(crate::transport::TransportError::Timeout)
            | EndReason::Transport(crate::transport::TransportError::Io(_)) => {
                self.discretionary
                    .push((0xDF8115, error_indication(&reason).to_vec()));
                self.end_reason = Some(reason);
                Outcome::new(OutcomeKind::TryAgain)
                    .ui(UiRequest::new(
                        MessageId::PresentCardAgain,
                        Status::ReadyToRead,
                    ))
                    .restart(
                        Start::B,
                        Some(UiRequest::new(
                            MessageId::PresentCardAgain,
                            Status::ReadyToRead,
                        )),
                    )
            }
            other => self.end(other),
        }
    }

    pub fn amount(&self) -> u64 {
        self.ctx.params.amount
    }
}

/// Error Indication (DF8115, Book C-2 Annex A): L1, L2, L3 error, SW12, message on error.
fn error_indication(reason: &EndReason) -> [u8; 6] {
    let (l1, l2, sw) = match reason {
        EndReason::CardRemoved => (0x02, 0x00, 0u16),
        EndReason::Transport(_) => (0x01, 0x00, 0),
        EndReason::CardError { sw, .. } => (0x00, 0x03, *sw),
        EndReason::MissingMandatoryData { .. } => (0x00, 0x01, 0),
        EndReason::FormatError { .. } | EndReason::DuplicateData { .. } => (0x00, 0x04, 0),
        _ => (0x00, 0x07, 0),
    };
    [l1, l2, 0x00, (sw >> 8) as u8, sw as u8, 0x1C]
}

/// Try Another Interface with "Please insert or swipe card" (Book A §6.2, C-3 §5.2).
pub(crate) fn try_another_interface() -> Outcome {
    let mut o = Outcome::new(OutcomeKind::TryAnotherInterface).ui(UiRequest::new(
        MessageId::InsertOrSwipeCard,
        Status::ProcessingError,
    ));
    o.alternate_interface = Some(super::outcome::Interface::ContactChip);
    o
}

/// "See phone": the consumer device asks the cardholder to verify on the phone; Entry Point
/// restarts at Start B when the phone is presented again (Book A §6.2, C-2 §3.10, C-3 §5.2).
pub(crate) fn see_phone(kind: OutcomeKind) -> Outcome {
    Outcome::new(kind)
        .ui(UiRequest::new(MessageId::SeePhone, Status::NotReady).hold(1300))
        .restart(
            Start::B,
            Some(UiRequest::new(MessageId::PresentCard, Status::ReadyToRead)),
        )
}
