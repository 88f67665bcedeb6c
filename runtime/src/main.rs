//! `axle`: serves a robot from a JSON config over the Viam gRPC API.

use actix::Actor;
use axle_runtime::config::{DEFAULT_ROVER, RobotConfig};
use axle_runtime::grpc::{self, Listeners, Served};
use axle_runtime::modules::{Directory, Modules, SocketDir, restrict};
use axle_runtime::remotes::Remotes;
use axle_runtime::robot::Robot;
use axle_runtime::sessions::SessionSupervisor;
use axle_runtime::{builder, registry::Registry};
use clap::Parser;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tokio::net::{TcpListener, UnixListener};
use tokio::signal::unix::{SignalKind, signal};
use tracing::{error, info};

/// A robot runtime: serves a robot's resources over the Viam gRPC API.
#[derive(Parser, Debug)]
#[command(name = "axle", version)]
struct Args {
    /// The robot's JSON config. Without it, axle serves a simulated rover.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// TCP address to serve gRPC on (h2c) [default: network.bind_address, else 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    bind: Option<String>,
    /// Also serve on this Unix socket.
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Log level (error, warn, info, debug, trace) or a tracing filter.
    #[arg(long, default_value = "info")]
    log_level: String,
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

    let config = match &args.config {
        Some(path) => RobotConfig::load(path),
        None => RobotConfig::parse(DEFAULT_ROVER, "(built-in rover)"),
    };
    let config = match config {
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
    match system.block_on(run(args, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!("{e}");
            eprintln!("axle: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args, config: RobotConfig) -> Result<(), String> {
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
    let sessions = SessionSupervisor::new(config.sessions)
        .map_err(|e| format!("cannot start the session supervisor: {e}"))?
        .start();
    let served = Served {
        robot: Arc::new(Robot::default()),
        sessions,
        modules: Arc::new(Directory::default()),
    };
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let shutdown = move || {
        let mut rx = shutdown_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };

    // Modules reach the robot through the parent socket, from the moment
    // they start: a Python module connects to it before answering Ready.
    let sockets = match config.modules.is_empty() {
        true => None,
        false => Some(
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
            unix: vec![(listener, path)],
        };
        servers.push(tokio::spawn(grpc::serve(
            served.clone(),
            listeners,
            shutdown(),
        )));
    }
    let modules = match &sockets {
        Some(dir) => {
            Modules::start(
                &config.modules,
                dir,
                served.robot.clone(),
                served.modules.clone(),
            )
            .await
        }
        None => Modules::default(),
    };
    builder::build(&config, &Registry::builtin(), &modules, &served.robot).await;
    let _remotes = Remotes::start(&config.remotes, served.robot.clone()).await;

    let listeners = Listeners {
        tcp: Some(tcp),
        unix,
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
        heartbeat_window = %axle_runtime::config::show_duration(config.sessions.heartbeat_window),
        "listening"
    );
    let cause = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    info!(signal = cause, "shutting down: stopping every actuator");
    served.robot.stop_all("shutdown").await;
    modules.shutdown().await;
    let _ = shutdown_tx.send(true);
    futures::future::join_all(servers).await;
    drop(sockets);
    info!("stopped");
    Ok(())
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
