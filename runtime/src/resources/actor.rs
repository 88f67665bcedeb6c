//! `ResourceActor`: the one actor type that owns a driver.
//!
//! Every resource runs as a `ResourceActor<dyn Api>`. The actor serialises
//! calls to the driver, so drivers need no locks. Motions that take time never
//! block the mailbox: the driver returns [`Motion::CheckAfter`], the actor
//! arms a timer, and the caller waits on a oneshot. A `Stop` (or any command
//! that changes motion) cancels the timer, stops the driver and ends the
//! waiting caller with ABORTED, all within one message.

use actix::prelude::*;
use axle_sdk_module::{Actuator, Motion, ResourceError};
use std::sync::Arc;
use tokio::sync::oneshot;
use tracing::{debug, info, warn};

/// Runs a closure on the driver and answers with its result: for reads and
/// for commands that do not touch motion.
pub struct Call<D: ?Sized, R>(pub Box<dyn FnOnce(&mut D) -> Result<R, ResourceError> + Send>);

impl<D: ?Sized + 'static, R: 'static> Message for Call<D, R> {
    type Result = Result<R, ResourceError>;
}

/// Starts a command that changes motion; supersedes any motion in flight.
pub struct Move<D: ?Sized> {
    /// The API method, for logs and for the superseded caller's error.
    pub command: &'static str,
    /// Starts the motion on the driver.
    pub start: Box<dyn FnOnce(&mut D) -> Result<Motion, ResourceError> + Send>,
}

/// The answer to a [`Move`]: the motion's id and where its outcome arrives.
pub struct Ticket {
    /// Identifies the motion, for [`Abandon`].
    pub id: u64,
    /// Resolves when the motion ends, is stopped or fails.
    pub done: oneshot::Receiver<Result<(), ResourceError>>,
}

impl<D: ?Sized + 'static> Message for Move<D> {
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
pub struct ResourceActor<D: ?Sized> {
    name: Arc<str>,
    driver: Box<D>,
    motion: Option<InFlight>,
    next_id: u64,
}

impl<D: ?Sized> ResourceActor<D> {
    /// An actor for `driver`, serving the resource `name` (a full name).
    pub fn new(name: Arc<str>, driver: Box<D>) -> Self {
        Self { name, driver, motion: None, next_id: 0 }
    }
}

impl<D: ?Sized + Send + 'static> Actor for ResourceActor<D> {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Context<Self>) {
        debug!(resource = %self.name, "resource actor started");
    }
}

impl<D: ?Sized + Send + 'static, R: 'static> Handler<Call<D, R>> for ResourceActor<D> {
    type Result = Result<R, ResourceError>;

    fn handle(&mut self, call: Call<D, R>, _: &mut Context<Self>) -> Self::Result {
        (call.0)(&mut self.driver)
    }
}

impl<D: ?Sized + Actuator> ResourceActor<D> {
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
        self.driver.stop().inspect_err(|e| {
            warn!(resource = %self.name, cause, error = %e, "driver failed to stop");
        })
    }

    fn arm(&mut self, ctx: &mut Context<Self>, after: std::time::Duration) -> SpawnHandle {
        ctx.run_later(after, |act, ctx| act.check(ctx))
    }

    /// The motion timer fired: let the driver finish or ask for another look.
    fn check(&mut self, ctx: &mut Context<Self>) {
        match self.driver.check_motion() {
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

impl<D: ?Sized + Actuator> Handler<Move<D>> for ResourceActor<D> {
    type Result = Result<Ticket, ResourceError>;

    fn handle(&mut self, msg: Move<D>, ctx: &mut Context<Self>) -> Self::Result {
        self.interrupt(ctx, msg.command);
        let motion = (msg.start)(&mut self.driver)?;
        self.next_id += 1;
        let id = self.next_id;
        let (reply, done) = oneshot::channel();
        match motion {
            Motion::Done => {
                let _ = reply.send(Ok(()));
            }
            Motion::CheckAfter(after) => {
                let timer = self.arm(ctx, after);
                self.motion = Some(InFlight { id, command: msg.command, reply, timer });
            }
        }
        Ok(Ticket { id, done })
    }
}

impl<D: ?Sized + Actuator> Handler<Stop> for ResourceActor<D> {
    type Result = Result<(), ResourceError>;

    fn handle(&mut self, msg: Stop, ctx: &mut Context<Self>) -> Self::Result {
        self.interrupt(ctx, msg.cause);
        self.stop_driver(msg.cause)
    }
}

impl<D: ?Sized + Actuator> Handler<Abandon> for ResourceActor<D> {
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
