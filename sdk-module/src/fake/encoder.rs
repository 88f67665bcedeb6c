//! A simulated encoder that counts ticks at a set rate.

use super::{do_commands, doc};
use crate::host::{Built, kind};
use crate::{
    AttributeError, Attributes, Document, Encoder, EncoderPosition, PositionType, Resource,
    ResourceError,
};
use serde_json::json;
use std::time::Instant;

/// The fake encoder.
#[derive(Debug)]
pub struct FakeEncoder {
    ticks_per_second: f64,
    ticks_per_rotation: f64,
    /// Ticks at `since`.
    ticks: f64,
    since: Instant,
}

impl FakeEncoder {
    /// Attributes: `ticks_per_second` (default 0), `ticks_per_rotation`
    /// (default 100, for positions in degrees).
    pub fn build(_name: &str, attrs: &Attributes) -> Result<Built, AttributeError> {
        let rate = attrs.number("ticks_per_second")?.unwrap_or(0.0);
        let per_rotation = attrs.positive_number("ticks_per_rotation", 100.0)?;
        Ok(Built::new::<kind::Encoder>(Box::new(Self::new(
            rate,
            per_rotation,
        ))))
    }

    /// An encoder at 0 counting `ticks_per_second`.
    pub fn new(ticks_per_second: f64, ticks_per_rotation: f64) -> Self {
        Self {
            ticks_per_second,
            ticks_per_rotation,
            ticks: 0.0,
            since: Instant::now(),
        }
    }

    fn ticks_now(&self) -> f64 {
        self.ticks + self.ticks_per_second * self.since.elapsed().as_secs_f64()
    }

    fn restart_from(&mut self, ticks: f64) {
        self.ticks = ticks;
        self.since = Instant::now();
    }
}

impl Resource for FakeEncoder {
    fn do_command(&mut self, command: Document) -> Result<Document, ResourceError> {
        do_commands(command, &["set_ticks_per_second"], |_, arg| {
            let rate = arg.as_f64().filter(|r| r.is_finite()).ok_or_else(|| {
                ResourceError::invalid(format!("set_ticks_per_second needs a number, got {arg}"))
            })?;
            self.restart_from(self.ticks_now());
            self.ticks_per_second = rate;
            Ok(json!(rate))
        })
    }

    fn status(&mut self) -> Result<Document, ResourceError> {
        Ok(doc(
            json!({"ticks": self.ticks_now(), "ticks_per_second": self.ticks_per_second}),
        ))
    }
}

impl Encoder for FakeEncoder {
    fn position(&mut self, unit: PositionType) -> Result<EncoderPosition, ResourceError> {
        let ticks = self.ticks_now().trunc();
        Ok(match unit {
            PositionType::Degrees => EncoderPosition {
                value: ticks / self.ticks_per_rotation * 360.0,
                unit,
            },
            _ => EncoderPosition {
                value: ticks,
                unit: PositionType::Ticks,
            },
        })
    }

    fn reset_position(&mut self) -> Result<(), ResourceError> {
        self.restart_from(0.0);
        Ok(())
    }

    fn properties(&mut self) -> Result<(bool, bool), ResourceError> {
        Ok((true, true))
    }
}
