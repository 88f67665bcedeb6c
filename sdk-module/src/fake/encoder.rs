//! A simulated encoder: it counts ticks at a set rate, or reads them off
//! the shaft of a motor it is mounted on.

use super::{do_commands, doc};
use crate::host::{Built, MotorHandle, ResourceHandle, kind};
use crate::{
    AttributeError, Attributes, Document, Encoder, EncoderPosition, PositionType, Resource,
    ResourceError,
};
use axle_wire::settings::keys::Key;
use serde_json::json;
use std::time::{Duration, Instant};

/// How long a read waits for the motor's answer.
const MOTOR_TIMEOUT: Duration = Duration::from_secs(1);

/// Where the ticks come from.
#[derive(Clone)]
enum Source {
    /// A steady rate: ticks at `since`, plus the rate times the time since.
    Rate { ticks: f64, since: Instant },
    /// A motor's position in revolutions; ticks count from `zero`.
    Motor { motor: MotorHandle, zero: f64 },
}

/// The fake encoder.
pub struct FakeEncoder {
    ticks_per_second: f64,
    ticks_per_rotation: f64,
    source: Source,
}

impl FakeEncoder {
    /// The attributes it reads: anything else in its config is refused.
    pub const ATTRIBUTES: &[Key] = &[
        Key::value("motor", "a built-in motor whose shaft it reads"),
        Key::value("ticks_per_rotation", "default 100"),
        Key::value(
            "ticks_per_second",
            "counts at this rate when it reads no motor",
        ),
    ];

    /// The motor the encoder is mounted on, from `attributes.motor`: the
    /// builder builds it first and passes it to [`Self::build_on`].
    pub fn motor(attrs: &Attributes) -> Result<Vec<String>, AttributeError> {
        match attrs.as_document().get("motor") {
            None => Ok(Vec::new()),
            Some(serde_json::Value::String(m)) if !m.is_empty() => Ok(vec![m.clone()]),
            Some(other) => Err(AttributeError {
                field: "motor".into(),
                problem: format!("expected the name of a motor, got {other}"),
            }),
        }
    }

    /// An encoder on the motor of `attributes.motor`, given as `used` (its
    /// ticks follow the motor's position), or counting at a rate.
    pub fn build_on(
        name: &str,
        attrs: &Attributes,
        used: Vec<ResourceHandle>,
    ) -> Result<Built, AttributeError> {
        let Some(used) = used.first() else {
            return Self::build(name, attrs);
        };
        let motor = used.get::<kind::Motor>().ok_or_else(|| AttributeError {
            field: "motor".into(),
            problem: format!("{} is not a built-in motor", used.api()),
        })?;
        let per_rotation = attrs.positive_number("ticks_per_rotation", 100.0)?;
        let mut encoder = Self::new(0.0, per_rotation);
        encoder.source = Source::Motor { motor, zero: 0.0 };
        Ok(Built::new::<kind::Encoder>(Box::new(encoder)))
    }

    /// Whether reads wait on a motor: then the encoder needs a thread.
    pub fn blocks(attrs: &Attributes) -> bool {
        attrs.as_document().contains_key("motor")
    }

    /// Attributes: `ticks_per_second` (default 0), `ticks_per_rotation`
    /// (default 100, for positions in degrees); or `motor`, the motor whose
    /// shaft it reads.
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
            source: Source::Rate {
                ticks: 0.0,
                since: Instant::now(),
            },
        }
    }

    /// Ticks since zero.
    fn ticks_now(&self) -> Result<f64, ResourceError> {
        match &self.source {
            Source::Rate { ticks, since } => {
                Ok(ticks + self.ticks_per_second * since.elapsed().as_secs_f64())
            }
            Source::Motor { motor, zero } => {
                let revolutions = motor.call_blocking(|m| m.position(), MOTOR_TIMEOUT)?;
                Ok(revolutions * self.ticks_per_rotation - zero)
            }
        }
    }

    /// Makes the current position read `ticks`.
    fn restart_from(&mut self, ticks: f64) -> Result<(), ResourceError> {
        let now = self.ticks_now()?;
        match &mut self.source {
            Source::Rate { ticks: t, since } => {
                *t = ticks;
                *since = Instant::now();
            }
            Source::Motor { zero, .. } => *zero += now - ticks,
        }
        Ok(())
    }
}

impl Resource for FakeEncoder {
    fn do_command(&mut self, command: Document) -> Result<Document, ResourceError> {
        do_commands(command, &["set_ticks_per_second"], |_, arg| {
            let rate = arg.as_f64().filter(|r| r.is_finite()).ok_or_else(|| {
                ResourceError::invalid(format!("set_ticks_per_second needs a number, got {arg}"))
            })?;
            if matches!(self.source, Source::Motor { .. }) {
                return Err(ResourceError::FailedPrecondition(
                    "this encoder reads its motor; its rate follows the motor".into(),
                ));
            }
            self.restart_from(self.ticks_now()?)?;
            self.ticks_per_second = rate;
            Ok(json!(rate))
        })
    }

    fn status(&mut self) -> Result<Document, ResourceError> {
        Ok(doc(json!({"ticks": self.ticks_now()?})))
    }
}

impl Encoder for FakeEncoder {
    fn position(&mut self, unit: PositionType) -> Result<EncoderPosition, ResourceError> {
        let ticks = self.ticks_now()?.trunc();
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
        self.restart_from(0.0)
    }

    fn properties(&mut self) -> Result<(bool, bool), ResourceError> {
        Ok((true, true))
    }
}
