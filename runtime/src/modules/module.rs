//! `ModuleActor`: one per configured module. It owns the module's process
//! and its resources' proxies, and decides what happens when the process
//! starts, becomes ready, crashes or is shut down.
//!
//! - Start: spawn the process, wait for its socket, call Ready (retrying
//!   while the module is not yet serving), learn its handler map.
//! - Crash ([`ModuleActor::crashed`]): the proxies answer UNAVAILABLE, the
//!   actuators its resources drove are stopped, and the module restarts after
//!   a backoff that starts at 10 ms and doubles with each failure in a row,
//!   up to 10 s. Once ready, its resources are re-added in dependency order.
//! - Shutdown: RemoveResource for each resource, SIGTERM, then SIGKILL to the
//!   process group if it has not exited in time. The child is always reaped.

use super::directory::{Directory, ModuleState};
use super::process::{self, Tail};
use crate::proxy::forwarder::Forwarder;
use crate::proxy::{Link, Proxied, ProxyActor, ProxyHandle, Route};

/// The two connections to a running module: a tonic channel for
/// ModuleService and typed calls, and a bare one for forwarding.
#[derive(Clone)]
struct Connection {
    channel: Channel,
    forwarder: Forwarder,
}

impl Connection {
    fn route(&self) -> Route {
        Route::Module {
            channel: self.channel.clone(),
            forwarder: self.forwarder.clone(),
        }
    }
}
use crate::backoff::Backoff;
use crate::config::{ComponentConfig, ModuleConfig};
use crate::resources::stop_together;
use crate::robot::Robot;
use actix::prelude::*;
use axle_proto::app::ComponentConfig as ProtoComponentConfig;
use axle_proto::module::module_service_client::ModuleServiceClient;
use axle_proto::module::*;
use axle_sdk_module::grpc::convert::to_struct;
use axle_sdk_module::{Api, Model};
use hyper_util::rt::TokioIo;
use nix::sys::signal::Signal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::UnixStream;
use tokio::sync::oneshot;
use tonic::Code;
use tonic::transport::{Channel, Endpoint, Uri};
use tracing::{error, info, warn};

/// How long a module may take to exit after SIGTERM before its group is killed.
const EXIT_GRACE: Duration = Duration::from_secs(3);
/// A module that ran this long before crashing starts its backoff afresh.
const STABLE_AFTER: Duration = Duration::from_secs(10);
/// Restarts: 10 ms after the first failure, doubling to 10 s.
const RESTARTS: Backoff = Backoff::new(Duration::from_millis(10), Duration::from_secs(10));

/// The (API, model) pairs a module serves, from its Ready answer.
pub type Handlers = Vec<(Api, Model)>;

/// Where the module's process is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Spawned, not yet ready.
    Starting,
    /// Serving.
    Ready,
    /// Failed to start, crashed, or is being killed; a restart is scheduled
    /// once the process is gone.
    Down,
    /// Shutting down for good.
    Closing,
}

/// A resource the module serves, kept to re-add it after a crash.
struct Added {
    config: ComponentConfig,
    dependencies: Vec<String>,
    proxy: ProxyHandle,
}

/// The actor that runs one module.
pub struct ModuleActor {
    config: ModuleConfig,
    name: Arc<str>,
    socket: PathBuf,
    parent_socket: PathBuf,
    robot: Arc<Robot>,
    directory: Arc<Directory>,
    phase: Phase,
    /// Counts process starts, so that news about an old process is ignored.
    generation: u64,
    pid: Option<i32>,
    route: Option<Connection>,
    resources: Vec<Added>,
    restarts: Backoff,
    up_since: Option<Instant>,
    down_since: Option<Instant>,
    tail: Tail,
    /// How the first start ended, for a `WaitReady` that comes after it.
    first_start: Option<Result<Handlers, String>>,
    ready_waiters: Vec<oneshot::Sender<Result<Handlers, String>>>,
    exit_waiters: Vec<oneshot::Sender<()>>,
    /// RestartModule callers, answered when the module serves again (or
    /// failed to start).
    restart_waiters: Vec<oneshot::Sender<Result<(), String>>>,
    /// Told when the module becomes ready after its first start failed.
    late: Option<Recipient<CameUpLate>>,
}

/// A module whose first start failed is ready now: the components of its
/// models, which failed to build, can be built.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct CameUpLate {
    /// The module.
    pub module: String,
    /// The models it serves.
    pub handlers: Handlers,
}

