//! Resources as actors. [`actor`] holds the one actor type; the other files
//! give each API a typed handle that validates arguments and sends messages.

pub mod actor;
mod base;
mod input_controller;
mod motor;

pub use input_controller::{InputControllerHandle, StreamFilter};

use actix::prelude::*;
use actor::{Abandon, Call, Move, ResourceActor, Stop};
use axle_sdk_module::{Actuator, Base, Document, Motion, Motor, Resource, ResourceError};
use std::sync::Arc;

/// The address of one resource actor, and the resource's full name.
pub struct Handle<D: ?Sized + Resource> {
    name: Arc<str>,
    addr: Addr<ResourceActor<D>>,
}

impl<D: ?Sized + Resource> Clone for Handle<D> {
    fn clone(&self) -> Self {
        Self { name: self.name.clone(), addr: self.addr.clone() }
    }
}

/// A motor actor's handle.
pub type MotorHandle = Handle<dyn Motor>;
/// A base actor's handle.
pub type BaseHandle = Handle<dyn Base>;

fn gone(name: &str) -> ResourceError {
    ResourceError::Unavailable(format!("resource {name} is not running"))
}

impl<D: ?Sized + Resource> Handle<D> {
    /// Starts an actor for `driver` on the current arbiter.
    pub fn start(name: Arc<str>, driver: Box<D>) -> Self {
        let addr = ResourceActor::new(name.clone(), driver).start();
        Self { name, addr }
    }

    /// Starts an actor for `driver` on `arbiter`: for drivers that block.
    pub fn start_on(name: Arc<str>, driver: Box<D>, arbiter: &ArbiterHandle) -> Self {
        let actor = ResourceActor::new(name.clone(), driver);
        let addr = ResourceActor::start_in_arbiter(arbiter, move |_| actor);
        Self { name, addr }
    }

    /// The resource's full name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `f` on the driver inside the actor.
    pub async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut D) -> Result<R, ResourceError> + Send + 'static,
    ) -> Result<R, ResourceError> {
        self.addr.send(Call(Box::new(f))).await.map_err(|_| gone(&self.name))?
    }

    /// DoCommand.
    pub async fn do_command(&self, command: Document) -> Result<Document, ResourceError> {
        self.call(move |d| d.do_command(command)).await
    }

    /// GetStatus.
    pub async fn status(&self) -> Result<Document, ResourceError> {
        self.call(|d| d.status()).await
    }
}

/// Stops the motion a caller waits for if the caller goes away first.
struct AbandonOnDrop<D: ?Sized + Actuator> {
    addr: Addr<ResourceActor<D>>,
    id: u64,
    armed: bool,
}

impl<D: ?Sized + Actuator> Drop for AbandonOnDrop<D> {
    fn drop(&mut self) {
        if self.armed {
            self.addr.do_send(Abandon(self.id));
        }
    }
}

impl<D: ?Sized + Actuator> Handle<D> {
    /// Starts a command that changes motion and waits until the motion ends.
    /// If the caller stops waiting (a cancelled RPC), the motion is stopped.
    pub async fn run(
        &self,
        command: &'static str,
        start: impl FnOnce(&mut D) -> Result<Motion, ResourceError> + Send + 'static,
    ) -> Result<(), ResourceError> {
        let msg = Move { command, start: Box::new(start) };
        let ticket = self.addr.send(msg).await.map_err(|_| gone(&self.name))??;
        let mut guard = AbandonOnDrop { addr: self.addr.clone(), id: ticket.id, armed: true };
        let outcome = ticket.done.await.map_err(|_| gone(&self.name))?;
        guard.armed = false;
        outcome
    }

    /// Stops all motion, ending any motion in flight.
    pub async fn stop(&self, cause: &'static str) -> Result<(), ResourceError> {
        self.addr.send(Stop { cause }).await.map_err(|_| gone(&self.name))?
    }

    /// Whether the actuator is moving.
    pub async fn is_moving(&self) -> Result<bool, ResourceError> {
        self.call(|d| d.is_moving()).await
    }

    /// Where to send `Stop` without knowing the API.
    pub fn stopper(&self) -> Recipient<Stop> {
        self.addr.clone().recipient()
    }
}

/// A running resource of any API.
#[derive(Clone)]
pub enum ResourceHandle {
    /// `rdk:component:motor`.
    Motor(MotorHandle),
    /// `rdk:component:base`.
    Base(BaseHandle),
    /// `rdk:component:input_controller`.
    InputController(InputControllerHandle),
}

impl ResourceHandle {
    /// Where to send `Stop`, if the resource moves.
    pub fn stopper(&self) -> Option<Recipient<Stop>> {
        match self {
            Self::Motor(h) => Some(h.stopper()),
            Self::Base(h) => Some(h.stopper()),
            Self::InputController(_) => None,
        }
    }

    /// DoCommand, whatever the API.
    pub async fn do_command(&self, command: Document) -> Result<Document, ResourceError> {
        match self {
            Self::Motor(h) => h.do_command(command).await,
            Self::Base(h) => h.do_command(command).await,
            Self::InputController(h) => h.actor.do_command(command).await,
        }
    }
}
