//! The robot: every configured resource, built in, modular or failed, and
//! what applies to all of them (StopAll, machine status).

use crate::config::ComponentConfig;
use crate::proxy::ProxyHandle;
use crate::resources::{Kind, ResourceHandle, StopReport, Stoppable, stop_together};
use crate::sessions::layer::Actuators;
use actix::ArbiterHandle;
use axle_sdk_module::grpc::Resources;
use axle_sdk_module::{Api, Model};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;
use tonic::Status;
use tracing::{info, warn};

/// A resource's state.
#[derive(Clone)]
pub enum ResourceState {
    /// Built in and serving.
    Ready(ResourceHandle),
    /// Served by a module, through its proxy actor.
    Proxied(ProxyHandle),
    /// Refused or failed to build, with the error to show.
    Failed(String),
}

/// A serving resource, as a model that uses it gets it.
#[derive(Clone)]
pub enum Serving {
    /// Built in: its actor.
    Here(ResourceHandle),
    /// Served by a module or a sub-part: its proxy.
    Elsewhere(ProxyHandle),
}

impl Serving {
    /// The built-in handle, if it is built in.
    pub fn here(&self) -> Option<&ResourceHandle> {
        match self {
            Self::Here(h) => Some(h),
            Self::Elsewhere(_) => None,
        }
    }
}

/// Where a resource comes from: which part of the config owns its entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A component of this part's config (built in or modular).
    Component,
    /// A resource of the remote part of this name.
    Remote(Arc<str>),
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
    /// Ready, modular or failed.
    pub state: ResourceState,
    /// Why a resource that is configured and built cannot serve now (its
    /// module crashed), for machine status.
    pub problem: Option<String>,
    /// When it reached that state.
    pub since: SystemTime,
    /// Who owns the entry.
    pub source: Source,
    /// The short names it was built after: `depends_on` and what its module's
    /// ValidateConfig added.
    pub depends_on: Vec<String>,
    /// The config revision that last built it (stamped on insert).
    pub revision: Arc<str>,
    /// The thread of a driver that may block, stopped when it is removed.
    pub thread: Option<ArbiterHandle>,
}

impl ResourceEntry {
    /// A resource that is serving.
    pub fn ready(c: &ComponentConfig, state: ResourceState) -> Self {
        Self {
            name: c.name.clone(),
            api: Some(c.api.clone()),
            model: Some(c.model.clone()),
            depends_on: c.depends_on.clone(),
            ..Self::blank(c.name.clone(), state)
        }
    }

    /// A resource served by the remote part `remote`, under the name it has here.
    pub fn elsewhere(name: String, api: Api, remote: Arc<str>, state: ResourceState) -> Self {
        Self {
            api: Some(api),
            source: Source::Remote(remote),
            ..Self::blank(name, state)
        }
    }

    fn blank(name: String, state: ResourceState) -> Self {
        Self {
            name,
            api: None,
            model: None,
            state,
            problem: None,
            since: SystemTime::now(),
            source: Source::Component,
            depends_on: Vec::new(),
            revision: "".into(),
            thread: None,
        }
    }

    /// A resource that could not be built.
    pub fn failed(name: String, api: Option<Api>, model: Option<Model>, error: String) -> Self {
        Self {
            api,
            model,
            ..Self::blank(name, ResourceState::Failed(error))
        }
    }

    /// Whether it serves calls (built in or modular).
    pub fn is_serving(&self) -> bool {
        !matches!(self.state, ResourceState::Failed(_))
    }

    /// Its full name, e.g. `rdk:component:motor/left`.
    pub fn full_name(&self) -> Option<String> {
        self.api.as_ref().map(|a| format!("{a}/{}", self.name))
    }

    /// Stops a built-in resource's actor, dropping its driver: for an entry
    /// taken out of the robot.
    pub fn close(&self) {
        if let ResourceState::Ready(h) = &self.state {
            h.close();
        }
    }

