use crate::{Actuator, Motion, ResourceError};

/// The `rdk:component:gripper` API.
pub trait Gripper: Actuator {
    /// Opens the jaws.
    fn open(&mut self) -> Result<Motion, ResourceError>;
    /// Closes the jaws; whether they hold something is asked afterwards.
    fn grab(&mut self) -> Result<Motion, ResourceError>;
    /// Whether the jaws hold an object.
    fn is_holding_something(&mut self) -> Result<bool, ResourceError>;
    /// The gripper's inputs (the jaw opening, in mm).
    fn current_inputs(&mut self) -> Result<Vec<f64>, ResourceError>;
    /// Moves the inputs to `values`.
    fn go_to_inputs(&mut self, values: Vec<f64>) -> Result<Motion, ResourceError>;
    /// The kinematic model as SVA JSON.
    fn kinematics(&mut self) -> Result<Vec<u8>, ResourceError> {
        Err(super::unimplemented("GetKinematics"))
    }
}
