//! Hosting drivers: every resource, built into axle or served by a module,
//! runs as a [`actor::ResourceActor`] that owns its driver. The other files
//! give each API a typed handle that validates arguments and sends messages.
//!
//! [`caller`] carries the session of the client whose call a driver is
//! serving, so a module's driver can pass it on to its dependencies.

pub mod actor;
mod base;
pub mod caller;
mod input_controller;
pub mod kind;
mod motor;
pub mod stop;

pub use input_controller::{InputControllerHandle, StreamFilter};

use crate::{Actuator, Api, Document, Motion, Resource, ResourceError};
use actix::prelude::*;
use actor::{Abandon, Call, Move, ResourceActor, Stop};
pub use kind::Kind;
use std::any::Any;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
pub use stop::{STOP_TIMEOUT, StopReport, Stoppable, millis, stop_together};

/// The address of one resource actor, and the resource's full name.
pub struct Handle<K: Kind> {
    name: Arc<str>,
    addr: Addr<ResourceActor<K>>,
}

impl<K: Kind> Clone for Handle<K> {
    fn clone(&self) -> Self {
        Self {
            name: self.name.clone(),
            addr: self.addr.clone(),
        }
    }
}

/// A motor actor's handle.
pub type MotorHandle = Handle<kind::Motor>;
/// A base actor's handle.
pub type BaseHandle = Handle<kind::Base>;

fn gone(name: &str) -> ResourceError {
    ResourceError::Unavailable(format!("resource {name} is not running"))
}

impl<K: Kind> Handle<K> {
    /// Starts an actor for `driver` on the current arbiter.
    pub fn start(name: Arc<str>, driver: Box<K::Driver>) -> Self {
        let addr = ResourceActor::new(name.clone(), driver).start();
        Self { name, addr }
    }

    /// Starts an actor for `driver` on `arbiter`: for drivers that block.
    pub fn start_on(name: Arc<str>, driver: Box<K::Driver>, arbiter: &ArbiterHandle) -> Self {
        let actor = ResourceActor::new(name.clone(), driver);
        let addr = ResourceActor::start_in_arbiter(arbiter, move |_| actor);
        Self { name, addr }
    }

    /// The resource's full name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where [`ResourceHandle::close`] sends.
    pub fn closer(&self) -> Recipient<actor::Close> {
        self.addr.clone().recipient()
    }

    /// Runs `f` on the driver inside the actor. The message is sent before
    /// the returned future is polled, and the future does not borrow the
    /// handle.
    pub fn call<R, F>(
        &self,
        f: F,
    ) -> impl Future<Output = Result<R, ResourceError>> + Send + 'static + use<K, R, F>
    where
        R: Send + 'static,
        F: FnOnce(&mut K::Driver) -> Result<R, ResourceError> + Send + 'static,
    {
        let request = self.addr.send(Call(Box::new(caller::carry(f))));
        let name = self.name.clone();
        async move { request.await.map_err(|_| gone(&name))? }
    }

    /// Runs `f` on the driver and waits at most `timeout` for its answer,
    /// blocking this thread: for a driver that uses another resource. Call
    /// it only from a driver that runs on a thread of its own (registered
    /// as blocking), never from async code.
    pub fn call_blocking<R, F>(&self, f: F, timeout: Duration) -> Result<R, ResourceError>
    where
        R: Send + 'static,
        F: FnOnce(&mut K::Driver) -> Result<R, ResourceError> + Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.addr.do_send(Call::<K, ()>(Box::new(move |d| {
            let _ = tx.send(f(d));
            Ok(())
        })));
        rx.recv_timeout(timeout).unwrap_or_else(|e| {
            Err(match e {
                std::sync::mpsc::RecvTimeoutError::Timeout => ResourceError::Unavailable(format!(
                    "{} did not answer within {timeout:?}",
                    self.name
                )),
                std::sync::mpsc::RecvTimeoutError::Disconnected => gone(&self.name),
            })
        })
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
struct AbandonOnDrop<K: Kind>
where
    K::Driver: Actuator,
{
    addr: Addr<ResourceActor<K>>,
    id: u64,
    armed: bool,
}

impl<K: Kind> Drop for AbandonOnDrop<K>
where
    K::Driver: Actuator,
{
    fn drop(&mut self) {
        if self.armed {
            self.addr.do_send(Abandon(self.id));
        }
    }
}

impl<K: Kind> Handle<K>
where
    K::Driver: Actuator,
{
    /// Starts a command that changes motion and waits until the motion ends.
    /// If the caller stops waiting (a cancelled RPC), the motion is stopped.
    pub fn run<F>(
        &self,
        command: &'static str,
        start: F,
    ) -> impl Future<Output = Result<(), ResourceError>> + Send + 'static + use<K, F>
    where
        F: FnOnce(&mut K::Driver) -> Result<Motion, ResourceError> + Send + 'static,
    {
        let request = self.addr.send(Move {
            command,
            start: Box::new(caller::carry(start)),
        });
        let (addr, name) = (self.addr.clone(), self.name.clone());
        async move {
            let ticket = request.await.map_err(|_| gone(&name))??;
            let mut guard = AbandonOnDrop {
                addr,
                id: ticket.id,
                armed: true,
            };
            let outcome = ticket.done.await.map_err(|_| gone(&name))?;
            guard.armed = false;
            outcome
        }
    }

    /// Stops all motion, ending any motion in flight.
    pub fn stop(
        &self,
        cause: &'static str,
    ) -> impl Future<Output = Result<(), ResourceError>> + Send + 'static + use<K> {
        let request = self.addr.send(Stop { cause });
        let name = self.name.clone();
        async move { request.await.map_err(|_| gone(&name))? }
    }

