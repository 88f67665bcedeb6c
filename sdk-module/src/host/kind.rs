//! The APIs, as types. Each marker names its driver trait and says how its
//! resources start and whether they stop. One table below lists them all:
//! adding an API adds one line here, a driver trait, and a gRPC adapter.
//!
//! Actors are parameterised by these marker types rather than by `dyn Motor`
//! directly: a trait object carries a lifetime, and rustc cannot prove
//! `Send` for async handlers that hold `&Handle<dyn Motor>` once it erases
//! that lifetime. A marker type has none to erase.

use super::actor::Close;
use super::{Handle, InputControllerHandle, Stoppable};
use crate::{Api, Resource};
use actix::{ArbiterHandle, Recipient};
use std::sync::Arc;

/// An API: its driver trait, the handle callers hold, and how to start one.
pub trait Kind: 'static {
    /// The driver trait object, e.g. `dyn Motor`.
    type Driver: ?Sized + Resource;
    /// What callers hold to use a running resource: usually [`Handle<Self>`].
    type Handle: Clone + Send + Sync + 'static;
    /// `component` or `service`.
    const TYPE: &'static str;
    /// e.g. `motor`.
    const SUBTYPE: &'static str;

    /// Starts an actor for `driver`, on `arbiter` if given (for drivers
    /// that block), else on the current one.
    fn start(
        name: Arc<str>,
        driver: Box<Self::Driver>,
        arbiter: Option<&ArbiterHandle>,
    ) -> Self::Handle;

    /// The resource as the safety paths see it, if it moves.
    fn stoppable(handle: &Self::Handle) -> Option<Stoppable>;

    /// Where a taken-out resource's `Close` goes.
    fn closer(handle: &Self::Handle) -> Recipient<Close>;

    /// The API's full name, e.g. `rdk:component:motor`.
    fn api() -> Api {
        Api {
            namespace: "rdk".into(),
            kind: Self::TYPE.into(),
            subtype: Self::SUBTYPE.into(),
        }
    }
}

/// Declares API markers whose callers hold a plain [`Handle`]; `actuator`
/// ones are stopped by sessions, StopAll and shutdown.
macro_rules! kinds {
    ($( $(#[$doc:meta])* $marker:ident: $driver:ty, $ty:literal, $subtype:literal, $moves:ident; )*) => {$(
        $(#[$doc])*
        pub enum $marker {}

        impl Kind for $marker {
            type Driver = $driver;
            type Handle = Handle<$marker>;
            const TYPE: &'static str = $ty;
            const SUBTYPE: &'static str = $subtype;

            fn start(
                name: Arc<str>,
                driver: Box<$driver>,
                arbiter: Option<&ArbiterHandle>,
            ) -> Handle<$marker> {
                match arbiter {
                    Some(a) => Handle::start_on(name, driver, a),
                    None => Handle::start(name, driver),
                }
            }

            fn stoppable(handle: &Handle<$marker>) -> Option<Stoppable> {
                kinds!(@stoppable $moves handle)
            }

            fn closer(handle: &Handle<$marker>) -> Recipient<Close> {
                handle.closer()
            }
        }
    )*};
    (@stoppable actuator $h:ident) => { Some($h.stoppable()) };
    (@stoppable still $h:ident) => {{ let _ = $h; None }};
}

kinds! {
    /// `rdk:component:motor`.
    Motor: dyn crate::Motor, "component", "motor", actuator;
    /// `rdk:component:base`.
    Base: dyn crate::Base, "component", "base", actuator;
    /// `rdk:component:servo`.
    Servo: dyn crate::Servo, "component", "servo", actuator;
    /// `rdk:component:gripper`.
    Gripper: dyn crate::Gripper, "component", "gripper", actuator;
    /// `rdk:component:arm`.
    Arm: dyn crate::Arm, "component", "arm", actuator;
    /// `rdk:component:gantry`.
    Gantry: dyn crate::Gantry, "component", "gantry", actuator;
    /// `rdk:component:encoder`.
    Encoder: dyn crate::Encoder, "component", "encoder", still;
    /// `rdk:component:sensor`.
    Sensor: dyn crate::Sensor, "component", "sensor", still;
    /// `rdk:component:movement_sensor`.
    MovementSensor: dyn crate::MovementSensor, "component", "movement_sensor", still;
    /// `rdk:component:power_sensor`.
    PowerSensor: dyn crate::PowerSensor, "component", "power_sensor", still;
    /// `rdk:component:camera`.
    Camera: dyn crate::Camera, "component", "camera", still;
    /// `rdk:component:button`.
    Button: dyn crate::Button, "component", "button", still;
    /// `rdk:component:switch`.
    Switch: dyn crate::Switch, "component", "switch", still;
    /// `rdk:component:generic`.
    Generic: dyn crate::Generic, "component", "generic", still;
    /// `rdk:service:generic`.
    GenericService: dyn crate::Generic, "service", "generic", still;
    /// `rdk:service:base_remote_control`: it commands a base, which is the
    /// actuator that stops; the service itself has nothing to stop.
    BaseRemoteControl: dyn crate::Generic, "service", "base_remote_control", still;
    /// `rdk:service:data_manager`: captures readings and syncs them.
    DataManager: dyn crate::DataManager, "service", "data_manager", still;
}

/// `rdk:component:input_controller`: its handle carries the event sink
/// that StreamEvents subscribers read without a trip through the actor.
pub enum InputController {}

impl Kind for InputController {
    type Driver = dyn crate::InputController;
    type Handle = InputControllerHandle;
    const TYPE: &'static str = "component";
    const SUBTYPE: &'static str = "input_controller";

    fn start(
        name: Arc<str>,
        driver: Box<Self::Driver>,
        arbiter: Option<&ArbiterHandle>,
    ) -> InputControllerHandle {
        InputControllerHandle::start_on(name, driver, arbiter)
    }

    fn stoppable(_: &InputControllerHandle) -> Option<Stoppable> {
        None
    }

    fn closer(handle: &InputControllerHandle) -> Recipient<Close> {
        handle.actor.closer()
    }
}