impl ModuleActor {
    /// An actor for `config`, serving on `socket`, whose resources reach the
    /// robot through `parent_socket`.
    pub fn new(
        config: ModuleConfig,
        socket: PathBuf,
        parent_socket: PathBuf,
        robot: Arc<Robot>,
        directory: Arc<Directory>,
    ) -> Self {
        Self {
            name: config.name.as_str().into(),
            config,
            socket,
            parent_socket,
            robot,
            directory,
            phase: Phase::Down,
            generation: 0,
            pid: None,
            route: None,
            resources: Vec::new(),
            restarts: RESTARTS,
            up_since: None,
            down_since: None,
            tail: Tail::default(),
            first_start: None,
            ready_waiters: Vec::new(),
            exit_waiters: Vec::new(),
            restart_waiters: Vec::new(),
            late: None,
        }
    }

    /// Tells `late` when the module becomes ready after its first start failed.
    pub fn on_late_ready(mut self, late: Option<Recipient<CameUpLate>>) -> Self {
        self.late = late;
        self
    }

    fn set_state(&self, state: ModuleState, error: &str) {
        self.directory
            .set(&self.name, state, error, self.restarts.failures());
    }

    /// Spawns the process and starts waiting for it to be ready.
    fn launch(&mut self, ctx: &mut Context<Self>) {
        self.generation += 1;
        let generation = self.generation;
        self.phase = Phase::Starting;
        // A module retrying after failures stays unhealthy, with the last
        // error shown, until it is ready again.
        if self.restarts.failures() == 0 {
            self.set_state(ModuleState::Starting, "");
        }
        let _ = std::fs::remove_file(&self.socket);
        let started = Instant::now();
        let mut child = match process::spawn(&self.config, &self.socket, &self.tail) {
            Ok(child) => child,
            Err(e) => return self.failed(e, ctx),
        };
        let pid = child.id().and_then(|p| i32::try_from(p).ok());
        self.pid = pid;
        self.directory.set_pid(&self.name, pid);
        info!(module = %self.name, pid, "module started");
        let addr = ctx.address();
        actix::spawn(async move {
            let status = match child.wait().await {
                Ok(s) => s.to_string(),
                Err(e) => format!("unknown status ({e})"),
            };
            addr.do_send(Exited { generation, status });
        });
        let addr = ctx.address();
        let (socket, parent) = (self.socket.clone(), self.parent_socket.clone());
        let timeout = self.config.startup_timeout;
        actix::spawn(async move {
            let outcome = ready(socket, parent, timeout).await;
            addr.do_send(Launched {
                generation,
                outcome,
                took: started.elapsed(),
            });
        });
    }

    /// The module failed to start: report it, and retry after a backoff once
    /// its process (if any) is gone.
    fn failed(&mut self, error: String, ctx: &mut Context<Self>) {
        let delay = self.restarts.fail();
        self.phase = Phase::Down;
        let error = match self.tail.text() {
            t if t.is_empty() => error,
            t => format!("{error}; its last output: {t}"),
        };
        let failures = self.restarts.failures();
        // Say what happens next; once the backoff is at its longest, say it
        // about once a minute rather than on every try.
        if failures <= 3 || failures.is_multiple_of(6) {
            let retry_in = axle_wire::settings::show_duration(delay);
            error!(module = %self.name, failures, retry_in = %retry_in,
                "module failed to start: {error}; its resources stay down, and axle tries again in {retry_in} (backing off to 10s) until it starts or the config changes");
        }
        self.set_state(ModuleState::Unhealthy, &error);
        self.first_start.get_or_insert_with(|| Err(error.clone()));
        for w in self.ready_waiters.drain(..) {
            let _ = w.send(Err(error.clone()));
        }
        for w in self.restart_waiters.drain(..) {
            let _ = w.send(Err(error.clone()));
        }
        match self.pid {
            // The restart waits for the process's exit.
            Some(pid) => process::signal_group(pid, Signal::SIGKILL),
            None => self.restart_later(delay, ctx),
        }
    }

    fn restart_later(&mut self, delay: Duration, ctx: &mut Context<Self>) {
        ctx.run_later(delay, |act, ctx| {
            if act.phase == Phase::Down {
                act.launch(ctx);
            }
        });
    }

