//! The `RemoteControl` actor: one per `base_remote_control` service.
//!
//! Events arrive on one stream, in the order the controller published them,
//! and are handled one at a time, so a later event is never overtaken by an
//! earlier one; an event older than the newest seen for its control and
//! type is dropped. Each event that changes the throttle by more than 5 %
//! becomes one base command, sent in order.
//!
//! Every motion has an owner, the one who sent the event that caused it:
//! - a client's session: it becomes the base's last user, so the session
//!   supervisor stops the base when the session expires;
//! - a client's connection (a client without a session): the base stops
//!   when that connection closes, or stops answering keepalives;
//! - the controller itself (a gamepad, a scripted fake): the base stops on
//!   Connect or Disconnect, when the controller vanishes, and on the
//!   deadman.

use super::base::{BaseTarget, Command};
use super::config::RemoteControlConfig;
use super::modes::{Mapper, Throttle};
use crate::proxy::ProxyHandle;
use crate::sessions::supervisor::{MonitoredCall, SessionSupervisor};
use actix::prelude::*;
use axle_sdk_module::grpc::input_controller::from_proto;
use axle_sdk_module::host::caller::Caller;
use axle_sdk_module::input::Published;
use axle_sdk_module::{Document, Vector3};
use axle_wire::Owner;
use axle_wire::connections::{self, ConnId};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tracing::{debug, info, warn};

/// A change of any throttle component smaller than this is not sent.
const SIMILAR: f64 = 0.05;

/// Who owns the motion under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MotionOwner {
    /// A client's session.
    Session(Arc<str>),
    /// A client's connection (it sent no session).
    Connection(ConnId),
    /// The controller's own events.
    Controller,
}

impl MotionOwner {
    fn of(by: Option<&Caller>) -> Self {
        match by {
            Some(Caller {
                session: Some(s), ..
            }) => Self::Session(s.clone()),
            Some(Caller {
                connection: Some(c),
                ..
            }) => Self::Connection(ConnId::from_raw(*c)),
            _ => Self::Controller,
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Session(s) => format!("session {s}"),
            Self::Connection(c) => format!("connection {c}"),
            Self::Controller => "the controller".into(),
        }
    }
}

/// Where a remote control's events come from.
pub enum Events {
    /// A built-in controller's sink.
    Local(tokio::sync::broadcast::Receiver<Published>),
    /// A controller served by a module or a sub-part: StreamEvents through
    /// its proxy. The module or the link owns the motion its events cause:
    /// the stream ending (a crash, a lost link) stops the base.
    Proxied(ProxyHandle),
}

/// How long to wait before opening a proxied controller's stream again.
const RESUBSCRIBE: std::time::Duration = std::time::Duration::from_millis(500);

/// What the service shows in DoCommand `status` and GetStatus.
pub type SharedStatus = Arc<Mutex<Document>>;

/// The actor.
pub struct RemoteControl {
    name: Arc<str>,
    config: RemoteControlConfig,
    base: BaseTarget,
    local: Option<BroadcastStream<Published>>,
    proxied: Option<ProxyHandle>,
    sessions: Option<Addr<SessionSupervisor>>,
    mapper: Mapper,
    /// The throttle last sent to the base.
    sent: Throttle,
    owner: Option<MotionOwner>,
    /// The newest event time seen per (control, event type).
    newest: HashMap<(String, String), SystemTime>,
    last_event: Option<SystemTime>,
    stale: u64,
    last_stop: Option<String>,
    deadman: Option<SpawnHandle>,
    watching: Option<SpawnHandle>,
    status: SharedStatus,
}

impl RemoteControl {
    /// A remote control of `base` from the events of `events`.
    pub fn new(
        name: Arc<str>,
        config: RemoteControlConfig,
        base: BaseTarget,
        events: Events,
        sessions: Option<Addr<SessionSupervisor>>,
    ) -> Self {
        let (local, proxied) = match events {
            Events::Local(rx) => (Some(BroadcastStream::new(rx)), None),
            Events::Proxied(p) => (None, Some(p)),
        };
        Self {
            name,
            mapper: Mapper::new(config.mode),
            config,
            base,
            local,
            proxied,
            sessions,
            sent: Throttle::default(),
            owner: None,
            newest: HashMap::new(),
            last_event: None,
            stale: 0,
            last_stop: None,
            deadman: None,
            watching: None,
            status: Arc::default(),
        }
    }

