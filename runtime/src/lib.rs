//! axle's runtime: config, registry, builder, resource actors, modules and
//! the gRPC API.

pub mod apis;
pub mod browser;
pub mod builder;
pub mod config;
pub mod data;
pub mod grpc;
pub mod mdns;
pub mod modules;
pub mod proxy;
pub mod reconfigure;
pub mod registry;
pub mod remote_control;
pub mod remotes;
pub mod resources;
pub mod robot;
mod runtime;
pub mod sessions;
pub mod webrtc;

pub use runtime::{DEFAULT_BIND, Options, Runtime, StartError};