    /// What happens when a ready module's process exits: its resources stop
    /// serving, whatever they drove is stopped, and it restarts.
    fn crashed(&mut self, status: &str, ctx: &mut Context<Self>) {
        let ran = self
            .up_since
            .take()
            .map(|t| t.elapsed())
            .unwrap_or_default();
        if ran >= STABLE_AFTER {
            self.restarts.succeed();
        }
        let delay = self.restarts.fail();
        self.phase = Phase::Down;
        self.down_since = Some(Instant::now());
        self.resources_down(&format!("crashed ({status}) and is restarting"));
        let error = format!(
            "exited unexpectedly ({status}); last output: {}",
            self.tail.text()
        );
        let failures = self.restarts.failures();
        error!(module = %self.name, failures, restart_in = ?delay, "module crashed: {error}");
        if failures >= 3 {
            warn!(module = %self.name, failures, restart_in = ?delay, "module is crash-looping; backing off");
        }
        self.set_state(ModuleState::Unhealthy, &error);
        self.stop_what_it_drove();
        self.restart_later(delay, ctx);
    }

    /// Every resource answers UNAVAILABLE, and GetMachineStatus shows why,
    /// until the module serves again.
    fn resources_down(&self, reason: &str) {
        for r in &self.resources {
            r.proxy.relink(Link::Down(reason.into()));
            self.robot.set_problem(
                &r.config.name,
                Some(format!("module {:?} {reason}", self.name)),
            );
        }
    }

    /// A module that dies mid-command may leave the motors its resources
    /// drove running: stop them.
    fn stop_what_it_drove(&self) {
        let dependencies: Vec<String> = self
            .resources
            .iter()
            .flat_map(|r| r.dependencies.clone())
            .collect();
        let actuators = self.robot.actuators_named(&dependencies);
        if actuators.is_empty() {
            return;
        }
        let module = self.name.clone();
        actix::spawn(async move {
            let report = stop_together(actuators, "module crashed").await;
            let (stopped, took_ms) = (report.stopped_names(), report.took_ms());
            if report.all_stopped() {
                info!(module = %module, stopped = %stopped, took_ms, "stopped what the crashed module drove");
            } else {
                warn!(module = %module, stopped = %stopped, failed = %report.failures(), took_ms, "could not stop all that the crashed module drove");
            }
        });
    }

    /// Re-adds every resource after a restart, in the order first added
    /// (dependency order), and relinks their proxies.
    fn readd(&mut self, route: Connection) {
        let jobs: Vec<_> = self
            .resources
            .iter()
            .map(|r| (r.config.clone(), r.dependencies.clone(), r.proxy.clone()))
            .collect();
        let (robot, module, timeout) = (
            self.robot.clone(),
            self.name.clone(),
            self.config.startup_timeout,
        );
        let down_since = self.down_since.take();
        let waiters = std::mem::take(&mut self.restart_waiters);
        actix::spawn(async move {
            let count = jobs.len();
            for (config, dependencies, proxy) in jobs {
                match add_resource(&route.channel, &config, &dependencies, timeout).await {
                    Ok(()) => {
                        proxy.relink(Link::Up(route.route()));
                        robot.set_problem(&config.name, None);
                    }
                    Err(e) => {
                        warn!(module = %module, resource = %config.name, error = %e, "could not re-add resource after restart");
                        robot.set_problem(&config.name, Some(e));
                    }
                }
            }
            let took_ms = down_since.map(|t| axle_sdk_module::host::millis(t.elapsed()));
            info!(module = %module, resources = count, took_ms, "module serving again");
            for w in waiters {
                let _ = w.send(Ok(()));
            }
        });
    }
}

impl Actor for ModuleActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.launch(ctx);
    }
}

/// The module answered Ready, or could not be made ready.
#[derive(Message)]
#[rtype(result = "()")]
struct Launched {
    generation: u64,
    outcome: Result<Ready, String>,
    took: Duration,
}

struct Ready {
    route: Connection,
    handlers: Vec<(Api, Model)>,
    /// The gRPC service of each API the module serves.
    services: Vec<(Api, String)>,
}

/// The module's process exited and was reaped.
#[derive(Message)]
#[rtype(result = "()")]
struct Exited {
    generation: u64,
    status: String,
}

impl Handler<Launched> for ModuleActor {
    type Result = ();

