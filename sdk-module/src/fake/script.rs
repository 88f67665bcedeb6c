//! A scripted hold for the fake input controller: a control held at a
//! value, its event repeated at a steady rate (as a real pad repeats a held
//! axis), then released to 0. It runs on a thread of its own, which the
//! controller stops and joins when the hold ends early or the controller
//! goes.

use crate::{Event, EventSink, ResourceError};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

/// The slowest repeat: a held axis is never silent for longer than 100 ms.
const MIN_HZ: f64 = 10.0;

/// One hold under way.
#[derive(Debug)]
pub(super) struct Hold {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// What a hold does, read from DoCommand's `hold` argument.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct HoldSpec {
    control: String,
    value: f64,
    duration: Duration,
    period: Duration,
}

impl HoldSpec {
    /// `{"control": "AbsoluteY", "value": -1, "for_ms": 10000, "hz": 20}`;
    /// `hz` defaults to 20 and may not be under 10.
    pub(super) fn parse(arg: &Value, controls: &[String]) -> Result<Self, ResourceError> {
        let bad = |what: &str| ResourceError::invalid(format!("hold.{what}"));
        let control = arg
            .get("control")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("control: the name of an axis"))?;
        if !controls.iter().any(|c| c == control) {
            return Err(ResourceError::invalid(format!(
                "hold.control: this controller has no control {control:?}; it has {controls:?}"
            )));
        }
        let value = arg
            .get("value")
            .and_then(Value::as_f64)
            .filter(|v| (-1.0..=1.0).contains(v))
            .ok_or_else(|| bad("value: a number from -1 to 1"))?;
        let ms = arg
            .get("for_ms")
            .and_then(Value::as_f64)
            .filter(|ms| *ms > 0.0 && *ms <= 3_600_000.0)
            .ok_or_else(|| bad("for_ms: 1 to 3600000"))?;
        let hz = match arg.get("hz") {
            None => 20.0,
            Some(v) => v
                .as_f64()
                .filter(|hz| (MIN_HZ..=1000.0).contains(hz))
                .ok_or_else(|| bad("hz: 10 to 1000"))?,
        };
        Ok(Self {
            control: control.into(),
            value,
            duration: Duration::from_secs_f64(ms / 1000.0),
            period: Duration::from_secs_f64(1.0 / hz),
        })
    }
}

fn event(control: &str, value: f64) -> Event {
    Event {
        time: SystemTime::now(),
        event: "PositionChangeAbs".into(),
        control: control.into(),
        value,
    }
}

impl Hold {
    /// Starts publishing `spec` to `sink`.
    pub(super) fn start(spec: HoldSpec, sink: EventSink) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::Builder::new()
            .name("fake-pad-hold".into())
            .spawn(move || {
                let end = Instant::now() + spec.duration;
                while Instant::now() < end && !stopped.load(Ordering::Relaxed) {
                    sink.publish(event(&spec.control, spec.value));
                    std::thread::park_timeout(spec.period);
                }
                sink.publish(event(&spec.control, 0.0));
            })
            .ok();
        Self { stop, thread }
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}
