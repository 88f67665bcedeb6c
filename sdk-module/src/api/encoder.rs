use crate::{Resource, ResourceError};

/// The unit of an encoder's position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionType {
    /// Whichever the encoder reports natively.
    Unspecified,
    /// Ticks.
    Ticks,
    /// Degrees.
    Degrees,
}

/// A position and its unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EncoderPosition {
    /// The value.
    pub value: f64,
    /// Its unit.
    pub unit: PositionType,
}

/// The `rdk:component:encoder` API.
pub trait Encoder: Resource {
    /// The position, in `unit` if the encoder supports it.
    fn position(&mut self, unit: PositionType) -> Result<EncoderPosition, ResourceError>;
    /// Makes the current position zero.
    fn reset_position(&mut self) -> Result<(), ResourceError>;
    /// Which units it reports: (ticks, degrees).
    fn properties(&mut self) -> Result<(bool, bool), ResourceError>;
}
