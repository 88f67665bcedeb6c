//! Modules: third-party resources served by child processes over Unix
//! sockets.
//!
//! - [`module`]: the `ModuleActor`, one per module, which owns the process.
//!   "What happens when a module crashes" is `ModuleActor::crashed`.
//! - Each resource a module serves is a proxy actor (`crate::proxy`), which
//!   sessions, StopAll and shutdown stop like a built-in.
//! - [`process`]: spawning (own process group, parent-death signal,
//!   environment), output to the log, signals.
//! - [`directory`]: module states and process ids, for GetMachineStatus and
//!   for tagging Log calls.
//! - [`sockets`]: the private socket directory.

pub mod directory;
pub mod module;
pub mod process;
pub mod sockets;

pub use directory::Directory;
pub use sockets::SocketDir;

use crate::config::{ComponentConfig, ModuleConfig};
use crate::proxy::ProxyHandle;
use crate::robot::Robot;
use actix::{Actor, Addr, Recipient};
use axle_sdk_module::{Api, Model};
use directory::ModuleState;
use module::{
    Add, CameUpLate, Handlers, ModuleActor, Reconfigure, Remove, Shutdown, Validate, WaitReady,
};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use tracing::warn;

/// The running modules, and which (API, model) each serves. The config's
/// reconfigurer starts and stops modules as the config changes.
#[derive(Default)]
pub struct Modules {
    sockets: Option<SocketDir>,
    robot: Arc<Robot>,
    directory: Arc<Directory>,
    actors: Vec<(String, Addr<ModuleActor>)>,
    serving: HashMap<(Api, Model), (String, Addr<ModuleActor>)>,
    /// Modules that did not become ready, with why.
    not_ready: Vec<(String, String)>,
    /// Module entries the config refused, shown in the directory.
    refused: Vec<String>,
    /// Told when a module becomes ready after its first start failed.
    late: Option<Recipient<CameUpLate>>,
}

impl Modules {
    /// No modules yet. They will serve in `sockets`, and their resources
    /// reach `robot` through its parent socket.
    pub fn new(sockets: SocketDir, robot: Arc<Robot>, directory: Arc<Directory>) -> Self {
        Self {
            sockets: Some(sockets),
            robot,
            directory,
            ..Self::default()
        }
    }

    /// Tells `late` when a module started from now on becomes ready after
    /// its first start failed.
    pub fn on_late_ready(&mut self, late: Recipient<CameUpLate>) {
        self.late = Some(late);
    }

    /// Records what a module that came up late serves; answers whether it
    /// is still one of ours.
    pub fn came_up(&mut self, module: &str, handlers: Handlers) -> bool {
        let Some(addr) = self
            .actors
            .iter()
            .find(|(n, _)| n == module)
            .map(|(_, a)| a.clone())
        else {
            return false;
        };
        self.not_ready.retain(|(n, _)| n != module);
        self.learn(module, &addr, handlers);
        true
    }

    /// Records that `module` serves `handlers`; the first module to serve a
    /// model keeps it.
    fn learn(&mut self, module: &str, addr: &Addr<ModuleActor>, handlers: Handlers) {
        for key in handlers {
            self.serving
                .entry(key)
                .or_insert_with(|| (module.to_string(), addr.clone()));
        }
    }

    /// Starts `configs` (their names must be new), waits until each is
    /// ready or has failed to start, and learns what they serve. A module
    /// that failed keeps retrying in the background.
    pub async fn start(&mut self, configs: &[ModuleConfig]) {
        let Some(sockets) = &self.sockets else {
            for c in configs {
                let e = "axle was started without a module socket directory";
                self.directory.set(&c.name, ModuleState::Unhealthy, e, 0);
                self.not_ready.push((c.name.clone(), e.into()));
            }
            return;
        };
        let mut waiting = Vec::new();
        for config in configs {
            let name = config.name.clone();
            let actor = ModuleActor::new(
                config.clone(),
                sockets.module_socket(&name),
                sockets.parent_socket(),
                self.robot.clone(),
                self.directory.clone(),
            )
            .on_late_ready(self.late.clone())
            .start();
            self.directory.set_actor(&name, actor.clone());
            waiting.push((name.clone(), actor.clone(), actor.send(WaitReady)));
            self.actors.push((name, actor));
        }
        for (name, addr, ready) in waiting {
            match ready.await {
                Ok(Ok(handlers)) => self.learn(&name, &addr, handlers),
                Ok(Err(e)) => self.not_ready.push((name, e)),
                Err(_) => self.not_ready.push((name, "its actor stopped".into())),
            }
        }
    }

