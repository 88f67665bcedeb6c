//! `axle`: serves a robot from a JSON config over the Viam gRPC API.

use actix::Actor;
use actix::Addr;
use axle_runtime::config::{DEFAULT_ROVER, ReachConfig, RobotConfig, revision_of};
use axle_runtime::grpc::{self, Listeners, Served};
use axle_runtime::mdns::Advertiser;
use axle_runtime::modules::{Directory, Modules, SocketDir, restrict};
use axle_runtime::reconfigure::{Apply, Close, ConfigState, Reconfigurer, Running, Watcher};
use axle_runtime::robot::Robot;
use axle_runtime::sessions::Sessions;
use axle_runtime::webrtc::{Hosts, Peers, Signaling, Uplink};
use axle_wire::auth::{Authenticator, Gate};
use clap::Parser;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use tokio::net::{TcpListener, UnixListener};
use tokio::signal::unix::{SignalKind, signal};
use tracing::{error, info, warn};

/// A robot runtime: serves a robot's resources over the Viam gRPC API.
#[derive(Parser, Debug)]
#[command(name = "axle", version, args_conflicts_with_subcommands = true)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    robot: RobotArgs,
    /// Log level (error, warn, info, debug, trace) or a tracing filter.
    #[arg(long, default_value = "info", global = true)]
    log_level: String,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Runs a rendezvous: a signaling server that robots behind NAT connect
    /// out to (network.signaling) and clients dial by the robot's host.
    Signal {
        /// The rendezvous's JSON config (see the README).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Reads captured data.
    #[command(subcommand)]
    Data(DataCommand),
}

#[derive(clap::Subcommand, Debug)]
enum DataCommand {
    /// Writes capture files (or directories of them) as JSON Lines, one
    /// reading per line; images are saved as files that their lines name.
    Export {
        /// Capture files, or directories to search.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Where the lines go [default: standard output].
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Where images go [default: beside --out, else the current directory].
        #[arg(long, value_name = "DIR")]
        files_dir: Option<PathBuf>,
    },
}

#[derive(clap::Args, Debug)]
struct RobotArgs {
    /// The robot's JSON config. Without it, axle serves a simulated rover.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// TCP address to serve gRPC on (h2c) [default: network.bind_address, else 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    bind: Option<String>,
    /// Also serve on this Unix socket.
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Threads for gRPC I/O beside the actor thread; 0 runs everything on
    /// one thread (measured fastest: see ARCHITECTURE.md).
    #[arg(long, default_value_t = 0)]
    io_threads: usize,
}

const DEFAULT_BIND: &str = "127.0.0.1:8080";

fn main() -> ExitCode {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match args.command {
        Some(Command::Signal { config }) => rendezvous(&config),
        Some(Command::Data(DataCommand::Export {
            inputs,
            out,
            files_dir,
        })) => export(&inputs, out.as_deref(), files_dir),
        None => robot(args.robot),
    }
}

