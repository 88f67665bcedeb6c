//! Typed clients for the resource APIs the runtime serves. Each holds the
//! session channel, so its monitored calls carry the client's session.

use super::SessionChannel;
use crate::Vector3;
use axle_proto::base::base_service_client::BaseServiceClient;
use axle_proto::base::{self as pb_base};
use axle_proto::common;
use axle_proto::motor::motor_service_client::MotorServiceClient;
use axle_proto::motor::{self as pb_motor};
use tonic::Status;

/// The motor `name` on a robot.
#[derive(Clone)]
pub struct MotorClient {
    client: MotorServiceClient<SessionChannel>,
    name: String,
}

impl MotorClient {
    pub(super) fn new(channel: SessionChannel, name: &str) -> Self {
        Self {
            client: MotorServiceClient::new(channel),
            name: name.into(),
        }
    }

    /// Runs at a fraction of full power, -1 to 1, until told otherwise.
    pub async fn set_power(&self, power_pct: f64) -> Result<(), Status> {
        let name = self.name.clone();
        let req = pb_motor::SetPowerRequest {
            name,
            power_pct,
            extra: None,
        };
        self.client.clone().set_power(req).await.map(drop)
    }

    /// Runs at `rpm` until told otherwise.
    pub async fn set_rpm(&self, rpm: f64) -> Result<(), Status> {
        let name = self.name.clone();
        let req = pb_motor::SetRpmRequest {
            name,
            rpm,
            extra: None,
        };
        self.client.clone().set_rpm(req).await.map(drop)
    }

    /// Turns `revolutions` at `rpm`; returns when done, stopped or superseded.
    pub async fn go_for(&self, rpm: f64, revolutions: f64) -> Result<(), Status> {
        let name = self.name.clone();
        let req = pb_motor::GoForRequest {
            name,
            rpm,
            revolutions,
            extra: None,
        };
        self.client.clone().go_for(req).await.map(drop)
    }

    /// Turns to `position_revolutions` at `rpm`; returns when there.
    pub async fn go_to(&self, rpm: f64, position_revolutions: f64) -> Result<(), Status> {
        let name = self.name.clone();
        let req = pb_motor::GoToRequest {
            name,
            rpm,
            position_revolutions,
            extra: None,
        };
        self.client.clone().go_to(req).await.map(drop)
    }

    /// Stops the motor.
    pub async fn stop(&self) -> Result<(), Status> {
        let name = self.name.clone();
        let req = pb_motor::StopRequest { name, extra: None };
        self.client.clone().stop(req).await.map(drop)
    }

    /// Whether the motor is moving.
    pub async fn is_moving(&self) -> Result<bool, Status> {
        let name = self.name.clone();
        let req = pb_motor::IsMovingRequest { name };
        Ok(self
            .client
            .clone()
            .is_moving(req)
            .await?
            .into_inner()
            .is_moving)
    }

    /// Whether it is powered, and at what fraction of full power.
    pub async fn is_powered(&self) -> Result<(bool, f64), Status> {
        let name = self.name.clone();
        let req = pb_motor::IsPoweredRequest { name, extra: None };
        let r = self.client.clone().is_powered(req).await?.into_inner();
        Ok((r.is_on, r.power_pct))
    }

    /// Position in revolutions.
    pub async fn position(&self) -> Result<f64, Status> {
        let name = self.name.clone();
        let req = pb_motor::GetPositionRequest { name, extra: None };
        Ok(self
            .client
            .clone()
            .get_position(req)
            .await?
            .into_inner()
            .position)
    }
}

/// The base `name` on a robot.
#[derive(Clone)]
pub struct BaseClient {
    client: BaseServiceClient<SessionChannel>,
    name: String,
}

fn vector(v: Vector3) -> Option<common::Vector3> {
    Some(common::Vector3 {
        x: v.x,
        y: v.y,
        z: v.z,
    })
}

impl BaseClient {
    pub(super) fn new(channel: SessionChannel, name: &str) -> Self {
        Self {
            client: BaseServiceClient::new(channel),
            name: name.into(),
        }
    }

    /// Drives `distance_mm` at `mm_per_sec`; returns when done or stopped.
    pub async fn move_straight(&self, distance_mm: i64, mm_per_sec: f64) -> Result<(), Status> {
        let name = self.name.clone();
        let req = pb_base::MoveStraightRequest {
            name,
            distance_mm,
            mm_per_sec,
            extra: None,
        };
        self.client.clone().move_straight(req).await.map(drop)
    }

    /// Turns `angle_deg` at `degs_per_sec`; returns when done or stopped.
    pub async fn spin(&self, angle_deg: f64, degs_per_sec: f64) -> Result<(), Status> {
        let name = self.name.clone();
        let req = pb_base::SpinRequest {
            name,
            angle_deg,
            degs_per_sec,
            extra: None,
        };
        self.client.clone().spin(req).await.map(drop)
    }

    /// Drives at fractions of full power until told otherwise.
    pub async fn set_power(&self, linear: Vector3, angular: Vector3) -> Result<(), Status> {
        let name = self.name.clone();
        let req = pb_base::SetPowerRequest {
            name,
            linear: vector(linear),
            angular: vector(angular),
            extra: None,
        };
        self.client.clone().set_power(req).await.map(drop)
    }

    /// Drives at mm/s and degrees/s until told otherwise.
    pub async fn set_velocity(&self, linear: Vector3, angular: Vector3) -> Result<(), Status> {
        let name = self.name.clone();
        let req = pb_base::SetVelocityRequest {
            name,
            linear: vector(linear),
            angular: vector(angular),
            extra: None,
        };
        self.client.clone().set_velocity(req).await.map(drop)
    }

    /// Stops the base.
    pub async fn stop(&self) -> Result<(), Status> {
        let name = self.name.clone();
        let req = pb_base::StopRequest { name, extra: None };
        self.client.clone().stop(req).await.map(drop)
    }

    /// Whether the base is moving.
    pub async fn is_moving(&self) -> Result<bool, Status> {
        let name = self.name.clone();
        let req = pb_base::IsMovingRequest { name };
        Ok(self
            .client
            .clone()
            .is_moving(req)
            .await?
            .into_inner()
            .is_moving)
    }
}
