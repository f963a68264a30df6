//! Card payments by chip (EMV Book 3 contact kernel) and magnetic stripe: the card checks,
//! the chip and swipe paths and the host request of a card payment.

use super::host_outcome::{CardStep, CompleteCard, kernel_response};
use super::*;

impl Terminal {
    /// Card checks once the PAN is known (velocity, duplicates); `Err` ends the payment.
    pub(super) fn card_checks(&mut self, p: &Payment<'_>, pan: &Pan) -> Result<()> {
        if p.kind == TxnKind::BalanceInquiry {
            return Ok(());
        }
        let check = {
            let j = journal_host::lock(&self.journal);
            let hash = j.pan_hash(pan)?;
            risk::card_check(&self.settings.risk, &j, &hash, p.req.amount, false)
        };
        match check {
            Ok(CardCheck::Pass) => Ok(()),
            Ok(CardCheck::PossibleDuplicate) => {
                events::prompt(&*self.events(), MessageId::ConfirmDuplicate);
                let q = Confirmation::Duplicate {
                    pan_masked: pan.masked().as_str().to_string(),
                    amount: p.total,
                };
                if self.devices.confirmer.confirm(&q) {
                    Ok(())
                } else {
                    self.abort(p.id, "possible duplicate not confirmed")?;
                    Err(TerminalError::Risk {
                        rule: RiskRule::Duplicate,
                        detail: format!(
                            "same card and amount within {} s",
                            self.settings.risk.duplicate_window_secs
                        ),
                    })
                }
            }
            Err(e) => {
                self.abort(p.id, "refused by risk rule")?;
                Err(e)
            }
        }
    }

    /// The kernel's transaction data (EMV Book 3 §5.4, Book 4 §6.5): amounts, date/time, the
    /// unpredictable number, the sequence counter and the POS entry mode of `read`.
    pub(super) fn txn_params(&self, p: &Payment<'_>, read: Read) -> Result<TransactionParams> {
        let (date, time) = emv_date_time(self.now(), self.settings.risk.utc_offset_minutes);
        let mut un = [0u8; 4];
        openssl::rand::rand_bytes(&mut un).map_err(|e| TerminalError::Device {
            device: "random",
            reason: e.to_string(),
        })?;
        let mut params = TransactionParams::new(
            p.req
                .amount
                .saturating_add(p.req.tip)
                .saturating_add(p.req.cashback),
            &date,
            &time,
            un,
        )
        .map_err(|e| TerminalError::invalid("date", e.to_string()))?;
        params.amount_other = p.req.cashback;
        if p.req.cashback > 0 {
            params.transaction_type = TransactionType::PurchaseWithCashback;
        }
        params.sequence_counter = p.record.stan;
        params.pos_entry_mode = if read == Read::Contactless {
            0x07
        } else {
            0x05
        };
        let mut random = [0u8; 1];
        let _ = openssl::rand::rand_bytes(&mut random);
        params.random_draw = random[0] % 99 + 1;
        Ok(params)
    }

