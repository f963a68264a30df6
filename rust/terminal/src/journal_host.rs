//! Glue between the journal, the host crate and the kernels: the shared journal handle, the
//! injected clock, entry-mode and date conversions.

use smartpos_journal::{Clock, EntryMode, Journal, Timestamp};
use std::sync::{Arc, Mutex, MutexGuard};

/// The journal, shared by the terminal and the reversal store the host client drives.
pub type SharedJournal = Arc<Mutex<Journal>>;

/// Lock the journal; a panic elsewhere while holding the lock does not make it unusable (every
/// journal call is its own SQLite transaction, so the data is consistent).
pub(crate) fn lock(j: &SharedJournal) -> MutexGuard<'_, Journal> {
    j.lock().unwrap_or_else(|p| p.into_inner())
}

/// A clock shared by the terminal (key age, EMV date/time) and the journal.
#[derive(Clone)]
pub struct SharedClock(pub Arc<dyn Clock + Sync>);

impl Clock for SharedClock {
    fn now(&self) -> Timestamp {
        self.0.now()
    }
}

/// ISO 8583 field 22 of a journal entry mode.
pub(crate) fn host_entry_mode(m: Option<EntryMode>) -> smartpos_host::EntryMode {
    match m {
        Some(EntryMode::Contact) => smartpos_host::EntryMode::Chip,
        Some(EntryMode::Contactless) => smartpos_host::EntryMode::Contactless,
        Some(EntryMode::Magstripe) => smartpos_host::EntryMode::Magstripe,
        Some(EntryMode::Fallback) => smartpos_host::EntryMode::Fallback,
        Some(EntryMode::Qr) => smartpos_host::EntryMode::Qr,
        Some(EntryMode::Manual) | None => smartpos_host::EntryMode::Manual,
    }
}

/// Local date `YYMMDD` and time `HHMMSS` of `t` for a terminal at UTC + `offset_min`
/// (EMV tags 9A and 9F21; civil calendar from days since the epoch).
pub(crate) fn emv_date_time(t: Timestamp, offset_min: i32) -> (String, String) {
    let secs = t.0.div_euclid(1000) + i64::from(offset_min) * 60;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // H. Hinnant's days_from_civil inverse.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (
        format!("{:02}{:02}{:02}", y.rem_euclid(100), m, d),
        format!("{:02}{:02}{:02}", sod / 3600, (sod / 60) % 60, sod % 60),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emv_date_time_of_known_instants() {
        // 2026-11-21T11:04:31Z = 1795259071 s since the epoch.
        assert_eq!(
            emv_date_time(Timestamp(1_795_259_071_000), 0),
            ("261121".to_string(), "110431".to_string())
        );
        // +08:00 crosses midnight: 2026-11-21T20:00:00Z is 2026-11-22 04:00 local.
        assert_eq!(
            emv_date_time(Timestamp(1_795_291_200_000), 480),
            ("261122".to_string(), "040000".to_string())
        );
        // Leap day 2024-02-29T00:00:00Z = 1709164800.
        assert_eq!(emv_date_time(Timestamp(1_709_164_800_000), 0).0, "240229");
    }
}