    /// Whether the actuator is moving.
    pub async fn is_moving(&self) -> Result<bool, ResourceError> {
        self.call(|d| d.is_moving()).await
    }

    /// This actuator for the safety paths, which stop without knowing the API.
    pub fn stoppable(&self) -> Stoppable {
        Stoppable {
            name: self.name.clone(),
            stopper: self.addr.clone().recipient(),
        }
    }
}

/// A driver fresh from its constructor, tagged with its API.
pub struct Built {
    api: Api,
    driver: Box<dyn Startable>,
}

/// A driver that knows its API, so it can start its own actor.
trait Startable: Send {
    fn start(self: Box<Self>, name: Arc<str>, arbiter: Option<&ArbiterHandle>) -> ResourceHandle;
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

struct Typed<K: Kind>(Box<K::Driver>);

impl<K: Kind> Startable for Typed<K> {
    fn start(self: Box<Self>, name: Arc<str>, arbiter: Option<&ArbiterHandle>) -> ResourceHandle {
        let handle = K::start(name, self.0, arbiter);
        ResourceHandle {
            api: K::api(),
            stoppable: K::stoppable(&handle),
            closer: K::closer(&handle),
            handle: Arc::new(handle),
        }
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        Box::new(self.0)
    }
}

impl Built {
    /// A driver of API `K`.
    pub fn new<K: Kind>(driver: Box<K::Driver>) -> Self {
        Self {
            api: K::api(),
            driver: Box::new(Typed::<K>(driver)),
        }
    }

    /// The driver's API.
    pub fn api(&self) -> &Api {
        &self.api
    }

    /// The driver, if it is of API `K`: for a module that serves a
    /// built-in model.
    pub fn into_driver<K: Kind>(self) -> Option<Box<K::Driver>> {
        self.driver
            .into_any()
            .downcast::<Box<K::Driver>>()
            .ok()
            .map(|d| *d)
    }
}

/// A running resource of any API: its typed handle, behind its API.
#[derive(Clone)]
pub struct ResourceHandle {
    api: Api,
    handle: Arc<dyn Any + Send + Sync>,
    stoppable: Option<Stoppable>,
    closer: Recipient<actor::Close>,
}

impl ResourceHandle {
    /// Starts an actor for `driver`, serving the resource `name` (a full
    /// name), on `arbiter` if given (for drivers that block), else on the
    /// current one.
    pub fn start(name: Arc<str>, driver: Built, arbiter: Option<&ArbiterHandle>) -> Self {
        driver.driver.start(name, arbiter)
    }

    /// The resource's API.
    pub fn api(&self) -> &Api {
        &self.api
    }

    /// The typed handle, if the resource is of API `K`.
    pub fn get<K: Kind>(&self) -> Option<K::Handle> {
        self.handle.downcast_ref::<K::Handle>().cloned()
    }

    /// The resource as an actuator, if it moves.
    pub fn stoppable(&self) -> Option<Stoppable> {
        self.stoppable.clone()
    }

    /// Stops the resource's actor, which drops its driver: for a resource
    /// taken out of the robot.
    pub fn close(&self) {
        self.closer.do_send(actor::Close);
    }
}
