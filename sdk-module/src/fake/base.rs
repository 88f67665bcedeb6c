//! A simulated base that keeps an odometry pose from the motions it is given.

use super::{do_commands, doc};
use crate::host::{Built, kind};
use crate::{
    Actuator, AttributeError, Attributes, Base, BaseProperties, Document, Motion, Resource,
    ResourceError, Vector3,
};
use serde_json::json;
use std::time::{Duration, Instant};

/// A finite motion under way.
#[derive(Debug, Clone, Copy)]
enum Leg {
    Straight { mm: f64 },
    Spin { deg: f64 },
}

#[derive(Debug, Clone, Copy)]
struct Active {
    leg: Leg,
    start: Instant,
    duration: Duration,
}

/// Where the base believes it is, relative to where it started.
#[derive(Debug, Clone, Copy, Default)]
struct Pose {
    x_mm: f64,
    y_mm: f64,
    theta_deg: f64,
}

impl Pose {
    fn apply(&mut self, leg: Leg, fraction: f64) {
        match leg {
            Leg::Straight { mm } => {
                let (s, c) = self.theta_deg.to_radians().sin_cos();
                // Heading 0 faces +y, as the base's frame does.
                self.x_mm -= mm * fraction * s;
                self.y_mm += mm * fraction * c;
            }
            Leg::Spin { deg } => {
                self.theta_deg = (self.theta_deg + deg * fraction).rem_euclid(360.0)
            }
        }
    }
}

/// The fake base.
#[derive(Debug)]
pub struct FakeBase {
    properties: BaseProperties,
    active: Option<Active>,
    /// Set while SetPower or SetVelocity holds a non-zero command.
    continuous: bool,
    pose: Pose,
}

impl FakeBase {
    /// Attributes: `width_mm` (default 600), `wheel_circumference_mm` (default 300).
    pub fn build(_name: &str, attrs: &Attributes) -> Result<Built, AttributeError> {
        let width = attrs.positive_number("width_mm", 600.0)?;
        let wheel = attrs.positive_number("wheel_circumference_mm", 300.0)?;
        Ok(Built::new::<kind::Base>(Box::new(Self::new(
            width / 1000.0,
            wheel / 1000.0,
        ))))
    }

    /// A base at rest at the origin.
    pub fn new(width_meters: f64, wheel_circumference_meters: f64) -> Self {
        Self {
            properties: BaseProperties {
                width_meters,
                turning_radius_meters: 0.0,
                wheel_circumference_meters,
            },
            active: None,
            continuous: false,
            pose: Pose::default(),
        }
    }

    fn start(&mut self, leg: Leg, amount: f64, speed: f64) -> Motion {
        self.end_active(Instant::now());
        self.continuous = false;
        if amount == 0.0 {
            return Motion::Done;
        }
        let duration = Motion::lasting(amount / speed);
        self.active = Some(Active {
            leg,
            start: Instant::now(),
            duration,
        });
        Motion::CheckAfter(duration)
    }

    /// Ends the finite motion, crediting the pose with the part done by `now`.
    fn end_active(&mut self, now: Instant) {
        if let Some(a) = self.active.take() {
            let fraction = (now.saturating_duration_since(a.start).as_secs_f64()
                / a.duration.as_secs_f64())
            .min(1.0);
            self.pose.apply(a.leg, fraction);
        }
    }

    fn state(&self) -> Document {
        doc(json!({
            "x_mm": self.pose.x_mm,
            "y_mm": self.pose.y_mm,
            "theta_deg": self.pose.theta_deg,
            "is_moving": self.active.is_some() || self.continuous,
        }))
    }
}

impl Resource for FakeBase {
    fn do_command(&mut self, command: Document) -> Result<Document, ResourceError> {
        do_commands(command, &["get_pose", "reset_pose"], |key, _| {
            if key == "reset_pose" {
                self.pose = Pose::default();
            }
            Ok(self.state().into())
        })
    }

    fn status(&mut self) -> Result<Document, ResourceError> {
        Ok(self.state())
    }
}

impl Actuator for FakeBase {
    fn stop(&mut self) -> Result<(), ResourceError> {
        self.end_active(Instant::now());
        self.continuous = false;
        Ok(())
    }

    fn is_moving(&mut self) -> Result<bool, ResourceError> {
        Ok(self.active.is_some() || self.continuous)
    }

    fn check_motion(&mut self) -> Result<Motion, ResourceError> {
        let Some(a) = self.active else {
            return Ok(Motion::Done);
        };
        let end = a.start + a.duration;
        let now = Instant::now();
        if now < end {
            return Ok(Motion::CheckAfter(end - now));
        }
        self.end_active(now);
        Ok(Motion::Done)
    }
}

impl Base for FakeBase {
    fn move_straight(
        &mut self,
        distance_mm: i64,
        mm_per_sec: f64,
    ) -> Result<Motion, ResourceError> {
        // A negative speed reverses, as upstream: the signs multiply.
        let mm = (distance_mm as f64)
            .abs()
            .copysign(distance_mm as f64 * mm_per_sec);
        Ok(self.start(Leg::Straight { mm }, mm, mm_per_sec))
    }

    fn spin(&mut self, angle_deg: f64, degs_per_sec: f64) -> Result<Motion, ResourceError> {
        let deg = angle_deg.abs().copysign(angle_deg * degs_per_sec);
        Ok(self.start(Leg::Spin { deg }, deg, degs_per_sec))
    }

    fn set_power(&mut self, linear: Vector3, angular: Vector3) -> Result<(), ResourceError> {
        self.end_active(Instant::now());
        self.continuous = !(linear.is_zero() && angular.is_zero());
        Ok(())
    }

    fn set_velocity(&mut self, linear: Vector3, angular: Vector3) -> Result<(), ResourceError> {
        self.set_power(linear, angular)
    }

    fn properties(&mut self) -> Result<BaseProperties, ResourceError> {
        Ok(self.properties)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finite_motions_move_the_pose() {
        let mut b = FakeBase::new(0.6, 0.3);
        let Motion::CheckAfter(d) = b.spin(90.0, 9000.0).unwrap() else {
            panic!()
        };
        std::thread::sleep(d);
        assert_eq!(b.check_motion().unwrap(), Motion::Done);
        let Motion::CheckAfter(d) = b.move_straight(100, 10_000.0).unwrap() else {
            panic!()
        };
        assert!(b.is_moving().unwrap());
        std::thread::sleep(d);
        b.check_motion().unwrap();
        assert!(!b.is_moving().unwrap());
        assert!(
            (b.pose.x_mm + 100.0).abs() < 1e-6 && b.pose.y_mm.abs() < 1e-6,
            "{:?}",
            b.pose
        );
    }

    #[test]
    fn set_power_moves_until_zero() {
        let mut b = FakeBase::new(0.6, 0.3);
        b.set_power(
            Vector3 {
                y: 0.5,
                ..Default::default()
            },
            Vector3::default(),
        )
        .unwrap();
        assert!(b.is_moving().unwrap());
        b.set_power(Vector3::default(), Vector3::default()).unwrap();
        assert!(!b.is_moving().unwrap());
    }
}
