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

use crate::config::{ComponentConfig, ModuleEntry};
use crate::proxy::ProxyHandle;
use actix::{Actor, Addr};
use axle_sdk_module::{Api, Model};
use module::{Add, ModuleActor, Reconfigure, Remove, Shutdown, Validate, WaitReady};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use tracing::warn;

/// The running modules, and which (API, model) each serves.
#[derive(Default)]
pub struct Modules {
    actors: Vec<(String, Addr<ModuleActor>)>,
    serving: HashMap<(Api, Model), (String, Addr<ModuleActor>)>,
    /// Modules that did not become ready, with why.
    not_ready: Vec<(String, String)>,
}

impl Modules {
    /// Starts every module of the config, waits until each is ready or has
    /// failed to start, and learns what they serve. A module that failed
    /// keeps retrying in the background.
    pub async fn start(
        entries: &[ModuleEntry],
        sockets: &SocketDir,
        robot: Arc<crate::robot::Robot>,
        directory: Arc<Directory>,
    ) -> Self {
        let mut modules = Self::default();
        let mut waiting = Vec::new();
        for entry in entries {
            let config = match entry {
                Ok(c) if modules.actors.iter().any(|(n, _)| *n == c.name) => {
                    let e = format!(
                        "module {:?}: name: another module already has this name",
                        c.name
                    );
                    warn!("module refused: {e}");
                    directory.set(&c.name, directory::ModuleState::Unhealthy, e, 0);
                    continue;
                }
                Ok(c) => c.clone(),
                Err(e) => {
                    warn!("module refused: {e}");
                    directory.set(&e.name, directory::ModuleState::Unhealthy, e.to_string(), 0);
                    continue;
                }
            };
            let name = config.name.clone();
            let actor = ModuleActor::new(
                config,
                sockets.module_socket(&name),
                sockets.parent_socket(),
                robot.clone(),
                directory.clone(),
            )
            .start();
            waiting.push((name.clone(), actor.send(WaitReady)));
            modules.actors.push((name, actor));
        }
        for (name, ready) in waiting {
            let addr = modules.addr(&name);
            match ready.await {
                Ok(Ok(handlers)) => {
                    for key in handlers {
                        if let Some(addr) = &addr {
                            modules
                                .serving
                                .entry(key)
                                .or_insert_with(|| (name.clone(), addr.clone()));
                        }
                    }
                }
                Ok(Err(e)) => modules.not_ready.push((name, e)),
                Err(_) => modules.not_ready.push((name, "its actor stopped".into())),
            }
        }
        modules
    }

    fn addr(&self, name: &str) -> Option<Addr<ModuleActor>> {
        self.actors
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, a)| a.clone())
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
    pub async fn shutdown(&self) {
        let all = self.actors.iter().map(|(_, a)| a.send(Shutdown));
        futures::future::join_all(all).await;
    }
}

/// Sets a socket file so that only axle's user can connect to it.
pub fn restrict(socket: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o600))
}
