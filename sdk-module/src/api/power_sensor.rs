use crate::{Resource, ResourceError};

/// The `rdk:component:power_sensor` API.
pub trait PowerSensor: Resource {
    /// Volts, and whether AC.
    fn voltage(&mut self) -> Result<(f64, bool), ResourceError>;
    /// Amperes, and whether AC.
    fn current(&mut self) -> Result<(f64, bool), ResourceError>;
    /// Watts.
    fn power(&mut self) -> Result<f64, ResourceError>;
}
