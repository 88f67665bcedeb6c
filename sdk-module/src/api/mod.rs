//! The driver traits of the APIs beyond motor, base and input controller:
//! one file per API. Drivers are synchronous; what moves is an [`Actuator`]
//! and answers commands that take time with a [`Motion`].
//!
//! Arguments reach these traits checked for what every driver would check
//! (finite numbers); a driver checks what depends on its configuration
//! (an angle past its limit, a position beyond its axis) and names the
//! argument in its error.
//!
//! [`Actuator`]: crate::Actuator
//! [`Motion`]: crate::Motion

mod arm;
mod button;
mod camera;
mod data_manager;
mod encoder;
mod gantry;
mod generic;
mod gripper;
mod movement_sensor;
mod power_sensor;
mod sensor;
mod servo;
mod switch;

pub use arm::{Arm, Pose};
pub use button::Button;
pub use camera::{Camera, CameraProperties, Image};
pub use data_manager::{DataManager, SyncPass};
pub use encoder::{Encoder, EncoderPosition, PositionType};
pub use gantry::Gantry;
pub use generic::Generic;
pub use gripper::Gripper;
pub use movement_sensor::{GeoPoint, MovementSensor, MovementSensorProperties, Orientation};
pub use power_sensor::PowerSensor;
pub use sensor::Sensor;
pub use servo::Servo;
pub use switch::Switch;

use crate::ResourceError;

/// The UNIMPLEMENTED answer of a method a model does not offer.
pub(crate) fn unimplemented(method: &str) -> ResourceError {
    ResourceError::Unimplemented(format!("this model does not implement {method}"))
}
