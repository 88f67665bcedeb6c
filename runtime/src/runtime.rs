//! The robot as one value: [`Runtime::start`] wires every part of axle from
//! a parsed config, and [`Runtime::shutdown`] takes it down in order. The
//! `axle` binary and the tests start robots only through here.
//!
//! Start, in order: bind the TCP listener (a taken port fails before any
//! module starts), the session supervisor, auth and TLS, the WebRTC
//! answerer and the uplink, the parent socket for modules, then the first
//! config apply (modules, build, remotes), the file watcher, mDNS, and the
//! public listeners. Shutdown: every actuator stopped (the one stop path),
//! peers closed, modules and links closed, listeners drained.

use crate::config::{ConfigState, ReachConfig, RobotConfig, revision_of, show_duration};
use crate::grpc::{self, Listeners, Served};
use crate::mdns::Advertiser;
use crate::modules::{Directory, Modules, SocketDir, restrict};
use crate::reconfigure::{Apply, Close, Reconfigurer, Running, Watcher};
use crate::robot::Robot;
use crate::sessions::Sessions;
use crate::webrtc::{Hosts, Peers, Signaling, Uplink, uplink::Disconnect};
use actix::{Actor, Addr};
use axle_wire::auth::{Authenticator, Gate};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};

/// Where the robot listens when neither the options nor the config say.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// How a robot is started, beyond its config.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The config file, watched for live edits; `None` for a config that
    /// lives nowhere (the built-in rover, a test's).
    pub config_path: Option<PathBuf>,
    /// The TCP address, over `network.bind_address` and [`DEFAULT_BIND`].
    pub bind: Option<String>,
    /// A Unix socket to serve on as well.
    pub socket: Option<PathBuf>,
}

/// Why a robot could not start.
#[derive(Debug, Error)]
pub enum StartError {
    /// A listener could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        /// The address or socket path.
        address: String,
        /// The OS's reason.
        source: std::io::Error,
    },
    /// A part of the runtime the OS must provide (a timer, randomness, a
    /// private directory) could not be had.
    #[error("cannot start {what}: {why}")]
    Os {
        /// What could not start.
        what: &'static str,
        /// The reason.
        why: String,
    },
    /// The TLS files cannot be used.
    #[error("{0}")]
    Tls(String),
    /// The config was refused when first applied.
    #[error("{0}")]
    Config(String),
}

/// A running robot.
pub struct Runtime {
    served: Served,
    address: SocketAddr,
    reconfigurer: Addr<Reconfigurer>,
    watcher: Option<Watcher>,
    advertised: Option<Advertiser>,
    uplink: Option<Addr<Uplink>>,
    peers: Arc<Peers>,
    servers: Vec<JoinHandle<Result<(), String>>>,
    stop_listening: watch::Sender<bool>,
    sockets: Option<SocketDir>,
    tls: bool,
}

impl Runtime {
    /// Starts the robot of `config` (whose file `text` gives its revision)
    /// on the current actix system, and returns once it is serving.
    pub async fn start(
        config: RobotConfig,
        text: Vec<u8>,
        options: Options,
    ) -> Result<Self, StartError> {
        let bind = (options.bind.clone())
            .or(config.bind_address.clone())
            .unwrap_or_else(|| DEFAULT_BIND.into());
        let tcp = TcpListener::bind(&bind)
            .await
            .map_err(|source| listen_error(&bind, source))?;
        let address = tcp
            .local_addr()
            .map_err(|source| listen_error(&bind, source))?;
        let unix = match &options.socket {
            Some(path) => vec![(bind_unix(path)?, path.clone())],
            None => Vec::new(),
        };
        let tls = (config.tls.as_ref())
            .map(axle_wire::settings::load_tls)
            .transpose()
            .map_err(StartError::Tls)?;
        let served = serving(&config)?;
        let peers = Arc::new(Peers::new(served.sessions.supervisor.clone()));
        let served = with_signaling(served, &config.reach, address.port(), peers.clone());
        let uplink = start_uplink(&served, &config.reach).map_err(|why| StartError::Os {
            what: "the uplink",
            why,
        })?;
        let (stop_listening, _) = watch::channel(false);
        let mut servers = Vec::new();
        // Modules reach the robot through the parent socket from the moment
        // they start (a Python module connects before answering Ready); a
        // config file may gain modules at any time, so it always gets one.
        let sockets = (options.config_path.is_some() || !config.modules.is_empty())
            .then(SocketDir::create)
            .transpose()
            .map_err(|e| StartError::Os {
                what: "the module socket directory",
                why: e.to_string(),
            })?;
        if let Some(dir) = &sockets {
            let listeners = parent_listener(dir)?;
            servers.push(serve(&served, listeners, &stop_listening));
        }
        let (reconfigurer, revision) =
            first_apply(&config, text, &options, &served, &sockets, address).await?;
        let watcher = options
            .config_path
            .clone()
            .map(|path| Watcher::start(path, revision.clone(), reconfigurer.clone()));
        let advertised = (config.reach.mdns)
            .then(|| Advertiser::start(config.reach.fqdn.as_deref(), address, config.reach.webrtc))
            .flatten();
        let gate = served.auth.clone().map_or(Gate::Open, Gate::Tokens);
        say_who_may_connect(&address, options.socket.as_deref(), &gate, tls.is_some());
        let serves_tls = tls.is_some();
        let public = Listeners {
            tcp: Some(tcp),
            tls,
            unix,
            gate,
        };
        servers.push(serve(&served, public, &stop_listening));
        let runtime = Self {
            served,
            address,
            reconfigurer,
            watcher,
            advertised,
            uplink,
            peers,
            servers,
            stop_listening,
            sockets,
            tls: serves_tls,
        };
        runtime.say_listening(&config, &options, &revision);
        Ok(runtime)
    }

