//! The base API as messages to a base's actor.

use super::BaseHandle;
use crate::{BaseProperties, Motion, ResourceError, Vector3, validate};

impl BaseHandle {
    /// MoveStraight: returns when the base has arrived, or is stopped.
    pub async fn move_straight(
        &self,
        distance_mm: i64,
        mm_per_sec: f64,
    ) -> Result<(), ResourceError> {
        let speed = validate::finite("mm_per_sec", mm_per_sec)?;
        if distance_mm != 0 {
            validate::nonzero_speed("mm_per_sec", speed)?;
        }
        self.run("MoveStraight", move |b| b.move_straight(distance_mm, speed))
            .await
    }

    /// Spin: returns when the base has turned, or is stopped.
    pub async fn spin(&self, angle_deg: f64, degs_per_sec: f64) -> Result<(), ResourceError> {
        let angle = validate::finite("angle_deg", angle_deg)?;
        let speed = validate::finite("degs_per_sec", degs_per_sec)?;
        if angle != 0.0 {
            validate::nonzero_speed("degs_per_sec", speed)?;
        }
        self.run("Spin", move |b| b.spin(angle, speed)).await
    }

    /// SetPower.
    pub async fn set_power(&self, linear: Vector3, angular: Vector3) -> Result<(), ResourceError> {
        let linear = validate::power_vector("linear", linear)?;
        let angular = validate::power_vector("angular", angular)?;
        self.run("SetPower", move |b| {
            b.set_power(linear, angular).map(|_| Motion::Done)
        })
        .await
    }

    /// SetVelocity.
    pub async fn set_velocity(
        &self,
        linear: Vector3,
        angular: Vector3,
    ) -> Result<(), ResourceError> {
        let linear = validate::finite_vector("linear", linear)?;
        let angular = validate::finite_vector("angular", angular)?;
        self.run("SetVelocity", move |b| {
            b.set_velocity(linear, angular).map(|_| Motion::Done)
        })
        .await
    }

    /// GetProperties.
    pub async fn properties(&self) -> Result<BaseProperties, ResourceError> {
        self.call(|b| b.properties()).await
    }
}
