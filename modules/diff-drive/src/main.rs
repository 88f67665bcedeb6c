//! `diff-drive`: an axle module serving model `axle:base:diff-drive`, a base
//! on two wheels, each turned by a motor of the parent robot.
//!
//! ```json
//! {"name": "base", "api": "rdk:component:base", "model": "axle:base:diff-drive",
//!  "attributes": {"left": "left", "right": "right", "wheel_circumference_mm": 220, "width_mm": 300}}
//! ```

mod diff_drive;

use axle_sdk_module::module::Module;
use diff_drive::DiffDrive;
use std::process::ExitCode;

fn main() -> ExitCode {
    Module::new()
        .base(DiffDrive::MODEL, DiffDrive::validate, DiffDrive::build)
        .run()
}
