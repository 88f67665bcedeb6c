//! A modular resource's dependencies, reached through the parent.
//!
//! Drivers are synchronous, and each runs on its own thread in a module, so
//! a dependency's call is sent from the module's I/O runtime and the driver
//! waits for the answer, bounded by [`CALL_TIMEOUT`]. Each call carries the
//! session of the client whose call the driver is serving
//! ([`crate::host::caller::session`]): when that client goes away, the
//! parent stops the dependencies too.

use crate::client::{RobotClient, SessionChannel};
use crate::host::caller;
use crate::{Actuator, Motion, Motor, MotorProperties, Resource, ResourceError};
use axle_proto::motor::motor_service_client::MotorServiceClient;
use axle_proto::motor::*;
use std::future::Future;
use std::time::Duration;
use tonic::Status;
use tonic::metadata::MetadataValue;

/// How long a driver waits for a dependency's answer.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// What a resource being built may use: the dependencies it declared.
pub struct Dependencies {
    parent: Option<RobotClient>,
    declared: Vec<String>,
    io: tokio::runtime::Handle,
}

impl Dependencies {
    pub(super) fn new(
        parent: Option<RobotClient>,
        declared: Vec<String>,
        io: tokio::runtime::Handle,
    ) -> Self {
        Self {
            parent,
            declared,
            io,
        }
    }

    /// The motor `name` (short or full name), which the resource must have
    /// declared: returned by its validate function, or in `depends_on`.
    pub fn motor(&self, name: &str) -> Result<Box<dyn Motor>, ResourceError> {
        let short = name.rsplit_once('/').map_or(name, |(_, n)| n);
        let full = format!("rdk:component:motor/{short}");
        if !self.declared.contains(&full) {
            return Err(ResourceError::FailedPrecondition(format!(
                "motor {short:?} is not a declared dependency (declared: {:?}); return it from the model's validate function",
                self.declared
            )));
        }
        let parent = self.parent.as_ref().ok_or_else(|| {
            ResourceError::Unavailable("the module is not connected to its parent".into())
        })?;
        Ok(Box::new(RemoteMotor {
            client: MotorServiceClient::new(parent.channel()),
            name: short.into(),
            io: self.io.clone(),
        }))
    }
}

/// A motor of the parent robot, driven through the parent socket.
struct RemoteMotor {
    client: MotorServiceClient<SessionChannel>,
    name: String,
    io: tokio::runtime::Handle,
}

impl RemoteMotor {
    /// A request tagged with the caller's session, if the driver serves one.
    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut req = tonic::Request::new(message);
        if let Some(sid) = caller::session().and_then(|s| MetadataValue::try_from(&*s).ok()) {
            req.metadata_mut().insert(crate::client::SID_HEADER, sid);
        }
        req
    }

    /// Runs a call on the I/O runtime and waits for its answer.
    fn wait<T, F>(
        &self,
        call: impl FnOnce(MotorServiceClient<SessionChannel>) -> F,
    ) -> Result<T, ResourceError>
    where
        T: Send + 'static,
        F: Future<Output = Result<tonic::Response<T>, Status>> + Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let call = call(self.client.clone());
        self.io.spawn(async move {
            let _ = tx.send(call.await);
        });
        match rx.recv_timeout(CALL_TIMEOUT) {
            Ok(answer) => answer
                .map(tonic::Response::into_inner)
                .map_err(|s| ResourceError::from_status(&s)),
            Err(_) => Err(ResourceError::Unavailable(format!(
                "motor {} did not answer through the parent within {CALL_TIMEOUT:?}",
                self.name
            ))),
        }
    }
}

impl Resource for RemoteMotor {}

impl Actuator for RemoteMotor {
    fn stop(&mut self) -> Result<(), ResourceError> {
        let req = self.request(StopRequest {
            name: self.name.clone(),
            extra: None,
        });
        self.wait(|mut c| async move { c.stop(req).await })
            .map(drop)
    }

    fn is_moving(&mut self) -> Result<bool, ResourceError> {
        let req = self.request(IsMovingRequest {
            name: self.name.clone(),
        });
        self.wait(|mut c| async move { c.is_moving(req).await })
            .map(|r| r.is_moving)
    }
}

impl Motor for RemoteMotor {
    fn set_power(&mut self, power_pct: f64) -> Result<(), ResourceError> {
        let req = self.request(SetPowerRequest {
            name: self.name.clone(),
            power_pct,
            extra: None,
        });
        self.wait(|mut c| async move { c.set_power(req).await })
            .map(drop)
    }

    fn set_rpm(&mut self, rpm: f64) -> Result<(), ResourceError> {
        let req = self.request(SetRpmRequest {
            name: self.name.clone(),
            rpm,
            extra: None,
        });
        self.wait(|mut c| async move { c.set_rpm(req).await })
            .map(drop)
    }

    /// Not supported on a dependency: the motion would block this driver for
    /// its whole length. Use `set_rpm` and a [`Motion::CheckAfter`] instead.
    fn go_for(&mut self, _: f64, _: f64) -> Result<Motion, ResourceError> {
        Err(ResourceError::Unimplemented(
            "GoFor on a dependency would block the driver; use set_rpm and Motion::CheckAfter"
                .into(),
        ))
    }

    /// Not supported on a dependency, as `go_for`.
    fn go_to(&mut self, _: f64, _: f64) -> Result<Motion, ResourceError> {
        Err(ResourceError::Unimplemented(
            "GoTo on a dependency would block the driver; use set_rpm and Motion::CheckAfter"
                .into(),
        ))
    }

    fn reset_zero_position(&mut self, offset: f64) -> Result<(), ResourceError> {
        let req = self.request(ResetZeroPositionRequest {
            name: self.name.clone(),
            offset,
            extra: None,
        });
        self.wait(|mut c| async move { c.reset_zero_position(req).await })
            .map(drop)
    }

    fn position(&mut self) -> Result<f64, ResourceError> {
        let req = self.request(GetPositionRequest {
            name: self.name.clone(),
            extra: None,
        });
        self.wait(|mut c| async move { c.get_position(req).await })
            .map(|r| r.position)
    }

    fn properties(&mut self) -> Result<MotorProperties, ResourceError> {
        let req = self.request(GetPropertiesRequest {
            name: self.name.clone(),
            extra: None,
        });
        self.wait(|mut c| async move { c.get_properties(req).await })
            .map(|r| MotorProperties {
                position_reporting: r.position_reporting,
            })
    }

    fn is_powered(&mut self) -> Result<(bool, f64), ResourceError> {
        let req = self.request(IsPoweredRequest {
            name: self.name.clone(),
            extra: None,
        });
        self.wait(|mut c| async move { c.is_powered(req).await })
            .map(|r| (r.is_on, r.power_pct))
    }
}
