//! Sessions: the robot moves only while the client driving it is present.
//!
//! A client starts a session, heartbeats it, and tags its safety-monitored
//! calls (SetPower, GoFor, MoveStraight, ...) with the session id in the
//! `viam-sid` header. Each tagged call makes its session the resource's *last
//! user*. When a session goes a heartbeat window without a heartbeat or a
//! monitored call, it expires, and every resource it was the last user of
//! gets `Stop`.
//!
//! - [`table`]: the session table, which the request path renews directly
//!   (a heartbeat is a lookup and a deadline move, no actor round trip).
//! - [`heartbeat`]: the layer that answers SendSessionHeartbeat right
//!   behind authentication, from the table.
//! - [`supervisor`]: the `SessionSupervisor` actor, which starts sessions,
//!   expires them and sends the stops. "What happens when a session
//!   expires" is `supervisor::expire`.
//! - `timer`: the precise timer that wakes the supervisor at the earliest
//!   deadline.
//! - [`layer`]: the tower layer that checks `viam-sid` on monitored calls,
//!   before they reach a resource.

pub mod heartbeat;
pub mod layer;
pub mod supervisor;
pub mod table;
mod timer;

pub use heartbeat::HeartbeatLayer;
pub use layer::SessionLayer;
pub use supervisor::{ConduitClosed, SessionSupervisor};
pub use table::SessionTable;

/// A handle on the sessions: the supervisor, and the table that the
/// request path renews directly.
#[derive(Clone)]
pub struct Sessions {
    /// Starts sessions, expires them, stops what they drove.
    pub supervisor: actix::Addr<SessionSupervisor>,
    /// Every live session.
    pub table: Arc<SessionTable>,
}

impl Sessions {
    /// Starts a supervisor. Fails only if the OS refuses a timer.
    pub fn start(config: crate::config::SessionsConfig) -> std::io::Result<Self> {
        use actix::Actor;
        let supervisor = SessionSupervisor::new(config)?;
        let table = supervisor.table();
        Ok(Self {
            supervisor: supervisor.start(),
            table,
        })
    }
}

use actix::MailboxError;
use std::sync::Arc;
use tonic::Status;

/// The answer when the supervisor's mailbox is closed: only during shutdown.
pub fn supervisor_gone(_: MailboxError) -> Status {
    Status::unavailable("the session supervisor is not running; axle is shutting down")
}
