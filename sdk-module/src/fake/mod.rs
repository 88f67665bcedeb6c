//! The fake models: simulated hardware that behaves like the real thing in
//! time, so clients can be written and tested without a robot. axle serves
//! them built in as `rdk:builtin:fake`; the same drivers run unchanged in a
//! module (`modules/fakes`).

mod arm;
mod base;
mod button;
mod camera;
mod encoder;
mod gantry;
mod generic;
mod gripper;
mod input_controller;
mod motor;
mod movement_sensor;
mod power_sensor;
mod script;
mod sensor;
mod servo;
mod switch;
mod travel;

pub use arm::FakeArm;
pub use base::FakeBase;
pub use button::FakeButton;
pub use camera::FakeCamera;
pub use encoder::FakeEncoder;
pub use gantry::FakeGantry;
pub use generic::FakeGeneric;
pub use gripper::FakeGripper;
pub use input_controller::FakeInputController;
pub use motor::FakeMotor;
pub use movement_sensor::FakeMovementSensor;
pub use power_sensor::FakePowerSensor;
pub use sensor::FakeSensor;
pub use servo::FakeServo;
pub use switch::FakeSwitch;

use crate::{Document, do_commands};
use serde_json::Value;

/// Turns a `serde_json::json!` object into a [`Document`].
fn doc(v: Value) -> Document {
    match v {
        Value::Object(m) => m,
        _ => Document::new(),
    }
}
