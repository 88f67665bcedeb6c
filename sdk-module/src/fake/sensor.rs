//! A simulated sensor whose readings are configured (and changed by
//! DoCommand).

use super::{do_commands, doc};
use crate::host::{Built, kind};
use crate::{AttributeError, Attributes, Document, Resource, ResourceError, Sensor};
use serde_json::json;

/// The fake sensor.
#[derive(Debug)]
pub struct FakeSensor {
    readings: Document,
}

impl FakeSensor {
    /// Attributes: `readings`, an object (default `{"a": 1, "b": 2, "c": 3}`,
    /// as upstream's fake).
    pub fn build(_name: &str, attrs: &Attributes) -> Result<Built, AttributeError> {
        let readings = attrs
            .object("readings")?
            .unwrap_or_else(|| doc(json!({"a": 1, "b": 2, "c": 3})));
        Ok(Built::new::<kind::Sensor>(Box::new(Self { readings })))
    }
}

impl Resource for FakeSensor {
    /// `{"set_readings": {...}}` replaces the readings.
    fn do_command(&mut self, command: Document) -> Result<Document, ResourceError> {
        do_commands(command, &["set_readings"], |_, arg| match arg {
            serde_json::Value::Object(o) => {
                self.readings = o;
                Ok(json!(true))
            }
            other => Err(ResourceError::invalid(format!(
                "set_readings needs an object of readings, got {other}"
            ))),
        })
    }
}

impl Sensor for FakeSensor {
    fn readings(&mut self) -> Result<Document, ResourceError> {
        Ok(self.readings.clone())
    }
}