/// `axle data export`.
fn export(inputs: &[PathBuf], out: Option<&Path>, files_dir: Option<PathBuf>) -> ExitCode {
    use axle_runtime::data::export;
    let files = export::capture_files(inputs);
    let files_dir = files_dir.unwrap_or_else(|| {
        out.and_then(Path::parent)
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    });
    let result = match out {
        Some(path) => std::fs::File::create(path)
            .map(std::io::BufWriter::new)
            .and_then(|mut w| {
                let done = export::export(&files, &mut w, &files_dir)?;
                std::io::Write::flush(&mut w)?;
                Ok(done)
            }),
        None => export::export(&files, &mut std::io::stdout().lock(), &files_dir),
    };
    match result {
        Ok(done) => {
            eprintln!(
                "axle: exported {} readings ({} images) from {} files",
                done.readings, done.binaries, done.files
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("axle: export failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `axle signal`: serves a rendezvous until SIGTERM or SIGINT.
fn rendezvous(path: &Path) -> ExitCode {
    let config = match axle_rendezvous::RendezvousConfig::load(path) {
        Ok(c) => c,
        Err(e) => {
            error!("{e}");
            eprintln!("axle: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("axle: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let served = runtime.block_on(async {
        let listener = TcpListener::bind(&config.bind_address)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.bind_address))?;
        let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
        let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
        let stop = async move {
            tokio::select! {
                _ = term.recv() => info!(signal = "SIGTERM", "rendezvous shutting down"),
                _ = int.recv() => info!(signal = "SIGINT", "rendezvous shutting down"),
            }
        };
        axle_rendezvous::serve(&config, listener, stop).await
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!("{e}");
            eprintln!("axle: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `axle`: serves a robot until SIGTERM or SIGINT.
fn robot(args: RobotArgs) -> ExitCode {
    // One crypto provider for every rustls user (tonic's TLS, data sync's
    // HTTPS): with none installed, building an S3 client panics.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (text, path) = match &args.config {
        Some(path) => match std::fs::read(path) {
            Ok(text) => (text, path.clone()),
            Err(e) => {
                error!("cannot read config {}: {e}", path.display());
                eprintln!("axle: cannot read config {}: {e}", path.display());
                return ExitCode::from(2);
            }
        },
        None => (DEFAULT_ROVER.as_bytes().to_vec(), "(built-in rover)".into()),
    };
    // A config that is wrong at start is refused at once; later, a bad edit
    // leaves the robot running.
    let config = match RobotConfig::from_file_text(&text, &path) {
        Ok(c) => c,
        Err(e) => {
            error!("{e}");
            eprintln!("axle: {e}");
            return ExitCode::from(2);
        }
    };
    let system = if args.io_threads == 0 {
        actix::System::new()
    } else {
        let threads = args.io_threads;
        actix::System::with_tokio_rt(move || {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads)
                .enable_all()
                .build()
                .expect("cannot start the tokio runtime")
        })
    };
    match system.block_on(run(args, config, text)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!("{e}");
            eprintln!("axle: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: RobotArgs, config: RobotConfig, text: Vec<u8>) -> Result<(), String> {
    let by_flag = args.bind.is_some();
    let bind = args
        .bind
        .or(config.bind_address.clone())
        .unwrap_or_else(|| DEFAULT_BIND.into());
    // Bind first: a taken port fails axle before any module starts.
    let tcp = TcpListener::bind(&bind)
        .await
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    let local = tcp.local_addr().map_err(|e| e.to_string())?;
    let unix = match &args.socket {
        Some(path) => vec![(bind_unix(path)?, path.clone())],
        None => Vec::new(),
    };
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    let mut hup = signal(SignalKind::hangup()).map_err(|e| e.to_string())?;
    let sessions = Sessions::start(config.sessions)
        .map_err(|e| format!("cannot start the session supervisor: {e}"))?;
    let auth = match &config.auth {
        Some(a) => Some(Arc::new(Authenticator::new(a).map_err(|_| {
            "cannot draw a random token-signing key from the OS".to_string()
        })?)),
        None => None,
    };
    let tls = config
        .tls
        .as_ref()
        .map(axle_wire::settings::load_tls)
        .transpose()?;
    let served = Served {
        robot: Arc::new(Robot::default()),
        sessions,
        modules: Arc::new(Directory::default()),
        config: Arc::new(ConfigState::default()),
        auth: auth.clone(),
        signaling: None,
        uplink: Default::default(),
        keepalive: config.sessions.heartbeat_window / 2,
        origins: axle_runtime::browser::Origins::new(&config.reach.cors_origins),
    };
    served
        .robot
        .attach_sessions(served.sessions.supervisor.clone());
    served.robot.attach_self();
    let peers = Arc::new(Peers::new(served.sessions.supervisor.clone()));
    let served = with_signaling(served, &config.reach, local.port(), peers.clone());
    let uplink = start_uplink(&served, &config.reach)?;
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let shutdown = move || {
        let mut rx = shutdown_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };

    // Modules reach the robot through the parent socket, from the moment
    // they start: a Python module connects to it before answering Ready. A
    // config file may gain modules at any time, so it always gets one.
    let sockets = match args.config.is_some() || !config.modules.is_empty() {
        false => None,
        true => Some(
            SocketDir::create()
                .map_err(|e| format!("cannot create the module socket directory: {e}"))?,
        ),
    };
    let mut servers = Vec::new();
    if let Some(dir) = &sockets {
        let path = dir.parent_socket();
        let listener = bind_unix(&path)?;
        restrict(&path).map_err(|e| format!("cannot restrict {}: {e}", path.display()))?;
        let listeners = Listeners {
            tcp: None,
            tls: None,
            unix: vec![(listener, path)],
            gate: Gate::Modules,
        };
        servers.push(tokio::spawn(grpc::serve(
            served.clone(),
            listeners,
            shutdown(),
        )));
    }
    let modules = match &sockets {
        Some(dir) => Modules::new(dir.clone(), served.robot.clone(), served.modules.clone()),
        None => Modules::default(),
    };
    let path = args
        .config
        .clone()
        .unwrap_or_else(|| "(built-in rover)".into());
    let running = Running {
        robot: served.robot.clone(),
        sessions: served.sessions.supervisor.clone(),
        modules,
        state: served.config.clone(),
        auth: auth.clone(),
        listening: (local.to_string(), by_flag),
    };
    let reconfigurer = Reconfigurer::new(path.clone(), &config, running).start();
    let revision = revision_of(&text);
    reconfigurer
        .send(Apply {
            text,
            revision: revision.clone(),
        })
        .await
        .map_err(|_| "the reconfigurer stopped".to_string())??;
    let watcher = args
        .config
        .as_ref()
        .map(|_| Watcher::start(path, revision.clone(), reconfigurer.clone()));

    let advertised = config
        .reach
        .mdns
        .then(|| Advertiser::start(config.reach.fqdn.as_deref(), local, config.reach.webrtc))
        .flatten();
    let gate = auth.map_or(Gate::Open, Gate::Tokens);
    say_who_may_connect(&local, args.socket.as_deref(), &gate, tls.is_some());
    let listeners = Listeners {
        tcp: Some(tcp),
        tls,
        unix,
        gate,
    };
    servers.push(tokio::spawn(grpc::serve(
        served.clone(),
        listeners,
        shutdown(),
    )));
    let entries = served.robot.entries();
    let failed = entries.iter().filter(|e| !e.is_serving()).count();
    info!(
        address = %local,
        socket = ?args.socket,
        resources = entries.len() - failed,
        failed,
        modules = config.modules.len(),
        remotes = config.remotes.len(),
        revision,
        heartbeat_window = %axle_runtime::config::show_duration(config.sessions.heartbeat_window),
        "listening"
    );
    let cause = loop {
        tokio::select! {
            _ = term.recv() => break "SIGTERM",
            _ = int.recv() => break "SIGINT",
            _ = hup.recv() => match &watcher {
                Some(w) => {
                    info!("SIGHUP: reading the config file again");
                    w.poke();
                }
                None => info!("SIGHUP ignored: axle runs the built-in rover, not a config file"),
            },
        }
    };
    info!(signal = cause, "shutting down: stopping every actuator");
    drop(watcher);
    drop(advertised);
    if let Some(uplink) = uplink {
        uplink.do_send(axle_runtime::webrtc::uplink::Disconnect);
    }
    served.robot.stop_all("shutdown").await;
    peers.close_all("axle is shutting down").await;
    let _ = reconfigurer.send(Close).await;
    let _ = shutdown_tx.send(true);
    futures::future::join_all(servers).await;
    drop(sockets);
    info!("stopped");
    Ok(())
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
fn say_who_may_connect(tcp: &std::net::SocketAddr, socket: Option<&Path>, gate: &Gate, tls: bool) {
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

/// Binds a Unix socket, replacing a stale socket file left by a crash.
fn bind_unix(path: &std::path::Path) -> Result<UnixListener, String> {
    use std::os::unix::fs::FileTypeExt;
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
        let _ = std::fs::remove_file(path);
    }
    UnixListener::bind(path)
        .map_err(|e| format!("cannot listen on unix socket {}: {e}", path.display()))
}
