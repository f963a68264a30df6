//! Injected time: the journal never reads the system clock except through [`SystemClock`].

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// This timestamp moved by `ms` milliseconds (negative moves back).
    pub fn plus_millis(self, ms: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(ms))
    }

    /// This timestamp moved back by `secs` seconds.
    pub fn minus_secs(self, secs: i64) -> Timestamp {
        self.plus_millis(secs.saturating_mul(-1000))
    }

    /// The local calendar day `[start, end)` containing this instant, for a terminal whose local
    /// time is UTC + `utc_offset_minutes` ("today" for floor-limit and velocity rules).
    pub fn local_day(self, utc_offset_minutes: i32) -> (Timestamp, Timestamp) {
        const DAY: i64 = 86_400_000;
        let offset = i64::from(utc_offset_minutes) * 60_000;
        let local = self.0.saturating_add(offset);
        let start_local = local.div_euclid(DAY) * DAY;
        let start = start_local - offset;
        (Timestamp(start), Timestamp(start + DAY))
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Source of the current time.
pub trait Clock: Send {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Timestamp(ms)
    }
}

/// A clock that only moves when told to; clones share the same time (tests, replays).
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock set to `start`.
    pub fn new(start: Timestamp) -> Self {
        ManualClock(Arc::new(AtomicI64::new(start.0)))
    }

    /// Set the time.
    pub fn set(&self, t: Timestamp) {
        self.0.store(t.0, Ordering::SeqCst);
    }

    /// Move the time forward by `ms` milliseconds.
    pub fn advance_millis(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_day_respects_offset() {
        // 2026-11-21T23:30:00Z = 1 795 303 800 000 ms; in UTC+8 that is 2026-11-22 07:30.
        let t = Timestamp(1_795_303_800_000);
        let (s, e) = t.local_day(0);
        assert_eq!(s, Timestamp(1_795_219_200_000)); // 2026-11-21T00:00Z
        assert_eq!(e.0 - s.0, 86_400_000);
        let (s8, _) = t.local_day(480);
        assert_eq!(s8, Timestamp(1_795_276_800_000)); // 2026-11-22T00:00+08 = 2026-11-21T16:00Z
        assert!(s8 <= t && t < s8.plus_millis(86_400_000));
    }

    #[test]
    fn manual_clock_clones_share_time() {
        let c = ManualClock::new(Timestamp(5));
        let d = c.clone();
        c.advance_millis(10);
        assert_eq!(d.now(), Timestamp(15));
    }
}
