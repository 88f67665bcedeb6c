use crate::{Actuator, Motion, ResourceError};

/// What GetProperties reports for a motor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MotorProperties {
    /// The motor can report its position (it has an encoder).
    pub position_reporting: bool,
}

/// The `rdk:component:motor` API. Arguments arrive validated: finite numbers,
/// power in [-1, 1], non-zero rpm for GoFor and GoTo.
pub trait Motor: Actuator {
    /// Runs at a fraction of full power, in [-1, 1], until told otherwise.
    fn set_power(&mut self, power: f64) -> Result<(), ResourceError>;
    /// Runs at `rpm` until told otherwise.
    fn set_rpm(&mut self, rpm: f64) -> Result<(), ResourceError>;
    /// Turns `revolutions` at `rpm` (the signs multiply); 0 revolutions runs
    /// without end, as upstream.
    fn go_for(&mut self, rpm: f64, revolutions: f64) -> Result<Motion, ResourceError>;
    /// Turns at `|rpm|` to the absolute position `position` (revolutions).
    fn go_to(&mut self, rpm: f64, position: f64) -> Result<Motion, ResourceError>;
    /// Makes the current position the new zero, shifted by `offset`: right
    /// after the call the position reads `offset` (as upstream's encoded motors).
    fn reset_zero_position(&mut self, offset: f64) -> Result<(), ResourceError>;
    /// The position in revolutions from zero.
    fn position(&mut self) -> Result<f64, ResourceError>;
    /// What the motor can do.
    fn properties(&mut self) -> Result<MotorProperties, ResourceError>;
    /// Whether the motor is powered, and at what fraction of full power.
    fn is_powered(&mut self) -> Result<(bool, f64), ResourceError>;
}
