//! The `Reconfigurer` actor: owns the running config, the modules and the
//! remote links, and applies each new config the watcher sends, one at a
//! time. "What happens when the config changes" is [`Live::apply`]:
//!
//! 1. take down what was removed or changed, dependents first, stopping
//!    each actuator before its actor goes;
//! 2. restart changed modules, stop removed ones, start added ones;
//! 3. close removed or changed remote links, stopping their actuators;
//! 4. change modular components in place (ReconfigureResource);
//! 5. build what is new, changed, or failed before, in dependency order;
//! 6. open new remote links, and apply changed settings.
//!
//! A config that cannot be read or parsed is refused whole: the running
//! robot keeps its last good config. A resource that fails to build fails
//! alone.

use super::diff::{Changes, Serving, diff};
use crate::builder::{self, Sorted};
use crate::config::ConfigState;
use crate::config::{AuthConfig, ComponentConfig, ModuleConfig, RemoteConfig, RobotConfig};
use crate::modules::Modules;
use crate::modules::module::CameUpLate;
use crate::registry::Registry;
use crate::remotes::Remotes;
use crate::resources::stop_together;
use crate::robot::{ResourceEntry, ResourceState, Robot, Source};
use crate::sessions::SessionSupervisor;
use crate::sessions::supervisor::{Forget, SetConfig};
use actix::prelude::*;
use axle_sdk_module::Attributes;
use axle_wire::auth::Authenticator;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use tracing::{error, info, warn};

/// What the running robot is made of, and how to change it.
pub struct Live {
    config: RobotConfig,
    registry: Registry,
    modules: Modules,
    remotes: Remotes,
    robot: Arc<Robot>,
    sessions: Addr<SessionSupervisor>,
    auth: Option<Arc<Authenticator>>,
    /// The address axle listens on, and whether `--bind` chose it.
    listening: (String, bool),
}

/// The actor that applies configs; see the module docs.
pub struct Reconfigurer {
    /// `None` while a config is being applied, and after [`Close`].
    live: Option<Live>,
    path: PathBuf,
    state: Arc<ConfigState>,
}

impl Reconfigurer {
    /// A reconfigurer for the config file at `path`, starting from an empty
    /// robot: the first [`Apply`] builds everything. The settings of
    /// `started_with` are in force already. `listening` is the address axle
    /// serves on, and whether `--bind` chose it.
    pub fn new(path: PathBuf, started_with: &RobotConfig, running: Running) -> Self {
        let live = Live {
            config: RobotConfig {
                sessions: started_with.sessions,
                bind_address: started_with.bind_address.clone(),
                auth: started_with.auth.clone(),
                tls: started_with.tls.clone(),
                reach: started_with.reach.clone(),
                ..RobotConfig::default()
            },
            registry: Registry::builtin(),
            modules: running.modules,
            remotes: Remotes::default(),
            robot: running.robot,
            sessions: running.sessions,
            auth: running.auth,
            listening: running.listening,
        };
        Self {
            live: Some(live),
            path,
            state: running.state,
        }
    }
}

/// What axle set up before the first config was applied.
pub struct Running {
    /// The robot's resources.
    pub robot: Arc<Robot>,
    /// The session supervisor.
    pub sessions: Addr<SessionSupervisor>,
    /// The module manager, with no modules yet.
    pub modules: Modules,
    /// Where the revision in use is shown.
    pub state: Arc<ConfigState>,
    /// The API keys, if axle started with auth.
    pub auth: Option<Arc<Authenticator>>,
    /// The address axle listens on, and whether `--bind` chose it.
    pub listening: (String, bool),
}

impl Actor for Reconfigurer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        if let Some(live) = &mut self.live {
            live.modules.on_late_ready(ctx.address().recipient());
        }
    }
}

/// A module that failed its first start is ready: build the components
/// that failed for want of it, without waiting for an edit.
impl Handler<CameUpLate> for Reconfigurer {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, msg: CameUpLate, _: &mut Context<Self>) -> Self::Result {
        let revision = self.state.get().revision;
        let live = self.live.take();
        let retry = async move {
            let mut live = live?;
            if live.modules.came_up(&msg.module, msg.handlers) {
                info!(module = %msg.module, "module ready after failing to start; building what failed for want of it");
                let config = live.config.clone();
                live.apply(config, &revision).await;
            }
            Some(live)
        };
        AtomicResponse::new(Box::pin(retry.into_actor(self).map(|live, act, _| {
            if live.is_some() {
                act.live = live;
            }
        })))
    }
}

