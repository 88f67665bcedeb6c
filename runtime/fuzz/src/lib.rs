//! The fuzz targets' bodies, shared by the `cargo fuzz` binaries and by the
//! smoke test in `runtime/tests/fuzz_smoke.rs`, which runs them over the
//! corpora on stable Rust.
//!
//! - [`config`]: the config parser on any bytes; a config that parses is
//!   also diffed against a running one, as a live edit would be.
//! - [`requests`]: the resource request handlers. The first byte picks a
//!   method, the rest is its request as it would arrive on the wire. Each
//!   call reaches the real services and actors of the built-in rover (fake
//!   motors, base, input controller), bounded to 2 ms so a long motion is
//!   abandoned (and stopped) as a vanished caller's would be. The readers
//!   the gRPC layers run ahead of every service see the same bytes.

use axle_proto::base::base_service_server::BaseService;
use axle_proto::motor::motor_service_server::MotorService;
use axle_proto::{base, common, motor};
use axle_runtime::config::{DEFAULT_ROVER, RobotConfig};
use axle_runtime::internals::{Modules, Registry, Robot, build_config, diff};
use axle_sdk_module::grpc::{BaseApi, MotorApi};
use axle_wire::named::{resource_name, with_name};
use bytes::Bytes;
use prost::Message;
use std::cell::OnceCell;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tonic::Request;

thread_local! {
    static SYSTEM: actix::SystemRunner = actix::System::new();
    static ROBOT: OnceCell<Arc<Robot>> = const { OnceCell::new() };
}

async fn robot() -> Arc<Robot> {
    if let Some(r) = ROBOT.with(|r| r.get().cloned()) {
        return r;
    }
    let config = RobotConfig::parse(DEFAULT_ROVER, "rover").expect("the rover parses");
    let robot = Arc::new(Robot::default());
    build_config(&config, &Registry::builtin(), &Modules::default(), &robot).await;
    ROBOT.with(|r| r.get_or_init(|| robot.clone()).clone())
}

/// Decodes `bytes` as `$req` and calls `$api.$method` with it, bounded.
macro_rules! call {
    ($api:expr, $method:ident, $req:ty, $bytes:expr) => {
        if let Ok(req) = <$req>::decode($bytes) {
            let _ = tokio::time::timeout(Duration::from_millis(2), $api.$method(Request::new(req)))
                .await;
        }
    };
}

async fn one(which: u8, bytes: &[u8]) {
    let robot = robot().await;
    let (m, b) = (MotorApi(robot.clone()), BaseApi(robot));
    match which % 18 {
        0 => call!(m, set_power, motor::SetPowerRequest, bytes),
        1 => call!(m, go_for, motor::GoForRequest, bytes),
        2 => call!(m, go_to, motor::GoToRequest, bytes),
        3 => call!(m, set_rpm, motor::SetRpmRequest, bytes),
        4 => call!(
            m,
            reset_zero_position,
            motor::ResetZeroPositionRequest,
            bytes
        ),
        5 => call!(m, get_position, motor::GetPositionRequest, bytes),
        6 => call!(m, stop, motor::StopRequest, bytes),
        7 => call!(m, is_moving, motor::IsMovingRequest, bytes),
        8 => call!(m, do_command, common::DoCommandRequest, bytes),
        9 => call!(b, move_straight, base::MoveStraightRequest, bytes),
        10 => call!(b, spin, base::SpinRequest, bytes),
        11 => call!(b, set_power, base::SetPowerRequest, bytes),
        12 => call!(b, set_velocity, base::SetVelocityRequest, bytes),
        13 => call!(b, stop, base::StopRequest, bytes),
        14 => call!(b, do_command, common::DoCommandRequest, bytes),
        15 => call!(b, get_properties, base::GetPropertiesRequest, bytes),
        16 => call!(m, is_powered, motor::IsPoweredRequest, bytes),
        _ => call!(m, get_properties, motor::GetPropertiesRequest, bytes),
    }
}

/// Parses `data` as a config file; diffs it against the rover if it parses.
pub fn config(data: &[u8]) {
    let Ok(config) = RobotConfig::from_file_text(data, Path::new("/fuzz/robot.json")) else {
        return;
    };
    if let Ok(running) = RobotConfig::parse(DEFAULT_ROVER, "rover") {
        let _ = diff(&running, &config, &HashMap::new());
    }
}

/// Sends `data` to a resource method (see the module docs).
pub fn requests(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let framed = Bytes::copy_from_slice(rest);
    let _ = resource_name(&framed);
    let _ = with_name(&framed, "renamed");
    SYSTEM.with(|system| system.block_on(one(which, rest)));
}
