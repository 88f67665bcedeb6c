//! A simulated base that keeps an odometry pose from the motions it is given.

use super::{do_commands, doc};
use crate::host::{Built, kind};
use crate::{
    Actuator, AttributeError, Attributes, Base, BaseProperties, Document, Motion, Resource,
    ResourceError, Vector3,
};
use axle_wire::settings::keys::Key;
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

impl Pose {
    /// Drives at `mm_s` forward while turning at `deg_s` for `secs`: an arc.
    fn drive(&mut self, mm_s: f64, deg_s: f64, secs: f64) {
        let w = deg_s.to_radians();
        let start = self.theta_deg.to_radians();
        if w.abs() < 1e-12 {
            self.x_mm -= mm_s * secs * start.sin();
            self.y_mm += mm_s * secs * start.cos();
        } else {
            let end = start + w * secs;
            self.x_mm += mm_s / w * (end.cos() - start.cos());
            self.y_mm += mm_s / w * (end.sin() - start.sin());
        }
        self.theta_deg = (self.theta_deg + deg_s * secs).rem_euclid(360.0);
    }
}

/// A SetPower or SetVelocity under way: forward speed and turn rate.
#[derive(Debug, Clone, Copy)]
struct Drive {
    mm_per_sec: f64,
    deg_per_sec: f64,
    since: Instant,
}

/// The fake base.
#[derive(Debug)]
pub struct FakeBase {
    properties: BaseProperties,
    active: Option<Active>,
    /// Set while SetPower or SetVelocity holds a non-zero command.
    continuous: Option<Drive>,
    /// Full power's speeds: forward mm/s and turn degrees/s.
    full_power: (f64, f64),
    pose: Pose,
}

impl FakeBase {
    /// The attributes it reads: anything else in its config is refused.
    pub const ATTRIBUTES: &[Key] = &[
        Key::value("width_mm", "track width (default 600)"),
        Key::value("wheel_circumference_mm", "default 300"),
        Key::value("max_mm_per_sec", "top linear speed (default 500)"),
        Key::value("max_degs_per_sec", "top turn rate (default 90)"),
        Key::ignored("left", "upstream's"),
        Key::ignored("right", "upstream's"),
        Key::ignored("spin_slip_factor", "upstream's"),
    ];

    /// Attributes: `width_mm` (default 600), `wheel_circumference_mm`
    /// (default 300), `max_mm_per_sec` and `max_degs_per_sec` (500 and 90:
    /// the speeds of full power, for SetPower's odometry).
    pub fn build(_name: &str, attrs: &Attributes) -> Result<Built, AttributeError> {
        let width = attrs.positive_number("width_mm", 600.0)?;
        let wheel = attrs.positive_number("wheel_circumference_mm", 300.0)?;
        let mut base = Self::new(width / 1000.0, wheel / 1000.0);
        base.full_power = (
            attrs.positive_number("max_mm_per_sec", 500.0)?,
            attrs.positive_number("max_degs_per_sec", 90.0)?,
        );
        Ok(Built::new::<kind::Base>(Box::new(base)))
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
            continuous: None,
            full_power: (500.0, 90.0),
            pose: Pose::default(),
        }
    }

    /// Folds the continuous drive so far into the pose.
    fn settle(&mut self, now: Instant) {
        if let Some(d) = self.continuous.as_mut() {
            let secs = now.saturating_duration_since(d.since).as_secs_f64();
            self.pose.drive(d.mm_per_sec, d.deg_per_sec, secs);
            d.since = now;
        }
    }

    /// Holds forward speed `mm_s` and turn rate `deg_s` until told otherwise.
    fn hold(&mut self, mm_s: f64, deg_s: f64) {
        let now = Instant::now();
        self.end_active(now);
        self.settle(now);
        self.continuous = (mm_s != 0.0 || deg_s != 0.0).then_some(Drive {
            mm_per_sec: mm_s,
            deg_per_sec: deg_s,
            since: now,
        });
    }

    fn start(&mut self, leg: Leg, amount: f64, speed: f64) -> Motion {
        self.hold(0.0, 0.0);
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

    fn state(&mut self) -> Document {
        self.settle(Instant::now());
        doc(json!({
            "x_mm": self.pose.x_mm,
            "y_mm": self.pose.y_mm,
            "theta_deg": self.pose.theta_deg,
            "is_moving": self.active.is_some() || self.continuous.is_some(),
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
        self.hold(0.0, 0.0);
        Ok(())
    }

    fn is_moving(&mut self) -> Result<bool, ResourceError> {
        Ok(self.active.is_some() || self.continuous.is_some())
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

    /// Forward power times full power's speed; a left turn is positive z.
    fn set_power(&mut self, linear: Vector3, angular: Vector3) -> Result<(), ResourceError> {
        let (mm, deg) = self.full_power;
        self.hold(linear.y * mm, angular.z * deg);
        Ok(())
    }

    fn set_velocity(&mut self, linear: Vector3, angular: Vector3) -> Result<(), ResourceError> {
        self.hold(linear.y, angular.z);
        Ok(())
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