    /// The status the service shows; the actor keeps it current.
    pub fn status(&self) -> SharedStatus {
        self.status.clone()
    }

    /// Stops the base because `why`, and forgets every held input: the
    /// next motion needs a fresh event.
    fn safety_stop(&mut self, ctx: &mut Context<Self>, why: String) {
        if let Some(h) = self.deadman.take() {
            ctx.cancel_future(h);
        }
        if let Some(h) = self.watching.take() {
            ctx.cancel_future(h);
        }
        let owner = self.owner.take().map(|o| o.describe());
        warn!(service = %self.name, base = %self.base.name(), reason = %why, owner = owner.as_deref().unwrap_or("none"), "remote control stopped the base");
        self.mapper.reset();
        self.sent = Throttle::default();
        self.last_stop = Some(why);
        let stop = self.base.stop();
        // Not on this actor's context: a retiring actor stops right after,
        // and a dropped request is a message actix never delivers.
        actix::spawn(async move {
            if let Err(e) = stop.await {
                warn!(error = %e, "the base did not confirm a remote control stop");
            }
        });
        self.publish_status();
    }

    fn handle_event(&mut self, ctx: &mut Context<Self>, published: Published) {
        let Published { event, by } = published;
        let key = (event.control.clone(), event.event.clone());
        if self.newest.get(&key).is_some_and(|t| event.time < *t) {
            self.stale += 1;
            debug!(service = %self.name, control = %event.control, "stale event dropped");
            return;
        }
        self.newest.insert(key, event.time);
        self.last_event = Some(event.time);
        if matches!(event.event.as_str(), "Connect" | "Disconnect") {
            if !self.sent.is_zero() || self.owner.is_some() {
                self.safety_stop(
                    ctx,
                    format!("the controller sent {} on {}", event.event, event.control),
                );
            }
            return;
        }
        let Some(throttle) = self.mapper.apply(&event) else {
            return;
        };
        let owner = MotionOwner::of(by.as_ref());
        let new_owner = self.owner.as_ref() != Some(&owner);
        let stopping = throttle.is_zero() && !self.sent.is_zero();
        let changed = !throttle.similar(&self.sent, SIMILAR);
        if new_owner {
            self.take_ownership(ctx, owner);
        }
        if new_owner || stopping || changed {
            self.command(throttle);
        }
        self.arm_deadman(ctx, &throttle);
        self.publish_status();
    }

    /// Makes `owner` the owner of the base's motion: its session the base's
    /// last user, or its connection watched.
    fn take_ownership(&mut self, ctx: &mut Context<Self>, owner: MotionOwner) {
        if let Some(h) = self.watching.take() {
            ctx.cancel_future(h);
        }
        let sid = match &owner {
            MotionOwner::Session(s) => Some(s.to_string()),
            _ => None,
        };
        // A session owner becomes the base's last user; any other owner
        // leaves the base with none, so an older session's expiry does not
        // stop a motion it no longer owns.
        if let Some(sessions) = &self.sessions {
            sessions.do_send(MonitoredCall {
                sid,
                owner: Owner::Modules,
                via: Default::default(),
                resource: self.base.stoppable(),
            });
        }
        if let MotionOwner::Connection(id) = owner {
            let closed = connections::closed(id);
            let watch = closed
                .into_actor(self)
                .map(move |_, act, ctx| act.owner_gone(ctx, MotionOwner::Connection(id)));
            self.watching = Some(ctx.spawn(watch));
        }
        info!(service = %self.name, owner = %owner.describe(), "remote control has a new owner");
        self.owner = Some(owner);
    }

    fn owner_gone(&mut self, ctx: &mut Context<Self>, owner: MotionOwner) {
        self.watching = None;
        if self.owner.as_ref() == Some(&owner) {
            let why = format!("{} closed", owner.describe());
            self.safety_stop(ctx, why);
        }
    }

    /// Sends the base `throttle`: as velocities if the service has maxima,
    /// else as powers. Commands go in order: each is in the base's mailbox
    /// before the next event is taken.
    fn command(&mut self, throttle: Throttle) {
        self.sent = throttle;
        let (l, a) = (throttle.linear, throttle.angular);
        // Throttles are powers in [-1, 1] by construction. A built-in base
        // has the command in its mailbox now, before the next event.
        let command = match self.config.max_velocity {
            Some((mm, deg)) => {
                let scale = |v: Vector3, k: f64| Vector3 {
                    x: v.x * k,
                    y: v.y * k,
                    z: v.z * k,
                };
                Command::Velocity(scale(l, mm), scale(a, deg))
            }
            None => Command::Power(l, a),
        };
        let sent = self.base.send(command);
        let name = self.name.clone();
        actix::spawn(async move {
            if let Err(e) = sent.await {
                warn!(service = %name, error = %e, "the base refused a remote control command");
            }
        });
    }

