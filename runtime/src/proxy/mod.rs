//! Resources served elsewhere: by a module's process or by a remote part.
//! Each is a [`ProxyActor`] here, which sessions, StopAll and shutdown stop
//! like a built-in resource, and the request path's router
//! (`grpc/route.rs`) sends their calls on.
//!
//! - [`actor`]: the proxy actor, its link, and forwarding.
//! - [`forwarder`]: the bare HTTP/2 connection calls to a module go on.

pub mod actor;
pub mod forwarder;

pub use actor::{Link, Proxied, ProxyActor, ProxyHandle, Route};
