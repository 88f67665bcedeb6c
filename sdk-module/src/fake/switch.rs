//! A simulated multi-position switch.

use super::doc;
use crate::host::{Built, kind};
use crate::{AttributeError, Attributes, Document, Resource, ResourceError, Switch};
use axle_wire::settings::keys::Key;
use serde_json::json;

/// The fake switch.
#[derive(Debug)]
pub struct FakeSwitch {
    positions: u32,
    labels: Vec<String>,
    position: u32,
}

impl FakeSwitch {
    /// The attributes it reads: anything else in its config is refused.
    pub const ATTRIBUTES: &[Key] = &[
        Key::value("position_count", "default 2"),
        Key::value("labels", "a label per position"),
    ];

    /// Attributes: `position_count` (default 2), `labels` (optional, one per
    /// position).
    pub fn build(_name: &str, attrs: &Attributes) -> Result<Built, AttributeError> {
        let count = attrs.positive_number("position_count", 2.0)?;
        if count.fract() != 0.0 || count > 1024.0 {
            return Err(AttributeError {
                field: "position_count".into(),
                problem: format!("expected a whole number from 1 to 1024, got {count}"),
            });
        }
        let labels = attrs.strings("labels")?.unwrap_or_default();
        if !labels.is_empty() && labels.len() != count as usize {
            return Err(AttributeError {
                field: "labels".into(),
                problem: format!(
                    "expected one label per position ({count}), got {}",
                    labels.len()
                ),
            });
        }
        Ok(Built::new::<kind::Switch>(Box::new(Self {
            positions: count as u32,
            labels,
            position: 0,
        })))
    }
}

impl Resource for FakeSwitch {
    fn status(&mut self) -> Result<Document, ResourceError> {
        Ok(doc(json!({"position": self.position})))
    }
}

impl Switch for FakeSwitch {
    fn set_position(&mut self, position: u32) -> Result<(), ResourceError> {
        if position >= self.positions {
            return Err(ResourceError::invalid(format!(
                "position {position} is out of range: the switch has {} positions (0 to {})",
                self.positions,
                self.positions - 1
            )));
        }
        self.position = position;
        Ok(())
    }

    fn position(&mut self) -> Result<u32, ResourceError> {
        Ok(self.position)
    }

    fn number_of_positions(&mut self) -> Result<(u32, Vec<String>), ResourceError> {
        Ok((self.positions, self.labels.clone()))
    }
}
