//! axle's runtime: config, registry, builder, resource actors, modules and
//! the gRPC API.

pub mod builder;
pub mod config;
pub mod grpc;
pub mod modules;
pub mod registry;
pub mod resources;
pub mod robot;
pub mod sessions;