    fn handle(&mut self, msg: Launched, ctx: &mut Context<Self>) {
        if msg.generation != self.generation || self.phase != Phase::Starting {
            return;
        }
        let ready = match msg.outcome {
            Ok(ready) => ready,
            Err(e) => return self.failed(e, ctx),
        };
        info!(module = %self.name, took_ms = axle_sdk_module::host::millis(msg.took), models = ready.handlers.len(), "module ready");
        let who = format!("module {:?}", self.name);
        for (api, service) in &ready.services {
            self.robot.services.learn(service, api, &who);
        }
        self.phase = Phase::Ready;
        self.up_since = Some(Instant::now());
        self.route = Some(ready.route.clone());
        self.set_state(ModuleState::Ready, "");
        self.directory.set_models(&self.name, &ready.handlers);
        if let (Some(Err(_)), Some(late)) = (&self.first_start, &self.late) {
            late.do_send(CameUpLate {
                module: self.name.to_string(),
                handlers: ready.handlers.clone(),
            });
        }
        self.first_start
            .get_or_insert_with(|| Ok(ready.handlers.clone()));
        for w in self.ready_waiters.drain(..) {
            let _ = w.send(Ok(ready.handlers.clone()));
        }
        if self.resources.is_empty() {
            for w in self.restart_waiters.drain(..) {
                let _ = w.send(Ok(()));
            }
        } else {
            self.readd(ready.route);
        }
    }
}

impl Handler<Exited> for ModuleActor {
    type Result = ();

    fn handle(&mut self, msg: Exited, ctx: &mut Context<Self>) {
        if msg.generation != self.generation {
            return;
        }
        self.pid = None;
        self.route = None;
        self.directory.set_pid(&self.name, None);
        for w in self.exit_waiters.drain(..) {
            let _ = w.send(());
        }
        match self.phase {
            Phase::Closing => info!(module = %self.name, status = %msg.status, "module exited"),
            Phase::Starting => self.failed(format!("exited during startup ({})", msg.status), ctx),
            Phase::Down => self.restart_later(self.restarts.delay(), ctx),
            Phase::Ready => self.crashed(&msg.status, ctx),
        }
    }
}

/// Waits until the module has answered its first Ready (or failed to);
/// answers the models it serves.
#[derive(Message)]
#[rtype(result = "Result<Handlers, String>")]
pub struct WaitReady;

impl Handler<WaitReady> for ModuleActor {
    type Result = ResponseFuture<Result<Handlers, String>>;

    fn handle(&mut self, _: WaitReady, _: &mut Context<Self>) -> Self::Result {
        if let Some(outcome) = self.first_start.clone() {
            return Box::pin(async move { outcome });
        }
        let (tx, rx) = oneshot::channel();
        self.ready_waiters.push(tx);
        Box::pin(async move {
            rx.await
                .map_err(|_| "the module's actor stopped".to_string())?
        })
    }
}

/// Asks the module which resources a component depends on (ValidateConfig);
/// answers short names.
#[derive(Message)]
#[rtype(result = "Result<Vec<String>, String>")]
pub struct Validate(pub ComponentConfig);

impl Handler<Validate> for ModuleActor {
    type Result = ResponseFuture<Result<Vec<String>, String>>;

    fn handle(&mut self, Validate(config): Validate, _: &mut Context<Self>) -> Self::Result {
        let channel = self.route.as_ref().map(|r| r.channel.clone());
        let timeout = self.config.startup_timeout;
        let module = self.name.clone();
        Box::pin(async move {
            let channel = channel.ok_or_else(|| format!("module {module:?} is not running"))?;
            let req = ValidateConfigRequest {
                config: Some(to_proto(&config)),
            };
            let mut client = ModuleServiceClient::new(channel);
            let call = client.validate_config(req);
            match tokio::time::timeout(timeout, call).await {
                Err(_) => Err(format!(
                    "module {module:?} did not answer ValidateConfig within {timeout:?}"
                )),
                Ok(Err(s)) if s.code() == Code::Unimplemented => Ok(Vec::new()),
                Ok(Err(s)) => Err(s.message().to_string()),
                Ok(Ok(r)) => Ok(r
                    .into_inner()
                    .dependencies
                    .iter()
                    .map(|d| {
                        d.rsplit_once('/')
                            .map_or(d.as_str(), |(_, n)| n)
                            .to_string()
                    })
                    .collect()),
            }
        })
    }
}

/// Adds a component to the module (AddResource) and starts its proxy.
#[derive(Message)]
#[rtype(result = "Result<ProxyHandle, String>")]
pub struct Add {
    /// The component.
    pub config: ComponentConfig,
    /// The full names of what it depends on.
    pub dependencies: Vec<String>,
}

