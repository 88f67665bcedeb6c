use crate::{Document, Resource, ResourceError, Vector3};

/// A point on Earth, in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GeoPoint {
    /// Degrees north.
    pub latitude: f64,
    /// Degrees east.
    pub longitude: f64,
}

/// An orientation vector and an angle about it, in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Orientation {
    /// Vector x.
    pub o_x: f64,
    /// Vector y.
    pub o_y: f64,
    /// Vector z.
    pub o_z: f64,
    /// Degrees.
    pub theta: f64,
}

/// What a movement sensor can report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MovementSensorProperties {
    /// GetLinearVelocity.
    pub linear_velocity: bool,
    /// GetAngularVelocity.
    pub angular_velocity: bool,
    /// GetOrientation.
    pub orientation: bool,
    /// GetPosition.
    pub position: bool,
    /// GetCompassHeading.
    pub compass_heading: bool,
    /// GetLinearAcceleration.
    pub linear_acceleration: bool,
}

/// The `rdk:component:movement_sensor` API. A model answers what its
/// properties say it supports; the rest default to UNIMPLEMENTED.
pub trait MovementSensor: Resource {
    /// What it supports.
    fn properties(&mut self) -> Result<MovementSensorProperties, ResourceError>;
    /// Position and altitude in metres.
    fn position(&mut self) -> Result<(GeoPoint, f64), ResourceError> {
        Err(super::unimplemented("GetPosition"))
    }
    /// Linear velocity, m/s.
    fn linear_velocity(&mut self) -> Result<Vector3, ResourceError> {
        Err(super::unimplemented("GetLinearVelocity"))
    }
    /// Angular velocity, degrees/s.
    fn angular_velocity(&mut self) -> Result<Vector3, ResourceError> {
        Err(super::unimplemented("GetAngularVelocity"))
    }
    /// Linear acceleration, m/s².
    fn linear_acceleration(&mut self) -> Result<Vector3, ResourceError> {
        Err(super::unimplemented("GetLinearAcceleration"))
    }
    /// Compass heading, degrees clockwise from north.
    fn compass_heading(&mut self) -> Result<f64, ResourceError> {
        Err(super::unimplemented("GetCompassHeading"))
    }
    /// Orientation.
    fn orientation(&mut self) -> Result<Orientation, ResourceError> {
        Err(super::unimplemented("GetOrientation"))
    }
    /// Accuracy figures by name.
    fn accuracy(&mut self) -> Result<Document, ResourceError> {
        Ok(Document::new())
    }
}
