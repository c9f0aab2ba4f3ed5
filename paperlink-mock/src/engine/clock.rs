//! The mock clock: frozen or real time, moved by hand, never past [`CLOCK_END`]; and the one
//! way times are added to, which never panics.

use std::time::{Duration, Instant};

use time::OffsetDateTime;

/// The end of the mock's calendar. The clock is never moved by hand closer to it than
/// [`MAX_PERIOD`]: an advance that would is refused (400 from `/__admin/clock/advance`), and
/// through the Rust API the clock stops there, so every period the mock adds to a time (a rate
/// window, 24 h of idempotency, 90 days of revocation retention, a revocation delay, each at
/// most [`MAX_PERIOD`]) still ends before it: rate windows still slide and revocations still
/// take effect.
pub const CLOCK_END: OffsetDateTime = time::macros::datetime!(9000-01-01 0:00 UTC);

/// The longest rate-limit window and revocation delay the mock accepts (366 days).
pub const MAX_PERIOD: Duration = Duration::from_secs(366 * 24 * 60 * 60);

/// `at + by`, or the latest time `time` can hold: no sum of times panics.
pub(crate) fn later(at: OffsetDateTime, by: Duration) -> OffsetDateTime {
    time::Duration::try_from(by)
        .ok()
        .and_then(|by| at.checked_add(by))
        .unwrap_or_else(|| time::PrimitiveDateTime::MAX.assume_offset(time::UtcOffset::UTC))
}

/// The mock clock: a start time, plus manual advances, plus (for a system clock) the real
/// time elapsed since the mock started; never past [`CLOCK_END`].
#[derive(Debug, Clone)]
pub(crate) struct Clock {
    start: OffsetDateTime,
    advanced: Duration,
    real: Option<Instant>,
}

impl Clock {
    pub(crate) fn frozen(start: OffsetDateTime) -> Self {
        Self {
            start: start.min(CLOCK_END),
            advanced: Duration::ZERO,
            real: None,
        }
    }

    pub(crate) fn system(start: OffsetDateTime) -> Self {
        Self {
            real: Some(Instant::now()),
            ..Self::frozen(start)
        }
    }

    /// Now, to the millisecond (what the API serves, so stored times round-trip exactly).
    pub(crate) fn now(&self) -> OffsetDateTime {
        let real = self.real.map(|i| i.elapsed()).unwrap_or_default();
        let now = later(self.start, self.advanced.saturating_add(real)).min(CLOCK_END);
        now.replace_nanosecond(u32::from(now.millisecond()) * 1_000_000)
            .unwrap_or(now)
    }

    /// How far the clock was moved by hand, in whole milliseconds (what the data file keeps).
    pub(crate) fn advanced_ms(&self) -> u64 {
        u64::try_from(self.advanced.as_millis()).unwrap_or(u64::MAX)
    }

    /// The latest time the clock can be moved to by hand: [`MAX_PERIOD`] before [`CLOCK_END`].
    pub(crate) fn latest() -> OffsetDateTime {
        CLOCK_END - time::Duration::seconds(MAX_PERIOD.as_secs().cast_signed())
    }

    /// How far the clock can still be moved by hand.
    pub(crate) fn room(&self) -> Duration {
        let left = Self::latest() - self.now();
        Duration::try_from(left).unwrap_or(Duration::ZERO)
    }

    /// Moves the clock forward, stopping at the latest time.
    pub(crate) fn advance(&mut self, by: Duration) {
        self.advanced = self.advanced.saturating_add(by.min(self.room()));
    }

    /// Undoes every move by hand: real time again for a system clock, the start for a frozen
    /// one.
    pub(crate) fn rewind(&mut self) {
        self.advanced = Duration::ZERO;
    }

    /// Sets how far the clock has been moved by hand (a restored state).
    pub(crate) fn set_advanced(&mut self, advanced: Duration) {
        self.advanced = Duration::ZERO;
        self.advance(advanced);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_advance_by_hand() {
        let mut c = Clock::frozen(OffsetDateTime::UNIX_EPOCH);
        c.advance(Duration::from_secs(90));
        assert_eq!(c.now().unix_timestamp(), 90);
    }
}
