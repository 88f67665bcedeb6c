//! A simulated servo that turns at a set speed between its angle limits.

use super::travel::Travel;
use crate::host::{Built, kind};
use crate::{AttributeError, Attributes, Document, Motion, Resource, ResourceError, Servo};
use axle_wire::settings::keys::Key;
use serde_json::json;

/// The fake servo.
#[derive(Debug)]
pub struct FakeServo {
    range: (u32, u32),
    degs_per_sec: f64,
    travel: Travel,
}

impl FakeServo {
    /// The attributes it reads: anything else in its config is refused.
    pub const ATTRIBUTES: &[Key] = &[
        Key::value("min_angle_deg", "default 0"),
        Key::value("max_angle_deg", "default 180"),
        Key::value("degs_per_sec", "default 180"),
        Key::ignored("board", "upstream's"),
        Key::ignored("pin", "upstream's"),
        Key::ignored("starting_position_deg", "upstream's"),
        Key::ignored("frequency_hz", "upstream's"),
    ];

    /// Attributes: `min_angle_deg` (default 0), `max_angle_deg` (default
    /// 180), `degs_per_sec` (default 180).
    pub fn build(_name: &str, attrs: &Attributes) -> Result<Built, AttributeError> {
        let min = attrs.number("min_angle_deg")?.unwrap_or(0.0);
        let max = attrs.number("max_angle_deg")?.unwrap_or(180.0);
        if !(0.0..=360.0).contains(&min) || !(min..=360.0).contains(&max) {
            return Err(AttributeError {
                field: "max_angle_deg".into(),
                problem: format!(
                    "the range must satisfy 0 <= min_angle_deg <= max_angle_deg <= 360, got {min} to {max}"
                ),
            });
        }
        let speed = attrs.positive_number("degs_per_sec", 180.0)?;
        Ok(Built::new::<kind::Servo>(Box::new(Self::new(
            (min as u32, max as u32),
            speed,
        ))))
    }

    /// A servo at rest at its lower limit.
    pub fn new(range: (u32, u32), degs_per_sec: f64) -> Self {
        Self {
            range,
            degs_per_sec,
            travel: Travel::new(vec![range.0 as f64]),
        }
    }
}

impl Resource for FakeServo {
    fn status(&mut self) -> Result<Document, ResourceError> {
        Ok(super::doc(json!({
            "position_deg": self.position()?,
            "is_moving": self.travel.is_moving(),
        })))
    }
}

super::travel::actuator!(FakeServo);

impl Servo for FakeServo {
    fn move_to(&mut self, angle_deg: u32) -> Result<Motion, ResourceError> {
        let (min, max) = self.range;
        if !(min..=max).contains(&angle_deg) {
            return Err(ResourceError::invalid(format!(
                "angle_deg {angle_deg} is outside the servo's range ({min} to {max} degrees)"
            )));
        }
        Ok(self
            .travel
            .go(vec![vec![angle_deg as f64]], vec![self.degs_per_sec]))
    }

    fn position(&mut self) -> Result<u32, ResourceError> {
        Ok(self.travel.now()[0].round() as u32)
    }
}