impl Handler<Add> for ModuleActor {
    type Result = ResponseActFuture<Self, Result<ProxyHandle, String>>;

    fn handle(&mut self, add: Add, _: &mut Context<Self>) -> Self::Result {
        let route = self.route.clone();
        let timeout = self.config.startup_timeout;
        let module = self.name.clone();
        let call = async move {
            let route = route.ok_or_else(|| format!("module {module:?} is not running"))?;
            add_resource(&route.channel, &add.config, &add.dependencies, timeout).await?;
            Ok::<_, String>((route, add))
        };
        Box::pin(call.into_actor(self).map(|outcome, act, _| {
            let (route, add) = outcome?;
            let proxy = ModuleActor::proxy(act, &add.config, route);
            act.resources.push(Added {
                config: add.config,
                dependencies: add.dependencies,
                proxy: proxy.clone(),
            });
            Ok(proxy)
        }))
    }
}

impl ModuleActor {
    fn proxy(&self, config: &ComponentConfig, route: Connection) -> ProxyHandle {
        let who = Proxied {
            api: config.api.clone(),
            name: config.name.clone(),
            there: config.name.clone(),
            via: format!("module {:?}", self.name).into(),
            stop_service: self.robot.services.stop_service(&config.api),
        };
        ProxyHandle::start(ProxyActor::new(
            who,
            Link::Up(route.route()),
            self.config.call_timeout,
        ))
    }
}

/// Changes a modular component's config in place (ReconfigureResource). The
/// new config is kept, to re-add after a crash.
#[derive(Message)]
#[rtype(result = "Result<(), String>")]
pub struct Reconfigure {
    /// The component's new config.
    pub config: ComponentConfig,
    /// The full names of what it depends on.
    pub dependencies: Vec<String>,
}

impl Handler<Reconfigure> for ModuleActor {
    type Result = ResponseActFuture<Self, Result<(), String>>;

    fn handle(&mut self, msg: Reconfigure, _: &mut Context<Self>) -> Self::Result {
        let channel = self.route.as_ref().map(|r| r.channel.clone());
        let timeout = self.config.startup_timeout;
        let module = self.name.clone();
        let call = async move {
            let channel = channel.ok_or_else(|| format!("module {module:?} is not running"))?;
            let req = ReconfigureResourceRequest {
                config: Some(to_proto(&msg.config)),
                dependencies: msg.dependencies.clone(),
            };
            let mut client = ModuleServiceClient::new(channel);
            match tokio::time::timeout(timeout, client.reconfigure_resource(req)).await {
                Ok(Ok(_)) => Ok(msg),
                Ok(Err(s)) => Err(format!("the module refused it: {}", s.message())),
                Err(_) => Err(format!(
                    "the module did not answer ReconfigureResource within {timeout:?}"
                )),
            }
        };
        Box::pin(call.into_actor(self).map(|outcome, act, _| {
            let msg = outcome?;
            if let Some(r) = act
                .resources
                .iter_mut()
                .find(|r| r.config.name == msg.config.name)
            {
                r.config = msg.config;
                r.dependencies = msg.dependencies;
            }
            Ok(())
        }))
    }
}

/// Removes a modular component (RemoveResource) and stops its proxy.
#[derive(Message)]
#[rtype(result = "Result<(), String>")]
pub struct Remove(pub ComponentConfig);

impl Handler<Remove> for ModuleActor {
    type Result = ResponseFuture<Result<(), String>>;

    fn handle(&mut self, Remove(config): Remove, _: &mut Context<Self>) -> Self::Result {
        let Some(i) = self
            .resources
            .iter()
            .position(|r| r.config.name == config.name)
        else {
            return Box::pin(async move { Err(format!("the module serves no {:?}", config.name)) });
        };
        let removed = self.resources.remove(i);
        removed
            .proxy
            .relink(Link::Down("no longer serves it".into()));
        let channel = self.route.as_ref().map(|r| r.channel.clone());
        let timeout = self.config.startup_timeout;
        Box::pin(async move {
            let Some(channel) = channel else {
                return Ok(());
            };
            let req = RemoveResourceRequest {
                name: config.full_name(),
            };
            let mut client = ModuleServiceClient::new(channel);
            match tokio::time::timeout(timeout, client.remove_resource(req)).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(s)) => Err(format!("the module refused it: {}", s.message())),
                Err(_) => Err(format!(
                    "the module did not answer RemoveResource within {timeout:?}"
                )),
            }
        })
    }
}

