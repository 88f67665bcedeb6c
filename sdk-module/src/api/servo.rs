use crate::{Actuator, Motion, ResourceError};

/// The `rdk:component:servo` API: a motor that turns to an angle.
pub trait Servo: Actuator {
    /// Turns to `angle_deg`; returns when there, or when stopped.
    fn move_to(&mut self, angle_deg: u32) -> Result<Motion, ResourceError>;
    /// The angle now, in degrees.
    fn position(&mut self) -> Result<u32, ResourceError>;
}
