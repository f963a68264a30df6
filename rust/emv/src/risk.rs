//! Terminal risk management (EMV Book 3 §10.6): floor limits with the journal's same-card
//! amounts, random transaction selection, velocity checking and the exception file.

use crate::apdu::Apdu;
use crate::kernel::{Ctx, Phase, TerminalServices};
use crate::outcome::EndReason;
use crate::transport::{CardTransport, Channel};
use crate::tvr::{TsiBit, TvrBit};

/// Book 3 §10.6.2: is the transaction selected for online? `draw` is the injected 1..=99 draw.
pub fn randomly_selected(
    amount: u64,
    floor: u64,
    threshold: u64,
    target: u8,
    max_target: u8,
    draw: u8,
) -> bool {
    if amount >= floor {
        return false;
    }
    let draw = u64::from(draw.clamp(1, 99));
    if amount < threshold {
        return draw <= u64::from(target);
    }
    // Biased selection: target + (max - target) * (amount - threshold) / (floor - threshold).
    let span = floor.saturating_sub(threshold).max(1);
    let extra = u64::from(max_target.saturating_sub(target)) * (amount - threshold) / span;
    draw <= u64::from(target) + extra
}

/// SHA-1 over the PAN digits and the PAN sequence number, for the journal lookup.
pub fn pan_hash(pan: &str, psn: Option<u8>) -> [u8; 20] {
    let mut d = pan.as_bytes().to_vec();
    d.extend_from_slice(format!("{:02}", psn.unwrap_or(0)).as_bytes());
    smartpos_crypto::hash::sha1(&d)
}

fn get_data<T: CardTransport>(ch: &mut Channel<T>, tag: u16) -> Phase<Option<u64>> {
    let resp = ch.transmit(&Apdu::get_data(tag))?;
    if !resp.is_ok() {
        return Ok(None);
    }
    match smartpos_tlv::find(&resp.data, smartpos_tlv::Tag(u32::from(tag))) {
        Ok(Some(t)) if (1..=2).contains(&t.value.len()) => Ok(Some(
            t.value.iter().fold(0u64, |a, b| a << 8 | u64::from(*b)),
        )),
        _ => Ok(None),
    }
}

pub(crate) fn perform<T: CardTransport>(
    ctx: &mut Ctx,
    ch: &mut Channel<T>,
    services: &dyn TerminalServices,
) -> Phase<()> {
    let pan = ctx
        .pan()
        .ok_or(EndReason::MissingMandatoryData { tag: 0x5A })?;
    let psn = ctx.store.byte(0x5F34, 0);
    // Exception file (Book 4 §6.3.5 / Book 3 §10.6.1 note).
    if services.on_exception_file(&pan, psn) {
        ctx.set(TvrBit::CardOnExceptionFile);
    }
    if ctx.params.merchant_forced_online {
        ctx.set(TvrBit::MerchantForcedOnline);
    }
    // Book 3 §10.6: performed regardless of the AIP bit (the terminal decides), as Book 4 allows.
    let amount = ctx.params.amount;
    let same_card = services.same_card_amount(&pan_hash(&pan, psn));
    let floor = ctx.aid().floor_limit;
    // §10.6.1 floor limits.
    if amount.saturating_add(same_card) >= floor {
        ctx.set(TvrBit::FloorLimitExceeded);
    }
    // §10.6.2 random transaction selection (only below the floor limit, online-capable).
    if !ctx.cfg.terminal.is_offline_only()
        && randomly_selected(
            amount,
            floor,
            ctx.aid().random_selection_threshold,
            ctx.aid().target_percent,
            ctx.aid().max_target_percent,
            ctx.params.random_draw,
        )
    {
        ctx.set(TvrBit::RandomlySelectedForOnline);
    }
    // §10.6.3 velocity checking.
    let lcol = ctx.store.bin_u64(0x9F14);
    let ucol = ctx.store.bin_u64(0x9F23);
    if let (Some(lcol), Some(ucol)) = (lcol, ucol) {
        let atc = get_data(ch, 0x9F36)?;
        let last = get_data(ch, 0x9F13)?;
        match (atc, last) {
            (Some(atc), Some(last)) => {
                ctx.store
                    .set_card(0x9F36, (atc as u16).to_be_bytes().to_vec());
                ctx.store
                    .set_card(0x9F13, (last as u16).to_be_bytes().to_vec());
                let since = atc.saturating_sub(last);
                if atc <= last {
                    // ATC not above the last online ATC: treat as both limits exceeded.
                    ctx.set(TvrBit::LowerConsecutiveOfflineLimitExceeded);
                    ctx.set(TvrBit::UpperConsecutiveOfflineLimitExceeded);
                } else {
                    if since > lcol {
                        ctx.set(TvrBit::LowerConsecutiveOfflineLimitExceeded);
                    }
                    if since > ucol {
                        ctx.set(TvrBit::UpperConsecutiveOfflineLimitExceeded);
                    }
                }
                if last == 0 {
                    ctx.set(TvrBit::NewCard);
                }
            }
            _ => {
                ctx.set(TvrBit::LowerConsecutiveOfflineLimitExceeded);
                ctx.set(TvrBit::UpperConsecutiveOfflineLimitExceeded);
                ctx.set(TvrBit::IccDataMissing);
            }
        }
    }
    ctx.tsi(TsiBit::TerminalRiskManagementPerformed);
    Ok(())
}
