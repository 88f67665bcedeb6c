//! `fake-motor`: serves model `axle:fake:motor`, the very driver axle has
//! built in as `rdk:builtin:fake`. It shows that a model moves between
//! built-in and module without change, and it is what the module benchmark
//! compares against the built-in.

use axle_sdk_module::fake::FakeMotor;
use axle_sdk_module::host::kind;
use axle_sdk_module::module::{Dependencies, Module, ResourceConfig};
use axle_sdk_module::{AttributeError, Motor, ResourceError};
use std::process::ExitCode;

fn validate(c: &ResourceConfig) -> Result<Vec<String>, AttributeError> {
    FakeMotor::build(&c.name, &c.attributes).map(|_| Vec::new())
}

fn build(c: &ResourceConfig, _: &Dependencies) -> Result<Box<dyn Motor>, ResourceError> {
    FakeMotor::build(&c.name, &c.attributes)?
        .into_driver::<kind::Motor>()
        .ok_or_else(|| ResourceError::Internal("the fake motor built something else".into()))
}

fn main() -> ExitCode {
    Module::new()
        .motor("axle:fake:motor", validate, build)
        .blocking(FakeMotor::blocks)
        .run()
}
