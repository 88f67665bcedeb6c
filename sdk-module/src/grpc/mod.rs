//! The resource APIs as gRPC services: one file per service, each a thin
//! adapter from protobuf messages to a driver's calls through its actor.
//! axle serves them for its built-in resources and a module for its own
//! ([`add_services`] for both); each finds resources by name through
//! [`Resources`].

mod arm;
mod base;
mod button;
mod camera;
pub mod convert;
mod data_manager;
mod encoder;
mod gantry;
mod generic;
mod gripper;
pub mod input_controller;
mod motor;
mod movement_sensor;
mod power_sensor;
mod sensor;
mod servo;
mod switch;

pub use base::BaseApi;
pub use input_controller::InputControllerApi;
pub use motor::MotorApi;

use crate::host::{BaseHandle, Handle, InputControllerHandle, Kind, MotorHandle, kind};
use axle_proto::common;
use std::sync::Arc;
use tonic::service::Routes;
use tonic::{Request, Response, Status};

/// Where the services find resources by name. A name that does not resolve
/// answers with the status to return (NOT_FOUND, with what was asked for).
pub trait Resources: Send + Sync + 'static {
    /// The resource `name` of API `K`.
    fn find<K: Kind>(&self, name: &str) -> Result<K::Handle, Status>;

    /// The motor `name`.
    fn motor(&self, name: &str) -> Result<MotorHandle, Status> {
        self.find::<kind::Motor>(name)
    }
    /// The base `name`.
    fn base(&self, name: &str) -> Result<BaseHandle, Status> {
        self.find::<kind::Base>(name)
    }
    /// The input controller `name`.
    fn input_controller(&self, name: &str) -> Result<InputControllerHandle, Status> {
        self.find::<kind::InputController>(name)
    }
}

/// Every API these services serve: (type, subtype, gRPC service).
pub const SERVED_APIS: &[(&str, &str, &str)] = &[
    ("component", "motor", "viam.component.motor.v1.MotorService"),
    ("component", "base", "viam.component.base.v1.BaseService"),
    (
        "component",
        "input_controller",
        "viam.component.inputcontroller.v1.InputControllerService",
    ),
    ("component", "servo", "viam.component.servo.v1.ServoService"),
    (
        "component",
        "gripper",
        "viam.component.gripper.v1.GripperService",
    ),
    ("component", "arm", "viam.component.arm.v1.ArmService"),
    (
        "component",
        "gantry",
        "viam.component.gantry.v1.GantryService",
    ),
    (
        "component",
        "encoder",
        "viam.component.encoder.v1.EncoderService",
    ),
    (
        "component",
        "sensor",
        "viam.component.sensor.v1.SensorService",
    ),
    (
        "component",
        "movement_sensor",
        "viam.component.movementsensor.v1.MovementSensorService",
    ),
    (
        "component",
        "power_sensor",
        "viam.component.powersensor.v1.PowerSensorService",
    ),
    (
        "component",
        "camera",
        "viam.component.camera.v1.CameraService",
    ),
    (
        "component",
        "button",
        "viam.component.button.v1.ButtonService",
    ),
    (
        "component",
        "switch",
        "viam.component.switch.v1.SwitchService",
    ),
    (
        "component",
        "generic",
        "viam.component.generic.v1.GenericService",
    ),
    (
        "service",
        "generic",
        "viam.service.generic.v1.GenericService",
    ),
    (
        "service",
        "data_manager",
        "viam.service.datamanager.v1.DataManagerService",
    ),
    (
        "service",
        "base_remote_control",
        "viam.service.baseremotecontrol.v1.BaseRemoteControlService",
    ),
];

/// `routes` plus every resource API's service, finding resources in `r`.
pub fn add_services<R: Resources>(routes: Routes, r: Arc<R>) -> Routes {
    use axle_proto::viam::component as c;
    routes
        .add_service(c::motor::v1::motor_service_server::MotorServiceServer::new(MotorApi(r.clone())))
        .add_service(c::base::v1::base_service_server::BaseServiceServer::new(BaseApi(r.clone())))
        .add_service(
            c::inputcontroller::v1::input_controller_service_server::InputControllerServiceServer::new(
                InputControllerApi(r.clone()),
            ),
        )
        .add_service(servo::server(r.clone()))
        .add_service(gripper::server(r.clone()))
        .add_service(arm::server(r.clone()))
        .add_service(gantry::server(r.clone()))
        .add_service(encoder::server(r.clone()))
        .add_service(sensor::server(r.clone()))
        .add_service(movement_sensor::server(r.clone()))
        .add_service(power_sensor::server(r.clone()))
        .add_service(camera::server(r.clone()))
        .add_service(button::server(r.clone()))
        .add_service(switch::server(r.clone()))
        .add_service(generic::component_server(r.clone()))
        .add_service(generic::service_server(r.clone()))
        .add_service(generic::remote_control_server(r.clone()))
        .add_service(data_manager::server(r))
}

type Reply<T> = Result<Response<T>, Status>;

/// DoCommand, for any API whose callers hold a plain handle.
async fn do_command<K, R>(
    r: &R,
    req: Request<common::DoCommandRequest>,
) -> Reply<common::DoCommandResponse>
where
    K: Kind<Handle = Handle<K>>,
    R: Resources,
{
    let req = req.into_inner();
    let command = convert::from_struct(req.command);
    do_command_response(r.find::<K>(&req.name)?.do_command(command).await?)
}

/// GetStatus, for any API whose callers hold a plain handle.
async fn get_status<K, R>(
    r: &R,
    req: Request<common::GetStatusRequest>,
) -> Reply<common::GetStatusResponse>
where
    K: Kind<Handle = Handle<K>>,
    R: Resources,
{
    status_response(r.find::<K>(&req.get_ref().name)?.status().await?)
}

/// GetGeometries: no model reports geometry yet, so the answer is empty
/// once the resource is found.
fn get_geometries<K: Kind, R: Resources>(
    r: &R,
    req: Request<common::GetGeometriesRequest>,
) -> Reply<common::GetGeometriesResponse> {
    r.find::<K>(&req.get_ref().name)?;
    no_geometries()
}

fn do_command_response(doc: crate::Document) -> Reply<common::DoCommandResponse> {
    Ok(Response::new(common::DoCommandResponse {
        result: Some(convert::to_struct(doc)),
    }))
}

fn no_geometries() -> Reply<common::GetGeometriesResponse> {
    Ok(Response::new(common::GetGeometriesResponse {
        geometries: Vec::new(),
    }))
}

fn status_response(doc: crate::Document) -> Reply<common::GetStatusResponse> {
    Ok(Response::new(common::GetStatusResponse {
        result: Some(convert::to_struct(doc)),
    }))
}

/// GetKinematics: a model's SVA JSON.
fn kinematics_response(data: Vec<u8>) -> Reply<common::GetKinematicsResponse> {
    Ok(Response::new(common::GetKinematicsResponse {
        format: common::KinematicsFileFormat::Sva as i32,
        kinematics_data: data,
        ..Default::default()
    }))
}

/// GetReadings.
fn readings_response(doc: crate::Document) -> Reply<common::GetReadingsResponse> {
    Ok(Response::new(common::GetReadingsResponse {
        readings: convert::readings(doc),
    }))
}
