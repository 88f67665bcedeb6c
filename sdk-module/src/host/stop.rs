//! The one stop path. Session expiry, StopAll, shutdown, reconfiguration, a
//! module crash and a lost link all stop their actuators through
//! [`stop_together`], so what holds for one holds for all: every actuator
//! is told at once, and a driver that hangs delays no other stop.

use super::actor::Stop;
use super::gone;
use crate::ResourceError;
use actix::Recipient;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a stop waits for a driver to confirm. The Stop itself stays
/// queued past it: this bounds the wait, not the stop.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(2);

/// An actuator as the safety paths see it: its full name and where to send
/// `Stop`, whatever its API and wherever it is served.
#[derive(Clone)]
pub struct Stoppable {
    /// The resource's full name, e.g. `rdk:component:motor/left`.
    pub name: Arc<str>,
    /// Its actor.
    pub stopper: Recipient<Stop>,
}

impl Stoppable {
    /// Sends `Stop` and waits at most `timeout` for the driver to confirm. The
    /// Stop stays queued if the actor is busy: the timeout bounds the wait,
    /// not the stop.
    pub async fn stop_within(
        &self,
        cause: &'static str,
        timeout: Duration,
    ) -> Result<(), ResourceError> {
        match tokio::time::timeout(timeout, self.stopper.send(Stop { cause })).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(gone(&self.name)),
            Err(_) => Err(ResourceError::Unavailable(format!(
                "{} did not confirm Stop within {timeout:?}",
                self.name
            ))),
        }
    }
}

/// What one [`stop_together`] came to.
#[derive(Debug, Default)]
pub struct StopReport {
    /// The actuators that confirmed Stop.
    pub stopped: Vec<Arc<str>>,
    /// The ones that refused, were gone, or did not confirm in time.
    pub failed: Vec<(Arc<str>, ResourceError)>,
    /// From the first Stop sent to the last answer (or time-out).
    pub took: Duration,
}

impl StopReport {
    /// Whether every actuator confirmed.
    pub fn all_stopped(&self) -> bool {
        self.failed.is_empty()
    }

    /// The stopped actuators' names, for a log line.
    pub fn stopped_names(&self) -> String {
        self.stopped.join(", ")
    }

    /// The failures, `name (why)`, for a log line.
    pub fn failures(&self) -> String {
        let each: Vec<_> = self
            .failed
            .iter()
            .map(|(n, e)| format!("{n} ({e})"))
            .collect();
        each.join("; ")
    }

    /// The time taken, in milliseconds, for a log field.
    pub fn took_ms(&self) -> f64 {
        millis(self.took)
    }
}

/// A duration in milliseconds for a log field, to the hundredth: a log
/// reads `took_ms=0.38`, not `took_ms=0.38089500000000004`.
pub fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e5).round() / 100.0
}

/// Stops every actuator in `actuators` concurrently, each bounded by
/// [`STOP_TIMEOUT`], and reports which confirmed and which did not. Every
/// Stop is sent before any answer is awaited.
pub async fn stop_together(
    actuators: impl IntoIterator<Item = Stoppable>,
    cause: &'static str,
) -> StopReport {
    let began = Instant::now();
    let actuators: Vec<Stoppable> = actuators.into_iter().collect();
    let outcomes =
        futures::future::join_all(actuators.iter().map(|a| a.stop_within(cause, STOP_TIMEOUT)))
            .await;
    let mut report = StopReport::default();
    for (a, outcome) in actuators.into_iter().zip(outcomes) {
        match outcome {
            Ok(()) => report.stopped.push(a.name),
            Err(e) => report.failed.push((a.name, e)),
        }
    }
    report.took = began.elapsed();
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Attributes;
    use crate::fake::FakeMotor;
    use crate::host::ResourceHandle;

    /// A fake motor whose Stop blocks its own thread for `stop_delay_ms`.
    fn motor(name: &str, stop_delay_ms: u64) -> Stoppable {
        let attrs = Attributes::new(
            serde_json::json!({ "stop_delay_ms": stop_delay_ms })
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        let built = FakeMotor::build(name, &attrs).expect("valid attributes");
        let arbiter = actix::Arbiter::new();
        let handle = ResourceHandle::start(name.into(), built, Some(&arbiter.handle()));
        handle.stoppable().expect("a motor is an actuator")
    }

    #[test]
    fn a_hung_driver_delays_no_other_stop() {
        actix::System::new().block_on(hung_and_quick());
    }

    async fn hung_and_quick() {
        let hung = motor("hung", 2 * STOP_TIMEOUT.as_millis() as u64);
        let quick: Vec<_> = (0..3).map(|i| motor(&format!("m{i}"), 50)).collect();
        let report = stop_together(std::iter::once(hung).chain(quick), "test").await;
        assert_eq!(report.stopped.len(), 3, "{report:?}");
        assert_eq!(&*report.failed[0].0, "hung");
        // Concurrent: bounded by the time-out, not by the sum of the stops.
        assert!(
            report.took < STOP_TIMEOUT + Duration::from_millis(500),
            "{report:?}"
        );
    }
}
