//! The `PeerActor`: one WebRTC peer connection, from the offer to its close.
//!
//! It owns the connection and the gRPC server on its data channel. The
//! connection's callbacks only send it messages (through a weak address, so
//! they keep nothing alive). It closes the connection when the data channel
//! closes (a client's clean exit: ICE would otherwise linger for seconds
//! with its sockets), when ICE fails, when the client speaks garbage, when
//! it never connects, and when axle shuts down. Closing aborts every call
//! in flight, so a motion waiting on a lost peer is abandoned and stopped;
//! a clean close also ends, at once, the sessions that only this connection
//! heartbeated (see `ConduitClosed`).

use super::channel::ChannelServer;
use crate::sessions::{ConduitClosed, SessionSupervisor};
use actix::prelude::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tracing::{debug, info, warn};
use webrtc::ice_transport::ice_candidate::RTCIceCandidateInit;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState;

/// How long a peer may take from the offer to an open data channel.
pub const CONNECT_DEADLINE: Duration = Duration::from_secs(15);

/// The live peers, by call uuid: for `CallUpdate`, for the limit on peers,
/// and for shutdown.
pub struct Peers {
    by_uuid: Mutex<HashMap<String, Addr<PeerActor>>>,
    /// Told when a peer's client leaves cleanly.
    sessions: Addr<SessionSupervisor>,
}

impl Peers {
    /// No peers yet; their sessions are `sessions`'.
    pub fn new(sessions: Addr<SessionSupervisor>) -> Self {
        Self {
            by_uuid: Mutex::default(),
            sessions,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Addr<PeerActor>>> {
        self.by_uuid.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The peer answering call `uuid`.
    pub fn get(&self, uuid: &str) -> Option<Addr<PeerActor>> {
        self.lock().get(uuid).cloned()
    }

    /// How many peers are live.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub(super) fn insert(&self, uuid: String, peer: Addr<PeerActor>) {
        self.lock().insert(uuid, peer);
    }

    fn remove(&self, uuid: &str) {
        self.lock().remove(uuid);
    }

    /// Closes every peer and waits until each has closed.
    pub async fn close_all(&self, reason: &'static str) {
        let peers: Vec<_> = self.lock().values().cloned().collect();
        futures::future::join_all(peers.iter().map(|p| p.send(Close(reason)))).await;
    }
}

/// One peer connection.
pub struct PeerActor {
    uuid: String,
    peer: String,
    pc: Arc<RTCPeerConnection>,
    server: Option<Arc<ChannelServer>>,
    peers: Arc<Peers>,
    offered: Instant,
    connected: bool,
    /// Counted among the open connections until the peer closes.
    connection: Option<axle_wire::connections::Connection>,
}

impl PeerActor {
    /// A peer for call `uuid` from `peer` (the signaling caller's address).
    pub fn new(
        uuid: String,
        peer: String,
        pc: Arc<RTCPeerConnection>,
        peers: Arc<Peers>,
        connection: axle_wire::connections::Connection,
    ) -> Self {
        Self {
            uuid,
            peer,
            pc,
            server: None,
            peers,
            offered: Instant::now(),
            connected: false,
            connection: Some(connection),
        }
    }

    fn close(&mut self, reason: &str, ctx: &mut Context<Self>) {
        self.peers.remove(&self.uuid);
        // What the connection owned (a remote control's motion) ends now.
        self.connection = None;
        if let Some(server) = self.server.take() {
            server.close();
        }
        let pc = self.pc.clone();
        let uuid = self.uuid.clone();
        let reason = reason.to_owned();
        // Closing sends DTLS close_notify and frees the sockets; the actor is
        // done either way.
        actix::spawn(async move {
            if let Err(e) = pc.close().await {
                debug!(call = %uuid, error = %e, "closing the peer connection");
            }
        });
        info!(call = %self.uuid, peer = %self.peer, reason, "WebRTC peer closed");
        ctx.stop();
    }
}

impl Actor for PeerActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_later(CONNECT_DEADLINE, |actor, ctx| {
            if !actor.connected {
                warn!(call = %actor.uuid, peer = %actor.peer, "WebRTC peer did not connect within {CONNECT_DEADLINE:?}");
                actor.close("never connected", ctx);
            }
        });
    }
}

/// The data channel's gRPC server, once built.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Serve(pub Arc<ChannelServer>);

impl Handler<Serve> for PeerActor {
    type Result = ();

    fn handle(&mut self, msg: Serve, _: &mut Context<Self>) {
        self.server = Some(msg.0);
    }
}

/// A candidate the caller trickled (`CallUpdate`).
#[derive(Message)]
#[rtype(result = "()")]
pub struct RemoteCandidate(pub RTCIceCandidateInit);

impl Handler<RemoteCandidate> for PeerActor {
    type Result = ();

    fn handle(&mut self, msg: RemoteCandidate, ctx: &mut Context<Self>) {
        let pc = self.pc.clone();
        let uuid = self.uuid.clone();
        // The caller's `<uuid>.local` names cannot be resolved without mDNS;
        // ICE learns those addresses from the caller's checks instead.
        ctx.spawn(
            async move {
                if let Err(e) = pc.add_ice_candidate(msg.0).await {
                    debug!(call = %uuid, error = %e, "remote candidate not added");
                }
            }
            .into_actor(self),
        );
    }
}

/// What happened to the connection.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub enum Event {
    /// The data channel opened: the call is connected.
    Opened,
    /// The data channel closed (the caller left cleanly, or SCTP broke).
    ChannelClosed,
    /// The connection's state changed.
    State(RTCPeerConnectionState),
    /// The caller sent something that is not the protocol.
    Garbage(String),
}

impl Handler<Event> for PeerActor {
    type Result = ();

    fn handle(&mut self, event: Event, ctx: &mut Context<Self>) {
        use RTCPeerConnectionState as S;
        match event {
            Event::Opened => {
                self.connected = true;
                info!(call = %self.uuid, peer = %self.peer, took_ms = self.offered.elapsed().as_millis() as u64, "WebRTC peer connected");
            }
            Event::ChannelClosed => {
                // The client left: sessions only it heartbeated end now.
                let call = self.uuid.as_str().into();
                self.peers.sessions.do_send(ConduitClosed(call));
                self.close("data channel closed", ctx);
            }
            Event::State(S::Failed) => self.close("ICE failed: the peer is unreachable", ctx),
            Event::State(S::Closed) => self.close("connection closed", ctx),
            Event::State(S::Disconnected) => {
                debug!(call = %self.uuid, "WebRTC peer disconnected; waiting for ICE to recover or fail")
            }
            Event::State(_) => {}
            Event::Garbage(why) => {
                warn!(call = %self.uuid, peer = %self.peer, "{why}; closing the connection");
                self.close("protocol violation", ctx);
            }
        }
    }
}

/// Close the connection.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Close(pub &'static str);

impl Handler<Close> for PeerActor {
    type Result = ();

    fn handle(&mut self, msg: Close, ctx: &mut Context<Self>) {
        self.close(msg.0, ctx);
    }
}