    /// Shuts the modules `names` down, at once, and forgets them; returns
    /// when all have exited.
    pub async fn stop(&mut self, names: &[String]) {
        let (going, staying) = std::mem::take(&mut self.actors)
            .into_iter()
            .partition(|(n, _)| names.contains(n));
        self.actors = staying;
        self.serving.retain(|_, (n, _)| !names.contains(n));
        self.not_ready.retain(|(n, _)| !names.contains(n));
        let going: Vec<(String, Addr<ModuleActor>)> = going;
        futures::future::join_all(going.iter().map(|(_, a)| a.send(Shutdown))).await;
        for (name, _) in &going {
            self.directory.remove(name);
        }
    }

    /// Shows the config's refused module entries (name, error) in the
    /// directory, in place of the previous ones.
    pub fn refuse(&mut self, refusals: &[(String, String)]) {
        for name in self.refused.drain(..) {
            if !self.actors.iter().any(|(n, _)| *n == name) {
                self.directory.remove(&name);
            }
        }
        for (name, error) in refusals {
            warn!("module refused: {error}");
            self.directory
                .set(name, ModuleState::Unhealthy, error.clone(), 0);
            self.refused.push(name.clone());
        }
    }

    /// The module that serves `model` of `api`, if one does.
    pub fn module_of(&self, api: &Api, model: &Model) -> Option<&str> {
        self.serving
            .get(&(api.clone(), model.clone()))
            .map(|(n, _)| n.as_str())
    }

    /// Whether a module serves `model` of `api`.
    pub fn serves(&self, api: &Api, model: &Model) -> bool {
        self.serving.contains_key(&(api.clone(), model.clone()))
    }

    /// Why no module serves a model: the modules that are not ready.
    pub fn not_ready(&self) -> &[(String, String)] {
        &self.not_ready
    }

    /// The short names a modular component depends on (ValidateConfig).
    pub async fn validate(&self, c: &ComponentConfig) -> Result<Vec<String>, String> {
        let (name, addr) = self.module_for(c)?;
        addr.send(Validate(c.clone()))
            .await
            .map_err(|_| format!("module {name:?} is not running"))?
    }

    /// Adds a modular component; `dependencies` are full names.
    pub async fn add(
        &self,
        c: &ComponentConfig,
        dependencies: Vec<String>,
    ) -> Result<ProxyHandle, String> {
        let (name, addr) = self.module_for(c)?;
        let add = Add {
            config: c.clone(),
            dependencies,
        };
        addr.send(add)
            .await
            .map_err(|_| format!("module {name:?} is not running"))?
            .map_err(|e| format!("module {name:?}: {e}"))
    }

    /// Changes a modular component's config in place; `dependencies` are
    /// full names.
    pub async fn reconfigure(
        &self,
        c: &ComponentConfig,
        dependencies: Vec<String>,
    ) -> Result<(), String> {
        let (name, addr) = self.module_for(c)?;
        let msg = Reconfigure {
            config: c.clone(),
            dependencies,
        };
        addr.send(msg)
            .await
            .map_err(|_| format!("module {name:?} is not running"))?
            .map_err(|e| format!("module {name:?}: {e}"))
    }

    /// Removes a modular component from its module.
    pub async fn remove(&self, c: &ComponentConfig) -> Result<(), String> {
        let (name, addr) = self.module_for(c)?;
        addr.send(Remove(c.clone()))
            .await
            .map_err(|_| format!("module {name:?} is not running"))?
            .map_err(|e| format!("module {name:?}: {e}"))
    }

    fn module_for(&self, c: &ComponentConfig) -> Result<&(String, Addr<ModuleActor>), String> {
        self.serving
            .get(&(c.api.clone(), c.model.clone()))
            .ok_or_else(|| format!("no module serves model {} for {}", c.model, c.api))
    }

    /// Shuts every module down at once; returns when all have exited.
    pub async fn shutdown(&mut self) {
        let all: Vec<String> = self.actors.iter().map(|(n, _)| n.clone()).collect();
        self.stop(&all).await;
    }
}

/// Sets a socket file so that only axle's user can connect to it.
pub fn restrict(socket: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o600))
}