    /// The TCP address it serves on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Returns once a client has asked for a shutdown (RobotService/Shutdown);
    /// the caller then calls [`Runtime::shutdown`].
    pub async fn shutdown_requested(&self) {
        self.served.shutdown.requested().await;
    }

    /// Reads the config file again (SIGHUP); false if there is none.
    pub fn reload(&self) -> bool {
        self.watcher.as_ref().map(Watcher::poke).is_some()
    }

    /// Stops every actuator, closes peers, modules and links, and drains
    /// the listeners. `cause` is logged.
    pub async fn shutdown(self, cause: &'static str) {
        info!(cause, "shutting down: stopping every actuator");
        drop(self.watcher);
        drop(self.advertised);
        if let Some(uplink) = &self.uplink {
            uplink.do_send(Disconnect);
        }
        self.served.robot.stop_all("shutdown").await;
        self.peers.close_all("axle is shutting down").await;
        let _ = self.reconfigurer.send(Close).await;
        let _ = self.stop_listening.send(true);
        futures::future::join_all(self.servers).await;
        drop(self.sockets);
        info!("stopped");
    }

    fn say_listening(&self, config: &RobotConfig, options: &Options, revision: &str) {
        let entries = self.served.robot.entries();
        let failed = entries.iter().filter(|e| !e.is_serving()).count();
        info!(
            address = %self.address,
            socket = ?options.socket,
            resources = entries.len() - failed,
            failed,
            modules = config.modules.len(),
            remotes = config.remotes.len(),
            revision,
            heartbeat_window = %show_duration(config.sessions.heartbeat_window),
            "listening"
        );
        let scheme = if self.tls { "https" } else { "http" };
        let page = match self.address.ip() {
            ip if ip.is_unspecified() => format!(
                "{scheme}://localhost:{port}/ (or this machine's address, port {port})",
                port = self.address.port()
            ),
            _ => format!("{scheme}://{}/", self.address),
        };
        info!("control page: {page}");
    }
}

/// What every listener serves, before signaling is added.
fn serving(config: &RobotConfig) -> Result<Served, StartError> {
    let sessions = Sessions::start(config.sessions).map_err(|e| StartError::Os {
        what: "the session supervisor",
        why: e.to_string(),
    })?;
    let auth = match &config.auth {
        Some(a) => Some(Arc::new(Authenticator::new(a).map_err(|_| {
            StartError::Os {
                what: "authentication",
                why: "cannot draw a random token-signing key from the OS".into(),
            }
        })?)),
        None => None,
    };
    let served = Served {
        robot: Arc::new(Robot::default()),
        sessions,
        modules: Arc::new(Directory::default()),
        config: Arc::new(ConfigState::default()),
        auth,
        signaling: None,
        uplink: Default::default(),
        keepalive: config.sessions.heartbeat_window / 2,
        origins: crate::browser::Origins::new(&config.reach.cors_origins),
        operations: Arc::default(),
        shutdown: grpc::ShutdownSwitch::new(
            config.auth.is_some() || config.reach.shutdown_without_auth,
        ),
    };
    served
        .robot
        .attach_sessions(served.sessions.supervisor.clone());
    served.robot.attach_self();
    Ok(served)
}

