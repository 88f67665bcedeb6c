//! axle's runtime: a robot from a JSON config, served over the Viam gRPC
//! API while its sessions keep it safe.
//!
//! The API is small: [`Runtime`] starts a robot from a parsed
//! [`config::RobotConfig`] and shuts it down; [`export`] reads captured
//! data. Everything else is private, on floors that import only downwards
//! (ARCHITECTURE.md draws them; `tests/floors.rs` holds them to it).

mod apis;
mod backoff;
mod browser;
mod builder;
pub mod config;
mod data;
mod grpc;
mod mdns;
mod modules;
mod proxy;
mod reconfigure;
mod registry;
mod remote_control;
mod remotes;
mod resources;
mod robot;
mod runtime;
mod sessions;
mod webrtc;

pub use data::export;
pub use runtime::{DEFAULT_BIND, Options, Runtime, StartError};

/// Not API: what the crate's own benchmarks and fuzz targets reach past
/// [`Runtime`] for. No stability is promised.
#[doc(hidden)]
pub mod internals {
    pub use crate::builder::build_config;
    pub use crate::modules::Modules;
    pub use crate::reconfigure::diff::diff;
    pub use crate::registry::Registry;
    pub use crate::robot::Robot;
    pub use crate::sessions::supervisor::{MonitoredCall, SessionSupervisor, StartSession};
}
