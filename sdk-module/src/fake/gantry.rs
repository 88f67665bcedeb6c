//! A simulated gantry: linear axes that move at a set speed.

use super::travel::Travel;
use crate::host::{Built, kind};
use crate::{AttributeError, Attributes, Document, Gantry, Motion, Resource, ResourceError};
use axle_wire::settings::keys::Key;
use serde_json::json;

/// The fake gantry.
#[derive(Debug)]
pub struct FakeGantry {
    name: String,
    lengths_mm: Vec<f64>,
    mm_per_sec: f64,
    travel: Travel,
}

impl FakeGantry {
    /// The attributes it reads: anything else in its config is refused.
    pub const ATTRIBUTES: &[Key] = &[
        Key::value("lengths_mm", "axis lengths (default [1000, 1000, 500])"),
        Key::value("mm_per_sec", "axis speed (default 200)"),
    ];

    /// Attributes: `lengths_mm` (default `[1000, 1000, 500]`, one per axis),
    /// `mm_per_sec` (default 200, the speed when a call gives none).
    pub fn build(name: &str, attrs: &Attributes) -> Result<Built, AttributeError> {
        let lengths = attrs.positive_numbers("lengths_mm", &[1000.0, 1000.0, 500.0])?;
        let speed = attrs.positive_number("mm_per_sec", 200.0)?;
        Ok(Built::new::<kind::Gantry>(Box::new(Self::new(
            name, lengths, speed,
        ))))
    }

    /// A gantry at its home position (every axis at 0).
    pub fn new(name: &str, lengths_mm: Vec<f64>, mm_per_sec: f64) -> Self {
        Self {
            name: name.into(),
            travel: Travel::new(vec![0.0; lengths_mm.len()]),
            lengths_mm,
            mm_per_sec,
        }
    }

    fn check_axes(&self, what: &str, values: &[f64]) -> Result<(), ResourceError> {
        if values.len() != self.lengths_mm.len() {
            return Err(ResourceError::invalid(format!(
                "{what} must hold {} values, one per axis, got {}",
                self.lengths_mm.len(),
                values.len()
            )));
        }
        Ok(())
    }
}

impl Resource for FakeGantry {
    fn status(&mut self) -> Result<Document, ResourceError> {
        Ok(super::doc(json!({
            "positions_mm": self.travel.now(),
            "lengths_mm": self.lengths_mm,
            "is_moving": self.travel.is_moving(),
        })))
    }
}

super::travel::actuator!(FakeGantry);

impl Gantry for FakeGantry {
    fn position(&mut self) -> Result<Vec<f64>, ResourceError> {
        Ok(self.travel.now())
    }

    fn move_to_position(
        &mut self,
        positions_mm: Vec<f64>,
        speeds_mm_per_sec: Vec<f64>,
    ) -> Result<Motion, ResourceError> {
        self.check_axes("positions_mm", &positions_mm)?;
        for (i, (p, len)) in positions_mm.iter().zip(&self.lengths_mm).enumerate() {
            if !(0.0..=*len).contains(p) {
                return Err(ResourceError::invalid(format!(
                    "positions_mm[{i}] = {p} is outside axis {i} (0 to {len} mm)"
                )));
            }
        }
        let speeds = if speeds_mm_per_sec.is_empty() {
            vec![self.mm_per_sec; self.lengths_mm.len()]
        } else {
            self.check_axes("speeds_mm_per_sec", &speeds_mm_per_sec)?;
            if let Some(i) = speeds_mm_per_sec.iter().position(|v| *v <= 0.0) {
                return Err(ResourceError::invalid(format!(
                    "speeds_mm_per_sec[{i}] must be greater than 0, got {}",
                    speeds_mm_per_sec[i]
                )));
            }
            speeds_mm_per_sec
        };
        Ok(self.travel.go(vec![positions_mm], speeds))
    }

    fn home(&mut self) -> Result<Motion, ResourceError> {
        let speeds = vec![self.mm_per_sec; self.lengths_mm.len()];
        Ok(self
            .travel
            .go(vec![vec![0.0; self.lengths_mm.len()]], speeds))
    }

    fn lengths(&mut self) -> Result<Vec<f64>, ResourceError> {
        Ok(self.lengths_mm.clone())
    }

    fn kinematics(&mut self) -> Result<Vec<u8>, ResourceError> {
        let axes = ["x", "y", "z"];
        let joints: Vec<_> = self
            .lengths_mm
            .iter()
            .enumerate()
            .map(|(i, len)| {
                let axis = axes.get(i).copied().unwrap_or("z");
                json!({
                    "id": format!("axis{i}"), "type": "prismatic",
                    "parent": if i == 0 { "world".to_string() } else { format!("carriage{}", i - 1) },
                    "axis": {"x": (axis == "x") as u8, "y": (axis == "y") as u8, "z": (axis == "z") as u8},
                    "min": 0, "max": len,
                })
            })
            .collect();
        let links: Vec<_> = (0..self.lengths_mm.len())
            .map(|i| json!({"id": format!("carriage{i}"), "parent": format!("axis{i}")}))
            .collect();
        let model = json!({"name": self.name, "links": links, "joints": joints});
        Ok(model.to_string().into_bytes())
    }
}
