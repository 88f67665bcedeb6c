//! The robot: every configured resource, ready or failed, and what applies to
//! all of them (StopAll, machine status).

use crate::config::ComponentConfig;
use crate::resources::{BaseHandle, InputControllerHandle, MotorHandle, ResourceHandle, Stoppable};
use axle_sdk_module::{Api, Model, ResourceError};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::{Duration, SystemTime};
use tracing::{info, warn};

/// How long one actuator may take to stop before StopAll reports it.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(2);

/// A resource's state.
#[derive(Clone)]
pub enum ResourceState {
    /// Built and serving.
    Ready(ResourceHandle),
    /// Refused or failed to build, with the error to show.
    Failed(String),
}

/// One configured resource.
#[derive(Clone)]
pub struct ResourceEntry {
    /// Short name.
    pub name: String,
    /// Its API, if the config said one we could read.
    pub api: Option<Api>,
    /// Its model, if known.
    pub model: Option<Model>,
    /// Ready or failed.
    pub state: ResourceState,
    /// When it reached that state.
    pub since: SystemTime,
}

impl ResourceEntry {
    /// A resource that is serving.
    pub fn ready(c: &ComponentConfig, handle: ResourceHandle) -> Self {
        Self {
            name: c.name.clone(),
            api: Some(c.api.clone()),
            model: Some(c.model.clone()),
            state: ResourceState::Ready(handle),
            since: SystemTime::now(),
        }
    }

    /// A resource that could not be built.
    pub fn failed(name: String, api: Option<Api>, model: Option<Model>, error: String) -> Self {
        Self {
            name,
            api,
            model,
            state: ResourceState::Failed(error),
            since: SystemTime::now(),
        }
    }
}

/// Why a name did not resolve to a resource of the wanted API.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// No resource of that API has the name.
    #[error("no {api} named {name:?}")]
    NotFound {
        /// The API asked for.
        api: &'static str,
        /// The name asked for.
        name: String,
    },
    /// The resource is configured but did not build.
    #[error("{api} {name:?} is configured but not running: {error}")]
    Failed {
        /// The API asked for.
        api: &'static str,
        /// The name asked for.
        name: String,
        /// Its build error.
        error: String,
    },
}

/// The robot's resources.
pub struct Robot {
    entries: Vec<ResourceEntry>,
    by_name: HashMap<String, usize>,
}

/// A lookup per API: the ready handle, or why there is none.
macro_rules! typed_lookup {
    ($fn:ident, $variant:ident, $handle:ty, $subtype:literal, $label:literal) => {
        /// The named resource, if it is ready and of this API.
        pub fn $fn(&self, name: &str) -> Result<&$handle, LookupError> {
            let entry = self.by_name.get(name).map(|&i| &self.entries[i]);
            match entry {
                Some(ResourceEntry {
                    state: ResourceState::Ready(ResourceHandle::$variant(h)),
                    ..
                }) => Ok(h),
                Some(ResourceEntry {
                    state: ResourceState::Failed(error),
                    api: Some(api),
                    ..
                }) if api.subtype == $subtype => Err(LookupError::Failed {
                    api: $label,
                    name: name.into(),
                    error: error.clone(),
                }),
                _ => Err(LookupError::NotFound {
                    api: $label,
                    name: name.into(),
                }),
            }
        }
    };
}

impl Robot {
    /// A robot of these resources. A name resolves to its ready entry if it
    /// has one (a refused duplicate must not hide the component it copies),
    /// else to its first entry.
    pub fn new(entries: Vec<ResourceEntry>) -> Self {
        let mut by_name = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            let ready = matches!(e.state, ResourceState::Ready(_));
            match by_name.entry(e.name.clone()) {
                Entry::Vacant(slot) => {
                    slot.insert(i);
                }
                Entry::Occupied(mut slot) if ready => {
                    slot.insert(i);
                }
                Entry::Occupied(_) => {}
            }
        }
        Self { entries, by_name }
    }

    /// Every configured resource, ready or failed.
    pub fn entries(&self) -> &[ResourceEntry] {
        &self.entries
    }

    typed_lookup!(motor, Motor, MotorHandle, "motor", "motor");
    typed_lookup!(base, Base, BaseHandle, "base", "base");
    typed_lookup!(
        input_controller,
        InputController,
        InputControllerHandle,
        "input_controller",
        "input controller"
    );

    /// The actuator `name` of API `subtype` (e.g. "motor"), if it is ready.
    pub fn actuator(&self, subtype: &str, name: &str) -> Option<Stoppable> {
        let entry = &self.entries[*self.by_name.get(name)?];
        match &entry.state {
            ResourceState::Ready(h) if entry.api.as_ref()?.subtype == subtype => h.stoppable(),
            _ => None,
        }
    }

    /// Stops every actuator at once, each bounded by [`STOP_TIMEOUT`], and
    /// returns the ones that failed or timed out.
    pub async fn stop_all(&self, cause: &'static str) -> Vec<(String, ResourceError)> {
        let pending: Vec<_> = self
            .entries
            .iter()
            .filter_map(|e| match &e.state {
                ResourceState::Ready(h) => h.stoppable().map(|s| (e.name.clone(), s)),
                ResourceState::Failed(_) => None,
            })
            .map(|(name, s)| async move { (name, s.stop_within(cause, STOP_TIMEOUT).await) })
            .collect();
        let count = pending.len();
        let failures: Vec<_> = futures::future::join_all(pending)
            .await
            .into_iter()
            .filter_map(|(name, r)| r.err().map(|e| (name, e)))
            .collect();
        for (name, e) in &failures {
            warn!(resource = %name, cause, error = %e, "stop failed");
        }
        info!(
            cause,
            actuators = count,
            failed = failures.len(),
            "stopped all actuators"
        );
        failures
    }
}