/// Restarts the module on request (RestartModule): as a crash, but asked
/// for. Its own actuators and what its resources drive are stopped first,
/// through the one stop path and while the module can still carry the
/// Stops; then its process gets SIGTERM (SIGKILL after the grace period), is
/// started again without backoff, and its resources are added again. The
/// answer comes when it serves again, or why it could not.
#[derive(Message)]
#[rtype(result = "Result<(), String>")]
pub struct Restart;

impl Handler<Restart> for ModuleActor {
    type Result = ResponseFuture<Result<(), String>>;

    fn handle(&mut self, _: Restart, ctx: &mut Context<Self>) -> Self::Result {
        if self.phase == Phase::Closing {
            let closing = Err(format!("module {:?} is shutting down", self.name));
            return Box::pin(async move { closing });
        }
        let (tx, rx) = oneshot::channel();
        self.restart_waiters.push(tx);
        let answer = Box::pin(async move {
            rx.await
                .unwrap_or_else(|_| Err("the module's actor stopped".into()))
        });
        if self.restart_waiters.len() > 1 {
            return answer; // a restart is already under way: answer with it
        }
        info!(module = %self.name, pid = self.pid, "restarting the module on request");
        let names: Vec<String> = self
            .resources
            .iter()
            .flat_map(|r| std::iter::once(r.config.full_name()).chain(r.dependencies.clone()))
            .collect();
        let stopping = stop_together(self.robot.actuators_named(&names), "module restart");
        ctx.wait(fut::wrap_future(stopping).map(|report, act: &mut Self, ctx| {
            if !report.all_stopped() {
                warn!(module = %act.name, failed = %report.failures(), "restarting the module; some of what it drove did not confirm Stop");
            }
            act.go_down_for_restart(ctx);
        }));
        answer
    }
}

impl ModuleActor {
    /// The second half of a requested restart: resources unlinked, the
    /// process ended; `Exited` then starts it again.
    fn go_down_for_restart(&mut self, ctx: &mut Context<Self>) {
        self.resources_down("is restarting on request");
        self.restarts.succeed();
        self.phase = Phase::Down;
        self.up_since = None;
        self.down_since = Some(Instant::now());
        self.set_state(ModuleState::Starting, "");
        let Some(pid) = self.pid else {
            return self.launch(ctx);
        };
        let (tx, exited) = oneshot::channel();
        self.exit_waiters.push(tx);
        let module = self.name.clone();
        actix::spawn(async move {
            process::signal(pid, Signal::SIGTERM);
            if tokio::time::timeout(EXIT_GRACE, exited).await.is_err() {
                warn!(module = %module, pid, "module did not exit within {EXIT_GRACE:?} of SIGTERM; killing its process group");
                process::signal_group(pid, Signal::SIGKILL);
            }
        });
    }
}

/// Shuts the module down for good: RemoveResource for each resource,
/// SIGTERM, then SIGKILL to its process group after a grace period. Returns
/// once the process is reaped and its socket unlinked.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Shutdown;

impl Handler<Shutdown> for ModuleActor {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, _: Shutdown, _: &mut Context<Self>) -> Self::Result {
        let was = std::mem::replace(&mut self.phase, Phase::Closing);
        self.set_state(ModuleState::Closing, "");
        for r in &self.resources {
            r.proxy.relink(Link::Down("is shutting down".into()));
        }
        let names: Vec<String> = self
            .resources
            .iter()
            .map(|r| r.config.full_name())
            .collect();
        let channel = self
            .route
            .as_ref()
            .map(|r| r.channel.clone())
            .filter(|_| was == Phase::Ready);
        let exited = self.pid.map(|_| {
            let (tx, rx) = oneshot::channel();
            self.exit_waiters.push(tx);
            rx
        });
        let (pid, socket, module) = (self.pid, self.socket.clone(), self.name.clone());
        Box::pin(async move {
            if let Some(channel) = channel {
                let removals = names.into_iter().map(|name| {
                    let mut client = ModuleServiceClient::new(channel.clone());
                    let module = module.clone();
                    async move {
                        let call = client.remove_resource(RemoveResourceRequest { name: name.clone() });
                        if let Ok(Err(s)) = tokio::time::timeout(Duration::from_secs(1), call).await {
                            warn!(module = %module, resource = %name, error = %s.message(), "RemoveResource failed");
                        }
                    }
                });
                futures::future::join_all(removals).await;
            }
            if let (Some(pid), Some(mut exited)) = (pid, exited) {
                process::signal(pid, Signal::SIGTERM);
                if tokio::time::timeout(EXIT_GRACE, &mut exited).await.is_err() {
                    warn!(module = %module, pid, "module did not exit within {EXIT_GRACE:?} of SIGTERM; killing its process group");
                    process::signal_group(pid, Signal::SIGKILL);
                    let _ = exited.await;
                }
                // Whatever the module started in its group goes with it.
                process::signal_group(pid, Signal::SIGKILL);
            }
            let _ = std::fs::remove_file(&socket);
        })
    }
}

