//! The `rdk:component:input_controller` API: controls, events and the
//! vocabulary of names clients understand.

use crate::host::caller::Caller;
use crate::{Resource, ResourceError};
use std::time::SystemTime;
use tokio::sync::broadcast;

/// Event types the Python SDK can decode; anything else makes it raise.
pub const EVENT_TYPES: &[&str] = &[
    "AllEvents",
    "Connect",
    "Disconnect",
    "ButtonPress",
    "ButtonRelease",
    "ButtonHold",
    "ButtonChange",
    "PositionChangeAbs",
    "PositionChangeRel",
];

/// Control names the Python SDK can decode.
pub const CONTROLS: &[&str] = &[
    "AbsoluteX",
    "AbsoluteY",
    "AbsoluteZ",
    "AbsoluteRX",
    "AbsoluteRY",
    "AbsoluteRZ",
    "AbsoluteHat0X",
    "AbsoluteHat0Y",
    "ButtonSouth",
    "ButtonEast",
    "ButtonWest",
    "ButtonNorth",
    "ButtonLT",
    "ButtonRT",
    "ButtonLT2",
    "ButtonRT2",
    "ButtonLThumb",
    "ButtonRThumb",
    "ButtonSelect",
    "ButtonStart",
    "ButtonMenu",
    "ButtonRecord",
    "ButtonEStop",
    "AbsolutePedalAccelerator",
    "AbsolutePedalBrake",
    "AbsolutePedalClutch",
];

/// Matches every event type when a stream subscribes with it.
pub const ALL_EVENTS: &str = "AllEvents";

/// One input event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// When it happened.
    pub time: SystemTime,
    /// The event type, one of [`EVENT_TYPES`].
    pub event: String,
    /// The control, one of [`CONTROLS`].
    pub control: String,
    /// 0 or 1 for buttons; a position in [-1, 1] for axes.
    pub value: f64,
}

impl Event {
    /// Checks the names against the vocabulary clients decode and the value
    /// for finiteness.
    pub fn validate(&self) -> Result<(), ResourceError> {
        if !EVENT_TYPES.contains(&self.event.as_str()) {
            return Err(ResourceError::invalid(format!(
                "unknown event type {:?}; expected one of {EVENT_TYPES:?}",
                self.event
            )));
        }
        if !CONTROLS.contains(&self.control.as_str()) {
            return Err(ResourceError::invalid(format!(
                "unknown control {:?}; expected one of {CONTROLS:?}",
                self.control
            )));
        }
        crate::validate::finite("event value", self.value).map(|_| ())
    }
}

/// An event as subscribers get it: with the caller that triggered it, if
/// a client did (`None`: the controller produced it itself).
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    /// The event.
    pub event: Event,
    /// Who triggered it.
    pub by: Option<Caller>,
}

/// Where a controller publishes its events; every StreamEvents subscriber
/// gets a copy. Cheap to clone; safe to use from a driver's own thread.
#[derive(Debug, Clone)]
pub struct EventSink(broadcast::Sender<Published>);

impl EventSink {
    /// A sink that buffers up to `capacity` events per slow subscriber.
    pub fn new(capacity: usize) -> Self {
        Self(broadcast::channel(capacity).0)
    }

    /// Publishes an event to the current subscribers (none is fine),
    /// stamped with the caller whose call the driver is serving.
    pub fn publish(&self, event: Event) {
        let _ = self.0.send(Published {
            event,
            by: crate::host::caller::current(),
        });
    }

    /// A new subscription that sees every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Published> {
        self.0.subscribe()
    }
}

/// The `rdk:component:input_controller` API.
pub trait InputController: Resource {
    /// Called once before any other call: where to publish events.
    fn attach(&mut self, sink: EventSink);
    /// The controls this controller has.
    fn controls(&mut self) -> Result<Vec<String>, ResourceError>;
    /// The latest event of each control.
    fn events(&mut self) -> Result<Vec<Event>, ResourceError>;
    /// Injects an event, as if the control had been used. The event arrives
    /// validated against the vocabulary.
    fn trigger_event(&mut self, _event: Event) -> Result<(), ResourceError> {
        // The Python client recognises this wording and raises NotSupportedError.
        Err(ResourceError::Unimplemented(
            "this controller does not support triggering events".into(),
        ))
    }
}
