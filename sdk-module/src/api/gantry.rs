use crate::{Actuator, Motion, ResourceError};

/// The `rdk:component:gantry` API: linear axes, in mm.
pub trait Gantry: Actuator {
    /// Each axis's position.
    fn position(&mut self) -> Result<Vec<f64>, ResourceError>;
    /// Moves each axis to `positions_mm` at `speeds_mm_per_sec` (empty: the
    /// model's default speed).
    fn move_to_position(
        &mut self,
        positions_mm: Vec<f64>,
        speeds_mm_per_sec: Vec<f64>,
    ) -> Result<Motion, ResourceError>;
    /// Runs the homing sequence.
    fn home(&mut self) -> Result<Motion, ResourceError>;
    /// Each axis's length.
    fn lengths(&mut self) -> Result<Vec<f64>, ResourceError>;
    /// The kinematic model as SVA JSON.
    fn kinematics(&mut self) -> Result<Vec<u8>, ResourceError> {
        Err(super::unimplemented("GetKinematics"))
    }
}
