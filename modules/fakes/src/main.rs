//! `fakes`: serves every fake model axle has built in, as
//! `axle:fake:<api>` (`axle:fake:motor`, `axle:fake:camera`, …): the very
//! drivers, unchanged. It shows that a model moves between built-in and
//! module without change, and it is what the module benchmarks compare
//! against the built-in.

use axle_sdk_module::fake::*;
use axle_sdk_module::host::kind;
use axle_sdk_module::module::{Dependencies, Module, ResourceConfig};
use axle_sdk_module::{AttributeError, Attributes, Motor, ResourceError};
use std::process::ExitCode;

fn validate(c: &ResourceConfig) -> Result<Vec<String>, AttributeError> {
    FakeMotor::build(&c.name, &c.attributes).map(|_| Vec::new())
}

fn build(c: &ResourceConfig, _: &Dependencies) -> Result<Box<dyn Motor>, ResourceError> {
    FakeMotor::build(&c.name, &c.attributes)?
        .into_driver::<kind::Motor>()
        .ok_or_else(|| ResourceError::Internal("the fake motor built something else".into()))
}

fn never(_: &Attributes) -> bool {
    false
}

fn main() -> ExitCode {
    Module::new()
        .motor("axle:fake:motor", validate, build)
        .blocking(FakeMotor::blocks)
        .serve_built::<kind::Base>("axle:fake:base", FakeBase::build)
        .blocking(never)
        .serve_built::<kind::InputController>(
            "axle:fake:input_controller",
            FakeInputController::build,
        )
        .blocking(never)
        .serve_built::<kind::Servo>("axle:fake:servo", FakeServo::build)
        .blocking(never)
        .serve_built::<kind::Gripper>("axle:fake:gripper", FakeGripper::build)
        .blocking(never)
        .serve_built::<kind::Arm>("axle:fake:arm", FakeArm::build)
        .blocking(never)
        .serve_built::<kind::Gantry>("axle:fake:gantry", FakeGantry::build)
        .blocking(never)
        .serve_built::<kind::Sensor>("axle:fake:sensor", FakeSensor::build)
        .blocking(never)
        .serve_built::<kind::MovementSensor>("axle:fake:movement_sensor", FakeMovementSensor::build)
        .blocking(never)
        .serve_built::<kind::PowerSensor>("axle:fake:power_sensor", FakePowerSensor::build)
        .blocking(never)
        // Encoding frames takes CPU: each camera gets a thread.
        .serve_built::<kind::Camera>("axle:fake:camera", FakeCamera::build)
        .serve_built::<kind::Button>("axle:fake:button", FakeButton::build)
        .blocking(never)
        .serve_built::<kind::Switch>("axle:fake:switch", FakeSwitch::build)
        .blocking(never)
        .serve_built::<kind::Generic>("axle:fake:generic", FakeGeneric::build)
        .blocking(never)
        .serve_built::<kind::GenericService>(
            "axle:fake:generic_service",
            FakeGeneric::build_service,
        )
        .blocking(never)
        .run()
}
