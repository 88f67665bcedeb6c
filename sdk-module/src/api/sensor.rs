use crate::{Document, Resource, ResourceError};

/// The `rdk:component:sensor` API.
pub trait Sensor: Resource {
    /// The readings now, by name.
    fn readings(&mut self) -> Result<Document, ResourceError>;
}
