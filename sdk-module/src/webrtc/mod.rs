//! WebRTC as Viam clients speak it, shared by axle's answerer and the Rust
//! client's dialer.
//!
//! - [`sdp`]: session descriptions travel as base64 of JSON.
//! - [`frames`]: gRPC over a data channel: messages split into packets of
//!   at most [`frames::MAX_PACKET_DATA`] bytes, reassembled on the far side;
//!   metadata to and from HTTP headers.
//! - [`engine`]: the webrtc-rs settings every peer connection uses.
//! - [`dial`] and [`client`]: the Rust client's side: signaling as the
//!   caller, and calls over the data channel as a tower service.

pub mod client;
pub mod dial;
pub mod engine;
pub mod frames;
pub mod sdp;

pub use client::ClientChannel;
pub use dial::{DialError, dial};

/// The negotiated data channel that carries gRPC frames.
pub const DATA_CHANNEL_ID: u16 = 0;
/// The negotiated data channel reserved for renegotiation (unused by axle).
pub const NEGOTIATION_CHANNEL_ID: u16 = 1;
