//! Contactless payments through the Entry Point and kernels (EMV Contactless Books A and B).

use super::host_outcome::{CardStep, CompleteCard};
use super::*;

/// Card data the terminal needs from a tap but the host gets in its own fields (PAN in field 2,
/// PAN sequence number in field 23, track 2 never): added to the reader's data record, removed
/// from field 55 before sending.
pub(super) const CARD_TAGS: [u32; 3] = [0x5A, 0x5F34, 0x57];

/// The contactless reader's copy of the kernel configuration: every AID's data record also
/// carries [`CARD_TAGS`] (the Entry Point hands the terminal no PAN otherwise).
pub(super) fn reader_config(cfg: &smartpos_emv::TerminalConfig) -> smartpos_emv::TerminalConfig {
    let mut c = cfg.clone();
    for aid in &mut c.aids {
        for t in CARD_TAGS {
            let hex = format!("{t:02X}");
            if !aid
                .data_record_tags
                .iter()
                .any(|x| x.eq_ignore_ascii_case(&hex))
            {
                aid.data_record_tags.push(hex);
            }
        }
    }
    c
}

/// Field 55 from a contactless data record: every TLV but [`CARD_TAGS`] (EMV Book 4 §6.5.6
/// data sent in their own ISO 8583 fields).
pub(super) fn field55(record: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(record.len());
    for t in smartpos_tlv::TlvReader::new(record).flatten() {
        if !CARD_TAGS.contains(&t.tag.0) {
            out.extend_from_slice(t.raw);
        }
    }
    out
}

/// How a contactless tap ended, for the card loop.
pub(super) enum TapEnd {
    Done(Box<TransactionOutcome>),
    /// Try Again (Book A §6.2.1): wait for the next tap; `failed` counts towards the
    /// failed-read limit (not for a phone that asked the customer to verify on the device).
    TryAgain {
        failed: bool,
    },
    /// Try Another Interface: insert (or swipe) the card.
    AnotherInterface,
}

/// The contactless reader clock: microseconds since the terminal opened (monotonic).
pub(super) struct ReaderClock(std::time::Instant);

