//! The motor API as messages to a motor's actor.

use super::MotorHandle;
use crate::{Motion, MotorProperties, ResourceError, validate};

impl MotorHandle {
    /// SetPower.
    pub async fn set_power(&self, power: f64) -> Result<(), ResourceError> {
        let power = validate::power("power_pct", power)?;
        self.run("SetPower", move |m| {
            m.set_power(power).map(|_| Motion::Done)
        })
        .await
    }

    /// SetRPM.
    pub async fn set_rpm(&self, rpm: f64) -> Result<(), ResourceError> {
        let rpm = validate::finite("rpm", rpm)?;
        self.run("SetRPM", move |m| m.set_rpm(rpm).map(|_| Motion::Done))
            .await
    }

    /// GoFor: returns when the motor has turned, or when the motion is stopped.
    pub async fn go_for(&self, rpm: f64, revolutions: f64) -> Result<(), ResourceError> {
        let rpm = nonzero_rpm(self.name(), rpm)?;
        let revolutions = validate::finite("revolutions", revolutions)?;
        self.run("GoFor", move |m| m.go_for(rpm, revolutions)).await
    }

    /// GoTo: returns when the motor is at the position, or is stopped.
    pub async fn go_to(&self, rpm: f64, position: f64) -> Result<(), ResourceError> {
        let rpm = nonzero_rpm(self.name(), rpm)?;
        let position = validate::finite("position_revolutions", position)?;
        self.run("GoTo", move |m| m.go_to(rpm, position)).await
    }

    /// ResetZeroPosition.
    pub async fn reset_zero_position(&self, offset: f64) -> Result<(), ResourceError> {
        let offset = validate::finite("offset", offset)?;
        self.call(move |m| m.reset_zero_position(offset)).await
    }

    /// GetPosition.
    pub async fn position(&self) -> Result<f64, ResourceError> {
        self.call(|m| m.position()).await
    }

    /// GetProperties.
    pub async fn properties(&self) -> Result<MotorProperties, ResourceError> {
        self.call(|m| m.properties()).await
    }

    /// IsPowered.
    pub async fn is_powered(&self) -> Result<(bool, f64), ResourceError> {
        self.call(|m| m.is_powered()).await
    }
}

/// A finite rpm away from 0, with upstream's wording for the zero case.
fn nonzero_rpm(name: &str, rpm: f64) -> Result<f64, ResourceError> {
    let rpm = validate::finite("rpm", rpm)?;
    validate::nonzero_speed("rpm", rpm).map_err(|_| {
        ResourceError::invalid(format!(
            "cannot move motor {name} at an RPM that is nearly 0 (got {rpm})"
        ))
    })
}