/// A component's config as the module protocol carries it.
fn to_proto(c: &ComponentConfig) -> ProtoComponentConfig {
    ProtoComponentConfig {
        name: c.name.clone(),
        namespace: c.api.namespace.clone(),
        r#type: c.api.subtype.clone(),
        model: c.model.to_string(),
        api: c.api.to_string(),
        attributes: Some(to_struct(c.attributes.as_document().clone())),
        depends_on: c.depends_on.clone(),
        ..Default::default()
    }
}

async fn add_resource(
    channel: &Channel,
    config: &ComponentConfig,
    dependencies: &[String],
    timeout: Duration,
) -> Result<(), String> {
    let req = AddResourceRequest {
        config: Some(to_proto(config)),
        dependencies: dependencies.to_vec(),
    };
    let mut client = ModuleServiceClient::new(channel.clone());
    let call = client.add_resource(req);
    match tokio::time::timeout(timeout, call).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(s)) => Err(format!("the module refused it: {}", s.message())),
        Err(_) => Err(format!(
            "the module did not answer AddResource within {timeout:?}"
        )),
    }
}

/// Waits for the module's socket, connects, and calls Ready until the module
/// answers (it may be UNAVAILABLE while it starts), within `timeout`.
async fn ready(socket: PathBuf, parent: PathBuf, timeout: Duration) -> Result<Ready, String> {
    let attempt = async {
        let mut pause = Duration::from_millis(1);
        loop {
            if socket.exists()
                && let Ok(channel) = connect(&socket).await
            {
                let parent = parent.display().to_string();
                let req = ReadyRequest {
                    parent_address: parent.clone(),
                    raw_parent_address: parent,
                    webrtc_offer: String::new(),
                };
                match ModuleServiceClient::new(channel.clone()).ready(req).await {
                    Ok(r) => {
                        let forwarder = Forwarder::connect(&socket.display().to_string())
                            .await
                            .map_err(|e| format!("cannot connect for forwarding: {e}"))?;
                        return handlers(Connection { channel, forwarder }, r.into_inner());
                    }
                    Err(s) if s.code() == Code::Unavailable => {}
                    Err(s) => return Err(format!("Ready failed: {}", s.message())),
                }
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    };
    tokio::time::timeout(timeout, attempt).await.map_err(|_| {
        format!("did not become ready within {timeout:?} (no socket or no Ready answer)")
    })?
}

fn handlers(route: Connection, r: ReadyResponse) -> Result<Ready, String> {
    let mut handlers = Vec::new();
    let mut services = Vec::new();
    for h in r.handlermap.map(|m| m.handlers).unwrap_or_default() {
        let Some(rpc) = h.subtype else { continue };
        let Some(subtype) = rpc.subtype else { continue };
        let api = Api {
            namespace: subtype.namespace,
            kind: subtype.r#type,
            subtype: subtype.subtype,
        };
        services.push((api.clone(), rpc.proto_service));
        for m in h.models {
            let model = m
                .parse::<Model>()
                .map_err(|e| format!("Ready listed a bad model {m:?}: {e}"))?;
            handlers.push((api.clone(), model));
        }
    }
    Ok(Ready {
        route,
        handlers,
        services,
    })
}

async fn connect(socket: &std::path::Path) -> Result<Channel, tonic::transport::Error> {
    let socket = socket.to_path_buf();
    Endpoint::from_static("http://module")
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let socket = socket.clone();
            async move { Ok::<_, std::io::Error>(TokioIo::new(UnixStream::connect(socket).await?)) }
        }))
        .await
}
