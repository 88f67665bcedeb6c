//! A simulated power sensor of configured voltage and current.

use super::{do_commands, doc};
use crate::host::{Built, kind};
use crate::{AttributeError, Attributes, Document, PowerSensor, Resource, ResourceError};
use axle_wire::settings::keys::Key;
use serde_json::json;

/// The fake power sensor.
#[derive(Debug)]
pub struct FakePowerSensor {
    volts: f64,
    amperes: f64,
    is_ac: bool,
}

impl FakePowerSensor {
    /// The attributes it reads: anything else in its config is refused.
    pub const ATTRIBUTES: &[Key] = &[
        Key::value("volts", "default 12"),
        Key::value("amperes", "default 0.5"),
        Key::value("is_ac", "default false"),
    ];

    /// Attributes: `volts` (default 12), `amperes` (default 0.5), `is_ac`
    /// (default false).
    pub fn build(_name: &str, attrs: &Attributes) -> Result<Built, AttributeError> {
        Ok(Built::new::<kind::PowerSensor>(Box::new(Self {
            volts: attrs.number("volts")?.unwrap_or(12.0),
            amperes: attrs.number("amperes")?.unwrap_or(0.5),
            is_ac: attrs.boolean("is_ac", false)?,
        })))
    }
}

impl Resource for FakePowerSensor {
    /// `{"set_volts": V}` and `{"set_amperes": A}` change the readings.
    fn do_command(&mut self, command: Document) -> Result<Document, ResourceError> {
        do_commands(command, &["set_volts", "set_amperes"], |key, arg| {
            let v = arg.as_f64().filter(|v| v.is_finite()).ok_or_else(|| {
                ResourceError::invalid(format!("{key} needs a number, got {arg}"))
            })?;
            match key {
                "set_volts" => self.volts = v,
                _ => self.amperes = v,
            }
            Ok(json!(v))
        })
    }

    fn status(&mut self) -> Result<Document, ResourceError> {
        Ok(doc(json!({"volts": self.volts, "amperes": self.amperes})))
    }
}

impl PowerSensor for FakePowerSensor {
    fn voltage(&mut self) -> Result<(f64, bool), ResourceError> {
        Ok((self.volts, self.is_ac))
    }

    fn current(&mut self) -> Result<(f64, bool), ResourceError> {
        Ok((self.amperes, self.is_ac))
    }

    fn power(&mut self) -> Result<f64, ResourceError> {
        Ok(self.volts * self.amperes)
    }
}
