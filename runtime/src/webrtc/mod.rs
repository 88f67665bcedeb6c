//! WebRTC: clients reach the robot peer to peer.
//!
//! - [`signaling`]: `SignalingService` on every public listener; each `Call`
//!   gets a [`peer::PeerActor`] that answers it in process.
//! - [`peer`]: the actor owning one peer connection, from offer to close.
//! - [`channel`]: gRPC over the connection's data channel, into the same
//!   service stack as a TCP request.
//! - [`hosts`]: which `rpc-host` values name this part.
//! - [`uplink`]: the outbound link to a rendezvous, whose relayed offers
//!   are answered as local calls are.

pub mod channel;
pub mod hosts;
pub mod peer;
pub mod signaling;
pub mod uplink;

pub use channel::CallService;
pub use hosts::{Hosts, machine_name};
pub use peer::Peers;
pub use signaling::Signaling;
pub use uplink::{LinkStatus, Uplink};
