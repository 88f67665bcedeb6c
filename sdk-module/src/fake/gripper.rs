//! A simulated parallel gripper: jaws that open and close at a set speed,
//! and close on an object if one is configured between them.

use super::travel::Travel;
use crate::host::{Built, kind};
use crate::{AttributeError, Attributes, Document, Gripper, Motion, Resource, ResourceError};
use axle_wire::settings::keys::Key;
use serde_json::json;

/// The fake gripper.
#[derive(Debug)]
pub struct FakeGripper {
    name: String,
    max_width_mm: f64,
    mm_per_sec: f64,
    /// The width of the object between the jaws, if any.
    object_mm: Option<f64>,
    grabbing: bool,
    travel: Travel,
}

impl FakeGripper {
    /// The attributes it reads: anything else in its config is refused.
    pub const ATTRIBUTES: &[Key] = &[
        Key::value("max_width_mm", "fully open (default 100)"),
        Key::value("mm_per_sec", "finger speed (default 200)"),
        Key::value(
            "object_width_mm",
            "the object between the fingers (default 40)",
        ),
    ];

    /// Attributes: `max_width_mm` (default 100), `mm_per_sec` (default 200),
    /// `object_width_mm` (default 40; 0 means nothing to hold).
    pub fn build(name: &str, attrs: &Attributes) -> Result<Built, AttributeError> {
        let max = attrs.positive_number("max_width_mm", 100.0)?;
        let speed = attrs.positive_number("mm_per_sec", 200.0)?;
        let object = attrs.number("object_width_mm")?.unwrap_or(40.0);
        if !(0.0..max).contains(&object) {
            return Err(AttributeError {
                field: "object_width_mm".into(),
                problem: format!("must be from 0 to less than max_width_mm ({max}), got {object}"),
            });
        }
        let object = (object > 0.0).then_some(object);
        Ok(Built::new::<kind::Gripper>(Box::new(Self::new(
            name, max, speed, object,
        ))))
    }

    /// An open gripper.
    pub fn new(name: &str, max_width_mm: f64, mm_per_sec: f64, object_mm: Option<f64>) -> Self {
        Self {
            name: name.into(),
            max_width_mm,
            mm_per_sec,
            object_mm,
            grabbing: false,
            travel: Travel::new(vec![max_width_mm]),
        }
    }

    fn go(&mut self, width: f64, grabbing: bool) -> Motion {
        self.grabbing = grabbing;
        self.travel.go(vec![vec![width]], vec![self.mm_per_sec])
    }

    fn width(&self) -> f64 {
        self.travel.now()[0]
    }
}

impl Resource for FakeGripper {
    fn status(&mut self) -> Result<Document, ResourceError> {
        Ok(super::doc(json!({
            "width_mm": self.width(),
            "is_moving": self.travel.is_moving(),
            "is_holding_something": self.is_holding_something()?,
        })))
    }
}

super::travel::actuator!(FakeGripper);

impl Gripper for FakeGripper {
    fn open(&mut self) -> Result<Motion, ResourceError> {
        Ok(self.go(self.max_width_mm, false))
    }

    fn grab(&mut self) -> Result<Motion, ResourceError> {
        Ok(self.go(self.object_mm.unwrap_or(0.0), true))
    }

    fn is_holding_something(&mut self) -> Result<bool, ResourceError> {
        let closed_on = self
            .object_mm
            .is_some_and(|o| (self.width() - o).abs() < 1e-6);
        Ok(self.grabbing && !self.travel.is_moving() && closed_on)
    }

    fn current_inputs(&mut self) -> Result<Vec<f64>, ResourceError> {
        Ok(vec![self.width()])
    }

    fn go_to_inputs(&mut self, values: Vec<f64>) -> Result<Motion, ResourceError> {
        let [width] = values[..] else {
            return Err(ResourceError::invalid(format!(
                "values must hold 1 input (the jaw opening in mm), got {}",
                values.len()
            )));
        };
        if !(0.0..=self.max_width_mm).contains(&width) {
            return Err(ResourceError::invalid(format!(
                "values[0] = {width} is outside the jaw opening (0 to {} mm)",
                self.max_width_mm
            )));
        }
        // Closing past the object would squeeze it: the jaws stop on it.
        let width = self.object_mm.map_or(width, |o| width.max(o));
        Ok(self.go(width, false))
    }

    fn kinematics(&mut self) -> Result<Vec<u8>, ResourceError> {
        let model = json!({
            "name": self.name,
            "links": [{"id": "jaws", "parent": "world", "translation": {"x": 0, "y": 0, "z": 0}}],
            "joints": [{
                "id": "opening", "type": "prismatic", "parent": "jaws",
                "axis": {"x": 1, "y": 0, "z": 0}, "min": 0, "max": self.max_width_mm,
            }],
        });
        Ok(model.to_string().into_bytes())
    }
}
