//! The resource APIs as gRPC services: one file per service, each a thin
//! adapter from protobuf messages to a resource handle's typed calls. axle
//! serves them for its built-in resources and a module for its own; each
//! finds resources by name through [`Resources`].

mod base;
pub mod convert;
mod input_controller;
mod motor;

pub use base::BaseApi;
pub use input_controller::InputControllerApi;
pub use motor::MotorApi;

use crate::host::{BaseHandle, InputControllerHandle, MotorHandle};
use axle_proto::common;
use tonic::{Response, Status};

/// Where the services find resources by name. A name that does not resolve
/// answers with the status to return (NOT_FOUND, with what was asked for).
pub trait Resources: Send + Sync + 'static {
    /// The motor `name`.
    fn motor(&self, name: &str) -> Result<MotorHandle, Status>;
    /// The base `name`.
    fn base(&self, name: &str) -> Result<BaseHandle, Status>;
    /// The input controller `name`.
    fn input_controller(&self, name: &str) -> Result<InputControllerHandle, Status>;
}

fn do_command_response(
    doc: crate::Document,
) -> Result<Response<common::DoCommandResponse>, Status> {
    Ok(Response::new(common::DoCommandResponse {
        result: Some(convert::to_struct(doc)),
    }))
}

/// GetGeometries: no model reports geometry yet, so the answer is empty.
fn no_geometries() -> Result<Response<common::GetGeometriesResponse>, Status> {
    Ok(Response::new(common::GetGeometriesResponse {
        geometries: Vec::new(),
    }))
}

fn status_response(doc: crate::Document) -> Result<Response<common::GetStatusResponse>, Status> {
    Ok(Response::new(common::GetStatusResponse {
        result: Some(convert::to_struct(doc)),
    }))
}