/// Applies the config file's text `text`, whose revision is `revision`.
/// Answers why it was refused, if it was. Applies run one at a time.
#[derive(Message)]
#[rtype(result = "Result<(), String>")]
pub struct Apply {
    /// The file's bytes.
    pub text: Vec<u8>,
    /// [`crate::config::revision_of`] them.
    pub revision: String,
}

impl Handler<Apply> for Reconfigurer {
    type Result = AtomicResponse<Self, Result<(), String>>;

    fn handle(&mut self, msg: Apply, _: &mut Context<Self>) -> Self::Result {
        let Some(mut live) = self.live.take() else {
            let closed = Err("axle is shutting down".to_string());
            return AtomicResponse::new(Box::pin(fut::ready(closed)));
        };
        let config = match RobotConfig::from_file_text(&msg.text, &self.path) {
            Ok(config) => config,
            Err(e) => {
                let running = self.state.get().revision;
                let why = format!("config refused, still running revision {running}: {e}");
                error!(revision = %msg.revision, "{why}");
                self.state.refused(why.clone());
                self.live = Some(live);
                return AtomicResponse::new(Box::pin(fut::ready(Err(why))));
            }
        };
        let revision = msg.revision;
        let apply = async move {
            live.apply(config, &revision).await;
            (live, revision)
        };
        AtomicResponse::new(Box::pin(apply.into_actor(self).map(
            |(live, revision), act, _| {
                act.state.applied(&revision);
                act.live = Some(live);
                Ok(())
            },
        )))
    }
}

/// Shuts every module down and closes every remote link, after any apply
/// in flight. Actuators are stopped before this (StopAll).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Close;

impl Handler<Close> for Reconfigurer {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, _: Close, _: &mut Context<Self>) -> Self::Result {
        let live = self.live.take();
        AtomicResponse::new(Box::pin(
            async move {
                if let Some(mut live) = live {
                    live.modules.shutdown().await;
                    live.remotes.close_all().await;
                }
            }
            .into_actor(self),
        ))
    }
}

impl Live {
    /// Moves the running robot from its config to `new`; see the module docs.
    pub async fn apply(&mut self, new: RobotConfig, revision: &str) {
        let began = Instant::now();
        if !new.ignored.is_empty() && new.ignored != self.config.ignored {
            warn!(keys = ?new.ignored, "upstream keys accepted and not acted on");
        }
        let plan = diff(&self.config, &new, &self.serving());
        // Quiet: nothing running changes; only failed components are retried.
        let quiet = plan.is_quiet();
        self.robot.set_revision(revision);
        let restarting = plan.modules.going(|m: &ModuleConfig| &m.name);
        self.take_down(&plan.retire, &restarting, "reconfigured")
            .await;
        self.robot.remove_failed_components();
        self.change_modules(&plan.modules, &restarting).await;
        for name in plan.remotes.going(|r: &RemoteConfig| &r.name) {
            self.drop_remote(&name).await;
        }
        let (build, keep) = self
            .change_in_place(plan.reconfigure, plan.build, plan.keep)
            .await;
        let built = build.valid.len();
        builder::build(build, &keep, &self.registry, &self.modules, &self.robot).await;
        self.open_remotes(&plan.remotes).await;
        if plan.remotes.coming().next().is_some() {
            self.retry_after_remotes(&new).await;
        }
        self.settings(plan.sessions, plan.bind_address);
        if plan.reach {
            // Peers in flight keep the settings they were answered with.
            warn!(
                "network.fqdn, mdns, webrtc, signaling or cors_origins changed; restart axle to apply"
            );
        }
        self.security(plan.auth, plan.tls);
        self.config = new;
        let failed = self
            .robot
            .entries()
            .iter()
            .filter(|e| !e.is_serving())
            .count();
        info!(
            revision,
            retired = plan.retire.len(),
            built,
            kept = keep.len(),
            failed,
            quiet,
            took_ms = axle_sdk_module::host::millis(began.elapsed()),
            "config applied"
        );
    }

