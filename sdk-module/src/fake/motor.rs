//! A simulated motor whose position integrates power × max_rpm over time.

use super::{do_commands, doc};
use crate::host::{Built, kind};
use crate::{
    Actuator, AttributeError, Attributes, Document, Motion, Motor, MotorProperties, Resource,
    ResourceError,
};
use axle_wire::settings::keys::Key;
use serde_json::json;
use std::time::{Duration, Instant};
use tracing::warn;

/// The largest DoCommand `fill` payload: large enough to cross any
/// transport's message limit, small enough to be harmless.
const MAX_FILL: u64 = 16 << 20;

/// Below this fraction of full power the motor counts as off, as upstream.
const POWERED_THRESHOLD: f64 = 0.005;

/// A finite motion: where it ends, and when.
#[derive(Debug, Clone, Copy)]
struct Target {
    position: f64,
    end: Instant,
}

/// The fake motor.
#[derive(Debug)]
pub struct FakeMotor {
    name: String,
    max_rpm: f64,
    power: f64,
    /// Position at `since`; the current position adds what power has turned since.
    position: f64,
    since: Instant,
    target: Option<Target>,
    /// How long Stop blocks, simulating a driver stuck on slow hardware.
    stop_delay: Duration,
}

impl FakeMotor {
    /// The attributes it reads: anything else in its config is refused.
    pub const ATTRIBUTES: &[Key] = &[
        Key::value(
            "max_rpm",
            "top speed; faster commands run at it (default 100)",
        ),
        Key::value("ticks_per_rotation", "default 1"),
        Key::value(
            "stop_delay_ms",
            "Stop blocks this long, to rehearse a hung driver",
        ),
        Key::ignored("board", "upstream's"),
        Key::ignored("pins", "upstream's"),
        Key::ignored("encoder", "upstream's"),
        Key::ignored("dir_flip", "upstream's"),
        Key::ignored("pwm_freq", "upstream's"),
        Key::ignored("min_power_pct", "upstream's"),
        Key::ignored("max_power_pct", "upstream's"),
    ];

    /// Attributes: `max_rpm` (default 100); `stop_delay_ms` makes Stop block
    /// that long, to rehearse a driver that hangs. Pins, board and encoder
    /// settings that upstream configs carry are accepted and ignored.
    pub fn build(name: &str, attrs: &Attributes) -> Result<Built, AttributeError> {
        let max_rpm = attrs.positive_number("max_rpm", 100.0)?;
        attrs.positive_number("ticks_per_rotation", 1.0)?;
        let stop_delay_ms = attrs.positive_number("stop_delay_ms", 0.0)?;
        let mut motor = Self::new(name, max_rpm);
        motor.stop_delay = Duration::from_secs_f64(stop_delay_ms.min(3_600_000.0) / 1000.0);
        Ok(Built::new::<kind::Motor>(Box::new(motor)))
    }

    /// A motor whose Stop blocks gets its own thread, as any blocking driver must.
    pub fn blocks(attrs: &Attributes) -> bool {
        attrs.as_document().contains_key("stop_delay_ms")
    }

    /// A stopped motor at position 0.
    pub fn new(name: &str, max_rpm: f64) -> Self {
        Self {
            name: name.into(),
            max_rpm,
            power: 0.0,
            position: 0.0,
            since: Instant::now(),
            target: None,
            stop_delay: Duration::ZERO,
        }
    }

    fn position_at(&self, now: Instant) -> f64 {
        if let Some(t) = self.target.filter(|t| now >= t.end) {
            return t.position;
        }
        let minutes = now.saturating_duration_since(self.since).as_secs_f64() / 60.0;
        self.position + self.power * self.max_rpm * minutes
    }

    /// Folds the motion so far into `position`, so power can change.
    fn checkpoint(&mut self) -> Instant {
        let now = Instant::now();
        self.position = self.position_at(now);
        self.since = now;
        now
    }

    fn clamp_rpm(&self, rpm: f64) -> f64 {
        if rpm.abs() > self.max_rpm {
            warn!(motor = %self.name, rpm, max_rpm = self.max_rpm, "rpm above max_rpm; running at max_rpm");
            self.max_rpm.copysign(rpm)
        } else {
            rpm
        }
    }

    /// Turns `revolutions` (signed) at `rpm` (unsigned).
    fn turn(&mut self, revolutions: f64, rpm: f64) -> Motion {
        let now = self.checkpoint();
        if revolutions == 0.0 {
            self.power = 0.0;
            self.target = None;
            return Motion::Done;
        }
        let duration = Motion::lasting(revolutions / rpm * 60.0);
        self.power = (rpm / self.max_rpm).copysign(revolutions);
        self.target = Some(Target {
            position: self.position + revolutions,
            end: now + duration,
        });
        Motion::CheckAfter(duration)
    }

    fn state(&self) -> Document {
        let now = Instant::now();
        doc(json!({
            "position": self.position_at(now),
            "power": self.power,
            "is_moving": self.power.abs() >= POWERED_THRESHOLD,
            "max_rpm": self.max_rpm,
        }))
    }
}

