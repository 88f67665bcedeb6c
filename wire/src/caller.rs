//! Who a caller is, and how its call reached this process. Every listener
//! puts this in a request's extensions before any service runs: the gate
//! the [`Owner`], the socket its connect info, a WebRTC peer a
//! [`WebRtcPeer`](crate::connections::WebRtcPeer).

use crate::connections::{self, ConnId, WebRtcPeer};
use std::sync::Arc;

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

    /// The entity's name; empty for modules.
    pub fn entity(&self) -> &str {
        match self {
            Self::Entity(e) => e,
            Self::Modules => "",
        }
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
    pub conn: Option<ConnId>,
}

impl Via {
    /// How the request with `extensions` came.
    pub fn of(extensions: &http::Extensions) -> Self {
        Self {
            conduit: extensions.get::<WebRtcPeer>().map(|p| p.call.clone()),
            conn: connections::connection_of(extensions),
        }
    }
}

/// The caller's address, for logs and GetSessions: `ip:port` over TCP,
/// `unix:pid=N` over a Unix socket, `webrtc:ip:port` (the signaling
/// caller's) over a peer connection.
pub fn peer_of(extensions: &http::Extensions) -> String {
    if let Some(peer) = extensions.get::<WebRtcPeer>() {
        return peer.peer.to_string();
    }
    if let Some(addr) = connections::tcp_info(extensions).and_then(|i| i.remote_addr()) {
        return addr.to_string();
    }
    match connections::uds_info(extensions)
        .and_then(|i| i.peer_cred)
        .and_then(|c| c.pid())
    {
        Some(pid) => format!("unix:pid={pid}"),
        None => "unknown".into(),
    }
}
