use crate::{Actuator, Motion, ResourceError};

/// A pose: a point in mm and an orientation vector with an angle in degrees,
/// as the Viam API has it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Pose {
    /// mm.
    pub x: f64,
    /// mm.
    pub y: f64,
    /// mm.
    pub z: f64,
    /// Orientation vector.
    pub o_x: f64,
    /// Orientation vector.
    pub o_y: f64,
    /// Orientation vector.
    pub o_z: f64,
    /// Rotation about the orientation vector, in degrees.
    pub theta: f64,
}

/// The `rdk:component:arm` API. Joint positions are in degrees (revolute
/// joints) or mm (prismatic ones).
pub trait Arm: Actuator {
    /// Where the end effector is.
    fn end_position(&mut self) -> Result<Pose, ResourceError>;
    /// Moves the end effector to `pose`.
    fn move_to_position(&mut self, pose: Pose) -> Result<Motion, ResourceError>;
    /// The joint positions now.
    fn joint_positions(&mut self) -> Result<Vec<f64>, ResourceError>;
    /// Moves every joint to `positions`.
    fn move_to_joint_positions(&mut self, positions: Vec<f64>) -> Result<Motion, ResourceError>;
    /// Moves through each of `positions` in turn.
    fn move_through_joint_positions(
        &mut self,
        positions: Vec<Vec<f64>>,
    ) -> Result<Motion, ResourceError>;
    /// The kinematic model as SVA JSON.
    fn kinematics(&mut self) -> Result<Vec<u8>, ResourceError> {
        Err(super::unimplemented("GetKinematics"))
    }
}