    /// A non-zero command that hears nothing for `deadman` gets Stop.
    fn arm_deadman(&mut self, ctx: &mut Context<Self>, throttle: &Throttle) {
        if let Some(h) = self.deadman.take() {
            ctx.cancel_future(h);
        }
        let Some(after) = self.config.deadman else {
            return;
        };
        if throttle.is_zero() {
            return;
        }
        self.deadman = Some(ctx.run_later(after, move |act, ctx| {
            act.deadman = None;
            let why = format!("deadman: no event for {} ms", after.as_millis());
            act.safety_stop(ctx, why);
        }));
    }

    /// Opens the proxied controller's event stream, again and again until
    /// it opens.
    fn subscribe(&mut self, ctx: &mut Context<Self>) {
        let Some(proxy) = &self.proxied else {
            return;
        };
        let opening = proxy.stream_events(self.config.mode.controls());
        let opened = opening.into_actor(self).map(|opened, act, ctx| match opened {
            Ok(stream) => {
                info!(service = %act.name, "listening to the controller's events");
                let events = stream.map_while(Result::ok).filter_map(|r| {
                    let event = r.event.map(from_proto)?;
                    Some(Ok(Published { event, by: None }))
                });
                ctx.add_stream(events);
            }
            Err(e) => {
                debug!(service = %act.name, error = %e, "cannot open the controller's events yet");
                ctx.run_later(RESUBSCRIBE, |act, ctx| act.subscribe(ctx));
            }
        });
        ctx.spawn(opened);
    }

    fn publish_status(&self) {
        let t = self.sent;
        let since_epoch = |t: SystemTime| {
            t.duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64())
        };
        let doc = json!({
            "mode": self.config.mode.name(),
            "base": self.config.base,
            "input_controller": self.config.input_controller,
            "command": {
                "linear": [t.linear.x, t.linear.y, t.linear.z],
                "angular": [t.angular.x, t.angular.y, t.angular.z],
                "as": if self.config.max_velocity.is_some() { "SetVelocity" } else { "SetPower" },
            },
            "owner": self.owner.as_ref().map(MotionOwner::describe),
            "last_event_unix": self.last_event.map(since_epoch),
            "stale_events_dropped": self.stale,
            "last_stop": self.last_stop,
            "deadman_ms": self.config.deadman.map(|d| d.as_millis() as u64),
        });
        if let (serde_json::Value::Object(doc), Ok(mut status)) = (doc, self.status.lock()) {
            *status = doc;
        }
    }
}

impl Actor for RemoteControl {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        if let Some(events) = self.local.take() {
            ctx.add_stream(events);
        }
        self.subscribe(ctx);
        self.publish_status();
        info!(service = %self.name, mode = self.config.mode.name(), base = %self.base.name(), "remote control started");
    }
}

impl StreamHandler<Result<Published, BroadcastStreamRecvError>> for RemoteControl {
    fn handle(
        &mut self,
        item: Result<Published, BroadcastStreamRecvError>,
        ctx: &mut Context<Self>,
    ) {
        match item {
            Ok(published) => self.handle_event(ctx, published),
            // Missed events may have held the stop: stop rather than guess.
            Err(BroadcastStreamRecvError::Lagged(n)) => {
                self.safety_stop(ctx, format!("{n} controller events were missed"))
            }
        }
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        match &self.proxied {
            Some(p) => {
                let why = format!("the controller's stream from {} ended", p.via());
                self.safety_stop(ctx, why);
                ctx.run_later(RESUBSCRIBE, |act, ctx| act.subscribe(ctx));
            }
            None => self.safety_stop(ctx, "the controller went away".into()),
        }
    }
}

/// The service is removed or rebuilt: stop the base, then stop.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Retire(pub &'static str);

impl Handler<Retire> for RemoteControl {
    type Result = ();

    fn handle(&mut self, Retire(why): Retire, ctx: &mut Context<Self>) {
        if !self.sent.is_zero() || self.owner.is_some() {
            self.safety_stop(ctx, why.into());
        }
        ctx.stop();
    }
}