    /// Shuts removed and changed modules down, and starts changed and new
    /// ones.
    async fn change_modules(&mut self, plan: &Changes<ModuleConfig>, restarting: &[String]) {
        self.modules.stop(restarting).await;
        self.modules.refuse(&plan.refused);
        let coming: Vec<ModuleConfig> = plan.coming().cloned().collect();
        self.modules.start(&coming).await;
    }

    /// Reconfigures modular components in place; those that cannot be join
    /// what is built. Answers what to build and what is kept.
    async fn change_in_place(
        &mut self,
        changes: Vec<ComponentConfig>,
        mut build: Sorted,
        mut keep: HashSet<String>,
    ) -> (Sorted, HashSet<String>) {
        for c in changes {
            if let Err(why) = self.reconfigure(&c).await {
                info!(resource = %c.name, "rebuilding instead of reconfiguring in place: {why}");
                self.take_down(std::slice::from_ref(&c.name), &[], "reconfigured")
                    .await;
                keep.remove(&c.name);
                build.valid.push(c);
            }
        }
        (build, keep)
    }

    /// Opens links to changed and new remotes.
    async fn open_remotes(&mut self, plan: &Changes<RemoteConfig>) {
        for (_, e) in &plan.refused {
            warn!("remote refused: {e}");
        }
        let coming: Vec<RemoteConfig> = plan.coming().cloned().collect();
        self.remotes.start(&coming, &self.robot).await;
    }

    /// Builds again the components that failed, now that new remotes'
    /// resources are serving: a component may use one (a remote control
    /// of a sub-part's controller).
    async fn retry_after_remotes(&mut self, new: &RobotConfig) {
        let failed: HashSet<String> = self
            .robot
            .entries()
            .into_iter()
            .filter(|e| e.source == Source::Component && !e.is_serving())
            .map(|e| e.name)
            // A refused duplicate of a serving component stays refused.
            .filter(|n| !self.robot.is_serving(n))
            .collect();
        let mut retry = builder::sort(&new.components);
        retry.valid.retain(|c| failed.contains(&c.name));
        retry.refused.clear();
        if retry.valid.is_empty() {
            return;
        }
        for c in &retry.valid {
            self.robot.remove(&c.name, &Source::Component);
        }
        let ready: HashSet<String> = self
            .robot
            .entries()
            .into_iter()
            .filter(ResourceEntry::is_serving)
            .map(|e| e.name)
            .collect();
        builder::build(retry, &ready, &self.registry, &self.modules, &self.robot).await;
    }

    /// The components serving now, with what the diff needs to know.
    fn serving(&self) -> HashMap<String, Serving> {
        self.robot
            .serving_components()
            .into_iter()
            .map(|e| {
                let serving = Serving {
                    depends_on: e.depends_on.clone(),
                    module: self.module_of(&e).map(String::from),
                };
                (e.name, serving)
            })
            .collect()
    }

    /// The module that serves `e`, if it is modular.
    fn module_of(&self, e: &ResourceEntry) -> Option<&str> {
        match (&e.state, &e.api, &e.model) {
            (ResourceState::Proxied(_), Some(api), Some(model)) => {
                self.modules.module_of(api, model)
            }
            _ => None,
        }
    }

    /// Stops the serving components `names` (dependents first), then takes
    /// them out: built-in actors end, modular ones are removed from their
    /// module unless it is in `restarting` (its shutdown removes them).
    async fn take_down(&mut self, names: &[String], restarting: &[String], cause: &'static str) {
        let entries: Vec<ResourceEntry> = {
            let serving = self.robot.serving_components();
            names
                .iter()
                .filter_map(|n| serving.iter().find(|e| e.name == *n).cloned())
                .collect()
        };
        stop_each(&entries, cause).await;
        for e in &entries {
            self.robot.remove(&e.name, &Source::Component);
            if self
                .module_of(e)
                .is_some_and(|m| !restarting.iter().any(|r| r == m))
                && let (Some(api), Some(model)) = (&e.api, &e.model)
            {
                let c = ComponentConfig {
                    name: e.name.clone(),
                    api: api.clone(),
                    model: model.clone(),
                    attributes: Attributes::default(),
                    depends_on: Vec::new(),
                };
                if let Err(error) = self.modules.remove(&c).await {
                    warn!(resource = %e.name, %error, "RemoveResource failed");
                }
            }
            e.close();
            if let Some(thread) = &e.thread {
                thread.stop();
            }
            info!(resource = %e.name, cause, "resource taken down");
        }
        self.forget(&entries);
    }

