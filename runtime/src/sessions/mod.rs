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
pub use supervisor::{ConduitClosed, SessionError, SessionSupervisor};
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

/// Who a caller is, for sessions: a session belongs to the caller that
/// started it. The authentication layer puts the caller in the request's
/// extensions; unauthenticated callers share the empty entity.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Owner {
    /// A client: the API key id it authenticated with, or "" without auth.
    Entity(Arc<str>),
    /// A module, on the parent socket only axle's user can reach. It passes
    /// on the session of the client whose call it serves, so it may use any.
    Modules,
}

impl Default for Owner {
    fn default() -> Self {
        Self::Entity("".into())
    }
}

impl Owner {
    /// The caller of a request with these extensions.
    pub fn of(extensions: &http::Extensions) -> Self {
        extensions.get::<Self>().cloned().unwrap_or_default()
    }

    /// Whether this caller may heartbeat, resume or drive under a session
    /// that `owner` started.
    pub fn may_use(&self, owner: &Owner) -> bool {
        *self == Owner::Modules || self == owner
    }
}

/// How a call reached axle: the connection it came on, and the WebRTC
/// peer connection (its call uuid) if it came over one.
#[derive(Debug, Clone, Default)]
pub struct Via {
    /// The WebRTC peer connection, if any. A session every heartbeat of
    /// which came over one peer connection ends the moment that connection
    /// closes cleanly: nothing can heartbeat it any more.
    pub conduit: Option<Arc<str>>,
    /// The socket or peer connection, if it is tracked.
    pub conn: Option<crate::connections::ConnId>,
}

impl Via {
    /// How the request with `extensions` came.
    pub fn of(extensions: &http::Extensions) -> Self {
        Self {
            conduit: extensions
                .get::<crate::webrtc::WebRtcPeer>()
                .map(|p| p.call.clone()),
            conn: crate::connections::connection_of(extensions),
        }
    }
}

/// The caller's address, for logs and GetSessions: `ip:port` over TCP,
/// `unix:pid=N` over a Unix socket, `webrtc:ip:port` (the signaling
/// caller's) over a peer connection.
pub fn peer_of(extensions: &http::Extensions) -> String {
    if let Some(peer) = extensions.get::<crate::webrtc::WebRtcPeer>() {
        return peer.peer.to_string();
    }
    if let Some(addr) = crate::connections::tcp_info(extensions).and_then(|i| i.remote_addr()) {
        return addr.to_string();
    }
    match crate::connections::uds_info(extensions)
        .and_then(|i| i.peer_cred)
        .and_then(|c| c.pid())
    {
        Some(pid) => format!("unix:pid={pid}"),
        None => "unknown".into(),
    }
}
