//! `ResourceActor`: the one actor type that owns a driver.
//!
//! Every resource runs as a `ResourceActor<K>`, `K` naming its API. The actor serialises
//! calls to the driver, so drivers need no locks. Motions that take time never
//! block the mailbox: the driver returns [`Motion::CheckAfter`], the actor
//! arms a timer, and the caller waits on a oneshot. A `Stop` (or any command
//! that changes motion) cancels the timer, stops the driver and ends the
//! waiting caller with ABORTED, all within one message.

pub use super::kind::Kind;
use crate::{Actuator, Motion, ResourceError};
use actix::prelude::*;
use std::sync::Arc;
use tokio::sync::oneshot;
use tracing::{debug, error, info, warn};

/// Work to do on a driver inside its actor.
pub type DriverFn<K, R> =
    Box<dyn FnOnce(&mut <K as Kind>::Driver) -> Result<R, ResourceError> + Send>;

/// Runs a closure on the driver and answers with its result: for reads and
/// for commands that do not touch motion.
pub struct Call<K: Kind, R>(pub DriverFn<K, R>);

impl<K: Kind, R: 'static> Message for Call<K, R> {
    type Result = Result<R, ResourceError>;
}

/// Starts a command that changes motion; supersedes any motion in flight.
pub struct Move<K: Kind> {
    /// The API method, for logs and for the superseded caller's error.
    pub command: &'static str,
    /// Starts the motion on the driver.
    pub start: DriverFn<K, Motion>,
}

/// The answer to a [`Move`]: the motion's id and where its outcome arrives.
pub struct Ticket {
    /// Identifies the motion, for [`Abandon`].
    pub id: u64,
    /// Resolves when the motion ends, is stopped or fails.
    pub done: oneshot::Receiver<Result<(), ResourceError>>,
}

impl<K: Kind> Message for Move<K> {
    type Result = Result<Ticket, ResourceError>;
}

/// The caller of motion `id` went away (cancelled or timed out): a motion
/// nobody waits for must not run on, so stop it if it is still the current one.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Abandon(pub u64);

/// Stops all motion now. Sent by the Stop RPC, StopAll, shutdown and (later)
/// session expiry; `cause` says which, for logs and the aborted caller.
#[derive(Message, Clone)]
#[rtype(result = "Result<(), ResourceError>")]
pub struct Stop {
    /// Why the stop was sent.
    pub cause: &'static str,
}

struct InFlight {
    id: u64,
    command: &'static str,
    reply: oneshot::Sender<Result<(), ResourceError>>,
    timer: SpawnHandle,
}

/// The actor that owns one resource's driver.
pub struct ResourceActor<K: Kind> {
    name: Arc<str>,
    driver: Box<K::Driver>,
    motion: Option<InFlight>,
    next_id: u64,
}

impl<K: Kind> ResourceActor<K> {
    /// An actor for `driver`, serving the resource `name` (a full name).
    pub fn new(name: Arc<str>, driver: Box<K::Driver>) -> Self {
        Self {
            name,
            driver,
            motion: None,
            next_id: 0,
        }
    }
}

impl<K: Kind> Actor for ResourceActor<K> {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Context<Self>) {
        debug!(resource = %self.name, "resource actor started");
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        debug!(resource = %self.name, "resource actor stopped");
    }
}

/// The resource was taken out of the robot: the actor stops and drops its
/// driver, whoever still holds a handle (their calls then answer
/// UNAVAILABLE).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Close;

impl<K: Kind> Handler<Close> for ResourceActor<K> {
    type Result = ();

    fn handle(&mut self, _: Close, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

impl<K: Kind, R: 'static> Handler<Call<K, R>> for ResourceActor<K> {
    type Result = Result<R, ResourceError>;

    fn handle(&mut self, call: Call<K, R>, _: &mut Context<Self>) -> Self::Result {
        let driver = &mut *self.driver;
        guarded(&self.name, "a call", || (call.0)(driver))
    }
}

/// Runs one driver call. A panic becomes an INTERNAL error: one bad call
/// must not kill the actor, or its Stop would have nowhere to go.
fn guarded<T>(
    name: &str,
    what: &str,
    call: impl FnOnce() -> Result<T, ResourceError>,
) -> Result<T, ResourceError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)).unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        error!(resource = %name, call = what, panic = %why, "driver panicked; the resource keeps serving");
        Err(ResourceError::Internal(format!(
            "the driver of {name} failed in {what}: {why}"
        )))
    })
}

