//! Terminal risk rules (policy, not EMV terminal risk management): per-transaction and daily
//! limits, per-card velocity, duplicate detection, merchant-category limits and the supervisor
//! threshold. Each refusal names its rule.

use crate::config::RiskConfig;
use crate::error::{Result, TerminalError};
use smartpos_journal::{Journal, PanHash, Timestamp, TxnFilter, TxnKind, TxnState};

/// The rule that refused a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskRule {
    /// Amount over the per-transaction limit.
    TransactionLimit,
    /// Today's approved total would exceed the daily amount limit.
    DailyAmountLimit,
    /// Today's approved count reached the daily count limit.
    DailyCountLimit,
    /// The card was used too often recently.
    CardVelocity,
    /// Same card and amount recently, and the attendant did not confirm.
    Duplicate,
    /// Amount over the limit of the merchant category.
    MerchantCategoryLimit,
    /// Amount over the supervisor threshold and no supervisor confirmed.
    SupervisorRequired,
    /// The card is on the exception file.
    ExceptionFile,
}

fn refuse(rule: RiskRule, detail: String) -> TerminalError {
    TerminalError::Risk { rule, detail }
}

/// Checks before the card is read: transaction, MCC and daily limits. Returns whether the
/// supervisor threshold is crossed (the caller asks its [`crate::roles::Authoriser`]).
pub fn pre_check(
    cfg: &RiskConfig,
    mcc: &str,
    journal: &Journal,
    now: Timestamp,
    total: u64,
) -> Result<bool> {
    if cfg.max_amount > 0 && total > cfg.max_amount {
        return Err(refuse(
            RiskRule::TransactionLimit,
            format!(
                "amount {total} over the transaction limit {}",
                cfg.max_amount
            ),
        ));
    }
    if let Some(limit) = cfg.mcc_limits.get(mcc) {
        if total > *limit {
            return Err(refuse(
                RiskRule::MerchantCategoryLimit,
                format!("amount {total} over the limit {limit} of MCC {mcc}"),
            ));
        }
    }
    if cfg.daily_amount_limit > 0 || cfg.daily_count_limit > 0 {
        let (from, until) = now.local_day(cfg.utc_offset_minutes);
        let (count, amount) = approved_today(journal, from, until)?;
        if cfg.daily_count_limit > 0 && count >= cfg.daily_count_limit {
            return Err(refuse(
                RiskRule::DailyCountLimit,
                format!("{count} approved today, limit {}", cfg.daily_count_limit),
            ));
        }
        if cfg.daily_amount_limit > 0 && amount.saturating_add(total) > cfg.daily_amount_limit {
            return Err(refuse(
                RiskRule::DailyAmountLimit,
                format!(
                    "{amount} approved today + {total} over the daily limit {}",
                    cfg.daily_amount_limit
                ),
            ));
        }
    }
    Ok(cfg.supervisor_above > 0 && total > cfg.supervisor_above)
}

/// Count and total of today's approved debits (sales, completions, QR sales, not voided).
fn approved_today(journal: &Journal, from: Timestamp, until: Timestamp) -> Result<(u32, u64)> {
    let filter = TxnFilter {
        kinds: vec![TxnKind::Sale, TxnKind::PreAuthCompletion, TxnKind::QrSale],
        states: vec![
            TxnState::Approved,
            TxnState::OfflineApproved,
            TxnState::Completed,
        ],
        from: Some(from),
        until: Some(until),
        ..TxnFilter::default()
    };
    let (mut count, mut amount) = (0u32, 0u64);
    let mut before = None;
    loop {
        let page = journal.list(&filter, before, 500)?;
        for r in page.items.iter().filter(|r| r.voided_by.is_none()) {
            count = count.saturating_add(1);
            amount = amount.saturating_add(u64::try_from(r.total()).unwrap_or(0));
        }
        match page.next_before {
            Some(b) => before = Some(b),
            None => break,
        }
    }
    Ok((count, amount))
}

/// What the card checks found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardCheck {
    /// Go on.
    Pass,
    /// Same card and amount within the window: needs the attendant's confirmation.
    PossibleDuplicate,
}

/// Checks once the PAN is known: velocity and duplicates (journal PAN-hash queries).
/// `exclude_current` is the attempt being made (already journalled), not counted.
pub fn card_check(
    cfg: &RiskConfig,
    journal: &Journal,
    card: &PanHash,
    total: u64,
    exclude_current: bool,
) -> Result<CardCheck> {
    if cfg.velocity_count > 0 && cfg.velocity_minutes > 0 {
        let attempts = journal
            .card_attempts_last_minutes(card, cfg.velocity_minutes)?
            .saturating_sub(u32::from(exclude_current));
        if attempts >= cfg.velocity_count {
            return Err(refuse(
                RiskRule::CardVelocity,
                format!(
                    "card used {attempts} times in {} minutes, limit {}",
                    cfg.velocity_minutes, cfg.velocity_count
                ),
            ));
        }
    }
    if cfg.duplicate_window_secs > 0 {
        let amount = i64::try_from(total).unwrap_or(i64::MAX);
        if journal
            .find_duplicate(card, amount, cfg.duplicate_window_secs)?
            .is_some()
        {
            return Ok(CardCheck::PossibleDuplicate);
        }
    }
    Ok(CardCheck::Pass)
}
