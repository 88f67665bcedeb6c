//! `axle`: serves a robot from a JSON config over the Viam gRPC API.

use axle_runtime::config::{DEFAULT_ROVER, RobotConfig};
use axle_runtime::{Options, Runtime};
use clap::Parser;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tracing::{error, info};

/// A robot runtime: serves a robot's resources over the Viam gRPC API.
#[derive(Parser, Debug)]
#[command(name = "axle", version, args_conflicts_with_subcommands = true)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    robot: RobotArgs,
    /// Log level of axle's own lines (error, warn, info, debug, trace), or a
    /// full tracing filter like "info,webrtc_ice=debug" [default: AXLE_LOG,
    /// else network.log, else info].
    #[arg(long, global = true)]
    log_level: Option<String>,
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

/// axle's own crates: their lines show at the chosen level.
const OURS: [&str; 5] = [
    "axle",
    "axle_runtime",
    "axle_sdk_module",
    "axle_wire",
    "axle_rendezvous",
];

/// Dependencies whose warnings are noise to a robot's operator: the WebRTC
/// stack warns of every interface and candidate it cannot use, dozens of
/// lines per client. Their errors still show.
const QUIET: [&str; 10] = [
    "webrtc",
    "webrtc_ice",
    "webrtc_mdns",
    "webrtc_sctp",
    "webrtc_dtls",
    "webrtc_srtp",
    "webrtc_data",
    "turn",
    "stun",
    "interceptor",
];

/// The tracing filter for `wanted`: a level applies to axle's own crates
/// (other crates show warnings, the quiet ones errors only); a filter with
/// `=` or `,` is taken as it is.
fn log_filter(wanted: &str) -> String {
    if wanted.contains(['=', ',']) {
        return wanted.to_string();
    }
    let ours = OURS.iter().map(|c| format!("{c}={wanted}"));
    let quiet = QUIET.iter().map(|c| format!("{c}=error"));
    std::iter::once("warn".to_string())
        .chain(ours)
        .chain(quiet)
        .collect::<Vec<_>>()
        .join(",")
}

/// Logs go to stderr (journald under systemd): `--log-level`, else
/// `AXLE_LOG`, else the config's `network.log`, else `info`.
fn init_logging(flag: Option<&str>, config: Option<&str>) {
    let env = std::env::var("AXLE_LOG").ok();
    let wanted = flag.or(env.as_deref()).or(config).unwrap_or("info");
    let filter = tracing_subscriber::EnvFilter::try_new(log_filter(wanted)).unwrap_or_else(|e| {
        eprintln!("axle: log filter {wanted:?} is not valid ({e}); logging at info");
        tracing_subscriber::EnvFilter::new(log_filter("info"))
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

fn main() -> ExitCode {
    let args = Args::parse();
    let flag = args.log_level.as_deref();
    match args.command {
        Some(Command::Signal { config }) => {
            init_logging(flag, None);
            rendezvous(&config)
        }
        Some(Command::Data(DataCommand::Export {
            inputs,
            out,
            files_dir,
        })) => {
            init_logging(flag, None);
            export(&inputs, out.as_deref(), files_dir)
        }
        None => robot(args.robot, flag),
    }
}

/// `axle data export`.
fn export(inputs: &[PathBuf], out: Option<&Path>, files_dir: Option<PathBuf>) -> ExitCode {
    use axle_runtime::export;
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
            ExitCode::FAILURE
        }
    }
}

/// `axle`: serves a robot until SIGTERM or SIGINT.
fn robot(args: RobotArgs, log_flag: Option<&str>) -> ExitCode {
    // One crypto provider for every rustls user (tonic's TLS, data sync's
    // HTTPS): with none installed, building an S3 client panics.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (text, path) = match &args.config {
        Some(path) => match std::fs::read(path) {
            Ok(text) => (text, path.clone()),
            Err(e) => {
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
            eprintln!("axle: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(log_flag, config.log.as_deref());
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
            ExitCode::FAILURE
        }
    }
}

/// Runs the robot until SIGTERM or SIGINT; SIGHUP reads the config again.
async fn run(args: RobotArgs, config: RobotConfig, text: Vec<u8>) -> Result<(), String> {
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    let mut hup = signal(SignalKind::hangup()).map_err(|e| e.to_string())?;
    let options = Options {
        config_path: args.config,
        bind: args.bind,
        socket: args.socket,
    };
    let runtime = Runtime::start(config, text, options)
        .await
        .map_err(|e| e.to_string())?;
    let cause = loop {
        tokio::select! {
            _ = term.recv() => break "SIGTERM",
            _ = int.recv() => break "SIGINT",
            _ = runtime.shutdown_requested() => break "RobotService/Shutdown",
            _ = hup.recv() => match runtime.reload() {
                true => info!("SIGHUP: reading the config file again"),
                false => info!("SIGHUP ignored: axle runs the built-in rover, not a config file"),
            },
        }
    };
    runtime.shutdown(cause).await;
    Ok(())
}
