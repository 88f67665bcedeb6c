//! The differential-drive base: both wheels forward to drive, in opposite
//! directions to spin. Timed motions (MoveStraight, Spin) set the wheels'
//! speed and ask to be checked when the motion should end, so Stop reaches
//! the base while it moves.

use axle_sdk_module::module::{Dependencies, ResourceConfig};
use axle_sdk_module::{
    Actuator, AttributeError, Base, BaseProperties, Motion, Motor, Resource, ResourceError, Vector3,
};
use std::f64::consts::PI;
use std::time::Duration;

/// A base on two motor-driven wheels.
pub struct DiffDrive {
    left: Box<dyn Motor>,
    right: Box<dyn Motor>,
    wheel_circumference_mm: f64,
    width_mm: f64,
}

impl DiffDrive {
    /// The model this module serves.
    pub const MODEL: &str = "axle:base:diff-drive";

    /// Checks the attributes; the base depends on its two motors.
    pub fn validate(c: &ResourceConfig) -> Result<Vec<String>, AttributeError> {
        let mut motors = Vec::new();
        for side in ["left", "right"] {
            match c
                .attributes
                .as_document()
                .get(side)
                .and_then(|v| v.as_str())
            {
                Some(name) if !name.is_empty() => motors.push(name.to_string()),
                _ => {
                    return Err(AttributeError {
                        field: side.into(),
                        problem: format!("expected the name of the {side} wheel's motor"),
                    });
                }
            }
        }
        c.attributes
            .positive_number("wheel_circumference_mm", 220.0)?;
        c.attributes.positive_number("width_mm", 300.0)?;
        Ok(motors)
    }

    /// Builds the base from its config and its motors.
    pub fn build(c: &ResourceConfig, deps: &Dependencies) -> Result<Box<dyn Base>, ResourceError> {
        let motors = Self::validate(c)?;
        Ok(Box::new(Self {
            left: deps.motor(&motors[0])?,
            right: deps.motor(&motors[1])?,
            wheel_circumference_mm: c
                .attributes
                .positive_number("wheel_circumference_mm", 220.0)?,
            width_mm: c.attributes.positive_number("width_mm", 300.0)?,
        }))
    }

    /// The rpm that moves a wheel's rim at `mm_per_sec`.
    fn rpm(&self, mm_per_sec: f64) -> f64 {
        mm_per_sec / self.wheel_circumference_mm * 60.0
    }

    fn set_rpms(&mut self, left: f64, right: f64) -> Result<(), ResourceError> {
        self.left.set_rpm(left)?;
        self.right.set_rpm(right)
    }

    /// Runs the wheels at these rpms for `seconds`, then stops them.
    fn timed(&mut self, left: f64, right: f64, seconds: f64) -> Result<Motion, ResourceError> {
        if seconds <= 0.0 || !seconds.is_finite() {
            self.stop()?;
            return Ok(Motion::Done);
        }
        self.set_rpms(left, right)?;
        Ok(Motion::CheckAfter(Duration::from_secs_f64(seconds)))
    }
}

impl Resource for DiffDrive {}

impl Actuator for DiffDrive {
    /// Stops both wheels, even if the first refuses.
    fn stop(&mut self) -> Result<(), ResourceError> {
        let left = self.left.stop();
        let right = self.right.stop();
        left.and(right)
    }

    fn is_moving(&mut self) -> Result<bool, ResourceError> {
        Ok(self.left.is_moving()? || self.right.is_moving()?)
    }

    /// A timed motion has run its course.
    fn check_motion(&mut self) -> Result<Motion, ResourceError> {
        self.stop()?;
        Ok(Motion::Done)
    }
}

impl Base for DiffDrive {
    fn move_straight(
        &mut self,
        distance_mm: i64,
        mm_per_sec: f64,
    ) -> Result<Motion, ResourceError> {
        let speed = mm_per_sec.abs();
        let rpm = self.rpm(speed) * (distance_mm as f64).signum();
        self.timed(rpm, rpm, distance_mm.unsigned_abs() as f64 / speed)
    }

    fn spin(&mut self, angle_deg: f64, degs_per_sec: f64) -> Result<Motion, ResourceError> {
        let speed = degs_per_sec.abs();
        // Each wheel rolls along a circle whose diameter is the track width.
        let rim_mm_per_sec = PI * self.width_mm * speed / 360.0;
        let rpm = self.rpm(rim_mm_per_sec) * angle_deg.signum();
        self.timed(-rpm, rpm, angle_deg.abs() / speed)
    }

    fn set_power(&mut self, linear: Vector3, angular: Vector3) -> Result<(), ResourceError> {
        let left = (linear.y - angular.z).clamp(-1.0, 1.0);
        let right = (linear.y + angular.z).clamp(-1.0, 1.0);
        self.left.set_power(left)?;
        self.right.set_power(right)
    }

    fn set_velocity(&mut self, linear: Vector3, angular: Vector3) -> Result<(), ResourceError> {
        let turn_mm_per_sec = angular.z.to_radians() * self.width_mm / 2.0;
        let left = self.rpm(linear.y - turn_mm_per_sec);
        let right = self.rpm(linear.y + turn_mm_per_sec);
        self.set_rpms(left, right)
    }

    fn properties(&mut self) -> Result<BaseProperties, ResourceError> {
        Ok(BaseProperties {
            width_meters: self.width_mm / 1000.0,
            turning_radius_meters: 0.0,
            wheel_circumference_meters: self.wheel_circumference_mm / 1000.0,
        })
    }
}
