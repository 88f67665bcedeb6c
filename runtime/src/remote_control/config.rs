//! A `base_remote_control` service's attributes, upstream's names, checked:
//! an unknown mode or value is refused naming the field, never defaulted.

use super::modes::Mode;
use axle_sdk_module::{AttributeError, Attributes};
use std::time::Duration;

/// What the service drives, how, and how long silence may last.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteControlConfig {
    /// The base it drives (short name).
    pub base: String,
    /// The controller it listens to (short name).
    pub input_controller: String,
    /// How events become throttle.
    pub mode: Mode,
    /// With both maxima set, commands are SetVelocity at these speeds;
    /// otherwise SetPower.
    pub max_velocity: Option<(f64, f64)>,
    /// Stop a non-zero command that has had no fresh event this long.
    pub deadman: Option<Duration>,
}

fn bad(field: &str, problem: String) -> AttributeError {
    AttributeError {
        field: field.into(),
        problem,
    }
}

fn name(attrs: &Attributes, field: &str) -> Result<String, AttributeError> {
    match attrs.string(field, "")? {
        n if n.is_empty() => Err(bad(field, "missing: the name of a resource".into())),
        n => Ok(n),
    }
}

impl RemoteControlConfig {
    /// Reads and checks the attributes.
    pub fn parse(attrs: &Attributes) -> Result<Self, AttributeError> {
        let mode_name = attrs.string("control_mode", "arrowControl")?;
        let mode = Mode::parse(&mode_name).ok_or_else(|| {
            let names: Vec<_> = Mode::NAMES.iter().map(|(n, _)| *n).collect();
            bad(
                "control_mode",
                format!("unknown mode {mode_name:?}; expected one of {names:?}"),
            )
        })?;
        let linear = attrs.positive_number("max_linear_mm_per_sec", 0.0)?;
        let angular = attrs.positive_number("max_angular_deg_per_sec", 0.0)?;
        let deadman = match attrs.number("deadman_ms")? {
            None => None,
            Some(ms) if ms > 0.0 && ms <= 3_600_000.0 => Some(Duration::from_secs_f64(ms / 1000.0)),
            Some(ms) => {
                return Err(bad(
                    "deadman_ms",
                    format!("expected 1 to 3600000 ms, got {ms}"),
                ));
            }
        };
        Ok(Self {
            base: name(attrs, "base")?,
            input_controller: name(attrs, "input_controller")?,
            mode,
            max_velocity: (linear > 0.0 && angular > 0.0).then_some((linear, angular)),
            deadman,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> Result<RemoteControlConfig, AttributeError> {
        RemoteControlConfig::parse(&Attributes::new(v.as_object().cloned().unwrap_or_default()))
    }

    #[test]
    fn defaults_to_arrows_and_refuses_what_it_cannot_use() {
        let c = parse(json!({"base": "b", "input_controller": "pad"})).unwrap();
        assert_eq!(
            (c.mode, c.max_velocity, c.deadman),
            (Mode::Arrow, None, None)
        );
        let c = parse(
            json!({"base": "b", "input_controller": "pad", "control_mode": "joystickControl",
            "max_linear_mm_per_sec": 500, "max_angular_deg_per_sec": 90, "deadman_ms": 300}),
        )
        .unwrap();
        assert_eq!(c.max_velocity, Some((500.0, 90.0)));
        assert_eq!(c.deadman, Some(Duration::from_millis(300)));
        let e = parse(json!({"base": "b", "input_controller": "p", "control_mode": "joystick"}))
            .unwrap_err();
        assert_eq!(e.field, "control_mode");
        assert_eq!(
            parse(json!({"input_controller": "p"})).unwrap_err().field,
            "base"
        );
        assert_eq!(
            parse(json!({"base": "b", "input_controller": "p", "deadman_ms": -5}))
                .unwrap_err()
                .field,
            "deadman_ms"
        );
    }
}