    /// The resource as an actuator, if it is serving and moves.
    pub fn stoppable(&self) -> Option<Stoppable> {
        match &self.state {
            ResourceState::Ready(h) => h.stoppable(),
            ResourceState::Proxied(h) => h.stoppable(),
            ResourceState::Failed(_) => None,
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
        api: String,
        /// The name asked for.
        name: String,
    },
    /// The resource is configured but did not build.
    #[error("{api} {name:?} is configured but not running: {error}")]
    Failed {
        /// The API asked for.
        api: String,
        /// The name asked for.
        name: String,
        /// Its build error.
        error: String,
    },
    /// The resource is modular, but the call reached the built-in services:
    /// its request could not be read for routing.
    #[error("{api} {name:?} is served by {via}, but this request could not be routed to it")]
    Unrouted {
        /// The API asked for.
        api: String,
        /// The name asked for.
        name: String,
        /// Who serves it: `module "m"`, `part "sub"`.
        via: String,
    },
}

/// Where a resource call goes ([`Robot::target`]).
pub enum Target {
    /// To the module or sub-part that serves it.
    Proxied(ProxyHandle),
    /// To axle's own services (built in, or not serving: they say why).
    Own,
    /// Nowhere: the name is a resource of this other API.
    OtherApi(Api),
    /// Nowhere: no resource has the name.
    Missing,
}

/// The robot's resources. The builder adds them one by one, in dependency
/// order, while the robot already serves modules on the parent socket.
#[derive(Default)]
pub struct Robot {
    table: RwLock<Table>,
    /// Which API each gRPC service serves, for routing calls of any API.
    pub services: crate::apis::Services,
    /// The session supervisor, for services that hand a motion's ownership
    /// to a session (remote control).
    sessions: std::sync::OnceLock<actix::Addr<crate::sessions::SessionSupervisor>>,
    /// The robot itself, for services that call its resources by name
    /// (data capture); weak, so the robot does not own itself.
    me: std::sync::OnceLock<std::sync::Weak<Robot>>,
}

#[derive(Default)]
struct Table {
    entries: Vec<ResourceEntry>,
    by_name: HashMap<String, usize>,
    /// How many entries are modular: the module router asks on every call.
    modular: usize,
    /// The config revision being applied, stamped on new entries.
    revision: Arc<str>,
}

impl Table {
    fn get(&self, name: &str) -> Option<&ResourceEntry> {
        self.by_name.get(name).map(|&i| &self.entries[i])
    }

    /// Indexes entry `i`. A name resolves to its serving entry if it has one
    /// (a refused duplicate must not hide the component it copies), else to
    /// its first entry.
    fn index(&mut self, i: usize) {
        let entry = &self.entries[i];
        if matches!(entry.state, ResourceState::Proxied(_)) {
            self.modular += 1;
        }
        let serving = entry.is_serving();
        match self.by_name.entry(entry.name.clone()) {
            Entry::Vacant(slot) => {
                slot.insert(i);
            }
            Entry::Occupied(mut slot) if serving => {
                slot.insert(i);
            }
            Entry::Occupied(_) => {}
        }
    }

