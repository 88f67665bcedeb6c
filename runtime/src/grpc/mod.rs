//! The gRPC face of the robot: one file per service, each a thin adapter from
//! protobuf messages to a resource handle's typed calls.

mod base;
mod convert;
mod input_controller;
mod motor;
mod robot;
mod server;

pub use server::{Listeners, serve};

use crate::robot::LookupError;
use axle_proto::common;
use tonic::{Response, Status};

impl From<LookupError> for Status {
    fn from(e: LookupError) -> Self {
        Status::not_found(e.to_string())
    }
}

fn do_command_response(
    doc: axle_sdk_module::Document,
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

fn status_response(
    doc: axle_sdk_module::Document,
) -> Result<Response<common::GetStatusResponse>, Status> {
    Ok(Response::new(common::GetStatusResponse {
        result: Some(convert::to_struct(doc)),
    }))
}
