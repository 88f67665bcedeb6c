//! One backoff for every retry in axle: a module's restart, a sub-part's
//! reconnect, the uplink's workers and the syncer's pauses. The delay
//! doubles with each failure in a row, from `first` to `max`; with jitter,
//! each delay is drawn below its nominal value, so robots that lost the
//! same network do not all come back in step.

use std::time::Duration;

/// The delay before the next attempt, from the failures in a row so far.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    /// Each delay is drawn from `[d × (1 − spread/100), d]`.
    spread: u8,
    failures: u32,
}

impl Backoff {
    /// Doubling from `first` to `max`, without jitter.
    pub const fn new(first: Duration, max: Duration) -> Self {
        Self {
            first,
            max,
            spread: 0,
            failures: 0,
        }
    }

    /// The same, each delay drawn up to `percent` % below its nominal value.
    pub const fn jittered(self, percent: u8) -> Self {
        Self {
            spread: if percent > 100 { 100 } else { percent },
            ..self
        }
    }

    /// Records a failure; answers how long to wait before the next try.
    pub fn fail(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        self.delay()
    }

    /// How long to wait after the failures so far (drawn again each call).
    pub fn delay(&self) -> Duration {
        let nominal = self.nominal(self.failures);
        nominal - nominal.mul_f64(f64::from(self.spread) / 100.0 * random_fraction())
    }

    /// Records a success: the next failure waits `first` again.
    pub fn succeed(&mut self) {
        self.failures = 0;
    }

    /// Failures in a row since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The delay after `failures` in a row, before jitter.
    fn nominal(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(30);
        self.first
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.max)
    }
}

/// A number in [0, 1) from the OS's randomness.
fn random_fraction() -> f64 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    f64::from(u16::from_le_bytes([bytes[0], bytes[1]])) / 65_536.0
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn doubles_from_first_to_max_and_starts_over_after_a_success() {
        let mut b = Backoff::new(10 * MS, 100 * MS);
        let delays: Vec<_> = (0..6).map(|_| b.fail()).collect();
        assert_eq!(
            delays,
            [10 * MS, 20 * MS, 40 * MS, 80 * MS, 100 * MS, 100 * MS]
        );
        assert_eq!(b.failures(), 6);
        b.succeed();
        assert_eq!(b.fail(), 10 * MS);
    }

    #[test]
    fn jitter_stays_below_the_nominal_delay_and_within_its_spread() {
        let mut b = Backoff::new(1000 * MS, 1000 * MS).jittered(25);
        for _ in 0..200 {
            let d = b.fail();
            assert!(d <= 1000 * MS && d >= 750 * MS, "{d:?}");
        }
    }

    #[test]
    fn many_failures_do_not_overflow() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
        for _ in 0..100 {
            b.fail();
        }
        assert_eq!(b.fail(), Duration::from_secs(60));
    }
}
