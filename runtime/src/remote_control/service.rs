//! The service as the robot's table holds it: a thin resource over the
//! `RemoteControl` actor. DoCommand `status` and GetStatus show what the
//! actor shows; dropping the resource (removed, rebuilt) retires the actor,
//! which stops the base.

use super::actor::{Events, Retire, SharedStatus};
use super::base::BaseTarget;
use super::{RemoteControl, RemoteControlConfig};
use crate::robot::{Robot, Serving};
use actix::{Actor, Addr};
use axle_sdk_module::host::{Built, Kind, kind};
use axle_sdk_module::{
    AttributeError, Attributes, Document, Generic, Resource, ResourceError, do_commands,
};

/// A running `base_remote_control` service.
pub struct RemoteControlService {
    status: SharedStatus,
    actor: Addr<RemoteControl>,
}

impl RemoteControlService {
    /// The resources a service uses, with the attribute naming each.
    pub fn uses(attrs: &Attributes) -> Result<Vec<(&'static str, String)>, AttributeError> {
        let c = RemoteControlConfig::parse(attrs)?;
        Ok(vec![
            ("base", c.base),
            ("input_controller", c.input_controller),
        ])
    }

    /// Starts the service `name` on the built-in base and controller
    /// `used` (in the order [`Self::uses`] names them).
    pub fn build(
        name: &str,
        attrs: &Attributes,
        used: Vec<Serving>,
        robot: &Robot,
    ) -> Result<Built, AttributeError> {
        let config = RemoteControlConfig::parse(attrs)?;
        let refused = |field: &str, problem: String| AttributeError {
            field: field.into(),
            problem,
        };
        let (Some(base), Some(controller)) = (used.first(), used.get(1)) else {
            return Err(refused(
                "base",
                "the base and the controller must be built first".into(),
            ));
        };
        let not_a_base = || refused("base", format!("{:?} is not a base", config.base));
        let base = match base {
            Serving::Here(h) => BaseTarget::Here(h.get::<kind::Base>().ok_or_else(not_a_base)?),
            Serving::Elsewhere(proxy) => {
                if robot.api_of(&config.base) != Some(kind::Base::api()) {
                    return Err(not_a_base());
                }
                BaseTarget::elsewhere(proxy.clone())
            }
        };
        let not_a_controller = || {
            refused(
                "input_controller",
                format!("{:?} is not an input controller", config.input_controller),
            )
        };
        let events = match controller {
            Serving::Here(h) => {
                let c = h
                    .get::<kind::InputController>()
                    .ok_or_else(not_a_controller)?;
                Events::Local(c.subscribe())
            }
            Serving::Elsewhere(proxy) => {
                if robot.api_of(&config.input_controller) != Some(kind::InputController::api()) {
                    return Err(not_a_controller());
                }
                Events::Proxied(proxy.clone())
            }
        };
        let full = format!("rdk:service:base_remote_control/{name}");
        let actor = RemoteControl::new(full.into(), config, base, events, robot.sessions());
        let status = actor.status();
        let actor = actor.start();
        Ok(Built::new::<kind::BaseRemoteControl>(Box::new(Self {
            status,
            actor,
        })))
    }

    fn snapshot(&self) -> Document {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for RemoteControlService {
    fn drop(&mut self) {
        self.actor
            .do_send(Retire("the service was removed or reconfigured"));
    }
}

impl Resource for RemoteControlService {
    /// `{"status": true}` answers the status under `status`.
    fn do_command(&mut self, command: Document) -> Result<Document, ResourceError> {
        do_commands(command, &["status"], |_, _| Ok(self.snapshot().into()))
    }

    fn status(&mut self) -> Result<Document, ResourceError> {
        Ok(self.snapshot())
    }
}

impl Generic for RemoteControlService {}