impl smartpos_emv::contactless::Clock for ReaderClock {
    fn now_micros(&mut self) -> u64 {
        u64::try_from(self.0.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

/// Forwards the kernels' User Interface Requests (Book A §9.1, Table 9-1) to the app: the
/// message as a prompt, the reader status as LEDs (event and indicator device).
pub(super) struct UiForward<'a> {
    events: &'a dyn EventSink,
    indicators: &'a mut dyn Indicators,
    requests: Vec<UiRequest>,
}

impl UiSink for UiForward<'_> {
    fn ui_request(&mut self, request: &UiRequest) {
        self.events.event(&Event::Prompt {
            id: book_a_message(request.message),
            tries_left: None,
            book_a: Some(crate::events::BookAMessage {
                code: request.message_code,
                hold_time_ms: request.hold_time_ms,
            }),
        });
        let led = book_a_led(request.status);
        self.events.event(&Event::Led { status: led });
        self.indicators.leds(led);
        self.requests.push(request.clone());
    }
}

/// Book A Table 9-5 message identifiers as the terminal's message ids.
pub(super) fn book_a_message(m: smartpos_emv::contactless::MessageId) -> MessageId {
    use smartpos_emv::contactless::MessageId as M;
    match m {
        M::Approved => MessageId::Approved,
        M::NotAuthorised => MessageId::NotAuthorised,
        M::EnterPin => MessageId::EnterPin,
        M::ProcessingError => MessageId::ProcessingError,
        M::RemoveCard => MessageId::RemoveCard,
        M::Welcome => MessageId::Welcome,
        M::PresentCard => MessageId::PresentCard,
        M::Processing => MessageId::Processing,
        M::CardReadOk => MessageId::CardReadOk,
        M::InsertOrSwipeCard => MessageId::InsertOrSwipeCard,
        M::PresentOneCardOnly => MessageId::PresentOneCard,
        M::ApprovedPleaseSign => MessageId::ApprovedPleaseSign,
        M::AuthorisingPleaseWait => MessageId::AuthorisingPleaseWait,
        M::InsertSwipeOrTryAnotherCard => MessageId::InsertSwipeOrTryAnotherCard,
        M::InsertCard => MessageId::InsertCard,
        M::ClearDisplay => MessageId::ClearDisplay,
        M::SeePhone => MessageId::SeePhone,
        M::PresentCardAgain => MessageId::PresentCardAgain,
    }
}

/// Book A Table 9-3 reader status as LEDs (§9.3).
pub(super) fn book_a_led(s: smartpos_emv::contactless::Status) -> LedStatus {
    use smartpos_emv::contactless::Status as S;
    match s {
        S::NotReady | S::Idle => LedStatus::Off,
        S::ReadyToRead => LedStatus::ReadyToRead,
        S::Processing => LedStatus::Processing,
        S::CardReadSuccessfully => LedStatus::CardReadOk,
        S::ProcessingError => LedStatus::Error,
    }
}

/// PAN (5A, else track 2 equivalent data 57 up to the separator) and PAN sequence number (5F34)
/// from a contactless data record.
pub(super) fn record_pan(record: &[u8]) -> Option<(Zeroizing<String>, Option<u8>)> {
    let psn = smartpos_tlv::find(record, Tag(0x5F34))
        .ok()
        .flatten()
        .and_then(|t| t.value.first().copied())
        .map(|b| (b >> 4) * 10 + (b & 0x0F));
    let pan = if let Some(t) = smartpos_tlv::find(record, Tag(0x5A)).ok().flatten() {
        Zeroizing::new(hex::encode_upper(t.value).trim_end_matches('F').to_string())
    } else {
        let t = smartpos_tlv::find(record, Tag(0x57)).ok().flatten()?;
        let digits = Zeroizing::new(hex::encode_upper(t.value));
        Zeroizing::new(digits.split('D').next().unwrap_or("").to_string())
    };
    if pan.is_empty() {
        None
    } else {
        Some((pan, psn))
    }
}

impl Terminal {
    /// One contactless tap through the Entry Point and kernels (EMV Contactless Book B, Book A
    /// §6.2 outcomes): APPROVED offline is journalled with its advice queued; ONLINE REQUEST
    /// goes to the host with field 55 from the data record, then `resume_online` (Start C
    /// issuer update when the kernel asked for it); TRY AGAIN waits for the next tap; TRY
    /// ANOTHER INTERFACE asks for the chip.
    pub(super) fn tap(
        &mut self,
        p: &Payment<'_>,
        link: &mut ContactlessChannel,
        cancel: &CancelToken,
    ) -> Result<TapEnd> {
        let events = self.events();
        events.event(&Event::Progress {
            step: Progress::ReadingCard,
        });
        let params = self.txn_params(p, Read::Contactless)?;
        let mut clock = ReaderClock(self.reader_epoch);
        let mut tr: &mut (dyn ContactlessTransport + Send) = &mut **link;
        let result = {
            let mut ui = UiForward {
                events: &*events,
                indicators: &mut *self.devices.indicators,
                requests: Vec::new(),
            };
            let mut env = TapEnv {
                clock: &mut clock,
                torn_log: &mut self.torn_log,
            };
            smartpos_emv::contactless::run_tap(&mut tr, &self.reader, &params, &mut env, &mut ui)
        };
        log::info!(
            "tap: {} via {:?}",
            result.outcome.kind.book_a_name(),
            result.kernel.map(|k| k.name())
        );
        crate::crashpoint::hit("kernel_done");
        match result.outcome.kind {
            OutcomeKind::Approved => self.tap_offline(p, &result, true),
            OutcomeKind::Declined => self.tap_offline(p, &result, false),
            OutcomeKind::OnlineRequest => self.tap_online(p, result, &mut tr, &mut clock, cancel),
            OutcomeKind::TryAnotherInterface => {
                events::prompt(&*events, MessageId::InsertCard);
                Ok(TapEnd::AnotherInterface)
            }
            OutcomeKind::TryAgain => {
                let see_phone = result
                    .ui
                    .iter()
                    .any(|u| u.message == smartpos_emv::contactless::MessageId::SeePhone);
                Ok(TapEnd::TryAgain { failed: !see_phone })
            }
            OutcomeKind::SelectNext | OutcomeKind::EndApplication => {
                if cancel.is_cancelled() {
                    self.abort(p.id, "cancelled")?;
                    return Err(TerminalError::Cancelled { step: "card" });
                }
                if result.outcome.start == Some(smartpos_emv::contactless::Start::B) {
                    // Restarts exhausted (a card pulled away mid-tap): present it again.
                    return Ok(TapEnd::TryAgain { failed: true });
                }
                self.abort(p.id, "contactless card not accepted")?;
                self.finish_card(Read::Contactless, Status::Declined, &mut NoCard);
                Err(TerminalError::Device {
                    device: "contactless card",
                    reason: result
                        .end_reason
                        .clone()
                        .unwrap_or_else(|| "END APPLICATION".into()),
                })
            }
        }
    }