impl Resource for FakeMotor {
    fn do_command(&mut self, command: Document) -> Result<Document, ResourceError> {
        do_commands(
            command,
            &["get_state", "set_max_rpm", "fill"],
            |key, arg| match key {
                // A payload of N bytes, to rehearse large answers.
                "fill" => {
                    // JSON from a protobuf Struct has only doubles.
                    let n = arg
                        .as_f64()
                        .filter(|n| n.fract() == 0.0 && (0.0..=MAX_FILL as f64).contains(n))
                        .map(|n| n as u64)
                        .ok_or_else(|| {
                            ResourceError::invalid(format!(
                                "fill needs a byte count from 0 to {MAX_FILL}, got {arg}"
                            ))
                        })?;
                    Ok(json!("x".repeat(n as usize)))
                }
                "set_max_rpm" => {
                    let rpm = arg
                        .as_f64()
                        .filter(|r| r.is_finite() && *r > 0.0)
                        .ok_or_else(|| {
                            ResourceError::invalid(format!(
                                "set_max_rpm needs a number above 0, got {arg}"
                            ))
                        })?;
                    self.checkpoint();
                    self.max_rpm = rpm;
                    Ok(json!(rpm))
                }
                _ => Ok(self.state().into()),
            },
        )
    }

    fn status(&mut self) -> Result<Document, ResourceError> {
        Ok(self.state())
    }
}

impl Actuator for FakeMotor {
    fn stop(&mut self) -> Result<(), ResourceError> {
        if !self.stop_delay.is_zero() {
            // Blocks like a driver waiting on a bus; this actor has its own thread.
            std::thread::sleep(self.stop_delay);
        }
        self.checkpoint();
        self.power = 0.0;
        self.target = None;
        Ok(())
    }

    fn is_moving(&mut self) -> Result<bool, ResourceError> {
        Ok(self.power.abs() >= POWERED_THRESHOLD)
    }

    fn check_motion(&mut self) -> Result<Motion, ResourceError> {
        let Some(target) = self.target else {
            return Ok(Motion::Done);
        };
        let now = Instant::now();
        if now < target.end {
            return Ok(Motion::CheckAfter(target.end - now));
        }
        self.position = target.position;
        self.since = now;
        self.power = 0.0;
        self.target = None;
        Ok(Motion::Done)
    }
}

impl Motor for FakeMotor {
    fn set_power(&mut self, power: f64) -> Result<(), ResourceError> {
        self.checkpoint();
        self.power = power;
        self.target = None;
        Ok(())
    }

    fn set_rpm(&mut self, rpm: f64) -> Result<(), ResourceError> {
        let rpm = self.clamp_rpm(rpm);
        self.set_power(rpm / self.max_rpm)
    }

    fn go_for(&mut self, rpm: f64, revolutions: f64) -> Result<Motion, ResourceError> {
        if revolutions == 0.0 {
            // Upstream: zero revolutions means run at rpm until told otherwise.
            self.set_rpm(rpm)?;
            return Ok(Motion::Done);
        }
        let rpm = self.clamp_rpm(rpm);
        Ok(self.turn(revolutions.abs().copysign(rpm * revolutions), rpm.abs()))
    }

    fn go_to(&mut self, rpm: f64, position: f64) -> Result<Motion, ResourceError> {
        let rpm = self.clamp_rpm(rpm).abs();
        let from = self.position_at(Instant::now());
        Ok(self.turn(position - from, rpm))
    }

    fn reset_zero_position(&mut self, offset: f64) -> Result<(), ResourceError> {
        self.checkpoint();
        let shift = offset - self.position;
        self.position = offset;
        if let Some(t) = self.target.as_mut() {
            t.position += shift;
        }
        Ok(())
    }

    fn position(&mut self) -> Result<f64, ResourceError> {
        Ok(self.position_at(Instant::now()))
    }

    fn properties(&mut self) -> Result<MotorProperties, ResourceError> {
        Ok(MotorProperties {
            position_reporting: true,
        })
    }

    fn is_powered(&mut self) -> Result<(bool, f64), ResourceError> {
        Ok((self.power.abs() >= POWERED_THRESHOLD, self.power))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_for_ends_exactly_at_target() {
        let mut m = FakeMotor::new("m", 600.0);
        let Motion::CheckAfter(d) = m.go_for(600.0, -2.0).unwrap() else {
            panic!()
        };
        assert!((d.as_secs_f64() - 0.2).abs() < 1e-9);
        assert!(m.is_moving().unwrap());
        std::thread::sleep(d);
        assert_eq!(m.check_motion().unwrap(), Motion::Done);
        assert_eq!(m.position().unwrap(), -2.0);
        assert!(!m.is_moving().unwrap());
    }

    #[test]
    fn stop_keeps_partial_position() {
        let mut m = FakeMotor::new("m", 60.0);
        m.set_power(1.0).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        m.stop().unwrap();
        let p = m.position().unwrap();
        assert!(p > 0.04 && p < 0.5, "{p}");
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(m.position().unwrap(), p);
    }

    #[test]
    fn reset_zero_position_reads_offset() {
        let mut m = FakeMotor::new("m", 60.0);
        m.reset_zero_position(3.0).unwrap();
        assert_eq!(m.position().unwrap(), 3.0);
    }
}
