use std::time::Duration;

/// How a driver answers a command that moves: either it is already done, or it
/// is under way and the runtime should ask again later.
///
/// Drivers never sleep or block waiting for a motion to end. The runtime keeps
/// a timer instead, and calls the driver's `check_motion` when it fires; a
/// `Stop` cancels the timer and stops the driver at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Motion {
    /// The command has finished (or keeps running with no end, like SetPower).
    Done,
    /// The motion is under way; call `check_motion` after this long.
    CheckAfter(Duration),
}

impl Motion {
    /// The longest a single motion may be timed for. A motion that would
    /// take longer (a tiny rpm, say) is checked again after this long.
    pub const LONGEST: Duration = Duration::from_secs(365 * 24 * 3600);

    /// A motion that takes `seconds`, for any finite or infinite value:
    /// never a panic, never past [`Motion::LONGEST`].
    pub fn lasting(seconds: f64) -> Duration {
        Duration::try_from_secs_f64(seconds.abs())
            .unwrap_or(Self::LONGEST)
            .min(Self::LONGEST)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_length_becomes_a_duration() {
        assert_eq!(Motion::lasting(1.5), Duration::from_millis(1500));
        assert_eq!(Motion::lasting(-2.0), Duration::from_secs(2));
        for extreme in [1e300, f64::INFINITY, f64::NAN, 6e19] {
            assert!(Motion::lasting(extreme) <= Motion::LONGEST, "{extreme}");
        }
    }
}
