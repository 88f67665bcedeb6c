//! A simulated sensor whose readings are configured (and changed by
//! DoCommand).

use super::{do_commands, doc};
use crate::host::{Built, kind};
use crate::{AttributeError, Attributes, Document, Resource, ResourceError, Sensor};
use axle_wire::settings::keys::Key;
use serde_json::json;
use std::time::Duration;

/// The fake sensor.
#[derive(Debug)]
pub struct FakeSensor {
    readings: Document,
    /// How long a reading takes: a slow bus.
    delay: Duration,
}

impl FakeSensor {
    /// The attributes it reads: anything else in its config is refused.
    pub const ATTRIBUTES: &[Key] = &[
        Key::value(
            "readings",
            "what Readings answers (default {\"a\": 1, \"b\": 2, \"c\": 3})",
        ),
        Key::value("readings_delay_ms", "Readings takes this long"),
    ];

    /// Attributes: `readings`, an object (default `{"a": 1, "b": 2, "c": 3}`,
    /// as upstream's fake); `readings_delay_ms`, how long each reading
    /// takes (default 0).
    pub fn build(_name: &str, attrs: &Attributes) -> Result<Built, AttributeError> {
        let readings = attrs
            .object("readings")?
            .unwrap_or_else(|| doc(json!({"a": 1, "b": 2, "c": 3})));
        let delay_ms = attrs.number("readings_delay_ms")?.unwrap_or(0.0);
        let delay = Duration::from_secs_f64(delay_ms.clamp(0.0, 60_000.0) / 1000.0);
        Ok(Built::new::<kind::Sensor>(Box::new(Self {
            readings,
            delay,
        })))
    }

    /// A slow sensor blocks its thread while it reads: it gets its own.
    pub fn blocks(attrs: &Attributes) -> bool {
        attrs.as_document().contains_key("readings_delay_ms")
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
        if !self.delay.is_zero() {
            std::thread::sleep(self.delay);
        }
        Ok(self.readings.clone())
    }
}