    /// APPROVED (offline, TC) or DECLINED (AAC) by the card: journalled like the contact
    /// kernel's offline decisions (the offline approval's advice is queued by the journal).
    pub(super) fn tap_offline(
        &mut self,
        p: &Payment<'_>,
        result: &TapResult,
        approved: bool,
    ) -> Result<TapEnd> {
        let Some((digits, _psn)) = record_pan(&result.data_record) else {
            self.abort(p.id, "no PAN in the contactless data record")?;
            return Err(TerminalError::Device {
                device: "contactless card",
                reason: "no PAN (5A/57) in the data record".into(),
            });
        };
        let pan = Pan::parse(&digits)?;
        let aid = result.aid.clone();
        let cvm_result = Some(result.cvm_results.clone()).filter(|s| !s.is_empty());
        let status = if approved {
            if p.kind != TxnKind::Sale {
                self.abort(p.id, "offline approval only for sales")?;
                return Err(TerminalError::Device {
                    device: "contactless card",
                    reason: "the card approved offline a transaction that must go online".into(),
                });
            }
            self.card_checks(p, &pan)?;
            let mut j = journal_host::lock(&self.journal);
            let mut cd = smartpos_journal::CardData::new(&pan, EntryMode::Contactless);
            cd.keep_encrypted_pan = true;
            cd.aid = aid.clone();
            cd.app_label = result.application_label.clone();
            cd.scheme = scheme_of(aid.as_deref());
            j.card_read(p.id, &cd)?;
            j.offline_approve(
                p.id,
                &smartpos_journal::OfflineApproval {
                    response_code: "Y1".into(),
                    cryptogram: tag_hex(&result.data_record, 0x9F26).unwrap_or_default(),
                    tvr: Some(result.tvr.hex()),
                    tsi: None,
                    cvm_result,
                    icc_data: Some(field55(&result.data_record)),
                },
            )?;
            j.complete(p.id, &smartpos_journal::Completion::default())?;
            Status::ApprovedOffline
        } else {
            let mut j = journal_host::lock(&self.journal);
            let mut cd = smartpos_journal::CardData::new(&pan, EntryMode::Contactless);
            cd.aid = aid.clone();
            cd.tvr = Some(result.tvr.hex());
            cd.scheme = scheme_of(aid.as_deref());
            j.card_read(p.id, &cd)?;
            j.decline(
                p.id,
                &smartpos_journal::Decline {
                    response_code: Some("Z1".into()),
                    rrn: None,
                    host_time: None,
                    reason: "declined offline by the contactless card".into(),
                },
            )?;
            Status::Declined
        };
        self.finish_card(Read::Contactless, status, &mut NoCard);
        let mut out = self.outcome(p.id, status)?;
        out.signature_required = result.cvm == CvmKind::ObtainSignature;
        out.balance = result.balance;
        out.kernel = result.kernel.map(|k| k.name().to_string());
        Ok(TapEnd::Done(Box::new(out)))
    }

