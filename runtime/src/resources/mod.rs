//! Resources as actors. [`actor`] holds the one actor type; the other files
//! give each API a typed handle that validates arguments and sends messages.

pub mod actor;
mod base;
mod input_controller;
mod motor;

pub use input_controller::{InputControllerHandle, StreamFilter};

use actix::prelude::*;
use actor::{Abandon, BaseApi, Call, Kind, MotorApi, Move, ResourceActor, Stop};
use axle_sdk_module::{Actuator, Document, Motion, Resource, ResourceError};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

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
pub type MotorHandle = Handle<MotorApi>;
/// A base actor's handle.
pub type BaseHandle = Handle<BaseApi>;

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
        let request = self.addr.send(Call(Box::new(f)));
        let name = self.name.clone();
        async move { request.await.map_err(|_| gone(&name))? }
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
            start: Box::new(start),
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

/// An actuator as StopAll, sessions and shutdown see it: its full name and
/// where to send `Stop`.
#[derive(Clone)]
pub struct Stoppable {
    /// The resource's full name, e.g. `rdk:component:motor/left`.
    pub name: Arc<str>,
    /// Its actor.
    pub stopper: Recipient<Stop>,
}

impl Stoppable {
    /// Sends `Stop` and waits at most `timeout` for the driver to confirm. The
    /// Stop stays queued if the actor is busy: the timeout bounds the wait,
    /// not the stop.
    pub async fn stop_within(
        &self,
        cause: &'static str,
        timeout: Duration,
    ) -> Result<(), ResourceError> {
        match tokio::time::timeout(timeout, self.stopper.send(Stop { cause })).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(gone(&self.name)),
            Err(_) => Err(ResourceError::Unavailable(format!(
                "{} did not confirm Stop within {timeout:?}",
                self.name
            ))),
        }
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
    /// The resource as an actuator, if it moves.
    pub fn stoppable(&self) -> Option<Stoppable> {
        match self {
            Self::Motor(h) => Some(h.stoppable()),
            Self::Base(h) => Some(h.stoppable()),
            Self::InputController(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::fake::FakeMotor;
    use std::time::{Duration, Instant};

    fn motor() -> MotorHandle {
        let driver: Box<dyn axle_sdk_module::Motor> = Box::new(FakeMotor::new("m", 60.0));
        Handle::start("rdk:component:motor/m".into(), driver)
    }

    #[actix::test]
    async fn stop_interrupts_a_motion_in_flight_at_once() {
        let m = motor();
        let long = tokio::spawn(m.run("GoFor", |d| d.go_for(60.0, 60.0)));
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(m.is_moving().await.unwrap());
        let t0 = Instant::now();
        m.stop("Stop").await.unwrap();
        let outcome = long.await.unwrap();
        assert!(t0.elapsed() < Duration::from_millis(20));
        assert!(
            matches!(outcome, Err(ResourceError::Aborted(msg)) if msg.contains("interrupted by Stop"))
        );
        assert!(!m.is_moving().await.unwrap());
    }

    #[actix::test]
    async fn a_new_command_supersedes_the_motion_in_flight() {
        let m = motor();
        let first = tokio::spawn(m.run("GoFor", |d| d.go_for(60.0, 60.0)));
        tokio::time::sleep(Duration::from_millis(20)).await;
        m.set_power(0.5).await.unwrap();
        assert!(
            matches!(first.await.unwrap(), Err(ResourceError::Aborted(msg)) if msg.contains("by SetPower"))
        );
        // The old motion's timer must not stop the motor later.
        assert_eq!(m.is_powered().await.unwrap(), (true, 0.5));
    }

    #[actix::test]
    async fn a_motion_whose_waiter_is_dropped_is_stopped() {
        let m = motor();
        let waiter = tokio::spawn(m.run("GoFor", |d| d.go_for(60.0, 60.0)));
        tokio::time::sleep(Duration::from_millis(20)).await;
        waiter.abort();
        let _ = waiter.await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!m.is_moving().await.unwrap());
    }

    #[actix::test]
    async fn a_blocking_driver_runs_on_its_own_arbiter() {
        let arbiter = actix::Arbiter::new();
        let driver: Box<dyn axle_sdk_module::Motor> = Box::new(FakeMotor::new("b", 60.0));
        let m: MotorHandle =
            Handle::start_on("rdk:component:motor/b".into(), driver, &arbiter.handle());
        let here = std::thread::current().id();
        let there = m.call(|_| Ok(std::thread::current().id())).await.unwrap();
        assert_ne!(here, there);
        m.go_for(6000.0, 1.0).await.unwrap();
        assert_eq!(m.position().await.unwrap(), 1.0);
        arbiter.stop();
    }

    /// A fake motor whose SetRPM always fails, as hardware sometimes does.
    struct Refuser(FakeMotor);

    impl Resource for Refuser {}

    impl Actuator for Refuser {
        fn stop(&mut self) -> Result<(), ResourceError> {
            self.0.stop()
        }
        fn is_moving(&mut self) -> Result<bool, ResourceError> {
            self.0.is_moving()
        }
        fn check_motion(&mut self) -> Result<Motion, ResourceError> {
            self.0.check_motion()
        }
    }

    impl axle_sdk_module::Motor for Refuser {
        fn set_power(&mut self, power: f64) -> Result<(), ResourceError> {
            self.0.set_power(power)
        }
        fn set_rpm(&mut self, _: f64) -> Result<(), ResourceError> {
            Err(ResourceError::Internal("driver fault".into()))
        }
        fn go_for(&mut self, rpm: f64, revolutions: f64) -> Result<Motion, ResourceError> {
            self.0.go_for(rpm, revolutions)
        }
        fn go_to(&mut self, rpm: f64, position: f64) -> Result<Motion, ResourceError> {
            self.0.go_to(rpm, position)
        }
        fn reset_zero_position(&mut self, offset: f64) -> Result<(), ResourceError> {
            self.0.reset_zero_position(offset)
        }
        fn position(&mut self) -> Result<f64, ResourceError> {
            self.0.position()
        }
        fn properties(&mut self) -> Result<axle_sdk_module::MotorProperties, ResourceError> {
            self.0.properties()
        }
        fn is_powered(&mut self) -> Result<(bool, f64), ResourceError> {
            self.0.is_powered()
        }
    }

    #[actix::test]
    async fn a_refused_command_does_not_leave_the_interrupted_motion_running() {
        let driver: Box<dyn axle_sdk_module::Motor> = Box::new(Refuser(FakeMotor::new("r", 60.0)));
        let m: MotorHandle = Handle::start("rdk:component:motor/r".into(), driver);
        let first = tokio::spawn(m.run("GoFor", |d| d.go_for(60.0, 60.0)));
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(
            m.set_rpm(30.0).await,
            Err(ResourceError::Internal("driver fault".into()))
        );
        assert!(matches!(
            first.await.unwrap(),
            Err(ResourceError::Aborted(_))
        ));
        assert!(!m.is_moving().await.unwrap());
    }
}
