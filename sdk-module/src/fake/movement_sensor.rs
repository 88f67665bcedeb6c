//! A simulated movement sensor riding a circle at constant speed: position,
//! heading, velocities and acceleration all follow from one path, so they
//! agree with each other as a real IMU and GPS would.

use super::doc;
use crate::host::{Built, kind};
use crate::{
    AttributeError, Attributes, Document, GeoPoint, MovementSensor, MovementSensorProperties,
    Orientation, Resource, ResourceError, Vector3,
};
use axle_wire::settings::keys::Key;
use serde_json::json;
use std::time::Instant;

/// Metres per degree of latitude.
const M_PER_DEG: f64 = 111_320.0;

/// The fake movement sensor.
#[derive(Debug)]
pub struct FakeMovementSensor {
    center: GeoPoint,
    radius_m: f64,
    speed_mps: f64,
    start: Instant,
}

impl FakeMovementSensor {
    /// The attributes it reads: anything else in its config is refused.
    pub const ATTRIBUTES: &[Key] = &[
        Key::value("latitude", "centre of the circle it drives (default 40.7)"),
        Key::value("longitude", "default -74.0"),
        Key::value("radius_m", "circle radius (default 10)"),
        Key::value("speed_mps", "speed along the circle (default 1)"),
    ];

    /// Attributes: `latitude` and `longitude` of the circle's centre
    /// (default 40.7, -74.0), `radius_m` (default 10), `speed_mps` (default 1).
    pub fn build(_name: &str, attrs: &Attributes) -> Result<Built, AttributeError> {
        let latitude = attrs.number("latitude")?.unwrap_or(40.7);
        if !(-89.0..=89.0).contains(&latitude) {
            return Err(AttributeError {
                field: "latitude".into(),
                problem: format!("expected degrees from -89 to 89, got {latitude}"),
            });
        }
        let longitude = attrs.number("longitude")?.unwrap_or(-74.0);
        Ok(Built::new::<kind::MovementSensor>(Box::new(Self {
            center: GeoPoint {
                latitude,
                longitude,
            },
            radius_m: attrs.positive_number("radius_m", 10.0)?,
            speed_mps: attrs.positive_number("speed_mps", 1.0)?,
            start: Instant::now(),
        })))
    }

    /// How far round the circle, in radians, counter-clockwise from east.
    fn angle(&self) -> f64 {
        self.speed_mps * self.start.elapsed().as_secs_f64() / self.radius_m
    }
}

impl Resource for FakeMovementSensor {
    fn status(&mut self) -> Result<Document, ResourceError> {
        Ok(doc(json!({"heading": self.compass_heading()?})))
    }
}

impl MovementSensor for FakeMovementSensor {
    fn properties(&mut self) -> Result<MovementSensorProperties, ResourceError> {
        Ok(MovementSensorProperties {
            linear_velocity: true,
            angular_velocity: true,
            orientation: true,
            position: true,
            compass_heading: true,
            linear_acceleration: true,
        })
    }

    fn position(&mut self) -> Result<(GeoPoint, f64), ResourceError> {
        let a = self.angle();
        let (east, north) = (self.radius_m * a.cos(), self.radius_m * a.sin());
        let lat = self.center.latitude + north / M_PER_DEG;
        let lon =
            self.center.longitude + east / (M_PER_DEG * self.center.latitude.to_radians().cos());
        Ok((
            GeoPoint {
                latitude: lat,
                longitude: lon,
            },
            0.0,
        ))
    }

    /// Forward is +y in the sensor's frame.
    fn linear_velocity(&mut self) -> Result<Vector3, ResourceError> {
        Ok(Vector3 {
            x: 0.0,
            y: self.speed_mps,
            z: 0.0,
        })
    }

    /// Turning left (counter-clockwise) about +z, in degrees per second.
    fn angular_velocity(&mut self) -> Result<Vector3, ResourceError> {
        Ok(Vector3 {
            x: 0.0,
            y: 0.0,
            z: (self.speed_mps / self.radius_m).to_degrees(),
        })
    }

    /// Centripetal: towards the centre, which is to the left (-x).
    fn linear_acceleration(&mut self) -> Result<Vector3, ResourceError> {
        Ok(Vector3 {
            x: -self.speed_mps * self.speed_mps / self.radius_m,
            y: 0.0,
            z: 0.0,
        })
    }

    fn compass_heading(&mut self) -> Result<f64, ResourceError> {
        // Moving counter-clockwise, the direction of travel is the angle
        // plus 90°, counted from east; compass degrees count clockwise from north.
        let travel_deg = self.angle().to_degrees() + 90.0;
        Ok((90.0 - travel_deg).rem_euclid(360.0))
    }

    fn orientation(&mut self) -> Result<Orientation, ResourceError> {
        let yaw = (self.angle().to_degrees() + 90.0).rem_euclid(360.0);
        Ok(Orientation {
            o_x: 0.0,
            o_y: 0.0,
            o_z: 1.0,
            theta: yaw,
        })
    }

    fn accuracy(&mut self) -> Result<Document, ResourceError> {
        Ok(doc(json!({"position_m": 0.5, "compass_degrees": 1.0})))
    }
}
