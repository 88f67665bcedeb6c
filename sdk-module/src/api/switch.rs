use crate::{Resource, ResourceError};

/// The `rdk:component:switch` API: a switch of N positions, 0 to N-1.
pub trait Switch: Resource {
    /// Sets the position.
    fn set_position(&mut self, position: u32) -> Result<(), ResourceError>;
    /// The position now.
    fn position(&mut self) -> Result<u32, ResourceError>;
    /// How many positions, and their labels (empty, or one per position).
    fn number_of_positions(&mut self) -> Result<(u32, Vec<String>), ResourceError>;
}
