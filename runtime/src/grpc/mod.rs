//! The gRPC face of the robot. The resource services are shared with module
//! processes and live in `axle_sdk_module::grpc`; this adds the robot-wide
//! service, the request reading the layers share, and the server.

pub mod descriptors;
mod last_users;
pub mod local;
pub mod malformed;
pub mod named;
mod reflection;
mod robot;
mod server;

pub use server::{Listeners, Served, call_service, load_tls, serve};
