//! The crate for everyone who implements or drives axle resources.
//!
//! A *model* is a driver for one API: it implements [`Motor`], [`Base`],
//! [`Camera`], [`Arm`] or another API's trait. The same implementation runs built into `axle` or in a
//! module process, unchanged. Drivers are plain synchronous objects: the
//! runtime wraps each in an actor that serialises calls to it, runs long
//! motions as cancellable timers (see [`Motion`]) and delivers `Stop` even while
//! a motion is in flight.

mod api;
mod attributes;
mod base;
pub mod client;
mod error;
pub mod fake;
pub mod grpc;
pub mod host;
pub mod input;
pub mod module;
mod motion;
mod motor;
mod name;
mod resource;
pub mod validate;
#[cfg(feature = "webrtc")]
pub mod webrtc;

/// The generated Viam API types and gRPC clients and servers.
pub use axle_proto as proto;

pub use api::{
    Arm, Button, Camera, CameraProperties, DataManager, Encoder, EncoderPosition, Gantry, Generic,
    GeoPoint, Gripper, Image, MovementSensor, MovementSensorProperties, Orientation, Pose,
    PositionType, PowerSensor, Sensor, Servo, Switch, SyncPass,
};
pub use attributes::{AttributeError, Attributes};
pub use base::{Base, BaseProperties, Vector3};
pub use error::ResourceError;
pub use input::{Event, EventSink, InputController};
pub use motion::Motion;
pub use motor::{Motor, MotorProperties};
pub use name::{Api, MAX_NAME_LEN, Model, NameError, ResourceName, validate_name};
pub use resource::{Actuator, Resource, do_commands};

/// A JSON object: the payload of DoCommand and GetStatus.
pub type Document = serde_json::Map<String, serde_json::Value>;
