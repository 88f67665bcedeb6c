//! The rendezvous (issue 14, in progress): a signaling server that robots
//! behind NAT connect out to and clients dial.
//!
//! - [`queue`]: the call queue that pairs a caller's offer with an answer
//!   worker of a robot registered for the offer's host. The rendezvous
//!   talks to it through the [`CallQueue`] trait only, so a shared store
//!   can back several rendezvous instances later.
//!
//! - [`server`]: `SignalingService` over a call queue: `Call` and
//!   `CallUpdate` for clients, `Answer` for robots.
//!
//! Not yet here: the `axle signal` command, robots' secrets and callers'
//! keys per host, TURN credentials, and the robot's outbound workers.

pub mod queue;
pub mod server;

pub use queue::{
    AnswererEnd, CallQueue, CallerEnd, FromAnswerer, FromCaller, MemoryQueue, Offer, QueueError,
    Registration,
};
pub use server::Rendezvous;
