//! The ground floor of axle's servers: what the robot, its modules and the
//! rendezvous all stand on, and what depends on none of them.
//!
//! - [`frame`]: gRPC's 5-byte message framing, read with one parser that
//!   enforces one size limit.
//! - [`named`]: a resource request's name, read ahead of its service.
//! - [`descriptors`]: our protos at run time: which method takes one message.
//! - [`caller`]: who a caller is ([`Owner`]), how its call came ([`Via`]),
//!   and its address ([`peer_of`]).
//! - [`connections`]: every client connection, numbered, and when it closes.
//! - [`auth`]: API keys traded for tokens, and the gate in front of a listener.
//! - [`malformed`]: undecodable requests answered INVALID_ARGUMENT.
//! - [`settings`]: the config atoms a robot and a rendezvous read alike
//!   (durations, keys, TLS files, ICE servers, host names).
//! - [`signaling`]: what a robot and a rendezvous say to each other.

pub mod auth;
pub mod caller;
pub mod connections;
pub mod descriptors;
pub mod frame;
pub mod malformed;
pub mod named;
pub mod settings;
pub mod signaling;

pub use caller::{Owner, Via, peer_of};
pub use connections::{ConnId, WebRtcPeer};