    pub(super) fn chip(
        &mut self,
        p: &Payment<'_>,
        card: &mut crate::devices::CardChannel,
        read: Read,
        cancel: &CancelToken,
    ) -> Result<ChipEnd> {
        let events = self.events();
        events.event(&Event::Progress {
            step: Progress::ReadingCard,
        });
        self.devices.indicators.leds(LedStatus::Processing);
        let params = self.txn_params(p, read)?;
        let exception_file = self.settings.exception_file.clone();
        let mut inner = Services {
            exception_file: &exception_file,
        };
        let mut services = CapturingServices {
            inner: &mut inner,
            pan: std::cell::RefCell::new(None),
        };
        let mut pin_pad = KernelPinPad {
            pad: &mut *self.devices.pin_pad,
            events: &*events,
            amount: p.total,
            captured: None,
        };
        let mut ui = AutoSelect;
        let mut tr: &mut (dyn CardTransport + Send) = &mut **card;
        let step = self.kernel.start(
            &mut tr,
            params,
            Interaction {
                ui: &mut ui,
                pin_pad: &mut pin_pad,
                services: &mut services,
            },
        );
        let pin = pin_pad.captured.take();
        let captured = services.pan.into_inner();
        let entry_mode = if read == Read::Contactless {
            EntryMode::Contactless
        } else {
            EntryMode::Contact
        };
        let online = match step {
            Step::Done(result) => {
                return self.chip_done(p, &result, captured, entry_mode, read, card);
            }
            Step::Online(o) => o,
        };
        crate::crashpoint::hit("kernel_done");
        let Some((pan_digits, psn)) = captured else {
            self.abort(p.id, "kernel gave no PAN")?;
            return Err(TerminalError::Device {
                device: "card",
                reason: "no PAN read from the card".into(),
            });
        };
        let pan = Pan::parse(&pan_digits)?;
        if cancel.is_cancelled() {
            let _ = online.unable_to_go_online(&mut tr);
            self.abort(p.id, "cancelled")?;
            return Err(TerminalError::Cancelled { step: "card read" });
        }
        self.card_checks(p, &pan)?;
        let snapshot = online.snapshot();
        {
            let mut j = journal_host::lock(&self.journal);
            let mut cd = smartpos_journal::CardData::new(&pan, entry_mode);
            cd.keep_encrypted_pan = true;
            cd.aid = snapshot.aid.clone();
            cd.app_label = snapshot.application_label.clone();
            cd.tvr = Some(snapshot.tvr.hex());
            cd.tsi = Some(snapshot.tsi.hex());
            cd.cvm_result = Some(snapshot.cvm_results.clone()).filter(|s| !s.is_empty());
            cd.scheme = scheme_of(snapshot.aid.as_deref());
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
                    cryptogram: tag_hex(&online.data_record, 0x9F26),
                    tvr: Some(snapshot.tvr.hex()),
                    tsi: Some(snapshot.tsi.hex()),
                    icc_data: Some(online.data_record.clone()),
                },
            )?;
        }
        crate::crashpoint::hit("online_pending");
        events::prompt(&*events, MessageId::Processing);
        events.event(&Event::Progress {
            step: Progress::Online,
        });
        let host_card = smartpos_host::CardData {
            pan: pan.expose().to_string(),
            track2: None,
            expiry: None,
            psn: psn.map(|n| format!("{n:02}")),
            entry_mode: journal_host::host_entry_mode(Some(entry_mode)),
            icc_data: Some(online.data_record.clone()),
        };
        let pin_input = match pin {
            Some(ep) => PinInput::Encrypted {
                block: ep.block,
                ksn: ep.ksn,
            },
            None => PinInput::None,
        };
        let host_req = smartpos_host::SaleRequest {
            amount: p.total,
            card: host_card,
            pin: pin_input,
        };
        self.host.set_last_stan(p.record.stan.saturating_sub(1));
        let answer = self.authorise(p, &host_req);
        let balance = answer.as_ref().ok().and_then(|r| r.amount);
        crate::crashpoint::hit("host_answered");
        let complete: CompleteCard<'_> = Box::new(move |_: &mut Terminal, step: CardStep<'_>| {
            let unable = |arc: &str| kernel_response(false, arc, &[]);
            match step {
                CardStep::Approved(host) => {
                    let result = online.complete(&mut tr, host);
                    (result.decision == Decision::Approved).then(|| smartpos_journal::Completion {
                        cryptogram: tag_hex(&result.data_record, 0x9F26),
                        tvr: Some(result.tvr.hex()),
                        tsi: Some(result.tsi.hex()),
                        cvm_result: Some(result.cvm_results.clone()).filter(|s| !s.is_empty()),
                    })
                }
                CardStep::Declined(host) => {
                    let _ = online.complete(&mut tr, host);
                    None
                }
                CardStep::Unknown => {
                    let _ = online.complete(&mut tr, &unable("Z3"));
                    None
                }
                CardStep::NotSent => {
                    let _ = online.unable_to_go_online(&mut tr);
                    None
                }
            }
        });
        let status = self.host_outcome(p, answer, complete)?;
        self.finish_card(read, status, card.as_mut());
        let mut out = self.outcome(p.id, status)?;
        out.signature_required = snapshot.signature_required;
        out.balance = balance;
        Ok(ChipEnd::Done(Box::new(out)))
    }

    pub(super) fn finish_card(
        &mut self,
        read: Read,
        status: Status,
        _card: &mut dyn CardTransport,
    ) {
        let events = self.events();
        let ok = matches!(status, Status::Approved | Status::ApprovedOffline);
        self.devices.indicators.leds(if ok {
            LedStatus::CardReadOk
        } else {
            LedStatus::Error
        });
        self.devices
            .indicators
            .beep(if ok { Beep::Success } else { Beep::Alert });
        events::prompt(
            &*events,
            match status {
                Status::Approved | Status::ApprovedOffline => MessageId::Approved,
                Status::Declined => MessageId::Declined,
                Status::Reversed | Status::Revoked => MessageId::NotAuthorised,
            },
        );
        if read == Read::Chip {
            events::prompt(&*events, MessageId::RemoveCard);
            let _ = self
                .devices
                .card_reader
                .wait_for_removal(Duration::from_millis(self.settings.card_timeout_ms));
        }
        events.event(&Event::Progress {
            step: Progress::Done,
        });
    }

    pub(super) fn chip_done(
        &mut self,
        p: &Payment<'_>,
        result: &TransactionResult,
        captured: Option<(Zeroizing<String>, Option<u8>)>,
        entry_mode: EntryMode,
        read: Read,
        card: &mut crate::devices::CardChannel,
    ) -> Result<ChipEnd> {
        let pan = match &captured {
            Some((digits, _)) => Some(Pan::parse(digits)?),
            None => None,
        };
        let status = match (result.decision, pan) {
            (Decision::Approved, Some(pan)) if p.kind == TxnKind::Sale => {
                self.card_checks(p, &pan)?;
                let mut j = journal_host::lock(&self.journal);
                let mut cd = smartpos_journal::CardData::new(&pan, entry_mode);
                cd.keep_encrypted_pan = true;
                cd.aid = result.aid.clone();
                cd.app_label = result.application_label.clone();
                cd.scheme = scheme_of(result.aid.as_deref());
                j.card_read(p.id, &cd)?;
                j.offline_approve(
                    p.id,
                    &smartpos_journal::OfflineApproval {
                        response_code: "Y1".into(),
                        cryptogram: tag_hex(&result.data_record, 0x9F26).unwrap_or_default(),
                        tvr: Some(result.tvr.hex()),
                        tsi: Some(result.tsi.hex()),
                        cvm_result: Some(result.cvm_results.clone()).filter(|s| !s.is_empty()),
                        icc_data: Some(result.data_record.clone()),
                    },
                )?;
                j.complete(p.id, &smartpos_journal::Completion::default())?;
                Status::ApprovedOffline
            }
            (Decision::Declined, Some(pan)) => {
                let mut j = journal_host::lock(&self.journal);
                let mut cd = smartpos_journal::CardData::new(&pan, entry_mode);
                cd.aid = result.aid.clone();
                cd.tvr = Some(result.tvr.hex());
                cd.scheme = scheme_of(result.aid.as_deref());
                j.card_read(p.id, &cd)?;
                j.decline(
                    p.id,
                    &smartpos_journal::Decline {
                        response_code: Some("Z1".into()),
                        rrn: None,
                        host_time: None,
                        reason: "declined offline by the card".into(),
                    },
                )?;
                Status::Declined
            }
            _ => {
                let reason = result.end_reason.clone();
                match reason {
                    Some(smartpos_emv::EndReason::Cancelled) => {
                        self.abort(p.id, "cancelled")?;
                        return Err(TerminalError::Cancelled { step: "card" });
                    }
                    Some(r)
                        if r.allows_fallback()
                            || matches!(r, smartpos_emv::EndReason::CardRemoved) =>
                    {
                        log::info!("card not read: {r}");
                        return Ok(ChipEnd::Unreadable);
                    }
                    other => {
                        self.abort(p.id, "card not accepted")?;
                        self.finish_card(read, Status::Declined, card.as_mut());
                        return Err(TerminalError::Device {
                            device: "card",
                            reason: other
                                .map(|r| r.to_string())
                                .unwrap_or_else(|| "ended without a decision".into()),
                        });
                    }
                }
            }
        };
        self.finish_card(read, status, card.as_mut());
        Ok(ChipEnd::Done(Box::new(self.outcome(p.id, status)?)))
    }

    /// A swipe: chip cards go to the chip unless it failed (EMV Book 4 §11.1, fallback).
    /// `Ok(None)`: insert the card instead.
    pub(super) fn swipe(
        &mut self,
        p: &Payment<'_>,
        swiped: &SwipedCard,
        chip_failed: bool,
    ) -> Result<Option<TransactionOutcome>> {
        let track = match Track2::parse(&swiped.track2) {
            Ok(t) => t,
            Err(e) => {
                return Err(TerminalError::Device {
                    device: "magstripe",
                    reason: e.to_string(),
                });
            }
        };
        let decision = swipe_decision(
            track.service_code,
            true,
            chip_failed,
            self.settings.fallback_allowed,
        );
        let entry_mode = match decision {
            smartpos_emv::magstripe::SwipeDecision::UseChip => return Ok(None),
            smartpos_emv::magstripe::SwipeDecision::AcceptAsFallback => EntryMode::Fallback,
            smartpos_emv::magstripe::SwipeDecision::Accept => EntryMode::Magstripe,
        };
        let pan = Pan::parse(&track.pan)?;
        self.card_checks(p, &pan)?;
        let pin = if track.service_code.pin_required() {
            events::prompt(&*self.events(), MessageId::EnterPin);
            match self.devices.pin_pad.online_pin(&track.pan, p.total) {
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
        let expiry = format!("{:02}{:02}", track.expiry.year, track.expiry.month);
        {
            let mut j = journal_host::lock(&self.journal);
            let mut cd = smartpos_journal::CardData::new(&pan, entry_mode);
            cd.keep_encrypted_pan = true;
            j.card_read(p.id, &cd)?;
            let mti = if p.kind == TxnKind::PreAuth {
                "0100"
            } else {
                "0200"
            };
            j.online_pending(p.id, &smartpos_journal::OnlineRequest::mti(mti))?;
        }
        let track2 = format!(
            "{}={}{}{}",
            track.pan, expiry, track.service_code, track.discretionary
        );
        let host_req = smartpos_host::SaleRequest {
            amount: p.total,
            card: smartpos_host::CardData {
                pan: track.pan.clone(),
                track2: Some(track2),
                expiry: Some(expiry),
                psn: None,
                entry_mode: journal_host::host_entry_mode(Some(entry_mode)),
                icc_data: None,
            },
            pin,
        };
        self.host.set_last_stan(p.record.stan.saturating_sub(1));
        let answer = self.authorise(p, &host_req);
        let balance = answer.as_ref().ok().and_then(|r| r.amount);
        let answer = match answer {
            Err(HostError::Cancelled { sent: false }) => {
                return Err(self.cancelled_before_sending(p.id)?);
            }
            Err(e) if e.needs_reversal() && p.kind == TxnKind::BalanceInquiry => {
                journal_host::lock(&self.journal)
                    .abort(p.id, "no answer to the balance inquiry")?;
                return Err(TerminalError::Host(e));
            }
            other => other,
        };
        let status = self.apply_answer(p.id, answer)?;
        if status == Status::Approved {
            journal_host::lock(&self.journal)
                .complete(p.id, &smartpos_journal::Completion::default())?;
        }
        self.finish_card(Read::Contactless, status, &mut NoCard);
        let mut out = self.outcome(p.id, status)?;
        out.balance = balance;
        Ok(Some(out))
    }

    /// The host request of a card payment: sale or pre-authorisation with the request's
    /// value-added data in field 63 (order reference, member id, coupon), or a balance inquiry.
    pub(super) fn authorise(
        &mut self,
        p: &Payment<'_>,
        req: &smartpos_host::SaleRequest,
    ) -> std::result::Result<smartpos_host::HostResponse, HostError> {
        let va = &p.req.value_added;
        let vad = smartpos_host::ValueAddedData::new(
            va.merchant_order_ref.as_deref(),
            va.member_id.as_deref(),
            va.coupon_discount,
        );
        match p.kind {
            TxnKind::PreAuth => self.host.pre_authorise_with_value_added(req, &vad),
            TxnKind::BalanceInquiry => self.host.balance_inquiry(&req.card, &req.pin),
            _ => self.host.sale_with_value_added(req, &vad),
        }
    }

    /// Journal an answer that needs no card completion (swipes, voids, completions).
    pub(crate) fn apply_answer(
        &mut self,
        id: TxnId,
        answer: std::result::Result<smartpos_host::HostResponse, HostError>,
    ) -> Result<Status> {
        match answer {
            Ok(resp) => {
                journal_host::lock(&self.journal).approve(
                    id,
                    &smartpos_journal::HostResponse {
                        response_code: resp.code.as_str().to_string(),
                        rrn: resp.rrn.clone(),
                        auth_code: resp.auth_code.clone(),
                        host_time: None,
                    },
                )?;
                Ok(Status::Approved)
            }
            Err(HostError::Declined { code, response }) => {
                journal_host::lock(&self.journal).decline(
                    id,
                    &smartpos_journal::Decline {
                        response_code: Some(code.as_str().to_string()),
                        rrn: response.rrn.clone(),
                        host_time: None,
                        reason: code.meaning().to_string(),
                    },
                )?;
                Ok(Status::Declined)
            }
            Err(e) if e.needs_reversal() => Ok(Status::Reversed),
            Err(e) => {
                journal_host::lock(&self.journal).decline(
                    id,
                    &smartpos_journal::Decline {
                        response_code: None,
                        rrn: None,
                        host_time: None,
                        reason: format!("not sent: {e}"),
                    },
                )?;
                Err(TerminalError::Host(e))
            }
        }
    }
}

/// A placeholder transport for swipes (no card to talk to).
pub(super) struct NoCard;
impl CardTransport for NoCard {
    fn atr(&self) -> &[u8] {
        &[]
    }
    fn exchange(
        &mut self,
        _command: &smartpos_emv::Apdu,
    ) -> std::result::Result<smartpos_emv::Response, smartpos_emv::TransportError> {
        Err(smartpos_emv::TransportError::CardRemoved)
    }
}

pub(super) enum ChipEnd {
    Done(Box<TransactionOutcome>),
    /// The chip/NFC read failed in a way that allows another attempt or the fallback.
    Unreadable,
}
