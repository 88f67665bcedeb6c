//! The gRPC face of the robot. The resource services are shared with module
//! processes and live in `axle_sdk_module::grpc`; this adds the robot-wide
//! service, the request reading the layers share, and the server.

mod last_users;
pub mod local;
pub mod operations;
mod reflection;
mod robot;
pub mod route;
mod server;

pub use server::{Listeners, Served, ShutdownSwitch, call_service, serve};