/// Starts the reconfigurer and applies the config for the first time:
/// modules, build, remotes. Answers the reconfigurer and the revision.
async fn first_apply(
    config: &RobotConfig,
    text: Vec<u8>,
    options: &Options,
    served: &Served,
    sockets: &Option<SocketDir>,
    address: SocketAddr,
) -> Result<(Addr<Reconfigurer>, String), StartError> {
    let modules = match sockets {
        Some(dir) => Modules::new(dir.clone(), served.robot.clone(), served.modules.clone()),
        None => Modules::default(),
    };
    let running = Running {
        robot: served.robot.clone(),
        sessions: served.sessions.supervisor.clone(),
        modules,
        state: served.config.clone(),
        auth: served.auth.clone(),
        listening: (address.to_string(), options.bind.is_some()),
    };
    let path = (options.config_path.clone()).unwrap_or_else(|| "(built-in rover)".into());
    let reconfigurer = Reconfigurer::new(path, config, running).start();
    let revision = revision_of(&text);
    let apply = Apply {
        text,
        revision: revision.clone(),
    };
    match reconfigurer.send(apply).await {
        Ok(Ok(())) => Ok((reconfigurer, revision)),
        Ok(Err(e)) => Err(StartError::Config(e)),
        Err(_) => Err(StartError::Config("the reconfigurer stopped".into())),
    }
}

/// The parent socket modules call back on, mode 0600.
fn parent_listener(dir: &SocketDir) -> Result<Listeners, StartError> {
    let path = dir.parent_socket();
    let listener = bind_unix(&path)?;
    restrict(&path).map_err(|e| StartError::Os {
        what: "the parent socket",
        why: format!("cannot restrict {}: {e}", path.display()),
    })?;
    Ok(Listeners {
        tcp: None,
        tls: None,
        unix: vec![(listener, path)],
        gate: Gate::Modules,
    })
}

/// Serves `listeners` until `stop` says so.
fn serve(
    served: &Served,
    listeners: Listeners,
    stop: &watch::Sender<bool>,
) -> JoinHandle<Result<(), String>> {
    let mut stopped = stop.subscribe();
    tokio::spawn(grpc::serve(served.clone(), listeners, async move {
        let _ = stopped.wait_for(|s| *s).await;
    }))
}

/// Adds the WebRTC answerer, unless `network.webrtc.enabled` is false.
fn with_signaling(mut served: Served, reach: &ReachConfig, port: u16, peers: Arc<Peers>) -> Served {
    if reach.webrtc {
        let signaling = Signaling::new(
            grpc::call_service(&served),
            served.auth.clone(),
            actix::Arbiter::current(),
            Hosts::new(reach.fqdn.clone(), port),
            reach.ice_servers.clone(),
            peers,
        );
        served.signaling = Some(Arc::new(signaling));
    }
    served
}

/// Connects to the rendezvous of `network.signaling`, if set (and WebRTC
/// is on: the rendezvous only relays WebRTC offers).
fn start_uplink(served: &Served, reach: &ReachConfig) -> Result<Option<Addr<Uplink>>, String> {
    let (Some(config), Some(signaling)) = (&reach.signaling, &served.signaling) else {
        if reach.signaling.is_some() {
            warn!("network.signaling is ignored: network.webrtc.enabled is false");
        }
        return Ok(None);
    };
    Uplink::start(config.clone(), signaling.clone(), served.uplink.clone()).map(Some)
}

/// Logs, per public listener, whether it is encrypted and who may use it.
fn say_who_may_connect(tcp: &SocketAddr, socket: Option<&Path>, gate: &Gate, tls: bool) {
    let listeners = std::iter::once((tcp.to_string(), tls))
        .chain(socket.map(|p| (format!("unix:{}", p.display()), false)));
    for (address, tls) in listeners {
        match gate {
            Gate::Tokens(_) if !tls && !address.starts_with("unix:") => warn!(
                address,
                "listener requires API keys but is not encrypted: keys and tokens cross the network in the clear; set network.tls_cert_file and network.tls_key_file"
            ),
            Gate::Tokens(_) => info!(address, tls, "listener requires API keys"),
            _ => warn!(
                address,
                tls,
                "listener is unauthenticated: anyone who can reach it can drive the robot; configure auth.handlers for anything but local development"
            ),
        }
    }
}

fn listen_error(address: &str, source: std::io::Error) -> StartError {
    StartError::Listen {
        address: address.into(),
        source,
    }
}

/// Binds a Unix socket, replacing a stale socket file left by a crash.
fn bind_unix(path: &Path) -> Result<UnixListener, StartError> {
    use std::os::unix::fs::FileTypeExt;
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
        let _ = std::fs::remove_file(path);
    }
    UnixListener::bind(path)
        .map_err(|source| listen_error(&format!("unix socket {}", path.display()), source))
}
