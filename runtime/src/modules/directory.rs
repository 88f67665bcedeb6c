//! What the rest of axle may know about the modules without asking their
//! actors: each module's state for GetMachineStatus, the models it serves
//! for GetModelsFromModules, its process id, so that a Log call on the
//! parent socket is tagged with the module that sent it, and its actor, for
//! RestartModule.

use super::module::{Handlers, ModuleActor};
use actix::Addr;
use std::collections::BTreeMap;
use std::sync::RwLock;
use std::time::SystemTime;

/// A module's state, as GetMachineStatus reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleState {
    /// Its process is starting and has not answered Ready.
    Starting,
    /// It answered Ready; its resources are added.
    Ready,
    /// It failed to start or crashed; it is restarted with backoff.
    Unhealthy,
    /// axle is shutting it down.
    Closing,
}

/// One module's status.
#[derive(Debug, Clone)]
pub struct ModuleInfo {
    /// Its state.
    pub state: ModuleState,
    /// The last error, empty when healthy.
    pub error: String,
    /// Failed starts or crashes in a row.
    pub failures: u32,
    /// The process id of the running module.
    pub pid: Option<i32>,
    /// When the state last changed.
    pub since: SystemTime,
    /// The (API, model) pairs it said it serves when last ready.
    pub models: Handlers,
}

/// Every module's status, kept current by the module actors.
#[derive(Default)]
pub struct Directory {
    modules: RwLock<BTreeMap<String, ModuleInfo>>,
    actors: RwLock<BTreeMap<String, Addr<ModuleActor>>>,
}

impl Directory {
    /// Sets module `name`'s state and error (`""` for none).
    pub fn set(&self, name: &str, state: ModuleState, error: impl Into<String>, failures: u32) {
        let mut modules = self.modules.write().unwrap_or_else(|e| e.into_inner());
        let info = modules.entry(name.into()).or_insert(ModuleInfo {
            state,
            error: String::new(),
            failures: 0,
            pid: None,
            since: SystemTime::now(),
            models: Vec::new(),
        });
        info.state = state;
        info.error = error.into();
        info.failures = failures;
        info.since = SystemTime::now();
    }

    /// Forgets module `name`: it is no longer configured.
    pub fn remove(&self, name: &str) {
        let mut modules = self.modules.write().unwrap_or_else(|e| e.into_inner());
        modules.remove(name);
        let mut actors = self.actors.write().unwrap_or_else(|e| e.into_inner());
        actors.remove(name);
    }

    /// Records the models module `name` serves, from its Ready answer.
    pub fn set_models(&self, name: &str, models: &Handlers) {
        let mut modules = self.modules.write().unwrap_or_else(|e| e.into_inner());
        if let Some(info) = modules.get_mut(name) {
            info.models = models.clone();
        }
    }

    /// Records the actor that runs module `name`.
    pub fn set_actor(&self, name: &str, actor: Addr<ModuleActor>) {
        let mut actors = self.actors.write().unwrap_or_else(|e| e.into_inner());
        actors.insert(name.into(), actor);
    }

    /// The actor that runs module `name`, if it is configured.
    pub fn actor(&self, name: &str) -> Option<Addr<ModuleActor>> {
        let actors = self.actors.read().unwrap_or_else(|e| e.into_inner());
        actors.get(name).cloned()
    }

    /// Records the process id of module `name` (`None` once it has exited).
    pub fn set_pid(&self, name: &str, pid: Option<i32>) {
        let mut modules = self.modules.write().unwrap_or_else(|e| e.into_inner());
        if let Some(info) = modules.get_mut(name) {
            info.pid = pid;
        }
    }

    /// The module whose process is `pid`.
    pub fn name_of(&self, pid: i32) -> Option<String> {
        let modules = self.modules.read().unwrap_or_else(|e| e.into_inner());
        modules
            .iter()
            .find(|(_, info)| info.pid == Some(pid))
            .map(|(name, _)| name.clone())
    }

    /// Every module's status, by name.
    pub fn all(&self) -> Vec<(String, ModuleInfo)> {
        let modules = self.modules.read().unwrap_or_else(|e| e.into_inner());
        modules
            .iter()
            .map(|(n, i)| (n.clone(), i.clone()))
            .collect()
    }
}
