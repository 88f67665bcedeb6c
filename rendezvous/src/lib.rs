//! axle-rendezvous (`axle signal`): a signaling server that robots behind NAT
//! connect out to and clients dial.
//!
//! - [`config`]: the rendezvous's JSON config: hosts, their secrets and
//!   callers' keys, ICE servers, TURN.
//! - [`admission`]: who may call or answer for which host.
//! - [`queue`]: the call queue that pairs a caller's offer with an answer
//!   worker of a robot registered for the offer's host. The rendezvous
//!   talks to it through the [`CallQueue`] trait only, so a shared store
//!   can back several rendezvous instances later.
//! - [`server`]: `SignalingService` over a call queue: `Call`, `CallUpdate`
//!   and `OptionalWebRTCConfig` for clients, `Answer` for robots.
//! - [`turn`]: time-limited TURN credentials for coturn.
//! - [`serve`](mod@serve): the listener, its gate and keepalives.
//!
//! A robot's side of the link is the runtime's `webrtc::uplink`; both
//! speak [`axle_wire::signaling`].

pub mod admission;
pub mod config;
pub mod queue;
pub mod serve;
pub mod server;
pub mod turn;

pub use admission::{Admission, ROBOT_SECRET};
pub use config::RendezvousConfig;
pub use queue::{
    AnswererEnd, CallQueue, CallerEnd, FromAnswerer, FromCaller, MemoryQueue, Offer, QueueError,
    Registration,
};
pub use serve::serve;
pub use server::Rendezvous;
