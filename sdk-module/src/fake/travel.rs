//! Positions that move in straight lines, at set speeds, through
//! waypoints: the motion of every fake that goes somewhere (servo, gripper,
//! arm, gantry). A leg takes as long as its slowest axis.

use crate::Motion;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
struct Leg {
    from: Vec<f64>,
    to: Vec<f64>,
    start: Instant,
    duration: Duration,
}

/// Where the axes are, and where they are going.
#[derive(Debug, Clone)]
pub(super) struct Travel {
    at: Vec<f64>,
    leg: Option<Leg>,
    ahead: VecDeque<Vec<f64>>,
    speeds: Vec<f64>,
}

impl Travel {
    /// Axes at rest at `at`.
    pub(super) fn new(at: Vec<f64>) -> Self {
        Self {
            at,
            leg: None,
            ahead: VecDeque::new(),
            speeds: Vec::new(),
        }
    }

    /// The position of each axis now.
    pub(super) fn now(&self) -> Vec<f64> {
        let Some(leg) = &self.leg else {
            return self.at.clone();
        };
        let fraction = if leg.duration.is_zero() {
            1.0
        } else {
            (leg.start.elapsed().as_secs_f64() / leg.duration.as_secs_f64()).min(1.0)
        };
        leg.from
            .iter()
            .zip(&leg.to)
            .map(|(a, b)| a + (b - a) * fraction)
            .collect()
    }

    /// Whether a leg is under way.
    pub(super) fn is_moving(&self) -> bool {
        self.leg.is_some()
    }

    /// Moves through `waypoints` in turn, each axis at most at its speed in
    /// `speeds` (units per second, all positive).
    pub(super) fn go(&mut self, waypoints: Vec<Vec<f64>>, speeds: Vec<f64>) -> Motion {
        self.stop();
        self.ahead = waypoints.into();
        self.speeds = speeds;
        self.next_leg()
    }

    /// Freezes every axis where it is.
    pub(super) fn stop(&mut self) {
        self.at = self.now();
        self.leg = None;
        self.ahead.clear();
    }

    /// The motion timer fired: finish the leg, start the next, or wait more.
    pub(super) fn check(&mut self) -> Motion {
        let Some(leg) = &self.leg else {
            return Motion::Done;
        };
        let left = leg.duration.saturating_sub(leg.start.elapsed());
        if !left.is_zero() {
            return Motion::CheckAfter(left);
        }
        self.at = leg.to.clone();
        self.leg = None;
        self.next_leg()
    }

    fn next_leg(&mut self) -> Motion {
        let Some(to) = self.ahead.pop_front() else {
            return Motion::Done;
        };
        let seconds = self
            .at
            .iter()
            .zip(&to)
            .zip(&self.speeds)
            .map(|((a, b), v)| (b - a).abs() / v)
            .fold(0.0, f64::max);
        let duration = Motion::lasting(seconds);
        self.leg = Some(Leg {
            from: self.at.clone(),
            to,
            start: Instant::now(),
            duration,
        });
        Motion::CheckAfter(duration)
    }
}

/// The `Actuator` of a fake whose motion is the `Travel` in its `travel`
/// field: Stop freezes it, and the actor's timer checks it.
macro_rules! actuator {
    ($fake:ty) => {
        impl $crate::Actuator for $fake {
            fn stop(&mut self) -> Result<(), $crate::ResourceError> {
                self.travel.stop();
                Ok(())
            }

            fn is_moving(&mut self) -> Result<bool, $crate::ResourceError> {
                Ok(self.travel.is_moving())
            }

            fn check_motion(&mut self) -> Result<$crate::Motion, $crate::ResourceError> {
                Ok(self.travel.check())
            }
        }
    };
}
pub(super) use actuator;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legs_take_as_long_as_the_slowest_axis_and_stop_freezes() {
        let mut t = Travel::new(vec![0.0, 0.0]);
        let Motion::CheckAfter(d) = t.go(vec![vec![10.0, 1.0], vec![0.0, 0.0]], vec![100.0, 100.0])
        else {
            panic!("a leg should take time")
        };
        assert_eq!(d, Duration::from_millis(100));
        std::thread::sleep(d);
        assert!(matches!(t.check(), Motion::CheckAfter(_)), "second leg");
        assert_eq!(t.at, vec![10.0, 1.0]);
        t.stop();
        assert!(!t.is_moving());
        let frozen = t.now();
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(t.now(), frozen);
    }
}
