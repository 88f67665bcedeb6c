use crate::{Actuator, Motion, ResourceError};

/// A vector in the base's frame: x right, y forward, z up.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Vector3 {
    /// Right.
    pub x: f64,
    /// Forward.
    pub y: f64,
    /// Up.
    pub z: f64,
}

impl Vector3 {
    /// Whether every component is zero.
    pub fn is_zero(&self) -> bool {
        self.x == 0.0 && self.y == 0.0 && self.z == 0.0
    }
}

/// What GetProperties reports for a base.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BaseProperties {
    /// Track width.
    pub width_meters: f64,
    /// Smallest turning radius (0 for a base that spins in place).
    pub turning_radius_meters: f64,
    /// Circumference of a wheel.
    pub wheel_circumference_meters: f64,
}

/// The `rdk:component:base` API. Arguments arrive validated: finite numbers,
/// powers in [-1, 1], a non-zero speed for a non-zero distance or angle.
pub trait Base: Actuator {
    /// Drives `distance_mm` (negative is backwards) at `|mm_per_sec|`.
    fn move_straight(&mut self, distance_mm: i64, mm_per_sec: f64)
    -> Result<Motion, ResourceError>;
    /// Turns `angle_deg` (positive is counter-clockwise) at `|degs_per_sec|`.
    fn spin(&mut self, angle_deg: f64, degs_per_sec: f64) -> Result<Motion, ResourceError>;
    /// Drives at fractions of full power until told otherwise.
    fn set_power(&mut self, linear: Vector3, angular: Vector3) -> Result<(), ResourceError>;
    /// Drives at mm/s and degrees/s until told otherwise.
    fn set_velocity(&mut self, linear: Vector3, angular: Vector3) -> Result<(), ResourceError>;
    /// What the base is.
    fn properties(&mut self) -> Result<BaseProperties, ResourceError>;
}
