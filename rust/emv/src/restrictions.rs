//! Processing restrictions (EMV Book 3 §10.4): application version number, application usage
//! control and the effective/expiration dates.

use crate::kernel::{Ctx, TransactionType};
use crate::tvr::TvrBit;

/// Application Usage Control (9F07) bits, Book 3 Annex C.2.
pub mod auc {
    pub const DOMESTIC_CASH: (usize, u8) = (0, 0x80);
    pub const INTERNATIONAL_CASH: (usize, u8) = (0, 0x40);
    pub const DOMESTIC_GOODS: (usize, u8) = (0, 0x20);
    pub const INTERNATIONAL_GOODS: (usize, u8) = (0, 0x10);
    pub const DOMESTIC_SERVICES: (usize, u8) = (0, 0x08);
    pub const INTERNATIONAL_SERVICES: (usize, u8) = (0, 0x04);
    pub const ATMS: (usize, u8) = (0, 0x02);
    pub const OTHER_THAN_ATMS: (usize, u8) = (0, 0x01);
    pub const DOMESTIC_CASHBACK: (usize, u8) = (1, 0x80);
    pub const INTERNATIONAL_CASHBACK: (usize, u8) = (1, 0x40);
}

fn date_number(yymmdd: &[u8]) -> Option<u32> {
    let v = crate::data::bcd_to_u64(yymmdd)? as u32;
    if yymmdd.len() != 3 {
        return None;
    }
    Some(crate::config::window_year(v / 10000) * 10000 + v % 10000)
}

/// Book 3 §10.4.1-§10.4.3.
pub(crate) fn perform(ctx: &mut Ctx) {
    // §10.4.1 Application Version Number.
    if let (Some(card), Some(term)) = (ctx.store.get(0x9F08), ctx.store.get(0x9F09)) {
        if card != term {
            ctx.set(TvrBit::DifferentApplicationVersions);
        }
    }
    // §10.4.2 Application Usage Control.
    if let Some(auc) = ctx.store.get(0x9F07).map(<[u8]>::to_vec) {
        let has = |(i, m): (usize, u8)| auc.get(i).is_some_and(|b| b & m != 0);
        let t = &ctx.cfg.terminal;
        let mut allowed = if t.is_atm() {
            has(auc::ATMS)
        } else {
            has(auc::OTHER_THAN_ATMS)
        };
        if let Some(issuer_country) = ctx.store.get(0x5F28) {
            let domestic = issuer_country == t.country_code.as_slice();
            let pick = |d, i| if domestic { has(d) } else { has(i) };
            match ctx.params.transaction_type {
                TransactionType::Cash => {
                    allowed &= pick(auc::DOMESTIC_CASH, auc::INTERNATIONAL_CASH)
                }
                TransactionType::Purchase | TransactionType::Refund => {
                    allowed &= pick(auc::DOMESTIC_GOODS, auc::INTERNATIONAL_GOODS)
                        || pick(auc::DOMESTIC_SERVICES, auc::INTERNATIONAL_SERVICES)
                }
                TransactionType::PurchaseWithCashback => {
                    // Goods or services, and the cashback part.
                    allowed &= (pick(auc::DOMESTIC_GOODS, auc::INTERNATIONAL_GOODS)
                        || pick(auc::DOMESTIC_SERVICES, auc::INTERNATIONAL_SERVICES))
                        && pick(auc::DOMESTIC_CASHBACK, auc::INTERNATIONAL_CASHBACK)
                }
            }
        }
        if !allowed {
            ctx.set(TvrBit::ServiceNotAllowed);
        }
    }
    // §10.4.3 Application Effective / Expiration Dates.
    let today = ctx.params.date_number();
    if let Some(eff) = ctx.store.get(0x5F25).and_then(date_number) {
        if today < eff {
            ctx.set(TvrBit::ApplicationNotYetEffective);
        }
    }
    match ctx.store.get(0x5F24).and_then(date_number) {
        Some(exp) if today > exp => ctx.set(TvrBit::ExpiredApplication),
        Some(_) => {}
        // An unreadable expiry date cannot be trusted.
        None => ctx.set(TvrBit::ExpiredApplication),
    }
}