    /// Stops what the remote `name` serves here, closes the link, and takes
    /// its resources out.
    async fn drop_remote(&mut self, name: &str) {
        let source = Source::Remote(name.into());
        let entries: Vec<ResourceEntry> = self
            .robot
            .entries()
            .into_iter()
            .filter(|e| e.source == source)
            .collect();
        stop_each(&entries, "remote reconfigured").await;
        self.remotes.close(name).await;
        let gone = self.robot.remove_source(&source);
        self.forget(&gone);
    }

    /// Sessions no longer drive resources that were taken out.
    fn forget(&self, entries: &[ResourceEntry]) {
        let names: Vec<String> = entries
            .iter()
            .filter_map(ResourceEntry::full_name)
            .collect();
        if !names.is_empty() {
            self.sessions.do_send(Forget(names));
        }
    }

    /// Changes a modular component in place, if its dependencies are
    /// unchanged; else answers why it must be rebuilt.
    async fn reconfigure(&mut self, c: &ComponentConfig) -> Result<(), String> {
        let mut c = c.clone();
        builder::add_implicit_dependencies(&mut c, &self.registry, &self.modules)
            .await
            .map_err(|e| e.to_string())?;
        let before = self
            .robot
            .serving_components()
            .into_iter()
            .find(|e| e.name == c.name)
            .map(|e| e.depends_on)
            .ok_or("it is no longer serving")?;
        if before != c.depends_on {
            return Err("its dependencies changed".into());
        }
        let dependencies = self
            .robot
            .full_names(&c.depends_on)
            .map_err(|d| format!("dependency {d:?} is not serving"))?;
        self.modules.reconfigure(&c, dependencies).await?;
        info!(resource = %c.name, "resource reconfigured in place");
        self.robot.rebuilt_in_place(&c.name, c.depends_on);
        Ok(())
    }

    fn settings(
        &mut self,
        sessions: Option<crate::config::SessionsConfig>,
        bind: Option<(Option<String>, Option<String>)>,
    ) {
        if let Some(sessions) = sessions {
            self.sessions.do_send(SetConfig(sessions));
        }
        let Some((_, new)) = bind else {
            return;
        };
        let (listening, by_flag) = &self.listening;
        let new = new.unwrap_or_else(|| "(unset)".into());
        if *by_flag {
            info!(bind_address = %new, listening = %listening, "network.bind_address changed, but --bind chooses the address; nothing to do");
        } else {
            warn!(bind_address = %new, listening = %listening, "network.bind_address changed; restart axle to listen there");
        }
    }
}

impl Live {
    /// Key changes apply at once (a removed key's tokens stop working);
    /// turning auth on or off, or changing TLS, needs a restart. Removing
    /// auth never opens a running robot.
    fn security(&self, auth: Option<Option<AuthConfig>>, tls: bool) {
        if tls {
            warn!("network.tls_cert_file or tls_key_file changed; restart axle to use them");
        }
        match (auth, &self.auth) {
            (None, _) => {}
            (Some(Some(config)), Some(running)) => {
                running.update(&config);
                info!(keys = config.keys.len(), token_lifetime = ?config.token_lifetime, "API keys updated; tokens of removed keys no longer work");
            }
            (Some(None), Some(_)) => warn!(
                "auth was removed from the config; the robot keeps requiring API keys until axle is restarted"
            ),
            (Some(Some(_)), None) => warn!(
                "auth was added to the config; the robot stays unauthenticated until axle is restarted"
            ),
            (Some(None), None) => {}
        }
    }
}

/// Stops every actuator among `entries` through the one stop path; a
/// failure is logged, and does not hold the others.
async fn stop_each(entries: &[ResourceEntry], cause: &'static str) {
    let report = stop_together(entries.iter().filter_map(ResourceEntry::stoppable), cause).await;
    if !report.all_stopped() {
        warn!(cause, failed = %report.failures(), "could not stop before taking them down");
    }
}