    /// Takes out the entries `doomed` picks, and re-indexes the rest.
    fn take(&mut self, doomed: impl Fn(&ResourceEntry) -> bool) -> Vec<ResourceEntry> {
        let (gone, kept) = std::mem::take(&mut self.entries)
            .into_iter()
            .partition(|e| doomed(e));
        self.entries = kept;
        self.by_name.clear();
        self.modular = 0;
        for i in 0..self.entries.len() {
            self.index(i);
        }
        gone
    }
}

impl Robot {
    /// A robot of these resources.
    pub fn new(entries: Vec<ResourceEntry>) -> Self {
        let robot = Self::default();
        for e in entries {
            robot.insert(e);
        }
        robot
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Table> {
        // No write panics while holding the lock (pushes, assignments, and
        // re-indexing entries that exist), so a poisoned table is whole.
        self.table.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Table> {
        self.table.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a resource, stamped with the revision being applied.
    pub fn insert(&self, mut entry: ResourceEntry) {
        let mut table = self.write();
        entry.revision = table.revision.clone();
        table.entries.push(entry);
        let i = table.entries.len() - 1;
        table.index(i);
    }

    /// Sets the config revision that resources built from now on carry.
    pub fn set_revision(&self, revision: &str) {
        self.write().revision = revision.into();
    }

    /// Takes out every entry named `name` that `source` owns.
    pub fn remove(&self, name: &str, source: &Source) -> Vec<ResourceEntry> {
        self.write().take(|e| e.name == name && e.source == *source)
    }

    /// Takes out every entry `source` owns.
    pub fn remove_source(&self, source: &Source) -> Vec<ResourceEntry> {
        self.write().take(|e| e.source == *source)
    }

    /// Takes out the components that failed to build, to be tried again.
    pub fn remove_failed_components(&self) -> Vec<ResourceEntry> {
        self.write()
            .take(|e| e.source == Source::Component && !e.is_serving())
    }

    /// Marks the component `name` as rebuilt in place by the revision being
    /// applied, with its new dependencies.
    pub fn rebuilt_in_place(&self, name: &str, depends_on: Vec<String>) {
        let mut table = self.write();
        let revision = table.revision.clone();
        if let Some(&i) = table.by_name.get(name) {
            let entry = &mut table.entries[i];
            entry.depends_on = depends_on;
            entry.revision = revision;
            entry.since = SystemTime::now();
        }
    }

    /// Records why the serving resource `name` cannot serve now, or that it
    /// can again (`None`).
    pub fn set_problem(&self, name: &str, problem: Option<String>) {
        let mut table = self.write();
        if let Some(&i) = table.by_name.get(name) {
            let entry = &mut table.entries[i];
            if entry.problem != problem {
                entry.problem = problem;
                entry.since = SystemTime::now();
            }
        }
    }

    /// Whether a resource named `name` is serving.
    pub fn is_serving(&self, name: &str) -> bool {
        self.read().get(name).is_some_and(ResourceEntry::is_serving)
    }

    /// Every configured resource, ready or failed.
    pub fn entries(&self) -> Vec<ResourceEntry> {
        self.read().entries.clone()
    }

    /// The components of this part's config that are serving (not remote
    /// resources, not failed ones).
    pub fn serving_components(&self) -> Vec<ResourceEntry> {
        self.read()
            .entries
            .iter()
            .filter(|e| e.source == Source::Component && e.is_serving())
            .cloned()
            .collect()
    }

    /// The full names of `names` (short names of serving resources); the
    /// first name that does not resolve is the error.
    pub fn full_names(&self, names: &[String]) -> Result<Vec<String>, String> {
        let table = self.read();
        names
            .iter()
            .map(|n| {
                table
                    .get(n)
                    .filter(|e| e.is_serving())
                    .and_then(ResourceEntry::full_name)
                    .ok_or_else(|| n.clone())
            })
            .collect()
    }

    /// Gives the robot its session supervisor (once, at start).
    pub fn attach_sessions(&self, sessions: actix::Addr<crate::sessions::SessionSupervisor>) {
        let _ = self.sessions.set(sessions);
    }

    /// Lets services built from now on reach the robot as a whole.
    pub fn attach_self(self: &Arc<Self>) {
        let _ = self.me.set(Arc::downgrade(self));
    }

    /// The robot, shared, once [`Self::attach_self`] has run.
    pub fn shared(&self) -> Option<Arc<Self>> {
        self.me.get().and_then(std::sync::Weak::upgrade)
    }

    /// The session supervisor, if one is attached.
    pub fn sessions(&self) -> Option<actix::Addr<crate::sessions::SessionSupervisor>> {
        self.sessions.get().cloned()
    }

    /// The API of the named resource, if the config said one.
    pub fn api_of(&self, name: &str) -> Option<Api> {
        self.read().get(name)?.api.clone()
    }

    /// The named resource, if it is serving: built in, or through its proxy.
    pub fn serving(&self, name: &str) -> Option<Serving> {
        match &self.read().get(name)?.state {
            ResourceState::Ready(h) => Some(Serving::Here(h.clone())),
            ResourceState::Proxied(p) => Some(Serving::Elsewhere(p.clone())),
            ResourceState::Failed(_) => None,
        }
    }

    /// The named resource, if it is ready, built in and of API `K`.
    pub fn find<K: Kind>(&self, name: &str) -> Result<K::Handle, LookupError> {
        let table = self.read();
        let api = K::SUBTYPE.replace('_', " ");
        let not_found = || LookupError::NotFound {
            api: api.clone(),
            name: name.into(),
        };
        let entry = table.get(name).ok_or_else(not_found)?;
        if entry.api.as_ref() != Some(&K::api()) {
            return Err(not_found());
        }
        match &entry.state {
            ResourceState::Ready(h) => h.get::<K>().ok_or_else(not_found),
            ResourceState::Failed(error) => Err(LookupError::Failed {
                api,
                name: name.into(),
                error: error.clone(),
            }),
            ResourceState::Proxied(h) => Err(LookupError::Unrouted {
                api,
                name: name.into(),
                via: h.via().to_string(),
            }),
        }
    }

    /// Where a call of `api` naming `name` goes: a proxied resource of that
    /// API, axle's own services, or nowhere.
    pub fn target(&self, api: &Api, name: &str) -> Target {
        let table = self.read();
        let Some(entry) = table.get(name) else {
            return Target::Missing;
        };
        match (&entry.state, entry.api.as_ref()) {
            (ResourceState::Proxied(h), Some(a)) if a == api => Target::Proxied(h.clone()),
            (_, Some(a)) if a != api => Target::OtherApi(a.clone()),
            _ => Target::Own,
        }
    }

    /// Whether any resource is served by a module.
    pub fn has_proxied(&self) -> bool {
        self.read().modular > 0
    }

    /// The actuator `name` of `api`, if it is serving.
    pub fn actuator(&self, api: &Api, name: &str) -> Option<Stoppable> {
        let table = self.read();
        let entry = table.get(name)?;
        if entry.api.as_ref()? != api {
            return None;
        }
        entry.stoppable()
    }

    /// The actuators among `full_names` (`api/name`).
    pub fn actuators_named(&self, full_names: &[String]) -> Vec<Stoppable> {
        let table = self.read();
        full_names
            .iter()
            .filter_map(|full| {
                let (api, name) = full.rsplit_once('/')?;
                let entry = table.get(name)?;
                (entry.api.as_ref()?.to_string() == api).then(|| entry.stoppable())?
            })
            .collect()
    }

    /// The actuators built after (and so driving) any of `names`.
    pub fn actuators_using(&self, names: &[String]) -> Vec<Stoppable> {
        let table = self.read();
        table
            .entries
            .iter()
            .filter(|e| e.depends_on.iter().any(|d| names.contains(d)))
            .filter_map(|e| e.stoppable())
            .collect()
    }

    /// Every serving actuator.
    pub fn actuators(&self) -> Vec<Stoppable> {
        self.read()
            .entries
            .iter()
            .filter_map(|e| e.stoppable())
            .collect()
    }

    /// Stops every actuator through the one stop path, and logs the outcome.
    pub async fn stop_all(&self, cause: &'static str) -> StopReport {
        let report = stop_together(self.actuators(), cause).await;
        let actuators = report.stopped.len() + report.failed.len();
        let (failed, took_ms) = (report.failed.len(), report.took_ms());
        if report.all_stopped() {
            info!(cause, actuators, failed, took_ms, "stopped all actuators");
        } else {
            let (stopped, unconfirmed) = (report.stopped_names(), report.failures());
            warn!(cause, actuators, failed, stopped = %stopped, unconfirmed = %unconfirmed, took_ms, "stopped all actuators; some did not confirm Stop");
        }
        report
    }
}

impl Actuators for Robot {
    fn api_of_service(&self, service: &str) -> Option<Api> {
        self.services.api_of(service)
    }

    fn actuator(&self, api: &Api, name: &str) -> Option<Stoppable> {
        Robot::actuator(self, api, name)
    }
}

impl Resources for Robot {
    fn find<K: Kind>(&self, name: &str) -> Result<K::Handle, Status> {
        Ok(Robot::find::<K>(self, name)?)
    }
}

impl From<LookupError> for Status {
    fn from(e: LookupError) -> Self {
        match e {
            LookupError::Unrouted { .. } => Status::internal(e.to_string()),
            _ => Status::not_found(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, source: Source) -> ResourceEntry {
        let api = Some(Api::rdk_component("motor"));
        let mut e = ResourceEntry::failed(name.into(), api, None, "broken".into());
        e.source = source;
        e
    }

    #[test]
    fn removing_a_component_leaves_a_remote_resource_of_the_same_name() {
        let remote = Source::Remote("sub".into());
        let robot = Robot::new(vec![
            entry("x", Source::Component),
            entry("y", Source::Component),
            entry("x", remote.clone()),
        ]);
        robot.set_revision("r2");
        robot.insert(entry("z", Source::Component));
        assert_eq!(robot.remove("x", &Source::Component).len(), 1);
        let left: Vec<_> = robot
            .entries()
            .into_iter()
            .map(|e| (e.name, e.source == remote, e.revision.to_string()))
            .collect();
        assert_eq!(
            left,
            [
                ("y".into(), false, "".into()),
                ("x".into(), true, "".into()),
                ("z".into(), false, "r2".into())
            ]
        );
        assert!(robot.read().get("x").is_some_and(|e| e.source == remote));
        assert_eq!(robot.remove_failed_components().len(), 2);
        assert_eq!(robot.remove_source(&remote).len(), 1);
        assert!(robot.entries().is_empty());
    }
}
