//! What a robot and a rendezvous say to each other, beyond the protos: the
//! credential type a robot proves itself with, the events an answer is made
//! of, and the ICE servers as signaling hands them out.

use crate::settings::IceServer;
use axle_proto::webrtc::{IceCandidate, IceServer as WireIceServer, WebRtcConfig};

/// The credential type a robot authenticates to a rendezvous with.
pub const ROBOT_SECRET: &str = "robot-secret";

/// From the answering robot to the caller.
#[derive(Debug, Clone, PartialEq)]
pub enum FromAnswerer {
    /// The answer SDP (base64 of JSON).
    Init(String),
    /// An ICE candidate.
    Candidate(IceCandidate),
    /// The answerer has sent everything.
    Done,
    /// The answerer gave up, and why.
    Error(String),
}

/// The ICE servers of a config, as signaling hands them to callers (and,
/// from a rendezvous, to robots).
pub fn webrtc_config(servers: &[IceServer]) -> WebRtcConfig {
    WebRtcConfig {
        additional_ice_servers: servers
            .iter()
            .map(|s| WireIceServer {
                urls: s.urls.clone(),
                username: s.username.clone(),
                credential: s.credential.clone(),
            })
            .collect(),
        disable_trickle: false,
    }
}

/// The host part of an `rpc-host` value, without a port.
pub fn host_of(authority: &str) -> &str {
    match authority.rsplit_once(':') {
        Some((host, port)) if port.parse::<u16>().is_ok() => host,
        _ => authority,
    }
}