    /// ONLINE REQUEST: journal (online pending before sending), host request with field 55 from
    /// the data record and the PIN block when the CVM is online PIN, then the card's final
    /// outcome from `resume_online`.
    pub(super) fn tap_online(
        &mut self,
        p: &Payment<'_>,
        result: TapResult,
        tr: &mut &mut (dyn ContactlessTransport + Send),
        clock: &mut ReaderClock,
        cancel: &CancelToken,
    ) -> Result<TapEnd> {
        let events = self.events();
        let Some((digits, psn)) = record_pan(&result.data_record) else {
            self.abort(p.id, "no PAN in the contactless data record")?;
            return Err(TerminalError::Device {
                device: "contactless card",
                reason: "no PAN (5A/57) in the data record".into(),
            });
        };
        let pan = Pan::parse(&digits)?;
        if cancel.is_cancelled() {
            self.abort(p.id, "cancelled")?;
            return Err(TerminalError::Cancelled { step: "card read" });
        }
        self.card_checks(p, &pan)?;
        let pin = if result.cvm == CvmKind::OnlinePin {
            events::prompt(&*events, MessageId::EnterPin);
            match self.devices.pin_pad.online_pin(&digits, p.total) {
                Ok(ep) => PinInput::Encrypted {
                    block: ep.block,
                    ksn: ep.ksn,
                },
                Err(PinPadError::Bypassed) => PinInput::None,
                Err(e) => {
                    self.abort(p.id, "PIN entry failed")?;
                    return Err(TerminalError::Device {
                        device: "PIN pad",
                        reason: e.to_string(),
                    });
                }
            }
        } else {
            PinInput::None
        };
        let cvm_result = Some(result.cvm_results.clone()).filter(|s| !s.is_empty());
        {
            let mut j = journal_host::lock(&self.journal);
            let mut cd = smartpos_journal::CardData::new(&pan, EntryMode::Contactless);
            cd.keep_encrypted_pan = true;
            cd.aid = result.aid.clone();
            cd.app_label = result.application_label.clone();
            cd.tvr = Some(result.tvr.hex());
            cd.cvm_result = cvm_result.clone();
            cd.scheme = scheme_of(result.aid.as_deref());
            j.card_read(p.id, &cd)?;
            let mti = if p.kind == TxnKind::PreAuth {
                "0100"
            } else {
                "0200"
            };
            j.online_pending(
                p.id,
                &smartpos_journal::OnlineRequest {
                    mti: mti.into(),
                    cryptogram: tag_hex(&result.data_record, 0x9F26),
                    tvr: Some(result.tvr.hex()),
                    tsi: None,
                    icc_data: Some(field55(&result.data_record)),
                },
            )?;
        }
        crate::crashpoint::hit("online_pending");
        events.event(&Event::Progress {
            step: Progress::Online,
        });
        let host_req = smartpos_host::SaleRequest {
            amount: p.total,
            card: smartpos_host::CardData {
                pan: pan.expose().to_string(),
                track2: None,
                expiry: None,
                psn: psn.map(|n| format!("{n:02}")),
                entry_mode: journal_host::host_entry_mode(Some(EntryMode::Contactless)),
                icc_data: Some(field55(&result.data_record)),
            },
            pin,
        };
        self.host.set_last_stan(p.record.stan.saturating_sub(1));
        let answer = self.authorise(p, &host_req);
        let balance = answer.as_ref().ok().and_then(|r| r.amount);
        crate::crashpoint::hit("host_answered");
        let signature_required = result.cvm == CvmKind::ObtainSignature;
        let kernel = result.kernel.map(|k| k.name().to_string());
        let complete: CompleteCard<'_> = Box::new(move |t: &mut Terminal, step: CardStep<'_>| {
            match step {
                CardStep::Approved(host) => {
                    let last = t.resume_tap(tr, clock, result, host);
                    (last.outcome.kind == OutcomeKind::Approved).then(|| {
                        smartpos_journal::Completion {
                            cryptogram: tag_hex(&last.data_record, 0x9F26),
                            tvr: Some(last.tvr.hex()),
                            tsi: None,
                            cvm_result,
                        }
                    })
                }
                CardStep::Declined(host) => {
                    let _ = t.resume_tap(tr, clock, result, host);
                    None
                }
                // Without a host answer there is no issuer update to resume with: the tap
                // already ended at ONLINE REQUEST (Book A §6.2.1), nothing is sent to the card.
                CardStep::Unknown | CardStep::NotSent => None,
            }
        });
        let status = self.host_outcome(p, answer, complete)?;
        self.finish_card(Read::Contactless, status, &mut NoCard);
        let mut out = self.outcome(p.id, status)?;
        out.signature_required = signature_required;
        out.balance = balance;
        out.kernel = kernel;
        Ok(TapEnd::Done(Box::new(out)))
    }

    /// Journal a decline: the host's code and RRN when it answered, none when nothing was sent.
    pub(super) fn journal_decline(
        &self,
        id: TxnId,
        response_code: Option<&str>,
        rrn: Option<String>,
        reason: &str,
    ) -> Result<()> {
        journal_host::lock(&self.journal).decline(
            id,
            &smartpos_journal::Decline {
                response_code: response_code.map(str::to_string),
                rrn,
                host_time: None,
                reason: reason.to_string(),
            },
        )?;
        Ok(())
    }

    /// `resume_online` with the UI forwarded and the torn log of the terminal.
    pub(super) fn resume_tap(
        &mut self,
        tr: &mut &mut (dyn ContactlessTransport + Send),
        clock: &mut ReaderClock,
        result: TapResult,
        host: &smartpos_emv::HostResponse,
    ) -> TapResult {
        let events = self.events();
        let mut ui = UiForward {
            events: &*events,
            indicators: &mut *self.devices.indicators,
            requests: Vec::new(),
        };
        let mut env = TapEnv {
            clock,
            torn_log: &mut self.torn_log,
        };
        smartpos_emv::contactless::resume_online(tr, &self.reader, result, host, &mut env, &mut ui)
    }
}
