use crate::{Resource, ResourceError};

/// The `rdk:component:button` API.
pub trait Button: Resource {
    /// Pushes the button.
    fn push(&mut self) -> Result<(), ResourceError>;
}