impl<K: Kind> ResourceActor<K>
where
    K::Driver: Actuator,
{
    /// Ends the motion in flight, if any, answering its caller with `outcome`.
    fn finish(&mut self, ctx: &mut Context<Self>, outcome: Result<(), ResourceError>) {
        if let Some(m) = self.motion.take() {
            ctx.cancel_future(m.timer);
            let _ = m.reply.send(outcome);
        }
    }

    /// Ends the motion in flight because `cause` superseded it.
    fn interrupt(&mut self, ctx: &mut Context<Self>, cause: &str) {
        if let Some(m) = &self.motion {
            info!(resource = %self.name, command = m.command, cause, "motion interrupted");
            let msg = format!("{} on {} was interrupted by {cause}", m.command, self.name);
            self.finish(ctx, Err(ResourceError::Aborted(msg)));
        }
    }

    fn stop_driver(&mut self, cause: &str) -> Result<(), ResourceError> {
        let driver = &mut *self.driver;
        guarded(&self.name, "stop", || driver.stop()).inspect_err(|e| {
            warn!(resource = %self.name, cause, error = %e, "driver failed to stop");
        })
    }

    fn arm(&mut self, ctx: &mut Context<Self>, after: std::time::Duration) -> SpawnHandle {
        ctx.run_later(after, |act, ctx| act.check(ctx))
    }

    /// The motion timer fired: let the driver finish or ask for another look.
    fn check(&mut self, ctx: &mut Context<Self>) {
        let driver = &mut *self.driver;
        match guarded(&self.name, "check_motion", || driver.check_motion()) {
            Ok(Motion::Done) => self.finish(ctx, Ok(())),
            Ok(Motion::CheckAfter(after)) => {
                let timer = self.arm(ctx, after);
                if let Some(m) = self.motion.as_mut() {
                    m.timer = timer;
                }
            }
            Err(e) => {
                let _ = self.stop_driver("motion check failed");
                self.finish(ctx, Err(e));
            }
        }
    }
}

impl<K: Kind> Handler<Move<K>> for ResourceActor<K>
where
    K::Driver: Actuator,
{
    type Result = Result<Ticket, ResourceError>;

    fn handle(&mut self, msg: Move<K>, ctx: &mut Context<Self>) -> Self::Result {
        let interrupted = self.motion.is_some();
        self.interrupt(ctx, msg.command);
        let driver = &mut *self.driver;
        let motion = match guarded(&self.name, msg.command, || (msg.start)(driver)) {
            Ok(motion) => motion,
            Err(e) => {
                // The interrupted motion has lost its timer: it must not run
                // on. A driver that failed may be in any state: stop it too.
                if interrupted || matches!(e, ResourceError::Internal(_)) {
                    let _ = self.stop_driver("a failed command");
                }
                return Err(e);
            }
        };
        self.next_id += 1;
        let id = self.next_id;
        let (reply, done) = oneshot::channel();
        match motion {
            Motion::Done => {
                let _ = reply.send(Ok(()));
            }
            Motion::CheckAfter(after) => {
                let timer = self.arm(ctx, after);
                self.motion = Some(InFlight {
                    id,
                    command: msg.command,
                    reply,
                    timer,
                });
            }
        }
        Ok(Ticket { id, done })
    }
}

impl<K: Kind> Handler<Stop> for ResourceActor<K>
where
    K::Driver: Actuator,
{
    type Result = Result<(), ResourceError>;

    fn handle(&mut self, msg: Stop, ctx: &mut Context<Self>) -> Self::Result {
        self.interrupt(ctx, msg.cause);
        self.stop_driver(msg.cause)
    }
}

impl<K: Kind> Handler<Abandon> for ResourceActor<K>
where
    K::Driver: Actuator,
{
    type Result = ();

    fn handle(&mut self, Abandon(id): Abandon, ctx: &mut Context<Self>) {
        if self.motion.as_ref().is_some_and(|m| m.id == id) {
            let command = self.motion.as_ref().map_or("", |m| m.command);
            info!(resource = %self.name, command, "caller went away; stopping its motion");
            self.finish(ctx, Err(ResourceError::Aborted("caller went away".into())));
            let _ = self.stop_driver("caller went away");
        }
    }
}
