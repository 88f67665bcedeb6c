//! The input controller API as messages to a controller's actor, and the
//! filter a StreamEvents subscriber applies.

use super::Handle;
use super::kind::InputController as InputControllerApi;
use crate::input::ALL_EVENTS;
use crate::input::Published;
use crate::{Event, EventSink, InputController, ResourceError};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::broadcast;

/// An input controller actor's handle, and the sink its driver publishes to.
/// Subscribing reads the sink directly, without a trip through the actor.
#[derive(Clone)]
pub struct InputControllerHandle {
    /// The controller's actor.
    pub actor: Handle<InputControllerApi>,
    events: EventSink,
}

/// How many events a slow StreamEvents subscriber may fall behind.
const EVENT_BUFFER: usize = 256;

impl InputControllerHandle {
    /// Attaches a new event sink to `driver` and starts its actor.
    pub fn start(name: Arc<str>, driver: Box<dyn InputController>) -> Self {
        Self::start_on(name, driver, None)
    }

    /// As [`Self::start`], on `arbiter` if given.
    pub fn start_on(
        name: Arc<str>,
        mut driver: Box<dyn InputController>,
        arbiter: Option<&actix::ArbiterHandle>,
    ) -> Self {
        let events = EventSink::new(EVENT_BUFFER);
        driver.attach(events.clone());
        let actor = match arbiter {
            Some(a) => Handle::start_on(name, driver, a),
            None => Handle::start(name, driver),
        };
        Self { actor, events }
    }

    /// GetControls.
    pub async fn controls(&self) -> Result<Vec<String>, ResourceError> {
        self.actor.call(|c| c.controls()).await
    }

    /// GetEvents.
    pub async fn events(&self) -> Result<Vec<Event>, ResourceError> {
        self.actor.call(|c| c.events()).await
    }

    /// TriggerEvent.
    pub async fn trigger_event(&self, event: Event) -> Result<(), ResourceError> {
        event.validate()?;
        self.actor.call(move |c| c.trigger_event(event)).await
    }

    /// Every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Published> {
        self.events.subscribe()
    }
}

/// Which events a StreamEvents subscriber asked for: per control, a set of
/// event types (or all of them).
#[derive(Debug, Default, Clone)]
pub struct StreamFilter(HashMap<String, Vec<String>>);

impl StreamFilter {
    /// Adds `events` for `control`, minus `cancelled`.
    pub fn add(&mut self, control: String, events: Vec<String>, cancelled: &[String]) {
        let entry = self.0.entry(control).or_default();
        entry.extend(events);
        entry.retain(|e| !cancelled.contains(e));
    }

    /// Whether the subscriber wants `event`.
    pub fn wants(&self, event: &Event) -> bool {
        self.0
            .get(&event.control)
            .is_some_and(|types| types.iter().any(|t| t == &event.event || t == ALL_EVENTS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn ev(control: &str, event: &str) -> Event {
        Event {
            time: SystemTime::now(),
            event: event.into(),
            control: control.into(),
            value: 1.0,
        }
    }

    #[test]
    fn filter_matches_control_and_type() {
        let mut f = StreamFilter::default();
        f.add("ButtonStart".into(), vec!["ButtonPress".into()], &[]);
        f.add("AbsoluteX".into(), vec![ALL_EVENTS.into()], &[]);
        assert!(f.wants(&ev("ButtonStart", "ButtonPress")));
        assert!(!f.wants(&ev("ButtonStart", "ButtonRelease")));
        assert!(f.wants(&ev("AbsoluteX", "PositionChangeAbs")));
        assert!(!f.wants(&ev("ButtonSouth", "ButtonPress")));
    }
}
