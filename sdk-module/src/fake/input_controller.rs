//! A simulated input controller: it has the controls it is configured with,
//! and its events are the ones clients trigger, or a scripted hold
//! (DoCommand `hold`) produces.

use super::{do_commands, doc};
use crate::host::{Built, kind};
use crate::input::CONTROLS;
use crate::{
    AttributeError, Attributes, Document, Event, EventSink, InputController, Resource,
    ResourceError,
};
use axle_wire::settings::keys::Key;
use serde_json::json;
use std::time::SystemTime;

/// The fake input controller.
#[derive(Debug)]
pub struct FakeInputController {
    controls: Vec<String>,
    /// The latest event of each control, in `controls` order.
    latest: Vec<Event>,
    sink: Option<EventSink>,
    hold: Option<super::script::Hold>,
}

impl FakeInputController {
    /// The attributes it reads: anything else in its config is refused.
    pub const ATTRIBUTES: &[Key] = &[Key::value(
        "controls",
        "the controls it has (default [\"AbsoluteX\", \"ButtonStart\"])",
    )];

    /// Attributes: `controls` (default `["AbsoluteX", "ButtonStart"]`, as upstream).
    pub fn build(_name: &str, attrs: &Attributes) -> Result<Built, AttributeError> {
        let controls = attrs
            .strings("controls")?
            .unwrap_or_else(|| vec!["AbsoluteX".into(), "ButtonStart".into()]);
        if let Some(bad) = controls.iter().find(|c| !CONTROLS.contains(&c.as_str())) {
            return Err(AttributeError {
                field: "controls".into(),
                problem: format!(
                    "unknown control {bad:?}; expected names like \"ButtonSouth\" or \"AbsoluteX\""
                ),
            });
        }
        Ok(Built::new::<kind::InputController>(Box::new(Self::new(
            controls,
        ))))
    }

    /// A controller whose controls have just connected.
    pub fn new(controls: Vec<String>) -> Self {
        let now = SystemTime::now();
        let latest = controls
            .iter()
            .map(|c| Event {
                time: now,
                event: "Connect".into(),
                control: c.clone(),
                value: 0.0,
            })
            .collect();
        Self {
            controls,
            latest,
            sink: None,
            hold: None,
        }
    }
}

impl Resource for FakeInputController {
    fn do_command(&mut self, command: Document) -> Result<Document, ResourceError> {
        do_commands(command, &["get_state", "hold", "release"], |key, arg| {
            match key {
                // A scripted axis: the controller's own events, repeated.
                "hold" => {
                    let spec = super::script::HoldSpec::parse(&arg, &self.controls)?;
                    let sink = self.sink.clone().ok_or_else(|| {
                        ResourceError::FailedPrecondition("the controller is not running".into())
                    })?;
                    self.hold = None;
                    self.hold = Some(super::script::Hold::start(spec, sink));
                    Ok(json!(true))
                }
                "release" => {
                    self.hold = None;
                    Ok(json!(true))
                }
                _ => Ok(self.status()?.into()),
            }
        })
    }

    fn status(&mut self) -> Result<Document, ResourceError> {
        let events: serde_json::Map<_, _> = self
            .latest
            .iter()
            .map(|e| {
                (
                    e.control.clone(),
                    json!({"event": e.event, "value": e.value}),
                )
            })
            .collect();
        Ok(doc(json!({ "events": events })))
    }
}

impl InputController for FakeInputController {
    fn attach(&mut self, sink: EventSink) {
        self.sink = Some(sink);
    }

    fn controls(&mut self) -> Result<Vec<String>, ResourceError> {
        Ok(self.controls.clone())
    }

    fn events(&mut self) -> Result<Vec<Event>, ResourceError> {
        Ok(self.latest.clone())
    }

    fn trigger_event(&mut self, event: Event) -> Result<(), ResourceError> {
        let Some(slot) = self.latest.iter_mut().find(|e| e.control == event.control) else {
            return Err(ResourceError::invalid(format!(
                "this controller has no control {:?}; it has {:?}",
                event.control, self.controls
            )));
        };
        *slot = event.clone();
        if let Some(sink) = &self.sink {
            sink.publish(event);
        }
        Ok(())
    }
}
